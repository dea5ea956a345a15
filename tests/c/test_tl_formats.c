/* TL1 / TL2 formats: pack/unpack round trips for many K (K % 3 != 0, K
 * smaller than a triple), size formulas, validation of bad codes, panel
 * repack round trips, the table builders against the format's definition,
 * and a wrong-size buffer rejected by tt_tensor_wrap.  Seeded; quiet unless
 * something fails; the exit code counts failures. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/cpu.h"
#include "formats/formats.h"
#include "formats/tl.h"
#include "test_util.h"
#include "seam/formats_table.h"
#include "seam/variant.h"

static uint64_t rs = 0x5eed7115ull;
static uint32_t rnd(void) {
    rs ^= rs << 13, rs ^= rs >> 7, rs ^= rs << 17;
    return (uint32_t)rs;
}

static void round_trip(tt_wformat fmt, int M, int K) {
    const char *nm = tt_wformat_name(fmt);
    int8_t *w = malloc((size_t)M * K), *back = malloc((size_t)M * K);
    for (size_t i = 0; i < (size_t)M * K; i++) w[i] = (int8_t)((int)(rnd() % 3) - 1);
    tt_tensor t;
    CHECK(tt_tensor_from_ternary(&t, fmt, w, M, K, 0.25f) == TT_OK, "%s pack %dx%d: %s", nm, M, K, tt_last_error());
    const size_t rb = fmt == TT_FMT_TL1 ? (size_t)(K + 3) / 4 : (size_t)((K / 3 + 1) / 2 + (K / 3 + 7) / 8 + (K % 3 != 0));
    CHECK(t.bytes == (size_t)M * rb, "%s size %zu for %dx%d, expected %zu", nm, t.bytes, M, K, (size_t)M * rb);
    CHECK(tt_wformat_bytes(fmt, M, K) == (size_t)M * tt_wformat_bytes(fmt, 1, K), "%s bytes not per-row", nm);
    if (fmt == TT_FMT_TL2 && K % 24 == 0) CHECK(rb * 24 == (size_t)K * 5, "TL2 is 5/3 bpw (K = %d)", K);
    CHECK((fmt == TT_FMT_TL1 ? tt_tl1_validate(t.data, M, K) : tt_tl2_validate(t.data, M, K)) == TT_OK,
          "%s validate %dx%d: %s", nm, M, K, tt_last_error());
    memset(back, 9, (size_t)M * K);
    CHECK(tt_tensor_to_ternary(&t, back) == TT_OK, "unpack");
    CHECK(memcmp(w, back, (size_t)M * K) == 0, "%s round trip %dx%d", nm, M, K);
    /* panel repack round trip */
    const size_t pb = fmt == TT_FMT_TL1 ? tt_repack_tl1p32_bytes(M, K) : tt_repack_tl2p32_bytes(M, K);
    uint8_t *p = malloc(pb);
    CHECK((fmt == TT_FMT_TL1 ? tt_repack_tl1p32(t.data, M, K, p) : tt_repack_tl2p32(t.data, M, K, p)) == TT_OK, "repack");
    memset(back, 9, (size_t)M * K);
    if (fmt == TT_FMT_TL1) tt_unpack_tl1p32(p, M, K, back);
    else tt_unpack_tl2p32(p, M, K, back);
    CHECK(memcmp(w, back, (size_t)M * K) == 0, "%sp32 round trip %dx%d", nm, M, K);
    /* dot panel layout (NEON udot/sdot): same size, other byte order */
    CHECK(pb == (fmt == TT_FMT_TL1 ? tt_repack_tl1p32d_bytes(M, K) : tt_repack_tl2p32d_bytes(M, K)), "p32d size");
    CHECK((fmt == TT_FMT_TL1 ? tt_repack_tl1p32d(t.data, M, K, p) : tt_repack_tl2p32d(t.data, M, K, p)) == TT_OK, "repack");
    memset(back, 9, (size_t)M * K);
    if (fmt == TT_FMT_TL1) tt_unpack_tl1p32d(p, M, K, back);
    else tt_unpack_tl2p32d(p, M, K, back);
    CHECK(memcmp(w, back, (size_t)M * K) == 0, "%sp32d round trip %dx%d", nm, M, K);
    free(p);
    tt_tensor_free(&t);
    free(w);
    free(back);
}

