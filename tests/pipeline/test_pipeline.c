/* test_pipeline.c — the pipeline stage on synthetic features (no models needed): Platt's fit,
 * the file round trip (bit-identical predictions, byte-identical re-save), every kind of
 * damaged file, agreement with the study's grouped protocol on the same split, and the OOD
 * flag on rows unlike the training rows. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/hash.h"
#include "core/io.h"
#include "core/npy.h"
#include "core/rng.h"
#include "eval/calibration.h"
#include "features/featdir.h"
#include "pipeline/pipeline.h"
#include "study/study.h"
#include "test_support.h"

#define N 90 /* rows: 30 groups of 3 (an image and its two mirrors) */
#define D 24

/* Two classes of non-negative "deep features": class 1 shifted on half the columns. */
static void make_data(float *x, int32_t *labels, int64_t *group, uint64_t seed) {
    bs_rng r;
    bs_rng_seed(&r, seed);
    for (int i = 0; i < N; i++) {
        int g = i / 3;
        labels[i] = g % 2;
        group[i] = g;
        for (int j = 0; j < D; j++) {
            double base = (labels[i] && j < D / 2) ? 1.2 : 0.6;
            x[i * D + j] = (float)(base * (0.5 + bs_rng_uniform(&r)) + 0.05 * j);
        }
    }
}

static void fill_meta(bs_pipeline *p) {
    snprintf(p->version, sizeof p->version, "test");
    p->seed = 7;
    p->augment = 1 | 2 << 8 | 1 << 16; /* flip,hed:2,scale:1 */
    p->n_images = N / 3;
    p->n_rows = N;
    p->images_per_label[0] = p->images_per_label[1] = N / 6;
    p->rows_per_label[0] = p->rows_per_label[1] = N / 2;
    snprintf(p->label_names[0], sizeof p->label_names[0], "healthy");
    snprintf(p->label_names[1], sizeof p->label_names[1], "ALL");
    p->classes = calloc(2, sizeof *p->classes);
    p->n_classes = 2;
    snprintf(p->classes[0].name, sizeof p->classes[0].name, "Benign");
    snprintf(p->classes[1].name, sizeof p->classes[1].name, "Pro");
    p->classes[1].label = 1;
    p->classes[0].images = p->classes[1].images = N / 6;
    p->backbones = calloc(2, sizeof *p->backbones);
    p->n_backbones = 2;
    for (int b = 0; b < 2; b++) {
        snprintf(p->backbones[b].name, sizeof p->backbones[b].name, "net%d", b);
        snprintf(p->backbones[b].file, sizeof p->backbones[b].file, "net%d.onnx", b);
        bs_sha256_buffer(p->backbones[b].name, 4, p->backbones[b].sha256);
        p->backbones[b].input_size = 224;
        snprintf(p->backbones[b].tap, sizeof p->backbones[b].tap, "features");
        p->backbones[b].dim = D / 2;
    }
}

/* ood_k < 0: the default fence; ood_quantile 0: no quantile. */
static void fit_ood(bs_pipeline *p, const float *x, const int32_t *labels, const int64_t *group,
                    int64_t hidden, double ood_k, double ood_quantile) {
    bs_pipeline_fit_options o;
    bs_pipeline_fit_options_init(&o);
    if (ood_k >= 0) o.ood_k = ood_k;
    o.ood_quantile = ood_quantile;
    o.latent_fraction = hidden ? (double)hidden / D : 0;
    o.ae.max_epochs = 40;
    o.ae.seed = 11;
    o.svm_seed = 12;
    o.calibration_seed = 13;
    memset(p, 0, sizeof *p);
    fill_meta(p);
    if (bs_pipeline_fit(p, bs_matrix_of(x, N, D), labels, group, NULL, N, &o))
        fail_msg("fit: %s", bs_error_message());
}

static void fit(bs_pipeline *p, const float *x, const int32_t *labels, const int64_t *group,
                int64_t hidden) {
    fit_ood(p, x, labels, group, hidden, -1, 0);
}

static unsigned char *save_to_buffer(const bs_pipeline *p, const char *dir, size_t *len) {
    char *path = bs_path_join(dir, "m.blastscan");
    if (bs_pipeline_save(p, path)) fail_msg("save: %s", bs_error_message());
    unsigned char *buf;
    assert_int_equal(bs_read_file(path, 1 << 30, &buf, len), 0);
    free(path);
    return buf;
}

