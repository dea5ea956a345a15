/* tritune (private): float kernels behind tt_fmat_forward and attention.
 * Portable C versions live in fmat.c, AVX-512 ones in
 * isa/f16_avx512.c (x86-64 only; called only when tt_cpu_features()
 * reports AVX512F + AVX512BW + F16C). */
#ifndef TT_FKERN_H
#define TT_FKERN_H

#include <stdint.h>

/* y[n * ldy + m] = rs[m] * sum_k W[m][k] * x[n * ldx + k]   (rs NULL = 1)
 * for m in [m0, m1), n in [0, N).  W row-major (M, K), element type by kernel. */
typedef void (*tt_fk_rows_fn)(const void *W, const float *rs, int K, const float *x, int ldx, int N, float *y,
                              int ldy, int m0, int m1);

#if defined(__x86_64__)
void tt_fk_f16_avx512(const void *W, const float *rs, int K, const float *x, int ldx, int N, float *y, int ldy,
                      int m0, int m1);
void tt_fk_i8_avx512(const void *W, const float *rs, int K, const float *x, int ldx, int N, float *y, int ldy,
                     int m0, int m1);
void tt_fk_f32_avx512(const void *W, const float *rs, int K, const float *x, int ldx, int N, float *y, int ldy,
                      int m0, int m1);
/* attention helpers on fp16 KV rows */
float tt_dot_f16_avx512(const float *a, const uint16_t *b, int n);
void tt_axpy_f16_avx512(float *y, float a, const uint16_t *x, int n);
void tt_f16_to_f32_avx512(const uint16_t *src, float *dst, int n);
void tt_f32_to_f16_avx512(const float *src, uint16_t *dst, int n);
#endif

/* Chosen at first use from the CPU features (fmat.c). */
typedef struct {
    tt_fk_rows_fn f16, i8, f32;
    float (*dot_f16)(const float *a, const uint16_t *b, int n);
    void (*axpy_f16)(float *y, float a, const uint16_t *x, int n);
    void (*f16_to_f32)(const uint16_t *src, float *dst, int n);
    void (*f32_to_f16)(const float *src, uint16_t *dst, int n);
    const char *isa;
} tt_fkern_table;
const tt_fkern_table *tt_fkern(void);

#endif
