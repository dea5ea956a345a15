/* tritune: JSON and model-config tests (quiet unless failing): JSON parser
 * strictness and error positions; config validation errors; every shipped
 * models/dummy config loads. */
#define _GNU_SOURCE
#include <dirent.h>
#include <stdio.h>
#include <string.h>

#include "core/json.h"
#include "model/config.h"
#include "test_util.h"

/* ---- JSON and configs ------------------------------------------------------------ */
static void expect_json_error(const char *text, const char *needle) {
    tt_jv v;
    tt_status st = tt_json_parse(text, strlen(text), "t.json", &v);
    CHECK(st == TT_E_CONFIG, "JSON %s: expected an error, got %s", text, tt_status_str(st));
    CHECK(strstr(tt_last_error(), needle) != NULL, "JSON %s: message '%s' lacks '%s'", text, tt_last_error(), needle);
}

static void test_json(void) {
    tt_jv v;
    const char *ok = "{\"a\": [1, -2.5e3, true, false, null], \"s\": \"x\\u00e9\\ud83d\\ude00\\n\", \"o\": {}}";
    CHECK(tt_json_parse(ok, strlen(ok), NULL, &v) == TT_OK, "valid JSON rejected: %s", tt_last_error());
    const tt_jv *a = tt_json_get(&v, "a"), *s = tt_json_get(&v, "s");
    CHECK(a && a->type == TT_JARR && a->n == 5 && a->items[1].num == -2500.0 && a->items[4].type == TT_JNULL,
          "array parsed wrong");
    CHECK(s && s->type == TT_JSTR && !strcmp(s->str, "x\xC3\xA9\xF0\x9F\x98\x80\n"), "string escapes parsed wrong");
    tt_json_free(&v);
    expect_json_error("{\"a\": 1,}", "trailing comma");
    expect_json_error("{\"a\": 1, \"a\": 2}", "duplicate key");
    expect_json_error("[01]", "leading zeros");
    expect_json_error("{\"a\": \"abc", "unterminated string");
    expect_json_error("[1 2]", "expected ',' or ']'");
    expect_json_error("{\"a\": 1} x", "after the top-level value");
    expect_json_error("[\"a\tb\"]", "control character");
    expect_json_error("{\"a\":\n  nul}", "t.json:2:3");
    expect_json_error("[NaN]", "expected a value");
    char deep[200];
    memset(deep, '[', sizeof deep - 1);
    deep[sizeof deep - 1] = '\0';
    expect_json_error(deep, "nesting deeper");
}

static void expect_config_error(const char *json, const char *needle) {
    tt_config c;
    tt_status st = tt_config_parse(&c, json, strlen(json), "bad.json");
    CHECK(st == TT_E_CONFIG, "config %s: expected TT_E_CONFIG, got %s", json, tt_status_str(st));
    CHECK(strstr(tt_last_error(), needle) != NULL, "config %s: message '%s' lacks '%s'", json, tt_last_error(), needle);
}

#define CFG(extra) "{\"hidden\": 64, \"ffn\": 128, \"layers\": 2, \"heads\": 4, \"vocab\": 50, \"activation\": \"silu\"" extra "}"
static void test_configs(void) {
    tt_config c;
    CHECK(tt_config_parse(&c, CFG(""), strlen(CFG("")), "ok.json") == TT_OK, "minimal config rejected: %s", tt_last_error());
    CHECK(c.kv_heads == 4 && c.head_dim == 16, "defaults: kv_heads %d head_dim %d", c.kv_heads, c.head_dim);
    expect_config_error("{\"hidden\": 64, \"ffn\": 128, \"layers\": 2, \"heads\": 5, \"vocab\": 50, \"activation\": \"silu\"}",
                        "heads = 5 does not divide hidden = 64");
    expect_config_error("{\"hidden\": 64, \"ffn\": 128, \"layers\": 0, \"heads\": 4, \"vocab\": 50, \"activation\": \"silu\"}",
                        "layers = 0");
    expect_config_error("{\"hidden\": 64, \"ffn\": -128, \"layers\": 2, \"heads\": 4, \"vocab\": 50, \"activation\": \"silu\"}",
                        "ffn = -128");
    expect_config_error(CFG(", \"kv_heads\": 3"), "kv_heads = 3 does not divide heads = 4");
    expect_config_error(CFG(", \"head_dim\": 15"), "head_dim = 15 must be even");
    expect_config_error("{\"hidden\": 64, \"ffn\": 128, \"layers\": 2, \"heads\": 4, \"vocab\": 50, \"activation\": \"gelu\"}",
                        "unknown activation \"gelu\"");
    expect_config_error(CFG(", \"hiden\": 3"), "unknown field \"hiden\"");
    expect_config_error("{\"hidden\": 64, \"ffn\": 128, \"heads\": 4, \"vocab\": 50, \"activation\": \"silu\"}",
                        "missing required field \"layers\"");
    expect_config_error(CFG(", \"max_seq\": 2.5"), "must be an integer");
    expect_config_error(CFG(", \"norm_eps\": 0"), "norm_eps");
    expect_config_error(CFG(", \"tied_lm_head\": 1"), "true or false");
    tt_status st = tt_config_load(&c, "models/dummy/does-not-exist.json");
    CHECK(st == TT_E_ARG && strstr(tt_last_error(), "does-not-exist"), "missing file: %s", tt_last_error());
    /* every shipped config loads */
    DIR *d = opendir("models/dummy");
    CHECK(d != NULL, "cannot open models/dummy (run from the source tree)");
    int n = 0;
    for (struct dirent *e; d && (e = readdir(d));) {
        const size_t l = strlen(e->d_name);
        if (l < 6 || strcmp(e->d_name + l - 5, ".json")) continue;
        char path[512];
        snprintf(path, sizeof path, "models/dummy/%s", e->d_name);
        CHECK(tt_config_load(&c, path) == TT_OK, "%s: %s", path, tt_last_error());
        n++;
    }
    if (d) closedir(d);
    CHECK(n >= 21, "expected at least 21 configs in models/dummy, found %d", n);
    CHECK(tt_config_load(&c, "models/dummy/dummy-100b.json") == TT_OK, "dummy-100b");
    const double p = tt_config_params(&c);
    CHECK(p > 95e9 && p < 105e9, "dummy-100b has %.3g parameters", p);
}

int main(void) {
    test_json();
    test_configs();
    TEST_DONE("test_config");
}
