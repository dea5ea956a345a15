/* tritune (private): float kernels behind tt_fmat_forward and attention.
 * Portable C versions live in fmat.c, AVX-512 ones in
 * isa/f16_avx512.c (x86-64 only; called only when tt_cpu_features()
 * reports AVX512F + AVX512BW + F16C). */
#ifndef TT_FKERN_H
#define TT_FKERN_H

#include <stddef.h>
#include <stdint.h>

#include "model/fmat.h"

/* y[n * ldy + m] = rs[m] * sum_k W[m][k] * x[n * ldx + k]   (rs NULL = 1)
 * for m in [m0, m1), n in [0, N).  W row-major (M, K), element type by kernel. */
typedef void (*tt_fk_rows_fn)(const void *W, const float *rs, int K, const float *x, int ldx, int N, float *y,
                              int ldy, int m0, int m1);

/* Quantized rows (TT_FM_I8, TT_FM_Q4) for one token: y[m] = (sum_k W[m][k]
 * q[k]) / sa for m in [m0, m1); q: int8 activations zero-padded to
 * tt_act_kpad(K); aux: tt_fk_qprep's output for this kernel's kind.  The
 * int8 kernels are bit-identical to the portable ones (integer dot
 * products, the same float steps); the 4-bit ones sum their groups' float
 * terms in another order (agree to rounding). */
typedef void (*tt_fk_qrows_fn)(const tt_fmat *A, const int8_t *q, const void *aux, float sa, float *y, int m0, int m1);
/* aux for kind from q (K logical, Kp padded): I8: q + 128 as u8 (Kp bytes);
 * Q4: -8 * (sum of each 4 consecutive q) as int32 (Kq / 4). */
void tt_fk_qprep(tt_fmat_kind kind, const int8_t *q, int K, int Kp, void *aux);
#if defined(__x86_64__)
void tt_fkq_i8_avx512vnni(const tt_fmat *A, const int8_t *q, const void *aux, float sa, float *y, int m0, int m1);
void tt_fkq_q4_avx512vnni(const tt_fmat *A, const int8_t *q, const void *aux, float sa, float *y, int m0, int m1);
#endif
#if defined(__aarch64__)
void tt_fkq_i8_neondot(const tt_fmat *A, const int8_t *q, const void *aux, float sa, float *y, int m0, int m1);
void tt_fkq_q4_neondot(const tt_fmat *A, const int8_t *q, const void *aux, float sa, float *y, int m0, int m1);
#endif

#if defined(__x86_64__)
void tt_fk_f16_avx512(const void *W, const float *rs, int K, const float *x, int ldx, int N, float *y, int ldy,
                      int m0, int m1);
void tt_fk_f32_avx512(const void *W, const float *rs, int K, const float *x, int ldx, int N, float *y, int ldy,
                      int m0, int m1);
/* attention helpers on fp16 KV rows */
float tt_dot_f16_avx512(const float *a, const uint16_t *b, int n);
void tt_axpy_f16_avx512(float *y, float a, const uint16_t *x, int n);
void tt_f16_to_f32_avx512(const uint16_t *src, float *dst, int n);
void tt_f32_to_f16_avx512(const float *src, uint16_t *dst, int n);
#endif

/* Causal attention for the prompt pass, blocked (isa/attn_avx512.c).
 * attn_convert: keys p0 .. p1-1 of one KV head (fp16 cache rows, key p at
 * kc + p * ldkv, value at vc + p * ldkv) into fp32, K transposed (kt[d *
 * ldkt + p]) and V by rows (vf[p * hd + d]); keys p1 .. pend-1 are written
 * as zeros (pend a multiple of 16; the caller pads to TT_ATTN_KBLK).
 * attn_rows: nq query rows (qrow[i] at position qpos[i], hd floats) over
 * the converted keys 0 .. max(qpos): orow[i] = softmax(scale * q K^T) V;
 * TT_ATTN_QCHUNK rows share each block of TT_ATTN_KBLK keys.  hd % 16 ==
 * 0; scratch holds tt_attn_scratch_floats(hd) floats. */
#define TT_ATTN_KBLK 64
#define TT_ATTN_QCHUNK 32
typedef void (*tt_attn_convert_fn)(const uint16_t *kc, const uint16_t *vc, size_t ldkv, int hd, int p0, int p1,
                                   int pend, float *kt, size_t ldkt, float *vf);
typedef void (*tt_attn_rows_fn)(const float *const *qrow, const int *qpos, int nq, const float *kt, size_t ldkt,
                                const float *vf, int hd, float scale, float *const *orow, float *scratch);
