/* tritune verify: every runnable variant against its scalar reference. */
#include <fnmatch.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "core/cpu.h"
#include "seam/dispatch.h"
#include "core/timing.h"
#include "seam/verify.h"

int cmd_verify(int argc, char **argv) {
    tt_opt o[] = {
        {"variant", 1, NULL, "shell glob over variant names (default: all)"},
        {"seed", 1, NULL, "random seed (default 1)"},
        {"thorough", 0, NULL, "more seeds and larger adversarial K"},
        {"json", 0, NULL, "JSON lines output"},
        {"quiet", 0, NULL, "print failures and the summary only"},
        {"help", 0, NULL, "this help"},
    };
    const int no = (int)(sizeof o / sizeof *o);
    if (tt_args_parse("verify", argc, argv, o, no)) return TT_EXIT_USAGE;
    if (tt_opt_get(o, no, "help")) {
        tt_opts_help(stdout, "usage: tritune verify [--variant GLOB] [--seed N] [--thorough] [--json]", o, no);
        return 0;
    }
    const char *glob = tt_opt_get(o, no, "variant");
    long seed = 1;
    if (tt_opt_get(o, no, "seed") && tt_parse_int(tt_opt_get(o, no, "seed"), 0, 1L << 62, &seed))
        return tt_usage_error("verify", "--seed must be a non-negative integer");
    int json = tt_opt_get(o, no, "json") != NULL, quiet = tt_opt_get(o, no, "quiet") != NULL;
    int level = tt_opt_get(o, no, "thorough") ? 1 : 0;
    if (glob && tt_variant_glob_count(glob) == 0)
        return tt_usage_error("verify", "no variant matches '%s' (see 'tritune list')", glob);
    uint32_t f = tt_cpu_features();
    if (json) tt_print_context(stdout, 1, "verify", "1", "-", "-", 0);
    int passed = 0, failed = 0, skipped = 0;
    tt_json j = {0};
    for (int i = 0; i < tt_n_variants; i++) {
        const tt_variant *v = &tt_variants[i];
        if (glob && fnmatch(glob, v->name, 0) != 0) continue;
        tt_verify_result r = {0};
        const char *status;
        char missing[128] = "";
        tt_status st = TT_OK;
        uint64_t t0 = tt_now_ns();
        if (!tt_variant_runnable(v, f)) {
            tt_features_str(v->features & ~f, missing, sizeof missing);
            status = "skipped";
            skipped++;
        } else {
            st = tt_verify_variant(v, (uint64_t)seed, level, &r);
            if (st == TT_OK) status = "pass", passed++;
            else if (st == TT_E_VERIFY) status = "FAIL", failed++;
            else return tt_die(st);
        }
        double ms = (double)(tt_now_ns() - t0) * 1e-6;
        if (json) {
            tj_begin(&j);
            tj_str(&j, "kind", "verify");
            tj_str(&j, "variant", v->name);
            tj_str(&j, "format", tt_wformat_name(v->wfmt));
            tj_str(&j, "isa", v->isa);
            tj_str(&j, "status", status);
            tj_bool(&j, "verified", st == TT_OK && r.cases > 0);
            tj_int(&j, "cases", r.cases);
            tj_int(&j, "failures", r.failures);
            if (r.first[0]) tj_str(&j, "first_failure", r.first);
            if (missing[0]) tj_str(&j, "missing_features", missing);
            tj_num(&j, "ms", ms);
            tj_end(&j, stdout);
        } else if (!quiet || st != TT_OK) {
            if (missing[0]) printf("%-7s %s (needs %s)\n", status, v->name, missing);
            else printf("%-7s %s  (%d cases, %.0f ms)%s%s\n", status, v->name, r.cases, ms, r.first[0] ? "\n        " : "",
                        r.first);
        }
    }
    tj_free(&j);
    if (!json) printf("%d passed, %d failed, %d skipped (CPU lacks features)\n", passed, failed, skipped);
    return failed ? TT_EXIT_FAIL : TT_EXIT_OK;
}
