/* tritune: building a model's weights (see load.h), in the spirit of
 * llama2.c's memory_map_weights: one short function per step and per
 * weight source.
 *
 *   1. alloc_weights   the layer table, the norm block, the float matrices;
 *   2. load_norms      the norm vectors (small: done on the calling thread);
 *   3. plan_ternary    per BitLinear: its variants, its final buffer (or the
 *                      file's mapped bytes, adopted as they are);
 *   4. run_units       every other row of every tensor, in parallel work
 *                      units: a unit reads its rows from a source and
 *                      writes them to a destination;
 *   5. adopt_ternary   the buffers go to the seam (tt_linear).
 *
 * Sources: the seed (gen_rows_*: model/gen.c) or the weight file (file_rows_*:
 * the mmap).  Destinations: the kernel layout (to_layout: the variant's
 * repack of the format's canonical layout) or a float matrix (to_float,
 * f16_row_to: the baselines, the embedding and the LM head).  Every value is
 * a function of (seed or file, tensor, row) only, so the weights do not
 * depend on the thread count or on how rows fall into units. */
#include "model/load.h"

#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/gen.h"
#include "model/tensors.h"

void tt_model_opts_default(tt_model_opts *o) {
    memset(o, 0, sizeof *o);
    o->format = TT_FMT_I2S;
    o->seed = 1;
    o->batch = 64;
    o->seq = 256;
}

/* ---- where a tensor lives in tt_weights ---------------------------------------------------- */
static tt_mat *mat_of(tt_weights *w, int id) {
    if (id < TT_T_GLOBAL_COUNT) return NULL;
    tt_layer *L = &w->layer[tt_tensor_layer(id)];
    tt_mat *const slot[TT_TL_COUNT] = {[TT_TL_WQ] = &L->wq,       [TT_TL_WK] = &L->wk,   [TT_TL_WV] = &L->wv,
                                       [TT_TL_WO] = &L->wo,       [TT_TL_WGATE] = &L->wgate,
                                       [TT_TL_WUP] = &L->wup,     [TT_TL_WDOWN] = &L->wdown};
    return slot[tt_tensor_which(id)];
}

static float *norm_of(tt_weights *w, int id) {
    if (id == TT_T_FINAL_NORM) return w->final_norm;
    if (id < TT_T_GLOBAL_COUNT) return NULL;
    tt_layer *L = &w->layer[tt_tensor_layer(id)];
    float *const slot[TT_TL_COUNT] = {[TT_TL_ATTN_NORM] = L->attn_norm, [TT_TL_ATTN_SUB_NORM] = L->attn_sub_norm,
                                      [TT_TL_FFN_NORM] = L->ffn_norm, [TT_TL_FFN_SUB_NORM] = L->ffn_sub_norm};
    return slot[tt_tensor_which(id)];
}

/* The float kind of a baseline format's matrices. */
static tt_fmat_kind baseline_kind(tt_wformat f) { return f == TT_FMT_FP16 ? TT_FM_F16 : TT_FM_F32; }

/* ---- the job ------------------------------------------------------------------------------- */
/* One BitLinear being built. */
typedef struct {
    int id, M, K;
    float scale;
    const tt_variant *gv, *gm;   /* ternary formats: the seam's choice; NULL for the baselines */
    uint8_t *buf;                /* final layout (variant's), in m->w.ternary; NULL when adopted from the file */
    size_t off;                  /* its offset in m->w.ternary                                  */
    int from_file;               /* the file's bytes are used as they are (mmap)                */
    size_t bytes;
    int chunk;                   /* rows per work unit (multiple of the variant's row_align)   */
    const tt_wf_tensor *src;     /* weight-file tensor, or NULL (generate)                     */
} tplan;

typedef struct {
    int t;       /* index into the plan (ternary) or -1 - tensor id (embedding / LM head rows) */
    int r0, r1;
} gunit;

