/* tritune: the forward pass of the BitNet b1.58 decoder (see forward.h and
 * model.h for the block), readable top to bottom: the run state, the small
 * operations, then one layer as an attention block and a feed-forward
 * block, then the model.
 *
 * Ternary formats quantize each BitLinear's input to int8 per token and
 * run it through the seam (tt_linear_forward: the tuned kernels); the
 * baselines run float matrices on the unquantized input (tt_fmat_forward). */
#include "model/forward.h"

#include <math.h>
#include <string.h>

#include "core/timing.h"
#include "model/fkern.h"

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
             FA(s->scores, tt_attn_scores_floats(c->heads, s->nthreads, seq)) && FA(s->logits, c->vocab) &&
             FA(s->att_scratch, (size_t)s->nthreads * tt_attn_scratch_floats(c->head_dim)) &&
             FA(s->att_kt, (size_t)kv * tt_attn_keys(seq)) && FA(s->att_vf, (size_t)kv * tt_attn_keys(seq)) &&
             FA(s->rope_cos, (size_t)seq * hd2) && FA(s->rope_sin, (size_t)seq * hd2);
#undef FA
    if (ok) {
        s->key_cache = tt_alloc(es * kvn, 64, 1);
        s->value_cache = tt_alloc(es * kvn, 64, 1);
        s->case_times = tt_alloc(sizeof(tt_case_times) * (size_t)s->nthreads, 64, 1);
        ok = s->key_cache && s->value_cache && s->case_times;
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
    float **fl[] = {&s->x,      &s->xb,     &s->q,        &s->k,           &s->v,        &s->att,
                    &s->hb,     &s->hb2,    &s->xo,       &s->scores,      &s->logits,   &s->att_scratch,
                    &s->att_kt, &s->att_vf, &s->rope_cos, &s->rope_sin};
    for (size_t i = 0; i < sizeof fl / sizeof fl[0]; i++) tt_free(*fl[i]);
    tt_free(s->key_cache);
    tt_free(s->value_cache);
    tt_free(s->case_times);
    if (s->qa_hidden.q) tt_qact_free(&s->qa_hidden);
    if (s->qa_q.q) tt_qact_free(&s->qa_q);
    if (s->qa_ffn.q) tt_qact_free(&s->qa_ffn);
    tt_workspace_free(&s->ws);
    memset(s, 0, sizeof *s);
}

/* ---- operations ------------------------------------------------------------------------------------------ */
/* y (n, M) = W x for n tokens; ternary: x already quantized into qa. */
static tt_status matmul(const tt_mat *W, tt_qact *qa, const float *x, int ldx, int n, float *y, int ldy, tt_pool *pool,
                        tt_workspace *ws) {
    if (W->ternary) return tt_linear_forward(&W->lin, qa, y, ldy, pool, ws);
    return tt_fmat_forward(&W->f, x, ldx, n, y, ldy, pool);
}

/* ---- the profile (profile.h) --------------------------------------------------------------------------- */
/* The clock when profiling, else 0. */
static inline uint64_t pf_now(const tt_state *s) { return s->prof ? tt_now_ns() : 0; }
/* Wall time since t0 and `bytes` read to `part`. */
static inline void pf_add(tt_state *s, int part, uint64_t t0, double bytes) {
    if (!s->prof) return;
    s->prof->ns[part] += (double)(tt_now_ns() - t0);
    s->prof->bytes[part] += bytes;
}
/* A pool dispatch of wall time since t0 in which thread 0 worked work_ns
 * (of which prep_ns building tables): the rest was waiting. */
static inline void pf_dispatch(tt_state *s, int part, uint64_t t0, double work_ns, double prep_ns, double bytes) {
    const double wall = (double)(tt_now_ns() - t0);
    s->prof->ns[part] += work_ns;
    s->prof->ns[TT_PROF_TABLES] += prep_ns;
    s->prof->ns[TT_PROF_WAIT] += TT_MAX(0.0, wall - work_ns - prep_ns);
    s->prof->bytes[part] += bytes;
}

