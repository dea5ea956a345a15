/* The BitLinear epilogue with AVX-512: y[m] = acc[m] * s for one token's
 * row of int32 dot products (seam/run.c; the same product, in float, as the
 * portable loop: bit-identical). */
#include <immintrin.h>

#include "seam/run.h"

void tt_epilogue_row_avx512(float *y, const int32_t *acc, int n, float s) {
    const __m512 vs = _mm512_set1_ps(s);
    int i = 0;
    for (; i + 16 <= n; i += 16)
        _mm512_storeu_ps(y + i, _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_loadu_si512((const void *)(acc + i))), vs));
    if (i < n) {
        const __mmask16 m = (__mmask16)((1u << (n - i)) - 1);
        _mm512_mask_storeu_ps(y + i, m, _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_maskz_loadu_epi32(m, acc + i)), vs));
    }
}
