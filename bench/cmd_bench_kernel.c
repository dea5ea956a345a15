/* tritune bench kernel: variants x shapes x batch x threads, warm or streaming.
 *
 * Method (google/benchmark style, one record per measurement):
 *  - each variant is verified first: the standard verify suite plus the
 *    measured shape against the scalar reference; a variant that fails is
 *    a row with status "verify_failed" and is never timed;
 *  - warm: the same weights every call (cache-resident when they fit);
 *    streaming: calls rotate through copies of the weights totalling
 *    --stream-mib (default 1 GiB, larger than any LLC we have seen) so
 *    weights come from DRAM as in real decode;
 *  - warm-up calls are discarded; samples are batches of calls lasting at
 *    least ~200 us, taken until --min-time and at least 10 samples; the
 *    median per-call time is reported with p25/p75 and the coefficient of
 *    variation; `stable` is tt_stats_stable (core/timing.h): the
 *    interquartile range is at most 5% of the median;
 *  - bw_gbps is the read-bandwidth probe at the same thread count in the
 *    same run (1 GiB for streaming; the weights' size for warm), and
 *    bw_fraction = gbps / bw_gbps;
 *  - GEMM rows carry the compute roofline too: peak_gops, the peak int8
 *    rate of their ISA's instruction (bench compute) probed at the same
 *    thread count in the same run, and peak_fraction = gops / peak_gops. */
#define _GNU_SOURCE
#include <fnmatch.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "meter.h"
#include "core/rng.h"
#include "core/timing.h"
#include "seam/bandwidth.h"
#include "seam/compute.h"
#include "seam/dispatch.h"
#include "seam/verify.h"

#define MAXL 32

typedef struct {
    const char *glob;
    int fmt;          /* -1 = any */
    const char *op;   /* "gemv", "gemm", or NULL = by batch */
    int nshape, M[MAXL], K[MAXL];
    int nbatch, batch[MAXL];
    int nthr, thr[MAXL];
    int ncache, cache[2]; /* 0 warm, 1 streaming */
    double min_time;
    size_t stream_bytes;
    int pin, progress, huge;
    uint64_t seed;
    int passes;        /* interleaved passes over the variants of each key        */
    int samples;       /* raw per-sample times in the rows                        */
    int serve;         /* --stdin: requests from standard input                   */
    double probe_time; /* seconds per bandwidth probe                             */
    int min_samples;   /* at least this many samples per measurement (default 10) */
} bench_opts;

static const char *const cache_names[2] = {"warm", "streaming"};

/* ---- per-variant verification memo -------------------------------------------- */
static signed char *verify_memo; /* 0 unknown, 1 pass, -1 fail */
static char **verify_why;

static int verify_cached(const tt_variant *v, uint64_t seed) {
    int i = (int)(v - tt_variants);
    if (!verify_memo) {
        verify_memo = calloc((size_t)tt_n_variants, 1);
        verify_why = calloc((size_t)tt_n_variants, sizeof *verify_why);
    }
    if (!verify_memo[i]) {
        tt_verify_result r;
        tt_status st = tt_verify_variant(v, seed, 0, &r);
        verify_memo[i] = st == TT_OK ? 1 : -1;
        if (st != TT_OK) verify_why[i] = strdup(r.first[0] ? r.first : tt_last_error());
    }
    return verify_memo[i];
}

/* ---- one shape's state -------------------------------------------------------------- */
/* copies of the weights in one layout */
typedef struct {
    const char *layout;
    uint8_t *copies;
    size_t stride, wbytes;
    int ncopies;
    unsigned long used; /* last use, for eviction */
} layout_slot;

/* A race interleaves variants of different layouts: keep the copies of a
 * few layouts instead of repacking a GiB at every switch. */
#define NSLOTS 3

typedef struct {
    int fmt, M, K, N;
    int8_t *w;          /* M x K ternary                                  */
    tt_tensor W;        /* canonical                                      */
    tt_qact x;          /* N tokens of random int8                        */
    int32_t *yref;      /* N x M reference                                */
    int32_t *y;         /* N x M                                          */
    layout_slot slot[NSLOTS];
    unsigned long tick;
} shape_state;

static void slot_free(layout_slot *l) {
    tt_free(l->copies);
    memset(l, 0, sizeof *l);
}

static void shape_free(shape_state *s) {
    free(s->w);
    tt_tensor_free(&s->W);
    tt_qact_free(&s->x);
    tt_free(s->yref);
    tt_free(s->y);
    for (int i = 0; i < NSLOTS; i++) slot_free(&s->slot[i]);
    memset(s, 0, sizeof *s);
}

