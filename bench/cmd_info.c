/* tritune info: what this machine is and what can be measured on it. */
#define _GNU_SOURCE
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "core/counters.h"
#include "core/energy.h"
#include "seam/variant.h"

/* ---- how people see the info row (the context's "# ..." lines come first) ---------- */
static void show_memory(const tt_record *r, char *b, size_t n) {
    snprintf(b, n, "%.1f GiB available", tt_rec_d(r, "mem_available_bytes", 0) / (1 << 30));
}
static void show_hwloc(const tt_record *r, char *b, size_t n) {
    snprintf(b, n, "%s", tt_rec_d(r, "hwloc", 0) ? "yes (topology and pinning)" : "no (sysfs topology, sched affinity pinning)");
}
static void show_openblas(const tt_record *r, char *b, size_t n) {
    if (tt_rec_d(r, "openblas", 0))
        snprintf(b, n, "yes (fp32 baseline): core %s, %.0f thread(s)", tt_rec_s(r, "openblas_core"),
                 tt_rec_d(r, "openblas_threads", 0));
    else snprintf(b, n, "no (fp32 baseline unavailable)");
}
static void show_counters(const tt_record *r, char *b, size_t n) {
    snprintf(b, n, "%s (%s)", tt_rec_d(r, "hw_counters", 0) ? "available" : "unavailable",
             tt_rec_s(r, "hw_counters_detail"));
}
static void show_energy(const tt_record *r, char *b, size_t n) {
    snprintf(b, n, "%s (%s)", tt_rec_d(r, "energy", 0) ? tt_rec_s(r, "energy_method") : "unavailable",
             tt_rec_s(r, "energy_detail"));
}
static void show_amx(const tt_record *r, char *b, size_t n) {
    snprintf(b, n, "%s (%s)", tt_rec_d(r, "amx", 0) ? "available" : "unavailable", tt_rec_s(r, "amx_detail"));
}
static void show_variants(const tt_record *r, char *b, size_t n) {
    snprintf(b, n, "%.0f in table, %.0f runnable here", tt_rec_d(r, "variants", 0), tt_rec_d(r, "variants_runnable", 0));
}
static const tt_column info_lines[] = {
    TT_COL_SHOW("memory", 0, show_memory),       TT_COL_SHOW("hwloc", 0, show_hwloc),
    TT_COL_SHOW("openblas", 0, show_openblas),   TT_COL_SHOW("hw counters", 0, show_counters),
    TT_COL_SHOW("energy", 0, show_energy),    TT_COL_SHOW("AMX tiles", 0, show_amx),
    TT_COL_SHOW("variants", 0, show_variants),
};
static const tt_table info_table = TT_TABLE(TT_TABLE_LINES, NULL, info_lines);

int cmd_info(int argc, char **argv) {
    tt_cmd c = {.name = "info", .synopsis = ""};
    int rc = tt_cmd_start(&c, argc, argv);
    if (rc != TT_CMD_GO) return rc;
    tt_context ctx;
    tt_context_build(&ctx, &(tt_context_args){.command = "info", .header = 1});
    tt_energy en;
    tt_energy_open(&en);
    tt_counters ctr;
    tt_counters_open(&ctr);
    char cw[1200] = "", miss[1024];
    for (int id = 0; id < TT_CTR_N; id++) /* what counts, then what does not and why */
        if (ctr.available[id])
            snprintf(cw + strlen(cw), sizeof cw - strlen(cw), "%s%s: %s", cw[0] ? "; " : "",
                     tt_counter_name((tt_counter_id)id), ctr.event[id]);
    tt_counters_unavailable(&ctr, miss, sizeof miss);
    if (miss[0]) snprintf(cw + strlen(cw), sizeof cw - strlen(cw), "%s%s", cw[0] ? "; " : "", miss);
    int runnable = 0;
    for (int i = 0; i < tt_n_variants; i++) runnable += (tt_variants[i].features & ctx.feats) == tt_variants[i].features;
#ifdef TT_HAVE_HWLOC
    const int hwloc = 1;
#else
    const int hwloc = 0;
#endif
#ifdef TT_HAVE_OPENBLAS
    const int openblas = 1;
#else
    const int openblas = 0;
#endif
    tt_report_context(&c.rep, &ctx.rec);
    /* the machine as the context record has it, then what only info reports */
    tt_record r = {0};
    tt_rec_begin(&r, "info", &info_table);
    static const char *const machine[] = {"machine_id", "cpu",      "arch",     "features", "cores",
                                          "logical_cpus", "l1d_bytes", "l2_bytes", "l3_bytes", "mem_total_bytes"};
    for (size_t i = 0; i < sizeof machine / sizeof *machine; i++) tt_rec_copy(&r, &ctx.rec, machine[i]);
    tt_rec_int(&r, "mem_available_bytes", ctx.m.mem_avail_bytes);
    tt_rec_copy(&r, &ctx.rec, "topology_source");
    tt_rec_bool(&r, "hwloc", hwloc);
    tt_rec_bool(&r, "openblas", openblas);
    tt_rec_copy(&r, &ctx.rec, "openblas_core");
    tt_rec_copy(&r, &ctx.rec, "openblas_threads");
    tt_rec_copy(&r, &ctx.rec, "openblas_note");
    tt_rec_bool(&r, "hw_counters", ctr.any);
    tt_rec_str(&r, "hw_counters_detail", cw);
    tt_rec_bool(&r, "energy", en.available);
    tt_rec_str(&r, "energy_method", en.method);
    tt_rec_str(&r, "energy_detail", en.detail);
    tt_rec_bool(&r, "amx", (ctx.feats & TT_FEAT_AMXINT8) != 0);
    tt_rec_str(&r, "amx_detail", tt_amx_status());
    tt_rec_copy(&r, &ctx.rec, "variants");
    tt_rec_int(&r, "variants_runnable", runnable);
    tt_report_row(&c.rep, &r);
    tt_rec_free(&r);
    tt_counters_close(&ctr);
    tt_energy_close(&en);
    tt_context_free(&ctx);
    return tt_cmd_end(&c, TT_EXIT_OK);
}
