/* tritune: decoder tests (quiet unless failing; exit code = failures).
 *  1. JSON parser strictness and error positions; config validation errors;
 *     every shipped models/dummy config loads.
 *  2. The tiny models decode the same greedy tokens, with bit-identical
 *     logits, under every runnable ternary variant set (each GEMV variant
 *     paired with a GEMM variant of its layout, and each GEMM variant paired
 *     with a GEMV variant of its layout) as under the portable-C reference
 *     kernels; the same for every ternary format built in.
 *  3. The ternary logits match an independent float implementation of the
 *     same quantized model written here (TOL_INDEP); batched prefill matches
 *     token-by-token decoding; results do not depend on the thread count.
 *  4. The fp16 and fp32 baselines agree (TOL_BASE).
 *  5. Weight file round trip; truncated, corrupted, wrong-version and
 *     bad-magic files fail with clear errors; the memory check refuses. */
#define _GNU_SOURCE
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/cpu.h"
#include "model/fkern.h"
#include "core/json.h"
#include "model/model.h"

static int failures;
#define CHECK(cond, ...)                                                     \
    do {                                                                     \
        if (!(cond)) {                                                       \
            failures++;                                                      \
            fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);             \
            fprintf(stderr, __VA_ARGS__);                                    \
            fprintf(stderr, "\n");                                           \
        }                                                                    \
    } while (0)

/* Independent float model vs the decoder: activation quantization rounds
 * x * s_a to integers, and float-vs-double differences can move a value
 * across a .5 boundary (one int8 step, 1/127 of the row's absmax), so the
 * two agree closely but not exactly.  Observed max difference on the tiny
 * models is below 1e-6 of the logit range (3e-3 for a seed where one int8
 * rounding flipped); we allow 1%. */
#define TOL_INDEP 0.01
/* fp16 vs fp32 baseline: fp16 rounds each tensor's +-s_w by at most 2^-11
 * relative; allow 1% of the logit range. */
#define TOL_BASE 0.01

/* ---- 1. JSON and configs ------------------------------------------------------------ */
static void expect_json_error(const char *text, const char *needle) {
    tt_jv v;
    tt_status st = tt_json_parse(text, strlen(text), "t.json", &v);
    CHECK(st == TT_E_CONFIG, "JSON %s: expected an error, got %s", text, tt_status_str(st));
    CHECK(strstr(tt_last_error(), needle) != NULL, "JSON %s: message '%s' lacks '%s'", text, tt_last_error(), needle);
}

static void test_json(void) {
    tt_jv v;
    const char *ok = "{\"a\": [1, -2.5e3, true, false, null], \"s\": \"x\\u00e9\\ud83d\\ude00\\n\", \"o\": {}}";
    CHECK(tt_json_parse(ok, strlen(ok), NULL, &v) == TT_OK, "valid JSON rejected: %s", tt_last_error());
    const tt_jv *a = tt_json_get(&v, "a"), *s = tt_json_get(&v, "s");
    CHECK(a && a->type == TT_JARR && a->n == 5 && a->items[1].num == -2500.0 && a->items[4].type == TT_JNULL,
          "array parsed wrong");
    CHECK(s && s->type == TT_JSTR && !strcmp(s->str, "x\xC3\xA9\xF0\x9F\x98\x80\n"), "string escapes parsed wrong");
    tt_json_free(&v);
    expect_json_error("{\"a\": 1,}", "trailing comma");
    expect_json_error("{\"a\": 1, \"a\": 2}", "duplicate key");
    expect_json_error("[01]", "leading zeros");
    expect_json_error("{\"a\": \"abc", "unterminated string");
    expect_json_error("[1 2]", "expected ',' or ']'");
    expect_json_error("{\"a\": 1} x", "after the top-level value");
    expect_json_error("[\"a\tb\"]", "control character");
    expect_json_error("{\"a\":\n  nul}", "t.json:2:3");
    expect_json_error("[NaN]", "expected a value");
    char deep[200];
    memset(deep, '[', sizeof deep - 1);
    deep[sizeof deep - 1] = '\0';
    expect_json_error(deep, "nesting deeper");
}

static void expect_config_error(const char *json, const char *needle) {
    tt_config c;
    tt_status st = tt_config_parse(&c, json, strlen(json), "bad.json");
    CHECK(st == TT_E_CONFIG, "config %s: expected TT_E_CONFIG, got %s", json, tt_status_str(st));
    CHECK(strstr(tt_last_error(), needle) != NULL, "config %s: message '%s' lacks '%s'", json, tt_last_error(), needle);
}

