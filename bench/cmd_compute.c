/* tritune bench compute: the compute roofline (peak int8 multiply-add
 * rate per ISA and thread count; seam/compute.h says how it is measured). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "seam/compute.h"

static void show_iqr(const tt_record *r, char *b, size_t n) { tt_show_rel_iqr(r, "gops", b, n); }
static void show_stable(const tt_record *r, char *b, size_t n) {
    const char *why = tt_rec_s(r, "error");
    if (why) snprintf(b, n, "%s", why);
    else if (!tt_rec_d(r, "stable", 1)) snprintf(b, n, "unstable");
}
static const tt_column pk_cols[] = {
    TT_COL("isa", NULL, -6),
    TT_COL("instruction", NULL, -12),
    TT_COL("threads", NULL, -8),
    TT_COL_NUM("gops", "GOPS", 10, "%.1f", 1),
    TT_COL_NUM("gops_p25", "p25", 10, "%.1f", 1),
    TT_COL_NUM("gops_p75", "p75", 10, "%.1f", 1),
    TT_COL_SHOW("IQR", 6, show_iqr),
    TT_COL_SHOW("", 0, show_stable),
};
static const tt_table pk_table = TT_TABLE(TT_TABLE_COLUMNS, NULL, pk_cols);

static const char *const instr[TT_PEAK_COUNT] = {"vpmaddubsw", "vpdpbusd", "tdpbssd"};

int cmd_bench_compute(int argc, char **argv) {
    tt_opt o[] = {
        {"threads", 1, NULL, "thread count list, e.g. 1,2 (default 1)"},
        {"isa", 1, NULL, "avx2, vnni, amx or a list (default: all; absent ones are rows with the reason)"},
        {"min-time", 1, NULL, "seconds per measurement (default 0.3)"},
        {"no-pin", 0, NULL, "do not pin threads"},
        TT_OPT_OVERSUBSCRIBE,
    };
    tt_cmd c = TT_CMD("bench compute", "[--threads 1,2] [--isa avx2,vnni,amx] [--min-time S]", o);
    int rc = tt_cmd_start(&c, argc, argv);
    if (rc != TT_CMD_GO) return rc;
    int threads[16] = {1}, nt = 1;
    const char *s;
    if ((nt = tt_cmd_threads(&c, threads, 16)) < 0) return TT_EXIT_USAGE;
    int want[TT_PEAK_COUNT] = {1, 1, 1};
    if ((s = tt_cmd_opt(&c, "isa"))) {
        memset(want, 0, sizeof want);
        char tok[16];
        const char *at = s;
        do {
            const int p = tt_list_next(&at, tok, sizeof tok) < 0 ? -1 : tt_peak_from_name(tok);
            if (p < 0) return tt_usage_error(c.name, "--isa wants avx2, vnni or amx (a list), got '%s'", s);
            want[p] = 1;
        } while (*at || at[-1] == ',');
    }
    double min_time = 0.3;
    if ((s = tt_cmd_opt(&c, "min-time")) && tt_parse_double(s, 0.001, 600, &min_time))
        return tt_usage_error(c.name, "--min-time wants seconds in [0.001, 600], got '%s'", s);
    const int pin = !tt_cmd_opt(&c, "no-pin");
    int unstable = 0, measured = 0;
    tt_record r = {0};
    for (int ti = 0; ti < nt; ti++) {
        tt_pool *pool = tt_pool_create(threads[ti], pin);
        if (!pool) {
            tt_rec_free(&r);
            return tt_cmd_end(&c, tt_die(TT_E_NOMEM));
        }
        if (ti == 0) {
            tt_context ctx;
            tt_context_build(&ctx, &(tt_context_args){.command = c.name,
                                                       .threads = tt_cmd_opt(&c, "threads") ? tt_cmd_opt(&c, "threads") : "1",
                                                       .cache = "n/a (registers and tiles)", .pinning = tt_pool_pinning(pool),
                                                       .measuring = 1, .header = 1});
            tt_report_context(&c.rep, &ctx.rec);
            tt_context_free(&ctx);
        }
        for (int p = 0; p < TT_PEAK_COUNT; p++) {
            if (!want[p]) continue;
            tt_stats st;
            tt_rec_begin(&r, "compute", &pk_table);
            tt_rec_str(&r, "isa", tt_peak_name((tt_peak_isa)p));
            tt_rec_str(&r, "instruction", instr[p]);
            tt_rec_int(&r, "threads", threads[ti]);
            tt_clear_error();
            if (tt_compute_probe(pool, (tt_peak_isa)p, min_time, &st) < 0) {
                tt_rec_str(&r, "status", "unsupported");
                tt_rec_str(&r, "error", tt_last_error());
                tt_rec_null(&r, "gops");
            } else {
                measured++;
                tt_rec_str(&r, "status", "ok");
                unstable |= !tt_rec_stats(&r, "gops", "gops_p25", "gops_p75", &st);
            }
            tt_report_row(&c.rep, &r);
        }
        tt_pool_destroy(pool);
    }
    tt_rec_free(&r);
    if (unstable)
        tt_report_note(&c.rep, "unstable: the interquartile range exceeds 5%% of the median: quiet the machine or "
                               "raise --min-time");
    if (!measured) return tt_cmd_end(&c, TT_EXIT_ENV);
    return tt_cmd_end(&c, TT_EXIT_OK);
}
