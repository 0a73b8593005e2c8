/* test_adapt.c — adaptation to a new lab (eval/adapt.h) on data whose answers are known:
 *
 * Scores x come from N(+1, 1) for positives and N(−1, 1) for negatives, so under equal priors
 * the exact posterior is P(positive | x) = 1 / (1 + exp(−2x)): calibrated probabilities under a
 * training prior of 1/2. Prior EM must recover a batch's prior from them; on a batch of
 * negatives only or positives only it must move away from the training mix, never towards it,
 * so it cannot invent positives in a healthy batch (the failure case issue 19 asks to test).
 * Recalibration must recover a known sigmoid from labelled decisions, and fall back to the
 * intercept when the labels hold one class; diagonal CORAL must give the batch the training
 * mean and spread exactly. */
#define _POSIX_C_SOURCE 200809L
#include "test_support.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/rng.h"
#include "eval/adapt.h"
#include "eval/calibration.h"

/* A standard normal draw (Box–Muller). */
static double normal(bs_rng *r) {
    double u = bs_rng_uniform(r), v = bs_rng_uniform(r);
    return sqrt(-2 * log(u > 1e-300 ? u : 1e-300)) * cos(6.283185307179586 * v);
}

/* n rows of a batch with prior `prior`: their exact posteriors under prior 1/2, their labels. */
static void batch(bs_rng *r, int64_t n, double prior, double *p, int32_t *y, double *x) {
    for (int64_t i = 0; i < n; i++) {
        y[i] = bs_rng_uniform(r) < prior;
        x[i] = (y[i] ? 1 : -1) + normal(r);
        p[i] = 1 / (1 + exp(-2 * x[i]));
    }
}

static int64_t positives(const double *p, int64_t n, double shift) {
    int64_t c = 0;
    for (int64_t i = 0; i < n; i++) c += bs_prior_adjust(p[i], shift) > 0.5;
    return c;
}

static void prior_em_recovers_the_batch_prior(void **state) {
    (void)state;
    enum { N = 20000 };
    double *p = malloc(N * sizeof *p), *x = malloc(N * sizeof *x);
    int32_t *y = malloc(N * sizeof *y);
    bs_rng r;
    bs_rng_seed(&r, 7);
    static const double priors[] = {0.05, 0.2, 0.5, 0.8};
    for (size_t k = 0; k < 4; k++) {
        batch(&r, N, priors[k], p, y, x);
        double est;
        int rounds;
        assert_int_equal(bs_prior_em(p, N, 0.5, &est, &rounds), 0);
        assert_true(fabs(est - priors[k]) < 0.02);
        assert_true(rounds > 1 && rounds <= 1000);
        /* The adjusted calls are more accurate than the unadjusted ones. */
        double shift = bs_prior_shift(0.5, est);
        int64_t right_before = 0, right_after = 0;
        for (int64_t i = 0; i < N; i++) {
            right_before += (p[i] > 0.5) == y[i];
            right_after += (bs_prior_adjust(p[i], shift) > 0.5) == y[i];
        }
        if (priors[k] != 0.5) assert_true(right_after > right_before);
    }
    free(p), free(x), free(y);
}

/* A healthy batch: unadjusted, about 16 % of its rows are called positive (x > 0 with x from
 * N(−1, 1)); after EM at most 1 %, and the estimated prior lies below the training prior, far
 * from the mix. An all-positive batch is the mirror image. Also from a training prior of 0.9,
 * where a healthy batch sits furthest from the training mix. */
static void one_class_batches_are_not_pulled_to_the_training_mix(void **state) {
    (void)state;
    enum { N = 2000 };
    double p[N], x[N];
    int32_t y[N];
    bs_rng r;
    bs_rng_seed(&r, 11);
    batch(&r, N, 0, p, y, x);
    double est;
    assert_int_equal(bs_prior_em(p, N, 0.5, &est, NULL), 0);
    int64_t before = positives(p, N, 0), after = positives(p, N, bs_prior_shift(0.5, est));
    assert_true(before > N / 10);
    assert_true(after <= before && after <= N / 100);
    assert_true(est < 0.05);
    /* Probabilities calibrated under a training prior of 0.9: p' = 9·odds. */
    double p9[N];
    for (int i = 0; i < N; i++) p9[i] = bs_prior_adjust(p[i], log(9.0));
    assert_int_equal(bs_prior_em(p9, N, 0.9, &est, NULL), 0);
    assert_true(est < 0.05);
    assert_true(positives(p9, N, bs_prior_shift(0.9, est)) <= N / 100);
    batch(&r, N, 1, p, y, x);
    assert_int_equal(bs_prior_em(p, N, 0.5, &est, NULL), 0);
    before = positives(p, N, 0), after = positives(p, N, bs_prior_shift(0.5, est));
    assert_true(after >= before && after >= N - N / 100);
    assert_true(est > 0.95);
    /* The threshold moves the same way on decisions: P = 1/(1 + exp(-2f)), a = -2, b = 0. */
    double t = bs_prior_threshold(-2, bs_prior_shift(0.5, 0.1));
    assert_true(t > 0);
    assert_true(fabs(bs_prior_adjust(bs_platt(-2, 0, t), bs_prior_shift(0.5, 0.1)) - 0.5) < 1e-9);
    assert_true(bs_prior_threshold(1, 3) == 0);
}

