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
typedef struct {
    int M, K, N;
    int8_t *w;          /* M x K ternary                                  */
    tt_tensor W;        /* canonical                                      */
    tt_qact x;          /* N tokens of random int8                        */
    int32_t *yref;      /* N x M reference                                */
    int32_t *y;         /* N x M                                          */
    /* copies of the weights in one layout */
    const char *layout;
    uint8_t *copies;
    size_t stride, wbytes;
    int ncopies;
} shape_state;

static void shape_free(shape_state *s) {
    free(s->w);
    tt_tensor_free(&s->W);
    tt_qact_free(&s->x);
    tt_free(s->yref);
    tt_free(s->y);
    tt_free(s->copies);
    memset(s, 0, sizeof *s);
}

static tt_status shape_init(shape_state *s, int fmt, int M, int K, int N, uint64_t seed) {
    memset(s, 0, sizeof *s);
    s->M = M, s->K = K, s->N = N;
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
    return TT_OK;
}

/* Build (or reuse) copies of the weights in v's layout. */
static tt_status shape_layout(shape_state *s, const tt_variant *v, int streaming, size_t stream_bytes, int huge) {
    int want = 1;
    size_t wbytes = tt_layout_bytes(v, s->M, s->K);
    size_t stride = TT_ROUND_UP(wbytes, 4096);
    if (streaming) want = (int)TT_MAX(2, TT_CEIL_DIV(stream_bytes, stride));
    if (s->copies && s->layout && strcmp(s->layout, v->layout) == 0 && s->ncopies == want) return TT_OK;
    tt_free(s->copies);
    s->copies = NULL;
    s->layout = NULL;
    s->copies = tt_alloc(stride * (size_t)want, 4096, huge);
    if (!s->copies)
        return tt_set_error(TT_E_NOMEM, "cannot allocate %d copies of %zu bytes for streaming (lower --stream-mib)", want,
                            stride);
    /* Copy 0 holds the weights the reference checks.  Every other copy holds
     * the same rows in another order (rotated in the canonical layout, whose
     * rows have a fixed size, then repacked), so no two copies share page
     * contents: byte-identical copies could be served by page deduplication
     * or compression below us and read faster than DRAM. */
    const size_t crb = s->W.bytes / (size_t)s->M;
    uint8_t *rot = want > 1 ? malloc(s->W.bytes) : NULL;
    if (want > 1 && !rot) return tt_set_error(TT_E_NOMEM, "cannot allocate a rotated copy of the weights");
    tt_status st = TT_OK;
    for (int c = 0; c < want && st == TT_OK; c++) {
        const uint8_t *src = s->W.data;
        const size_t r = s->M > 1 ? ((size_t)c * 977u) % (size_t)s->M : 0;
        if (r) {
            memcpy(rot, s->W.data + r * crb, ((size_t)s->M - r) * crb);
            memcpy(rot + ((size_t)s->M - r) * crb, s->W.data, r * crb);
            src = rot;
        }
        st = tt_layout_pack(v, src, s->M, s->K, s->copies + (size_t)c * stride);
    }
    free(rot);
    if (st != TT_OK) return st;
    s->layout = v->layout;
    s->ncopies = want;
    s->stride = stride;
    s->wbytes = wbytes;
    return TT_OK;
}

typedef struct {
    const char *status; /* ok, verify_failed, shape_rejected, not_runnable, error */
    char note[512];
    tt_stats st;        /* per-call ns */
    long reps;
    int verified;
    tt_meter_phase ph; /* energy and counters over the timed calls */
} result;

