/* tritune: the tuned configuration, as the C runtime reads it.
 *
 * tuned.tsv is the text export of results/<machine>/tuned.json written by
 * the tuner: one "op fmt M K N threads variant" line per tuned key, '#'
 * comments and blank lines ignored.  Every line must parse and name a
 * variant of this build, or the whole file is refused (TT_E_CONFIG naming
 * file:line): a stale file is never half used. */
#ifndef TT_TUNING_H
#define TT_TUNING_H

#include "seam/variant.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    tt_op op;
    tt_wformat fmt;
    int M, K, N, threads;
    const tt_variant *v;
} tt_tuned_entry;
typedef struct {
    tt_tuned_entry *e;
    int n;
} tt_tuning;
tt_status tt_tuning_load(tt_tuning *t, const char *path);
void tt_tuning_free(tt_tuning *t);
/* Exact (op, fmt, M, K, threads) match with the nearest N, else NULL. */
const tt_variant *tt_tuning_lookup(const tt_tuning *t, tt_op op, tt_wformat fmt, int M, int K, int N,
                                   int threads);

#ifdef __cplusplus
}
#endif
#endif
