/* tritune: a model's weights and how they are built (load.c).
 *
 * Weights come from one of two sources, generated from the seed
 * (model/gen.h) or mapped from a weight file (model/weightfile.h), and
 * every ternary matrix ends in the layout of the kernels the seam chose
 * for it (repacked from its format's canonical layout when the variant
 * wants another).  The baselines (fp16, fp32) hold the same ternary
 * weights dequantized (w * s_w) in float matrices. */
#ifndef TT_MODEL_LOAD_H
#define TT_MODEL_LOAD_H

#include <stdint.h>

#include "core/pool.h"
#include "model/config.h"
#include "model/fmat.h"
#include "model/weightfile.h"
#include "seam/dispatch.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A matrix of the decoder: ternary (through the seam) or float (baselines). */
typedef struct {
    int ternary;
    tt_linear lin;   /* ternary formats                  */
    tt_fmat f;       /* fp16 / fp32 baselines            */
} tt_mat;

typedef struct {
    float *attn_norm;     /* (hidden)          */
    float *attn_sub_norm; /* (q_dim)           */
    float *ffn_norm;      /* (hidden)          */
    float *ffn_sub_norm;  /* (ffn)             */
    tt_mat wq;            /* (q_dim, hidden)   */
    tt_mat wk;            /* (kv_dim, hidden)  */
    tt_mat wv;            /* (kv_dim, hidden)  */
    tt_mat wo;            /* (hidden, q_dim)   */
    tt_mat wgate;         /* (ffn, hidden)     */
    tt_mat wup;           /* (ffn, hidden)     */
    tt_mat wdown;         /* (hidden, ffn)     */
} tt_layer;

typedef struct {
    tt_fmat embed;        /* (vocab, hidden) fp16 (fp32 for the fp32 baseline)        */
    tt_fmat lm_head;      /* (vocab, hidden) fp16 | int8 | fp32; may alias embed       */
    int lm_head_aliases;  /* lm_head.w == embed.w (tied, same kind): not freed twice   */
    float *final_norm;    /* (hidden)                                                  */
    tt_layer *layer;      /* (layers)                                                  */
    float *norms;         /* all norm vectors in one block                             */
    uint8_t *ternary;     /* every generated or repacked BitLinear in one block, in the
                           * order the forward pass reads them (tt_mat.lin points in) */
} tt_weights;

typedef struct {
    tt_wformat format;
    uint64_t seed;
    const char *gemv_name;    /* force a GEMV variant (NULL: tuning, then default)  */
    const char *gemm_name;    /* force a GEMM variant (same layout as the GEMV)     */
    const tt_tuning *tuning;  /* may be NULL                                        */
    int lm_head_quant;        /* 0, or TT_FM_I8 / TT_FM_Q4: the LM head (and a tied embedding) quantized (fmat.h) */
    int kv_f32;               /* KV cache in fp32 (default fp16)                    */
    int batch;                /* tokens per forward call (prefill chunk), >= 1      */
    int seq;                  /* KV cache positions, >= 1                           */
    tt_progress_fn progress;  /* called on thread 0 during generation; may be NULL  */
    void *progress_ud;
} tt_model_opts;
void tt_model_opts_default(tt_model_opts *o);

typedef struct {
    tt_config cfg;
    tt_model_opts opts;
    tt_weights w;
    double bytes_weights;   /* bytes read per token by the matrices (ternary + LM head)  */
    const char *gemv_used;  /* variant names of the first ternary layer (reports)        */
    const char *gemm_used;
    int mixed_variants;     /* not every layer uses the same variants                    */
} tt_model;

/* Generate the weights from opts->seed (threads of pool, may be NULL).
 * wf non-NULL: take them from a loaded weight file instead (its seed
 * replaces opts->seed; its shapes must be c's). */
tt_status tt_model_init(tt_model *m, const tt_config *c, const tt_model_opts *o, tt_weightfile *wf, tt_pool *pool);
void tt_model_free(tt_model *m);
/* The variants chosen again for another thread count, the weights kept:
 * TT_E_UNSUPPORTED (m unchanged) when a choice needs another layout. */
tt_status tt_model_rechoose(tt_model *m, int threads);

/* The float matrices' kinds, shared by the loader and the memory plan
 * (memory.c), which must count what the loader allocates. */
static inline tt_fmat_kind tt_model_head_kind(const tt_model_opts *o) {
    return o->lm_head_quant ? (tt_fmat_kind)o->lm_head_quant : o->format == TT_FMT_FP32 ? TT_FM_F32 : TT_FM_F16;
}
/* A tied embedding is kept in the LM head's kind (one matrix), an untied
 * one in the format's float kind. */
static inline tt_fmat_kind tt_model_embed_kind_of(const tt_config *c, const tt_model_opts *o) {
    return c->tied_lm_head ? tt_model_head_kind(o) : o->format == TT_FMT_FP32 ? TT_FM_F32 : TT_FM_F16;
}
/* The LM head is the embedding matrix itself (tied). */
static inline int tt_model_head_aliases(const tt_config *c, const tt_model_opts *o) {
    (void)o;
    return c->tied_lm_head;
}

#ifdef __cplusplus
}
#endif
#endif
