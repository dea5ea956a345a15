/* tritune: the BitNet b1.58 decoder (KERNELS.md s1, s6), in the manner of
 * llama2.c's run.c: a Config, the Weights, a run State, init/free pairs and
 * a straight-line forward pass.  Every ternary matrix product goes through
 * the dispatch seam (tt_linear_forward), so tuned kernels are what runs.
 *
 * One block (the BitNet-b1.58-2B-4T layout; every config uses it):
 *   xn  = RMSNorm(x) * attn_norm
 *   q,k,v = BitLinear(xn)                    (activations int8 per token)
 *   q,k = RoPE(q,k)   ("rotate half": pairs (i, i + head_dim/2))
 *   a   = causal GQA attention over the KV cache
 *   x  += BitLinear_o(RMSNorm(a) * attn_sub_norm)
 *   hn  = RMSNorm(x) * ffn_norm
 *   g   = act(BitLinear_gate(hn)) * BitLinear_up(hn)   act = relu^2 | silu
 *   x  += BitLinear_down(RMSNorm(g) * ffn_sub_norm)
 * then logits = LM_head(RMSNorm(x) * final_norm); greedy = argmax.
 *
 * Model formats: the ternary ones (i2s, tl1, tl2) keep every BitLinear
 * packed and quantize activations per token; the baselines fp16 and fp32
 * hold the same weights dequantized (w * s_w) and run plain float matmuls
 * on unquantized activations (as llama.cpp's F16 path does), so all formats
 * compute the same function up to activation quantization. */
#ifndef TT_MODEL_H
#define TT_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "seam/dispatch.h"
#include "seam/formats_table.h"
#include "core/pool.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Config (model_config.c) ------------------------------------------------ */
typedef enum { TT_ACT_RELU2 = 0, TT_ACT_SILU = 1 } tt_activation;

typedef struct {
    char name[64];
    int hidden;        /* model width d                                          */
    int ffn;           /* FFN inner width                                        */
    int layers;
    int heads;         /* query heads                                            */
    int kv_heads;      /* key/value heads (GQA: heads % kv_heads == 0)           */
    int head_dim;      /* per head (default hidden / heads); even (RoPE pairs)   */
    int vocab;
    tt_activation act;
    float rope_theta;
    float norm_eps;
    int tied_lm_head;  /* LM head = token embedding                              */
    int max_seq;       /* longest context the model is meant for                 */
} tt_config;

/* Parse + validate a JSON config (models/dummy/<name>.json).  Unknown keys,
 * missing required keys, wrong types and impossible values are TT_E_CONFIG
 * with the file and field named. */
tt_status tt_config_load(tt_config *c, const char *path);
tt_status tt_config_parse(tt_config *c, const char *json, size_t len, const char *name);
tt_status tt_config_validate(const tt_config *c);
const char *tt_activation_name(tt_activation a);
/* Derived sizes. */
static inline int tt_config_qdim(const tt_config *c) { return c->heads * c->head_dim; }
static inline int tt_config_kvdim(const tt_config *c) { return c->kv_heads * c->head_dim; }
/* Ternary weights (all BitLinear layers) and total parameters. */
double tt_config_ternary_params(const tt_config *c);
double tt_config_params(const tt_config *c);

/* ---- Float matrices (baseline.c): the LM head, and every matrix of the
 * fp16 / fp32 baselines.  y[n * ldy + m] = sum_k W[m][k] x[n][k] (* rs[m]). */
typedef enum { TT_FM_F16 = 0, TT_FM_F32, TT_FM_I8 } tt_fmat_kind;
typedef struct {
    tt_fmat_kind kind;
    int M, K;
    void *w;            /* (M, K) row-major: uint16_t fp16 bits | float | int8_t */
    float *row_scale;   /* (M) TT_FM_I8 only: W[m][k] = w[m][k] * row_scale[m]    */
    size_t bytes;       /* bytes of w (+ row_scale)                                */
    int owns;
} tt_fmat;
tt_status tt_fmat_alloc(tt_fmat *A, tt_fmat_kind kind, int M, int K);
void tt_fmat_free(tt_fmat *A);
size_t tt_fmat_bytes(tt_fmat_kind kind, int M, int K);
/* x: (N, K) with row stride ldx; y: (N, M) with row stride ldy.  Rows are
 * split over the pool (pool may be NULL).  fp32 goes to OpenBLAS when built
 * with it (TT_E_UNSUPPORTED otherwise). */
tt_status tt_fmat_forward(const tt_fmat *A, const float *x, int ldx, int N, float *y, int ldy, tt_pool *pool);
const char *tt_fmat_impl(tt_fmat_kind kind); /* "avx512", "c", "openblas" */

/* IEEE half <-> float, portable (round to nearest even). */
uint16_t tt_f32_to_f16(float f);
float tt_f16_to_f32(uint16_t h);

/* ---- Weights (model.c) ----------------------------------------------------------- */
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
} tt_weights;

/* Weight generation: every value is a pure function of (seed, tensor, row),
 * so chunks are generated in parallel and the result does not depend on the
 * thread count or the format (all formats hold the same ternary matrix).
 *   ternary: P(-1) = P(0) = P(+1) = 1/3, independent;
 *            s_w = sqrt(1.5 / K) * (0.9 + 0.2 u_t), u_t in [0,1) per tensor
 *            (keeps each output near unit RMS; varies so a scale mix-up shows);
 *   embedding / LM head: uniform in [-1, 1), rounded to fp16;
 *   norm weights: 1 + 0.25 * uniform[-1, 1). */
