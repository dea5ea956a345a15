/* Packing round trips, layout facts, validation, activation quantization. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "formats/formats.h"
#include "test_util.h"
#include "seam/formats_table.h"
#include "seam/variant.h"

static uint64_t rs = 12345;
static uint32_t rnd(void) {
    rs ^= rs << 13, rs ^= rs >> 7, rs ^= rs << 17;
    return (uint32_t)rs;
}

static void i2s_round_trip(int M, int K) {
    int8_t *w = malloc((size_t)M * K), *back = malloc((size_t)M * K);
    for (size_t i = 0; i < (size_t)M * K; i++) w[i] = (int8_t)((int)(rnd() % 3) - 1);
    tt_tensor t;
    CHECK(tt_tensor_from_ternary(&t, TT_FMT_I2S, w, M, K, 0.5f) == TT_OK, "pack %dx%d", M, K);
    CHECK(t.bytes == (size_t)M * TT_CEIL_DIV(K, 128) * 32, "size %zu for %dx%d", t.bytes, M, K);
    CHECK(tt_i2s_validate(t.data, M, K) == TT_OK, "validate %dx%d: %s", M, K, tt_last_error());
    tt_i2s_unpack(t.data, M, K, back);
    CHECK(memcmp(w, back, (size_t)M * K) == 0, "i2s round trip %dx%d", M, K);
    /* i2s256 repack round trip */
    uint8_t *r = malloc(tt_repack_i2s256_bytes(M, K));
    CHECK(tt_repack_i2s256(t.data, M, K, r) == TT_OK, "repack");
    memset(back, 9, (size_t)M * K);
    tt_unpack_i2s256(r, M, K, back);
    CHECK(memcmp(w, back, (size_t)M * K) == 0, "i2s256 round trip %dx%d", M, K);
    free(r);
    tt_tensor_free(&t);
    free(w);
    free(back);
}

/* The traits table: row f describes format f; weight files store the
 * numbers, so they are pinned; ternary rows have codecs that agree with
 * each other and bytes that are per-row; float rows have no codecs. */
static void traits_table(void) {
    CHECK(TT_FMT_I2S == 0 && TT_FMT_TL1 == 1 && TT_FMT_TL2 == 2 && TT_FMT_FP16 == 3 && TT_FMT_FP32 == 4,
          "format numbers changed (weight files store them)");
    const char *names[TT_FMT_COUNT] = {"i2s", "tl1", "tl2", "fp16", "fp32"};
    int ternary = 0;
    for (int f = 0; f < TT_FMT_COUNT; f++) {
        const tt_wformat_traits *t = tt_wformat_traits_of((tt_wformat)f);
        CHECK(t && t->fmt == (tt_wformat)f, "row %d describes another format", f);
        if (!t) continue;
        CHECK(!strcmp(t->name, names[f]) && tt_wformat_from_name(names[f]) == f && !strcmp(tt_wformat_name(t->fmt), names[f]),
              "name of format %d: %s", f, t->name);
        CHECK(t->bytes && t->bytes(3, 100) == 3 * t->bytes(1, 100) && t->bytes(0, 100) == 0, "%s bytes", t->name);
        CHECK(tt_wformat_bytes(t->fmt, 1, 384) * 8 == (size_t)(t->bpw * 384 + 0.5), "%s: %g bpw but %zu bytes for 384",
              t->name, t->bpw, tt_wformat_bytes(t->fmt, 1, 384)); /* 384: whole blocks of every format */
        if (!t->ternary) {
            CHECK(!t->pack && !t->unpack && !t->validate && !t->ref_gemv && !t->ref_gemm, "float format %s has codecs",
                  t->name);
            continue;
        }
        ternary++;
        CHECK(t->pack && t->unpack && t->validate && t->ref_gemv && t->ref_gemm, "ternary format %s lacks a codec",
              t->name);
        enum { M = 3, K = 77 };
        int8_t w[M * K], back[M * K];
        for (int i = 0; i < M * K; i++) w[i] = (int8_t)((int)(rnd() % 3) - 1);
        uint8_t *d = malloc(t->bytes(M, K));
        CHECK(t->pack(w, M, K, d) == TT_OK && t->validate(d, M, K) == TT_OK, "%s pack/validate", t->name);
        t->unpack(d, M, K, back);
        CHECK(!memcmp(w, back, sizeof w), "%s: unpack(pack(w)) != w", t->name);
        free(d);
    }
    CHECK(ternary == 3, "%d ternary formats", ternary);
    CHECK(tt_wformat_is_ternary(TT_FMT_TL2) && !tt_wformat_is_ternary(TT_FMT_FP16) && !tt_wformat_is_ternary(TT_FMT_COUNT),
          "ternary flags");
    CHECK(!tt_wformat_traits_of(TT_FMT_COUNT) && !strcmp(tt_wformat_name((tt_wformat)-1), "?") &&
              tt_wformat_from_name("q4") == -1 && tt_wformat_from_name(NULL) == -1,
          "unknown formats");
    int8_t w1[4] = {1, 0, -1, 0};
    tt_tensor t;
    CHECK(tt_tensor_from_ternary(&t, TT_FMT_FP16, w1, 1, 4, 1.f) == TT_E_ARG && strstr(tt_last_error(), "not a ternary"),
          "a tensor in a float format: %s", tt_last_error());
}

