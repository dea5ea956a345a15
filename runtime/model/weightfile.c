/* tritune: the weight file: write (atomically), open (mmap), validate.
 *
 * Layout (little-endian):
 *   0  char[8] "TRITUNEW"       24 u64 checksum of bytes [32, file_bytes)
 *   8  u32 version              32 u32 format (tt_wformat: a ternary one)
 *   12 u32 header_bytes         36 u32 tensor count
 *   16 u64 file_bytes           40 u64 seed
 *   48 u32 config JSON length   52 u32 reserved (0)
 *   56 config JSON, then at an 8-byte boundary the tensor table:
 *      n x {u32 id, u32 kind, i32 fmt, i32 M, i32 K, f32 scale, u64 offset, u64 bytes}
 *   tensors at 4096-byte aligned offsets, in tt_model_tensors() order:
 *   ternary in the format's canonical layout, embedding / LM head as fp16,
 *   norm vectors as fp32. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/file.h"
#include "core/json.h"
#include "model/gen.h"
#include "model/weightfile.h"
#include "seam/dispatch.h"

#define WF_MAGIC "TRITUNEW"
#define WF_FIXED 56
#define WF_ENTRY 40
#define WF_ALIGN 4096
#define WF_SUMMED_FROM 32

struct tt_weightfile {
    int fd;
    uint8_t *map;
    size_t size;
    tt_config cfg;
    tt_wformat fmt;
    uint64_t seed;
    int n;
    tt_wf_tensor *t;      /* n tensors                         */
    tt_wf_tensor **by_id; /* (max id + 1) -> tensor or NULL    */
    int n_ids;
    char path[512];
};

/* ---- checksum ------------------------------------------------------------------------ */
#define P1 0x9E3779B185EBCA87ull
#define P2 0xC2B2AE3D27D4EB4Full
#define P3 0x165667B19E3779F9ull
static inline uint64_t rotl(uint64_t x, int r) { return (x << r) | (x >> (64 - r)); }
static inline uint64_t rd64(const uint8_t *p) {
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}
static inline uint64_t fmix(uint64_t z) {
    z = (z ^ (z >> 33)) * P2;
    z = (z ^ (z >> 29)) * P3;
    return z ^ (z >> 32);
}

uint64_t tt_hash64(const void *data, size_t n, uint64_t seed) {
    const uint8_t *p = data;
    uint64_t a = seed + P1, b = seed + P2, c = seed ^ P3, d = seed - P1;
    size_t i = 0;
    for (; i + 32 <= n; i += 32) { /* 4 independent lanes: one multiply-rotate chain each */
        a = rotl(a + rd64(p + i) * P2, 31) * P1;
        b = rotl(b + rd64(p + i + 8) * P2, 31) * P1;
        c = rotl(c + rd64(p + i + 16) * P2, 31) * P1;
        d = rotl(d + rd64(p + i + 24) * P2, 31) * P1;
    }
    uint64_t h = rotl(a, 1) + rotl(b, 7) + rotl(c, 12) + rotl(d, 18) + (uint64_t)n;
    for (; i + 8 <= n; i += 8) h = rotl(h ^ fmix(rd64(p + i)), 27) * P1 + P3;
    for (; i < n; i++) h = rotl(h ^ (p[i] * P3), 11) * P1;
    return fmix(h);
}

#define CK_BLOCK ((size_t)1 << 20)
typedef struct {
    const uint8_t *p;
    size_t n, nb;
    uint64_t *h;
} ck_task;

static void ck_worker(void *ctx, int tid, int nth) {
    ck_task *t = ctx;
    for (size_t b = (size_t)tid; b < t->nb; b += (size_t)nth)
        t->h[b] = tt_hash64(t->p + b * CK_BLOCK, TT_MIN(CK_BLOCK, t->n - b * CK_BLOCK), b);
}

uint64_t tt_checksum(const void *data, size_t n, tt_pool *pool) {
    ck_task t = {data, n, (n + CK_BLOCK - 1) / CK_BLOCK, NULL};
    t.h = malloc(sizeof(uint64_t) * (t.nb ? t.nb : 1));
    if (!t.h) return tt_hash64(data, n, 0) ^ 1; /* still a checksum; differs from the blocked one */
    if (pool && tt_pool_threads(pool) > 1) tt_pool_run(pool, ck_worker, &t);
    else ck_worker(&t, 0, 1);
    const uint64_t r = tt_hash64(t.h, sizeof(uint64_t) * t.nb, (uint64_t)n);
    free(t.h);
    return r;
}

