/* tritune: model configurations (models/dummy/<name>.json): parse and validate. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/json.h"
#include "model/config.h"

const char *tt_activation_name(tt_activation a) { return a == TT_ACT_RELU2 ? "relu2" : a == TT_ACT_SILU ? "silu" : "?"; }

/* Largest dimension accepted: keeps every derived int product (q_dim,
 * vocab * hidden rows) and size_t byte count far from overflow. */
#define TT_CFG_MAX_DIM (1 << 20)

/* Where a value error points: the file and the parsed document (its
 * members' lines and columns), or neither for a config built in memory. */
typedef struct {
    const char *file;   /* NULL: messages start with the config's name */
    const tt_jv *root;
} vloc;

/* "file:line:col: msg" at the member `key` (the first of a relation), or
 * "file: msg" when the key is absent (a default), or "name: msg". */
__attribute__((format(printf, 4, 5))) static tt_status vbad(const vloc *at, const tt_config *c, const char *key,
                                                            const char *fmt, ...) {
    char msg[300];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    const tt_jv *v = at && at->root ? tt_json_get(at->root, key) : NULL;
    if (v) return tt_set_error(TT_E_CONFIG, "%s:%d:%d: %s", at->file, v->line, v->col, msg);
    return tt_set_error(TT_E_CONFIG, "%s: %s", at && at->file ? at->file : c->name, msg);
}

static tt_status validate_at(const tt_config *c, const vloc *at) {
    const struct { const char *name; int v; } pos[] = {
        {"hidden", c->hidden}, {"ffn", c->ffn}, {"layers", c->layers}, {"heads", c->heads},
        {"kv_heads", c->kv_heads}, {"vocab", c->vocab}, {"max_seq", c->max_seq},
    };
    for (size_t i = 0; i < sizeof pos / sizeof pos[0]; i++) {
        if (pos[i].v <= 0) return vbad(at, c, pos[i].name, "%s = %d, must be a positive integer", pos[i].name, pos[i].v);
        if (pos[i].v > TT_CFG_MAX_DIM)
            return vbad(at, c, pos[i].name, "%s = %d is larger than the supported %d", pos[i].name, pos[i].v,
                        TT_CFG_MAX_DIM);
    }
    if (c->hidden % c->heads != 0)
        return vbad(at, c, "heads", "heads = %d does not divide hidden = %d", c->heads, c->hidden);
    if (c->heads % c->kv_heads != 0)
        return vbad(at, c, "kv_heads", "kv_heads = %d does not divide heads = %d (grouped-query attention)",
                    c->kv_heads, c->heads);
    if (c->head_dim <= 0 || c->head_dim > TT_CFG_MAX_DIM)
        return vbad(at, c, "head_dim", "head_dim = %d, must be a positive integer", c->head_dim);
    if (c->head_dim % 2 != 0)
        return vbad(at, c, "head_dim", "head_dim = %d must be even (RoPE rotates pairs)", c->head_dim);
    if ((long long)c->heads * c->head_dim > TT_CFG_MAX_DIM)
        return vbad(at, c, "head_dim", "heads * head_dim = %lld is too large", (long long)c->heads * c->head_dim);
    if (c->act != TT_ACT_RELU2 && c->act != TT_ACT_SILU) return vbad(at, c, "activation", "unknown activation");
    if (!(c->rope_theta > 1.0f) || !isfinite(c->rope_theta))
        return vbad(at, c, "rope_theta", "rope_theta = %g must be a finite number > 1", c->rope_theta);
    if (!(c->norm_eps > 0.0f) || !(c->norm_eps < 1.0f))
        return vbad(at, c, "norm_eps", "norm_eps = %g must be in (0, 1)", c->norm_eps);
    if (!tt_utf8_valid(c->name, strlen(c->name)))
        return vbad(at, c, "name", "the name is not valid UTF-8");
    for (const char *q = c->name; *q; q++)
        if ((unsigned char)*q < 0x20 || *q == 0x7f)
            return vbad(at, c, "name", "the name holds a control character (0x%02x)", (unsigned char)*q);
    return TT_OK;
}

tt_status tt_config_validate(const tt_config *c) { return validate_at(c, NULL); }

static tt_status get_int(const tt_jv *root, const char *name, const char *key, int required, int *out) {
    const tt_jv *v = tt_json_get(root, key);
    if (!v) {
        if (required) return tt_set_error(TT_E_CONFIG, "%s: missing required field \"%s\"", name, key);
        return TT_OK;
    }
    if (v->type != TT_JNUM || v->num != floor(v->num) || fabs(v->num) > 2147483647.0)
        return tt_set_error(TT_E_CONFIG, "%s:%d:%d: \"%s\" must be an integer, found %s", name, v->line, v->col, key,
                            v->type == TT_JNUM ? "a fraction or huge number" : tt_json_type_name(v->type));
    *out = (int)v->num;
    return TT_OK;
}

