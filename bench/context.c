/* tritune CLI: the context record, built once per command (see cli.h). */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "model/fmat.h"
#include "seam/variant.h"

const char *tt_build_type(void) {
#if defined(__SANITIZE_ADDRESS__)
    return "Debug+ASan+UBSan";
#elif defined(__SANITIZE_THREAD__)
    return "Debug+TSan";
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

/* ---- the fp32 baseline's OpenBLAS core ---------------------------------------------------
 * OpenBLAS picks its kernels once, in its library constructor, which runs
 * before any constructor of ours (a dependency is initialised first): so a
 * setenv("OPENBLAS_CORETYPE") in-process comes too late, and the one way
 * to choose the core is to set it and re-execute (docs/decode.md). */
#define REEXEC_ENV "TRITUNE_OPENBLAS_REEXEC" /* set across the re-exec: the core OpenBLAS chose first */
static char blas_note[320];
static int blas_failed;

void tt_blas_select(char **argv) {
    const char *core = tt_blas_core();
    if (!core) return;
    const char *forced = getenv("TRITUNE_OPENBLAS_CORETYPE"), *user = getenv("OPENBLAS_CORETYPE");
    const char *was = getenv(REEXEC_ENV);
    const uint32_t feats = tt_cpu_features();
    if (was) { /* after our re-exec: did it take? */
        const char *want = user ? user : "?";
        if (strcasecmp(core, want) == 0)
            snprintf(blas_note, sizeof blas_note, "core %s selected by tritune (OpenBLAS chose %s for this CPU; "
                     "OPENBLAS_CORETYPE set and the process re-executed)", core, was);
        else {
            snprintf(blas_note, sizeof blas_note, "OpenBLAS runs core %s although tritune asked for %s (it chose %s "
                     "first): the fp32 baseline may be slower than this CPU allows", core, want, was);
            blas_failed = 1;
        }
        unsetenv(REEXEC_ENV);
        return;
    }
    const char *want = forced && forced[0] ? forced : user ? NULL : tt_blas_core_wanted(core, feats);
    if (user && !forced) { /* the user's choice stands; say when it cripples the baseline */
        if (tt_blas_core_wanted(core, feats)) {
            snprintf(blas_note, sizeof blas_note, "OPENBLAS_CORETYPE=%s (set by the user) runs core %s, below this CPU's "
                     "ISA (%s would fit): the fp32 baseline is slower than this CPU allows", user, core,
                     tt_blas_core_wanted(core, feats));
            blas_failed = 1;
        }
        return;
    }
    if (!want || strcasecmp(want, core) == 0) return;
    setenv("OPENBLAS_CORETYPE", want, 1);
    setenv(REEXEC_ENV, core, 1);
    execv("/proc/self/exe", argv);
    /* still here: say so loudly, and run on with the core we have */
    snprintf(blas_note, sizeof blas_note, "OpenBLAS chose core %s for this CPU; tritune could not re-execute with "
             "OPENBLAS_CORETYPE=%s (%s): the fp32 baseline is slower than this CPU allows", core, want, strerror(errno));
    blas_failed = 1;
    unsetenv(REEXEC_ENV);
}

const char *tt_blas_note(int *failed) {
    if (failed) *failed = blas_failed;
    return blas_note[0] ? blas_note : NULL;
}

/* ---- how people see it: a few "# ..." lines ------------------------------------------ */
static void show_title(const tt_record *r, char *b, size_t n) {
    snprintf(b, n, "tritune %s  %s  %s (%s)", tt_rec_s(r, "command"), tt_rec_s(r, "date"), tt_rec_s(r, "cpu"),
             tt_rec_s(r, "machine_id"));
}

static void show_features(const tt_record *r, char *b, size_t n) {
    const char *f = tt_rec_s(r, "features");
    snprintf(b, n, "features: %s", f && f[0] ? f : "(none of the SIMD features tritune uses)");
}

static void show_machine(const tt_record *r, char *b, size_t n) {
    snprintf(b, n, "cores %.0f (%.0f logical CPUs), L1d %.0f KiB, L2 %.0f KiB, L3 %.0f MiB (%s), memory %.1f GiB",
             tt_rec_d(r, "cores", 0), tt_rec_d(r, "logical_cpus", 0), tt_rec_d(r, "l1d_bytes", 0) / 1024,
             tt_rec_d(r, "l2_bytes", 0) / 1024, tt_rec_d(r, "l3_bytes", 0) / (1 << 20), tt_rec_s(r, "topology_source"),
             tt_rec_d(r, "mem_total_bytes", 0) / (1 << 30));
}

static void show_settings(const tt_record *r, char *b, size_t n) {
    size_t l = 0;
    static const char *const keys[] = {"threads", "cache", "pinning"};
    for (int i = 0; i < 3; i++) { /* settings the command has ("-" = none) */
        const char *v = tt_rec_s(r, keys[i]);
        if (v && strcmp(v, "-") != 0 && l < n) l += (size_t)snprintf(b + l, n - l, "%s %s, ", keys[i], v);
    }
    if (l < n)
        snprintf(b + l, n - l, "build %s, compiler %s, generator %s, %.0f variants", tt_rec_s(r, "build_type"),
                 tt_rec_s(r, "compiler"), tt_rec_s(r, "generator_hash"), tt_rec_d(r, "variants", 0));
}

static void show_warning(const tt_record *r, char *b, size_t n) {
    const char *w = tt_rec_s(r, "warning");
    if (w) snprintf(b, n, "WARNING: %s", w);
}

static void show_blas(const tt_record *r, char *b, size_t n) {
    const char *note = tt_rec_s(r, "openblas_note");
    if (note && !strstr(tt_rec_s(r, "warning") ? tt_rec_s(r, "warning") : "", note)) snprintf(b, n, "fp32 baseline: %s", note);
}

static const tt_column context_lines[] = {
    {.show = show_title}, {.show = show_features}, {.show = show_machine}, {.show = show_settings},
    {.show = show_blas},  {.show = show_warning},
};
static const tt_table context_table = TT_TABLE(TT_TABLE_LINES, "# ", context_lines);

/* ---- the record -------------------------------------------------------------------- */
void tt_context_build(tt_context *c, const tt_context_args *a) {
    memset(c, 0, sizeof *c);
    tt_machine_describe(&c->m);
    c->feats = tt_cpu_features();
    char fs[256], id[160], date[64];
    tt_features_str(c->feats, fs, sizeof fs);
    tt_machine_id(&c->m, c->feats, id, sizeof id);
    time_t now = time(NULL);
    strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
    const double load = loadavg1();
    const char *build = tt_build_type();
    char warn[640] = "";
    if (strcmp(build, "Release") != 0) snprintf(warn, sizeof warn, "non-release build (%s): timings are not meaningful", build);
    else if (a->measuring) {
        const double others = others_busy_cpus();
        if (others > 0.2)
            snprintf(warn, sizeof warn,
                     "machine busy (other processes used %.1f CPUs just now, %d CPUs in all): timings may be noisy",
                     others, c->m.logical_cpus);
    }
    tt_record *r = &c->rec;
    tt_rec_begin(r, "context", a->header ? &context_table : NULL);
    tt_rec_int(r, "schema_version", TT_SCHEMA_VERSION);
    tt_rec_str(r, "command", a->command);
    tt_rec_str(r, "date", date);
    tt_rec_str(r, "machine_id", id);
    tt_rec_str(r, "cpu", c->m.model);
    tt_rec_str(r, "arch", c->m.arch);
    tt_rec_str(r, "features", fs);
    tt_rec_int(r, "logical_cpus", c->m.logical_cpus);
    tt_rec_int(r, "cores", c->m.cores);
    tt_rec_int(r, "l1d_bytes", c->m.l1d_bytes);
    tt_rec_int(r, "l2_bytes", c->m.l2_bytes);
    tt_rec_int(r, "l3_bytes", c->m.l3_bytes);
    tt_rec_int(r, "mem_total_bytes", c->m.mem_total_bytes);
    tt_rec_str(r, "topology_source", c->m.topology_source);
    tt_rec_str(r, "threads", a->threads ? a->threads : "-");
    tt_rec_str(r, "cache", a->cache ? a->cache : "-");
    tt_rec_str(r, "pinning", a->pinning ? a->pinning : "-");
    tt_rec_str(r, "build_type", build);
    tt_rec_str(r, "compiler", __VERSION__);
    tt_rec_str(r, "generator_hash", tt_generator_hash);
    tt_rec_int(r, "variants", tt_n_variants);
    tt_rec_num(r, "load_avg_1m", load);
    int blas_bad;
    const char *bnote = tt_blas_note(&blas_bad);
    tt_rec_str(r, "openblas_core", tt_blas_core());
    if (tt_blas_core()) tt_rec_int(r, "openblas_threads", tt_blas_threads());
    else tt_rec_null(r, "openblas_threads");
    tt_rec_str(r, "openblas_note", bnote);
    if (blas_bad && strlen(warn) + 2 < sizeof warn)
        snprintf(warn + strlen(warn), sizeof warn - strlen(warn), "%s%s", warn[0] ? "; " : "", bnote);
    tt_rec_str(r, "warning", warn[0] ? warn : NULL);
}

void tt_context_free(tt_context *c) { tt_rec_free(&c->rec); }
