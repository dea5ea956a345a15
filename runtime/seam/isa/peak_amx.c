/* AMX-INT8 peak: tdpbssd on 4 independent 16x16 int32 accumulator tiles
 * from 2 A and 2 B tiles loaded once (no memory traffic in the loop):
 * 16 x 16 x 64 = 16384 multiply-adds per instruction.  The process has
 * been granted tile state by tt_cpu_features() (the caller checks). */
#include <immintrin.h>
#include <string.h>

#include "core/amx.h"
#include "seam/compute.h"

uint64_t tt_peak_loop_amx(uint64_t iters, int32_t *sink) {
    tt_amx_cfg c;
    memset(&c, 0, sizeof c);
    c.palette = 1;
    for (int i = 0; i < 8; i++) c.rows[i] = 16, c.colsb[i] = 64;
    _tile_loadconfig(&c);
    static const int8_t ones[1024] __attribute__((aligned(64))) = {1};
    _tile_zero(0);
    _tile_zero(1);
    _tile_zero(2);
    _tile_zero(3);
    _tile_loadd(4, ones, 64);
    _tile_loadd(5, ones, 64);
    _tile_loadd(6, ones, 64);
    _tile_loadd(7, ones, 64);
    for (uint64_t it = 0; it < iters; it++) {
        _tile_dpbssd(0, 4, 6);
        _tile_dpbssd(1, 4, 7);
        _tile_dpbssd(2, 5, 6);
        _tile_dpbssd(3, 5, 7);
    }
    int32_t out[256] __attribute__((aligned(64)));
    _tile_stored(0, out, 64);
    sink[0] = out[0];
    _tile_release();
    return iters * 4 * 16384;
}
