/* tritune bench bandwidth: the read roofline at a thread count and working set. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "seam/bandwidth.h"

/* (p75 - p25) / median of the GB/s samples, the spread tt_stats_stable judges */
static void show_iqr(const tt_record *r, char *b, size_t n) { tt_show_rel_iqr(r, "gbps", b, n); }
static void show_stable(const tt_record *r, char *b, size_t n) {
    if (!tt_rec_d(r, "stable", 1)) snprintf(b, n, "unstable");
}
static const tt_column bw_cols[] = {
    TT_COL("threads", NULL, -8),
    TT_COL_NUM("bytes", "working set", 11, "%.0f MiB", 1.0 / (1 << 20)),
    TT_COL_NUM("gbps", "GB/s", 10, "%.1f", 1),
    TT_COL_NUM("gbps_p25", "p25", 10, "%.1f", 1),
    TT_COL_NUM("gbps_p75", "p75", 10, "%.1f", 1),
    TT_COL_SHOW("IQR", 6, show_iqr),
    TT_COL_NUM("cv", "cv", 6, "%.1f%%", 100),
    TT_COL("strategy", NULL, -9),
    TT_COL_SHOW("", 0, show_stable),
};
static const tt_table bw_table = TT_TABLE(TT_TABLE_COLUMNS, NULL, bw_cols);

int cmd_bench_bandwidth(int argc, char **argv) {
    tt_opt o[] = {
        {"threads", 1, NULL, "thread count list, e.g. 1,2 (default 1)"},
        {"bytes", 1, NULL, "working-set list in MiB, e.g. 1,64,1024 (default 1024 = DRAM)"},
        {"min-time", 1, NULL, "seconds per measurement (default 0.5)"},
        {"no-pin", 0, NULL, "do not pin threads"},
        TT_OPT_OVERSUBSCRIBE,
    };
    tt_cmd c = TT_CMD("bench bandwidth", "[--threads 1,2] [--bytes MiB,...] [--min-time S]", o);
    int rc = tt_cmd_start(&c, argc, argv);
    if (rc != TT_CMD_GO) return rc;
    int threads[16] = {1}, nt = 1, mibs[16] = {1024}, nb = 1;
    const char *s;
    if ((nt = tt_cmd_threads(&c, threads, 16)) < 0) return TT_EXIT_USAGE;
    if ((s = tt_cmd_opt(&c, "bytes")) && (nb = tt_parse_int_list(s, mibs, 16)) < 0)
        return tt_usage_error(c.name, "--bytes wants a list of sizes in MiB, got '%s'", s);
    for (int bi = 0; bi < nb; bi++) { /* refused before anything is allocated */
        char what[64];
        snprintf(what, sizeof what, "--bytes %d (MiB)", mibs[bi]);
        tt_status mst = tt_cli_check_memory((double)mibs[bi] * (1 << 20), what);
        if (mst != TT_OK) return tt_cmd_end(&c, tt_die(mst));
    }
    double min_time = 0.5;
    if ((s = tt_cmd_opt(&c, "min-time")) && tt_parse_double(s, 0.001, 600, &min_time))
        return tt_usage_error(c.name, "--min-time wants seconds in [0.001, 600], got '%s'", s);
    const int pin = !tt_cmd_opt(&c, "no-pin");
    int unstable = 0;
    tt_record r = {0};
    for (int ti = 0; ti < nt && rc == TT_CMD_GO; ti++) {
        tt_pool *pool = tt_pool_create(threads[ti], pin);
        if (!pool) {
            rc = tt_die(TT_E_NOMEM);
            break;
        }
        if (ti == 0) { /* the context once; pinning as the first pool has it */
            tt_context ctx;
            tt_context_build(&ctx, &(tt_context_args){.command = c.name,
                                                       .threads = tt_cmd_opt(&c, "threads") ? tt_cmd_opt(&c, "threads") : "1",
                                                       .cache = "n/a", .pinning = tt_pool_pinning(pool), .measuring = 1,
                                                       .header = 1});
            tt_report_context(&c.rep, &ctx.rec);
            tt_context_free(&ctx);
        }
        for (int bi = 0; bi < nb; bi++) {
            size_t bytes = (size_t)mibs[bi] << 20;
            tt_stats st;
            tt_bw_buffer buf;
            const char *strategy = NULL;
            double each[TT_BW_NSTRATEGIES];
            if (tt_bw_buffer_init(&buf, bytes) < 0 ||
                tt_bw_buffer_probe_each(&buf, pool, min_time, &st, &strategy, each) < 0) {
                tt_bw_buffer_free(&buf);
                rc = tt_die(TT_E_NOMEM);
                break;
            }
            tt_bw_buffer_free(&buf);
            tt_rec_begin(&r, "bandwidth", &bw_table);
            tt_rec_int(&r, "threads", threads[ti]);
            tt_rec_int(&r, "bytes", (long long)bytes);
            tt_rec_str(&r, "isa", tt_bandwidth_isa());
            tt_rec_str(&r, "strategy", strategy); /* the best of plain, prefetch, streams, streams_pf */
            unstable |= !tt_rec_stats(&r, "gbps", "gbps_p25", "gbps_p75", &st);
            /* every read loop's median: gbps_plain, gbps_prefetch, ... */
#define GBPS_FIELD(s) "gbps_" #s,
            static const char *const each_key[TT_BW_NSTRATEGIES] = {TT_BW_STRATEGIES(GBPS_FIELD)};
#undef GBPS_FIELD
            for (int i = 0; i < TT_BW_NSTRATEGIES; i++) tt_rec_num(&r, each_key[i], each[i]);
            tt_report_row(&c.rep, &r);
        }
        tt_pool_destroy(pool);
    }
    tt_rec_free(&r);
    if (rc != TT_CMD_GO) return tt_cmd_end(&c, rc);
    if (unstable)
        tt_report_note(&c.rep, "unstable: the interquartile range exceeds 5%% of the median: quiet the machine or "
                               "raise --min-time");
    return tt_cmd_end(&c, TT_EXIT_OK);
}
