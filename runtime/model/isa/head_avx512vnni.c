/* tritune: the quantized LM head's rows with AVX-512 VNNI (fkern.h,
 * fmat.h): int8 activations times int8 or 4-bit weights with vpdpbusd,
 * 64 weights of a row per instruction, four rows at a time so the
 * activation loads are shared, HEAD_STREAMS quads a share of the row range
 * apart at a time.  One software prefetch per cache line and row, PF_BYTES
 * ahead, keeps the streams in flight.
 *
 * int8: rows in quads of 64-byte pieces (fmat.h tt_i8_off), one stream for
 * four rows.  vpdpbusd wants one unsigned operand: the activations are given as
 * q + 128 (u8), so the sum is sum w q + 128 sum w, and the row sums stored
 * with the matrix take the offset back out.  Integer sums are exact, and
 * the float steps are those of the portable kernel: bit-identical.
 *
 * 4-bit: a 64-byte load holds 128 weights as two 64-lane planes (low
 * nibbles: weights 0..63, high: 64..127), unsigned 0..15.  A quad of rows
 * (TT_Q4_ROWS) keeps its blocks side by side, so the four rows are one
 * sequential stream.  vpdpbusd adds
 * nibble x q per 4 lanes onto -8 x (sum of those 4 q) (precomputed once per
 * token), which gives (nibble - 8) q.  Each 32-bit lane then holds 4
 * weights of one group (TT_Q4_GROUP 32: lanes 0-7 group 0, 8-15 group 1),
 * so the fp16 group scales of the block, converted once for the quad, are
 * spread over the lanes by one permute per plane and row, and the int32
 * sums are scaled and added in fp32. */
#include <immintrin.h>
#include <stddef.h>
#include <stdint.h>

#include "model/fkern.h"

#define PF_BYTES 1024
/* Quads read side by side, a share of the row range apart: several
 * streams far apart keep more reads in flight than one (see fmat's fp16
 * rows in isa/f16_avx512.c and the probe's streams_pf loop). */
#ifndef HEAD_STREAMS
#define HEAD_STREAMS 4
#endif

/* nr rows (1 or TT_Q4_ROWS) of the int8 head from row m, or, with nr ==
 * TT_Q4_ROWS, NQ quads at rows m + s * gap (s < NQ; nr and NQ literals at
 * each call).  A quad's 64-byte pieces lie one after another. */
static inline __attribute__((always_inline)) void i8_rows(const tt_fmat *A, const int8_t *q, const void *aux, float sa,
                                                          float *y, int m, int gap, const int nr, const int NQ) {
    (void)q;
    const uint8_t *xu = aux;
    const int K = A->K, np = (K + TT_I8_PIECE - 1) / TT_I8_PIECE;
    const int8_t *w[HEAD_STREAMS];
    __m512i acc[HEAD_STREAMS][TT_Q4_ROWS];
    for (int s = 0; s < NQ; s++) {
        w[s] = (const int8_t *)A->w + tt_i8_off(m + s * gap, 0, K);
        for (int r = 0; r < nr; r++) acc[s][r] = _mm512_setzero_si512();
    }
    for (int b = 0; b < np; b++) {
        const __m512i xv = _mm512_load_si512(xu + (size_t)b * TT_I8_PIECE);
        for (int s = 0; s < NQ; s++)
            for (int r = 0; r < nr; r++) {
                const int8_t *wr = w[s] + ((size_t)b * TT_Q4_ROWS + (size_t)r) * TT_I8_PIECE;
                _mm_prefetch((const char *)wr + PF_BYTES, _MM_HINT_T0);
                acc[s][r] = _mm512_dpbusd_epi32(acc[s][r], xv, _mm512_load_si512(wr));
            }
    }
    for (int s = 0; s < NQ; s++)
        for (int r = 0; r < nr; r++) {
            const int mr = m + s * gap + r;
            const int32_t dot = _mm512_reduce_add_epi32(acc[s][r]) - 128 * A->row_sum[mr];
            y[mr] = (float)dot * A->row_scale[mr] / sa;
        }
}

/* Rows m0 .. m1-1 through ROWS (i8_rows or q4_rows): single rows up to a
 * quad boundary, then HEAD_STREAMS quads a share of the rest apart at a
 * time, then the quads and rows left over. */
