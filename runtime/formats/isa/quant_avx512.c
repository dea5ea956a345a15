/* Activation quantization of one token row with AVX-512, bit-identical to
 * the portable loop in formats.c (absmax scale, roundf = half away from
 * zero, clamp to [-128, 127], row sum).  roundf is rebuilt exactly: t =
 * trunc(v) and d = v - t are exact in float for |v| < 2^23, and v rounds
 * away from t when |d| >= 0.5. */
#include <immintrin.h>
#include <string.h>

#include "formats/formats.h"

void tt_quantize_row_avx512(const float *x, int K, int Kp, int8_t *q, int32_t *sum, float *scale) {
    const __m512 absmask = _mm512_castsi512_ps(_mm512_set1_epi32(0x7fffffff));
    __m512 vmax = _mm512_setzero_ps();
    int k = 0;
    for (; k + 16 <= K; k += 16) /* NaN lanes lose to the running max, as with fmaxf */
        vmax = _mm512_max_ps(_mm512_and_ps(_mm512_loadu_ps(x + k), absmask), vmax);
    if (k < K) {
        const __mmask16 mk = (__mmask16)((1u << (K - k)) - 1);
        vmax = _mm512_max_ps(_mm512_and_ps(_mm512_maskz_loadu_ps(mk, x + k), absmask), vmax);
    }
    const float amax = _mm512_reduce_max_ps(vmax);
    const float s = 127.f / (amax > 1e-5f ? amax : 1e-5f);
    const __m512 vs = _mm512_set1_ps(s), half = _mm512_set1_ps(0.5f), one = _mm512_set1_ps(1.0f);
    const __m512 hi = _mm512_set1_ps(127.f), lo = _mm512_set1_ps(-128.f);
    __m512i vsum = _mm512_setzero_si512();
    for (k = 0; k < K; k += 16) {
        const __mmask16 mk = K - k >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (K - k)) - 1);
        const __m512 v = _mm512_mul_ps(_mm512_maskz_loadu_ps(mk, x + k), vs);
        const __m512 t = _mm512_roundscale_ps(v, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
        const __m512 d = _mm512_and_ps(_mm512_sub_ps(v, t), absmask);
        const __mmask16 away = _mm512_cmp_ps_mask(d, half, _CMP_GE_OQ);
        /* t + copysign(1, v) where |d| >= 0.5 */
        const __m512 step = _mm512_or_ps(one, _mm512_and_ps(v, _mm512_castsi512_ps(_mm512_set1_epi32((int)0x80000000u))));
        __m512 r = _mm512_mask_add_ps(t, away, t, step);
        r = _mm512_min_ps(_mm512_max_ps(r, lo), hi);
        const __m512i iv = _mm512_maskz_cvttps_epi32(mk, r);
        vsum = _mm512_add_epi32(vsum, iv);
        _mm_mask_storeu_epi8(q + k, mk, _mm512_cvtepi32_epi8(iv));
    }
    memset(q + K, 0, (size_t)(Kp - K));
    *sum = _mm512_reduce_add_epi32(vsum);
    *scale = s;
}
