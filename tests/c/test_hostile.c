/* tritune: hostile files (quiet unless failing).  Every file is made here:
 *   - weight files crafted with a recomputed checksum: a NaN in the fp16
 *     embedding, a tensor scale of 3e38, an infinite norm weight, an I2_S
 *     code 3 (a weight of +2): refused with the tensor and the row named;
 *   - a model name with a quote and a backslash survives the writer;
 *     invalid UTF-8 and \u0000 in a config's strings are refused;
 *   - config value errors name file:line:column;
 *   - a FIFO, a directory and /dev/zero given as a weight file, a config or
 *     a tuning file are refused at once (an alarm fails the test if one blocks);
 *   - tuned.tsv: overflow, trailing junk, a variant of another op or format,
 *     NUL bytes, a foreign or missing generator hash;
 *   - a weight file truncated while mapped: SIGBUS reported, exit code 3. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "model/model.h"
#include "seam/tuning.h"
#include "test_util.h"

static char dir[] = "/tmp/tt_hostile_XXXXXX";

static const char *tmp(const char *name) {
    static char buf[4][256];
    static int k;
    char *b = buf[k++ % 4];
    snprintf(b, 256, "%s/%s", dir, name);
    return b;
}

static int write_text(const char *path, const char *text, size_t n) {
    FILE *f = fopen(path, "wb");
    if (!f) return -1;
    fwrite(text, 1, n, f);
    return fclose(f);
}

static void *slurp(const char *path, size_t *n) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    *n = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    void *p = malloc(*n);
    if (fread(p, 1, *n, f) != *n) *n = 0;
    fclose(f);
    return p;
}

/* ---- weight files with a recomputed checksum ------------------------------------------------ */
static const char micro[] = "{\"name\": \"micro \\\"q\\\" \\\\ x\", \"hidden\": 16, \"ffn\": 24, \"layers\": 1, \"heads\": 2, "
                            "\"kv_heads\": 1, \"head_dim\": 8, \"vocab\": 8, \"activation\": \"relu2\", "
                            "\"tied_lm_head\": false, \"max_seq\": 16}";

/* Offset of the data of the tensor with this id (from the file's table). */
static size_t tensor_off(const uint8_t *f, int id) {
    uint32_t jl, nt;
    memcpy(&jl, f + 48, 4);
    memcpy(&nt, f + 36, 4);
    const uint8_t *e = f + ((56 + jl + 7) / 8) * 8;
    for (uint32_t i = 0; i < nt; i++, e += 40) {
        uint32_t tid;
        uint64_t off;
        memcpy(&tid, e, 4);
        memcpy(&off, e + 24, 8);
        if ((int)tid == id) return off;
    }
    return 0;
}

static uint8_t *table_entry(uint8_t *f, int id) {
    uint32_t jl, nt;
    memcpy(&jl, f + 48, 4);
    memcpy(&nt, f + 36, 4);
    uint8_t *e = f + ((56 + jl + 7) / 8) * 8;
    for (uint32_t i = 0; i < nt; i++, e += 40) {
        uint32_t tid;
        memcpy(&tid, e, 4);
        if ((int)tid == id) return e;
    }
    return NULL;
}

/* Write f (n bytes) with its checksum recomputed, open it, expect TT_E_FORMAT with every needle. */
static void expect_crafted(const char *what, uint8_t *f, size_t n, const char *n1, const char *n2) {
    const uint64_t ck = tt_checksum(f + 32, n - 32, NULL);
    memcpy(f + 24, &ck, 8);
    const char *p = tmp("crafted.ttw");
    write_text(p, (const char *)f, n);
    tt_weightfile *wf = NULL;
    const tt_status st = tt_weightfile_open(&wf, p, NULL);
    CHECK(st == TT_E_FORMAT, "%s: expected a format error, got %s (%s)", what, tt_status_str(st), tt_last_error());
    CHECK(strstr(tt_last_error(), n1) && strstr(tt_last_error(), n2), "%s: '%s' lacks '%s' / '%s'", what,
          tt_last_error(), n1, n2);
    if (wf) tt_weightfile_close(wf);
}

