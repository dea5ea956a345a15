/* tritune: CPU feature detection (cpuid/xgetbv on x86, HWCAP on aarch64)
 * and machine description (model, cores, caches).  Variant rows list the
 * features they need; rows the CPU lacks are never executed. */
#ifndef TT_CPU_H
#define TT_CPU_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

enum {
    TT_FEAT_AVX2 = 1u << 0,       /* includes FMA                      */
    TT_FEAT_F16C = 1u << 1,
    TT_FEAT_AVX512F = 1u << 2,
    TT_FEAT_AVX512BW = 1u << 3,   /* + VL + DQ checked together        */
    TT_FEAT_AVX512VNNI = 1u << 4,
    TT_FEAT_AVX512VBMI = 1u << 5,
    TT_FEAT_AVXVNNI = 1u << 6,    /* 256-bit VEX vpdpbusd              */
    TT_FEAT_NEON = 1u << 7,
    TT_FEAT_DOTPROD = 1u << 8,    /* aarch64 sdot/udot                 */
    TT_FEAT_AVX512FP16 = 1u << 9,
    TT_FEAT_AMXINT8 = 1u << 10,   /* AMX-TILE + AMX-INT8, OS-enabled and
                                     granted to this process (arch_prctl) */
    TT_FEAT_COUNT_BITS = 11
};

/* Detected once (thread-safe after the first call).  The environment
 * variable TRITUNE_CPU_MASK (hex) masks features off, to test the
 * "missing CPU feature" paths on a machine that has them. */
uint32_t tt_cpu_features(void);
/* Why AMX is or is not usable here ("granted", "no AMX-INT8 in cpuid",
 * "arch_prctl(ARCH_REQ_XCOMP_PERM) refused: ..."), after tt_cpu_features(). */
const char *tt_amx_status(void);
/* Space-separated names of the bits in `feats` into buf. */
const char *tt_features_str(uint32_t feats, char *buf, int n);
const char *tt_feature_name(int bit);
/* Parse one feature name ("avx2", "avx512vnni"...) -> bit, 0 if unknown. */
uint32_t tt_feature_from_name(const char *name);

typedef struct {
    char model[128];
    char arch[16];          /* "x86_64" / "aarch64" */
    int logical_cpus;
    int cores;
    long l1d_bytes, l2_bytes, l3_bytes;
    long mem_total_bytes;
    long mem_avail_bytes;
    char topology_source[16]; /* "hwloc" or "sysfs" */
} tt_machine;

void tt_machine_describe(tt_machine *m);

/* CPUs this process may run on (sched_getaffinity; the online count where
 * that is unavailable), >= 1. */
int tt_cpus_allowed(void);
/* MemAvailable from /proc/meminfo in bytes, or -1 when it cannot be read. */
long long tt_mem_available(void);

/* Stable machine identifier: "<model-slug>-<cores>c-<hash8>" where the hash
 * covers model, features, core count and cache sizes. */
void tt_machine_id(const tt_machine *m, uint32_t feats, char *buf, int n);

#ifdef __cplusplus
}
#endif
#endif
