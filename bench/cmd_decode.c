/* tritune bench decode: full-model prefill (pp) and generation (tg) on a
 * dummy BitNet model, like llama-bench.
 *
 * Method:
 *  - the config is validated and the memory the model needs in the chosen
 *    format is checked against MemAvailable before anything is allocated;
 *  - the read-bandwidth roofline is probed first (1 GiB, same thread count,
 *    while memory is still free), then the weights are generated from the
 *    seed straight into their final layout (or mapped from --weights);
 *  - one warm-up repetition is discarded; each repetition then resets the
 *    KV cache, times the prefill of P prompt tokens (batched, through the
 *    GEMM kernels, chunks of --batch) and the generation of G tokens at
 *    batch 1 (greedy), so tg runs at context P .. P+G-1;
 *  - tokens/s is reported as the median over repetitions with p25/p75 and
 *    the coefficient of variation; `stable` is tt_stats_stable
 *    (core/timing.h): the interquartile range is at most 5% of the median;
 *  - bytes_per_token (tg) = every matrix (ternary layers in their layout,
 *    LM head) + one embedding row + norms + the KV cache read at the mean
 *    context; for pp the weights are read once per prefill chunk, so it is
 *    that divided by the chunk's tokens; gbps = bytes_per_token * tokens/s;
 *    bw_fraction = gbps / bw_gbps. */
#define _GNU_SOURCE
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "core/timing.h"
#include "meter.h"
#include "core/rng.h"
#include "model/model.h"
#include "seam/bandwidth.h"

#define CMD "bench decode"
#define MAX_THREADS_LIST 16

/* Progress on stderr: redrawn in place on a terminal, else one line per 10%. */
typedef struct {
    int on, tty;
    double t0, last;
} progress_state;

static void progress_cb(void *ud, const char *what, double frac) {
    progress_state *p = ud;
    if (!p->on || (!p->tty && frac < 1.0 && frac - p->last < 0.1)) return;
    fprintf(stderr, p->tty ? "\r\033[Ktritune: %s %3.0f%%" : "tritune: %s %3.0f%%", what, 100 * frac);
    if (frac >= 1.0) fprintf(stderr, " (%.1f s)", tt_now_ns() / 1e9 - p->t0);
    if (!p->tty) fputc('\n', stderr);
    p->last = frac;
    fflush(stderr);
}

__attribute__((format(printf, 2, 3))) static void progress_msg(progress_state *p, const char *fmt, ...) {
    if (!p->on) return;
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, p->tty ? "\r\033[Ktritune: " : "tritune: ");
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    if (!p->tty) fputc('\n', stderr);
    fflush(stderr);
}

static void progress_end(progress_state *p) {
    if (p->on && p->tty) fprintf(stderr, "\r\033[K");
}

typedef struct {
    const char *model, *format;
    int threads;
    const char *phase;
    int tokens;
    tt_stats st;
    double bytes_per_token, bw_gbps;
    const tt_model *m;
    int prompt, gen, batch, reps;
    uint64_t seed;
    double load_s;
    const int *gen_ids;
    int n_ids;
    const char *weights; /* where the weights came from */
    const char *tuning;  /* tuned.tsv used, or NULL */
    const struct head_check *head; /* a quantized LM head's accuracy (tg rows), or NULL */
    const struct untuned_set *untuned; /* shapes without a tuned entry, or NULL      */
    int reused;                    /* weights kept from an earlier thread count      */
    double huge;                   /* bytes in huge pages after the load, < 0 unknown */
    const tt_meter *meter;
    const tt_meter_phase *ph; /* energy and counters over the phase's timed repetitions */
} row;

/* ---- untuned shapes (results/<machine-id>/tuned.tsv, seam/tuning.c) --------------------------------------- */
#define MAX_SHAPES 16
typedef struct untuned_set {
    int n, total;                  /* untuned distinct BitLinear shapes, of total   */
    char shape[MAX_SHAPES][24];    /* "MxK"                                         */
    const char *list[MAX_SHAPES];
    char command[384];             /* the command that tunes them                   */
} untuned_set;

/* The distinct BitLinear shapes of m with no tuned GEMV entry for T threads
 * (all of them without a tuning file).  Nothing for the baselines or when
 * --variant forces the GEMV. */
static void find_untuned(untuned_set *u, const tt_model *m, const char *model_arg, int T) {
    memset(u, 0, sizeof *u);
    if (!tt_wformat_is_ternary(m->opts.format) || m->opts.gemv_name) return;
    tt_tdesc *td = NULL;
    int nt = 0;
    if (tt_model_tensor_list(&m->cfg, &td, &nt) != TT_OK) return;
    for (int i = 0; i < nt; i++) {
        if (td[i].kind != TT_TK_TERNARY) continue;
        char sh[24];
        snprintf(sh, sizeof sh, "%dx%d", td[i].M, td[i].K);
        int seen = 0;
        for (int j = 0; j < i && !seen; j++)
            seen = td[j].kind == TT_TK_TERNARY && td[j].M == td[i].M && td[j].K == td[i].K;
        if (seen) continue;
        u->total++;
        if (tt_tuning_lookup(m->opts.tuning, TT_OP_GEMV, m->opts.format, td[i].M, td[i].K, 1, T) || u->n >= MAX_SHAPES)
            continue;
        snprintf(u->shape[u->n], sizeof u->shape[u->n], "%s", sh);
        u->list[u->n] = u->shape[u->n];
        u->n++;
    }
    free(td);
    if (u->n)
        snprintf(u->command, sizeof u->command, "./tune.sh --model %s --format %s --threads %d", model_arg,
                 tt_wformat_name(m->opts.format), T);
}

