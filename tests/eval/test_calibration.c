/* test_calibration.c — Brier score, reliability bins, expected calibration error and
 * abstention counts against a ten-row example worked out by hand below, edge cases of the
 * bins and of the abstention interval, and Platt's fit on a symmetric case whose answer is
 * known without computing it.
 *
 * The example (p = probability of ALL, y = true label, ŷ = predicted label):
 *
 *   row   p     y  ŷ   (p − y)²   bin (⌊10p⌋, p = 1 → 9)
 *    0   0.05   0  0   0.0025     0
 *    1   0.15   0  0   0.0225     1
 *    2   0.12   1  0   0.7744     1
 *    3   0.25   1  0   0.5625     2
 *    4   0.45   0  0   0.2025     4
 *    5   0.55   1  1   0.2025     5
 *    6   0.75   0  1   0.5625     7
 *    7   0.85   1  1   0.0225     8
 *    8   0.81   1  1   0.0361     8
 *    9   1.00   1  1   0          9
 *
 * Brier = Σ(p − y)² / 10 = 2.388 / 10 = 0.2388.
 * Bins: 0: n 1, mean p 0.05, positives 0 → |gap| 0.05
 *       1: n 2, mean p 0.135, positives 0.5 → 0.365
 *       2: n 1, 0.25 vs 1 → 0.75;   4: 0.45 vs 0 → 0.45;   5: 0.55 vs 1 → 0.45
 *       7: 0.75 vs 0 → 0.75;        8: n 2, mean 0.83 vs 1 → 0.17;   9: 1 vs 1 → 0
 *       3 and 6 empty.
 * ECE = (1·0.05 + 2·0.365 + 0.75 + 0.45 + 0.45 + 0.75 + 2·0.17 + 0) / 10 = 3.52 / 10 = 0.352.
 * Abstention, set aside when P ≤ p ≤ 1 − P:
 *   P = 0.05: [0.05, 0.95] holds every row but row 9 → 9 aside, 1 kept (right): accuracy 1.
 *   P = 0.1:  [0.1, 0.9] → rows 1–8 aside (8), kept rows 0 and 9, both right: accuracy 1.
 *   P = 0.2:  [0.2, 0.8] → rows 3, 4, 5, 6 aside (4); kept 6, row 2 wrong: accuracy 5/6.
 *   P = 0.3:  [0.3, 0.7] → rows 4, 5 aside (2); kept 8, rows 2, 3, 6 wrong: accuracy 5/8. */
#define _POSIX_C_SOURCE 200809L
#include "test_support.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eval/calibration.h"

#define NEAR(a, b) assert_true(fabs((a) - (b)) < 1e-12)

static const double P[10] = {0.05, 0.15, 0.12, 0.25, 0.45, 0.55, 0.75, 0.85, 0.81, 1.0};
static const int32_t Y[10] = {0, 0, 1, 1, 0, 1, 0, 1, 1, 1};
static const int32_t YHAT[10] = {0, 0, 0, 0, 0, 1, 1, 1, 1, 1};

static void brier_and_ece_by_hand(void **state) {
    (void)state;
    NEAR(bs_brier(P, Y, 10), 0.2388);
    bs_reliability_bin bins[10];
    assert_int_equal(bs_reliability(P, Y, 10, 10, bins), 0);
    const int64_t want_n[10] = {1, 2, 1, 0, 1, 1, 0, 1, 2, 1};
    for (int b = 0; b < 10; b++) {
        assert_int_equal(bins[b].n, want_n[b]);
        NEAR(bins[b].lo, b / 10.0);
        NEAR(bins[b].hi, (b + 1) / 10.0);
    }
    NEAR(bins[1].mean_probability, 0.135);
    NEAR(bins[1].fraction_positive, 0.5);
    NEAR(bins[8].mean_probability, 0.83);
    NEAR(bins[8].fraction_positive, 1.0);
    assert_true(isnan(bins[3].mean_probability) && isnan(bins[6].fraction_positive));
    NEAR(bs_ece(bins, 10), 0.352);

    bs_calibration c;
    assert_int_equal(bs_calibration_compute(P, Y, YHAT, 10, &c), 0);
    NEAR(c.brier, 0.2388);
    NEAR(c.ece, 0.352);
    /* no NaN in the JSON: empty bins are null */
    char *buf = NULL;
    size_t len = 0;
    FILE *fp = open_memstream(&buf, &len);
    bs_json_writer w;
    bs_json_writer_init(&w, fp);
    bs_calibration_write_json(&w, NULL, &c);
    fclose(fp);
    assert_null(strstr(buf, "nan"));
    assert_non_null(strstr(buf, "\"mean_probability\": null"));
    free(buf);
}