#define CFG(extra) "{\"hidden\": 64, \"ffn\": 128, \"layers\": 2, \"heads\": 4, \"vocab\": 50, \"activation\": \"silu\"" extra "}"
static void test_configs(void) {
    tt_config c;
    CHECK(tt_config_parse(&c, CFG(""), strlen(CFG("")), "ok.json") == TT_OK, "minimal config rejected: %s", tt_last_error());
    CHECK(c.kv_heads == 4 && c.head_dim == 16, "defaults: kv_heads %d head_dim %d", c.kv_heads, c.head_dim);
    expect_config_error("{\"hidden\": 64, \"ffn\": 128, \"layers\": 2, \"heads\": 5, \"vocab\": 50, \"activation\": \"silu\"}",
                        "heads = 5 does not divide hidden = 64");
    expect_config_error("{\"hidden\": 64, \"ffn\": 128, \"layers\": 0, \"heads\": 4, \"vocab\": 50, \"activation\": \"silu\"}",
                        "layers = 0");
    expect_config_error("{\"hidden\": 64, \"ffn\": -128, \"layers\": 2, \"heads\": 4, \"vocab\": 50, \"activation\": \"silu\"}",
                        "ffn = -128");
    expect_config_error(CFG(", \"kv_heads\": 3"), "kv_heads = 3 does not divide heads = 4");
    expect_config_error(CFG(", \"head_dim\": 15"), "head_dim = 15 must be even");
    expect_config_error("{\"hidden\": 64, \"ffn\": 128, \"layers\": 2, \"heads\": 4, \"vocab\": 50, \"activation\": \"gelu\"}",
                        "unknown activation \"gelu\"");
    expect_config_error(CFG(", \"hiden\": 3"), "unknown field \"hiden\"");
    expect_config_error("{\"hidden\": 64, \"ffn\": 128, \"heads\": 4, \"vocab\": 50, \"activation\": \"silu\"}",
                        "missing required field \"layers\"");
    expect_config_error(CFG(", \"max_seq\": 2.5"), "must be an integer");
    expect_config_error(CFG(", \"norm_eps\": 0"), "norm_eps");
    expect_config_error(CFG(", \"tied_lm_head\": 1"), "true or false");
    tt_status st = tt_config_load(&c, "models/dummy/does-not-exist.json");
    CHECK(st == TT_E_IO && strstr(tt_last_error(), "does-not-exist"), "missing file: %s", tt_last_error());
    /* every shipped config loads */
    DIR *d = opendir("models/dummy");
    CHECK(d != NULL, "cannot open models/dummy (run from the source tree)");
    int n = 0;
    for (struct dirent *e; d && (e = readdir(d));) {
        const size_t l = strlen(e->d_name);
        if (l < 6 || strcmp(e->d_name + l - 5, ".json")) continue;
        char path[512];
        snprintf(path, sizeof path, "models/dummy/%s", e->d_name);
        CHECK(tt_config_load(&c, path) == TT_OK, "%s: %s", path, tt_last_error());
        n++;
    }
    if (d) closedir(d);
    CHECK(n >= 21, "expected at least 21 configs in models/dummy, found %d", n);
    CHECK(tt_config_load(&c, "models/dummy/dummy-100b.json") == TT_OK, "dummy-100b");
    const double p = tt_config_params(&c);
    CHECK(p > 95e9 && p < 105e9, "dummy-100b has %.3g parameters", p);
}

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

/* The generator's distribution: P(-1) = P(0) = P(+1) = TT_MODEL_P_ZERO =
 * 1/3 over 1.2M weights (10 standard deviations = 0.0043), zero padding,
 * rows that differ, and a stream that depends on the seed. */
static void test_generator(void) {
    const int K = 1000, R = 1200; /* K % 128 != 0: the last block is padded */
    uint8_t row[1024], row2[1024];
    int8_t w[1000];
    long cnt[3] = {0, 0, 0};
    int same_rows = 0, bad_pad = 0;
    for (int r = 0; r < R; r++) {
        tt_gen_i2s_row(5, tt_tensor_id(0, TT_TL_WQ), r, K, row);
        tt_i2s_row_to_i8(row, K, w);
        for (int k = 0; k < K; k++) cnt[w[k] + 1]++;
        bad_pad += tt_i2s_validate(row, 1, K) != TT_OK;
        if (r) same_rows += memcmp(row, row2, tt_i2s_row_bytes(K)) == 0;
        memcpy(row2, row, tt_i2s_row_bytes(K));
    }
    const double n = (double)K * R;
    for (int v = 0; v < 3; v++)
        CHECK(fabs(cnt[v] / n - TT_MODEL_P_ZERO) < 0.0043, "P(w = %d) = %.4f, expected 1/3", v - 1, cnt[v] / n);
    CHECK(bad_pad == 0 && same_rows == 0, "generator: %d rows with bad padding, %d repeated rows", bad_pad, same_rows);
    tt_gen_i2s_row(6, tt_tensor_id(0, TT_TL_WQ), 0, K, row2);
    tt_gen_i2s_row(5, tt_tensor_id(0, TT_TL_WQ), 0, K, row);
    CHECK(memcmp(row, row2, tt_i2s_row_bytes(K)) != 0, "generator ignores the seed");
    const float s1 = tt_gen_scale(5, tt_tensor_id(0, TT_TL_WQ), K), s2 = tt_gen_scale(5, tt_tensor_id(0, TT_TL_WK), K);
    CHECK(s1 != s2 && s1 >= 0.9f * sqrtf(1.5f / K) && s1 <= 1.1f * sqrtf(1.5f / K), "scales %g %g", s1, s2);
}

/* ---- helpers -------------------------------------------------------------------------------- */
typedef struct {
    int P, G;
    int *tokens;   /* P prompt + G generated */
    float *logits; /* (G + 1) x vocab: after the prompt and after each generated token */
    const char *gemv, *gemm;
    int mixed;
} run_out;

