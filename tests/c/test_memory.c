/* tritune: the memory plan (quiet unless failing): dummy-100b's ternary
 * weights at 2 bpw; the check refuses a model that does not fit, names
 * what it needs and what MemAvailable is, and names the formats that fit. */
#include <string.h>

#include "model/model.h"
#include "test_util.h"

static void test_memory(void) {
    tt_config c;
    if (tt_config_load(&c, "models/dummy/dummy-100b.json") != TT_OK) return;
    tt_model_opts o;
    tt_model_opts_default(&o);
    tt_model_mem mem;
    CHECK(tt_model_memory(&c, &o, &mem) == TT_OK, "memory plan: %s", tt_last_error());
    /* 2 bpw on ~99.9e9 ternary weights = 25.0 GB */
    CHECK(mem.ternary > 24.5e9 && mem.ternary < 26e9, "dummy-100b i2s weights %.3g bytes", mem.ternary);
    const long long avail = 24LL << 30;
    tt_status st = tt_model_check_memory(&c, &o, avail);
    CHECK(st == TT_E_NOMEM, "dummy-100b i2s in 24 GiB should not fit");
    CHECK(strstr(tt_last_error(), "needs") && strstr(tt_last_error(), "MemAvailable is 24.00 GiB"), "message: %s",
          tt_last_error());
    CHECK(tt_model_check_memory(&c, &o, 1LL << 40) == TT_OK, "1 TiB should fit: %s", tt_last_error());
    if (tt_config_load(&c, "models/dummy/tiny.json") != TT_OK) return;
    st = tt_model_check_memory(&c, &o, 4096);
    CHECK(st == TT_E_NOMEM && strstr(tt_last_error(), "no available format fits"), "tiny in 4 KiB: %s", tt_last_error());
    o.format = TT_FMT_FP16;
    CHECK(tt_model_check_memory(&c, &o, 1LL << 30) == TT_OK, "tiny fp16 in 1 GiB: %s", tt_last_error());
}


int main(void) {
    test_memory();
    TEST_DONE("test_memory");
}
