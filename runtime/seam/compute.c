#include "seam/compute.h"

#include <stdlib.h>
#include <string.h>

#include "core/common.h"
#include "core/cpu.h"

static const char *const names[TT_PEAK_COUNT] = {"avx2", "vnni", "amx"};

const char *tt_peak_name(tt_peak_isa p) { return (int)p >= 0 && p < TT_PEAK_COUNT ? names[p] : "?"; }

int tt_peak_from_name(const char *s) {
    for (int i = 0; s && i < TT_PEAK_COUNT; i++)
        if (!strcmp(s, names[i])) return i;
    return -1;
}

uint32_t tt_peak_features(tt_peak_isa p) {
    switch (p) {
    case TT_PEAK_AVX2: return TT_FEAT_AVX2;
    case TT_PEAK_VNNI: return TT_FEAT_AVX512F | TT_FEAT_AVX512BW | TT_FEAT_AVX512VNNI;
    case TT_PEAK_AMX: return TT_FEAT_AMXINT8;
    default: return ~0u;
    }
}

int tt_peak_for_isa(const char *isa) {
    if (!isa) return -1;
    if (!strcmp(isa, "amx")) return TT_PEAK_AMX;
    if (!strcmp(isa, "avx512vnni") || !strcmp(isa, "avx512vbmi")) return TT_PEAK_VNNI;
    if (!strcmp(isa, "avx2") || !strcmp(isa, "avx512")) return TT_PEAK_AVX2;
    return -1;
}

typedef uint64_t (*loop_fn)(uint64_t, int32_t *);

static loop_fn loop_of(tt_peak_isa p) {
#if defined(__x86_64__)
    switch (p) {
    case TT_PEAK_AVX2: return tt_peak_loop_avx2;
    case TT_PEAK_VNNI: return tt_peak_loop_avx512vnni;
    case TT_PEAK_AMX: return tt_peak_loop_amx;
    default: return NULL;
    }
#else
    (void)p;
    return NULL;
#endif
}

typedef struct {
    loop_fn fn;
    uint64_t iters;
    uint64_t macs[64];
    int32_t sink[64][16];
} pk_ctx;

static void pk_task(void *c, int tid, int nth) {
    pk_ctx *k = c;
    (void)nth;
    k->macs[tid % 64] = k->fn(k->iters, k->sink[tid % 64]);
}

double tt_compute_probe(tt_pool *pool, tt_peak_isa p, double min_time_s, tt_stats *st) {
    if ((int)p < 0 || p >= TT_PEAK_COUNT) {
        tt_set_error(TT_E_ARG, "compute probe: unknown ISA %d", (int)p);
        return -1.0;
    }
    const uint32_t need = tt_peak_features(p);
    loop_fn fn = loop_of(p);
    if (!fn || (tt_cpu_features() & need) != need) {
        tt_set_error(TT_E_CPU, "compute probe %s: the CPU lacks its features%s%s", tt_peak_name(p),
                     p == TT_PEAK_AMX ? "; AMX: " : "", p == TT_PEAK_AMX ? tt_amx_status() : "");
        return -1.0;
    }
    const int nth = tt_pool_threads(pool);
    pk_ctx *c = tt_alloc(sizeof *c, 64, 0);
    double *gops = malloc(sizeof(double) * 4096);
    if (!c || !gops) {
        tt_free(c);
        free(gops);
        tt_set_error(TT_E_NOMEM, "compute probe: out of memory");
        return -1.0;
    }
    memset(c, 0, sizeof *c);
    c->fn = fn;
    /* size one sample to about 2 ms on this machine, after a warm-up (the
     * first AMX use also wakes the unit up) */
    c->iters = 1024;
    for (;;) {
        uint64_t t0 = tt_now_ns();
        tt_pool_run(pool, pk_task, c);
        double dt = (double)(tt_now_ns() - t0) * 1e-9;
        if (dt > 1e-3 || c->iters > (1ull << 34)) {
            c->iters = (uint64_t)((double)c->iters * 2e-3 / (dt > 0 ? dt : 1e-9)) + 1;
            break;
        }
        c->iters *= 4;
    }
    int n = 0;
    const uint64_t start = tt_now_ns();
    while (n < 4096 && (n < 5 || (double)(tt_now_ns() - start) * 1e-9 < min_time_s)) {
        uint64_t t0 = tt_now_ns();
        tt_pool_run(pool, pk_task, c);
        uint64_t t1 = tt_now_ns();
        uint64_t macs = 0;
        for (int i = 0; i < nth && i < 64; i++) macs += c->macs[i];
        gops[n++] = 2.0 * (double)macs / (double)(t1 - t0);
    }
    tt_stats s = tt_stats_compute(gops, n);
    free(gops);
    tt_free(c);
    if (st) *st = s;
    return s.median;
}