#define HEAD_RANGE(ROWS)                                                                                             \
    do {                                                                                                             \
        int m = m0;                                                                                                  \
        for (; m % TT_Q4_ROWS && m < m1; m++) ROWS(A, q, aux, sa, y, m, 0, 1, 1);                                    \
        const int qs = (m1 - m) / (TT_Q4_ROWS * HEAD_STREAMS); /* quads per stream */                                \
        for (int j = 0; j < qs; j++) ROWS(A, q, aux, sa, y, m + TT_Q4_ROWS * j, TT_Q4_ROWS * qs, TT_Q4_ROWS, HEAD_STREAMS); \
        m += TT_Q4_ROWS * HEAD_STREAMS * qs;                                                                         \
        for (; m + TT_Q4_ROWS <= m1; m += TT_Q4_ROWS) ROWS(A, q, aux, sa, y, m, 0, TT_Q4_ROWS, 1);                   \
        for (; m < m1; m++) ROWS(A, q, aux, sa, y, m, 0, 1, 1);                                                      \
    } while (0)

void tt_fkq_i8_avx512vnni(const tt_fmat *A, const int8_t *q, const void *aux, float sa, float *y, int m0, int m1) {
    HEAD_RANGE(i8_rows);
}

/* lane i of a plane (0: weights 0..63 of a block, 1: 64..127) holds 4
 * weights of group (64 plane + 4 i) / TT_Q4_GROUP of the block */
static inline __m512i q4_group_idx(int plane) {
    int32_t t[16];
    for (int i = 0; i < 16; i++) t[i] = (64 * plane + 4 * i) / TT_Q4_GROUP;
    return _mm512_loadu_si512(t);
}

/* nr rows (1 or TT_Q4_ROWS) from row m, or, with nr == TT_Q4_ROWS, NQ
 * quads at rows m + s * gap (s < NQ; literals at each call); a quad's
 * blocks lie one after another */
static inline __attribute__((always_inline)) void q4_rows(const tt_fmat *A, const int8_t *q, const int32_t *corr,
                                                          float sa, float *y, int m, int gap, const int nr, const int NQ) {
    enum { GB = TT_Q4_BLOCK / TT_Q4_GROUP, BLK = TT_Q4_ROWS * TT_Q4_BLOCK / 2 };
    const int Kq = tt_q4_kpad(A->K), nb = Kq / TT_Q4_BLOCK, ng = Kq / TT_Q4_GROUP;
    const uint8_t *w[HEAD_STREAMS];
    const uint16_t *gs[HEAD_STREAMS];
    const __m512i lo4 = _mm512_set1_epi8(0x0F);
    const __m512i idx_lo = q4_group_idx(0), idx_hi = q4_group_idx(1);
    const __mmask16 smask = (__mmask16)((1u << (nr * GB)) - 1);
    __m512 acc[HEAD_STREAMS][TT_Q4_ROWS];
    for (int s = 0; s < NQ; s++) {
        w[s] = (const uint8_t *)A->w + tt_q4_woff(m + s * gap, 0, nb);
        gs[s] = A->gscale + tt_q4_soff(m + s * gap, 0, ng);
        for (int r = 0; r < nr; r++) acc[s][r] = _mm512_setzero_ps();
    }
    for (int b = 0; b < nb; b++) {
        const __m512i xl = _mm512_load_si512(q + (size_t)b * TT_Q4_BLOCK);
        const __m512i xh = _mm512_load_si512(q + (size_t)b * TT_Q4_BLOCK + 64);
        const __m512i cl = _mm512_loadu_si512(corr + (size_t)b * 32);
        const __m512i ch = _mm512_loadu_si512(corr + (size_t)b * 32 + 16);
        for (int s = 0; s < NQ; s++) {
            /* the block's scales of all nr rows: row r's at lanes r GB .. */
            const __m512 sv = _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(smask, gs[s] + (size_t)b * TT_Q4_ROWS * GB));
            for (int r = 0; r < nr; r++) {
                const uint8_t *wr = w[s] + (size_t)b * BLK + (size_t)r * 64;
                _mm_prefetch((const char *)wr + PF_BYTES, _MM_HINT_T0);
                const __m512i wv = _mm512_load_si512(wr);
                const __m512i il = _mm512_dpbusd_epi32(cl, _mm512_and_si512(wv, lo4), xl);
                const __m512i ih = _mm512_dpbusd_epi32(ch, _mm512_and_si512(_mm512_srli_epi16(wv, 4), lo4), xh);
                const __m512i ro = _mm512_set1_epi32(r * GB);
                acc[s][r] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(il), _mm512_permutexvar_ps(_mm512_add_epi32(idx_lo, ro), sv),
                                            acc[s][r]);
                acc[s][r] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(ih), _mm512_permutexvar_ps(_mm512_add_epi32(idx_hi, ro), sv),
                                            acc[s][r]);
            }
        }
    }
    for (int s = 0; s < NQ; s++)
        for (int r = 0; r < nr; r++) y[m + s * gap + r] = _mm512_reduce_add_ps(acc[s][r]) / sa;
}

void tt_fkq_q4_avx512vnni(const tt_fmat *A, const int8_t *q, const void *aux, float sa, float *y, int m0, int m1) {
    HEAD_RANGE(q4_rows);
}
