/* tritune: the prompt pass's float kernels (quiet unless failing).
 *   - the token pass's attention (fkern attn_token) likewise, over head
 *     ranges and GQA groups;
 *   - blocked causal attention (fkern attn_rows) against a double-precision
 *     reference: head sizes 16..128, query rows at positions on both sides
 *     of every 64-key block, GQA-style row sets, more rows than a chunk;
 *   - the element-wise operations of the kernel table (rmsnorm, add, glu,
 *     RoPE) against the portable formulas;
 *   - the BitLinear epilogue's AVX-512 row, bit for bit.
 * On a CPU without AVX-512 the table holds the portable versions and the
 * attention kernel is absent: those checks then test the portable code. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/cpu.h"
#include "core/rng.h"
#include "model/fkern.h"
#include "model/fmat.h"
#include "seam/run.h"
#include "test_util.h"

/* worst = max(worst, d), NaN sticks (no fmax reductions: gcc 12 for
 * aarch64 crashes vectorizing one) */
static inline void track(double *worst, double d) {
    if (isnan(d) || isnan(*worst)) *worst = NAN;
    else if (d > *worst) *worst = d;
}

static float urand(uint64_t *s) { return (float)((double)(tt_splitmix64(s) >> 11) * 0x1p-53 * 2.0 - 1.0); }

static void test_attention(void) {
    const tt_fkern_table *fk = tt_fkern();
    if (!fk->attn_rows || !fk->attn_convert) return;
    static const int hds[] = {16, 64, 128};
    static const int nqs[] = {1, 3, 32, 45};
    uint64_t rng = 7;
    for (size_t hi = 0; hi < sizeof hds / sizeof *hds; hi++)
        for (size_t qi = 0; qi < sizeof nqs / sizeof *nqs; qi++) {
            const int hd = hds[hi], nq = nqs[qi], len = 200, ld = hd * 3; /* cache rows of 3 KV heads; 200 = 3 blocks + 8 */
            uint16_t *kc = malloc(sizeof(uint16_t) * (size_t)len * ld), *vc = malloc(sizeof(uint16_t) * (size_t)len * ld);
            float *q = malloc(sizeof(float) * (size_t)nq * hd), *o = malloc(sizeof(float) * (size_t)nq * hd);
            float *scratch = malloc(sizeof(float) * tt_attn_scratch_floats(hd));
            const float **qrow = malloc(sizeof *qrow * (size_t)nq);
            float **orow = malloc(sizeof *orow * (size_t)nq);
            int *qpos = malloc(sizeof(int) * (size_t)nq);
            for (size_t i = 0; i < (size_t)len * ld; i++) kc[i] = tt_f32_to_f16(urand(&rng) * 2), vc[i] = tt_f32_to_f16(urand(&rng));
            for (int i = 0; i < nq * hd; i++) q[i] = urand(&rng) * 2;
            for (int i = 0; i < nq; i++) {
                qrow[i] = q + (size_t)i * hd, orow[i] = o + (size_t)i * hd;
                qpos[i] = (int)((i * 37 + 5) % len); /* 0 .. 199: inside, at and past the 64-key blocks */
            }
            qpos[0] = 0;
            if (nq > 2) qpos[1] = 63, qpos[2] = 64;
            const int g = 1; /* the middle KV head: row offset g * hd */
            const float scale = 1.0f / sqrtf((float)hd);
            /* convert in two ranges (as two threads would), then attend */
            const int keys = tt_attn_keys(len);
            float *kt = malloc(sizeof(float) * (size_t)hd * keys), *vf = malloc(sizeof(float) * (size_t)keys * hd);
            for (size_t i = 0; i < (size_t)hd * keys; i++) kt[i] = vf[i] = NAN; /* every slot must be written */
            fk->attn_convert(kc + g * hd, vc + g * hd, (size_t)ld, hd, 0, TT_ATTN_KBLK, TT_ATTN_KBLK, kt, (size_t)keys, vf);
            fk->attn_convert(kc + g * hd, vc + g * hd, (size_t)ld, hd, TT_ATTN_KBLK, len, keys, kt, (size_t)keys, vf);
            fk->attn_rows(qrow, qpos, nq, kt, (size_t)keys, vf, hd, scale, orow, scratch);
            free(kt), free(vf);
            double worst = 0;
            for (int i = 0; i < nq; i++) {
                double *sc = malloc(sizeof(double) * (size_t)(qpos[i] + 1)), mx = -INFINITY, sum = 0;
                for (int p = 0; p <= qpos[i]; p++) {
                    double d = 0;
                    for (int e = 0; e < hd; e++) d += (double)q[i * hd + e] * tt_f16_to_f32(kc[(size_t)p * ld + g * hd + e]);
                    sc[p] = d * scale;
                    if (sc[p] > mx) mx = sc[p];
                }
                for (int p = 0; p <= qpos[i]; p++) sum += (sc[p] = exp(sc[p] - mx));
                for (int e = 0; e < hd; e++) {
                    double r = 0;
                    for (int p = 0; p <= qpos[i]; p++) r += sc[p] / sum * tt_f16_to_f32(vc[(size_t)p * ld + g * hd + e]);
                    const double err = fabs(r - o[i * hd + e]);
                    track(&worst, err);
                }
                free(sc);
            }
            CHECK(!isnan(worst) && worst < 2e-5, "attention hd %d rows %d: max |error| %.3g (tolerance 2e-5: float sums over %d keys)", hd, nq,
                  worst, len);
            free(kc), free(vc), free(q), free(o), free(scratch), free(qrow), free(orow), free(qpos);
        }
}

