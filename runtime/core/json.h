/* tritune: a small strict JSON parser (RFC 8259) for configuration files.
 *
 * Strict: no comments, no trailing commas, no duplicate keys, no leading
 * zeros, no NaN/Infinity, no control characters inside strings, nothing but
 * whitespace after the top-level value, nesting at most TT_JSON_MAX_DEPTH.
 * Errors name the line and column (1-based) where parsing stopped:
 *   "models/x.json:3:14: expected ',' or '}' after object member". */
#ifndef TT_JSON_MIN_H
#define TT_JSON_MIN_H

#include <stddef.h>

#include "core/common.h"

#ifdef __cplusplus
extern "C" {
#endif

#define TT_JSON_MAX_DEPTH 64

typedef enum { TT_JNULL = 0, TT_JBOOL, TT_JNUM, TT_JSTR, TT_JARR, TT_JOBJ } tt_jtype;

typedef struct tt_jv {
    tt_jtype type;
    int line, col;        /* where the value starts in the source (1-based)        */
    int b;                /* TT_JBOOL: 0 or 1                                        */
    double num;           /* TT_JNUM                                                 */
    char *str;            /* TT_JSTR: unescaped UTF-8, NUL-terminated, no NUL inside */
    size_t str_len;       /* TT_JSTR: bytes, without the terminator                  */
    int n;                /* TT_JARR / TT_JOBJ: number of elements / members         */
    struct tt_jv *items;  /* n values                                                */
    char **keys;          /* TT_JOBJ: n keys, in source order                        */
} tt_jv;

/* Parse text[0, len).  `name` (file name, may be NULL) prefixes error
 * messages.  On error returns TT_E_CONFIG, *out is left empty. */
tt_status tt_json_parse(const char *text, size_t len, const char *name, tt_jv *out);
/* Strings: valid UTF-8 only (RFC 3629), and no \u0000: a string is a C string. */
/* Read and parse a whole file: TT_E_IO if it cannot be opened, TT_E_ARG if
 * it is not a regular file or holds more than 64 MiB (core/file.h). */
tt_status tt_json_parse_file(const char *path, tt_jv *out);
void tt_json_free(tt_jv *v);
/* s as the inside of a JSON string ('"' and '\\' escaped, control bytes as
 * \u00XX) into out (n bytes, always terminated when n > 0); returns the
 * length the whole escaped text needs, like snprintf. */
size_t tt_json_escape(const char *s, char *out, size_t n);
/* s[0, n) is valid UTF-8 without NUL bytes. */
int tt_utf8_valid(const char *s, size_t n);

/* Member `key` of an object, or NULL (also when v is not an object). */
const tt_jv *tt_json_get(const tt_jv *obj, const char *key);
const char *tt_json_type_name(tt_jtype t);

#ifdef __cplusplus
}
#endif
#endif
