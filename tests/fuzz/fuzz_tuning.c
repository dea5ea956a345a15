/* Fuzz target: the tuned.tsv reader (seam/tuning.c).
 * The text GENHASH in an input stands for this build's generator hash, so
 * committed seeds reach the entry lines whatever the hash is today.
 * Properties: no crash; every accepted entry is in range and names a
 * variant of its op and format. */
#define _GNU_SOURCE
#include <string.h>

#include "fuzz_util.h"
#include "seam/tuning.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static const char tag[] = "GENHASH";
    const size_t hl = strlen(tt_generator_hash), tl = sizeof tag - 1;
    uint8_t *buf = malloc(size * (hl > tl ? hl : tl) + 1), *o = buf;
    for (size_t i = 0; i < size;) {
        if (size - i >= tl && memcmp(data + i, tag, tl) == 0) {
            memcpy(o, tt_generator_hash, hl), o += hl, i += tl;
        } else {
            *o++ = data[i++];
        }
    }
    tt_tuning t;
    if (tt_tuning_load(&t, fuzz_file(buf, (size_t)(o - buf))) == TT_OK) {
        for (int i = 0; i < t.n; i++) {
            const tt_tuned_entry *e = &t.e[i];
            FUZZ_ASSERT(e->M >= 1 && e->M <= (1 << 24) && e->K >= 1 && e->K <= (1 << 24), "shape %dx%d", e->M, e->K);
            FUZZ_ASSERT(e->N >= 1 && e->N <= 65536 && e->threads >= 1 && e->threads <= 1024, "N %d T %d", e->N, e->threads);
            FUZZ_ASSERT(e->v && e->v->op == e->op && e->v->wfmt == e->fmt, "variant of another op or format");
        }
        tt_tuning_free(&t);
    }
    free(buf);
    return 0;
}
