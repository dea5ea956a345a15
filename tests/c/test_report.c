/* What the CLI reports: records and the table and JSON-lines reporters
 * (bench/report.h), and the one stability rule (core/timing.h). */
#define _GNU_SOURCE
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/timing.h"
#include "report.h"
#include "test_util.h"

/* ---- reporters: capture what they print ----------------------------------------------- */
typedef struct {
    FILE *f;
    char *buf;
    size_t len;
    tt_reporter rep;
} capture;

static void cap_open(capture *c, const tt_reporter_ops *ops) {
    memset(c, 0, sizeof *c);
    c->f = open_memstream(&c->buf, &c->len);
    tt_reporter_init(&c->rep, ops, c->f);
}
/* what was printed (owned by c until cap_close) */
static const char *cap_text(capture *c) {
    fflush(c->f);
    return c->buf;
}
static void cap_close(capture *c) {
    fclose(c->f);
    free(c->buf);
}

static void show_pair(const tt_record *r, char *b, size_t n) {
    snprintf(b, n, "%.0fx%.0f", tt_rec_d(r, "M", 0), tt_rec_d(r, "K", 0));
}
static const tt_column cols[] = {
    TT_COL("name", NULL, -6),
    TT_COL("M", NULL, 3),
    TT_COL_SHOW("MxK", 6, show_pair),
    TT_COL_NUM("ns", "us", 6, "%.2f", 1e-3),
    TT_COL("ok", NULL, 3),
    TT_COL("none", NULL, 4),
    TT_COL("ids", NULL, -6),
    TT_COL("missing", NULL, 4),
    TT_COL("note", NULL, 0),
};
static const tt_table table = TT_TABLE(TT_TABLE_COLUMNS, NULL, cols);

/* a record with every value type, and a string that needs escaping */
static void fill(tt_record *r) {
    static const int ids[] = {3, -1, 7};
    tt_rec_begin(r, "demo", &table);
    tt_rec_str(r, "name", "a\"b\\c\n\x01");
    tt_rec_int(r, "M", 256);
    tt_rec_int(r, "K", -512);
    tt_rec_num(r, "ns", 1234.5678);
    tt_rec_bool(r, "ok", 1);
    tt_rec_null(r, "none");
    tt_rec_ints(r, "ids", ids, 3);
    tt_rec_num(r, "nan", NAN);
    tt_rec_num(r, "big", 1e300 * 1e10); /* Inf */
    tt_rec_str(r, "nullstr", NULL);
    tt_rec_num(r, "small", 0.000123456789);
    tt_rec_ints(r, "empty", NULL, 0);
}

static void test_json(void) {
    tt_record r = {0};
    fill(&r);
    capture c;
    cap_open(&c, &tt_report_json);
    tt_report_row(&c.rep, &r);
    tt_report_note(&c.rep, "a note is for people: %d", 1);
    const char *want = "{\"kind\":\"demo\",\"name\":\"a\\\"b\\\\c\\u000a\\u0001\",\"M\":256,\"K\":-512,"
                       "\"ns\":1234.57,\"ok\":true,\"none\":null,\"ids\":[3,-1,7],\"nan\":null,\"big\":null,"
                       "\"nullstr\":null,\"small\":0.000123457,\"empty\":[]}\n";
    CHECK(strcmp(cap_text(&c), want) == 0, "json:\n got %s want %s", cap_text(&c), want);
    cap_close(&c);
    /* setting a key again replaces its value in place: one key, first position */
    tt_rec_int(&r, "M", 7);
    tt_rec_str(&r, "ok", "yes");
    CHECK(r.n == 13 && r.f[2].type == TT_VAL_INT && r.f[2].i == 7 && !strcmp(r.f[2].key, "M"), "replace M");
    CHECK(r.f[5].type == TT_VAL_STR && !strcmp(r.f[5].s, "yes"), "replace ok with another type");
    /* copy between records keeps the type; a missing key copies as null */
    tt_record d = {0};
    tt_rec_begin(&d, "copy", NULL);
    tt_rec_copy(&d, &r, "ids");
    tt_rec_copy(&d, &r, "ns");
    tt_rec_copy(&d, &r, "absent");
    cap_open(&c, &tt_report_json);
    tt_report_context(&c.rep, &d);
    CHECK(!strcmp(cap_text(&c), "{\"kind\":\"copy\",\"ids\":[3,-1,7],\"ns\":1234.57,\"absent\":null}\n"), "copy: %s",
          cap_text(&c));
    cap_close(&c);
    CHECK(tt_rec_s(&r, "name") && !tt_rec_s(&r, "M") && tt_rec_d(&r, "M", -1) == 7 && tt_rec_d(&r, "none", -1) == -1,
          "convenience reads");
    tt_rec_free(&d);
    tt_rec_free(&r);
}

