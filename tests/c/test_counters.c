/* tritune: the hardware-counter path (core/counters.h) and its fields in a
 * row (bench/meter.h) on a fake kernel: perf_event_open, read, ioctl and
 * close, and libpfm4's encoder, replaced through tt_counters_sys.  Checks
 * which events count, that an event the kernel refuses is unavailable with
 * its reason while the others still count, multiplexed counts scaled by
 * enabled/running time, the sum over memory-controller boxes, and the
 * derived fields (per token, IPC, bytes from memory). */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/perf_event.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/counters.h"
#include "meter.h"
#include "report.h"
#include "test_util.h"

/* ---- the fake kernel ------------------------------------------------------------------ */
enum { FD_CYCLES = 100, FD_INSTR, FD_IMC0 = 200 };
#define FAKE_UNC_TYPE 99
static int enabled[512], opened, closed, refuse_uncore_box = 2;
static uint64_t counts[512];

static long fake_open(struct perf_event_attr *a, pid_t pid, int cpu, int group, unsigned long flags) {
    (void)group, (void)flags;
    opened++;
    if (a->type == PERF_TYPE_HARDWARE && pid == 0 && cpu == -1 && a->inherit) {
        if (a->config == PERF_COUNT_HW_CPU_CYCLES) return FD_CYCLES;
        if (a->config == PERF_COUNT_HW_INSTRUCTIONS) return FD_INSTR;
        errno = ENOENT; /* no LLC miss event on this fake PMU */
        return -1;
    }
    if (a->type == FAKE_UNC_TYPE && pid == -1 && cpu == 0) {
        if ((int)a->config >= refuse_uncore_box) {
            errno = EACCES;
            return -1;
        }
        return FD_IMC0 + (long)a->config;
    }
    errno = EINVAL;
    return -1;
}

/* Each enabled region adds: cycles 3000, instructions 6000, each IMC box 100
 * CAS reads; box 1 ran for half the time it was enabled (multiplexed). */
static int fake_ioctl(int fd, unsigned long req) {
    if (req == PERF_EVENT_IOC_RESET) counts[fd] = 0;
    else if (req == PERF_EVENT_IOC_ENABLE) enabled[fd] = 1;
    else if (req == PERF_EVENT_IOC_DISABLE && enabled[fd]) {
        enabled[fd] = 0;
        counts[fd] += fd == FD_CYCLES ? 3000 : fd == FD_INSTR ? 6000 : 100;
    }
    return 0;
}

static ssize_t fake_read(int fd, void *buf, size_t n) {
    uint64_t r[3] = {counts[fd], 1000, fd == FD_IMC0 + 1 ? 500 : 1000};
    if (n < sizeof r) return -1;
    memcpy(buf, r, sizeof r);
    return (ssize_t)sizeof r;
}

static int fake_close(int fd) {
    (void)fd;
    closed++;
    return 0;
}

/* libpfm4's names: the core events map to the generic ones; LLC_MISSES is
 * unknown; the uncore IMC boxes 0..3 exist under "skx". */
static int fake_encode(const char *name, struct perf_event_attr *a, char *why, size_t n) {
    int box;
    if (!strcmp(name, "cycles") || !strcmp(name, "instructions")) {
        a->type = PERF_TYPE_HARDWARE;
        a->config = name[0] == 'c' ? PERF_COUNT_HW_CPU_CYCLES : PERF_COUNT_HW_INSTRUCTIONS;
        return 0;
    }
    if (sscanf(name, "skx_unc_imc%d::UNC_M_CAS_COUNT:RD", &box) == 1 && box < 4) {
        a->type = FAKE_UNC_TYPE;
        a->config = (uint64_t)box;
        return 0;
    }
    snprintf(why, n, "fake libpfm4: %s: event not found", name);
    return -1;
}

static const tt_counters_sys fake = {fake_open, fake_read, fake_ioctl, fake_close, fake_encode};

