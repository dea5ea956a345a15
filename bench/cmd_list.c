/* tritune list: the variant table, and what can run here. */
#include <fnmatch.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "seam/dispatch.h"

static void show_runnable(const tt_record *r, char *b, size_t n) {
    const tt_field *f = tt_rec_get(r, "runnable");
    snprintf(b, n, "%s%s", f && f->i ? "yes" : "no: needs ", f && f->i ? "" : tt_rec_s(r, "missing_features"));
}
static const tt_column list_cols[] = {
    TT_COL("variant", NULL, -44),
    TT_COL("op", NULL, -5),
    TT_COL("format", "fmt", -4),
    TT_COL("isa", NULL, -11),
    TT_COL("layout", NULL, -7),
    TT_COL_SHOW("runnable", -9, show_runnable),
    TT_COL("params", NULL, 0),
};
static const tt_table list_table = TT_TABLE(TT_TABLE_COLUMNS, NULL, list_cols);

int cmd_list(int argc, char **argv) {
    tt_opt o[] = {
        {"variant", 1, NULL, "shell glob over variant names (default: all)"},
    };
    tt_cmd c = TT_CMD("list", "[--variant GLOB]", o);
    int rc = tt_cmd_start(&c, argc, argv);
    if (rc != TT_CMD_GO) return rc;
    const char *glob = tt_cmd_opt(&c, "variant");
    if (glob && tt_variant_glob_count(glob) == 0)
        return tt_usage_error("list", "no variant matches '%s' (see 'tritune list')", glob);
    tt_context ctx;
    tt_context_build(&ctx, &(tt_context_args){.command = "list"});
    tt_report_context(&c.rep, &ctx.rec);
    tt_record r = {0};
    for (int i = 0; i < tt_n_variants; i++) {
        const tt_variant *v = &tt_variants[i];
        if (glob && fnmatch(glob, v->name, 0) != 0) continue;
        char missing[128];
        tt_features_str(v->features & ~ctx.feats, missing, sizeof missing);
        tt_rec_begin(&r, "variant", &list_table);
        tt_rec_str(&r, "variant", v->name);
        tt_rec_str(&r, "op", tt_op_name(v->op));
        tt_rec_str(&r, "format", tt_wformat_name(v->wfmt));
        tt_rec_str(&r, "afmt", v->afmt);
        tt_rec_str(&r, "isa", v->isa);
        tt_rec_str(&r, "layout", v->layout);
        tt_rec_str(&r, "params", v->params);
        tt_rec_bool(&r, "runnable", tt_variant_runnable(v, ctx.feats));
        tt_rec_str(&r, "missing_features", missing);
        tt_rec_str(&r, "reference", v->ref_name);
        tt_report_row(&c.rep, &r);
    }
    tt_rec_free(&r);
    tt_context_free(&ctx);
    return tt_cmd_end(&c, TT_EXIT_OK);
}
