/* Causal attention over fp16 KV rows for a block of query rows, AVX-512.
 *
 * The prompt pass (prefill) asks, per KV head, for n tokens x group query
 * heads at once.  Done one query at a time, every key and value row is
 * converted from fp16 and read once per query; here a chunk of up to
 * QCHUNK query rows shares each block of KBLK keys:
 *   K and V of the layer converted once from fp16 (tt_attn_convert_avx512,
 *   K transposed: hd x keys), then per block of KBLK keys:
 *   S = Q K^T (4 rows x 64 keys per register block), causal mask,
 *   online softmax (running max m and sum l per row, O rescaled when m
 *   grows; Milakov & Gimelshein 2018, as in FlashAttention),
 *   O += P V (2 rows x hd per register block), and O /= l at the end.
 * exp is a degree-6 polynomial on [-ln2/2, ln2/2] scaled by 2^n
 * (vscalefps): relative error below 2e-7, about one ulp of expf.
 * Needs hd % 16 == 0; the caller falls back to the scalar path otherwise. */
#include <immintrin.h>
#include <math.h>
#include <string.h>

#include "core/transpose_avx512.h"
#include "model/fkern.h"

#define KBLK TT_ATTN_KBLK
#define QCHUNK TT_ATTN_QCHUNK

static inline __m512 exp512(__m512 x) {
    x = _mm512_max_ps(x, _mm512_set1_ps(-87.3f)); /* exp(-87.3) ~ FLT_MIN; -inf -> 0 below */
    const __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504088896341f)),
                                          _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693359375f), x); /* ln2 hi (exact in 10 bits) */
    r = _mm512_fnmadd_ps(n, _mm512_set1_ps(-2.12194440e-4f), r);     /* ln2 lo */
    __m512 p = _mm512_set1_ps(1.3981999507e-3f);
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(8.3334519073e-3f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(4.1665795894e-2f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.6666665459e-1f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(5.0000001201e-1f));
    p = _mm512_fmadd_ps(p, _mm512_mul_ps(r, r), _mm512_add_ps(r, _mm512_set1_ps(1.0f)));
    return _mm512_scalef_ps(p, n);
}

void tt_attn_convert_avx512(const uint16_t *kc, const uint16_t *vc, size_t ldkv, int hd, int p0, int p1, int pend,
                            float *kt, size_t ldkt, float *vf) {
    for (int p = p0; p < pend; p += 16) {
        const int nk = p1 - p < 0 ? 0 : p1 - p < 16 ? p1 - p : 16;
        for (int d = 0; d < hd; d += 16) {
            __m512i r[16];
            for (int j = 0; j < 16; j++) {
                if (j < nk) {
                    const size_t at = (size_t)(p + j) * ldkv + d;
                    r[j] = _mm512_castps_si512(_mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(kc + at))));
                    _mm512_storeu_ps(vf + (size_t)(p + j) * hd + d, _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(vc + at))));
                } else { /* past the last key: zeros, so masked products stay finite */
                    r[j] = _mm512_setzero_si512();
                    _mm512_storeu_ps(vf + (size_t)(p + j) * hd + d, _mm512_setzero_ps());
                }
            }
            tt_transpose16_avx512(r); /* r[e] = key p..p+15 of dimension d + e */
            for (int e = 0; e < 16; e++) _mm512_storeu_si512((void *)(kt + (size_t)(d + e) * ldkt + p), r[e]);
        }
    }
}

