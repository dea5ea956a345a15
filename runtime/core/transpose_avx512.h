/* tritune: a 16 x 16 transpose of 32-bit lanes in 16 zmm registers (64
 * shuffles: unpack 32, unpack 64, then two rounds of 128-bit lane
 * shuffles), for units compiled with AVX-512F.  Used where a 16 x 16 block
 * must change from rows to columns: the AMX kernels' weight decode (rows'
 * 2-bit groups into VNNI4 tiles) and the prompt attention's K^T. */
#ifndef TT_TRANSPOSE_AVX512_H
#define TT_TRANSPOSE_AVX512_H

#if defined(__AVX512F__)
#include <immintrin.h>

/* lane m of r[q] <- lane q of r[m] */
static inline void tt_transpose16_avx512(__m512i r[16]) {
    __m512i t[16];
    for (int i = 0; i < 8; i++) {
        t[2 * i] = _mm512_unpacklo_epi32(r[2 * i], r[2 * i + 1]);
        t[2 * i + 1] = _mm512_unpackhi_epi32(r[2 * i], r[2 * i + 1]);
    }
    for (int i = 0; i < 4; i++) {
        r[4 * i + 0] = _mm512_unpacklo_epi64(t[4 * i + 0], t[4 * i + 2]);
        r[4 * i + 1] = _mm512_unpackhi_epi64(t[4 * i + 0], t[4 * i + 2]);
        r[4 * i + 2] = _mm512_unpacklo_epi64(t[4 * i + 1], t[4 * i + 3]);
        r[4 * i + 3] = _mm512_unpackhi_epi64(t[4 * i + 1], t[4 * i + 3]);
    }
    for (int i = 0; i < 2; i++)
        for (int c = 0; c < 4; c++) {
            t[8 * i + c] = _mm512_shuffle_i32x4(r[8 * i + c], r[8 * i + 4 + c], 0x88);
            t[8 * i + 4 + c] = _mm512_shuffle_i32x4(r[8 * i + c], r[8 * i + 4 + c], 0xDD);
        }
    for (int c = 0; c < 8; c++) {
        r[c] = _mm512_shuffle_i32x4(t[c], t[8 + c], 0x88);
        r[c + 8] = _mm512_shuffle_i32x4(t[c], t[8 + c], 0xDD);
    }
}
#endif
#endif
