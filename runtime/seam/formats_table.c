/* tritune: the weight-format traits table and the weight tensors (see
 * formats_table.h). */
#include "seam/formats_table.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "formats/tl.h"

static size_t i2s_bytes(int M, int K) { return M > 0 && K > 0 ? tt_i2s_bytes(M, K) : 0; }
static size_t fp16_bytes(int M, int K) { return M > 0 && K > 0 ? sizeof(uint16_t) * (size_t)M * K : 0; }
static size_t fp32_bytes(int M, int K) { return M > 0 && K > 0 ? sizeof(float) * (size_t)M * K : 0; }

/* Indexed by tt_wformat: row f describes format f (checked by the tests). */
static const tt_wformat_traits traits[TT_FMT_COUNT] = {
    [TT_FMT_I2S] = {.fmt = TT_FMT_I2S, .name = "i2s", .ternary = 1, .bpw = 2.0, .bytes = i2s_bytes,
                    .pack = tt_i2s_pack, .unpack = tt_i2s_unpack, .validate = tt_i2s_validate,
                    .ref_gemv = tt_ref_i2s_gemv, .ref_gemm = tt_ref_i2s_gemm},
    [TT_FMT_TL1] = {.fmt = TT_FMT_TL1, .name = "tl1", .ternary = 1, .bpw = 2.0, .bytes = tt_tl1_bytes,
                    .pack = tt_tl1_pack, .unpack = tt_tl1_unpack, .validate = tt_tl1_validate,
                    .ref_gemv = tt_ref_tl1_gemv, .ref_gemm = tt_ref_tl1_gemm},
    [TT_FMT_TL2] = {.fmt = TT_FMT_TL2, .name = "tl2", .ternary = 1, .bpw = 5.0 / 3.0, .bytes = tt_tl2_bytes,
                    .pack = tt_tl2_pack, .unpack = tt_tl2_unpack, .validate = tt_tl2_validate,
                    .ref_gemv = tt_ref_tl2_gemv, .ref_gemm = tt_ref_tl2_gemm},
    [TT_FMT_FP16] = {.fmt = TT_FMT_FP16, .name = "fp16", .ternary = 0, .bpw = 16.0, .bytes = fp16_bytes},
    [TT_FMT_FP32] = {.fmt = TT_FMT_FP32, .name = "fp32", .ternary = 0, .bpw = 32.0, .bytes = fp32_bytes},
};

const tt_wformat_traits *tt_wformat_traits_of(tt_wformat f) {
    return ((int)f >= 0 && f < TT_FMT_COUNT) ? &traits[f] : NULL;
}

const char *tt_wformat_name(tt_wformat f) {
    const tt_wformat_traits *t = tt_wformat_traits_of(f);
    return t ? t->name : "?";
}

int tt_wformat_from_name(const char *s) {
    for (int i = 0; s && i < TT_FMT_COUNT; i++)
        if (strcmp(s, traits[i].name) == 0) return i;
    return -1;
}

int tt_wformat_is_ternary(tt_wformat f) {
    const tt_wformat_traits *t = tt_wformat_traits_of(f);
    return t ? t->ternary : 0;
}

double tt_wformat_bpw(tt_wformat f) {
    const tt_wformat_traits *t = tt_wformat_traits_of(f);
    return t ? t->bpw : 0.0;
}

size_t tt_wformat_bytes(tt_wformat fmt, int M, int K) {
    const tt_wformat_traits *t = tt_wformat_traits_of(fmt);
    return t && M > 0 && K > 0 ? t->bytes(M, K) : 0;
}

/* ---- Tensors ------------------------------------------------------------------- */
/* The row of a ternary format, or NULL with TT_E_ARG recorded. */
static const tt_wformat_traits *ternary_row(tt_wformat fmt) {
    const tt_wformat_traits *t = tt_wformat_traits_of(fmt);
    if (!t) tt_set_error(TT_E_ARG, "unknown weight format %d", (int)fmt);
    else if (!t->ternary) tt_set_error(TT_E_ARG, "format %s is not a ternary format", t->name);
    return t && t->ternary ? t : NULL;
}

tt_status tt_tensor_from_ternary(tt_tensor *t, tt_wformat fmt, const int8_t *w, int M, int K, float scale) {
    memset(t, 0, sizeof *t);
    const tt_wformat_traits *row = ternary_row(fmt);
    if (!row) return TT_E_ARG;
    size_t bytes = row->bytes(M, K);
    if (!bytes) return tt_set_error(TT_E_ARG, "format %s cannot hold a %dx%d tensor", row->name, M, K);
    uint8_t *d = tt_alloc(bytes, 64, 1);
    if (!d) return TT_E_NOMEM;
    tt_status st = row->pack(w, M, K, d);
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
    const tt_wformat_traits *row = ternary_row(fmt);
    if (!row) return TT_E_ARG;
    size_t want = row->bytes(M, K);
    if (!want) return tt_set_error(TT_E_ARG, "format %s cannot hold a %dx%d tensor", row->name, M, K);
    if (bytes != want)
        return tt_set_error(TT_E_FORMAT, "%s %dx%d needs %zu bytes, buffer has %zu", row->name, M, K, want, bytes);
    if (!(scale > 0) || !isfinite(scale)) return tt_set_error(TT_E_FORMAT, "weight scale %g is not a positive number", scale);
    *t = (tt_tensor){.fmt = fmt, .M = M, .K = K, .scale = scale, .data = data, .bytes = bytes, .owns = 0};
    return TT_OK;
}

tt_status tt_tensor_to_ternary(const tt_tensor *t, int8_t *w) {
    const tt_wformat_traits *row = ternary_row(t->fmt);
    if (!row) return TT_E_ARG;
    row->unpack(t->data, t->M, t->K, w);
    return TT_OK;
}

void tt_tensor_free(tt_tensor *t) {
    if (t->owns) tt_free(t->data);
    memset(t, 0, sizeof *t);
}
