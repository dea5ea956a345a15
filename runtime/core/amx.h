/* tritune: the AMX tile configuration operand (ldtilecfg, palette 1): bytes
 * per row and rows of each of the 16 tile registers.  Shared by the AMX
 * GEMM kernels (templates/_amx_unit.j2) and the AMX compute probe. */
#ifndef TT_AMX_H
#define TT_AMX_H

#include <stdint.h>

typedef struct {
    uint8_t palette, start_row, reserved[14];
    uint16_t colsb[16];
    uint8_t rows[16];
} __attribute__((packed, aligned(64))) tt_amx_cfg;
_Static_assert(sizeof(tt_amx_cfg) == 64, "ldtilecfg takes 64 bytes");

#endif
