/* Minimal test helpers: quiet unless something fails; exit code = failures. */
#ifndef TT_TEST_UTIL_H
#define TT_TEST_UTIL_H
#include <stdio.h>

static int tt_test_failures;
#define CHECK(cond, ...)                                                        \
    do {                                                                        \
        if (!(cond)) {                                                          \
            tt_test_failures++;                                                 \
            fprintf(stderr, "%s:%d: CHECK(%s) failed: ", __FILE__, __LINE__, #cond); \
            fprintf(stderr, __VA_ARGS__);                                       \
            fputc('\n', stderr);                                                \
        }                                                                       \
    } while (0)
#define TEST_DONE(name)                                                         \
    do {                                                                        \
        if (tt_test_failures) fprintf(stderr, "%s: %d failure(s)\n", name, tt_test_failures); \
        return tt_test_failures ? 1 : 0;                                        \
    } while (0)
#endif
