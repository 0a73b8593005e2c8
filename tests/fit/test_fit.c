/* test_fit.c — the one fit (fit/fit.h): it gives bit for bit what the separate calls give
 * (svm alone; autoencoder, latent and svm; the grouped-CV Platt calibration), its optional parts
 * are really absent when not asked for, bad labels and rows are errors that leave nothing
 * behind, bad calls are asserted, and the fraction -> hidden-units rule. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/rng.h"
#include "eval/calibration.h"
#include "eval/eval.h"
#include "fit/fit.h"
#include "test_support.h"

enum { N = 60, D = 8, H = 3, NTR = 40 };

/* Two classes of N rows (N/2 images of 2 views each: groups), positives shifted by +1. */
static float x[N * D];
static int32_t labels[N];
static int64_t group[N], train[NTR], test[N - NTR];

static int setup(void **state) {
    (void)state;
    bs_rng r;
    bs_rng_seed(&r, 5);
    for (int i = 0; i < N; i++) {
        labels[i] = (i / 2) % 2;
        group[i] = i / 2;
        for (int j = 0; j < D; j++)
            x[i * D + j] = (float)(bs_rng_uniform(&r) * 2 - 1 + (labels[i] ? 0.8 : 0) + 0.1 * j);
    }
    for (int i = 0; i < NTR; i++) train[i] = i;
    for (int i = NTR; i < N; i++) test[i - NTR] = i;
    return 0;
}

static bs_matrix all(void) { return bs_matrix_of(x, N, D); }

static void options(bs_fit_options *o, int64_t hidden) {
    bs_fit_options_init(o);
    o->hidden = hidden;
    o->ae.max_epochs = 25;
    o->ae.seed = 31;
    o->svm_seed = 32;
    o->calibration_seed = 33;
    o->encode_all = 1;
}

static void assert_same_decisions(const bs_svm *a, bs_matrix xa, const bs_svm *b, bs_matrix xb) {
    double da[N - NTR], db[N - NTR];
    assert_int_equal(bs_svm_predict(a, xa, test, N - NTR, da, NULL), 0);
    assert_int_equal(bs_svm_predict(b, xb, test, N - NTR, db, NULL), 0);
    assert_memory_equal(da, db, sizeof da);
}

static void svm_alone_is_the_svm_call(void **state) {
    (void)state;
    bs_fit_options o;
    options(&o, 0);
    bs_fitted f;
    assert_int_equal(bs_fit(&f, all(), labels, train, NTR, &o), 0);
    assert_null(f.ae); /* the optional parts are absent */
    assert_null(f.latent.data);
    assert_null(f.fold);
    assert_int_equal(f.calibration_folds, 0);
    assert_ptr_equal(f.features.data, x);
    bs_rng rng;
    bs_rng_seed(&rng, 32);
    bs_svm *ref = bs_svm_fit(all(), labels, train, NTR, &o.svm, &rng);
    assert_non_null(ref);
    assert_same_decisions(f.svm, f.features, ref, all());
    bs_svm_free(ref);
    bs_fitted_free(&f);
    assert_null(f.svm);
}

static void autoencoder_then_svm_is_the_separate_calls(void **state) {
    (void)state;
    bs_fit_options o;
    options(&o, H);
    bs_fitted f;
    if (bs_fit(&f, all(), labels, train, NTR, &o)) fail_msg("%s", bs_error_message());
    assert_non_null(f.ae);
    assert_int_equal(f.latent.rows, N); /* encode_all: every row, test rows included */
    assert_int_equal(f.latent.cols, H);
    assert_ptr_equal(f.features.data, f.latent.data);
    bs_sae_options ae = o.ae;
    ae.hidden = H;
    bs_sae *sae = bs_sae_fit(all(), train, NTR, &ae, NULL);
    float z[N * H];
    assert_int_equal(bs_sae_encode(sae, all(), NULL, N, bs_matrix_mut_of(z, N, H)), 0);
    assert_memory_equal(z, f.latent.data, sizeof z);
    bs_rng rng;
    bs_rng_seed(&rng, 32);
    bs_svm *ref = bs_svm_fit(bs_matrix_of(z, N, H), labels, train, NTR, &o.svm, &rng);
    assert_same_decisions(f.svm, f.features, ref, bs_matrix_of(z, N, H));
    bs_svm_free(ref);
    bs_sae_free(sae);
    bs_fitted_free(&f);

    o.encode_all = 0; /* the fit rows only, in their order */
    assert_int_equal(bs_fit(&f, all(), labels, test, N - NTR, &o), 0);
    assert_int_equal(f.latent.rows, N - NTR);
    bs_fitted_free(&f);

    o.autoencoder_only = 1; /* the paper's shared autoencoder: no labels needed, no SVM */
    o.encode_all = 1;
    assert_int_equal(bs_fit(&f, all(), NULL, NULL, N, &o), 0);
    assert_non_null(f.ae);
    assert_null(f.svm);
    assert_int_equal(f.latent.rows, N);
    bs_fitted_free(&f);
}