static void platt_recovers_a_known_sigmoid(void **state) {
    (void)state;
    enum { M = 20000 };
    double *f = malloc(sizeof(double) * M);
    int32_t *y = malloc(sizeof(int32_t) * M);
    bs_rng r;
    bs_rng_seed(&r, 5);
    for (int i = 0; i < M; i++) {
        f[i] = -3 + 6 * bs_rng_uniform(&r);
        y[i] = bs_rng_uniform(&r) < bs_platt(-2.0, 0.5, f[i]);
    }
    double a, b;
    assert_int_equal(bs_platt_fit(f, y, M, &a, &b), 0);
    assert_true(fabs(a + 2.0) < 0.1);
    assert_true(fabs(b - 0.5) < 0.1);
    /* one class only: an error, not a degenerate sigmoid */
    for (int i = 0; i < M; i++) y[i] = 1;
    assert_int_equal(bs_platt_fit(f, y, M, &a, &b), -1);
    /* no overflow at extreme decisions */
    assert_true(bs_platt(-2, 0, 1e6) == 1.0);
    assert_true(bs_platt(-2, 0, -1e6) == 0.0);
    free(f);
    free(y);
}

static void check_round_trip(int64_t hidden) {
    float x[N * D];
    int32_t labels[N];
    int64_t group[N];
    make_data(x, labels, group, 3);
    bs_pipeline p, q;
    fit(&p, x, labels, group, hidden);
    assert_true(p.calibration_folds == 5);
    assert_true(p.platt_a < 0); /* larger decision, higher probability */
    char *dir = bs_test_tmpdir();
    size_t len;
    unsigned char *buf = save_to_buffer(&p, dir, &len);
    if (bs_pipeline_parse(buf, len, "m", &q)) fail_msg("parse: %s", bs_error_message());
    bs_pipeline_result a[N], b[N];
    assert_int_equal(bs_pipeline_predict(&p, bs_matrix_of(x, N, D), NULL, N, a), 0);
    assert_int_equal(bs_pipeline_predict(&q, bs_matrix_of(x, N, D), NULL, N, b), 0);
    int correct = 0;
    for (int i = 0; i < N; i++) {
        /* bit-identical, not merely close */
        assert_memory_equal(&a[i].decision, &b[i].decision, sizeof(double));
        assert_memory_equal(&a[i].probability, &b[i].probability, sizeof(double));
        assert_int_equal(a[i].label, b[i].label);
        assert_int_equal(a[i].ood, b[i].ood);
        if (hidden) assert_memory_equal(&a[i].recon_error, &b[i].recon_error, sizeof(double));
        correct += a[i].label == labels[i];
        assert_true(a[i].probability > 0 && a[i].probability < 1);
        assert_int_equal(a[i].label, a[i].decision >= 0);
    }
    assert_true(correct >= N * 9 / 10);
    /* every field survives: a re-save of the loaded pipeline is the same bytes */
    char *dir2 = bs_test_tmpdir();
    size_t len2;
    unsigned char *buf2 = save_to_buffer(&q, dir2, &len2);
    assert_int_equal(len, len2);
    assert_memory_equal(buf, buf2, len);
    assert_string_equal(q.backbones[1].file, "net1.onnx");
    assert_string_equal(q.backbones[0].sha256, p.backbones[0].sha256);
    assert_string_equal(q.label_names[1], "ALL");
    assert_int_equal(q.augment, p.augment);
    assert_int_equal(q.ood.available, hidden > 0);
    free(buf);
    free(buf2);
    bs_pipeline_free(&p);
    bs_pipeline_free(&q);
    bs_test_rmtree(dir);
    bs_test_rmtree(dir2);
    free(dir);
    free(dir2);
}

static void round_trip_with_autoencoder(void **state) {
    (void)state;
    check_round_trip(6);
}

static void round_trip_without_autoencoder(void **state) {
    (void)state;
    check_round_trip(0);
}

/* Files written before the container module (core/container.c) existed, by the commit before
 * it (check_round_trip's pipelines, data seed 3): they still load and predict, and saving the
 * loaded pipeline gives the same bytes, so the format on disk did not change. */
