/* tritune: the seeded weight generators (see gen.h). */
#include "model/gen.h"

#include <math.h>
#include <stdatomic.h>

#include "core/rng.h"
#include "formats/formats.h"
#include "model/fkern.h"

/* ---- seeded generators ---------------------------------------------------------------------
 * splitmix64's finalizer as a counter-based generator: draw i of a row is
 * mix(key + (i + 1) * golden) with key = mix(mix(mix(seed) + id) + row). */
static inline uint64_t row_key(uint64_t seed, int id, int row) {
    return tt_mix64(tt_mix64(tt_mix64(seed) + (uint64_t)(uint32_t)id * TT_GOLDEN64) + (uint64_t)(uint32_t)row);
}
static inline double u01(uint64_t r) { return (double)(r >> 11) * 0x1p-53; }

/* byte81[i]: the I2_S byte holding the 4 base-3 digits of i (i < 81) as
 * codes at shifts 6, 4, 2, 0: one uniform draw in [0, 81) fills one byte
 * with 4 independent uniform trits, i.e. P(-1) = P(0) = P(+1) = 1/3. */
static uint8_t byte81[81];
static atomic_int byte81_ready;
static void byte81_init(void) {
    if (atomic_load_explicit(&byte81_ready, memory_order_acquire)) return;
    for (int i = 0; i < 81; i++) byte81[i] = (uint8_t)((i / 27) << 6 | (i / 9 % 3) << 4 | (i / 3 % 3) << 2 | (i % 3));
    atomic_store_explicit(&byte81_ready, 1, memory_order_release);
}

void tt_gen_i2s_row(uint64_t seed, int id, int row, int K, uint8_t *dst) {
    byte81_init();
    const uint64_t key = row_key(seed, id, row);
    const size_t rb = tt_i2s_row_bytes(K);
    /* 6 base-81 digits per 64-bit draw, taken as the leading digits of the
     * fraction r / 2^64: 81^6 < 2^38, so each digit's bias is below 2^-26. */
    uint64_t draw = 0, r = 0;
    for (size_t j = 0; j < rb; j++) {
        if (j % 6 == 0) r = tt_mix64(key + (++draw) * TT_GOLDEN64);
        const unsigned __int128 p = (unsigned __int128)r * 81u;
        dst[j] = byte81[(unsigned)(p >> 64)];
        r = (uint64_t)p;
    }
    if (K % TT_I2S_BLOCK) { /* padding weights (k >= K) of the last block are code 1 (w = 0) */
        uint8_t *blk = dst + rb - TT_I2S_BLOCK_BYTES;
        const int base = (int)(rb / TT_I2S_BLOCK_BYTES - 1) * TT_I2S_BLOCK;
        for (int j = 0; j < 32; j++)
            for (int p = 0; p < 4; p++)
                if (base + p * 32 + j >= K) {
                    const int sh = 6 - 2 * p;
                    blk[j] = (uint8_t)((blk[j] & ~(3u << sh)) | (1u << sh));
                }
    }
}

void tt_i2s_row_to_i8(const uint8_t *src, int K, int8_t *w) {
    /* byte j of a block holds weights j, j+32, j+64, j+96 (shifts 6, 4, 2, 0) */
    for (int k0 = 0; k0 < K; k0 += TT_I2S_BLOCK) {
        const uint8_t *b = src + (size_t)(k0 / TT_I2S_BLOCK) * TT_I2S_BLOCK_BYTES;
        if (k0 + TT_I2S_BLOCK <= K) {
            for (int p = 0; p < 4; p++)
                for (int j = 0; j < 32; j++) w[k0 + p * 32 + j] = (int8_t)(((b[j] >> (6 - 2 * p)) & 3) - 1);
        } else {
            for (int p = 0; p < 4; p++)
                for (int j = 0; j < 32; j++)
                    if (k0 + p * 32 + j < K) w[k0 + p * 32 + j] = (int8_t)(((b[j] >> (6 - 2 * p)) & 3) - 1);
        }
    }
}

float tt_gen_scale(uint64_t seed, int id, int K) {
    const double u = u01(tt_mix64(row_key(seed, id, -1) ^ 0x5CA1Eull));
    return (float)(sqrt(1.5 / K) * (0.9 + 0.2 * u));
}

void tt_gen_f16_row(uint64_t seed, int id, int row, int K, uint16_t *dst) {
    /* 4 values per draw: 16-bit k -> (k + 0.5) / 32768 - 1, uniform on a
     * 2^-15 grid in (-1, 1), then rounded to fp16 (nearest even; the AVX-512
     * and C conversions agree bit for bit) */
    const uint64_t key = row_key(seed, id, row);
    float tmp[256];
    for (int k0 = 0; k0 < K; k0 += 256) {
        const int n = TT_MIN(256, K - k0);
        for (int i = 0; i < n; i += 4) {
            const uint64_t r = tt_mix64(key + (uint64_t)((k0 + i) / 4 + 1) * TT_GOLDEN64);
            for (int q = 0; q < 4 && i + q < n; q++) tmp[i + q] = ((float)((r >> (16 * q)) & 0xFFFF) + 0.5f) * 0x1p-15f - 1.0f;
        }
        tt_fkern()->f32_to_f16(tmp, dst + k0, n);
    }
}

void tt_gen_norm(uint64_t seed, int id, int K, float *dst) {
    const uint64_t key = row_key(seed, id, 0);
    for (int k = 0; k < K; k++)
        dst[k] = (float)(1.0 + 0.25 * (2.0 * u01(tt_mix64(key + (uint64_t)(k + 1) * TT_GOLDEN64)) - 1.0));
}
