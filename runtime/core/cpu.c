#define _GNU_SOURCE
#include "core/cpu.h"

#include <ctype.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif
#if defined(__aarch64__)
#include <sys/auxv.h>
#endif
#if defined(__x86_64__)
#include <errno.h>
#include <sys/syscall.h>
#endif
#ifdef TT_HAVE_HWLOC
#include <hwloc.h>
#endif

static const char *const feat_names[TT_FEAT_COUNT_BITS] = {
    "avx2", "f16c", "avx512f", "avx512bw", "avx512vnni",
    "avx512vbmi", "avxvnni", "neon", "dotprod", "avx512fp16", "amxint8",
};

const char *tt_feature_name(int bit) {
    return (bit >= 0 && bit < TT_FEAT_COUNT_BITS) ? feat_names[bit] : "?";
}

uint32_t tt_feature_from_name(const char *name) {
    for (int i = 0; i < TT_FEAT_COUNT_BITS; i++)
        if (strcmp(name, feat_names[i]) == 0) return 1u << i;
    return 0;
}

const char *tt_features_str(uint32_t feats, char *buf, int n) {
    int off = 0;
    buf[0] = '\0';
    for (int i = 0; i < TT_FEAT_COUNT_BITS && off < n; i++)
        if (feats & (1u << i))
            off += snprintf(buf + off, (size_t)(n - off), "%s%s", off ? " " : "", feat_names[i]);
    return buf;
}

#if defined(__x86_64__) || defined(__i386__)
static uint64_t xgetbv0(void) {
    uint32_t eax, edx;
    __asm__ volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
    return ((uint64_t)edx << 32) | eax;
}

static char amx_status[160] = "not detected yet";

/* AMX tile data is a dynamically enabled xsave feature on Linux: a process
 * must ask for it (arch_prctl ARCH_REQ_XCOMP_PERM, XFEATURE_XTILEDATA = 18)
 * before its first tile instruction, or that instruction raises SIGILL.
 * Asked once here, process-wide; refused = AMX rows are not runnable. */
static int amx_usable(uint32_t d7, uint64_t xcr0) {
    if (!((d7 >> 24) & 1) || !((d7 >> 25) & 1)) {
        snprintf(amx_status, sizeof amx_status, "no AMX-TILE/AMX-INT8 in cpuid");
        return 0;
    }
    if ((xcr0 & (3ull << 17)) != (3ull << 17)) {
        snprintf(amx_status, sizeof amx_status, "the OS does not enable tile state (XCR0 bits 17-18)");
        return 0;
    }
#if defined(__x86_64__)
    if (syscall(SYS_arch_prctl, 0x1023 /* ARCH_REQ_XCOMP_PERM */, 18 /* XFEATURE_XTILEDATA */) != 0) {
        snprintf(amx_status, sizeof amx_status, "arch_prctl(ARCH_REQ_XCOMP_PERM) refused: %s", strerror(errno));
        return 0;
    }
    snprintf(amx_status, sizeof amx_status, "granted");
    return 1;
#else
    snprintf(amx_status, sizeof amx_status, "32-bit build");
    return 0;
#endif
}

const char *tt_amx_status(void) {
    tt_cpu_features();
    return amx_status;
}

