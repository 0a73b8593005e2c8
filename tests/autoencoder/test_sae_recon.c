/* test_sae_recon.c — bs_sae_reconstruction_error: per-row errors in original units whose mean
 * over the training rows is the loss's error term (computed independently, in double, by the
 * reference objective), row selection, and argument checks. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "autoencoder/autoencoder.h"
#include "autoencoder/autoencoder_test.h"
#include "core/error.h"
#include "core/rng.h"
#include "test_support.h"

enum { N = 40, D = 12, H = 4 };

static void recon_error_is_the_loss_error_term(void **state) {
    (void)state;
    float x[N * D];
    bs_rng r;
    bs_rng_seed(&r, 9);
    for (int i = 0; i < N * D; i++) x[i] = (float)(10 * bs_rng_uniform(&r) * (1 + i % D));
    bs_sae_options o;
    bs_sae_options_default(&o);
    o.hidden = H;
    o.max_epochs = 25;
    bs_sae *m = bs_sae_fit(bs_matrix_of(x, N, D), NULL, N, &o, NULL);
    assert_non_null(m);
    double err[N];
    assert_int_equal(bs_sae_reconstruction_error(m, bs_matrix_of(x, N, D), NULL, N, err), 0);
    double mean = 0;
    for (int i = 0; i < N; i++) {
        assert_true(isfinite(err[i]) && err[i] >= 0);
        mean += err[i] / N;
    }
    /* the reference: SSE/(N·D) alone, in double, at the model's (float) weights */
    sae_hyper hp = {0, 0, 0.05, SAE_TERM_MSE};
    sae_objective *obj = bs_sae_objective_new(BS_SAE_FLOAT64, x, D, NULL, N, H, &m->mm, &hp);
    assert_non_null(obj);
    int64_t np = sae_nparams(D, H);
    double *w = malloc(sizeof(double) * (size_t)np), perf;
    for (int64_t i = 0; i < np; i++) w[i] = m->w[i];
    assert_int_equal(bs_sae_objective_eval(obj, w, NULL, 0, &perf, NULL), 0);
    assert_true(fabs(mean - perf) <= 1e-5 * perf);
    /* rows: the same values, selected */
    int64_t rows[3] = {7, 0, 39};
    double sel[3];
    assert_int_equal(bs_sae_reconstruction_error(m, bs_matrix_of(x, N, D), rows, 3, sel), 0);
    for (int i = 0; i < 3; i++) assert_true(fabs(sel[i] - err[rows[i]]) <= 1e-6 * err[rows[i]]);
    /* a row far from the data reconstructs worse than every training row */
    float odd[D];
    for (int j = 0; j < D; j++) odd[j] = (float)(j % 2 ? 0 : 30 * (1 + j));
    double e_odd;
    assert_int_equal(bs_sae_reconstruction_error(m, bs_matrix_of(odd, 1, D), NULL, 1, &e_odd), 0);
    for (int i = 0; i < N; i++) assert_true(e_odd > err[i]);
    /* checks */
    assert_int_equal(bs_sae_reconstruction_error(m, bs_matrix_of(x, N, D - 1), NULL, N, err), -1);
    int64_t bad = N;
    assert_int_equal(bs_sae_reconstruction_error(m, bs_matrix_of(x, N, D), &bad, 1, err), -1);
    x[5] = NAN;
    assert_int_equal(bs_sae_reconstruction_error(m, bs_matrix_of(x, N, D), NULL, N, err), -1);
    free(w);
    bs_sae_objective_free(obj);
    bs_sae_free(m);
}

int main(void) {
    const struct CMUnitTest tests[] = {cmocka_unit_test(recon_error_is_the_loss_error_term)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
