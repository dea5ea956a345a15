/* tritune: the kernel ABI and the table of kernel variants.
 *
 * One `static const` table (kernels_generated/<arch>/variants_table.c,
 * rendered by codegen/gen.py) holds one row per generated kernel.  The
 * runtime, the bench harness, the tests and the tuner all iterate it;
 * nothing dispatches on kernel names or shapes with if-chains.
 *
 * Kernel contract (every generated kernel and every scalar reference):
 *   y[n * ldy + m] = sum_{k < K} W[m][k] * x[n][k]     (exact int32)
 * for m in [m0, m1), n in [n0, n1).  W is ternary; x is int8.  Shapes are
 * run-time arguments, never part of a symbol.  A kernel writes exactly
 * those outputs and nothing else (the tests check guard bytes). */
#ifndef TT_VARIANT_H
#define TT_VARIANT_H

#include <stddef.h>
#include <stdint.h>

#include "formats/formats.h"
#include "formats/tl.h" /* TL1/TL2 repacks and table builders */
#include "ref/ref.h"   /* the kernel call ABI (tt_kargs) and the scalar references */

#ifdef __cplusplus
extern "C" {
#endif

typedef enum { TT_OP_GEMV = 0, TT_OP_GEMM = 1 } tt_op;
const char *tt_op_name(tt_op op);


/* Load-time repack from the canonical layout of the variant's format into
 * the variant's layout.  Variants that name the same `layout` share one
 * repacked copy of the weights. */
typedef size_t (*tt_repack_bytes_fn)(int M, int K);
typedef tt_status (*tt_repack_fn)(const uint8_t *canon, int M, int K, uint8_t *dst);

/* Per-token activation preparation (lookup tables for TL kernels).
 * act_prep(x, K, Kp, dst, part, nparts) builds share `part` of `nparts`
 * of one token's tables (an even split of its K range), so a GEMV's
 * threads build the single token's tables together instead of one thread
 * building them while the others wait.  part = 0, nparts = 1 builds all. */
typedef size_t (*tt_act_bytes_fn)(int K);
typedef void (*tt_act_prep_fn)(const int8_t *x, int K, int Kp, uint8_t *dst, int part, int nparts);

/* Tile parameters; 0 = not used by this family. */
typedef struct {
    int rows;      /* rows per step sharing activation loads (I2_S)          */
    int kunroll;   /* K blocks per inner iteration                           */
    int accs;      /* independent accumulators per row                       */
    int decode;    /* 2-bit decode: 0 shift+and, 1 in-place mask (I2_S VNNI)  */
    int prefetch;  /* software prefetch distance in bytes ahead, 0 = none    */
    int spread;    /* GEMV: 1 = the rows of a step a rows-th of the range apart */
    int ntok;      /* tokens per register block (GEMM)                       */
    int BM;        /* rows per tile: the unit of thread parallelism (TL)     */
    int BK;        /* K per block (TL)                                       */
    int bm;        /* rows per SIMD compute block (TL)                       */
} tt_tiles;

typedef struct tt_variant {
    const char *name;       /* <op>_<wfmt>_<afmt>_<isa>_<tiles>: C symbol, cache key, row id */
    tt_op op;
    tt_wformat wfmt;
    const char *afmt;       /* activation format: "i8" (or "lut16" ...)              */
    const char *isa;        /* "c", "avx2", "avx512", "avx512vnni", "neon", ...      */
    uint32_t features;      /* TT_FEAT_* required                                    */
    tt_tiles tiles;
    const char *params;     /* "rows=4,ku=2,..." for reports                         */
    /* run-time restrictions (checked by tt_variant_check) */
    int m_align;            /* M % m_align == 0 (1 = any)                            */
    int k_align;            /* K % k_align == 0 (1 = any)                            */
    int min_k, max_k;       /* bounds on K (max_k from int overflow bounds)          */
    int max_n;              /* 1 for GEMV variants, 0 = unbounded                    */
    int row_align;          /* thread row chunks are multiples of this               */
    int prio;               /* generator's prior for untuned use (higher first)      */
    const char *layout;     /* weight layout name; canonical = wformat name          */
    tt_repack_bytes_fn repack_bytes; /* NULL = canonical layout                      */
    tt_repack_fn repack;
    tt_act_bytes_fn act_bytes;       /* NULL = kernel reads x directly                */
    tt_act_prep_fn act_prep;
    tt_kernel_fn fn;
    tt_kernel_fn ref;       /* scalar reference, same signature, canonical layout    */
    const char *ref_name;
} tt_variant;

/* The generated table (kernels_generated/<arch>/variants_table.c). */
extern const tt_variant tt_variants[];
extern const int tt_n_variants;
extern const char tt_generator_hash[]; /* hash of templates + generator   */

/* ---- Queries over the table (seam/variant.c) ---------------------------- */
const tt_variant *tt_variant_find(const char *name);
/* Count / iterate variants whose name matches a shell glob. */
int tt_variant_glob_count(const char *glob);
int tt_variant_runnable(const tt_variant *v, uint32_t cpu_feats);
/* TT_OK or TT_E_SHAPE with the violated restriction named in why. */
tt_status tt_variant_check(const tt_variant *v, int M, int K, int N, char *why, size_t n);
/* The generic (portable C, unrestricted) variant for op and format. */
const tt_variant *tt_variant_generic(tt_op op, tt_wformat fmt);
/* Best runnable variant by the generator's prior (untuned default) whose
 * layout is `layout` (NULL = any) and that accepts the shape. */
const tt_variant *tt_variant_default(tt_op op, tt_wformat fmt, const char *layout, int M, int K, int N,
                                     uint32_t feats);

#ifdef __cplusplus
}
#endif
#endif