typedef struct {
    tt_model *m;
    tt_weightfile *wf;             /* NULL: generate from m->opts.seed */
    int ternary;                   /* m's format is ternary (else a baseline) */
    tplan *plan;
    int n_plan;
    int emb_chunk;                 /* embedding rows per unit */
    gunit *units;
    int n_units;
    size_t tmp_i8, tmp_canon;      /* per-thread scratch sizes */
    size_t ternary_bytes;          /* the block m->w.ternary */
    atomic_int next;
    atomic_llong done;             /* rows x K finished (progress) */
    double total;
    atomic_int failed;
    tt_status st;
    char msg[512];
} gctx;

static void gfail(gctx *g, tt_status st) {
    int exp = 0;
    if (atomic_compare_exchange_strong(&g->failed, &exp, 1)) {
        g->st = st;
        snprintf(g->msg, sizeof g->msg, "%s", tt_last_error());
    }
}

/* ---- sources: rows [r0, r1) of one tensor ----------------------------------------------------- */
/* From the seed, as int8 (rowbuf: scratch for one I2_S row). */
static void gen_rows_i8(uint64_t seed, int id, int r0, int r1, int K, int8_t *w, uint8_t *rowbuf) {
    for (int r = r0; r < r1; r++) {
        tt_gen_i2s_row(seed, id, r, K, rowbuf);
        tt_i2s_row_to_i8(rowbuf, K, w + (size_t)(r - r0) * K);
    }
}

/* From the seed, straight into canonical I2_S (the generator's own layout). */
static void gen_rows_i2s(uint64_t seed, int id, int r0, int r1, int K, uint8_t *dst) {
    const size_t rb = tt_i2s_row_bytes(K);
    for (int r = r0; r < r1; r++) tt_gen_i2s_row(seed, id, r, K, dst + (size_t)(r - r0) * rb);
}

/* From the weight file: the rows in the file's format fmt, as they are mapped. */
static const uint8_t *file_rows(const tt_wf_tensor *src, tt_wformat fmt, int r0) {
    return src->data + tt_wformat_bytes(fmt, r0, src->K);
}

/* From the weight file, unpacked to int8. */
static void file_rows_i8(const tt_wf_tensor *src, tt_wformat fmt, int r0, int r1, int8_t *w) {
    tt_wformat_traits_of(fmt)->unpack(file_rows(src, fmt, r0), r1 - r0, src->K, w);
}

/* Ternary int8 rows of plan p from whichever source it has. */
static void source_i8(const gctx *g, const tplan *p, int r0, int r1, int8_t *w, uint8_t *rowbuf) {
    if (p->src) file_rows_i8(p->src, tt_weightfile_format(g->wf), r0, r1, w);
    else gen_rows_i8(g->m->opts.seed, p->id, r0, r1, p->K, w, rowbuf);
}

/* ---- destinations ---------------------------------------------------------------------------- */
/* Canonical rows of p's format -> its variant's layout at dst. */
static tt_status to_layout(const tplan *p, tt_wformat fmt, const uint8_t *canon, int rows, uint8_t *dst) {
    if (p->gv->repack) return p->gv->repack(canon, rows, p->K, dst);
    if (canon != dst) memcpy(dst, canon, tt_wformat_bytes(fmt, rows, p->K));
    return TT_OK;
}

/* Ternary int8 rows -> rows [r0, r0 + rows) of a baseline's matrix, w * s_w. */
static void to_float(tt_fmat *A, const int8_t *w, int r0, int rows, float scale) {
    const int K = A->K;
    for (int r = 0; r < rows; r++) {
        const int8_t *wr = w + (size_t)r * K;
        if (A->kind == TT_FM_F16) {
            uint16_t *d = (uint16_t *)A->w + (size_t)(r0 + r) * K;
            const uint16_t hp = tt_f32_to_f16(scale), hn = tt_f32_to_f16(-scale);
            for (int k = 0; k < K; k++) d[k] = wr[k] > 0 ? hp : wr[k] < 0 ? hn : 0;
        } else {
            float *d = (float *)A->w + (size_t)(r0 + r) * K;
            for (int k = 0; k < K; k++) d[k] = (float)wr[k] * scale;
        }
    }
}

