/* tritune: float-matrix tests (quiet unless failing): fp16 conversions
 * agree bit for bit between C and the kernel table; float matrices (LM
 * head, baselines) match a double reference and keep their guards. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/pool.h"
#include "model/fkern.h"
#include "model/fmat.h"
#include "test_util.h"


/* fp16 conversions: the portable C ones and the kernel table's (AVX-512
 * when the CPU has it) must agree bit for bit, or weights would depend on
 * the machine. */
static void test_half(void) {
    const tt_fkern_table *fk = tt_fkern();
    static float f[65536], g[65536];
    static uint16_t h[65536], hc[65536];
    for (int i = 0; i < 65536; i++) h[i] = (uint16_t)i;
    fk->f16_to_f32(h, f, 65536);
    int bad = 0;
    for (int i = 0; i < 65536; i++) {
        const float c = tt_f16_to_f32((uint16_t)i);
        if (!(memcmp(&c, &f[i], 4) == 0 || (isnan(c) && isnan(f[i])))) bad++;
    }
    CHECK(bad == 0, "f16 -> f32: %d of 65536 differ between C and %s", bad, fk->isa);
    uint64_t x = 88172645463325252ull;
    for (int i = 0; i < 65536; i++) { /* random bit patterns over the whole float range, plus halfway cases */
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        uint32_t u = (uint32_t)x;
        if (i % 4 == 0) u = (u & 0xFFFFE000u) | 0x1000u; /* exactly halfway between two halves */
        memcpy(&g[i], &u, 4);
        if (isnan(g[i])) g[i] = 1.0f;
    }
    fk->f32_to_f16(g, h, 65536);
    for (int i = 0; i < 65536; i++) hc[i] = tt_f32_to_f16(g[i]);
    bad = 0;
    for (int i = 0; i < 65536; i++) bad += h[i] != hc[i];
    CHECK(bad == 0, "f32 -> f16: %d of 65536 differ between C and %s", bad, fk->isa);
    CHECK(tt_f32_to_f16(1.0f) == 0x3C00 && tt_f32_to_f16(-2.0f) == 0xC000 && tt_f32_to_f16(65520.0f) == 0x7C00 &&
              tt_f32_to_f16(0x1p-24f) == 0x0001 && tt_f16_to_f32(0x7BFF) == 65504.0f,
          "f16 conversion landmarks");
}

/* Float matrices (LM head, baselines) against a double reference, on
 * shapes that break the 4-row / 4-token / 16-lane / KC=1024 / 64-token
 * blocking; outputs outside [0, M) of each row of y must stay untouched.
 * Tolerance: fp32 accumulation over K terms, 1e-5 of sum |w x|. */