/* ---- writing --------------------------------------------------------------------------- */
static size_t tensor_bytes(const tt_tdesc *d, tt_wformat fmt) {
    switch (d->kind) {
    case TT_TK_TERNARY: return tt_wformat_bytes(fmt, d->M, d->K);
    case TT_TK_F16: return sizeof(uint16_t) * (size_t)d->M * d->K;
    default: return sizeof(float) * (size_t)d->K;
    }
}

/* The config as JSON; the name escaped (a quote or a backslash in it must
 * not make a file that cannot be read back). */
static int config_json(const tt_config *c, char *buf, size_t n) {
    char name[6 * sizeof c->name];
    tt_json_escape(c->name, name, sizeof name);
    return snprintf(buf, n,
                    "{\"name\": \"%s\", \"hidden\": %d, \"ffn\": %d, \"layers\": %d, \"heads\": %d, \"kv_heads\": %d, "
                    "\"head_dim\": %d, \"vocab\": %d, \"activation\": \"%s\", \"rope_theta\": %.9g, \"norm_eps\": %.9g, "
                    "\"tied_lm_head\": %s, \"max_seq\": %d}",
                    name, c->hidden, c->ffn, c->layers, c->heads, c->kv_heads, c->head_dim, c->vocab,
                    tt_activation_name(c->act), c->rope_theta, c->norm_eps, c->tied_lm_head ? "true" : "false",
                    c->max_seq);
}

typedef struct {
    const tt_tdesc *d;
    tt_wformat fmt;
    uint64_t seed;
    uint8_t *dst;
    atomic_int failed;
} wgen_task;

/* Rows of one tensor split over threads, 64 rows at a time. */
static void wgen_worker(void *ctx, int tid, int nth) {
    wgen_task *t = ctx;
    const tt_tdesc *d = t->d;
    int lo, hi;
    tt_split_range(d->M, nth, tid, 1, &lo, &hi);
    if (d->kind == TT_TK_F16) {
        for (int r = lo; r < hi; r++) tt_gen_f16_row(t->seed, d->id, r, d->K, (uint16_t *)t->dst + (size_t)r * d->K);
        return;
    }
    const tt_wformat fmt = t->fmt;
    if (fmt == TT_FMT_I2S) { /* the generator's own layout: rows land as generated */
        for (int r = lo; r < hi; r++) tt_gen_i2s_row(t->seed, d->id, r, d->K, t->dst + (size_t)r * tt_i2s_row_bytes(d->K));
        return;
    }
    enum { CH = 64 };
    int8_t *w8 = malloc((size_t)CH * d->K);
    uint8_t *row = malloc(tt_i2s_row_bytes(d->K));
    for (int r0 = lo; w8 && row && r0 < hi; r0 += CH) {
        const int r1 = TT_MIN(hi, r0 + CH);
        for (int r = r0; r < r1; r++) {
            tt_gen_i2s_row(t->seed, d->id, r, d->K, row);
            tt_i2s_row_to_i8(row, d->K, w8 + (size_t)(r - r0) * d->K);
        }
        uint8_t *dst = t->dst + tt_wformat_bytes(fmt, r0, d->K);
        const tt_status st = tt_wformat_traits_of(fmt)->pack(w8, r1 - r0, d->K, dst);
        if (st != TT_OK) {
            atomic_store(&t->failed, 1);
            break;
        }
    }
    if (!w8 || !row) atomic_store(&t->failed, 1);
    free(w8);
    free(row);
}

static int write_all(int fd, const void *p, size_t n, off_t off) {
    const uint8_t *b = p;
    while (n) {
        ssize_t w = pwrite(fd, b, n > (1u << 30) ? (1u << 30) : n, off);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return -1;
        b += w, n -= (size_t)w, off += w;
    }
    return 0;
}

static void put32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }
static void put64(uint8_t *p, uint64_t v) { memcpy(p, &v, 8); }
static uint32_t get32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }
static uint64_t get64(const uint8_t *p) { uint64_t v; memcpy(&v, p, 8); return v; }

