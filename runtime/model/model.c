/* tritune: the BitNet b1.58 decoder: weights (generated or from a weight
 * file), memory plan, run state and the forward pass.  See model.h. */
#define _GNU_SOURCE
#include "model/model.h"

#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/cpu.h"
#include "core/rng.h"
#include "model/fkern.h"
#include "formats/tl.h"
#include "model/model_priv.h"

void tt_model_opts_default(tt_model_opts *o) {
    memset(o, 0, sizeof *o);
    o->format = TT_FMT_I2S;
    o->seed = 1;
    o->batch = 64;
    o->seq = 256;
}

/* ---- tensors of a config ------------------------------------------------------------------ */
int tt_model_tensors(const tt_config *c, tt_tdesc *out) {
    const int d = c->hidden, q = tt_config_qdim(c), kv = tt_config_kvdim(c), f = c->ffn;
    int n = 0;
#define ADD(ID, KIND, M_, K_)                                                        \
    do {                                                                             \
        if (out) out[n] = (tt_tdesc){.id = (ID), .kind = (KIND), .M = (M_), .K = (K_)}; \
        n++;                                                                         \
    } while (0)
    ADD(TT_T_EMBED, TT_TK_F16, c->vocab, d);
    if (!c->tied_lm_head) ADD(TT_T_LMHEAD, TT_TK_F16, c->vocab, d);
    ADD(TT_T_FINAL_NORM, TT_TK_F32, 1, d);
    for (int l = 0; l < c->layers; l++) {
        ADD(tt_tensor_id(l, TT_TL_ATTN_NORM), TT_TK_F32, 1, d);
        ADD(tt_tensor_id(l, TT_TL_WQ), TT_TK_TERNARY, q, d);
        ADD(tt_tensor_id(l, TT_TL_WK), TT_TK_TERNARY, kv, d);
        ADD(tt_tensor_id(l, TT_TL_WV), TT_TK_TERNARY, kv, d);
        ADD(tt_tensor_id(l, TT_TL_ATTN_SUB_NORM), TT_TK_F32, 1, q);
        ADD(tt_tensor_id(l, TT_TL_WO), TT_TK_TERNARY, d, q);
        ADD(tt_tensor_id(l, TT_TL_FFN_NORM), TT_TK_F32, 1, d);
        ADD(tt_tensor_id(l, TT_TL_WGATE), TT_TK_TERNARY, f, d);
        ADD(tt_tensor_id(l, TT_TL_WUP), TT_TK_TERNARY, f, d);
        ADD(tt_tensor_id(l, TT_TL_FFN_SUB_NORM), TT_TK_F32, 1, f);
        ADD(tt_tensor_id(l, TT_TL_WDOWN), TT_TK_TERNARY, d, f);
    }
#undef ADD
    return n;
}

/* ---- seeded generators ---------------------------------------------------------------------
 * splitmix64's finalizer as a counter-based generator: draw i of a row is
 * mix(key + (i + 1) * golden) with key = mix(mix(mix(seed) + id) + row). */
static inline uint64_t row_key(uint64_t seed, int id, int row) {
    return tt_mix64(tt_mix64(tt_mix64(seed) + (uint64_t)(uint32_t)id * TT_GOLDEN64) + (uint64_t)(uint32_t)row);
}
static inline double u01(uint64_t r) { return (double)(r >> 11) * 0x1p-53; }

/* byte81[i]: the I2_S byte holding the 4 base-3 digits of i (i < 81) as
 * codes at shifts 6, 4, 2, 0: one uniform draw in [0, 81) fills one byte
 * with 4 independent uniform trits, i.e. P(-1) = P(0) = P(+1) = 1/3. */
static uint8_t byte81[81];
static atomic_int byte81_ready;
static void byte81_init(void) {
    if (atomic_load_explicit(&byte81_ready, memory_order_acquire)) return;
    for (int i = 0; i < 81; i++) byte81[i] = (uint8_t)((i / 27) << 6 | (i / 9 % 3) << 4 | (i / 3 % 3) << 2 | (i % 3));
    atomic_store_explicit(&byte81_ready, 1, memory_order_release);
}

void tt_gen_i2s_row(uint64_t seed, int id, int row, int K, uint8_t *dst) {
    byte81_init();
    const uint64_t key = row_key(seed, id, row);
    const size_t rb = tt_i2s_row_bytes(K);
    /* 6 base-81 digits per 64-bit draw, taken as the leading digits of the
     * fraction r / 2^64: 81^6 < 2^38, so each digit's bias is below 2^-26. */
    uint64_t draw = 0, r = 0;
    for (size_t j = 0; j < rb; j++) {
        if (j % 6 == 0) r = tt_mix64(key + (++draw) * TT_GOLDEN64);
        const unsigned __int128 p = (unsigned __int128)r * 81u;
        dst[j] = byte81[(unsigned)(p >> 64)];
        r = (uint64_t)p;
    }
    if (K % TT_I2S_BLOCK) { /* padding weights (k >= K) of the last block are code 1 (w = 0) */
        uint8_t *blk = dst + rb - TT_I2S_BLOCK_BYTES;
        const int base = (int)(rb / TT_I2S_BLOCK_BYTES - 1) * TT_I2S_BLOCK;
        for (int j = 0; j < 32; j++)
            for (int p = 0; p < 4; p++)
                if (base + p * 32 + j >= K) {
                    const int sh = 6 - 2 * p;
                    blk[j] = (uint8_t)((blk[j] & ~(3u << sh)) | (1u << sh));
                }
    }
}

