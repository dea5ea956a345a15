/* tritune CLI: records and reporters, in the spirit of google/benchmark's.
 *
 * A command never formats its output.  It fills records (ordered key/value
 * fields with typed values) and hands them to a reporter:
 *   - the context record first (kind "context": the machine, the build, the
 *     settings; built once by tt_context_build), then
 *   - one row per result (kind "variant", "verify", "kernel", ...).  An
 *     error is a row too, whose `status` field names it.
 * A reporter is one set of functions (tt_reporter_ops):
 *   - tt_report_json: one JSON object per record and line, every field in
 *     order (the tuner reads these: field names and values are an API);
 *   - tt_report_table: for people; prints what the record's table layout
 *     (tt_table) selects, aligned, and the notes.
 *   - tt_report_md and tt_report_csv: markdown and CSV (--output md|csv),
 *     in the manner of llama-bench's -o.
 * A reporter is one more tt_reporter_ops and a name in tt_reporter_by_name. */
#ifndef TT_REPORT_H
#define TT_REPORT_H

#include <stddef.h>
#include <stdio.h>

#include "core/timing.h"

/* ---- records ----------------------------------------------------------------------- */
typedef enum { TT_VAL_NULL = 0, TT_VAL_STR, TT_VAL_INT, TT_VAL_NUM, TT_VAL_BOOL, TT_VAL_INTS, TT_VAL_STRS } tt_val_type;

typedef struct {
    const char *key;  /* static storage (a string literal)                       */
    tt_val_type type;
    long long i;      /* TT_VAL_INT; TT_VAL_BOOL: 0 or 1                          */
    double d;         /* TT_VAL_NUM, always finite (NaN and Inf are stored as null) */
    char *s;          /* TT_VAL_STR: a copy owned by the record; TT_VAL_STRS: n strings, each ended by NUL */
    int *ints;        /* TT_VAL_INTS: n ints, a copy owned by the record          */
    int n;
} tt_field;

typedef struct tt_table tt_table;

typedef struct {
    tt_field *f;
    int n, cap;
    const tt_table *table; /* how people see it (table reporter); NULL = not shown to them */
    int routine;           /* 1: a terse table (--quiet) leaves it out                     */
} tt_record;

/* Start a record (zero-initialise it once, reuse it for every row): drops
 * the previous fields, then sets the first one, "kind". */
void tt_rec_begin(tt_record *r, const char *kind, const tt_table *table);
/* Set a field: appended, or replaced in place when the key is already set
 * (a key appears once; fields keep the order they were first set in). */
void tt_rec_str(tt_record *r, const char *key, const char *s); /* s NULL -> null */
void tt_rec_int(tt_record *r, const char *key, long long v);
void tt_rec_num(tt_record *r, const char *key, double v);      /* NaN, Inf -> null */
void tt_rec_bool(tt_record *r, const char *key, int v);
/* A measured median and its spread: "samples", key, key_p25, key_p75, "cv" and
 * "stable" (tt_stats_stable); returns that verdict.  Records keep the key
 * pointers, so the three names are given (string literals), not built. */
int tt_rec_stats(tt_record *r, const char *key, const char *key_p25, const char *key_p75, const tt_stats *st);
void tt_rec_null(tt_record *r, const char *key);
void tt_rec_ints(tt_record *r, const char *key, const int *v, int n);
/* A list of strings: a JSON array; comma-separated in a table. */
void tt_rec_strs(tt_record *r, const char *key, const char *const *v, int n);
/* Copy field `key` of src into r (a null when src lacks it). */
void tt_rec_copy(tt_record *r, const tt_record *src, const char *key);
const tt_field *tt_rec_get(const tt_record *r, const char *key);
/* Convenience reads: a string field, or NULL; a number (int, bool or num),
 * or dflt when the field is missing or null. */
const char *tt_rec_s(const tt_record *r, const char *key);
/* "12.3%": (key_p75 - key_p25) / key of a record holding a median `key` and
 * its quartiles `key`_p25 / `key`_p75: the spread tt_stats_stable judges.
 * Nothing when the median is missing or not positive. */
void tt_show_rel_iqr(const tt_record *r, const char *key, char *b, size_t n);
double tt_rec_d(const tt_record *r, const char *key, double dflt);
void tt_rec_free(tt_record *r);

