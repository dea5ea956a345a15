/* tritune: the tensors of a model, in one walk (see tensors.h). */
#include "model/tensors.h"

#include <stdlib.h>

static const char *const global_roles[TT_T_GLOBAL_COUNT] = {"embed", "lm_head", "final_norm"};
static const char *const layer_roles[TT_TL_COUNT] = {
    [TT_TL_ATTN_NORM] = "attn_norm", [TT_TL_WQ] = "wq", [TT_TL_WK] = "wk", [TT_TL_WV] = "wv",
    [TT_TL_ATTN_SUB_NORM] = "attn_sub_norm", [TT_TL_WO] = "wo", [TT_TL_FFN_NORM] = "ffn_norm",
    [TT_TL_WGATE] = "wgate", [TT_TL_WUP] = "wup", [TT_TL_FFN_SUB_NORM] = "ffn_sub_norm", [TT_TL_WDOWN] = "wdown",
};

const char *tt_tensor_role(int id) {
    if (id < 0) return "?";
    return id < TT_T_GLOBAL_COUNT ? global_roles[id] : layer_roles[tt_tensor_which(id)];
}

int tt_model_tensors(const tt_config *c, tt_tdesc *out) {
    const int d = c->hidden, q = tt_config_qdim(c), kv = tt_config_kvdim(c), f = c->ffn;
    int n = 0;
#define ADD(ID, KIND, M_, K_)                                                                             \
    do {                                                                                                  \
        const int id_ = (ID);                                                                             \
        if (out)                                                                                          \
            out[n] = (tt_tdesc){.id = id_, .kind = (KIND), .M = (M_), .K = (K_), .layer = tt_tensor_layer(id_), \
                                .role = tt_tensor_role(id_)};                                             \
        n++;                                                                                              \
    } while (0)
    ADD(TT_T_EMBED, TT_TK_F16, c->vocab, d);
    if (!c->tied_lm_head) ADD(TT_T_LMHEAD, TT_TK_F16, c->vocab, d);
    ADD(TT_T_FINAL_NORM, TT_TK_F32, 1, d);
    for (int l = 0; l < c->layers; l++) {
        ADD(tt_tensor_id(l, TT_TL_ATTN_NORM), TT_TK_F32, 1, d);
        ADD(tt_tensor_id(l, TT_TL_WQ), TT_TK_TERNARY, q, d);
        ADD(tt_tensor_id(l, TT_TL_WK), TT_TK_TERNARY, kv, d);
        ADD(tt_tensor_id(l, TT_TL_WV), TT_TK_TERNARY, kv, d);
        ADD(tt_tensor_id(l, TT_TL_ATTN_SUB_NORM), TT_TK_F32, 1, q);
        ADD(tt_tensor_id(l, TT_TL_WO), TT_TK_TERNARY, d, q);
        ADD(tt_tensor_id(l, TT_TL_FFN_NORM), TT_TK_F32, 1, d);
        ADD(tt_tensor_id(l, TT_TL_WGATE), TT_TK_TERNARY, f, d);
        ADD(tt_tensor_id(l, TT_TL_WUP), TT_TK_TERNARY, f, d);
        ADD(tt_tensor_id(l, TT_TL_FFN_SUB_NORM), TT_TK_F32, 1, f);
        ADD(tt_tensor_id(l, TT_TL_WDOWN), TT_TK_TERNARY, d, f);
    }
#undef ADD
    return n;
}

tt_status tt_model_tensor_list(const tt_config *c, tt_tdesc **out, int *n) {
    *n = tt_model_tensors(c, NULL);
    *out = malloc(sizeof **out * (size_t)(*n > 0 ? *n : 1));
    if (!*out) return tt_set_error(TT_E_NOMEM, "out of memory for the tensor list of %s", c->name);
    tt_model_tensors(c, *out);
    return TT_OK;
}