static void test_weight_values(void) {
    tt_config c;
    if (tt_config_parse(&c, micro, sizeof micro - 1, "micro") != TT_OK) {
        CHECK(0, "micro config: %s", tt_last_error());
        return;
    }
    CHECK(strcmp(c.name, "micro \"q\" \\ x") == 0, "name parsed as '%s'", c.name);
    const char *good = tmp("good.ttw");
    CHECK(tt_weightfile_write(good, &c, TT_FMT_I2S, 5, NULL, NULL, NULL) == TT_OK, "write: %s", tt_last_error());
    tt_weightfile *wf = NULL;
    CHECK(tt_weightfile_open(&wf, good, NULL) == TT_OK, "a name with a quote and a backslash: %s", tt_last_error());
    if (wf) {
        CHECK(strcmp(tt_weightfile_config(wf)->name, c.name) == 0, "name read back as '%s'", tt_weightfile_config(wf)->name);
        tt_weightfile_close(wf);
    }
    size_t n = 0;
    uint8_t *orig = slurp(good, &n), *f = malloc(n);
    if (!orig || n < 4096) {
        CHECK(0, "cannot read %s back", good);
        free(orig), free(f);
        return;
    }
    const int wq = tt_tensor_id(0, TT_TL_WQ), norm = tt_tensor_id(0, TT_TL_FFN_NORM);
    /* a NaN in row 3 of the fp16 embedding */
    memcpy(f, orig, n);
    const uint16_t nan16 = 0x7E00;
    memcpy(f + tensor_off(f, TT_T_EMBED) + (3 * 16 + 5) * 2, &nan16, 2);
    expect_crafted("NaN embedding", f, n, "tensor 0 (embed), row 3", "NaN");
    /* an infinite LM-head value */
    memcpy(f, orig, n);
    const uint16_t inf16 = 0x7C00;
    memcpy(f + tensor_off(f, TT_T_LMHEAD) + (7 * 16) * 2, &inf16, 2);
    expect_crafted("infinite LM head", f, n, "(lm_head), row 7", "infinite");
    /* a scale of 3e38 (positive and finite, but no real scale) */
    memcpy(f, orig, n);
    const float big = 3e38f;
    memcpy(table_entry(f, wq) + 20, &big, 4);
    expect_crafted("scale 3e38", f, n, "layer 0 wq", "weight scale 3e+38");
    /* an infinite norm weight */
    memcpy(f, orig, n);
    const float inf = INFINITY;
    memcpy(f + tensor_off(f, norm) + 4 * 4, &inf, 4);
    expect_crafted("infinite norm", f, n, "layer 0 ffn_norm", "norm weight 4 = inf");
    /* I2_S code 3 (+2) in row 5 of wq: byte 0 of the row, weight at shift 6 = column 0 */
    memcpy(f, orig, n);
    f[tensor_off(f, wq) + 5 * tt_i2s_row_bytes(16)] |= 0xC0;
    expect_crafted("I2_S code 3", f, n, "layer 0 wq), row 5", "invalid code 3");
    /* non-zero padding (K = 16: weights 16..127 of the block are padding) */
    memcpy(f, orig, n);
    f[tensor_off(f, wq) + 20] = 0xAA; /* codes 2: weights of +1 in columns 20, 52, 84, 116 */
    expect_crafted("I2_S padding", f, n, "row 0", "padding");
    free(orig);
    free(f);
}

/* ---- configs -------------------------------------------------------------------------------- */
static void expect_config(const char *text, const char *needle) {
    tt_config c;
    const tt_status st = tt_config_parse(&c, text, strlen(text), "cfg.json");
    CHECK(st == TT_E_CONFIG && strstr(tt_last_error(), needle), "config %s: %s (%s), wanted '%s'", text,
          tt_status_str(st), tt_last_error(), needle);
}

