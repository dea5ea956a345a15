/* tritune: the dispatch seam (see dispatch.h). */
#include "seam/dispatch.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/cpu.h"

/* ---- running a kernel ------------------------------------------------------------ */
void tt_workspace_free(tt_workspace *ws) {
    tt_free(ws->act);
    tt_free(ws->acc);
    memset(ws, 0, sizeof *ws);
}

static void *grow(void *p, size_t *cap, size_t need) {
    if (need <= *cap) return p;
    tt_free(p);
    void *q = tt_alloc(need, 64, 0);
    *cap = q ? need : 0;
    return q;
}

typedef struct {
    const tt_variant *v;
    tt_kargs *a;
    const tt_qact *x;
    int split_tokens;
    /* optional fp32 epilogue */
    float *yf;
    int ldyf;
    float sw;
    tt_pool *pool;
} run_ctx;

static void run_task(void *c, int tid, int nth) {
    run_ctx *r = c;
    const tt_variant *v = r->v;
    tt_kargs *a = r->a;
    if (v->act_prep) {
        /* Tables are shared by all rows.  With at least as many tokens as
         * threads, each thread builds whole tokens; otherwise (decode, N = 1)
         * every thread builds its share of each token's K range. */
        if (a->N >= nth) {
            for (int n = tid; n < a->N; n += nth)
                v->act_prep(r->x->q + (size_t)n * a->Kp, a->K, a->Kp, (uint8_t *)a->act + (size_t)n * a->act_stride, 0, 1);
        } else {
            for (int n = 0; n < a->N; n++)
                v->act_prep(r->x->q + (size_t)n * a->Kp, a->K, a->Kp, (uint8_t *)a->act + (size_t)n * a->act_stride, tid,
                            nth);
        }
        if (nth > 1) tt_pool_barrier(r->pool); /* tables ready before any row uses them */
    }
    /* weight-parallel: rows split; GEMM with too few rows: tokens split */
    int m0 = 0, m1 = a->M, n0 = 0, n1 = a->N;
    if (r->split_tokens) tt_split_range(a->N, nth, tid, TT_MAX(1, v->tiles.ntok), &n0, &n1);
    else tt_split_range(a->M, nth, tid, TT_MAX(1, v->row_align), &m0, &m1);
    if (m0 >= m1 || n0 >= n1) return;
    v->fn(a, m0, m1, n0, n1);
    if (r->yf) /* fp32 epilogue on this thread's own block */
        for (int n = n0; n < n1; n++) {
            const float s = r->sw / r->x->scale[n];
            for (int m = m0; m < m1; m++) r->yf[(size_t)n * r->ldyf + m] = (float)a->y[(size_t)n * a->ldy + m] * s;
        }
}

static tt_status run(const tt_variant *v, tt_kargs *a, const tt_qact *x, tt_pool *pool, tt_workspace *ws, float *yf,
                     int ldyf, float sw) {
    if (v->act_prep) {
        if (!ws) return tt_set_error(TT_E_ARG, "variant %s needs a workspace for its activation tables", v->name);
        size_t stride = TT_ROUND_UP(v->act_bytes(a->K), 64);
        ws->act = grow(ws->act, &ws->act_cap, stride * (size_t)a->N);
        if (!ws->act) return tt_set_error(TT_E_NOMEM, "cannot allocate activation tables");
        a->act = ws->act;
        a->act_stride = stride;
    }
    const int nth = tt_pool_threads(pool);
    /* GEMM: split tokens when rows are too few to give every thread work */
    int row_units = TT_CEIL_DIV(a->M, TT_MAX(1, v->row_align));
    run_ctx c = {v, a, x, a->N >= nth && row_units < 4 * nth, yf, ldyf, sw, pool};
    tt_pool_run(pool, run_task, &c);
    return TT_OK;
}

tt_status tt_run_kernel(const tt_variant *v, tt_kargs *a, const tt_qact *x, tt_pool *pool, tt_workspace *ws) {
    char why[256];
    if (tt_variant_check(v, a->M, a->K, a->N, why, sizeof why) != TT_OK) return tt_set_error(TT_E_SHAPE, "%s", why);
    if (!tt_variant_runnable(v, tt_cpu_features()))
        return tt_set_error(TT_E_CPU, "variant %s needs CPU features this machine lacks", v->name);
    return run(v, a, x, pool, ws, NULL, 0, 0.f);
}

