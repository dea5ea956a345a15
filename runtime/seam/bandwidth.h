/* tritune: read-only memory bandwidth probe (the roofline).
 * Every thread streams its slice of one buffer with wide loads and no
 * software prefetch; GB/s = 1e9 bytes per second of the whole buffer. */
#ifndef TT_BANDWIDTH_H
#define TT_BANDWIDTH_H

#include <stddef.h>

#include "core/pool.h"
#include "core/timing.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Median read GB/s over passes of `bytes` at the pool's thread count
 * (repeated until min_time_s and at least 5 passes; one warm-up pass).
 * Returns a negative value (and sets the error) if the buffer cannot be
 * allocated.  st (may be NULL) receives the per-pass GB/s statistics. */
double tt_bandwidth_probe_pool(tt_pool *pool, size_t bytes, double min_time_s, tt_stats *st);
/* Same with a pinned pool of `threads` created for the call. */
double tt_bandwidth_probe(int threads, size_t bytes, double min_time_s, tt_stats *st);
/* Name of the read loop used ("avx512", "avx2", "c"). */
const char *tt_bandwidth_isa(void);

/* per-ISA read loops (runtime/isa/bw_<isa>.c): return a value to defeat DCE */
uint64_t tt_bw_read_avx512(const void *p, size_t bytes);
uint64_t tt_bw_read_avx2(const void *p, size_t bytes);

#ifdef __cplusplus
}
#endif
#endif