static void test_configs(void) {
#define BODY "\"ffn\": 128, \"layers\": 2, \"heads\": 4, \"vocab\": 100, \"activation\": \"silu\""
    expect_config("{\"name\": \"ab\xff\", \"hidden\": 64, " BODY "}", "cfg.json:1:13: invalid UTF-8 (byte 0xff)");
    expect_config("{\"name\": \"\xc0\xaf\", \"hidden\": 64, " BODY "}", "invalid UTF-8"); /* overlong '/' */
    expect_config("{\"name\": \"\xed\xa0\x80\", \"hidden\": 64, " BODY "}", "invalid UTF-8"); /* a surrogate */
    expect_config("{\"name\": \"ab\\u0000cd\", \"hidden\": 64, " BODY "}", "cfg.json:1:13: \\u0000 (NUL)");
    expect_config("{\"name\": \"a\\nb\", \"hidden\": 64, " BODY "}", "control character");
    expect_config("{\"name\": \"x\",\n \"hidden\": -96, " BODY "}", "cfg.json:2:12: hidden = -96, must be a positive");
    expect_config("{\"hidden\": 64,\n  \"heads\": 5, \"ffn\": 8, \"layers\": 1, \"vocab\": 9, \"activation\": \"silu\"}",
                  "cfg.json:2:12: heads = 5 does not divide hidden = 64");
    expect_config("{\"hidden\": 64, " BODY ",\n\"norm_eps\": 2}", "cfg.json:2:13: norm_eps = 2");
    tt_config c;
    const char ok[] = "{\"name\": \"n\\u00e9 \xe2\x82\xac\", \"hidden\": 64, " BODY "}";
    CHECK(tt_config_parse(&c, ok, sizeof ok - 1, "ok.json") == TT_OK && !strcmp(c.name, "n\xc3\xa9 \xe2\x82\xac"),
          "valid UTF-8 name: %s", tt_last_error());
#undef BODY
}

/* ---- files that are not regular files --------------------------------------------------------- */
static void on_alarm(int sig) {
    (void)sig;
    static const char m[] = "test_hostile: a reader blocked on a non-regular file (alarm)\n";
    (void)!write(2, m, sizeof m - 1);
    _exit(1);
}

static void test_special_files(void) {
    const char *fifo = tmp("fifo");
    CHECK(mkfifo(fifo, 0600) == 0, "mkfifo");
    signal(SIGALRM, on_alarm);
    alarm(20);
    const char *paths[] = {fifo, dir, "/dev/zero"};
    const char *kinds[] = {"is a FIFO", "is a directory", "is a character device"};
    for (int i = 0; i < 3; i++) {
        tt_weightfile *wf = NULL;
        tt_status st = tt_weightfile_open(&wf, paths[i], NULL);
        CHECK(st == TT_E_ARG && strstr(tt_last_error(), kinds[i]), "weight file %s: %s", paths[i], tt_last_error());
        tt_config c;
        st = tt_config_load(&c, paths[i]);
        CHECK(st == TT_E_ARG && strstr(tt_last_error(), kinds[i]), "config %s: %s", paths[i], tt_last_error());
        tt_tuning t;
        st = tt_tuning_load(&t, paths[i]);
        CHECK(st == TT_E_ARG && strstr(tt_last_error(), kinds[i]), "tuning %s: %s", paths[i], tt_last_error());
    }
    alarm(0);
    unlink(fifo);
}

/* ---- tuned.tsv --------------------------------------------------------------------------------- */
/* body: n bytes, or a C string when n == 0 */
static void expect_tuning(const char *body, size_t n, const char *needle) {
    if (!n) n = strlen(body);
    const char *p = tmp("tuned.tsv");
    write_text(p, body, n);
    tt_tuning t;
    const tt_status st = tt_tuning_load(&t, p);
    CHECK(st == TT_E_CONFIG && strstr(tt_last_error(), needle), "tuning '%.60s': %s (%s), wanted '%s'", body,
          tt_status_str(st), tt_last_error(), needle);
    if (st == TT_OK) tt_tuning_free(&t);
}

