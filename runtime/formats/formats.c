/* tritune: the I2_S canonical layout and quantized activations (formats.h). */
#include "formats/formats.h"

#include "core/cpu.h"

#include <math.h>
#include <string.h>

/* ---- I2_S ------------------------------------------------------------------- */
tt_status tt_i2s_pack(const int8_t *w, int M, int K, uint8_t *dst) {
    if (M <= 0 || K <= 0) return tt_set_error(TT_E_ARG, "i2s pack: bad shape %dx%d", M, K);
    const size_t rb = tt_i2s_row_bytes(K);
    for (int m = 0; m < M; m++) {
        const int8_t *wr = w + (size_t)m * K;
        uint8_t *d = dst + (size_t)m * rb;
        for (size_t b = 0; b < rb / TT_I2S_BLOCK_BYTES; b++) {
            for (int j = 0; j < 32; j++) {
                uint8_t byte = 0;
                for (int p = 0; p < 4; p++) {
                    long k = (long)b * TT_I2S_BLOCK + p * 32 + j;
                    int v = 0;
                    if (k < K) {
                        v = wr[k];
                        if (v < -1 || v > 1)
                            return tt_set_error(TT_E_FORMAT, "i2s pack: weight [%d][%ld] = %d is not ternary", m, k, v);
                    }
                    byte |= (uint8_t)((v + 1) << (6 - 2 * p));
                }
                d[b * TT_I2S_BLOCK_BYTES + j] = byte;
            }
        }
    }
    return TT_OK;
}

void tt_i2s_unpack(const uint8_t *src, int M, int K, int8_t *w) {
    const size_t rb = tt_i2s_row_bytes(K);
    for (int m = 0; m < M; m++)
        for (int k = 0; k < K; k++) {
            const uint8_t byte = src[(size_t)m * rb + (size_t)(k / 128) * 32 + (k % 32)];
            w[(size_t)m * K + k] = (int8_t)(((byte >> (6 - 2 * ((k % 128) / 32))) & 3) - 1);
        }
}

/* Any 2-bit code 3 among n bytes (8 bytes at a time: both bits of a pair set). */
static int i2s_has_code3(const uint8_t *r, size_t n) {
    size_t b = 0;
    for (; b + 8 <= n; b += 8) {
        uint64_t x;
        memcpy(&x, r + b, 8);
        if (x & (x >> 1) & 0x5555555555555555ull) return 1;
    }
    for (; b < n; b++)
        if (r[b] & (r[b] >> 1) & 0x55) return 1;
    return 0;
}

tt_status tt_i2s_validate(const uint8_t *src, int M, int K) {
    const size_t rb = tt_i2s_row_bytes(K);
    for (int m = 0; m < M; m++) {
        const uint8_t *r = src + (size_t)m * rb;
        /* the common case (valid, no padding) at memory speed; else byte by byte for the message */
        if (K % TT_I2S_BLOCK == 0 && !i2s_has_code3(r, rb)) continue;
        for (size_t b = 0; b < rb; b++) {
            uint8_t byte = r[b];
            for (int p = 0; p < 4; p++) {
                int code = (byte >> (6 - 2 * p)) & 3;
                long k = (long)(b / 32) * 128 + p * 32 + (long)(b % 32);
                if (code == 3)
                    return tt_set_error(TT_E_FORMAT, "i2s: invalid code 3 (a weight of +2) at row %d column %ld", m, k);
                if (k >= K && code != 1)
                    return tt_set_error(TT_E_FORMAT, "i2s: non-zero padding at row %d column %ld", m, k);
            }
        }
    }
    return TT_OK;
}

/* ---- Activations ------------------------------------------------------------------ */
tt_status tt_qact_alloc(tt_qact *a, int max_n, int K) {
    memset(a, 0, sizeof *a);
    if (max_n <= 0 || K <= 0) return tt_set_error(TT_E_ARG, "activations: bad shape %dx%d", max_n, K);
    a->K = K;
    a->Kp = tt_act_kpad(K);
    a->cap_n = max_n;
    a->q = tt_alloc((size_t)max_n * a->Kp, 64, 0);
    a->sum = tt_alloc(sizeof(int32_t) * (size_t)max_n, 64, 0);
    a->scale = tt_alloc(sizeof(float) * (size_t)max_n, 64, 0);
    if (!a->q || !a->sum || !a->scale) {
        tt_qact_free(a);
        return tt_set_error(TT_E_NOMEM, "activations: cannot allocate %d x %d", max_n, K);
    }
    memset(a->q, 0, (size_t)max_n * a->Kp);
    return TT_OK;
}

void tt_qact_free(tt_qact *a) {
    tt_free(a->q);
    tt_free(a->sum);
    tt_free(a->scale);
    memset(a, 0, sizeof *a);
}

tt_status tt_quantize_act(tt_qact *a, const float *x, int N, int ldx) {
    if (N <= 0 || N > a->cap_n) return tt_set_error(TT_E_ARG, "activations: %d tokens, capacity %d", N, a->cap_n);
    a->N = N;
#if defined(__x86_64__)
    if ((tt_cpu_features() & (TT_FEAT_AVX512F | TT_FEAT_AVX512BW)) == (TT_FEAT_AVX512F | TT_FEAT_AVX512BW)) {
        for (int n = 0; n < N; n++)
            tt_quantize_row_avx512(x + (size_t)n * ldx, a->K, a->Kp, a->q + (size_t)n * a->Kp, a->sum + n, a->scale + n);
        return TT_OK;
    }
#endif
    for (int n = 0; n < N; n++) {
        const float *xr = x + (size_t)n * ldx;
        float amax = 0.f;
        for (int k = 0; k < a->K; k++) amax = fmaxf(amax, fabsf(xr[k]));
        const float s = 127.f / fmaxf(amax, 1e-5f);
        int8_t *q = a->q + (size_t)n * a->Kp;
        int32_t sum = 0;
        for (int k = 0; k < a->K; k++) {
            float r = roundf(xr[k] * s);
            int v = r > 127.f ? 127 : r < -128.f ? -128 : (int)r;
            q[k] = (int8_t)v;
            sum += v;
        }
        memset(q + a->K, 0, (size_t)(a->Kp - a->K));
        a->sum[n] = sum;
        a->scale[n] = s;
    }
    return TT_OK;
}

tt_status tt_qact_set_int(tt_qact *a, const int8_t *q, int N) {
    if (N <= 0 || N > a->cap_n) return tt_set_error(TT_E_ARG, "activations: %d tokens, capacity %d", N, a->cap_n);
    a->N = N;
    for (int n = 0; n < N; n++) {
        int8_t *d = a->q + (size_t)n * a->Kp;
        memcpy(d, q + (size_t)n * a->K, (size_t)a->K);
        memset(d + a->K, 0, (size_t)(a->Kp - a->K));
        int32_t s = 0;
        for (int k = 0; k < a->K; k++) s += d[k];
        a->sum[n] = s;
        a->scale[n] = 1.f;
    }
    return TT_OK;
}