tt_status tt_weightfile_write(const char *path, const tt_config *c, tt_wformat fmt, uint64_t seed, tt_pool *pool,
                              tt_progress_fn progress, void *ud) {
    tt_status st = tt_config_validate(c);
    if (st != TT_OK) return st;
    if (!tt_wformat_is_ternary(fmt))
        return tt_set_error(TT_E_ARG, "weight files hold ternary models (i2s, tl1, tl2), not %s", tt_wformat_name(fmt));
    if ((st = tt_wformat_available(fmt)) != TT_OK) return st;
    int nt;
    tt_tdesc *td;
    if ((st = tt_model_tensor_list(c, &td, &nt)) != TT_OK) return st;
    char json[1024];
    const int jl = config_json(c, json, sizeof json);
    const size_t hdr = TT_ROUND_UP((size_t)WF_FIXED + (size_t)jl, 8) + (size_t)nt * WF_ENTRY;
    uint8_t *h = calloc(1, hdr);
    char tmp[600];
    int fd = -1;
    uint8_t *buf = NULL, *map = NULL;
    size_t total = 0;
    if (!h) {
        st = tt_set_error(TT_E_NOMEM, "weight file: out of memory");
        goto out;
    }
    if (snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid()) >= (int)sizeof tmp) {
        st = tt_set_error(TT_E_ARG, "weight file path too long");
        goto out;
    }
    memcpy(h, WF_MAGIC, 8);
    put32(h + 8, TT_WF_VERSION);
    put32(h + 12, (uint32_t)hdr);
    put32(h + 32, (uint32_t)fmt);
    put32(h + 36, (uint32_t)nt);
    put64(h + 40, seed);
    put32(h + 48, (uint32_t)jl);
    memcpy(h + WF_FIXED, json, (size_t)jl);
    size_t off = TT_ROUND_UP(hdr, WF_ALIGN), maxb = 0;
    uint8_t *e = h + TT_ROUND_UP((size_t)WF_FIXED + (size_t)jl, 8);
    for (int i = 0; i < nt; i++, e += WF_ENTRY) {
        const size_t b = tensor_bytes(&td[i], fmt);
        const float scale = td[i].kind == TT_TK_TERNARY ? tt_gen_scale(seed, td[i].id, td[i].K) : 1.0f;
        put32(e, (uint32_t)td[i].id);
        put32(e + 4, (uint32_t)td[i].kind);
        put32(e + 8, (uint32_t)(td[i].kind == TT_TK_TERNARY ? (int)fmt : -1));
        put32(e + 12, (uint32_t)td[i].M);
        put32(e + 16, (uint32_t)td[i].K);
        memcpy(e + 20, &scale, 4);
        put64(e + 24, off);
        put64(e + 32, b);
        off = TT_ROUND_UP(off + b, WF_ALIGN);
        maxb = TT_MAX(maxb, b);
    }
    total = off;
    put64(h + 16, total);
    fd = open(tmp, O_RDWR | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) {
        st = tt_set_error(TT_E_IO, "cannot create %s: %s", tmp, strerror(errno));
        goto out;
    }
    if (ftruncate(fd, (off_t)total) != 0) {
        st = tt_set_error(TT_E_IO, "cannot size %s to %zu bytes: %s", tmp, total, strerror(errno));
        goto out;
    }
    buf = tt_alloc(maxb, 64, 0);
    if (!buf) {
        st = tt_set_error(TT_E_NOMEM, "weight file: cannot allocate %zu bytes", maxb);
        goto out;
    }
    double done = 0, all = 0;
    for (int i = 0; i < nt; i++) all += (double)tensor_bytes(&td[i], fmt);
    e = h + TT_ROUND_UP((size_t)WF_FIXED + (size_t)jl, 8);
    for (int i = 0; i < nt; i++, e += WF_ENTRY) {
        const size_t b = tensor_bytes(&td[i], fmt);
        if (td[i].kind == TT_TK_F32) {
            tt_gen_norm(seed, td[i].id, td[i].K, (float *)buf);
        } else {
            wgen_task t = {&td[i], fmt, seed, buf, 0};
            if (pool && tt_pool_threads(pool) > 1) tt_pool_run(pool, wgen_worker, &t);
            else wgen_worker(&t, 0, 1);
            if (atomic_load(&t.failed)) {
                st = tt_set_error(TT_E_NOMEM, "weight file: packing tensor %d failed: %s", td[i].id, tt_last_error());
                goto out;
            }
        }
        if (write_all(fd, buf, b, (off_t)get64(e + 24)) != 0) {
            st = tt_set_error(TT_E_IO, "writing %s: %s", tmp, strerror(errno));
            goto out;
        }
        done += (double)b;
        if (progress) progress(ud, "write", done / all);
    }
    if (write_all(fd, h, hdr, 0) != 0) {
        st = tt_set_error(TT_E_IO, "writing %s: %s", tmp, strerror(errno));
        goto out;
    }
    map = mmap(NULL, total, PROT_READ, MAP_SHARED, fd, 0);
    if (map == MAP_FAILED) {
        map = NULL;
        st = tt_set_error(TT_E_IO, "cannot map %s: %s", tmp, strerror(errno));
        goto out;
    }
    uint8_t ck[8];
    put64(ck, tt_checksum(map + WF_SUMMED_FROM, total - WF_SUMMED_FROM, pool));
    if (write_all(fd, ck, 8, 24) != 0 || fsync(fd) != 0) {
        st = tt_set_error(TT_E_IO, "writing %s: %s", tmp, strerror(errno));
        goto out;
    }
    if (rename(tmp, path) != 0) {
        st = tt_set_error(TT_E_IO, "cannot rename %s to %s: %s", tmp, path, strerror(errno));
        goto out;
    }
    st = TT_OK;
