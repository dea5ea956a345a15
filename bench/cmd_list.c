/* tritune list: the variant table and what can run here; or, with
 * --model NAME --shapes, the BitLinear shapes of a model, read off the
 * model's tensor walk (model/tensors.h): the one definition of a model's
 * shapes, which the tuner asks for instead of parsing configs itself. */
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "core/cpu.h"
#include "model/tensors.h"
#include "seam/dispatch.h"

/* One distinct (M, K) among a model's BitLinears. */
typedef struct {
    int M, K;
    int count;                      /* tensors of this shape in the whole model */
    const char *roles[TT_TL_COUNT]; /* their roles, in walk order, once each    */
    int nroles;
} shape_row;

static int list_shapes(const char *model, int json) {
    tt_config c;
    tt_status st = tt_cli_load_model(model, &c);
    if (st != TT_OK) {
        tt_die(st);
        return TT_EXIT_USAGE; /* a missing or invalid model is bad input */
    }
    tt_tdesc *td;
    int n;
    if ((st = tt_model_tensor_list(&c, &td, &n)) != TT_OK) return tt_die(st);
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
    tt_json j = {0};
    if (json) tt_print_context(stdout, 1, "list", "-", "-", "-", 0);
    else
        printf("# %s: %d layers, hidden %d, ffn %d, %d heads (%d KV) of %d, vocab %d\n%-7s %-7s %-16s %9s %6s\n",
               c.name, c.layers, c.hidden, c.ffn, c.heads, c.kv_heads, c.head_dim, c.vocab, "M", "K", "tensors",
               "per_layer", "count");
    for (int r = 0; r < nr; r++) {
        const shape_row *s = &rows[r];
        char roles[160] = "", arr[200] = "[";
        size_t rl = 0, al = 1;
        for (int k = 0; k < s->nroles; k++) {
            rl += (size_t)snprintf(roles + rl, sizeof roles - rl, "%s%s", k ? "," : "", s->roles[k]);
            al += (size_t)snprintf(arr + al, sizeof arr - al, "%s\"%s\"", k ? "," : "", s->roles[k]);
        }
        snprintf(arr + al, sizeof arr - al, "]");
        if (json) {
            tj_begin(&j);
            tj_str(&j, "kind", "shape");
            tj_str(&j, "model", c.name);
            tj_int(&j, "M", s->M);
            tj_int(&j, "K", s->K);
            tj_raw(&j, "tensors", arr); /* roles are plain identifiers: no escaping needed */
            tj_int(&j, "per_layer", s->count / c.layers);
            tj_int(&j, "count", s->count);
            tj_int(&j, "layers", c.layers);
            tj_end(&j, stdout);
        } else {
            printf("%-7d %-7d %-16s %9d %6d\n", s->M, s->K, roles, s->count / c.layers, s->count);
        }
    }
    tj_free(&j);
    return TT_EXIT_OK;
}

int cmd_list(int argc, char **argv) {
    tt_opt o[] = {
        {"variant", 1, NULL, "shell glob over variant names (default: all)"},
        {"model", 1, NULL, "with --shapes: a model config, path or name in models/dummy (e.g. bitnet-b1.58-2b-4t)"},
        {"shapes", 0, NULL, "list the model's BitLinear shapes (M, K), their tensors and counts"},
        {"json", 0, NULL, "JSON lines output"},
        {"help", 0, NULL, "this help"},
    };
    const int no = (int)(sizeof o / sizeof *o);
    if (tt_args_parse("list", argc, argv, o, no)) return TT_EXIT_USAGE;
    if (tt_opt_get(o, no, "help")) {
        tt_opts_help(stdout,
                     "usage: tritune list [--variant GLOB] [--json]\n"
                     "       tritune list --model NAME --shapes [--json]",
                     o, no);
        return 0;
    }
    const char *glob = tt_opt_get(o, no, "variant"), *model = tt_opt_get(o, no, "model");
    int json = tt_opt_get(o, no, "json") != NULL;
    if (!model != !tt_opt_get(o, no, "shapes"))
        return tt_usage_error("list", "--model and --shapes go together: tritune list --model NAME --shapes");
    if (model && glob) return tt_usage_error("list", "--variant lists kernels, --model a model's shapes: not both");
    if (model) return list_shapes(model, json);
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