static void run_free(run_out *r) {
    free(r->tokens);
    free(r->logits);
    memset(r, 0, sizeof *r);
}

static const int prompt[] = {3, 17, 42, 5, 99, 1, 250};
#define NPROMPT ((int)(sizeof prompt / sizeof prompt[0]))

/* Decode P prompt tokens (batched, chunks of opts.batch) then G tokens greedily. */
static tt_status run_decode(const tt_config *c, const tt_model_opts *o, tt_weightfile *wf, tt_pool *pool, int G,
                            int stepwise, run_out *r) {
    memset(r, 0, sizeof *r);
    tt_model m;
    tt_state s;
    tt_status st = tt_model_init(&m, c, o, wf, pool);
    if (st != TT_OK) return st;
    if ((st = tt_state_init(&s, &m, pool ? tt_pool_threads(pool) : 1)) != TT_OK) {
        tt_model_free(&m);
        return st;
    }
    r->P = NPROMPT;
    r->G = G;
    r->tokens = malloc(sizeof(int) * (NPROMPT + G));
    r->logits = malloc(sizeof(float) * (size_t)(G + 1) * c->vocab);
    r->gemv = m.gemv_used;
    r->gemm = m.gemm_used;
    r->mixed = m.mixed_variants;
    memcpy(r->tokens, prompt, sizeof prompt);
    for (int i = 0; i < NPROMPT % c->vocab; i++) r->tokens[i] = prompt[i] % c->vocab;
    if (stepwise) {
        for (int i = 0; i < NPROMPT && st == TT_OK; i++) st = tt_model_forward(&m, &s, &r->tokens[i], 1, pool);
    } else {
        st = tt_model_prefill(&m, &s, r->tokens, NPROMPT, pool);
    }
    for (int g = 0; g <= G && st == TT_OK; g++) {
        memcpy(r->logits + (size_t)g * c->vocab, s.logits, sizeof(float) * c->vocab);
        if (g == G) break;
        r->tokens[NPROMPT + g] = tt_argmax(s.logits, c->vocab);
        st = tt_model_forward(&m, &s, &r->tokens[NPROMPT + g], 1, pool);
    }
    tt_state_free(&s);
    tt_model_free(&m);
    if (st != TT_OK) run_free(r);
    return st;
}

/* NaN anywhere makes these infinite, so a comparison against them fails
 * (explicit loops: gcc 12 for aarch64 crashes vectorizing an fmax reduction). */
static double max_abs(const float *a, size_t n) {
    double m = 0;
    for (size_t i = 0; i < n; i++) {
        const double d = fabs(a[i]);
        if (isnan(d)) return INFINITY;
        if (d > m) m = d;
    }
    return m;
}
static double max_diff(const float *a, const float *b, size_t n) {
    double m = 0;
    for (size_t i = 0; i < n; i++) {
        const double d = fabs((double)a[i] - b[i]);
        if (isnan(d)) return INFINITY;
        if (d > m) m = d;
    }
    return m;
}
/* max |ref - a| (infinite if a holds a NaN); *scale = max |ref| */
static double diff_vs_double(const double *ref, const float *a, size_t n, double *scale) {
    double m = 0, s = 0;
    *scale = 0;
    for (size_t i = 0; i < n; i++) {
        const double d = fabs(ref[i] - a[i]);
        if (isnan(d)) return INFINITY;
        if (d > m) m = d;
        if (fabs(ref[i]) > s) s = fabs(ref[i]);
    }
    *scale = s;
    return m;
}
static int finite_all(const float *a, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (!isfinite(a[i])) return 0;
    return 1;
}

/* ---- 3. an independent float implementation of the quantized model ---------------------------- */
static double half_to_double(uint16_t h) {
    const int e = (h >> 10) & 31, m = h & 1023;
    const double v = e ? ldexp(1024 + m, e - 25) : ldexp(m, -24);
    return (h & 0x8000) ? -v : v;
}

typedef struct {
    int M, K;
    int8_t *w;
    double s;
} imat;

static void imat_load(imat *A, const tt_config *c, uint64_t seed, int id, int M, int K) {
    A->M = M, A->K = K;
    A->w = malloc((size_t)M * K);
    A->s = tt_gen_scale(seed, id, K);
    uint8_t *row = malloc(tt_i2s_row_bytes(K));
    for (int r = 0; r < M; r++) { /* decode I2_S by its published definition, not the runtime's helper */
        tt_gen_i2s_row(seed, id, r, K, row);
        for (int k = 0; k < K; k++) {
            const int code = (row[(k / 128) * 32 + k % 32] >> (6 - 2 * ((k % 128) / 32))) & 3;
            A->w[(size_t)r * K + k] = (int8_t)(code - 1);
        }
    }
    free(row);
    (void)c;
}

