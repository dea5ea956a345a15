/* tritune: table builders for the TL2 AVX-512 VBMI kernels (formats/tl.h).
 * "lut16s": per group of 4 slots, the lo and hi byte planes of +e and of
 * -e, so the kernel's vpermi2b picks the signed entry with the sign as
 * index bit 6 and needs no negation.  "lut16d": per group the two unsigned
 * planes L and H of e = 2L - 3H, so the kernel looks both up with one-
 * table vpermb and applies the sign as the +-1 multiplier of vpdpbusd.
 * Entries as in runtime/isa/lut_avx512.c (vpermw, vpmullw by digits,
 * |e| <= 384); one vpermb splits 32 int16 entries into their 32 low and
 * 32 high bytes. */
#include <immintrin.h>
#include <string.h>

#include "formats/tl.h"

#define GROUP_S_BYTES 256 /* 2 signs x 2 planes x 4 slots x 16 entries */
#define GROUP_D_BYTES 128 /* 2 planes x 4 slots x 16 entries           */

size_t tt_lut_tl2s_avx512vbmi_bytes(int K) { return (size_t)tt_lut_groups(tt_tl2_slots(K)) * GROUP_S_BYTES; }

static inline __m512i twice(const int16_t v[16]) {
    const __m256i h = _mm256_loadu_si256((const __m256i *)v);
    return _mm512_inserti64x4(_mm512_castsi256_si512(h), h, 1);
}

static inline __m512i pick2(int a, int b) {
    return _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_set1_epi16((short)a)), _mm256_set1_epi16((short)b), 1);
}

/* the 32 int16 entries of slots 2*pair, 2*pair + 1 of one group (xv: its 12
 * activations widened to int16) */
static inline __m512i pair_entries(__m512i xv, int pair, __m512i D0, __m512i D1, __m512i D2) {
    const int b = 6 * pair;
    return _mm512_add_epi16(_mm512_add_epi16(_mm512_mullo_epi16(_mm512_permutexvar_epi16(pick2(b, b + 3), xv), D0),
                                             _mm512_mullo_epi16(_mm512_permutexvar_epi16(pick2(b + 1, b + 4), xv), D1)),
                            _mm512_mullo_epi16(_mm512_permutexvar_epi16(pick2(b + 2, b + 5), xv), D2));
}

/* bytes of 32 int16: even bytes (lo) to 0..31, odd bytes (hi) to 32..63 */
static inline __m512i split_bytes(void) {
    uint8_t sp[64];
    for (int i = 0; i < 32; i++) sp[i] = (uint8_t)(2 * i), sp[32 + i] = (uint8_t)(2 * i + 1);
    return _mm512_loadu_si512(sp);
}

/* The group loop of both builders: the groups of this part's share, the
 * full ones from the activations (PAIR(e, grp, pair) stores the 32 int16
 * entries e of slots 2*pair, 2*pair + 1), the last ones (tail slot,
 * padding) from the portable builder (ENTRY(e, grp, i) stores entry i).
 * PAIR and ENTRY are constants at each call: inlined. */
typedef void (*pair_store_fn)(__m512i e, uint8_t *grp, int pair);
typedef void (*entry_store_fn)(int16_t e, uint8_t *grp, int i);
static inline __attribute__((always_inline)) void build_groups(const int8_t *x, int K, uint8_t *dst, int part,
                                                               int nparts, size_t group_bytes, pair_store_fn PAIR,
                                                               entry_store_fn ENTRY) {
    static const int16_t d0[16] = TT_TL2_D0, d1[16] = TT_TL2_D1, d2[16] = TT_TL2_D2;
    const __m512i D0 = twice(d0), D1 = twice(d1), D2 = twice(d2);
    int g0, g1;
    tt_lut_share(tt_lut_groups(tt_tl2_slots(K)), part, nparts, &g0, &g1);
    const int full = TT_MIN(g1, (K / 3) / TT_LUT_GROUP);
    int g = g0;
    for (; g < full; g++) {
        const __m512i xv = _mm512_zextsi256_si512(_mm256_cvtepi8_epi16(_mm_maskz_loadu_epi8(0x0FFF, x + 12 * g)));
        for (int pair = 0; pair < 2; pair++) PAIR(pair_entries(xv, pair, D0, D1, D2), dst + (size_t)g * group_bytes, pair);
    }
    for (; g < g1; g++) {
        uint8_t t[TT_LUT_GROUP_BYTES];
        tt_lut_tl2_range(x, K, t, g, g + 1);
        for (int i = 0; i < 64; i++) ENTRY((int16_t)(uint16_t)(t[i] | t[64 + i] << 8), dst + (size_t)g * group_bytes, i);
    }
}

