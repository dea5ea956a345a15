/* tritune: lut16 table builders for AVX2 (formats_tl.h, same bytes as
 * runtime/lut_tl.c).  One slot's 16 int16 entries are one ymm:
 * e = sign(x0, D0) + sign(x1, D1) [+ sign(x2, D2)] with vpsignw (weights are
 * -1/0/+1, so no multiply); |e| <= 384 is exact in int16.  A vpshufb +
 * vpermq pair then splits the entries into their lo and hi byte planes.
 * No gathers: each activation is broadcast once per slot. */
#include <immintrin.h>

#include "formats/tl.h"

size_t tt_lut_tl1_avx2_bytes(int K) { return tt_lut_tl1_bytes(K); }
size_t tt_lut_tl2_avx2_bytes(int K) { return tt_lut_tl2_bytes(K); }

static inline void store_planes(__m256i e, uint8_t *lo, uint8_t *hi) {
    /* per 128-bit lane: even bytes (lo) then odd bytes (hi) */
    const __m256i pick = _mm256_setr_epi8(0, 2, 4, 6, 8, 10, 12, 14, 1, 3, 5, 7, 9, 11, 13, 15, 0, 2, 4, 6, 8, 10, 12,
                                          14, 1, 3, 5, 7, 9, 11, 13, 15);
    const __m256i b = _mm256_permute4x64_epi64(_mm256_shuffle_epi8(e, pick), _MM_SHUFFLE(3, 1, 2, 0));
    _mm_storeu_si128((__m128i *)lo, _mm256_castsi256_si128(b));
    _mm_storeu_si128((__m128i *)hi, _mm256_extracti128_si256(b, 1));
}

void tt_lut_tl2_avx2(const int8_t *x, int K, int Kp, uint8_t *dst, int part, int nparts) {
    (void)Kp;
    static const int16_t d0[16] = TT_TL2_D0, d1[16] = TT_TL2_D1, d2[16] = TT_TL2_D2;
    const __m256i D0 = _mm256_loadu_si256((const __m256i *)d0), D1 = _mm256_loadu_si256((const __m256i *)d1),
                  D2 = _mm256_loadu_si256((const __m256i *)d2);
    int g0, g1;
    tt_lut_share(tt_lut_groups(tt_tl2_slots(K)), part, nparts, &g0, &g1);
    const int full = TT_MIN(g1, (K / 3) / TT_LUT_GROUP); /* groups of 4 whole triples */
    int g = g0;
    for (; g < full; g++) {
        uint8_t *grp = dst + (size_t)g * TT_LUT_GROUP_BYTES;
        const int8_t *xt = x + 12 * g;
        for (int s = 0; s < 4; s++) {
            const __m256i e = _mm256_add_epi16(
                _mm256_add_epi16(_mm256_sign_epi16(_mm256_set1_epi16(xt[3 * s]), D0),
                                 _mm256_sign_epi16(_mm256_set1_epi16(xt[3 * s + 1]), D1)),
                _mm256_sign_epi16(_mm256_set1_epi16(xt[3 * s + 2]), D2));
            store_planes(e, grp + 16 * s, grp + 64 + 16 * s);
        }
    }
    tt_lut_tl2_range(x, K, dst + (size_t)g * TT_LUT_GROUP_BYTES, g, g1); /* the last groups: tail slot, padding */
}

void tt_lut_tl1_avx2(const int8_t *x, int K, int Kp, uint8_t *dst, int part, int nparts) {
    (void)Kp;
    static const int16_t da[16] = TT_TL1_A, db[16] = TT_TL1_B;
    const __m256i A = _mm256_loadu_si256((const __m256i *)da), B = _mm256_loadu_si256((const __m256i *)db);
    int g0, g1;
    tt_lut_share(tt_lut_groups(tt_tl1_slots(K)), part, nparts, &g0, &g1);
    const int full = TT_MIN(g1, K / 8); /* groups of 4 whole pairs */
    int g = g0;
    for (; g < full; g++) {
        uint8_t *grp = dst + (size_t)g * TT_LUT_GROUP_BYTES;
        const int8_t *xt = x + 8 * g;
        for (int s = 0; s < 4; s++) {
            const __m256i e = _mm256_add_epi16(_mm256_sign_epi16(_mm256_set1_epi16(xt[2 * s]), A),
                                               _mm256_sign_epi16(_mm256_set1_epi16(xt[2 * s + 1]), B));
            store_planes(e, grp + 16 * s, grp + 64 + 16 * s);
        }
    }
    tt_lut_tl1_range(x, K, dst + (size_t)g * TT_LUT_GROUP_BYTES, g, g1);
}
