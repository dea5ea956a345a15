/* tritune: the tensor walk and the seeded generators (quiet unless failing). */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "formats/formats.h"
#include "model/gen.h"
#include "model/tensors.h"
#include "test_util.h"

/* The one walk over a model's tensors: ids in order, roles and layers,
 * BitNet-b1.58-2B-4T's published shapes, the LM head only when untied, and
 * ternary weights that add up to the config's count. */
static void test_tensors(void) {
    tt_config c;
    CHECK(tt_config_load(&c, "models/dummy/bitnet-b1.58-2b-4t.json") == TT_OK, "%s", tt_last_error());
    tt_tdesc *td;
    int n;
    CHECK(tt_model_tensor_list(&c, &td, &n) == TT_OK, "%s", tt_last_error());
    CHECK(c.tied_lm_head && n == 2 + TT_TL_COUNT * c.layers, "%d tensors", n);
    CHECK(n == tt_model_tensors(&c, NULL), "the two walks differ");
    double ternary = 0;
    int seen = 0;
    for (int i = 0; i < n; i++) {
        CHECK(i == 0 || td[i].id > td[i - 1].id, "ids out of order at %d", i);
        CHECK(strcmp(td[i].role, "?") && !strcmp(td[i].role, tt_tensor_role(td[i].id)), "role of %d", td[i].id);
        CHECK(td[i].layer == tt_tensor_layer(td[i].id), "layer of %d", td[i].id);
        if (td[i].kind == TT_TK_TERNARY) ternary += (double)td[i].M * td[i].K;
        if (td[i].layer != 0 || td[i].kind != TT_TK_TERNARY) continue;
        const struct { const char *role; int M, K; } want[] = {
            {"wq", 2560, 2560}, {"wk", 640, 2560}, {"wv", 640, 2560}, {"wo", 2560, 2560},
            {"wgate", 6912, 2560}, {"wup", 6912, 2560}, {"wdown", 2560, 6912}};
        for (size_t j = 0; j < sizeof want / sizeof want[0]; j++)
            if (!strcmp(td[i].role, want[j].role)) {
                seen++;
                CHECK(td[i].M == want[j].M && td[i].K == want[j].K, "%s is %dx%d", want[j].role, td[i].M, td[i].K);
            }
    }
    CHECK(seen == 7, "%d of the 7 BitLinears of layer 0 found", seen);
    CHECK(ternary == tt_config_ternary_params(&c), "ternary weights %.0f, config says %.0f", ternary,
          tt_config_ternary_params(&c));
    free(td);
    c.tied_lm_head = 0;
    CHECK(tt_model_tensor_list(&c, &td, &n) == TT_OK && n == 3 + TT_TL_COUNT * c.layers && td[1].id == TT_T_LMHEAD &&
              !strcmp(td[1].role, "lm_head"),
          "untied LM head not listed second");
    free(td);
    CHECK(!strcmp(tt_tensor_role(tt_tensor_id(3, TT_TL_WUP)), "wup") && !strcmp(tt_tensor_role(TT_T_FINAL_NORM), "final_norm") &&
              !strcmp(tt_tensor_role(-1), "?"),
          "roles");
}

/* The generator's distribution: P(-1) = P(0) = P(+1) = TT_MODEL_P_ZERO =
 * 1/3 over 1.2M weights (10 standard deviations = 0.0043), zero padding,
 * rows that differ, and a stream that depends on the seed. */
static void test_generator(void) {
    const int K = 1000, R = 1200; /* K % 128 != 0: the last block is padded */
    uint8_t row[1024], row2[1024];
    int8_t w[1000];
    long cnt[3] = {0, 0, 0};
    int same_rows = 0, bad_pad = 0;
    for (int r = 0; r < R; r++) {
        tt_gen_i2s_row(5, tt_tensor_id(0, TT_TL_WQ), r, K, row);
        tt_i2s_row_to_i8(row, K, w);
        for (int k = 0; k < K; k++) cnt[w[k] + 1]++;
        bad_pad += tt_i2s_validate(row, 1, K) != TT_OK;
        if (r) same_rows += memcmp(row, row2, tt_i2s_row_bytes(K)) == 0;
        memcpy(row2, row, tt_i2s_row_bytes(K));
    }
    const double n = (double)K * R;
    for (int v = 0; v < 3; v++)
        CHECK(fabs(cnt[v] / n - TT_MODEL_P_ZERO) < 0.0043, "P(w = %d) = %.4f, expected 1/3", v - 1, cnt[v] / n);
    CHECK(bad_pad == 0 && same_rows == 0, "generator: %d rows with bad padding, %d repeated rows", bad_pad, same_rows);
    tt_gen_i2s_row(6, tt_tensor_id(0, TT_TL_WQ), 0, K, row2);
    tt_gen_i2s_row(5, tt_tensor_id(0, TT_TL_WQ), 0, K, row);
    CHECK(memcmp(row, row2, tt_i2s_row_bytes(K)) != 0, "generator ignores the seed");
    const float s1 = tt_gen_scale(5, tt_tensor_id(0, TT_TL_WQ), K), s2 = tt_gen_scale(5, tt_tensor_id(0, TT_TL_WK), K);
    CHECK(s1 != s2 && s1 >= 0.9f * sqrtf(1.5f / K) && s1 <= 1.1f * sqrtf(1.5f / K), "scales %g %g", s1, s2);
}


int main(void) {
    test_tensors();
    test_generator();
    TEST_DONE("test_gen");
}
