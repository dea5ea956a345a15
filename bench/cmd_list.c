/* tritune list: the variant table and what can run here; with --model and
 * --shapes, a model's BitLinear shapes (the tensor walk of model/tensors.c:
 * the one definition of a model's shapes, which the tuner reads). */
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "model/tensors.h"
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

static const tt_column shape_cols[] = {
    TT_COL("M", NULL, -7),
    TT_COL("K", NULL, -7),
    TT_COL("tensors", NULL, -16),
    TT_COL("per_layer", NULL, 9),
    TT_COL("count", NULL, 6),
};
static const tt_table shape_table = TT_TABLE(TT_TABLE_COLUMNS, NULL, shape_cols);

/* One distinct (M, K) among a model's BitLinears. */
typedef struct {
    int M, K;
    int count;                      /* tensors of this shape in the whole model */
    const char *roles[TT_TL_COUNT]; /* their roles, in walk order, once each    */
    int nroles;
} shape_row;

static int list_shapes(tt_cmd *cmd, const char *model) {
    tt_config c;
    tt_status st = tt_cli_load_model(model, &c);
    if (st != TT_OK) return tt_cmd_end(cmd, tt_die(st)); /* missing or invalid: 2 */
    tt_tdesc *td;
    int n;
    if ((st = tt_model_tensor_list(&c, &td, &n)) != TT_OK) return tt_cmd_end(cmd, tt_die(st));
    shape_row rows[TT_TL_COUNT];
    int nr = 0;
    for (int i = 0; i < n; i++) {
        if (td[i].kind != TT_TK_TERNARY) continue;
        int r = 0;
        while (r < nr && !(rows[r].M == td[i].M && rows[r].K == td[i].K)) r++;
        if (r == nr) {
            if (nr == TT_TL_COUNT) continue; /* cannot happen: at most TT_TL_COUNT roles */
            rows[nr++] = (shape_row){.M = td[i].M, .K = td[i].K};
        }
        shape_row *s = &rows[r];
        s->count++;
        int seen = 0;
        for (int j = 0; j < s->nroles; j++) seen |= !strcmp(s->roles[j], td[i].role);
        if (!seen && s->nroles < TT_TL_COUNT) s->roles[s->nroles++] = td[i].role;
    }
    free(td);
    tt_context ctx;
    tt_context_build(&ctx, &(tt_context_args){.command = "list"});
    tt_report_context(&cmd->rep, &ctx.rec);
    tt_report_note(&cmd->rep, "%s: %d layers, hidden %d, ffn %d, %d heads (%d KV) of %d, vocab %d", c.name, c.layers,
                   c.hidden, c.ffn, c.heads, c.kv_heads, c.head_dim, c.vocab);
    tt_record r = {0};
    for (int i = 0; i < nr; i++) {
        const shape_row *s = &rows[i];
        tt_rec_begin(&r, "shape", &shape_table);
        tt_rec_str(&r, "model", c.name);
        tt_rec_int(&r, "M", s->M);
        tt_rec_int(&r, "K", s->K);
        tt_rec_strs(&r, "tensors", s->roles, s->nroles);
        tt_rec_int(&r, "per_layer", s->count / c.layers);
        tt_rec_int(&r, "count", s->count);
        tt_rec_int(&r, "layers", c.layers);
        tt_report_row(&cmd->rep, &r);
    }
    tt_rec_free(&r);
    tt_context_free(&ctx);
    return tt_cmd_end(cmd, TT_EXIT_OK);
}

int cmd_list(int argc, char **argv) {
    tt_opt o[] = {
        {"variant", 1, NULL, "shell glob over variant names (default: all)"},
        {"model", 1, NULL, "with --shapes: a model config, path or name in models/dummy (e.g. bitnet-b1.58-2b-4t)"},
        {"shapes", 0, NULL, "list the model's BitLinear shapes (M, K), their tensors and counts"},
    };
    tt_cmd c = TT_CMD("list", "[--variant GLOB] | --model NAME --shapes", o);
    int rc = tt_cmd_start(&c, argc, argv);
    if (rc != TT_CMD_GO) return rc;
    const char *glob = tt_cmd_opt(&c, "variant"), *model = tt_cmd_opt(&c, "model");
    if (!model != !tt_cmd_opt(&c, "shapes"))
        return tt_usage_error("list", "--model and --shapes go together: tritune list --model NAME --shapes");
    if (model && glob) return tt_usage_error("list", "--variant lists kernels, --model a model's shapes: not both");
    if (model) return list_shapes(&c, model);
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