static void test_table(void) {
    tt_record r = {0};
    fill(&r);
    capture c;
    cap_open(&c, &tt_report_table);
    tt_report_row(&c.rep, &r);
    /* a second row of the same layout: no second header; absent cells "-", an absent last cell nothing */
    tt_rec_begin(&r, "demo", &table);
    tt_rec_str(&r, "name", "x");
    tt_rec_str(&r, "note", "a remark");
    tt_report_row(&c.rep, &r);
    r.routine = 1; /* shown: the reporter is not quiet */
    tt_report_row(&c.rep, &r);
    tt_report_note(&c.rep, "%d rows", 3);
    /* columns as wide as their labels ("missing"); control characters as '?' */
    const char *want = "name     M    MxK     us  ok none ids    missing note\n"
                       "a\"b\\c?? 256 256x-512   1.23 yes    - 3,-1,7       -\n"
                       "x        -    0x0      -   -    - -            - a remark\n"
                       "x        -    0x0      -   -    - -            - a remark\n"
                       "3 rows\n";
    CHECK(strcmp(cap_text(&c), want) == 0, "table:\n got:\n%s want:\n%s", cap_text(&c), want);
    cap_close(&c);
    /* quiet: routine rows left out; records without a layout are not shown to people */
    cap_open(&c, &tt_report_table);
    c.rep.quiet = 1;
    tt_report_row(&c.rep, &r);
    tt_rec_begin(&r, "hidden", NULL);
    tt_report_context(&c.rep, &r);
    CHECK(strcmp(cap_text(&c), "") == 0, "quiet/hidden printed: %s", cap_text(&c));
    cap_close(&c);
    tt_rec_free(&r);
}

static void show_hello(const tt_record *r, char *b, size_t n) { snprintf(b, n, "hello %s", tt_rec_s(r, "who")); }
static void show_nothing(const tt_record *r, char *b, size_t n) { (void)r, (void)b, (void)n; }

static void test_lines(void) {
    static const tt_column lines[] = {
        TT_COL_SHOW(NULL, 0, show_hello),
        TT_COL("who", "who", 0),
        TT_COL("gone", "gone", 0), /* absent: no line */
        TT_COL_SHOW("empty", 0, show_nothing),
        TT_COL_NUM("x", "longer label", 0, "%.1f%%", 100),
    };
    static const tt_table t = TT_TABLE(TT_TABLE_LINES, "# ", lines);
    tt_record r = {0};
    tt_rec_begin(&r, "context", &t);
    tt_rec_str(&r, "who", "world");
    tt_rec_num(&r, "x", 0.125);
    capture c;
    cap_open(&c, &tt_report_table);
    tt_report_context(&c.rep, &r);
    const char *want = "# hello world\n# who           world\n# longer label  12.5%\n";
    CHECK(strcmp(cap_text(&c), want) == 0, "lines:\n got:\n%s want:\n%s", cap_text(&c), want);
    cap_close(&c);
    CHECK(tt_reporter_by_name("json") == &tt_report_json && tt_reporter_by_name("table") == &tt_report_table &&
              tt_reporter_by_name("jsonl") == &tt_report_json && tt_reporter_by_name("md") == &tt_report_md &&
              tt_reporter_by_name("csv") == &tt_report_csv && !tt_reporter_by_name("xml"),
          "reporter names");
    tt_rec_free(&r);
}

/* markdown: the people's columns as a pipe table, '|' escaped, right-aligned columns marked */
static void test_md(void) {
    tt_record r = {0};
    fill(&r);
    tt_rec_str(&r, "note", "a|b");
    capture c;
    cap_open(&c, &tt_report_md);
    tt_report_row(&c.rep, &r);
    tt_report_row(&c.rep, &r); /* one header for two rows */
    const char *head = "\n| name | M | MxK | us | ok | none | ids | missing | note |\n"
                       "| --- | ---: | ---: | ---: | ---: | ---: | --- | ---: | --- |\n";
    const char *row = "| a\"b\\c?? | 256 | 256x-512 | 1.23 | yes | - | 3,-1,7 | - | a\\|b |\n";
    char want[1024];
    snprintf(want, sizeof want, "%s%s%s", head, row, row);
    CHECK(strcmp(cap_text(&c), want) == 0, "md:\n got:\n%s want:\n%s", cap_text(&c), want);
    cap_close(&c);
    tt_rec_free(&r);
}

