/* tritune: energy over a timed phase, measured (never estimated).
 *
 * Two sources, tried in this order:
 *  1. the powercap sysfs tree (Linux RAPL driver): one directory per zone
 *     (intel-rapl:0 = package 0, intel-rapl:0:0 = its core subzone,
 *     intel-rapl:0:1 = DRAM ...) with `name`, `energy_uj` (a counter in
 *     microjoules that wraps at `max_energy_range_uj`) and
 *     `max_energy_range_uj`.  The root is /sys/class/powercap, or
 *     $TRITUNE_POWERCAP_ROOT (tests point it at a fake tree);
 *  2. the perf power PMU (/sys/bus/event_source/devices/power: events
 *     energy-pkg, energy-cores, energy-ram with their .scale in joules),
 *     opened system-wide with perf_event_open (needs perf_event_paranoid
 *     <= 0 or CAP_PERFMON).  Not tried when $TRITUNE_POWERCAP_ROOT is set.
 * Domains: package (the sum over packages), core and dram where present.
 * When neither source can be read, tt_energy_open says why; callers report
 * null with that reason.  docs/energy.md has the method and its sources. */
#ifndef TT_ENERGY_H
#define TT_ENERGY_H

#include <stdint.h>

#define TT_ENERGY_MAX_ZONES 16

typedef enum { TT_EN_PACKAGE = 0, TT_EN_CORE, TT_EN_DRAM, TT_EN_NDOMAINS } tt_energy_domain;

typedef struct {
    char path[512];        /* powercap: the zone's energy_uj                  */
    tt_energy_domain domain;
    uint64_t max_range_uj; /* powercap: the counter wraps at this value       */
    int fd;                /* perf: the event's file descriptor, else -1      */
    double scale;          /* perf: joules per count                          */
} tt_energy_zone;

typedef struct {
    int available;          /* 1: at least the package domain can be read       */
    const char *method;     /* "powercap" or "perf_power_pmu"; NULL when unavailable */
    char detail[640];       /* what was found, or why energy cannot be read     */
    int has[TT_EN_NDOMAINS];
    int nzones;
    tt_energy_zone z[TT_ENERGY_MAX_ZONES];
} tt_energy;

typedef struct {
    uint64_t v[TT_ENERGY_MAX_ZONES]; /* raw counters (powercap: uJ; perf: counts) */
    uint64_t t_ns;                   /* tt_now_ns() when read                     */
    int ok;
} tt_energy_sample;

/* Find a source; returns e->available.  Never fails otherwise. */
int tt_energy_open(tt_energy *e);
void tt_energy_close(tt_energy *e);
/* Read every zone now (s->ok = 0 when a read failed). */
void tt_energy_read(const tt_energy *e, tt_energy_sample *s);
/* Joules of domain d between two samples (wrap-around handled); NaN when
 * the domain is absent or a sample failed. */
double tt_energy_joules(const tt_energy *e, const tt_energy_sample *a, const tt_energy_sample *b, tt_energy_domain d);
/* A counter that counts up to max_range_uj and wraps to 0: after - before,
 * assuming at most one wrap between the reads. */
uint64_t tt_energy_delta_uj(uint64_t before, uint64_t after, uint64_t max_range_uj);
/* Package power with nothing of ours running: sleeps `seconds`, reading
 * every 50 ms (a wrap per step at most).  NaN when unavailable. */
double tt_energy_idle_watts(const tt_energy *e, double seconds);
const char *tt_energy_domain_name(tt_energy_domain d); /* "package", "core", "dram" */

/* Energy summed over the repetitions of one phase. */
typedef struct {
    double joules[TT_EN_NDOMAINS];
    double seconds;
    int n, failed;
} tt_energy_acc;
void tt_energy_acc_add(tt_energy_acc *acc, const tt_energy *e, const tt_energy_sample *a, const tt_energy_sample *b);

#endif
