/* tritune CLI: records and the table and JSON-lines reporters (see report.h). */
#define _GNU_SOURCE
#include "report.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- records ----------------------------------------------------------------------- */
static void field_clear(tt_field *f) {
    free(f->s);
    free(f->ints);
    memset(f, 0, sizeof *f);
}

void tt_show_rel_iqr(const tt_record *r, const char *key, char *b, size_t n) {
    char k25[64], k75[64];
    snprintf(k25, sizeof k25, "%s_p25", key);
    snprintf(k75, sizeof k75, "%s_p75", key);
    const double m = tt_rec_d(r, key, 0);
    if (m > 0) snprintf(b, n, "%.1f%%", 100 * (tt_rec_d(r, k75, 0) - tt_rec_d(r, k25, 0)) / m);
}

void tt_rec_free(tt_record *r) {
    for (int i = 0; i < r->n; i++) field_clear(&r->f[i]);
    free(r->f);
    memset(r, 0, sizeof *r);
}

/* The field for key, cleared: the existing one (order kept) or a new last one. */
static tt_field *slot(tt_record *r, const char *key) {
    for (int i = 0; i < r->n; i++)
        if (strcmp(r->f[i].key, key) == 0) {
            field_clear(&r->f[i]);
            r->f[i].key = key;
            return &r->f[i];
        }
    if (r->n == r->cap) {
        int cap = r->cap ? 2 * r->cap : 32;
        tt_field *f = realloc(r->f, sizeof *f * (size_t)cap);
        if (!f) abort(); /* a few hundred bytes: nothing sensible to report without them */
        r->f = f;
        r->cap = cap;
    }
    tt_field *f = &r->f[r->n++];
    memset(f, 0, sizeof *f);
    f->key = key;
    return f;
}

void tt_rec_begin(tt_record *r, const char *kind, const tt_table *table) {
    for (int i = 0; i < r->n; i++) field_clear(&r->f[i]);
    r->n = 0;
    r->table = table;
    r->routine = 0;
    tt_rec_str(r, "kind", kind);
}

void tt_rec_str(tt_record *r, const char *key, const char *s) {
    tt_field *f = slot(r, key);
    if (!s) return; /* null */
    if (!(f->s = strdup(s))) abort();
    f->type = TT_VAL_STR;
}

void tt_rec_int(tt_record *r, const char *key, long long v) {
    tt_field *f = slot(r, key);
    f->type = TT_VAL_INT;
    f->i = v;
}

void tt_rec_num(tt_record *r, const char *key, double v) {
    tt_field *f = slot(r, key);
    if (!isfinite(v)) return; /* null: JSON has no NaN or Inf */
    f->type = TT_VAL_NUM;
    f->d = v;
}

int tt_rec_stats(tt_record *r, const char *key, const char *key_p25, const char *key_p75, const tt_stats *st) {
    int stable = tt_stats_stable(st);
    tt_rec_int(r, "samples", st->n);
    tt_rec_num(r, key, st->median);
    tt_rec_num(r, key_p25, st->p25);
    tt_rec_num(r, key_p75, st->p75);
    tt_rec_num(r, "cv", st->cv);
    tt_rec_bool(r, "stable", stable);
    return stable;
}

void tt_rec_bool(tt_record *r, const char *key, int v) {
    tt_field *f = slot(r, key);
    f->type = TT_VAL_BOOL;
    f->i = v != 0;
}

void tt_rec_null(tt_record *r, const char *key) { slot(r, key); }

void tt_rec_ints(tt_record *r, const char *key, const int *v, int n) {
    tt_field *f = slot(r, key);
    f->type = TT_VAL_INTS;
    f->n = n > 0 ? n : 0;
    if (f->n) {
        if (!(f->ints = malloc(sizeof(int) * (size_t)f->n))) abort();
        memcpy(f->ints, v, sizeof(int) * (size_t)f->n);
    }
}

void tt_rec_strs(tt_record *r, const char *key, const char *const *v, int n) {
    tt_field *f = slot(r, key);
    f->type = TT_VAL_STRS;
    f->n = n > 0 ? n : 0;
    size_t len = 1;
    for (int i = 0; i < f->n; i++) len += strlen(v[i]) + 1;
    if (!(f->s = malloc(len))) abort();
    size_t at = 0;
    for (int i = 0; i < f->n; i++) {
        const size_t l = strlen(v[i]) + 1;
        memcpy(f->s + at, v[i], l);
        at += l;
    }
}

