/* Fuzz target: the CLI's number and list parsers (bench/util.c).
 * The first byte picks the parser, the rest is the argument.  Properties:
 * no crash; what is accepted is in range, has no empty item, and prints
 * back to a string that parses to the same values. */
#define _GNU_SOURCE
#include <math.h>
#include <string.h>

#include "cli.h"
#include "fuzz_util.h"

enum { MAXL = 64 };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1 || size > 2048) return 0;
    char *s = malloc(size);
    memcpy(s, data + 1, size - 1);
    s[size - 1] = '\0';
    int a[MAXL], b[MAXL], a2[MAXL], b2[MAXL];
    char back[4096];
    size_t k = 0;
    long lv;
    double dv;
    switch (data[0] % 5) {
    case 0:
        if (tt_parse_int(s, -1000, 1L << 40, &lv) == 0) FUZZ_ASSERT(lv >= -1000 && lv <= (1L << 40), "%ld", lv);
        break;
    case 1:
        if (tt_parse_double(s, 0.001, 600, &dv) == 0) FUZZ_ASSERT(dv >= 0.001 && dv <= 600 && isfinite(dv), "%g", dv);
        break;
    case 2:
    case 3: {
        const int threads = data[0] % 5 == 3;
        const int n = threads ? tt_parse_threads(s, a, MAXL) : tt_parse_int_list(s, a, MAXL);
        if (n < 0) break;
        FUZZ_ASSERT(n >= 1 && n <= MAXL, "count %d", n);
        FUZZ_ASSERT(strstr(s, ",,") == NULL && s[0] != ',' && s[strlen(s) - 1] != ',', "empty item accepted: '%s'", s);
        for (int i = 0; i < n; i++) {
            FUZZ_ASSERT(a[i] >= 1 && a[i] <= (threads ? 1024 : 1 << 20), "value %d", a[i]);
            k += (size_t)snprintf(back + k, sizeof back - k, "%s%d", i ? "," : "", a[i]);
        }
        FUZZ_ASSERT((threads ? tt_parse_threads(back, a2, MAXL) : tt_parse_int_list(back, a2, MAXL)) == n &&
                        !memcmp(a, a2, sizeof(int) * (size_t)n),
                    "'%s' does not round-trip", back);
        break;
    }
    default: {
        const int n = tt_parse_shapes(s, a, b, MAXL);
        if (n < 0) break;
        FUZZ_ASSERT(n >= 1 && n <= MAXL, "count %d", n);
        FUZZ_ASSERT(strstr(s, ",,") == NULL && s[0] != ',' && s[strlen(s) - 1] != ',', "empty item accepted: '%s'", s);
        for (int i = 0; i < n; i++) {
            FUZZ_ASSERT(a[i] >= 1 && a[i] <= (1 << 24) && b[i] >= 1 && b[i] <= (1 << 24), "%dx%d", a[i], b[i]);
            k += (size_t)snprintf(back + k, sizeof back - k, "%s%dx%d", i ? "," : "", a[i], b[i]);
        }
        FUZZ_ASSERT(tt_parse_shapes(back, a2, b2, MAXL) == n && !memcmp(a, a2, sizeof(int) * (size_t)n) &&
                        !memcmp(b, b2, sizeof(int) * (size_t)n),
                    "'%s' does not round-trip", back);
    }
    }
    free(s);
    return 0;
}
