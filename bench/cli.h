/* tritune CLI: subcommands and what they share.
 * Each subcommand is `int cmd_<name>(int argc, char **argv)` (argv[0] is
 * the subcommand name) returning the process exit code:
 *   0 ok, 1 a check failed (verification, measurement error rows),
 *   2 bad usage / bad input, 3 environment problem (CPU, memory, I/O).
 * A command starts with tt_cmd_start (options, --help, the reporter), builds
 * its context record once (tt_context_build) and reports records through
 * c->rep (report.h); it prints nothing on stdout itself. */
#ifndef TT_CLI_H
#define TT_CLI_H

#include <stdio.h>

#include "core/common.h"
#include "core/cpu.h"
#include "model/config.h"
#include "report.h"

int cmd_info(int argc, char **argv);
int cmd_list(int argc, char **argv);
int cmd_verify(int argc, char **argv);
int cmd_bench_kernel(int argc, char **argv);
int cmd_bench_bandwidth(int argc, char **argv);
int cmd_bench_compute(int argc, char **argv);
int cmd_bench_decode(int argc, char **argv); /* bench/cmd_decode.c */

#define TT_EXIT_OK 0
#define TT_EXIT_FAIL 1
#define TT_EXIT_USAGE 2
#define TT_EXIT_ENV 3

/* Map a status to an exit code (TT_E_ARG/SHAPE/CONFIG/FORMAT/UNKNOWN -> 2 ...). */
int tt_exit_code(tt_status st);
/* Print "tritune: error: <status>: <detail>" to stderr and return the exit code. */
int tt_die(tt_status st);
int tt_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ---- options ------------------------------------------------------------------
 * Long options only: "--name value" or "--name=value"; flags without value. */
typedef struct {
    const char *name;   /* without leading "--"                  */
    int takes_value;    /* 1: needs a value, 0: a flag           */
    const char *value;  /* out: value (or "1" for a flag), NULL if absent */
    const char *help;
} tt_opt;
/* Comma-separated positive integers ("1,2,4"); returns count or -1 (also
 * for an empty item: "1,,2", "4,"). */
int tt_parse_int_list(const char *s, int *out, int max);
/* "1,2,4" -> thread counts in [1, 1024]; returns the count or -1. */
int tt_parse_threads(const char *s, int *out, int max);
/* "6912x2560[,MxK...]" -> count or -1. */
int tt_parse_shapes(const char *s, int *M, int *K, int max);
/* Memory a command is about to ask for, checked before it allocates:
 * TT_E_NOMEM (exit 3) naming `what` when bytes > MemAvailable. */
tt_status tt_cli_check_memory(double bytes, const char *what);
/* Strict int / double parse within [lo, hi]; -1 on error. */
int tt_parse_int(const char *s, long lo, long hi, long *out);
int tt_parse_double(const char *s, double lo, double hi, double *out);

/* A model named on the command line: a config file (an existing path, or
 * one with a '/' or ".json" in it) or a name in models/dummy/ under the
 * working directory.  Names may hold dots (bitnet-b1.58-2b-4t, dummy-3.8b).
 * An unknown name is TT_E_ARG (exit 2, like any missing file: core/file.h)
 * with the models that exist named. */
tt_status tt_cli_load_model(const char *arg, tt_config *c);

/* ---- a command's start: options, help, reporter ---------------------------------- */
typedef struct {
    const char *name;     /* "bench kernel"                                            */
    const char *synopsis; /* usage after "tritune <name> "; " [--json]" is appended    */
    tt_opt *opts;         /* the command's own options; --json and --help are common   */
    int nopts;
    tt_reporter rep;      /* out: table on stdout, or JSON lines with --json           */
} tt_cmd;

/* tt_cmd c = TT_CMD("list", "[--variant GLOB]", opts);  (opts: an array) */
#define TT_CMD(nm, syn, o) {.name = (nm), .synopsis = (syn), .opts = (o), .nopts = (int)(sizeof(o) / sizeof *(o))}

#define TT_CMD_GO (-1)
/* Parse argv against the command's options and the common ones.  Returns
 * TT_CMD_GO with c->rep ready, or the exit code to return at once: 0 after
 * printing --help, TT_EXIT_USAGE after a usage error (printed). */
int tt_cmd_start(tt_cmd *c, int argc, char **argv);
/* The value of option `name` (NULL when absent; "1" for a given flag). */
const char *tt_cmd_opt(const tt_cmd *c, const char *name);
/* --threads (default 1) into out (at most max): each count at most the CPUs
 * this process may use (sched_getaffinity) unless the command's
 * --oversubscribe flag is given.  Returns the count, or -1 after printing
 * the usage error (the command returns TT_EXIT_USAGE). */
int tt_cmd_threads(const tt_cmd *c, int *out, int max);
#define TT_OPT_OVERSUBSCRIBE \
    {"oversubscribe", 0, NULL, "allow more threads than the CPUs this process may use (timings then measure the scheduler)"}
/* The next item of a comma-separated list at *p into item (NUL-ended);
 * its length, or -1 when it is empty or longer than n - 1.  Advances *p
 * past the item and its comma; the list ends when **p is NUL. */
int tt_list_next(const char **p, char *item, size_t n);
/* Finish the output; returns rc. */
int tt_cmd_end(tt_cmd *c, int rc);

/* ---- the context record -------------------------------------------------------------
 * Built once per command, reported first.  Fields (JSON, in this order):
 * kind "context", schema_version, command, date, machine_id, cpu, arch,
 * features, logical_cpus, cores, l1d_bytes, l2_bytes, l3_bytes,
 * mem_total_bytes, topology_source, threads, cache, pinning, build_type,
 * compiler, generator_hash, variants, load_avg_1m, openblas_core,
 * openblas_threads, openblas_note (tt_blas_select), warning (a debug or
 * sanitizer build; for commands that measure, other processes using the
 * CPU over a 200 ms sample; else null).  People see it as "# ..." lines. */
#define TT_SCHEMA_VERSION 1
typedef struct {
    const char *command;
    const char *threads, *cache, *pinning; /* settings as given; NULL = "-"       */
    int measuring;                         /* sample the CPU use of others        */
    int header;                            /* show the "# ..." lines to people    */
} tt_context_args;
typedef struct {
    tt_machine m;        /* what the record was built from (info reports more of it) */
    uint32_t feats;
    tt_record rec;
} tt_context;
void tt_context_build(tt_context *c, const tt_context_args *a);
void tt_context_free(tt_context *c);
/* The fp32 baseline's OpenBLAS core: when OpenBLAS chose a core below the
 * CPU's ISA (a generic one on an AVX2 / AVX-512 CPU), or
 * $TRITUNE_OPENBLAS_CORETYPE names one, set OPENBLAS_CORETYPE and
 * re-execute (argv: main's).  A user's own OPENBLAS_CORETYPE stands.
 * Call first thing in main().  tt_blas_note: what was done, or why it could
 * not be (then *failed = 1 and the context carries it as a warning). */
void tt_blas_select(char **argv);
const char *tt_blas_note(int *failed);
/* Build type string ("Release", "Debug", "Debug+ASan+UBSan"). */
const char *tt_build_type(void);

#endif