static tt_status shape_init(shape_state *s, int fmt, int M, int K, int N, uint64_t seed) {
    memset(s, 0, sizeof *s);
    s->fmt = fmt, s->M = M, s->K = K, s->N = N;
    s->w = malloc((size_t)M * K);
    int8_t *xq = malloc((size_t)N * K);
    if (!s->w || !xq) {
        free(xq);
        return tt_set_error(TT_E_NOMEM, "cannot allocate a %dx%d test matrix", M, K);
    }
    uint64_t r = seed * 0x100000001B3ull + (uint64_t)M * 31 + (uint64_t)K;
    for (size_t i = 0; i < (size_t)M * K; i++) s->w[i] = (int8_t)((int)(tt_splitmix64(&r) % 3) - 1);
    for (size_t i = 0; i < (size_t)N * K; i++) xq[i] = (int8_t)(tt_splitmix64(&r) & 0xFF);
    tt_status st = tt_tensor_from_ternary(&s->W, (tt_wformat)fmt, s->w, M, K, 1.0f);
    if (st == TT_OK) st = tt_qact_alloc(&s->x, N, K);
    if (st == TT_OK) st = tt_qact_set_int(&s->x, xq, N);
    free(xq);
    if (st != TT_OK) return st;
    s->yref = tt_alloc(sizeof(int32_t) * (size_t)M * N, 64, 0);
    s->y = tt_alloc(sizeof(int32_t) * (size_t)M * N, 64, 0);
    if (!s->yref || !s->y) return TT_E_NOMEM;
    /* the reference answer for this shape */
    tt_kargs ar = {.w = s->W.data, .M = M, .K = K, .Kp = s->x.Kp, .x = s->x.q, .xsum = s->x.sum, .N = N, .y = s->yref,
                   .ldy = M};
    const tt_variant *gen = tt_variant_generic(N == 1 ? TT_OP_GEMV : TT_OP_GEMM, (tt_wformat)fmt);
    (gen ? gen->ref : tt_ref_i2s_gemm)(&ar, 0, M, 0, N);
    return TT_OK;
}

/* Copies of the weights in v's layout: a kept slot, or a new one (evicting
 * the least recently used).  NULL with the error set when out of memory. */
static layout_slot *shape_layout(shape_state *s, const tt_variant *v, int streaming, size_t stream_bytes, int huge) {
    int want = 1;
    size_t wbytes = tt_layout_bytes(v, s->M, s->K);
    size_t stride = TT_ROUND_UP(wbytes, 4096);
    if (streaming) want = (int)TT_MAX(2, TT_CEIL_DIV(stream_bytes, stride));
    layout_slot *l = &s->slot[0];
    for (int i = 0; i < NSLOTS; i++) {
        layout_slot *c = &s->slot[i];
        if (c->copies && strcmp(c->layout, v->layout) == 0 && c->ncopies == want) {
            c->used = ++s->tick;
            return c;
        }
        if (c->used < l->used) l = c;
    }
    slot_free(l);
    l->copies = tt_alloc(stride * (size_t)want, 4096, huge);
    if (!l->copies) {
        tt_set_error(TT_E_NOMEM, "cannot allocate %d copies of %zu bytes for streaming (lower --stream-mib)", want,
                     stride);
        return NULL;
    }
    /* Copy 0 holds the weights the reference checks.  Every other copy holds
     * the same rows in another order (rotated in the canonical layout, whose
     * rows have a fixed size, then repacked), so no two copies share page
     * contents: byte-identical copies could be served by page deduplication
     * or compression below us and read faster than DRAM. */
    const size_t crb = s->W.bytes / (size_t)s->M;
    uint8_t *rot = want > 1 ? malloc(s->W.bytes) : NULL;
    tt_status st = want > 1 && !rot ? tt_set_error(TT_E_NOMEM, "cannot allocate a rotated copy of the weights") : TT_OK;
    for (int c = 0; c < want && st == TT_OK; c++) {
        const uint8_t *src = s->W.data;
        const size_t r = s->M > 1 ? ((size_t)c * 977u) % (size_t)s->M : 0;
        if (r) {
            memcpy(rot, s->W.data + r * crb, ((size_t)s->M - r) * crb);
            memcpy(rot + ((size_t)s->M - r) * crb, s->W.data, r * crb);
            src = rot;
        }
        st = tt_layout_pack(v, src, s->M, s->K, l->copies + (size_t)c * stride);
    }
    free(rot);
    if (st != TT_OK) {
        slot_free(l);
        return NULL;
    }
    l->layout = v->layout;
    l->ncopies = want;
    l->stride = stride;
    l->wbytes = wbytes;
    l->used = ++s->tick;
    return l;
}

typedef struct {
    const char *status; /* ok, verify_failed, shape_rejected, not_runnable, error */
    char note[512];
    tt_stats st;        /* per-call ns */
    long reps;
    int verified;
    int *sample_ns;     /* the raw per-call times of each sample (--samples), n = st.n */
    tt_meter_phase ph;  /* energy and counters over the timed calls */
} result;

