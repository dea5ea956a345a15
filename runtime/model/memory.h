/* tritune: the memory plan of a model (memory.c). */
#ifndef TT_MODEL_MEMORY_H
#define TT_MODEL_MEMORY_H

#include "model/config.h"
#include "model/load.h"

#ifdef __cplusplus
extern "C" {
#endif

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

/* Bytes read from memory to generate one token at context length ctx
 * (all matrices, one embedding row, norms, the KV cache up to ctx). */
double tt_model_bytes_per_token(const tt_model *m, int ctx);

#ifdef __cplusplus
}
#endif
#endif
