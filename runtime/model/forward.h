/* tritune: the run state and the forward pass of the decoder (forward.c). */
#ifndef TT_MODEL_FORWARD_H
#define TT_MODEL_FORWARD_H

#include "core/pool.h"
#include "formats/formats.h"
#include "model/load.h"
#include "model/profile.h"
#include "seam/dispatch.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    int cap_n;            /* tokens per forward call                                   */
    int seq;              /* KV positions                                              */
    int pos;              /* tokens already in the cache                               */
    int nthreads;
    float *x;             /* (cap_n, hidden) residual stream                           */
    float *xb;            /* (cap_n, max(hidden, q_dim)) normalized input             */
    float *q;             /* (cap_n, q_dim)                                            */
    float *k, *v;         /* (cap_n, kv_dim)                                           */
    float *att;           /* (cap_n, q_dim) attention output                           */
    float *hb, *hb2;      /* (cap_n, ffn)                                              */
    float *xo;            /* (cap_n, hidden) output of o_proj / down_proj              */
    float *scores;        /* (nthreads, seq) attention probabilities                   */
    float *att_scratch;   /* (nthreads, tt_attn_scratch_floats(head_dim)) blocked attention */
    float *att_kt;        /* (kv_heads, head_dim, tt_attn_keys(seq)) a layer's keys, fp32, transposed */
    float *att_vf;        /* (kv_heads, tt_attn_keys(seq), head_dim) its values, fp32           */
    float *logits;        /* (vocab) of the last token of the last forward             */
    int kv_f32;
    void *key_cache;      /* (layers, seq, kv_dim) fp16 or fp32                        */
    void *value_cache;    /* (layers, seq, kv_dim)                                     */
    float *rope_cos;      /* (seq, head_dim / 2)                                       */
    float *rope_sin;      /* (seq, head_dim / 2)                                       */
    tt_qact qa_hidden;    /* (cap_n, hidden) int8: input of q/k/v/gate/up              */
    tt_qact qa_q;         /* (cap_n, q_dim) int8: input of o                           */
    tt_qact qa_ffn;       /* (cap_n, ffn) int8: input of down                          */
    tt_workspace ws;
    tt_prof *prof;            /* NULL, or where the forward pass adds its profile (profile.h) */
    tt_case_times *case_times; /* (nthreads) the runner's per-thread times while profiling   */
} tt_state;

/* Buffers for m->opts.batch tokens and m->opts.seq positions, for pools
 * of up to nthreads threads (memory.c's state_bytes counts them). */
tt_status tt_state_init(tt_state *s, const tt_model *m, int nthreads);
void tt_state_free(tt_state *s);
static inline void tt_state_reset(tt_state *s) { s->pos = 0; }

/* Run n tokens (1 <= n <= cap_n, pos + n <= seq) at positions pos..pos+n-1;
 * leaves the logits of the last one in s->logits and advances pos. */
tt_status tt_model_forward(const tt_model *m, tt_state *s, const int *tokens, int n, tt_pool *pool);
/* Any number of tokens, in chunks of cap_n. */
tt_status tt_model_prefill(const tt_model *m, tt_state *s, const int *tokens, int n, tt_pool *pool);
int tt_argmax(const float *v, int n);

#ifdef __cplusplus
}
#endif
#endif
