/* tritune: float matrices (tt_fmat) for the fp16 / fp32 baselines and the
 * LM head, IEEE half conversion, and the portable-C float kernels.
 *
 * fp16: weights stored as IEEE half, converted to fp32 on the fly, fp32
 * multiply-add (llama.cpp's F16 path does the same).  int8 (LM head
 * option): per-row absmax scale, W[m][k] = q[m][k] * rs[m].  fp32: OpenBLAS
 * cblas_sgemv / cblas_sgemm when built with it. */
#include <math.h>
#include <stdatomic.h>
#include <string.h>
#include <strings.h>

#include "core/cpu.h"
#include "model/fkern.h"
#include "model/fmat.h"

#ifdef TT_HAVE_OPENBLAS
#include <cblas.h>
#endif

/* ---- IEEE half <-> float --------------------------------------------------------- */
uint16_t tt_f32_to_f16(float f) {
    uint32_t x;
    memcpy(&x, &f, 4);
    const uint32_t sign = (x >> 16) & 0x8000u;
    const uint32_t ax = x & 0x7FFFFFFFu;
    if (ax >= 0x7F800000u) return (uint16_t)(sign | 0x7C00u | (ax > 0x7F800000u ? 0x200u : 0)); /* Inf / NaN */
    if (ax >= 0x477FF000u) return (uint16_t)(sign | 0x7C00u); /* rounds to >= 65520: overflow to Inf */
    if (ax < 0x38800000u) {                                   /* below 2^-14: subnormal half or zero */
        if (ax < 0x33000000u) return (uint16_t)sign;          /* < 2^-25 rounds to 0 */
        const uint32_t mant = (ax & 0x7FFFFFu) | 0x800000u;
        const int shift = 126 - (int)(ax >> 23);              /* 14 .. 24 */
        uint32_t h = mant >> shift;
        const uint32_t rem = mant & ((1u << shift) - 1), half = 1u << (shift - 1);
        if (rem > half || (rem == half && (h & 1))) h++;
        return (uint16_t)(sign | h);
    }
    uint32_t h = ((ax >> 13) - (112u << 10));                 /* rebias exponent 127 -> 15 */
    const uint32_t rem = ax & 0x1FFFu;
    if (rem > 0x1000u || (rem == 0x1000u && (h & 1))) h++;    /* round to nearest even (may carry into exp) */
    return (uint16_t)(sign | h);
}

float tt_f16_to_f32(uint16_t h) {
    const uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
    const uint32_t e = (h >> 10) & 0x1Fu, m = h & 0x3FFu;
    uint32_t x;
    if (e == 0) {
        if (m == 0) {
            x = sign;
        } else { /* subnormal: m * 2^-24 */
            float f = (float)m * 0x1p-24f;
            memcpy(&x, &f, 4);
            x |= sign;
        }
    } else if (e == 31) {
        x = sign | 0x7F800000u | (m << 13);
    } else {
        x = sign | ((e + 112u) << 23) | (m << 13);
    }
    float f;
    memcpy(&f, &x, 4);
    return f;
}

/* ---- portable kernels -------------------------------------------------------------- */
#if defined(__aarch64__)
/* the hardware conversion (exact, like tt_f16_to_f32) lets the compiler vectorize */
static inline float h2f(uint16_t h) {
    __fp16 v;
    memcpy(&v, &h, 2);
    return (float)v;
}
#else
#define h2f tt_f16_to_f32
#endif

#define FK_C(NAME, T, CONV)                                                                                     \
    static void NAME(const void *W, const float *rs, int K, const float *x, int ldx, int N, float *y, int ldy,  \
                     int m0, int m1) {                                                                          \
        for (int m = m0; m < m1; m++) {                                                                         \
            const T *w = (const T *)W + (size_t)m * K;                                                          \
            for (int n = 0; n < N; n++) {                                                                       \
                const float *xn = x + (size_t)n * ldx;                                                          \
                float acc = 0.f;                                                                                \
                for (int k = 0; k < K; k++) acc += CONV(w[k]) * xn[k];                                          \
                y[(size_t)n * ldy + m] = rs ? rs[m] * acc : acc;                                                \
            }                                                                                                   \
        }                                                                                                       \
    }
#define CONV_ID(v) ((float)(v))
FK_C(fk_f16_c, uint16_t, h2f)
FK_C(fk_i8_c, int8_t, CONV_ID)
FK_C(fk_f32_c, float, CONV_ID)

