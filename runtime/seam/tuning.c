/* tritune: the tuned.tsv reader (see tuning.h). */
#include "seam/tuning.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/file.h"
#include "seam/formats_table.h"

#define TUNING_MAX_BYTES ((size_t)16 << 20)
#define TUNING_MAX_FIELDS 8

/* A decimal integer in [lo, hi] made of digits only (no sign, no junk, no
 * overflow: M = 4294967392 is refused, never wrapped). */
static int parse_dec(const char *s, long lo, long hi, long *out) {
    if (!*s || strlen(s) > 12) return -1;
    long v = 0;
    for (const char *p = s; *p; p++) {
        if (*p < '0' || *p > '9') return -1;
        v = v * 10 + (*p - '0');
    }
    if (v < lo || v > hi) return -1;
    *out = v;
    return 0;
}

/* Split line (modified in place) at spaces, tabs and a trailing '\r'. */
static int split(char *line, char **f, int max) {
    int n = 0;
    for (char *save, *tok = strtok_r(line, " \t\r", &save); tok; tok = strtok_r(NULL, " \t\r", &save)) {
        if (n == max) return max + 1;
        f[n++] = tok;
    }
    return n;
}

/* A comment line "# ... generator <hash> ...": 1 when it names one (copied to hash). */
static int generator_of(char *line, char *hash, size_t n) {
    char *f[64];
    const int k = split(line, f, 63);
    for (int i = 0; i + 1 < k && i < 63; i++)
        if (!strcmp(f[i], "generator")) {
            snprintf(hash, n, "%s", f[i + 1]);
            return 1;
        }
    return 0;
}

typedef struct {
    const char *path;
    int line;
} where;

/* One "op fmt M K N threads variant" line into *e. */
static tt_status parse_entry(const where *w, char *line, tt_tuned_entry *e) {
    char *f[TUNING_MAX_FIELDS];
    const int n = split(line, f, TUNING_MAX_FIELDS - 1);
    if (n != 7)
        return tt_set_error(TT_E_CONFIG, "%s:%d: expected 7 fields 'op fmt M K N threads variant', found %s%d", w->path,
                            w->line, n > 7 ? "more than " : "", n > 7 ? 7 : n);
    const int oi = !strcmp(f[0], "gemv") ? TT_OP_GEMV : !strcmp(f[0], "gemm") ? TT_OP_GEMM : -1;
    if (oi < 0) return tt_set_error(TT_E_CONFIG, "%s:%d: op '%.32s' is neither gemv nor gemm", w->path, w->line, f[0]);
    const int fi = tt_wformat_from_name(f[1]);
    if (fi < 0 || !tt_wformat_is_ternary((tt_wformat)fi)) /* kernels are tuned for ternary formats */
        return tt_set_error(TT_E_CONFIG, "%s:%d: format '%.32s' is not a ternary format (i2s, tl1, tl2)", w->path,
                            w->line, f[1]);
    static const struct { const char *name; long hi; } lim[4] = {{"M", 1 << 24}, {"K", 1 << 24}, {"N", 1 << 16}, {"threads", 1024}};
    long v[4];
    for (int i = 0; i < 4; i++)
        if (parse_dec(f[2 + i], 1, lim[i].hi, &v[i]))
            return tt_set_error(TT_E_CONFIG, "%s:%d: %s = '%.32s' is not an integer in 1..%ld", w->path, w->line,
                                lim[i].name, f[2 + i], lim[i].hi);
    if (oi == TT_OP_GEMV && v[2] != 1)
        return tt_set_error(TT_E_CONFIG, "%s:%d: a gemv line has N = 1, not %ld", w->path, w->line, v[2]);
    const tt_variant *var = tt_variant_find(f[6]);
    if (!var)
        return tt_set_error(TT_E_CONFIG, "%s:%d: unknown variant %.200s (tuned with another build?)", w->path, w->line,
                            f[6]);
    if ((int)var->op != oi || (int)var->wfmt != fi)
        return tt_set_error(TT_E_CONFIG, "%s:%d: variant %s is a %s %s kernel, the line is for %s %s", w->path, w->line,
                            var->name, tt_op_name(var->op), tt_wformat_name(var->wfmt), f[0], f[1]);
    *e = (tt_tuned_entry){(tt_op)oi, (tt_wformat)fi, (int)v[0], (int)v[1], (int)v[2], (int)v[3], var};
    return TT_OK;
}

/* text: len bytes and a terminating NUL (tt_read_regular). */
static tt_status parse_text(tt_tuning *t, const char *path, char *text, size_t len) {
    const char *nul = memchr(text, '\0', len);
    if (nul) {
        int line = 1;
        for (const char *p = text; p < nul; p++) line += *p == '\n';
        return tt_set_error(TT_E_CONFIG, "%s:%d: a NUL byte: not a tuned.tsv text file", path, line);
    }
    int cap = 0, have_gen = 0;
    where w = {path, 0};
    for (char *ln = text, *end; ln < text + len; ln = end + 1) {
        end = memchr(ln, '\n', (size_t)(text + len - ln));
        if (!end) end = text + len; /* text[len] is the terminator */
        *end = '\0';
        w.line++;
        char *p = ln + strspn(ln, " \t\r");
        if (*p == '\0') continue;
        if (*p == '#') {
            char hash[96];
            if (!generator_of(p + 1, hash, sizeof hash)) continue;
            if (strcmp(hash, tt_generator_hash) != 0)
                return tt_set_error(TT_E_CONFIG,
                                    "%s:%d: tuned with generator %.64s, this build's kernels come from generator %s: "
                                    "re-run ./tune.sh (or pass --no-tuning)",
                                    path, w.line, hash, tt_generator_hash);
            have_gen = 1;
            continue;
        }
        if (t->n == cap) {
            cap = cap ? cap * 2 : 16;
            tt_tuned_entry *e = realloc(t->e, sizeof *e * (size_t)cap);
            if (!e) return tt_set_error(TT_E_NOMEM, "%s: out of memory", path);
            t->e = e;
        }
        tt_status st = parse_entry(&w, p, &t->e[t->n]);
        if (st != TT_OK) return st;
        t->n++;
    }
    if (!have_gen)
        return tt_set_error(TT_E_CONFIG,
                            "%s: no '# ... generator <hash>' line: cannot tell which kernels it was tuned for (re-run "
                            "./tune.sh)",
                            path);
    return TT_OK;
}

tt_status tt_tuning_load(tt_tuning *t, const char *path) {
    memset(t, 0, sizeof *t);
    char *text;
    size_t len;
    tt_status st = tt_read_regular(path, "tuning file", TUNING_MAX_BYTES, &text, &len);
    if (st != TT_OK) return st;
    st = parse_text(t, path, text, len);
    free(text);
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