/* ---- BitLinear ------------------------------------------------------------------------ */
static tt_status find_named(const char *name, tt_op op, tt_wformat fmt, const tt_variant **out) {
    const tt_variant *v = tt_variant_find(name);
    if (!v) return tt_set_error(TT_E_UNKNOWN_VARIANT, "no variant named '%s' (see 'tritune list')", name);
    if (v->op != op || v->wfmt != fmt)
        return tt_set_error(TT_E_ARG, "variant %s is a %s %s kernel, a %s %s one is needed", name, tt_op_name(v->op),
                            tt_wformat_name(v->wfmt), tt_op_name(op), tt_wformat_name(fmt));
    if (!tt_variant_runnable(v, tt_cpu_features()))
        return tt_set_error(TT_E_CPU, "variant %s needs CPU features this machine lacks (ISA %s)", name, v->isa);
    *out = v;
    return TT_OK;
}

/* v if it can run here, in `layout` (NULL = any), on this shape; else NULL */
static const tt_variant *usable(const tt_variant *v, tt_op op, tt_wformat fmt, const char *layout, int M, int K, int N,
                                uint32_t feats) {
    if (!v || v->op != op || v->wfmt != fmt || !tt_variant_runnable(v, feats)) return NULL;
    if (layout && strcmp(v->layout, layout) != 0) return NULL;
    return tt_variant_check(v, M, K, N, NULL, 0) == TT_OK ? v : NULL;
}

tt_status tt_linear_choose(tt_wformat fmt, int M, int K, const char *gemv_name, const char *gemm_name,
                           const tt_tuning *tuning, int threads, int batch, int strict, const tt_variant **gemv,
                           const tt_variant **gemm) {
    const uint32_t feats = tt_cpu_features();
    const int nb = batch > 1 ? batch : 2;
    const tt_variant *v = NULL, *g = NULL, *n;
    char why[256];
    tt_status st;
    if (gemv_name) {
        if ((st = find_named(gemv_name, TT_OP_GEMV, fmt, &n)) != TT_OK) return st;
        if (!(v = usable(n, TT_OP_GEMV, fmt, NULL, M, K, 1, feats)) && strict) {
            tt_variant_check(n, M, K, 1, why, sizeof why);
            return tt_set_error(TT_E_SHAPE, "%s", why);
        }
    }
    if (!v) v = usable(tt_tuning_lookup(tuning, TT_OP_GEMV, fmt, M, K, 1, threads), TT_OP_GEMV, fmt, NULL, M, K, 1, feats);
    if (!v) v = tt_variant_default(TT_OP_GEMV, fmt, NULL, M, K, 1, feats);
    if (!v) v = tt_variant_generic(TT_OP_GEMV, fmt);
    if (!v) return tt_set_error(TT_E_UNSUPPORTED, "no GEMV variant for format %s", tt_wformat_name(fmt));
    if (gemm_name) {
        if ((st = find_named(gemm_name, TT_OP_GEMM, fmt, &n)) != TT_OK) return st;
        if (strict && strcmp(n->layout, v->layout) != 0)
            return tt_set_error(TT_E_ARG, "GEMM variant %s uses layout %s but GEMV variant %s uses %s: a tensor has one layout",
                                n->name, n->layout, v->name, v->layout);
        if (!(g = usable(n, TT_OP_GEMM, fmt, v->layout, M, K, nb, feats)) && strict) {
            tt_variant_check(n, M, K, nb, why, sizeof why);
            return tt_set_error(TT_E_SHAPE, "%s", why);
        }
    }
    if (!g)
        g = usable(tt_tuning_lookup(tuning, TT_OP_GEMM, fmt, M, K, nb, threads), TT_OP_GEMM, fmt, v->layout, M, K, nb,
                   feats);
    if (!g) g = tt_variant_default(TT_OP_GEMM, fmt, v->layout, M, K, nb, feats);
    if (!g) { /* no GEMM reads this layout: fall back to the canonical pair */
        v = tt_variant_default(TT_OP_GEMV, fmt, tt_wformat_name(fmt), M, K, 1, feats);
        if (!v) v = tt_variant_generic(TT_OP_GEMV, fmt);
        g = tt_variant_default(TT_OP_GEMM, fmt, v ? v->layout : NULL, M, K, nb, feats);
        if (!g) g = tt_variant_generic(TT_OP_GEMM, fmt);
        if (!v || !g || strcmp(v->layout, g->layout) != 0)
            return tt_set_error(TT_E_UNSUPPORTED, "no GEMV/GEMM pair sharing a layout for %s %dx%d", tt_wformat_name(fmt),
                                M, K);
    }
    *gemv = v;
    *gemm = g;
    return TT_OK;
}