static void files_from_an_earlier_build_load(void **state) {
    (void)state;
    const char *src = getenv("BLASTSCAN_SOURCE_DIR");
    if (!src) fail_msg("BLASTSCAN_SOURCE_DIR is not set (run through ctest)");
    const char *names[2] = {"v1-autoencoder.blastscan", "v1-no-autoencoder.blastscan"};
    float x[N * D];
    int32_t labels[N];
    int64_t group[N];
    make_data(x, labels, group, 3);
    for (int f = 0; f < 2; f++) {
        char *path = bs_strfmt("%s/tests/pipeline/fixtures/%s", src, names[f]);
        unsigned char *want;
        size_t len, len2;
        assert_int_equal(bs_read_file(path, 1 << 24, &want, &len), 0);
        bs_pipeline p;
        if (bs_pipeline_load(path, &p)) fail_msg("%s", bs_error_message());
        assert_int_equal(p.ae != NULL, f == 0);
        assert_int_equal(p.n_features, D);
        char *dir = bs_test_tmpdir();
        unsigned char *got = save_to_buffer(&p, dir, &len2);
        assert_int_equal(len2, len);
        assert_memory_equal(got, want, len);
        bs_pipeline_result r[N];
        assert_int_equal(bs_pipeline_predict(&p, bs_matrix_of(x, N, D), NULL, N, r), 0);
        int correct = 0;
        for (int i = 0; i < N; i++) correct += r[i].label == labels[i];
        assert_true(correct >= N * 9 / 10);
        bs_pipeline_free(&p);
        bs_test_rmtree(dir);
        free(dir);
        free(got);
        free(want);
        free(path);
    }
}

static void rehash(unsigned char *buf, size_t len) {
    char hex[BS_SHA256_HEX];
    bs_sha256_buffer(buf, len - 32, hex);
    bs_sha256_hex_to_bytes(hex, buf + len - 32);
}

static void damaged_files_are_refused(void **state) {
    (void)state;
    float x[N * D];
    int32_t labels[N];
    int64_t group[N];
    make_data(x, labels, group, 4);
    bs_pipeline p, q;
    fit(&p, x, labels, group, 6);
    char *dir = bs_test_tmpdir();
    size_t len;
    unsigned char *buf = save_to_buffer(&p, dir, &len);
    unsigned char *copy = malloc(len);

    /* every truncation */
    for (size_t cut = 0; cut < len; cut += (cut < 256 ? 1 : 7)) {
        assert_int_equal(bs_pipeline_parse(buf, cut, "m", &q), -1);
        assert_true(strlen(bs_error_message()) > 0);
    }
    /* every flipped byte: the checksum catches it */
    for (size_t i = 0; i < len; i += (i < 512 ? 1 : 5)) {
        memcpy(copy, buf, len);
        copy[i] ^= 0x20;
        assert_int_equal(bs_pipeline_parse(copy, len, "m", &q), -1);
    }
    memcpy(copy, buf, len);
    copy[len / 2] ^= 1;
    assert_int_equal(bs_pipeline_parse(copy, len, "m", &q), -1);
    assert_non_null(strstr(bs_error_message(), "checksum mismatch"));
    /* another version */
    memcpy(copy, buf, len);
    copy[8] = 2;
    rehash(copy, len);
    assert_int_equal(bs_pipeline_parse(copy, len, "m", &q), -1);
    assert_non_null(strstr(bs_error_message(), "unsupported pipeline format version 2"));
    /* not a pipeline at all */
    assert_int_equal(bs_pipeline_parse((const unsigned char *)"hello", 5, "m", &q), -1);
    assert_non_null(strstr(bs_error_message(), "not a blastscan pipeline file"));
    /* Tampering that keeps the checksum valid (a fuzzer's view): each byte changed and the
     * digest recomputed must give a clean error or a valid model, never a crash; with the
     * sanitizers on, any out-of-bounds read would abort here. */
    int refused = 0, accepted = 0;
    const unsigned char deltas[3] = {0xff, 0x01, 0x80};
    for (size_t i = 0; i + 32 < len; i += (i < 2048 ? 1 : 61)) {
        for (int k = 0; k < 3; k++) {
            memcpy(copy, buf, len);
            copy[i] ^= deltas[k];
            rehash(copy, len);
            if (bs_pipeline_parse(copy, len, "m", &q) == 0) {
                accepted++;
                bs_pipeline_free(&q);
            } else {
                refused++;
            }
        }
    }
    assert_true(refused > 0 && accepted > 0);
    /* the intact file still loads */
    assert_int_equal(bs_pipeline_parse(buf, len, "m", &q), 0);
    bs_pipeline_free(&q);
    free(copy);
    free(buf);
    bs_pipeline_free(&p);
    bs_test_rmtree(dir);
    free(dir);
}

