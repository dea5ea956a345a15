/* Fuzz target: the model-configuration parser (core/json.c, model/config.c).
 * Properties: no crash or sanitizer report on any input; an accepted config
 * is valid (tt_config_validate), its name is valid UTF-8 without control
 * characters, and the name survives the weight-file writer's escaping
 * (tt_json_escape, then parsing again gives the same name). */
#define _GNU_SOURCE
#include <string.h>

#include "core/json.h"
#include "fuzz_util.h"
#include "model/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    tt_config c;
    if (tt_config_parse(&c, (const char *)data, size, "fuzz.json") != TT_OK) return 0;
    FUZZ_ASSERT(tt_config_validate(&c) == TT_OK, "accepted config fails validation: %s", tt_last_error());
    FUZZ_ASSERT(tt_utf8_valid(c.name, strlen(c.name)), "accepted name is not UTF-8");
    char esc[6 * sizeof c.name], doc[8 * sizeof c.name];
    tt_json_escape(c.name, esc, sizeof esc);
    const int n = snprintf(doc, sizeof doc, "\"%s\"", esc);
    tt_jv v;
    FUZZ_ASSERT(tt_json_parse(doc, (size_t)n, NULL, &v) == TT_OK, "escaped name does not parse: %s", tt_last_error());
    FUZZ_ASSERT(v.type == TT_JSTR && strcmp(v.str, c.name) == 0, "escaped name does not round-trip");
    tt_json_free(&v);
    return 0;
}
