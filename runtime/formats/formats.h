/* tritune: weight and activation formats.
 *
 * Canonical on-disk/in-memory layouts never depend on kernel tiling.  A
 * variant that wants another layout declares a repack step (variant.h),
 * run once at load time.
 *
 * I2_S (2 bpw), identical to bitnet.cpp's x86 I2_S for K % 128 == 0:
 *   per row, blocks of 128 consecutive weights -> 32 bytes; byte j of a
 *   block holds weights j, j+32, j+64, j+96 at bit shifts 6, 4, 2, 0;
 *   code = w + 1 in {0, 1, 2} (3 never occurs: tt_i2s_validate rejects it).
 *   A row whose K is not a multiple of 128 is padded with code 1 (w = 0),
 *   so every kernel takes every K (bitnet.cpp silently drops the tail).
 *   One fp32 scale per tensor (s_w = mean |W|), kept in tt_tensor.scale (seam/formats_table.h)
 *   and, in files, stored after the packed data. */
#ifndef TT_FORMATS_H
#define TT_FORMATS_H

#include <stddef.h>
#include <stdint.h>

#include "core/common.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Weight formats.  The numbers are stored in weight files (model/
 * weightfile.c) and tuned.tsv uses the names: never renumber, append.
 * What each format is (name, ternary or float, bytes, pack, references)
 * is one row of the traits table in seam/formats_table.h; formats/ holds
 * the codecs of the ternary layouts and never dispatches on the format. */
typedef enum {
    TT_FMT_I2S = 0, /* ternary, 2 bpw (below)                               */
    TT_FMT_TL1 = 1, /* ternary, 2 bpw lookup-table pairs (tl.h)             */
    TT_FMT_TL2 = 2, /* ternary, 5/3 bpw lookup-table triples (tl.h)         */
    TT_FMT_FP16 = 3, /* baseline: the same weights dequantized, IEEE half    */
    TT_FMT_FP32 = 4, /* baseline: the same weights dequantized, fp32         */
    TT_FMT_COUNT
} tt_wformat;

/* ---- I2_S ---------------------------------------------------------------- */
#define TT_I2S_BLOCK 128       /* weights per block                        */
#define TT_I2S_BLOCK_BYTES 32  /* 2 bpw: 128 * 2 / 8                       */
_Static_assert(TT_I2S_BLOCK * 2 / 8 == TT_I2S_BLOCK_BYTES, "I2_S is 2 bits per weight");

static inline size_t tt_i2s_row_bytes(int K) {
    return (size_t)TT_CEIL_DIV(K, TT_I2S_BLOCK) * TT_I2S_BLOCK_BYTES;
}
static inline size_t tt_i2s_bytes(int M, int K) { return (size_t)M * tt_i2s_row_bytes(K); }

/* w: M x K ternary int8 in {-1,0,1}, row-major.  Returns TT_E_FORMAT if a
 * value is outside {-1,0,1}. dst must hold tt_i2s_bytes(M, K). */
tt_status tt_i2s_pack(const int8_t *w, int M, int K, uint8_t *dst);
void tt_i2s_unpack(const uint8_t *src, int M, int K, int8_t *w);
/* TT_E_FORMAT if any code is 3 or a padding code is not 1. */
tt_status tt_i2s_validate(const uint8_t *src, int M, int K);

/* ---- Activations ----------------------------------------------------------- */
/* Quantized activations: int8 per token (row), absmax scale per token:
 *   s_a = 127 / max(|x|, 1e-5); q = clamp(round(x * s_a), -128, 127)
 * Rows are padded with zeros to Kp = tt_act_kpad(K) so kernels may read
 * whole blocks; sum[n] = sum_k q[n][k] serves the w+1 offset trick. */
#define TT_ACT_ALIGN 256
static inline int tt_act_kpad(int K) { return TT_ROUND_UP(K, TT_ACT_ALIGN); }

typedef struct {
    int N, K, Kp;      /* tokens, logical K, padded row length     */
    int8_t *q;         /* N x Kp, 64-byte aligned rows               */
    int32_t *sum;      /* N                                          */
    float *scale;      /* N: s_a                                     */
    int cap_n;         /* allocated tokens                           */
} tt_qact;

tt_status tt_qact_alloc(tt_qact *a, int max_n, int K);
void tt_qact_free(tt_qact *a);
/* x: N x K floats, row stride ldx. */
tt_status tt_quantize_act(tt_qact *a, const float *x, int N, int ldx);
/* One token row with AVX-512 (formats/isa/quant_avx512.c), bit-identical to
 * the portable loop; tt_quantize_act uses it when the CPU has AVX-512BW. */
void tt_quantize_row_avx512(const float *x, int K, int Kp, int8_t *q, int32_t *sum, float *scale);
/* Fill from integers directly (tests, benches): q values given, scale 1. */
tt_status tt_qact_set_int(tt_qact *a, const int8_t *q, int N);

/* ---- Repacks (formats/repack_i2s.c, hand-written) -------------------------------- */
/* "i2s256": per row, 256-weight groups -> 64 bytes; byte j holds weights
 * j, j+64, j+128, j+192 of the group at shifts 6, 4, 2, 0 (code w+1), so
 * one 512-bit load yields four 64-lane planes that line up with 64
 * consecutive activations each.  Rows padded to 256 with code 1. */
size_t tt_repack_i2s256_bytes(int M, int K);
tt_status tt_repack_i2s256(const uint8_t *canon, int M, int K, uint8_t *dst);
/* inverse, for tests */
void tt_unpack_i2s256(const uint8_t *src, int M, int K, int8_t *w);

#ifdef __cplusplus
}
#endif
#endif