out:
    if (map) munmap(map, total);
    if (fd >= 0) {
        close(fd);
        if (st != TT_OK) unlink(tmp);
    }
    tt_free(buf);
    free(h);
    free(td);
    return st;
}

/* ---- a mapped file that shrinks ---------------------------------------------------------------
 * The file is mapped, not copied (a 2B model is 1.2 GB).  If another
 * process truncates it while it is mapped, reading a page past the new end
 * raises SIGBUS.  The handler looks the faulting address up among the open
 * weight files' mappings: one of ours is reported by name (with write(2),
 * which is async-signal-safe) and the process exits with code 3 (an
 * environment problem); any other SIGBUS gets the previous disposition. */
#define WF_MAX_MAPS 32
static struct {
    atomic_uintptr_t lo, hi; /* [lo, hi) mapped; hi == 0: free slot */
    char path[512];
} wf_maps[WF_MAX_MAPS];
static atomic_int wf_sigbus_installed;
static struct sigaction wf_old_bus;

static void wf_puts(const char *s) {
    size_t n = strlen(s);
    while (n) {
        const ssize_t w = write(2, s, n);
        if (w <= 0) return;
        s += w, n -= (size_t)w;
    }
}

static void wf_on_sigbus(int sig, siginfo_t *si, void *uc) {
    const uintptr_t a = (uintptr_t)si->si_addr;
    for (int i = 0; i < WF_MAX_MAPS; i++) {
        const uintptr_t lo = atomic_load(&wf_maps[i].lo), hi = atomic_load(&wf_maps[i].hi);
        if (hi && a >= lo && a < hi) {
            wf_puts("tritune: error: I/O error: weight file ");
            wf_puts(wf_maps[i].path);
            wf_puts(" became shorter while it was mapped (truncated or rewritten by another process?): "
                    "its data cannot be read; stopping (exit 3)\n");
            _exit(3);
        }
    }
    /* not a weight file: what would have happened without us */
    sigaction(SIGBUS, &wf_old_bus, NULL);
    if (!(wf_old_bus.sa_flags & SA_SIGINFO) && wf_old_bus.sa_handler != SIG_DFL && wf_old_bus.sa_handler != SIG_IGN)
        wf_old_bus.sa_handler(sig);
    else if (wf_old_bus.sa_flags & SA_SIGINFO)
        wf_old_bus.sa_sigaction(sig, si, uc);
    /* SIG_DFL: returning re-runs the access, which now kills the process */
}