/* An fp16 row (embedding / LM head) -> row r of a float matrix of any kind
 * (tmp: K floats of scratch). */
static void f16_row_to(tt_fmat *A, int r, const uint16_t *h, float *tmp) {
    if (A->kind == TT_FM_F16) {
        memcpy((uint16_t *)A->w + (size_t)r * A->K, h, sizeof(uint16_t) * A->K);
        return;
    }
    for (int k = 0; k < A->K; k++) tmp[k] = tt_f16_to_f32(h[k]);
    tt_fmat_set_row(A, r, tmp);
}

/* ---- work units -------------------------------------------------------------------------------- */
/* Rows [r0, r1) of BitLinear p.  Scratch: ti8 (tmp_i8 bytes), tcanon
 * (tmp_canon bytes: canonical rows awaiting a repack, then one I2_S row). */
static tt_status ternary_unit(gctx *g, const tplan *p, int r0, int r1, int8_t *ti8, uint8_t *tcanon) {
    const int rows = r1 - r0, K = p->K;
    if (!g->ternary) { /* baseline: int8 rows, dequantized into the float matrix */
        source_i8(g, p, r0, r1, ti8, tcanon);
        to_float(&mat_of(&g->m->w, p->id)->f, ti8, r0, rows, p->scale);
        return TT_OK;
    }
    const tt_wformat fmt = g->m->opts.format;
    uint8_t *dst = p->buf + tt_layout_bytes(p->gv, r0, K);
    if (p->src && tt_weightfile_format(g->wf) == fmt) /* already canonical in the mapping */
        return to_layout(p, fmt, file_rows(p->src, fmt, r0), rows, dst);
    /* canonical rows land in the final buffer unless a repack follows */
    uint8_t *canon = p->gv->repack ? tcanon : dst;
    if (!p->src && fmt == TT_FMT_I2S) {
        gen_rows_i2s(g->m->opts.seed, p->id, r0, r1, K, canon);
    } else {
        uint8_t *rowbuf = p->gv->repack ? tcanon + g->tmp_canon - tt_i2s_row_bytes(K) : tcanon;
        source_i8(g, p, r0, r1, ti8, rowbuf);
        tt_status st = tt_wformat_traits_of(fmt)->pack(ti8, rows, K, canon);
        if (st != TT_OK) return st;
    }
    return to_layout(p, fmt, canon, rows, dst);
}

/* Rows [r0, r1) of the embedding (id TT_T_EMBED, also the tied LM head
 * when it does not alias it) or of the untied LM head. */
static void float_unit(gctx *g, int id, int r0, int r1, uint16_t *row16, float *rowf) {
    tt_model *m = g->m;
    const int K = m->cfg.hidden;
    const tt_wf_tensor *src = g->wf ? tt_weightfile_tensor(g->wf, id) : NULL;
    tt_fmat *dsts[2] = {NULL, NULL};
    if (id == TT_T_EMBED) {
        dsts[0] = &m->w.embed;
        if (m->cfg.tied_lm_head && !m->w.lm_head_aliases) dsts[1] = &m->w.lm_head;
    } else {
        dsts[0] = &m->w.lm_head;
    }
    for (int r = r0; r < r1; r++) {
        const uint16_t *h = row16;
        if (src) h = (const uint16_t *)src->data + (size_t)r * K;
        else tt_gen_f16_row(m->opts.seed, id, r, K, row16);
        for (int j = 0; j < 2; j++)
            if (dsts[j]) f16_row_to(dsts[j], r, h, rowf);
    }
}