const tt_field *tt_rec_get(const tt_record *r, const char *key) {
    for (int i = 0; i < r->n; i++)
        if (strcmp(r->f[i].key, key) == 0) return &r->f[i];
    return NULL;
}

void tt_rec_copy(tt_record *r, const tt_record *src, const char *key) {
    const tt_field *s = tt_rec_get(src, key);
    if (!s) {
        tt_rec_null(r, key);
        return;
    }
    switch (s->type) {
    case TT_VAL_STR: tt_rec_str(r, s->key, s->s); break;
    case TT_VAL_INT: tt_rec_int(r, s->key, s->i); break;
    case TT_VAL_NUM: tt_rec_num(r, s->key, s->d); break;
    case TT_VAL_BOOL: tt_rec_bool(r, s->key, (int)s->i); break;
    case TT_VAL_INTS: tt_rec_ints(r, s->key, s->ints, s->n); break;
    case TT_VAL_STRS: {
        const char *v[64];
        const char *p = s->s;
        int n = 0;
        for (; n < s->n && n < 64; n++, p += strlen(p) + 1) v[n] = p;
        tt_rec_strs(r, s->key, v, n);
        break;
    }
    default: tt_rec_null(r, s->key); break;
    }
}

const char *tt_rec_s(const tt_record *r, const char *key) {
    const tt_field *f = tt_rec_get(r, key);
    return f && f->type == TT_VAL_STR ? f->s : NULL;
}

double tt_rec_d(const tt_record *r, const char *key, double dflt) {
    const tt_field *f = tt_rec_get(r, key);
    if (!f) return dflt;
    if (f->type == TT_VAL_NUM) return f->d;
    if (f->type == TT_VAL_INT || f->type == TT_VAL_BOOL) return (double)f->i;
    return dflt;
}

/* ---- a growable line ---------------------------------------------------------------- */
typedef struct {
    char *b;
    size_t len, cap;
} line;

static void put(line *l, const char *s, size_t n) {
    if (l->len + n + 1 > l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 256;
        while (cap < l->len + n + 1) cap *= 2;
        char *b = realloc(l->b, cap);
        if (!b) abort();
        l->b = b;
        l->cap = cap;
    }
    memcpy(l->b + l->len, s, n);
    l->len += n;
    l->b[l->len] = 0;
}

static void puts_(line *l, const char *s) { put(l, s, strlen(s)); }

/* s padded to |width| (right-aligned when width > 0) */
static void put_padded(line *l, const char *s, int width) {
    const int len = (int)strlen(s), w = width < 0 ? -width : width;
    if (width > 0)
        for (int i = len; i < w; i++) put(l, " ", 1);
    puts_(l, s);
    if (width < 0)
        for (int i = len; i < w; i++) put(l, " ", 1);
}

/* write the line (trailing blanks dropped) plus '\n', flush, empty it */
static void emit(line *l, FILE *f) {
    while (l->len && l->b[l->len - 1] == ' ') l->b[--l->len] = 0;
    put(l, "\n", 1);
    fputs(l->b, f);
    fflush(f);
    l->len = 0;
}

/* ---- the table reporter ------------------------------------------------------------ */
/* One line per record: control characters in a cell are shown as '?'. */
static void printable(char *s) {
    for (; *s; s++)
        if ((unsigned char)*s < 0x20) *s = '?';
}