static void wf_watch(tt_weightfile *wf) {
    int exp = 0;
    if (atomic_compare_exchange_strong(&wf_sigbus_installed, &exp, 1)) {
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_sigaction = wf_on_sigbus;
        sa.sa_flags = SA_SIGINFO;
        sigemptyset(&sa.sa_mask);
        sigaction(SIGBUS, &sa, &wf_old_bus);
    }
    for (int i = 0; i < WF_MAX_MAPS; i++) {
        uintptr_t free_lo = 0;
        if (atomic_load(&wf_maps[i].hi) || atomic_load(&wf_maps[i].lo)) continue;
        if (!atomic_compare_exchange_strong(&wf_maps[i].lo, &free_lo, (uintptr_t)wf->map)) continue; /* claimed */
        snprintf(wf_maps[i].path, sizeof wf_maps[i].path, "%s", wf->path);
        atomic_store(&wf_maps[i].hi, (uintptr_t)wf->map + wf->size);
        return;
    }
    /* more than WF_MAX_MAPS files open at once: this one is not watched */
}

static void wf_unwatch(const tt_weightfile *wf) {
    for (int i = 0; i < WF_MAX_MAPS; i++)
        if (atomic_load(&wf_maps[i].hi) && atomic_load(&wf_maps[i].lo) == (uintptr_t)wf->map) {
            atomic_store(&wf_maps[i].hi, 0);
            atomic_store(&wf_maps[i].lo, 0);
            return;
        }
}

/* ---- reading ------------------------------------------------------------------------------ */
void tt_weightfile_close(tt_weightfile *wf) {
    if (!wf) return;
    if (wf->map) {
        wf_unwatch(wf);
        munmap(wf->map, wf->size);
    }
    if (wf->fd >= 0) close(wf->fd);
    free(wf->t);
    free(wf->by_id);
    free(wf);
}

const tt_config *tt_weightfile_config(const tt_weightfile *wf) { return &wf->cfg; }
tt_wformat tt_weightfile_format(const tt_weightfile *wf) { return wf->fmt; }
uint64_t tt_weightfile_seed(const tt_weightfile *wf) { return wf->seed; }

const tt_wf_tensor *tt_weightfile_tensor(const tt_weightfile *wf, int id) {
    return (id >= 0 && id < wf->n_ids) ? wf->by_id[id] : NULL;
}

__attribute__((format(printf, 2, 3))) static tt_status wf_bad(tt_weightfile *wf, const char *fmt, ...) {
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    tt_set_error(TT_E_FORMAT, "%s: %s", wf->path, msg);
    tt_weightfile_close(wf);
    return TT_E_FORMAT;
}

/* ---- values -------------------------------------------------------------------------------------
 * The checksum catches corruption, not a file crafted with a recomputed
 * checksum, so every value is checked too: ternary codes valid for the
 * format (I2_S code 3, a weight of +2, is refused as the TL packers refuse
 * it), fp16 rows finite, norm weights finite and |v| <= TT_WF_MAX_NORM. */
static void tensor_name(int id, char *buf, size_t n) {
    const int l = tt_tensor_layer(id);
    if (l < 0) snprintf(buf, n, "%s", tt_tensor_role(id));
    else snprintf(buf, n, "layer %d %s", l, tt_tensor_role(id));
}

/* 1 when row r of t is valid; else 0 with the reason in why (n > 0) when asked. */
static int row_ok(const tt_weightfile *wf, const tt_wf_tensor *t, int r, char *why, size_t n) {
    if (t->kind == TT_TK_TERNARY) {
        const uint8_t *row = t->data + tt_wformat_bytes(wf->fmt, r, t->K);
        if (tt_wformat_traits_of(wf->fmt)->validate(row, 1, t->K) == TT_OK) return 1;
        if (n) { /* the validator counts rows from the one it was given: keep its column */
            const char *m = tt_last_error(), *at = strstr(m, " at row "), *col = strstr(m, "column ");
            snprintf(why, n, "%.*s%s%s", (int)(at ? (size_t)(at - m) : strlen(m)), m, col ? " at " : "", col ? col : "");
        }
        return 0;
    }
    if (t->kind == TT_TK_F16) {
        const uint16_t *h = (const uint16_t *)t->data + (size_t)r * t->K;
        for (int k = 0; k < t->K; k++)
            if ((h[k] & 0x7C00) == 0x7C00) { /* exponent all ones: infinity or NaN */
                if (n) snprintf(why, n, "column %d is %s (fp16 0x%04x); values must be finite", k, h[k] & 0x3FF ? "NaN" : "infinite", h[k]);
                return 0;
            }
        return 1;
    }
    const float *f = (const float *)t->data;
    for (int k = 0; k < t->K; k++) {
        float v;
        memcpy(&v, f + k, sizeof v);
        if (!(fabsf(v) <= TT_WF_MAX_NORM)) {
            if (n) snprintf(why, n, "norm weight %d = %g is not a finite number in [-%g, %g]", k, (double)v, (double)TT_WF_MAX_NORM, (double)TT_WF_MAX_NORM);
            return 0;
        }
    }
    return 1;
}

