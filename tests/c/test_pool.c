/* tritune: thread-pool tests (quiet unless failing), also the ThreadSanitizer
 * step's first test (scripts/test.sh): tasks see every thread once and the
 * caller sees their plain (non-atomic) writes after tt_pool_run; the
 * barrier separates phases (each thread reads what the others wrote before
 * it); many short tasks back to back (the spinning dispatch, as in decode);
 * workers that fell asleep wake up; pools with and without pinning
 * (tt_split_range itself: test_dispatch). */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/pool.h"
#include "test_util.h"

enum { MAXT = 3, N = 4096 };

typedef struct {
    tt_pool *pool;
    long *out;      /* plain writes, one range per thread */
    int hits[MAXT]; /* one slot per thread: no two threads share one */
    long phase_sum[MAXT];
} task;

static void fill(void *ctx, int tid, int nth) {
    task *t = ctx;
    int lo, hi;
    tt_split_range(N, nth, tid, 1, &lo, &hi);
    for (int i = lo; i < hi; i++) t->out[i] += i;
    t->hits[tid]++;
}

/* phase 1 writes a range; after the barrier every thread sums the whole array */
static void phases(void *ctx, int tid, int nth) {
    task *t = ctx;
    int lo, hi;
    tt_split_range(N, nth, tid, 16, &lo, &hi);
    for (int i = lo; i < hi; i++) t->out[i] = 2 * i + 1;
    tt_pool_barrier(t->pool);
    long s = 0;
    for (int i = 0; i < N; i++) s += t->out[i];
    t->phase_sum[tid] = s;
    tt_pool_barrier(t->pool); /* nobody rewrites out before all have read it */
    for (int i = lo; i < hi; i++) t->out[i] = 0;
}

static void check_pool(int nth, int pin) {
    tt_pool *p = tt_pool_create(nth, pin);
    CHECK(p != NULL, "pool of %d threads", nth);
    if (!p) return;
    CHECK(tt_pool_threads(p) == nth, "threads %d != %d", tt_pool_threads(p), nth);
    task t = {.pool = p, .out = calloc(N, sizeof(long))};
    const int reps = 50; /* back to back: workers spin between tasks */
    for (int r = 0; r < reps; r++) tt_pool_run(p, fill, &t);
    for (int i = 0; i < N; i++)
        if (t.out[i] != (long)reps * i) {
            CHECK(0, "%d threads: out[%d] = %ld, expected %ld", nth, i, t.out[i], (long)reps * i);
            break;
        }
    for (int i = 0; i < nth; i++) CHECK(t.hits[i] == reps, "%d threads: thread %d ran %d of %d tasks", nth, i, t.hits[i], reps);
    for (int r = 0; r < 10; r++) {
        tt_pool_run(p, phases, &t);
        for (int i = 0; i < nth; i++)
            CHECK(t.phase_sum[i] == (long)N * N, "%d threads: thread %d summed %ld after the barrier", nth, i, t.phase_sum[i]);
    }
    /* let the workers fall asleep on the condition variable, then wake them */
    struct timespec ts = {0, 300 * 1000 * 1000};
    nanosleep(&ts, NULL);
    memset(t.hits, 0, sizeof t.hits);
    tt_pool_run(p, fill, &t);
    for (int i = 0; i < nth; i++) CHECK(t.hits[i] == 1, "%d threads: thread %d after sleeping ran %d tasks", nth, i, t.hits[i]);
    free(t.out);
    tt_pool_destroy(p);
}

int main(void) {
    for (int nth = 1; nth <= MAXT; nth++) check_pool(nth, 0);
    check_pool(2, 1);
    CHECK(tt_pool_create(0, 0) == NULL, "a pool of 0 threads");
    TEST_DONE("test_pool");
}