static void out_of_distribution_rows_are_flagged(void **state) {
    (void)state;
    float x[N * D], far[N * D];
    int32_t labels[N];
    int64_t group[N];
    make_data(x, labels, group, 6);
    bs_pipeline p;
    fit(&p, x, labels, group, 6);
    assert_true(p.ood.available);
    assert_true(p.ood.threshold > p.ood.q99 * 0.99);
    assert_true(p.ood.q25 <= p.ood.median && p.ood.median <= p.ood.q75 && p.ood.q99 <= p.ood.max);
    assert_true(p.ood.n_validation > 0 && p.ood.n_validation < N && p.ood.train_median > 0);
    bs_pipeline_result r[N];
    assert_int_equal(bs_pipeline_predict(&p, bs_matrix_of(x, N, D), NULL, N, r), 0);
    int flagged = 0;
    for (int i = 0; i < N; i++) flagged += r[i].ood;
    assert_true(flagged <= N / 50); /* the training rows themselves: (almost) none */
    /* another kind of input: a different feature profile, every column reordered */
    for (int i = 0; i < N; i++)
        for (int j = 0; j < D; j++) far[i * D + j] = x[i * D + (D - 1 - j)] * 2.5f;
    assert_int_equal(bs_pipeline_predict(&p, bs_matrix_of(far, N, D), NULL, N, r), 0);
    flagged = 0;
    for (int i = 0; i < N; i++) flagged += r[i].ood;
    assert_int_equal(flagged, N);
    bs_pipeline_free(&p);
}

/* --ood-k and --ood-quantile (train): the same seeds give the same validation errors, so only
 * the threshold moves: a smaller k gives a lower threshold and flags more of the training rows;
 * a quantile puts the threshold on that quantile of the validation errors (q95 and max are
 * stored beside it) and stores the k whose fence would give it. Both survive save and load. */
static void ood_threshold_follows_k_and_quantile(void **state) {
    (void)state;
    float x[N * D];
    int32_t labels[N];
    int64_t group[N];
    make_data(x, labels, group, 6);
    bs_pipeline p3, p1, p0, q95, q1;
    fit(&p3, x, labels, group, 6);
    fit_ood(&p1, x, labels, group, 6, 1, 0);
    fit_ood(&p0, x, labels, group, 6, 0, 0);
    fit_ood(&q95, x, labels, group, 6, -1, 0.95);
    fit_ood(&q1, x, labels, group, 6, -1, 1);
    assert_true(p3.ood.k == 3 && p1.ood.k == 1 && p0.ood.k == 0);
    assert_true(p1.ood.median == p3.ood.median && p1.ood.q75 == p3.ood.q75); /* same errors */
    assert_true(p0.ood.threshold < p1.ood.threshold && p1.ood.threshold < p3.ood.threshold);
    /* k = 0: the fence is the upper quartile (of the log errors) */
    assert_true(p0.ood.threshold > p0.ood.q25 && p0.ood.threshold < p0.ood.q95);
    assert_true(q95.ood.threshold == q95.ood.q95 && q1.ood.threshold == q1.ood.max);
    assert_true(q95.ood.k > 0 && q95.ood.k < 3);
    bs_pipeline_result r[N];
    int flagged[2] = {0, 0};
    assert_int_equal(bs_pipeline_predict(&p3, bs_matrix_of(x, N, D), NULL, N, r), 0);
    for (int i = 0; i < N; i++) flagged[0] += r[i].ood;
    assert_int_equal(bs_pipeline_predict(&p0, bs_matrix_of(x, N, D), NULL, N, r), 0);
    for (int i = 0; i < N; i++) flagged[1] += r[i].ood;
    assert_true(flagged[1] >= flagged[0]);
    char *dir = bs_test_tmpdir();
    size_t len;
    unsigned char *buf = save_to_buffer(&q95, dir, &len);
    bs_pipeline back;
    assert_int_equal(bs_pipeline_parse(buf, len, "m", &back), 0);
    assert_true(back.ood.threshold == q95.ood.threshold && back.ood.k == q95.ood.k);
    bs_pipeline_free(&back);
    free(buf);
    bs_test_rmtree(dir);
    free(dir);
    bs_pipeline_free(&p3);
    bs_pipeline_free(&p1);
    bs_pipeline_free(&p0);
    bs_pipeline_free(&q95);
    bs_pipeline_free(&q1);
}