void tt_i2s_row_to_i8(const uint8_t *src, int K, int8_t *w) {
    /* byte j of a block holds weights j, j+32, j+64, j+96 (shifts 6, 4, 2, 0) */
    for (int k0 = 0; k0 < K; k0 += TT_I2S_BLOCK) {
        const uint8_t *b = src + (size_t)(k0 / TT_I2S_BLOCK) * TT_I2S_BLOCK_BYTES;
        if (k0 + TT_I2S_BLOCK <= K) {
            for (int p = 0; p < 4; p++)
                for (int j = 0; j < 32; j++) w[k0 + p * 32 + j] = (int8_t)(((b[j] >> (6 - 2 * p)) & 3) - 1);
        } else {
            for (int p = 0; p < 4; p++)
                for (int j = 0; j < 32; j++)
                    if (k0 + p * 32 + j < K) w[k0 + p * 32 + j] = (int8_t)(((b[j] >> (6 - 2 * p)) & 3) - 1);
        }
    }
}

float tt_gen_scale(uint64_t seed, int id, int K) {
    const double u = u01(tt_mix64(row_key(seed, id, -1) ^ 0x5CA1Eull));
    return (float)(sqrt(1.5 / K) * (0.9 + 0.2 * u));
}

void tt_gen_f16_row(uint64_t seed, int id, int row, int K, uint16_t *dst) {
    /* 4 values per draw: 16-bit k -> (k + 0.5) / 32768 - 1, uniform on a
     * 2^-15 grid in (-1, 1), then rounded to fp16 (nearest even; the AVX-512
     * and C conversions agree bit for bit) */
    const uint64_t key = row_key(seed, id, row);
    float tmp[256];
    for (int k0 = 0; k0 < K; k0 += 256) {
        const int n = TT_MIN(256, K - k0);
        for (int i = 0; i < n; i += 4) {
            const uint64_t r = tt_mix64(key + (uint64_t)((k0 + i) / 4 + 1) * TT_GOLDEN64);
            for (int q = 0; q < 4 && i + q < n; q++) tmp[i + q] = ((float)((r >> (16 * q)) & 0xFFFF) + 0.5f) * 0x1p-15f - 1.0f;
        }
        tt_fkern()->f32_to_f16(tmp, dst + k0, n);
    }
}

void tt_gen_norm(uint64_t seed, int id, int K, float *dst) {
    const uint64_t key = row_key(seed, id, 0);
    for (int k = 0; k < K; k++)
        dst[k] = (float)(1.0 + 0.25 * (2.0 * u01(tt_mix64(key + (uint64_t)(k + 1) * TT_GOLDEN64)) - 1.0));
}

/* ---- variant choice ---------------------------------------------------------------------------- */
/* GEMV and GEMM variants (same layout) for one BitLinear, through the seam's
 * choice (tt_linear_choose, lenient): a named variant that cannot take this
 * shape falls back to tuning / prior (reported as "mixed"). */
static tt_status pick_variants(const tt_model_opts *o, tt_wformat fmt, int M, int K, int threads,
                               const tt_variant **gv, const tt_variant **gm) {
    return tt_linear_choose(fmt, M, K, o->gemv_name, o->gemm_name, o->tuning, threads, o->batch, 0, gv, gm);
}


/* ---- memory plan --------------------------------------------------------------------------------- */
static tt_fmat_kind embed_kind(const tt_model_opts *o) { return o->format == TT_FMT_FP32 ? TT_FM_F32 : TT_FM_F16; }
static tt_fmat_kind head_kind(const tt_model_opts *o) { return o->lm_head_i8 ? TT_FM_I8 : embed_kind(o); }
static int head_aliases(const tt_config *c, const tt_model_opts *o) { return c->tied_lm_head && !o->lm_head_i8; }

static double state_bytes(const tt_config *c, int cap_n, int seq, int nthreads) {
    const double d = c->hidden, q = tt_config_qdim(c), kv = tt_config_kvdim(c), f = c->ffn;
    const double per_tok = 4.0 * (d + TT_MAX(d, q) + q + 2 * kv + q + 2 * f + d) +
                           (tt_act_kpad(c->hidden) + tt_act_kpad(tt_config_qdim(c)) + tt_act_kpad(c->ffn) + 12.0);
    return cap_n * per_tok + 4.0 * nthreads * seq + 4.0 * c->vocab + 4.0 * seq * c->head_dim;
}

tt_status tt_model_memory(const tt_config *c, const tt_model_opts *o, tt_model_mem *mem) {
    memset(mem, 0, sizeof *mem);
    tt_status st = tt_wformat_available(o->format);
    if (st != TT_OK) return st;
    const int nt = tt_model_tensors(c, NULL);
    tt_tdesc *td = malloc(sizeof *td * (size_t)nt);
    if (!td) return tt_set_error(TT_E_NOMEM, "out of memory");
    tt_model_tensors(c, td);
    for (int i = 0; i < nt; i++) {
        if (td[i].kind == TT_TK_F32) {
            mem->norms += 4.0 * td[i].K;
        } else if (td[i].kind == TT_TK_TERNARY) {
            if (tt_wformat_is_ternary(o->format)) {
                const tt_variant *gv, *gm;
                if ((st = pick_variants(o, o->format, td[i].M, td[i].K, 1, &gv, &gm)) != TT_OK) break;
                mem->ternary += (double)tt_variant_layout_bytes(gv, td[i].M, td[i].K);
            } else {
                mem->ternary += (double)tt_wformat_bytes(o->format, td[i].M, td[i].K);
            }
        }
    }
    free(td);
    if (st != TT_OK) return st;
    mem->embed = (double)tt_fmat_bytes(embed_kind(o), c->vocab, c->hidden);
    mem->lm_head = head_aliases(c, o) ? 0.0 : (double)tt_fmat_bytes(head_kind(o), c->vocab, c->hidden);
    mem->kv = 2.0 * c->layers * (double)o->seq * tt_config_kvdim(c) * (o->kv_f32 ? 4 : 2);
    mem->scratch = state_bytes(c, o->batch, o->seq, (int)sysconf(_SC_NPROCESSORS_ONLN));
    mem->total = mem->ternary + mem->embed + mem->lm_head + mem->norms + mem->kv + mem->scratch;
    return TT_OK;
}

