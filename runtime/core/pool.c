#define _GNU_SOURCE
#include "core/pool.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h> /* sysconf: not pulled in by hwloc.h when hwloc is absent (aarch64 cross build) */

#include "core/common.h"
#ifdef TT_HAVE_HWLOC
#include <hwloc.h>
#endif

/* Spin this many polls before sleeping on the condition variable: a GEMV
 * called back to back (decode) finds its workers awake. */
#define TT_SPIN_POLLS 200000

typedef struct {
    tt_pool *pool;
    int tid;
    pthread_t th;
} worker;

struct tt_pool {
    int n;
    worker *w;
    /* task dispatch */
    tt_task_fn fn;
    void *ctx;
    atomic_uint gen;      /* bumped per task                    */
    atomic_int pending;   /* workers still running the task     */
    atomic_int quit;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    atomic_int sleepers;
    /* barrier */
    atomic_int bar_count;
    atomic_uint bar_sense;
    char pinning[16];
#ifdef TT_HAVE_HWLOC
    hwloc_topology_t topo;
    int have_topo;
#endif
};

static inline void cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ volatile("yield");
#endif
}

static int pin_thread(tt_pool *p, int tid) {
#ifdef TT_HAVE_HWLOC
    if (p->have_topo) {
        int ncores = hwloc_get_nbobjs_by_type(p->topo, HWLOC_OBJ_CORE);
        hwloc_obj_t core = ncores > 0 ? hwloc_get_obj_by_type(p->topo, HWLOC_OBJ_CORE, tid % ncores) : NULL;
        if (core && core->cpuset) {
            hwloc_bitmap_t set = hwloc_bitmap_dup(core->cpuset);
            hwloc_bitmap_singlify(set);
            int rc = hwloc_set_cpubind(p->topo, set, HWLOC_CPUBIND_THREAD);
            hwloc_bitmap_free(set);
            return rc == 0 ? 1 : -1;
        }
    }
#endif
    int ncpu = (int)sysconf(_SC_NPROCESSORS_ONLN);
    if (ncpu <= 0) return -1;
    cpu_set_t cs;
    CPU_ZERO(&cs);
    CPU_SET(tid % ncpu, &cs);
    return pthread_setaffinity_np(pthread_self(), sizeof cs, &cs) == 0 ? 2 : -1;
}

static void pin_task(void *ctx, int tid, int nthreads);

static void *worker_main(void *arg) {
    worker *me = arg;
    tt_pool *p = me->pool;
    unsigned seen = 0;
    for (;;) {
        unsigned g;
        int polls = 0;
        while ((g = atomic_load_explicit(&p->gen, memory_order_acquire)) == seen) {
            if (atomic_load_explicit(&p->quit, memory_order_relaxed)) return NULL;
            if (++polls < TT_SPIN_POLLS) {
                cpu_relax();
                continue;
            }
            pthread_mutex_lock(&p->mu);
            atomic_fetch_add(&p->sleepers, 1);
            while (atomic_load(&p->gen) == seen && !atomic_load(&p->quit)) pthread_cond_wait(&p->cv, &p->mu);
            atomic_fetch_sub(&p->sleepers, 1);
            pthread_mutex_unlock(&p->mu);
            polls = 0;
        }
        if (atomic_load(&p->quit)) return NULL;
        seen = g;
        p->fn(p->ctx, me->tid, p->n);
        atomic_fetch_sub_explicit(&p->pending, 1, memory_order_release);
    }
}

tt_pool *tt_pool_create(int nthreads, int pin) {
    if (nthreads < 1) {
        tt_set_error(TT_E_ARG, "thread count must be >= 1 (got %d)", nthreads);
        return NULL;
    }
    tt_pool *p = calloc(1, sizeof *p);
    if (!p) return NULL;
    p->n = nthreads;
    p->w = calloc((size_t)nthreads, sizeof *p->w);
    if (!p->w) {
        free(p);
        return NULL;
    }
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cv, NULL);
    snprintf(p->pinning, sizeof p->pinning, "none");
