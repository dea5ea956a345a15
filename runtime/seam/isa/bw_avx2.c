#include <immintrin.h>
#include <stdint.h>

#include "seam/bandwidth.h"

/* 128 bytes per iteration into 4 independent accumulators; with `pf`, a
 * software prefetch TT_BW_PREFETCH bytes ahead. */
static inline __attribute__((always_inline)) uint64_t read_loop(const char *c, size_t bytes, const int pf) {
    __m256i a0 = _mm256_setzero_si256(), a1 = a0, a2 = a0, a3 = a0;
    for (size_t i = 0; i + 128 <= bytes; i += 128) {
        if (pf) {
            _mm_prefetch(c + i + TT_BW_PREFETCH, _MM_HINT_T0);
            _mm_prefetch(c + i + TT_BW_PREFETCH + 64, _MM_HINT_T0);
        }
        a0 = _mm256_xor_si256(a0, _mm256_load_si256((const __m256i *)(c + i)));
        a1 = _mm256_xor_si256(a1, _mm256_load_si256((const __m256i *)(c + i + 32)));
        a2 = _mm256_xor_si256(a2, _mm256_load_si256((const __m256i *)(c + i + 64)));
        a3 = _mm256_xor_si256(a3, _mm256_load_si256((const __m256i *)(c + i + 96)));
    }
    a0 = _mm256_xor_si256(_mm256_xor_si256(a0, a1), _mm256_xor_si256(a2, a3));
    return (uint64_t)_mm256_extract_epi64(a0, 0) ^ (uint64_t)_mm256_extract_epi64(a0, 3);
}

uint64_t tt_bw_read_avx2(const void *p, size_t bytes) { return read_loop(p, bytes, 0); }
uint64_t tt_bw_read_avx2_pf(const void *p, size_t bytes) { return read_loop(p, bytes, 1); }

/* TT_BW_STREAMS interleaved streams, 64 bytes of each per iteration; with
 * `pf`, each prefetched TT_BW_STREAM_PREFETCH bytes ahead. */
static inline __attribute__((always_inline)) uint64_t streams_loop(const char *c, size_t bytes, const int pf) {
    const size_t part = bytes / TT_BW_STREAMS / 64 * 64;
    __m256i a[TT_BW_STREAMS];
    for (int s = 0; s < TT_BW_STREAMS; s++) a[s] = _mm256_setzero_si256();
    for (size_t i = 0; i + 64 <= part; i += 64)
        for (int s = 0; s < TT_BW_STREAMS; s++) {
            const char *q = c + (size_t)s * part + i;
            if (pf) _mm_prefetch(q + TT_BW_STREAM_PREFETCH, _MM_HINT_T0);
            a[s] = _mm256_xor_si256(a[s], _mm256_xor_si256(_mm256_load_si256((const __m256i *)q),
                                                           _mm256_load_si256((const __m256i *)(q + 32))));
        }
    for (int s = 1; s < TT_BW_STREAMS; s++) a[0] = _mm256_xor_si256(a[0], a[s]);
    return (uint64_t)_mm256_extract_epi64(a[0], 0) ^ (uint64_t)_mm256_extract_epi64(a[0], 3);
}

uint64_t tt_bw_read_avx2_streams(const void *p, size_t bytes) { return streams_loop(p, bytes, 0); }
uint64_t tt_bw_read_avx2_streams_pf(const void *p, size_t bytes) { return streams_loop(p, bytes, 1); }
