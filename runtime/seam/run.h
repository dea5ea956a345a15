/* tritune: the case runner.  Every kernel call of the project goes through
 * here: the decoder's BitLinear (tt_linear_forward), `bench kernel` and the
 * verifier.
 *
 * A case is one problem ready for a variant: its weights in the variant's
 * layout (repacked by the case, or borrowed), its activations, the
 * variant's activation tables (TL kernels) and the int32 output.  It runs
 * in three steps, which the verifier also takes one by one:
 *   1. tt_case_init: check the variant can run the shape here, size the
 *      tables in the workspace;
 *   2. tt_case_prep / tt_case_prep_token: build the tables, a share of
 *      each token's K range at a time (as the pool's threads do);
 *   3. tt_case_call on one [m0,m1) x [n0,n1) block, or tt_case_run: 2 and
 *      3 over the pool's threads (rows split, or tokens for a GEMM with too
 *      few rows), tables built before any row reads them.
 * Invariant: a case that tt_case_init accepted can be run; none of the
 * later steps fails. */
#ifndef TT_RUN_H
#define TT_RUN_H

#include "core/pool.h"
#include "formats/formats.h"
#include "seam/formats_table.h"
#include "seam/variant.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Where one thread of tt_case_run spent its time (the decoder's profile):
 * building activation tables, waiting at the barrier after them, and in
 * the kernel with its epilogue.  Added to, never reset, by the runner. */
typedef struct {
    uint64_t prep_ns, barrier_ns, kernel_ns;
    uint64_t pad_[5]; /* one cache line per thread */
} tt_case_times;

/* Scratch for prepared activations and accumulators; grown on demand,
 * reused across calls (one per thread of the caller; zero-initialise). */
typedef struct {
    uint8_t *act;       /* prepared activations (TL tables)  */
    size_t act_cap;
    int32_t *acc;       /* N x M int32 dot products          */
    size_t acc_cap;
    tt_case_times *times; /* NULL, or one per pool thread: tt_case_run adds its times (not owned) */
} tt_workspace;
void tt_workspace_free(tt_workspace *ws);
/* ws->acc with room for n int32 (NULL and TT_E_NOMEM recorded if not). */
int32_t *tt_workspace_acc(tt_workspace *ws, size_t n);

/* Bytes of an M x K matrix in v's layout (its repack's size, or the
 * canonical format's). */
size_t tt_layout_bytes(const tt_variant *v, int M, int K);
/* Canonical weights into v's layout at dst (tt_layout_bytes bytes):
 * v's repack, or a copy when v reads the canonical layout. */
tt_status tt_layout_pack(const tt_variant *v, const uint8_t *canon, int M, int K, uint8_t *dst);

typedef struct {
    const tt_variant *v;
    tt_kargs a;          /* the kernel's arguments; a.w set by tt_case_repack / tt_case_weights */
    const tt_qact *x;
    uint8_t *act;        /* = a.act: N tables of a.act_stride bytes in the workspace, or NULL */
    uint8_t *w_own;      /* weights repacked by tt_case_repack, or NULL                        */
    /* optional fp32 epilogue, applied by each call to its own block:
     * yf[n * ldyf + m] = y[n * ldy + m] * sw / x->scale[n] (yf NULL = none) */
    float *yf;
    int ldyf;
    float sw;
    tt_case_times *times; /* the workspace's, or NULL: no timing */
} tt_case;

/* v on M rows and x's N tokens (K = x->K), int32 outputs at y[n * ldy + m].
 * TT_E_SHAPE naming the restriction, TT_E_CPU when v cannot run here,
 * TT_E_ARG when v needs tables and ws is NULL, TT_E_NOMEM.  Weights are
 * still unset: give them with tt_case_repack or tt_case_weights. */
tt_status tt_case_init(tt_case *c, const tt_variant *v, int M, const tt_qact *x, int32_t *y, int ldy,
                       tt_workspace *ws);
/* Weights from the canonical layout: repacked into a buffer the case owns,
 * or borrowed as they are when v reads the canonical layout (canon must
 * then outlive the case). */
tt_status tt_case_repack(tt_case *c, const uint8_t *canon);
/* Weights already in v's layout (borrowed).  May change between runs:
 * `bench kernel` rotates through copies of one matrix. */
void tt_case_weights(tt_case *c, const uint8_t *w);
/* Share `part` of `nparts` of token n's tables (nothing when v has none). */
void tt_case_prep_token(const tt_case *c, int n, int part, int nparts);
/* Thread tid of nth's share of every token's tables: whole tokens when
 * there are at least as many tokens as threads, else its share of each. */
void tt_case_prep(const tt_case *c, int tid, int nth);
/* The kernel on one block (tables must be ready), then the epilogue. */
void tt_case_call(const tt_case *c, int m0, int m1, int n0, int n1);
/* Tables and kernel over the pool's threads (pool may be NULL: this thread). */
void tt_case_run(const tt_case *c, tt_pool *pool);
/* Several cases of one token (N = 1) on the same activations in one pool
 * dispatch: the tables of the first (all must have the same table
 * builder, sharing c[0].act) built once, one barrier, then every thread
 * runs its share of the rows of each case in turn. */
void tt_case_run_many(const tt_case *c, int n, tt_pool *pool);
/* Frees what the case owns (repacked weights); the workspace stays. */
void tt_case_free(tt_case *c);

/* y[m] = acc[m] * s, n values (seam/isa/epi_avx512.c; x86-64 with AVX-512F) */
void tt_epilogue_row_avx512(float *y, const int32_t *acc, int n, float s);

#ifdef __cplusplus
}
#endif
#endif
