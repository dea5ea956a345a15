/* tritune: hardware counters through perf_event_open and libpfm4 (counters.h). */
#define _GNU_SOURCE
#include "core/counters.h"

#include <errno.h>
#include <linux/perf_event.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifdef TT_HAVE_LIBPFM
#include <perfmon/pfmlib_perf_event.h>
#endif

/* ---- the system calls, replaceable by a test ------------------------------------- */
static long real_open(struct perf_event_attr *a, pid_t pid, int cpu, int group, unsigned long flags) {
    return syscall(__NR_perf_event_open, a, pid, cpu, group, flags);
}
static int real_ioctl(int fd, unsigned long req) { return ioctl(fd, req, 0); }

#ifdef TT_HAVE_LIBPFM
static int pfm_encode(const char *name, struct perf_event_attr *attr, char *why, size_t n) {
    static int init = -1;
    if (init < 0) init = pfm_initialize() == PFM_SUCCESS;
    if (!init) {
        snprintf(why, n, "libpfm4 did not initialise");
        return -1;
    }
    pfm_perf_encode_arg_t arg;
    memset(&arg, 0, sizeof arg);
    arg.attr = attr;
    arg.size = sizeof arg;
    const int rc = pfm_get_os_event_encoding(name, PFM_PLM3, PFM_OS_PERF_EVENT, &arg);
    if (rc != PFM_SUCCESS) {
        snprintf(why, n, "libpfm4: %s: %s", name, pfm_strerror(rc));
        return -1;
    }
    return 0;
}
#define REAL_ENCODE pfm_encode
#else
#define REAL_ENCODE NULL
#endif

static const tt_counters_sys real_sys = {real_open, read, real_ioctl, close, REAL_ENCODE};
static const tt_counters_sys *sys = &real_sys;

void tt_counters_set_sys(const tt_counters_sys *s) { sys = s ? s : &real_sys; }

const char *tt_counter_name(tt_counter_id id) {
    static const char *const names[TT_CTR_N] = {"cycles", "instructions", "llc_misses", "mem_reads"};
    return id < TT_CTR_N ? names[id] : "?";
}

/* ---- opening ------------------------------------------------------------------------ */
static void attr_init(struct perf_event_attr *a) {
    a->size = sizeof *a;
    a->disabled = 1;
    a->read_format = PERF_FORMAT_TOTAL_TIME_ENABLED | PERF_FORMAT_TOTAL_TIME_RUNNING;
}

/* One per-process event (this thread and the threads created after it). */
static int open_task_event(struct perf_event_attr *a, char *why, size_t n, const char *event) {
    char name[96];
    snprintf(name, sizeof name, "%s", event);
    attr_init(a);
    a->exclude_kernel = 1;
    a->exclude_hv = 1;
    a->inherit = 1;
    long fd = sys->perf_event_open(a, 0, -1, -1, PERF_FLAG_FD_CLOEXEC);
    if (fd < 0) {
        const int e = errno;
        snprintf(why, n, "perf_event_open(%s): %s%s", name, strerror(e),
                 e == ENOENT || e == EOPNOTSUPP ? " (no hardware PMU exposed here, e.g. a VM without a virtual PMU)"
                 : e == EACCES || e == EPERM   ? " (perf_event_paranoid forbids it)"
                                               : "");
        return -1;
    }
    return (int)fd;
}

/* cycles / instructions / LLC misses: libpfm4's name first, the generic perf event otherwise. */
static void open_core_event(tt_counters *c, tt_counter_id id) {
    static const char *const pfm_names[] = {"cycles", "instructions", "LLC_MISSES"};
    static const unsigned long long generic[] = {PERF_COUNT_HW_CPU_CYCLES, PERF_COUNT_HW_INSTRUCTIONS,
                                                 PERF_COUNT_HW_CACHE_MISSES};
    struct perf_event_attr a;
    char why[200] = "";
    memset(&a, 0, sizeof a);
    if (sys->encode && sys->encode(pfm_names[id], &a, why, sizeof why) == 0) {
        snprintf(c->event[id], sizeof c->event[id], "libpfm4 %s", pfm_names[id]);
    } else {
        memset(&a, 0, sizeof a);
        a.type = PERF_TYPE_HARDWARE;
        a.config = generic[id];
        snprintf(c->event[id], sizeof c->event[id], "perf generic %s", id == TT_CTR_LLC_MISSES ? "cache-misses" : pfm_names[id]);
    }
    const int fd = open_task_event(&a, c->why[id], sizeof c->why[id], c->event[id]);
    if (fd >= 0) c->fd[id][c->nfd[id]++] = fd;
}