#define GIB(x) ((x) / (1024.0 * 1024.0 * 1024.0))
/* Left free for the program, page tables and the allocator. */
#define TT_MEM_HEADROOM (256.0 * 1024 * 1024)

tt_status tt_model_check_memory(const tt_config *c, const tt_model_opts *o, long long avail_bytes) {
    tt_model_mem mem;
    tt_status st = tt_model_memory(c, o, &mem);
    if (st != TT_OK) return st;
    if (avail_bytes < 0) {
        tt_machine mach;
        tt_machine_describe(&mach);
        avail_bytes = mach.mem_avail_bytes;
    }
    if (avail_bytes <= 0 || mem.total + TT_MEM_HEADROOM <= (double)avail_bytes) return TT_OK;
    /* Which formats would fit?  Densest first in the message. */
    char fits[256] = "";
    size_t fl = 0;
    double best = 0;
    const char *best_name = NULL;
    const tt_wformat order[] = {TT_FMT_TL2, TT_FMT_I2S, TT_FMT_TL1, TT_FMT_FP16, TT_FMT_FP32};
    for (size_t i = 0; i < sizeof order / sizeof order[0]; i++) {
        if (order[i] == o->format || tt_wformat_available(order[i]) != TT_OK) continue;
        tt_model_opts oo = *o;
        oo.format = order[i];
        oo.gemv_name = oo.gemm_name = NULL;
        tt_model_mem m2;
        if (tt_model_memory(c, &oo, &m2) != TT_OK) continue;
        if (!best_name || m2.total < best) {
            best = m2.total;
            best_name = tt_wformat_name(order[i]);
        }
        if (m2.total + TT_MEM_HEADROOM <= (double)avail_bytes && fl < sizeof fits - 40)
            fl += (size_t)snprintf(fits + fl, sizeof fits - fl, "%s%s (%.2f GiB)", fl ? ", " : "",
                                   tt_wformat_name(order[i]), GIB(m2.total));
    }
    char hint[320];
    if (fl)
        snprintf(hint, sizeof hint, "formats that fit: %s", fits);
    else if (best_name)
        snprintf(hint, sizeof hint, "no available format fits; the smallest, %s, needs %.2f GiB", best_name, GIB(best));
    else
        snprintf(hint, sizeof hint, "no other format is available in this build");
    tt_clear_error();
    return tt_set_error(TT_E_NOMEM,
                        "%s in %s needs %.2f GiB (weights %.2f, embedding %.2f, LM head %.2f, KV cache %.2f, "
                        "scratch %.2f) + %.2f GiB headroom, but MemAvailable is %.2f GiB; %s",
                        c->name, tt_wformat_name(o->format), GIB(mem.total), GIB(mem.ternary), GIB(mem.embed),
                        GIB(mem.lm_head), GIB(mem.kv), GIB(mem.scratch), GIB(TT_MEM_HEADROOM), GIB((double)avail_bytes),
                        hint);
}

/* ---- weights -------------------------------------------------------------------------------------------- */
static tt_mat *mat_of(tt_weights *w, int id) {
    if (id < TT_T_GLOBAL_COUNT) return NULL;
    tt_layer *L = &w->layer[(id - TT_T_GLOBAL_COUNT) / TT_TL_COUNT];
    switch ((id - TT_T_GLOBAL_COUNT) % TT_TL_COUNT) {
    case TT_TL_WQ: return &L->wq;
    case TT_TL_WK: return &L->wk;
    case TT_TL_WV: return &L->wv;
    case TT_TL_WO: return &L->wo;
    case TT_TL_WGATE: return &L->wgate;
    case TT_TL_WUP: return &L->wup;
    case TT_TL_WDOWN: return &L->wdown;
    default: return NULL;
    }
}

static float *norm_of(tt_weights *w, int id) {
    if (id == TT_T_FINAL_NORM) return w->final_norm;
    if (id < TT_T_GLOBAL_COUNT) return NULL;
    tt_layer *L = &w->layer[(id - TT_T_GLOBAL_COUNT) / TT_TL_COUNT];
    switch ((id - TT_T_GLOBAL_COUNT) % TT_TL_COUNT) {
    case TT_TL_ATTN_NORM: return L->attn_norm;
    case TT_TL_ATTN_SUB_NORM: return L->attn_sub_norm;
    case TT_TL_FFN_NORM: return L->ffn_norm;
    case TT_TL_FFN_SUB_NORM: return L->ffn_sub_norm;
    default: return NULL;
    }
}

/* One ternary tensor being built: its final buffer and variants. */
typedef struct {
    int id, M, K;
    float scale;
    const tt_variant *gv, *gm;
    uint8_t *buf;         /* final layout (variant's), or NULL when adopted from the file */
    size_t bytes;
    int chunk;            /* rows per work unit (multiple of the variant's row_align) */
    const tt_wf_tensor *src; /* weight-file tensor, or NULL (generate) */
} tplan;

typedef struct {
    int t;       /* index into the plan (ternary) or -1 - tensor id (float tensors) */
    int r0, r1;
} gunit;

typedef struct {
    tt_model *m;
    tplan *plan;
    gunit *units;
    int n_units;
    size_t tmp_i8, tmp_canon;      /* per-thread scratch sizes */
    atomic_int next;
    atomic_llong done;             /* rows x K finished (progress) */
    double total;
    atomic_int failed;
    tt_status st;
    char msg[512];
    tt_weightfile *wf;
} gctx;

static void gfail(gctx *g, tt_status st) {
    int exp = 0;
    if (atomic_compare_exchange_strong(&g->failed, &exp, 1)) {
        g->st = st;
        snprintf(g->msg, sizeof g->msg, "%s", tt_last_error());
    }
}