typedef struct {
    const tt_weightfile *wf;
    const tt_wf_tensor *t;
    atomic_int bad; /* first bad row found (INT_MAX: none) */
} vtask;

static void vworker(void *ctx, int tid, int nth) {
    vtask *v = ctx;
    const int rows = v->t->kind == TT_TK_F32 ? 1 : v->t->M;
    int lo, hi;
    tt_split_range(rows, nth, tid, 1, &lo, &hi);
    for (int r = lo; r < hi; r++)
        if (!row_ok(v->wf, v->t, r, NULL, 0)) {
            int cur = atomic_load(&v->bad);
            while (r < cur && !atomic_compare_exchange_weak(&v->bad, &cur, r)) {}
            return;
        }
}

/* TT_OK, or the first bad row's error (wf closed, as wf_bad does). */
static tt_status check_values(tt_weightfile *wf, tt_pool *pool) {
    for (int i = 0; i < wf->n; i++) {
        vtask v = {wf, &wf->t[i], 0x7fffffff};
        if (pool && tt_pool_threads(pool) > 1 && wf->t[i].kind != TT_TK_F32) tt_pool_run(pool, vworker, &v);
        else vworker(&v, 0, 1);
        const int r = atomic_load(&v.bad);
        if (r == 0x7fffffff) continue;
        char name[64], why[200];
        tensor_name(wf->t[i].id, name, sizeof name);
        row_ok(wf, &wf->t[i], r, why, sizeof why);
        return wf_bad(wf, "tensor %d (%s), row %d: %s", i, name, r, why);
    }
    return TT_OK;
}

