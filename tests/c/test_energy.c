/* tritune: the energy path (core/energy.h) against a fake powercap tree
 * whose counters a helper thread advances at a known rate, as a RAPL
 * driver would: the measured joules per token must match the rate within
 * 5%, across counter wrap-arounds too.  Also: the wrap arithmetic, and a
 * missing or incomplete tree reported as unavailable with its reason. */
#define _GNU_SOURCE
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/energy.h"
#include "core/timing.h"
#include "test_util.h"

typedef struct {
    char root[256];
    double watts;      /* package; core 0.6x, dram 0.2x */
    uint64_t max_uj;   /* the counters wrap here        */
    atomic_int stop;
} fake_tree;

static void put_file(const char *dir, const char *name, const char *text) {
    char p[512], tmp[520];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    snprintf(tmp, sizeof tmp, "%s.tmp", p);
    FILE *f = fopen(tmp, "w");
    if (!f) return;
    fputs(text, f);
    fclose(f);
    rename(tmp, p); /* atomic: a reader never sees half a number */
}

static const struct {
    const char *dir, *name;
    double share;
} zones[] = {{"intel-rapl:0", "package-0", 1.0}, {"intel-rapl:0:0", "core", 0.6}, {"intel-rapl:0:1", "dram", 0.2}};

static void tree_write(fake_tree *t, double seconds) {
    for (int i = 0; i < 3; i++) {
        char d[400], v[64];
        snprintf(d, sizeof d, "%s/%s", t->root, zones[i].dir);
        snprintf(v, sizeof v, "%llu\n", (unsigned long long)((uint64_t)(t->watts * zones[i].share * seconds * 1e6) % t->max_uj));
        put_file(d, "energy_uj", v);
    }
}

static void tree_make(fake_tree *t, const char *tag, double watts, uint64_t max_uj, int nzones) {
    snprintf(t->root, sizeof t->root, "/tmp/tritune-test-energy-%d-%s", (int)getpid(), tag);
    mkdir(t->root, 0755);
    t->watts = watts;
    t->max_uj = max_uj;
    atomic_store(&t->stop, 0);
    for (int i = 0; i < nzones; i++) {
        char d[400], v[64];
        snprintf(d, sizeof d, "%s/%s", t->root, zones[i].dir);
        mkdir(d, 0755);
        put_file(d, "name", zones[i].name);
        snprintf(v, sizeof v, "%llu\n", (unsigned long long)max_uj);
        put_file(d, "max_energy_range_uj", v);
    }
    tree_write(t, 0);
}

static void tree_remove(const fake_tree *t) {
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", t->root);
    if (system(cmd)) fprintf(stderr, "could not remove %s\n", t->root);
}

/* The helper: every 0.5 ms, energy = rate x elapsed time (the clock, not the updates). */
static void *advance(void *arg) {
    fake_tree *t = arg;
    const uint64_t t0 = tt_now_ns();
    while (!atomic_load(&t->stop)) {
        tree_write(t, (double)(tt_now_ns() - t0) * 1e-9);
        struct timespec ts = {0, 500000};
        nanosleep(&ts, NULL);
    }
    return NULL;
}

static void sleep_s(double s) {
    struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
    nanosleep(&ts, NULL);
}

static void test_delta(void) {
    CHECK(tt_energy_delta_uj(100, 250, 1000) == 150, "plain difference");
    CHECK(tt_energy_delta_uj(900, 50, 1000) == 150, "one wrap at max_energy_range_uj: %llu",
          (unsigned long long)tt_energy_delta_uj(900, 50, 1000));
    CHECK(tt_energy_delta_uj(5, 5, 1000) == 0, "no energy");
}