static void test_fmat(tt_pool *pool) {
    const int Ms[] = {1, 3, 4, 5, 33, 70}, Ks[] = {1, 15, 16, 17, 1023, 1025, 2100}, Ns[] = {1, 3, 4, 5, 9, 70};
    const tt_fmat_kind kinds[] = {TT_FM_F16, TT_FM_F32};
    uint64_t r = 12345;
    for (size_t ki = 0; ki < 2; ki++)
        for (size_t mi = 0; mi < sizeof Ms / sizeof *Ms; mi++)
            for (size_t kk = 0; kk < sizeof Ks / sizeof *Ks; kk++)
                for (size_t ni = 0; ni < sizeof Ns / sizeof *Ns; ni++) {
                    const int M = Ms[mi], K = Ks[kk], N = Ns[ni], ldy = M + 3;
                    tt_fmat A;
                    if (tt_fmat_alloc(&A, kinds[ki], M, K) != TT_OK) {
                        CHECK(0, "fmat alloc");
                        return;
                    }
                    double *wd = malloc(sizeof(double) * (size_t)M * K);
                    float *x = malloc(sizeof(float) * (size_t)N * K), *y = malloc(sizeof(float) * (size_t)N * ldy);
                    for (size_t i = 0; i < (size_t)M * K; i++) {
                        r ^= r << 13, r ^= r >> 7, r ^= r << 17;
                        const int v = (int)(r % 255) - 127;
                        if (kinds[ki] == TT_FM_F16) ((uint16_t *)A.w)[i] = tt_f32_to_f16(v / 128.0f), wd[i] = v / 128.0;
                        else ((float *)A.w)[i] = v / 128.0f, wd[i] = v / 128.0;
                    }
                    for (size_t i = 0; i < (size_t)N * K; i++) {
                        r ^= r << 13, r ^= r >> 7, r ^= r << 17;
                        x[i] = (float)((int)(r % 2001) - 1000) / 1000.0f;
                    }
                    for (size_t i = 0; i < (size_t)N * ldy; i++) y[i] = -7.0f; /* guard value */
                    tt_status st = tt_fmat_forward(&A, x, K, N, y, ldy, pool);
                    int bad = st != TT_OK;
                    for (int n = 0; n < N && !bad; n++)
                        for (int m = 0; m < ldy && !bad; m++) {
                            if (m >= M) {
                                bad = y[(size_t)n * ldy + m] != -7.0f;
                                continue;
                            }
                            double ref = 0, mag = 0;
                            for (int k = 0; k < K; k++) {
                                ref += wd[(size_t)m * K + k] * x[(size_t)n * K + k];
                                mag += fabs(wd[(size_t)m * K + k] * x[(size_t)n * K + k]);
                            }
                            bad = fabs(y[(size_t)n * ldy + m] - ref) > 1e-5 * mag + 1e-30;
                        }
                    CHECK(!bad, "fmat %s %dx%d N=%d (%s): wrong result or guard overwritten", tt_fmat_impl(kinds[ki]), M,
                          K, N, tt_fmat_kind_name(kinds[ki]));
                    free(wd), free(x), free(y);
                    tt_fmat_free(&A);
                }
}

/* The quantized LM-head matrices (int8 per row, 4-bit groups of TT_Q4_GROUP):
 *  - a row set from floats comes back within half a quantization step
 *    (absmax/127 per row; absmax/7 per group, the fp16-rounded scale);
 *  - tt_fmat_forward (the dispatched kernel, AVX-512 VNNI here) against the
 *    portable kernel on the same int8 activations: int8 bit for bit, 4-bit
 *    within 1e-5 of sum |w q| (its fp32 group sums run in another order);
 *  - both against a double-precision product of the dequantized rows and
 *    the quantized activations, within 1e-5 of sum |w q| / s_a. */