static void unit_worker(void *ctx, int tid, int nth) {
    gctx *g = ctx;
    int8_t *ti8 = tt_alloc(g->tmp_i8 + 64, 64, 0);
    uint8_t *tc = tt_alloc(g->tmp_canon + 64, 64, 0);
    if (!ti8 || !tc) {
        gfail(g, tt_set_error(TT_E_NOMEM, "weight generation: cannot allocate scratch"));
        goto out;
    }
    double last = -1;
    for (;;) {
        if (atomic_load(&g->failed)) break;
        const int u = atomic_fetch_add(&g->next, 1);
        if (u >= g->n_units) break;
        const gunit *w = &g->units[u];
        tt_status st = TT_OK;
        long long work;
        if (w->t >= 0) {
            st = ternary_unit(g, &g->plan[w->t], w->r0, w->r1, ti8, tc);
            work = (long long)(w->r1 - w->r0) * g->plan[w->t].K;
        } else {
            float_unit(g, -1 - w->t, w->r0, w->r1, (uint16_t *)tc, (float *)ti8);
            work = (long long)(w->r1 - w->r0) * g->m->cfg.hidden;
        }
        if (st != TT_OK) {
            gfail(g, st);
            break;
        }
        const long long done = atomic_fetch_add(&g->done, work) + work;
        if (tid == 0 && g->m->opts.progress) {
            const double f = done / g->total;
            if (f < 1.0 && f - last >= 0.01) {
                g->m->opts.progress(g->m->opts.progress_ud, "weights", f);
                last = f;
            }
        }
    }
out:
    tt_free(ti8);
    tt_free(tc);
    (void)nth;
}

/* ---- the steps ------------------------------------------------------------------------------------ */
static tt_status check_file(const tt_config *c, const tt_weightfile *wf) {
    const tt_config *fc = tt_weightfile_config(wf);
    if (fc->hidden != c->hidden || fc->ffn != c->ffn || fc->layers != c->layers || fc->heads != c->heads ||
        fc->kv_heads != c->kv_heads || fc->head_dim != c->head_dim || fc->vocab != c->vocab ||
        fc->tied_lm_head != c->tied_lm_head)
        return tt_set_error(TT_E_CONFIG, "weight file holds model %s, whose shapes differ from %s", fc->name, c->name);
    return TT_OK;
}

/* 1. The layer table, one block for every norm vector, the embedding and the LM head. */
static tt_status alloc_weights(tt_model *m) {
    const tt_config *c = &m->cfg;
    tt_weights *w = &m->w;
    const int L = c->layers, d = c->hidden, qd = tt_config_qdim(c), f = c->ffn;
    w->layer = calloc((size_t)L, sizeof *w->layer);
    const size_t norm_floats = (size_t)d + (size_t)L * (2 * (size_t)d + qd + f);
    w->norms = tt_alloc(sizeof(float) * norm_floats, 64, 0);
    if (!w->layer || !w->norms) return tt_set_error(TT_E_NOMEM, "model: out of memory for the layer table");
    float *np = w->norms;
    w->final_norm = np, np += d;
    for (int l = 0; l < L; l++) {
        tt_layer *ly = &w->layer[l];
        ly->attn_norm = np, np += d;
        ly->attn_sub_norm = np, np += qd;
        ly->ffn_norm = np, np += d;
        ly->ffn_sub_norm = np, np += f;
    }
    tt_status st = tt_fmat_alloc(&w->embed, tt_model_embed_kind_of(c, &m->opts), c->vocab, d);
    if (st != TT_OK) return st;
    if (tt_model_head_aliases(c, &m->opts)) {
        w->lm_head = w->embed;
        w->lm_head.owns = 0;
        w->lm_head_aliases = 1;
        return TT_OK;
    }
    return tt_fmat_alloc(&w->lm_head, tt_model_head_kind(&m->opts), c->vocab, d);
}

/* 2. Norm vectors: the file's copy when there is one. */
static void load_norms(tt_model *m, const tt_tdesc *td, int nt, const tt_weightfile *wf) {
    for (int i = 0; i < nt; i++) {
        if (td[i].kind != TT_TK_F32) continue;
        float *dst = norm_of(&m->w, td[i].id);
        const tt_wf_tensor *src = wf ? tt_weightfile_tensor(wf, td[i].id) : NULL;
        if (src) memcpy(dst, src->data, sizeof(float) * td[i].K);
        else tt_gen_norm(m->opts.seed, td[i].id, td[i].K, dst);
    }
}

