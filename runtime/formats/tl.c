/* tritune: TL1 / TL2 canonical layouts (see formats_tl.h). */
#include "formats/tl.h"

#include <string.h>

static inline int tl1_index(int w0, int w1) { return 3 * w0 + w1 + 4; } /* [0, 8], 4 = zero pair */

/* ---- TL1 ---------------------------------------------------------------------- */
size_t tt_tl1_bytes(int M, int K) { return M > 0 && K > 0 ? (size_t)M * tt_tl1_row_bytes(K) : 0; }

tt_status tt_tl1_pack(const int8_t *w, int M, int K, uint8_t *dst) {
    if (M <= 0 || K <= 0) return tt_set_error(TT_E_ARG, "tl1 pack: bad shape %dx%d", M, K);
    const size_t rb = tt_tl1_row_bytes(K);
    for (int m = 0; m < M; m++) {
        const int8_t *wr = w + (size_t)m * K;
        for (int k = 0; k < K; k++)
            if (wr[k] < -1 || wr[k] > 1)
                return tt_set_error(TT_E_FORMAT, "tl1 pack: weight [%d][%d] = %d is not ternary", m, k, wr[k]);
        uint8_t *d = dst + (size_t)m * rb;
        for (size_t b = 0; b < rb; b++) {
            int nib[2];
            for (int h = 0; h < 2; h++) {
                const long k = (long)b * 4 + 2 * h;
                const int w0 = k < K ? wr[k] : 0, w1 = k + 1 < K ? wr[k + 1] : 0;
                nib[h] = tl1_index(w0, w1);
            }
            d[b] = (uint8_t)(nib[0] | nib[1] << 4);
        }
    }
    return TT_OK;
}

void tt_tl1_unpack(const uint8_t *src, int M, int K, int8_t *w) {
    const size_t rb = tt_tl1_row_bytes(K);
    for (int m = 0; m < M; m++)
        for (int k = 0; k < K; k++) {
            const int t = k / 2;
            const int idx = (src[(size_t)m * rb + (size_t)(t / 2)] >> (4 * (t % 2))) & 15;
            w[(size_t)m * K + k] = (int8_t)(k % 2 == 0 ? idx / 3 - 1 : idx % 3 - 1);
        }
}

tt_status tt_tl1_validate(const uint8_t *src, int M, int K) {
    const size_t rb = tt_tl1_row_bytes(K);
    for (int m = 0; m < M; m++)
        for (size_t b = 0; b < rb; b++)
            for (int h = 0; h < 2; h++) {
                const int idx = (src[(size_t)m * rb + b] >> (4 * h)) & 15;
                const long k = (long)b * 4 + 2 * h; /* first weight of the pair */
                if (idx > 8) return tt_set_error(TT_E_FORMAT, "tl1: invalid index %d at row %d column %ld", idx, m, k);
                if ((k >= K && idx != 4) || (k + 1 >= K && idx % 3 != 1))
                    return tt_set_error(TT_E_FORMAT, "tl1: non-zero padding at row %d column %ld", m, k);
            }
    return TT_OK;
}

/* ---- TL2 ---------------------------------------------------------------------- */
size_t tt_tl2_bytes(int M, int K) { return M > 0 && K > 0 ? (size_t)M * tt_tl2_row_bytes(K) : 0; }