static uint32_t detect(void) {
    uint32_t a, b, c, d, f = 0;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return 0;
    int osxsave = (c >> 27) & 1, avx = (c >> 28) & 1, fma = (c >> 12) & 1, f16c = (c >> 29) & 1;
    if (!osxsave) return 0;
    uint64_t xcr0 = xgetbv0();
    int ymm_os = (xcr0 & 0x6) == 0x6;            /* SSE + AVX state    */
    int zmm_os = (xcr0 & 0xe6) == 0xe6;          /* + opmask, ZMM_Hi256, Hi16_ZMM */
    if (!(avx && ymm_os)) return 0;
    if (f16c) f |= TT_FEAT_F16C;
    __cpuid_count(7, 0, a, b, c, d);
    uint32_t b7 = b, c7 = c, d7 = d;
    if (((b7 >> 5) & 1) && fma) f |= TT_FEAT_AVX2;
    if (zmm_os && ((b7 >> 16) & 1)) {
        f |= TT_FEAT_AVX512F;
        /* BW (30), DQ (17), VL (31) together: our AVX-512 units use all three */
        if (((b7 >> 30) & 1) && ((b7 >> 17) & 1) && ((b7 >> 31) & 1)) f |= TT_FEAT_AVX512BW;
        if ((c7 >> 11) & 1) f |= TT_FEAT_AVX512VNNI;
        if ((c7 >> 1) & 1) f |= TT_FEAT_AVX512VBMI;
        if ((d7 >> 23) & 1) f |= TT_FEAT_AVX512FP16;
        /* the AMX kernels decode weights with AVX-512BW */
        if ((f & TT_FEAT_AVX512BW) && amx_usable(d7, xcr0)) f |= TT_FEAT_AMXINT8;
    } else {
        snprintf(amx_status, sizeof amx_status, "no AVX-512 (the AMX kernels need it)");
    }
    __cpuid_count(7, 1, a, b, c, d);
    if (((a >> 4) & 1) && (f & TT_FEAT_AVX2)) f |= TT_FEAT_AVXVNNI;
    return f;
}
#elif defined(__aarch64__)
const char *tt_amx_status(void) { return "not an x86 CPU"; }
#ifndef HWCAP_ASIMD
#define HWCAP_ASIMD (1 << 1)
#endif
#ifndef HWCAP_ASIMDDP
#define HWCAP_ASIMDDP (1 << 20)
#endif
static uint32_t detect(void) {
    unsigned long hw = getauxval(AT_HWCAP);
    uint32_t f = 0;
    if (hw & HWCAP_ASIMD) f |= TT_FEAT_NEON;
    if (hw & HWCAP_ASIMDDP) f |= TT_FEAT_DOTPROD;
    return f;
}
#else
const char *tt_amx_status(void) { return "not an x86 CPU"; }
static uint32_t detect(void) { return 0; }
#endif

uint32_t tt_cpu_features(void) {
    static int done;
    static uint32_t feats;
    if (!done) {
        uint32_t f = detect();
        const char *mask = getenv("TRITUNE_CPU_MASK");
        if (mask && *mask) {
            const uint32_t had = f;
            f &= (uint32_t)strtoul(mask, NULL, 16);
#if defined(__x86_64__) || defined(__i386__)
            if ((had & ~f) & TT_FEAT_AMXINT8) snprintf(amx_status, sizeof amx_status, "masked off by TRITUNE_CPU_MASK");
#endif
        }
        feats = f;
        __atomic_store_n(&done, 1, __ATOMIC_RELEASE);
    }
    return feats;
}

static long read_long_file(const char *path) {
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    char buf[64] = {0};
    long v = -1;
    if (fgets(buf, sizeof buf, f)) {
        char *end;
        v = strtol(buf, &end, 10);
        if (*end == 'K') v *= 1024;
        else if (*end == 'M') v *= 1024 * 1024;
    }
    fclose(f);
    return v;
}

static void sysfs_caches(tt_machine *m) {
    for (int i = 0; i < 8; i++) {
        char p[128], type[32] = {0};
        snprintf(p, sizeof p, "/sys/devices/system/cpu/cpu0/cache/index%d/level", i);
        long level = read_long_file(p);
        if (level < 0) break;
        snprintf(p, sizeof p, "/sys/devices/system/cpu/cpu0/cache/index%d/type", i);
        FILE *f = fopen(p, "r");
        if (f) {
            if (!fgets(type, sizeof type, f)) type[0] = 0;
            fclose(f);
        }
        snprintf(p, sizeof p, "/sys/devices/system/cpu/cpu0/cache/index%d/size", i);
        long sz = read_long_file(p);
        if (level == 1 && strncmp(type, "Data", 4) == 0) m->l1d_bytes = sz;
        else if (level == 2) m->l2_bytes = sz;
        else if (level == 3) m->l3_bytes = sz;
    }
}

static void meminfo(tt_machine *m);

int tt_cpus_allowed(void) {
#if defined(__linux__)
    cpu_set_t cs;
    CPU_ZERO(&cs);
    if (sched_getaffinity(0, sizeof cs, &cs) == 0 && CPU_COUNT(&cs) > 0) return CPU_COUNT(&cs);
#endif
    const long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)n : 1;
}