#ifdef TT_HAVE_HWLOC
    if (pin && hwloc_topology_init(&p->topo) == 0) {
        if (hwloc_topology_load(p->topo) == 0) p->have_topo = 1;
        else hwloc_topology_destroy(p->topo);
    }
#endif
    if (pin) {
        int r = pin_thread(p, 0);
        snprintf(p->pinning, sizeof p->pinning, "%s", r == 1 ? "hwloc" : r == 2 ? "affinity" : "failed");
    }
    for (int i = 1; i < nthreads; i++) {
        p->w[i].pool = p;
        p->w[i].tid = i;
        if (pthread_create(&p->w[i].th, NULL, worker_main, &p->w[i]) != 0) {
            p->n = i;
            tt_pool_destroy(p);
            tt_set_error(TT_E_NOMEM, "cannot start thread %d of %d", i, nthreads);
            return NULL;
        }
    }
    /* workers pin themselves: run the pinning task once */
    if (pin && nthreads > 1) tt_pool_run(p, pin_task, p);
    return p;
}

static void pin_task(void *ctx, int tid, int nthreads) {
    (void)nthreads;
    tt_pool *p = ctx;
    if (tid > 0 && pin_thread(p, tid) < 0) snprintf(p->pinning, sizeof p->pinning, "failed");
}

void tt_pool_run(tt_pool *p, tt_task_fn fn, void *ctx) {
    if (!p || p->n == 1) {
        fn(ctx, 0, 1);
        return;
    }
    p->fn = fn;
    p->ctx = ctx;
    atomic_store_explicit(&p->pending, p->n - 1, memory_order_relaxed);
    atomic_fetch_add(&p->gen, 1); /* seq_cst: ordered before the sleepers check */
    if (atomic_load(&p->sleepers) > 0) {
        pthread_mutex_lock(&p->mu);
        pthread_cond_broadcast(&p->cv);
        pthread_mutex_unlock(&p->mu);
    }
    fn(ctx, 0, p->n);
    while (atomic_load_explicit(&p->pending, memory_order_acquire) > 0) cpu_relax();
}

void tt_pool_barrier(tt_pool *p) {
    if (!p || p->n == 1) return;
    unsigned sense = atomic_load_explicit(&p->bar_sense, memory_order_acquire);
    if (atomic_fetch_add_explicit(&p->bar_count, 1, memory_order_acq_rel) == p->n - 1) {
        atomic_store_explicit(&p->bar_count, 0, memory_order_relaxed);
        atomic_store_explicit(&p->bar_sense, sense + 1, memory_order_release);
    } else {
        long spins = 0;
        while (atomic_load_explicit(&p->bar_sense, memory_order_acquire) == sense) {
            if (++spins > 1000000) sched_yield();
            else cpu_relax();
        }
    }
}

int tt_pool_threads(const tt_pool *p) { return p ? p->n : 1; }

const char *tt_pool_pinning(const tt_pool *p) { return p ? p->pinning : "none"; }

void tt_pool_destroy(tt_pool *p) {
    if (!p) return;
    atomic_store(&p->quit, 1);
    pthread_mutex_lock(&p->mu);
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
    for (int i = 1; i < p->n; i++) pthread_join(p->w[i].th, NULL);
#ifdef TT_HAVE_HWLOC
    if (p->have_topo) hwloc_topology_destroy(p->topo);
#endif
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->cv);
    free(p->w);
    free(p);
}

void tt_split_range(int n, int parts, int i, int align, int *lo, int *hi) {
    if (align < 1) align = 1;
    if (parts < 1) parts = 1;
    int units = TT_CEIL_DIV(n, align);
    int base = units / parts, rem = units % parts;
    int u0 = i * base + TT_MIN(i, rem);
    int u1 = u0 + base + (i < rem ? 1 : 0);
    *lo = TT_MIN(n, u0 * align);
    *hi = TT_MIN(n, u1 * align);
}