/* CSV: every field, quoted where needed, null empty, lists ';'-separated,
 * a new header (after a blank line) only when the fields change */
static void test_csv(void) {
    tt_record r = {0};
    capture c;
    cap_open(&c, &tt_report_csv);
    static const int ids[] = {3, -1};
    for (int i = 0; i < 2; i++) {
        tt_rec_begin(&r, "row", NULL);
        tt_rec_str(&r, "s", i ? "plain" : "a,\"b\"");
        tt_rec_num(&r, "x", 0.5);
        tt_rec_null(&r, "n");
        tt_rec_ints(&r, "ids", ids, 2);
        tt_report_row(&c.rep, &r);
    }
    tt_rec_begin(&r, "other", NULL);
    tt_rec_bool(&r, "ok", 1);
    tt_report_row(&c.rep, &r);
    tt_reporter_end(&c.rep);
    const char *want = "kind,s,x,n,ids\nrow,\"a,\"\"b\"\"\",0.5,,3;-1\nrow,plain,0.5,,3;-1\n\nkind,ok\nother,true\n";
    CHECK(strcmp(cap_text(&c), want) == 0, "csv:\n got:\n%s want:\n%s", cap_text(&c), want);
    cap_close(&c);
    tt_rec_free(&r);
}

static tt_stats stats_of(const double *v, int n) {
    double tmp[64];
    memcpy(tmp, v, sizeof(double) * (size_t)n);
    return tt_stats_compute(tmp, n);
}

static void test_stability(void) {
    /* tight samples: stable */
    const double tight[] = {100, 101, 99, 100, 102, 98, 100, 101};
    tt_stats s = stats_of(tight, 8);
    CHECK(tt_stats_stable(&s), "tight samples unstable: rel_iqr %g", tt_stats_rel_iqr(&s));
    /* one huge outlier (a preempted sample): cv far above 5%, quartiles untouched: stable */
    const double outlier[] = {100, 101, 99, 100, 102, 98, 100, 1000};
    s = stats_of(outlier, 8);
    CHECK(s.cv > 0.05, "outlier cv %g", s.cv);
    CHECK(tt_stats_stable(&s), "one outlier made it unstable: rel_iqr %g", tt_stats_rel_iqr(&s));
    /* a wide spread: unstable even though it is symmetric */
    const double wide[] = {80, 90, 100, 110, 120, 85, 95, 115};
    s = stats_of(wide, 8);
    CHECK(!tt_stats_stable(&s), "wide spread stable: rel_iqr %g", tt_stats_rel_iqr(&s));
    /* the boundary: IQR of exactly 5% of the median is stable, just above is not */
    tt_stats b = {.n = 4, .median = 100, .p25 = 97.5, .p75 = 102.5};
    CHECK(tt_stats_stable(&b), "IQR = 5%% of the median must be stable");
    b.p75 = 102.6;
    CHECK(!tt_stats_stable(&b), "IQR > 5%% of the median must be unstable");
    CHECK(fabs(tt_stats_rel_iqr(&b) - 0.051) < 1e-12, "rel_iqr %g", tt_stats_rel_iqr(&b));
    /* nothing measured, or a median <= 0: never stable, rel_iqr -1 */
    tt_stats z = {0};
    CHECK(!tt_stats_stable(&z) && tt_stats_rel_iqr(&z) == -1, "empty stats");
    /* one repetition: no spread, stable */
    const double one[] = {42};
    s = stats_of(one, 1);
    CHECK(tt_stats_stable(&s) && tt_stats_rel_iqr(&s) == 0, "one sample");
}

/* the IQR column shared by bench bandwidth, compute and decode */
static void test_show_rel_iqr(void) {
    tt_record r = {0};
    char b[32] = "";
    tt_rec_begin(&r, "x", NULL);
    tt_rec_num(&r, "gops", 200);
    tt_rec_num(&r, "gops_p25", 190);
    tt_rec_num(&r, "gops_p75", 215);
    tt_show_rel_iqr(&r, "gops", b, sizeof b);
    CHECK(strcmp(b, "12.5%") == 0, "rel IQR shown as '%s', want 12.5%%", b);
    b[0] = '\0';
    tt_show_rel_iqr(&r, "gbps", b, sizeof b); /* no such median: nothing */
    CHECK(b[0] == '\0', "missing median shown as '%s'", b);
    tt_rec_free(&r);
}

int main(void) {
    test_show_rel_iqr();
    test_json();
    test_table();
    test_lines();
    test_md();
    test_csv();
    test_stability();
    TEST_DONE("test_report");
}
