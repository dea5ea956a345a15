/* tritune CLI: energy and counters over timed phases (meter.h). */
#include "meter.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

void tt_meter_open(tt_meter *m) {
    memset(m, 0, sizeof *m);
    m->idle_w = NAN;
    tt_energy_open(&m->e);
    tt_counters_open(&m->ctr);
    m->ctr_open = 1;
}

void tt_meter_close(tt_meter *m) {
    tt_energy_close(&m->e);
    if (m->ctr_open) tt_counters_close(&m->ctr);
    m->ctr_open = 0;
}

void tt_meter_idle(tt_meter *m, double seconds) {
    if (m->idle_done || !m->e.available) return;
    m->idle_w = tt_energy_idle_watts(&m->e, seconds);
    m->idle_done = 1;
}

void tt_meter_phase_reset(tt_meter_phase *p) { memset(p, 0, sizeof *p); }

void tt_meter_begin(tt_meter *m, tt_meter_phase *p) {
    if (m->ctr.any) tt_counters_start(&m->ctr);
    tt_energy_read(&m->e, &p->a); /* last: the energy window is the inner one */
}

void tt_meter_end(tt_meter *m, tt_meter_phase *p) {
    tt_energy_sample b;
    tt_energy_read(&m->e, &b);
    tt_energy_acc_add(&p->en, &m->e, &p->a, &b);
    if (!m->ctr.any) return;
    tt_counts c;
    tt_counters_stop(&m->ctr, &c);
    for (int id = 0; id < TT_CTR_N; id++) p->ct.v[id] = p->ct_n ? p->ct.v[id] + c.v[id] : c.v[id];
    p->ct.multiplexed |= c.multiplexed;
    p->ct_n++;
}

/* Field names, per call and per token (record keys are string literals). */
enum { K_JOULES_PER, K_ABOVE_IDLE, K_CYCLES, K_INSTR, K_LLC, K_MEM, NKEYS };
static const char *const keys[2][NKEYS] = {
    {"joules_per_call", "joules_per_call_above_idle", "cycles_per_call", "instructions_per_call", "llc_misses_per_call",
     "mem_read_bytes_per_call"},
    {"joules_per_token", "joules_per_token_above_idle", "cycles_per_token", "instructions_per_token",
     "llc_misses_per_token", "mem_read_bytes_per_token"},
};

/* RAPL updates its counters about once a millisecond: a phase must last many
 * updates for its energy to mean anything (docs/energy.md). */
#define MIN_ENERGY_SECONDS 0.05

static void energy_fields(tt_record *r, const tt_meter *m, const tt_meter_phase *p, double units, const char *const *k) {
    const tt_energy *e = &m->e;
    const int ok = e->available && p->en.n > 0 && !p->en.failed && units > 0 && p->en.seconds >= MIN_ENERGY_SECONDS;
    tt_rec_str(r, "energy_method", ok ? e->method : NULL);
    tt_rec_str(r, "energy_domain", ok ? "package" : NULL);
    const double j = ok ? p->en.joules[TT_EN_PACKAGE] : NAN;
    tt_rec_num(r, "joules", j);
    tt_rec_num(r, k[K_JOULES_PER], j / units);
    tt_rec_num(r, "joules_core", ok && e->has[TT_EN_CORE] ? p->en.joules[TT_EN_CORE] : NAN);
    tt_rec_num(r, "joules_dram", ok && e->has[TT_EN_DRAM] ? p->en.joules[TT_EN_DRAM] : NAN);
    tt_rec_num(r, "energy_seconds", ok ? p->en.seconds : NAN);
    tt_rec_num(r, "idle_watts", ok ? m->idle_w : NAN);
    tt_rec_num(r, k[K_ABOVE_IDLE], ok ? (j - m->idle_w * p->en.seconds) / units : NAN);
    if (ok) tt_rec_null(r, "energy_unavailable");
    else if (!e->available) tt_rec_str(r, "energy_unavailable", e->detail);
    else if (p->en.failed) tt_rec_str(r, "energy_unavailable", "a counter read failed");
    else {
        char why[160];
        snprintf(why, sizeof why, "the timed runs lasted %.1f ms in all, too short for the energy counter (which moves "
                 "about once a millisecond): at least %.0f ms needed, raise --reps or the tokens", p->en.seconds * 1e3,
                 MIN_ENERGY_SECONDS * 1e3);
        tt_rec_str(r, "energy_unavailable", why);
    }
}

static void counter_fields(tt_record *r, const tt_meter *m, const tt_meter_phase *p, double units, const char *const *k) {
    const int have = m->ctr.any && p->ct_n > 0 && units > 0;
    const double nan = NAN;
    const double *v = p->ct.v;
    tt_rec_num(r, k[K_CYCLES], have ? v[TT_CTR_CYCLES] / units : nan);
    tt_rec_num(r, k[K_INSTR], have ? v[TT_CTR_INSTRUCTIONS] / units : nan);
    tt_rec_num(r, "ipc", have ? v[TT_CTR_INSTRUCTIONS] / v[TT_CTR_CYCLES] : nan);
    tt_rec_num(r, k[K_LLC], have ? v[TT_CTR_LLC_MISSES] / units : nan);
    tt_rec_num(r, k[K_MEM], have ? 64.0 * v[TT_CTR_MEM_READS] / units : nan);
    tt_rec_bool(r, "counters_multiplexed", have && p->ct.multiplexed);
    char why[1024];
    tt_counters_unavailable(&m->ctr, why, sizeof why);
    tt_rec_str(r, "counters_unavailable", why[0] ? why : NULL);
}

void tt_meter_fields(tt_record *r, const tt_meter *m, const tt_meter_phase *p, double units, int per_token) {
    const char *const *k = keys[per_token != 0];
    energy_fields(r, m, p, units, k);
    counter_fields(r, m, p, units, k);
}