/* Probability follows the decision, for every kind of pipeline (with an autoencoder and with
 * --latent none; the pipeline is binary only): sorted by decision, probabilities never fall, and
 * they span most of (0, 1) rather than sitting at the training prior. The data hold what broke
 * --latent none on Aria: a column almost always 0 (ReLU features), slightly positive on a few
 * healthy images and far out on one ALL image, so the cubic kernel on standardised raw features
 * gives that image an out-of-fold decision of the wrong sign in the hundreds; unclipped, it
 * flattened Platt's sigmoid to the prior. */
static void probability_follows_the_decision(void **state) {
    (void)state;
    float x[N * D];
    int32_t labels[N];
    int64_t group[N];
    make_data(x, labels, group, 9);
    for (int i = 0; i < N; i++) x[i * D + D - 1] = 0;
    for (int g = 0; g < 8; g += 2) /* healthy groups 0, 2, 4, 6 */
        for (int v = 0; v < 3; v++) x[(g * 3 + v) * D + D - 1] = 0.01f;
    for (int v = 0; v < 3; v++) /* ALL group 9 */
        x[(27 + v) * D + D - 1] = 40.0f;
    const int64_t hidden[2] = {6, 0};
    for (int h = 0; h < 2; h++) {
        bs_pipeline p;
        fit(&p, x, labels, group, hidden[h]);
        bs_pipeline_result r[N];
        assert_int_equal(bs_pipeline_predict(&p, bs_matrix_of(x, N, D), NULL, N, r), 0);
        int order[N];
        for (int i = 0; i < N; i++) order[i] = i;
        for (int i = 1; i < N; i++) /* insertion sort by decision */
            for (int j = i; j > 0 && r[order[j - 1]].decision > r[order[j]].decision; j--) {
                int t = order[j];
                order[j] = order[j - 1];
                order[j - 1] = t;
            }
        for (int i = 1; i < N; i++)
            assert_true(r[order[i]].probability >= r[order[i - 1]].probability);
        double lo = r[order[0]].probability, hi = r[order[N - 1]].probability;
        fprintf(stderr, "hidden %lld: A = %.4g, B = %.4g, probabilities %.4g .. %.4g\n",
                (long long)hidden[h], p.platt_a, p.platt_b, lo, hi);
        assert_true(lo < 0.2 && hi > 0.8);
        bs_pipeline_free(&p);
    }
}

/* The study's grouped protocol fits scaling, autoencoder, standardisation, kernel scale and
 * SVM on the training folds and predicts the test fold, its seeds bs_rng_derive_at(seed,
 * purpose, experiment, fold) with purposes 2 (autoencoder) and 3 (SVM). The same fit done by the pipeline on
 * the same training rows, with the same seeds, must give the same test decisions. */