/* Ternary rows [r0, r1) of plan p as int8 (K per row) from the seed or the file. */
static tt_status ternary_rows_i8(gctx *g, const tplan *p, int r0, int r1, int8_t *w, uint8_t *rowbuf) {
    if (!p->src) {
        for (int r = r0; r < r1; r++) {
            tt_gen_i2s_row(g->m->opts.seed, p->id, r, p->K, rowbuf);
            tt_i2s_row_to_i8(rowbuf, p->K, w + (size_t)(r - r0) * p->K);
        }
        return TT_OK;
    }
    tt_tensor t;
    const tt_wformat sf = p->src->fmt;
    tt_status st = tt_tensor_wrap(&t, sf, r1 - r0, p->K, p->scale, (uint8_t *)p->src->data + tt_wformat_bytes(sf, r0, p->K),
                                  tt_wformat_bytes(sf, r1 - r0, p->K));
    return st != TT_OK ? st : tt_tensor_to_ternary(&t, w);
}

static tt_status do_ternary_unit(gctx *g, const tplan *p, int r0, int r1, int8_t *ti8, uint8_t *tcanon) {
    tt_model *m = g->m;
    const int rows = r1 - r0, K = p->K;
    tt_status st;
    if (!tt_wformat_is_ternary(m->opts.format)) { /* baseline: dequantize into the float matrix */
        tt_mat *mat = mat_of(&m->w, p->id);
        if ((st = ternary_rows_i8(g, p, r0, r1, ti8, tcanon)) != TT_OK) return st;
        for (int r = 0; r < rows; r++) {
            const int8_t *wr = ti8 + (size_t)r * K;
            if (mat->f.kind == TT_FM_F16) {
                uint16_t *d = (uint16_t *)mat->f.w + (size_t)(r0 + r) * K;
                const uint16_t hp = tt_f32_to_f16(p->scale), hn = tt_f32_to_f16(-p->scale);
                for (int k = 0; k < K; k++) d[k] = wr[k] > 0 ? hp : wr[k] < 0 ? hn : 0;
            } else {
                float *d = (float *)mat->f.w + (size_t)(r0 + r) * K;
                for (int k = 0; k < K; k++) d[k] = (float)wr[k] * p->scale;
            }
        }
        return TT_OK;
    }
    const tt_wformat fmt = m->opts.format;
    uint8_t *dst = p->buf + (r0 ? tt_variant_layout_bytes(p->gv, r0, K) : 0);
    uint8_t *canon = p->gv->repack ? tcanon : dst; /* canonical rows land here */
    const size_t cb = tt_wformat_bytes(fmt, rows, K);
    if (p->src && p->src->fmt == (int)fmt) {
        canon = (uint8_t *)p->src->data + tt_wformat_bytes(fmt, r0, K);
        if (!p->gv->repack) memcpy(dst, canon, cb);
    } else if (!p->src && fmt == TT_FMT_I2S) {
        const size_t rb = tt_i2s_row_bytes(K);
        for (int r = 0; r < rows; r++) tt_gen_i2s_row(m->opts.seed, p->id, r0 + r, K, canon + (size_t)r * rb);
    } else {
        uint8_t *rowbuf = p->gv->repack ? tcanon + g->tmp_canon - tt_i2s_row_bytes(K) : tcanon;
        if ((st = ternary_rows_i8(g, p, r0, r1, ti8, rowbuf)) != TT_OK) return st;
        if ((st = tt_wformat_traits_of(fmt)->pack(ti8, rows, K, canon)) != TT_OK) return st;
    }
    if (p->gv->repack) return p->gv->repack(canon, rows, K, dst);
    return TT_OK;
}

/* Rows [r0, r1) of the embedding or the untied LM head. */
static tt_status do_float_unit(gctx *g, int id, int r0, int r1, uint16_t *row16) {
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
        if (src)
            h = (const uint16_t *)src->data + (size_t)r * K;
        else
            tt_gen_f16_row(m->opts.seed, id, r, K, row16);
        for (int j = 0; j < 2; j++) {
            tt_fmat *A = dsts[j];
            if (!A) continue;
            if (A->kind == TT_FM_F16) {
                memcpy((uint16_t *)A->w + (size_t)r * K, h, sizeof(uint16_t) * K);
            } else if (A->kind == TT_FM_F32) {
                float *d = (float *)A->w + (size_t)r * K;
                for (int k = 0; k < K; k++) d[k] = tt_f16_to_f32(h[k]);
            } else { /* int8, per-row absmax */
                float amax = 0.f;
                for (int k = 0; k < K; k++) amax = fmaxf(amax, fabsf(tt_f16_to_f32(h[k])));
                const float s = amax > 0 ? amax / 127.f : 1.f;
                int8_t *d = (int8_t *)A->w + (size_t)r * K;
                for (int k = 0; k < K; k++) d[k] = (int8_t)lrintf(tt_f16_to_f32(h[k]) / s);
                A->row_scale[r] = s;
            }
        }
    }
    return TT_OK;
}