/* The rows' fields (every row has them: one CSV header): null when the
 * format has no tuned kernels (baselines) or a variant is forced. */
static void untuned_fields(tt_record *rec, const untuned_set *u) {
    if (u && u->total) tt_rec_strs(rec, "untuned_shapes", u->list, u->n);
    else tt_rec_null(rec, "untuned_shapes");
    tt_rec_str(rec, "tune_command", u && u->n ? u->command : NULL);
}

static void untuned_note(tt_reporter *rep, const untuned_set *u, const tt_model *m, int T) {
    if (!u->n) return;
    char shapes[256] = "";
    for (int i = 0; i < u->n; i++)
        snprintf(shapes + strlen(shapes), sizeof shapes - strlen(shapes), "%s%s", i ? ", " : "", u->shape[i]);
    tt_report_note(rep,
                   "untuned: %d of %d BitLinear shapes of %s have no tuned %s GEMV for %d thread(s) (%s): the generator's "
                   "prior picks their kernels; tune them with: %s",
                   u->n, u->total, m->cfg.name, tt_wformat_name(m->opts.format), T, shapes, u->command);
}

/* ---- a quantized LM head against fp16 (--lm-head i8|q4; model/head.h) ------------------------------------ */
typedef struct head_check {
    int tokens;   /* --accuracy-tokens (0: skip)                  */
    int state;    /* 0 not measured yet, 1 measured, -1 failed    */
    int noted;    /* the note for people was printed              */
    tt_head_accuracy acc;
    char err[256];
} head_check;

/* Once per run (the figures do not depend on the thread count). */
static void head_check_run(head_check *h, const tt_model *m, tt_weightfile *wf, uint64_t seed, tt_pool *pool,
                           progress_state *prog) {
    if (h->state || h->tokens <= 0 || (m->w.lm_head.kind != TT_FM_I8 && m->w.lm_head.kind != TT_FM_Q4)) return;
    progress_msg(prog, "LM head accuracy: %s vs fp16 over %d greedy tokens", tt_fmat_kind_name(m->w.lm_head.kind),
                 h->tokens);
    const tt_status st = tt_head_accuracy_run(m, wf, h->tokens, seed, pool, &h->acc);
    progress_end(prog);
    h->state = st == TT_OK ? 1 : -1;
    if (st != TT_OK) snprintf(h->err, sizeof h->err, "%s", tt_last_error());
}

/* For people: the figures under the table (once per run). */
static void head_check_note(tt_reporter *rep, head_check *h, const tt_model *m) {
    if (h->tokens <= 0 || h->state == 0 || h->noted) return;
    h->noted = 1;
    if (h->state < 0) {
        tt_report_note(rep, "LM head %s vs fp16: not measured: %s", tt_fmat_kind_name(m->w.lm_head.kind), h->err);
        return;
    }
    tt_report_note(rep,
                   "LM head %s vs fp16 over %d greedy tokens: top-1 agreement %.1f%%, mean KL %.3g nats, largest "
                   "|logit difference| %.3g of the logit range",
                   tt_fmat_kind_name(m->w.lm_head.kind), h->acc.tokens, 100 * h->acc.top1, h->acc.mean_kl,
                   h->acc.max_rel_diff);
}

/* The accuracy fields (every row has them: one CSV header), set in the tg
 * row of a quantized head (h non-NULL and measured), else null; with
 * head_error when the comparison failed. */
static void head_check_fields(tt_record *rec, const head_check *h) {
    const int ok = h && h->tokens > 0 && h->state == 1;
    tt_rec_str(rec, "head_reference", h && h->tokens > 0 && h->state ? "fp16" : NULL);
    if (ok) tt_rec_int(rec, "head_tokens", h->acc.tokens);
    else tt_rec_null(rec, "head_tokens");
    tt_rec_num(rec, "head_max_rel_diff", ok ? h->acc.max_rel_diff : NAN);
    tt_rec_num(rec, "head_top1", ok ? h->acc.top1 : NAN);
    tt_rec_num(rec, "head_kl", ok ? h->acc.mean_kl : NAN);
    tt_rec_str(rec, "head_error", h && h->state < 0 ? h->err : NULL);
}

