/* tritune fuzz harnesses (libFuzzer): shared helpers.
 *
 * The readers under test take paths, so an input is written to a memfd and
 * handed over as /proc/self/fd/N: a regular file that lives in memory. */
#ifndef TT_FUZZ_UTIL_H
#define TT_FUZZ_UTIL_H

#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* Replace the file's contents with data[0, n); returns its path. */
static inline const char *fuzz_file(const uint8_t *data, size_t n) {
    static int fd = -1;
    static char path[64];
    if (fd < 0) {
        fd = memfd_create("tritune-fuzz", 0);
        if (fd < 0) {
            perror("memfd_create");
            abort();
        }
        snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    }
    if (ftruncate(fd, 0) != 0 || (n && pwrite(fd, data, n, 0) != (ssize_t)n)) {
        perror("fuzz_file");
        abort();
    }
    return path;
}

/* A failed property: report and crash, so libFuzzer saves the input. */
#define FUZZ_ASSERT(cond, ...)                                           \
    do {                                                                 \
        if (!(cond)) {                                                   \
            fprintf(stderr, "fuzz property failed: %s: ", #cond);        \
            fprintf(stderr, __VA_ARGS__);                                \
            fprintf(stderr, "\n");                                       \
            abort();                                                     \
        }                                                                \
    } while (0)

#endif
