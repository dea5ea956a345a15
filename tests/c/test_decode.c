/* tritune: decoder tests (quiet unless failing).
 *  1. The tiny models decode the same greedy tokens, with bit-identical
 *     logits, under every runnable ternary variant set (each GEMV variant
 *     paired with a GEMM variant of its layout, and each GEMM variant paired
 *     with a GEMV variant of its layout) as under the portable-C reference
 *     kernels; the same for every ternary format built in.
 *  2. The ternary logits match an independent float implementation of the
 *     same quantized model written here (TOL_INDEP); batched prefill matches
 *     token-by-token decoding; results do not depend on the thread count.
 *  3. The fp16 and fp32 baselines agree (TOL_BASE); the int8 LM head and
 *     the fp16 KV cache stay close.
 * TT_TEST_QUICK set: every 16th variant set only (the ThreadSanitizer step). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/cpu.h"
#include "decode_util.h"
#include "model/model.h"
#include "test_util.h"

static int quick; /* TT_TEST_QUICK: a sample of the variant sets (the ThreadSanitizer step) */

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

/* ---- an independent float implementation of the quantized model ---------------------------- */
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

/* y = W quant(x) * s_w / s_a  (activation quantization per docs/background.md §1) */
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

/* ---- decoding ------------------------------------------------------------------------------------------- */
#define GEN 8

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
    int nsets = 0, seen = 0;
    for (tt_wformat fmt = 0; fmt < TT_FMT_COUNT; fmt++) {
        if (!tt_wformat_is_ternary(fmt) || tt_wformat_available(fmt) != TT_OK) continue;
        for (int i = 0; i < tt_n_variants; i++) {
            const tt_variant *v = &tt_variants[i];
            if (v->wfmt != fmt || !tt_variant_runnable(v, feats)) continue;
            if (quick && seen++ % 16) continue; /* the ThreadSanitizer step: a sample of the sets */
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

    /* quantized LM heads (and tied embeddings): close to the fp16 one.  The
     * tiny models' hidden size of 64 makes int8 activations coarse: the
     * bounds are 4% (int8) and 25% (4-bit; observed 15% and 8%) of the largest logit. */
    const int qkinds[2] = {TT_FM_I8, TT_FM_Q4};
    const double qtol[2] = {0.04, 0.25};
    for (int qi = 0; qi < 2; qi++) {
        tt_model_opts oi = o;
        oi.lm_head_quant = qkinds[qi];
        if (run_decode(&c, &oi, NULL, pool2, 0, 0, &r) == TT_OK) {
            const double d0 = max_diff(ref.logits, r.logits, (size_t)c.vocab), s0 = max_abs(ref.logits, (size_t)c.vocab);
            CHECK(d0 <= qtol[qi] * s0, "%s: %s LM head differs by %.3g of %.3g", c.name, qi ? "q4" : "i8", d0, s0);
            if (getenv("TT_TEST_VERBOSE"))
                fprintf(stderr, "%s: %s head diff %.3g of %.3g\n", c.name, qi ? "q4" : "i8", d0, s0);
            run_free(&r);
        } else {
            CHECK(0, "%s: %s LM head: %s", c.name, qi ? "q4" : "i8", tt_last_error());
        }
    }
    run_free(&ref);
}

int main(void) {
    quick = getenv("TT_TEST_QUICK") != NULL;
    tt_pool *p1 = tt_pool_create(1, 0), *p2 = tt_pool_create(2, 0);
    test_decode("models/dummy/tiny.json", 0, p1, p2);
    test_decode("models/dummy/tiny-silu.json", 1, p1, p2);
    tt_pool_destroy(p1);
    tt_pool_destroy(p2);
    TEST_DONE("test_decode");
}
