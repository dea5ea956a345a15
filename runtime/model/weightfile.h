/* tritune: the weight file (weightfile.c): reading and writing only.
 *
 * Little-endian.  Header: magic "TRITUNEW", version, file size, checksum,
 * the config as JSON, format and seed, a tensor table (id, kind, shape,
 * scale, offset, bytes); tensors at 4096-byte aligned offsets, in the order
 * of tt_model_tensors() (model/tensors.h), ternary ones in their format's
 * canonical layout.  The checksum covers everything after the first 32
 * bytes.  Written atomically (temp file + rename), loaded with mmap;
 * truncated, corrupt and wrong-version files are TT_E_FORMAT, and so are
 * values out of range (below) with the tensor and the row named.  The
 * path must be a regular file (core/file.h).  While a file is open, a
 * SIGBUS on its mapping (another process truncated it) is reported with
 * its name and the process exits with code 3.
 *
 * The writer generates the tensors from the seed (model/gen.h); building a
 * model from an opened file is model/load.c's job. */
#ifndef TT_MODEL_WEIGHTFILE_H
#define TT_MODEL_WEIGHTFILE_H

#include <stddef.h>
#include <stdint.h>

#include "core/pool.h"
#include "model/config.h"
#include "model/tensors.h"
#include "seam/formats_table.h"

#ifdef __cplusplus
extern "C" {
#endif

#define TT_WF_VERSION 1
/* Value ranges a file must keep (checked on open, whatever its checksum):
 * ternary scales s_w in (0, TT_WF_MAX_SCALE], norm weights finite with
 * |v| <= TT_WF_MAX_NORM, fp16 values (embedding, LM head) finite (|v| <=
 * 65504), codes valid for the format.  The bounds keep every product of
 * the forward pass far from fp32 overflow; real BitNet weights are orders
 * of magnitude inside them (s_w ~ 1e-2 .. 1, norms ~ 1). */
#define TT_WF_MAX_SCALE 1e4f
#define TT_WF_MAX_NORM 1e4f

/* Progress of a long job (what, fraction done in [0, 1]); called on one thread. */
typedef void (*tt_progress_fn)(void *ud, const char *what, double frac);

typedef struct tt_weightfile tt_weightfile;

/* Generate the model of config c from seed in the ternary format fmt and
 * write it to path (threads of pool, may be NULL; progress may be NULL). */
tt_status tt_weightfile_write(const char *path, const tt_config *c, tt_wformat fmt, uint64_t seed, tt_pool *pool,
                              tt_progress_fn progress, void *ud);
/* Map and check a file: header, checksum (threads of pool), config, and a
 * tensor table that lists exactly the config's tensors. */
tt_status tt_weightfile_open(tt_weightfile **wf, const char *path, tt_pool *pool);
void tt_weightfile_close(tt_weightfile *wf);
const tt_config *tt_weightfile_config(const tt_weightfile *wf);
tt_wformat tt_weightfile_format(const tt_weightfile *wf); /* a ternary format */
uint64_t tt_weightfile_seed(const tt_weightfile *wf);

/* One tensor of an opened file; data points into the mapping (valid until
 * tt_weightfile_close). */
typedef struct {
    int id;
    tt_tkind kind;
    int fmt;            /* the file's tt_wformat for TT_TK_TERNARY, else -1 (as stored) */
    int M, K;
    float scale;        /* s_w (ternary), else 1                 */
    const uint8_t *data;
    size_t bytes;
} tt_wf_tensor;
/* The tensor with this id, or NULL when the model has none (a tied LM head). */
const tt_wf_tensor *tt_weightfile_tensor(const tt_weightfile *wf, int id);

/* A 64-bit checksum of our own (4 multiply-rotate lanes per 32-byte
 * stripe, blocks of 1 MiB hashed in parallel and then combined), so a
 * checksum does not depend on the thread count. */
uint64_t tt_hash64(const void *data, size_t n, uint64_t seed);
uint64_t tt_checksum(const void *data, size_t n, tt_pool *pool);

#ifdef __cplusplus
}
#endif
#endif