void tt_cell_text(const tt_record *r, const tt_column *c, char *buf, size_t n) {
    if (!n) return;
    buf[0] = 0;
    if (c->show) {
        c->show(r, buf, n);
        printable(buf);
        return;
    }
    const tt_field *f = c->key ? tt_rec_get(r, c->key) : NULL;
    if (!f) return;
    const double scale = c->scale != 0 ? c->scale : 1;
    switch (f->type) {
    case TT_VAL_NULL: snprintf(buf, n, "-"); break;
    case TT_VAL_STR:
        snprintf(buf, n, "%s", f->s);
        printable(buf);
        break;
    case TT_VAL_BOOL: snprintf(buf, n, "%s", f->i ? "yes" : "no"); break;
    case TT_VAL_INT:
        if (c->fmt) snprintf(buf, n, c->fmt, (double)f->i * scale);
        else snprintf(buf, n, "%lld", f->i);
        break;
    case TT_VAL_NUM: snprintf(buf, n, c->fmt ? c->fmt : "%.6g", f->d * scale); break;
    case TT_VAL_INTS: {
        size_t l = 0;
        for (int i = 0; i < f->n && l < n; i++) l += (size_t)snprintf(buf + l, n - l, "%s%d", i ? "," : "", f->ints[i]);
        break;
    }
    case TT_VAL_STRS: {
        size_t l = 0;
        const char *p = f->s;
        for (int i = 0; i < f->n && l < n; i++, p += strlen(p) + 1)
            l += (size_t)snprintf(buf + l, n - l, "%s%s", i ? "," : "", p);
        break;
    }
    }
}

static const char *col_label(const tt_column *c) { return c->label ? c->label : c->key ? c->key : ""; }

/* a column is at least as wide as its label, so headers and cells line up */
static int col_width(const tt_column *c) {
    const int len = (int)strlen(col_label(c));
    if (c->width > 0) return c->width > len ? c->width : len;
    if (c->width < 0) return -c->width > len ? c->width : -len;
    return 0;
}

static void table_header(tt_reporter *rep, const tt_table *t, line *l) {
    for (int i = 0; i < t->ncols; i++) {
        if (i) put(l, " ", 1);
        put_padded(l, col_label(&t->cols[i]), col_width(&t->cols[i]));
    }
    emit(l, rep->out);
    rep->shown = t;
}

static void table_record(tt_reporter *rep, const tt_record *r) {
    const tt_table *t = r->table;
    if (!t || (rep->quiet && r->routine)) return;
    line l = {0};
    char cell[1024];
    if (t->style == TT_TABLE_LINES) {
        int w = 0; /* labels aligned on the longest */
        for (int i = 0; i < t->ncols; i++)
            if (t->cols[i].label && (int)strlen(t->cols[i].label) > w) w = (int)strlen(t->cols[i].label);
        for (int i = 0; i < t->ncols; i++) {
            tt_cell_text(r, &t->cols[i], cell, sizeof cell);
            if (!cell[0]) continue;
            if (t->prefix) puts_(&l, t->prefix);
            if (t->cols[i].label) {
                put_padded(&l, t->cols[i].label, -w);
                puts_(&l, "  ");
            }
            puts_(&l, cell);
            emit(&l, rep->out);
        }
    } else {
        if (rep->shown != t) table_header(rep, t, &l);
        for (int i = 0; i < t->ncols; i++) {
            tt_cell_text(r, &t->cols[i], cell, sizeof cell);
            if (!cell[0] && t->cols[i].width) snprintf(cell, sizeof cell, "-");
            if (i) put(&l, " ", 1);
            put_padded(&l, cell, col_width(&t->cols[i]));
        }
        emit(&l, rep->out);
    }
    free(l.b);
}

static void table_note(tt_reporter *rep, const char *text) {
    fprintf(rep->out, "%s\n", text);
    fflush(rep->out);
    rep->shown = NULL; /* rows after a note get their header again */
}

const tt_reporter_ops tt_report_table = {"table", table_record, table_record, table_note, NULL};

/* ---- the JSON-lines reporter -------------------------------------------------------- */
static void json_string(line *l, const char *s) {
    put(l, "\"", 1);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        char e[8];
        if (*p == '"' || *p == '\\') {
            e[0] = '\\', e[1] = (char)*p;
            put(l, e, 2);
        } else if (*p < 0x20) {
            snprintf(e, sizeof e, "\\u%04x", *p);
            puts_(l, e);
        } else {
            put(l, (const char *)p, 1);
        }
    }
    put(l, "\"", 1);
}

