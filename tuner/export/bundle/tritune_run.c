/* tritune C bundle: pack, repack, prepare activations and call one tuned
 * kernel (tritune_run.h).  Hand-written; copied into every bundle. */
#include "tritune_run.h"

#include <stdio.h>
#include <string.h>

#include "core/common.h"
#include "core/cpu.h"
#include "formats/formats.h"
#include "formats/tl.h"

static int fail(const tritune_tuned_kernel *k, const char *why) {
    fprintf(stderr, "tritune_run: %s: %s\n", k->variant, why);
    return -1;
}

/* The canonical layout of the kernel's format. */
static uint8_t *pack_canonical(const tritune_tuned_kernel *k, const int8_t *w, int M, int K) {
    size_t bytes;
    tt_status (*pack)(const int8_t *, int, int, uint8_t *);
    if (!strcmp(k->format, "i2s")) {
        bytes = tt_i2s_bytes(M, K);
        pack = tt_i2s_pack;
    } else if (!strcmp(k->format, "tl1")) {
        bytes = tt_tl1_bytes(M, K);
        pack = tt_tl1_pack;
    } else if (!strcmp(k->format, "tl2")) {
        bytes = tt_tl2_bytes(M, K);
        pack = tt_tl2_pack;
    } else {
        return NULL;
    }
    uint8_t *c = tt_alloc(bytes, 64, 0);
    if (c && pack(w, M, K, c) != TT_OK) {
        tt_free(c);
        c = NULL;
    }
    return c;
}

int tritune_run(const tritune_tuned_kernel *k, const int8_t *w, const int8_t *x, int M, int K, int N, int32_t *y,
                int use_ref) {
    if (M <= 0 || K < k->min_k || K > k->max_k || N <= 0 || M % k->m_align || K % k->k_align ||
        (k->max_n && N > k->max_n))
        return fail(k, "shape outside the kernel's restrictions (m_align, k_align, min_k, max_k, max_n)");
    if (!use_ref && (tt_cpu_features() & k->features) != k->features)
        return fail(k, "this CPU lacks a feature the kernel needs");
    const int Kp = tt_act_kpad(K);
    int rc = -1;
    uint8_t *canon = pack_canonical(k, w, M, K), *lay = NULL, *act = NULL;
    int8_t *xp = tt_alloc((size_t)N * Kp, 64, 0);
    int32_t *xsum = tt_alloc(sizeof(int32_t) * (size_t)N, 64, 0);
    if (!canon || !xp || !xsum) {
        fail(k, "cannot pack the weights (a value outside {-1, 0, 1}?) or out of memory");
        goto out;
    }
    memset(xp, 0, (size_t)N * Kp);
    for (int n = 0; n < N; n++) {
        memcpy(xp + (size_t)n * Kp, x + (size_t)n * K, (size_t)K);
        xsum[n] = 0;
        for (int i = 0; i < K; i++) xsum[n] += x[(size_t)n * K + i];
    }
    tt_kargs a = {.w = canon, .M = M, .K = K, .Kp = Kp, .x = xp, .xsum = xsum, .N = N, .y = y, .ldy = M};
    if (!use_ref && k->repack) {
        lay = tt_alloc(k->repack_bytes(M, K), 64, 0);
        if (!lay || k->repack(canon, M, K, lay) != TT_OK) {
            fail(k, "cannot repack the weights into the kernel's layout");
            goto out;
        }
        a.w = lay;
    }
    if (!use_ref && k->act_prep) {
        a.act_stride = TT_ROUND_UP(k->act_bytes(K), 64);
        act = tt_alloc(a.act_stride * (size_t)N, 64, 0);
        if (!act) {
            fail(k, "out of memory for the activation tables");
            goto out;
        }
        for (int n = 0; n < N; n++) k->act_prep(xp + (size_t)n * Kp, K, Kp, act + (size_t)n * a.act_stride, 0, 1);
        a.act = act;
    }
    (use_ref ? k->ref : k->fn)(&a, 0, M, 0, N);
    rc = 0;
out:
    tt_free(canon);
    tt_free(lay);
    tt_free(act);
    tt_free(xp);
    tt_free(xsum);
    return rc;
}