static void prior_em_rejects_bad_input(void **state) {
    (void)state;
    double p[2] = {0.5, 1.5}, est;
    assert_int_equal(bs_prior_em(p, 2, 0.5, &est, NULL), -1);
    assert_non_null(strstr(bs_error_message(), "row 1"));
    p[1] = NAN;
    assert_int_equal(bs_prior_em(p, 2, 0.5, &est, NULL), -1);
    p[1] = 0.2;
    assert_int_equal(bs_prior_em(p, 2, 1.0, &est, NULL), -1);
    assert_int_equal(bs_prior_em(p, 0, 0.5, &est, NULL), -1);
    /* Certain probabilities give a prior at the bound, not 0 or 1. */
    double zeros[3] = {0, 0, 0};
    assert_int_equal(bs_prior_em(zeros, 3, 0.5, &est, NULL), 0);
    assert_true(est == BS_ADAPT_PRIOR_MIN);
    assert_true(isfinite(bs_prior_shift(0.5, est)));
    bs_adapt_method m;
    assert_int_equal(bs_adapt_parse("coral", &m), 0);
    assert_int_equal(m, BS_ADAPT_CORAL);
    assert_string_equal(bs_adapt_name(BS_ADAPT_PRIOR), "prior");
    assert_int_equal(bs_adapt_parse("CORAL", &m), -1);
}

static void recalibration_from_labels(void **state) {
    (void)state;
    enum { N = 400 };
    double f[N];
    int32_t y[N];
    bs_rng r;
    bs_rng_seed(&r, 3);
    /* Labels drawn from P = 1/(1 + exp(-1.5 f + 1)): the new lab's own sigmoid. */
    for (int i = 0; i < N; i++) {
        f[i] = 6 * bs_rng_uniform(&r) - 3;
        y[i] = bs_rng_uniform(&r) < bs_platt(-1.5, 1, f[i]);
    }
    double a, b, t;
    int full;
    assert_int_equal(bs_recalibrate(f, y, N, -4, &a, &b, &t, &full), 0);
    assert_true(full);
    assert_true(fabs(a + 1.5) < 0.4 && fabs(b - 1) < 0.4);
    assert_true(fabs(t + b / a) < 1e-12 && fabs(bs_platt(a, b, t) - 0.5) < 1e-12);
    /* Ten healthy cells: the intercept alone, with the slope kept; the mean probability equals
     * Platt's smoothed target 1/(10 + 2), and every one of them falls below the threshold. */
    double h[10] = {-2, -1.5, -1, -0.5, 0, 0.2, -3, -2.5, -0.1, -1.2};
    int32_t zero[10] = {0};
    assert_int_equal(bs_recalibrate(h, zero, 10, -2, &a, &b, &t, &full), 0);
    assert_false(full);
    assert_true(a == -2);
    double mean = 0;
    for (int i = 0; i < 10; i++) mean += bs_platt(a, b, h[i]) / 10;
    assert_true(fabs(mean - 1.0 / 12) < 1e-9);
    for (int i = 0; i < 10; i++) assert_true(h[i] < t);
    /* Five positives among ten: too few for the slope, intercept only; the mean probability
     * is the smoothed targets' mean, (5·6/7 + 5·1/7) / 10 = 1/2. */
    int32_t two[10] = {1, 1, 1, 1, 1, 0, 0, 0, 0, 0};
    assert_int_equal(bs_recalibrate(h, two, 10, -2, &a, &b, &t, &full), 0);
    assert_false(full);
    mean = 0;
    for (int i = 0; i < 10; i++) mean += bs_platt(a, b, h[i]) / 10;
    assert_true(fabs(mean - 0.5) < 1e-9);
    assert_int_equal(bs_recalibrate(h, zero, 10, 0.5, &a, &b, &t, &full), -1);
    assert_int_equal(bs_recalibrate(h, zero, 0, -1, &a, &b, &t, &full), -1);
    int32_t bad[1] = {2};
    assert_int_equal(bs_recalibrate(h, bad, 1, -1, &a, &b, &t, &full), -1);
}

static void coral_diagonal_gives_the_training_statistics(void **state) {
    (void)state;
    enum { N = 50, W = 3 };
    float x[N * W], out[N * W];
    bs_rng r;
    bs_rng_seed(&r, 5);
    for (int i = 0; i < N; i++) {
        x[i * W] = (float)(10 + 4 * normal(&r));
        x[i * W + 1] = (float)(-3 + 0.1 * normal(&r));
        x[i * W + 2] = 7; /* constant in the batch */
    }
    const double mean[W] = {0, 1, 2}, sd[W] = {1, 2, 3};
    assert_int_equal(bs_coral_diagonal(bs_matrix_of(x, N, W), NULL, N, mean, sd, out), 0);
    for (int c = 0; c < 2; c++) {
        double m = 0, v = 0;
        for (int i = 0; i < N; i++) m += out[i * W + c] / (double)N;
        for (int i = 0; i < N; i++) v += (out[i * W + c] - m) * (out[i * W + c] - m) / N;
        assert_true(fabs(m - mean[c]) < 1e-4 && fabs(sqrt(v) - sd[c]) < 1e-4);
    }
    for (int i = 0; i < N; i++) assert_true(out[i * W + 2] == 2.0f);
    /* The order of the batch's rows is kept; rows picked by index. */
    int64_t rows[2] = {4, 9};
    float two[2 * W];
    assert_int_equal(bs_coral_diagonal(bs_matrix_of(x, N, W), rows, 2, mean, sd, two), 0);
    assert_true((two[0] < two[W]) == (x[4 * W] < x[9 * W]));
    assert_int_equal(bs_coral_diagonal(bs_matrix_of(x, N, W), rows, 1, mean, sd, two), -1);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(prior_em_recovers_the_batch_prior),
        cmocka_unit_test(one_class_batches_are_not_pulled_to_the_training_mix),
        cmocka_unit_test(prior_em_rejects_bad_input),
        cmocka_unit_test(recalibration_from_labels),
        cmocka_unit_test(coral_diagonal_gives_the_training_statistics),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
