/* tritune CLI helpers: exit codes, option parsing, JSON lines, context. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "core/cpu.h"
#include "seam/variant.h"

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

int tt_args_parse(const char *cmd, int argc, char **argv, tt_opt *opts, int nopts) {
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

const char *tt_opt_get(tt_opt *opts, int nopts, const char *name) {
    for (int j = 0; j < nopts; j++)
        if (strcmp(opts[j].name, name) == 0) return opts[j].value;
    return NULL;
}

void tt_opts_help(FILE *f, const char *usage, const tt_opt *opts, int nopts) {
    fprintf(f, "%s\n\nOptions:\n", usage);
    for (int j = 0; j < nopts; j++) {
        char left[64];
        snprintf(left, sizeof left, "--%s%s", opts[j].name, opts[j].takes_value ? " VALUE" : "");
        fprintf(f, "  %-24s %s\n", left, opts[j].help);
    }
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

int tt_parse_int_list(const char *s, int *out, int max) {
    int n = 0;
    char buf[512];
    if (!s || strlen(s) >= sizeof buf) return -1;
    snprintf(buf, sizeof buf, "%s", s);
    for (char *save, *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        long v;
        if (n >= max || tt_parse_int(tok, 1, 1 << 20, &v) != 0) return -1;
        out[n++] = (int)v;
    }
    return n > 0 ? n : -1;
}

int tt_parse_threads(const char *s, int *out, int max) {
    int n = tt_parse_int_list(s, out, max);
    for (int i = 0; i < n; i++)
        if (out[i] > 1024) return -1;
    return n;
}

int tt_parse_shapes(const char *s, int *M, int *K, int max) {
    int n = 0;
    char buf[1024];
    if (!s || strlen(s) >= sizeof buf) return -1;
    snprintf(buf, sizeof buf, "%s", s);
    for (char *save, *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        char *x = strchr(tok, 'x');
        if (!x || n >= max) return -1;
        *x = 0;
        long m, k;
        if (tt_parse_int(tok, 1, 1 << 24, &m) || tt_parse_int(x + 1, 1, 1 << 24, &k)) return -1;
        M[n] = (int)m;
        K[n] = (int)k;
        n++;
    }
    return n > 0 ? n : -1;
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
    return tt_set_error(TT_E_IO, "cannot open model '%s': no such file and no %s (models in " TT_MODELS_DIR ": %s)",
                        arg, path, names);
}

/* ---- JSON ---------------------------------------------------------------------- */
static void jput(tt_json *j, const char *s, size_t n) {
    if (j->len + n + 1 > j->cap) {
        size_t cap = (j->cap ? j->cap * 2 : 256);
        while (cap < j->len + n + 1) cap *= 2;
        char *b = realloc(j->buf, cap);
        if (!b) abort();
        j->buf = b;
        j->cap = cap;
    }
    memcpy(j->buf + j->len, s, n);
    j->len += n;
    j->buf[j->len] = 0;
}

static void jputs(tt_json *j, const char *s) { jput(j, s, strlen(s)); }

static void jstr(tt_json *j, const char *s) {
    jputs(j, "\"");
    for (const unsigned char *p = (const unsigned char *)s; p && *p; p++) {
        char e[8];
        if (*p == '"' || *p == '\\') {
            e[0] = '\\', e[1] = (char)*p, e[2] = 0;
            jputs(j, e);
        } else if (*p < 0x20) {
            snprintf(e, sizeof e, "\\u%04x", *p);
            jputs(j, e);
        } else {
            jput(j, (const char *)p, 1);
        }
    }
    jputs(j, "\"");
}

static void jkey(tt_json *j, const char *key) {
    jputs(j, j->n++ ? "," : "");
    jstr(j, key);
    jputs(j, ":");
}

void tj_begin(tt_json *j) {
    j->len = 0;
    j->n = 0;
    jputs(j, "{");
}
void tj_str(tt_json *j, const char *key, const char *val) {
    jkey(j, key);
    if (val) jstr(j, val);
    else jputs(j, "null");
}
void tj_int(tt_json *j, const char *key, long long val) {
    char b[32];
    jkey(j, key);
    snprintf(b, sizeof b, "%lld", val);
    jputs(j, b);
}
void tj_num(tt_json *j, const char *key, double val) {
    char b[40];
    jkey(j, key);
    if (!isfinite(val)) jputs(j, "null");
    else {
        snprintf(b, sizeof b, "%.6g", val);
        jputs(j, b);
    }
}
void tj_bool(tt_json *j, const char *key, int val) {
    jkey(j, key);
    jputs(j, val ? "true" : "false");
}
void tj_null(tt_json *j, const char *key) {
    jkey(j, key);
    jputs(j, "null");
}
void tj_raw(tt_json *j, const char *key, const char *raw) {
    jkey(j, key);
    jputs(j, raw);
}
void tj_end(tt_json *j, FILE *f) {
    jputs(j, "}\n");
    fputs(j->buf, f);
    fflush(f);
    j->len = 0;
    j->n = 0;
}
void tj_free(tt_json *j) {
    free(j->buf);
    memset(j, 0, sizeof *j);
}