/* y = W quant(x) * s_w / s_a  (activation quantization per KERNELS.md s1) */
static void ibitlinear(const imat *A, const double *x, double *y) {
    double amax = 0;
    for (int k = 0; k < A->K; k++)
        if (fabs(x[k]) > amax) amax = fabs(x[k]);
    const double sa = 127.0 / fmax(amax, 1e-5);
    int *q = malloc(sizeof(int) * A->K);
    for (int k = 0; k < A->K; k++) q[k] = (int)fmin(127, fmax(-128, nearbyint(x[k] * sa)));
    for (int m = 0; m < A->M; m++) {
        long long acc = 0;
        for (int k = 0; k < A->K; k++) acc += (long long)A->w[(size_t)m * A->K + k] * q[k];
        y[m] = (double)acc * A->s / sa;
    }
    free(q);
}

static void inorm(double *o, const double *x, const float *w, int n, double eps) {
    double ss = 0;
    for (int i = 0; i < n; i++) ss += x[i] * x[i];
    const double r = 1.0 / sqrt(ss / n + eps);
    for (int i = 0; i < n; i++) o[i] = x[i] * r * w[i];
}

static void irope(double *v, int nh, int hd, int pos, double theta) {
    for (int h = 0; h < nh; h++)
        for (int i = 0; i < hd / 2; i++) {
            const double ang = pos * pow(theta, -2.0 * i / hd), a = v[h * hd + i], b = v[h * hd + i + hd / 2];
            v[h * hd + i] = a * cos(ang) - b * sin(ang);
            v[h * hd + i + hd / 2] = a * sin(ang) + b * cos(ang);
        }
}

/* Token-by-token forward of the whole sequence; logits after the prompt and after each generated token. */
static void independent_logits(const tt_config *c, uint64_t seed, const int *tokens, int P, int G, int kv16, double *out) {
    const int d = c->hidden, hd = c->head_dim, qd = c->heads * hd, kvd = c->kv_heads * hd, f = c->ffn, T = P + G;
    imat *W = calloc((size_t)c->layers * 7, sizeof *W);
    float **nw = calloc((size_t)c->layers * 4 + 1, sizeof *nw);
    const int wid[7] = {TT_TL_WQ, TT_TL_WK, TT_TL_WV, TT_TL_WO, TT_TL_WGATE, TT_TL_WUP, TT_TL_WDOWN};
    const int wM[7] = {qd, kvd, kvd, d, f, f, d}, wK[7] = {d, d, d, qd, d, d, f};
    const int nid[4] = {TT_TL_ATTN_NORM, TT_TL_ATTN_SUB_NORM, TT_TL_FFN_NORM, TT_TL_FFN_SUB_NORM};
    const int nK[4] = {d, qd, d, f};
    for (int l = 0; l < c->layers; l++) {
        for (int j = 0; j < 7; j++) imat_load(&W[l * 7 + j], c, seed, tt_tensor_id(l, wid[j]), wM[j], wK[j]);
        for (int j = 0; j < 4; j++) {
            nw[l * 4 + j] = malloc(sizeof(float) * nK[j]);
            tt_gen_norm(seed, tt_tensor_id(l, nid[j]), nK[j], nw[l * 4 + j]);
        }
    }
    float *fnorm = malloc(sizeof(float) * d);
    tt_gen_norm(seed, TT_T_FINAL_NORM, d, fnorm);
    double *emb = malloc(sizeof(double) * (size_t)c->vocab * d), *head = emb;
    uint16_t *h16 = malloc(sizeof(uint16_t) * d);
    for (int v = 0; v < c->vocab; v++) {
        tt_gen_f16_row(seed, TT_T_EMBED, v, d, h16);
        for (int k = 0; k < d; k++) emb[(size_t)v * d + k] = half_to_double(h16[k]);
    }
    if (!c->tied_lm_head) {
        head = malloc(sizeof(double) * (size_t)c->vocab * d);
        for (int v = 0; v < c->vocab; v++) {
            tt_gen_f16_row(seed, TT_T_LMHEAD, v, d, h16);
            for (int k = 0; k < d; k++) head[(size_t)v * d + k] = half_to_double(h16[k]);
        }
    }
    double *kc = malloc(sizeof(double) * (size_t)c->layers * T * kvd), *vc = malloc(sizeof(double) * (size_t)c->layers * T * kvd);
    double *x = malloc(sizeof(double) * d), *xn = malloc(sizeof(double) * (qd > d ? qd : d)), *q = malloc(sizeof(double) * qd);
    double *att = malloc(sizeof(double) * qd), *o = malloc(sizeof(double) * d), *g = malloc(sizeof(double) * f);
    double *u = malloc(sizeof(double) * f), *sc = malloc(sizeof(double) * T), *hn = malloc(sizeof(double) * f);
    for (int pos = 0; pos < T; pos++) {
        for (int k = 0; k < d; k++) x[k] = emb[(size_t)tokens[pos] * d + k];
        for (int l = 0; l < c->layers; l++) {
            imat *Wl = &W[l * 7];
            double *kp = kc + ((size_t)l * T + pos) * kvd, *vp = vc + ((size_t)l * T + pos) * kvd;
            inorm(xn, x, nw[l * 4 + 0], d, c->norm_eps);
            ibitlinear(&Wl[0], xn, q);
            ibitlinear(&Wl[1], xn, kp);
            ibitlinear(&Wl[2], xn, vp);
            irope(q, c->heads, hd, pos, c->rope_theta);
            irope(kp, c->kv_heads, hd, pos, c->rope_theta);
            for (int i = 0; kv16 && i < kvd; i++) { /* an fp16 KV cache stores rounded values */
                kp[i] = half_to_double(tt_f32_to_f16((float)kp[i]));
                vp[i] = half_to_double(tt_f32_to_f16((float)vp[i]));
            }
            for (int h = 0; h < c->heads; h++) {
                const int kh = h / (c->heads / c->kv_heads);
                double mx = -INFINITY, sum = 0;
                for (int p = 0; p <= pos; p++) {
                    double dot = 0;
                    for (int i = 0; i < hd; i++) dot += q[h * hd + i] * kc[((size_t)l * T + p) * kvd + kh * hd + i];
                    sc[p] = dot / sqrt((double)hd);
                    mx = fmax(mx, sc[p]);
                }
                for (int p = 0; p <= pos; p++) sum += (sc[p] = exp(sc[p] - mx));
                for (int i = 0; i < hd; i++) {
                    double a = 0;
                    for (int p = 0; p <= pos; p++) a += sc[p] / sum * vc[((size_t)l * T + p) * kvd + kh * hd + i];
                    att[h * hd + i] = a;
                }
            }
            inorm(xn, att, nw[l * 4 + 1], qd, c->norm_eps);
            ibitlinear(&Wl[3], xn, o);
            for (int k = 0; k < d; k++) x[k] += o[k];
            inorm(xn, x, nw[l * 4 + 2], d, c->norm_eps);
            ibitlinear(&Wl[4], xn, g);
            ibitlinear(&Wl[5], xn, u);
            for (int i = 0; i < f; i++) {
                const double a = c->act == TT_ACT_RELU2 ? (g[i] > 0 ? g[i] * g[i] : 0) : g[i] / (1 + exp(-g[i]));
                g[i] = a * u[i];
            }
            inorm(hn, g, nw[l * 4 + 3], f, c->norm_eps);
            ibitlinear(&Wl[6], hn, o);
            for (int k = 0; k < d; k++) x[k] += o[k];
        }
        if (pos >= P - 1) {
            inorm(xn, x, fnorm, d, c->norm_eps);
            double *lo = out + (size_t)(pos - (P - 1)) * c->vocab;
            for (int v = 0; v < c->vocab; v++) {
                double a = 0;
                for (int k = 0; k < d; k++) a += head[(size_t)v * d + k] * xn[k];
                lo[v] = a;
            }
        }
    }
    for (int i = 0; i < c->layers * 7; i++) free(W[i].w);
    for (int i = 0; i < c->layers * 4; i++) free(nw[i]);
    if (head != emb) free(head);
    free(W), free(nw), free(fnorm), free(emb), free(h16), free(kc), free(vc), free(x), free(xn), free(q), free(att);
    free(o), free(g), free(u), free(sc), free(hn);
}