static void measure(const tt_variant *v, shape_state *s, const layout_slot *l, int streaming, tt_pool *pool,
                    tt_workspace *ws, const bench_opts *o, tt_meter *meter, result *res) {
    tt_case cs;
    tt_status st = tt_case_init(&cs, v, s->M, &s->x, s->y, s->M, ws);
    if (st != TT_OK) {
        res->status = "error";
        snprintf(res->note, sizeof res->note, "%s", tt_last_error());
        return;
    }
    /* correctness on the measured shape, first copy */
    tt_case_weights(&cs, l->copies);
    memset(s->y, 0xA5, sizeof(int32_t) * (size_t)s->M * s->N);
    tt_case_run(&cs, pool);
    if (memcmp(s->y, s->yref, sizeof(int32_t) * (size_t)s->M * s->N) != 0) {
        res->status = "verify_failed";
        snprintf(res->note, sizeof res->note, "differs from the reference on the measured shape");
        tt_case_free(&cs);
        return;
    }
    res->verified = 1;
    int c = 0;
    /* warm-up, discarded: a few calls, and in streaming mode up to one pass
     * over the copies or min-time (5 to 50 ms), whichever comes first (pages
     * are already faulted in by the copies' memcpy) */
    const int warm = streaming ? l->ncopies : 5;
    const uint64_t w0 = tt_now_ns(), wmax = (uint64_t)(TT_MIN(0.05, TT_MAX(0.005, o->min_time)) * 1e9);
    for (int i = 0; i < warm && (i < 3 || tt_now_ns() - w0 < wmax); i++) {
        tt_case_weights(&cs, l->copies + (size_t)(c++ % l->ncopies) * l->stride);
        tt_case_run(&cs, pool);
    }
    /* calls per sample: aim for >= 200 us per sample */
    uint64_t t0 = tt_now_ns();
    tt_case_weights(&cs, l->copies + (size_t)(c++ % l->ncopies) * l->stride);
    tt_case_run(&cs, pool);
    double one = (double)(tt_now_ns() - t0);
    int batch = one >= 200e3 ? 1 : (int)(200e3 / (one > 1 ? one : 1)) + 1;
    enum { MAXS = 20000 };
    double *samples = malloc(sizeof(double) * MAXS);
    if (!samples) {
        res->status = "error";
        snprintf(res->note, sizeof res->note, "out of memory");
        tt_case_free(&cs);
        return;
    }
    int n = 0;
    long reps = 0;
    tt_meter_phase_reset(&res->ph);
    tt_meter_begin(meter, &res->ph);
    uint64_t start = tt_now_ns();
    while (n < MAXS && (n < o->min_samples || (double)(tt_now_ns() - start) * 1e-9 < o->min_time)) {
        uint64_t s0 = tt_now_ns();
        for (int b = 0; b < batch; b++) {
            tt_case_weights(&cs, l->copies + (size_t)(c++ % l->ncopies) * l->stride);
            tt_case_run(&cs, pool);
        }
        tt_do_not_optimize(s->y);
        samples[n++] = (double)(tt_now_ns() - s0) / batch;
        reps += batch;
    }
    tt_meter_end(meter, &res->ph);
    if (o->samples && (res->sample_ns = malloc(sizeof(int) * (size_t)n)))
        for (int i = 0; i < n; i++) res->sample_ns[i] = (int)TT_MIN(samples[i] + 0.5, 2e9);
    res->st = tt_stats_compute(samples, n); /* sorts samples */
    res->reps = reps;
    res->status = "ok";
    free(samples);
    tt_case_free(&cs);
}

/* Options into b; TT_CMD_GO, or the exit code (usage error, --help). */
static int parse_opts(tt_cmd *c, int argc, char **argv, bench_opts *b) {
    int rc = tt_cmd_start(c, argc, argv);
    if (rc != TT_CMD_GO) return rc;
    const char *s, *cmd = c->name;
    memset(b, 0, sizeof *b);
    b->fmt = TT_FMT_I2S;
    if ((s = tt_cmd_opt(c, "format")) && (b->fmt = tt_wformat_from_name(s)) < 0)
        return tt_usage_error(cmd, "unknown format '%s' (i2s, tl1, tl2)", s);
    if (!tt_wformat_is_ternary(b->fmt))
        return tt_usage_error(cmd, "format %s is a float baseline; kernels exist for i2s, tl1, tl2", s);
    b->glob = tt_cmd_opt(c, "variant");
    if (b->glob) {
        char item[256];
        for (const char *p = b->glob; *p;) {
            if (tt_list_next(&p, item, sizeof item) < 0)
                return tt_usage_error(cmd, "--variant wants NAME-or-GLOB[,...], got '%s'", b->glob);
            if (tt_variant_glob_count(item) == 0)
                return tt_usage_error(cmd, "no variant matches '%s' (see 'tritune list')", item);
        }
    }
    if ((s = tt_cmd_opt(c, "op"))) {
        if (strcmp(s, "gemv") && strcmp(s, "gemm")) return tt_usage_error(cmd, "--op must be gemv or gemm, got '%s'", s);
        b->op = s;
    }
    b->nshape = 1, b->M[0] = 6912, b->K[0] = 2560;
    if ((s = tt_cmd_opt(c, "shape")) && (b->nshape = tt_parse_shapes(s, b->M, b->K, MAXL)) < 0)
        return tt_usage_error(cmd, "--shape wants MxK[,MxK...] with positive sizes, got '%s'", s);
    b->nbatch = 1, b->batch[0] = 1;
    if ((s = tt_cmd_opt(c, "batch")) && (b->nbatch = tt_parse_int_list(s, b->batch, MAXL)) < 0)
        return tt_usage_error(cmd, "--batch wants a list of positive integers, got '%s'", s);
    if ((b->nthr = tt_cmd_threads(c, b->thr, MAXL)) < 0) return TT_EXIT_USAGE;
    b->ncache = 1, b->cache[0] = 1;
    if ((s = tt_cmd_opt(c, "cache"))) {
        if (!strcmp(s, "warm")) b->cache[0] = 0;
        else if (!strcmp(s, "streaming")) b->cache[0] = 1;
        else if (!strcmp(s, "warm,streaming") || !strcmp(s, "streaming,warm")) b->ncache = 2, b->cache[0] = 0, b->cache[1] = 1;
        else return tt_usage_error(cmd, "--cache must be warm, streaming or warm,streaming, got '%s'", s);
    }
    b->min_time = 0.2;
    if ((s = tt_cmd_opt(c, "min-time")) && tt_parse_double(s, 0.001, 600, &b->min_time))
        return tt_usage_error(cmd, "--min-time wants seconds in [0.001, 600], got '%s'", s);
    b->probe_time = 0.15;
    if ((s = tt_cmd_opt(c, "probe-time")) && tt_parse_double(s, 0.001, 600, &b->probe_time))
        return tt_usage_error(cmd, "--probe-time wants seconds in [0.001, 600], got '%s'", s);
    long mib = 1024;
    if ((s = tt_cmd_opt(c, "stream-mib")) && tt_parse_int(s, 1, 1 << 20, &mib))
        return tt_usage_error(cmd, "--stream-mib wants a size in MiB, got '%s'", s);
    b->stream_bytes = (size_t)mib << 20;
    long seed = 1, passes = 1;
    if ((s = tt_cmd_opt(c, "seed")) && tt_parse_int(s, 0, 1L << 62, &seed))
        return tt_usage_error(cmd, "--seed must be a non-negative integer");
    if ((s = tt_cmd_opt(c, "passes")) && tt_parse_int(s, 1, 1000, &passes))
        return tt_usage_error(cmd, "--passes wants an integer in 1..1000, got '%s'", s);
    b->seed = (uint64_t)seed;
    b->passes = (int)passes;
    b->min_samples = 10;
    b->samples = tt_cmd_opt(c, "samples") != NULL;
    b->serve = tt_cmd_opt(c, "stdin") != NULL;
    if (b->serve && b->ncache != 1) return tt_usage_error(cmd, "--stdin wants one --cache state");
    b->pin = !tt_cmd_opt(c, "no-pin");
    b->huge = !tt_cmd_opt(c, "no-hugepages");
    b->progress = tt_cmd_opt(c, "progress") != NULL || isatty(2);
    /* the largest case's memory, refused before anything is allocated: the int8
     * test matrix, its packed copies, activations, outputs and the streaming copies */
    for (int si = 0; si < b->nshape; si++)
        for (int bi = 0; bi < b->nbatch; bi++) {
            const double M = b->M[si], K = b->K[si], N = b->batch[bi];
            const double need = M * K * 2.0 + N * K * 2.0 + 8.0 * M * N +
                                (b->cache[b->ncache - 1] ? (double)b->stream_bytes : 0);
            char what[96];
            snprintf(what, sizeof what, "shape %dx%d at batch %d", b->M[si], b->K[si], b->batch[bi]);
            tt_status st = tt_cli_check_memory(need, what);
            if (st != TT_OK) return tt_die(st);
        }
    return TT_CMD_GO;
}

