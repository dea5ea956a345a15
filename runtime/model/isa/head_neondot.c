/* tritune: the quantized LM head's rows with the aarch64 dot-product
 * instructions (fkern.h, fmat.h; built with +dotprod, called only when the
 * CPU has them).  sdot multiplies signed bytes, so the int8 head needs no
 * offset: 16 weights of a row per instruction (rows in 64-byte pieces,
 * fmat.h tt_i8_off), exact integer sums and the
 * portable kernel's float steps (bit-identical).  4-bit: a 16-byte piece of
 * a block gives 16 low nibbles (weights j..j+15) and 16 high ones (j+64..),
 * unsigned 0..15; sdot adds nibble x q onto -8 x (sum of those 4 q), the
 * per-token correction of tt_fk_qprep, which gives (nibble - 8) q; each
 * 32-bit lane holds 4 weights of one group, scaled in fp32.  Rows are
 * read one at a time, block by block (tt_q4_woff: rows go in quads). */
#include <arm_neon.h>
#include <string.h>

#include "model/fkern.h"

void tt_fkq_i8_neondot(const tt_fmat *A, const int8_t *q, const void *aux, float sa, float *y, int m0, int m1) {
    (void)aux;
    const int K = A->K, np = (K + TT_I8_PIECE - 1) / TT_I8_PIECE;
    for (int m = m0; m < m1; m++) {
        int32x4_t acc = vdupq_n_s32(0);
        /* whole pieces: the row's padding is zero, and so is q's (to tt_act_kpad(K)) */
        for (int b = 0; b < np; b++) {
            const int8_t *w = (const int8_t *)A->w + tt_i8_off(m, b * TT_I8_PIECE, K);
            for (int c = 0; c < TT_I8_PIECE; c += 16)
                acc = vdotq_s32(acc, vld1q_s8(w + c), vld1q_s8(q + (size_t)b * TT_I8_PIECE + c));
        }
        const int32_t dot = vaddvq_s32(acc);
        y[m] = (float)dot * A->row_scale[m] / sa;
    }
}

static inline float f16(const uint16_t *h) {
    __fp16 v;
    memcpy(&v, h, 2);
    return (float)v;
}

void tt_fkq_q4_neondot(const tt_fmat *A, const int8_t *q, const void *aux, float sa, float *y, int m0, int m1) {
    const int32_t *corr = aux;
    const int Kq = tt_q4_kpad(A->K), nb = Kq / TT_Q4_BLOCK, ng = Kq / TT_Q4_GROUP;
    const uint8x16_t lo4 = vdupq_n_u8(0x0F);
    enum { GB = TT_Q4_BLOCK / TT_Q4_GROUP }; /* groups a block: 16-byte piece c of a plane is in group c / (4 / GB) */
    for (int m = m0; m < m1; m++) {
        float32x4_t acc = vdupq_n_f32(0.f);
        for (int b = 0; b < nb; b++) {
            const uint8_t *w = (const uint8_t *)A->w + tt_q4_woff(m, b, nb);
            const uint16_t *gs = A->gscale + tt_q4_soff(m, b * GB, ng);
            for (int c = 0; c < 4; c++) {
                const uint8x16_t wv = vld1q_u8(w + 16 * c);
                const int8x16_t lo = vreinterpretq_s8_u8(vandq_u8(wv, lo4)), hi = vreinterpretq_s8_u8(vshrq_n_u8(wv, 4));
                const int32x4_t il = vdotq_s32(vld1q_s32(corr + (size_t)b * 32 + 4 * c), lo, vld1q_s8(q + (size_t)b * 128 + 16 * c));
                const int32x4_t ih =
                    vdotq_s32(vld1q_s32(corr + (size_t)b * 32 + 16 + 4 * c), hi, vld1q_s8(q + (size_t)b * 128 + 64 + 16 * c));
                acc = vfmaq_n_f32(acc, vcvtq_f32_s32(il), f16(gs + 16 * c / TT_Q4_GROUP));
                acc = vfmaq_n_f32(acc, vcvtq_f32_s32(ih), f16(gs + (64 + 16 * c) / TT_Q4_GROUP));
            }
        }
        y[m] = vaddvq_f32(acc) / sa;
    }
}
