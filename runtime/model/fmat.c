/* tritune: float matrices (tt_fmat) for the fp16 / fp32 baselines and the
 * LM head, IEEE half conversion, and the portable-C float kernels.
 *
 * fp16: weights stored as IEEE half, converted to fp32 on the fly, fp32
 * multiply-add (llama.cpp's F16 path does the same).  int8 and 4-bit (LM
 * head options): see fmat.h; integer dot products on int8 activations.  fp32: OpenBLAS
 * cblas_sgemv / cblas_sgemm when built with it. */
#include <math.h>
#include <stdatomic.h>
#include <stdlib.h>
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

/* ---- quantized LM head rows (portable; fkern.h) ----------------------------------- */
void tt_fk_qprep(tt_fmat_kind kind, const int8_t *q, int K, int Kp, void *aux) {
    if (kind == TT_FM_I8) {
        uint8_t *u = aux;
        for (int k = 0; k < Kp; k++) u[k] = (uint8_t)(q[k] + 128);
    } else {
        int32_t *c = aux;
        for (int i = 0; i < tt_q4_kpad(K) / 4; i++) c[i] = -8 * (q[4 * i] + q[4 * i + 1] + q[4 * i + 2] + q[4 * i + 3]);
    }
}

static void fkq_i8_c(const tt_fmat *A, const int8_t *q, const void *aux, float sa, float *y, int m0, int m1) {
    (void)aux;
    for (int m = m0; m < m1; m++) {
        const int8_t *w = A->w;
        int32_t dot = 0;
        for (int k = 0; k < A->K; k++) dot += w[tt_i8_off(m, k, A->K)] * q[k];
        y[m] = (float)dot * A->row_scale[m] / sa;
    }
}

/* the byte of weight k of Q4 row m (nb blocks a row) */
static inline uint8_t *q4_byte(const tt_fmat *A, int m, int k, int nb) {
    return (uint8_t *)A->w + tt_q4_woff(m, k / TT_Q4_BLOCK, nb) + k % (TT_Q4_BLOCK / 2);
}
/* weight k of Q4 row m (nibble - 8) */
static inline int q4_at(const tt_fmat *A, int m, int k, int nb) {
    const uint8_t b = *q4_byte(A, m, k, nb);
    return (k % TT_Q4_BLOCK < TT_Q4_BLOCK / 2 ? b & 15 : b >> 4) - 8;
}

static void fkq_q4_c(const tt_fmat *A, const int8_t *q, const void *aux, float sa, float *y, int m0, int m1) {
    (void)aux;
    const int Kq = tt_q4_kpad(A->K), nb = Kq / TT_Q4_BLOCK, ng = Kq / TT_Q4_GROUP;
    for (int m = m0; m < m1; m++) {
        float acc = 0.f;
        for (int g = 0; g < ng; g++) {
            int32_t dot = 0;
            for (int k = g * TT_Q4_GROUP; k < (g + 1) * TT_Q4_GROUP; k++) dot += q4_at(A, m, k, nb) * q[k];
            acc += (float)dot * h2f(A->gscale[tt_q4_soff(m, g, ng)]);
        }
        y[m] = acc / sa;
    }
}

static tt_fkern_table fk_table;
static atomic_int fk_ready;
static const tt_fkern_table fk_portable = {fk_f16_c, fk_f32_c, dot_f16_c, axpy_f16_c, f16_to_f32_c, f32_to_f16_c,
                                           NULL,     NULL,      rmsnorm_c, add_c,    glu_c,      rope_c,       "c",
                                           fkq_i8_c, fkq_q4_c,  "c",       NULL};

const tt_fkern_table *tt_fkern_portable(void) { return &fk_portable; }

const tt_fkern_table *tt_fkern(void) {
    if (atomic_load_explicit(&fk_ready, memory_order_acquire)) return &fk_table;
    tt_fkern_table t = fk_portable;
#if defined(__x86_64__)
    const uint32_t need = TT_FEAT_AVX512F | TT_FEAT_AVX512BW | TT_FEAT_F16C;
    if ((tt_cpu_features() & need) == need)
        t = (tt_fkern_table){tt_fk_f16_avx512,  tt_fk_f32_avx512,     tt_dot_f16_avx512,
                             tt_axpy_f16_avx512, tt_f16_to_f32_avx512, tt_f32_to_f16_avx512, tt_attn_convert_avx512, tt_attn_rows_avx512,
                             tt_rmsnorm_avx512,  tt_add_avx512,        tt_glu_avx512,        tt_rope_avx512, "avx512",
                             fkq_i8_c,           fkq_q4_c,             "c",                  tt_attn_token_avx512};
    if ((tt_cpu_features() & (need | TT_FEAT_AVX512VNNI)) == (need | TT_FEAT_AVX512VNNI)) {
        t.qi8 = tt_fkq_i8_avx512vnni;
        t.qq4 = tt_fkq_q4_avx512vnni;
        t.qisa = "avx512vnni";
    }
#endif
#if defined(__aarch64__)
    if (tt_cpu_features() & TT_FEAT_DOTPROD) {
        t.qi8 = tt_fkq_i8_neondot;
        t.qq4 = tt_fkq_q4_neondot;
        t.qisa = "neondot";
    }
#endif
    fk_table = t; /* identical contents if two threads race here */
    atomic_store_explicit(&fk_ready, 1, memory_order_release);
    return &fk_table;
}

