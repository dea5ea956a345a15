/* tritune: AVX-512 float kernels for the fp16 baseline, the LM head (fp16 /
 * fp32 rows) and fp16 KV-cache attention.  Compiled with the avx512
 * flags (AVX512F/BW/VL/DQ, F16C, FMA); called only when the CPU has them.
 *
 * Matrix kernel: blocks of 4 rows x up to 4 tokens, 16 fp32 lanes per step:
 * each step converts 4 row segments once and reuses them for every token of
 * the block (16 FMA accumulators at most: 4 rows x 4 tokens).  The K tail is
 * handled with masked loads, so any K works.  Streaming weights from DRAM
 * is the bottleneck at N = 1: the four rows lie a quarter of the row range
 * apart (fk_rows) and a software prefetch PF_BYTES ahead in each keeps the
 * four streams in flight. */
#include <immintrin.h>
#include <stddef.h>
#include <stdint.h>

#include "model/fkern.h"

#define PF_BYTES 1024

/* Load 16 weights of row `r` starting at column k as fp32 (masked tail). */
static inline __m512 ld_f16(const void *W, size_t ld, int r, int k, __mmask16 mk) {
    const uint16_t *p = (const uint16_t *)W + (size_t)r * ld + k;
    return _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(mk, p));
}
static inline __m512 ld_f32(const void *W, size_t ld, int r, int k, __mmask16 mk) {
    return _mm512_maskz_loadu_ps(mk, (const float *)W + (size_t)r * ld + k);
}

typedef __m512 (*ld_fn)(const void *W, size_t ld, int r, int k, __mmask16 mk);

/* 4 rows x NB tokens: rows m + r * gap, r < 4; NB is a literal at every
 * call, so acc[][] lives in registers (16 zmm at most) after inlining. */
static inline __attribute__((always_inline)) void block4(ld_fn LD, size_t es, const void *W, const float *rs, int K,
                                                         const float *x, int ldx, float *y, int ldy, int m, int gap,
                                                         int n0, const int NB) {
    const size_t ld = (size_t)K;
    __m512 acc[4][4];
    for (int r = 0; r < 4; r++)
        for (int t = 0; t < NB; t++) acc[r][t] = _mm512_setzero_ps();
    const char *base = (const char *)W + (size_t)m * ld * es;
    for (int k = 0; k < K; k += 16) {
        const __mmask16 mk = K - k >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (K - k)) - 1);
        if (((size_t)k * es) % 64 == 0) /* once per cache line of each row */
            for (int r = 0; r < 4; r++) _mm_prefetch(base + ((size_t)r * gap * ld + k) * es + PF_BYTES, _MM_HINT_T0);
        const __m512 w[4] = {LD(W, ld, m, k, mk), LD(W, ld, m + gap, k, mk), LD(W, ld, m + 2 * gap, k, mk),
                             LD(W, ld, m + 3 * gap, k, mk)};
        for (int t = 0; t < NB; t++) {
            const __m512 xv = _mm512_maskz_loadu_ps(mk, x + (size_t)(n0 + t) * ldx + k);
            for (int r = 0; r < 4; r++) acc[r][t] = _mm512_fmadd_ps(w[r], xv, acc[r][t]);
        }
    }
    for (int r = 0; r < 4; r++) {
        const float s = rs ? rs[m + r * gap] : 1.0f;
        for (int t = 0; t < NB; t++) y[(size_t)(n0 + t) * ldy + m + r * gap] = s * _mm512_reduce_add_ps(acc[r][t]);
    }
}

/* 1 row x NB tokens (the M % 4 tail). */
static inline __attribute__((always_inline)) void block1(ld_fn LD, const void *W, const float *rs, int K,
                                                         const float *x, int ldx, float *y, int ldy, int m, int n0,
                                                         const int NB) {
    __m512 acc[4];
    for (int t = 0; t < NB; t++) acc[t] = _mm512_setzero_ps();
    for (int k = 0; k < K; k += 16) {
        const __mmask16 mk = K - k >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (K - k)) - 1);
        const __m512 w0 = LD(W, (size_t)K, m, k, mk);
        for (int t = 0; t < NB; t++)
            acc[t] = _mm512_fmadd_ps(w0, _mm512_maskz_loadu_ps(mk, x + (size_t)(n0 + t) * ldx + k), acc[t]);
    }
    const float s = rs ? rs[m] : 1.0f;
    for (int t = 0; t < NB; t++) y[(size_t)(n0 + t) * ldy + m] = s * _mm512_reduce_add_ps(acc[t]);
}

