/* tritune CLI helpers: exit codes, option parsing, a command's start. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"

int tt_exit_code(tt_status st) {
    switch (st) {
    case TT_OK: return TT_EXIT_OK;
    case TT_E_VERIFY: return TT_EXIT_FAIL;
    case TT_E_ARG:
    case TT_E_SHAPE:
    case TT_E_UNKNOWN_VARIANT:
    case TT_E_CONFIG:
    case TT_E_FORMAT: return TT_EXIT_USAGE;
    default: return TT_EXIT_ENV;
    }
}

int tt_die(tt_status st) {
    const char *d = tt_last_error();
    fprintf(stderr, "tritune: error: %s%s%s\n", tt_status_str(st), d[0] ? ": " : "", d);
    return tt_exit_code(st);
}

int tt_usage_error(const char *cmd, const char *fmt, ...) {
    va_list ap;
    fprintf(stderr, "tritune %s: error: ", cmd);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\n(run 'tritune %s --help' for usage)\n", cmd);
    return TT_EXIT_USAGE;
}

/* 0, or -1 after printing the usage error (unknown option, missing value). */
static int args_parse(const char *cmd, int argc, char **argv, tt_opt *opts, int nopts) {
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strncmp(a, "--", 2) != 0) {
            tt_usage_error(cmd, "unexpected argument '%s'", a);
            return -1;
        }
        a += 2;
        const char *eq = strchr(a, '=');
        size_t len = eq ? (size_t)(eq - a) : strlen(a);
        tt_opt *o = NULL;
        for (int j = 0; j < nopts; j++)
            if (strlen(opts[j].name) == len && strncmp(opts[j].name, a, len) == 0) o = &opts[j];
        if (!o) {
            tt_usage_error(cmd, "unknown option '--%.*s'", (int)len, a);
            return -1;
        }
        if (o->takes_value) {
            if (eq) o->value = eq + 1;
            else if (i + 1 < argc) o->value = argv[++i];
            else {
                tt_usage_error(cmd, "option --%s needs a value", o->name);
                return -1;
            }
            if (!o->value[0]) {
                tt_usage_error(cmd, "option --%s needs a non-empty value", o->name);
                return -1;
            }
        } else {
            if (eq) {
                tt_usage_error(cmd, "option --%s takes no value", o->name);
                return -1;
            }
            o->value = "1";
        }
    }
    return 0;
}

int tt_parse_int(const char *s, long lo, long hi, long *out) {
    if (!s || !*s) return -1;
    errno = 0;
    char *end;
    long v = strtol(s, &end, 10);
    if (errno || *end || v < lo || v > hi) return -1;
    *out = v;
    return 0;
}

int tt_parse_double(const char *s, double lo, double hi, double *out) {
    if (!s || !*s) return -1;
    errno = 0;
    char *end;
    double v = strtod(s, &end);
    if (errno || *end || !(v >= lo && v <= hi)) return -1;
    *out = v;
    return 0;
}

/* Split buf (modified) at commas into at most max items; -1 when an item
 * is empty ("1,,2", "8x8,", ",4") or there are too many. */
static int split_commas(char *buf, char **item, int max) {
    int n = 0;
    for (char *p = buf;;) {
        char *comma = strchr(p, ',');
        if (comma) *comma = '\0';
        if (!*p || n >= max) return -1;
        item[n++] = p;
        if (!comma) return n;
        p = comma + 1;
    }
}

int tt_parse_int_list(const char *s, int *out, int max) {
    char buf[512], *item[256];
    if (!s || strlen(s) >= sizeof buf || max < 1) return -1;
    snprintf(buf, sizeof buf, "%s", s);
    const int n = split_commas(buf, item, TT_MIN(max, 256));
    for (int i = 0; i < n; i++) {
        long v;
        if (tt_parse_int(item[i], 1, 1 << 20, &v) != 0) return -1;
        out[i] = (int)v;
    }
    return n;
}

int tt_parse_threads(const char *s, int *out, int max) {
    int n = tt_parse_int_list(s, out, max);
    for (int i = 0; i < n; i++)
        if (out[i] > 1024) return -1;
    return n;
}

int tt_parse_shapes(const char *s, int *M, int *K, int max) {
    char buf[1024], *item[256];
    if (!s || strlen(s) >= sizeof buf || max < 1) return -1;
    snprintf(buf, sizeof buf, "%s", s);
    const int n = split_commas(buf, item, TT_MIN(max, 256));
    for (int i = 0; i < n; i++) {
        char *x = strchr(item[i], 'x');
        if (!x) return -1;
        *x = 0;
        long m, k;
        if (tt_parse_int(item[i], 1, 1 << 24, &m) || tt_parse_int(x + 1, 1, 1 << 24, &k)) return -1;
        M[i] = (int)m;
        K[i] = (int)k;
    }
    return n;
}

int tt_list_next(const char **p, char *item, size_t n) {
    size_t len = strcspn(*p, ",");
    const int ok = len > 0 && len < n;
    if (ok) {
        memcpy(item, *p, len);
        item[len] = 0;
    }
    *p += len + ((*p)[len] == ',');
    return ok ? (int)len : -1;
}