/* (p75 - p25) / median of tokens/s, the spread tt_stats_stable judges */
static void show_iqr(const tt_record *r, char *b, size_t n) { tt_show_rel_iqr(r, "tokens_per_s", b, n); }
/* what went wrong, or that the row is unstable */
static void show_remark(const tt_record *r, char *b, size_t n) {
    const char *st = tt_rec_s(r, "status"), *err = tt_rec_s(r, "error");
    if (st && strcmp(st, "ok") != 0) snprintf(b, n, "%s%s%s", st, err ? ": " : "", err ? err : "");
    else if (!tt_rec_d(r, "stable", 1)) snprintf(b, n, "unstable");
}
static const tt_column decode_cols[] = {
    TT_COL("model", NULL, -20),
    TT_COL("format", NULL, -6),
    TT_COL("threads", NULL, 7),
    TT_COL("test", NULL, 7), /* llama-bench's names: pp512, tg128 */
    TT_COL_NUM("tokens_per_s", "tokens/s", 10, "%.2f", 1),
    TT_COL_NUM("tokens_per_s_p25", "p25", 9, "%.2f", 1),
    TT_COL_NUM("tokens_per_s_p75", "p75", 9, "%.2f", 1),
    TT_COL_SHOW("IQR", 6, show_iqr),
    TT_COL_NUM("cv", NULL, 6, "%.1f%%", 100),
    TT_COL_NUM("bytes_per_token", "MiB/token", 11, "%.2f", 1.0 / (1 << 20)),
    TT_COL_NUM("gbps", "GB/s", 7, "%.2f", 1),
    TT_COL_NUM("bw_gbps", "bw GB/s", 7, "%.2f", 1),
    TT_COL_NUM("bw_fraction", "%bw", 7, "%.1f%%", 100),
    TT_COL_NUM("joules_per_token", "J/token", 8, "%.3g", 1),
    TT_COL_SHOW("", 0, show_remark),
};
static const tt_table decode_table = TT_TABLE(TT_TABLE_COLUMNS, NULL, decode_cols);

static void report(tt_reporter *rep, tt_record *rec, const row *r) {
    const double gbps = r->bytes_per_token * r->st.median / 1e9;
    const double frac = r->bw_gbps > 0 ? gbps / r->bw_gbps : NAN;
    tt_rec_begin(rec, "decode", &decode_table);
    tt_rec_str(rec, "status", "ok");
    tt_rec_str(rec, "model", r->model);
    tt_rec_str(rec, "format", r->format);
    tt_rec_int(rec, "threads", r->threads);
    tt_rec_str(rec, "phase", r->phase);
    char test[48]; /* llama-bench's name of the test: pp512, tg128 */
    snprintf(test, sizeof test, "%s%d", r->phase, r->tokens);
    tt_rec_str(rec, "test", test);
    tt_rec_int(rec, "tokens", r->tokens);
    tt_rec_int(rec, "prompt", r->prompt);
    tt_rec_int(rec, "gen", r->gen);
    tt_rec_int(rec, "batch", r->batch);
    tt_rec_int(rec, "reps", r->st.n);
    tt_rec_num(rec, "tokens_per_s", r->st.median);
    tt_rec_num(rec, "tokens_per_s_p25", r->st.p25);
    tt_rec_num(rec, "tokens_per_s_p75", r->st.p75);
    tt_rec_num(rec, "tokens_per_s_min", r->st.min);
    tt_rec_num(rec, "tokens_per_s_max", r->st.max);
    tt_rec_num(rec, "cv", r->st.cv);
    tt_rec_bool(rec, "stable", tt_stats_stable(&r->st));
    tt_rec_num(rec, "bytes_per_token", r->bytes_per_token);
    tt_rec_num(rec, "gbps", gbps);
    tt_rec_num(rec, "bw_gbps", r->bw_gbps > 0 ? r->bw_gbps : NAN); /* null when not probed */
    tt_rec_num(rec, "bw_fraction", frac);
    tt_rec_str(rec, "gemv_variant", r->m->gemv_used ? r->m->gemv_used : "");
    tt_rec_str(rec, "gemm_variant", r->m->gemm_used ? r->m->gemm_used : "");
    tt_rec_bool(rec, "mixed_variants", r->m->mixed_variants);
    tt_rec_str(rec, "lm_head", tt_fmat_kind_name(r->m->w.lm_head.kind));
    tt_rec_str(rec, "kv_cache", r->m->opts.kv_f32 ? "fp32" : "fp16");
    tt_rec_num(rec, "params", tt_config_params(&r->m->cfg));
    tt_rec_num(rec, "weight_bytes", r->m->bytes_weights);
    tt_rec_int(rec, "seed", (long long)r->seed);
    tt_rec_str(rec, "weights", r->weights);
    tt_rec_str(rec, "tuning", r->tuning); /* null when none */
    tt_rec_num(rec, "load_s", r->load_s);
    tt_rec_bool(rec, "weights_reused", r->reused);
    tt_rec_num(rec, "huge_page_bytes", r->huge >= 0 ? r->huge : NAN);
    if (r->n_ids > 0) tt_rec_ints(rec, "first_ids", r->gen_ids, TT_MIN(r->n_ids, 16));
    else tt_rec_null(rec, "first_ids"); /* every row has the same fields (one CSV header) */
    head_check_fields(rec, r->n_ids > 0 ? r->head : NULL);
    untuned_fields(rec, r->untuned);
    tt_meter_fields(rec, r->meter, r->ph, (double)r->tokens * r->ph->en.n, 1);
    tt_report_row(rep, rec);
}

/* ---- the per-token profile (--profile; model/profile.h) ---------------------------------------------------- */
static const tt_column profile_cols[] = {
    TT_COL("phase", NULL, 5),
    TT_COL("part", NULL, -11),
    TT_COL_NUM("s_per_token", "ms/token", 9, "%.3f", 1e3),
    TT_COL_NUM("share", NULL, 6, "%.1f%%", 100),
    TT_COL_NUM("bytes_per_token", "MiB/token", 10, "%.2f", 1.0 / (1 << 20)),
    TT_COL_NUM("gbps", "GB/s", 7, "%.2f", 1),
    TT_COL_NUM("bw_fraction", "%bw", 6, "%.1f%%", 100),
};
static const tt_table profile_table = TT_TABLE(TT_TABLE_COLUMNS, NULL, profile_cols);

