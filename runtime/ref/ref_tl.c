/* tritune: scalar references for TL1 and TL2 -- the specification every TL
 * kernel is checked against, bit-exactly.  Hand-written, no tables: decode
 * each ternary weight from the canonical layout (formats_tl.h), multiply
 * by the int8 activation, add in int32 (exact: |sum| <= 128 * K). */
#include "formats/tl.h"
#include "ref/ref.h"

/* Ternary weight [k] of one canonical TL1 row. */
static inline int tl1_weight(const uint8_t *row, int k) {
    const int t = k / 2;                                  /* pair */
    const int idx = (row[t / 2] >> (4 * (t % 2))) & 15;   /* 3*w0 + w1 + 4 */
    return k % 2 == 0 ? idx / 3 - 1 : idx % 3 - 1;
}

/* Ternary weight [k] of one canonical TL2 row (K columns). */
static inline int tl2_weight(const uint8_t *row, int K, int k) {
    const int T = K / 3;
    if (k >= 3 * T) { /* tail pair, TL1 index in the last byte */
        const int idx = row[tt_tl2_row_bytes(K) - 1] & 15;
        return k == 3 * T ? idx / 3 - 1 : idx % 3 - 1;
    }
    const int t = k / 3;
    const int idx = (row[t / 2] >> (4 * (t % 2))) & 15;   /* |9*w0 + 3*w1 + w2| */
    const int neg = (row[TT_CEIL_DIV(T, 2) + t / 8] >> (t % 8)) & 1;
    const int w = tt_tl2_digit(idx, k % 3);
    return neg ? -w : w;
}

/* Decode K in chunks of CHUNK weights per row, then every token's dot
 * product with the chunk; y[n][m] is the running int32 sum. */
#define CHUNK 1024
static void ref(const tt_kargs *a, int m0, int m1, int n0, int n1, int tl2) {
    const size_t rb = tl2 ? tt_tl2_row_bytes(a->K) : tt_tl1_row_bytes(a->K);
    int8_t w[CHUNK];
    for (int m = m0; m < m1; m++) {
        const uint8_t *row = a->w + (size_t)m * rb;
        for (int n = n0; n < n1; n++) a->y[(size_t)n * a->ldy + m] = 0;
        for (int k0 = 0; k0 < a->K; k0 += CHUNK) {
            const int kn = a->K - k0 < CHUNK ? a->K - k0 : CHUNK;
            for (int k = 0; k < kn; k++) w[k] = (int8_t)(tl2 ? tl2_weight(row, a->K, k0 + k) : tl1_weight(row, k0 + k));
            for (int n = n0; n < n1; n++) {
                const int8_t *x = a->x + (size_t)n * a->Kp + k0;
                int32_t acc = 0;
                for (int k = 0; k < kn; k++) acc += w[k] * x[k];
                a->y[(size_t)n * a->ldy + m] += acc;
            }
        }
    }
}

void tt_ref_tl1_gemv(const tt_kargs *a, int m0, int m1, int n0, int n1) { ref(a, m0, m1, n0, n1, 0); }
void tt_ref_tl1_gemm(const tt_kargs *a, int m0, int m1, int n0, int n1) { ref(a, m0, m1, n0, n1, 0); }
void tt_ref_tl2_gemv(const tt_kargs *a, int m0, int m1, int n0, int n1) { ref(a, m0, m1, n0, n1, 1); }
void tt_ref_tl2_gemm(const tt_kargs *a, int m0, int m1, int n0, int n1) { ref(a, m0, m1, n0, n1, 1); }