/* ---- 2-4. decoding ------------------------------------------------------------------------------------------- */
#define GEN 8

static void compare_runs(const char *what, const tt_config *c, const run_out *ref, const run_out *r, double tol) {
    CHECK(!memcmp(ref->tokens, r->tokens, sizeof(int) * (size_t)(ref->P + ref->G)), "%s: %s: greedy tokens differ",
          c->name, what);
    const size_t n = (size_t)(ref->G + 1) * c->vocab;
    const double dm = max_diff(ref->logits, r->logits, n), scale = max_abs(ref->logits, n);
    CHECK(dm <= tol * scale, "%s: %s: logits differ by %.3g (allowed %.3g)", c->name, what, dm, tol * scale);
}

/* all_shapes: every K and M of the config suits every variant, so no fallback may happen */
static void test_decode(const char *path, int all_shapes, tt_pool *pool1, tt_pool *pool2) {
    tt_config c;
    if (tt_config_load(&c, path) != TT_OK) {
        CHECK(0, "%s: %s", path, tt_last_error());
        return;
    }
    const uint32_t feats = tt_cpu_features();
    tt_model_opts o;
    tt_model_opts_default(&o);
    o.seed = 7;
    o.batch = 4; /* prompt of 7 = chunks of 4 + 3: a batch that is not a multiple of the chunk */
    o.seq = 32;
    o.kv_f32 = 1;
    const tt_variant *rv = tt_variant_generic(TT_OP_GEMV, TT_FMT_I2S), *rm = tt_variant_generic(TT_OP_GEMM, TT_FMT_I2S);
    CHECK(rv && rm, "no generic i2s variants");
    if (!rv || !rm) return;
    o.gemv_name = rv->name;
    o.gemm_name = rm->name;
    run_out ref;
    tt_status st = run_decode(&c, &o, NULL, pool2, GEN, 0, &ref);
    CHECK(st == TT_OK, "%s: reference decode: %s", c.name, tt_last_error());
    if (st != TT_OK) return;
    CHECK(finite_all(ref.logits, (size_t)(GEN + 1) * c.vocab), "%s: reference logits not finite", c.name);

    /* independent implementation */
    double *il = malloc(sizeof(double) * (size_t)(GEN + 1) * c.vocab);
    independent_logits(&c, o.seed, ref.tokens, NPROMPT, GEN, 0, il);
    double sc;
    const double dm = diff_vs_double(il, ref.logits, (size_t)(GEN + 1) * c.vocab, &sc);
    CHECK(dm <= TOL_INDEP * sc, "%s: decoder vs independent float model: logits differ by %.3g (max %.3g, allowed %.3g)",
          c.name, dm, sc, TOL_INDEP * sc);
    if (getenv("TT_TEST_VERBOSE")) fprintf(stderr, "%s: independent max diff %.3g of %.3g\n", c.name, dm, sc);
    free(il);

    /* stepwise (GEMV only) vs batched prefill (GEMM), and 1 vs 2 threads */
    run_out r;
    if (run_decode(&c, &o, NULL, pool2, GEN, 1, &r) == TT_OK) {
        compare_runs("token-by-token prompt vs batched prefill", &c, &ref, &r, 1e-5);
        run_free(&r);
    } else {
        CHECK(0, "%s: stepwise decode: %s", c.name, tt_last_error());
    }
    if (run_decode(&c, &o, NULL, pool1, GEN, 0, &r) == TT_OK) {
        compare_runs("1 thread vs 2 threads", &c, &ref, &r, 0.0);
        run_free(&r);
    } else {
        CHECK(0, "%s: 1-thread decode: %s", c.name, tt_last_error());
    }

    /* every variant set of every ternary format built in: bit-identical
     * (exact int32 dot products, one float epilogue in the seam) */
    int nsets = 0;
    for (tt_wformat fmt = 0; fmt < TT_FMT_COUNT; fmt++) {
        if (!tt_wformat_is_ternary(fmt) || tt_wformat_available(fmt) != TT_OK) continue;
        for (int i = 0; i < tt_n_variants; i++) {
            const tt_variant *v = &tt_variants[i];
            if (v->wfmt != fmt || !tt_variant_runnable(v, feats)) continue;
            const tt_variant *pair = NULL;
            for (int j = 0; j < tt_n_variants && !pair; j++) {
                const tt_variant *u = &tt_variants[j];
                if (u->op != v->op && u->wfmt == v->wfmt && !strcmp(u->layout, v->layout) && tt_variant_runnable(u, feats))
                    pair = u;
            }
            CHECK(pair != NULL, "%s: no %s variant shares layout %s with %s", c.name,
                  v->op == TT_OP_GEMV ? "GEMM" : "GEMV", v->layout, v->name);
            if (!pair) continue;
            tt_model_opts ov = o;
            ov.format = fmt;
            ov.gemv_name = v->op == TT_OP_GEMV ? v->name : pair->name;
            ov.gemm_name = v->op == TT_OP_GEMM ? v->name : pair->name;
            char what[300];
            snprintf(what, sizeof what, "%s + %s", ov.gemv_name, ov.gemm_name);
            if (run_decode(&c, &ov, NULL, pool2, GEN, 0, &r) != TT_OK) {
                CHECK(0, "%s: %s: %s", c.name, what, tt_last_error());
                continue;
            }
            compare_runs(what, &c, &ref, &r, 0.0);
            CHECK(!all_shapes || (!r.mixed && !strcmp(r.gemv, ov.gemv_name) && !strcmp(r.gemm, ov.gemm_name)),
                  "%s: %s: the decoder used %s + %s%s", c.name, what, r.gemv, r.gemm, r.mixed ? " (mixed)" : "");
            nsets++;
            run_free(&r);
        }
    }

    CHECK(nsets > 0, "%s: no variant set ran", c.name);
    if (getenv("TT_TEST_VERBOSE")) fprintf(stderr, "%s: %d variant sets agree with the reference\n", c.name, nsets);

    /* KV cache in fp16: same model, logits close (no exactness claim) */
    tt_model_opts oh = o;
    oh.kv_f32 = 0;
    oh.gemv_name = oh.gemm_name = NULL;
    if (run_decode(&c, &oh, NULL, pool2, GEN, 0, &r) == TT_OK) {
        const size_t n = (size_t)(GEN + 1) * c.vocab;
        CHECK(finite_all(r.logits, n), "%s: fp16 KV logits not finite", c.name);
        /* against the independent model with K/V rounded to fp16 the same way */
        double *il16 = malloc(sizeof(double) * n), s0;
        independent_logits(&c, o.seed, r.tokens, NPROMPT, GEN, 1, il16);
        const double d0 = diff_vs_double(il16, r.logits, n, &s0);
        CHECK(d0 <= TOL_INDEP * s0, "%s: fp16 KV cache vs independent model: logits differ by %.3g of %.3g", c.name, d0, s0);
        if (getenv("TT_TEST_VERBOSE")) fprintf(stderr, "%s: fp16 KV vs independent %.3g of %.3g\n", c.name, d0, s0);
        free(il16);
        run_free(&r);
    }

    /* baselines: fp16 vs fp32 on the same prompt and continuation */
    tt_model_opts ob = o;
    ob.gemv_name = ob.gemm_name = NULL;
    ob.format = TT_FMT_FP16;
    run_out r16, r32;
    st = run_decode(&c, &ob, NULL, pool2, GEN, 0, &r16);
    CHECK(st == TT_OK, "%s: fp16 baseline: %s", c.name, tt_last_error());
    if (st == TT_OK) {
        CHECK(finite_all(r16.logits, (size_t)(GEN + 1) * c.vocab), "%s: fp16 logits not finite", c.name);
        ob.format = TT_FMT_FP32;
        if (tt_wformat_available(TT_FMT_FP32) == TT_OK) {
            st = run_decode(&c, &ob, NULL, pool2, GEN, 0, &r32);
            CHECK(st == TT_OK, "%s: fp32 baseline: %s", c.name, tt_last_error());
            if (st == TT_OK) {
                compare_runs("fp16 vs fp32 baseline", &c, &r32, &r16, TOL_BASE);
                run_free(&r32);
            }
        }
        /* the ternary model computes nearly the same function (activations quantized) */
        const double d0 = max_diff(ref.logits, r16.logits, (size_t)c.vocab), s0 = max_abs(ref.logits, (size_t)c.vocab);
        CHECK(d0 <= 0.25 * s0, "%s: ternary vs fp16 baseline after the prompt: differ by %.3g of %.3g", c.name, d0, s0);
        if (getenv("TT_TEST_VERBOSE")) fprintf(stderr, "%s: ternary vs fp16 diff %.3g of %.3g\n", c.name, d0, s0);
        run_free(&r16);
    }

    /* int8 LM head: close to the fp16 one */
    tt_model_opts oi = o;
    oi.lm_head_i8 = 1;
    if (run_decode(&c, &oi, NULL, pool2, 0, 0, &r) == TT_OK) {
        const double d0 = max_diff(ref.logits, r.logits, (size_t)c.vocab), s0 = max_abs(ref.logits, (size_t)c.vocab);
        CHECK(d0 <= 0.02 * s0, "%s: int8 LM head differs by %.3g of %.3g", c.name, d0, s0);
        run_free(&r);
    } else {
        CHECK(0, "%s: int8 LM head: %s", c.name, tt_last_error());
    }
    run_free(&ref);
}

