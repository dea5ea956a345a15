/* tritune: where a token's time goes (`bench decode --profile`).
 *
 * The forward pass adds, per part, the wall time on the calling thread
 * (thread 0 of the pool, whose path decides the token time) and the bytes
 * the part reads.  Inside a pool dispatch of a BitLinear the runner's
 * per-thread times (seam/run.h tt_case_times) split thread 0's wall time
 * into table building, its own kernel share, and waiting: at the tables'
 * barrier, for the slower threads at the end, and the dispatch itself.
 * Attention is split the same way.  The LM head and the float baselines'
 * matrices count their whole wall time, waits included.  Two clock reads
 * per part and layer: cheap enough to leave on (about 1 us per layer). */
#ifndef TT_MODEL_PROFILE_H
#define TT_MODEL_PROFILE_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    TT_PROF_QKV = 0,   /* attention projections q, k, v (kernel share of thread 0)  */
    TT_PROF_O,         /* attention output projection                               */
    TT_PROF_GATE_UP,   /* FFN gate and up projections                               */
    TT_PROF_DOWN,      /* FFN down projection                                       */
    TT_PROF_ATTN,      /* attention over the KV cache                               */
    TT_PROF_NORMS,     /* RMSNorms, RoPE, KV-cache writes, residual adds, GLU       */
    TT_PROF_QUANT,     /* int8 quantization of the BitLinear inputs                 */
    TT_PROF_TABLES,    /* TL activation tables                                      */
    TT_PROF_LM_HEAD,   /* final norm and LM head                                    */
    TT_PROF_WAIT,      /* waiting: barriers, slower threads, dispatch               */
    TT_PROF_OTHER,     /* the rest of the forward call: embedding lookup, checks     */
    TT_PROF_COUNT
} tt_prof_part;

typedef struct {
    double ns[TT_PROF_COUNT];
    double bytes[TT_PROF_COUNT];
    double forward_ns; /* wall time of the forward calls      */
    long long tokens;  /* tokens they processed               */
} tt_prof;

/* "attn_qkv", "attn_o", "ffn_gate_up", "ffn_down", "attention", "norms_rope",
 * "act_quant", "tables", "lm_head", "wait", "other" */
static inline const char *tt_prof_name(int part) {
    static const char *const names[TT_PROF_COUNT] = {"attn_qkv",   "attn_o",    "ffn_gate_up", "ffn_down",
                                                     "attention",  "norms_rope", "act_quant",   "tables",
                                                     "lm_head",    "wait",       "other"};
    return part >= 0 && part < TT_PROF_COUNT ? names[part] : "?";
}

#ifdef __cplusplus
}
#endif
#endif
