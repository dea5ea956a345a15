/* tritune info: what this machine is and what can be measured on it. */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/perf_event.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cli.h"
#include "core/cpu.h"
#include "seam/variant.h"

/* Can this process open a hardware instruction counter? */
static int hw_counters_readable(char *why, size_t n) {
    struct perf_event_attr pe;
    memset(&pe, 0, sizeof pe);
    pe.type = PERF_TYPE_HARDWARE;
    pe.size = sizeof pe;
    pe.config = PERF_COUNT_HW_INSTRUCTIONS;
    pe.disabled = 1;
    pe.exclude_kernel = 1;
    pe.exclude_hv = 1;
    long fd = syscall(__NR_perf_event_open, &pe, 0, -1, -1, 0);
    if (fd < 0) {
        snprintf(why, n, "perf_event_open(instructions) failed: %s", strerror(errno));
        return 0;
    }
    close((int)fd);
    snprintf(why, n, "perf_event_open(instructions) ok");
    return 1;
}

static int rapl_readable(char *why, size_t n) {
    const char *p = getenv("TRITUNE_RAPL_PATH") ? getenv("TRITUNE_RAPL_PATH") : "/sys/class/powercap/intel-rapl:0/energy_uj";
    FILE *f = fopen(p, "r");
    if (!f) {
        snprintf(why, n, "%s: %s", p, strerror(errno));
        return 0;
    }
    unsigned long long v;
    int ok = fscanf(f, "%llu", &v) == 1;
    fclose(f);
    snprintf(why, n, "%s: %s", p, ok ? "readable" : "unreadable");
    return ok;
}

int cmd_info(int argc, char **argv) {
    tt_opt o[] = {{"json", 0, NULL, "JSON lines output"}, {"help", 0, NULL, "this help"}};
    const int no = (int)(sizeof o / sizeof *o);
    if (tt_args_parse("info", argc, argv, o, no)) return TT_EXIT_USAGE;
    if (tt_opt_get(o, no, "help")) {
        tt_opts_help(stdout, "usage: tritune info [--json]", o, no);
        return 0;
    }
    int json = tt_opt_get(o, no, "json") != NULL;
    tt_machine m;
    tt_machine_describe(&m);
    uint32_t f = tt_cpu_features();
    char fs[256], id[160], cw[256], rw[256];
    tt_features_str(f, fs, sizeof fs);
    tt_machine_id(&m, f, id, sizeof id);
    int hw = hw_counters_readable(cw, sizeof cw), rapl = rapl_readable(rw, sizeof rw);
    int runnable = 0;
    for (int i = 0; i < tt_n_variants; i++) runnable += (tt_variants[i].features & f) == tt_variants[i].features;
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
    if (json) {
        tt_print_context(stdout, 1, "info", "-", "-", "-", 0);
        tt_json j = {0};
        tj_begin(&j);
        tj_str(&j, "kind", "info");
        tj_str(&j, "machine_id", id);
        tj_str(&j, "cpu", m.model);
        tj_str(&j, "arch", m.arch);
        tj_str(&j, "features", fs);
        tj_int(&j, "cores", m.cores);
        tj_int(&j, "logical_cpus", m.logical_cpus);
        tj_int(&j, "l1d_bytes", m.l1d_bytes);
        tj_int(&j, "l2_bytes", m.l2_bytes);
        tj_int(&j, "l3_bytes", m.l3_bytes);
        tj_int(&j, "mem_total_bytes", m.mem_total_bytes);
        tj_int(&j, "mem_available_bytes", m.mem_avail_bytes);
        tj_str(&j, "topology_source", m.topology_source);
        tj_bool(&j, "hwloc", hwloc);
        tj_bool(&j, "openblas", openblas);
        tj_bool(&j, "hw_counters", hw);
        tj_str(&j, "hw_counters_detail", cw);
        tj_bool(&j, "rapl_energy", rapl);
        tj_str(&j, "rapl_detail", rw);
        tj_int(&j, "variants", tt_n_variants);
        tj_int(&j, "variants_runnable", runnable);
        tj_end(&j, stdout);
        tj_free(&j);
        return 0;
    }
    printf("machine id     %s\n", id);
    printf("cpu            %s (%s)\n", m.model, m.arch);
    printf("features       %s\n", fs[0] ? fs : "(none of the SIMD features tritune uses)");
    printf("cores          %d (%d logical CPUs)\n", m.cores, m.logical_cpus);
    printf("caches         L1d %ld KiB, L2 %ld KiB, L3 %ld KiB (from %s)\n", m.l1d_bytes >> 10, m.l2_bytes >> 10,
           m.l3_bytes >> 10, m.topology_source);
    printf("memory         %.1f GiB total, %.1f GiB available\n", (double)m.mem_total_bytes / (1 << 30),
           (double)m.mem_avail_bytes / (1 << 30));
    printf("hwloc          %s\n", hwloc ? "yes (topology and pinning)" : "no (sysfs topology, sched affinity pinning)");
    printf("openblas       %s\n", openblas ? "yes (fp32 baseline)" : "no (fp32 baseline unavailable)");
    printf("hw counters    %s (%s)\n", hw ? "available" : "unavailable", cw);
    printf("RAPL energy    %s (%s)\n", rapl ? "available" : "unavailable", rw);
    printf("variants       %d in table, %d runnable here\n", tt_n_variants, runnable);
    printf("build          %s, generator %s\n", tt_build_type(), tt_generator_hash);
    return 0;
}