/* ---- context ----------------------------------------------------------------------- */
const char *tt_build_type(void) {
#if defined(__SANITIZE_ADDRESS__)
    return "Debug+ASan+UBSan";
#elif defined(NDEBUG) && defined(__OPTIMIZE__)
    return "Release";
#else
    return "Debug";
#endif
}

/* CPU time used by other processes over a 200 ms window, in CPUs (0 = idle,
 * 1 = one core busy).  The 1-minute load average would also count this
 * process's own previous run (tune.sh runs the harness back to back). */
static double others_busy_cpus(void) {
    unsigned long long t[2][8] = {{0}};
    double self[2];
    for (int i = 0; i < 2; i++) {
        FILE *f = fopen("/proc/stat", "r");
        if (!f) return -1;
        int ok = fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &t[i][0], &t[i][1], &t[i][2], &t[i][3],
                        &t[i][4], &t[i][5], &t[i][6], &t[i][7]) == 8;
        fclose(f);
        if (!ok) return -1;
        struct timespec ts;
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
        self[i] = (double)ts.tv_sec + ts.tv_nsec * 1e-9;
        if (i == 0) {
            struct timespec d = {0, 200000000L};
            nanosleep(&d, NULL);
        }
    }
    unsigned long long busy = 0;
    for (int k = 0; k < 8; k++)
        if (k != 3 && k != 4) busy += t[1][k] - t[0][k]; /* not idle, not iowait */
    const double hz = (double)sysconf(_SC_CLK_TCK);
    const double busy_s = (double)busy / hz - (self[1] - self[0]);
    return busy_s > 0 ? busy_s / 0.2 : 0;
}

static double loadavg1(void) {
    double l[3];
    return getloadavg(l, 3) > 0 ? l[0] : -1;
}

void tt_print_context(FILE *f, int json, const char *command, const char *threads_desc, const char *cache_desc,
                      const char *pinning, int measuring) {
    tt_machine m;
    tt_machine_describe(&m);
    uint32_t feats = tt_cpu_features();
    char fs[256], id[160], date[64];
    tt_features_str(feats, fs, sizeof fs);
    tt_machine_id(&m, feats, id, sizeof id);
    time_t now = time(NULL);
    strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
    double load = loadavg1();
    const char *build = tt_build_type();
    char warn[256] = "";
    if (strcmp(build, "Release") != 0) snprintf(warn, sizeof warn, "non-release build (%s): timings are not meaningful", build);
    else if (measuring) {
        const double others = others_busy_cpus();
        if (others > 0.2)
            snprintf(warn, sizeof warn,
                     "machine busy (other processes used %.1f CPUs just now, %d CPUs in all): timings may be noisy",
                     others, m.logical_cpus);
    }
    if (json) {
        tt_json j = {0};
        tj_begin(&j);
        tj_str(&j, "kind", "context");
        tj_int(&j, "schema_version", TT_SCHEMA_VERSION);
        tj_str(&j, "command", command);
        tj_str(&j, "date", date);
        tj_str(&j, "machine_id", id);
        tj_str(&j, "cpu", m.model);
        tj_str(&j, "arch", m.arch);
        tj_str(&j, "features", fs);
        tj_int(&j, "logical_cpus", m.logical_cpus);
        tj_int(&j, "cores", m.cores);
        tj_int(&j, "l1d_bytes", m.l1d_bytes);
        tj_int(&j, "l2_bytes", m.l2_bytes);
        tj_int(&j, "l3_bytes", m.l3_bytes);
        tj_int(&j, "mem_total_bytes", m.mem_total_bytes);
        tj_str(&j, "topology_source", m.topology_source);
        tj_str(&j, "threads", threads_desc);
        tj_str(&j, "cache", cache_desc);
        tj_str(&j, "pinning", pinning);
        tj_str(&j, "build_type", build);
        tj_str(&j, "compiler", __VERSION__);
        tj_str(&j, "generator_hash", tt_generator_hash);
        tj_int(&j, "variants", tt_n_variants);
        tj_num(&j, "load_avg_1m", load);
        if (warn[0]) tj_str(&j, "warning", warn);
        else tj_null(&j, "warning");
        tj_end(&j, f);
        tj_free(&j);
    } else {
        fprintf(f, "# tritune %s  %s  %s (%s)\n", command, date, m.model, id);
        fprintf(f, "# features: %s\n", fs);
        fprintf(f, "# cores %d, L1d %ld KiB, L2 %ld KiB, L3 %ld MiB (%s), memory %.1f GiB\n", m.cores, m.l1d_bytes >> 10,
                m.l2_bytes >> 10, m.l3_bytes >> 20, m.topology_source, (double)m.mem_total_bytes / (1 << 30));
        fprintf(f, "# threads %s, cache %s, pinning %s, build %s, gcc %s, generator %s\n", threads_desc, cache_desc,
                pinning, build, __VERSION__, tt_generator_hash);
        if (warn[0]) fprintf(f, "# WARNING: %s\n", warn);
    }
}
