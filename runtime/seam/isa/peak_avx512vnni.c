/* AVX-512 VNNI int8 peak: vpdpbusd on zmm, 12 independent accumulators
 * (more than latency x throughput), 64 multiply-adds per instruction. */
#include <immintrin.h>

#include "seam/compute.h"

uint64_t tt_peak_loop_avx512vnni(uint64_t iters, int32_t *sink) {
    __m512i acc[12];
    __m512i a = _mm512_set1_epi8(1), b = _mm512_set1_epi8(2);
    for (int i = 0; i < 12; i++) acc[i] = _mm512_setzero_si512();
    for (uint64_t it = 0; it < iters; it++) {
        __asm__ volatile("" : "+v"(a), "+v"(b)); /* operands not loop-invariant to the compiler */
        for (int i = 0; i < 12; i++) acc[i] = _mm512_dpbusd_epi32(acc[i], a, b);
    }
    __m512i s = acc[0];
    for (int i = 1; i < 12; i++) s = _mm512_add_epi32(s, acc[i]);
    _mm512_storeu_si512(sink, s);
    return iters * 12 * 64;
}