/* The token pass's attention (fkern attn_token) against a double-precision
 * reference: head sizes with and without a partial last vector, MHA and
 * GQA groups, a thread's middle range of heads, one key to several blocks. */
static void test_attention_token(void) {
    const tt_fkern_table *fk = tt_fkern();
    if (!fk->attn_token) return;
    static const int hds[] = {16, 48, 100, 120, 128, 256};
    static const int lens[] = {1, 15, 16, 17, 33, 200};
    static const int groups[] = {1, 4};
    uint64_t rng = 19;
    for (size_t hi = 0; hi < sizeof hds / sizeof *hds; hi++)
        for (size_t li = 0; li < sizeof lens / sizeof *lens; li++)
            for (size_t gi = 0; gi < sizeof groups / sizeof *groups; gi++) {
                const int hd = hds[hi], len = lens[li], group = groups[gi], kvh = 3, heads = kvh * group;
                const size_t ld = (size_t)kvh * hd + 8; /* rows wider than their heads */
                const int h0 = group, h1 = 2 * group;                                        /* the middle KV head's group */
                uint16_t *kc = malloc(sizeof(uint16_t) * len * ld), *vc = malloc(sizeof(uint16_t) * len * ld);
                float *q = malloc(sizeof(float) * (size_t)heads * hd), *o = malloc(sizeof(float) * (size_t)heads * hd);
                float *sc = malloc(sizeof(float) * (size_t)(h1 - h0) * TT_ATTN_TOKEN_BLK);
                for (size_t i = 0; i < len * ld; i++) kc[i] = tt_f32_to_f16(urand(&rng) * 2), vc[i] = tt_f32_to_f16(urand(&rng));
                for (int i = 0; i < heads * hd; i++) q[i] = urand(&rng) * 2, o[i] = NAN; /* heads outside h0..h1 stay NaN */
                const float scale = 1.0f / sqrtf((float)hd);
                fk->attn_token(q, kc, vc, ld, len, hd, group, h0, h1, scale, o, sc);
                double worst = 0;
                int outside = 0;
                for (int h = 0; h < heads; h++) {
                    if (h < h0 || h >= h1) {
                        for (int e = 0; e < hd; e++) outside += !isnan(o[h * hd + e]);
                        continue;
                    }
                    const size_t g = (size_t)(h / group) * hd;
                    double *s = malloc(sizeof(double) * len), mx = -INFINITY, sum = 0;
                    for (int p = 0; p < len; p++) {
                        double d = 0;
                        for (int e = 0; e < hd; e++) d += (double)q[h * hd + e] * tt_f16_to_f32(kc[p * ld + g + e]);
                        s[p] = d * scale;
                        if (s[p] > mx) mx = s[p];
                    }
                    for (int p = 0; p < len; p++) sum += (s[p] = exp(s[p] - mx));
                    for (int e = 0; e < hd; e++) {
                        double r = 0;
                        for (int p = 0; p < len; p++) r += s[p] / sum * tt_f16_to_f32(vc[p * ld + g + e]);
                        track(&worst, fabs(r - o[h * hd + e]));
                    }
                    free(s);
                }
                CHECK(!isnan(worst) && worst < 2e-5 && outside == 0,
                      "token attention hd %d len %d group %d: max |error| %.3g (tolerance 2e-5), %d values written outside heads %d..%d",
                      hd, len, group, worst, outside, h0, h1 - 1);
                free(kc), free(vc), free(q), free(o), free(sc);
            }
}