static void json_record(tt_reporter *rep, const tt_record *r) {
    line l = {0};
    char num[40];
    put(&l, "{", 1);
    for (int i = 0; i < r->n; i++) {
        const tt_field *f = &r->f[i];
        if (i) put(&l, ",", 1);
        json_string(&l, f->key);
        put(&l, ":", 1);
        switch (f->type) {
        case TT_VAL_NULL: puts_(&l, "null"); break;
        case TT_VAL_STR: json_string(&l, f->s); break;
        case TT_VAL_BOOL: puts_(&l, f->i ? "true" : "false"); break;
        case TT_VAL_INT:
            snprintf(num, sizeof num, "%lld", f->i);
            puts_(&l, num);
            break;
        case TT_VAL_NUM:
            snprintf(num, sizeof num, "%.6g", f->d);
            puts_(&l, num);
            break;
        case TT_VAL_INTS:
            put(&l, "[", 1);
            for (int k = 0; k < f->n; k++) {
                snprintf(num, sizeof num, "%s%d", k ? "," : "", f->ints[k]);
                puts_(&l, num);
            }
            put(&l, "]", 1);
            break;
        case TT_VAL_STRS: {
            put(&l, "[", 1);
            const char *p = f->s;
            for (int k = 0; k < f->n; k++, p += strlen(p) + 1) {
                if (k) put(&l, ",", 1);
                json_string(&l, p);
            }
            put(&l, "]", 1);
            break;
        }
        }
    }
    put(&l, "}", 1);
    emit(&l, rep->out);
    free(l.b);
}

static void json_note(tt_reporter *rep, const char *text) {
    (void)rep;
    (void)text; /* remarks are for people; a JSON line is a record */
}

const tt_reporter_ops tt_report_json = {"json", json_record, json_record, json_note, NULL};

/* ---- the markdown reporter (llama-bench's default look) ---------------------------------- */
/* A cell with '|' escaped, so it stays one cell. */
static void md_cell(line *l, const char *s) {
    for (; *s; s++) {
        if (*s == '|') put(l, "\\", 1);
        put(l, s, 1);
    }
}

static void md_record(tt_reporter *rep, const tt_record *r) {
    const tt_table *t = r->table;
    if (!t || (rep->quiet && r->routine)) return;
    line l = {0};
    char cell[1024];
    if (t->style == TT_TABLE_LINES) { /* a list: "- label: value" */
        for (int i = 0; i < t->ncols; i++) {
            tt_cell_text(r, &t->cols[i], cell, sizeof cell);
            if (!cell[0]) continue;
            puts_(&l, "- ");
            if (t->cols[i].label) {
                puts_(&l, t->cols[i].label);
                puts_(&l, ": ");
            }
            puts_(&l, cell);
            emit(&l, rep->out);
        }
        rep->shown = NULL;
        free(l.b);
        return;
    }
    if (rep->shown != t) { /* a blank line, the header, the alignment row */
        emit(&l, rep->out);
        for (int i = 0; i < t->ncols; i++) {
            puts_(&l, "| ");
            md_cell(&l, col_label(&t->cols[i]));
            puts_(&l, " ");
        }
        puts_(&l, "|");
        emit(&l, rep->out);
        for (int i = 0; i < t->ncols; i++) puts_(&l, t->cols[i].width > 0 ? "| ---: " : "| --- ");
        puts_(&l, "|");
        emit(&l, rep->out);
        rep->shown = t;
    }
    for (int i = 0; i < t->ncols; i++) {
        tt_cell_text(r, &t->cols[i], cell, sizeof cell);
        if (!cell[0] && t->cols[i].width) snprintf(cell, sizeof cell, "-"); /* as the table shows it */
        puts_(&l, "| ");
        md_cell(&l, cell);
        puts_(&l, " ");
    }
    puts_(&l, "|");
    emit(&l, rep->out);
    free(l.b);
}

static void md_note(tt_reporter *rep, const char *text) {
    fprintf(rep->out, "\n%s\n", text);
    fflush(rep->out);
    rep->shown = NULL;
}

const tt_reporter_ops tt_report_md = {"md", md_record, md_record, md_note, NULL};

/* ---- the CSV reporter: every field, a header whenever the fields change -------------- */
static void csv_string(line *l, const char *s) {
    if (!strpbrk(s, ",\"\n\r")) {
        puts_(l, s);
        return;
    }
    put(l, "\"", 1);
    for (; *s; s++) put(l, *s == '"' ? "\"\"" : s, *s == '"' ? 2 : 1);
    put(l, "\"", 1);
}