static void gen_worker(void *ctx, int tid, int nth) {
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
        tt_status st;
        long long work;
        if (w->t >= 0) {
            st = do_ternary_unit(g, &g->plan[w->t], w->r0, w->r1, ti8, tc);
            work = (long long)(w->r1 - w->r0) * g->plan[w->t].K;
        } else {
            st = do_float_unit(g, -1 - w->t, w->r0, w->r1, (uint16_t *)tc);
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

tt_status tt_model_init(tt_model *m, const tt_config *c, const tt_model_opts *o, tt_weightfile *wf, tt_pool *pool) {
    memset(m, 0, sizeof *m);
    tt_status st = tt_config_validate(c);
    if (st != TT_OK) return st;
    if (o->batch < 1 || o->seq < 1) return tt_set_error(TT_E_ARG, "model: batch %d and seq %d must be >= 1", o->batch, o->seq);
    if ((st = tt_wformat_available(o->format)) != TT_OK) return st;
    m->cfg = *c;
    m->opts = *o;
    const int threads = pool ? tt_pool_threads(pool) : 1;
    const int ternary = tt_wformat_is_ternary(o->format);
    const tt_wformat fmt = o->format;
    if (wf) {
        const tt_config *fc = tt_weightfile_config(wf);
        if (fc->hidden != c->hidden || fc->ffn != c->ffn || fc->layers != c->layers || fc->heads != c->heads ||
            fc->kv_heads != c->kv_heads || fc->head_dim != c->head_dim || fc->vocab != c->vocab ||
            fc->tied_lm_head != c->tied_lm_head)
            return tt_set_error(TT_E_CONFIG, "weight file holds model %s, whose shapes differ from %s", fc->name, c->name);
        m->opts.seed = tt_weightfile_seed(wf);
    }

    /* ---- allocate ---- */
    tt_weights *w = &m->w;
    const int L = c->layers, d = c->hidden, qd = tt_config_qdim(c), f = c->ffn;
    w->layer = calloc((size_t)L, sizeof *w->layer);
    const size_t norm_floats = (size_t)d + (size_t)L * (2 * (size_t)d + qd + f);
    w->norms = tt_alloc(sizeof(float) * norm_floats, 64, 0);
    if (!w->layer || !w->norms) {
        tt_model_free(m);
        return tt_set_error(TT_E_NOMEM, "model: out of memory for the layer table");
    }
    float *np = w->norms;
    w->final_norm = np, np += d;
    for (int l = 0; l < L; l++) {
        tt_layer *ly = &w->layer[l];
        ly->attn_norm = np, np += d;
        ly->attn_sub_norm = np, np += qd;
        ly->ffn_norm = np, np += d;
        ly->ffn_sub_norm = np, np += f;
    }
    const int nt = tt_model_tensors(c, NULL);
    tt_tdesc *td = malloc(sizeof *td * (size_t)nt);
    tplan *plan = calloc((size_t)nt, sizeof *plan);
    gctx *g = calloc(1, sizeof *g);
    int np_ = 0;
    if (!td || !plan || !g) {
        st = tt_set_error(TT_E_NOMEM, "model: out of memory");
        goto done;
    }
    tt_model_tensors(c, td);
    g->m = m;
    g->plan = plan;
    g->wf = wf;
    size_t n_units = 0;
    /* norms: small, done here; the file's copy when there is one */
    for (int i = 0; i < nt; i++) {
        if (td[i].kind != TT_TK_F32) continue;
        float *dst = norm_of(w, td[i].id);
        const tt_wf_tensor *src = wf ? tt_weightfile_tensor(wf, td[i].id) : NULL;
        if (src) memcpy(dst, src->data, sizeof(float) * td[i].K);
        else tt_gen_norm(m->opts.seed, td[i].id, td[i].K, dst);
    }
    /* embedding + LM head */
    if ((st = tt_fmat_alloc(&w->embed, embed_kind(o), c->vocab, d)) != TT_OK) goto done;
    if (head_aliases(c, o)) {
        w->lm_head = w->embed;
        w->lm_head.owns = 0;
        w->lm_head_aliases = 1;
    } else if ((st = tt_fmat_alloc(&w->lm_head, head_kind(o), c->vocab, d)) != TT_OK) {
        goto done;
    }
    const int emb_chunk = TT_MAX(1, 65536 / d);
    n_units += (size_t)TT_CEIL_DIV(c->vocab, emb_chunk) * (c->tied_lm_head ? 1 : 2);
    size_t tmp_i8 = 0, tmp_canon = sizeof(uint16_t) * (size_t)d;
    for (int i = 0; i < nt; i++) {
        if (td[i].kind != TT_TK_TERNARY) continue;
        tplan *p = &plan[np_++];
        p->id = td[i].id;
        p->M = td[i].M;
        p->K = td[i].K;
        p->src = wf ? tt_weightfile_tensor(wf, p->id) : NULL;
        p->scale = p->src ? p->src->scale : tt_gen_scale(m->opts.seed, p->id, p->K);
        tt_mat *mat = mat_of(w, p->id);
        int align = 4;
        if (ternary) {
            mat->ternary = 1;
            if ((st = pick_variants(o, fmt, p->M, p->K, threads, &p->gv, &p->gm)) != TT_OK) goto done;
            p->bytes = tt_variant_layout_bytes(p->gv, p->M, p->K);
            align = TT_MAX(1, p->gv->row_align);
            if (p->src && p->src->fmt == (int)fmt && !p->gv->repack) {
                p->buf = NULL; /* adopt the file's bytes (mmap) */
            } else {
                p->buf = tt_alloc(p->bytes, 64, 1);
                if (!p->buf) {
                    st = tt_set_error(TT_E_NOMEM, "cannot allocate %zu bytes for tensor %d", p->bytes, p->id);
                    goto done;
                }
            }
        } else if ((st = tt_fmat_alloc(&mat->f, o->format == TT_FMT_FP16 ? TT_FM_F16 : TT_FM_F32, p->M, p->K)) != TT_OK) {
            goto done;
        }
        /* about 128 KiB of int8 rows per unit */
        p->chunk = TT_ROUND_UP(TT_MAX(1, 131072 / p->K), align);
        if (ternary && !p->buf) continue;
        n_units += (size_t)TT_CEIL_DIV(p->M, p->chunk);
        tmp_i8 = TT_MAX(tmp_i8, (size_t)p->chunk * p->K);
        if (ternary)
            tmp_canon = TT_MAX(tmp_canon, tt_wformat_bytes(fmt, p->chunk, p->K) + tt_i2s_row_bytes(p->K));
        tmp_canon = TT_MAX(tmp_canon, tt_i2s_row_bytes(p->K));
    }
    g->units = malloc(sizeof *g->units * (n_units ? n_units : 1));
    if (!g->units) {
        st = tt_set_error(TT_E_NOMEM, "model: out of memory for %zu work units", n_units);
        goto done;
    }
    /* work units: embedding (and untied LM head) rows, then each ternary tensor in row chunks */
    for (int id = TT_T_EMBED; id <= TT_T_LMHEAD; id++) {
        if (id == TT_T_LMHEAD && c->tied_lm_head) continue;
        for (int r = 0; r < c->vocab; r += emb_chunk) {
            g->units[g->n_units++] = (gunit){-1 - id, r, TT_MIN(c->vocab, r + emb_chunk)};
            g->total += (double)(TT_MIN(c->vocab, r + emb_chunk) - r) * d;
        }
    }
    for (int i = 0; i < np_; i++) {
        tplan *p = &plan[i];
        if (ternary && !p->buf) continue;
        for (int r = 0; r < p->M; r += p->chunk) {
            g->units[g->n_units++] = (gunit){i, r, TT_MIN(p->M, r + p->chunk)};
            g->total += (double)(TT_MIN(p->M, r + p->chunk) - r) * p->K;
        }
    }
    g->tmp_i8 = tmp_i8;
    g->tmp_canon = tmp_canon;
    if (g->total <= 0) g->total = 1;
    if (pool && threads > 1)
        tt_pool_run(pool, gen_worker, g);
    else
        gen_worker(g, 0, 1);
    if (atomic_load(&g->failed)) {
        st = tt_set_error(g->st, "%s", g->msg);
        goto done;
    }
    if (o->progress) o->progress(o->progress_ud, "weights", 1.0);

    /* ---- hand the ternary buffers to the seam ---- */
    for (int i = 0; i < np_ && ternary; i++) {
        tplan *p = &plan[i];
        tt_mat *mat = mat_of(w, p->id);
        uint8_t *buf = p->buf ? p->buf : (uint8_t *)p->src->data;
        st = tt_linear_adopt(&mat->lin, fmt, p->M, p->K, p->scale, p->gv->layout, buf, p->bytes, p->buf != NULL, p->gv,
                             p->gm);
        if (st != TT_OK) goto done;
        p->buf = NULL; /* owned by the linear now */
        if (i == 0) {
            m->gemv_used = p->gv->name;
            m->gemm_used = p->gm->name;
        } else if (strcmp(m->gemv_used, p->gv->name) || strcmp(m->gemm_used, p->gm->name)) {
            m->mixed_variants = 1;
        }
    }
    if (!ternary) m->gemv_used = m->gemm_used = tt_fmat_impl(o->format == TT_FMT_FP16 ? TT_FM_F16 : TT_FM_F32);
    m->bytes_weights = (double)w->lm_head.bytes;
    for (int i = 0; i < np_; i++) {
        const tt_mat *mat = mat_of(w, plan[i].id);
        m->bytes_weights += ternary ? (double)mat->lin.w_bytes : (double)mat->f.bytes;
    }
    st = TT_OK;
done:
    if (plan)
        for (int i = 0; i < np_; i++) tt_free(plan[i].buf);
    free(plan);
    free(td);
    if (g) free(g->units);
    free(g);
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
    if (!w->lm_head_aliases) tt_fmat_free(&w->lm_head);
    tt_fmat_free(&w->embed);
    memset(m, 0, sizeof *m);
}

/* ---- run state ------------------------------------------------------------------------------------------- */
tt_status tt_state_init(tt_state *s, const tt_model *m, int nthreads) {
    memset(s, 0, sizeof *s);
    const tt_config *c = &m->cfg;
    const int n = m->opts.batch, seq = m->opts.seq, d = c->hidden, qd = tt_config_qdim(c), kv = tt_config_kvdim(c);
    const int hd2 = c->head_dim / 2;
    s->cap_n = n;
    s->seq = seq;
    s->nthreads = nthreads < 1 ? 1 : nthreads;
    s->kv_f32 = m->opts.kv_f32;
    const size_t es = s->kv_f32 ? 4 : 2, kvn = (size_t)c->layers * seq * kv;
#define FA(ptr, count) (ptr = tt_alloc(sizeof(float) * (size_t)(count), 64, 0))
    int ok = FA(s->x, (size_t)n * d) && FA(s->xb, (size_t)n * TT_MAX(d, qd)) && FA(s->q, (size_t)n * qd) &&
             FA(s->k, (size_t)n * kv) && FA(s->v, (size_t)n * kv) && FA(s->att, (size_t)n * qd) &&
             FA(s->hb, (size_t)n * c->ffn) && FA(s->hb2, (size_t)n * c->ffn) && FA(s->xo, (size_t)n * d) &&
             FA(s->scores, (size_t)s->nthreads * seq) && FA(s->logits, c->vocab) &&
             FA(s->rope_cos, (size_t)seq * hd2) && FA(s->rope_sin, (size_t)seq * hd2);
#undef FA
    if (ok) {
        s->key_cache = tt_alloc(es * kvn, 64, 1);
        s->value_cache = tt_alloc(es * kvn, 64, 1);
        ok = s->key_cache && s->value_cache;
    }
    if (ok && tt_wformat_is_ternary(m->opts.format))
        ok = tt_qact_alloc(&s->qa_hidden, n, d) == TT_OK && tt_qact_alloc(&s->qa_q, n, qd) == TT_OK &&
             tt_qact_alloc(&s->qa_ffn, n, c->ffn) == TT_OK;
    if (!ok) {
        tt_state_free(s);
        return tt_set_error(TT_E_NOMEM, "run state: cannot allocate buffers for %d tokens x %d positions", n, seq);
    }
    /* RoPE, "rotate half": pair (i, i + head_dim/2) turns by pos * theta^(-2i / head_dim) */
    for (int p = 0; p < seq; p++)
        for (int i = 0; i < hd2; i++) {
            const double a = p * pow((double)c->rope_theta, -2.0 * i / c->head_dim);
            s->rope_cos[(size_t)p * hd2 + i] = (float)cos(a);
            s->rope_sin[(size_t)p * hd2 + i] = (float)sin(a);
        }
    return TT_OK;
}

void tt_state_free(tt_state *s) {
    float **fl[] = {&s->x, &s->xb, &s->q, &s->k, &s->v, &s->att, &s->hb, &s->hb2, &s->xo, &s->scores, &s->logits,
                    &s->rope_cos, &s->rope_sin};
    for (size_t i = 0; i < sizeof fl / sizeof fl[0]; i++) tt_free(*fl[i]);
    tt_free(s->key_cache);
    tt_free(s->value_cache);
    if (s->qa_hidden.q) tt_qact_free(&s->qa_hidden);
    if (s->qa_q.q) tt_qact_free(&s->qa_q);
    if (s->qa_ffn.q) tt_qact_free(&s->qa_ffn);
    tt_workspace_free(&s->ws);
    memset(s, 0, sizeof *s);
}

/* ---- forward pass ------------------------------------------------------------------------------------------ */
static void rmsnorm(float *o, const float *x, const float *w, int n, float eps) {
    float ss = 0.f;
    for (int i = 0; i < n; i++) ss += x[i] * x[i];
    const float r = 1.0f / sqrtf(ss / n + eps);
    for (int i = 0; i < n; i++) o[i] = x[i] * r * w[i];
}

/* y (n, M) = W x for n tokens; ternary: x already quantized into qa. */
static tt_status matmul(const tt_mat *W, tt_qact *qa, const float *x, int ldx, int n, float *y, int ldy, tt_pool *pool,
                        tt_workspace *ws) {
    if (W->ternary) return tt_linear_forward(&W->lin, qa, y, ldy, pool, ws);
    return tt_fmat_forward(&W->f, x, ldx, n, y, ldy, pool);
}

static void rope(float *v, int nheads, int hd, const float *cs, const float *sn) {
    const int h2 = hd / 2;
    for (int h = 0; h < nheads; h++) {
        float *p = v + (size_t)h * hd;
        for (int i = 0; i < h2; i++) {
            const float a = p[i], b = p[i + h2];
            p[i] = a * cs[i] - b * sn[i];
            p[i + h2] = a * sn[i] + b * cs[i];
        }
    }
}

typedef struct {
    const tt_model *m;
    tt_state *s;
    int l, n, pos;
} att_task;

/* Causal attention for work items (token t, head h), split over threads.
 * Token t (position pos + t) sees cache positions 0 .. pos + t. */
static void att_worker(void *ctx, int tid, int nth) {
    const att_task *a = ctx;
    const tt_config *c = &a->m->cfg;
    tt_state *s = a->s;
    const tt_fkern_table *fk = tt_fkern();
    const int hd = c->head_dim, qd = tt_config_qdim(c), kv = tt_config_kvdim(c), group = c->heads / c->kv_heads;
    const float inv = 1.0f / sqrtf((float)hd);
    const size_t lbase = (size_t)a->l * s->seq * kv;
    float *sc = s->scores + (size_t)tid * s->seq;
    int lo, hi;
    tt_split_range(a->n * c->heads, nth, tid, 1, &lo, &hi);
    for (int it = lo; it < hi; it++) {
        const int t = it / c->heads, h = it % c->heads, len = a->pos + t + 1;
        const float *q = s->q + (size_t)t * qd + (size_t)h * hd;
        const size_t off = (size_t)(h / group) * hd;
        float mx = -INFINITY;
        for (int p = 0; p < len; p++) {
            const size_t at = lbase + (size_t)p * kv + off;
            float dot;
            if (s->kv_f32) {
                const float *kp = (const float *)s->key_cache + at;
                dot = 0.f;
                for (int i = 0; i < hd; i++) dot += q[i] * kp[i];
            } else {
                dot = fk->dot_f16(q, (const uint16_t *)s->key_cache + at, hd);
            }
            sc[p] = dot * inv;
            mx = fmaxf(mx, sc[p]);
        }
        float sum = 0.f;
        for (int p = 0; p < len; p++) sum += (sc[p] = expf(sc[p] - mx));
        const float rs = 1.0f / sum;
        float *o = s->att + (size_t)t * qd + (size_t)h * hd;
        memset(o, 0, sizeof(float) * hd);
        for (int p = 0; p < len; p++) {
            const size_t at = lbase + (size_t)p * kv + off;
            const float wgt = sc[p] * rs;
            if (s->kv_f32) {
                const float *vp = (const float *)s->value_cache + at;
                for (int i = 0; i < hd; i++) o[i] += wgt * vp[i];
            } else {
                fk->axpy_f16(o, wgt, (const uint16_t *)s->value_cache + at, hd);
            }
        }
    }
}

tt_status tt_model_forward(const tt_model *m, tt_state *s, const int *tokens, int n, tt_pool *pool) {
    const tt_config *c = &m->cfg;
    const tt_weights *w = &m->w;
    if (n < 1 || n > s->cap_n) return tt_set_error(TT_E_ARG, "forward: %d tokens, the state holds %d", n, s->cap_n);
    if (pool && tt_pool_threads(pool) > s->nthreads)
        return tt_set_error(TT_E_ARG, "forward: pool of %d threads, the state was made for %d", tt_pool_threads(pool),
                            s->nthreads);
    if (s->pos + n > s->seq)
        return tt_set_error(TT_E_ARG, "forward: positions %d..%d exceed the KV cache (%d)", s->pos, s->pos + n - 1, s->seq);
    const int d = c->hidden, qd = tt_config_qdim(c), kv = tt_config_kvdim(c), hd = c->head_dim, f = c->ffn;
    const int xbd = TT_MAX(d, qd), pos = s->pos, ternary = tt_wformat_is_ternary(m->opts.format);
    const tt_fkern_table *fk = tt_fkern();
    tt_status st;
    for (int t = 0; t < n; t++) {
        if (tokens[t] < 0 || tokens[t] >= c->vocab)
            return tt_set_error(TT_E_ARG, "forward: token %d outside the vocabulary [0, %d)", tokens[t], c->vocab);
        float *x = s->x + (size_t)t * d;
        if (w->embed.kind == TT_FM_F32) memcpy(x, (const float *)w->embed.w + (size_t)tokens[t] * d, sizeof(float) * d);
        else fk->f16_to_f32((const uint16_t *)w->embed.w + (size_t)tokens[t] * d, x, d);
    }
    for (int l = 0; l < c->layers; l++) {
        const tt_layer *L = &w->layer[l];
        /* attention */
        for (int t = 0; t < n; t++) rmsnorm(s->xb + (size_t)t * xbd, s->x + (size_t)t * d, L->attn_norm, d, c->norm_eps);
        if (ternary && (st = tt_quantize_act(&s->qa_hidden, s->xb, n, xbd)) != TT_OK) return st;
        if ((st = matmul(&L->wq, &s->qa_hidden, s->xb, xbd, n, s->q, qd, pool, &s->ws)) != TT_OK ||
            (st = matmul(&L->wk, &s->qa_hidden, s->xb, xbd, n, s->k, kv, pool, &s->ws)) != TT_OK ||
            (st = matmul(&L->wv, &s->qa_hidden, s->xb, xbd, n, s->v, kv, pool, &s->ws)) != TT_OK)
            return st;
        for (int t = 0; t < n; t++) {
            const float *cs = s->rope_cos + (size_t)(pos + t) * (hd / 2), *sn = s->rope_sin + (size_t)(pos + t) * (hd / 2);
            rope(s->q + (size_t)t * qd, c->heads, hd, cs, sn);
            rope(s->k + (size_t)t * kv, c->kv_heads, hd, cs, sn);
            const size_t at = ((size_t)l * s->seq + pos + t) * kv;
            if (s->kv_f32) {
                memcpy((float *)s->key_cache + at, s->k + (size_t)t * kv, sizeof(float) * kv);
                memcpy((float *)s->value_cache + at, s->v + (size_t)t * kv, sizeof(float) * kv);
            } else {
                fk->f32_to_f16(s->k + (size_t)t * kv, (uint16_t *)s->key_cache + at, kv);
                fk->f32_to_f16(s->v + (size_t)t * kv, (uint16_t *)s->value_cache + at, kv);
            }
        }
        att_task at = {m, s, l, n, pos};
        if (pool && tt_pool_threads(pool) > 1) tt_pool_run(pool, att_worker, &at);
        else att_worker(&at, 0, 1);
        for (int t = 0; t < n; t++)
            rmsnorm(s->xb + (size_t)t * xbd, s->att + (size_t)t * qd, L->attn_sub_norm, qd, c->norm_eps);
        if (ternary && (st = tt_quantize_act(&s->qa_q, s->xb, n, xbd)) != TT_OK) return st;
        if ((st = matmul(&L->wo, &s->qa_q, s->xb, xbd, n, s->xo, d, pool, &s->ws)) != TT_OK) return st;
        for (size_t i = 0; i < (size_t)n * d; i++) s->x[i] += s->xo[i];
        /* feed-forward */
        for (int t = 0; t < n; t++) rmsnorm(s->xb + (size_t)t * xbd, s->x + (size_t)t * d, L->ffn_norm, d, c->norm_eps);
        if (ternary && (st = tt_quantize_act(&s->qa_hidden, s->xb, n, xbd)) != TT_OK) return st;
        if ((st = matmul(&L->wgate, &s->qa_hidden, s->xb, xbd, n, s->hb, f, pool, &s->ws)) != TT_OK ||
            (st = matmul(&L->wup, &s->qa_hidden, s->xb, xbd, n, s->hb2, f, pool, &s->ws)) != TT_OK)
            return st;
        for (size_t i = 0; i < (size_t)n * f; i++) {
            const float g = s->hb[i];
            const float a = c->act == TT_ACT_RELU2 ? (g > 0 ? g * g : 0.f) : g / (1.0f + expf(-g));
            s->hb[i] = a * s->hb2[i];
        }
        for (int t = 0; t < n; t++) rmsnorm(s->hb + (size_t)t * f, s->hb + (size_t)t * f, L->ffn_sub_norm, f, c->norm_eps);
        if (ternary && (st = tt_quantize_act(&s->qa_ffn, s->hb, n, f)) != TT_OK) return st;
        if ((st = matmul(&L->wdown, &s->qa_ffn, s->hb, f, n, s->xo, d, pool, &s->ws)) != TT_OK) return st;
        for (size_t i = 0; i < (size_t)n * d; i++) s->x[i] += s->xo[i];
    }
    /* logits of the last token */
    rmsnorm(s->xb, s->x + (size_t)(n - 1) * d, w->final_norm, d, c->norm_eps);
    if ((st = tt_fmat_forward(&w->lm_head, s->xb, d, 1, s->logits, c->vocab, pool)) != TT_OK) return st;
    s->pos += n;
    return TT_OK;
}

tt_status tt_model_prefill(const tt_model *m, tt_state *s, const int *tokens, int n, tt_pool *pool) {
    for (int i = 0; i < n; i += s->cap_n) {
        tt_status st = tt_model_forward(m, s, tokens + i, TT_MIN(s->cap_n, n - i), pool);
        if (st != TT_OK) return st;
    }
    return TT_OK;
}

int tt_argmax(const float *v, int n) {
    int best = 0;
    for (int i = 1; i < n; i++)
        if (v[i] > v[best]) best = i;
    return best;
}

double tt_model_bytes_per_token(const tt_model *m, int ctx) {
    const tt_config *c = &m->cfg;
    const double es_emb = m->w.embed.kind == TT_FM_F32 ? 4 : 2, es_kv = m->opts.kv_f32 ? 4 : 2;
    const double norms = 4.0 * ((double)c->hidden + c->layers * (2.0 * c->hidden + tt_config_qdim(c) + c->ffn));
    return m->bytes_weights + es_emb * c->hidden + norms + 2.0 * c->layers * (double)ctx * tt_config_kvdim(c) * es_kv;
}