void tt_attn_rows_avx512(const float *const *qrow, const int *qpos, int nq, const float *ktall, size_t ldkt,
                         const float *vall, int hd, float scale, float *const *orow, float *scratch) {
    float *S = scratch;                        /* QCHUNK x KBLK            */
    float *O = S + (size_t)QCHUNK * KBLK;      /* QCHUNK x hd              */
    float m[QCHUNK], l[QCHUNK];
    for (int c0 = 0; c0 < nq; c0 += QCHUNK) {
        const int nc = nq - c0 < QCHUNK ? nq - c0 : QCHUNK;
        int maxpos = 0;
        for (int i = 0; i < nc; i++) {
            m[i] = -INFINITY, l[i] = 0.f;
            if (qpos[c0 + i] > maxpos) maxpos = qpos[c0 + i];
        }
        memset(O, 0, sizeof(float) * (size_t)nc * hd);
        for (int p0 = 0; p0 <= maxpos; p0 += KBLK) {
            const int nk = maxpos + 1 - p0 < KBLK ? maxpos + 1 - p0 : KBLK;
            const float *kt = ktall + p0, *vb = vall + (size_t)p0 * hd; /* keys p0 .. p0+63 */
            /* S = scale * Q K^T, 4 rows x 64 keys at a time */
            for (int i0 = 0; i0 < nc; i0 += 4) {
                const int ni = nc - i0 < 4 ? nc - i0 : 4;
                __m512 acc[4][4];
                for (int i = 0; i < 4; i++)
                    for (int j = 0; j < 4; j++) acc[i][j] = _mm512_setzero_ps();
                const float *qr[4];
                for (int i = 0; i < 4; i++) qr[i] = qrow[c0 + i0 + (i < ni ? i : 0)];
                for (int d = 0; d < hd; d++) {
                    const float *kr = kt + (size_t)d * ldkt;
                    const __m512 k0 = _mm512_loadu_ps(kr), k1 = _mm512_loadu_ps(kr + 16);
                    const __m512 k2 = _mm512_loadu_ps(kr + 32), k3 = _mm512_loadu_ps(kr + 48);
                    for (int i = 0; i < 4; i++) {
                        const __m512 qb = _mm512_set1_ps(qr[i][d]);
                        acc[i][0] = _mm512_fmadd_ps(qb, k0, acc[i][0]);
                        acc[i][1] = _mm512_fmadd_ps(qb, k1, acc[i][1]);
                        acc[i][2] = _mm512_fmadd_ps(qb, k2, acc[i][2]);
                        acc[i][3] = _mm512_fmadd_ps(qb, k3, acc[i][3]);
                    }
                }
                const __m512 vsc = _mm512_set1_ps(scale);
                for (int i = 0; i < ni; i++) {
                    const int lim = qpos[c0 + i0 + i] - p0; /* keys j <= lim are visible */
                    for (int j = 0; j < 4; j++) {
                        const __m512i idx = _mm512_add_epi32(_mm512_set1_epi32(16 * j),
                                                             _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15));
                        const __mmask16 vis = _mm512_cmple_epi32_mask(idx, _mm512_set1_epi32(lim));
                        _mm512_storeu_ps(S + (size_t)(i0 + i) * KBLK + 16 * j,
                                         _mm512_mask_mul_ps(_mm512_set1_ps(-INFINITY), vis, acc[i][j], vsc));
                    }
                }
            }
            /* online softmax: P = exp(S - m_new), O and l rescaled by exp(m_old - m_new) */
            for (int i = 0; i < nc; i++) {
                float *sr = S + (size_t)i * KBLK;
                __m512 mx = _mm512_max_ps(_mm512_max_ps(_mm512_loadu_ps(sr), _mm512_loadu_ps(sr + 16)),
                                          _mm512_max_ps(_mm512_loadu_ps(sr + 32), _mm512_loadu_ps(sr + 48)));
                const float bm = _mm512_reduce_max_ps(mx);
                if (bm == -INFINITY) { /* nothing visible in this block for this row */
                    memset(sr, 0, sizeof(float) * KBLK);
                    continue;
                }
                const float mn = bm > m[i] ? bm : m[i];
                const float corr = m[i] == -INFINITY ? 0.f : expf(m[i] - mn);
                __m512 sum = _mm512_setzero_ps();
                for (int j = 0; j < KBLK; j += 16) {
                    const __m512 pj = exp512(_mm512_sub_ps(_mm512_loadu_ps(sr + j), _mm512_set1_ps(mn)));
                    _mm512_storeu_ps(sr + j, pj);
                    sum = _mm512_add_ps(sum, pj);
                }
                l[i] = l[i] * corr + _mm512_reduce_add_ps(sum);
                m[i] = mn;
                if (corr != 1.f) {
                    float *orow = O + (size_t)i * hd;
                    for (int d = 0; d < hd; d += 16)
                        _mm512_storeu_ps(orow + d, _mm512_mul_ps(_mm512_loadu_ps(orow + d), _mm512_set1_ps(corr)));
                }
            }
            /* O += P V, 2 rows at a time, hd in 16-lane vectors */
            for (int i0 = 0; i0 < nc; i0 += 2) {
                const int ni = nc - i0 < 2 ? nc - i0 : 2;
                for (int d0 = 0; d0 < hd; d0 += 128) {
                    const int nv = (hd - d0) / 16 < 8 ? (hd - d0) / 16 : 8;
                    __m512 acc[2][8];
                    for (int i = 0; i < ni; i++)
                        for (int v = 0; v < nv; v++) acc[i][v] = _mm512_loadu_ps(O + (size_t)(i0 + i) * hd + d0 + 16 * v);
                    for (int j = 0; j < nk; j++) {
                        const float *vr = vb + (size_t)j * hd + d0;
                        for (int i = 0; i < ni; i++) {
                            const __m512 pb = _mm512_set1_ps(S[(size_t)(i0 + i) * KBLK + j]);
                            for (int v = 0; v < nv; v++) acc[i][v] = _mm512_fmadd_ps(pb, _mm512_loadu_ps(vr + 16 * v), acc[i][v]);
                        }
                    }
                    for (int i = 0; i < ni; i++)
                        for (int v = 0; v < nv; v++) _mm512_storeu_ps(O + (size_t)(i0 + i) * hd + d0 + 16 * v, acc[i][v]);
                }
            }
        }
        for (int i = 0; i < nc; i++) {
            const __m512 inv = _mm512_set1_ps(1.0f / l[i]);
            for (int d = 0; d < hd; d += 16)
                _mm512_storeu_ps(orow[c0 + i] + d, _mm512_mul_ps(_mm512_loadu_ps(O + (size_t)i * hd + d), inv));
        }
    }
}

