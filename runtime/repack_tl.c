/* tritune: load-time repacks of TL1/TL2 into the 32-row panel layouts
 * "tl1p32" / "tl2p32" and "tl1p32d" / "tl2p32d" (formats_tl.h).  Panel p depends only on rows
 * 32p .. 32p+31, so the repack can run in row chunks of any multiple of 32.
 * Rows past M and slots past the last are zero weights: TL1 index 4, TL2
 * triple index 0 (sign 0), TL2 tail index 4. */
#include <string.h>

#include "formats_tl.h"

static size_t panels(int M) { return (size_t)TT_CEIL_DIV(M, TT_TL_PANEL); }

size_t tt_repack_tl1p32_bytes(int M, int K) {
    if (M <= 0 || K <= 0) return 0;
    return panels(M) * (size_t)tt_lut_groups(tt_tl1_slots(K)) * TT_TL1P_GROUP_BYTES;
}
size_t tt_repack_tl2p32_bytes(int M, int K) {
    if (M <= 0 || K <= 0) return 0;
    return panels(M) * (size_t)tt_lut_groups(tt_tl2_slots(K)) * TT_TL2P_GROUP_BYTES;
}

/* index (and sign) of slot t of canonical row `row` */
static inline int tl1_slot(const uint8_t *row, int t) { return (row[t / 2] >> (4 * (t % 2))) & 15; }
static inline int tl2_slot(const uint8_t *row, int K, int t, int *neg) {
    const int T = K / 3;
    *neg = 0;
    if (t == T) return row[tt_tl2_row_bytes(K) - 1] & 15; /* tail pair */
    *neg = (row[TT_CEIL_DIV(T, 2) + t / 8] >> (t % 8)) & 1;
    return (row[t / 2] >> (4 * (t % 2))) & 15;
}

/* Where (row r of the panel, slot s of the group) lives in a group's bytes:
 * the index nibble (byte, shift) and the sign bit (byte 64 + .., bit). */
static inline void pos(int dot, int r, int s, int *ib, int *ish, int *sb, int *sbit) {
    if (!dot) { /* p32: slot-major, 32 rows per 16 bytes */
        *ib = 16 * s + r % 16, *ish = 4 * (r / 16);
        *sb = 64 + 4 * (r / 8) + s, *sbit = r % 8;
    } else { /* p32d: 8 rows x 4 slots per 16 bytes, lane 4j + s */
        const int v = r / 8, half = (r % 8) / 4, j = r % 4, lane = 4 * j + s;
        *ib = 16 * v + lane, *ish = 4 * half;
        *sb = 64 + 8 * half + 2 * v + lane / 8, *sbit = lane % 8;
    }
}

static tt_status repack(const uint8_t *canon, int M, int K, uint8_t *dst, int tl2, int dot) {
    if (M <= 0 || K <= 0) return tt_set_error(TT_E_ARG, "repack %s: bad shape %dx%d", tl2 ? "tl2p32" : "tl1p32", M, K);
    const int S = tl2 ? tt_tl2_slots(K) : tt_tl1_slots(K), T = K / 3, G = tt_lut_groups(S);
    const size_t rb = tl2 ? tt_tl2_row_bytes(K) : tt_tl1_row_bytes(K);
    const size_t gb = tl2 ? TT_TL2P_GROUP_BYTES : TT_TL1P_GROUP_BYTES;
    for (size_t p = 0; p < panels(M); p++)
        for (int g = 0; g < G; g++) {
            uint8_t *o = dst + (p * (size_t)G + (size_t)g) * gb;
            memset(o, 0, gb);
            for (int s = 0; s < TT_LUT_GROUP; s++) {
                const int t = g * TT_LUT_GROUP + s;
                for (int r = 0; r < TT_TL_PANEL; r++) {
                    const int m = (int)p * TT_TL_PANEL + r;
                    int idx, neg = 0;
                    if (t >= S)
                        idx = tl2 ? 0 : 4;
                    else if (m >= M)
                        idx = tl2 && t < T ? 0 : 4;
                    else
                        idx = tl2 ? tl2_slot(canon + (size_t)m * rb, K, t, &neg) : tl1_slot(canon + (size_t)m * rb, t);
                    int ib, ish, sb, sbit;
                    pos(dot, r, s, &ib, &ish, &sb, &sbit);
                    o[ib] |= (uint8_t)(idx << ish);
                    if (neg) o[sb] |= (uint8_t)(1u << sbit);
                }
            }
        }
    return TT_OK;
}

tt_status tt_repack_tl1p32(const uint8_t *canon, int M, int K, uint8_t *dst) { return repack(canon, M, K, dst, 0, 0); }
tt_status tt_repack_tl2p32(const uint8_t *canon, int M, int K, uint8_t *dst) { return repack(canon, M, K, dst, 1, 0); }
tt_status tt_repack_tl1p32d(const uint8_t *canon, int M, int K, uint8_t *dst) { return repack(canon, M, K, dst, 0, 1); }
tt_status tt_repack_tl2p32d(const uint8_t *canon, int M, int K, uint8_t *dst) { return repack(canon, M, K, dst, 1, 1); }
size_t tt_repack_tl1p32d_bytes(int M, int K) { return tt_repack_tl1p32_bytes(M, K); }
size_t tt_repack_tl2p32d_bytes(int M, int K) { return tt_repack_tl2p32_bytes(M, K); }

static void unpack(const uint8_t *src, int M, int K, int8_t *w, int tl2, int dot) {
    const int S = tl2 ? tt_tl2_slots(K) : tt_tl1_slots(K), T = K / 3, G = tt_lut_groups(S);
    const size_t gb = tl2 ? TT_TL2P_GROUP_BYTES : TT_TL1P_GROUP_BYTES;
    for (int m = 0; m < M; m++) {
        const int p = m / TT_TL_PANEL, r = m % TT_TL_PANEL;
        for (int t = 0; t < S; t++) {
            const uint8_t *o = src + ((size_t)p * G + (size_t)(t / 4)) * gb;
            const int s = t % 4;
            int ib, ish, sb, sbit;
            pos(dot, r, s, &ib, &ish, &sb, &sbit);
            const int idx = (o[ib] >> ish) & 15;
            int8_t *wr = w + (size_t)m * K;
            if (tl2 && t < T) {
                const int sg = (o[sb] >> sbit) & 1 ? -1 : 1;
                for (int d = 0; d < 3; d++) wr[3 * t + d] = (int8_t)(sg * tt_tl2_digit(idx, d));
            } else {
                const int k = tl2 ? 3 * T : 2 * t;
                wr[k] = (int8_t)(idx / 3 - 1);
                if (k + 1 < K) wr[k + 1] = (int8_t)(idx % 3 - 1);
            }
        }
    }
}

void tt_unpack_tl1p32(const uint8_t *src, int M, int K, int8_t *w) { unpack(src, M, K, w, 0, 0); }
void tt_unpack_tl2p32(const uint8_t *src, int M, int K, int8_t *w) { unpack(src, M, K, w, 1, 0); }
void tt_unpack_tl1p32d(const uint8_t *src, int M, int K, int8_t *w) { unpack(src, M, K, w, 0, 1); }
void tt_unpack_tl2p32d(const uint8_t *src, int M, int K, int8_t *w) { unpack(src, M, K, w, 1, 1); }
