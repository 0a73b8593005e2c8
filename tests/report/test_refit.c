/* test_refit.c — the occlusion maps of report.html explain the model that tested each image:
 * bs_study_refit_svm must give back, bit for bit, the decisions the study recorded for every
 * test row of every fold (single sets and the fused experiment), and refuse an experiment
 * with an autoencoder. Synthetic feature folder, no models needed. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/io.h"
#include "core/npy.h"
#include "core/rng.h"
#include "features/featdir.h"
#include "study/study.h"
#include "test_support.h"

#define N 480 /* 160 images × 3 views: over 100 training rows per class, so the seed matters */

static void write_set(const char *dir, const char *name, int d, uint64_t seed,
                      const int32_t *labels) {
    float *x = malloc(sizeof(float) * N * (size_t)d);
    bs_rng r;
    bs_rng_seed(&r, seed);
    for (int i = 0; i < N; i++)
        for (int j = 0; j < d; j++)
            x[i * d + j] = (float)((labels[i] && j % 2 ? 1.1 : 0.7) * (0.4 + bs_rng_uniform(&r)));
    bs_array a = {.ndim = 2, .shape = {N, d}, .data = x};
    char *npy = bs_featdir_set_path(dir, name);
    assert_int_equal(bs_npy_write(npy, &a), 0);
    free(npy);
    free(x);
}

static void refit_gives_the_study_decisions(void **state) {
    (void)state;
    char *dir = bs_test_tmpdir();
    int32_t labels[N];
    bs_feature_row rows[N];
    char names[N][32];
    for (int i = 0; i < N; i++) {
        labels[i] = (i / 3) % 2;
        snprintf(names[i], sizeof names[i], "img%03d.png", i / 3);
        rows[i] = (bs_feature_row){
            i, names[i], labels[i], labels[i] ? "ALL" : "healthy", names[i], (bs_view)(i % 3), 0};
    }
    bs_feature_index idx = {.n = N, .rows = rows};
    assert_int_equal(bs_featdir_write_index(dir, &idx), 0);
    write_set(dir, "net0", 12, 3, labels);
    write_set(dir, "net1", 8, 4, labels);
    bs_study_options so;
    bs_study_options_init(&so);
    const double latent[1] = {0.25};
    so.latent = latent;
    so.nlatent = 1;
    so.folds = 3;
    so.epochs = 10;
    so.seed = 11;
    so.protocol = BS_PROTOCOL_GROUPED;
    so.verbose = 0;
    bs_study st;
    if (bs_study_run(dir, &idx, &so, &st)) fail_msg("study: %s", bs_error_message());
    assert_int_equal(st.nexperiments, 4); /* net0, net1, fused, latent-25% */
    /* the fused rows, as the study concatenates them */
    bs_array a0, a1;
    assert_int_equal(bs_featdir_read_set(dir, "net0", N, &a0), 0);
    assert_int_equal(bs_featdir_read_set(dir, "net1", N, &a1), 0);
    float fused[N * 20];
    for (int i = 0; i < N; i++) {
        memcpy(fused + i * 20, a0.data + i * 12, sizeof(float) * 12);
        memcpy(fused + i * 20 + 12, a1.data + i * 8, sizeof(float) * 8);
    }
    const float *xs[3] = {a0.data, a1.data, fused};
    const int64_t ws[3] = {12, 8, 20};
    for (size_t e = 0; e < 3; e++)
        for (int f = 0; f < so.folds; f++) {
            bs_svm *svm = bs_study_refit_svm(&st, e, f, xs[e], ws[e], so.kernel_scale);
            assert_non_null(svm);
            int64_t test[N], nt = 0;
            for (int i = 0; i < N; i++)
                if (st.fold[i] == f) test[nt++] = i;
            double dec[N];
            int32_t pred[N];
            assert_int_equal(
                bs_svm_predict(svm, bs_matrix_of(xs[e], N, ws[e]), test, nt, dec, pred), 0);
            for (int64_t i = 0; i < nt; i++) {
                assert_true(dec[i] == st.experiments[e].decision[test[i]]);
                assert_int_equal(pred[i], st.experiments[e].predicted[test[i]]);
            }
            bs_svm_free(svm);
        }
    assert_null(bs_study_refit_svm(&st, 3, 0, fused, 20, so.kernel_scale));
    assert_non_null(strstr(bs_error_message(), "autoencoder"));
    assert_null(bs_study_refit_svm(&st, 2, so.folds, fused, 20, so.kernel_scale));
    bs_array_free(&a0);
    bs_array_free(&a1);
    bs_study_free(&st);
    bs_test_rmtree(dir);
    free(dir);
}

int main(void) {
    const struct CMUnitTest tests[] = {cmocka_unit_test(refit_gives_the_study_decisions)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