/* ---- rows -------------------------------------------------------------------------- */
static void show_shape(const tt_record *r, char *b, size_t n) {
    snprintf(b, n, "%.0fx%.0f", tt_rec_d(r, "M", 0), tt_rec_d(r, "K", 0));
}
/* what went wrong, or that the row is unstable, or above its roofline */
static void show_remark(const tt_record *r, char *b, size_t n) {
    const char *st = tt_rec_s(r, "status"), *note = tt_rec_s(r, "note");
    const char *flag = tt_rec_s(r, "bw_flag");
    if (st && strcmp(st, "ok") != 0) snprintf(b, n, "%s%s%s", st, note ? ": " : "", note ? note : "");
    else snprintf(b, n, "%s%s%s", tt_rec_d(r, "stable", 1) ? "" : "unstable", flag && !tt_rec_d(r, "stable", 1) ? "; " : "",
                  flag ? flag : "");
}
static const tt_column kernel_cols[] = {
    TT_COL("variant", NULL, -42),
    TT_COL_SHOW("shape", -11, show_shape),
    TT_COL("N", NULL, 4),
    TT_COL("threads", "T", 3),
    TT_COL("cache", NULL, -9),
    TT_COL_NUM("median_ns", "median us", 10, "%.1f", 1e-3),
    TT_COL_NUM("rel_iqr", "IQR", 6, "%.1f%%", 100),
    TT_COL_NUM("gbps", "GB/s", 7, "%.2f", 1),
    TT_COL_NUM("gweights_per_s", "Gw/s", 7, "%.2f", 1),
    TT_COL_NUM("gops", "GOPS", 7, "%.1f", 1),
    TT_COL_NUM("bw_fraction", "%bw", 5, "%.0f%%", 100),
    TT_COL_NUM("peak_fraction", "%peak", 6, "%.0f%%", 100),
    TT_COL_NUM("cv", "cv", 6, "%.1f%%", 100),
    TT_COL_NUM("joules_per_call", "uJ/call", 8, "%.4g", 1e6),
    TT_COL_SHOW("", 0, show_remark),
};
static const tt_table kernel_table = TT_TABLE(TT_TABLE_COLUMNS, NULL, kernel_cols);

/* The compute roofline of a GEMM row: the peak of its ISA's instruction
 * (seam/compute.h) at the same thread count, probed once per thread count
 * and ISA, next to the rows that use it.  -1 when there is none. */
typedef struct {
    double gops[TT_PEAK_COUNT];
} peaks;

static double peak_for(peaks *pk, tt_pool *pool, const tt_variant *v) {
    const int p = tt_peak_for_isa(v->isa);
    if (p < 0 || v->op != TT_OP_GEMM) return -1;
    if (pk->gops[p] == 0) {
        pk->gops[p] = tt_compute_probe(pool, (tt_peak_isa)p, 0.2, NULL);
        if (pk->gops[p] <= 0) pk->gops[p] = -1;
    }
    return pk->gops[p];
}

/* The state of one bench kernel run: the pool of the current thread count,
 * the current shape, the probe buffer, the counters. */
typedef struct {
    tt_cmd *c;
    const bench_opts *o;
    tt_record rec;
    tt_workspace ws;
    tt_pool *pool;
    int T;
    peaks pk;
    shape_state s;
    int have_shape;
    tt_bw_buffer bwbuf;
    tt_meter *meter; /* energy and counters of the timed calls (bench/meter.h) */
    int any_fail, unstable, done, total;
} bench;

