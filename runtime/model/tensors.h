/* tritune: the tensors of a model, in one walk.
 *
 * tt_model_tensors() lists every tensor of a config in id order: the
 * generator keys its random streams by the id, the weight file stores the
 * tensors in this order, the loader fills the weights from it and the CLI
 * reads the BitLinear shapes off it (`tritune list --model NAME --shapes`).
 * Nothing else enumerates a model's tensors. */
#ifndef TT_MODEL_TENSORS_H
#define TT_MODEL_TENSORS_H

#include "core/common.h"
#include "model/config.h"

#ifdef __cplusplus
extern "C" {
#endif

/* What a tensor holds. */
typedef enum {
    TT_TK_TERNARY = 0, /* BitLinear weight: ternary (M, K), scale s_w           */
    TT_TK_F16,         /* embedding / LM head: (M, K) values that are exact fp16 */
    TT_TK_F32,         /* norm weights: (1, K) fp32                              */
} tt_tkind;

/* Tensor ids (the RNG key and the weight-file order): the global tensors,
 * then TT_TL_COUNT per layer.  The numbers are part of the generated
 * weights and of the weight-file format: never renumber. */
enum { TT_T_EMBED = 0, TT_T_LMHEAD, TT_T_FINAL_NORM, TT_T_GLOBAL_COUNT };
enum {
    TT_TL_ATTN_NORM = 0, TT_TL_WQ, TT_TL_WK, TT_TL_WV, TT_TL_ATTN_SUB_NORM, TT_TL_WO,
    TT_TL_FFN_NORM, TT_TL_WGATE, TT_TL_WUP, TT_TL_FFN_SUB_NORM, TT_TL_WDOWN, TT_TL_COUNT
};
static inline int tt_tensor_id(int layer, int which) { return TT_T_GLOBAL_COUNT + layer * TT_TL_COUNT + which; }
/* Layer of a tensor id, -1 for the global tensors. */
static inline int tt_tensor_layer(int id) { return id < TT_T_GLOBAL_COUNT ? -1 : (id - TT_T_GLOBAL_COUNT) / TT_TL_COUNT; }
/* TT_TL_* of a per-layer tensor id (meaningless for the global ones). */
static inline int tt_tensor_which(int id) { return (id - TT_T_GLOBAL_COUNT) % TT_TL_COUNT; }
/* "embed", "lm_head", "final_norm", "attn_norm", "wq", ..., "wdown"; "?" for a bad id. */
const char *tt_tensor_role(int id);

typedef struct {
    int id;            /* tt_tensor_id() or TT_T_*                    */
    tt_tkind kind;
    int M, K;
    int layer;         /* -1 for the global tensors                   */
    const char *role;  /* tt_tensor_role(id)                          */
} tt_tdesc;

/* Every tensor of the model in id order; returns the count (out may be NULL).
 * The LM head is listed only when it is not tied. */
int tt_model_tensors(const tt_config *c, tt_tdesc *out);
/* The same walk into a malloc'ed array (*out, free() it) of *n tensors. */
tt_status tt_model_tensor_list(const tt_config *c, tt_tdesc **out, int *n);

#ifdef __cplusplus
}
#endif
#endif