/* ---- 5. weight file and memory check -------------------------------------------------------------------------- */
static int copy_file(const char *src, const char *dst, long keep, long flip_at, uint32_t version) {
    FILE *a = fopen(src, "rb"), *b = fopen(dst, "wb");
    if (!a || !b) {
        if (a) fclose(a);
        if (b) fclose(b);
        return -1;
    }
    long i = 0;
    for (int ch; (ch = fgetc(a)) != EOF && (keep < 0 || i < keep); i++) {
        if (i == flip_at) ch ^= 0x10;
        if (version && i >= 8 && i < 12) ch = (int)((version >> (8 * (i - 8))) & 0xFF);
        fputc(ch, b);
    }
    fclose(a);
    fclose(b);
    return 0;
}

static void expect_open_error(const char *path, tt_status want, const char *needle) {
    tt_weightfile *wf = NULL;
    tt_status st = tt_weightfile_open(&wf, path, NULL);
    CHECK(st == want, "%s: expected %s, got %s (%s)", path, tt_status_str(want), tt_status_str(st), tt_last_error());
    CHECK(strstr(tt_last_error(), needle) != NULL, "%s: message '%s' lacks '%s'", path, tt_last_error(), needle);
    CHECK(wf == NULL, "%s: handle returned on error", path);
    if (wf) tt_weightfile_close(wf);
}

