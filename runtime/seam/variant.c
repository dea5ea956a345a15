/* tritune: queries over the variant table (see variant.h): lookup by name
 * or glob, what runs here, what a shape needs, the generic and the default
 * choice.  Nothing here runs a kernel. */
#include "seam/variant.h"

#include <fnmatch.h>
#include <stdio.h>
#include <string.h>

#include "seam/formats_table.h"

const char *tt_op_name(tt_op op) { return op == TT_OP_GEMV ? "gemv" : op == TT_OP_GEMM ? "gemm" : "?"; }

const tt_variant *tt_variant_find(const char *name) {
    for (int i = 0; i < tt_n_variants; i++)
        if (strcmp(tt_variants[i].name, name) == 0) return &tt_variants[i];
    return NULL;
}

int tt_variant_glob_count(const char *glob) {
    int c = 0;
    for (int i = 0; i < tt_n_variants; i++)
        if (!glob || fnmatch(glob, tt_variants[i].name, 0) == 0) c++;
    return c;
}

int tt_variant_runnable(const tt_variant *v, uint32_t feats) { return (v->features & feats) == v->features; }

tt_status tt_variant_check(const tt_variant *v, int M, int K, int N, char *why, size_t n) {
    char tmp[1];
    if (!why) why = tmp, n = sizeof tmp;
    if (M <= 0 || K <= 0 || N <= 0) {
        snprintf(why, n, "shape M=%d K=%d N=%d must be positive", M, K, N);
        return TT_E_SHAPE;
    }
    if (v->m_align > 1 && M % v->m_align) {
        snprintf(why, n, "%s needs M %% %d == 0 (M = %d)", v->name, v->m_align, M);
        return TT_E_SHAPE;
    }
    if (v->k_align > 1 && K % v->k_align) {
        snprintf(why, n, "%s needs K %% %d == 0 (K = %d)", v->name, v->k_align, K);
        return TT_E_SHAPE;
    }
    if (K < v->min_k) {
        snprintf(why, n, "%s needs K >= %d (K = %d)", v->name, v->min_k, K);
        return TT_E_SHAPE;
    }
    if (K > v->max_k) {
        snprintf(why, n, "%s needs K <= %d, its int32 overflow bound (K = %d)", v->name, v->max_k, K);
        return TT_E_SHAPE;
    }
    if (v->max_n > 0 && N > v->max_n) {
        snprintf(why, n, "%s takes at most N = %d token(s) (N = %d)", v->name, v->max_n, N);
        return TT_E_SHAPE;
    }
    if (n) why[0] = '\0';
    return TT_OK;
}

static int unrestricted(const tt_variant *v) {
    return v->m_align <= 1 && v->k_align <= 1 && v->min_k <= 1 && v->max_k >= (1 << 30);
}

const tt_variant *tt_variant_generic(tt_op op, tt_wformat fmt) {
    const tt_variant *best = NULL;
    for (int i = 0; i < tt_n_variants; i++) {
        const tt_variant *v = &tt_variants[i];
        if (v->op != op || v->wfmt != fmt || strcmp(v->isa, "c") != 0 || !unrestricted(v)) continue;
        if (strcmp(v->layout, tt_wformat_name(fmt)) != 0) continue;
        if (!best || v->tiles.rows < best->tiles.rows) best = v;
    }
    return best;
}

const tt_variant *tt_variant_default(tt_op op, tt_wformat fmt, const char *layout, int M, int K, int N,
                                     uint32_t feats) {
    const tt_variant *best = NULL;
    for (int i = 0; i < tt_n_variants; i++) {
        const tt_variant *v = &tt_variants[i];
        if (v->op != op || v->wfmt != fmt || !tt_variant_runnable(v, feats)) continue;
        if (layout && strcmp(v->layout, layout) != 0) continue;
        if (tt_variant_check(v, M, K, N, NULL, 0) != TT_OK) continue;
        if (!best || v->prio > best->prio) best = v;
    }
    return best;
}