/* the key of a kernel or probe row: M, K, N, threads, cache */
static void rec_key(const bench *bk, tt_record *rec, int streaming) {
    tt_rec_int(rec, "M", bk->s.M);
    tt_rec_int(rec, "K", bk->s.K);
    tt_rec_int(rec, "N", bk->s.N);
    tt_rec_int(rec, "threads", bk->T);
    tt_rec_str(rec, "cache", cache_names[streaming]);
}

static void report(bench *bk, const tt_variant *v, int streaming, int pass, const result *r, double bw, double peak) {
    const shape_state *s = &bk->s;
    tt_record *rec = &bk->rec;
    const double ns = r->st.median;
    const size_t wb = tt_layout_bytes(v, s->M, s->K);
    const double gbps = ns > 0 ? (double)wb / ns : 0;
    const double gw = ns > 0 ? (double)s->M * s->K / ns : 0;
    const double gops = ns > 0 ? 2.0 * s->M * s->K * s->N / ns : 0;
    tt_rec_begin(rec, "kernel", &kernel_table);
    tt_rec_str(rec, "variant", v->name);
    tt_rec_str(rec, "op", tt_op_name(v->op));
    tt_rec_str(rec, "format", tt_wformat_name(v->wfmt));
    tt_rec_str(rec, "isa", v->isa);
    tt_rec_str(rec, "layout", v->layout);
    tt_rec_str(rec, "params", v->params);
    rec_key(bk, rec, streaming);
    tt_rec_int(rec, "pass", pass);
    tt_rec_str(rec, "status", r->status);
    tt_rec_bool(rec, "verified", r->verified);
    if (strcmp(r->status, "ok") == 0) {
        tt_rec_int(rec, "reps", r->reps);
        tt_rec_stats(rec, "median_ns", "p25_ns", "p75_ns", &r->st);
        tt_rec_num(rec, "min_ns", r->st.min);
        tt_rec_num(rec, "rel_iqr", tt_stats_rel_iqr(&r->st));
        tt_rec_int(rec, "weight_bytes", (long long)wb);
        tt_rec_num(rec, "gbps", gbps);
        tt_rec_num(rec, "gweights_per_s", gw);
        tt_rec_num(rec, "gops", gops);
        tt_rec_num(rec, "bw_gbps", bw);
        tt_rec_num(rec, "bw_fraction", bw > 0 ? gbps / bw : -1);
        if (bw > 0 && gbps > 1.05 * bw) { /* never a fraction above the roofline without its reason */
            char why[200];
            snprintf(why, sizeof why, "reads %.0f%% of the probe next to it: %s", 100 * gbps / bw,
                     streaming ? "the probe read slower than this kernel (busy machine, or below the real read limit)"
                               : "warm: the weights are cache-resident");
            tt_rec_str(rec, "bw_flag", why);
        }
        if (v->op == TT_OP_GEMM) {
            const int p = tt_peak_for_isa(v->isa);
            tt_rec_str(rec, "peak_isa", p >= 0 ? tt_peak_name((tt_peak_isa)p) : NULL);
            tt_rec_num(rec, "peak_gops", peak > 0 ? peak : NAN);
            tt_rec_num(rec, "peak_fraction", peak > 0 ? gops / peak : NAN);
        }
        tt_meter_fields(rec, bk->meter, &r->ph, (double)r->reps, 0);
        if (r->sample_ns) tt_rec_ints(rec, "sample_ns", r->sample_ns, r->st.n);
    }
    if (r->note[0]) tt_rec_str(rec, "note", r->note);
    tt_report_row(&bk->c->rep, rec);
}

/* One read-bandwidth probe of the key being measured (after_pass -1: before
 * the first pass): a "probe" row; returns its GB/s (< 0: out of memory). */
static double probe(bench *bk, int streaming, int after_pass) {
    const shape_state *s = &bk->s;
    tt_stats st;
    const char *strategy = NULL;
    double bw;
    if (streaming) {
        if (!bk->bwbuf.buf) {
            if (tt_bw_buffer_init(&bk->bwbuf, bk->o->stream_bytes) < 0) return -1;
            /* the first probe of a new buffer reads slow (pages settling): discarded */
            tt_bw_buffer_probe(&bk->bwbuf, bk->pool, bk->o->probe_time, NULL, NULL);
        }
        if (bk->o->progress) fprintf(stderr, "\r\033[Ktritune: bandwidth probe, %d thread(s)", bk->T);
        bw = tt_bw_buffer_probe(&bk->bwbuf, bk->pool, bk->o->probe_time, &st, &strategy);
    } else { /* warm roofline: the read bandwidth of a working set the size of the weights */
        tt_bw_buffer b;
        if (tt_bw_buffer_init(&b, TT_MAX(tt_wformat_bytes((tt_wformat)s->fmt, s->M, s->K), (size_t)4096)) < 0)
            return -1;
        bw = tt_bw_buffer_probe(&b, bk->pool, bk->o->probe_time, &st, &strategy);
        tt_bw_buffer_free(&b);
    }
    tt_record *rec = &bk->rec;
    tt_rec_begin(rec, "probe", NULL);
    rec_key(bk, rec, streaming);
    tt_rec_int(rec, "after_pass", after_pass);
    tt_rec_num(rec, "gbps", bw);
    tt_rec_num(rec, "gbps_p25", st.p25);
    tt_rec_num(rec, "gbps_p75", st.p75);
    tt_rec_str(rec, "isa", tt_bandwidth_isa());
    tt_rec_str(rec, "strategy", strategy);
    tt_report_row(&bk->c->rep, rec);
    return bw;
}