long long tt_mem_available(void) {
    tt_machine m;
    memset(&m, 0, sizeof m);
    meminfo(&m);
    return m.mem_avail_bytes > 0 ? m.mem_avail_bytes : -1;
}

static void meminfo(tt_machine *m) {
    FILE *f = fopen("/proc/meminfo", "r");
    if (!f) return;
    char line[256];
    while (fgets(line, sizeof line, f)) {
        long kb;
        if (sscanf(line, "MemTotal: %ld kB", &kb) == 1) m->mem_total_bytes = kb * 1024;
        else if (sscanf(line, "MemAvailable: %ld kB", &kb) == 1) m->mem_avail_bytes = kb * 1024;
    }
    fclose(f);
}

void tt_machine_describe(tt_machine *m) {
    memset(m, 0, sizeof *m);
#if defined(__x86_64__)
    snprintf(m->arch, sizeof m->arch, "x86_64");
#elif defined(__aarch64__)
    snprintf(m->arch, sizeof m->arch, "aarch64");
#else
    snprintf(m->arch, sizeof m->arch, "unknown");
#endif
    snprintf(m->model, sizeof m->model, "unknown");
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (f) {
        char line[512];
        while (fgets(line, sizeof line, f)) {
            if (strncmp(line, "model name", 10) == 0 || strncmp(line, "CPU part", 8) == 0) {
                char *c = strchr(line, ':');
                if (c) {
                    c++;
                    while (*c == ' ' || *c == '\t') c++;
                    c[strcspn(c, "\n")] = 0;
                    snprintf(m->model, sizeof m->model, "%s", c);
                    if (line[0] == 'm') break;
                }
            }
        }
        fclose(f);
    }
    m->logical_cpus = (int)sysconf(_SC_NPROCESSORS_ONLN);
    m->cores = m->logical_cpus;
    snprintf(m->topology_source, sizeof m->topology_source, "sysfs");
    sysfs_caches(m);
#ifdef TT_HAVE_HWLOC
    hwloc_topology_t topo;
    if (hwloc_topology_init(&topo) == 0) {
        if (hwloc_topology_load(topo) == 0) {
            int nc = hwloc_get_nbobjs_by_type(topo, HWLOC_OBJ_CORE);
            if (nc > 0) m->cores = nc;
            hwloc_obj_type_t types[3] = {HWLOC_OBJ_L1CACHE, HWLOC_OBJ_L2CACHE, HWLOC_OBJ_L3CACHE};
            long *dst[3] = {&m->l1d_bytes, &m->l2_bytes, &m->l3_bytes};
            for (int i = 0; i < 3; i++) {
                hwloc_obj_t o = hwloc_get_obj_by_type(topo, types[i], 0);
                if (o && o->attr) *dst[i] = (long)o->attr->cache.size;
            }
            snprintf(m->topology_source, sizeof m->topology_source, "hwloc");
        }
        hwloc_topology_destroy(topo);
    }
#endif
    meminfo(m);
}

static uint32_t fnv1a(uint32_t h, const void *p, size_t n) {
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++) h = (h ^ b[i]) * 16777619u;
    return h;
}

void tt_machine_id(const tt_machine *m, uint32_t feats, char *buf, int n) {
    char slug[64];
    int j = 0;
    for (const char *c = m->model; *c && j < (int)sizeof slug - 1; c++) {
        if (isalnum((unsigned char)*c)) slug[j++] = (char)tolower((unsigned char)*c);
        else if (j > 0 && slug[j - 1] != '-') slug[j++] = '-';
    }
    while (j > 0 && slug[j - 1] == '-') j--;
    slug[j] = 0;
    uint32_t h = 2166136261u;
    h = fnv1a(h, m->model, strlen(m->model));
    h = fnv1a(h, m->arch, strlen(m->arch));
    h = fnv1a(h, &feats, sizeof feats);
    h = fnv1a(h, &m->cores, sizeof m->cores);
    h = fnv1a(h, &m->l2_bytes, sizeof m->l2_bytes);
    snprintf(buf, (size_t)n, "%s-%dc-%08x", slug[0] ? slug : "cpu", m->cores, h);
}
