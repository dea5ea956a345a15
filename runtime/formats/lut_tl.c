/* tritune: per-token activation tables ("lut16", formats_tl.h) in portable
 * C.  Per-ISA builders (runtime/isa/lut_<isa>.c) produce the same bytes.
 *
 * Slot s of a token gets 16 int16 entries e[i], stored as a lo plane
 * (e & 0xFF) and a hi plane (e >> 8, arithmetic) in its group of 4 slots.
 *   TL1 slot t, activations (x0, x1) = (x[2t], x[2t+1]):
 *     e[i] = (i/3 - 1)*x0 + (i%3 - 1)*x1 for i in [0, 8], else 0;  |e| <= 256.
 *   TL2 triple t, (x0, x1, x2) = x[3t .. 3t+2]:
 *     e[i] = d0(i)*x0 + d1(i)*x1 + d2(i)*x2 for i in [0, 13] with
 *     i = 9*d0 + 3*d1 + d2 (balanced ternary), else 0;  |e| <= 3*128 = 384.
 *   TL2 tail slot (K % 3 != 0): TL1 entries for (x[3T], x[3T+1] or 0).
 * Slots past the last one (group padding) are all zero. */
#include <string.h>

#include "formats/tl.h"

size_t tt_lut_tl1_bytes(int K) { return (size_t)tt_lut_groups(tt_tl1_slots(K)) * TT_LUT_GROUP_BYTES; }
size_t tt_lut_tl2_bytes(int K) { return (size_t)tt_lut_groups(tt_tl2_slots(K)) * TT_LUT_GROUP_BYTES; }

static inline void put(uint8_t *grp, int s, const int16_t e[16]) {
    for (int i = 0; i < 16; i++) {
        grp[16 * s + i] = (uint8_t)(e[i] & 0xFF);
        grp[64 + 16 * s + i] = (uint8_t)((uint16_t)e[i] >> 8);
    }
}

static inline void tl1_entries(int x0, int x1, int16_t e[16]) {
    for (int i = 0; i < 16; i++) e[i] = (int16_t)(i < 9 ? (i / 3 - 1) * x0 + (i % 3 - 1) * x1 : 0);
}

void tt_lut_tl1(const int8_t *x, int K, int Kp, uint8_t *dst, int part, int nparts) {
    (void)Kp;
    int g0, g1;
    tt_lut_share(tt_lut_groups(tt_tl1_slots(K)), part, nparts, &g0, &g1);
    tt_lut_tl1_range(x, K, dst + (size_t)g0 * TT_LUT_GROUP_BYTES, g0, g1);
}

void tt_lut_tl2(const int8_t *x, int K, int Kp, uint8_t *dst, int part, int nparts) {
    (void)Kp;
    int g0, g1;
    tt_lut_share(tt_lut_groups(tt_tl2_slots(K)), part, nparts, &g0, &g1);
    tt_lut_tl2_range(x, K, dst + (size_t)g0 * TT_LUT_GROUP_BYTES, g0, g1);
}

void tt_lut_tl1_range(const int8_t *x, int K, uint8_t *out, int g0, int g1) {
    const int S = tt_tl1_slots(K);
    int16_t e[16];
    for (int g = g0; g < g1; g++)
        for (int s = 0; s < TT_LUT_GROUP; s++) {
            const int t = g * TT_LUT_GROUP + s;
            if (t < S)
                tl1_entries(x[2 * t], 2 * t + 1 < K ? x[2 * t + 1] : 0, e);
            else
                memset(e, 0, sizeof e);
            put(out + (size_t)(g - g0) * TT_LUT_GROUP_BYTES, s, e);
        }
}

void tt_lut_tl2_range(const int8_t *x, int K, uint8_t *out, int g0, int g1) {
    const int T = K / 3, S = tt_tl2_slots(K);
    int16_t e[16];
    for (int g = g0; g < g1; g++)
        for (int s = 0; s < TT_LUT_GROUP; s++) {
            const int t = g * TT_LUT_GROUP + s;
            if (t < T) {
                const int x0 = x[3 * t], x1 = x[3 * t + 1], x2 = x[3 * t + 2];
                for (int i = 0; i < 16; i++)
                    e[i] = (int16_t)(i < 14 ? tt_tl2_digit(i, 0) * x0 + tt_tl2_digit(i, 1) * x1 + tt_tl2_digit(i, 2) * x2
                                            : 0);
            } else if (t < S) {
                tl1_entries(x[3 * T], K % 3 == 2 ? x[3 * T + 1] : 0, e);
            } else {
                memset(e, 0, sizeof e);
            }
            put(out + (size_t)(g - g0) * TT_LUT_GROUP_BYTES, s, e);
        }
}
