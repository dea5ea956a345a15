/* AVX2 int8 peak: vpmaddubsw (u8 x s8 -> pairs summed in int16) then
 * vpmaddwd by 1 (-> int32), the instruction pair of tritune's AVX2 kernels;
 * 8 independent chains.  32 multiply-adds per vpmaddubsw. */
#include <immintrin.h>

#include "seam/compute.h"

uint64_t tt_peak_loop_avx2(uint64_t iters, int32_t *sink) {
    __m256i acc[8];
    const __m256i a = _mm256_set1_epi8(1), b = _mm256_set1_epi8(2), one = _mm256_set1_epi16(1);
    for (int i = 0; i < 8; i++) acc[i] = _mm256_setzero_si256();
    for (uint64_t it = 0; it < iters; it++) {
        for (int i = 0; i < 8; i++) {
            __asm__ volatile("" ::: "memory"); /* keep the chains in the loop */
            acc[i] = _mm256_add_epi32(acc[i], _mm256_madd_epi16(_mm256_maddubs_epi16(a, b), one));
        }
    }
    __m256i s = acc[0];
    for (int i = 1; i < 8; i++) s = _mm256_add_epi32(s, acc[i]);
    _mm256_storeu_si256((__m256i *)sink, s);
    return iters * 8 * 32;
}