static void held_out_rows_agree_with_the_study(void **state) {
    (void)state;
    float x[N * D];
    int32_t labels[N];
    int64_t group[N];
    make_data(x, labels, group, 8);
    char *dir = bs_test_tmpdir();
    bs_feature_row rows[N];
    char names[N][32];
    for (int i = 0; i < N; i++) {
        snprintf(names[i], sizeof names[i], "img%02d.png", i / 3);
        rows[i] = (bs_feature_row){
            i, names[i], labels[i], labels[i] ? "ALL" : "healthy", names[i], (bs_view)(i % 3), 0};
    }
    bs_feature_index idx = {.n = N, .rows = rows};
    assert_int_equal(bs_featdir_write_index(dir, &idx), 0);
    bs_array a = {.ndim = 2, .shape = {N, D}, .data = x};
    char *npy = bs_featdir_set_path(dir, "net0");
    assert_int_equal(bs_npy_write(npy, &a), 0);
    free(npy);
    bs_study_options so;
    bs_study_options_init(&so);
    const double latent[1] = {0.25};
    so.latent = latent;
    so.nlatent = 1;
    so.folds = 3;
    so.epochs = 30;
    so.seed = 21;
    so.protocol = BS_PROTOCOL_GROUPED;
    bs_study st;
    if (bs_study_run(dir, &idx, &so, &st)) fail_msg("study: %s", bs_error_message());
    assert_int_equal(st.nexperiments, 2); /* net0, latent-25% */
    double worst = 0;
    for (int f = 0; f < so.folds; f++) {
        int64_t train[N], test[N], ntr = 0, nte = 0;
        for (int i = 0; i < N; i++) {
            if (st.fold[i] == f)
                test[nte++] = i;
            else
                train[ntr++] = i;
        }
        for (int e = 0; e < 2; e++) {
            bs_pipeline_fit_options o;
            bs_pipeline_fit_options_init(&o);
            o.latent_fraction = e == 1 ? 0.25 : 0;
            o.ae.max_epochs = so.epochs;
            o.ae.seed = bs_rng_derive_at(so.seed, 2, (uint64_t)e, (uint64_t)f);
            o.svm_seed = bs_rng_derive_at(so.seed, 3, (uint64_t)e, (uint64_t)f);
            o.calibration_folds = 3;
            bs_pipeline p;
            memset(&p, 0, sizeof p);
            if (bs_pipeline_fit(&p, bs_matrix_of(x, N, D), labels, group, train, ntr, &o))
                fail_msg("fit: %s", bs_error_message());
            bs_pipeline_result r[N];
            assert_int_equal(bs_pipeline_predict(&p, bs_matrix_of(x, N, D), test, nte, r), 0);
            for (int64_t i = 0; i < nte; i++) {
                double want = st.experiments[e].decision[test[i]];
                double diff = fabs(r[i].decision - want) / (1 + fabs(want));
                if (diff > worst) worst = diff;
                assert_int_equal(r[i].label, st.experiments[e].predicted[test[i]]);
            }
            bs_pipeline_free(&p);
        }
    }
    fprintf(stderr, "held-out decisions vs the study: largest relative difference %.3g\n", worst);
    assert_true(worst <= 1e-5);
    bs_study_free(&st);
    bs_test_rmtree(dir);
    free(dir);
}

/* train's fused rows: a folder's sets joined in feature-set name order whatever the order of
 * the backbones, order[] naming the backbone of each block; a set no backbone made is refused. */
static void features_are_joined_in_name_order(void **state) {
    (void)state;
    enum { R = 4 };
    char *dir = bs_test_tmpdir();
    float zeta[R * 2], alpha[R * 3];
    for (int i = 0; i < R * 2; i++) zeta[i] = (float)(100 + i);
    for (int i = 0; i < R * 3; i++) alpha[i] = (float)(200 + i);
    bs_array za = {.ndim = 2, .shape = {R, 2}, .data = zeta};
    bs_array aa = {.ndim = 2, .shape = {R, 3}, .data = alpha};
    char *zp = bs_featdir_set_path(dir, "zeta"), *ap = bs_featdir_set_path(dir, "alpha");
    assert_int_equal(bs_npy_write(zp, &za), 0);
    assert_int_equal(bs_npy_write(ap, &aa), 0);
    bs_backbone_info info[2];
    memset(info, 0, sizeof info);
    snprintf(info[0].name, sizeof info[0].name, "zeta");
    snprintf(info[1].name, sizeof info[1].name, "alpha");
    size_t order[2];
    float *x;
    int64_t width;
    assert_int_equal(bs_pipeline_read_features(dir, info, 2, R, order, &x, &width), 0);
    assert_int_equal(width, 5);
    assert_int_equal(order[0], 1);
    assert_int_equal(order[1], 0);
    for (int r = 0; r < R; r++)
        for (int j = 0; j < 5; j++)
            assert_true(x[r * 5 + j] == (j < 3 ? alpha[r * 3 + j] : zeta[r * 2 + j - 3]));
    free(x);
    snprintf(info[1].name, sizeof info[1].name, "beta");
    assert_int_equal(bs_pipeline_read_features(dir, info, 2, R, order, &x, &width), -1);
    assert_non_null(strstr(bs_error_message(), "'alpha' is no backbone's"));
    assert_null(x);
    assert_int_equal(bs_pipeline_read_features(dir, info, 2, R + 1, order, &x, &width), -1);
    free(zp);
    free(ap);
    bs_test_rmtree(dir);
    free(dir);
}

