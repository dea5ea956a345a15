/* tritune: the lookup-table weight formats TL1 and TL2 (docs/background.md §2-3).
 *
 * Canonical layouts (on disk and in tt_tensor), row-major, a fixed number
 * of bytes per row, independent of any kernel tiling:
 *
 * TL1 (2 bpw): weights in pairs (k = 2t, 2t+1) -> index 3*w0 + w1 + 4 in
 *   [0, 8] (4 = both zero).  Byte b of a row holds pair 2b in its low
 *   nibble and pair 2b+1 in its high nibble.  Rows are padded to a multiple
 *   of 4 weights with zero weights (index 4), so row bytes = ceil(K / 4).
 *
 * TL2 (5/3 bpw): weights in triples (k = 3t, 3t+1, 3t+2), t < K / 3.
 *   v = 9*w0 + 3*w1 + w2 in [-13, 13]; the index is |v| in [0, 13] and the
 *   sign bit is v < 0 (mirror symmetry: the table for -v is minus the
 *   table for v).  A zero triple has index 0 and sign 0 ("-0" is invalid).
 *   When K % 3 != 0, the last 1 or 2 weights form a TL1 pair (the missing
 *   second weight is 0) stored in a tail byte.  Row sections:
 *     [ceil(T/2) index bytes: triple 2j low nibble, 2j+1 high nibble]
 *     [ceil(T/8) sign bytes:  triple t at bit t % 8 of byte t / 8]
 *     [1 tail byte if K % 3 != 0: TL1 index in the low nibble, high 0]
 *   with T = K / 3; padding nibbles and bits are 0.  Every K >= 1 works:
 *   K = 1 or 2 is a row of one tail byte.
 *
 * Kernels see both formats as "slots": a slot is a group of 2 (TL1) or 3
 * (TL2, or its 2-weight tail) weights with a 16-entry table of int16
 * partial sums per token, looked up by a 4-bit index (TL2 adds a sign).
 *
 * Activation tables ("lut16", built per token by act_prep): slots in
 * groups of 4; per group 128 bytes = [lo bytes: 4 slots x 16 entries]
 * [hi bytes: 4 slots x 16 entries].  Entry i of slot s is the exact int16
 * e = lo + 256 * (int8)hi, so interleaving the two planes byte-wise gives
 * e back (little endian).  |e| <= 3 * 128 = 384 (TL2) or 2 * 128 = 256
 * (TL1): 16 bits are needed, an int8 table would not be exact.
 *
 * Panel layouts ("tl1p32", "tl2p32", repacked at load time, runtime/
 * repack_tl.c): rows in panels of 32 (M padded with zero weights); per
 * panel, per group of 4 slots:
 *   64 index bytes: slot s at bytes 16s..16s+15, byte r = row r (low
 *      nibble) and row 16 + r (high nibble);
 *   TL2 only, 16 sign bytes: byte 4q + s, bit b = sign of row 8q + b in
 *      slot s, so the signs of 8 consecutive rows of slots s..s+L-1 are
 *      one little-endian word whatever the vector length L (1, 2, 4).
 * The layout depends on no tile parameter: BM/BK/bm are kernel choices.
 *
 * Dot-product panel layouts ("tl1p32d", "tl2p32d", for NEON sdot/udot and
 * AVX-512 VBMI vpermb/vpdpbusd): same panels, groups and sizes, but each
 * 16-byte vector v (rows 8v..8v+7) holds lane 4j + s = slot s of row 8v + j
 * (low nibble) and row 8v + 4 + j (high nibble), so 4 adjacent bytes are
 * the 4 slots of one row and a dot product with ones sums them into that
 * row's int32 lane.  TL2 sign bits: byte lane 16v + 4j + s of the low
 * (high) nibbles is bit 16v + 4j + s of the little-endian 64-bit word at
 * byte 64 (72): one AVX-512 byte mask, or a 16-bit word per NEON vector. */
#ifndef TT_FORMATS_TL_H
#define TT_FORMATS_TL_H

#include <stddef.h>
#include <stdint.h>

#include "formats/formats.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- TL1 canonical ---------------------------------------------------------- */
#define TT_TL1_BLOCK 4        /* weights per byte: 2 pairs, 4 bits each      */
#define TT_TL1_BLOCK_BYTES 1  /* 2 bpw                                       */
_Static_assert(TT_TL1_BLOCK * 2 == TT_TL1_BLOCK_BYTES * 8, "TL1 is 2 bits per weight");