/* One key (shape, batch, threads, cache): `passes` passes over the variants,
 * each in another order (pass p: rotated by p / 2, reversed when p is odd), so
 * no variant always runs first or after the same neighbour; the bandwidth
 * is probed before the first pass and after every pass (after the last only
 * when there are more than 3).  TT_OK, or an
 * environment error (out of memory) that ends the run. */
static tt_status run_key(bench *bk, int M, int K, int N, int T, int streaming, const tt_variant *const *vs, int nv) {
    const bench_opts *o = bk->o;
    if (!bk->pool || bk->T != T) {
        tt_pool_destroy(bk->pool);
        memset(&bk->pk, 0, sizeof bk->pk);
        if (!(bk->pool = tt_pool_create(T, o->pin))) return TT_E_NOMEM;
        bk->T = T;
    }
    if (!bk->have_shape || bk->s.M != M || bk->s.K != K || bk->s.N != N) {
        if (bk->have_shape) shape_free(&bk->s);
        bk->have_shape = 0;
        tt_status st = shape_init(&bk->s, o->fmt, M, K, N, o->seed);
        if (st != TT_OK) {
            shape_free(&bk->s);
            return st;
        }
        bk->have_shape = 1;
    }
    double bw = probe(bk, streaming, -1);
    if (bw < 0) return TT_E_NOMEM;
    for (int pass = 0; pass < o->passes; pass++) {
        for (int j = 0; j < nv; j++) {
            const int jj = (pass & 1) ? nv - 1 - j : j;
            const tt_variant *v = vs[(jj + pass / 2) % nv];
            result r = {.status = "ok"};
            bk->done++;
            if (o->progress)
                fprintf(stderr, "\r\033[K[%d/%d] %s %dx%d N=%d T=%d %s", bk->done, bk->total, v->name, M, K, N, T,
                        cache_names[streaming]);
            char why[256];
            const layout_slot *l;
            if (tt_variant_check(v, M, K, N, why, sizeof why) != TT_OK) {
                r.status = "shape_rejected";
                snprintf(r.note, sizeof r.note, "%s", why);
            } else if (verify_cached(v, o->seed) < 0) {
                r.status = "verify_failed";
                snprintf(r.note, sizeof r.note, "%s", verify_why[v - tt_variants]);
                bk->any_fail = 1;
            } else if (!(l = shape_layout(&bk->s, v, streaming, o->stream_bytes, o->huge))) {
                return TT_E_NOMEM;
            } else {
                tt_meter_idle(bk->meter, 0.5); /* once, just before the first timed calls */
                measure(v, &bk->s, l, streaming, bk->pool, &bk->ws, o, bk->meter, &r);
                if (strcmp(r.status, "ok") != 0) bk->any_fail = 1;
                else bk->unstable |= !tt_stats_stable(&r.st);
            }
            const double peak = strcmp(r.status, "ok") == 0 ? peak_for(&bk->pk, bk->pool, v) : -1;
            report(bk, v, streaming, pass, &r, bw, peak);
            free(r.sample_ns);
        }
        if (pass == o->passes - 1 || o->passes <= 3) { /* after every pass; after the last of many */
            const double b2 = probe(bk, streaming, pass);
            if (b2 < 0) return TT_E_NOMEM;
            bw = b2;
        }
    }
    return TT_OK;
}

/* Does v match one item of a comma-separated list of names and globs? */
static int matches(const char *list, const char *name) {
    char item[256];
    for (const char *p = list; *p;)
        if (tt_list_next(&p, item, sizeof item) > 0 && fnmatch(item, name, 0) == 0) return 1;
    return 0;
}

/* A variant of an exact-name list: it must exist, be of the format and
 * runnable here.  NULL with an exit code in *rc otherwise. */
static const tt_variant *exact_variant(const char *name, size_t n, int fmt, uint32_t feats, int *rc) {
    for (int i = 0; i < tt_n_variants; i++) {
        const tt_variant *v = &tt_variants[i];
        if (strlen(v->name) != n || strncmp(v->name, name, n) != 0) continue;
        if (v->wfmt != (tt_wformat)fmt) {
            *rc = tt_usage_error("bench kernel", "variant %s is format %s, not %s (use --format %s)", v->name,
                                 tt_wformat_name(v->wfmt), tt_wformat_name(fmt), tt_wformat_name(v->wfmt));
            return NULL;
        }
        if (!tt_variant_runnable(v, feats)) {
            char miss[128];
            tt_features_str(v->features & ~feats, miss, sizeof miss);
            tt_set_error(TT_E_CPU, "variant %s needs CPU features this machine lacks: %s", v->name, miss);
            *rc = tt_die(TT_E_CPU);
            return NULL;
        }
        return v;
    }
    *rc = tt_usage_error("bench kernel", "no variant named '%.*s' (see 'tritune list')", (int)n, name);
    return NULL;
}

/* The variants of --variant (or all runnable of the format) into sel: an
 * exact-name list in its own order, globs grouped by layout (weight copies
 * are built once per layout).  The count, or -(exit code). */