static void csv_value(line *l, const tt_field *f) {
    char num[40];
    switch (f->type) {
    case TT_VAL_NULL: break; /* empty */
    case TT_VAL_STR: csv_string(l, f->s); break;
    case TT_VAL_BOOL: puts_(l, f->i ? "true" : "false"); break;
    case TT_VAL_INT:
        snprintf(num, sizeof num, "%lld", f->i);
        puts_(l, num);
        break;
    case TT_VAL_NUM:
        snprintf(num, sizeof num, "%.6g", f->d);
        puts_(l, num);
        break;
    case TT_VAL_INTS: {
        line v = {0};
        for (int k = 0; k < f->n; k++) {
            snprintf(num, sizeof num, "%s%d", k ? ";" : "", f->ints[k]);
            puts_(&v, num);
        }
        csv_string(l, v.b ? v.b : "");
        free(v.b);
        break;
    }
    case TT_VAL_STRS: {
        line v = {0};
        const char *p = f->s;
        for (int k = 0; k < f->n; k++, p += strlen(p) + 1) {
            if (k) put(&v, ";", 1);
            puts_(&v, p);
        }
        csv_string(l, v.b ? v.b : "");
        free(v.b);
        break;
    }
    }
}

static void csv_record(tt_reporter *rep, const tt_record *r) {
    if (rep->quiet && r->routine) return;
    line keys = {0}, l = {0};
    for (int i = 0; i < r->n; i++) {
        if (i) put(&keys, ",", 1);
        csv_string(&keys, r->f[i].key);
    }
    if (!rep->csv_keys || strcmp(rep->csv_keys, keys.b ? keys.b : "") != 0) {
        if (rep->csv_keys) emit(&l, rep->out); /* a blank line between sections */
        free(rep->csv_keys);
        rep->csv_keys = strdup(keys.b ? keys.b : "");
        puts_(&l, keys.b ? keys.b : "");
        emit(&l, rep->out);
    }
    for (int i = 0; i < r->n; i++) {
        if (i) put(&l, ",", 1);
        csv_value(&l, &r->f[i]);
    }
    /* not emit(): it trims trailing blanks, and a CSV field may end in one */
    put(&l, "\n", 1);
    fputs(l.b, rep->out);
    fflush(rep->out);
    free(l.b);
    free(keys.b);
}

static void csv_end(tt_reporter *rep) {
    free(rep->csv_keys);
    rep->csv_keys = NULL;
}

const tt_reporter_ops tt_report_csv = {"csv", csv_record, csv_record, json_note, csv_end};

/* ---- the reporter interface ----------------------------------------------------------- */
const tt_reporter_ops *tt_reporter_by_name(const char *name) {
    if (!strcmp(name, "jsonl")) return &tt_report_json; /* JSON lines under llama-bench's name */
    const tt_reporter_ops *all[] = {&tt_report_table, &tt_report_json, &tt_report_md, &tt_report_csv};
    for (size_t i = 0; i < sizeof all / sizeof *all; i++)
        if (strcmp(all[i]->name, name) == 0) return all[i];
    return NULL;
}

void tt_reporter_init(tt_reporter *rep, const tt_reporter_ops *ops, FILE *out) {
    memset(rep, 0, sizeof *rep);
    rep->ops = ops;
    rep->out = out;
}

void tt_report_context(tt_reporter *rep, const tt_record *ctx) { rep->ops->context(rep, ctx); }
void tt_report_row(tt_reporter *rep, const tt_record *row) { rep->ops->row(rep, row); }

void tt_report_note(tt_reporter *rep, const char *fmt, ...) {
    char *text = NULL;
    va_list ap;
    va_start(ap, fmt);
    int n = vasprintf(&text, fmt, ap);
    va_end(ap);
    if (n < 0) return;
    rep->ops->note(rep, text);
    free(text);
}

void tt_reporter_end(tt_reporter *rep) {
    if (rep->ops && rep->ops->end) rep->ops->end(rep);
    fflush(rep->out);
}
