#include "formats/formats.h"

#include "core/cpu.h"
#include "formats/tl.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char *const fmt_names[TT_FMT_COUNT] = {[TT_FMT_I2S] = "i2s", [TT_FMT_TL1] = "tl1", [TT_FMT_TL2] = "tl2"};

const char *tt_wformat_name(tt_wformat f) {
    return ((int)f >= 0 && f < TT_FMT_COUNT) ? fmt_names[f] : "?";
}

int tt_wformat_from_name(const char *s) {
    for (int i = 0; i < TT_FMT_COUNT; i++)
        if (s && strcmp(s, fmt_names[i]) == 0) return i;
    return -1;
}

double tt_wformat_bpw(tt_wformat f) {
    switch (f) {
    case TT_FMT_I2S: return 2.0;
    case TT_FMT_TL1: return 2.0;
    case TT_FMT_TL2: return 5.0 / 3.0;
    default: return 0.0;
    }
}

size_t tt_wformat_bytes(tt_wformat fmt, int M, int K) {
    if (M <= 0 || K <= 0) return 0;
    switch (fmt) {
    case TT_FMT_I2S: return tt_i2s_bytes(M, K);
    case TT_FMT_TL1: return tt_tl1_bytes(M, K);
    case TT_FMT_TL2: return tt_tl2_bytes(M, K);
    default: return 0;
    }
}

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

tt_status tt_i2s_validate(const uint8_t *src, int M, int K) {
    const size_t rb = tt_i2s_row_bytes(K);
    for (int m = 0; m < M; m++) {
        const uint8_t *r = src + (size_t)m * rb;
        for (size_t b = 0; b < rb; b++) {
            uint8_t byte = r[b];
            for (int p = 0; p < 4; p++) {
                int code = (byte >> (6 - 2 * p)) & 3;
                long k = (long)(b / 32) * 128 + p * 32 + (long)(b % 32);
                if (code == 3)
                    return tt_set_error(TT_E_FORMAT, "i2s: invalid code 3 at row %d column %ld", m, k);
                if (k >= K && code != 1)
                    return tt_set_error(TT_E_FORMAT, "i2s: non-zero padding at row %d column %ld", m, k);
            }
        }
    }
    return TT_OK;
}

/* ---- Tensors ------------------------------------------------------------------- */
static tt_status pack_fmt(tt_wformat fmt, const int8_t *w, int M, int K, uint8_t *dst) {
    switch (fmt) {
    case TT_FMT_I2S: return tt_i2s_pack(w, M, K, dst);
    case TT_FMT_TL1: return tt_tl1_pack(w, M, K, dst);
    case TT_FMT_TL2: return tt_tl2_pack(w, M, K, dst);
    default: return tt_set_error(TT_E_ARG, "unknown weight format %d", (int)fmt);
    }
}

tt_status tt_tensor_from_ternary(tt_tensor *t, tt_wformat fmt, const int8_t *w, int M, int K, float scale) {
    memset(t, 0, sizeof *t);
    size_t bytes = tt_wformat_bytes(fmt, M, K);
    if (!bytes) return tt_set_error(TT_E_ARG, "format %s cannot hold a %dx%d tensor", tt_wformat_name(fmt), M, K);
    uint8_t *d = tt_alloc(bytes, 64, 1);
    if (!d) return TT_E_NOMEM;
    tt_status st = pack_fmt(fmt, w, M, K, d);
    if (st != TT_OK) {
        tt_free(d);
        return st;
    }
    *t = (tt_tensor){.fmt = fmt, .M = M, .K = K, .scale = scale, .data = d, .bytes = bytes, .owns = 1};
    return TT_OK;
}

tt_status tt_tensor_from_float(tt_tensor *t, tt_wformat fmt, const float *w, int M, int K) {
    if (M <= 0 || K <= 0) return tt_set_error(TT_E_ARG, "bad shape %dx%d", M, K);
    double s = 0;
    for (size_t i = 0; i < (size_t)M * K; i++) s += fabsf(w[i]);
    float sw = (float)(s / ((double)M * K));
    if (sw < 1e-8f) sw = 1e-8f;
    int8_t *q = malloc((size_t)M * K);
    if (!q) return tt_set_error(TT_E_NOMEM, "cannot allocate %zu bytes", (size_t)M * K);
    for (size_t i = 0; i < (size_t)M * K; i++) {
        float r = roundf(w[i] / sw);
        q[i] = (int8_t)(r > 1 ? 1 : r < -1 ? -1 : r);
    }
    tt_status st = tt_tensor_from_ternary(t, fmt, q, M, K, sw);
    free(q);
    return st;
}

tt_status tt_tensor_wrap(tt_tensor *t, tt_wformat fmt, int M, int K, float scale, uint8_t *data, size_t bytes) {
    memset(t, 0, sizeof *t);
    size_t want = tt_wformat_bytes(fmt, M, K);
    if (!want) return tt_set_error(TT_E_ARG, "format %s cannot hold a %dx%d tensor", tt_wformat_name(fmt), M, K);
    if (bytes != want)
        return tt_set_error(TT_E_FORMAT, "%s %dx%d needs %zu bytes, buffer has %zu", tt_wformat_name(fmt), M, K, want,
                            bytes);
    if (!(scale > 0) || !isfinite(scale)) return tt_set_error(TT_E_FORMAT, "weight scale %g is not a positive number", scale);
    *t = (tt_tensor){.fmt = fmt, .M = M, .K = K, .scale = scale, .data = data, .bytes = bytes, .owns = 0};
    return TT_OK;
}

tt_status tt_tensor_to_ternary(const tt_tensor *t, int8_t *w) {
    switch (t->fmt) {
    case TT_FMT_I2S: tt_i2s_unpack(t->data, t->M, t->K, w); return TT_OK;
    case TT_FMT_TL1: tt_tl1_unpack(t->data, t->M, t->K, w); return TT_OK;
    case TT_FMT_TL2: tt_tl2_unpack(t->data, t->M, t->K, w); return TT_OK;
    default: return tt_set_error(TT_E_ARG, "unknown weight format");
    }
}

void tt_tensor_free(tt_tensor *t) {
    if (t->owns) tt_free(t->data);
    memset(t, 0, sizeof *t);
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
