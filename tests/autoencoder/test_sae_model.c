/* test_sae_model.c — the msesparse loss and gradient: analytic gradient against central finite
 * differences in double for each loss term alone and all together; float32 (dnnl_sgemm) path
 * against the float64 path; mapminmax edge cases. */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "autoencoder/autoencoder_test.h"
#include "core/error.h"
#include "core/rng.h"
#include "test_support.h"

enum { N = 20, D = 12, H = 5 };

/* N × D samples with per-feature ranges from 0.1 to 20, one constant feature (column 4). */
static void make_data(float *x, uint64_t seed) {
    bs_rng r;
    bs_rng_seed(&r, seed);
    for (int i = 0; i < N; i++)
        for (int j = 0; j < D; j++) {
            double scale = 0.1 + 2.0 * j, shift = j % 3 == 0 ? -5.0 : 1.0;
            x[i * D + j] = (float)(shift + scale * bs_rng_uniform(&r));
        }
    for (int i = 0; i < N; i++) x[i * D + 4] = 3.5f;
}

static void random_weights(double *w, int64_t n, double amp, uint64_t seed) {
    bs_rng r;
    bs_rng_seed(&r, seed);
    for (int64_t i = 0; i < n; i++) w[i] = amp * (2 * bs_rng_uniform(&r) - 1);
}

/* max_i |analytic_i − numeric_i| / max_i |analytic_i|, numeric by central differences. */
static double gradient_error(unsigned terms, double *scale_out) {
    float x[N * D];
    make_data(x, 7);
    bs_mapminmax mm;
    assert_int_equal(bs_mapminmax_fit(&mm, x, D, NULL, N), 0);
    sae_hyper hp = {0.01, 0.7, 0.05, terms};
    sae_objective *o = bs_sae_objective_new(BS_SAE_FLOAT64, x, D, NULL, N, H, &mm, &hp);
    assert_non_null(o);
    const int64_t np = sae_nparams(D, H);
    double *w = malloc(np * sizeof *w), *g = malloc(np * sizeof *g), *dir = calloc(np, sizeof *dir);
    /* weights large enough that every unit is away from its linear regime */
    random_weights(w, np, 0.8, 11);
    double f;
    assert_int_equal(bs_sae_objective_eval(o, w, dir, 0, &f, g), 0);
    double maxerr = 0, maxg = 0;
    const double step = 1e-5;
    for (int64_t i = 0; i < np; i++) {
        double fp, fm;
        dir[i] = 1;
        assert_int_equal(bs_sae_objective_eval(o, w, dir, step, &fp, NULL), 0);
        assert_int_equal(bs_sae_objective_eval(o, w, dir, -step, &fm, NULL), 0);
        dir[i] = 0;
        double num = (fp - fm) / (2 * step);
        if (fabs(g[i] - num) > maxerr) maxerr = fabs(g[i] - num);
        if (fabs(g[i]) > maxg) maxg = fabs(g[i]);
    }
    *scale_out = maxg;
    free(w);
    free(g);
    free(dir);
    bs_sae_objective_free(o);
    bs_mapminmax_free(&mm);
    return maxerr / maxg;
}

static void check_term(unsigned terms, const char *name) {
    double scale, err = gradient_error(terms, &scale);
    fprintf(stderr, "gradient check %-9s max|g| %.3e  relative error %.2e\n", name, scale, err);
    assert_true(scale > 1e-4); /* the term really contributes a gradient */
    assert_true(err < 1e-6);
}

static void test_grad_mse(void **s) {
    (void)s;
    check_term(SAE_TERM_MSE, "mse");
}
static void test_grad_l2(void **s) {
    (void)s;
    check_term(SAE_TERM_L2, "l2");
}
static void test_grad_sparsity(void **s) {
    (void)s;
    check_term(SAE_TERM_SPARSITY, "sparsity");
}
static void test_grad_all(void **s) {
    (void)s;
    check_term(SAE_TERM_ALL, "all");
}

/* The loss value against a direct transcription of SPEC §4 (errors after mapping the output
 * back through the inverse of mapminmax). */