static inline size_t tt_tl1_row_bytes(int K) { return (size_t)TT_CEIL_DIV(K, TT_TL1_BLOCK) * TT_TL1_BLOCK_BYTES; }
size_t tt_tl1_bytes(int M, int K);
tt_status tt_tl1_pack(const int8_t *w, int M, int K, uint8_t *dst);
void tt_tl1_unpack(const uint8_t *src, int M, int K, int8_t *w);
/* TT_E_FORMAT if an index is > 8 or a padding weight is not zero. */
tt_status tt_tl1_validate(const uint8_t *src, int M, int K);

/* ---- TL2 canonical ---------------------------------------------------------- */
/* A full block is 8 triples: 4 index bytes + 1 sign byte = 5 bytes for 24
 * weights, 40 / 24 = 5/3 bpw. */
#define TT_TL2_BLOCK 24
#define TT_TL2_BLOCK_BYTES 5
_Static_assert(TT_TL2_BLOCK / 3 * 4 + TT_TL2_BLOCK / 3 == TT_TL2_BLOCK_BYTES * 8, "TL2 is 5 bits per 3 weights");

static inline size_t tt_tl2_row_bytes(int K) {
    const int T = K / 3;
    return (size_t)(TT_CEIL_DIV(T, 2) + TT_CEIL_DIV(T, 8) + (K % 3 != 0));
}
size_t tt_tl2_bytes(int M, int K);
tt_status tt_tl2_pack(const int8_t *w, int M, int K, uint8_t *dst);
void tt_tl2_unpack(const uint8_t *src, int M, int K, int8_t *w);
/* TT_E_FORMAT if an index is > 13, a zero index carries a sign, the tail
 * index is > 8 or names a missing weight, or padding is not zero. */
tt_status tt_tl2_validate(const uint8_t *src, int M, int K);

/* Decoding helpers shared by the references and the generic kernels. */
static inline int tt_tl2_digit(int idx, int d) { /* balanced-ternary digit d (0 = 9s) of idx in [0,13] */
    const int v = idx + 13;                       /* 0..26: plain base-3 digits in {0,1,2} */
    return (d == 0 ? v / 9 : d == 1 ? v / 3 % 3 : v % 3) - 1;
}

/* Weight digits per table entry i, for vectorized table builders:
 * TL2 e[i] = D0[i]*x0 + D1[i]*x1 + D2[i]*x2 (i = 9*D0 + 3*D1 + D2, 14 and 15 unused);
 * TL1 e[i] = A[i]*x0 + B[i]*x1 (i = 3*A + B + 4, 9..15 unused). */
#define TT_TL2_D0 {0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0}
#define TT_TL2_D1 {0, 0, 1, 1, 1, -1, -1, -1, 0, 0, 0, 1, 1, 1, 0, 0}
#define TT_TL2_D2 {0, 1, -1, 0, 1, -1, 0, 1, -1, 0, 1, -1, 0, 1, 0, 0}
#define TT_TL1_A {-1, -1, -1, 0, 0, 0, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0}
#define TT_TL1_B {-1, 0, 1, -1, 0, 1, -1, 0, 1, 0, 0, 0, 0, 0, 0, 0}

/* ---- Slots and activation tables ("lut16") ------------------------------------- */
#define TT_LUT_GROUP 4            /* slots per group                          */
#define TT_LUT_GROUP_BYTES 128    /* 4 slots x 16 entries x (lo + hi)          */
_Static_assert(TT_LUT_GROUP * 16 * 2 == TT_LUT_GROUP_BYTES, "lut16 group size");

static inline int tt_tl1_slots(int K) { return TT_CEIL_DIV(K, 2); }
static inline int tt_tl2_slots(int K) { return K / 3 + (K % 3 != 0); }
static inline int tt_lut_groups(int slots) { return TT_CEIL_DIV(slots, TT_LUT_GROUP); }

/* act_prep functions: build groups [g0, g1) of one token's tables, where
 * part/nparts selects an even share of the groups (so the threads of a
 * GEMV each build a K-range of the single token's tables).  x is one
 * token's int8 row, zero-padded to Kp. */
size_t tt_lut_tl1_bytes(int K);
size_t tt_lut_tl2_bytes(int K);
void tt_lut_tl1(const int8_t *x, int K, int Kp, uint8_t *dst, int part, int nparts);
void tt_lut_tl2(const int8_t *x, int K, int Kp, uint8_t *dst, int part, int nparts);
/* Portable builders of groups [g0, g1), group g written at out + (g - g0)
 * * 128; per-ISA builders (runtime/isa/lut_<isa>.c) vectorize the groups of
 * whole slots (TL1: g < K/8, TL2: g < (K/3)/4) and leave the last, partial
 * groups to these. */
