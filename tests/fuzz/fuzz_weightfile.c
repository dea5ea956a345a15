/* Fuzz target: the weight-file reader (model/weightfile.c): header, tensor
 * table, config, data; then the model built from an accepted file and two
 * forward passes.
 *
 * Built twice: fuzz_weightfile takes the bytes as they are (so nearly every
 * mutation stops at the checksum), fuzz_weightfile_ck (FUZZ_RECOMPUTE_CHECKSUM)
 * first writes the input's real size and checksum into the header, as a
 * crafted file would, so the mutations reach the table and value checks.
 * Properties: no crash or sanitizer report; an accepted file builds a model
 * whose forward pass either fails cleanly or gives finite logits. */
#define _GNU_SOURCE
#include <math.h>
#include <string.h>

#include "fuzz_util.h"
#include "model/model.h"

static void run_model(tt_weightfile *wf) {
    const tt_config *c = tt_weightfile_config(wf);
    if ((double)c->vocab * c->hidden > (1 << 22) || tt_config_params(c) > 4e6) return; /* keep an input fast */
    tt_model_opts o;
    tt_model_opts_default(&o);
    o.format = tt_weightfile_format(wf);
    o.batch = 2;
    o.seq = 4;
    tt_model m;
    if (tt_model_init(&m, c, &o, wf, NULL) != TT_OK) return;
    tt_state s;
    if (tt_state_init(&s, &m, 1) == TT_OK) {
        const int toks[3] = {0, 1 % c->vocab, 2 % c->vocab};
        tt_status st = tt_model_prefill(&m, &s, toks, 3, NULL);
        if (st == TT_OK)
            for (int i = 0; i < c->vocab; i++) FUZZ_ASSERT(isfinite(s.logits[i]), "logit %d = %g reported ok", i, s.logits[i]);
        tt_state_free(&s);
    }
    tt_model_free(&m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
#ifdef FUZZ_RECOMPUTE_CHECKSUM
    uint8_t *buf = malloc(size ? size : 1);
    memcpy(buf, data, size);
    if (size >= 32) {
        const uint64_t n = size, ck = tt_checksum(buf + 32, size - 32, NULL);
        memcpy(buf + 16, &n, 8);
        memcpy(buf + 24, &ck, 8);
    }
    const char *path = fuzz_file(buf, size);
    free(buf);
#else
    const char *path = fuzz_file(data, size);
#endif
    tt_weightfile *wf = NULL;
    if (tt_weightfile_open(&wf, path, NULL) != TT_OK) return 0;
    run_model(wf);
    tt_weightfile_close(wf);
    return 0;
}
