/* tritune: compute probes (the compute roofline of GEMM, as the bandwidth
 * probe is the roofline of GEMV).
 *
 * Each probe runs the ISA's int8 multiply-accumulate instruction on
 * independent accumulators whose operands stay in registers (tiles for
 * AMX), on every thread of the pool at once, and reports the achieved
 * int8 rate in GOPS = 2 x multiply-adds per second (the unit GEMM rows
 * use).  Nothing is read from memory inside the timed loop: this is the
 * peak a kernel could reach, not what one does.  Samples are repeated
 * until min_time and at least 5; the median and spread are returned. */
#ifndef TT_COMPUTE_H
#define TT_COMPUTE_H

#include <stdint.h>

#include "core/pool.h"
#include "core/timing.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    TT_PEAK_AVX2 = 0,   /* vpmaddubsw + vpmaddwd on ymm (u8 x s8 -> int16 -> int32) */
    TT_PEAK_VNNI,       /* vpdpbusd on zmm (AVX-512 VNNI)                           */
    TT_PEAK_AMX,        /* tdpbssd on 16x16 int32 tiles (AMX-INT8)                  */
    TT_PEAK_COUNT
} tt_peak_isa;

const char *tt_peak_name(tt_peak_isa p);          /* "avx2", "vnni", "amx" */
int tt_peak_from_name(const char *s);              /* -1 if unknown        */
/* Features the probe needs (TT_FEAT_*); runnable when present. */
uint32_t tt_peak_features(tt_peak_isa p);
/* The probe whose instruction a kernel of ISA `isa` ("avx512vnni", "amx",
 * ...) runs on, or -1 when there is none (portable C, NEON). */
int tt_peak_for_isa(const char *isa);

/* Median GOPS over the pool's threads (sum of all threads), or a negative
 * value with the error set (TT_E_CPU when the CPU lacks the features). */
double tt_compute_probe(tt_pool *pool, tt_peak_isa p, double min_time_s, tt_stats *st);

/* per-ISA loops (seam/isa/peak_<isa>.c): `iters` iterations, returns the
 * multiply-adds done (and a value that defeats dead-code elimination). */
uint64_t tt_peak_loop_avx2(uint64_t iters, int32_t *sink);
uint64_t tt_peak_loop_avx512vnni(uint64_t iters, int32_t *sink);
uint64_t tt_peak_loop_amx(uint64_t iters, int32_t *sink);

#ifdef __cplusplus
}
#endif
#endif
