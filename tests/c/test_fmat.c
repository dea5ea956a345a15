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
    const int Ms[] = {1, 3, 4, 5, 33}, Ks[] = {1, 15, 16, 17, 1023, 1025, 2100}, Ns[] = {1, 3, 4, 5, 9, 70};
    const tt_fmat_kind kinds[] = {TT_FM_F16, TT_FM_I8, TT_FM_F32};
    uint64_t r = 12345;
    for (size_t ki = 0; ki < 3; ki++)
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
                        else if (kinds[ki] == TT_FM_F32) ((float *)A.w)[i] = v / 128.0f, wd[i] = v / 128.0;
                        else ((int8_t *)A.w)[i] = (int8_t)v, wd[i] = v;
                    }
                    for (int m = 0; kinds[ki] == TT_FM_I8 && m < M; m++) A.row_scale[m] = 0.01f * (m + 1);
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
                            const double s = kinds[ki] == TT_FM_I8 ? A.row_scale[m] : 1.0;
                            bad = fabs(y[(size_t)n * ldy + m] - ref * s) > 1e-5 * mag * s + 1e-30;
                        }
                    CHECK(!bad, "fmat %s %dx%d N=%d (%s): wrong result or guard overwritten", tt_fmat_impl(kinds[ki]), M,
                          K, N, kinds[ki] == TT_FM_F16 ? "fp16" : kinds[ki] == TT_FM_I8 ? "i8" : "fp32");
                    free(wd), free(x), free(y);
                    tt_fmat_free(&A);
                }
}


int main(void) {
    tt_pool *p2 = tt_pool_create(2, 0);
    test_half();
    test_fmat(p2);
    tt_pool_destroy(p2);
    TEST_DONE("test_fmat");
}
