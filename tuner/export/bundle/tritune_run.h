/* tritune C bundle: the table row of one tuned kernel and how to call it.
 * Hand-written; copied into every bundle by ./tune.sh export --to c-bundle.
 *
 * A kernel computes y[n * M + m] = sum_k W[m][k] * x[n][k] (exact int32) for
 * ternary W (int8 in {-1, 0, 1}, M x K row-major) and int8 x (N x K).  Before
 * the call the weights are packed into the format's canonical layout
 * (formats/formats.h, formats/tl.h), repacked into the kernel's layout, and
 * lookup-table kernels get their per-token tables (act_prep).  tritune_run
 * does all of it on one thread; a runtime with its own thread pool calls
 * fn on row ranges [m0, m1) that are multiples of row_align. */
#ifndef TRITUNE_RUN_H
#define TRITUNE_RUN_H

#include <stdint.h>

#include "seam/variant.h" /* tt_kargs, tt_kernel_fn, repack and act_prep types */

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    const char *op;      /* "gemv" (N = 1) or "gemm"                              */
    const char *format;  /* "i2s", "tl1", "tl2": the canonical weight layout        */
    int M, K, N, threads;
    const char *cache;   /* cache state it was tuned for: "streaming" or "warm"     */
    const char *variant; /* tritune's variant name (also the C symbol of fn)        */
    uint32_t features;   /* TT_FEAT_* bits the CPU must have (core/cpu.h)           */
    int m_align, k_align, min_k, max_k, max_n, row_align;
    tt_kernel_fn fn;     /* the tuned kernel                                        */
    tt_kernel_fn ref;    /* its scalar reference (reads the canonical layout)       */
    tt_repack_bytes_fn repack_bytes; /* NULL: the kernel reads the canonical layout */
    tt_repack_fn repack;
    tt_act_bytes_fn act_bytes;       /* NULL: the kernel reads int8 x directly      */
    tt_act_prep_fn act_prep;
} tritune_tuned_kernel;

/* Run k (use_ref = 0) or its reference (use_ref = 1) on W (M x K) and x
 * (N x K), writing y (N x M).  Returns 0, or -1 with a message on stderr
 * (shape outside the kernel's restrictions, missing CPU feature, a weight
 * outside {-1, 0, 1}, out of memory). */
int tritune_run(const tritune_tuned_kernel *k, const int8_t *w, const int8_t *x, int M, int K, int N, int32_t *y,
                int use_ref);

#ifdef __cplusplus
}
#endif
#endif
