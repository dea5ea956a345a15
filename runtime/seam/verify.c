#include "seam/verify.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/rng.h"
#include "seam/formats_table.h"
#include "seam/run.h"

#define GUARD 16
#define SENTINEL ((int32_t)0x5A5A5A5A)

typedef enum { IN_RANDOM, IN_ALL_PLUS_MAX, IN_ALL_PLUS_MIN, IN_ALL_MINUS_MIN, IN_ALL_MINUS_MAX, IN_ALTERNATE, IN_KINDS } in_kind;
static const char *const kind_names[IN_KINDS] = {"random", "w=+1,x=127", "w=+1,x=-128", "w=-1,x=-128", "w=-1,x=127",
                                                 "w=+-1,x=+-extreme"};

static void fill(in_kind kind, int8_t *w, int M, int K, int8_t *x, int N, uint64_t *rng) {
    for (size_t i = 0; i < (size_t)M * K; i++) {
        switch (kind) {
        case IN_RANDOM: w[i] = (int8_t)((int)(tt_splitmix64(rng) % 3) - 1); break;
        case IN_ALL_PLUS_MAX:
        case IN_ALL_PLUS_MIN: w[i] = 1; break;
        case IN_ALL_MINUS_MIN:
        case IN_ALL_MINUS_MAX: w[i] = -1; break;
        default: w[i] = (int8_t)(((i % (size_t)K) & 1) ? -1 : 1); break;
        }
    }
    for (size_t i = 0; i < (size_t)N * K; i++) {
        switch (kind) {
        case IN_RANDOM: x[i] = (int8_t)(tt_splitmix64(rng) & 0xFF); break;
        case IN_ALL_PLUS_MAX:
        case IN_ALL_MINUS_MAX: x[i] = 127; break;
        case IN_ALL_PLUS_MIN:
        case IN_ALL_MINUS_MIN: x[i] = -128; break;
        default: x[i] = ((i % (size_t)K) & 1) ? -128 : 127; break;
        }
    }
}

typedef struct {
    const tt_variant *v;
    tt_verify_result *r;
    uint64_t rng;
} vctx;

static void fail(vctx *c, int M, int K, int N, in_kind kind, const char *what) {
    c->r->failures++;
    if (c->r->first[0] == '\0')
        snprintf(c->r->first, sizeof c->r->first, "%s: M=%d K=%d N=%d inputs=%s: %s", c->v->name, M, K, N, kind_names[kind],
                 what);
}

/* One case: returns TT_OK, or an error status for harness problems. */
static tt_status run_case(vctx *c, int M, int K, int N, in_kind kind) {
    const tt_variant *v = c->v;
    if (tt_variant_check(v, M, K, N, NULL, 0) != TT_OK) return TT_OK; /* not this variant's shape */
    tt_status st = TT_OK;
    int8_t *w = malloc((size_t)M * K), *x = malloc((size_t)N * K);
    const int ldy = M + 3; /* 3 guard columns between rows of outputs */
    const size_t ylen = (size_t)N * ldy + 2 * GUARD;
    int32_t *yk = malloc(ylen * sizeof *yk), *yr = malloc(ylen * sizeof *yr);
    tt_tensor W = {0};
    tt_qact q = {0};
    tt_case cs = {0};
    tt_workspace ws = {0};
    if (!w || !x || !yk || !yr) {
        st = tt_set_error(TT_E_NOMEM, "verify: out of memory");
        goto out;
    }
    fill(kind, w, M, K, x, N, &c->rng);
    if ((st = tt_tensor_from_ternary(&W, v->wfmt, w, M, K, 1.0f)) != TT_OK) goto out;
    if ((st = tt_qact_alloc(&q, N, K)) != TT_OK) goto out;
    if ((st = tt_qact_set_int(&q, x, N)) != TT_OK) goto out;
    if ((st = tt_case_init(&cs, v, M, &q, yk + GUARD, ldy, &ws)) != TT_OK) goto out;
    if ((st = tt_case_repack(&cs, W.data)) != TT_OK) goto out;
    /* build each token's tables in 3 shares, as 3 threads would */
    for (int n = 0; n < N; n++)
        for (int part = 0; part < 3; part++) tt_case_prep_token(&cs, n, part, 3);
    for (size_t i = 0; i < ylen; i++) yk[i] = yr[i] = SENTINEL;
    /* reference on the canonical layout */
    tt_kargs ar = cs.a;
    ar.w = W.data;
    ar.act = NULL;
    ar.y = yr + GUARD;
    v->ref(&ar, 0, M, 0, N);
    /* The kernel on the whole range, then on split row and token ranges as
     * the pool calls it.  Each partial call runs on fresh sentinels and must
     * write exactly its own [m0,m1) x [n0,n1) block, with the reference
     * values: a kernel that writes (even correct) values outside its range
     * would race with the thread that owns them. */
    const int ms = TT_MAX(v->row_align, 1) * (M / TT_MAX(v->row_align, 1) / 2);
    const int ns = v->op == TT_OP_GEMM ? N / 2 : 0;
    int ranges[5][4] = {{0, M, 0, N}};
    int nr = 1;
    if (ns > 0) {
        int r4[4][4] = {{0, ms, 0, ns}, {ms, M, 0, ns}, {0, ms, ns, N}, {ms, M, ns, N}};
        memcpy(ranges[1], r4, sizeof r4);
        nr = 5;
    } else {
        int r2[2][4] = {{0, ms, 0, N}, {ms, M, 0, N}};
        memcpy(ranges[1], r2, sizeof r2);
        nr = 3;
    }
    for (int ri = 0; ri < nr; ri++) {
        const int m0 = ranges[ri][0], m1 = ranges[ri][1], n0 = ranges[ri][2], n1 = ranges[ri][3];
        if (m0 >= m1 || n0 >= n1) continue;
        for (size_t i = 0; i < ylen; i++) yk[i] = SENTINEL;
        tt_case_call(&cs, m0, m1, n0, n1);
        c->r->cases++;
        char what[200] = "";
        for (size_t i = 0; i < ylen && !what[0]; i++) {
            long off = (long)i - GUARD;
            int inside = off >= 0 && off < (long)N * ldy && off % ldy >= m0 && off % ldy < m1 && off / ldy >= n0 &&
                         off / ldy < n1;
            if (inside && yk[i] != yr[i])
                snprintf(what, sizeof what, "y[n=%ld][m=%ld] = %d, reference %d (call on rows [%d,%d) tokens [%d,%d))",
                         off / ldy, off % ldy, yk[i], yr[i], m0, m1, n0, n1);
            else if (!inside && yk[i] != SENTINEL)
                snprintf(what, sizeof what, "wrote outside its range (offset %ld; call on rows [%d,%d) tokens [%d,%d))",
                         off, m0, m1, n0, n1);
        }
        if (what[0]) {
            fail(c, M, K, N, kind, what);
            break;
        }
    }
out:
    tt_case_free(&cs);
    tt_workspace_free(&ws);
    tt_tensor_free(&W);
    tt_qact_free(&q);
    free(w);
    free(x);
    free(yk);
    free(yr);
    return st;
}