tt_status tt_weightfile_open(tt_weightfile **out, const char *path, tt_pool *pool) {
    *out = NULL;
    tt_weightfile *wf = calloc(1, sizeof *wf);
    if (!wf) return tt_set_error(TT_E_NOMEM, "out of memory");
    wf->fd = -1;
    snprintf(wf->path, sizeof wf->path, "%s", path);
    size_t fsize;
    tt_status st = tt_open_regular(path, "weight file", &wf->fd, &fsize);
    if (st != TT_OK) {
        tt_weightfile_close(wf);
        return st;
    }
    uint8_t fx[WF_FIXED];
    if (fsize < WF_FIXED || pread(wf->fd, fx, WF_FIXED, 0) != WF_FIXED)
        return wf_bad(wf, "only %zu bytes: truncated, or not a tritune weight file", fsize);
    if (memcmp(fx, WF_MAGIC, 8) != 0) return wf_bad(wf, "not a tritune weight file (bad magic)");
    const uint32_t ver = get32(fx + 8);
    if (ver != TT_WF_VERSION)
        return wf_bad(wf, "file format version %u, this build reads version %d", ver, TT_WF_VERSION);
    const uint64_t want = get64(fx + 16);
    if (fsize < want)
        return wf_bad(wf, "truncated: the header says %llu bytes, the file has %zu", (unsigned long long)want, fsize);
    if (fsize > want) return wf_bad(wf, "%llu bytes of trailing data after the %llu the header declares", (unsigned long long)(fsize - want), (unsigned long long)want);
    const uint32_t hdr = get32(fx + 12), nt = get32(fx + 36), jl = get32(fx + 48);
    if (hdr > fsize || (uint64_t)WF_FIXED + jl > hdr || jl >= 4096 || nt > (1u << 24) ||
        TT_ROUND_UP((uint64_t)WF_FIXED + jl, 8) + (uint64_t)nt * WF_ENTRY != hdr)
        return wf_bad(wf, "corrupt header (header %u bytes, %u tensors, config %u bytes)", hdr, nt, jl);
    wf->map = mmap(NULL, fsize, PROT_READ, MAP_PRIVATE, wf->fd, 0);
    if (wf->map == MAP_FAILED) {
        wf->map = NULL;
        tt_set_error(TT_E_IO, "cannot map %s: %s", path, strerror(errno));
        tt_weightfile_close(wf);
        return TT_E_IO;
    }
    wf->size = fsize;
    wf_watch(wf);
    const uint64_t ck = tt_checksum(wf->map + WF_SUMMED_FROM, fsize - WF_SUMMED_FROM, pool);
    if (ck != get64(fx + 24))
        return wf_bad(wf, "checksum mismatch (stored %016llx, computed %016llx): the file is corrupted",
                      (unsigned long long)get64(fx + 24), (unsigned long long)ck);
    st = tt_config_parse(&wf->cfg, (const char *)wf->map + WF_FIXED, jl, path);
    if (st != TT_OK) {
        tt_weightfile_close(wf);
        return st;
    }
    wf->fmt = (tt_wformat)get32(fx + 32);
    wf->seed = get64(fx + 40);
    if (!tt_wformat_is_ternary(wf->fmt)) return wf_bad(wf, "unknown weight format %u", (unsigned)wf->fmt);
    if ((st = tt_wformat_available(wf->fmt)) != TT_OK) {
        tt_weightfile_close(wf);
        return st;
    }
    /* the table must list exactly the config's tensors */
    int n;
    tt_tdesc *td;
    if ((st = tt_model_tensor_list(&wf->cfg, &td, &n)) != TT_OK) {
        tt_weightfile_close(wf);
        return st;
    }
    if ((uint32_t)n != nt) {
        free(td);
        return wf_bad(wf, "holds %u tensors, its config needs %d", nt, n);
    }
    wf->t = calloc((size_t)n, sizeof *wf->t);
    wf->n_ids = tt_tensor_id(wf->cfg.layers, 0);
    wf->by_id = calloc((size_t)wf->n_ids, sizeof *wf->by_id);
    if (!wf->t || !wf->by_id) {
        free(td);
        tt_weightfile_close(wf);
        return tt_set_error(TT_E_NOMEM, "out of memory");
    }
    wf->n = n;
    const uint8_t *e = wf->map + TT_ROUND_UP((size_t)WF_FIXED + jl, 8);
    for (int i = 0; i < n; i++, e += WF_ENTRY) {
        tt_wf_tensor *t = &wf->t[i];
        t->id = (int)get32(e);
        t->kind = (tt_tkind)get32(e + 4);
        t->fmt = (int)get32(e + 8);
        t->M = (int)get32(e + 12);
        t->K = (int)get32(e + 16);
        memcpy(&t->scale, e + 20, 4);
        const uint64_t off = get64(e + 24), b = get64(e + 32);
        char what[48];
        snprintf(what, sizeof what, "tensor %d: ", i);
        if (t->id != td[i].id || t->kind != td[i].kind || t->M != td[i].M || t->K != td[i].K ||
            (t->kind == TT_TK_TERNARY && t->fmt != (int)wf->fmt)) {
            const int want_id = td[i].id;
            free(td);
            return wf_bad(wf, "%sdoes not match the config (id %d, expected %d)", what, t->id, want_id);
        }
        if (b != tensor_bytes(&td[i], wf->fmt) || off % WF_ALIGN || off < hdr || off > fsize || b > fsize - off) {
            free(td);
            return wf_bad(wf, "%sbad extent (offset %llu, %llu bytes)", what, (unsigned long long)off, (unsigned long long)b);
        }
        if (t->kind == TT_TK_TERNARY && !(t->scale > 0 && t->scale <= TT_WF_MAX_SCALE)) {
            char name[64];
            tensor_name(t->id, name, sizeof name);
            free(td);
            return wf_bad(wf, "tensor %d (%s): weight scale %g is not in (0, %g]", i, name, (double)t->scale,
                          (double)TT_WF_MAX_SCALE);
        }
        t->data = wf->map + off;
        t->bytes = b;
        wf->by_id[t->id] = t;
    }
    free(td);
    if ((st = check_values(wf, pool)) != TT_OK) return st; /* wf_bad closed it */
    *out = wf;
    return TT_OK;
}