/* One row per part of `phase`: its seconds and bytes per token, its share of
 * the token time the bench measured (tokens / bench_s), GB/s and the
 * fraction of the probed bandwidth; then the row "total" (the sum). */
static void report_profile(tt_reporter *rep, tt_record *rec, const char *model, const char *format, int threads,
                           const char *phase, const tt_prof *p, double bench_s, long long tokens, double bw) {
    if (tokens <= 0 || bench_s <= 0 || p->tokens <= 0) return;
    const double tok_s = bench_s / tokens; /* the token time the bench measured */
    double sum_s = 0, sum_b = 0;
    for (int i = 0; i <= TT_PROF_COUNT; i++) {
        const int total = i == TT_PROF_COUNT;
        const double sec = total ? sum_s : p->ns[i] / 1e9 / p->tokens, b = total ? sum_b : p->bytes[i] / p->tokens;
        if (!total) sum_s += sec, sum_b += b;
        tt_rec_begin(rec, "profile", &profile_table);
        tt_rec_str(rec, "model", model);
        tt_rec_str(rec, "format", format);
        tt_rec_int(rec, "threads", threads);
        tt_rec_str(rec, "phase", phase);
        tt_rec_str(rec, "part", total ? "total" : tt_prof_name(i));
        tt_rec_num(rec, "s_per_token", sec);
        tt_rec_num(rec, "share", sec / tok_s);
        tt_rec_num(rec, "bytes_per_token", b);
        tt_rec_num(rec, "gbps", sec > 0 && b > 0 ? b / sec / 1e9 : NAN);
        tt_rec_num(rec, "bw_fraction", sec > 0 && b > 0 && bw > 0 ? b / sec / 1e9 / bw : NAN);
        tt_rec_num(rec, "token_s", tok_s);
        tt_report_row(rep, rec);
    }
}

typedef struct {
    const tt_config *cfg;
    tt_model_opts *mo;
    tt_weightfile *wf;
    tt_wformat fmt;
    int P, G, R;
    uint64_t seed;
    progress_state *prog;
    tt_reporter *rep;
    tt_record *rec;      /* reused for every row           */
    int *unstable;       /* out: a row was not stable      */
    const char *tuning;  /* tuned.tsv in use, or NULL      */
    int *ptoks;          /* P + G token ids                */
    double *pp_s, *tg_s; /* R samples each                 */
    int profile;         /* --profile: profile rows        */
    head_check *head;    /* the LM head's accuracy         */
    const char *model_arg; /* --model as given (tune command) */
    tt_meter *meter;     /* energy and counters            */
} run_args;

/* ---- the weights, built once per run (--threads 1,2 reuse them) -------------------------------------------- */
typedef struct {
    tt_model m;
    int built;
    double load_s;   /* seconds the weights took to generate or map */
    int reused;      /* this thread count reuses them               */
    double huge;     /* huge_page_bytes() after building them       */
} kept_model;

/* Bytes of this process in transparent huge pages (AnonHugePages of
 * /proc/self/smaps_rollup), or -1 when the kernel does not say.  The weight
 * buffers ask for them (tt_alloc: MADV_HUGEPAGE); this shows what was given. */
static double huge_page_bytes(void) {
    FILE *f = fopen("/proc/self/smaps_rollup", "r");
    if (!f) return -1;
    char line[256];
    double kb = -1;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "AnonHugePages: %lf kB", &kb) == 1) break;
    fclose(f);
    return kb < 0 ? -1 : kb * 1024;
}

/* The model for T threads: the one already built when its layouts suit T
 * (the variants are chosen again: tuning is per thread count), else built
 * now, after the memory check. */
static tt_status model_for(const run_args *a, int T, tt_pool *pool, kept_model *k) {
    if (k->built) {
        if (tt_model_rechoose(&k->m, T) == TT_OK) {
            k->reused = 1;
            return TT_OK;
        }
        tt_model_free(&k->m);
        k->built = 0;
    }
    tt_status st = tt_model_check_memory(a->cfg, a->mo, -1);
    if (st != TT_OK) return st;
    progress_state *prog = a->prog;
    a->mo->progress = progress_cb;
    a->mo->progress_ud = prog;
    prog->t0 = tt_now_ns() / 1e9;
    prog->last = -1;
    const uint64_t t_load = tt_now_ns();
    st = tt_model_init(&k->m, a->cfg, a->mo, a->wf, pool);
    progress_end(prog);
    if (st != TT_OK) return st;
    k->load_s = (tt_now_ns() - t_load) / 1e9;
    k->huge = huge_page_bytes();
    k->built = 1;
    k->reused = 0;
    return TT_OK;
}

/* One thread count: weights (kept from an earlier thread count when they
 * suit), warm-up, R timed repetitions, rows.  bw: the probed roofline. */
