/* tritune: the kernel call ABI and every scalar reference (hand-written).
 *
 * A reference is the specification of its format's arithmetic: about 30
 * lines of obvious loops over the canonical layout, with the same signature
 * as the generated kernels, so a verifier can run both on one problem and
 * compare int32 outputs with memcmp.  References are never generated.
 *
 * Kernel contract (every generated kernel and every reference):
 *   y[n * ldy + m] = sum_{k < K} W[m][k] * x[n][k]     (exact int32)
 * for m in [m0, m1), n in [n0, n1).  W is ternary; x is int8.  A kernel
 * writes exactly those outputs and nothing else.
 *
 * Layer: ref/ may include core/ and formats/ only. */
#ifndef TT_REF_H
#define TT_REF_H

#include <stddef.h>
#include <stdint.h>

#include "formats/formats.h"
#include "formats/tl.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct tt_kargs {
    const uint8_t *w;      /* weights in the variant's layout (after repack)       */
    int M, K, Kp;          /* rows, logical K, padded K (tt_act_kpad(K))           */
    const int8_t *x;       /* N x Kp int8 activations, zero-padded past K          */
    const int32_t *xsum;   /* N: sum_k x[n][k] (for the w+1 offset trick)          */
    const uint8_t *act;    /* N x act_stride prepared activations (LUTs), or NULL  */
    size_t act_stride;
    int N;                 /* tokens                                                */
    int32_t *y;            /* outputs, y[n * ldy + m]                               */
    int ldy;
} tt_kargs;

typedef void (*tt_kernel_fn)(const tt_kargs *a, int m0, int m1, int n0, int n1);

/* ---- Scalar references (ref/ref_i2s.c) ---------------------- */
void tt_ref_i2s_gemv(const tt_kargs *a, int m0, int m1, int n0, int n1);
void tt_ref_i2s_gemm(const tt_kargs *a, int m0, int m1, int n0, int n1);

/* ---- Scalar references (ref/ref_tl.c): read the canonical layout and int8 x ---- */
void tt_ref_tl1_gemv(const tt_kargs *a, int m0, int m1, int n0, int n1);
void tt_ref_tl1_gemm(const tt_kargs *a, int m0, int m1, int n0, int n1);
void tt_ref_tl2_gemv(const tt_kargs *a, int m0, int m1, int n0, int n1);
void tt_ref_tl2_gemm(const tt_kargs *a, int m0, int m1, int n0, int n1);


#ifdef __cplusplus
}
#endif
#endif
