/* tritune: load-time repacks from canonical layouts into kernel layouts.
 * Hand-written (format logic, not tiling); round trips are tested. */
#include <string.h>

#include "formats.h"
#include "variant.h"

/* i2s256: 2 bpw, 256 weights -> 64 bytes; byte j holds weights j, j+64,
 * j+128, j+192 of the group at shifts 6, 4, 2, 0 (code w+1). */
#define I2S256_GROUP 256
#define I2S256_BYTES 64
_Static_assert(I2S256_GROUP * 2 / 8 == I2S256_BYTES, "i2s256 is 2 bits per weight");

size_t tt_repack_i2s256_bytes(int M, int K) {
    if (M <= 0 || K <= 0) return 0;
    return (size_t)M * (size_t)TT_CEIL_DIV(K, I2S256_GROUP) * I2S256_BYTES;
}

/* code of weight k in a canonical row (1 = zero weight past the row end) */
static inline int canon_code(const uint8_t *row, size_t rb, int k) {
    size_t b = (size_t)(k / 128) * 32 + (size_t)(k % 32);
    if (b >= rb) return 1;
    return (row[b] >> (6 - 2 * ((k % 128) / 32))) & 3;
}

tt_status tt_repack_i2s256(const uint8_t *canon, int M, int K, uint8_t *dst) {
    if (M <= 0 || K <= 0) return tt_set_error(TT_E_ARG, "repack i2s256: bad shape %dx%d", M, K);
    const size_t rb = tt_i2s_row_bytes(K);
    const size_t ob = tt_repack_i2s256_bytes(1, K);
    for (int m = 0; m < M; m++) {
        const uint8_t *row = canon + (size_t)m * rb;
        uint8_t *o = dst + (size_t)m * ob;
        for (size_t g = 0; g < ob / I2S256_BYTES; g++)
            for (int j = 0; j < 64; j++) {
                uint8_t byte = 0;
                for (int p = 0; p < 4; p++) {
                    int k = (int)g * I2S256_GROUP + p * 64 + j;
                    int code = k < K ? canon_code(row, rb, k) : 1;
                    byte |= (uint8_t)(code << (6 - 2 * p));
                }
                o[g * I2S256_BYTES + (size_t)j] = byte;
            }
    }
    return TT_OK;
}

void tt_unpack_i2s256(const uint8_t *src, int M, int K, int8_t *w) {
    const size_t ob = tt_repack_i2s256_bytes(1, K);
    for (int m = 0; m < M; m++)
        for (int k = 0; k < K; k++) {
            uint8_t byte = src[(size_t)m * ob + (size_t)(k / 256) * 64 + (size_t)(k % 64)];
            w[(size_t)m * K + k] = (int8_t)(((byte >> (6 - 2 * ((k % 256) / 64))) & 3) - 1);
        }
}