/* Memory reads: CAS read commands of every memory-controller box libpfm4 knows on this CPU. */
static void open_mem_reads(tt_counters *c) {
    static const char *const pmus[] = {"skx", "bdx", "hswep", "ivbep", "snbep"};
    char *why = c->why[TT_CTR_MEM_READS];
    const size_t wn = sizeof c->why[TT_CTR_MEM_READS];
    if (!sys->encode) {
        snprintf(why, wn, "this build has no libpfm4 (install libpfm4-dev): uncore events need it");
        return;
    }
    int known = 0;
    for (size_t p = 0; p < sizeof pmus / sizeof *pmus && !known; p++)
        for (int box = 0; box < TT_CTR_MAX_FDS; box++) {
            char name[96], w[200];
            struct perf_event_attr a;
            memset(&a, 0, sizeof a);
            snprintf(name, sizeof name, "%s_unc_imc%d::UNC_M_CAS_COUNT:RD", pmus[p], box);
            if (sys->encode(name, &a, w, sizeof w) != 0) continue;
            if (!known++) snprintf(c->event[TT_CTR_MEM_READS], sizeof c->event[0], "%s_unc_imc*::UNC_M_CAS_COUNT:RD", pmus[p]);
            attr_init(&a);
            long fd = sys->perf_event_open(&a, -1, 0, -1, PERF_FLAG_FD_CLOEXEC); /* uncore: system-wide, CPU 0 */
            if (fd < 0) {
                snprintf(why, wn, "perf_event_open(%s): %s (uncore events are system-wide: perf_event_paranoid <= 0 "
                         "or CAP_PERFMON)", name, strerror(errno));
                continue;
            }
            c->fd[TT_CTR_MEM_READS][c->nfd[TT_CTR_MEM_READS]++] = (int)fd;
        }
    if (!known)
        snprintf(why, wn, "libpfm4 knows no memory-controller (uncore IMC) PMU on this CPU");
}

void tt_counters_open(tt_counters *c) {
    memset(c, 0, sizeof *c);
    for (int id = 0; id < TT_CTR_MEM_READS; id++) open_core_event(c, (tt_counter_id)id);
    open_mem_reads(c);
    for (int id = 0; id < TT_CTR_N; id++) {
        c->available[id] = c->nfd[id] > 0;
        if (c->available[id]) c->why[id][0] = 0;
        c->any |= c->available[id];
    }
}

void tt_counters_start(tt_counters *c) {
    for (int id = 0; id < TT_CTR_N; id++)
        for (int k = 0; k < c->nfd[id]; k++) {
            sys->ioctl(c->fd[id][k], PERF_EVENT_IOC_RESET);
            sys->ioctl(c->fd[id][k], PERF_EVENT_IOC_ENABLE);
        }
}

void tt_counters_stop(tt_counters *c, tt_counts *out) {
    memset(out, 0, sizeof *out);
    for (int id = 0; id < TT_CTR_N; id++) {
        out->v[id] = c->available[id] ? 0 : NAN;
        for (int k = 0; k < c->nfd[id]; k++) {
            uint64_t r[3]; /* value, time enabled, time running */
            sys->ioctl(c->fd[id][k], PERF_EVENT_IOC_DISABLE);
            if (sys->read(c->fd[id][k], r, sizeof r) != (ssize_t)sizeof r || r[2] == 0) {
                out->v[id] = NAN;
                continue;
            }
            out->multiplexed |= r[2] < r[1];
            out->v[id] += (double)r[0] * ((double)r[1] / (double)r[2]);
        }
    }
}

void tt_counters_close(tt_counters *c) {
    for (int id = 0; id < TT_CTR_N; id++)
        for (int k = 0; k < c->nfd[id]; k++) sys->close(c->fd[id][k]);
    memset(c->nfd, 0, sizeof c->nfd);
}

void tt_counters_unavailable(const tt_counters *c, char *buf, size_t n) {
    size_t l = 0;
    buf[0] = 0;
    for (int id = 0; id < TT_CTR_N && l < n; id++)
        if (!c->available[id])
            l += (size_t)snprintf(buf + l, n - l, "%s%s: %s", l ? "; " : "", tt_counter_name((tt_counter_id)id), c->why[id]);
}
