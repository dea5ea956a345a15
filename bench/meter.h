/* tritune CLI: energy and hardware counters over the timed phases of a
 * command (bench kernel: each row's timed calls; bench decode: pp and tg
 * over all repetitions), and their fields in a row.
 *
 * Fields (JSON), energy: energy_method ("powercap", "perf_power_pmu" or
 * null), energy_domain ("package"), joules (package, over the timed runs),
 * joules_per_call / joules_per_token, joules_core, joules_dram (null where
 * the domain is absent), energy_seconds, idle_watts (package power measured
 * just before, with nothing of ours running), joules_per_call_above_idle /
 * joules_per_token_above_idle = (joules - idle_watts * energy_seconds) /
 * units, energy_unavailable (the reason, when joules is null: no source,
 * a failed read, or timed runs shorter than 50 ms in all).
 * Counters: cycles_per_*, instructions_per_*, llc_misses_per_*,
 * mem_read_bytes_per_* (64 bytes per CAS read), ipc, counters_multiplexed,
 * counters_unavailable (the reason per event; null when all count). */
#ifndef TT_METER_H
#define TT_METER_H

#include "core/counters.h"
#include "core/energy.h"
#include "report.h"

typedef struct {
    tt_energy e;
    double idle_w;  /* NaN until measured */
    int idle_done;
    tt_counters ctr;
    int ctr_open;
} tt_meter;

/* What one phase accumulates over its repetitions. */
typedef struct {
    tt_energy_acc en;
    tt_counts ct;   /* summed */
    int ct_n;
    tt_energy_sample a;
} tt_meter_phase;

/* Find the energy source and open the counters.  Open before creating the
 * thread pool: the counters follow the threads created after them. */
void tt_meter_open(tt_meter *m);
void tt_meter_close(tt_meter *m);
/* Idle package power over `seconds`, measured once (no-op without energy). */
void tt_meter_idle(tt_meter *m, double seconds);
void tt_meter_phase_reset(tt_meter_phase *p);
void tt_meter_begin(tt_meter *m, tt_meter_phase *p);
void tt_meter_end(tt_meter *m, tt_meter_phase *p);
/* The fields above, per `units` calls (per_token = 0) or tokens (per_token = 1). */
void tt_meter_fields(tt_record *r, const tt_meter *m, const tt_meter_phase *p, double units, int per_token);

#endif