/* train's seeds: one per purpose, distinct, the same for the same --seed. */
static void seeds_follow_the_user_seed(void **state) {
    (void)state;
    bs_pipeline_fit_options a, b;
    bs_pipeline_fit_options_init(&a);
    bs_pipeline_fit_options_init(&b);
    bs_pipeline_fit_options_seed(&a, 42);
    bs_pipeline_fit_options_seed(&b, 42);
    assert_true(a.ae.seed == b.ae.seed && a.svm_seed == b.svm_seed &&
                a.calibration_seed == b.calibration_seed);
    assert_true(a.ae.seed != a.svm_seed && a.svm_seed != a.calibration_seed &&
                a.ae.seed != a.calibration_seed);
    assert_true(a.ae.seed == bs_rng_derive(42, BS_SEED_AE));
    bs_pipeline_fit_options_seed(&b, 43);
    assert_true(a.ae.seed != b.ae.seed && a.svm_seed != b.svm_seed);
}

/* The provenance train records, built by the library from the dataset and the backbones: views,
 * counts per label, classes in name order with their images, backbones in column order with
 * the file's base name; an over-long class name is refused. */
static void provenance_describes_the_training_data(void **state) {
    (void)state;
    char *cls[4] = {"Pro", "Benign", "Pro", "Early"}, *grp[4] = {"a", "b", "c", "d"};
    const int lab[4] = {1, 0, 1, 1};
    bs_sample samples[4];
    memset(samples, 0, sizeof samples);
    for (int i = 0; i < 4; i++) {
        samples[i].label = lab[i];
        samples[i].class_name = cls[i];
        samples[i].group = grp[i];
    }
    bs_dataset ds = {.n = 4, .samples = samples};
    bs_backbone_info info[2] = {{"zeta", "", 299, "pool", 2048}, {"alpha", "", 224, "fc7", 4096}};
    memset(info[0].sha256, 'a', 64);
    memset(info[1].sha256, 'b', 64);
    const char *paths[2] = {"models/z.onnx", "/abs/alpha-net.onnx"};
    const size_t order[2] = {1, 0}; /* columns: alpha's block first */
    bs_pipeline p;
    memset(&p, 0, sizeof p);
    bs_augment flip = {.flip = 1}, none = {0}, hed2 = {.flip = 1, .hed = 2};
    assert_int_equal(bs_pipeline_set_provenance(&p, &ds, &flip, 77, info, paths, order, 2), 0);
    assert_true(p.seed == 77 && p.augment == 1 && p.n_images == 4 && p.n_rows == 12);
    assert_true(p.images_per_label[0] == 1 && p.images_per_label[1] == 3);
    assert_true(p.rows_per_label[0] == 3 && p.rows_per_label[1] == 9);
    assert_string_equal(p.label_names[1], "ALL");
    assert_int_equal(p.n_classes, 3);
    assert_string_equal(p.classes[0].name, "Benign");
    assert_string_equal(p.classes[2].name, "Pro");
    assert_true(p.classes[2].images == 2 && p.classes[2].label == 1 && p.classes[0].label == 0);
    assert_int_equal(p.n_backbones, 2);
    assert_string_equal(p.backbones[0].name, "alpha");
    assert_string_equal(p.backbones[0].file, "alpha-net.onnx");
    assert_string_equal(p.backbones[1].file, "z.onnx");
    assert_true(p.backbones[0].dim == 4096 && p.backbones[1].input_size == 299);
    assert_int_equal(p.backbones[1].sha256[63], 'a');
    assert_true(strlen(p.version) > 0);
    bs_pipeline_free(&p);
    memset(&p, 0, sizeof p); /* stain views: counted in the rows and in bits 8-15 */
    assert_int_equal(bs_pipeline_set_provenance(&p, &ds, &hed2, 77, info, paths, order, 2), 0);
    assert_true(p.augment == (1 | 2 << 8) && p.n_rows == 20 && p.rows_per_label[0] == 5);
    bs_pipeline_free(&p);
    char long_name[300];
    memset(long_name, 'x', sizeof long_name - 1);
    long_name[sizeof long_name - 1] = 0;
    samples[1].class_name = long_name;
    memset(&p, 0, sizeof p);
    assert_int_equal(bs_pipeline_set_provenance(&p, &ds, &none, 77, info, paths, order, 2), -1);
    assert_non_null(strstr(bs_error_message(), "is too long"));
    bs_pipeline_free(&p);
}