static int select_variants(const bench_opts *o, uint32_t feats, const tt_variant **sel) {
    int nsel = 0, rc = 0;
    if (o->glob && !strpbrk(o->glob, "*?[")) {
        for (const char *p = o->glob; *p;) {
            size_t n = strcspn(p, ",");
            if (!(sel[nsel] = exact_variant(p, n, o->fmt, feats, &rc))) return -rc;
            nsel++;
            p += n + (p[n] == ',');
        }
        return nsel;
    }
    for (int i = 0; i < tt_n_variants; i++) {
        const tt_variant *v = &tt_variants[i];
        if (o->glob && !matches(o->glob, v->name)) continue;
        if (v->wfmt != (tt_wformat)o->fmt || !tt_variant_runnable(v, feats)) continue;
        sel[nsel++] = v;
    }
    for (int i = 1; i < nsel; i++) /* stable insertion sort by layout */
        for (int k = i; k > 0 && strcmp(sel[k - 1]->layout, sel[k]->layout) > 0; k--) {
            const tt_variant *t = sel[k];
            sel[k] = sel[k - 1];
            sel[k - 1] = t;
        }
    if (nsel == 0) {
        tt_set_error(TT_E_UNSUPPORTED, "no runnable %s variant%s%s", tt_wformat_name(o->fmt), o->glob ? " matches " : "",
                     o->glob ? o->glob : "");
        return -tt_die(TT_E_UNSUPPORTED);
    }
    return nsel;
}

/* The grid of the options: threads x cache x shapes x batches. */
static tt_status run_grid(bench *bk, const tt_variant **sel, int nsel) {
    const bench_opts *o = bk->o;
    const tt_variant **vs = malloc(sizeof *vs * (size_t)nsel);
    if (!vs) return TT_E_NOMEM;
    for (int si = 0; si < o->nshape; si++)
        for (int bi = 0; bi < o->nbatch; bi++)
            for (int k = 0; k < nsel; k++) {
                const char *op = o->op ? o->op : (o->batch[bi] == 1 ? "gemv" : "gemm");
                bk->total += strcmp(tt_op_name(sel[k]->op), op) == 0;
            }
    bk->total *= o->nthr * o->ncache * o->passes;
    tt_status st = TT_OK;
    for (int ti = 0; ti < o->nthr && st == TT_OK; ti++)
        for (int ci = 0; ci < o->ncache && st == TT_OK; ci++)
            for (int si = 0; si < o->nshape && st == TT_OK; si++)
                for (int bi = 0; bi < o->nbatch && st == TT_OK; bi++) {
                    const int N = o->batch[bi];
                    const char *op = o->op ? o->op : (N == 1 ? "gemv" : "gemm");
                    int nv = 0;
                    for (int k = 0; k < nsel; k++)
                        if (strcmp(tt_op_name(sel[k]->op), op) == 0) vs[nv++] = sel[k];
                    if (nv) st = run_key(bk, o->M[si], o->K[si], N, o->thr[ti], o->cache[ci], vs, nv);
                }
    free(vs);
    return st;
}

/* --stdin: one request per line, "MxK N T PASSES MIN_TIME MIN_SAMPLES v1,v2,...",
 * (MIN_SAMPLES in 1..1000: a first brief look at many candidates), answered by the rows
 * of run_key and a row of kind "done" (kind "error" first for a bad
 * request, which ends nothing).  The process, its probe buffer and the
 * weight copies of the current shape are kept between requests. */
static tt_status run_requests(bench *bk) {
    const bench_opts *o = bk->o;
    const uint32_t feats = tt_cpu_features();
    char line[1 << 16];
    const tt_variant **vs = malloc(sizeof *vs * (size_t)tt_n_variants);
    if (!vs) return TT_E_NOMEM;
    tt_status st = TT_OK;
    long nreq = 0;
    while (st == TT_OK && fgets(line, sizeof line, stdin)) {
        int M, K, N, T, passes, min_samples, off = 0, nv = 0;
        double min_time;
        char err[512] = "";
        line[strcspn(line, "\r\n")] = 0;
        if (!line[0]) continue;
        nreq++;
        if (sscanf(line, "%dx%d %d %d %d %lf %d %n", &M, &K, &N, &T, &passes, &min_time, &min_samples, &off) < 7 ||
            off == 0 || M <= 0 || K <= 0 || N <= 0 || T <= 0 || T > 1024 || passes < 1 || passes > 1000 ||
            !(min_time >= 0.001) || min_time > 600 || min_samples < 1 || min_samples > 1000)
            snprintf(err, sizeof err, "a request is 'MxK N T PASSES MIN_TIME MIN_SAMPLES variant[,variant...]', got '%.200s'",
                     line);
        for (const char *p = line + off; !err[0] && *p;) {
            size_t n = strcspn(p, ",");
            int rc = 0;
            const tt_variant *v = exact_variant(p, n, o->fmt, feats, &rc);
            if (!v) snprintf(err, sizeof err, "%s", tt_last_error());
            else if (strcmp(tt_op_name(v->op), N == 1 ? "gemv" : "gemm") != 0)
                snprintf(err, sizeof err, "variant %s is a %s, not for N=%d", v->name, tt_op_name(v->op), N);
            else if (nv < tt_n_variants) vs[nv++] = v;
            p += n + (p[n] == ',');
        }
        if (!err[0] && nv == 0) snprintf(err, sizeof err, "request without variants: '%.200s'", line);
        if (err[0]) {
            tt_rec_begin(&bk->rec, "error", NULL);
            tt_rec_str(&bk->rec, "message", err);
            tt_report_row(&bk->c->rep, &bk->rec);
        } else {
            bench_opts ro = *o; /* this request's passes and time */
            ro.passes = passes, ro.min_time = min_time, ro.min_samples = min_samples;
            bk->o = &ro;
            bk->done = 0, bk->total = nv * passes;
            st = run_key(bk, M, K, N, T, o->cache[0], vs, nv);
            bk->o = o;
        }
        tt_rec_begin(&bk->rec, "done", NULL);
        tt_rec_int(&bk->rec, "request", nreq);
        tt_report_row(&bk->c->rep, &bk->rec);
    }
    free(vs);
    return st;
}