tt_status tt_linear_prepare(tt_linear *L, const tt_tensor *W, const char *gemv_name, const char *gemm_name,
                            const tt_tuning *tuning, int threads) {
    memset(L, 0, sizeof *L);
    const tt_variant *gv, *mv;
    tt_status st = tt_linear_choose(W->fmt, W->M, W->K, gemv_name, gemm_name, tuning, threads, 32, 1, &gv, &mv);
    if (st != TT_OK) return st;
    uint8_t *w = W->data;
    size_t bytes = W->bytes;
    int owns = 0;
    if (gv->repack) {
        bytes = gv->repack_bytes(W->M, W->K);
        w = tt_alloc(bytes, 64, 1);
        if (!w) return TT_E_NOMEM;
        if ((st = gv->repack(W->data, W->M, W->K, w)) != TT_OK) {
            tt_free(w);
            return st;
        }
        owns = 1;
    }
    return tt_linear_adopt(L, W->fmt, W->M, W->K, W->scale, gv->layout, w, bytes, owns, gv, mv);
}

tt_status tt_linear_adopt(tt_linear *L, tt_wformat fmt, int M, int K, float scale, const char *layout, uint8_t *w,
                          size_t bytes, int owns, const tt_variant *gemv, const tt_variant *gemm) {
    memset(L, 0, sizeof *L);
    if (!gemv || !gemm || gemv->op != TT_OP_GEMV || gemm->op != TT_OP_GEMM || gemv->wfmt != fmt || gemm->wfmt != fmt)
        return tt_set_error(TT_E_ARG, "linear: need a GEMV and a GEMM variant of format %s", tt_wformat_name(fmt));
    if (strcmp(gemv->layout, layout) || strcmp(gemm->layout, layout))
        return tt_set_error(TT_E_ARG, "linear: variants %s / %s do not use layout %s", gemv->name, gemm->name, layout);
    size_t want = gemv->repack_bytes ? gemv->repack_bytes(M, K) : tt_wformat_bytes(fmt, M, K);
    if (bytes != want)
        return tt_set_error(TT_E_FORMAT, "linear: %s %dx%d in layout %s needs %zu bytes, got %zu", tt_wformat_name(fmt), M,
                            K, layout, want, bytes);
    *L = (tt_linear){.fmt = fmt, .M = M, .K = K, .scale = scale, .layout = gemv->layout, .w = w, .w_bytes = bytes,
                     .owns_w = owns, .gemv = gemv, .gemm = gemm};
    return TT_OK;
}

void tt_linear_free(tt_linear *L) {
    if (L->owns_w) tt_free(L->w);
    memset(L, 0, sizeof *L);
}

tt_status tt_linear_forward(const tt_linear *L, const tt_qact *x, float *y, int ldy, tt_pool *pool, tt_workspace *ws) {
    if (x->K != L->K) return tt_set_error(TT_E_SHAPE, "linear %dx%d applied to activations with K = %d", L->M, L->K, x->K);
    if (!ws) return tt_set_error(TT_E_ARG, "linear: workspace required");
    const int N = x->N;
    const tt_variant *v = N == 1 ? L->gemv : L->gemm;
    ws->acc = grow(ws->acc, &ws->acc_cap, sizeof(int32_t) * (size_t)N * (size_t)L->M);
    if (!ws->acc) return tt_set_error(TT_E_NOMEM, "linear: cannot allocate %d x %d accumulators", N, L->M);
    tt_kargs a = {.w = L->w, .M = L->M, .K = L->K, .Kp = x->Kp, .x = x->q, .xsum = x->sum, .N = N, .y = ws->acc,
                  .ldy = L->M};
    return run(v, &a, x, pool, ws, y, ldy, L->scale);
}
