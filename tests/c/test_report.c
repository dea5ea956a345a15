/* What the CLI reports: the one stability rule (core/timing.h). */
#include <math.h>
#include <string.h>

#include "core/timing.h"
#include "test_util.h"

static tt_stats stats_of(const double *v, int n) {
    double tmp[64];
    memcpy(tmp, v, sizeof(double) * (size_t)n);
    return tt_stats_compute(tmp, n);
}

static void test_stability(void) {
    /* tight samples: stable */
    const double tight[] = {100, 101, 99, 100, 102, 98, 100, 101};
    tt_stats s = stats_of(tight, 8);
    CHECK(tt_stats_stable(&s), "tight samples unstable: rel_iqr %g", tt_stats_rel_iqr(&s));
    /* one huge outlier (a preempted sample): cv far above 5%, quartiles untouched: stable */
    const double outlier[] = {100, 101, 99, 100, 102, 98, 100, 1000};
    s = stats_of(outlier, 8);
    CHECK(s.cv > 0.05, "outlier cv %g", s.cv);
    CHECK(tt_stats_stable(&s), "one outlier made it unstable: rel_iqr %g", tt_stats_rel_iqr(&s));
    /* a wide spread: unstable even though it is symmetric */
    const double wide[] = {80, 90, 100, 110, 120, 85, 95, 115};
    s = stats_of(wide, 8);
    CHECK(!tt_stats_stable(&s), "wide spread stable: rel_iqr %g", tt_stats_rel_iqr(&s));
    /* the boundary: IQR of exactly 5% of the median is stable, just above is not */
    tt_stats b = {.n = 4, .median = 100, .p25 = 97.5, .p75 = 102.5};
    CHECK(tt_stats_stable(&b), "IQR = 5%% of the median must be stable");
    b.p75 = 102.6;
    CHECK(!tt_stats_stable(&b), "IQR > 5%% of the median must be unstable");
    CHECK(fabs(tt_stats_rel_iqr(&b) - 0.051) < 1e-12, "rel_iqr %g", tt_stats_rel_iqr(&b));
    /* nothing measured, or a median <= 0: never stable, rel_iqr -1 */
    tt_stats z = {0};
    CHECK(!tt_stats_stable(&z) && tt_stats_rel_iqr(&z) == -1, "empty stats");
    /* one repetition: no spread, stable */
    const double one[] = {42};
    s = stats_of(one, 1);
    CHECK(tt_stats_stable(&s) && tt_stats_rel_iqr(&s) == 0, "one sample");
}

int main(void) {
    test_stability();
    TEST_DONE("test_report");
}