static tt_status run_threads(const run_args *a, int T, tt_pool *pool, double bw, kept_model *k) {
    const tt_config *cfg = a->cfg;
    const int P = a->P, G = a->G, R = a->R;
    progress_state *prog = a->prog;
    tt_status st = model_for(a, T, pool, k);
    if (st != TT_OK) return st;
    tt_model m = k->m; /* a copy of the handles: k keeps the weights */
    const double load_s = k->load_s;
    tt_state sst;
    if (m.mixed_variants && (a->mo->gemv_name || a->mo->gemm_name))
        fprintf(stderr, "tritune: note: some layers cannot take the variant(s) asked for (shape restrictions) and use "
                        "the default; rows say mixed_variants\n");
    if ((st = tt_state_init(&sst, &m, T)) != TT_OK) return st;
    /* prompt: seeded token ids (xorshift64) */
    uint64_t x = a->seed * TT_GOLDEN64 + 1;
    for (int i = 0; i < P; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        a->ptoks[i] = (int)(x % (uint64_t)cfg->vocab);
    }
    int *gen = a->ptoks + P;
    tt_prof prof_pp = {0}, prof_tg = {0};
    double pp_total = 0, tg_total = 0; /* seconds of the timed repetitions */
    tt_meter_idle(a->meter, 0.5); /* idle power just before the first timed phase */
    tt_meter_phase pp_ph, tg_ph;
    tt_meter_phase_reset(&pp_ph);
    tt_meter_phase_reset(&tg_ph);
    for (int rep = -1; rep < R && st == TT_OK; rep++) { /* rep -1: warm-up, discarded */
        if (rep >= 0) progress_msg(prog, "repetition %d/%d", rep + 1, R);
        else progress_msg(prog, "warm-up");
        tt_state_reset(&sst);
        int last = 0;
        if (P > 0) {
            sst.prof = a->profile && rep >= 0 ? &prof_pp : NULL;
            if (rep >= 0) tt_meter_begin(a->meter, &pp_ph);
            const uint64_t t0 = tt_now_ns();
            st = tt_model_prefill(&m, &sst, a->ptoks, P, pool);
            const double dt = (tt_now_ns() - t0) / 1e9;
            if (rep >= 0) tt_meter_end(a->meter, &pp_ph);
            if (rep >= 0) a->pp_s[rep] = P / dt, pp_total += dt;
            last = tt_argmax(sst.logits, cfg->vocab);
        }
        if (G > 0 && st == TT_OK) {
            sst.prof = a->profile && rep >= 0 ? &prof_tg : NULL;
            if (rep >= 0) tt_meter_begin(a->meter, &tg_ph);
            const uint64_t t0 = tt_now_ns();
            for (int g = 0; g < G && st == TT_OK; g++) {
                gen[g] = last;
                st = tt_model_forward(&m, &sst, &gen[g], 1, pool);
                last = tt_argmax(sst.logits, cfg->vocab);
            }
            const double dt = (tt_now_ns() - t0) / 1e9;
            if (rep >= 0) tt_meter_end(a->meter, &tg_ph);
            if (rep >= 0) a->tg_s[rep] = G / dt, tg_total += dt;
        }
        sst.prof = NULL;
    }
    progress_end(prog);
    if (st == TT_OK) head_check_run(a->head, &m, a->wf, a->seed, pool, prog);
    untuned_set untuned;
    find_untuned(&untuned, &m, a->model_arg, T);
    if (st == TT_OK) {
        row r = {.model = cfg->name, .format = tt_wformat_name(a->fmt), .threads = T, .bw_gbps = bw, .m = &m,
                 .prompt = P, .gen = G, .batch = a->mo->batch, .reps = R, .seed = a->seed, .load_s = load_s,
                 .weights = a->wf ? "weight file" : "generated: ternary P(-1)=P(0)=P(+1)=1/3, seeded",
                 .tuning = a->mo->tuning ? a->tuning : NULL, .head = a->head, .untuned = &untuned,
                 .reused = k->reused, .huge = k->huge, .meter = a->meter};
        if (P > 0) {
            r.phase = "pp";
            r.tokens = P;
            r.ph = &pp_ph;
            r.st = tt_stats_compute(a->pp_s, R);
            /* the weights are read once per prefill chunk */
            const int chunks = TT_CEIL_DIV(P, a->mo->batch);
            r.bytes_per_token = (m.bytes_weights * chunks + tt_model_bytes_per_token(&m, P / 2) - m.bytes_weights) / P;
            report(a->rep, a->rec, &r);
            *a->unstable |= !tt_stats_stable(&r.st);
        }
        if (G > 0) {
            r.phase = "tg";
            r.tokens = G;
            r.ph = &tg_ph;
            r.st = tt_stats_compute(a->tg_s, R);
            r.bytes_per_token = tt_model_bytes_per_token(&m, P + (G + 1) / 2);
            r.gen_ids = gen;
            r.n_ids = G;
            report(a->rep, a->rec, &r);
            const double frac = bw > 0 ? r.bytes_per_token * r.st.median / 1e9 / bw : 1;
            if (a->fmt == TT_FMT_FP16 && frac < 0.8) /* the baseline must stream at the read bandwidth */
                tt_report_note(a->rep, "fp16 baseline at %d thread(s) streams at %.0f%% of the read bandwidth: "
                               "speed-ups over it overstate (docs/energy.md, \"Honest baselines\")", T, 100 * frac);
            *a->unstable |= !tt_stats_stable(&r.st);
        }
        if (a->profile) {
            report_profile(a->rep, a->rec, cfg->name, r.format, T, "pp", &prof_pp, pp_total, (long long)P * R, bw);
            report_profile(a->rep, a->rec, cfg->name, r.format, T, "tg", &prof_tg, tg_total, (long long)G * R, bw);
        }
        untuned_note(a->rep, &untuned, &m, T);
        head_check_note(a->rep, a->head, &m);
    }
    tt_state_free(&sst);
    return st;
}