/* 3. Per BitLinear: scale, variants, final buffer (or the baseline's
 * matrix); the scratch its units need.  The ternary buffers are one block
 * (m->w.ternary), matrix after matrix in the forward pass's order, so that
 * every matrix lies on transparent huge pages (tt_alloc asks for them from
 * 2 MiB up: a 2560x2560 I2_S matrix alone is 1.6 MiB and got none; on
 * 4 KiB pages the attention projections of bitnet-b1.58-2b-4t streamed at
 * about 60% of the read bandwidth, the FFN's at 80-90%) and one matrix's
 * end runs into the next one's start. */
static tt_status plan_ternary(gctx *g, const tt_tdesc *td, int nt, int threads) {
    tt_model *m = g->m;
    const tt_model_opts *o = &m->opts;
    const tt_wformat fmt = o->format;
    g->tmp_canon = sizeof(uint16_t) * (size_t)m->cfg.hidden; /* an fp16 row of the embedding */
    g->tmp_i8 = sizeof(float) * (size_t)m->cfg.hidden;     /* the same row in floats       */
    for (int i = 0; i < nt; i++) {
        if (td[i].kind != TT_TK_TERNARY) continue;
        tplan *p = &g->plan[g->n_plan++];
        p->id = td[i].id;
        p->M = td[i].M;
        p->K = td[i].K;
        p->src = g->wf ? tt_weightfile_tensor(g->wf, p->id) : NULL;
        p->scale = p->src ? p->src->scale : tt_gen_scale(o->seed, p->id, p->K);
        tt_mat *mat = mat_of(&m->w, p->id);
        int align = 4;
        tt_status st;
        if (g->ternary) {
            mat->ternary = 1;
            /* the seam's lenient choice: a named variant that cannot take this
             * shape falls back to tuning / prior (reported as "mixed") */
            st = tt_linear_choose(fmt, p->M, p->K, o->gemv_name, o->gemm_name, o->tuning, threads, o->batch, 0, &p->gv,
                                  &p->gm);
            if (st != TT_OK) return st;
            p->bytes = tt_layout_bytes(p->gv, p->M, p->K);
            align = TT_MAX(1, p->gv->row_align);
            if (p->src && tt_weightfile_format(g->wf) == fmt && !p->gv->repack) {
                p->from_file = 1; /* adopt the file's bytes (mmap) */
            } else {
                p->off = g->ternary_bytes; /* p->buf is set below, once the block's size is known */
                g->ternary_bytes += TT_ROUND_UP(p->bytes, 64);
            }
        } else if ((st = tt_fmat_alloc(&mat->f, baseline_kind(fmt), p->M, p->K)) != TT_OK) {
            return st;
        }
        /* about 128 KiB of int8 rows per unit */
        p->chunk = TT_ROUND_UP(TT_MAX(1, 131072 / p->K), align);
        if (g->ternary && p->from_file) continue;
        g->tmp_i8 = TT_MAX(g->tmp_i8, (size_t)p->chunk * p->K);
        if (g->ternary)
            g->tmp_canon = TT_MAX(g->tmp_canon, tt_wformat_bytes(fmt, p->chunk, p->K) + tt_i2s_row_bytes(p->K));
        g->tmp_canon = TT_MAX(g->tmp_canon, tt_i2s_row_bytes(p->K));
    }
    if (g->ternary_bytes == 0) return TT_OK;
    if (!(m->w.ternary = tt_alloc(g->ternary_bytes, 64, 1)))
        return tt_set_error(TT_E_NOMEM, "cannot allocate %zu bytes for the ternary weights", g->ternary_bytes);
    for (int i = 0; i < g->n_plan; i++)
        if (!g->plan[i].from_file) g->plan[i].buf = m->w.ternary + g->plan[i].off;
    return TT_OK;
}

/* 4a. Work units: embedding (and untied LM head) rows, then each
 * BitLinear that needs building in row chunks.  Pass 0 counts, pass 1 fills. */