tt_status tt_tl2_pack(const int8_t *w, int M, int K, uint8_t *dst) {
    if (M <= 0 || K <= 0) return tt_set_error(TT_E_ARG, "tl2 pack: bad shape %dx%d", M, K);
    const int T = K / 3;
    const size_t rb = tt_tl2_row_bytes(K), ib = (size_t)TT_CEIL_DIV(T, 2);
    for (int m = 0; m < M; m++) {
        const int8_t *wr = w + (size_t)m * K;
        for (int k = 0; k < K; k++)
            if (wr[k] < -1 || wr[k] > 1)
                return tt_set_error(TT_E_FORMAT, "tl2 pack: weight [%d][%d] = %d is not ternary", m, k, wr[k]);
        uint8_t *d = dst + (size_t)m * rb;
        memset(d, 0, rb);
        int t = 0;
        /* 8 triples -> 4 index bytes and 1 sign byte, written whole */
        for (; t + 8 <= T; t += 8) {
            const int8_t *w3 = wr + 3 * t;
            unsigned sign = 0;
            for (int q = 0; q < 8; q += 2) {
                const int v0 = 9 * w3[3 * q] + 3 * w3[3 * q + 1] + w3[3 * q + 2];
                const int v1 = 9 * w3[3 * q + 3] + 3 * w3[3 * q + 4] + w3[3 * q + 5];
                sign |= (unsigned)(v0 < 0) << q | (unsigned)(v1 < 0) << (q + 1);
                d[(t + q) / 2] = (uint8_t)((v0 < 0 ? -v0 : v0) | (v1 < 0 ? -v1 : v1) << 4);
            }
            d[ib + (size_t)(t / 8)] = (uint8_t)sign;
        }
        for (; t < T; t++) {
            const int v = 9 * wr[3 * t] + 3 * wr[3 * t + 1] + wr[3 * t + 2]; /* [-13, 13] */
            const int idx = v < 0 ? -v : v;
            d[t / 2] |= (uint8_t)(idx << (4 * (t % 2)));
            if (v < 0) d[ib + (size_t)(t / 8)] |= (uint8_t)(1u << (t % 8));
        }
        if (K % 3) d[rb - 1] = (uint8_t)tl1_index(wr[3 * T], K % 3 == 2 ? wr[3 * T + 1] : 0);
    }
    return TT_OK;
}

void tt_tl2_unpack(const uint8_t *src, int M, int K, int8_t *w) {
    const int T = K / 3;
    const size_t rb = tt_tl2_row_bytes(K), ib = (size_t)TT_CEIL_DIV(T, 2);
    for (int m = 0; m < M; m++) {
        const uint8_t *r = src + (size_t)m * rb;
        int8_t *wr = w + (size_t)m * K;
        for (int t = 0; t < T; t++) {
            const int idx = (r[t / 2] >> (4 * (t % 2))) & 15;
            const int s = (r[ib + (size_t)(t / 8)] >> (t % 8)) & 1 ? -1 : 1;
            for (int d = 0; d < 3; d++) wr[3 * t + d] = (int8_t)(s * tt_tl2_digit(idx, d));
        }
        if (K % 3) {
            const int idx = r[rb - 1] & 15;
            wr[3 * T] = (int8_t)(idx / 3 - 1);
            if (K % 3 == 2) wr[3 * T + 1] = (int8_t)(idx % 3 - 1);
        }
    }
}

tt_status tt_tl2_validate(const uint8_t *src, int M, int K) {
    const int T = K / 3;
    const size_t rb = tt_tl2_row_bytes(K), ib = (size_t)TT_CEIL_DIV(T, 2), sb = (size_t)TT_CEIL_DIV(T, 8);
    for (int m = 0; m < M; m++) {
        const uint8_t *r = src + (size_t)m * rb;
        for (int t = 0; t < (int)(2 * ib); t++) {
            const int idx = (r[t / 2] >> (4 * (t % 2))) & 15;
            const int s = t < (int)(8 * sb) ? (r[ib + (size_t)(t / 8)] >> (t % 8)) & 1 : 0;
            if (idx > 13) return tt_set_error(TT_E_FORMAT, "tl2: invalid index %d at row %d triple %d", idx, m, t);
            if (t >= T && idx) return tt_set_error(TT_E_FORMAT, "tl2: non-zero padding index at row %d", m);
            if (idx == 0 && s) return tt_set_error(TT_E_FORMAT, "tl2: signed zero triple at row %d triple %d", m, t);
        }
        for (int t = T; t < (int)(8 * sb); t++)
            if ((r[ib + (size_t)(t / 8)] >> (t % 8)) & 1)
                return tt_set_error(TT_E_FORMAT, "tl2: non-zero padding sign at row %d", m);
        if (K % 3) {
            const int tail = r[rb - 1];
            if ((tail & 15) > 8 || (tail >> 4))
                return tt_set_error(TT_E_FORMAT, "tl2: invalid tail byte 0x%02x at row %d", tail, m);
            if (K % 3 == 1 && (tail & 15) % 3 != 1)
                return tt_set_error(TT_E_FORMAT, "tl2: tail names a weight past K at row %d", m);
        }
    }
    return TT_OK;
}
