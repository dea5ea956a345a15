/* tritune bench bandwidth: the read roofline at a thread count and working set. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "seam/bandwidth.h"
#include "cli.h"

int cmd_bench_bandwidth(int argc, char **argv) {
    tt_opt o[] = {
        {"threads", 1, NULL, "thread count list, e.g. 1,2 (default 1)"},
        {"bytes", 1, NULL, "working-set list in MiB, e.g. 1,64,1024 (default 1024 = DRAM)"},
        {"min-time", 1, NULL, "seconds per measurement (default 0.5)"},
        {"no-pin", 0, NULL, "do not pin threads"},
        {"json", 0, NULL, "JSON lines output"},
        {"help", 0, NULL, "this help"},
    };
    const int no = (int)(sizeof o / sizeof *o);
    if (tt_args_parse("bench bandwidth", argc, argv, o, no)) return TT_EXIT_USAGE;
    if (tt_opt_get(o, no, "help")) {
        tt_opts_help(stdout, "usage: tritune bench bandwidth [--threads 1,2] [--bytes MiB,...] [--min-time S] [--json]",
                     o, no);
        return 0;
    }
    int threads[16] = {1}, nt = 1, mibs[16] = {1024}, nb = 1;
    const char *s;
    if ((s = tt_opt_get(o, no, "threads")) && (nt = tt_parse_threads(s, threads, 16)) < 0)
        return tt_usage_error("bench bandwidth", "--threads wants a list of thread counts in 1..1024, got '%s'", s);
    if ((s = tt_opt_get(o, no, "bytes")) && (nb = tt_parse_int_list(s, mibs, 16)) < 0)
        return tt_usage_error("bench bandwidth", "--bytes wants a list of sizes in MiB, got '%s'", s);
    double min_time = 0.5;
    if ((s = tt_opt_get(o, no, "min-time")) && tt_parse_double(s, 0.001, 600, &min_time))
        return tt_usage_error("bench bandwidth", "--min-time wants seconds in [0.001, 600], got '%s'", s);
    int json = tt_opt_get(o, no, "json") != NULL, pin = !tt_opt_get(o, no, "no-pin");
    int rc = 0;
    tt_json j = {0};
    int header = 0;
    for (int ti = 0; ti < nt; ti++) {
        tt_pool *pool = tt_pool_create(threads[ti], pin);
        if (!pool) return tt_die(TT_E_NOMEM);
        if (!header) {
            char td[64];
            snprintf(td, sizeof td, "%s", tt_opt_get(o, no, "threads") ? tt_opt_get(o, no, "threads") : "1");
            tt_print_context(stdout, json, "bench bandwidth", td, "n/a", tt_pool_pinning(pool), 1);
            if (!json) printf("%-8s %12s %10s %10s %10s %7s\n", "threads", "working set", "GB/s", "p25", "p75", "cv");
            header = 1;
        }
        for (int bi = 0; bi < nb; bi++) {
            size_t bytes = (size_t)mibs[bi] << 20;
            tt_stats st;
            double g = tt_bandwidth_probe_pool(pool, bytes, min_time, &st);
            if (g < 0) {
                tt_pool_destroy(pool);
                return tt_die(TT_E_NOMEM);
            }
            if (json) {
                tj_begin(&j);
                tj_str(&j, "kind", "bandwidth");
                tj_int(&j, "threads", threads[ti]);
                tj_int(&j, "bytes", (long long)bytes);
                tj_str(&j, "isa", tt_bandwidth_isa());
                tj_int(&j, "samples", st.n);
                tj_num(&j, "gbps", st.median);
                tj_num(&j, "gbps_p25", st.p25);
                tj_num(&j, "gbps_p75", st.p75);
                tj_num(&j, "cv", st.cv);
                tj_bool(&j, "stable", tt_stats_stable(&st));
                tj_end(&j, stdout);
            } else {
                printf("%-8d %8d MiB %10.1f %10.1f %10.1f %6.1f%%%s\n", threads[ti], mibs[bi], st.median, st.p25, st.p75,
                       100 * st.cv, !tt_stats_stable(&st) ? "  unstable (IQR > 5%: quiet the machine or raise --min-time)" : "");
            }
        }
        tt_pool_destroy(pool);
    }
    tj_free(&j);
    return rc;
}