static void calibration_is_platt_on_the_grouped_cv(void **state) {
    (void)state;
    bs_fit_options o;
    options(&o, 0);
    o.calibration_folds = 50; /* lowered to the 10 images of each class among the fit rows */
    o.group = group;
    bs_fitted f;
    if (bs_fit(&f, all(), labels, train, NTR, &o)) fail_msg("%s", bs_error_message());
    assert_int_equal(f.calibration_folds, 10);
    assert_non_null(f.fold);
    assert_true(f.platt_a < 0); /* a larger decision is more likely positive */
    int32_t fold[NTR];
    double dec[NTR], a, b;
    bs_rng rng;
    bs_rng_seed(&rng, 33);
    assert_int_equal(bs_folds_grouped(labels, group, NTR, 10, &rng, fold), 0);
    assert_memory_equal(fold, f.fold, sizeof fold);
    assert_int_equal(
        bs_svm_cross_validate(bs_matrix_of(x, NTR, D), labels, fold, 10, &o.svm, &rng, dec, NULL),
        0);
    assert_int_equal(bs_platt_fit_clipped(dec, labels, NTR, BS_PLATT_CLIP_K, &a, &b), 0);
    assert_true(a == f.platt_a && b == f.platt_b);
    bs_fitted_free(&f);
}

static void bad_labels_and_rows_are_errors(void **state) {
    (void)state;
    bs_fit_options o;
    options(&o, H);
    o.calibration_folds = 5;
    int32_t bad[N];
    memcpy(bad, labels, sizeof bad);
    bad[7] = 2;
    bs_fitted f;
    assert_int_equal(bs_fit(&f, all(), bad, NULL, N, &o), -1);
    assert_non_null(strstr(bs_error_message(), "row 7: label 2 is not 0 or 1"));
    assert_null(f.ae); /* refused before anything was fitted */
    const int64_t one_class[4] = {0, 1, 4, 5};
    assert_int_equal(bs_fit(&f, all(), labels, one_class, 4, &o), -1);
    assert_non_null(strstr(bs_error_message(), "both classes"));
    const int64_t outside[2] = {0, N};
    assert_int_equal(bs_fit(&f, all(), labels, outside, 2, &o), -1);
    assert_non_null(strstr(bs_error_message(), "out of range"));
    o.calibration_folds = 0; /* without calibration the classes are the SVM's business */
    o.svm.n_classes = 3;
    assert_int_equal(bs_fit(&f, all(), labels, train, NTR, &o), -1); /* class 2 has no row */
    assert_non_null(strstr(bs_error_message(), "class 2 has no training rows"));
    assert_null(f.ae);
    assert_null(f.svm);
    assert_null(f.latent.data);
}

static void fit_without_data(void *arg) {
    (void)arg;
    bs_fit_options o;
    options(&o, 0);
    bs_fitted f;
    (void)bs_fit(&f, bs_matrix_of(NULL, N, D), labels, train, NTR, &o);
}

static void fit_svm_without_labels(void *arg) {
    (void)arg;
    bs_fit_options o;
    options(&o, 0);
    bs_fitted f;
    (void)bs_fit(&f, all(), NULL, train, NTR, &o);
}

static void fit_all_rows_miscounted(void *arg) {
    (void)arg;
    bs_fit_options o;
    options(&o, 0);
    bs_fitted f;
    (void)bs_fit(&f, all(), labels, NULL, N - 1, &o);
}

static void encode_into_wrong_shape(void *arg) {
    bs_sae *sae = arg;
    float z[N * H];
    (void)bs_sae_encode(sae, all(), NULL, N, bs_matrix_mut_of(z, N - 1, H));
}

static void bad_calls_are_asserted(void **state) {
    (void)state;
    BS_SKIP_WITHOUT_ASSERTS();
    assert_true(bs_test_aborts(fit_without_data, NULL));
    assert_true(bs_test_aborts(fit_svm_without_labels, NULL));
    assert_true(bs_test_aborts(fit_all_rows_miscounted, NULL));
    bs_sae_options ae;
    bs_sae_options_default(&ae);
    ae.hidden = H;
    ae.max_epochs = 2;
    bs_sae *sae = bs_sae_fit(all(), NULL, N, &ae, NULL);
    assert_non_null(sae);
    assert_true(bs_test_aborts(encode_into_wrong_shape, sae));
    bs_sae_free(sae);
}

static void fraction_to_hidden_units(void **state) {
    (void)state;
    assert_int_equal(bs_fit_hidden_units(0, 1024), 0);
    assert_int_equal(bs_fit_hidden_units(0.25, 1024), 256);
    assert_int_equal(bs_fit_hidden_units(0.25, 6), 2);   /* 1.5 rounds away from zero */
    assert_int_equal(bs_fit_hidden_units(0.001, 10), 1); /* at least one unit */
    assert_int_equal(bs_fit_hidden_units(4, 3), 12);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(svm_alone_is_the_svm_call),
        cmocka_unit_test(autoencoder_then_svm_is_the_separate_calls),
        cmocka_unit_test(calibration_is_platt_on_the_grouped_cv),
        cmocka_unit_test(bad_labels_and_rows_are_errors),
        cmocka_unit_test(bad_calls_are_asserted),
        cmocka_unit_test(fraction_to_hidden_units),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