static float dot_f16_c(const float *a, const uint16_t *b, int n) {
    float s = 0.f;
    for (int k = 0; k < n; k++) s += a[k] * h2f(b[k]);
    return s;
}
static void axpy_f16_c(float *y, float a, const uint16_t *x, int n) {
    for (int k = 0; k < n; k++) y[k] += a * h2f(x[k]);
}
static void f16_to_f32_c(const uint16_t *s, float *d, int n) {
    for (int k = 0; k < n; k++) d[k] = h2f(s[k]);
}
static void f32_to_f16_c(const float *s, uint16_t *d, int n) {
    for (int k = 0; k < n; k++) d[k] = tt_f32_to_f16(s[k]);
}

static void rmsnorm_c(float *o, const float *x, const float *w, int n, float eps) {
    float ss = 0.f;
    for (int i = 0; i < n; i++) ss += x[i] * x[i];
    const float r = 1.0f / sqrtf(ss / n + eps);
    for (int i = 0; i < n; i++) o[i] = x[i] * r * w[i];
}
static void add_c(float *x, const float *y, size_t n) {
    for (size_t i = 0; i < n; i++) x[i] += y[i];
}
static void glu_c(float *g, const float *u, size_t n, int silu) {
    for (size_t i = 0; i < n; i++) {
        const float v = g[i];
        g[i] = (!silu ? (v > 0 ? v * v : 0.f) : v / (1.0f + expf(-v))) * u[i];
    }
}
static void rope_c(float *v, int nheads, int hd, const float *cs, const float *sn) {
    const int h2 = hd / 2;
    for (int h = 0; h < nheads; h++) {
        float *p = v + (size_t)h * hd;
        for (int i = 0; i < h2; i++) {
            const float a = p[i], b = p[i + h2];
            p[i] = a * cs[i] - b * sn[i];
            p[i + h2] = a * sn[i] + b * cs[i];
        }
    }
}

static tt_fkern_table fk_table;
static atomic_int fk_ready;

const tt_fkern_table *tt_fkern(void) {
    if (atomic_load_explicit(&fk_ready, memory_order_acquire)) return &fk_table;
    tt_fkern_table t = {fk_f16_c,     fk_i8_c, fk_f32_c, dot_f16_c, axpy_f16_c, f16_to_f32_c, f32_to_f16_c,
                        NULL,         NULL,      rmsnorm_c, add_c, glu_c, rope_c, "c"};
#if defined(__x86_64__)
    const uint32_t need = TT_FEAT_AVX512F | TT_FEAT_AVX512BW | TT_FEAT_F16C;
    if ((tt_cpu_features() & need) == need)
        t = (tt_fkern_table){tt_fk_f16_avx512,  tt_fk_i8_avx512,      tt_fk_f32_avx512,     tt_dot_f16_avx512,
                             tt_axpy_f16_avx512, tt_f16_to_f32_avx512, tt_f32_to_f16_avx512, tt_attn_convert_avx512, tt_attn_rows_avx512,
                             tt_rmsnorm_avx512,  tt_add_avx512,        tt_glu_avx512,        tt_rope_avx512, "avx512"};
#endif
    fk_table = t; /* identical contents if two threads race here */
    atomic_store_explicit(&fk_ready, 1, memory_order_release);
    return &fk_table;
}

/* ---- tt_fmat ------------------------------------------------------------------------- */
static size_t elt_size(tt_fmat_kind k) { return k == TT_FM_F16 ? 2 : k == TT_FM_F32 ? 4 : 1; }

size_t tt_fmat_bytes(tt_fmat_kind kind, int M, int K) {
    if (M <= 0 || K <= 0) return 0;
    size_t b = (size_t)M * (size_t)K * elt_size(kind);
    if (kind == TT_FM_I8) b += sizeof(float) * (size_t)M;
    return b;
}

tt_status tt_fmat_alloc(tt_fmat *A, tt_fmat_kind kind, int M, int K) {
    memset(A, 0, sizeof *A);
    if (M <= 0 || K <= 0) return tt_set_error(TT_E_ARG, "float matrix: bad shape %dx%d", M, K);
    A->kind = kind;
    A->M = M;
    A->K = K;
    A->w = tt_alloc((size_t)M * K * elt_size(kind), 64, 1);
    if (!A->w) return tt_set_error(TT_E_NOMEM, "cannot allocate a %dx%d float matrix", M, K);
    if (kind == TT_FM_I8) {
        A->row_scale = tt_alloc(sizeof(float) * (size_t)M, 64, 0);
        if (!A->row_scale) {
            tt_free(A->w);
            A->w = NULL;
            return tt_set_error(TT_E_NOMEM, "cannot allocate %d row scales", M);
        }
    }
    A->bytes = tt_fmat_bytes(kind, M, K);
    A->owns = 1;
    return TT_OK;
}