/* ---- how people see a record (the table reporter) ---------------------------------- */
typedef struct {
    const char *key;   /* the field shown (when show is NULL)                                 */
    const char *label; /* column header (COLUMNS), or line label (LINES; NULL = none)         */
    int width;         /* > 0 right-aligned, < 0 left-aligned, 0 unpadded (last column);
                        * a column is never narrower than its label                           */
    const char *fmt;   /* printf format of one double for int and num fields, NULL = default  */
    double scale;      /* numbers are multiplied by it before fmt; 0 = 1                       */
    /* the cell computed from the record instead (shape "MxK", a derived percentage ...):
     * writes at most n bytes to buf; an empty string is an absent cell */
    void (*show)(const tt_record *r, char *buf, size_t n);
} tt_column;

/* Column initialisers: a field as it is; a number scaled and formatted; a
 * cell computed by fn. */
#define TT_COL(k, lbl, w) {.key = (k), .label = (lbl), .width = (w)}
#define TT_COL_NUM(k, lbl, w, f, sc) {.key = (k), .label = (lbl), .width = (w), .fmt = (f), .scale = (sc)}
#define TT_COL_SHOW(lbl, w, fn) {.label = (lbl), .width = (w), .show = (fn)}

typedef enum {
    TT_TABLE_COLUMNS, /* one line per record under a header line (printed again when the layout changes) */
    TT_TABLE_LINES    /* one line per column: "<prefix><label>  <value>"; absent cells are skipped */
} tt_table_style;

struct tt_table {
    tt_table_style style;
    const char *prefix; /* LINES: put before each line ("# "), NULL = none */
    const tt_column *cols;
    int ncols;
};

/* static const tt_table t = TT_TABLE(TT_TABLE_COLUMNS, NULL, cols);  (cols: an array) */
#define TT_TABLE(st, pre, c) {.style = (st), .prefix = (pre), .cols = (c), .ncols = (int)(sizeof(c) / sizeof *(c))}

/* Text of one cell, as the table reporter prints it: "" when absent
 * (missing field, or show wrote nothing), "-" for null, yes/no for bools,
 * numbers scaled and formatted, int lists comma-separated, control
 * characters as '?' (a record is one line). */
void tt_cell_text(const tt_record *r, const tt_column *c, char *buf, size_t n);

/* ---- reporters --------------------------------------------------------------------- */
typedef struct tt_reporter tt_reporter;
typedef struct {
    const char *name; /* "table", "json" */
    void (*context)(tt_reporter *rep, const tt_record *ctx);
    void (*row)(tt_reporter *rep, const tt_record *row);
    void (*note)(tt_reporter *rep, const char *text); /* a remark for people */
    void (*end)(tt_reporter *rep);                     /* after the last record (may be NULL) */
} tt_reporter_ops;

struct tt_reporter {
    const tt_reporter_ops *ops;
    FILE *out;
    int quiet;             /* leave out routine rows (table)               */
    const tt_table *shown; /* layout whose header was printed last (table, md) */
    char *csv_keys;        /* the fields of the last CSV header (csv)          */
};

extern const tt_reporter_ops tt_report_table;
extern const tt_reporter_ops tt_report_json;
/* Markdown: a record's table layout as a pipe table (columns right-aligned
 * where the people's table right-aligns them), LINES layouts as lists. */
extern const tt_reporter_ops tt_report_md;
/* CSV (RFC 4180 quoting): every field of every record, as JSON has them;
 * a header line before the first record and whenever the fields change
 * (the context record, then the rows), sections separated by a blank
 * line; null is an empty field, lists are ';'-separated. */
extern const tt_reporter_ops tt_report_csv;
/* "table", "json", "jsonl" (the same JSON lines), "md", "csv" -> its ops, else NULL. */
const tt_reporter_ops *tt_reporter_by_name(const char *name);

void tt_reporter_init(tt_reporter *rep, const tt_reporter_ops *ops, FILE *out);
/* Each writes whole lines and flushes them (a reader of a pipe sees every
 * record as soon as it is reported). */
void tt_report_context(tt_reporter *rep, const tt_record *ctx);
void tt_report_row(tt_reporter *rep, const tt_record *row);
void tt_report_note(tt_reporter *rep, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void tt_reporter_end(tt_reporter *rep);

#endif
