/* tritune: energy from the powercap tree or the perf power PMU (energy.h). */
#define _GNU_SOURCE
#include "core/energy.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/perf_event.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "core/timing.h"

#define POWERCAP_ROOT "/sys/class/powercap"
#define POWER_PMU "/sys/bus/event_source/devices/power"
#define TT_MIN_D(a, b) ((a) < (b) ? (a) : (b))

const char *tt_energy_domain_name(tt_energy_domain d) {
    static const char *const names[TT_EN_NDOMAINS] = {"package", "core", "dram"};
    return d < TT_EN_NDOMAINS ? names[d] : "?";
}

/* The first line of a small sysfs file, newline stripped; -1 and errno on failure. */
static int read_line(const char *path, char *buf, size_t n) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -1;
    ssize_t k = read(fd, buf, n - 1);
    const int err = errno;
    close(fd);
    if (k < 0) {
        errno = err;
        return -1;
    }
    buf[k] = 0;
    buf[strcspn(buf, "\n")] = 0;
    return 0;
}

static int read_u64(const char *path, uint64_t *v) {
    char b[64], *end;
    if (read_line(path, b, sizeof b)) return -1;
    errno = 0;
    unsigned long long x = strtoull(b, &end, 10);
    if (errno || end == b) {
        errno = EINVAL;
        return -1;
    }
    *v = x;
    return 0;
}

uint64_t tt_energy_delta_uj(uint64_t before, uint64_t after, uint64_t max_range_uj) {
    if (after >= before) return after - before;
    return max_range_uj >= before ? (max_range_uj - before) + after : after; /* wrapped once */
}

/* A zone's domain from its name: package-N, core, dram; -1 for the others
 * (uncore and psys overlap the package, so they are not summed into it). */
static int domain_of(const char *name) {
    if (!strncmp(name, "package", 7)) return TT_EN_PACKAGE;
    if (!strcmp(name, "core")) return TT_EN_CORE;
    if (!strcmp(name, "dram")) return TT_EN_DRAM;
    return -1;
}