static void test_elementwise(void) {
    const tt_fkern_table *fk = tt_fkern();
    uint64_t rng = 11;
    { /* silu where exp under- and overflows, and around 0 */
        const float v[] = {-120, -100, -88.5f, -87, -30, -1e-3f, 0, 1e-3f, 0.5f, 30, 87, 88.5f, 100, 120, -5, 5, 7};
        enum { NV = sizeof v / sizeof *v };
        float g[NV], u[NV];
        for (int i = 0; i < NV; i++) g[i] = v[i], u[i] = 1;
        fk->glu(g, u, NV, 1);
        int bad = 0;
        for (int i = 0; i < NV; i++) {
            const double a = v[i] / (1.0 + exp(-(double)v[i]));
            bad += !(fabs(g[i] - a) <= 4e-6 * fabs(a) + 1e-37);
        }
        CHECK(bad == 0, "glu silu at extreme inputs: %d values off", bad);
    }
    for (int n = 1; n <= 70; n += 23) {
        float x[80], w[80], o[80], y[80], u[80], g[80], g2[80];
        for (int i = 0; i < n; i++) x[i] = urand(&rng) * 3, w[i] = 1 + urand(&rng) * 0.25f, y[i] = urand(&rng), u[i] = urand(&rng);
        /* rmsnorm */
        fk->rmsnorm(o, x, w, n, 1e-5f);
        double ss = 0;
        for (int i = 0; i < n; i++) ss += (double)x[i] * x[i];
        const double r = 1 / sqrt(ss / n + 1e-5);
        double worst = 0;
        for (int i = 0; i < n; i++) track(&worst, fabs(o[i] - x[i] * r * w[i]) / (fabs(x[i] * r * w[i]) + 1e-6));
        CHECK(!isnan(worst) && worst < 1e-5, "rmsnorm n %d: relative error %.3g", n, worst);
        /* add */
        memcpy(g, x, sizeof(float) * n);
        fk->add(g, y, (size_t)n);
        int bad = 0;
        for (int i = 0; i < n; i++) bad += g[i] != x[i] + y[i];
        CHECK(bad == 0, "add n %d: %d values differ", n, bad);
        /* glu: relu^2 exactly; silu (a vectorized exp) within 4e-6 relative of a double reference */
        for (int silu = 0; silu < 2; silu++) {
            memcpy(g, x, sizeof(float) * n);
            fk->glu(g, u, (size_t)n, silu);
            bad = 0;
            for (int i = 0; i < n; i++) {
                const double v = x[i], a = silu ? v / (1.0 + exp(-v)) : (v > 0 ? (double)(x[i] * x[i]) : 0.0);
                bad += silu ? fabs(g[i] - a * u[i]) > 4e-6 * fabs(a * u[i]) + 1e-30 : g[i] != (float)a * u[i];
            }
            CHECK(bad == 0, "glu (silu %d) n %d: %d values differ", silu, n, bad);
        }
        /* RoPE on 2 heads of n rounded to even */
        const int hd = n >= 2 ? n / 2 * 2 : 2;
        float cs[40], sn[40], v[160], v0[160];
        for (int i = 0; i < hd / 2; i++) cs[i] = cosf((float)i * 0.3f), sn[i] = sinf((float)i * 0.3f);
        for (int i = 0; i < 2 * hd; i++) v[i] = v0[i] = urand(&rng);
        fk->rope(v, 2, hd, cs, sn);
        worst = 0;
        for (int h = 0; h < 2; h++)
            for (int i = 0; i < hd / 2; i++) {
                const float a = v0[h * hd + i], b = v0[h * hd + i + hd / 2];
                track(&worst, fabs(v[h * hd + i] - (a * cs[i] - b * sn[i])));
                track(&worst, fabs(v[h * hd + i + hd / 2] - (a * sn[i] + b * cs[i])));
            }
        CHECK(!isnan(worst) && worst < 1e-6, "rope hd %d: max |error| %.3g", hd, worst);
        (void)g2;
    }
}

static void test_epilogue(void) {
#if defined(__x86_64__)
    if (!(tt_cpu_features() & TT_FEAT_AVX512F)) return;
    int32_t acc[40];
    float y[42], want;
    for (int n = 1; n <= 40; n += 13) {
        for (int i = 0; i < n; i++) acc[i] = (i * 2654435761u) % 200001 - 100000;
        y[n] = 12345.f;
        tt_epilogue_row_avx512(y, acc, n, 0.0371f);
        int bad = 0;
        for (int i = 0; i < n; i++) want = (float)acc[i] * 0.0371f, bad += memcmp(&want, &y[i], 4) != 0;
        CHECK(bad == 0 && y[n] == 12345.f, "epilogue n %d: %d values differ or the guard moved", n, bad);
    }
#endif
}

int main(void) {
    test_attention();
    test_attention_token();
    test_elementwise();
    test_epilogue();
    TEST_DONE("test_attn");
}
