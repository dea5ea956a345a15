/* tritune: weight-file tests (quiet unless failing): round trips in every
 * ternary format decode like the generated model (and a baseline built
 * from the file like a generated baseline); truncated, corrupted,
 * wrong-version and bad-magic files fail with clear errors; a file whose
 * shapes differ from the config is refused. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "decode_util.h"
#include "model/model.h"
#include "test_util.h"

/* ---- weight file -------------------------------------------------------------------------- */
static int copy_file(const char *src, const char *dst, long keep, long flip_at, uint32_t version) {
    FILE *a = fopen(src, "rb"), *b = fopen(dst, "wb");
    if (!a || !b) {
        if (a) fclose(a);
        if (b) fclose(b);
        return -1;
    }
    long i = 0;
    for (int ch; (ch = fgetc(a)) != EOF && (keep < 0 || i < keep); i++) {
        if (i == flip_at) ch ^= 0x10;
        if (version && i >= 8 && i < 12) ch = (int)((version >> (8 * (i - 8))) & 0xFF);
        fputc(ch, b);
    }
    fclose(a);
    fclose(b);
    return 0;
}

static void expect_open_error(const char *path, tt_status want, const char *needle) {
    tt_weightfile *wf = NULL;
    tt_status st = tt_weightfile_open(&wf, path, NULL);
    CHECK(st == want, "%s: expected %s, got %s (%s)", path, tt_status_str(want), tt_status_str(st), tt_last_error());
    CHECK(strstr(tt_last_error(), needle) != NULL, "%s: message '%s' lacks '%s'", path, tt_last_error(), needle);
    CHECK(wf == NULL, "%s: handle returned on error", path);
    if (wf) tt_weightfile_close(wf);
}

static void test_weightfile(tt_pool *pool) {
    tt_config c;
    if (tt_config_load(&c, "models/dummy/tiny.json") != TT_OK) return;
    char dir[] = "/tmp/tt_model_testXXXXXX";
    if (!mkdtemp(dir)) {
        CHECK(0, "mkdtemp failed");
        return;
    }
    char path[128], bad[128];
    snprintf(path, sizeof path, "%s/tiny.ttw", dir);
    snprintf(bad, sizeof bad, "%s/bad.ttw", dir);
    tt_status st;
    /* TL round trips: a file in each TL format decodes like the generated model of that format */
    for (tt_wformat f = TT_FMT_TL1; f <= TT_FMT_TL2; f++) {
        if (tt_wformat_available(f) != TT_OK) continue;
        st = tt_weightfile_write(path, &c, f, 11, pool, NULL, NULL);
        CHECK(st == TT_OK, "write %s: %s", tt_wformat_name(f), tt_last_error());
        tt_weightfile *wt = NULL;
        if (st != TT_OK || tt_weightfile_open(&wt, path, pool) != TT_OK) {
            CHECK(0, "open %s file: %s", tt_wformat_name(f), tt_last_error());
            continue;
        }
        tt_model_opts o;
        tt_model_opts_default(&o);
        o.format = f;
        o.seed = 11;
        o.batch = 4;
        o.seq = 32;
        run_out a, b;
        if (run_decode(&c, &o, NULL, pool, 4, 0, &a) == TT_OK && run_decode(&c, &o, wt, pool, 4, 0, &b) == TT_OK) {
            compare_runs(tt_wformat_name(f), &c, &a, &b, 0.0);
            run_free(&b);
        } else {
            CHECK(0, "%s from file: %s", tt_wformat_name(f), tt_last_error());
        }
        run_free(&a);
        tt_weightfile_close(wt);
    }
    st = tt_weightfile_write(path, &c, TT_FMT_I2S, 11, pool, NULL, NULL);
    CHECK(st == TT_OK, "write: %s", tt_last_error());
    tt_weightfile *wf = NULL;
    st = tt_weightfile_open(&wf, path, pool);
    CHECK(st == TT_OK, "open: %s", tt_last_error());
    if (st == TT_OK) {
        CHECK(tt_weightfile_seed(wf) == 11 && tt_weightfile_format(wf) == TT_FMT_I2S, "header fields");
        tt_model_opts o;
        tt_model_opts_default(&o);
        o.seed = 11;
        o.batch = 4;
        o.seq = 32;
        run_out a, b;
        if (run_decode(&c, &o, NULL, pool, 4, 0, &a) == TT_OK) {
            if (run_decode(&c, &o, wf, pool, 4, 0, &b) == TT_OK) {
                compare_runs("weight file vs generated", &c, &a, &b, 0.0);
                run_free(&b);
            } else {
                CHECK(0, "model from file: %s", tt_last_error());
            }
            o.format = TT_FMT_FP16; /* a baseline built from the file's ternary weights */
            run_out f1, f2;
            if (run_decode(&c, &o, NULL, pool, 4, 0, &f1) == TT_OK && run_decode(&c, &o, wf, pool, 4, 0, &f2) == TT_OK) {
                compare_runs("fp16 from weight file vs generated", &c, &f1, &f2, 0.0);
                run_free(&f2);
            } else {
                CHECK(0, "fp16 from file: %s", tt_last_error());
            }
            run_free(&f1);
            run_free(&a);
        }
        tt_config c2 = c;
        c2.ffn = 256;
        tt_model m;
        o.format = TT_FMT_I2S;
        st = tt_model_init(&m, &c2, &o, wf, NULL);
        CHECK(st == TT_E_CONFIG && strstr(tt_last_error(), "shapes differ"), "config mismatch: %s", tt_last_error());
        if (st == TT_OK) tt_model_free(&m);
        tt_weightfile_close(wf);
    }
    FILE *f = fopen(path, "rb");
    long size = 0;
    if (f) {
        fseek(f, 0, SEEK_END);
        size = ftell(f);
        fclose(f);
    }
    copy_file(path, bad, size - 100, -1, 0);
    expect_open_error(bad, TT_E_FORMAT, "truncated");
    copy_file(path, bad, 20, -1, 0);
    expect_open_error(bad, TT_E_FORMAT, "truncated");
    copy_file(path, bad, -1, size / 2, 0);
    expect_open_error(bad, TT_E_FORMAT, "checksum mismatch");
    copy_file(path, bad, -1, 100, 0); /* inside the config JSON: caught by the checksum too */
    expect_open_error(bad, TT_E_FORMAT, "checksum mismatch");
    copy_file(path, bad, -1, -1, 99);
    expect_open_error(bad, TT_E_FORMAT, "version 99");
    copy_file(path, bad, -1, 0, 0);
    expect_open_error(bad, TT_E_FORMAT, "bad magic");
    expect_open_error("/nonexistent/x.ttw", TT_E_ARG, "cannot open");
    unlink(bad);
    unlink(path);
    rmdir(dir);
}

int main(void) {
    tt_pool *p2 = tt_pool_create(2, 0);
    test_weightfile(p2);
    tt_pool_destroy(p2);
    TEST_DONE("test_weightfile");
}
