/* tritune: hardware counters over a timed region (perf_event_open, events
 * named through libpfm4 when the build has it).
 *
 * Events: cycles, instructions, LLC misses (this process and the threads it
 * creates after tt_counters_open: open them before the pool), and memory
 * reads from the uncore memory-controller PMU (CAS read commands, 64 bytes
 * each; system-wide on CPU 0, so it needs perf_event_paranoid <= 0 or
 * CAP_PERFMON).  An event that cannot be opened is unavailable with its
 * reason; the others still count.  Counts are scaled by enabled/running
 * time when the kernel multiplexes.  docs/counters.md has the method.
 *
 * The system calls go through a table (tt_counters_sys) so a test can put
 * a fake kernel under the real logic (tests/c/test_counters.c). */
#ifndef TT_COUNTERS_H
#define TT_COUNTERS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct perf_event_attr;

typedef enum { TT_CTR_CYCLES = 0, TT_CTR_INSTRUCTIONS, TT_CTR_LLC_MISSES, TT_CTR_MEM_READS, TT_CTR_N } tt_counter_id;

#define TT_CTR_MAX_FDS 8 /* memory reads: one event per memory-controller box */

typedef struct {
    long (*perf_event_open)(struct perf_event_attr *attr, pid_t pid, int cpu, int group_fd, unsigned long flags);
    ssize_t (*read)(int fd, void *buf, size_t n);
    int (*ioctl)(int fd, unsigned long request);
    int (*close)(int fd);
    /* libpfm4's name -> attr (0 ok, else -1 with why); NULL: generic perf events only */
    int (*encode)(const char *name, struct perf_event_attr *attr, char *why, size_t n);
} tt_counters_sys;

/* Replace the system calls (NULL = the real ones). For tests. */
void tt_counters_set_sys(const tt_counters_sys *sys);

typedef struct {
    int nfd[TT_CTR_N];
    int fd[TT_CTR_N][TT_CTR_MAX_FDS];
    int available[TT_CTR_N];
    char why[TT_CTR_N][200];  /* the reason when unavailable                */
    char event[TT_CTR_N][96]; /* the event counted (libpfm4 or perf name)   */
    int any;                  /* at least one event counts                  */
} tt_counters;

typedef struct {
    double v[TT_CTR_N]; /* counts over the region (NaN: unavailable or failed) */
    int multiplexed;    /* some event ran for part of the region only (scaled) */
} tt_counts;

const char *tt_counter_name(tt_counter_id id); /* "cycles", "instructions", "llc_misses", "mem_reads" */
void tt_counters_open(tt_counters *c);
void tt_counters_start(tt_counters *c); /* reset and enable */
void tt_counters_stop(tt_counters *c, tt_counts *out);
void tt_counters_close(tt_counters *c);
/* "cycles: <why>; llc_misses: <why>" for the unavailable events ("" if none). */
void tt_counters_unavailable(const tt_counters *c, char *buf, size_t n);

#endif
