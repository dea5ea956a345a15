#include "seam/bandwidth.h"

#include <stdlib.h>
#include <string.h>

#include "core/cpu.h"
#include "core/common.h"

static uint64_t read_c(const void *p, size_t bytes) {
    const uint64_t *q = p;
    uint64_t a0 = 0, a1 = 0, a2 = 0, a3 = 0;
    for (size_t i = 0; i + 4 <= bytes / 8; i += 4) a0 ^= q[i], a1 ^= q[i + 1], a2 ^= q[i + 2], a3 ^= q[i + 3];
    return a0 ^ a1 ^ a2 ^ a3;
}

typedef uint64_t (*read_fn)(const void *, size_t);

static read_fn pick(const char **name) {
    uint32_t f = tt_cpu_features();
#if defined(__x86_64__)
    if (f & TT_FEAT_AVX512F) return *name = "avx512", tt_bw_read_avx512;
    if (f & TT_FEAT_AVX2) return *name = "avx2", tt_bw_read_avx2;
#endif
    (void)f;
    return *name = "c", read_c;
}

const char *tt_bandwidth_isa(void) {
    const char *n;
    pick(&n);
    return n;
}

typedef struct {
    const char *buf;
    size_t bytes;
    read_fn fn;
    volatile uint64_t sink[64];
} bw_ctx;

static void bw_task(void *c, int tid, int nth) {
    bw_ctx *b = c;
    size_t chunk = TT_ROUND_UP(b->bytes / (size_t)nth, 4096);
    size_t lo = chunk * (size_t)tid, hi = TT_MIN(b->bytes, lo + chunk);
    if (lo < hi) b->sink[tid % 64] = b->fn(b->buf + lo, hi - lo);
}

double tt_bandwidth_probe_pool(tt_pool *pool, size_t bytes, double min_time_s, tt_stats *st) {
    bytes = TT_ROUND_UP(bytes, 4096);
    char *buf = tt_alloc(bytes, 4096, 1);
    if (!buf) return -1.0;
    memset(buf, 1, bytes); /* fault every page in before timing */
    const char *isa;
    bw_ctx c = {.buf = buf, .bytes = bytes, .fn = pick(&isa)};
    tt_pool_run(pool, bw_task, &c); /* warm-up pass */
    enum { MAXS = 4096 };
    double *gbps = malloc(sizeof(double) * MAXS);
    if (!gbps) {
        tt_free(buf);
        tt_set_error(TT_E_NOMEM, "bandwidth probe: out of memory");
        return -1.0;
    }
    int n = 0;
    uint64_t t_start = tt_now_ns();
    while (n < MAXS && (n < 5 || (double)(tt_now_ns() - t_start) * 1e-9 < min_time_s)) {
        uint64_t t0 = tt_now_ns();
        tt_pool_run(pool, bw_task, &c);
        uint64_t t1 = tt_now_ns();
        gbps[n++] = (double)bytes / (double)(t1 - t0);
    }
    tt_free(buf);
    tt_stats s = tt_stats_compute(gbps, n);
    free(gbps);
    if (st) *st = s;
    return s.median;
}

double tt_bandwidth_probe(int threads, size_t bytes, double min_time_s, tt_stats *st) {
    tt_pool *p = tt_pool_create(threads, 1);
    if (!p) return -1.0;
    double r = tt_bandwidth_probe_pool(p, bytes, min_time_s, st);
    tt_pool_destroy(p);
    return r;
}
