/* tritune: the weight-format traits table, one row per tt_wformat (in the
 * spirit of ggml's type_traits).
 *
 * A row says everything the rest of the project needs to know about a
 * format: its name, whether it is ternary, its bits per weight and the
 * bytes of its canonical layout, the codecs of that layout and the scalar
 * reference kernels that define its arithmetic.  Code that depends on the
 * format reads its row instead of switching on the enum, so a new format
 * is one row here (plus its codecs in formats/ and references in ref/).
 *
 * Float formats (fp16, fp32: the baselines, the ternary weights
 * dequantized) have no packed canonical layout: pack, unpack, validate and
 * the references are NULL, and `bytes` is their dense matrix size.
 *
 * Layer: a row points at the reference kernels (ref/), so the table lives
 * in the seam, the lowest layer that sees both formats/ and ref/.  The
 * weight tensors (tt_tensor), which pack and unpack through a row, live
 * here with it. */
#ifndef TT_FORMATS_TABLE_H
#define TT_FORMATS_TABLE_H

#include <stddef.h>
#include <stdint.h>

#include "formats/formats.h"
#include "ref/ref.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    tt_wformat fmt;        /* == the row's index in the table                          */
    const char *name;      /* "i2s", "tl1", "tl2", "fp16", "fp32": CLI, reports, tuned.tsv */
    int ternary;           /* packed ternary weights + one scale s_w; else a float baseline */
    double bpw;            /* bits per weight of the canonical layout (reports)        */
    /* Bytes of the canonical layout of an M x K matrix, 0 on a bad shape.
     * A whole number of bytes per row: bytes(M, K) == M * bytes(1, K). */
    size_t (*bytes)(int M, int K);
    /* Ternary int8 rows (values in {-1, 0, 1}) -> canonical layout;
     * TT_E_FORMAT on a value outside {-1, 0, 1}.  NULL for float formats. */
    tt_status (*pack)(const int8_t *w, int M, int K, uint8_t *dst);
    void (*unpack)(const uint8_t *src, int M, int K, int8_t *w);
    /* TT_E_FORMAT when a buffer holds codes the format never writes. */
    tt_status (*validate)(const uint8_t *src, int M, int K);
    /* Scalar references (ref/) on the canonical layout; NULL for float formats. */
    tt_kernel_fn ref_gemv, ref_gemm;
} tt_wformat_traits;

/* The row of f, or NULL when f is not a format. */
const tt_wformat_traits *tt_wformat_traits_of(tt_wformat f);
const char *tt_wformat_name(tt_wformat f); /* "?" when f is not a format */
int tt_wformat_from_name(const char *s);   /* -1 if unknown */
int tt_wformat_is_ternary(tt_wformat f);   /* the row's flag; 0 when f is not a format */
double tt_wformat_bpw(tt_wformat f);       /* 0 when f is not a format */
/* Bytes of the canonical layout for fmt and shape; 0 on bad args. */
size_t tt_wformat_bytes(tt_wformat fmt, int M, int K);

/* ---- Weight tensors: a ternary matrix in its format's canonical layout ---- */
typedef struct {
    tt_wformat fmt;    /* a ternary format                            */
    int M, K;          /* rows (outputs) x columns (inputs)          */
    float scale;       /* s_w: y = acc * scale / s_a                  */
    uint8_t *data;     /* canonical layout, `bytes` long              */
    size_t bytes;
    int owns;          /* data allocated by tt_tensor_* functions     */
} tt_tensor;

/* Quantize fp32 weights with absmean (docs/background.md §1) and pack. */
tt_status tt_tensor_from_float(tt_tensor *t, tt_wformat fmt, const float *w, int M, int K);
/* Pack already-ternary weights with a given scale. */
tt_status tt_tensor_from_ternary(tt_tensor *t, tt_wformat fmt, const int8_t *w, int M, int K, float scale);
/* Wrap an existing buffer; checks its size against the format and shape. */
tt_status tt_tensor_wrap(tt_tensor *t, tt_wformat fmt, int M, int K, float scale, uint8_t *data, size_t bytes);
/* Back to ternary int8 (M x K). */
tt_status tt_tensor_to_ternary(const tt_tensor *t, int8_t *w);
void tt_tensor_free(tt_tensor *t);

#ifdef __cplusplus
}
#endif
#endif