int main(void) {
    traits_table();
    int Ks[] = {1, 31, 32, 127, 128, 129, 255, 256, 257, 2560, 8640};
    for (size_t i = 0; i < sizeof Ks / sizeof *Ks; i++) i2s_round_trip(3, Ks[i]);

    /* the published I2_S layout: byte j of a block holds weights j, j+32, j+64, j+96 at shifts 6,4,2,0 */
    {
        int8_t w[128] = {0};
        w[5] = 1;    /* byte 5, shift 6 -> code 2 */
        w[37] = -1;  /* byte 5, shift 4 -> code 0 */
        w[69] = 1;   /* byte 5, shift 2 -> code 2 */
        uint8_t d[32];
        CHECK(tt_i2s_pack(w, 1, 128, d) == TT_OK, "pack");
        CHECK(d[5] == (uint8_t)((2 << 6) | (0 << 4) | (2 << 2) | 1), "byte 5 = 0x%02x", d[5]);
        CHECK(d[0] == 0x55, "zero weights pack to code 1 (0x55), got 0x%02x", d[0]);
    }
    /* bad input */
    {
        int8_t w[4] = {0, 2, 0, 0};
        uint8_t d[32];
        CHECK(tt_i2s_pack(w, 1, 4, d) == TT_E_FORMAT, "non-ternary weight accepted");
        memset(d, 0xFF, sizeof d); /* code 3 everywhere */
        CHECK(tt_i2s_validate(d, 1, 128) == TT_E_FORMAT, "code 3 accepted");
        memset(d, 0x55, sizeof d);
        d[31] = 0x56; /* non-zero padding past K = 100 */
        CHECK(tt_i2s_validate(d, 1, 100) == TT_E_FORMAT, "non-zero padding accepted");
        tt_tensor t;
        CHECK(tt_tensor_wrap(&t, TT_FMT_I2S, 2, 128, 1.f, d, 32) == TT_E_FORMAT, "wrong-size buffer accepted");
        CHECK(strstr(tt_last_error(), "needs 64 bytes") != NULL, "message: %s", tt_last_error());
        CHECK(tt_tensor_wrap(&t, TT_FMT_I2S, 1, 128, NAN, d, 32) == TT_E_FORMAT, "NaN scale accepted");
        CHECK(tt_tensor_wrap(&t, TT_FMT_I2S, 1, 128, 1.f, d, 32) == TT_OK, "good buffer rejected");
    }
    /* absmean weight quantization (docs/background.md §1) */
    {
        float w[6] = {0.9f, -0.1f, 0.2f, -1.2f, 0.0f, 0.4f}; /* mean |w| = 2.8/6 */
        tt_tensor t;
        CHECK(tt_tensor_from_float(&t, TT_FMT_I2S, w, 1, 6) == TT_OK, "from float");
        CHECK(fabsf(t.scale - 2.8f / 6) < 1e-6f, "scale %g", t.scale);
        int8_t q[6];
        tt_tensor_to_ternary(&t, q);
        const int8_t want[6] = {1, 0, 0, -1, 0, 1};
        CHECK(memcmp(q, want, 6) == 0, "ternary %d %d %d %d %d %d", q[0], q[1], q[2], q[3], q[4], q[5]);
        tt_tensor_free(&t);
    }
    /* activation quantization against the scalar formula (the AVX-512 row
     * path where the CPU has it: lengths around its 16-lane blocks, and
     * products that fall exactly on .5, where roundf rounds away from 0) */
    static const int Kq[] = {300, 1, 15, 16, 17, 33};
    for (size_t ki = 0; ki < sizeof Kq / sizeof *Kq; ki++) {
        const int N = 4, K = Kq[ki];
        float *x = malloc(sizeof(float) * N * K);
        for (int i = 0; i < N * K; i++) x[i] = ((float)(rnd() % 20001) - 10000.f) / 937.f;
        for (int k = 0; k < K; k++) x[2 * K + k] = 0.f; /* all-zero token: scale from the 1e-5 floor */
        x[K + (K > 7 ? 7 : 0)] = 50.f;                  /* a dominant value maps to 127 */
        static const float halves[] = {0.5f, -0.5f, 1.5f, -2.5f, 126.5f, -126.5f, 2.4999998f, -3.5000002f, 0.f};
        for (int k = 0; k < K; k++) x[3 * K + k] = halves[k % 9]; /* scale 127 / 127 = 1 exactly */
        x[3 * K] = -127.f;
        tt_qact a;
        CHECK(tt_qact_alloc(&a, N, K) == TT_OK, "alloc");
        CHECK(a.Kp % TT_ACT_ALIGN == 0 && a.Kp >= K, "Kp %d", a.Kp);
        CHECK(tt_quantize_act(&a, x, N, K) == TT_OK, "quantize");
        for (int n = 0; n < N; n++) {
            float amax = 0;
            for (int k = 0; k < K; k++) amax = fmaxf(amax, fabsf(x[n * K + k]));
            const float s = 127.f / fmaxf(amax, 1e-5f);
            int32_t sum = 0;
            for (int k = 0; k < K; k++) {
                float r = roundf(x[n * K + k] * s);
                int q = r > 127 ? 127 : r < -128 ? -128 : (int)r;
                CHECK(a.q[(size_t)n * a.Kp + k] == q, "q[%d][%d] = %d, want %d", n, k, a.q[(size_t)n * a.Kp + k], q);
                sum += q;
            }
            for (int k = K; k < a.Kp; k++) CHECK(a.q[(size_t)n * a.Kp + k] == 0, "padding not zero");
            CHECK(a.sum[n] == sum, "sum[%d] %d want %d", n, a.sum[n], sum);
            CHECK(a.scale[n] == s, "scale[%d]", n);
        }
        CHECK(a.q[(size_t)1 * a.Kp + (K > 7 ? 7 : 0)] == 127, "absmax element maps to 127");
        if (K > 5) CHECK(a.q[(size_t)3 * a.Kp + 1] == -1 && a.q[(size_t)3 * a.Kp + 4] == 127 && a.q[(size_t)3 * a.Kp + 5] == -127,
                         "halves round away from zero: %d %d %d", a.q[(size_t)3 * a.Kp + 1],
                         a.q[(size_t)3 * a.Kp + 4], a.q[(size_t)3 * a.Kp + 5]);
        CHECK(tt_quantize_act(&a, x, N + 1, K) == TT_E_ARG, "over-capacity accepted");
        tt_qact_free(&a);
        free(x);
    }
    TEST_DONE("test_formats");
}
