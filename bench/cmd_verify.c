/* tritune verify: every runnable variant against its scalar reference. */
#include <fnmatch.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "core/timing.h"
#include "seam/dispatch.h"
#include "seam/verify.h"

/* the first failure, or what a skipped variant lacks */
static void show_detail(const tt_record *r, char *b, size_t n) {
    const char *first = tt_rec_s(r, "first_failure"), *missing = tt_rec_s(r, "missing_features");
    if (first) snprintf(b, n, "%s", first);
    else if (missing) snprintf(b, n, "needs %s", missing);
}
static const tt_column verify_cols[] = {
    TT_COL("status", NULL, -7),      TT_COL("variant", NULL, -44), TT_COL("cases", NULL, 6), TT_COL_NUM("ms", NULL, 7, "%.0f", 1),
    TT_COL_SHOW("detail", 0, show_detail),
};
static const tt_table verify_table = TT_TABLE(TT_TABLE_COLUMNS, NULL, verify_cols);

int cmd_verify(int argc, char **argv) {
    tt_opt o[] = {
        {"variant", 1, NULL, "shell glob over variant names (default: all)"},
        {"seed", 1, NULL, "random seed (default 1)"},
        {"thorough", 0, NULL, "more seeds and larger adversarial K"},
        {"quiet", 0, NULL, "print failures and the summary only (table)"},
    };
    tt_cmd c = TT_CMD("verify", "[--variant GLOB] [--seed N] [--thorough] [--quiet]", o);
    int rc = tt_cmd_start(&c, argc, argv);
    if (rc != TT_CMD_GO) return rc;
    const char *glob = tt_cmd_opt(&c, "variant");
    long seed = 1;
    if (tt_cmd_opt(&c, "seed") && tt_parse_int(tt_cmd_opt(&c, "seed"), 0, 1L << 62, &seed))
        return tt_usage_error("verify", "--seed must be a non-negative integer");
    c.rep.quiet = tt_cmd_opt(&c, "quiet") != NULL;
    const int level = tt_cmd_opt(&c, "thorough") ? 1 : 0;
    if (glob && tt_variant_glob_count(glob) == 0)
        return tt_usage_error("verify", "no variant matches '%s' (see 'tritune list')", glob);
    tt_context ctx;
    tt_context_build(&ctx, &(tt_context_args){.command = "verify", .threads = "1"});
    tt_report_context(&c.rep, &ctx.rec);
    int passed = 0, failed = 0, skipped = 0;
    tt_record r = {0};
    for (int i = 0; i < tt_n_variants && rc == TT_CMD_GO; i++) {
        const tt_variant *v = &tt_variants[i];
        if (glob && fnmatch(glob, v->name, 0) != 0) continue;
        tt_verify_result vr = {0};
        const char *status;
        char missing[128] = "";
        tt_status st = TT_OK;
        uint64_t t0 = tt_now_ns();
        if (!tt_variant_runnable(v, ctx.feats)) {
            tt_features_str(v->features & ~ctx.feats, missing, sizeof missing);
            status = "skipped";
            skipped++;
        } else {
            st = tt_verify_variant(v, (uint64_t)seed, level, &vr);
            if (st == TT_OK) status = "pass", passed++;
            else if (st == TT_E_VERIFY) status = "FAIL", failed++;
            else {
                rc = tt_die(st); /* the harness itself failed (memory): no row */
                break;
            }
        }
        const double ms = (double)(tt_now_ns() - t0) * 1e-6;
        tt_rec_begin(&r, "verify", &verify_table);
        r.routine = st == TT_OK;
        tt_rec_str(&r, "variant", v->name);
        tt_rec_str(&r, "format", tt_wformat_name(v->wfmt));
        tt_rec_str(&r, "isa", v->isa);
        tt_rec_str(&r, "status", status);
        tt_rec_bool(&r, "verified", st == TT_OK && vr.cases > 0);
        tt_rec_int(&r, "cases", vr.cases);
        tt_rec_int(&r, "failures", vr.failures);
        if (vr.first[0]) tt_rec_str(&r, "first_failure", vr.first);
        if (missing[0]) tt_rec_str(&r, "missing_features", missing);
        tt_rec_num(&r, "ms", ms);
        tt_report_row(&c.rep, &r);
    }
    tt_rec_free(&r);
    tt_context_free(&ctx);
    if (rc != TT_CMD_GO) return tt_cmd_end(&c, rc);
    tt_report_note(&c.rep, "%d passed, %d failed, %d skipped (CPU lacks features)", passed, failed, skipped);
    return tt_cmd_end(&c, failed ? TT_EXIT_FAIL : TT_EXIT_OK);
}