static void test_counters(void) {
    tt_counters_set_sys(&fake);
    tt_counters c;
    tt_counters_open(&c);
    CHECK(c.any && c.available[TT_CTR_CYCLES] && c.available[TT_CTR_INSTRUCTIONS], "cycles and instructions count");
    CHECK(!c.available[TT_CTR_LLC_MISSES] && strstr(c.why[TT_CTR_LLC_MISSES], strerror(ENOENT)),
          "LLC misses refused by the kernel: unavailable with the reason: '%s'", c.why[TT_CTR_LLC_MISSES]);
    CHECK(c.available[TT_CTR_MEM_READS] && c.nfd[TT_CTR_MEM_READS] == 2, "two of four IMC boxes open: %d",
          c.nfd[TT_CTR_MEM_READS]);
    char why[1024];
    tt_counters_unavailable(&c, why, sizeof why);
    CHECK(strstr(why, "llc_misses: ") && !strstr(why, "cycles:"), "the unavailable list: '%s'", why);
    tt_counts n;
    tt_counters_start(&c);
    tt_counters_stop(&c, &n);
    CHECK(n.v[TT_CTR_CYCLES] == 3000 && n.v[TT_CTR_INSTRUCTIONS] == 6000, "counts %g %g", n.v[0], n.v[1]);
    CHECK(isnan(n.v[TT_CTR_LLC_MISSES]), "an unavailable event has no number");
    CHECK(n.v[TT_CTR_MEM_READS] == 100 + 200 && n.multiplexed, "IMC boxes summed, box 1 scaled x2: %g",
          n.v[TT_CTR_MEM_READS]);
    tt_counters_close(&c);
    CHECK(closed == 4, "every opened fd closed: %d", closed);

    /* a build without libpfm4: generic events, no uncore */
    tt_counters_sys nopfm = fake;
    nopfm.encode = NULL;
    tt_counters_set_sys(&nopfm);
    tt_counters_open(&c);
    CHECK(c.available[TT_CTR_CYCLES] && !c.available[TT_CTR_MEM_READS] && strstr(c.why[TT_CTR_MEM_READS], "libpfm4"),
          "no libpfm4: memory reads unavailable, saying why: '%s'", c.why[TT_CTR_MEM_READS]);
    tt_counters_close(&c);
}

/* The row fields over two metered repetitions of 10 tokens each. */
static void test_fields(void) {
    tt_counters_set_sys(&fake);
    setenv("TRITUNE_POWERCAP_ROOT", "/nonexistent/powercap", 1);
    tt_meter m;
    tt_meter_open(&m);
    tt_meter_phase ph;
    tt_meter_phase_reset(&ph);
    for (int rep = 0; rep < 2; rep++) {
        tt_meter_begin(&m, &ph);
        tt_meter_end(&m, &ph);
    }
    tt_record r = {0};
    tt_rec_begin(&r, "decode", NULL);
    tt_meter_fields(&r, &m, &ph, 20, 1);
    CHECK(tt_rec_d(&r, "cycles_per_token", -1) == 2 * 3000 / 20.0, "cycles/token %g", tt_rec_d(&r, "cycles_per_token", -1));
    CHECK(tt_rec_d(&r, "instructions_per_token", -1) == 2 * 6000 / 20.0, "instructions/token");
    CHECK(tt_rec_d(&r, "ipc", -1) == 2.0, "IPC = instructions / cycles: %g", tt_rec_d(&r, "ipc", -1));
    CHECK(tt_rec_d(&r, "mem_read_bytes_per_token", -1) == 64.0 * 2 * 300 / 20, "bytes from memory: 64 per CAS read: %g",
          tt_rec_d(&r, "mem_read_bytes_per_token", -1));
    const tt_field *f = tt_rec_get(&r, "llc_misses_per_token");
    CHECK(f && f->type == TT_VAL_NULL, "an unavailable event is null");
    CHECK(tt_rec_s(&r, "counters_unavailable") && strstr(tt_rec_s(&r, "counters_unavailable"), "llc_misses"),
          "and its reason is in the row");
    f = tt_rec_get(&r, "joules");
    CHECK(f && f->type == TT_VAL_NULL && tt_rec_s(&r, "energy_unavailable") &&
              strstr(tt_rec_s(&r, "energy_unavailable"), "/nonexistent/powercap"),
          "no energy source: joules null with the reason");
    tt_rec_free(&r);
    tt_meter_close(&m);
    unsetenv("TRITUNE_POWERCAP_ROOT");
    tt_counters_set_sys(NULL);
}

int main(void) {
    test_counters();
    test_fields();
    TEST_DONE("test_counters");
}