static void measure(const tt_variant *v, shape_state *s, int streaming, tt_pool *pool, tt_workspace *ws,
                    const bench_opts *o, tt_meter *meter, result *res) {
    tt_case cs;
    tt_status st = tt_case_init(&cs, v, s->M, &s->x, s->y, s->M, ws);
    if (st != TT_OK) {
        res->status = "error";
        snprintf(res->note, sizeof res->note, "%s", tt_last_error());
        return;
    }
    /* correctness on the measured shape, first copy */
    tt_case_weights(&cs, s->copies);
    memset(s->y, 0xA5, sizeof(int32_t) * (size_t)s->M * s->N);
    tt_case_run(&cs, pool);
    if (memcmp(s->y, s->yref, sizeof(int32_t) * (size_t)s->M * s->N) != 0) {
        res->status = "verify_failed";
        snprintf(res->note, sizeof res->note, "differs from the reference on the measured shape");
        return;
    }
    res->verified = 1;
    int c = 0;
    /* warm-up, discarded: a few calls, and in streaming mode up to one pass
     * over the copies or 50 ms, whichever comes first (pages are already
     * faulted in by the copies' memcpy) */
    const int warm = streaming ? s->ncopies : 5;
    const uint64_t w0 = tt_now_ns();
    for (int i = 0; i < warm && (i < 3 || tt_now_ns() - w0 < 50000000ull); i++) {
        tt_case_weights(&cs, s->copies + (size_t)(c++ % s->ncopies) * s->stride);
        tt_case_run(&cs, pool);
    }
    /* calls per sample: aim for >= 200 us per sample */
    uint64_t t0 = tt_now_ns();
    tt_case_weights(&cs, s->copies + (size_t)(c++ % s->ncopies) * s->stride);
    tt_case_run(&cs, pool);
    double one = (double)(tt_now_ns() - t0);
    int batch = one >= 200e3 ? 1 : (int)(200e3 / (one > 1 ? one : 1)) + 1;
    enum { MAXS = 20000 };
    double *samples = malloc(sizeof(double) * MAXS);
    int n = 0;
    long reps = 0;
    tt_meter_phase_reset(&res->ph);
    tt_meter_begin(meter, &res->ph);
    uint64_t start = tt_now_ns();
    while (n < MAXS && (n < 10 || (double)(tt_now_ns() - start) * 1e-9 < o->min_time)) {
        uint64_t s0 = tt_now_ns();
        for (int b = 0; b < batch; b++) {
            tt_case_weights(&cs, s->copies + (size_t)(c++ % s->ncopies) * s->stride);
            tt_case_run(&cs, pool);
        }
        tt_do_not_optimize(s->y);
        samples[n++] = (double)(tt_now_ns() - s0) / batch;
        reps += batch;
    }
    tt_meter_end(meter, &res->ph);
    res->st = tt_stats_compute(samples, n);
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
    if (b->glob && tt_variant_glob_count(b->glob) == 0)
        return tt_usage_error(cmd, "no variant matches '%s' (see 'tritune list')", b->glob);
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
    b->nthr = 1, b->thr[0] = 1;
    if ((s = tt_cmd_opt(c, "threads")) && (b->nthr = tt_parse_threads(s, b->thr, MAXL)) < 0)
        return tt_usage_error(cmd, "--threads wants a list of thread counts in 1..1024, got '%s'", s);
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
    long mib = 1024;
    if ((s = tt_cmd_opt(c, "stream-mib")) && tt_parse_int(s, 1, 1 << 20, &mib))
        return tt_usage_error(cmd, "--stream-mib wants a size in MiB, got '%s'", s);
    b->stream_bytes = (size_t)mib << 20;
    long seed = 1;
    if ((s = tt_cmd_opt(c, "seed")) && tt_parse_int(s, 0, 1L << 62, &seed))
        return tt_usage_error(cmd, "--seed must be a non-negative integer");
    b->seed = (uint64_t)seed;
    b->pin = !tt_cmd_opt(c, "no-pin");
    b->huge = !tt_cmd_opt(c, "no-hugepages");
    b->progress = tt_cmd_opt(c, "progress") != NULL || isatty(2);
    return TT_CMD_GO;
}

