#include "seam/bandwidth.h"

#include <stdlib.h>
#include <string.h>

#include "core/common.h"
#include "core/cpu.h"

static uint64_t read_c(const void *p, size_t bytes) {
    const uint64_t *q = p;
    uint64_t a0 = 0, a1 = 0, a2 = 0, a3 = 0;
    for (size_t i = 0; i + 4 <= bytes / 8; i += 4) a0 ^= q[i], a1 ^= q[i + 1], a2 ^= q[i + 2], a3 ^= q[i + 3];
    return a0 ^ a1 ^ a2 ^ a3;
}

static uint64_t read_c_pf(const void *p, size_t bytes) {
    const uint64_t *q = p;
    uint64_t a0 = 0, a1 = 0, a2 = 0, a3 = 0;
    for (size_t i = 0; i + 8 <= bytes / 8; i += 8) {
        __builtin_prefetch((const char *)(q + i) + TT_BW_PREFETCH);
        a0 ^= q[i] ^ q[i + 4], a1 ^= q[i + 1] ^ q[i + 5], a2 ^= q[i + 2] ^ q[i + 6], a3 ^= q[i + 3] ^ q[i + 7];
    }
    return a0 ^ a1 ^ a2 ^ a3;
}

static inline uint64_t c_streams(const void *p, size_t bytes, int pf) {
    const uint64_t *q = p;
    const size_t part = bytes / 8 / TT_BW_STREAMS / 8 * 8;
    uint64_t a[TT_BW_STREAMS] = {0};
    for (size_t i = 0; i + 8 <= part; i += 8)
        for (int s = 0; s < TT_BW_STREAMS; s++) {
            const uint64_t *r = q + (size_t)s * part + i;
            if (pf) __builtin_prefetch((const char *)r + TT_BW_STREAM_PREFETCH);
            a[s] ^= r[0] ^ r[1] ^ r[2] ^ r[3] ^ r[4] ^ r[5] ^ r[6] ^ r[7];
        }
    uint64_t x = 0;
    for (int s = 0; s < TT_BW_STREAMS; s++) x ^= a[s];
    return x;
}
static uint64_t read_c_streams(const void *p, size_t bytes) { return c_streams(p, bytes, 0); }
static uint64_t read_c_streams_pf(const void *p, size_t bytes) { return c_streams(p, bytes, 1); }

typedef uint64_t (*read_fn)(const void *, size_t);

#define TT_BW_NAME(s) #s,
static const char *const strategy_names[TT_BW_NSTRATEGIES] = {TT_BW_STRATEGIES(TT_BW_NAME)};
#undef TT_BW_NAME

/* the read loops of the best ISA, one per strategy */
static const char *pick(read_fn fn[TT_BW_NSTRATEGIES]) {
    uint32_t f = tt_cpu_features();
#if defined(__x86_64__)
    if (f & TT_FEAT_AVX512F) {
        fn[0] = tt_bw_read_avx512, fn[1] = tt_bw_read_avx512_pf, fn[2] = tt_bw_read_avx512_streams;
        fn[3] = tt_bw_read_avx512_streams_pf;
        return "avx512";
    }
    if (f & TT_FEAT_AVX2) {
        fn[0] = tt_bw_read_avx2, fn[1] = tt_bw_read_avx2_pf, fn[2] = tt_bw_read_avx2_streams;
        fn[3] = tt_bw_read_avx2_streams_pf;
        return "avx2";
    }
#endif
    (void)f;
    fn[0] = read_c, fn[1] = read_c_pf, fn[2] = read_c_streams, fn[3] = read_c_streams_pf;
    return "c";
}

const char *tt_bandwidth_isa(void) {
    read_fn fn[TT_BW_NSTRATEGIES];
    return pick(fn);
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

int tt_bw_buffer_init(tt_bw_buffer *b, size_t bytes) {
    b->bytes = TT_ROUND_UP(bytes, 4096);
    b->buf = tt_alloc(b->bytes, 4096, 1);
    if (!b->buf) {
        tt_set_error(TT_E_NOMEM, "bandwidth probe: cannot allocate %zu MiB", b->bytes >> 20);
        return -1;
    }
    memset(b->buf, 1, b->bytes); /* fault every page in before timing */
    return 0;
}

void tt_bw_buffer_free(tt_bw_buffer *b) {
    tt_free(b->buf);
    memset(b, 0, sizeof *b);
}

/* median GB/s of one strategy (after a warm-up pass when `warm`); -1 when out of memory */
static double probe_one(const tt_bw_buffer *b, tt_pool *pool, read_fn fn, double min_time_s, int warm, tt_stats *st) {
    bw_ctx c = {.buf = b->buf, .bytes = b->bytes, .fn = fn};
    if (warm) tt_pool_run(pool, bw_task, &c); /* warm-up pass */
    enum { MAXS = 4096 };
    double *gbps = malloc(sizeof(double) * MAXS);
    if (!gbps) {
        tt_set_error(TT_E_NOMEM, "bandwidth probe: out of memory");
        return -1.0;
    }
    int n = 0;
    uint64_t t_start = tt_now_ns();
    while (n < MAXS && (n < 2 || (double)(tt_now_ns() - t_start) * 1e-9 < min_time_s)) {
        uint64_t t0 = tt_now_ns();
        tt_pool_run(pool, bw_task, &c);
        uint64_t t1 = tt_now_ns();
        gbps[n++] = (double)b->bytes / (double)(t1 - t0);
    }
    *st = tt_stats_compute(gbps, n);
    free(gbps);
    return st->median;
}

double tt_bw_buffer_probe_each(const tt_bw_buffer *b, tt_pool *pool, double min_time_s, tt_stats *st,
                               const char **strategy, double *each) {
    read_fn fn[TT_BW_NSTRATEGIES];
    pick(fn);
    tt_stats best = {0}, s;
    int bi = 0;
    for (int i = 0; i < TT_BW_NSTRATEGIES; i++) {
        if (probe_one(b, pool, fn[i], min_time_s / TT_BW_NSTRATEGIES, i == 0, &s) < 0) return -1.0;
        if (each) each[i] = s.median;
        if (s.median > best.median) best = s, bi = i;
    }
    if (st) *st = best;
    if (strategy) *strategy = strategy_names[bi];
    return best.median;
}

double tt_bw_buffer_probe(const tt_bw_buffer *b, tt_pool *pool, double min_time_s, tt_stats *st,
                          const char **strategy) {
    return tt_bw_buffer_probe_each(b, pool, min_time_s, st, strategy, NULL);
}

double tt_bandwidth_probe_pool(tt_pool *pool, size_t bytes, double min_time_s, tt_stats *st) {
    tt_bw_buffer b;
    if (tt_bw_buffer_init(&b, bytes) < 0) return -1.0;
    double r = tt_bw_buffer_probe(&b, pool, min_time_s, st, NULL);
    tt_bw_buffer_free(&b);
    return r;
}

double tt_bandwidth_probe(int threads, size_t bytes, double min_time_s, tt_stats *st) {
    tt_pool *p = tt_pool_create(threads, 1);
    if (!p) return -1.0;
    double r = tt_bandwidth_probe_pool(p, bytes, min_time_s, st);
    tt_pool_destroy(p);
    return r;
}