/* Row weights (bs_pipeline_weighted_rows): repeats in row order, bad weights refused; all ones
 * give the unweighted model's decisions; and a weight can overturn a call: two rows labelled
 * 0 sit in the middle of the positives (a lab's corrections), and the point where they sit is
 * called positive unweighted, negative when they count 40 times. */
static void weights_repeat_rows_and_can_overturn_a_call(void **state) {
    (void)state;
    int32_t w3[3] = {1, 3, 2}, bad[2] = {1, 0};
    int64_t *rows = NULL, m = 0;
    assert_int_equal(bs_pipeline_weighted_rows(w3, 3, &rows, &m), 0);
    assert_int_equal(m, 6);
    const int64_t want[6] = {0, 1, 1, 1, 2, 2};
    assert_memory_equal(rows, want, sizeof want);
    free(rows);
    assert_int_equal(bs_pipeline_weighted_rows(bad, 2, &rows, &m), -1);
    assert_non_null(strstr(bs_error_message(), "row 1: weight 0 is outside 1..1000"));
    assert_null(rows);
    bad[1] = BS_PIPELINE_WEIGHT_MAX + 1;
    assert_int_equal(bs_pipeline_weighted_rows(bad, 2, &rows, &m), -1);

    enum { M = 62, DW = 2 };
    float xw[M * DW], probe[DW] = {2.0f, 2.0f};
    int32_t lab[M], weight[M];
    int64_t grp[M];
    bs_rng r;
    bs_rng_seed(&r, 21);
    for (int i = 0; i < M; i++) {
        int lab_row = i >= 60; /* the lab's two corrected rows, at the probe */
        lab[i] = lab_row ? 0 : i % 2;
        grp[i] = i;
        for (int j = 0; j < DW; j++)
            xw[i * DW + j] =
                lab_row ? probe[j] : (float)((lab[i] ? 2.0 : 0.0) + bs_rng_uniform(&r) - 0.5);
    }
    double dec[3];
    for (int run = 0; run < 3; run++) { /* unweighted, all ones, the lab's rows 40 times */
        for (int i = 0; i < M; i++) weight[i] = run == 2 && i >= 60 ? 40 : 1;
        rows = NULL, m = M;
        if (run) assert_int_equal(bs_pipeline_weighted_rows(weight, M, &rows, &m), 0);
        bs_pipeline_fit_options o;
        bs_pipeline_fit_options_init(&o);
        o.latent_fraction = 0;
        o.svm_seed = 12;
        o.calibration_seed = 13;
        bs_pipeline p;
        memset(&p, 0, sizeof p);
        if (bs_pipeline_fit(&p, bs_matrix_of(xw, M, DW), lab, grp, rows, m, &o))
            fail_msg("fit: %s", bs_error_message());
        bs_pipeline_result res;
        assert_int_equal(bs_pipeline_predict(&p, bs_matrix_of(probe, 1, DW), NULL, 1, &res), 0);
        dec[run] = res.decision;
        bs_pipeline_free(&p);
        free(rows);
    }
    assert_true(dec[0] > 0);
    assert_true(dec[1] == dec[0]);
    assert_true(dec[2] < 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(platt_recovers_a_known_sigmoid),
        cmocka_unit_test(weights_repeat_rows_and_can_overturn_a_call),
        cmocka_unit_test(round_trip_with_autoencoder),
        cmocka_unit_test(round_trip_without_autoencoder),
        cmocka_unit_test(damaged_files_are_refused),
        cmocka_unit_test(files_from_an_earlier_build_load),
        cmocka_unit_test(out_of_distribution_rows_are_flagged),
        cmocka_unit_test(ood_threshold_follows_k_and_quantile),
        cmocka_unit_test(probability_follows_the_decision),
        cmocka_unit_test(held_out_rows_agree_with_the_study),
        cmocka_unit_test(features_are_joined_in_name_order),
        cmocka_unit_test(seeds_follow_the_user_seed),
        cmocka_unit_test(provenance_describes_the_training_data),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
