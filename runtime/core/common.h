/* tritune: common definitions, status codes and the error-message table.
 *
 * Every fallible function returns a tt_status and records a human-readable
 * detail with tt_set_error(); callers print tt_status_str(st) and
 * tt_last_error().  One message table (tt_common.c) names every code. */
#ifndef TT_COMMON_H
#define TT_COMMON_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    TT_OK = 0,
    TT_E_ARG,             /* malformed or missing argument                  */
    TT_E_NOMEM,           /* allocation failed or would not fit in memory   */
    TT_E_SHAPE,           /* shape violates a variant's declared restriction */
    TT_E_UNKNOWN_VARIANT, /* no variant of that name / glob matched nothing */
    TT_E_CPU,             /* the CPU lacks a feature the variant requires   */
    TT_E_IO,              /* file could not be read / written               */
    TT_E_FORMAT,          /* weight buffer or file does not match its format */
    TT_E_VERIFY,          /* a kernel disagreed with its scalar reference   */
    TT_E_CONFIG,          /* malformed configuration (model, tuning file)   */
    TT_E_UNSUPPORTED,     /* valid request that this build cannot do        */
    TT_E_COUNT
} tt_status;

const char *tt_status_str(tt_status st);

/* Detail of the last error on this thread (never NULL; "" when none). */
const char *tt_last_error(void);
tt_status tt_set_error(tt_status st, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void tt_clear_error(void);

/* Aligned allocation (64-byte by default); free with tt_free. Returns NULL
 * and records TT_E_NOMEM on failure.  `huge` asks the kernel for
 * transparent huge pages (madvise), which lowers TLB misses when weights
 * stream from DRAM (docs/peers.md: TQ2_0 4.9 -> 6.3 GB/s). */
void *tt_alloc(size_t bytes, size_t align, int huge);
void tt_free(void *p);

#define TT_MIN(a, b) ((a) < (b) ? (a) : (b))
#define TT_MAX(a, b) ((a) > (b) ? (a) : (b))
#define TT_CEIL_DIV(a, b) (((a) + (b) - 1) / (b))
#define TT_ROUND_UP(a, b) (TT_CEIL_DIV(a, b) * (b))

#ifdef __cplusplus
}
#endif
#endif