/* The read roofline of every thread count, probed before any weights are
 * allocated (1 GiB each; the weights then stay across thread counts). */
static tt_status probe_all(const int *threads, int nthr, int pin, progress_state *prog, double *bw) {
    for (int i = 0; i < nthr; i++) {
        tt_pool *pool = tt_pool_create(threads[i], pin);
        if (!pool) return tt_set_error(TT_E_NOMEM, "cannot create a pool of %d threads", threads[i]);
        progress_msg(prog, "bandwidth probe, %d thread(s), 1 GiB", threads[i]);
        bw[i] = tt_bandwidth_probe_pool(pool, (size_t)1 << 30, 0.5, NULL);
        progress_end(prog);
        tt_pool_destroy(pool);
        if (bw[i] < 0) return TT_E_NOMEM;
    }
    return TT_OK;
}

int cmd_bench_decode(int argc, char **argv) {
    tt_opt o[] = {
        {"model", 1, NULL, "model config: path or name in models/dummy (e.g. dummy-700m)"},
        {"format", 1, NULL, "i2s | tl1 | tl2 | fp16 | fp32 (default i2s)"},
        {"threads", 1, NULL, "thread count or list, e.g. 1,2 (default 1)"},
        {"prompt", 1, NULL, "prompt tokens P, prefilled in one batch (default 64; 0 = skip pp)"},
        {"gen", 1, NULL, "generated tokens G at batch 1 (default 32; 0 = skip tg)"},
        {"reps", 1, NULL, "timed repetitions (default 5)"},
        {"seed", 1, NULL, "weight and prompt seed (default 1)"},
        {"batch", 1, NULL, "prefill chunk in tokens (default P, at most 256)"},
        {"variant", 1, NULL, "GEMV variant name for every BitLinear (default: tuned, then prior)"},
        {"gemm-variant", 1, NULL, "GEMM variant name (same layout as the GEMV)"},
        {"tuning", 1, NULL, "tuned.tsv from the tuner (default $TRITUNE_RESULTS or results, /<machine-id>/tuned.tsv, when it exists)"},
        {"no-tuning", 0, NULL, "ignore tuned results: the generator's prior picks the variants"},
        {"lm-head", 1, NULL, "fp16 | i8 | q4: LM head (and tied embedding) format (default fp16; fp32 for --format fp32)"},
        {"kv", 1, NULL, "KV cache fp16 | fp32 (default fp16)"},
        {"weights", 1, NULL, "load weights from this file (mmap) instead of generating them"},
        {"save-weights", 1, NULL, "write the generated weights to this file, then run from it"},
        {"bw-gbps", 1, NULL, "use this roofline (GB/s) instead of probing"},
        {"no-bw", 0, NULL, "skip the bandwidth probe (bw fields null)"},
        {"no-pin", 0, NULL, "do not pin threads"},
        TT_OPT_OVERSUBSCRIBE,
        {"progress", 0, NULL, "progress on stderr even when it is not a terminal"},
        {"accuracy-tokens", 1, NULL, "greedy tokens over which an i8 or q4 LM head is compared with fp16 (default 128; 0 = skip)"},
        {"profile", 0, NULL, "per-token profile: time, share, bytes and GB/s of each part (rows of kind profile)"},
    };
    tt_cmd c = TT_CMD(CMD,
                "--model models/dummy/<name>.json --format i2s|tl1|tl2|fp16|fp32\n"
                "                            [--threads T] [--prompt P] [--gen G] [--reps R] [--seed S]",
                o);
    const int start = tt_cmd_start(&c, argc, argv);
    if (start != TT_CMD_GO) return start;
    const char *s;
    long v;
    int threads[MAX_THREADS_LIST] = {1}, nthr = 1;
    if ((nthr = tt_cmd_threads(&c, threads, MAX_THREADS_LIST)) < 1) return TT_EXIT_USAGE;
    int P = 64, G = 32, R = 5, B = 0;
    uint64_t seed = 1;
    if ((s = tt_cmd_opt(&c, "prompt")) && (tt_parse_int(s, 0, 1 << 20, &v) || (P = (int)v, 0)))
        return tt_usage_error(CMD, "--prompt wants an integer >= 0, got '%s'", s);
    if ((s = tt_cmd_opt(&c, "gen")) && (tt_parse_int(s, 0, 1 << 20, &v) || (G = (int)v, 0)))
        return tt_usage_error(CMD, "--gen wants an integer >= 0, got '%s'", s);
    if ((s = tt_cmd_opt(&c, "reps")) && (tt_parse_int(s, 1, 100000, &v) || (R = (int)v, 0)))
        return tt_usage_error(CMD, "--reps wants an integer >= 1, got '%s'", s);
    if ((s = tt_cmd_opt(&c, "batch")) && (tt_parse_int(s, 1, 1 << 16, &v) || (B = (int)v, 0)))
        return tt_usage_error(CMD, "--batch wants an integer >= 1, got '%s'", s);
    if ((s = tt_cmd_opt(&c, "seed"))) {
        if (tt_parse_int(s, 0, 0x7fffffffffffffffL, &v)) return tt_usage_error(CMD, "--seed wants an integer >= 0, got '%s'", s);
        seed = (uint64_t)v;
    }
    if (P + G < 1) return tt_usage_error(CMD, "--prompt and --gen are both 0: nothing to time");
    head_check head = {.tokens = 128};
    if ((s = tt_cmd_opt(&c, "accuracy-tokens")) && (tt_parse_int(s, 0, 1 << 20, &v) || (head.tokens = (int)v, 0)))
        return tt_usage_error(CMD, "--accuracy-tokens wants an integer >= 0, got '%s'", s);
    double bw_given = 0;
    if ((s = tt_cmd_opt(&c, "bw-gbps")) && tt_parse_double(s, 0.001, 1e6, &bw_given))
        return tt_usage_error(CMD, "--bw-gbps wants a positive number, got '%s'", s);
    const int pin = !tt_cmd_opt(&c, "no-pin");
    const int no_bw = tt_cmd_opt(&c, "no-bw") != NULL;
    progress_state prog = {tt_cmd_opt(&c, "progress") != NULL || isatty(2), isatty(2), tt_now_ns() / 1e9, -1};

    const char *fname = tt_cmd_opt(&c, "format") ? tt_cmd_opt(&c, "format") : "i2s";
    const int fi = tt_wformat_from_name(fname);
    if (fi < 0) return tt_usage_error(CMD, "unknown --format '%s' (i2s, tl1, tl2, fp16, fp32)", fname);
    const tt_wformat fmt = (tt_wformat)fi;
    tt_model_opts mo;
    tt_model_opts_default(&mo);
    mo.format = fmt;
    mo.seed = seed;
    mo.gemv_name = tt_cmd_opt(&c, "variant");
    mo.gemm_name = tt_cmd_opt(&c, "gemm-variant");
    if ((mo.gemv_name || mo.gemm_name) && !tt_wformat_is_ternary(fmt))
        return tt_usage_error(CMD, "--variant / --gemm-variant apply to ternary formats, not %s", fname);
    if ((s = tt_cmd_opt(&c, "lm-head"))) {
        if (!strcmp(s, "i8")) mo.lm_head_quant = TT_FM_I8;
        else if (!strcmp(s, "q4")) mo.lm_head_quant = TT_FM_Q4;
        else if (strcmp(s, "fp16") && strcmp(s, "f16"))
            return tt_usage_error(CMD, "--lm-head wants fp16, i8 or q4, got '%s'", s);
    }
    if ((s = tt_cmd_opt(&c, "kv"))) {
        if (!strcmp(s, "fp32") || !strcmp(s, "f32")) mo.kv_f32 = 1;
        else if (strcmp(s, "fp16") && strcmp(s, "f16")) return tt_usage_error(CMD, "--kv wants fp16 or fp32, got '%s'", s);
    }
    tt_status st = tt_wformat_available(fmt);
    if (st != TT_OK) return tt_die(st);

    /* config: from --model, or from the weight file */
    tt_config cfg;
    const char *mpath = tt_cmd_opt(&c, "model");
    const char *wpath = tt_cmd_opt(&c, "weights"), *save = tt_cmd_opt(&c, "save-weights");
    if (wpath && save) return tt_usage_error(CMD, "--weights and --save-weights exclude each other");
    if (!mpath && !wpath) return tt_usage_error(CMD, "--model is required (e.g. --model models/dummy/dummy-700m.json)");
    tt_weightfile *wf = NULL;
    if (mpath) {
        if ((st = tt_cli_load_model(mpath, &cfg)) != TT_OK) return tt_die(st); /* missing or invalid: 2 */
    }
    tt_tuning tuning = {0};
    char tpath[512];
    const char *tuned = tt_cmd_opt(&c, "tuning");
    if (!tuned && !tt_cmd_opt(&c, "no-tuning")) { /* this machine's tuner results, if any */
        tt_machine mach;
        char id[160];
        tt_machine_describe(&mach);
        tt_machine_id(&mach, tt_cpu_features(), id, sizeof id);
        const char *root = getenv("TRITUNE_RESULTS"); /* the test suite points it away from results/ */
        snprintf(tpath, sizeof tpath, "%s/%s/tuned.tsv", root && *root ? root : "results", id);
        if (access(tpath, R_OK) == 0) tuned = tpath;
    }
    /* checked before anything is allocated */
    if (mpath && P + G > cfg.max_seq)
        return tt_usage_error(CMD, "--prompt %d + --gen %d = %d positions exceed %s's max_seq %d", P, G, P + G, cfg.name,
                              cfg.max_seq);
    if (tuned) {
        if ((st = tt_tuning_load(&tuning, tuned)) != TT_OK) return tt_die(st);
        mo.tuning = &tuning;
    }
    /* One chunk up to 256 tokens.  A chunk's activations (tokens x FFN width
     * in fp32, twice) then stay in cache between the GEMMs that write and
     * read them.  Measured on BitNet-2B-4T shapes, pp512, AMX GEMM, chunks of
     * 128 / 256 / 512 tokens: 235 / 233 / 197-209 tokens/s at 1 thread, 391 / 416 / 369 at 2;
     * dummy-7b at 1 thread, 128 vs 512: 66.9 vs 62.9. */
    mo.batch = B ? B : TT_MAX(1, TT_MIN(P, 256));
    mo.seq = P + G;

    tt_record rec = {0};
    int rc = TT_EXIT_OK, header = 0, unstable = 0, probed = 0;
    double bws[MAX_THREADS_LIST];
    kept_model kept = {0};
    char tdesc[64];
    snprintf(tdesc, sizeof tdesc, "%s", tt_cmd_opt(&c, "threads") ? tt_cmd_opt(&c, "threads") : "1");
    tt_meter meter; /* before the pools: the counters follow the threads created after them */
    tt_meter_open(&meter);
    int *ptoks = malloc(sizeof(int) * (size_t)(P + G + 1));
    double *pp_s = malloc(sizeof(double) * (size_t)R), *tg_s = malloc(sizeof(double) * (size_t)R);
    if (!ptoks || !pp_s || !tg_s) {
        rc = tt_die(tt_set_error(TT_E_NOMEM, "out of memory"));
        goto out;
    }
    for (int ti = 0; ti < nthr; ti++) bws[ti] = bw_given ? bw_given : NAN;
    for (int ti = 0; ti < nthr; ti++) {
        const int T = threads[ti];
        tt_pool *pool = tt_pool_create(T, pin);
        if (!pool) {
            rc = tt_die(tt_set_error(TT_E_NOMEM, "cannot create a pool of %d threads", T));
            goto out;
        }
        if (save && ti == 0) { /* write once, then run every thread count from the file */
            if (!mpath) {
                tt_pool_destroy(pool);
                rc = tt_usage_error(CMD, "--save-weights needs --model");
                goto out;
            }
            /* baselines are built from a ternary file */
            const tt_wformat ff = tt_wformat_is_ternary(fmt) ? fmt : TT_FMT_I2S;
            prog.t0 = tt_now_ns() / 1e9;
            prog.last = -1;
            st = tt_weightfile_write(save, &cfg, ff, seed, pool, progress_cb, &prog);
            progress_end(&prog);
            if (st != TT_OK) {
                tt_pool_destroy(pool);
                rc = tt_die(st);
                goto out;
            }
            wpath = save;
        }
        if (wpath && !wf) {
            progress_msg(&prog, "checking %s", wpath);
            st = tt_weightfile_open(&wf, wpath, pool);
            progress_end(&prog);
            if (st != TT_OK) {
                tt_pool_destroy(pool);
                rc = tt_die(st);
                goto out;
            }
            if (!mpath) cfg = *tt_weightfile_config(wf);
            seed = tt_weightfile_seed(wf);
            mo.seed = seed;
        }
        if (!probed) { /* every roofline while memory is free: a model that fits is then kept */
            probed = 1;
            if (!bw_given && !no_bw && tt_model_check_memory(&cfg, &mo, -1) == TT_OK &&
                (st = probe_all(threads, nthr, pin, &prog, bws)) != TT_OK) {
                tt_pool_destroy(pool);
                rc = tt_die(st);
                goto out;
            }
        }
        if (!header) { /* the context once; pinning as the first pool has it */
            tt_context ctx;
            tt_context_build(&ctx, &(tt_context_args){.command = CMD, .threads = tdesc, .cache = "streaming (full model)",
                                                       .pinning = tt_pool_pinning(pool), .measuring = 1, .header = 1});
            tt_report_context(&c.rep, &ctx.rec);
            tt_context_free(&ctx);
            header = 1;
        }
        run_args ra = {&cfg, &mo, wf, fmt, P, G, R, seed, &prog, &c.rep, &rec, &unstable, tuned, ptoks,
                       pp_s, tg_s, tt_cmd_opt(&c, "profile") != NULL, &head, mpath ? mpath : cfg.name, &meter};
        /* an error is a row (and a message); the other thread counts still run */
        if ((st = run_threads(&ra, T, pool, bws[ti], &kept)) != TT_OK) {
            char msg[512];
            snprintf(msg, sizeof msg, "%s", tt_last_error());
            rc = tt_die(st);
            tt_rec_begin(&rec, "decode", &decode_table);
            tt_rec_str(&rec, "status", st == TT_E_NOMEM                             ? "no_memory"
                                       : st == TT_E_UNSUPPORTED || st == TT_E_CPU ? "unsupported"
                                                                                  : "error");
            tt_rec_str(&rec, "model", cfg.name);
            tt_rec_str(&rec, "format", tt_wformat_name(fmt));
            tt_rec_int(&rec, "threads", T);
            tt_rec_str(&rec, "error", msg);
            tt_report_row(&c.rep, &rec);
        }
        tt_pool_destroy(pool);
    }
out:
    if (kept.built) tt_model_free(&kept.m);
    tt_meter_close(&meter);
    if (wf) tt_weightfile_close(wf);
    if (mo.tuning) tt_tuning_free(&tuning);
    free(ptoks);
    free(pp_s);
    free(tg_s);
    tt_rec_free(&rec);
    if (unstable)
        tt_report_note(&c.rep, "unstable: the interquartile range exceeds 5%% of the median: quiet the machine or "
                               "raise --reps");
    return tt_cmd_end(&c, rc);
}