void tt_fmat_free(tt_fmat *A) {
    if (A->owns) {
        tt_free(A->w);
        tt_free(A->row_scale);
    }
    memset(A, 0, sizeof *A);
}

const char *tt_fmat_impl(tt_fmat_kind kind) {
    (void)kind;
#ifdef TT_HAVE_OPENBLAS
    if (kind == TT_FM_F32) return "openblas";
#endif
    return tt_fkern()->isa;
}

const char *tt_blas_core(void) {
#ifdef TT_HAVE_OPENBLAS
    return openblas_get_corename();
#else
    return NULL;
#endif
}

int tt_blas_threads(void) {
#ifdef TT_HAVE_OPENBLAS
    return openblas_get_num_threads();
#else
    return 0;
#endif
}

/* OpenBLAS's x86-64 core names by the widest vector ISA their kernels use
 * (driver/others/dynamic.c's corename table, 0.3.21). */
static int blas_core_level(const char *core) {
    static const char *const avx512[] = {"SkylakeX", "Cooperlake", "SapphireRapids"};
    static const char *const avx2[] = {"Haswell", "Zen", "Excavator"};
    static const char *const generic[] = {"Prescott", "Core2", "Penryn", "Dunnington", "Nehalem", "Atom", "Katmai",
                                          "Coppermine", "Northwood", "Banias", "Opteron", "Barcelona", "Bobcat",
                                          "Sandybridge", "Bulldozer", "Piledriver", "Steamroller", "Unknown"};
    for (size_t i = 0; i < sizeof avx512 / sizeof *avx512; i++)
        if (!strcasecmp(core, avx512[i])) return 2;
    for (size_t i = 0; i < sizeof avx2 / sizeof *avx2; i++)
        if (!strcasecmp(core, avx2[i])) return 1;
    for (size_t i = 0; i < sizeof generic / sizeof *generic; i++)
        if (!strcasecmp(core, generic[i])) return 0;
    return -1;
}

const char *tt_blas_core_wanted(const char *core, uint32_t feats) {
    const int lvl = core ? blas_core_level(core) : -1;
    const int cpu = (feats & TT_FEAT_AVX512F) && (feats & TT_FEAT_AVX512BW) ? 2 : (feats & TT_FEAT_AVX2) ? 1 : 0;
    if (lvl < 0 || lvl >= cpu) return NULL;
    return cpu == 2 ? "SkylakeX" : "Haswell";
}

typedef struct {
    const tt_fmat *A;
    tt_fk_rows_fn fn;
    const float *x;
    int ldx, N, ldy;
    float *y;
} fmat_task;

static void fmat_worker(void *ctx, int tid, int nth) {
    const fmat_task *t = ctx;
    int lo, hi;
    /* 4-row blocks keep the kernel on its fast path; the last part takes the rest */
    tt_split_range(t->A->M, nth, tid, 4, &lo, &hi);
    if (lo < hi) t->fn(t->A->w, t->A->row_scale, t->A->K, t->x, t->ldx, t->N, t->y, t->ldy, lo, hi);
}

tt_status tt_fmat_forward(const tt_fmat *A, const float *x, int ldx, int N, float *y, int ldy, tt_pool *pool) {
    if (!A || !A->w || N <= 0 || ldx < A->K || ldy < A->M)
        return tt_set_error(TT_E_ARG, "float matmul: bad arguments (N=%d ldx=%d ldy=%d)", N, ldx, ldy);
    if (A->kind == TT_FM_F32) {
#ifdef TT_HAVE_OPENBLAS
        static int blas_threads = 0; /* the decoder runs one model at a time */
        const int nth = pool ? tt_pool_threads(pool) : 1;
        if (nth != blas_threads) {
            openblas_set_num_threads(nth);
            blas_threads = nth;
        }
        if (N == 1)
            cblas_sgemv(CblasRowMajor, CblasNoTrans, A->M, A->K, 1.0f, A->w, A->K, x, 1, 0.0f, y, 1);
        else /* Y (N x M) = X (N x K) * W^T */
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, N, A->M, A->K, 1.0f, x, ldx, A->w, A->K, 0.0f, y,
                        ldy);
        return TT_OK;
#endif
    }
    const tt_fkern_table *fk = tt_fkern();
    fmat_task t = {A, A->kind == TT_FM_F16 ? fk->f16 : A->kind == TT_FM_I8 ? fk->i8 : fk->f32, x, ldx, N, ldy, y};
    if (pool && tt_pool_threads(pool) > 1)
        tt_pool_run(pool, fmat_worker, &t);
    else
        fmat_worker(&t, 0, 1);
    return TT_OK;
}
