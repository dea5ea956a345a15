/* tritune: the case runner (see run.h). */
#include "seam/run.h"

#include <stdio.h>
#include <string.h>

#include "core/cpu.h"
#include "core/timing.h"

void tt_workspace_free(tt_workspace *ws) {
    tt_free(ws->act);
    tt_free(ws->acc);
    tt_case_times *times = ws->times; /* not owned */
    memset(ws, 0, sizeof *ws);
    ws->times = times;
}

/* p with room for need bytes (its contents are not kept), or NULL. */
static void *grow(void *p, size_t *cap, size_t need) {
    if (need <= *cap) return p;
    tt_free(p);
    void *q = tt_alloc(need, 64, 0);
    *cap = q ? need : 0;
    return q;
}

int32_t *tt_workspace_acc(tt_workspace *ws, size_t n) {
    ws->acc = grow(ws->acc, &ws->acc_cap, sizeof(int32_t) * n);
    return ws->acc;
}

size_t tt_layout_bytes(const tt_variant *v, int M, int K) {
    if (M <= 0 || K <= 0) return 0;
    return v->repack ? v->repack_bytes(M, K) : tt_wformat_bytes(v->wfmt, M, K);
}

tt_status tt_layout_pack(const tt_variant *v, const uint8_t *canon, int M, int K, uint8_t *dst) {
    if (v->repack) return v->repack(canon, M, K, dst);
    memcpy(dst, canon, tt_wformat_bytes(v->wfmt, M, K));
    return TT_OK;
}

tt_status tt_case_init(tt_case *c, const tt_variant *v, int M, const tt_qact *x, int32_t *y, int ldy,
                       tt_workspace *ws) {
    memset(c, 0, sizeof *c);
    char why[256];
    if (tt_variant_check(v, M, x->K, x->N, why, sizeof why) != TT_OK) return tt_set_error(TT_E_SHAPE, "%s", why);
    if (!tt_variant_runnable(v, tt_cpu_features()))
        return tt_set_error(TT_E_CPU, "variant %s needs CPU features this machine lacks", v->name);
    c->v = v;
    c->x = x;
    c->times = ws ? ws->times : NULL;
    c->a = (tt_kargs){.M = M, .K = x->K, .Kp = x->Kp, .x = x->q, .xsum = x->sum, .N = x->N, .y = y, .ldy = ldy};
    if (v->act_prep) {
        if (!ws) return tt_set_error(TT_E_ARG, "variant %s needs a workspace for its activation tables", v->name);
        const size_t stride = TT_ROUND_UP(v->act_bytes(x->K), 64);
        ws->act = grow(ws->act, &ws->act_cap, stride * (size_t)x->N);
        if (!ws->act) return tt_set_error(TT_E_NOMEM, "cannot allocate activation tables");
        c->act = ws->act;
        c->a.act = ws->act;
        c->a.act_stride = stride;
    }
    return TT_OK;
}

tt_status tt_case_repack(tt_case *c, const uint8_t *canon) {
    const tt_variant *v = c->v;
    tt_free(c->w_own);
    c->w_own = NULL;
    if (!v->repack) {
        c->a.w = canon;
        return TT_OK;
    }
    c->w_own = tt_alloc(v->repack_bytes(c->a.M, c->a.K), 64, 0);
    if (!c->w_own) return tt_set_error(TT_E_NOMEM, "cannot allocate %s weights for %s", v->layout, v->name);
    tt_status st = v->repack(canon, c->a.M, c->a.K, c->w_own);
    c->a.w = c->w_own;
    return st;
}

void tt_case_weights(tt_case *c, const uint8_t *w) { c->a.w = w; }

void tt_case_prep_token(const tt_case *c, int n, int part, int nparts) {
    const tt_kargs *a = &c->a;
    if (c->v->act_prep)
        c->v->act_prep(a->x + (size_t)n * a->Kp, a->K, a->Kp, c->act + (size_t)n * a->act_stride, part, nparts);
}

void tt_case_prep(const tt_case *c, int tid, int nth) {
    /* Tables are shared by all rows.  With at least as many tokens as
     * threads, each thread builds whole tokens; otherwise (decode, N = 1)
     * every thread builds its share of each token's K range. */
    const int N = c->a.N;
    if (N >= nth)
        for (int n = tid; n < N; n += nth) tt_case_prep_token(c, n, 0, 1);
    else
        for (int n = 0; n < N; n++) tt_case_prep_token(c, n, tid, nth);
}