/* n matrices on the same input x (ternary: quantized in qa): one
 * dispatch for q/k/v or gate/up when their kernels allow it
 * (tt_linear_forward_many); time and bytes added to `part` when profiling. */
static tt_status pmatmul_many(tt_state *s, int part, const tt_mat *const *W, int n, tt_qact *qa, const float *x, int ldx,
                              int ntok, float *const *y, const int *ldy, tt_pool *pool) {
    const tt_case_times b = s->prof ? s->case_times[0] : (tt_case_times){0};
    const uint64_t t0 = pf_now(s);
    tt_status st = TT_OK;
    if (W[0]->ternary) {
        const tt_linear *L[TT_LINEAR_MANY_MAX];
        for (int i = 0; i < n; i++) L[i] = &W[i]->lin;
        s->ws.times = s->prof ? s->case_times : NULL;
        st = tt_linear_forward_many(L, n, qa, y, ldy, pool, &s->ws);
        s->ws.times = NULL;
    } else {
        for (int i = 0; i < n && st == TT_OK; i++) st = matmul(W[i], qa, x, ldx, ntok, y[i], ldy[i], pool, &s->ws);
    }
    if (!s->prof) return st;
    double bytes = 0;
    for (int i = 0; i < n; i++) bytes += W[i]->ternary ? (double)W[i]->lin.w_bytes : (double)W[i]->f.bytes;
    const tt_case_times *a = &s->case_times[0];
    if (W[0]->ternary)
        pf_dispatch(s, part, t0, (double)(a->kernel_ns - b.kernel_ns), (double)(a->prep_ns - b.prep_ns), bytes);
    else /* float baselines: the whole wall time */
        pf_dispatch(s, part, t0, (double)(tt_now_ns() - t0), 0, bytes);
    return st;
}

/* One matrix. */
static tt_status pmatmul(tt_state *s, int part, const tt_mat *W, tt_qact *qa, const float *x, int ldx, int n, float *y,
                         int ldy, tt_pool *pool) {
    return pmatmul_many(s, part, &W, 1, qa, x, ldx, n, &y, &ldy, pool);
}

/* Activations of n tokens (row stride ld) quantized into qa, timed as act_quant. */
static tt_status pquant(tt_state *s, tt_qact *qa, const float *x, int n, int ld) {
    const uint64_t t0 = pf_now(s);
    const tt_status st = tt_quantize_act(qa, x, n, ld);
    pf_add(s, TT_PROF_QUANT, t0, 0);
    return st;
}

typedef struct {
    const tt_model *m;
    tt_state *s;
    int l, n, pos;
    tt_pool *pool;   /* for the barrier of the blocked path */
    double work0_ns; /* thread 0's time in the worker (profile)  */
    tt_task_fn fn;   /* att_worker or att_block_worker            */
} att_task;

/* Ahead of the reads of KV row p: the row of position p + KV_AHEAD (es-byte
 * elements, n of them), a cache line at a time.  One head's rows lie a whole
 * KV row apart (kv_dim elements), a stride the hardware prefetchers follow
 * slowly; after a layer's weights have streamed through, the cache rows are
 * in neither L1 nor L2. */