static int uniq(int *a, int n) {
    int m = 0;
    for (int i = 0; i < n; i++) {
        if (a[i] <= 0) continue;
        int dup = 0;
        for (int j = 0; j < m; j++) dup |= a[j] == a[i];
        if (!dup) a[m++] = a[i];
    }
    return m;
}

tt_status tt_verify_variant(const tt_variant *v, uint64_t seed, int level, tt_verify_result *r) {
    memset(r, 0, sizeof *r);
    vctx c = {v, r, seed ^ 0x7472697475ull};
    const tt_tiles *t = &v->tiles;
    const int R = TT_MAX(1, TT_MAX(t->rows, t->BM ? t->bm : 1));
    const int BM = TT_MAX(R, t->BM);
    /* K block implied by the layout: 128 (i2s), 256 (i2s256), or BK */
    const int blk = t->BK ? t->BK : (v->repack ? 256 : 128);
    const int ku = TT_MAX(1, t->kunroll);
    /* 2*BM + 5 (TL tiles only): the split-range pass then really splits at
     * BM (M / BM / 2 = 1), so a kernel starting at m0 > 0 is checked too */
    int Ms[] = {1, R - 1, R, R + 1, 2 * R + 3, BM + 1, 2 * BM - 1, t->BM ? 2 * BM + 5 : 0};
    int Ks[] = {1, 2, 3, 31, blk - 1, blk, blk + 1, blk * ku - 1, blk * ku, blk * ku + 1, 700, 2560, 3 * 97};
    const int T = TT_MAX(1, t->ntok);
    int Ns_gemm[] = {1, T - 1, T, T + 1, 2 * T + 1, 7};
    int Ns_gemv[] = {1};
    int nM = uniq(Ms, (int)(sizeof Ms / sizeof *Ms)), nK = uniq(Ks, (int)(sizeof Ks / sizeof *Ks));
    int *Ns = v->op == TT_OP_GEMV ? Ns_gemv : Ns_gemm;
    int nN = v->op == TT_OP_GEMV ? 1 : uniq(Ns_gemm, 6);
    const int seeds = level > 0 ? 3 : 1;
    tt_status st;
    for (int s = 0; s < seeds; s++)
        for (int i = 0; i < nM; i++)
            for (int j = 0; j < nK; j++)
                for (int k = 0; k < nN; k++)
                    if ((st = run_case(&c, Ms[i], Ks[j], Ns[k], IN_RANDOM)) != TT_OK) return st;
    /* tile kernels (16-token blocks, 256-token slabs): token counts around
     * the tile and the slab, with K over several K chunks */
    if (v->op == TT_OP_GEMM && t->ntok >= 16) {
        const int Nt[] = {15, 16, 17, 33, 255, 257, 511, 513};
        for (size_t k = 0; k < sizeof Nt / sizeof *Nt; k++)
            if ((st = run_case(&c, R + 1, 1100, Nt[k], IN_RANDOM)) != TT_OK) return st;
    }
    /* adversarial: saturating values over K past every int16 window */
    int Ka[] = {blk * ku, 4096 + 3, level > 0 ? 16384 : 8192};
    int Ma[] = {R + 1};
    for (int kind = IN_ALL_PLUS_MAX; kind < IN_KINDS; kind++)
        for (int j = 0; j < 3; j++)
            for (int k = 0; k < nN; k++)
                if ((st = run_case(&c, Ma[0], Ka[j], Ns[k], (in_kind)kind)) != TT_OK) return st;
    return r->failures ? TT_E_VERIFY : TT_OK;
}