/* ---- tt_fmat ------------------------------------------------------------------------- */
/* bytes of w (the values, without scales) */
static size_t w_bytes(tt_fmat_kind k, int M, int K) {
    if (k == TT_FM_Q4) return (size_t)M * (size_t)(tt_q4_kpad(K) / 2); /* the rows a product reads */
    return (size_t)M * (size_t)K * (k == TT_FM_F16 ? 2 : k == TT_FM_F32 ? 4 : 1);
}

size_t tt_fmat_bytes(tt_fmat_kind kind, int M, int K) {
    if (M <= 0 || K <= 0) return 0;
    size_t b = w_bytes(kind, M, K);
    if (kind == TT_FM_I8) b += (sizeof(float) + sizeof(int32_t)) * (size_t)M;
    if (kind == TT_FM_Q4) b += sizeof(uint16_t) * (size_t)M * (size_t)(tt_q4_kpad(K) / TT_Q4_GROUP);
    return b;
}

const char *tt_fmat_kind_name(tt_fmat_kind kind) {
    return kind == TT_FM_F16 ? "fp16" : kind == TT_FM_F32 ? "fp32" : kind == TT_FM_I8 ? "i8" : "q4";
}

tt_status tt_fmat_alloc(tt_fmat *A, tt_fmat_kind kind, int M, int K) {
    memset(A, 0, sizeof *A);
    if (M <= 0 || K <= 0) return tt_set_error(TT_E_ARG, "float matrix: bad shape %dx%d", M, K);
    A->kind = kind;
    A->M = M;
    A->K = K;
    A->owns = 1;
    /* Q4 and I8 rows come in whole quads (padding rows never read), I8 rows in whole 64-byte pieces
     * (zero padding, read by the kernels) */
    A->w = tt_alloc(kind == TT_FM_I8 ? tt_i8_off(tt_q4_mpad(M), 0, K) : w_bytes(kind, kind == TT_FM_Q4 ? tt_q4_mpad(M) : M, K),
                    64, 1);
    if (A->w && kind == TT_FM_I8) memset(A->w, 0, tt_i8_off(tt_q4_mpad(M), 0, K));
    int ok = A->w != NULL;
    if (ok && kind == TT_FM_I8) {
        A->row_scale = tt_alloc(sizeof(float) * (size_t)M, 64, 0);
        A->row_sum = tt_alloc(sizeof(int32_t) * (size_t)M, 64, 0);
        ok = A->row_scale && A->row_sum;
    }
    if (ok && kind == TT_FM_Q4)
        ok = (A->gscale = tt_alloc(sizeof(uint16_t) * (size_t)tt_q4_mpad(M) * (size_t)(tt_q4_kpad(K) / TT_Q4_GROUP), 64,
                                   1)) != NULL;
    if (ok && (kind == TT_FM_I8 || kind == TT_FM_Q4)) {
        ok = (A->qa = calloc(1, sizeof *A->qa)) && tt_qact_alloc(A->qa, 1, K) == TT_OK &&
             (A->aux = tt_alloc(sizeof(int32_t) * (size_t)tt_act_kpad(K), 64, 1));
    }
    if (!ok) {
        tt_fmat_free(A);
        return tt_set_error(TT_E_NOMEM, "cannot allocate a %dx%d %s matrix", M, K, tt_fmat_kind_name(kind));
    }
    A->bytes = tt_fmat_bytes(kind, M, K);
    return TT_OK;
}

void tt_fmat_free(tt_fmat *A) {
    if (A->owns) {
        tt_free(A->w);
        tt_free(A->row_scale);
        tt_free(A->row_sum);
        tt_free(A->gscale);
        tt_free(A->aux);
        if (A->qa && A->qa->q) tt_qact_free(A->qa);
        free(A->qa);
    }
    memset(A, 0, sizeof *A);
}

