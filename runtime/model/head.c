/* tritune: the LM head's accuracy against fp16 (see head.h). */
#include "model/head.h"

#include <math.h>
#include <string.h>

#include "core/cpu.h"
#include "core/rng.h"
#include "model/gen.h"
#include "model/tensors.h"

typedef struct {
    const tt_model *m;
    const tt_wf_tensor *src;
    int id;
    tt_fmat *out;
} head_task;

static void head_rows(void *ctx, int tid, int nth) {
    const head_task *t = ctx;
    const int K = t->m->cfg.hidden;
    int lo, hi;
    tt_split_range(t->out->M, nth, tid, 1, &lo, &hi);
    for (int r = lo; r < hi; r++) {
        uint16_t *dst = (uint16_t *)t->out->w + (size_t)r * K;
        if (t->src) memcpy(dst, (const uint16_t *)t->src->data + (size_t)r * K, sizeof(uint16_t) * K);
        else tt_gen_f16_row(t->m->opts.seed, t->id, r, K, dst);
    }
}

tt_status tt_model_head_f16(const tt_model *m, tt_weightfile *wf, tt_fmat *out, tt_pool *pool) {
    tt_status st = tt_fmat_alloc(out, TT_FM_F16, m->cfg.vocab, m->cfg.hidden);
    if (st != TT_OK) return st;
    head_task t = {m, NULL, m->cfg.tied_lm_head ? TT_T_EMBED : TT_T_LMHEAD, out};
    if (wf && !(t.src = tt_weightfile_tensor(wf, t.id))) {
        tt_fmat_free(out);
        return tt_set_error(TT_E_FORMAT, "weight file has no tensor %d (LM head)", t.id);
    }
    tt_pool_run(pool, head_rows, &t);
    return TT_OK;
}

/* One step's figures: largest |difference| over the reference's range, top-1, KL(ref || q). */
static void compare(const float *ref, const float *q, int n, double *rel, int *top1, double *kl) {
    int ar = 0, aq = 0;
    double lo = ref[0], hi = ref[0], md = 0;
    for (int i = 0; i < n; i++) {
        if (ref[i] > ref[ar]) ar = i;
        if (q[i] > q[aq]) aq = i;
        lo = ref[i] < lo ? ref[i] : lo;
        hi = ref[i] > hi ? ref[i] : hi;
        const double d = fabs((double)q[i] - ref[i]);
        md = d > md ? d : md;
    }
    *rel = hi > lo ? md / (hi - lo) : 0;
    *top1 = ar == aq;
    /* log-softmax of both, shifted by their maxima */
    double zr = 0, zq = 0;
    for (int i = 0; i < n; i++) zr += exp((double)ref[i] - ref[ar]), zq += exp((double)q[i] - q[aq]);
    const double lzr = log(zr) + ref[ar], lzq = log(zq) + q[aq];
    double k = 0;
    for (int i = 0; i < n; i++) {
        const double lr = ref[i] - lzr, lq = q[i] - lzq;
        k += exp(lr) * (lr - lq);
    }
    *kl = k > 0 ? k : 0;
}

tt_status tt_head_accuracy_run(const tt_model *m, tt_weightfile *wf, int tokens, uint64_t seed, tt_pool *pool,
                               tt_head_accuracy *out) {
    memset(out, 0, sizeof *out);
    if (tokens > m->cfg.max_seq) tokens = m->cfg.max_seq;
    if (tokens < 1) return tt_set_error(TT_E_ARG, "head accuracy: no tokens to compare");
    /* the reference head and two run states, plus 256 MiB of headroom, must fit */
    tt_machine mach;
    tt_machine_describe(&mach);
    const double need = (double)tt_fmat_bytes(TT_FM_F16, m->cfg.vocab, m->cfg.hidden) +
                        2.0 * 2 * 2 * m->cfg.layers * (double)tokens * tt_config_kvdim(&m->cfg) + (256.0 + 64) * (1 << 20);
    if (mach.mem_avail_bytes > 0 && need > (double)mach.mem_avail_bytes)
        return tt_set_error(TT_E_NOMEM, "head accuracy: the fp16 reference needs %.2f GiB, MemAvailable is %.2f GiB",
                            need / (1 << 30), (double)mach.mem_avail_bytes / (1 << 30));
    tt_fmat ref;
    tt_status st = tt_model_head_f16(m, wf, &ref, pool);
    if (st != TT_OK) return st;
    /* the same model twice, sharing the layers: one with the fp16 head */
    tt_model mq = *m, mr = *m;
    mq.opts.seq = mr.opts.seq = tokens;
    mq.opts.batch = mr.opts.batch = 1;
    ref.owns = 0;
    mr.w.lm_head = ref;
    if (m->cfg.tied_lm_head) mr.w.embed = ref;
    tt_state sq, sr;
    const int T = tt_pool_threads(pool);
    if ((st = tt_state_init(&sq, &mq, T)) == TT_OK) {
        if ((st = tt_state_init(&sr, &mr, T)) == TT_OK) {
            int tok = (int)(tt_mix64(seed ^ 0xACC0ull) % (uint64_t)m->cfg.vocab), agree = 0;
            double sum_kl = 0;
            for (int i = 0; i < tokens && st == TT_OK; i++) {
                if ((st = tt_model_forward(&mq, &sq, &tok, 1, pool)) != TT_OK ||
                    (st = tt_model_forward(&mr, &sr, &tok, 1, pool)) != TT_OK)
                    break;
                double rel, kl;
                int t1;
                compare(sr.logits, sq.logits, m->cfg.vocab, &rel, &t1, &kl);
                out->max_rel_diff = rel > out->max_rel_diff ? rel : out->max_rel_diff;
                agree += t1;
                sum_kl += kl;
                tok = tt_argmax(sr.logits, m->cfg.vocab);
            }
            out->tokens = tokens;
            out->top1 = (double)agree / tokens;
            out->mean_kl = sum_kl / tokens;
            tt_state_free(&sr);
        }
        tt_state_free(&sq);
    }
    ref.owns = 1;
    tt_fmat_free(&ref);
    return st;
}
