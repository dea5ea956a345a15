/* tritune: a small strict JSON parser; see json_min.h for the rules. */
#include "core/json.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/file.h"

typedef struct {
    const char *s;      /* text                                  */
    size_t len, i;      /* length, cursor                        */
    int line;           /* line of s[i] (1-based)                */
    size_t line_start;  /* index of the first byte of that line  */
    const char *name;   /* file name for messages, or NULL       */
    int failed;
} jparser;

static int col_of(const jparser *p) { return (int)(p->i - p->line_start) + 1; }

__attribute__((format(printf, 2, 3))) static void jfail(jparser *p, const char *fmt, ...) {
    if (p->failed) return; /* keep the first (innermost) error */
    p->failed = 1;
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (p->name)
        tt_set_error(TT_E_CONFIG, "%s:%d:%d: %s", p->name, p->line, col_of(p), msg);
    else
        tt_set_error(TT_E_CONFIG, "JSON line %d column %d: %s", p->line, col_of(p), msg);
}

static void skip_ws(jparser *p) {
    while (p->i < p->len) {
        char c = p->s[p->i];
        if (c == '\n') {
            p->line++;
            p->line_start = p->i + 1;
        } else if (c != ' ' && c != '\t' && c != '\r') {
            return;
        }
        p->i++;
    }
}

static int peek(const jparser *p) { return p->i < p->len ? (unsigned char)p->s[p->i] : -1; }

/* Describe the byte at the cursor for messages ("end of input", "'x'", "byte 0x01"). */
static const char *here(const jparser *p, char *buf, size_t n) {
    int c = peek(p);
    if (c < 0) snprintf(buf, n, "end of input");
    else if (c >= 0x20 && c < 0x7f) snprintf(buf, n, "'%c'", c);
    else snprintf(buf, n, "byte 0x%02x", c);
    return buf;
}

static int parse_value(jparser *p, tt_jv *v, int depth);

static int hex4(jparser *p, unsigned *out) {
    unsigned u = 0;
    for (int k = 0; k < 4; k++) {
        int c = peek(p);
        int d = (c >= '0' && c <= '9') ? c - '0' : (c >= 'a' && c <= 'f') ? c - 'a' + 10
                : (c >= 'A' && c <= 'F') ? c - 'A' + 10 : -1;
        if (d < 0) {
            jfail(p, "bad \\u escape: expected 4 hex digits");
            return -1;
        }
        u = u * 16 + (unsigned)d;
        p->i++;
    }
    *out = u;
    return 0;
}