/* ---- rows -------------------------------------------------------------------------- */
static void show_shape(const tt_record *r, char *b, size_t n) {
    snprintf(b, n, "%.0fx%.0f", tt_rec_d(r, "M", 0), tt_rec_d(r, "K", 0));
}
/* what went wrong, or that the row is unstable */
static void show_remark(const tt_record *r, char *b, size_t n) {
    const char *st = tt_rec_s(r, "status"), *note = tt_rec_s(r, "note");
    if (st && strcmp(st, "ok") != 0) snprintf(b, n, "%s%s%s", st, note ? ": " : "", note ? note : "");
    else if (!tt_rec_d(r, "stable", 1)) snprintf(b, n, "unstable");
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

static void report(tt_reporter *rep, tt_record *rec, const tt_variant *v, const shape_state *s, int T, int streaming,
                   const result *r, double bw, double peak, const tt_meter *meter) {
    const double ns = r->st.median;
    const size_t wb = s->wbytes ? s->wbytes : tt_wformat_bytes(v->wfmt, s->M, s->K);
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
    tt_rec_int(rec, "M", s->M);
    tt_rec_int(rec, "K", s->K);
    tt_rec_int(rec, "N", s->N);
    tt_rec_int(rec, "threads", T);
    tt_rec_str(rec, "cache", cache_names[streaming]);
    tt_rec_str(rec, "status", r->status);
    tt_rec_bool(rec, "verified", r->verified);
    if (strcmp(r->status, "ok") == 0) {
        tt_rec_int(rec, "reps", r->reps);
        tt_rec_int(rec, "samples", r->st.n);
        tt_rec_num(rec, "median_ns", ns);
        tt_rec_num(rec, "p25_ns", r->st.p25);
        tt_rec_num(rec, "p75_ns", r->st.p75);
        tt_rec_num(rec, "min_ns", r->st.min);
        tt_rec_num(rec, "cv", r->st.cv);
        tt_rec_num(rec, "rel_iqr", tt_stats_rel_iqr(&r->st));
        tt_rec_bool(rec, "stable", tt_stats_stable(&r->st));
        tt_rec_int(rec, "weight_bytes", (long long)wb);
        tt_rec_num(rec, "gbps", gbps);
        tt_rec_num(rec, "gweights_per_s", gw);
        tt_rec_num(rec, "gops", gops);
        tt_rec_num(rec, "bw_gbps", bw);
        tt_rec_num(rec, "bw_fraction", bw > 0 ? gbps / bw : -1);
        if (v->op == TT_OP_GEMM) {
            const int p = tt_peak_for_isa(v->isa);
            tt_rec_str(rec, "peak_isa", p >= 0 ? tt_peak_name((tt_peak_isa)p) : NULL);
            tt_rec_num(rec, "peak_gops", peak > 0 ? peak : NAN);
            tt_rec_num(rec, "peak_fraction", peak > 0 ? gops / peak : NAN);
        }
        tt_meter_fields(rec, meter, &r->ph, (double)r->reps, 0);
    }
    if (r->note[0]) tt_rec_str(rec, "note", r->note);
    tt_report_row(rep, rec);
}

int cmd_bench_kernel(int argc, char **argv) {
    tt_opt opts[] = {
        {"format", 1, NULL, "weight format: i2s (default), tl1, tl2"},
        {"variant", 1, NULL, "shell glob over variant names (default: all runnable of the format)"},
        {"op", 1, NULL, "gemv or gemm (default: gemv for batch 1, gemm otherwise)"},
        {"shape", 1, NULL, "MxK list, e.g. 6912x2560,2560x6912 (default 6912x2560)"},
        {"batch", 1, NULL, "tokens N list (default 1)"},
        {"threads", 1, NULL, "thread count list (default 1)"},
        {"cache", 1, NULL, "warm, streaming, or warm,streaming (default streaming)"},
        {"min-time", 1, NULL, "seconds of samples per measurement (default 0.2)"},
        {"stream-mib", 1, NULL, "total size of the rotated weight copies in MiB (default 1024)"},
        {"seed", 1, NULL, "seed for weights and activations (default 1)"},
        {"no-pin", 0, NULL, "do not pin threads to cores"},
        {"no-hugepages", 0, NULL, "do not ask for transparent huge pages on weights"},
        {"progress", 0, NULL, "progress lines on stderr even when it is not a terminal"},
    };
    tt_cmd c = TT_CMD("bench kernel",
                "[--format i2s] [--shape MxK,...] [--batch N,...] [--threads T,...]\n"
                "                            [--cache warm|streaming] [--variant GLOB]",
                opts);
    bench_opts o;
    int rc = parse_opts(&c, argc, argv, &o);
    if (rc != TT_CMD_GO) return rc;
    rc = 0;
    const uint32_t feats = tt_cpu_features();
    /* the variants to run, grouped by layout so weight copies are built once per layout */
    const tt_variant **sel = malloc(sizeof *sel * (size_t)tt_n_variants);
    int nsel = 0, exact = o.glob && !strpbrk(o.glob, "*?[");
    for (int i = 0; i < tt_n_variants; i++) {
        const tt_variant *v = &tt_variants[i];
        if (o.glob && fnmatch(o.glob, v->name, 0) != 0) continue;
        if (v->wfmt != (tt_wformat)o.fmt) {
            if (exact) {
                free(sel);
                return tt_usage_error("bench kernel", "variant %s is format %s, not %s (use --format %s)", v->name,
                                      tt_wformat_name(v->wfmt), tt_wformat_name(o.fmt), tt_wformat_name(v->wfmt));
            }
            continue;
        }
        if (!tt_variant_runnable(v, feats)) {
            if (exact) {
                char miss[128];
                tt_features_str(v->features & ~feats, miss, sizeof miss);
                free(sel);
                tt_set_error(TT_E_CPU, "variant %s needs CPU features this machine lacks: %s", v->name, miss);
                return tt_die(TT_E_CPU);
            }
            continue;
        }
        sel[nsel++] = v;
    }
    for (int i = 1; i < nsel; i++) /* stable insertion sort by layout */
        for (int k = i; k > 0 && strcmp(sel[k - 1]->layout, sel[k]->layout) > 0; k--) {
            const tt_variant *t = sel[k];
            sel[k] = sel[k - 1];
            sel[k - 1] = t;
        }
    if (nsel == 0) {
        free(sel);
        tt_set_error(TT_E_UNSUPPORTED, "no runnable %s variant%s%s", tt_wformat_name(o.fmt), o.glob ? " matches " : "",
                     o.glob ? o.glob : "");
        return tt_die(TT_E_UNSUPPORTED);
    }
    /* exact-name requests must fit every requested shape and batch (fail loudly, naming the restriction) */
    if (exact)
        for (int si = 0; si < o.nshape; si++)
            for (int bi = 0; bi < o.nbatch; bi++) {
                char why[256];
                if (tt_variant_check(sel[0], o.M[si], o.K[si], o.batch[bi], why, sizeof why) != TT_OK) {
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
    tt_context_build(&ctx, &(tt_context_args){.command = c.name, .threads = tdesc, .cache = cdesc,
                                               .pinning = tt_pool_pinning(p0), .measuring = 1, .header = 1});
    tt_pool_destroy(p0);
    tt_report_context(&c.rep, &ctx.rec);
    tt_context_free(&ctx);
    tt_record rec = {0};
    tt_workspace ws = {0};
    int any_fail = 0, unstable = 0, total = 0, done = 0;
    for (int si = 0; si < o.nshape; si++)
        for (int bi = 0; bi < o.nbatch; bi++)
            for (int k = 0; k < nsel; k++) {
                const char *op = o.op ? o.op : (o.batch[bi] == 1 ? "gemv" : "gemm");
                total += strcmp(tt_op_name(sel[k]->op), op) == 0;
            }
    total *= o.nthr * o.ncache;
    for (int ti = 0; ti < o.nthr; ti++) {
        const int T = o.thr[ti];
        tt_pool *pool = tt_pool_create(T, o.pin);
        if (!pool) {
            rc = tt_die(TT_E_NOMEM);
            break;
        }
        double bw_stream = -1;
        peaks pk = {{0}};
        for (int ci = 0; ci < o.ncache; ci++) {
            const int streaming = o.cache[ci];
            if (streaming && bw_stream < 0) {
                if (o.progress) fprintf(stderr, "\rtritune: bandwidth probe, %d thread(s), %zu MiB...", T, o.stream_bytes >> 20);
                bw_stream = tt_bandwidth_probe_pool(pool, o.stream_bytes, 0.5, NULL);
            }
            for (int si = 0; si < o.nshape; si++) {
                for (int bi = 0; bi < o.nbatch; bi++) {
                    const int N = o.batch[bi];
                    const char *op = o.op ? o.op : (N == 1 ? "gemv" : "gemm");
                    shape_state s;
                    tt_status st = shape_init(&s, o.fmt, o.M[si], o.K[si], N, o.seed);
                    if (st != TT_OK) {
                        shape_free(&s);
                        tt_pool_destroy(pool);
                        rc = tt_die(st);
                        goto out;
                    }
                    /* the reference answer for this shape */
                    tt_kargs ar = {.w = s.W.data, .M = s.M, .K = s.K, .Kp = s.x.Kp, .x = s.x.q, .xsum = s.x.sum, .N = N,
                                   .y = s.yref, .ldy = s.M};
                    const tt_variant *gen = tt_variant_generic(N == 1 ? TT_OP_GEMV : TT_OP_GEMM, (tt_wformat)o.fmt);
                    (gen ? gen->ref : tt_ref_i2s_gemm)(&ar, 0, s.M, 0, N);
                    double bw = bw_stream;
                    int bw_done = 0;
                    for (int k = 0; k < nsel; k++) {
                        const tt_variant *v = sel[k];
                        if (strcmp(tt_op_name(v->op), op) != 0) continue;
                        result r = {.status = "ok"};
                        done++;
                        if (o.progress)
                            fprintf(stderr, "\r\033[K[%d/%d] %s %dx%d N=%d T=%d %s", done, total, v->name, s.M, s.K, N, T,
                                    cache_names[streaming]);
                        char why[256];
                        if (tt_variant_check(v, s.M, s.K, N, why, sizeof why) != TT_OK) {
                            r.status = "shape_rejected";
                            snprintf(r.note, sizeof r.note, "%s", why);
                        } else if (verify_cached(v, o.seed) < 0) {
                            r.status = "verify_failed";
                            snprintf(r.note, sizeof r.note, "%s", verify_why[v - tt_variants]);
                            any_fail = 1;
                        } else if ((st = shape_layout(&s, v, streaming, o.stream_bytes, o.huge)) != TT_OK) {
                            shape_free(&s);
                            tt_pool_destroy(pool);
                            rc = tt_die(st);
                            goto out;
                        } else {
                            if (!streaming && !bw_done) {
                                /* warm roofline: the read bandwidth of a working set the size of the weights */
                                bw = tt_bandwidth_probe_pool(pool, TT_MAX(s.wbytes, (size_t)4096), 0.2, NULL);
                                bw_done = 1;
                            }
                            tt_meter_idle(&meter, 0.5); /* once, just before the first timed calls */
                            measure(v, &s, streaming, pool, &ws, &o, &meter, &r);
                            if (strcmp(r.status, "ok") != 0) any_fail = 1;
                            else unstable |= !tt_stats_stable(&r.st);
                        }
                        const double peak = strcmp(r.status, "ok") == 0 ? peak_for(&pk, pool, v) : -1;
                        report(&c.rep, &rec, v, &s, T, streaming, &r, bw, peak, &meter);
                    }
                    shape_free(&s);
                }
            }
        }
        tt_pool_destroy(pool);
    }
out:
    if (o.progress) fprintf(stderr, "\r\033[K");
    tt_meter_close(&meter);
    tt_rec_free(&rec);
    tt_workspace_free(&ws);
    free(sel);
    if (rc) return tt_cmd_end(&c, rc);
    if (unstable)
        tt_report_note(&c.rep, "unstable: the interquartile range exceeds 5%% of the median: quiet the machine or "
                               "raise --min-time");
    return tt_cmd_end(&c, any_fail ? TT_EXIT_FAIL : TT_EXIT_OK);
}
