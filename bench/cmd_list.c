/* tritune list: the variant table, and what can run here. */
#include <fnmatch.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "core/cpu.h"
#include "seam/dispatch.h"

int cmd_list(int argc, char **argv) {
    tt_opt o[] = {
        {"variant", 1, NULL, "shell glob over variant names (default: all)"},
        {"json", 0, NULL, "JSON lines output"},
        {"help", 0, NULL, "this help"},
    };
    const int no = (int)(sizeof o / sizeof *o);
    if (tt_args_parse("list", argc, argv, o, no)) return TT_EXIT_USAGE;
    if (tt_opt_get(o, no, "help")) {
        tt_opts_help(stdout, "usage: tritune list [--variant GLOB] [--json]", o, no);
        return 0;
    }
    const char *glob = tt_opt_get(o, no, "variant");
    int json = tt_opt_get(o, no, "json") != NULL;
    if (glob && tt_variant_glob_count(glob) == 0)
        return tt_usage_error("list", "no variant matches '%s' (see 'tritune list')", glob);
    uint32_t f = tt_cpu_features();
    if (json) tt_print_context(stdout, 1, "list", "-", "-", "-", 0);
    else printf("%-44s %-5s %-4s %-11s %-7s %-9s %s\n", "variant", "op", "fmt", "isa", "layout", "runnable", "params");
    tt_json j = {0};
    for (int i = 0; i < tt_n_variants; i++) {
        const tt_variant *v = &tt_variants[i];
        if (glob && fnmatch(glob, v->name, 0) != 0) continue;
        int run = tt_variant_runnable(v, f);
        char missing[128];
        tt_features_str(v->features & ~f, missing, sizeof missing);
        if (json) {
            tj_begin(&j);
            tj_str(&j, "kind", "variant");
            tj_str(&j, "variant", v->name);
            tj_str(&j, "op", tt_op_name(v->op));
            tj_str(&j, "format", tt_wformat_name(v->wfmt));
            tj_str(&j, "afmt", v->afmt);
            tj_str(&j, "isa", v->isa);
            tj_str(&j, "layout", v->layout);
            tj_str(&j, "params", v->params);
            tj_bool(&j, "runnable", run);
            tj_str(&j, "missing_features", missing);
            tj_str(&j, "reference", v->ref_name);
            tj_end(&j, stdout);
        } else {
            char r[160];
            snprintf(r, sizeof r, "%s%s", run ? "yes" : "no: needs ", run ? "" : missing);
            printf("%-44s %-5s %-4s %-11s %-7s %-9s %s\n", v->name, tt_op_name(v->op), tt_wformat_name(v->wfmt), v->isa,
                   v->layout, r, v->params);
        }
    }
    tj_free(&j);
    return 0;
}
