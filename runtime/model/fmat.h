/* tritune: float matrices (fmat.c): the embedding, the LM head, and every
 * matrix of the fp16 / fp32 baselines; IEEE half conversions.
 *   y[n * ldy + m] = sum_k W[m][k] x[n][k] (* rs[m]) */
#ifndef TT_MODEL_FMAT_H
#define TT_MODEL_FMAT_H

#include <stddef.h>
#include <stdint.h>

#include "core/common.h"
#include "core/pool.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum { TT_FM_F16 = 0, TT_FM_F32, TT_FM_I8 } tt_fmat_kind;
typedef struct {
    tt_fmat_kind kind;
    int M, K;
    void *w;            /* (M, K) row-major: uint16_t fp16 bits | float | int8_t */
    float *row_scale;   /* (M) TT_FM_I8 only: W[m][k] = w[m][k] * row_scale[m]    */
    size_t bytes;       /* bytes of w (+ row_scale)                                */
    int owns;
} tt_fmat;
tt_status tt_fmat_alloc(tt_fmat *A, tt_fmat_kind kind, int M, int K);
void tt_fmat_free(tt_fmat *A);
size_t tt_fmat_bytes(tt_fmat_kind kind, int M, int K);
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