/* The tables hold, for every slot and index, the exact partial sum. */
static void tables(tt_wformat fmt, int K) {
    const int Kp = tt_act_kpad(K);
    int8_t *x = calloc((size_t)Kp, 1);
    for (int k = 0; k < K; k++) x[k] = (int8_t)(rnd() % 4 == 0 ? (rnd() & 1 ? 127 : -128) : (int)(rnd() & 0xFF) - 128);
    const int tl2 = fmt == TT_FMT_TL2;
    const size_t nb = tl2 ? tt_lut_tl2_bytes(K) : tt_lut_tl1_bytes(K);
    uint8_t *tab = malloc(nb);
    memset(tab, 0xA5, nb);
    for (int part = 0; part < 5; part++) /* in 5 shares, as 5 threads would */
        (tl2 ? tt_lut_tl2 : tt_lut_tl1)(x, K, Kp, tab, part, 5);
    const int S = tl2 ? tt_tl2_slots(K) : tt_tl1_slots(K), T = K / 3;
    for (int t = 0; t < tt_lut_groups(S) * TT_LUT_GROUP; t++)
        for (int i = 0; i < 16; i++) {
            const uint8_t *e = tab + (size_t)(t / 4) * TT_LUT_GROUP_BYTES + 16 * (t % 4) + i;
            const int got = (int16_t)(uint16_t)(e[0] | e[64] << 8);
            int want = 0;
            if (t < S && tl2 && t < T) {
                if (i < 14)
                    for (int d = 0; d < 3; d++) want += tt_tl2_digit(i, d) * x[3 * t + d];
            } else if (t < S && i < 9) {
                const int k = tl2 ? 3 * T : 2 * t;
                want = (i / 3 - 1) * x[k] + (i % 3 - 1) * (k + 1 < K ? x[k + 1] : 0);
            }
            if (got != want) {
                CHECK(got == want, "%s K=%d table slot %d entry %d = %d, expected %d", tt_wformat_name(fmt), K, t, i, got, want);
                goto out;
            }
        }
out:
    free(tab);
    free(x);
}

#if defined(__x86_64__)
/* The "lut16d" planes of the AVX-512 VBMI builder give e = 2L - 3H for every
 * entry of the portable tables (vector groups and the scalar tail), with
 * activations of random, all -128 and all 127 values (|e| up to 384). */
static void tables_d(int K, int fill) {
    const int Kp = tt_act_kpad(K);
    int8_t *x = calloc((size_t)Kp, 1);
    for (int k = 0; k < K; k++) x[k] = (int8_t)(fill ? fill : (int)(rnd() & 0xFF) - 128);
    const int G = tt_lut_groups(tt_tl2_slots(K));
    uint8_t *ref = malloc(tt_lut_tl2_bytes(K)), *d = malloc(tt_lut_tl2d_avx512vbmi_bytes(K));
    CHECK(tt_lut_tl2d_avx512vbmi_bytes(K) == (size_t)G * 128, "lut16d size %zu for K=%d", tt_lut_tl2d_avx512vbmi_bytes(K), K);
    memset(d, 0xA5, (size_t)G * 128);
    tt_lut_tl2(x, K, Kp, ref, 0, 1);
    for (int part = 0; part < 3; part++) tt_lut_tl2d_avx512vbmi(x, K, Kp, d, part, 3);
    for (int i = 0; i < G * 64; i++) {
        const uint8_t *r = ref + (size_t)(i / 64) * TT_LUT_GROUP_BYTES + i % 64, *q = d + (size_t)(i / 64) * 128 + i % 64;
        const int want = (int16_t)(uint16_t)(r[0] | r[64] << 8), got = 2 * q[0] - 3 * q[64];
        if (got != want) {
            CHECK(got == want, "lut16d K=%d fill %d entry %d: 2*%d - 3*%d != %d", K, fill, i, q[0], q[64], want);
            break;
        }
    }
    free(ref);
    free(d);
    free(x);
}
#endif