static int cmp_name(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* The powercap tree under root: every zone directory (the class lists them
 * flat: intel-rapl:0, intel-rapl:0:0, ...), MMIO duplicates left out. */
static int open_powercap(tt_energy *e, const char *root, char *why, size_t n) {
    DIR *d = opendir(root);
    if (!d) {
        snprintf(why, n, "%s: %s (no RAPL powercap driver here)", root, strerror(errno));
        return 0;
    }
    char *names[64];
    int k = 0;
    for (struct dirent *de; k < 64 && (de = readdir(d));)
        if (strchr(de->d_name, ':') && !strstr(de->d_name, "mmio") && (names[k] = strdup(de->d_name))) k++;
    closedir(d);
    qsort(names, (size_t)k, sizeof *names, cmp_name);
    int denied = 0, zones = 0;
    char first_err[256] = "";
    for (int i = 0; i < k; i++) {
        char p[600], name[64];
        snprintf(p, sizeof p, "%s/%s/name", root, names[i]);
        const int dom = read_line(p, name, sizeof name) == 0 ? domain_of(name) : -1;
        if (dom < 0 || e->nzones == TT_ENERGY_MAX_ZONES) continue;
        zones++;
        tt_energy_zone *z = &e->z[e->nzones];
        uint64_t v;
        snprintf(z->path, sizeof z->path, "%s/%s/energy_uj", root, names[i]);
        snprintf(p, sizeof p, "%s/%s/max_energy_range_uj", root, names[i]);
        if (read_u64(z->path, &v) || read_u64(p, &z->max_range_uj)) {
            denied |= errno == EACCES || errno == EPERM;
            if (!first_err[0]) snprintf(first_err, sizeof first_err, "%s: %s", z->path, strerror(errno));
            continue;
        }
        z->domain = (tt_energy_domain)dom;
        z->fd = -1;
        e->has[dom] = 1;
        e->nzones++;
    }
    for (int i = 0; i < k; i++) free(names[i]);
    if (e->has[TT_EN_PACKAGE]) {
        snprintf(why, n, "%s: %d zone(s): package%s%s", root, e->nzones, e->has[TT_EN_CORE] ? ", core" : "",
                 e->has[TT_EN_DRAM] ? ", dram" : "");
        return 1;
    }
    if (denied)
        snprintf(why, n, "%s (energy_uj is readable by root only since Linux 5.10: run as root or make it readable)",
                 first_err);
    else if (first_err[0]) snprintf(why, n, "%s", first_err);
    else snprintf(why, n, "%s: %s", root, zones ? "no readable package zone" : "no RAPL package zone");
    e->nzones = 0;
    memset(e->has, 0, sizeof e->has);
    return 0;
}

/* "event=0x02" (the perf power PMU's sysfs event description) -> config. */
static int parse_event_config(const char *desc, uint64_t *config) {
    const char *p = strstr(desc, "event=");
    if (!p) return -1;
    char *end;
    errno = 0;
    *config = strtoull(p + 6, &end, 0);
    return errno || end == p + 6 ? -1 : 0;
}

static int open_perf_power(tt_energy *e, char *why, size_t n) {
    char b[128];
    uint64_t type;
    if (read_u64(POWER_PMU "/type", &type)) {
        snprintf(why, n, "%s: %s (no RAPL power PMU: the CPU or the hypervisor does not expose it)", POWER_PMU,
                 strerror(errno));
        return 0;
    }
    static const char *const events[TT_EN_NDOMAINS] = {"energy-pkg", "energy-cores", "energy-ram"};
    for (int dom = 0; dom < TT_EN_NDOMAINS; dom++) {
        char p[256];
        uint64_t config;
        snprintf(p, sizeof p, POWER_PMU "/events/%s", events[dom]);
        if (read_line(p, b, sizeof b) || parse_event_config(b, &config)) continue;
        snprintf(p, sizeof p, POWER_PMU "/events/%s.scale", events[dom]);
        double scale = read_line(p, b, sizeof b) == 0 ? strtod(b, NULL) : 0;
        if (!(scale > 0)) continue;
        struct perf_event_attr pe;
        memset(&pe, 0, sizeof pe);
        pe.type = (uint32_t)type;
        pe.size = sizeof pe;
        pe.config = config;
        long fd = syscall(__NR_perf_event_open, &pe, -1, 0, -1, PERF_FLAG_FD_CLOEXEC); /* system-wide, CPU 0 */
        if (fd < 0) {
            if (dom == TT_EN_PACKAGE) {
                snprintf(why, n, "perf_event_open(power/%s/): %s (needs perf_event_paranoid <= 0 or CAP_PERFMON)",
                         events[dom], strerror(errno));
                return 0;
            }
            continue;
        }
        tt_energy_zone *z = &e->z[e->nzones++];
        snprintf(z->path, sizeof z->path, "power/%s/", events[dom]);
        z->domain = (tt_energy_domain)dom;
        z->fd = (int)fd;
        z->scale = scale;
        e->has[dom] = 1;
    }
    if (!e->has[TT_EN_PACKAGE]) {
        snprintf(why, n, "%s: no energy-pkg event", POWER_PMU);
        tt_energy_close(e);
        return 0;
    }
    snprintf(why, n, "perf power PMU (one package: CPU 0's)%s%s", e->has[TT_EN_CORE] ? ", cores" : "",
             e->has[TT_EN_DRAM] ? ", ram" : "");
    return 1;
}

int tt_energy_open(tt_energy *e) {
    memset(e, 0, sizeof *e);
    const char *root = getenv("TRITUNE_POWERCAP_ROOT");
    char w1[256], w2[256];
    if (open_powercap(e, root && root[0] ? root : POWERCAP_ROOT, w1, sizeof w1)) {
        e->method = "powercap";
        snprintf(e->detail, sizeof e->detail, "%s", w1);
    } else if (root && root[0]) { /* a tree named on purpose: nothing else */
        snprintf(e->detail, sizeof e->detail, "powercap %s", w1);
    } else if (open_perf_power(e, w2, sizeof w2)) {
        e->method = "perf_power_pmu";
        snprintf(e->detail, sizeof e->detail, "%s", w2);
    } else {
        snprintf(e->detail, sizeof e->detail, "powercap %s; perf %s", w1, w2);
    }
    e->available = e->method != NULL;
    return e->available;
}

void tt_energy_close(tt_energy *e) {
    for (int i = 0; i < e->nzones; i++)
        if (e->z[i].fd >= 0) close(e->z[i].fd), e->z[i].fd = -1;
}

void tt_energy_read(const tt_energy *e, tt_energy_sample *s) {
    s->ok = e->available;
    for (int i = 0; i < e->nzones && s->ok; i++) {
        if (e->z[i].fd >= 0) s->ok = read(e->z[i].fd, &s->v[i], sizeof s->v[i]) == (ssize_t)sizeof s->v[i];
        else s->ok = read_u64(e->z[i].path, &s->v[i]) == 0;
    }
    s->t_ns = tt_now_ns();
}

double tt_energy_joules(const tt_energy *e, const tt_energy_sample *a, const tt_energy_sample *b, tt_energy_domain d) {
    if (!e->available || !a->ok || !b->ok || d >= TT_EN_NDOMAINS || !e->has[d]) return NAN;
    double j = 0;
    for (int i = 0; i < e->nzones; i++) {
        const tt_energy_zone *z = &e->z[i];
        if (z->domain != d) continue;
        if (z->fd >= 0) j += (double)(b->v[i] - a->v[i]) * z->scale;
        else j += (double)tt_energy_delta_uj(a->v[i], b->v[i], z->max_range_uj) * 1e-6;
    }
    return j;
}

double tt_energy_idle_watts(const tt_energy *e, double seconds) {
    if (!e->available || !(seconds > 0)) return NAN;
    /* read every 50 ms at most: a counter that wraps within the window
     * (a small max_energy_range_uj) is then seen to wrap at most once per step */
    tt_energy_acc acc = {0};
    tt_energy_sample a, b;
    tt_energy_read(e, &a);
    const uint64_t end = a.t_ns + (uint64_t)(seconds * 1e9);
    for (uint64_t now = a.t_ns; now < end; now = b.t_ns, a = b) {
        const double step = TT_MIN_D(0.05, (double)(end - now) * 1e-9);
        struct timespec ts = {0, (long)(step * 1e9)};
        while (nanosleep(&ts, &ts) && errno == EINTR) {
        }
        tt_energy_read(e, &b);
        tt_energy_acc_add(&acc, e, &a, &b);
    }
    return acc.failed || !(acc.seconds > 0) ? NAN : acc.joules[TT_EN_PACKAGE] / acc.seconds;
}

void tt_energy_acc_add(tt_energy_acc *acc, const tt_energy *e, const tt_energy_sample *a, const tt_energy_sample *b) {
    acc->n++;
    acc->seconds += (double)(b->t_ns - a->t_ns) * 1e-9;
    for (int d = 0; d < TT_EN_NDOMAINS; d++) {
        const double j = tt_energy_joules(e, a, b, (tt_energy_domain)d);
        acc->joules[d] += isnan(j) ? 0 : j;
        if (d == TT_EN_PACKAGE && isnan(j)) acc->failed++;
    }
}
