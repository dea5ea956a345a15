/* tritune: timing hygiene in one small header (after google/benchmark's
 * utils): monotonic clock, do-not-optimize and clobber helpers, and robust
 * statistics (median, quartiles, coefficient of variation) and the one
 * definition of a stable measurement (tt_stats_stable). */
#ifndef TT_TIMING_H
#define TT_TIMING_H

#include <stdint.h>
#include <stdlib.h>
#include <time.h>

static inline uint64_t tt_now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Keep the compiler from discarding a value or assuming memory unchanged. */
static inline void tt_do_not_optimize(const void *p) { __asm__ volatile("" : : "g"(p) : "memory"); }
static inline void tt_clobber(void) { __asm__ volatile("" : : : "memory"); }

typedef struct {
    int n;
    double median, p25, p75, min, max, mean, cv; /* cv = stddev / mean */
} tt_stats;

static int tt__cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static inline double tt__quantile(const double *s, int n, double q) {
    double pos = q * (n - 1);
    int i = (int)pos;
    double f = pos - i;
    return i + 1 < n ? s[i] * (1 - f) + s[i + 1] * f : s[i];
}

/* Sorts v in place. */
static inline tt_stats tt_stats_compute(double *v, int n) {
    tt_stats s = {0};
    if (n <= 0) return s;
    qsort(v, (size_t)n, sizeof *v, tt__cmp_double);
    double sum = 0, sq = 0;
    for (int i = 0; i < n; i++) sum += v[i];
    s.mean = sum / n;
    for (int i = 0; i < n; i++) sq += (v[i] - s.mean) * (v[i] - s.mean);
    s.n = n;
    s.min = v[0];
    s.max = v[n - 1];
    s.median = tt__quantile(v, n, 0.5);
    s.p25 = tt__quantile(v, n, 0.25);
    s.p75 = tt__quantile(v, n, 0.75);
    s.cv = (n > 1 && s.mean > 0) ? __builtin_sqrt(sq / (n - 1)) / s.mean : 0;
    return s;
}

/* Spread relative to the median: (p75 - p25) / median; -1 when median <= 0. */
static inline double tt_stats_rel_iqr(const tt_stats *s) { return s->median > 0 ? (s->p75 - s->p25) / s->median : -1; }

/* A measurement is stable when its interquartile range is at most 5% of its
 * median.  Every command that reports `stable` uses this rule and no other.
 * Quartiles, not cv: one preempted sample or DRAM outlier inflates the
 * standard deviation (cv stays a reported number) but hardly moves p25/p75.
 * No samples, or a median <= 0, is never stable. */
#define TT_STABLE_REL_IQR 0.05
static inline int tt_stats_stable(const tt_stats *s) {
    const double r = tt_stats_rel_iqr(s);
    return s->n > 0 && r >= 0 && r <= TT_STABLE_REL_IQR;
}

#endif