/* ---- the token pass: one query token, heads h0 .. h1-1 -------------------------------------------- */
/* One KV head's row of hd fp16 values at r as fp32 vectors (nv of them,
 * the last masked by mlast; lanes past hd are zero). */
static inline void load_row_f16(const uint16_t *r, int nv, __mmask16 mlast, __m512 *v) {
    for (int i = 0; i < nv - 1; i++) v[i] = _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(r + 16 * i)));
    v[nv - 1] = _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(mlast, r + 16 * (nv - 1)));
}

/* The query heads of KV head g (group of them) inside h0 .. h1-1. */
static inline void group_heads(int g, int group, int h0, int h1, int *ha, int *hb) {
    *ha = g * group > h0 ? g * group : h0;
    *hb = (g + 1) * group < h1 ? (g + 1) * group : h1;
}

/* A head's hd floats at o times f. */
static inline void scale_row(float *o, int nv, __mmask16 mlast, float f) {
    for (int i = 0; i < nv; i++) {
        const __mmask16 mk = i < nv - 1 ? (__mmask16)0xFFFF : mlast;
        _mm512_mask_storeu_ps(o + 16 * i, mk, _mm512_mul_ps(_mm512_maskz_loadu_ps(mk, o + 16 * i), _mm512_set1_ps(f)));
    }
}

/* Keys and values are read in one pass, a block of TT_ATTN_TOKEN_BLK
 * positions at a time (online softmax, as the prompt pass): the K and V
 * rows of a block stream together, every head of a row at once, so the
 * hardware prefetchers follow two forward streams of contiguous rows
 * rather than one head's pieces a row apart.  (Two passes, all keys then
 * all values, read at half the speed on dummy-3.8b: one stream at a time
 * from DRAM, the cache rows being out of L2 after a layer's weights;
 * software prefetch on top did not help.) */
