#define _GNU_SOURCE
#include "core/common.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

static const char *const status_msg[TT_E_COUNT] = {
    [TT_OK] = "ok",
    [TT_E_ARG] = "invalid argument",
    [TT_E_NOMEM] = "out of memory",
    [TT_E_SHAPE] = "shape not supported by variant",
    [TT_E_UNKNOWN_VARIANT] = "unknown variant",
    [TT_E_CPU] = "CPU feature missing",
    [TT_E_IO] = "I/O error",
    [TT_E_FORMAT] = "bad weight format",
    [TT_E_VERIFY] = "verification failed",
    [TT_E_CONFIG] = "bad configuration",
    [TT_E_UNSUPPORTED] = "unsupported",
};

const char *tt_status_str(tt_status st) {
    if ((int)st < 0 || st >= TT_E_COUNT) return "unknown status";
    return status_msg[st];
}

static _Thread_local char last_error[512];

const char *tt_last_error(void) { return last_error; }

void tt_clear_error(void) { last_error[0] = '\0'; }

tt_status tt_set_error(tt_status st, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(last_error, sizeof last_error, fmt, ap);
    va_end(ap);
    return st;
}

void *tt_alloc(size_t bytes, size_t align, int huge) {
    if (align < 64) align = 64;
    if (huge && bytes >= (2u << 20)) align = 2u << 20;
    size_t sz = TT_ROUND_UP(bytes ? bytes : 1, align);
    void *p = NULL;
    if (posix_memalign(&p, align, sz) != 0 || !p) {
        tt_set_error(TT_E_NOMEM, "cannot allocate %zu bytes", bytes);
        return NULL;
    }
#ifdef MADV_HUGEPAGE
    if (huge && sz >= (2u << 20)) madvise(p, sz, MADV_HUGEPAGE);
#endif
    return p;
}

void tt_free(void *p) { free(p); }
