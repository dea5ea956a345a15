/* tritune CLI: subcommands and shared helpers.
 * Each subcommand is `int cmd_<name>(int argc, char **argv)` (argv[0] is
 * the subcommand name) returning the process exit code:
 *   0 ok, 1 a check failed (verification, measurement error rows),
 *   2 bad usage / bad input, 3 environment problem (CPU, memory, I/O). */
#ifndef TT_CLI_H
#define TT_CLI_H

#include <stdio.h>

#include "core/common.h"
#include "model/config.h"

int cmd_info(int argc, char **argv);
int cmd_list(int argc, char **argv);
int cmd_verify(int argc, char **argv);
int cmd_bench_kernel(int argc, char **argv);
int cmd_bench_bandwidth(int argc, char **argv);
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

/* ---- argument parsing ---------------------------------------------------------
 * Long options only: "--name value" or "--name=value"; flags without value.
 * tt_args_parse returns 0 or prints the unknown option and returns -1. */
typedef struct {
    const char *name;   /* without leading "--"                  */
    int takes_value;    /* 1: needs a value, 0: a flag           */
    const char *value;  /* out: value (or "1" for a flag), NULL if absent */
    const char *help;
} tt_opt;
int tt_args_parse(const char *cmd, int argc, char **argv, tt_opt *opts, int nopts);
const char *tt_opt_get(tt_opt *opts, int nopts, const char *name);
void tt_opts_help(FILE *f, const char *usage, const tt_opt *opts, int nopts);
/* Comma-separated positive integers ("1,2,4"); returns count or -1. */
int tt_parse_int_list(const char *s, int *out, int max);
/* "6912x2560[,MxK...]" -> count or -1. */
int tt_parse_shapes(const char *s, int *M, int *K, int max);
/* Strict positive int / double parse; -1 on error. */
int tt_parse_int(const char *s, long lo, long hi, long *out);
int tt_parse_double(const char *s, double lo, double hi, double *out);

/* A model named on the command line: a config file (an existing path, or
 * one with a '/' or ".json" in it) or a name in models/dummy/ under the
 * working directory.  Names may hold dots (bitnet-b1.58-2b-4t, dummy-3.8b).
 * An unknown name is TT_E_IO with the models that exist named. */
tt_status tt_cli_load_model(const char *arg, tt_config *c);

/* ---- JSON lines ------------------------------------------------------------------ */
typedef struct {
    char *buf;
    size_t len, cap;
    int n;  /* fields written */
} tt_json;
void tj_begin(tt_json *j);
void tj_str(tt_json *j, const char *key, const char *val);
void tj_int(tt_json *j, const char *key, long long val);
void tj_num(tt_json *j, const char *key, double val); /* NaN/Inf -> null */
void tj_bool(tt_json *j, const char *key, int val);
void tj_null(tt_json *j, const char *key);
void tj_raw(tt_json *j, const char *key, const char *raw_json);
/* Close the object, write it plus '\n' to f, reset. */
void tj_end(tt_json *j, FILE *f);
void tj_free(tt_json *j);

#define TT_SCHEMA_VERSION 1

/* Context record / header: date, CPU, features, caches, threads, pinning,
 * build type, and warnings (debug build, sanitizers; and, for commands that
 * measure, other processes using the CPU: a 200 ms sample).
 * JSON: one {"kind":"context",...} line; text: a few "# ..." lines. */
void tt_print_context(FILE *f, int json, const char *command, const char *threads_desc, const char *cache_desc,
                      const char *pinning, int measuring);
/* "1,2,4" -> thread counts in [1, 1024]; returns the count or -1. */
int tt_parse_threads(const char *s, int *out, int max);
/* Build type string ("Release", "Debug", "Release+ASan+UBSan"). */
const char *tt_build_type(void);

#endif