static inline size_t tt_attn_scratch_floats(int hd) {
    return (size_t)TT_ATTN_QCHUNK * TT_ATTN_KBLK + (size_t)TT_ATTN_QCHUNK * hd;
}
/* Attention for the token pass (one query token; isa/attn_avx512.c):
 * heads h0 .. h1-1 (whole KV-head groups of `group` query heads) of the
 * query q (head h at q + h * hd) over cache positions 0 .. len-1 (fp16
 * rows, KV head g of position p at kc + p * ldkv + g * hd):
 * o + h * hd = softmax(scale * q_h K^T) V.  sc holds (h1 - h0) *
 * TT_ATTN_TOKEN_BLK floats.  hd <= TT_ATTN_TOKEN_HD, h1 - h0 <=
 * TT_ATTN_TOKEN_HEADS. */
#define TT_ATTN_TOKEN_HD 256
#define TT_ATTN_TOKEN_HEADS 256
#define TT_ATTN_TOKEN_BLK 16
typedef void (*tt_attn_token_fn)(const float *q, const uint16_t *kc, const uint16_t *vc, size_t ldkv, int len, int hd,
                                 int group, int h0, int h1, float scale, float *o, float *sc);
/* Floats of the run state's attention scores for seq positions: a row of
 * seq per thread (the head-by-head path), TT_ATTN_TOKEN_BLK per query head
 * (attn_token). */
static inline size_t tt_attn_scores_floats(int heads, int nthreads, int seq) {
    const size_t a = (size_t)nthreads * seq, b = (size_t)heads * TT_ATTN_TOKEN_BLK;
    return a > b ? a : b;
}
/* Keys a converted head holds: positions rounded up to whole blocks. */
static inline int tt_attn_keys(int seq) { return (seq + TT_ATTN_KBLK - 1) / TT_ATTN_KBLK * TT_ATTN_KBLK; }
#if defined(__x86_64__)
void tt_attn_convert_avx512(const uint16_t *kc, const uint16_t *vc, size_t ldkv, int hd, int p0, int p1, int pend,
                            float *kt, size_t ldkt, float *vf);
void tt_attn_rows_avx512(const float *const *qrow, const int *qpos, int nq, const float *kt, size_t ldkt,
                         const float *vf, int hd, float scale, float *const *orow, float *scratch);
void tt_attn_token_avx512(const float *q, const uint16_t *kc, const uint16_t *vc, size_t ldkv, int len, int hd,
                          int group, int h0, int h1, float scale, float *o, float *sc);
#endif
#if defined(__x86_64__)
void tt_rmsnorm_avx512(float *o, const float *x, const float *w, int n, float eps);
void tt_add_avx512(float *x, const float *y, size_t n);
void tt_glu_avx512(float *g, const float *u, size_t n, int silu);
void tt_rope_avx512(float *v, int nheads, int hd, const float *cs, const float *sn);
#endif

/* Chosen at first use from the CPU features (fmat.c). */
typedef struct {
    tt_fk_rows_fn f16, f32;
    float (*dot_f16)(const float *a, const uint16_t *b, int n);
    void (*axpy_f16)(float *y, float a, const uint16_t *x, int n);
    void (*f16_to_f32)(const uint16_t *src, float *dst, int n);
    void (*f32_to_f16)(const float *src, uint16_t *dst, int n);
    tt_attn_convert_fn attn_convert; /* both NULL: the prompt pass attends one query at a time */
    tt_attn_rows_fn attn_rows;
    /* the decoder's element-wise operations (portable versions in fmat.c) */
    void (*rmsnorm)(float *o, const float *x, const float *w, int n, float eps); /* o = x / rms(x) * w */
    void (*add)(float *x, const float *y, size_t n);                            /* x += y          */
    void (*glu)(float *g, const float *u, size_t n, int silu);                  /* g = act(g) * u  */
    void (*rope)(float *v, int nheads, int hd, const float *cs, const float *sn);
    const char *isa;
    tt_fk_qrows_fn qi8, qq4;  /* quantized LM head rows                         */
    const char *qisa;         /* "avx512vnni", "neondot" or "c"                 */
    tt_attn_token_fn attn_token; /* NULL: the token pass attends head by head (forward.c) */
} tt_fkern_table;
const tt_fkern_table *tt_fkern(void);
/* The portable-C table (the tests' reference). */
const tt_fkern_table *tt_fkern_portable(void);

#endif