static void test_loss_value(void **s) {
    (void)s;
    float x[N * D];
    make_data(x, 3);
    bs_mapminmax mm;
    assert_int_equal(bs_mapminmax_fit(&mm, x, D, NULL, N), 0);
    const double l2 = 0.02, beta = 1.5, rho = 0.1;
    sae_hyper hp = {l2, beta, rho, SAE_TERM_ALL};
    sae_objective *o = bs_sae_objective_new(BS_SAE_FLOAT64, x, D, NULL, N, H, &mm, &hp);
    const int64_t np = sae_nparams(D, H);
    double *w = malloc(np * sizeof *w);
    random_weights(w, np, 0.5, 5);
    double f;
    assert_int_equal(bs_sae_objective_eval(o, w, w, 0, &f, NULL), 0);
    const double *W1 = w, *b1 = w + H * D, *W2 = w + H * D + H, *b2 = w + 2 * H * D + H;
    double sse = 0, rhohat[H] = {0}, sw = 0, kl = 0;
    for (int i = 0; i < N; i++) {
        double xs[D], a1[H];
        bs_mapminmax_apply_d(&mm, x + i * D, xs);
        for (int k = 0; k < H; k++) {
            double z = b1[k];
            for (int j = 0; j < D; j++) z += W1[k * D + j] * xs[j];
            a1[k] = 1 / (1 + exp(-z));
            rhohat[k] += a1[k] / N;
        }
        double y[D], xhat[D];
        for (int j = 0; j < D; j++) {
            double z = b2[j];
            for (int k = 0; k < H; k++) z += W2[j * H + k] * a1[k];
            y[j] = 1 / (1 + exp(-z));
        }
        bs_mapminmax_reverse_d(&mm, y, xhat);
        for (int j = 0; j < D; j++) sse += (x[i * D + j] - xhat[j]) * (x[i * D + j] - xhat[j]);
    }
    for (int i = 0; i < H * D; i++) sw += W1[i] * W1[i] + W2[i] * W2[i];
    for (int k = 0; k < H; k++)
        kl += rho * log(rho / rhohat[k]) + (1 - rho) * log((1 - rho) / (1 - rhohat[k]));
    double want = sse / (N * D) + l2 * sw / D + 2 * beta * kl / D;
    fprintf(stderr, "loss %.17g, direct transcription %.17g\n", f, want);
    assert_true(fabs(f - want) <= 1e-12 * fabs(want));
    free(w);
    bs_sae_objective_free(o);
    bs_mapminmax_free(&mm);
}

/* The dnnl_sgemm path computes the same function as the double path, to float precision. */
static void test_float_matches_double(void **s) {
    (void)s;
    enum { n = 64, d = 40, h = 17 };
    float *x = malloc(sizeof(float) * n * d);
    bs_rng r;
    bs_rng_seed(&r, 9);
    for (int i = 0; i < n * d; i++) x[i] = (float)(10 * bs_rng_uniform(&r) - 2);
    bs_mapminmax mm;
    assert_int_equal(bs_mapminmax_fit(&mm, x, d, NULL, n), 0);
    sae_hyper hp = {0.001, 1, 0.05, SAE_TERM_ALL};
    sae_objective *of = bs_sae_objective_new(BS_SAE_FLOAT32, x, d, NULL, n, h, &mm, &hp);
    sae_objective *od = bs_sae_objective_new(BS_SAE_FLOAT64, x, d, NULL, n, h, &mm, &hp);
    assert_non_null(of);
    assert_non_null(od);
    const int64_t np = sae_nparams(d, h);
    double *w = malloc(np * sizeof *w), *p = malloc(np * sizeof *p), *gf = malloc(np * sizeof *gf),
           *gd = malloc(np * sizeof *gd);
    random_weights(w, np, 0.3, 1);
    random_weights(p, np, 0.1, 2);
    /* Round the point to float so both paths see the same weights. */
    for (int64_t i = 0; i < np; i++) w[i] = (float)(w[i] + 0.5 * p[i]);
    double ff, fd;
    assert_int_equal(bs_sae_objective_eval(of, w, p, 0, &ff, NULL), 0); /* forward, then reuse it */
    assert_int_equal(bs_sae_objective_grad_last(of, gf), 0);
    assert_int_equal(bs_sae_objective_eval(od, w, p, 0, &fd, gd), 0);
    double maxerr = 0, maxg = 0;
    for (int64_t i = 0; i < np; i++) {
        maxerr = fmax(maxerr, fabs(gf[i] - gd[i]));
        maxg = fmax(maxg, fabs(gd[i]));
    }
    fprintf(stderr, "float32 vs float64: perf %.9g vs %.9g, gradient max error %.2e of %.2e\n", ff,
            fd, maxerr, maxg);
    assert_true(fabs(ff - fd) < 1e-6 * fabs(fd));
    assert_true(maxerr < 1e-5 * maxg);
    /* w + t·p is evaluated, not w */
    double f2;
    assert_int_equal(bs_sae_objective_eval(od, w, p, 0.25, &f2, NULL), 0);
    assert_true(fabs(f2 - fd) > 1e-6);
    /* a NaN weight gives a NaN perf in both paths (SCG then rejects the step) */
    double keep = w[3];
    w[3] = NAN;
    assert_int_equal(bs_sae_objective_eval(of, w, p, 0, &ff, NULL), 0);
    assert_int_equal(bs_sae_objective_eval(od, w, p, 0, &fd, NULL), 0);
    assert_true(isnan(ff) && isnan(fd));
    w[3] = keep;
    assert_int_equal(bs_sae_objective_eval(od, w, p, 0, &fd, NULL), 0);
    /* a gradient without a forward pass is an error, not garbage */
    assert_int_equal(bs_sae_objective_grad_last(od, gd), 0);
    assert_int_equal(bs_sae_objective_grad_last(od, gd), -1);
    free(w);
    free(p);
    free(gf);
    free(gd);
    free(x);
    bs_sae_objective_free(of);
    bs_sae_objective_free(od);
    bs_mapminmax_free(&mm);
}