int main(void) {
    const int Ks[] = {1, 2, 3, 4, 5, 6, 7, 8, 23, 24, 25, 95, 96, 97, 255, 256, 257, 700, 2560, 8640};
    const int Ms[] = {1, 3, 33};
    for (size_t i = 0; i < sizeof Ks / sizeof *Ks; i++)
        for (size_t j = 0; j < sizeof Ms / sizeof *Ms; j++) {
            round_trip(TT_FMT_TL1, Ms[j], Ks[i]);
            round_trip(TT_FMT_TL2, Ms[j], Ks[i]);
        }
    for (size_t i = 0; i < sizeof Ks / sizeof *Ks; i++) {
        tables(TT_FMT_TL1, Ks[i]);
        tables(TT_FMT_TL2, Ks[i]);
#if defined(__x86_64__)
        if ((tt_cpu_features() & (TT_FEAT_AVX512BW | TT_FEAT_AVX512VBMI)) == (TT_FEAT_AVX512BW | TT_FEAT_AVX512VBMI))
            for (int f = 0; f < 3; f++) tables_d(Ks[i], f == 0 ? 0 : f == 1 ? -128 : 127);
#endif
    }
    CHECK(tt_tl2_bytes(1, 2560) == 427 + 107 + 1, "TL2 2560: %zu", tt_tl2_bytes(1, 2560));
    CHECK(tt_tl1_bytes(7, 2560) == 7 * 640, "TL1 2560");
    CHECK(tt_tl1_bytes(0, 5) == 0 && tt_tl2_bytes(3, 0) == 0, "empty shapes have no size");

    /* the published TL2 coding: (1, -1, 0) -> 9 - 3 = 6, (-1, 0, 1) -> -8: index 8, sign */
    {
        int8_t w[6] = {1, -1, 0, -1, 0, 1};
        uint8_t d[8] = {0};
        CHECK(tt_tl2_pack(w, 1, 6, d) == TT_OK, "pack");
        CHECK(d[0] == (6 | 8 << 4) && d[1] == 2, "TL2 bytes %02x %02x", d[0], d[1]);
        int8_t v[2] = {-1, 1}; /* TL1: 3*(-1) + 1 + 4 = 2; padding pair 4 */
        CHECK(tt_tl1_pack(v, 1, 2, d) == TT_OK && d[0] == (2 | 4 << 4), "TL1 byte %02x", d[0]);
    }
    /* bad input: non-ternary weights, invalid codes, non-zero padding, signed zero */
    {
        int8_t w[6] = {0, 2, 0, 0, 0, 0};
        uint8_t d[8];
        CHECK(tt_tl1_pack(w, 1, 6, d) == TT_E_FORMAT, "TL1 non-ternary weight accepted");
        CHECK(tt_tl2_pack(w, 1, 6, d) == TT_E_FORMAT, "TL2 non-ternary weight accepted");
        d[0] = 0x49; /* index 9 */
        CHECK(tt_tl1_validate(d, 1, 4) == TT_E_FORMAT, "TL1 index 9 accepted");
        d[0] = 0x44, d[1] = 0x44; /* K = 5: pair 2 is (w4, pad): index 4 fine; index 5 names the pad */
        CHECK(tt_tl1_validate(d, 1, 5) == TT_OK, "TL1 valid K=5 rejected: %s", tt_last_error());
        d[1] = 0x45;
        CHECK(tt_tl1_validate(d, 1, 5) == TT_E_FORMAT, "TL1 non-zero padding weight accepted");
        memset(d, 0, sizeof d);
        d[0] = 14; /* K = 6: two triples, index 14 */
        CHECK(tt_tl2_validate(d, 1, 6) == TT_E_FORMAT, "TL2 index 14 accepted");
        d[0] = 0, d[1] = 1; /* index 0 with its sign bit set */
        CHECK(tt_tl2_validate(d, 1, 6) == TT_E_FORMAT, "TL2 signed zero accepted");
        d[0] = 0x05, d[1] = 0; /* K = 3: one triple; the high nibble is padding */
        CHECK(tt_tl2_validate(d, 1, 3) == TT_OK, "TL2 valid K=3 rejected: %s", tt_last_error());
        d[0] = 0x35;
        CHECK(tt_tl2_validate(d, 1, 3) == TT_E_FORMAT, "TL2 non-zero padding index accepted");
        memset(d, 0, sizeof d);
        d[0] = 9; /* K = 1: one tail byte, index 9 */
        CHECK(tt_tl2_validate(d, 1, 1) == TT_E_FORMAT, "TL2 tail index 9 accepted");
        d[0] = 5; /* K = 1: (0, +1) names the missing second weight */
        CHECK(tt_tl2_validate(d, 1, 1) == TT_E_FORMAT, "TL2 tail past K accepted");
        d[0] = 7; /* (+1, 0) */
        CHECK(tt_tl2_validate(d, 1, 1) == TT_OK, "TL2 valid tail rejected: %s", tt_last_error());
    }
    /* K smaller than a triple is a real shape: round trips above; sizes here */
    CHECK(tt_tl2_bytes(4, 1) == 4 && tt_tl2_bytes(4, 2) == 4, "TL2 K < 3 is one tail byte per row");
    /* a buffer whose size does not match its format and shape */
    {
        uint8_t buf[64] = {0};
        tt_tensor t;
        CHECK(tt_tensor_wrap(&t, TT_FMT_TL2, 2, 24, 1.f, buf, 9) == TT_E_FORMAT, "TL2 wrong size accepted");
        CHECK(tt_tensor_wrap(&t, TT_FMT_TL2, 2, 24, 1.f, buf, 10) == TT_OK, "TL2 right size rejected: %s", tt_last_error());
        CHECK(tt_tensor_wrap(&t, TT_FMT_TL1, 2, 24, 1.f, buf, 13) == TT_E_FORMAT, "TL1 wrong size accepted");
        CHECK(tt_tensor_wrap(&t, TT_FMT_TL1, 2, 24, 1.f, buf, 12) == TT_OK, "TL1 right size rejected");
    }
    TEST_DONE("test_tl_formats");
}