int tt_cmd_threads(const tt_cmd *c, int *out, int max) {
    const char *s = tt_cmd_opt(c, "threads");
    int n = 1;
    out[0] = 1;
    if (s && (n = tt_parse_threads(s, out, max)) < 0) {
        tt_usage_error(c->name, "--threads wants a list of thread counts in 1..1024 (e.g. 1 or 1,2), got '%s'", s);
        return -1;
    }
    if (tt_cmd_opt(c, "oversubscribe")) return n;
    const int cpus = tt_cpus_allowed();
    for (int i = 0; i < n; i++)
        if (out[i] > cpus) {
            tt_usage_error(c->name,
                           "--threads %d: this process may run on %d CPU%s (sched_getaffinity); more threads than CPUs "
                           "time the scheduler, not the kernels. Pass --oversubscribe to run anyway",
                           out[i], cpus, cpus == 1 ? "" : "s");
            return -1;
        }
    return n;
}

tt_status tt_cli_check_memory(double bytes, const char *what) {
    const long long avail = tt_mem_available();
    if (avail <= 0 || bytes <= (double)avail) return TT_OK;
    return tt_set_error(TT_E_NOMEM, "%s needs %.2f GiB, but only %.2f GiB of memory is available (MemAvailable): "
                                    "nothing was allocated",
                        what, bytes / (1u << 30), (double)avail / (1u << 30));
}

/* ---- models ------------------------------------------------------------------- */
#define TT_MODELS_DIR "models/dummy"

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* "a, b, c": the config names in TT_MODELS_DIR, sorted ("none" when there are none). */
static void model_names(char *out, size_t n) {
    char *names[256];
    int k = 0;
    DIR *d = opendir(TT_MODELS_DIR);
    for (struct dirent *e; d && k < 256 && (e = readdir(d));) {
        const size_t l = strlen(e->d_name);
        if (l > 5 && !strcmp(e->d_name + l - 5, ".json") && (names[k] = strndup(e->d_name, l - 5))) k++;
    }
    if (d) closedir(d);
    qsort(names, (size_t)k, sizeof *names, cmp_str);
    size_t len = 0;
    out[0] = '\0';
    for (int i = 0; i < k; i++) {
        if (len + strlen(names[i]) + 3 < n) len += (size_t)snprintf(out + len, n - len, "%s%s", i ? ", " : "", names[i]);
        free(names[i]);
    }
    if (!k) snprintf(out, n, "none");
}

tt_status tt_cli_load_model(const char *arg, tt_config *c) {
    struct stat sb;
    if (stat(arg, &sb) == 0 || strchr(arg, '/') || strstr(arg, ".json")) return tt_config_load(c, arg);
    char path[600];
    snprintf(path, sizeof path, TT_MODELS_DIR "/%s.json", arg);
    if (stat(path, &sb) == 0) return tt_config_load(c, path);
    char names[2048];
    model_names(names, sizeof names);
    return tt_set_error(TT_E_ARG, "cannot open model '%s': no such file and no %s (models in " TT_MODELS_DIR ": %s)",
                        arg, path, names);
}

/* ---- a command's start -------------------------------------------------------------- */
static const tt_opt common_opts[] = {
    {"json", 0, NULL, "JSON lines: a context record, then one record per row (= --output json)"},
    {"output", 1, NULL, "table (default) | md | csv | json | jsonl (json and jsonl: the same JSON lines)"},
    {"help", 0, NULL, "this help"},
};
enum { NCOMMON = (int)(sizeof common_opts / sizeof *common_opts) };

int tt_cmd_start(tt_cmd *c, int argc, char **argv) {
    tt_opt all[64];
    if (c->nopts + NCOMMON > (int)(sizeof all / sizeof *all)) abort(); /* a programming error */
    for (int j = 0; j < c->nopts; j++) all[j] = c->opts[j];
    memcpy(all + c->nopts, common_opts, sizeof common_opts);
    const int n = c->nopts + NCOMMON;
    if (args_parse(c->name, argc, argv, all, n)) return TT_EXIT_USAGE;
    for (int j = 0; j < c->nopts; j++) c->opts[j].value = all[j].value; /* the values found */
    /* common_opts' order */
    const char *json = all[c->nopts].value, *output = all[c->nopts + 1].value, *help = all[c->nopts + 2].value;
    if (help) {
        printf("usage: tritune %s%s%s [--json | --output md|csv|json]\n\nOptions:\n", c->name, c->synopsis[0] ? " " : "",
               c->synopsis);
        for (int j = 0; j < n; j++) {
            char left[64];
            snprintf(left, sizeof left, "--%s%s", all[j].name, all[j].takes_value ? " VALUE" : "");
            printf("  %-24s %s\n", left, all[j].help);
        }
        return TT_EXIT_OK;
    }
    const tt_reporter_ops *ops = json ? &tt_report_json : &tt_report_table;
    if (output && !(ops = tt_reporter_by_name(output)))
        return tt_usage_error(c->name, "--output wants table, md, csv, json or jsonl, got '%s'", output);
    if (json && output && ops != &tt_report_json)
        return tt_usage_error(c->name, "--json and --output %s exclude each other", output);
    tt_reporter_init(&c->rep, ops, stdout);
    return TT_CMD_GO;
}

const char *tt_cmd_opt(const tt_cmd *c, const char *name) {
    for (int j = 0; j < c->nopts; j++)
        if (strcmp(c->opts[j].name, name) == 0) return c->opts[j].value;
    return NULL;
}

int tt_cmd_end(tt_cmd *c, int rc) {
    tt_reporter_end(&c->rep);
    return rc;
}
