/* tritune: the tuned configuration, as the C runtime reads it.
 *
 * tuned.tsv is the text export of results/<machine>/tuned.json written by
 * the tuner: one "op fmt M K N threads variant" line per tuned key, '#'
 * comments and blank lines ignored.  A comment "# ... generator <hash> ..."
 * (the tuner writes "# machine ID generator HASH cache C") is required and
 * must name this build's tt_generator_hash.  Every line must have exactly
 * the seven fields: op gemv|gemm, a ternary format, M and K in 1..2^24, N in
 * 1..65536 (1 for gemv), threads in 1..1024, all plain decimal (no sign, no
 * overflow), and a variant of this build whose op and format are the line's.
 * Otherwise the whole file is refused (TT_E_CONFIG naming file:line): a
 * stale file is never half used.  NUL bytes are refused; the file must be a
 * regular file of at most 16 MiB (core/file.h: a FIFO, a directory or
 * /dev/zero is TT_E_ARG at once, a missing file TT_E_IO). */
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