static void test_weightfile(tt_pool *pool) {
    tt_config c;
    if (tt_config_load(&c, "models/dummy/tiny.json") != TT_OK) return;
    char dir[] = "/tmp/tt_model_testXXXXXX";
    if (!mkdtemp(dir)) {
        CHECK(0, "mkdtemp failed");
        return;
    }
    char path[128], bad[128];
    snprintf(path, sizeof path, "%s/tiny.ttw", dir);
    snprintf(bad, sizeof bad, "%s/bad.ttw", dir);
    tt_status st;
    /* TL round trips: a file in each TL format decodes like the generated model of that format */
    for (tt_wformat f = TT_FMT_TL1; f <= TT_FMT_TL2; f++) {
        if (tt_wformat_available(f) != TT_OK) continue;
        st = tt_weightfile_write(path, &c, f, 11, pool, NULL, NULL);
        CHECK(st == TT_OK, "write %s: %s", tt_wformat_name(f), tt_last_error());
        tt_weightfile *wt = NULL;
        if (st != TT_OK || tt_weightfile_open(&wt, path, pool) != TT_OK) {
            CHECK(0, "open %s file: %s", tt_wformat_name(f), tt_last_error());
            continue;
        }
        tt_model_opts o;
        tt_model_opts_default(&o);
        o.format = f;
        o.seed = 11;
        o.batch = 4;
        o.seq = 32;
        run_out a, b;
        if (run_decode(&c, &o, NULL, pool, 4, 0, &a) == TT_OK && run_decode(&c, &o, wt, pool, 4, 0, &b) == TT_OK) {
            compare_runs(tt_wformat_name(f), &c, &a, &b, 0.0);
            run_free(&b);
        } else {
            CHECK(0, "%s from file: %s", tt_wformat_name(f), tt_last_error());
        }
        run_free(&a);
        tt_weightfile_close(wt);
    }
    st = tt_weightfile_write(path, &c, TT_FMT_I2S, 11, pool, NULL, NULL);
    CHECK(st == TT_OK, "write: %s", tt_last_error());
    tt_weightfile *wf = NULL;
    st = tt_weightfile_open(&wf, path, pool);
    CHECK(st == TT_OK, "open: %s", tt_last_error());
    if (st == TT_OK) {
        CHECK(tt_weightfile_seed(wf) == 11 && tt_weightfile_format(wf) == TT_FMT_I2S, "header fields");
        tt_model_opts o;
        tt_model_opts_default(&o);
        o.seed = 11;
        o.batch = 4;
        o.seq = 32;
        run_out a, b;
        if (run_decode(&c, &o, NULL, pool, 4, 0, &a) == TT_OK) {
            if (run_decode(&c, &o, wf, pool, 4, 0, &b) == TT_OK) {
                compare_runs("weight file vs generated", &c, &a, &b, 0.0);
                run_free(&b);
            } else {
                CHECK(0, "model from file: %s", tt_last_error());
            }
            o.format = TT_FMT_FP16; /* a baseline built from the file's ternary weights */
            run_out f1, f2;
            if (run_decode(&c, &o, NULL, pool, 4, 0, &f1) == TT_OK && run_decode(&c, &o, wf, pool, 4, 0, &f2) == TT_OK) {
                compare_runs("fp16 from weight file vs generated", &c, &f1, &f2, 0.0);
                run_free(&f2);
            } else {
                CHECK(0, "fp16 from file: %s", tt_last_error());
            }
            run_free(&f1);
            run_free(&a);
        }
        tt_config c2 = c;
        c2.ffn = 256;
        tt_model m;
        o.format = TT_FMT_I2S;
        st = tt_model_init(&m, &c2, &o, wf, NULL);
        CHECK(st == TT_E_CONFIG && strstr(tt_last_error(), "shapes differ"), "config mismatch: %s", tt_last_error());
        if (st == TT_OK) tt_model_free(&m);
        tt_weightfile_close(wf);
    }
    FILE *f = fopen(path, "rb");
    long size = 0;
    if (f) {
        fseek(f, 0, SEEK_END);
        size = ftell(f);
        fclose(f);
    }
    copy_file(path, bad, size - 100, -1, 0);
    expect_open_error(bad, TT_E_FORMAT, "truncated");
    copy_file(path, bad, 20, -1, 0);
    expect_open_error(bad, TT_E_FORMAT, "truncated");
    copy_file(path, bad, -1, size / 2, 0);
    expect_open_error(bad, TT_E_FORMAT, "checksum mismatch");
    copy_file(path, bad, -1, 100, 0); /* inside the config JSON: caught by the checksum too */
    expect_open_error(bad, TT_E_FORMAT, "checksum mismatch");
    copy_file(path, bad, -1, -1, 99);
    expect_open_error(bad, TT_E_FORMAT, "version 99");
    copy_file(path, bad, -1, 0, 0);
    expect_open_error(bad, TT_E_FORMAT, "bad magic");
    expect_open_error("/nonexistent/x.ttw", TT_E_IO, "cannot open");
    unlink(bad);
    unlink(path);
    rmdir(dir);
}

