/* The decoder's element-wise operations with AVX-512 (the prompt pass runs
 * them on every token of a chunk; see fkern.h).  Same formulas as the
 * portable versions in fmat.c; sums are taken in a different order and
 * SiLU's exp is vectorized, so results agree to rounding, not bit for bit. */
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

/* exp(x) per lane: x = n ln2 + r, |r| <= ln2 / 2 (ln2 in two parts, Cody
 * and Waite), e^r by its Taylor polynomial to degree 7 (truncation below
 * 6e-9 relative), times 2^n by vscalefps, which saturates to 0 and +inf
 * like expf.  Within a few ulp of expf (tests/c/test_attn.c). */
static inline __m512 exp_avx512(__m512 x) {
    const __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504f)),
                                          _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693145751953125f), x);
    r = _mm512_fnmadd_ps(n, _mm512_set1_ps(1.428606765330187e-06f), r);
    __m512 p = _mm512_set1_ps(1.f / 5040);
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.f / 720));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.f / 120));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.f / 24));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.f / 6));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(0.5f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.f));
    return _mm512_scalef_ps(p, n);
}

/* g = act(g) * u, act = relu^2 (silu = 0: ReLU squared) or silu (silu = 1:
 * v / (1 + exp(-v)), exp vectorized: the scalar expf per lane cost 28 us
 * for the 8192 lanes of a dummy-3.8b FFN, 0.7 ms a token at 24 layers) */
void tt_glu_avx512(float *g, const float *u, size_t n, int silu) {
    size_t i = 0;
    const __m512 zero = _mm512_setzero_ps(), one = _mm512_set1_ps(1.f);
    for (; i < n; i += 16) {
        const __mmask16 m = n - i >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (n - i)) - 1);
        const __m512 v = _mm512_maskz_loadu_ps(m, g + i);
        __m512 a;
        if (!silu) {
            const __m512 r = _mm512_max_ps(v, zero);
            a = _mm512_mul_ps(r, r);
        } else {
            a = _mm512_div_ps(v, _mm512_add_ps(one, exp_avx512(_mm512_sub_ps(zero, v))));
        }
        _mm512_mask_storeu_ps(g + i, m, _mm512_mul_ps(a, _mm512_maskz_loadu_ps(m, u + i)));
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
