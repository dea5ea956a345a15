/* tritune (private): what model.c and weightfile.c share: the tensor list
 * of a config, the seeded generators and the weight-file tensor table. */
#ifndef TT_MODEL_PRIV_H
#define TT_MODEL_PRIV_H

#include <stdint.h>

#include "model/model.h"

/* What a tensor holds. */
typedef enum {
    TT_TK_TERNARY = 0, /* BitLinear weight: ternary (M, K), scale s_w           */
    TT_TK_F16,         /* embedding / LM head: (M, K) values that are exact fp16 */
    TT_TK_F32,         /* norm weights: (1, K) fp32                              */
} tt_tkind;

typedef struct {
    int id;            /* tt_tensor_id() or TT_T_*                    */
    tt_tkind kind;
    int M, K;
} tt_tdesc;

/* Every tensor of the model in id order; returns the count (out may be NULL).
 * The LM head is listed only when it is not tied. */
int tt_model_tensors(const tt_config *c, tt_tdesc *out);

/* ---- generators: pure functions of (seed, tensor id, row) ---------------------------- */
/* Row `row` of ternary tensor `id` in canonical I2_S (tt_i2s_row_bytes(K)
 * bytes, padding codes 1).  This defines the model's ternary values for
 * every format: the others unpack it. */
void tt_gen_i2s_row(uint64_t seed, int id, int row, int K, uint8_t *dst);
/* s_w of ternary tensor id (see model.h). */
float tt_gen_scale(uint64_t seed, int id, int K);
/* Row of an fp16 tensor: fp16 bits of uniform[-1, 1). */
void tt_gen_f16_row(uint64_t seed, int id, int row, int K, uint16_t *dst);
/* A norm vector: 1 + 0.25 * uniform[-1, 1). */
void tt_gen_norm(uint64_t seed, int id, int K, float *dst);
/* I2_S row -> int8 ternary (K values). */
void tt_i2s_row_to_i8(const uint8_t *src, int K, int8_t *w);

/* ---- weight-file tensors ---------------------------------------------------------------- */
typedef struct {
    int id;
    tt_tkind kind;
    int fmt;            /* tt_wformat for TT_TK_TERNARY, else -1 */
    int M, K;
    float scale;        /* s_w (ternary), else 1                 */
    const uint8_t *data;
    size_t bytes;
} tt_wf_tensor;
const tt_wf_tensor *tt_weightfile_tensor(const tt_weightfile *wf, int id);

#endif
