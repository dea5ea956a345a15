/* tritune (private): float kernels behind tt_fmat_forward and attention.
 * Portable C versions live in fmat.c, AVX-512 ones in
 * isa/f16_avx512.c (x86-64 only; called only when tt_cpu_features()
 * reports AVX512F + AVX512BW + F16C). */
#ifndef TT_FKERN_H
#define TT_FKERN_H

#include <stddef.h>
#include <stdint.h>

/* y[n * ldy + m] = rs[m] * sum_k W[m][k] * x[n * ldx + k]   (rs NULL = 1)
 * for m in [m0, m1), n in [0, N).  W row-major (M, K), element type by kernel. */
typedef void (*tt_fk_rows_fn)(const void *W, const float *rs, int K, const float *x, int ldx, int N, float *y,
                              int ldy, int m0, int m1);

#if defined(__x86_64__)
void tt_fk_f16_avx512(const void *W, const float *rs, int K, const float *x, int ldx, int N, float *y, int ldy,
                      int m0, int m1);
void tt_fk_i8_avx512(const void *W, const float *rs, int K, const float *x, int ldx, int N, float *y, int ldy,
                     int m0, int m1);
void tt_fk_f32_avx512(const void *W, const float *rs, int K, const float *x, int ldx, int N, float *y, int ldy,
                      int m0, int m1);
/* attention helpers on fp16 KV rows */
float tt_dot_f16_avx512(const float *a, const uint16_t *b, int n);
void tt_axpy_f16_avx512(float *y, float a, const uint16_t *x, int n);
void tt_f16_to_f32_avx512(const uint16_t *src, float *dst, int n);
void tt_f32_to_f16_avx512(const float *src, uint16_t *dst, int n);
#endif

/* Causal attention of nq query rows (qrow[i] at position qpos[i], hd
 * floats) over the fp16 cache rows 0 .. max(qpos) of one KV head (key p at
 * kc + p * ldkv, value at vc + p * ldkv): orow[i] = softmax(scale * q K^T)
 * V.  Blocked for the prompt pass (isa/attn_avx512.c): TT_ATTN_QCHUNK rows
 * share each block of TT_ATTN_KBLK keys.  hd % 16 == 0.  scratch holds
 * tt_attn_scratch_floats(hd) floats. */
#define TT_ATTN_KBLK 64
#define TT_ATTN_QCHUNK 32
typedef void (*tt_attn_rows_fn)(const float *const *qrow, const int *qpos, int nq, const uint16_t *kc,
                                const uint16_t *vc, size_t ldkv, int hd, float scale, float *const *orow,
                                float *scratch);
static inline size_t tt_attn_scratch_floats(int hd) {
    return (size_t)hd * TT_ATTN_KBLK * 2 + (size_t)TT_ATTN_QCHUNK * TT_ATTN_KBLK + (size_t)TT_ATTN_QCHUNK * hd;
}
#if defined(__x86_64__)
void tt_rmsnorm_avx512(float *o, const float *x, const float *w, int n, float eps);
void tt_add_avx512(float *x, const float *y, size_t n);
void tt_glu_avx512(float *g, const float *u, size_t n, int silu);
void tt_rope_avx512(float *v, int nheads, int hd, const float *cs, const float *sn);
void tt_attn_rows_avx512(const float *const *qrow, const int *qpos, int nq, const uint16_t *kc, const uint16_t *vc,
                         size_t ldkv, int hd, float scale, float *const *orow, float *scratch);
#endif

/* Chosen at first use from the CPU features (fmat.c). */
typedef struct {
    tt_fk_rows_fn f16, i8, f32;
    float (*dot_f16)(const float *a, const uint16_t *b, int n);
    void (*axpy_f16)(float *y, float a, const uint16_t *x, int n);
    void (*f16_to_f32)(const uint16_t *src, float *dst, int n);
    void (*f32_to_f16)(const float *src, uint16_t *dst, int n);
    tt_attn_rows_fn attn_rows; /* NULL: the prompt pass attends one query at a time */
    /* the decoder's element-wise operations (portable versions in fmat.c) */
    void (*rmsnorm)(float *o, const float *x, const float *w, int n, float eps); /* o = x / rms(x) * w */
    void (*add)(float *x, const float *y, size_t n);                            /* x += y          */
    void (*glu)(float *g, const float *u, size_t n, int silu);                  /* g = act(g) * u  */
    void (*rope)(float *v, int nheads, int hd, const float *cs, const float *sn);
    const char *isa;
} tt_fkern_table;
const tt_fkern_table *tt_fkern(void);

#endif
