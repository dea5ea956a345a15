/* tritune: model configurations (models/dummy/<name>.json): the shapes and
 * hyper-parameters of a BitNet b1.58 decoder, parsed and validated. */
#ifndef TT_MODEL_CONFIG_H
#define TT_MODEL_CONFIG_H

#include <stddef.h>

#include "core/common.h"

#ifdef __cplusplus
extern "C" {
#endif

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

#ifdef __cplusplus
}
#endif
#endif