static void put_utf8(char *d, size_t *n, unsigned cp) {
    if (cp < 0x80) {
        d[(*n)++] = (char)cp;
    } else if (cp < 0x800) {
        d[(*n)++] = (char)(0xC0 | (cp >> 6));
        d[(*n)++] = (char)(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        d[(*n)++] = (char)(0xE0 | (cp >> 12));
        d[(*n)++] = (char)(0x80 | ((cp >> 6) & 0x3F));
        d[(*n)++] = (char)(0x80 | (cp & 0x3F));
    } else {
        d[(*n)++] = (char)(0xF0 | (cp >> 18));
        d[(*n)++] = (char)(0x80 | ((cp >> 12) & 0x3F));
        d[(*n)++] = (char)(0x80 | ((cp >> 6) & 0x3F));
        d[(*n)++] = (char)(0x80 | (cp & 0x3F));
    }
}

/* Length of the valid UTF-8 sequence at s (n bytes left), or 0 (RFC 3629:
 * no overlong forms, no surrogates, nothing above U+10FFFF). */
static int utf8_len(const unsigned char *s, size_t n) {
    const unsigned c = s[0];
    int k;
    unsigned cp, min;
    if (c >= 0xC2 && c <= 0xDF) k = 2, cp = c & 0x1F, min = 0x80;
    else if (c >= 0xE0 && c <= 0xEF) k = 3, cp = c & 0x0F, min = 0x800;
    else if (c >= 0xF0 && c <= 0xF4) k = 4, cp = c & 0x07, min = 0x10000;
    else return 0;
    if (n < (size_t)k) return 0;
    for (int i = 1; i < k; i++) {
        if ((s[i] & 0xC0) != 0x80) return 0;
        cp = (cp << 6) | (s[i] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
    return k;
}

/* Cursor on the opening quote.  The unescaped string is never longer than
 * the escaped one (\uXXXX: 6 bytes -> at most 3; a surrogate pair: 12 -> 4). */
static int parse_string(jparser *p, char **out, size_t *out_len) {
    p->i++; /* opening quote */
    size_t start = p->i, end = start;
    while (end < p->len && p->s[end] != '"') end += (p->s[end] == '\\') ? 2 : 1;
    if (end > p->len) end = p->len;
    char *d = malloc(end - start + 1);
    if (!d) {
        jfail(p, "out of memory");
        return -1;
    }
    size_t n = 0;
    for (;;) {
        int c = peek(p);
        if (c < 0) {
            jfail(p, "unterminated string");
            goto fail;
        }
        if (c == '"') {
            p->i++;
            break;
        }
        if (c < 0x20) {
            jfail(p, "control character 0x%02x inside a string (escape it)", c);
            goto fail;
        }
        if (c >= 0x80) { /* a UTF-8 sequence, copied as it is once it is valid */
            const int k = utf8_len((const unsigned char *)p->s + p->i, p->len - p->i);
            if (k <= 0) {
                jfail(p, "invalid UTF-8 (byte 0x%02x) inside a string", c);
                goto fail;
            }
            memcpy(d + n, p->s + p->i, (size_t)k);
            n += (size_t)k;
            p->i += (size_t)k;
            continue;
        }
        if (c != '\\') {
            d[n++] = (char)c;
            p->i++;
            continue;
        }
        p->i++;
        int e = peek(p);
        p->i++;
        switch (e) {
        case '"': d[n++] = '"'; break;
        case '\\': d[n++] = '\\'; break;
        case '/': d[n++] = '/'; break;
        case 'b': d[n++] = '\b'; break;
        case 'f': d[n++] = '\f'; break;
        case 'n': d[n++] = '\n'; break;
        case 'r': d[n++] = '\r'; break;
        case 't': d[n++] = '\t'; break;
        case 'u': {
            unsigned cp;
            if (hex4(p, &cp)) goto fail;
            if (cp >= 0xD800 && cp <= 0xDBFF) {
                unsigned lo;
                if (peek(p) != '\\' || p->i + 1 >= p->len || p->s[p->i + 1] != 'u') {
                    jfail(p, "high surrogate \\u%04X not followed by a low surrogate", cp);
                    goto fail;
                }
                p->i += 2;
                if (hex4(p, &lo)) goto fail;
                if (lo < 0xDC00 || lo > 0xDFFF) {
                    jfail(p, "\\u%04X is not a low surrogate", lo);
                    goto fail;
                }
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
                jfail(p, "lone low surrogate \\u%04X", cp);
                goto fail;
            }
            if (cp == 0) { /* C strings end at NUL: a name holding one would be cut short silently */
                p->i -= 6;
                jfail(p, "\\u0000 (NUL) is not allowed in a string");
                goto fail;
            }
            put_utf8(d, &n, cp);
            break;
        }
        default:
            p->i--;
            jfail(p, "invalid escape character");
            goto fail;
        }
    }
    d[n] = '\0';
    *out = d;
    *out_len = n;
    return 0;
fail:
    free(d);
    return -1;
}

/* JSON number grammar: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? */
static int parse_number(jparser *p, tt_jv *v) {
    size_t s = p->i;
    if (peek(p) == '-') p->i++;
    if (peek(p) == '0') {
        p->i++;
        if (peek(p) >= '0' && peek(p) <= '9') {
            jfail(p, "leading zeros are not allowed in numbers");
            return -1;
        }
    } else if (peek(p) >= '1' && peek(p) <= '9') {
        while (peek(p) >= '0' && peek(p) <= '9') p->i++;
    } else {
        jfail(p, "expected a digit");
        return -1;
    }
    if (peek(p) == '.') {
        p->i++;
        if (!(peek(p) >= '0' && peek(p) <= '9')) {
            jfail(p, "expected a digit after the decimal point");
            return -1;
        }
        while (peek(p) >= '0' && peek(p) <= '9') p->i++;
    }
    if (peek(p) == 'e' || peek(p) == 'E') {
        p->i++;
        if (peek(p) == '+' || peek(p) == '-') p->i++;
        if (!(peek(p) >= '0' && peek(p) <= '9')) {
            jfail(p, "expected a digit in the exponent");
            return -1;
        }
        while (peek(p) >= '0' && peek(p) <= '9') p->i++;
    }
    char buf[64];
    size_t n = p->i - s;
    if (n >= sizeof buf) {
        p->i = s;
        jfail(p, "number too long");
        return -1;
    }
    memcpy(buf, p->s + s, n);
    buf[n] = '\0';
    errno = 0;
    v->num = strtod(buf, NULL);
    if (errno == ERANGE && (v->num > 1 || v->num < -1)) {
        p->i = s;
        jfail(p, "number %s out of range", buf);
        return -1;
    }
    v->type = TT_JNUM;
    return 0;
}

static int literal(jparser *p, const char *word) {
    size_t n = strlen(word);
    if (p->len - p->i >= n && memcmp(p->s + p->i, word, n) == 0) {
        p->i += n;
        return 1;
    }
    return 0;
}

/* Append one element to a growing array of values (and keys). */
static int grow(jparser *p, tt_jv *v, int *cap, int with_keys) {
    if (v->n < *cap) return 0;
    int nc = *cap ? *cap * 2 : 8;
    tt_jv *it = realloc(v->items, sizeof *it * (size_t)nc);
    if (!it) goto oom;
    v->items = it;
    if (with_keys) {
        char **k = realloc(v->keys, sizeof *k * (size_t)nc);
        if (!k) goto oom;
        v->keys = k;
    }
    *cap = nc;
    return 0;
oom:
    jfail(p, "out of memory");
    return -1;
}

static int parse_array(jparser *p, tt_jv *v, int depth) {
    p->i++;
    v->type = TT_JARR;
    int cap = 0;
    skip_ws(p);
    if (peek(p) == ']') {
        p->i++;
        return 0;
    }
    for (;;) {
        if (grow(p, v, &cap, 0)) return -1;
        memset(&v->items[v->n], 0, sizeof v->items[0]);
        v->n++;
        if (parse_value(p, &v->items[v->n - 1], depth + 1)) return -1;
        skip_ws(p);
        char hb[32];
        if (peek(p) == ',') {
            p->i++;
            skip_ws(p);
            if (peek(p) == ']') {
                jfail(p, "trailing comma before ']'");
                return -1;
            }
            continue;
        }
        if (peek(p) == ']') {
            p->i++;
            return 0;
        }
        jfail(p, "expected ',' or ']' after array element, found %s", here(p, hb, sizeof hb));
        return -1;
    }
}

static int parse_object(jparser *p, tt_jv *v, int depth) {
    p->i++;
    v->type = TT_JOBJ;
    int cap = 0;
    skip_ws(p);
    if (peek(p) == '}') {
        p->i++;
        return 0;
    }
    for (;;) {
        char hb[32];
        skip_ws(p);
        if (peek(p) != '"') {
            jfail(p, "expected a string key, found %s", here(p, hb, sizeof hb));
            return -1;
        }
        if (grow(p, v, &cap, 1)) return -1;
        int kl = p->line, kc = col_of(p);
        char *key;
        size_t klen;
        if (parse_string(p, &key, &klen)) return -1;
        for (int j = 0; j < v->n; j++)
            if (strcmp(v->keys[j], key) == 0) {
                p->line = kl; /* point at the duplicate key */
                p->i = p->line_start + (size_t)(kc - 1);
                jfail(p, "duplicate key \"%s\"", key);
                free(key);
                return -1;
            }
        v->keys[v->n] = key;
        memset(&v->items[v->n], 0, sizeof v->items[0]);
        v->n++;
        skip_ws(p);
        if (peek(p) != ':') {
            jfail(p, "expected ':' after key \"%s\", found %s", key, here(p, hb, sizeof hb));
            return -1;
        }
        p->i++;
        if (parse_value(p, &v->items[v->n - 1], depth + 1)) return -1;
        skip_ws(p);
        if (peek(p) == ',') {
            p->i++;
            skip_ws(p);
            if (peek(p) == '}') {
                jfail(p, "trailing comma before '}'");
                return -1;
            }
            continue;
        }
        if (peek(p) == '}') {
            p->i++;
            return 0;
        }
        jfail(p, "expected ',' or '}' after object member, found %s", here(p, hb, sizeof hb));
        return -1;
    }
}

static int parse_value(jparser *p, tt_jv *v, int depth) {
    char hb[32];
    if (depth > TT_JSON_MAX_DEPTH) {
        jfail(p, "nesting deeper than %d", TT_JSON_MAX_DEPTH);
        return -1;
    }
    skip_ws(p);
    v->line = p->line;
    v->col = col_of(p);
    int c = peek(p);
    switch (c) {
    case '{': return parse_object(p, v, depth);
    case '[': return parse_array(p, v, depth);
    case '"': v->type = TT_JSTR; return parse_string(p, &v->str, &v->str_len);
    case 't':
    case 'f':
    case 'n':
        if (literal(p, "true")) { v->type = TT_JBOOL; v->b = 1; return 0; }
        if (literal(p, "false")) { v->type = TT_JBOOL; v->b = 0; return 0; }
        if (literal(p, "null")) { v->type = TT_JNULL; return 0; }
        break;
    default:
        if (c == '-' || (c >= '0' && c <= '9')) return parse_number(p, v);
    }
    jfail(p, "expected a value, found %s", here(p, hb, sizeof hb));
    return -1;
}

tt_status tt_json_parse(const char *text, size_t len, const char *name, tt_jv *out) {
    memset(out, 0, sizeof *out);
    if (!text) return tt_set_error(TT_E_ARG, "JSON: no text");
    jparser p = {.s = text, .len = len, .line = 1, .name = name};
    /* skip a UTF-8 byte order mark */
    if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0) p.i = p.line_start = 3;
    if (parse_value(&p, out, 0) == 0) {
        skip_ws(&p);
        if (p.i < p.len) {
            char hb[32];
            jfail(&p, "unexpected %s after the top-level value", here(&p, hb, sizeof hb));
        }
    }
    if (p.failed) {
        tt_json_free(out);
        return TT_E_CONFIG;
    }
    return TT_OK;
}

tt_status tt_json_parse_file(const char *path, tt_jv *out) {
    memset(out, 0, sizeof *out);
    char *buf;
    size_t n;
    tt_status st = tt_read_regular(path, "configuration file", (size_t)64 << 20, &buf, &n);
    if (st != TT_OK) return st;
    st = tt_json_parse(buf, n, path, out);
    free(buf);
    return st;
}

size_t tt_json_escape(const char *s, char *out, size_t n) {
    size_t k = 0;
#define PUT(ch)                    \
    do {                           \
        if (k + 1 < n) out[k] = (ch); \
        k++;                       \
    } while (0)
    for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
        if (*c == '"' || *c == '\\') {
            PUT('\\');
            PUT((char)*c);
        } else if (*c < 0x20 || *c == 0x7f) {
            char u[8];
            snprintf(u, sizeof u, "\\u%04x", *c);
            for (int i = 0; u[i]; i++) PUT(u[i]);
        } else {
            PUT((char)*c);
        }
    }
#undef PUT
    if (n) out[k < n ? k : n - 1] = '\0';
    return k;
}

int tt_utf8_valid(const char *s, size_t n) {
    const unsigned char *u = (const unsigned char *)s;
    for (size_t i = 0; i < n;) {
        if (u[i] < 0x80) {
            if (!u[i]) return 0;
            i++;
            continue;
        }
        const int k = utf8_len(u + i, n - i);
        if (!k) return 0;
        i += (size_t)k;
    }
    return 1;
}

void tt_json_free(tt_jv *v) {
    if (!v) return;
    free(v->str);
    for (int i = 0; i < v->n; i++) {
        if (v->items) tt_json_free(&v->items[i]);
        if (v->keys) free(v->keys[i]);
    }
    free(v->items);
    free(v->keys);
    memset(v, 0, sizeof *v);
}

const tt_jv *tt_json_get(const tt_jv *obj, const char *key) {
    if (!obj || obj->type != TT_JOBJ) return NULL;
    for (int i = 0; i < obj->n; i++)
        if (strcmp(obj->keys[i], key) == 0) return &obj->items[i];
    return NULL;
}

const char *tt_json_type_name(tt_jtype t) {
    static const char *const names[] = {"null", "boolean", "number", "string", "array", "object"};
    return ((int)t >= 0 && t <= TT_JOBJ) ? names[t] : "?";
}
