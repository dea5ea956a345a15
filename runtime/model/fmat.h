/* tritune: float matrices (fmat.c): the embedding, the LM head, and every
 * matrix of the fp16 / fp32 baselines; IEEE half conversions.
 *   y[n * ldy + m] = sum_k W[m][k] x[n][k] (* rs[m])
 *
 * The LM head (and a tied embedding) may also be quantized:
 *   TT_FM_I8  per-row int8: W[m][k] = w[m][k] * row_scale[m] (absmax / 127);
 *             rows padded with zeros to whole 64-byte pieces and kept in
 *             quads like TT_FM_Q4's: piece b of rows 4Q..4Q+3 side by side
 *             (tt_i8_off), one sequential stream for the four-row kernel;
 *   TT_FM_Q4  4-bit groups of TT_Q4_GROUP weights along K with an fp16 scale
 *             each: W[m][k] = (nibble - 8) * scale of (m, k / TT_Q4_GROUP)
 *             (absmax / 7).  Rows are padded to Kq = K rounded up to
 *             TT_Q4_BLOCK with zero weights (nibble 8); in each block of 128
 *             weights byte j holds weight j in its low nibble and weight
 *             j + 64 in its high one, so one 64-byte load gives two 64-lane
 *             planes.  Rows go in quads (TT_Q4_ROWS; M is padded to a whole
 *             quad): block b of rows 4Q..4Q+3 lies at one 256-byte piece,
 *             row by row, and their scales likewise, so a kernel that runs
 *             four rows together reads one sequential stream (tt_q4_woff,
 *             tt_q4_soff; separate row streams read 10-20% slower on the
 *             development machine, docs/decode.md "The LM head").
 * Both quantize the input to int8 per token (absmax, as the BitLinears do:
 * formats.h tt_quantize_act) and take integer dot products (vpdpbusd with
 * AVX-512 VNNI), so the weights stream at the read bandwidth. */
#ifndef TT_MODEL_FMAT_H
#define TT_MODEL_FMAT_H

#include <stddef.h>
#include <stdint.h>

#include "core/common.h"
#include "core/pool.h"
#include "formats/formats.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum { TT_FM_F16 = 0, TT_FM_F32, TT_FM_I8, TT_FM_Q4 } tt_fmat_kind;
#define TT_Q4_GROUP 32
#define TT_Q4_BLOCK 128
#define TT_Q4_ROWS 4
static inline int tt_q4_kpad(int K) { return (K + TT_Q4_BLOCK - 1) / TT_Q4_BLOCK * TT_Q4_BLOCK; }
static inline int tt_q4_mpad(int M) { return (M + TT_Q4_ROWS - 1) / TT_Q4_ROWS * TT_Q4_ROWS; }
/* The quad layout of TT_FM_I8 and TT_FM_Q4 (values and scales): rows cut
 * into n pieces of `piece` units; piece j of rows 4Q..4Q+3 lies side by
 * side.  The offset, in units, of piece j of row m. */
static inline size_t tt_quad_off(int m, int j, size_t n, size_t piece) {
    return (((size_t)(m / TT_Q4_ROWS) * n + (size_t)j) * TT_Q4_ROWS + (size_t)(m % TT_Q4_ROWS)) * piece;
}
/* byte offset of block b (64 bytes) of row m, nb = Kq / TT_Q4_BLOCK blocks a row */
static inline size_t tt_q4_woff(int m, int b, int nb) { return tt_quad_off(m, b, (size_t)nb, TT_Q4_BLOCK / 2); }
/* byte offset of weight k of a TT_FM_I8 row m (K weights a row) */
#define TT_I8_PIECE 64
static inline size_t tt_i8_off(int m, int k, int K) {
    const size_t np = (size_t)(K + TT_I8_PIECE - 1) / TT_I8_PIECE; /* pieces a row */
    return tt_quad_off(m, k / TT_I8_PIECE, np, TT_I8_PIECE) + (size_t)(k % TT_I8_PIECE);
}
/* index of the scale of group g of row m, ng = Kq / TT_Q4_GROUP groups a row */
static inline size_t tt_q4_soff(int m, int g, int ng) {
    enum { GB = TT_Q4_BLOCK / TT_Q4_GROUP }; /* groups a block */
    return tt_quad_off(m, g / GB, (size_t)(ng / GB), GB) + (size_t)(g % GB);
}
typedef struct {
    tt_fmat_kind kind;
    int M, K;
    void *w;            /* (M, K) row-major: uint16_t fp16 bits | float;  TT_FM_I8: quads (tt_i8_off);
                         * TT_FM_Q4: (Mq, Kq / 2) nibbles in quads (see above)     */
    float *row_scale;   /* (M) TT_FM_I8: W[m][k] = w[m][k] * row_scale[m]          */
    int32_t *row_sum;   /* (M) TT_FM_I8: sum_k w[m][k] (the u8 x s8 offset)        */
    uint16_t *gscale;   /* (Mq, Kq / TT_Q4_GROUP) TT_FM_Q4: fp16 group scales, quads */
    size_t bytes;       /* bytes a product reads: w and its scales (and sums)      */
    int owns;
    tt_qact *qa;        /* TT_FM_I8 / Q4: the quantized input of one token; aux    */
    void *aux;          /* its per-kernel form (one caller at a time)              */
} tt_fmat;
tt_status tt_fmat_alloc(tt_fmat *A, tt_fmat_kind kind, int M, int K);
void tt_fmat_free(tt_fmat *A);
size_t tt_fmat_bytes(tt_fmat_kind kind, int M, int K);
/* Row r from K floats (quantized for I8 / Q4: scales and sums set). */
void tt_fmat_set_row(tt_fmat *A, int r, const float *src);
/* Row r as K floats (dequantized): the embedding lookup. */
void tt_fmat_get_row(const tt_fmat *A, int r, float *dst);
/* "fp16", "fp32", "i8", "q4" */
const char *tt_fmat_kind_name(tt_fmat_kind kind);
/* x: (N, K) with row stride ldx; y: (N, M) with row stride ldy.  Rows are
 * split over the pool (pool may be NULL).  fp32 goes to OpenBLAS when built
 * with it (TT_E_UNSUPPORTED otherwise). */
tt_status tt_fmat_forward(const tt_fmat *A, const float *x, int ldx, int N, float *y, int ldy, tt_pool *pool);
const char *tt_fmat_impl(tt_fmat_kind kind); /* "avx512", "c", "openblas" */

/* The BLAS behind fp32 (docs/decode.md, "Honest baselines"): OpenBLAS's
 * core (openblas_get_corename) and thread count; NULL and 0 without it. */
const char *tt_blas_core(void);
int tt_blas_threads(void);
/* The OpenBLAS core type a CPU with `feats` deserves when `core` is below
 * its ISA (a generic SSE core, or an AVX2 core on an AVX-512 CPU):
 * "SkylakeX" (AVX-512) or "Haswell" (AVX2); NULL when core is fine or
 * unknown to this table. */
const char *tt_blas_core_wanted(const char *core, uint32_t feats);

/* IEEE half <-> float, portable (round to nearest even). */
uint16_t tt_f32_to_f16(float f);
float tt_f16_to_f32(uint16_t h);

#ifdef __cplusplus
}
#endif
#endif