static tt_status make_units(gctx *g) {
    const tt_config *c = &g->m->cfg;
    g->emb_chunk = TT_MAX(1, 65536 / c->hidden);
    for (int pass = 0; pass < 2; pass++) {
        int n = 0;
        double total = 0;
#define UNIT(T, R0, R1, K_)                                           \
    do {                                                              \
        if (pass) g->units[n] = (gunit){(T), (R0), (R1)};             \
        n++;                                                          \
        total += (double)((R1) - (R0)) * (K_);                        \
    } while (0)
        for (int id = TT_T_EMBED; id <= TT_T_LMHEAD; id++) {
            if (id == TT_T_LMHEAD && c->tied_lm_head) continue;
            for (int r = 0; r < c->vocab; r += g->emb_chunk) UNIT(-1 - id, r, TT_MIN(c->vocab, r + g->emb_chunk), c->hidden);
        }
        for (int i = 0; i < g->n_plan; i++) {
            const tplan *p = &g->plan[i];
            if (g->ternary && p->from_file) continue; /* adopted from the file as it is */
            for (int r = 0; r < p->M; r += p->chunk) UNIT(i, r, TT_MIN(p->M, r + p->chunk), p->K);
        }
#undef UNIT
        if (pass == 0) {
            g->units = malloc(sizeof *g->units * (size_t)(n ? n : 1));
            if (!g->units) return tt_set_error(TT_E_NOMEM, "model: out of memory for %d work units", n);
        }
        g->n_units = n;
        g->total = total > 0 ? total : 1;
    }
    return TT_OK;
}

/* 4b. Every unit, on the pool's threads. */
static tt_status run_units(gctx *g, tt_pool *pool) {
    if (pool && tt_pool_threads(pool) > 1) tt_pool_run(pool, unit_worker, g);
    else unit_worker(g, 0, 1);
    if (atomic_load(&g->failed)) return tt_set_error(g->st, "%s", g->msg);
    if (g->m->opts.progress) g->m->opts.progress(g->m->opts.progress_ud, "weights", 1.0);
    return TT_OK;
}

/* 5. The ternary buffers to the seam; the variants used (reports). */
static tt_status adopt_ternary(gctx *g) {
    tt_model *m = g->m;
    for (int i = 0; i < g->n_plan; i++) {
        tplan *p = &g->plan[i];
        tt_mat *mat = mat_of(&m->w, p->id);
        uint8_t *buf = p->from_file ? (uint8_t *)p->src->data : p->buf;
        tt_status st = tt_linear_adopt(&mat->lin, m->opts.format, p->M, p->K, p->scale, p->gv->layout, buf, p->bytes, 0,
                                       p->gv, p->gm); /* m->w.ternary or the mapped file owns the bytes */
        if (st != TT_OK) return st;
        if (i == 0) {
            m->gemv_used = p->gv->name;
            m->gemm_used = p->gm->name;
        } else if (strcmp(m->gemv_used, p->gv->name) || strcmp(m->gemm_used, p->gm->name)) {
            m->mixed_variants = 1;
        }
    }
    return TT_OK;
}