static void test_mapminmax(void **s) {
    (void)s;
    /* 3 samples × 3 features: ordinary, constant, negative range */
    const float x[9] = {1, 7, -4, 3, 7, -2, 2, 7, -3};
    bs_mapminmax mm;
    assert_int_equal(bs_mapminmax_fit(&mm, x, 3, NULL, 3), 0);
    assert_true(mm.gain[0] == 0.5 && mm.xoffset[0] == 1);
    assert_true(mm.gain[1] == 1 && mm.xoffset[1] == 0); /* constant: passes through */
    assert_true(mm.gain[2] == 0.5 && mm.xoffset[2] == -4);
    double y[3];
    bs_mapminmax_apply_d(&mm, x + 3, y);
    assert_true(y[0] == 1 && y[1] == 7 && y[2] == 1);
    /* new data outside the training range: linear, not clipped */
    const float nx[3] = {5, -1, -10};
    bs_mapminmax_apply_d(&mm, nx, y);
    assert_true(y[0] == 2 && y[1] == -1 && y[2] == -3);
    double back[3];
    bs_mapminmax_reverse_d(&mm, y, back);
    assert_true(back[0] == 5 && back[1] == -1 && back[2] == -10);
    float yf[3];
    bs_mapminmax_apply_f(&mm, nx, yf);
    assert_true(yf[0] == 2 && yf[1] == -1 && yf[2] == -3);
    bs_mapminmax_free(&mm);
    /* training on a subset of rows uses only those rows */
    const int64_t rows[2] = {0, 2};
    assert_int_equal(bs_mapminmax_fit(&mm, x, 3, rows, 2), 0);
    assert_true(mm.gain[0] == 1 && mm.xoffset[0] == 1 && mm.gain[2] == 1 && mm.xoffset[2] == -4);
    bs_mapminmax_free(&mm);
    /* a single sample: every feature constant */
    assert_int_equal(bs_mapminmax_fit(&mm, x, 3, NULL, 1), 0);
    for (int j = 0; j < 3; j++) assert_true(mm.gain[j] == 1 && mm.xoffset[j] == 0);
    bs_mapminmax_free(&mm);
}

static void test_mapminmax_refuses_nonfinite(void **s) {
    (void)s;
    float x[9] = {1, 7, -4, 3, 7, -2, 2, 7, -3};
    bs_mapminmax mm = {0};
    x[5] = NAN;
    assert_int_equal(bs_mapminmax_fit(&mm, x, 3, NULL, 3), -1);
    assert_non_null(strstr(bs_error_message(), "NaN value at row 1, column 2"));
    x[5] = INFINITY;
    assert_int_equal(bs_mapminmax_fit(&mm, x, 3, NULL, 3), -1);
    assert_non_null(strstr(bs_error_message(), "infinite value at row 1, column 2"));
    /* rows not in the training subset are not looked at */
    const int64_t rows[2] = {0, 2};
    assert_int_equal(bs_mapminmax_fit(&mm, x, 3, rows, 2), 0);
    bs_mapminmax_free(&mm);
}

int main(void) {
    const struct CMUnitTest t[] = {
        cmocka_unit_test(test_grad_mse),      cmocka_unit_test(test_grad_l2),
        cmocka_unit_test(test_grad_sparsity), cmocka_unit_test(test_grad_all),
        cmocka_unit_test(test_loss_value),    cmocka_unit_test(test_float_matches_double),
        cmocka_unit_test(test_mapminmax),     cmocka_unit_test(test_mapminmax_refuses_nonfinite),
    };
    return cmocka_run_group_tests(t, NULL, NULL);
}
