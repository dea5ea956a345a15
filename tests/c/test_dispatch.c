/* The seam: variant lookup, restrictions and fallback, BitLinear forward
 * (fp32 epilogue) vs a direct float computation, thread splitting, the
 * pool, and the tuning file reader. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/cpu.h"
#include "seam/dispatch.h"
#include "test_util.h"

static uint64_t rs = 777;
static uint32_t rnd(void) {
    rs ^= rs << 13, rs ^= rs >> 7, rs ^= rs << 17;
    return (uint32_t)rs;
}

typedef struct {
    int hits[8];
} pool_ctx;
static void count_task(void *c, int tid, int nth) {
    pool_ctx *p = c;
    __atomic_fetch_add(&p->hits[tid], 1, __ATOMIC_RELAXED);
    (void)nth;
}

int main(void) {
    /* TT_TEST_QUICK (the ThreadSanitizer step): every 8th GEMV variant, not all */
    const int quick = getenv("TT_TEST_QUICK") != NULL;
    int seen = 0;
    /* split_range covers [0, n) exactly, aligned chunks */
    for (int n = 0; n < 70; n++)
        for (int parts = 1; parts <= 5; parts++)
            for (int align = 1; align <= 8; align *= 2) {
                int next = 0;
                for (int i = 0; i < parts; i++) {
                    int lo, hi;
                    tt_split_range(n, parts, i, align, &lo, &hi);
                    CHECK(lo == next && hi >= lo && (lo % align == 0 || lo == n), "split n=%d parts=%d", n, parts);
                    next = hi;
                }
                CHECK(next == n, "split does not cover n=%d", n);
            }
    /* pool: every thread runs every task */
    {
        tt_pool *p = tt_pool_create(3, 0);
        CHECK(p && tt_pool_threads(p) == 3, "pool");
        pool_ctx c = {{0}};
        for (int i = 0; i < 1000; i++) tt_pool_run(p, count_task, &c);
        CHECK(c.hits[0] == 1000 && c.hits[1] == 1000 && c.hits[2] == 1000, "hits %d %d %d", c.hits[0], c.hits[1],
              c.hits[2]);
        tt_pool_destroy(p);
        CHECK(tt_pool_create(0, 0) == NULL && tt_last_error()[0], "0 threads accepted");
    }
    /* restrictions name themselves */
    {
        const tt_variant *g = tt_variant_generic(TT_OP_GEMV, TT_FMT_I2S);
        char why[256];
        CHECK(g && tt_variant_check(g, 16, 100, 2, why, sizeof why) == TT_E_SHAPE && strstr(why, "at most N = 1"),
              "gemv with N=2: %s", why);
        CHECK(tt_variant_check(g, 0, 100, 1, why, sizeof why) == TT_E_SHAPE, "M = 0 accepted");
        CHECK(tt_variant_find("no_such_variant") == NULL, "find");
        CHECK(tt_variant_glob_count("gemv_i2s_*") > 0, "glob");
    }
    /* BitLinear forward through the seam == float math on the quantized values, for every
     * runnable GEMV variant, at 1 and 2 threads, N = 1 and N = 5 (GEMM path) */
    {
        const int M = 67, K = 333, N = 5;
        int8_t *w = malloc((size_t)M * K);
        float *x = malloc(sizeof(float) * N * K), *y = malloc(sizeof(float) * N * M);
        for (int i = 0; i < M * K; i++) w[i] = (int8_t)((int)(rnd() % 3) - 1);
        for (int i = 0; i < N * K; i++) x[i] = ((float)(rnd() % 2001) - 1000.f) / 100.f;
        tt_tensor W;
        CHECK(tt_tensor_from_ternary(&W, TT_FMT_I2S, w, M, K, 0.37f) == TT_OK, "tensor");
        tt_qact q;
        tt_qact_alloc(&q, N, K);
        tt_workspace ws = {0};
        const uint32_t f = tt_cpu_features();
        for (int threads = 1; threads <= 2; threads++) {
            tt_pool *pool = tt_pool_create(threads, 0);
            for (int i = 0; i < tt_n_variants; i++) {
                const tt_variant *v = &tt_variants[i];
                if (v->op != TT_OP_GEMV || v->wfmt != TT_FMT_I2S || !tt_variant_runnable(v, f)) continue;
                if (quick && seen++ % 8) continue;
                tt_linear L;
                tt_status st = tt_linear_prepare(&L, &W, v->name, NULL, NULL, threads);
                CHECK(st == TT_OK, "prepare %s: %s", v->name, tt_last_error());
                if (st != TT_OK) continue;
                CHECK(strcmp(L.gemm->layout, L.gemv->layout) == 0, "layouts differ");
                for (int n_tok = 1; n_tok <= N; n_tok += N - 1) {
                    tt_quantize_act(&q, x, n_tok, K);
                    memset(y, 0xFF, sizeof(float) * N * M); /* NaN pattern */
                    CHECK(tt_linear_forward(&L, &q, y, M, pool, &ws) == TT_OK, "forward");
                    for (int n = 0; n < n_tok; n++)
                        for (int m = 0; m < M; m++) {
                            double acc = 0;
                            for (int k = 0; k < K; k++) acc += (double)w[m * K + k] * q.q[(size_t)n * q.Kp + k];
                            const double want = acc * 0.37 / q.scale[n];
                            const float got = y[n * M + m];
                            /* tolerance: one fp32 rounding of the scale product */
                            CHECK(isfinite(got) && fabs(got - want) <= 1e-5 * fabs(want) + 1e-6, "%s N=%d y[%d][%d] %g want %g",
                                  v->name, n_tok, n, m, got, want);
                        }
                }
                tt_linear_free(&L);
            }
            tt_pool_destroy(pool);
        }
        /* explicit names that cannot work fail loudly */
        tt_linear L;
        CHECK(tt_linear_prepare(&L, &W, "nope", NULL, NULL, 1) == TT_E_UNKNOWN_VARIANT, "unknown name");
        const tt_variant *gm = tt_variant_generic(TT_OP_GEMM, TT_FMT_I2S);
        CHECK(tt_linear_prepare(&L, &W, gm->name, NULL, NULL, 1) == TT_E_ARG, "gemm as gemv accepted");
        tt_workspace_free(&ws);
        tt_qact_free(&q);
        tt_tensor_free(&W);
        free(w);
        free(x);
        free(y);
    }
    /* several BitLinears on one input (q/k/v, gate/up) in one dispatch ==
     * one forward each, bit for bit: every runnable GEMV variant of each
     * ternary format (tables built once for all), 2 threads; and a
     * mix of variants (separate dispatches) */
    {
        const int K = 384, Ms[3] = {256, 512, 768};
        int8_t *w = malloc((size_t)768 * K);
        float *x = malloc(sizeof(float) * K), *y1 = malloc(sizeof(float) * 1536), *y2 = malloc(sizeof(float) * 1536);
        for (int i = 0; i < 768 * K; i++) w[i] = (int8_t)((int)(rnd() % 3) - 1);
        for (int i = 0; i < K; i++) x[i] = ((float)(rnd() % 2001) - 1000.f) / 100.f;
        tt_qact q;
        tt_qact_alloc(&q, 1, K);
        tt_quantize_act(&q, x, 1, K);
        tt_workspace ws = {0};
        const uint32_t f = tt_cpu_features();
        const tt_wformat fmts[3] = {TT_FMT_I2S, TT_FMT_TL1, TT_FMT_TL2};
        int runs = 0;
        for (int fi = 0; fi < 3; fi++) {
            tt_tensor W[3];
            int ok = 1;
            for (int j = 0; j < 3; j++) ok &= tt_tensor_from_ternary(&W[j], fmts[fi], w, Ms[j], K, 0.1f * (j + 1)) == TT_OK;
            if (!ok) continue; /* format not in this build */
            for (int threads = 2; threads <= 2; threads++) { /* 2: the rows split, the tables shared */
                tt_pool *pool = tt_pool_create(threads, 0);
                for (int i = 0; i <= tt_n_variants; i++) {
                    const tt_variant *v = i < tt_n_variants ? &tt_variants[i] : NULL; /* NULL: the default's mix */
                    if (v && (v->op != TT_OP_GEMV || v->wfmt != fmts[fi] || !tt_variant_runnable(v, f))) continue;
                    tt_linear L[3];
                    int prepared = 0;
                    for (int j = 0; j < 3; j++, prepared++)
                        if (tt_linear_prepare(&L[j], &W[j], v && (j < 2 || i % 2) ? v->name : NULL, NULL, NULL, threads) != TT_OK)
                            break;
                    if (prepared == 3) {
                        const tt_linear *Lp[3] = {&L[0], &L[1], &L[2]};
                        float *ys[3] = {y2, y2 + 256, y2 + 768};
                        const int ld[3] = {256, 512, 768};
                        memset(y1, 0xFF, sizeof(float) * 1536);
                        memset(y2, 0xFF, sizeof(float) * 1536);
                        for (int j = 0; j < 3; j++) tt_linear_forward(&L[j], &q, y1 + (j ? (j == 1 ? 256 : 768) : 0), ld[j], pool, &ws);
                        CHECK(tt_linear_forward_many(Lp, 3, &q, ys, ld, pool, &ws) == TT_OK, "forward_many");
                        CHECK(memcmp(y1, y2, sizeof(float) * 1536) == 0, "%s %s, %d threads: forward_many differs",
                              tt_wformat_name(fmts[fi]), v ? v->name : "default", threads);
                        runs++;
                    }
                    for (int j = 0; j < prepared; j++) tt_linear_free(&L[j]);
                }
                tt_pool_destroy(pool);
            }
            for (int j = 0; j < 3; j++) tt_tensor_free(&W[j]);
        }
        CHECK(runs >= 6, "forward_many compared on %d variant sets only", runs);
        tt_workspace_free(&ws);
        tt_qact_free(&q);
        free(w), free(x), free(y1), free(y2);
    }
    /* tuning file: good, malformed, unknown variant */
    {
        const tt_variant *g = tt_variant_generic(TT_OP_GEMV, TT_FMT_I2S);
        char path[] = "/tmp/tt_tuning_XXXXXX";
        int fd = mkstemp(path);
        FILE *fp = fdopen(fd, "w");
        fprintf(fp, "# op fmt M K N threads variant\n# machine x generator %s cache streaming\ngemv i2s 640 2560 1 2 %s\n",
                tt_generator_hash, g->name);
        fclose(fp);
        tt_tuning t;
        CHECK(tt_tuning_load(&t, path) == TT_OK, "load: %s", tt_last_error());
        CHECK(tt_tuning_lookup(&t, TT_OP_GEMV, TT_FMT_I2S, 640, 2560, 1, 2) == g, "lookup");
        CHECK(tt_tuning_lookup(&t, TT_OP_GEMV, TT_FMT_I2S, 640, 2560, 1, 1) == NULL, "thread mismatch");
        tt_tuning_free(&t);
        fp = fopen(path, "w");
        fprintf(fp, "# generator %s\ngemv i2s 640 x 1 2 %s\n", tt_generator_hash, g->name);
        fclose(fp);
        CHECK(tt_tuning_load(&t, path) == TT_E_CONFIG && strstr(tt_last_error(), ":2:"), "malformed: %s", tt_last_error());
        fp = fopen(path, "w");
        fprintf(fp, "# generator %s\ngemv i2s 640 2560 1 2 gemv_i2s_i8_c_r999\n", tt_generator_hash);
        fclose(fp);
        CHECK(tt_tuning_load(&t, path) == TT_E_CONFIG && strstr(tt_last_error(), "unknown variant"), "unknown: %s",
              tt_last_error());
        remove(path);
        CHECK(tt_tuning_load(&t, "/nonexistent/tuned.tsv") == TT_E_ARG, "missing file");
    }
    /* a tuned choice that cannot take the shape falls back (never computes nothing):
     * mask-decode variants are exact only up to K = 8388608 (int32 bound) */
    {
        const tt_variant *mask = NULL;
        for (int i = 0; i < tt_n_variants; i++)
            if (tt_variants[i].op == TT_OP_GEMV && tt_variants[i].max_k < (1 << 30) &&
                tt_variant_runnable(&tt_variants[i], tt_cpu_features()))
                mask = &tt_variants[i];
        if (mask) {
            const int M = 2, K = mask->max_k + 300;
            char path[] = "/tmp/tt_tuning_XXXXXX";
            int fd = mkstemp(path);
            FILE *fp = fdopen(fd, "w");
            fprintf(fp, "# generator %s\ngemv i2s %d %d 1 1 %s\n", tt_generator_hash, M, K, mask->name);
            fclose(fp);
            tt_tuning t;
            CHECK(tt_tuning_load(&t, path) == TT_OK, "load");
            remove(path);
            int8_t *w = malloc((size_t)M * K);
            float *x = malloc(sizeof(float) * K), y[2];
            for (int i = 0; i < M * K; i++) w[i] = (int8_t)(i % 3 == 0 ? 1 : 0);
            for (int k = 0; k < K; k++) x[k] = 1.0f;
            tt_tensor W;
            CHECK(tt_tensor_from_ternary(&W, TT_FMT_I2S, w, M, K, 1.0f) == TT_OK, "big tensor");
            tt_linear L;
            CHECK(tt_linear_prepare(&L, &W, NULL, NULL, &t, 1) == TT_OK, "prepare: %s", tt_last_error());
            CHECK(L.gemv != mask, "tuned variant %s used past its K bound", mask->name);
            tt_linear L2;
            CHECK(tt_linear_prepare(&L2, &W, mask->name, NULL, NULL, 1) == TT_E_SHAPE, "named variant past its bound");
            tt_qact q;
            tt_qact_alloc(&q, 1, K);
            tt_quantize_act(&q, x, 1, K);
            tt_workspace ws2 = {0};
            CHECK(tt_linear_forward(&L, &q, y, M, NULL, &ws2) == TT_OK, "forward");
            const double want = (double)((K + 2) / 3) * 127 / q.scale[0];
            CHECK(fabs(y[0] - want) <= 1e-5 * want, "big-K output %g want %g", y[0], want);
            tt_workspace_free(&ws2);
            tt_qact_free(&q);
            tt_linear_free(&L);
            tt_tensor_free(&W);
            tt_tuning_free(&t);
            free(w);
            free(x);
        }
    }
    TEST_DONE("test_dispatch");
}