tt_status tt_model_init(tt_model *m, const tt_config *c, const tt_model_opts *o, tt_weightfile *wf, tt_pool *pool) {
    memset(m, 0, sizeof *m);
    tt_status st = tt_config_validate(c);
    if (st != TT_OK) return st;
    if (o->batch < 1 || o->seq < 1) return tt_set_error(TT_E_ARG, "model: batch %d and seq %d must be >= 1", o->batch, o->seq);
    if ((st = tt_wformat_available(o->format)) != TT_OK) return st;
    if (wf && (st = check_file(c, wf)) != TT_OK) return st;
    m->cfg = *c;
    m->opts = *o;
    if (wf) m->opts.seed = tt_weightfile_seed(wf);

    tt_tdesc *td = NULL;
    int nt = 0;
    gctx *g = calloc(1, sizeof *g);
    if (!g) {
        st = tt_set_error(TT_E_NOMEM, "model: out of memory");
        goto done;
    }
    g->m = m;
    g->wf = wf;
    g->ternary = tt_wformat_is_ternary(o->format);
    if ((st = alloc_weights(m)) != TT_OK || (st = tt_model_tensor_list(c, &td, &nt)) != TT_OK) goto done;
    if (!(g->plan = calloc((size_t)nt, sizeof *g->plan))) {
        st = tt_set_error(TT_E_NOMEM, "model: out of memory");
        goto done;
    }
    load_norms(m, td, nt, wf);
    if ((st = plan_ternary(g, td, nt, pool ? tt_pool_threads(pool) : 1)) != TT_OK || (st = make_units(g)) != TT_OK ||
        (st = run_units(g, pool)) != TT_OK)
        goto done;
    if (g->ternary) {
        if ((st = adopt_ternary(g)) != TT_OK) goto done;
    } else {
        m->gemv_used = m->gemm_used = tt_fmat_impl(baseline_kind(o->format));
    }
    m->bytes_weights = (double)m->w.lm_head.bytes;
    for (int i = 0; i < g->n_plan; i++) {
        const tt_mat *mat = mat_of(&m->w, g->plan[i].id);
        m->bytes_weights += g->ternary ? (double)mat->lin.w_bytes : (double)mat->f.bytes;
    }
done:
    if (g) {
        free(g->plan);
        free(g->units);
        free(g);
    }
    free(td);
    if (st != TT_OK) {
        char msg[512];
        snprintf(msg, sizeof msg, "%s", tt_last_error());
        tt_model_free(m);
        tt_set_error(st, "%s", msg);
    }
    return st;
}

static void mat_free(tt_mat *x) {
    if (x->ternary) tt_linear_free(&x->lin);
    else tt_fmat_free(&x->f);
}

void tt_model_free(tt_model *m) {
    tt_weights *w = &m->w;
    if (w->layer)
        for (int l = 0; l < m->cfg.layers; l++) {
            tt_layer *L = &w->layer[l];
            mat_free(&L->wq), mat_free(&L->wk), mat_free(&L->wv), mat_free(&L->wo);
            mat_free(&L->wgate), mat_free(&L->wup), mat_free(&L->wdown);
        }
    free(w->layer);
    tt_free(w->norms);
    tt_free(w->ternary);
    if (!w->lm_head_aliases) tt_fmat_free(&w->lm_head);
    tt_fmat_free(&w->embed);
    memset(m, 0, sizeof *m);
}

/* Every BitLinear's variants chosen again for `threads` (tuning is per
 * thread count), keeping the weights: TT_E_UNSUPPORTED, and m unchanged,
 * when some choice wants another layout (the weights must be rebuilt). */
tt_status tt_model_rechoose(tt_model *m, int threads) {
    if (!tt_wformat_is_ternary(m->opts.format)) return TT_OK;
    const tt_model_opts *o = &m->opts;
    for (int pass = 0; pass < 2; pass++) {
        const char *gv0 = NULL, *gm0 = NULL;
        int mixed = 0;
        for (int l = 0; l < m->cfg.layers; l++) {
            tt_layer *L = &m->w.layer[l];
            tt_mat *mats[] = {&L->wq, &L->wk, &L->wv, &L->wo, &L->wgate, &L->wup, &L->wdown};
            for (int i = 0; i < 7; i++) {
                tt_linear *lin = &mats[i]->lin;
                const tt_variant *gv, *gm;
                tt_status st = tt_linear_choose(o->format, lin->M, lin->K, o->gemv_name, o->gemm_name, o->tuning, threads,
                                                o->batch, 0, &gv, &gm);
                if (st != TT_OK) return st;
                if (strcmp(gv->layout, lin->layout) != 0)
                    return tt_set_error(TT_E_UNSUPPORTED, "%d threads choose layout %s for a %dx%d BitLinear held in %s",
                                        threads, gv->layout, lin->M, lin->K, lin->layout);
                if (pass == 0) continue;
                lin->gemv = gv;
                lin->gemm = gm;
                if (!gv0) gv0 = gv->name, gm0 = gm->name;
                else if (strcmp(gv0, gv->name) || strcmp(gm0, gm->name)) mixed = 1;
            }
        }
        if (pass == 1) {
            m->gemv_used = gv0;
            m->gemm_used = gm0;
            m->mixed_variants = mixed;
        }
    }
    return TT_OK;
}
