/* Table-driven: every runnable variant against its reference (the same
 * verifier as `tritune verify`), plus negative controls proving the
 * verifier catches a wrong kernel, an out-of-bounds write and int16 wrap. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/cpu.h"
#include "seam/dispatch.h"
#include "test_util.h"
#include "seam/verify.h"

/* A kernel with an int16 accumulator: exact for small K, wraps past ~256
 * saturating products -- the bitnet.cpp AVX2 hazard (docs/background.md §4). */
static void bad_int16(const tt_kargs *a, int m0, int m1, int n0, int n1) {
    int8_t *w = malloc((size_t)a->K);
    for (int n = n0; n < n1; n++)
        for (int m = m0; m < m1; m++) {
            tt_i2s_unpack(a->w + (size_t)m * tt_i2s_row_bytes(a->K), 1, a->K, w);
            int16_t acc = 0;
            for (int k = 0; k < a->K; k++) acc = (int16_t)(acc + w[k] * a->x[(size_t)n * a->Kp + k]);
            a->y[(size_t)n * a->ldy + m] = acc;
        }
    free(w);
}
/* Correct values but also writes one past its last row. */
static void bad_oob(const tt_kargs *a, int m0, int m1, int n0, int n1) {
    tt_ref_i2s_gemv(a, m0, m1, n0, n1);
    if (m1 < a->ldy) a->y[(size_t)n0 * a->ldy + m1] = 0;
}
/* Correct values, but for every row whatever range it is given: races with
 * the thread that owns the other rows. */
static void bad_range(const tt_kargs *a, int m0, int m1, int n0, int n1) {
    (void)m0;
    (void)m1;
    tt_ref_i2s_gemv(a, 0, a->M, n0, n1);
}
/* Ignores the last partial block (the K = 8640 bitnet.cpp bug). */
static void bad_tail(const tt_kargs *a, int m0, int m1, int n0, int n1) {
    tt_kargs b = *a;
    b.K = a->K / 128 * 128;
    if (b.K == 0) b.K = a->K;
    tt_ref_i2s_gemv(&b, m0, m1, n0, n1);
}

static void negative(const char *what, tt_kernel_fn fn) {
    tt_variant v = *tt_variant_generic(TT_OP_GEMV, TT_FMT_I2S);
    v.name = what;
    v.fn = fn;
    tt_verify_result r;
    tt_status st = tt_verify_variant(&v, 1, 0, &r);
    CHECK(st == TT_E_VERIFY && r.failures > 0, "verifier missed a broken kernel: %s", what);
}

int main(void) {
    const uint32_t f = tt_cpu_features();
    int ran = 0;
    CHECK(tt_n_variants >= 20, "only %d variants", tt_n_variants);
    for (int i = 0; i < tt_n_variants; i++) {
        const tt_variant *v = &tt_variants[i];
        CHECK(v->fn && v->ref && v->name && v->layout, "incomplete row %d", i);
        CHECK(tt_variant_find(v->name) == v, "name %s not unique", v->name);
        if (!tt_variant_runnable(v, f)) continue;
        tt_verify_result r;
        tt_status st = tt_verify_variant(v, 42, 0, &r);
        CHECK(st == TT_OK, "%s: %s", v->name, r.first[0] ? r.first : tt_last_error());
        CHECK(r.cases > 0, "%s: no case ran", v->name);
        ran++;
    }
    CHECK(ran > 0, "no runnable variant");
    for (tt_wformat fmt = 0; fmt < TT_FMT_COUNT; fmt++) {
        if (!tt_wformat_is_ternary(fmt)) continue;
        int has = 0;
        for (int i = 0; i < tt_n_variants; i++) has |= tt_variants[i].wfmt == fmt;
        if (!has) continue;
        CHECK(tt_variant_generic(TT_OP_GEMV, fmt) != NULL, "no generic GEMV for %s", tt_wformat_name(fmt));
        CHECK(tt_variant_generic(TT_OP_GEMM, fmt) != NULL, "no generic GEMM for %s", tt_wformat_name(fmt));
    }
    /* every variant is of a ternary format and is checked against its format's reference */
    for (int i = 0; i < tt_n_variants; i++) {
        const tt_variant *v = &tt_variants[i];
        const tt_wformat_traits *t = tt_wformat_traits_of(v->wfmt);
        CHECK(t && t->ternary, "%s: format %d is not ternary", v->name, (int)v->wfmt);
        if (t) CHECK(v->ref == (v->op == TT_OP_GEMV ? t->ref_gemv : t->ref_gemm), "%s: reference %s is not its format's",
                     v->name, v->ref_name);
    }
    negative("bad_int16", bad_int16);
    negative("bad_oob", bad_oob);
    negative("bad_tail", bad_tail);
    negative("bad_range", bad_range);
    TEST_DONE("test_variants");
}