void tt_fmat_set_row(tt_fmat *A, int r, const float *src) {
    const int K = A->K;
    if (A->kind == TT_FM_F16) {
        tt_fkern()->f32_to_f16(src, (uint16_t *)A->w + (size_t)r * K, K);
    } else if (A->kind == TT_FM_F32) {
        memcpy((float *)A->w + (size_t)r * K, src, sizeof(float) * K);
    } else if (A->kind == TT_FM_I8) { /* per-row absmax */
        float amax = 0.f;
        for (int k = 0; k < K; k++) amax = fmaxf(amax, fabsf(src[k]));
        const float s = amax > 0 ? amax / 127.f : 1.f;
        int8_t *d = A->w;
        int32_t sum = 0;
        for (int k = 0; k < K; k++) sum += d[tt_i8_off(r, k, K)] = (int8_t)lrintf(src[k] / s);
        A->row_scale[r] = s;
        A->row_sum[r] = sum;
    } else { /* Q4: absmax / 7 per group, the scale rounded to fp16 first */
        const int Kq = tt_q4_kpad(K), nb = Kq / TT_Q4_BLOCK, ng = Kq / TT_Q4_GROUP;
        for (int b = 0; b < nb; b++) memset((uint8_t *)A->w + tt_q4_woff(r, b, nb), 0x88, TT_Q4_BLOCK / 2);
        for (int g = 0; g < ng; g++) {
            float amax = 0.f;
            for (int k = g * TT_Q4_GROUP; k < TT_MIN(K, (g + 1) * TT_Q4_GROUP); k++) amax = fmaxf(amax, fabsf(src[k]));
            const uint16_t h = tt_f32_to_f16(amax / 7.f);
            const float s = tt_f16_to_f32(h);
            A->gscale[tt_q4_soff(r, g, ng)] = h;
            for (int k = g * TT_Q4_GROUP; k < TT_MIN(K, (g + 1) * TT_Q4_GROUP); k++) {
                const long v = s > 0 ? lrintf(src[k] / s) : 0;
                const uint8_t nib = (uint8_t)(TT_MAX(-8, TT_MIN(7, v)) + 8);
                uint8_t *b = q4_byte(A, r, k, nb);
                *b = k % TT_Q4_BLOCK < TT_Q4_BLOCK / 2 ? (uint8_t)((*b & 0xF0) | nib) : (uint8_t)((*b & 0x0F) | nib << 4);
            }
        }
    }
}

void tt_fmat_get_row(const tt_fmat *A, int r, float *dst) {
    const int K = A->K;
    if (A->kind == TT_FM_F16) {
        tt_fkern()->f16_to_f32((const uint16_t *)A->w + (size_t)r * K, dst, K);
    } else if (A->kind == TT_FM_F32) {
        memcpy(dst, (const float *)A->w + (size_t)r * K, sizeof(float) * K);
    } else if (A->kind == TT_FM_I8) {
        const int8_t *w = A->w;
        for (int k = 0; k < K; k++) dst[k] = (float)w[tt_i8_off(r, k, K)] * A->row_scale[r];
    } else {
        const int Kq = tt_q4_kpad(K), nb = Kq / TT_Q4_BLOCK, ng = Kq / TT_Q4_GROUP;
        for (int k = 0; k < K; k++) dst[k] = (float)q4_at(A, r, k, nb) * h2f(A->gscale[tt_q4_soff(r, k / TT_Q4_GROUP, ng)]);
    }
}

const char *tt_fmat_impl(tt_fmat_kind kind) {
    (void)kind;
#ifdef TT_HAVE_OPENBLAS
    if (kind == TT_FM_F32) return "openblas";
#endif
    if (kind == TT_FM_I8 || kind == TT_FM_Q4) return tt_fkern()->qisa;
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

/* Quantized rows of one token: x already in A->qa and A->aux. */
typedef struct {
    const tt_fmat *A;
    tt_fk_qrows_fn fn;
    float *y;
} qmat_task;

static void qmat_worker(void *ctx, int tid, int nth) {
    const qmat_task *t = ctx;
    int lo, hi;
    tt_split_range(t->A->M, nth, tid, 4, &lo, &hi);
    if (lo < hi) t->fn(t->A, t->A->qa->q, t->A->aux, t->A->qa->scale[0], t->y, lo, hi);
}

static tt_status qmat_forward(const tt_fmat *A, const float *x, int ldx, int N, float *y, int ldy, tt_pool *pool) {
    const tt_fkern_table *fk = tt_fkern();
    qmat_task t = {A, A->kind == TT_FM_I8 ? fk->qi8 : fk->qq4, NULL};
    for (int n = 0; n < N; n++) {
        tt_status st = tt_quantize_act(A->qa, x + (size_t)n * ldx, 1, A->K);
        if (st != TT_OK) return st;
        tt_fk_qprep(A->kind, A->qa->q, A->K, A->qa->Kp, A->aux);
        t.y = y + (size_t)n * ldy;
        if (pool && tt_pool_threads(pool) > 1) tt_pool_run(pool, qmat_worker, &t);
        else qmat_worker(&t, 0, 1);
    }
    return TT_OK;
}

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
    if (A->kind == TT_FM_I8 || A->kind == TT_FM_Q4) return qmat_forward(A, x, ldx, N, y, ldy, pool);
    const tt_fkern_table *fk = tt_fkern();
    fmat_task t = {A, A->kind == TT_FM_F16 ? fk->f16 : fk->f32, x, ldx, N, ldy, y};
    if (pool && tt_pool_threads(pool) > 1)
        tt_pool_run(pool, fmat_worker, &t);
    else
        fmat_worker(&t, 0, 1);
    return TT_OK;
}