void tt_lut_tl1_range(const int8_t *x, int K, uint8_t *out, int g0, int g1);
void tt_lut_tl2_range(const int8_t *x, int K, uint8_t *out, int g0, int g1);
#define TT_LUT_ISA_DECL(isa)                                                                  \
    void tt_lut_tl1_##isa(const int8_t *x, int K, int Kp, uint8_t *dst, int part, int nparts); \
    void tt_lut_tl2_##isa(const int8_t *x, int K, int Kp, uint8_t *dst, int part, int nparts); \
    size_t tt_lut_tl1_##isa##_bytes(int K);                                                   \
    size_t tt_lut_tl2_##isa##_bytes(int K);
TT_LUT_ISA_DECL(avx2)
TT_LUT_ISA_DECL(avx512)
TT_LUT_ISA_DECL(neon)
/* "lut16s" (TL2 on AVX-512 VBMI): per group 256 bytes = [lo of +e][lo of -e]
 * [hi of +e][hi of -e], 4 slots x 16 entries each, so a 7-bit vpermi2b
 * index (sign << 6 | slot << 4 | magnitude) looks up the signed entry. */
size_t tt_lut_tl2s_avx512vbmi_bytes(int K);
void tt_lut_tl2s_avx512vbmi(const int8_t *x, int K, int Kp, uint8_t *dst, int part, int nparts);
/* "lut16d" (TL2 on AVX-512 VBMI): per group 128 bytes = [L][H], 4 slots x
 * 16 entries each, unsigned bytes with e = 2L - 3H (every |e| <= 384 has
 * such a pair: 2 * 255 >= 384 and 3 * 255 >= 384, gcd(2, 3) = 1).  A
 * kernel looks both planes up with a one-table vpermb (6-bit index slot <<
 * 4 | magnitude) and sums sign * L and sign * H with vpdpbusd (unsigned
 * table byte x signed +-1): no negated planes, no two-table lookup. */
size_t tt_lut_tl2d_avx512vbmi_bytes(int K);
void tt_lut_tl2d_avx512vbmi(const int8_t *x, int K, int Kp, uint8_t *dst, int part, int nparts);
static inline void tt_lut_share(int groups, int part, int nparts, int *g0, int *g1) {
    *g0 = (int)((long)groups * part / nparts);
    *g1 = (int)((long)groups * (part + 1) / nparts);
}

/* ---- Panel layouts (repack_tl.c) --------------------------------------------------- */
#define TT_TL_PANEL 32              /* rows per panel                          */
#define TT_TL1P_GROUP_BYTES 64      /* 4 slots x 32 rows x 4 bits: 2 bpw        */
#define TT_TL2P_GROUP_BYTES 80      /* + 4 x 32 sign bits: 640 bits / 384 w     */
_Static_assert(TT_TL1P_GROUP_BYTES * 8 == TT_LUT_GROUP * TT_TL_PANEL * 4, "tl1p32 group size");
_Static_assert(TT_TL2P_GROUP_BYTES * 8 == TT_LUT_GROUP * TT_TL_PANEL * 5, "tl2p32 group size");

size_t tt_repack_tl1p32_bytes(int M, int K);
tt_status tt_repack_tl1p32(const uint8_t *canon, int M, int K, uint8_t *dst);
size_t tt_repack_tl2p32_bytes(int M, int K);
tt_status tt_repack_tl2p32(const uint8_t *canon, int M, int K, uint8_t *dst);
size_t tt_repack_tl1p32d_bytes(int M, int K);
tt_status tt_repack_tl1p32d(const uint8_t *canon, int M, int K, uint8_t *dst);
size_t tt_repack_tl2p32d_bytes(int M, int K);
tt_status tt_repack_tl2p32d(const uint8_t *canon, int M, int K, uint8_t *dst);
/* inverses, for tests */
void tt_unpack_tl1p32(const uint8_t *src, int M, int K, int8_t *w);
void tt_unpack_tl2p32(const uint8_t *src, int M, int K, int8_t *w);
void tt_unpack_tl1p32d(const uint8_t *src, int M, int K, int8_t *w);
void tt_unpack_tl2p32d(const uint8_t *src, int M, int K, int8_t *w);

#ifdef __cplusplus
}
#endif
#endif
