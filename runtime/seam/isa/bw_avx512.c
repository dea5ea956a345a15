#include <immintrin.h>
#include <stdint.h>

#include "seam/bandwidth.h"

/* 256 bytes per iteration into 4 independent accumulators. */
uint64_t tt_bw_read_avx512(const void *p, size_t bytes) {
    const char *c = p;
    __m512i a0 = _mm512_setzero_si512(), a1 = a0, a2 = a0, a3 = a0;
    for (size_t i = 0; i + 256 <= bytes; i += 256) {
        a0 = _mm512_xor_si512(a0, _mm512_load_si512((const void *)(c + i)));
        a1 = _mm512_xor_si512(a1, _mm512_load_si512((const void *)(c + i + 64)));
        a2 = _mm512_xor_si512(a2, _mm512_load_si512((const void *)(c + i + 128)));
        a3 = _mm512_xor_si512(a3, _mm512_load_si512((const void *)(c + i + 192)));
    }
    a0 = _mm512_xor_si512(_mm512_xor_si512(a0, a1), _mm512_xor_si512(a2, a3));
    return (uint64_t)_mm512_reduce_add_epi64(a0);
}