/* The row range in four quarters read side by side (rows m, m + q, m + 2q,
 * m + 3q): four weight streams a quarter of the range apart keep more
 * reads in flight than four adjacent rows (one stream to the prefetchers)
 * and reach the probe's streams_pf loop; dummy-3.8b's fp16 LM head
 * (32002 x 3840, 1 thread, noisy machine) read at 91% of the old
 * probe with adjacent rows, 103-105% with quarters.  Each y[m] is the same
 * sum in the same order either way. */
static inline __attribute__((always_inline)) void fk_rows(ld_fn LD, size_t es, const void *W, const float *rs, int K,
                                                          const float *x, int ldx, int N, float *y, int ldy, int m0,
                                                          int m1) {
    const int q = (m1 - m0) / 4;
    for (int n0 = 0; n0 < N; n0 += 4) {
        const int nb = N - n0 < 4 ? N - n0 : 4;
        for (int m = m0; m < m0 + q; m++) switch (nb) {
            case 1: block4(LD, es, W, rs, K, x, ldx, y, ldy, m, q, n0, 1); break;
            case 2: block4(LD, es, W, rs, K, x, ldx, y, ldy, m, q, n0, 2); break;
            case 3: block4(LD, es, W, rs, K, x, ldx, y, ldy, m, q, n0, 3); break;
            default: block4(LD, es, W, rs, K, x, ldx, y, ldy, m, q, n0, 4); break;
            }
        for (int m = m0 + 4 * q; m < m1; m++) switch (nb) {
            case 1: block1(LD, W, rs, K, x, ldx, y, ldy, m, n0, 1); break;
            case 2: block1(LD, W, rs, K, x, ldx, y, ldy, m, n0, 2); break;
            case 3: block1(LD, W, rs, K, x, ldx, y, ldy, m, n0, 3); break;
            default: block1(LD, W, rs, K, x, ldx, y, ldy, m, n0, 4); break;
            }
    }
}

/* ---- fp16 GEMM (N >= 4, prefill) ----------------------------------------------
 * The streaming kernel above re-converts each 4-row block once per group of
 * 4 tokens, and the conversions compete with the FMAs for the same ports.
 * For batches, a 4-row x KC-column block is converted to fp32 once into a
 * 16 KiB buffer (stays in L1) and reused by every token; partial sums of
 * each KC chunk are added to y. */
#define KC 1024
#define NC 64

static inline __attribute__((always_inline)) void packed4(const float *wb, int kc, const float *x, int ldx, float *y,
                                                          int ldy, int m, int n0, int first, const int NB) {
    __m512 acc[4][4];
    for (int r = 0; r < 4; r++)
        for (int t = 0; t < NB; t++) acc[r][t] = _mm512_setzero_ps();
    for (int k = 0; k < kc; k += 16) {
        const __mmask16 mk = kc - k >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (kc - k)) - 1);
        const __m512 w[4] = {_mm512_load_ps(wb + k), _mm512_load_ps(wb + KC + k), _mm512_load_ps(wb + 2 * KC + k),
                             _mm512_load_ps(wb + 3 * KC + k)};
        for (int t = 0; t < NB; t++) {
            const __m512 xv = _mm512_maskz_loadu_ps(mk, x + (size_t)(n0 + t) * ldx + k);
            for (int r = 0; r < 4; r++) acc[r][t] = _mm512_fmadd_ps(w[r], xv, acc[r][t]);
        }
    }
    for (int r = 0; r < 4; r++)
        for (int t = 0; t < NB; t++) {
            float *o = &y[(size_t)(n0 + t) * ldy + m + r];
            const float v = _mm512_reduce_add_ps(acc[r][t]);
            *o = first ? v : *o + v;
        }
}

