/* tritune: read-only memory bandwidth probe (the roofline).
 * Every thread streams its slice of one buffer; GB/s = 1e9 bytes per second
 * of the whole buffer.  A kernel that prefetches or reads several rows at
 * once can beat one plain load stream, so the probe reads with several
 * strategies (plain wide loads; the same with software prefetch
 * TT_BW_PREFETCH bytes ahead; TT_BW_STREAMS interleaved streams per thread;
 * the streams each prefetched TT_BW_STREAM_PREFETCH bytes ahead) and
 * reports the best strategy's median.  The last one matters: on the
 * 2-core AVX-512 VMs of docs/decode.md it reads 8-12% faster than any of
 * the other three, and GEMV kernels that read four row streams far apart
 * (>= 30 KiB) with prefetch reach it, so a probe without it understated the
 * roofline (kernels above 100%). */
#ifndef TT_BANDWIDTH_H
#define TT_BANDWIDTH_H

#include <stddef.h>

#include "core/pool.h"
#include "core/timing.h"

#ifdef __cplusplus
extern "C" {
#endif

#define TT_BW_PREFETCH 2048
#define TT_BW_STREAMS 4
#define TT_BW_STREAM_PREFETCH 512
#define TT_BW_NSTRATEGIES 4
/* The strategies in probe order: X(name) for each (bench bandwidth names a
 * row's fields gbps_<name> after them). */
#define TT_BW_STRATEGIES(X) X(plain) X(prefetch) X(streams) X(streams_pf)

/* A probe buffer, allocated and faulted in once, probed many times (the
 * tuner probes between the candidates of each key). */
typedef struct {
    char *buf;
    size_t bytes;
} tt_bw_buffer;

/* 0, or -1 (error set) if `bytes` cannot be allocated. */
int tt_bw_buffer_init(tt_bw_buffer *b, size_t bytes);
void tt_bw_buffer_free(tt_bw_buffer *b);
/* Best median read GB/s over the strategies at the pool's thread count;
 * one warm-up pass, then each strategy reads passes until min_time_s /
 * TT_BW_NSTRATEGIES (at least 2).  st (may be NULL) receives the winning
 * strategy's per-pass statistics, strategy (may be NULL) its name. */
double tt_bw_buffer_probe(const tt_bw_buffer *b, tt_pool *pool, double min_time_s, tt_stats *st, const char **strategy);
/* The same, with each strategy's median GB/s in each[TT_BW_NSTRATEGIES]
 * (may be NULL), in TT_BW_STRATEGIES order. */
double tt_bw_buffer_probe_each(const tt_bw_buffer *b, tt_pool *pool, double min_time_s, tt_stats *st,
                               const char **strategy, double *each);

/* One-shot forms: a buffer of `bytes` for the call.  Negative (error set)
 * if it cannot be allocated. */
double tt_bandwidth_probe_pool(tt_pool *pool, size_t bytes, double min_time_s, tt_stats *st);
/* Same with a pinned pool of `threads` created for the call. */
double tt_bandwidth_probe(int threads, size_t bytes, double min_time_s, tt_stats *st);
/* Name of the read loops' ISA ("avx512", "avx2", "c"). */
const char *tt_bandwidth_isa(void);

/* per-ISA read loops (runtime/isa/bw_<isa>.c): return a value to defeat DCE;
 * _pf prefetches, _streams reads TT_BW_STREAMS parts side by side, _streams_pf both */
uint64_t tt_bw_read_avx512(const void *p, size_t bytes);
uint64_t tt_bw_read_avx512_pf(const void *p, size_t bytes);
uint64_t tt_bw_read_avx512_streams(const void *p, size_t bytes);
uint64_t tt_bw_read_avx512_streams_pf(const void *p, size_t bytes);
uint64_t tt_bw_read_avx2(const void *p, size_t bytes);
uint64_t tt_bw_read_avx2_pf(const void *p, size_t bytes);
uint64_t tt_bw_read_avx2_streams(const void *p, size_t bytes);
uint64_t tt_bw_read_avx2_streams_pf(const void *p, size_t bytes);

#ifdef __cplusplus
}
#endif
#endif