#define TBLK TT_ATTN_TOKEN_BLK
void tt_attn_token_avx512(const float *q, const uint16_t *kc, const uint16_t *vc, size_t ldkv, int len, int hd,
                          int group, int h0, int h1, float scale, float *o, float *sc) {
    const int nv = (hd + 15) / 16;
    const __mmask16 mlast = (__mmask16)(0xFFFFu >> (16 * nv - hd));
    const int g0 = h0 / group, g1 = (h1 - 1) / group + 1;
    __m512 r[TT_ATTN_TOKEN_HD / 16];
    float m[TT_ATTN_TOKEN_HEADS], l[TT_ATTN_TOKEN_HEADS];
    for (int h = h0; h < h1; h++) {
        memset(o + (size_t)h * hd, 0, sizeof(float) * hd);
        m[h - h0] = -INFINITY, l[h - h0] = 0.f;
    }
    for (int p0 = 0; p0 < len; p0 += TBLK) {
        const int nb = len - p0 < TBLK ? len - p0 : TBLK;
        const __mmask16 mb = (__mmask16)(0xFFFFu >> (16 - nb));
        /* S[h][j] = scale * q_h . k_{p0+j} */
        for (int j = 0; j < nb; j++) {
            const uint16_t *kr = kc + (size_t)(p0 + j) * ldkv;
            for (int g = g0; g < g1; g++) {
                load_row_f16(kr + (size_t)g * hd, nv, mlast, r);
                int ha, hb;
                group_heads(g, group, h0, h1, &ha, &hb);
                for (int h = ha; h < hb; h++) {
                    const float *qh = q + (size_t)h * hd;
                    __m512 acc0 = _mm512_setzero_ps(), acc1 = _mm512_setzero_ps();
                    int i = 0;
                    for (; i + 1 < nv - 1; i += 2) {
                        acc0 = _mm512_fmadd_ps(_mm512_loadu_ps(qh + 16 * i), r[i], acc0);
                        acc1 = _mm512_fmadd_ps(_mm512_loadu_ps(qh + 16 * i + 16), r[i + 1], acc1);
                    }
                    for (; i < nv - 1; i++) acc0 = _mm512_fmadd_ps(_mm512_loadu_ps(qh + 16 * i), r[i], acc0);
                    acc1 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(mlast, qh + 16 * i), r[i], acc1);
                    sc[(size_t)(h - h0) * TBLK + j] = _mm512_reduce_add_ps(_mm512_add_ps(acc0, acc1)) * scale;
                }
            }
        }
        /* online softmax: P = exp(S - m_new); l and O rescaled by exp(m_old - m_new) */
        for (int h = h0; h < h1; h++) {
            float *s = sc + (size_t)(h - h0) * TBLK;
            const __m512 sv = _mm512_maskz_loadu_ps(mb, s);
            const float bm = _mm512_mask_reduce_max_ps(mb, sv), mo = m[h - h0], mn = bm > mo ? bm : mo;
            const __m512 e = _mm512_maskz_mov_ps(mb, exp512(_mm512_sub_ps(sv, _mm512_set1_ps(mn))));
            _mm512_storeu_ps(s, e);
            const float corr = mo == -INFINITY ? 0.f : expf(mo - mn);
            l[h - h0] = l[h - h0] * corr + _mm512_reduce_add_ps(e);
            m[h - h0] = mn;
            if (corr != 1.f && p0 > 0) scale_row(o + (size_t)h * hd, nv, mlast, corr); /* at p0 = 0, O is still 0 */
        }
        /* O_h += P[h][j] v_{p0+j} */
        for (int j = 0; j < nb; j++) {
            const uint16_t *vr = vc + (size_t)(p0 + j) * ldkv;
            for (int g = g0; g < g1; g++) {
                load_row_f16(vr + (size_t)g * hd, nv, mlast, r);
                int ha, hb;
                group_heads(g, group, h0, h1, &ha, &hb);
                for (int h = ha; h < hb; h++) {
                    float *oh = o + (size_t)h * hd;
                    const __m512 w = _mm512_set1_ps(sc[(size_t)(h - h0) * TBLK + j]);
                    int i = 0;
                    for (; i < nv - 1; i++) _mm512_storeu_ps(oh + 16 * i, _mm512_fmadd_ps(w, r[i], _mm512_loadu_ps(oh + 16 * i)));
                    _mm512_mask_storeu_ps(oh + 16 * i, mlast, _mm512_fmadd_ps(w, r[i], _mm512_maskz_loadu_ps(mlast, oh + 16 * i)));
                }
            }
        }
    }
    for (int h = h0; h < h1; h++) scale_row(o + (size_t)h * hd, nv, mlast, 1.0f / l[h - h0]);
}
#undef TBLK