void tt_fk_f16_avx512(const void *W, const float *rs, int K, const float *x, int ldx, int N, float *y, int ldy,
                      int m0, int m1) {
    if (N < 4) {
        fk_rows(ld_f16, 2, W, rs, K, x, ldx, N, y, ldy, m0, m1);
        return;
    }
    /* rows 4 at a time; wb rows are KC floats apart, zero past kc (masked loads) */
    float wb[4 * KC] __attribute__((aligned(64)));
    const int m4 = m0 + (m1 - m0) / 4 * 4;
    /* token panels of NC keep the x panel (NC x KC fp32 = 256 KiB) in L2 while every row block uses it */
    for (int p0 = 0; p0 < N; p0 += NC) {
        const int pn = N - p0 < NC ? N - p0 : NC;
        const float *xp = x + (size_t)p0 * ldx;
        float *yp = y + (size_t)p0 * ldy;
        for (int m = m0; m < m4; m += 4) {
            for (int k0 = 0; k0 < K; k0 += KC) {
                const int kc = K - k0 < KC ? K - k0 : KC;
                for (int r = 0; r < 4; r++)
                    for (int k = 0; k < kc; k += 16) {
                        const __mmask16 mk = kc - k >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (kc - k)) - 1);
                        _mm512_store_ps(wb + r * KC + k, ld_f16(W, (size_t)K, m + r, k0 + k, mk));
                    }
                for (int n0 = 0; n0 < pn; n0 += 4) switch (pn - n0 < 4 ? pn - n0 : 4) {
                    case 1: packed4(wb, kc, xp + k0, ldx, yp, ldy, m, n0, k0 == 0, 1); break;
                    case 2: packed4(wb, kc, xp + k0, ldx, yp, ldy, m, n0, k0 == 0, 2); break;
                    case 3: packed4(wb, kc, xp + k0, ldx, yp, ldy, m, n0, k0 == 0, 3); break;
                    default: packed4(wb, kc, xp + k0, ldx, yp, ldy, m, n0, k0 == 0, 4); break;
                    }
            }
            if (rs)
                for (int n = 0; n < pn; n++)
                    for (int r = 0; r < 4; r++) yp[(size_t)n * ldy + m + r] *= rs[m + r];
        }
    }
    if (m4 < m1) fk_rows(ld_f16, 2, W, rs, K, x, ldx, N, y, ldy, m4, m1);
}

void tt_fk_f32_avx512(const void *W, const float *rs, int K, const float *x, int ldx, int N, float *y, int ldy,
                      int m0, int m1) {
    fk_rows(ld_f32, 4, W, rs, K, x, ldx, N, y, ldy, m0, m1);
}

float tt_dot_f16_avx512(const float *a, const uint16_t *b, int n) {
    __m512 acc = _mm512_setzero_ps();
    for (int k = 0; k < n; k += 16) {
        const __mmask16 mk = n - k >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (n - k)) - 1);
        acc = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(mk, a + k), _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(mk, b + k)),
                              acc);
    }
    return _mm512_reduce_add_ps(acc);
}

void tt_axpy_f16_avx512(float *y, float a, const uint16_t *x, int n) {
    const __m512 av = _mm512_set1_ps(a);
    for (int k = 0; k < n; k += 16) {
        const __mmask16 mk = n - k >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (n - k)) - 1);
        __m512 yv = _mm512_maskz_loadu_ps(mk, y + k);
        yv = _mm512_fmadd_ps(av, _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(mk, x + k)), yv);
        _mm512_mask_storeu_ps(y + k, mk, yv);
    }
}

void tt_f16_to_f32_avx512(const uint16_t *src, float *dst, int n) {
    for (int k = 0; k < n; k += 16) {
        const __mmask16 mk = n - k >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (n - k)) - 1);
        _mm512_mask_storeu_ps(dst + k, mk, _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(mk, src + k)));
    }
}

void tt_f32_to_f16_avx512(const float *src, uint16_t *dst, int n) {
    for (int k = 0; k < n; k += 16) {
        const __mmask16 mk = n - k >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (n - k)) - 1);
        const __m256i h = _mm512_cvtps_ph(_mm512_maskz_loadu_ps(mk, src + k), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
        _mm256_mask_storeu_epi16(dst + k, mk, h);
    }
}
