/* tritune: bit-exact verification of a variant against its scalar reference.
 *
 * Cases: random inputs over edge sizes (M in 1, tile-1, tile, tile+1,
 * 2*tile+3; K around the block and unroll sizes and real sizes; N around
 * the token block; for tile kernels 15..17, 33, 255..257, 511..513
 * tokens), and adversarial saturating inputs (all weights equal,
 * activations at -128/127) at sizes past every int16 window.  Outputs are
 * int32 compared with memcmp; guard words around and between output rows
 * must be untouched; the kernel is also called on split row ranges, as the
 * thread pool does.  Fixed seeds. */
#ifndef TT_VERIFY_H
#define TT_VERIFY_H

#include <stdint.h>

#include "seam/variant.h"

typedef struct {
    int cases;            /* kernel calls compared                  */
    int failures;         /* mismatching or guard-violating calls   */
    char first[512];      /* description of the first failure       */
} tt_verify_result;

/* level 0: the standard set; 1: more seeds and sizes (slower). */
tt_status tt_verify_variant(const tt_variant *v, uint64_t seed, int level, tt_verify_result *r);

#endif