static void test_qmat(tt_pool *pool) {
    const int Ms[] = {1, 3, 4, 5, 33}, Ks[] = {1, 15, 64, 100, 128, 129, 2100}, Ns[] = {1, 3};
    const tt_fmat_kind kinds[] = {TT_FM_I8, TT_FM_Q4};
    const tt_fkern_table *pc = tt_fkern_portable();
    uint64_t r = 777;
    for (size_t ki = 0; ki < 2; ki++)
        for (size_t mi = 0; mi < sizeof Ms / sizeof *Ms; mi++)
            for (size_t kk = 0; kk < sizeof Ks / sizeof *Ks; kk++)
                for (size_t ni = 0; ni < sizeof Ns / sizeof *Ns; ni++) {
                    const tt_fmat_kind kind = kinds[ki];
                    const int M = Ms[mi], K = Ks[kk], N = Ns[ni];
                    tt_fmat A;
                    tt_qact qa = {0};
                    if (tt_fmat_alloc(&A, kind, M, K) != TT_OK || tt_qact_alloc(&qa, 1, K) != TT_OK) {
                        CHECK(0, "qmat alloc");
                        return;
                    }
                    float *w = malloc(sizeof(float) * (size_t)M * K), *back = malloc(sizeof(float) * K);
                    float *x = malloc(sizeof(float) * (size_t)N * K), *y = malloc(sizeof(float) * (size_t)N * M);
                    float *yc = malloc(sizeof(float) * M);
                    void *aux = tt_alloc(sizeof(int32_t) * (size_t)tt_act_kpad(K), 64, 1);
                    int bad_rows = 0;
                    for (int m = 0; m < M; m++) {
                        float amax = 0;
                        for (int k = 0; k < K; k++) {
                            r ^= r << 13, r ^= r >> 7, r ^= r << 17;
                            w[(size_t)m * K + k] = (float)((int)(r % 20001) - 10000) / 10000.0f * (1 + m % 3);
                        }
                        tt_fmat_set_row(&A, m, w + (size_t)m * K);
                        tt_fmat_get_row(&A, m, back);
                        for (int k = 0; k < K; k++) {
                            const int g0 = kind == TT_FM_Q4 ? k / TT_Q4_GROUP * TT_Q4_GROUP : 0,
                                      g1 = kind == TT_FM_Q4 ? TT_MIN(K, g0 + TT_Q4_GROUP) : K;
                            amax = 0;
                            for (int j = g0; j < g1; j++) amax = fmaxf(amax, fabsf(w[(size_t)m * K + j]));
                            const double step = kind == TT_FM_Q4 ? amax / 7.0 * (1 + 1e-3) : amax / 127.0;
                            bad_rows += fabs(back[k] - w[(size_t)m * K + k]) > 0.5 * step * (1 + 1e-5) + 1e-7;
                        }
                    }
                    CHECK(bad_rows == 0, "qmat %s %dx%d: %d values off by more than half a step", tt_fmat_kind_name(kind),
                          M, K, bad_rows);
                    for (size_t i = 0; i < (size_t)N * K; i++) {
                        r ^= r << 13, r ^= r >> 7, r ^= r << 17;
                        x[i] = (float)((int)(r % 2001) - 1000) / 1000.0f;
                    }
                    int bad = tt_fmat_forward(&A, x, K, N, y, M, pool) != TT_OK;
                    for (int n = 0; n < N && !bad; n++) {
                        tt_quantize_act(&qa, x + (size_t)n * K, 1, K);
                        tt_fk_qprep(kind, qa.q, K, qa.Kp, aux);
                        (kind == TT_FM_I8 ? pc->qi8 : pc->qq4)(&A, qa.q, aux, qa.scale[0], yc, 0, M);
                        /* the dispatched kernel on rows 1..M-1: a range that starts inside a quad */
                        float *y1 = malloc(sizeof(float) * M);
                        (kind == TT_FM_I8 ? tt_fkern()->qi8 : tt_fkern()->qq4)(&A, qa.q, aux, qa.scale[0], y1, 1, M);
                        for (int m = 1; m < M && !bad; m++) bad = y1[m] != y[(size_t)n * M + m];
                        free(y1);
                        for (int m = 0; m < M && !bad; m++) {
                            double ref = 0, mag = 0;
                            tt_fmat_get_row(&A, m, back);
                            for (int k = 0; k < K; k++) ref += (double)back[k] * qa.q[k], mag += fabs((double)back[k] * qa.q[k]);
                            ref /= qa.scale[0], mag /= qa.scale[0];
                            const float got = y[(size_t)n * M + m];
                            bad = kind == TT_FM_I8 ? got != yc[m] : fabs(got - yc[m]) > 1e-5 * mag + 1e-30;
                            bad |= fabs(got - ref) > 1e-5 * mag + 1e-30;
                        }
                    }
                    CHECK(!bad, "qmat %s (%s) %dx%d N=%d: differs from the portable kernel or the reference",
                          tt_fmat_kind_name(kind), tt_fmat_impl(kind), M, K, N);
                    free(w), free(back), free(x), free(y), free(yc);
                    tt_free(aux);
                    tt_qact_free(&qa);
                    tt_fmat_free(&A);
                }
}

int main(void) {
    tt_pool *p2 = tt_pool_create(2, 0);
    test_half();
    test_fmat(p2);
    test_qmat(p2);
    tt_pool_destroy(p2);
    TEST_DONE("test_fmat");
}