#define TT_MODEL_P_ZERO (1.0 / 3.0)

/* Tensor ids (the RNG key and the weight-file order). */
enum { TT_T_EMBED = 0, TT_T_LMHEAD, TT_T_FINAL_NORM, TT_T_GLOBAL_COUNT };
enum {
    TT_TL_ATTN_NORM = 0, TT_TL_WQ, TT_TL_WK, TT_TL_WV, TT_TL_ATTN_SUB_NORM, TT_TL_WO,
    TT_TL_FFN_NORM, TT_TL_WGATE, TT_TL_WUP, TT_TL_FFN_SUB_NORM, TT_TL_WDOWN, TT_TL_COUNT
};
static inline int tt_tensor_id(int layer, int which) { return TT_T_GLOBAL_COUNT + layer * TT_TL_COUNT + which; }

typedef void (*tt_progress_fn)(void *ud, const char *what, double frac);

typedef struct {
    tt_wformat format;
    uint64_t seed;
    const char *gemv_name;    /* force a GEMV variant (NULL: tuning, then default)  */
    const char *gemm_name;    /* force a GEMM variant (same layout as the GEMV)     */
    const tt_tuning *tuning;  /* may be NULL                                        */
    int lm_head_i8;           /* LM head as int8 with per-row scales (ternary, fp16) */
    int kv_f32;               /* KV cache in fp32 (default fp16)                    */
    int batch;                /* tokens per forward call (prefill chunk), >= 1      */
    int seq;                  /* KV cache positions, >= 1                           */
    tt_progress_fn progress;  /* called on thread 0 during generation; may be NULL  */
    void *progress_ud;
} tt_model_opts;
void tt_model_opts_default(tt_model_opts *o);

/* ---- Memory plan ------------------------------------------------------------------ */
typedef struct {
    double ternary;   /* BitLinear weights in their final layout (or the baseline's floats) */
    double embed;     /* token embedding                                                    */
    double lm_head;   /* LM head (0 when it aliases the embedding)                          */
    double norms;
    double kv;        /* KV cache for opts.seq positions                                    */
    double scratch;   /* run state                                                          */
    double total;
} tt_model_mem;
/* Bytes the model and its state need (the same formulas the allocations use). */
tt_status tt_model_memory(const tt_config *c, const tt_model_opts *o, tt_model_mem *mem);
/* Refuses (TT_E_NOMEM) when total > avail_bytes, with both figures and the
 * formats that would fit in the message.  avail_bytes < 0: read MemAvailable. */
tt_status tt_model_check_memory(const tt_config *c, const tt_model_opts *o, long long avail_bytes);

/* ---- The model ---------------------------------------------------------------------- */
typedef struct tt_weightfile tt_weightfile;

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
 * wf non-NULL: take them from a loaded weight file instead (weightfile.c). */
tt_status tt_model_init(tt_model *m, const tt_config *c, const tt_model_opts *o, tt_weightfile *wf, tt_pool *pool);
void tt_model_free(tt_model *m);

/* ---- Run state -------------------------------------------------------------------------- */
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
} tt_state;

tt_status tt_state_init(tt_state *s, const tt_model *m, int nthreads);
void tt_state_free(tt_state *s);
static inline void tt_state_reset(tt_state *s) { s->pos = 0; }

/* Run n tokens (1 <= n <= cap_n, pos + n <= seq) at positions pos..pos+n-1;
 * leaves the logits of the last one in s->logits and advances pos. */
tt_status tt_model_forward(const tt_model *m, tt_state *s, const int *tokens, int n, tt_pool *pool);
/* Any number of tokens, in chunks of cap_n. */
tt_status tt_model_prefill(const tt_model *m, tt_state *s, const int *tokens, int n, tt_pool *pool);
int tt_argmax(const float *v, int n);

/* Bytes read from memory to generate one token at context length ctx
 * (all matrices, one embedding row, norms, the KV cache up to ctx). */
double tt_model_bytes_per_token(const tt_model *m, int ctx);

/* ---- Weight file (weightfile.c) ------------------------------------------------------------
 * Little-endian.  Header: magic "TRITUNEW", version, file size, checksum,
 * the config as JSON, format and seed, a tensor table (id, kind, shape,
 * scale, offset, bytes); tensors at 4096-byte aligned offsets, ternary ones
 * in their format's canonical layout.  The checksum covers everything after
 * the first 32 bytes.  Written atomically (temp file + rename), loaded with
 * mmap; truncated, corrupt and wrong-version files are TT_E_FORMAT. */
#define TT_WF_VERSION 1
tt_status tt_weightfile_write(const char *path, const tt_config *c, tt_wformat fmt, uint64_t seed, tt_pool *pool,
                              tt_progress_fn progress, void *ud);
tt_status tt_weightfile_open(tt_weightfile **wf, const char *path, tt_pool *pool);
void tt_weightfile_close(tt_weightfile *wf);
const tt_config *tt_weightfile_config(const tt_weightfile *wf);
tt_wformat tt_weightfile_format(const tt_weightfile *wf);
uint64_t tt_weightfile_seed(const tt_weightfile *wf);

/* A 64-bit checksum of our own (4 multiply-rotate lanes per 32-byte
 * stripe, blocks of 1 MiB hashed in parallel and then combined), so a
 * checksum does not depend on the thread count. */
uint64_t tt_hash64(const void *data, size_t n, uint64_t seed);
uint64_t tt_checksum(const void *data, size_t n, tt_pool *pool);

#ifdef __cplusplus
}
#endif
#endif