static void test_memory(void) {
    tt_config c;
    if (tt_config_load(&c, "models/dummy/dummy-100b.json") != TT_OK) return;
    tt_model_opts o;
    tt_model_opts_default(&o);
    tt_model_mem mem;
    CHECK(tt_model_memory(&c, &o, &mem) == TT_OK, "memory plan: %s", tt_last_error());
    /* 2 bpw on ~99.9e9 ternary weights = 25.0 GB */
    CHECK(mem.ternary > 24.5e9 && mem.ternary < 26e9, "dummy-100b i2s weights %.3g bytes", mem.ternary);
    const long long avail = 24LL << 30;
    tt_status st = tt_model_check_memory(&c, &o, avail);
    CHECK(st == TT_E_NOMEM, "dummy-100b i2s in 24 GiB should not fit");
    CHECK(strstr(tt_last_error(), "needs") && strstr(tt_last_error(), "MemAvailable is 24.00 GiB"), "message: %s",
          tt_last_error());
    CHECK(tt_model_check_memory(&c, &o, 1LL << 40) == TT_OK, "1 TiB should fit: %s", tt_last_error());
    if (tt_config_load(&c, "models/dummy/tiny.json") != TT_OK) return;
    st = tt_model_check_memory(&c, &o, 4096);
    CHECK(st == TT_E_NOMEM && strstr(tt_last_error(), "no available format fits"), "tiny in 4 KiB: %s", tt_last_error());
    o.format = TT_FMT_FP16;
    CHECK(tt_model_check_memory(&c, &o, 1LL << 30) == TT_OK, "tiny fp16 in 1 GiB: %s", tt_last_error());
}

int main(void) {
    test_json();
    test_half();
    test_generator();
    test_configs();
    tt_pool *p1 = tt_pool_create(1, 0), *p2 = tt_pool_create(2, 0);
    test_fmat(p2);
    test_decode("models/dummy/tiny.json", 0, p1, p2);
    test_decode("models/dummy/tiny-silu.json", 1, p1, p2);
    test_weightfile(p2);
    test_memory();
    tt_pool_destroy(p1);
    tt_pool_destroy(p2);
    if (failures) fprintf(stderr, "test_model: %d failure(s)\n", failures);
    return failures;
}