/* lut16s: the lo and hi planes of +e and of -e */
static inline __attribute__((always_inline)) void s_pair(__m512i e, uint8_t *grp, int pair) {
    const __m512i split = split_bytes();
    const __m512i pos = _mm512_permutexvar_epi8(split, e);
    const __m512i neg = _mm512_permutexvar_epi8(split, _mm512_sub_epi16(_mm512_setzero_si512(), e));
    _mm256_storeu_si256((__m256i *)(grp + 32 * pair), _mm512_castsi512_si256(pos));
    _mm256_storeu_si256((__m256i *)(grp + 64 + 32 * pair), _mm512_castsi512_si256(neg));
    _mm256_storeu_si256((__m256i *)(grp + 128 + 32 * pair), _mm512_extracti64x4_epi64(pos, 1));
    _mm256_storeu_si256((__m256i *)(grp + 192 + 32 * pair), _mm512_extracti64x4_epi64(neg, 1));
}
static inline __attribute__((always_inline)) void s_entry(int16_t e, uint8_t *grp, int i) {
    const int16_t ne = (int16_t)-e;
    grp[i] = (uint8_t)(e & 0xFF), grp[128 + i] = (uint8_t)((uint16_t)e >> 8);
    grp[64 + i] = (uint8_t)(ne & 0xFF), grp[192 + i] = (uint8_t)((uint16_t)ne >> 8);
}

void tt_lut_tl2s_avx512vbmi(const int8_t *x, int K, int Kp, uint8_t *dst, int part, int nparts) {
    (void)Kp;
    build_groups(x, K, dst, part, nparts, GROUP_S_BYTES, s_pair, s_entry);
}

size_t tt_lut_tl2d_avx512vbmi_bytes(int K) { return (size_t)tt_lut_groups(tt_tl2_slots(K)) * GROUP_D_BYTES; }

/* e = 2L - 3H with L, H in [0, 255] for every |e| <= 384: H is the least
 * h >= max(0, ceil(-e / 3)) with e + 3h even, so H <= 129 and L <= 192. */
static inline void split_d(int e, uint8_t *L, uint8_t *H) {
    const int t = e < 0 ? -e : 0;
    int h = (t + 2) / 3;
    h += (e + h) & 1;
    *L = (uint8_t)((e + 3 * h) / 2);
    *H = (uint8_t)h;
}

/* lut16d: e = 2L - 3H as split_d does, 32 entries at once: H = ceil(t / 3)
 * for t = max(0, -e) (as (t + 2) * 21846 >> 16, exact for t <= 384), plus
 * the parity of e + H */
static inline __attribute__((always_inline)) void d_pair(__m512i e, uint8_t *grp, int pair) {
    const __m512i zero = _mm512_setzero_si512(), one = _mm512_set1_epi16(1), third = _mm512_set1_epi16(21846);
    const __m512i t = _mm512_max_epi16(zero, _mm512_sub_epi16(zero, e));
    __m512i h = _mm512_mulhi_epu16(_mm512_add_epi16(t, _mm512_set1_epi16(2)), third);
    h = _mm512_add_epi16(h, _mm512_and_si512(_mm512_add_epi16(e, h), one));
    const __m512i l = _mm512_srli_epi16(_mm512_add_epi16(e, _mm512_mullo_epi16(h, _mm512_set1_epi16(3))), 1);
    /* L in the low byte, H in the high byte of each int16, then split */
    const __m512i lh = _mm512_permutexvar_epi8(split_bytes(), _mm512_or_si512(l, _mm512_slli_epi16(h, 8)));
    _mm256_storeu_si256((__m256i *)(grp + 32 * pair), _mm512_castsi512_si256(lh));
    _mm256_storeu_si256((__m256i *)(grp + 64 + 32 * pair), _mm512_extracti64x4_epi64(lh, 1));
}
static inline __attribute__((always_inline)) void d_entry(int16_t e, uint8_t *grp, int i) {
    split_d(e, &grp[i], &grp[64 + i]);
}

void tt_lut_tl2d_avx512vbmi(const int8_t *x, int K, int Kp, uint8_t *dst, int part, int nparts) {
    (void)Kp;
    build_groups(x, K, dst, part, nparts, GROUP_D_BYTES, d_pair, d_entry);
}
