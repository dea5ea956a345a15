/* tritune: load-time repacks of TL1/TL2 into the 32-row panel layouts
 * "tl1p32" / "tl2p32" and "tl1p32d" / "tl2p32d" (formats_tl.h).  Panel p depends only on rows
 * 32p .. 32p+31, so the repack can run in row chunks of any multiple of 32.
 * Rows past M and slots past the last are zero weights: TL1 index 4, TL2
 * triple index 0 (sign 0), TL2 tail index 4. */
#include <stdlib.h>
#include <string.h>

#include "formats/tl.h"

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

/* Row by row: decode the canonical row's slots sequentially into idx/neg
 * (padding slots: zero weights), then scatter them into the panel's groups
 * through a position table precomputed per (row in panel, slot in group).
 * Byte-for-byte the same output as placing one slot at a time; ~5x faster,
 * which matters when a 100B model is generated straight into this layout. */
static tt_status repack(const uint8_t *canon, int M, int K, uint8_t *dst, int tl2, int dot) {
    if (M <= 0 || K <= 0) return tt_set_error(TT_E_ARG, "repack %s: bad shape %dx%d", tl2 ? "tl2p32" : "tl1p32", M, K);
    const int S = tl2 ? tt_tl2_slots(K) : tt_tl1_slots(K), T = K / 3, G = tt_lut_groups(S);
    const int SG = G * TT_LUT_GROUP; /* slots including the last group's padding */
    const size_t rb = tl2 ? tt_tl2_row_bytes(K) : tt_tl1_row_bytes(K);
    const size_t gb = tl2 ? TT_TL2P_GROUP_BYTES : TT_TL1P_GROUP_BYTES;
    struct { uint8_t ib, ish, sb, sbit; } P[TT_TL_PANEL][TT_LUT_GROUP];
    for (int r = 0; r < TT_TL_PANEL; r++)
        for (int sl = 0; sl < TT_LUT_GROUP; sl++) {
            int ib, ish, sb, sbit;
            pos(dot, r, sl, &ib, &ish, &sb, &sbit);
            P[r][sl].ib = (uint8_t)ib, P[r][sl].ish = (uint8_t)ish, P[r][sl].sb = (uint8_t)sb, P[r][sl].sbit = (uint8_t)sbit;
        }
    uint8_t *idx = malloc((size_t)SG), *neg = malloc((size_t)SG);
    if (!idx || !neg) {
        free(idx);
        free(neg);
        return tt_set_error(TT_E_NOMEM, "repack: out of memory");
    }
    const uint8_t zero_triple = 0, zero_pair = 4; /* TL2 index of (0,0,0); TL1 index of (0,0) */
    const int nidx = tl2 ? T : S;                  /* slots read as plain nibbles */
    for (size_t p = 0; p < panels(M); p++) {
        uint8_t *panel = dst + p * (size_t)G * gb;
        memset(panel, 0, (size_t)G * gb);
        for (int r = 0; r < TT_TL_PANEL; r++) {
            const int m = (int)p * TT_TL_PANEL + r;
            if (m < M) {
                const uint8_t *row = canon + (size_t)m * rb;
                for (int t = 0; t < nidx; t++) idx[t] = (uint8_t)((row[t >> 1] >> (4 * (t & 1))) & 15);
                if (tl2) {
                    const uint8_t *sg = row + TT_CEIL_DIV(T, 2);
                    for (int t = 0; t < T; t++) neg[t] = (uint8_t)((sg[t >> 3] >> (t & 7)) & 1);
                    if (T < S) idx[T] = (uint8_t)(row[rb - 1] & 15), neg[T] = 0; /* tail pair, TL1-style */
                } else {
                    memset(neg, 0, (size_t)S);
                }
            } else { /* rows past M: zero weights */
                memset(idx, tl2 ? zero_triple : zero_pair, (size_t)S);
                if (tl2 && T < S) idx[T] = zero_pair;
                memset(neg, 0, (size_t)S);
            }
            memset(idx + S, tl2 ? zero_triple : zero_pair, (size_t)(SG - S)); /* slots past the last */
            memset(neg + S, 0, (size_t)(SG - S));
            for (int g = 0; g < G; g++) {
                uint8_t *o = panel + (size_t)g * gb;
                const uint8_t *gi = idx + g * TT_LUT_GROUP, *gn = neg + g * TT_LUT_GROUP;
                for (int sl = 0; sl < TT_LUT_GROUP; sl++) o[P[r][sl].ib] |= (uint8_t)(gi[sl] << P[r][sl].ish);
                if (tl2) /* TL1 groups have no sign bytes (gb = 64) */
                    for (int sl = 0; sl < TT_LUT_GROUP; sl++) o[P[r][sl].sb] |= (uint8_t)(gn[sl] << P[r][sl].sbit);
            }
        }
    }
    free(idx);
    free(neg);
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
