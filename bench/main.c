/* tritune: the command-line harness.  See README.md and `tritune --help`. */
#include <stdio.h>
#include <string.h>

#include "cli.h"

static void usage(FILE *f) {
    fprintf(f,
            "usage: tritune <command> [options]   (every command takes --help, --json and --output md|csv|json)\n\n"
            "commands:\n"
            "  info              CPU, ISA features, cores, caches, counters/energy availability\n"
            "  list              kernel variants and whether each can run on this CPU;\n"
            "                    with --model NAME --shapes, a model's BitLinear shapes\n"
            "  verify            check variants bit-exactly against their scalar references\n"
            "  bench kernel      time variants x shapes x batch x threads (warm or streaming)\n"
            "  bench bandwidth   read-only memory bandwidth probe (the roofline of GEMV)\n"
            "  bench compute     peak int8 multiply-add rate per ISA (the roofline of GEMM)\n"
            "  bench decode      full-model prefill and generation on a dummy model\n\n"
            "exit codes: 0 ok, 1 a check failed, 2 bad usage or input, 3 environment (CPU, memory, I/O)\n");
}

int main(int argc, char **argv) {
    tt_blas_select(argv); /* may re-execute with OPENBLAS_CORETYPE set */
    if (argc < 2) {
        usage(stderr);
        return TT_EXIT_USAGE;
    }
    const char *c = argv[1];
    if (!strcmp(c, "--help") || !strcmp(c, "-h") || !strcmp(c, "help")) {
        usage(stdout);
        return TT_EXIT_OK;
    }
    if (!strcmp(c, "info")) return cmd_info(argc - 1, argv + 1);
    if (!strcmp(c, "list")) return cmd_list(argc - 1, argv + 1);
    if (!strcmp(c, "verify")) return cmd_verify(argc - 1, argv + 1);
    if (!strcmp(c, "bench")) {
        if (argc < 3) {
            fprintf(stderr, "tritune bench: error: expected 'kernel', 'bandwidth', 'compute' or 'decode'\n");
            return TT_EXIT_USAGE;
        }
        const char *s = argv[2];
        if (!strcmp(s, "kernel")) return cmd_bench_kernel(argc - 2, argv + 2);
        if (!strcmp(s, "bandwidth")) return cmd_bench_bandwidth(argc - 2, argv + 2);
        if (!strcmp(s, "compute")) return cmd_bench_compute(argc - 2, argv + 2);
        if (!strcmp(s, "decode")) return cmd_bench_decode(argc - 2, argv + 2);
        fprintf(stderr, "tritune bench: error: unknown benchmark '%s' (kernel, bandwidth, compute, decode)\n", s);
        return TT_EXIT_USAGE;
    }
    fprintf(stderr, "tritune: error: unknown command '%s'\n", c);
    usage(stderr);
    return TT_EXIT_USAGE;
}