int cmd_bench_kernel(int argc, char **argv) {
    tt_opt opts[] = {
        {"format", 1, NULL, "weight format: i2s (default), tl1, tl2"},
        {"variant", 1, NULL, "names or shell globs, comma-separated (default: all runnable of the format);\n"
                             "a list of names is measured in its order"},
        {"op", 1, NULL, "gemv or gemm (default: gemv for batch 1, gemm otherwise)"},
        {"shape", 1, NULL, "MxK list, e.g. 6912x2560,2560x6912 (default 6912x2560)"},
        {"batch", 1, NULL, "tokens N list (default 1)"},
        {"threads", 1, NULL, "thread count list (default 1)"},
        {"cache", 1, NULL, "warm, streaming, or warm,streaming (default streaming)"},
        {"min-time", 1, NULL, "seconds of samples per measurement (default 0.2)"},
        {"passes", 1, NULL, "interleaved passes over the variants of each key, in changing order (default 1)"},
        {"samples", 0, NULL, "raw per-call time of every sample in the rows (sample_ns)"},
        {"probe-time", 1, NULL, "seconds per bandwidth probe, before and after every pass (default 0.15)"},
        {"stdin", 0, NULL, "read requests 'MxK N T PASSES MIN_TIME MIN_SAMPLES v1,v2,...' from standard input (the tuner)"},
        {"stream-mib", 1, NULL, "total size of the rotated weight copies in MiB (default 1024)"},
        {"seed", 1, NULL, "seed for weights and activations (default 1)"},
        {"no-pin", 0, NULL, "do not pin threads to cores"},
        TT_OPT_OVERSUBSCRIBE,
        {"no-hugepages", 0, NULL, "do not ask for transparent huge pages on weights"},
        {"progress", 0, NULL, "progress lines on stderr even when it is not a terminal"},
    };
    tt_cmd c = TT_CMD("bench kernel",
                "[--format i2s] [--shape MxK,...] [--batch N,...] [--threads T,...]\n"
                "                            [--cache warm|streaming] [--variant NAME|GLOB,...] [--passes P] [--samples]",
                opts);
    bench_opts o;
    int rc = parse_opts(&c, argc, argv, &o);
    if (rc != TT_CMD_GO) return rc;
    rc = 0;
    const uint32_t feats = tt_cpu_features();
    const tt_variant **sel = malloc(sizeof *sel * (size_t)(tt_n_variants + 1));
    if (!sel) return tt_die(TT_E_NOMEM);
    int nsel = 0;
    if (!o.serve) {
        nsel = select_variants(&o, feats, sel);
        if (nsel < 0) {
            free(sel);
            return -nsel;
        }
    }
    /* exact-name requests must fit every requested shape and batch (fail loudly, naming the restriction) */
    if (!o.serve && o.glob && !strpbrk(o.glob, "*?["))
        for (int k = 0; k < nsel; k++)
            for (int si = 0; si < o.nshape; si++)
                for (int bi = 0; bi < o.nbatch; bi++) {
                    char why[256];
                    if (tt_variant_check(sel[k], o.M[si], o.K[si], o.batch[bi], why, sizeof why) != TT_OK) {
                        free(sel);
                        tt_set_error(TT_E_SHAPE, "%s", why);
                        return tt_die(TT_E_SHAPE);
                    }
                }
    char tdesc[128] = "", cdesc[32];
    for (int i = 0; i < o.nthr; i++)
        snprintf(tdesc + strlen(tdesc), sizeof tdesc - strlen(tdesc), "%s%d", i ? "," : "", o.thr[i]);
    snprintf(cdesc, sizeof cdesc, "%s", o.ncache == 2 ? "warm,streaming" : cache_names[o.cache[0]]);
    tt_meter meter; /* before the pools: the counters follow the threads created after them */
    tt_meter_open(&meter);
    /* context once; pinning reported from the first pool */
    tt_pool *p0 = tt_pool_create(o.thr[0], o.pin);
    if (!p0) {
        free(sel);
        tt_meter_close(&meter);
        return tt_die(TT_E_NOMEM);
    }
    tt_context ctx;
    tt_context_build(&ctx, &(tt_context_args){.command = c.name, .threads = o.serve ? "per request" : tdesc,
                                               .cache = cdesc, .pinning = tt_pool_pinning(p0), .measuring = 1,
                                               .header = 1});
    tt_pool_destroy(p0);
    tt_report_context(&c.rep, &ctx.rec);
    tt_context_free(&ctx);
    bench bk = {.c = &c, .o = &o, .meter = &meter};
    tt_status st = o.serve ? run_requests(&bk) : run_grid(&bk, sel, nsel);
    if (st != TT_OK) rc = tt_die(st);
    if (o.progress) fprintf(stderr, "\r\033[K");
    if (bk.have_shape) shape_free(&bk.s);
    tt_meter_close(&meter);
    tt_bw_buffer_free(&bk.bwbuf);
    tt_pool_destroy(bk.pool);
    tt_rec_free(&bk.rec);
    tt_workspace_free(&bk.ws);
    free(sel);
    if (rc) return tt_cmd_end(&c, rc);
    if (bk.unstable)
        tt_report_note(&c.rep, "unstable: the interquartile range exceeds 5%% of the median: quiet the machine or "
                               "raise --min-time");
    return tt_cmd_end(&c, bk.any_fail ? TT_EXIT_FAIL : TT_EXIT_OK);
}