static void test_unavailable(void) {
    tt_energy e;
    setenv("TRITUNE_POWERCAP_ROOT", "/nonexistent/powercap", 1);
    CHECK(!tt_energy_open(&e), "a missing tree is unavailable");
    CHECK(strstr(e.detail, "/nonexistent/powercap") && e.method == NULL, "the reason names the tree: %s", e.detail);
    tt_energy_sample a, b;
    tt_energy_read(&e, &a);
    tt_energy_read(&e, &b);
    CHECK(isnan(tt_energy_joules(&e, &a, &b, TT_EN_PACKAGE)), "no number without a source");
    CHECK(isnan(tt_energy_idle_watts(&e, 0.01)), "no idle power without a source");
    /* a tree with a DRAM zone only: no package, so unavailable */
    fake_tree t;
    tree_make(&t, "nopkg", 10, 1000000000, 0);
    char d[400];
    snprintf(d, sizeof d, "%s/intel-rapl:0:1", t.root);
    mkdir(d, 0755);
    put_file(d, "name", "dram\n");
    put_file(d, "energy_uj", "5\n");
    put_file(d, "max_energy_range_uj", "1000\n");
    setenv("TRITUNE_POWERCAP_ROOT", t.root, 1);
    CHECK(!tt_energy_open(&e), "no package zone: unavailable");
    CHECK(strstr(e.detail, "package") != NULL, "the reason says no package zone: %s", e.detail);
    tree_remove(&t);
}

/* A "decode" metered in 8 phases of 100 ms, each of as many ~3 ms tokens as fit. */
static void measure_tokens(fake_tree *t, double watts, uint64_t max_uj, const char *tag) {
    tree_make(t, tag, watts, max_uj, 3);
    pthread_t th;
    pthread_create(&th, NULL, advance, t);
    setenv("TRITUNE_POWERCAP_ROOT", t->root, 1);
    tt_energy e;
    CHECK(tt_energy_open(&e), "the fake tree is readable: %s", e.detail);
    CHECK(e.has[TT_EN_PACKAGE] && e.has[TT_EN_CORE] && e.has[TT_EN_DRAM] && !strcmp(e.method, "powercap"),
          "package, core and dram found: %s", e.detail);
    sleep_s(0.01);
    const double idle = tt_energy_idle_watts(&e, 0.5); /* 10%: a late update at either end of 0.5 s */
    CHECK(fabs(idle - watts) <= 0.1 * watts, "%s: idle power %.3f W, the fake runs at %.1f W", tag, idle, watts);
    tt_energy_acc acc = {0};
    int tokens = 0;
    for (int phase = 0; phase < 8; phase++) {
        tt_energy_sample a, b;
        tt_energy_read(&e, &a);
        do { /* tokens of ~3 ms for 100 ms (by the clock: sleeps overshoot on a busy machine) */
            sleep_s(0.003);
            tokens++;
        } while (tt_now_ns() - a.t_ns < 100000000ull);
        tt_energy_read(&e, &b);
        tt_energy_acc_add(&acc, &e, &a, &b);
    }
    atomic_store(&t->stop, 1);
    pthread_join(th, NULL);
    const double want = watts * acc.seconds / tokens, got = acc.joules[TT_EN_PACKAGE] / tokens;
    CHECK(acc.failed == 0, "%s: every read succeeded", tag);
    CHECK(fabs(got - want) <= 0.05 * want, "%s: %.5f J/token measured, %.5f J/token at the fake's rate", tag, got, want);
    CHECK(fabs(acc.joules[TT_EN_CORE] / acc.joules[TT_EN_PACKAGE] - 0.6) < 0.05, "%s: core share %.3f", tag,
          acc.joules[TT_EN_CORE] / acc.joules[TT_EN_PACKAGE]);
    CHECK(fabs(acc.joules[TT_EN_DRAM] / acc.joules[TT_EN_PACKAGE] - 0.2) < 0.03, "%s: dram share %.3f", tag,
          acc.joules[TT_EN_DRAM] / acc.joules[TT_EN_PACKAGE]);
    tt_energy_close(&e);
    tree_remove(t);
}

int main(void) {
    test_delta();
    test_unavailable();
    fake_tree t;
    /* no wrap: 40 W, the usual 262 kJ range */
    measure_tokens(&t, 40.0, 262143328850ull, "steady");
    /* wrap-around: 40 W against a 16 J range wraps every 0.4 s, so once in about every fourth
     * 100 ms phase (32 J in all), never twice in one phase or 50 ms idle step */
    measure_tokens(&t, 40.0, 16000000ull, "wrap");
    unsetenv("TRITUNE_POWERCAP_ROOT");
    TEST_DONE("test_energy");
}
