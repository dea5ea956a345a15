/* tritune: a small pthread pool with a spinning barrier.
 *
 * tt_pool_run(pool, fn, ctx) runs fn(ctx, tid, nthreads) on every thread
 * (the caller is thread 0) and returns when all have finished.  Workers
 * spin on a generation counter for a short while before sleeping, so a
 * GEMV dispatch costs about a microsecond.  Threads are pinned one per core
 * with hwloc when the build has it (sched affinity otherwise). */
#ifndef TT_POOL_H
#define TT_POOL_H

#ifdef __cplusplus
extern "C" {
#endif

typedef struct tt_pool tt_pool;
typedef void (*tt_task_fn)(void *ctx, int tid, int nthreads);

/* nthreads >= 1 includes the calling thread; pin != 0 binds thread i to core i. */
tt_pool *tt_pool_create(int nthreads, int pin);
void tt_pool_run(tt_pool *p, tt_task_fn fn, void *ctx);
/* Inside a task: wait for all threads of the pool. */
void tt_pool_barrier(tt_pool *p);
int tt_pool_threads(const tt_pool *p);
/* "hwloc", "affinity", "none", or "failed" */
const char *tt_pool_pinning(const tt_pool *p);
void tt_pool_destroy(tt_pool *p);

/* Split [0, n) in `parts` chunks that are multiples of `align` (the last
 * takes the remainder); part i gets [*lo, *hi). */
void tt_split_range(int n, int parts, int i, int align, int *lo, int *hi);

#ifdef __cplusplus
}
#endif
#endif
