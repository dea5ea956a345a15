/* tritune: hand-written scalar references -- the specification every
 * generated kernel is checked against, bit-exactly, on int32 outputs.
 * Never generated.  Obvious loops over the canonical layout: unpack each
 * ternary weight, multiply, add in int32 (exact: |sum| <= 128 * K). */
#include "formats/formats.h"
#include "ref/ref.h"

/* Ternary weight [m][k] from the canonical I2_S layout. */
static inline int i2s_weight(const uint8_t *w, size_t row_bytes, int m, int k) {
    const uint8_t byte = w[(size_t)m * row_bytes + (size_t)(k / 128) * 32 + (k % 32)];
    const int shift = 6 - 2 * ((k % 128) / 32);
    return ((byte >> shift) & 3) - 1;
}

void tt_ref_i2s_gemv(const tt_kargs *a, int m0, int m1, int n0, int n1) {
    const size_t rb = tt_i2s_row_bytes(a->K);
    for (int n = n0; n < n1; n++) {          /* a GEMV is called with N = 1 */
        const int8_t *x = a->x + (size_t)n * a->Kp;
        for (int m = m0; m < m1; m++) {
            int32_t acc = 0;
            for (int k = 0; k < a->K; k++) acc += i2s_weight(a->w, rb, m, k) * x[k];
            a->y[(size_t)n * a->ldy + m] = acc;
        }
    }
}

void tt_ref_i2s_gemm(const tt_kargs *a, int m0, int m1, int n0, int n1) {
    const size_t rb = tt_i2s_row_bytes(a->K);
    for (int m = m0; m < m1; m++)
        for (int n = n0; n < n1; n++) {
            const int8_t *x = a->x + (size_t)n * a->Kp;
            int32_t acc = 0;
            for (int k = 0; k < a->K; k++) acc += i2s_weight(a->w, rb, m, k) * x[k];
            a->y[(size_t)n * a->ldy + m] = acc;
        }
}
