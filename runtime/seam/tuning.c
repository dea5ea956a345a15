/* tritune: the tuned.tsv reader (see tuning.h). */
#include "seam/tuning.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "seam/formats_table.h"

tt_status tt_tuning_load(tt_tuning *t, const char *path) {
    memset(t, 0, sizeof *t);
    FILE *f = fopen(path, "r");
    if (!f) return tt_set_error(TT_E_IO, "cannot open tuning file %s: %s", path, strerror(errno));
    char line[512];
    int lineno = 0, cap = 0;
    tt_status st = TT_OK;
    while (fgets(line, sizeof line, f)) {
        lineno++;
        char *p = line + strspn(line, " \t");
        if (*p == '#' || *p == '\n' || *p == '\0') continue;
        char op[16], fmt[16], name[256];
        int M, K, N, T;
        if (sscanf(p, "%15s %15s %d %d %d %d %255s", op, fmt, &M, &K, &N, &T, name) != 7) {
            st = tt_set_error(TT_E_CONFIG, "%s:%d: expected 'op fmt M K N threads variant'", path, lineno);
            break;
        }
        int fi = tt_wformat_from_name(fmt);
        if (fi >= 0 && !tt_wformat_is_ternary((tt_wformat)fi)) fi = -1; /* kernels are tuned for ternary formats */
        int oi = strcmp(op, "gemv") == 0 ? TT_OP_GEMV : strcmp(op, "gemm") == 0 ? TT_OP_GEMM : -1;
        const tt_variant *v = tt_variant_find(name);
        if (oi < 0 || fi < 0 || M <= 0 || K <= 0 || N <= 0 || T <= 0) {
            st = tt_set_error(TT_E_CONFIG, "%s:%d: bad op/format/shape", path, lineno);
            break;
        }
        if (!v) {
            st = tt_set_error(TT_E_CONFIG, "%s:%d: unknown variant %s (tuned with another build?)", path, lineno, name);
            break;
        }
        if (t->n == cap) {
            cap = cap ? cap * 2 : 16;
            tt_tuned_entry *e = realloc(t->e, sizeof *e * (size_t)cap);
            if (!e) {
                st = tt_set_error(TT_E_NOMEM, "tuning file too large");
                break;
            }
            t->e = e;
        }
        t->e[t->n++] = (tt_tuned_entry){(tt_op)oi, (tt_wformat)fi, M, K, N, T, v};
    }
    fclose(f);
    if (st != TT_OK) tt_tuning_free(t);
    return st;
}

void tt_tuning_free(tt_tuning *t) {
    free(t->e);
    memset(t, 0, sizeof *t);
}

const tt_variant *tt_tuning_lookup(const tt_tuning *t, tt_op op, tt_wformat fmt, int M, int K, int N, int threads) {
    if (!t) return NULL;
    const tt_variant *best = NULL;
    int bestd = 1 << 30;
    for (int i = 0; i < t->n; i++) {
        const tt_tuned_entry *e = &t->e[i];
        if (e->op != op || e->fmt != fmt || e->M != M || e->K != K || e->threads != threads) continue;
        int d = abs(e->N - N);
        if (d < bestd) bestd = d, best = e->v;
    }
    return best;
}
