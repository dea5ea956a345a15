/* tritune: the dispatch seam (see dispatch.h). */
#include "seam/dispatch.h"

#include <stdio.h>
#include <string.h>

#include "core/cpu.h"

tt_status tt_wformat_available(tt_wformat f) {
    const tt_wformat_traits *t = tt_wformat_traits_of(f);
    if (!t) return tt_set_error(TT_E_ARG, "unknown weight format %d", (int)f);
    if (t->ternary) {
        if (!tt_variant_generic(TT_OP_GEMV, f) || !tt_variant_generic(TT_OP_GEMM, f))
            return tt_set_error(TT_E_UNSUPPORTED, "format %s has no generic GEMV/GEMM kernel in the variant table",
                                t->name);
        return TT_OK;
    }
#ifndef TT_HAVE_OPENBLAS
    if (f == TT_FMT_FP32)
        return tt_set_error(TT_E_UNSUPPORTED,
                            "format fp32 needs OpenBLAS, which this build did not find (install libopenblas-dev and "
                            "pkg-config, then re-run cmake)");
#endif
    return TT_OK;
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
        bytes = tt_layout_bytes(gv, W->M, W->K);
        w = tt_alloc(bytes, 64, 1);
        if (!w) return TT_E_NOMEM;
        if ((st = tt_layout_pack(gv, W->data, W->M, W->K, w)) != TT_OK) {
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
    size_t want = tt_layout_bytes(gemv, M, K);
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
    int32_t *acc = tt_workspace_acc(ws, (size_t)N * (size_t)L->M);
    if (!acc) return tt_set_error(TT_E_NOMEM, "linear: cannot allocate %d x %d accumulators", N, L->M);
    tt_case c;
    tt_status st = tt_case_init(&c, N == 1 ? L->gemv : L->gemm, L->M, x, acc, L->M, ws);
    if (st != TT_OK) return st;
    tt_case_weights(&c, L->w);
    c.yf = y;
    c.ldyf = ldy;
    c.sw = L->scale;
    tt_case_run(&c, pool);
    return TT_OK;
}

/* The cases can share one dispatch: one token, and the same table builder
 * over tables of the same size (or none). */
static int one_dispatch(const tt_linear *const *L, int n, const tt_qact *x) {
    if (x->N != 1 || n < 2 || n > TT_LINEAR_MANY_MAX) return 0;
    for (int i = 0; i < n; i++) {
        const tt_variant *v = L[i]->gemv, *v0 = L[0]->gemv;
        if (L[i]->K != x->K || v->act_prep != v0->act_prep) return 0;
        if (v->act_prep && v->act_bytes(x->K) != v0->act_bytes(x->K)) return 0;
    }
    return 1;
}

tt_status tt_linear_forward_many(const tt_linear *const *L, int n, const tt_qact *x, float *const *y, const int *ldy,
                                 tt_pool *pool, tt_workspace *ws) {
    tt_status st;
    if (!one_dispatch(L, n, x)) {
        for (int i = 0; i < n; i++)
            if ((st = tt_linear_forward(L[i], x, y[i], ldy[i], pool, ws)) != TT_OK) return st;
        return TT_OK;
    }
    if (!ws) return tt_set_error(TT_E_ARG, "linear: workspace required");
    size_t rows = 0;
    for (int i = 0; i < n; i++) rows += (size_t)L[i]->M;
    int32_t *acc = tt_workspace_acc(ws, rows);
    if (!acc) return tt_set_error(TT_E_NOMEM, "linear: cannot allocate %zu accumulators", rows);
    tt_case c[TT_LINEAR_MANY_MAX];
    for (int i = 0; i < n; i++) { /* same table size: the workspace's table buffer is not reallocated */
        if ((st = tt_case_init(&c[i], L[i]->gemv, L[i]->M, x, acc, L[i]->M, ws)) != TT_OK) return st;
        tt_case_weights(&c[i], L[i]->w);
        c[i].yf = y[i];
        c[i].ldyf = ldy[i];
        c[i].sw = L[i]->scale;
        acc += L[i]->M;
    }
    tt_case_run_many(c, n, pool);
    return TT_OK;
}