static tt_status get_num(const tt_jv *root, const char *name, const char *key, int required, float *out) {
    const tt_jv *v = tt_json_get(root, key);
    if (!v) {
        if (required) return tt_set_error(TT_E_CONFIG, "%s: missing required field \"%s\"", name, key);
        return TT_OK;
    }
    if (v->type != TT_JNUM)
        return tt_set_error(TT_E_CONFIG, "%s:%d:%d: \"%s\" must be a number, found %s", name, v->line, v->col, key,
                            tt_json_type_name(v->type));
    *out = (float)v->num;
    return TT_OK;
}

static const char *const known_keys[] = {"name", "hidden", "ffn", "layers", "heads", "kv_heads", "head_dim",
                                         "vocab", "activation", "rope_theta", "norm_eps", "tied_lm_head",
                                         "max_seq", "source", "comment"};

static tt_status from_json(tt_config *c, const tt_jv *root, const char *name) {
    memset(c, 0, sizeof *c);
    if (root->type != TT_JOBJ) return tt_set_error(TT_E_CONFIG, "%s: top level must be an object", name);
    for (int i = 0; i < root->n; i++) {
        int ok = 0;
        for (size_t j = 0; j < sizeof known_keys / sizeof known_keys[0]; j++) ok |= !strcmp(root->keys[i], known_keys[j]);
        if (!ok)
            return tt_set_error(TT_E_CONFIG, "%s:%d:%d: unknown field \"%s\"", name, root->items[i].line,
                                root->items[i].col, root->keys[i]);
    }
    const char *base = strrchr(name, '/');
    snprintf(c->name, sizeof c->name, "%s", base ? base + 1 : name);
    const tt_jv *v = tt_json_get(root, "name");
    if (v) {
        if (v->type != TT_JSTR || v->str_len == 0 || v->str_len >= sizeof c->name)
            return tt_set_error(TT_E_CONFIG, "%s: \"name\" must be a non-empty string shorter than %zu bytes", name,
                                sizeof c->name);
        snprintf(c->name, sizeof c->name, "%s", v->str);
    }
    tt_status st;
    if ((st = get_int(root, name, "hidden", 1, &c->hidden)) || (st = get_int(root, name, "ffn", 1, &c->ffn)) ||
        (st = get_int(root, name, "layers", 1, &c->layers)) || (st = get_int(root, name, "heads", 1, &c->heads)) ||
        (st = get_int(root, name, "vocab", 1, &c->vocab)))
        return st;
    c->kv_heads = c->heads;
    c->head_dim = (c->heads > 0 && c->hidden % c->heads == 0) ? c->hidden / c->heads : 0;
    c->max_seq = 2048;
    c->rope_theta = 10000.0f;
    c->norm_eps = 1e-5f;
    if ((st = get_int(root, name, "kv_heads", 0, &c->kv_heads)) || (st = get_int(root, name, "head_dim", 0, &c->head_dim)) ||
        (st = get_int(root, name, "max_seq", 0, &c->max_seq)) ||
        (st = get_num(root, name, "rope_theta", 0, &c->rope_theta)) ||
        (st = get_num(root, name, "norm_eps", 0, &c->norm_eps)))
        return st;
    v = tt_json_get(root, "activation");
    if (!v) return tt_set_error(TT_E_CONFIG, "%s: missing required field \"activation\" (relu2 or silu)", name);
    if (v->type != TT_JSTR) return tt_set_error(TT_E_CONFIG, "%s: \"activation\" must be a string", name);
    if (!strcmp(v->str, "relu2")) c->act = TT_ACT_RELU2;
    else if (!strcmp(v->str, "silu")) c->act = TT_ACT_SILU;
    else return tt_set_error(TT_E_CONFIG, "%s:%d:%d: unknown activation \"%s\" (relu2 or silu)", name, v->line, v->col, v->str);
    v = tt_json_get(root, "tied_lm_head");
    if (v) {
        if (v->type != TT_JBOOL) return tt_set_error(TT_E_CONFIG, "%s: \"tied_lm_head\" must be true or false", name);
        c->tied_lm_head = v->b;
    }
    return validate_at(c, &(vloc){name, root});
}

tt_status tt_config_parse(tt_config *c, const char *json, size_t len, const char *name) {
    tt_jv root;
    if (!name) name = "config";
    tt_status st = tt_json_parse(json, len, name, &root);
    if (st != TT_OK) return st;
    st = from_json(c, &root, name);
    tt_json_free(&root);
    return st;
}

tt_status tt_config_load(tt_config *c, const char *path) {
    tt_jv root;
    memset(c, 0, sizeof *c);
    tt_status st = tt_json_parse_file(path, &root);
    if (st != TT_OK) return st;
    st = from_json(c, &root, path);
    tt_json_free(&root);
    return st;
}

double tt_config_ternary_params(const tt_config *c) {
    double d = c->hidden, q = tt_config_qdim(c), kv = tt_config_kvdim(c), f = c->ffn;
    return c->layers * (d * q * 2 + d * kv * 2 + 3 * d * f);
}

double tt_config_params(const tt_config *c) {
    double emb = (double)c->vocab * c->hidden * (c->tied_lm_head ? 1 : 2);
    double norms = (double)c->hidden + c->layers * (2.0 * c->hidden + tt_config_qdim(c) + c->ffn);
    return tt_config_ternary_params(c) + emb + norms;
}
