/* tritune: lut16 table builders for NEON (formats_tl.h, same bytes as
 * runtime/lut_tl.c).  A slot's 16 int16 entries are two int16x8 vectors
 * built with vmul/vmla by the scalar activations (digits -1/0/+1, |e| <=
 * 384: exact); vuzp1/vuzp2 on bytes split them into the lo and hi planes.
 * No gathers.  Used by the neon and neondot variants (plain ARMv8-A). */
#include <arm_neon.h>

#include "formats/tl.h"

size_t tt_lut_tl1_neon_bytes(int K) { return tt_lut_tl1_bytes(K); }
size_t tt_lut_tl2_neon_bytes(int K) { return tt_lut_tl2_bytes(K); }

static inline void store_planes(int16x8_t e0, int16x8_t e1, uint8_t *grp, int s) {
    const int8x16_t b0 = vreinterpretq_s8_s16(e0), b1 = vreinterpretq_s8_s16(e1);
    vst1q_s8((int8_t *)grp + 16 * s, vuzp1q_s8(b0, b1));      /* even bytes: lo */
    vst1q_s8((int8_t *)grp + 64 + 16 * s, vuzp2q_s8(b0, b1)); /* odd bytes: hi  */
}

void tt_lut_tl2_neon(const int8_t *x, int K, int Kp, uint8_t *dst, int part, int nparts) {
    (void)Kp;
    static const int16_t d0[16] = TT_TL2_D0, d1[16] = TT_TL2_D1, d2[16] = TT_TL2_D2;
    const int16x8_t D0a = vld1q_s16(d0), D0b = vld1q_s16(d0 + 8), D1a = vld1q_s16(d1), D1b = vld1q_s16(d1 + 8),
                    D2a = vld1q_s16(d2), D2b = vld1q_s16(d2 + 8);
    int g0, g1;
    tt_lut_share(tt_lut_groups(tt_tl2_slots(K)), part, nparts, &g0, &g1);
    const int full = TT_MIN(g1, (K / 3) / TT_LUT_GROUP);
    int g = g0;
    for (; g < full; g++) {
        uint8_t *grp = dst + (size_t)g * TT_LUT_GROUP_BYTES;
        const int8_t *xt = x + 12 * g;
        for (int s = 0; s < 4; s++) {
            const int16_t x0 = xt[3 * s], x1 = xt[3 * s + 1], x2 = xt[3 * s + 2];
            const int16x8_t e0 = vmlaq_n_s16(vmlaq_n_s16(vmulq_n_s16(D0a, x0), D1a, x1), D2a, x2);
            const int16x8_t e1 = vmlaq_n_s16(vmlaq_n_s16(vmulq_n_s16(D0b, x0), D1b, x1), D2b, x2);
            store_planes(e0, e1, grp, s);
        }
    }
    tt_lut_tl2_range(x, K, dst + (size_t)g * TT_LUT_GROUP_BYTES, g, g1);
}

void tt_lut_tl1_neon(const int8_t *x, int K, int Kp, uint8_t *dst, int part, int nparts) {
    (void)Kp;
    static const int16_t da[16] = TT_TL1_A, db[16] = TT_TL1_B;
    const int16x8_t Aa = vld1q_s16(da), Ab = vld1q_s16(da + 8), Ba = vld1q_s16(db), Bb = vld1q_s16(db + 8);
    int g0, g1;
    tt_lut_share(tt_lut_groups(tt_tl1_slots(K)), part, nparts, &g0, &g1);
    const int full = TT_MIN(g1, K / 8);
    int g = g0;
    for (; g < full; g++) {
        uint8_t *grp = dst + (size_t)g * TT_LUT_GROUP_BYTES;
        const int8_t *xt = x + 8 * g;
        for (int s = 0; s < 4; s++) {
            const int16_t x0 = xt[2 * s], x1 = xt[2 * s + 1];
            store_planes(vmlaq_n_s16(vmulq_n_s16(Aa, x0), Ba, x1), vmlaq_n_s16(vmulq_n_s16(Ab, x0), Bb, x1), grp, s);
        }
    }
    tt_lut_tl1_range(x, K, dst + (size_t)g * TT_LUT_GROUP_BYTES, g, g1);
}