#define KV_AHEAD 8
static inline void kv_prefetch(const void *row, size_t bytes) {
    for (size_t b = 0; b < bytes; b += 64) __builtin_prefetch((const char *)row + b, 0, 3);
}

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
        const size_t es = s->kv_f32 ? 4 : 2;
        for (int p = 0; p < len; p++) {
            const size_t at = lbase + (size_t)p * kv + off;
            if (p + KV_AHEAD < len) kv_prefetch((const char *)s->key_cache + (at + (size_t)KV_AHEAD * kv) * es, es * hd);
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
            if (p + KV_AHEAD < len) kv_prefetch((const char *)s->value_cache + (at + (size_t)KV_AHEAD * kv) * es, es * hd);
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

/* The prompt pass, blocked (fkern's attn_convert and attn_rows): first the
 * layer's keys and values 0 .. pos+n-1 are converted to fp32 once, in
 * blocks of TT_ATTN_KBLK keys per KV head shared out over the threads;
 * then work items (KV head, chunk of tokens), whose query rows (tokens x
 * the heads of the group) share every block of keys, are dealt
 * round-robin so the long causal rows of late tokens spread over the
 * threads. */
static void att_block_worker(void *ctx, int tid, int nth) {
    const att_task *a = ctx;
    const tt_config *c = &a->m->cfg;
    tt_state *s = a->s;
    const tt_fkern_table *fk = tt_fkern();
    const int hd = c->head_dim, qd = tt_config_qdim(c), kv = tt_config_kvdim(c), group = c->heads / c->kv_heads;
    const size_t lbase = (size_t)a->l * s->seq * kv, ldkt = (size_t)tt_attn_keys(s->seq);
    const int len = a->pos + a->n, blocks = TT_CEIL_DIV(len, TT_ATTN_KBLK);
    for (int it = tid; it < c->kv_heads * blocks; it += nth) {
        const int g = it % c->kv_heads, p0 = (it / c->kv_heads) * TT_ATTN_KBLK;
        fk->attn_convert((const uint16_t *)s->key_cache + lbase + (size_t)g * hd,
                         (const uint16_t *)s->value_cache + lbase + (size_t)g * hd, (size_t)kv, hd, p0,
                         TT_MIN(len, p0 + TT_ATTN_KBLK), p0 + TT_ATTN_KBLK, s->att_kt + (size_t)g * hd * ldkt,
                         ldkt, s->att_vf + (size_t)g * ldkt * hd);
    }
    if (nth > 1) tt_pool_barrier(a->pool); /* every block converted before any row reads it */
    const int tch = TT_MAX(1, TT_ATTN_QCHUNK / group), chunks = TT_CEIL_DIV(a->n, tch);
    float *scratch = s->att_scratch + (size_t)tid * tt_attn_scratch_floats(hd);
    const float *qrow[TT_ATTN_QCHUNK];
    float *orow[TT_ATTN_QCHUNK];
    int qpos[TT_ATTN_QCHUNK];
    for (int it = tid; it < c->kv_heads * chunks; it += nth) {
        const int g = it % c->kv_heads, t0 = (it / c->kv_heads) * tch, t1 = TT_MIN(a->n, t0 + tch);
        int nq = 0;
        for (int t = t0; t < t1; t++)
            for (int j = 0; j < group && nq < TT_ATTN_QCHUNK; j++, nq++) {
                const int h = g * group + j;
                qrow[nq] = s->q + (size_t)t * qd + (size_t)h * hd;
                orow[nq] = s->att + (size_t)t * qd + (size_t)h * hd;
                qpos[nq] = a->pos + t;
            }
        fk->attn_rows(qrow, qpos, nq, s->att_kt + (size_t)g * hd * ldkt, ldkt, s->att_vf + (size_t)g * ldkt * hd, hd,
                      1.0f / sqrtf((float)hd), orow, scratch);
    }
}

/* The token pass (one token, fp16 cache): fkern's attn_token over the
 * whole KV-head groups of this thread, which reads the cache rows in
 * position order. */
static void att_token_worker(void *ctx, int tid, int nth) {
    const att_task *a = ctx;
    const tt_config *c = &a->m->cfg;
    tt_state *s = a->s;
    const int hd = c->head_dim, kv = tt_config_kvdim(c), group = c->heads / c->kv_heads;
    int g0, g1;
    tt_split_range(c->kv_heads, nth, tid, 1, &g0, &g1);
    if (g0 >= g1) return;
    const size_t lbase = (size_t)a->l * s->seq * kv;
    tt_fkern()->attn_token(s->q, (const uint16_t *)s->key_cache + lbase, (const uint16_t *)s->value_cache + lbase,
                           (size_t)kv, a->pos + 1, hd, group, g0 * group, g1 * group, 1.0f / sqrtf((float)hd), s->att,
                           s->scores + (size_t)g0 * group * TT_ATTN_TOKEN_BLK);
}

/* The attention worker, thread 0's share timed when profiling. */
static void att_timed(void *ctx, int tid, int nth) {
    att_task *a = ctx;
    const uint64_t t0 = tid == 0 ? pf_now(a->s) : 0;
    a->fn(ctx, tid, nth);
    if (tid == 0 && a->s->prof) a->work0_ns += (double)(tt_now_ns() - t0);
}

/* ---- one layer ---------------------------------------------------------------------------------------------- */
/* Shapes of the config, for the blocks below. */
typedef struct {
    int d, qd, kv, hd, f;
    int xbd; /* row stride of xb: max(d, qd) */
} dims;

static dims dims_of(const tt_config *c) {
    const int d = c->hidden, qd = tt_config_qdim(c);
    return (dims){d, qd, tt_config_kvdim(c), c->head_dim, c->ffn, TT_MAX(d, qd)};
}

/* x += o_proj(RMSNorm(attention(RoPE(q, k), v)) * attn_sub_norm), with
 * q, k, v = BitLinear(RMSNorm(x) * attn_norm); keys and values of the n
 * tokens are appended to the cache of layer l at positions pos.. */
static tt_status attention_block(const tt_model *m, tt_state *s, int l, int n, tt_pool *pool) {
    const tt_config *c = &m->cfg;
    const tt_layer *L = &m->w.layer[l];
    const dims D = dims_of(c);
    const int pos = s->pos, ternary = tt_wformat_is_ternary(m->opts.format);
    const tt_fkern_table *fk = tt_fkern();
    tt_status st;
    uint64_t t0 = pf_now(s);
    for (int t = 0; t < n; t++) fk->rmsnorm(s->xb + (size_t)t * D.xbd, s->x + (size_t)t * D.d, L->attn_norm, D.d, c->norm_eps);
    pf_add(s, TT_PROF_NORMS, t0, sizeof(float) * D.d);
    if (ternary && (st = pquant(s, &s->qa_hidden, s->xb, n, D.xbd)) != TT_OK) return st;
    const tt_mat *qkv[3] = {&L->wq, &L->wk, &L->wv};
    float *const qkv_y[3] = {s->q, s->k, s->v};
    const int qkv_ld[3] = {D.qd, D.kv, D.kv};
    if ((st = pmatmul_many(s, TT_PROF_QKV, qkv, 3, &s->qa_hidden, s->xb, D.xbd, n, qkv_y, qkv_ld, pool)) != TT_OK) return st;
    t0 = pf_now(s);
    for (int t = 0; t < n; t++) {
        const float *cs = s->rope_cos + (size_t)(pos + t) * (D.hd / 2), *sn = s->rope_sin + (size_t)(pos + t) * (D.hd / 2);
        fk->rope(s->q + (size_t)t * D.qd, c->heads, D.hd, cs, sn);
        fk->rope(s->k + (size_t)t * D.kv, c->kv_heads, D.hd, cs, sn);
        const size_t at = ((size_t)l * s->seq + pos + t) * D.kv;
        if (s->kv_f32) {
            memcpy((float *)s->key_cache + at, s->k + (size_t)t * D.kv, sizeof(float) * D.kv);
            memcpy((float *)s->value_cache + at, s->v + (size_t)t * D.kv, sizeof(float) * D.kv);
        } else {
            fk->f32_to_f16(s->k + (size_t)t * D.kv, (uint16_t *)s->key_cache + at, D.kv);
            fk->f32_to_f16(s->v + (size_t)t * D.kv, (uint16_t *)s->value_cache + at, D.kv);
        }
    }
    pf_add(s, TT_PROF_NORMS, t0, 0);
    att_task at = {m, s, l, n, pos, pool, 0, NULL};
    /* several tokens, fp16 cache, a blocked kernel: the blocked path (a
     * group of more than TT_ATTN_QCHUNK heads keeps the simple one) */
    const int blocked = n > 1 && !s->kv_f32 && fk->attn_rows && fk->attn_convert && D.hd % 16 == 0 &&
                        c->heads / c->kv_heads <= TT_ATTN_QCHUNK;
    const int token = n == 1 && !s->kv_f32 && fk->attn_token && D.hd <= TT_ATTN_TOKEN_HD &&
                      c->heads <= TT_ATTN_TOKEN_HEADS;
    at.fn = blocked ? att_block_worker : token ? att_token_worker : att_worker;
    t0 = pf_now(s);
    if (pool && tt_pool_threads(pool) > 1) tt_pool_run(pool, att_timed, &at);
    else att_timed(&at, 0, 1);
    if (s->prof) { /* keys and values of positions 0 .. pos+n-1, read once per KV head */
        const double es = s->kv_f32 ? 4 : 2, rows = (double)n * pos + (double)n * (n + 1) / 2;
        pf_dispatch(s, TT_PROF_ATTN, t0, at.work0_ns, 0, 2 * es * D.kv * (blocked ? pos + n : rows));
    }
    t0 = pf_now(s);
    for (int t = 0; t < n; t++)
        fk->rmsnorm(s->xb + (size_t)t * D.xbd, s->att + (size_t)t * D.qd, L->attn_sub_norm, D.qd, c->norm_eps);
    pf_add(s, TT_PROF_NORMS, t0, sizeof(float) * D.qd);
    if (ternary && (st = pquant(s, &s->qa_q, s->xb, n, D.xbd)) != TT_OK) return st;
    if ((st = pmatmul(s, TT_PROF_O, &L->wo, &s->qa_q, s->xb, D.xbd, n, s->xo, D.d, pool)) != TT_OK) return st;
    t0 = pf_now(s);
    fk->add(s->x, s->xo, (size_t)n * D.d);
    pf_add(s, TT_PROF_NORMS, t0, 0);
    return TT_OK;
}

/* x += down(RMSNorm(act(gate(hn)) * up(hn)) * ffn_sub_norm), hn = RMSNorm(x) * ffn_norm. */
static tt_status ffn_block(const tt_model *m, tt_state *s, int l, int n, tt_pool *pool) {
    const tt_config *c = &m->cfg;
    const tt_layer *L = &m->w.layer[l];
    const dims D = dims_of(c);
    const int f = D.f, ternary = tt_wformat_is_ternary(m->opts.format);
    const tt_fkern_table *fk = tt_fkern();
    tt_status st;
    uint64_t t0 = pf_now(s);
    for (int t = 0; t < n; t++) fk->rmsnorm(s->xb + (size_t)t * D.xbd, s->x + (size_t)t * D.d, L->ffn_norm, D.d, c->norm_eps);
    pf_add(s, TT_PROF_NORMS, t0, sizeof(float) * D.d);
    if (ternary && (st = pquant(s, &s->qa_hidden, s->xb, n, D.xbd)) != TT_OK) return st;
    const tt_mat *gu[2] = {&L->wgate, &L->wup};
    float *const gu_y[2] = {s->hb, s->hb2};
    const int gu_ld[2] = {f, f};
    if ((st = pmatmul_many(s, TT_PROF_GATE_UP, gu, 2, &s->qa_hidden, s->xb, D.xbd, n, gu_y, gu_ld, pool)) != TT_OK) return st;
    t0 = pf_now(s);
    fk->glu(s->hb, s->hb2, (size_t)n * f, c->act == TT_ACT_SILU);
    for (int t = 0; t < n; t++) fk->rmsnorm(s->hb + (size_t)t * f, s->hb + (size_t)t * f, L->ffn_sub_norm, f, c->norm_eps);
    pf_add(s, TT_PROF_NORMS, t0, sizeof(float) * f);
    if (ternary && (st = pquant(s, &s->qa_ffn, s->hb, n, f)) != TT_OK) return st;
    if ((st = pmatmul(s, TT_PROF_DOWN, &L->wdown, &s->qa_ffn, s->hb, f, n, s->xo, D.d, pool)) != TT_OK) return st;
    t0 = pf_now(s);
    fk->add(s->x, s->xo, (size_t)n * D.d);
    pf_add(s, TT_PROF_NORMS, t0, 0);
    return TT_OK;
}

/* ---- the model ---------------------------------------------------------------------------------------------- */
tt_status tt_model_forward(const tt_model *m, tt_state *s, const int *tokens, int n, tt_pool *pool) {
    const tt_config *c = &m->cfg;
    const tt_weights *w = &m->w;
    if (n < 1 || n > s->cap_n) return tt_set_error(TT_E_ARG, "forward: %d tokens, the state holds %d", n, s->cap_n);
    if (pool && tt_pool_threads(pool) > s->nthreads)
        return tt_set_error(TT_E_ARG, "forward: pool of %d threads, the state was made for %d", tt_pool_threads(pool),
                            s->nthreads);
    if (s->pos + n > s->seq)
        return tt_set_error(TT_E_ARG, "forward: positions %d..%d exceed the KV cache (%d)", s->pos, s->pos + n - 1, s->seq);
    const int d = c->hidden;
    const tt_fkern_table *fk = tt_fkern();
    tt_status st;
    const uint64_t t_fwd = pf_now(s);
    double parts0 = 0;
    if (s->prof)
        for (int i = 0; i < TT_PROF_COUNT; i++) parts0 += s->prof->ns[i];
    /* token embeddings */
    for (int t = 0; t < n; t++) {
        if (tokens[t] < 0 || tokens[t] >= c->vocab)
            return tt_set_error(TT_E_ARG, "forward: token %d outside the vocabulary [0, %d)", tokens[t], c->vocab);
        tt_fmat_get_row(&w->embed, tokens[t], s->x + (size_t)t * d);
    }
    /* the layers */
    for (int l = 0; l < c->layers; l++)
        if ((st = attention_block(m, s, l, n, pool)) != TT_OK || (st = ffn_block(m, s, l, n, pool)) != TT_OK) return st;
    /* logits of the last token */
    const uint64_t t0 = pf_now(s);
    fk->rmsnorm(s->xb, s->x + (size_t)(n - 1) * d, w->final_norm, d, c->norm_eps);
    if ((st = tt_fmat_forward(&w->lm_head, s->xb, d, 1, s->logits, c->vocab, pool)) != TT_OK) return st;
    pf_add(s, TT_PROF_LM_HEAD, t0, (double)w->lm_head.bytes);
    /* weights inside the weight file's ranges can still overflow fp32 together: an error, never garbage "ok" */
    for (int i = 0; i < c->vocab; i++)
        if (!isfinite(s->logits[i]))
            return tt_set_error(TT_E_FORMAT, "forward: logit %d is %g: the weights overflow fp32", i, (double)s->logits[i]);
    s->pos += n;
    if (s->prof) { /* the forward call's time outside the parts */
        const double wall = (double)(tt_now_ns() - t_fwd);
        double parts = 0;
        for (int i = 0; i < TT_PROF_COUNT; i++) parts += s->prof->ns[i];
        s->prof->ns[TT_PROF_OTHER] += TT_MAX(0.0, wall - (parts - parts0));
        s->prof->bytes[TT_PROF_OTHER] += (double)tt_fmat_bytes(w->embed.kind, 1, d) * n; /* embedding rows */
        s->prof->forward_ns += wall;
        s->prof->tokens += n;
    }
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