static void abstention_counts_by_hand(void **state) {
    (void)state;
    const double thr[4] = {0.05, 0.1, 0.2, 0.3};
    const int64_t aside[4] = {9, 8, 4, 2};
    const double acc[4] = {1.0, 1.0, 5.0 / 6, 5.0 / 8};
    for (int k = 0; k < 4; k++) {
        bs_coverage_point pt;
        assert_int_equal(bs_coverage(P, Y, YHAT, 10, thr[k], &pt), 0);
        assert_int_equal(pt.set_aside, aside[k]);
        assert_int_equal(pt.kept, 10 - aside[k]);
        NEAR(pt.coverage, (10 - aside[k]) / 10.0);
        NEAR(pt.accuracy, acc[k]);
    }
    /* results.json's points are P = 0.05, 0.10, …: the same counts at 0.05, 0.1, 0.2, 0.3 */
    bs_calibration c;
    assert_int_equal(bs_calibration_compute(P, Y, YHAT, 10, &c), 0);
    assert_int_equal(c.coverage[0].set_aside, 9);
    assert_int_equal(c.coverage[1].set_aside, 8);
    assert_true(c.coverage[1].abstain == 0.1);
    assert_int_equal(c.coverage[3].set_aside, 4);
    assert_int_equal(c.coverage[5].set_aside, 2);
    /* everything set aside: accuracy undefined, not 0 */
    const double mid[2] = {0.5, 0.4};
    bs_coverage_point pt;
    assert_int_equal(bs_coverage(mid, Y, YHAT, 2, 0.3, &pt), 0);
    assert_int_equal(pt.kept, 0);
    assert_true(isnan(pt.accuracy));
    /* thresholds outside (0, 0.5) and missing probabilities are errors */
    assert_int_equal(bs_coverage(P, Y, YHAT, 10, 0.5, &pt), -1);
    assert_int_equal(bs_coverage(P, Y, YHAT, 10, 0, &pt), -1);
    const double nan1[1] = {NAN};
    assert_int_equal(bs_coverage(nan1, Y, YHAT, 1, 0.1, &pt), -1);
}

static void bins_edges_and_bad_input(void **state) {
    (void)state;
    const double p[4] = {0.0, 0.1, 0.999, 1.0};
    const int32_t y[4] = {0, 0, 1, 1};
    bs_reliability_bin bins[10];
    assert_int_equal(bs_reliability(p, y, 4, 10, bins), 0);
    assert_int_equal(bins[0].n, 1); /* 0 opens the first bin */
    assert_int_equal(bins[1].n, 1); /* 0.1 opens the second */
    assert_int_equal(bins[9].n, 2); /* 1 closes the last */
    const double bad[1] = {1.5};
    assert_int_equal(bs_reliability(bad, y, 1, 10, bins), -1);
    assert_true(isnan(bs_brier(p, y, 0)));
    /* perfectly calibrated and sharp: Brier 0, ECE 0 */
    const double sure[2] = {0.0, 1.0};
    const int32_t sy[2] = {0, 1};
    assert_int_equal(bs_reliability(sure, sy, 2, 10, bins), 0);
    NEAR(bs_brier(sure, sy, 2), 0);
    NEAR(bs_ece(bins, 10), 0);
}

/* Decisions −2, −1, 1, 2 with labels 0, 0, 1, 1: the problem is symmetric under f → −f with the
 * labels swapped, so the fitted intercept is 0 (P(0) = ½) and the slope negative. */
static void platt_symmetric_case(void **state) {
    (void)state;
    const double f[4] = {-2, -1, 1, 2};
    const int32_t y[4] = {0, 0, 1, 1};
    double a, b;
    assert_int_equal(bs_platt_fit(f, y, 4, &a, &b), 0);
    assert_true(a < 0);
    assert_true(fabs(b) < 1e-9);
    NEAR(bs_platt(a, b, 0), 0.5);
    assert_true(bs_platt(a, b, 2) > bs_platt(a, b, 1));
    NEAR(bs_platt(a, b, 1) + bs_platt(a, b, -1), 1.0);
    const int32_t one[4] = {1, 1, 1, 1};
    assert_int_equal(bs_platt_fit(f, one, 4, &a, &b), -1);
    const double inf[2] = {INFINITY, 0};
    assert_int_equal(bs_platt_fit(inf, y + 1, 2, &a, &b), -1);
}

/* Decisions −3, −2, −1 (healthy) and 0, 1, 2, 3 (ALL), three rows each, and one healthy row at
 * +1000. Sorted, s[0..2] = −3, s[3..5] = −2, s[6..8] = −1, …, s[18..20] = 3, s[21] = 1000; the
 * quartiles (linear interpolation over 22 values) sit at positions 5.25 and 15.75:
 * q25 = −2 + 0.25·(−1 − (−2)) = −1.75, q75 = 2, IQR 3.75, fences −1.75 − 11.25 = −13 and
 * 2 + 11.25 = 13.25. So the clipped fit must be Platt's on the same rows with 1000 replaced by
 * 13.25 and the others untouched. Unclipped, the far-out row flattens (here even reverses) the
 * slope. */
static void platt_clipped_at_the_fences(void **state) {
    (void)state;
    double f[22], by_hand[22];
    int32_t y[22];
    for (int i = 0; i < 21; i++) {
        f[i] = by_hand[i] = i / 3 - 3;
        y[i] = i / 3 >= 3;
    }
    f[21] = 1000, by_hand[21] = 13.25, y[21] = 0;
    double a, b, a2, b2, a3, b3;
    assert_int_equal(bs_platt_fit_clipped(f, y, 22, BS_PLATT_CLIP_K, &a, &b), 0);
    assert_int_equal(bs_platt_fit(by_hand, y, 22, &a2, &b2), 0);
    assert_true(a == a2 && b == b2);
    assert_true(a < 0); /* P(ALL) grows with the decision */
    assert_int_equal(bs_platt_fit(f, y, 22, &a3, &b3), 0);
    assert_true(a3 > a / 10);
    /* no spread (IQR 0): nothing clipped */
    const double flat[4] = {1, 1, 1, 5};
    const int32_t fy[4] = {0, 1, 0, 1};
    assert_int_equal(bs_platt_fit_clipped(flat, fy, 4, 3, &a, &b), 0);
    assert_int_equal(bs_platt_fit(flat, fy, 4, &a2, &b2), 0);
    assert_true(a == a2 && b == b2);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(brier_and_ece_by_hand),       cmocka_unit_test(abstention_counts_by_hand),
        cmocka_unit_test(bins_edges_and_bad_input),    cmocka_unit_test(platt_symmetric_case),
        cmocka_unit_test(platt_clipped_at_the_fences),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
