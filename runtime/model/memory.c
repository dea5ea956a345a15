/* tritune: the memory plan of a model (see memory.h): what its weights,
 * KV cache and run state will take, checked before anything large is
 * allocated, and the bytes a decode step reads. */
#define _GNU_SOURCE
#include "model/memory.h"

#include "model/fkern.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/cpu.h"
#include "model/tensors.h"

/* Run state of forward.c's tt_state_init: activations per token, the int8
 * copies, the attention scores per thread, logits and the RoPE tables. */
static double state_bytes(const tt_config *c, int cap_n, int seq, int nthreads) {
    const double d = c->hidden, q = tt_config_qdim(c), kv = tt_config_kvdim(c), f = c->ffn;
    const double per_tok = 4.0 * (d + TT_MAX(d, q) + q + 2 * kv + q + 2 * f + d) +
                           (tt_act_kpad(c->hidden) + tt_act_kpad(tt_config_qdim(c)) + tt_act_kpad(c->ffn) + 12.0);
    return cap_n * per_tok + 4.0 * (double)tt_attn_scores_floats(c->heads, nthreads, seq) +
           4.0 * nthreads * (double)tt_attn_scratch_floats(c->head_dim) + 4.0 * c->vocab +
           4.0 * seq * c->head_dim + 2 * 4.0 * kv * tt_attn_keys(seq);
}

tt_status tt_model_memory(const tt_config *c, const tt_model_opts *o, tt_model_mem *mem) {
    memset(mem, 0, sizeof *mem);
    tt_status st = tt_wformat_available(o->format);
    if (st != TT_OK) return st;
    int nt;
    tt_tdesc *td;
    if ((st = tt_model_tensor_list(c, &td, &nt)) != TT_OK) return st;
    for (int i = 0; i < nt; i++) {
        if (td[i].kind == TT_TK_F32) {
            mem->norms += 4.0 * td[i].K;
        } else if (td[i].kind == TT_TK_TERNARY) {
            if (tt_wformat_is_ternary(o->format)) { /* in the layout the loader will choose (one thread) */
                const tt_variant *gv, *gm;
                st = tt_linear_choose(o->format, td[i].M, td[i].K, o->gemv_name, o->gemm_name, o->tuning, 1, o->batch,
                                      0, &gv, &gm);
                if (st != TT_OK) break;
                mem->ternary += (double)tt_layout_bytes(gv, td[i].M, td[i].K);
            } else {
                mem->ternary += (double)tt_wformat_bytes(o->format, td[i].M, td[i].K);
            }
        }
    }
    free(td);
    if (st != TT_OK) return st;
    mem->embed = (double)tt_fmat_bytes(tt_model_embed_kind_of(c, o), c->vocab, c->hidden);
    mem->lm_head = tt_model_head_aliases(c, o) ? 0.0 : (double)tt_fmat_bytes(tt_model_head_kind(o), c->vocab, c->hidden);
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
    /* Which formats would fit?  Densest first in the message (fewest bits
     * per weight; ties in table order). */
    char fits[256] = "";
    size_t fl = 0;
    double best = 0;
    const char *best_name = NULL;
    tt_wformat order[TT_FMT_COUNT];
    for (tt_wformat f = 0; f < TT_FMT_COUNT; f++) { /* insertion sort by bpw */
        int j = (int)f;
        for (; j > 0 && tt_wformat_bpw(order[j - 1]) > tt_wformat_bpw(f); j--) order[j] = order[j - 1];
        order[j] = f;
    }
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

double tt_model_bytes_per_token(const tt_model *m, int ctx) {
    const tt_config *c = &m->cfg;
    const double es_emb = (double)tt_fmat_bytes(m->w.embed.kind, 1, c->hidden) / c->hidden, es_kv = m->opts.kv_f32 ? 4 : 2;
    const double norms = 4.0 * ((double)c->hidden + c->layers * (2.0 * c->hidden + tt_config_qdim(c) + c->ffn));
    return m->bytes_weights + es_emb * c->hidden + norms + 2.0 * c->layers * (double)ctx * tt_config_kvdim(c) * es_kv;
}
