/* tritune: the seeded weight generators.
 *
 * Every value is a pure function of (seed, tensor id, row), so chunks are
 * generated in parallel and the result does not depend on the thread count
 * or the format (all formats hold the same ternary matrix).
 *   ternary: P(-1) = P(0) = P(+1) = 1/3, independent;
 *            s_w = sqrt(1.5 / K) * (0.9 + 0.2 u_t), u_t in [0,1) per tensor
 *            (keeps each output near unit RMS; varies so a scale mix-up shows);
 *   embedding / LM head: uniform in [-1, 1), rounded to fp16;
 *   norm weights: 1 + 0.25 * uniform[-1, 1).
 * The streams are splitmix64 (core/rng.h) keyed by the tensor ids of
 * model/tensors.h: changing either changes every generated model. */
#ifndef TT_MODEL_GEN_H
#define TT_MODEL_GEN_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define TT_MODEL_P_ZERO (1.0 / 3.0)

/* Row `row` of ternary tensor `id` in canonical I2_S (tt_i2s_row_bytes(K)
 * bytes, padding codes 1).  This defines the model's ternary values for
 * every format: the others unpack it. */
void tt_gen_i2s_row(uint64_t seed, int id, int row, int K, uint8_t *dst);
/* s_w of ternary tensor id. */
float tt_gen_scale(uint64_t seed, int id, int K);
/* Row of an fp16 tensor: fp16 bits of uniform[-1, 1). */
void tt_gen_f16_row(uint64_t seed, int id, int row, int K, uint16_t *dst);
/* A norm vector: 1 + 0.25 * uniform[-1, 1). */
void tt_gen_norm(uint64_t seed, int id, int K, float *dst);
/* I2_S row -> int8 ternary (K values). */
void tt_i2s_row_to_i8(const uint8_t *src, int K, int8_t *w);

#ifdef __cplusplus
}
#endif
#endif