/* The fp32 epilogue y = acc * s_w / s_a of block [m0,m1) x [n0,n1). */
static void epilogue(const tt_case *c, int m0, int m1, int n0, int n1) {
    const tt_kargs *a = &c->a;
#if defined(__x86_64__)
    const int avx512 = (tt_cpu_features() & TT_FEAT_AVX512F) != 0;
#endif
    for (int n = n0; n < n1; n++) {
        const float s = c->sw / c->x->scale[n];
        float *yf = c->yf + (size_t)n * c->ldyf;
        const int32_t *acc = a->y + (size_t)n * a->ldy;
#if defined(__x86_64__)
        if (avx512) {
            tt_epilogue_row_avx512(yf + m0, acc + m0, m1 - m0, s);
            continue;
        }
#endif
        for (int m = m0; m < m1; m++) yf[m] = (float)acc[m] * s;
    }
}

/* Accumulators of one call are kept below this many bytes before the
 * epilogue reads them back (a share of L2): a GEMM's rows go in slices. */
#define TT_EPILOGUE_SLICE_BYTES (256 * 1024)

void tt_case_call(const tt_case *c, int m0, int m1, int n0, int n1) {
    const tt_kargs *a = &c->a;
    if (!c->yf) {
        c->v->fn(a, m0, m1, n0, n1);
        return;
    }
    /* rows in slices (whole row blocks of the variant) so that the int32
     * accumulators are still in cache when the epilogue turns them into floats */
    const int align = TT_MAX(1, c->v->row_align);
    int rows = (int)(TT_EPILOGUE_SLICE_BYTES / (sizeof(int32_t) * (size_t)(n1 - n0)));
    rows = TT_MAX(align, rows / align * align);
    for (int m = m0; m < m1; m += rows) {
        const int me = TT_MIN(m1, m + rows);
        c->v->fn(a, m, me, n0, n1);
        epilogue(c, m, me, n0, n1);
    }
}

typedef struct {
    const tt_case *c;
    tt_pool *pool;
    int split_tokens;
} run_ctx;

static void run_task(void *ctx, int tid, int nth) {
    const run_ctx *r = ctx;
    const tt_case *c = r->c;
    const tt_variant *v = c->v;
    tt_case_times *tm = c->times ? &c->times[tid] : NULL;
    uint64_t t = tm ? tt_now_ns() : 0, t1 = 0;
    if (v->act_prep) {
        tt_case_prep(c, tid, nth);
        if (tm) t1 = tt_now_ns(), tm->prep_ns += t1 - t, t = t1;
        if (nth > 1) tt_pool_barrier(r->pool); /* tables ready before any row uses them */
        if (tm) t1 = tt_now_ns(), tm->barrier_ns += t1 - t, t = t1;
    }
    /* weight-parallel: rows split; GEMM with too few rows: tokens split */
    int m0 = 0, m1 = c->a.M, n0 = 0, n1 = c->a.N;
    if (r->split_tokens) tt_split_range(c->a.N, nth, tid, TT_MAX(1, v->tiles.ntok), &n0, &n1);
    else tt_split_range(c->a.M, nth, tid, TT_MAX(1, v->row_align), &m0, &m1);
    if (m0 >= m1 || n0 >= n1) return;
    tt_case_call(c, m0, m1, n0, n1);
    if (tm) tm->kernel_ns += tt_now_ns() - t;
}

void tt_case_run(const tt_case *c, tt_pool *pool) {
    const int nth = tt_pool_threads(pool);
    /* GEMM: split tokens when rows are too few to give every thread work */
    const int row_units = TT_CEIL_DIV(c->a.M, TT_MAX(1, c->v->row_align));
    run_ctx r = {c, pool, c->a.N >= nth && row_units < 4 * nth};
    tt_pool_run(pool, run_task, &r);
}

typedef struct {
    const tt_case *c;
    int n;
    tt_pool *pool;
} many_ctx;

static void many_task(void *ctx, int tid, int nth) {
    const many_ctx *r = ctx;
    const tt_case *c0 = &r->c[0];
    tt_case_times *tm = c0->times ? &c0->times[tid] : NULL;
    uint64_t t = tm ? tt_now_ns() : 0, t1 = 0;
    if (c0->v->act_prep) {
        tt_case_prep(c0, tid, nth);
        if (tm) t1 = tt_now_ns(), tm->prep_ns += t1 - t, t = t1;
        if (nth > 1) tt_pool_barrier(r->pool); /* tables ready before any row uses them */
        if (tm) t1 = tt_now_ns(), tm->barrier_ns += t1 - t, t = t1;
    }
    for (int i = 0; i < r->n; i++) {
        const tt_case *c = &r->c[i];
        int m0, m1;
        tt_split_range(c->a.M, nth, tid, TT_MAX(1, c->v->row_align), &m0, &m1);
        if (m0 < m1) tt_case_call(c, m0, m1, 0, c->a.N);
    }
    if (tm) tm->kernel_ns += tt_now_ns() - t;
}

void tt_case_run_many(const tt_case *c, int n, tt_pool *pool) {
    many_ctx r = {c, n, pool};
    tt_pool_run(pool, many_task, &r);
}

void tt_case_free(tt_case *c) {
    tt_free(c->w_own);
    memset(c, 0, sizeof *c);
}
