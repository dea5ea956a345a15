/* tritune tests: decoding a model and comparing runs (test_decode.c,
 * test_weightfile.c).  static inline: each test uses what it needs. */
#ifndef TT_DECODE_UTIL_H
#define TT_DECODE_UTIL_H

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "model/model.h"
#include "test_util.h"

/* ---- running a model -------------------------------------------------------------------------------- */
typedef struct {
    int P, G;
    int *tokens;   /* P prompt + G generated */
    float *logits; /* (G + 1) x vocab: after the prompt and after each generated token */
    const char *gemv, *gemm;
    int mixed;
} run_out;

static inline void run_free(run_out *r) {
    free(r->tokens);
    free(r->logits);
    memset(r, 0, sizeof *r);
}

static const int prompt[] = {3, 17, 42, 5, 99, 1, 250};
#define NPROMPT ((int)(sizeof prompt / sizeof prompt[0]))

/* Decode P prompt tokens (batched, chunks of opts.batch) then G tokens greedily. */
static inline tt_status run_decode(const tt_config *c, const tt_model_opts *o, tt_weightfile *wf, tt_pool *pool, int G,
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
static inline double max_abs(const float *a, size_t n) {
    double m = 0;
    for (size_t i = 0; i < n; i++) {
        const double d = fabs(a[i]);
        if (isnan(d)) return INFINITY;
        if (d > m) m = d;
    }
    return m;
}
static inline double max_diff(const float *a, const float *b, size_t n) {
    double m = 0;
    for (size_t i = 0; i < n; i++) {
        const double d = fabs((double)a[i] - b[i]);
        if (isnan(d)) return INFINITY;
        if (d > m) m = d;
    }
    return m;
}
/* max |ref - a| (infinite if a holds a NaN); *scale = max |ref| */
static inline double diff_vs_double(const double *ref, const float *a, size_t n, double *scale) {
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
static inline int finite_all(const float *a, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (!isfinite(a[i])) return 0;
    return 1;
}


static inline void compare_runs(const char *what, const tt_config *c, const run_out *ref, const run_out *r, double tol) {
    CHECK(!memcmp(ref->tokens, r->tokens, sizeof(int) * (size_t)(ref->P + ref->G)), "%s: %s: greedy tokens differ",
          c->name, what);
    const size_t n = (size_t)(ref->G + 1) * c->vocab;
    const double dm = max_diff(ref->logits, r->logits, n), scale = max_abs(ref->logits, n);
    CHECK(dm <= tol * scale, "%s: %s: logits differ by %.3g (allowed %.3g)", c->name, what, dm, tol * scale);
}

#endif
