/* tritune: lut16 table builders for AVX-512 BW (formats_tl.h, same bytes as
 * runtime/lut_tl.c).  A zmm holds the 16 int16 entries of two slots:
 * vpermw places each slot's activations in its half, vpmullw by the digit
 * vectors (-1/0/+1) and vpaddw give exact entries (|e| <= 384), and vpmovwb
 * of e and of e >> 8 writes the lo and hi planes of both slots at once.
 * A group's activations come from one masked load (no gathers, no read past
 * the group). */
#include <immintrin.h>

#include "formats/tl.h"

size_t tt_lut_tl1_avx512_bytes(int K) { return tt_lut_tl1_bytes(K); }
size_t tt_lut_tl2_avx512_bytes(int K) { return tt_lut_tl2_bytes(K); }

static inline __m512i twice(const int16_t v[16]) {
    const __m256i h = _mm256_loadu_si256((const __m256i *)v);
    return _mm512_inserti64x4(_mm512_castsi256_si512(h), h, 1);
}

/* lanes 0-15 <- activation a, lanes 16-31 <- activation b */
static inline __m512i pick2(int a, int b) {
    return _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_set1_epi16((short)a)), _mm256_set1_epi16((short)b), 1);
}

static inline void store2(__m512i e, uint8_t *grp, int pair) {
    _mm256_storeu_si256((__m256i *)(grp + 32 * pair), _mm512_cvtepi16_epi8(e));
    _mm256_storeu_si256((__m256i *)(grp + 64 + 32 * pair), _mm512_cvtepi16_epi8(_mm512_srai_epi16(e, 8)));
}

void tt_lut_tl2_avx512(const int8_t *x, int K, int Kp, uint8_t *dst, int part, int nparts) {
    (void)Kp;
    static const int16_t d0[16] = TT_TL2_D0, d1[16] = TT_TL2_D1, d2[16] = TT_TL2_D2;
    const __m512i D0 = twice(d0), D1 = twice(d1), D2 = twice(d2);
    int g0, g1;
    tt_lut_share(tt_lut_groups(tt_tl2_slots(K)), part, nparts, &g0, &g1);
    const int full = TT_MIN(g1, (K / 3) / TT_LUT_GROUP);
    int g = g0;
    for (; g < full; g++) {
        uint8_t *grp = dst + (size_t)g * TT_LUT_GROUP_BYTES;
        /* the group's 12 activations as int16 lanes 0..11 */
        const __m512i xv = _mm512_zextsi256_si512(_mm256_cvtepi8_epi16(_mm_maskz_loadu_epi8(0x0FFF, x + 12 * g)));
        for (int pair = 0; pair < 2; pair++) {
            const int b = 6 * pair; /* slot 2*pair at lanes b..b+2, slot 2*pair+1 at b+3..b+5 */
            const __m512i e = _mm512_add_epi16(
                _mm512_add_epi16(_mm512_mullo_epi16(_mm512_permutexvar_epi16(pick2(b, b + 3), xv), D0),
                                 _mm512_mullo_epi16(_mm512_permutexvar_epi16(pick2(b + 1, b + 4), xv), D1)),
                _mm512_mullo_epi16(_mm512_permutexvar_epi16(pick2(b + 2, b + 5), xv), D2));
            store2(e, grp, pair);
        }
    }
    tt_lut_tl2_range(x, K, dst + (size_t)g * TT_LUT_GROUP_BYTES, g, g1);
}

void tt_lut_tl1_avx512(const int8_t *x, int K, int Kp, uint8_t *dst, int part, int nparts) {
    (void)Kp;
    static const int16_t da[16] = TT_TL1_A, db[16] = TT_TL1_B;
    const __m512i A = twice(da), B = twice(db);
    int g0, g1;
    tt_lut_share(tt_lut_groups(tt_tl1_slots(K)), part, nparts, &g0, &g1);
    const int full = TT_MIN(g1, K / 8);
    int g = g0;
    for (; g < full; g++) {
        uint8_t *grp = dst + (size_t)g * TT_LUT_GROUP_BYTES;
        const __m512i xv = _mm512_zextsi256_si512(_mm256_cvtepi8_epi16(_mm_maskz_loadu_epi8(0x00FF, x + 8 * g)));
        for (int pair = 0; pair < 2; pair++) {
            const int b = 4 * pair;
            const __m512i e = _mm512_add_epi16(_mm512_mullo_epi16(_mm512_permutexvar_epi16(pick2(b, b + 2), xv), A),
                                               _mm512_mullo_epi16(_mm512_permutexvar_epi16(pick2(b + 1, b + 3), xv), B));
            store2(e, grp, pair);
        }
    }
    tt_lut_tl1_range(x, K, dst + (size_t)g * TT_LUT_GROUP_BYTES, g, g1);
}
