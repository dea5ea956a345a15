/* The decoder's element-wise operations with AVX-512 (the prompt pass runs
 * them on every token of a chunk; see fkern.h).  Same formulas as the
 * portable versions in forward.c; sums are taken in a different order, so
 * results agree to rounding, not bit for bit. */
#include <immintrin.h>
#include <math.h>

#include "model/fkern.h"

static inline __mmask16 tail(int left) { return left >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << left) - 1); }

/* o = x / sqrt(mean(x^2) + eps) * w */
void tt_rmsnorm_avx512(float *o, const float *x, const float *w, int n, float eps) {
    __m512 ss = _mm512_setzero_ps();
    for (int i = 0; i < n; i += 16) {
        const __m512 v = _mm512_maskz_loadu_ps(tail(n - i), x + i);
        ss = _mm512_fmadd_ps(v, v, ss);
    }
    const float r = 1.0f / sqrtf(_mm512_reduce_add_ps(ss) / n + eps);
    const __m512 vr = _mm512_set1_ps(r);
    for (int i = 0; i < n; i += 16) {
        const __mmask16 m = tail(n - i);
        _mm512_mask_storeu_ps(o + i, m, _mm512_mul_ps(_mm512_mul_ps(_mm512_maskz_loadu_ps(m, x + i), vr),
                                                      _mm512_maskz_loadu_ps(m, w + i)));
    }
}

/* x += y */
void tt_add_avx512(float *x, const float *y, size_t n) {
    size_t i = 0;
    for (; i + 16 <= n; i += 16) _mm512_storeu_ps(x + i, _mm512_add_ps(_mm512_loadu_ps(x + i), _mm512_loadu_ps(y + i)));
    for (; i < n; i++) x[i] += y[i];
}

/* g = act(g) * u, act = relu^2 (silu = 0: ReLU squared) or silu (silu = 1) */
void tt_glu_avx512(float *g, const float *u, size_t n, int silu) {
    size_t i = 0;
    const __m512 zero = _mm512_setzero_ps();
    for (; i + 16 <= n; i += 16) {
        const __m512 v = _mm512_loadu_ps(g + i);
        __m512 a;
        if (!silu) {
            const __m512 r = _mm512_max_ps(v, zero);
            a = _mm512_mul_ps(r, r);
        } else { /* v / (1 + exp(-v)), exp per lane through the scalar expf for exactness with forward.c */
            float t[16];
            _mm512_storeu_ps(t, v);
            for (int k = 0; k < 16; k++) t[k] = t[k] / (1.0f + expf(-t[k]));
            a = _mm512_loadu_ps(t);
        }
        _mm512_storeu_ps(g + i, _mm512_mul_ps(a, _mm512_loadu_ps(u + i)));
    }
    for (; i < n; i++) {
        const float v = g[i];
        g[i] = (!silu ? (v > 0 ? v * v : 0.f) : v / (1.0f + expf(-v))) * u[i];
    }
}

/* RoPE "rotate half" on nheads heads of hd: pair (i, i + hd/2) turns by (cs[i], sn[i]) */
void tt_rope_avx512(float *v, int nheads, int hd, const float *cs, const float *sn) {
    const int h2 = hd / 2;
    for (int h = 0; h < nheads; h++) {
        float *p = v + (size_t)h * hd;
        for (int i = 0; i < h2; i += 16) {
            const __mmask16 m = tail(h2 - i);
            const __m512 a = _mm512_maskz_loadu_ps(m, p + i), b = _mm512_maskz_loadu_ps(m, p + i + h2);
            const __m512 c = _mm512_maskz_loadu_ps(m, cs + i), s = _mm512_maskz_loadu_ps(m, sn + i);
            _mm512_mask_storeu_ps(p + i, m, _mm512_fmsub_ps(a, c, _mm512_mul_ps(b, s)));
            _mm512_mask_storeu_ps(p + i + h2, m, _mm512_fmadd_ps(a, s, _mm512_mul_ps(b, c)));
        }
    }
}
