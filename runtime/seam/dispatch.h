/* tritune: the dispatch seam.  Every ternary matrix product (benchmarks,
 * the decoder, the tests) goes through here: a variant is chosen by name,
 * by the tuned configuration, or by the generator's prior, and a shape that
 * breaks the chosen variant's restrictions falls back to the generic
 * portable-C kernel of the same format (never computes nothing). */
#ifndef TT_DISPATCH_H
#define TT_DISPATCH_H

#include "core/pool.h"
#include "seam/formats_table.h"
#include "seam/run.h"
#include "seam/tuning.h"
#include "seam/variant.h"

#ifdef __cplusplus
extern "C" {
#endif

/* TT_OK if this build can run format f: a ternary format needs a generic
 * GEMV and GEMM in the variant table; fp32 needs OpenBLAS (model/fmat.c
 * runs the fp32 baseline through it).  Else TT_E_UNSUPPORTED and why. */
tt_status tt_wformat_available(tt_wformat f);

/* ---- A prepared BitLinear layer ---------------------------------------------- */
typedef struct {
    tt_wformat fmt;
    int M, K;
    float scale;            /* s_w                                           */
    const char *layout;     /* layout of w                                   */
    uint8_t *w;             /* weights in `layout` (owned if owns_w)         */
    size_t w_bytes;
    int owns_w;
    const tt_variant *gemv; /* used when N == 1                              */
    const tt_variant *gemm; /* used when N > 1 (same layout as gemv)         */
} tt_linear;

/* Choose the GEMV and GEMM variants of one BitLinear, sharing one layout: by
 * name, else the tuned configuration, else the generator's prior, else the
 * generic kernel.  A named variant that is unknown, of the wrong op or
 * format, or not runnable here is always an error.  One that cannot take
 * the shape (or, for the GEMM, the GEMV's layout) is an error when strict
 * (TT_E_SHAPE / TT_E_ARG naming the restriction), else the choice falls
 * back as if it had not been named.  batch: the prefill batch the GEMM is
 * looked up and checked for. */
tt_status tt_linear_choose(tt_wformat fmt, int M, int K, const char *gemv_name, const char *gemm_name,
                           const tt_tuning *tuning, int threads, int batch, int strict, const tt_variant **gemv,
                           const tt_variant **gemm);

/* Choose variants (by name if given, else tuning, else default), repack W
 * into their layout.  gemv_name/gemm_name may be NULL.  A variant named
 * explicitly must accept the shape (else TT_E_SHAPE naming the
 * restriction); a tuned or default choice that does not falls back to an
 * unrestricted variant of the same layout.  W must outlive L when the
 * chosen layout is canonical (L borrows W->data). */
tt_status tt_linear_prepare(tt_linear *L, const tt_tensor *W, const char *gemv_name, const char *gemm_name,
                            const tt_tuning *tuning, int threads);
/* Adopt weights already in `layout` (e.g. generated straight into it). */
tt_status tt_linear_adopt(tt_linear *L, tt_wformat fmt, int M, int K, float scale, const char *layout, uint8_t *w,
                          size_t bytes, int owns, const tt_variant *gemv, const tt_variant *gemm);
void tt_linear_free(tt_linear *L);
/* y[n * ldy + m] = (sum_k W[m][k] q[n][k]) * s_w / s_a[n], for all N tokens.
 * Scratch (int32 accumulators, prepared activations) lives in ws. */
tt_status tt_linear_forward(const tt_linear *L, const tt_qact *x, float *y, int ldy, tt_pool *pool,
                            tt_workspace *ws);

/* n BitLinears on the same activations (q/k/v, gate/up): for one token
 * whose layers' GEMV variants build the same tables, one pool dispatch (the
 * tables built once, one barrier); otherwise one tt_linear_forward each.
 * Same results as n tt_linear_forward calls, bit for bit. */
#define TT_LINEAR_MANY_MAX 4
tt_status tt_linear_forward_many(const tt_linear *const *L, int n, const tt_qact *x, float *const *y, const int *ldy,
                                 tt_pool *pool, tt_workspace *ws);

#ifdef __cplusplus
}
#endif
#endif