static void test_tuning(void) {
    const tt_variant *gv = tt_variant_generic(TT_OP_GEMV, TT_FMT_I2S), *gm = tt_variant_generic(TT_OP_GEMM, TT_FMT_I2S);
    const tt_variant *tl = tt_variant_generic(TT_OP_GEMV, TT_FMT_TL2);
    char b[1024], h[160];
    snprintf(h, sizeof h, "# machine m generator %s cache streaming\n", tt_generator_hash);
#define T(...) (snprintf(b, sizeof b, __VA_ARGS__), b)
    tt_tuning t;
    const char *p = tmp("tuned.tsv");
    T("%sgemv i2s 640 2560 1 2 %s\n", h, gv->name);
    write_text(p, b, strlen(b));
    CHECK(tt_tuning_load(&t, p) == TT_OK && t.n == 1, "good file: %s", tt_last_error());
    tt_tuning_free(&t);
    expect_tuning(T("%sgemv i2s 4294967392 2560 1 2 %s\n", h, gv->name), 0, ":2: M = '4294967392' is not an integer");
    expect_tuning(T("%sgemv i2s 640 2560 1 2 %s junk\n", h, gv->name), 0, ":2: expected 7 fields");
    expect_tuning(T("%sgemv i2s 640 2560x 1 2 %s\n", h, gv->name), 0, "K = '2560x'");
    expect_tuning(T("%sgemv i2s -640 2560 1 2 %s\n", h, gv->name), 0, "M = '-640'");
    expect_tuning(T("%sgemv i2s 640 2560 1 2 %s\n", h, gm->name), 0, "is a gemm i2s kernel, the line is for gemv i2s");
    expect_tuning(T("%sgemv i2s 640 2560 1 2 %s\n", h, tl->name), 0, "is a gemv tl2 kernel");
    expect_tuning(T("%sgemv i2s 640 2560 4 2 %s\n", h, gv->name), 0, "a gemv line has N = 1");
    expect_tuning(T("%sgemv fp16 640 2560 1 2 %s\n", h, gv->name), 0, "format 'fp16' is not a ternary");
    expect_tuning(T("# machine m generator 0123456789abcdef\ngemv i2s 640 2560 1 2 %s\n", gv->name), 0,
                  "tuned with generator 0123456789abcdef");
    expect_tuning(T("gemv i2s 640 2560 1 2 %s\n", gv->name), 0, "no '# ... generator <hash>' line");
    const int k = snprintf(b, sizeof b, "%s\ngemv i2s 640 2560 1 2 %s\n", h, gv->name);
    b[strlen(h)] = '\0'; /* a NUL byte on line 2 */
    expect_tuning(b, (size_t)k, ":2: a NUL byte");
#undef T
}

/* ---- a weight file truncated while mapped ------------------------------------------------------- */
static void test_sigbus(void) {
    tt_config c;
    if (tt_config_parse(&c, micro, sizeof micro - 1, "micro") != TT_OK) return;
    const char *p = tmp("shrinks.ttw");
    if (tt_weightfile_write(p, &c, TT_FMT_I2S, 5, NULL, NULL, NULL) != TT_OK) {
        CHECK(0, "write: %s", tt_last_error());
        return;
    }
    int errpipe[2];
    if (pipe(errpipe) != 0) return;
    fflush(NULL);
    const pid_t pid = fork();
    if (pid == 0) {
        dup2(errpipe[1], 2);
        tt_weightfile *wf = NULL;
        if (tt_weightfile_open(&wf, p, NULL) != TT_OK) _exit(10);
        const tt_wf_tensor *t = tt_weightfile_tensor(wf, tt_tensor_id(0, TT_TL_WDOWN));
        if (truncate(p, 4096) != 0) _exit(11);
        volatile uint8_t sum = 0;
        for (size_t i = 0; i < t->bytes; i++) sum += t->data[i]; /* past the new end: SIGBUS */
        _exit(12);
    }
    close(errpipe[1]);
    char msg[1024] = "";
    ssize_t got, total = 0;
    while ((got = read(errpipe[0], msg + total, sizeof msg - 1 - (size_t)total)) > 0) total += got;
    msg[total > 0 ? total : 0] = '\0';
    close(errpipe[0]);
    int status = 0;
    waitpid(pid, &status, 0);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 3, "truncated mapping: status %d (exit %d, signal %d): %s", status,
          WIFEXITED(status) ? WEXITSTATUS(status) : -1, WIFSIGNALED(status) ? WTERMSIG(status) : 0, msg);
    CHECK(strstr(msg, "shrinks.ttw became shorter while it was mapped") != NULL, "SIGBUS message: '%s'", msg);
}

int main(void) {
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    test_weight_values();
    test_configs();
    test_special_files();
    test_tuning();
    test_sigbus();
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) fprintf(stderr, "test_hostile: could not remove %s\n", dir);
    TEST_DONE("test_hostile");
}
