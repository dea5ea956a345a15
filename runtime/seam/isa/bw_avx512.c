#include <immintrin.h>
#include <stdint.h>

#include "seam/bandwidth.h"

/* 256 bytes per iteration into 4 independent accumulators; with `pf`, a
 * software prefetch TT_BW_PREFETCH bytes ahead (the distance the fastest
 * GEMV kernels use). */
static inline __attribute__((always_inline)) uint64_t read_loop(const char *c, size_t bytes, const int pf) {
    __m512i a0 = _mm512_setzero_si512(), a1 = a0, a2 = a0, a3 = a0;
    for (size_t i = 0; i + 256 <= bytes; i += 256) {
        if (pf) {
            _mm_prefetch(c + i + TT_BW_PREFETCH, _MM_HINT_T0);
            _mm_prefetch(c + i + TT_BW_PREFETCH + 128, _MM_HINT_T0);
        }
        a0 = _mm512_xor_si512(a0, _mm512_load_si512((const void *)(c + i)));
        a1 = _mm512_xor_si512(a1, _mm512_load_si512((const void *)(c + i + 64)));
        a2 = _mm512_xor_si512(a2, _mm512_load_si512((const void *)(c + i + 128)));
        a3 = _mm512_xor_si512(a3, _mm512_load_si512((const void *)(c + i + 192)));
    }
    a0 = _mm512_xor_si512(_mm512_xor_si512(a0, a1), _mm512_xor_si512(a2, a3));
    return (uint64_t)_mm512_reduce_add_epi64(a0);
}

uint64_t tt_bw_read_avx512(const void *p, size_t bytes) { return read_loop(p, bytes, 0); }
uint64_t tt_bw_read_avx512_pf(const void *p, size_t bytes) { return read_loop(p, bytes, 1); }

/* TT_BW_STREAMS interleaved streams: the slice is cut into TT_BW_STREAMS parts
 * read side by side, 128 bytes of each per iteration (as a GEMV over several
 * rows reads several weight streams at once); with `pf`, each stream also
 * prefetched TT_BW_STREAM_PREFETCH bytes ahead. */
static inline __attribute__((always_inline)) uint64_t streams_loop(const char *c, size_t bytes, const int pf) {
    const size_t part = bytes / TT_BW_STREAMS / 128 * 128;
    __m512i a[TT_BW_STREAMS];
    for (int s = 0; s < TT_BW_STREAMS; s++) a[s] = _mm512_setzero_si512();
    for (size_t i = 0; i + 128 <= part; i += 128)
        for (int s = 0; s < TT_BW_STREAMS; s++) {
            const char *q = c + (size_t)s * part + i;
            if (pf) {
                _mm_prefetch(q + TT_BW_STREAM_PREFETCH, _MM_HINT_T0);
                _mm_prefetch(q + TT_BW_STREAM_PREFETCH + 64, _MM_HINT_T0);
            }
            a[s] = _mm512_xor_si512(a[s], _mm512_xor_si512(_mm512_load_si512((const void *)q),
                                                           _mm512_load_si512((const void *)(q + 64))));
        }
    for (int s = 1; s < TT_BW_STREAMS; s++) a[0] = _mm512_xor_si512(a[0], a[s]);
    return (uint64_t)_mm512_reduce_add_epi64(a[0]);
}

uint64_t tt_bw_read_avx512_streams(const void *p, size_t bytes) { return streams_loop(p, bytes, 0); }
uint64_t tt_bw_read_avx512_streams_pf(const void *p, size_t bytes) { return streams_loop(p, bytes, 1); }
