/* tritune: splitmix64 (Steele, Lea and Flood 2014), the project's one
 * 64-bit mixer, written once.
 *
 * tt_mix64 is splitmix64's finalizer (a bijection of 64-bit words); the
 * generator adds the golden-ratio increment to its state and mixes it.
 * The model's weights are counter-based draws of tt_mix64
 * (model/gen.c), so changing a constant here changes every generated model:
 * the decode tests and the token ids of scripts that quote them would move. */
#ifndef TT_RNG_H
#define TT_RNG_H

#include <stdint.h>

#define TT_GOLDEN64 0x9E3779B97F4A7C15ull /* 2^64 / golden ratio, odd */

static inline uint64_t tt_mix64(uint64_t z) {
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* Next value of the sequential generator whose state is *s. */
static inline uint64_t tt_splitmix64(uint64_t *s) { return tt_mix64(*s += TT_GOLDEN64); }

#endif
