/* test_sae_file.c — the library API and the AE file: fit on a subset of rows, encode other
 * rows, save/load round trip, and every corruption we can think of refused with a message. */
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "autoencoder/autoencoder.h"
#include "core/error.h"
#include "core/hash.h"
#include "core/io.h"
#include "core/rng.h"
#include "test_support.h"

enum { N = 30, D = 9, H = 4 };

static void make_data(float *x) {
    bs_rng r;
    bs_rng_seed(&r, 77);
    for (int i = 0; i < N * D; i++) x[i] = (float)(5 * bs_rng_uniform(&r) - 1 + (i % D));
    for (int i = 0; i < N; i++) x[i * D + 2] = -1.5f; /* constant feature */
}

static bs_sae *fit_small(const float *x, const int64_t *rows, int64_t n, int epochs) {
    bs_sae_options o;
    bs_sae_options_default(&o);
    o.hidden = H;
    o.max_epochs = epochs;
    o.seed = 5;
    bs_sae *m = bs_sae_fit(bs_matrix_of(x, N, D), rows, n, &o, NULL);
    assert_non_null(m);
    return m;
}

static unsigned char *slurp(const char *path, size_t *len) {
    unsigned char *buf;
    assert_int_equal(bs_read_file(path, 1 << 26, &buf, len), 0);
    return buf;
}

/* Re-seal a modified image with a correct checksum, to reach the checks behind it. */
static void reseal(unsigned char *buf, size_t len) {
    char hex[BS_SHA256_HEX];
    bs_sha256_buffer(buf, len - 32, hex);
    bs_sha256_hex_to_bytes(hex, buf + len - 32);
}

static void expect_refused(const unsigned char *buf, size_t len, const char *needle) {
    bs_error_clear();
    bs_sae *m = bs_sae_parse(buf, len, "model.sae");
    if (m) fprintf(stderr, "accepted a corrupt file (expected '%s')\n", needle);
    assert_null(m);
    const char *msg = bs_error_message();
    if (!strstr(msg, needle)) fprintf(stderr, "message '%s' lacks '%s'\n", msg, needle);
    assert_non_null(strstr(msg, "model.sae"));
    assert_non_null(strstr(msg, needle));
}

static void test_round_trip(void **s) {
    (void)s;
    float x[N * D];
    make_data(x);
    bs_sae *m = fit_small(x, NULL, N, 30);
    char *dir = bs_test_tmpdir();
    char *path = bs_path_join(dir, "m.sae");
    assert_int_equal(bs_sae_save(m, path), 0);
    bs_sae *l = bs_sae_load(path);
    assert_non_null(l);
    assert_int_equal(bs_sae_features(l), D);
    assert_int_equal(bs_sae_hidden(l), H);
    const bs_sae_options *a = bs_sae_options_of(m), *b = bs_sae_options_of(l);
    assert_true(a->l2 == b->l2 && a->sparsity == b->sparsity && a->proportion == b->proportion &&
                a->min_grad == b->min_grad && a->seed == b->seed && a->max_epochs == b->max_epochs);
    const bs_sae_fit_info *ia = bs_sae_info_of(m), *ib = bs_sae_info_of(l);
    assert_true(ia->epochs == ib->epochs && ia->accepted == ib->accepted && ia->perf == ib->perf &&
                ia->stop == ib->stop);
    float za[N * H], zb[N * H];
    assert_int_equal(
        bs_sae_encode(m, bs_matrix_of(x, N, D), NULL, N, bs_matrix_mut_of(za, N, bs_sae_hidden(m))),
        0);
    assert_int_equal(
        bs_sae_encode(l, bs_matrix_of(x, N, D), NULL, N, bs_matrix_mut_of(zb, N, bs_sae_hidden(l))),
        0);
    assert_memory_equal(za, zb, sizeof za);
    /* saving the loaded model gives the same bytes */
    char *path2 = bs_path_join(dir, "m2.sae");
    assert_int_equal(bs_sae_save(l, path2), 0);
    size_t la, lb;
    unsigned char *fa = slurp(path, &la), *fb = slurp(path2, &lb);
    assert_int_equal(la, lb);
    assert_memory_equal(fa, fb, la);
    /* atomic write: nothing but the two files in the directory */
    DIR *dd = opendir(dir);
    int count = 0;
    for (struct dirent *e; (e = readdir(dd));)
        if (e->d_name[0] != '.')
            count++;
        else if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
            count += 100; /* a leftover temp file */
    closedir(dd);
    assert_int_equal(count, 2);
    /* an unwritable destination is an error, not a crash */
    char *bad = bs_path_join(dir, "no/such/dir/m.sae");
    assert_int_equal(bs_sae_save(m, bad), -1);
    assert_null(bs_sae_load(bad));
    assert_non_null(strstr(bs_error_message(), "no/such/dir/m.sae"));
    free(bad);
    free(fa);
    free(fb);
    free(path2);
    bs_sae_free(m);
    bs_sae_free(l);
    bs_test_rmtree(dir);
    free(dir);
    free(path);
}

/* encode is logsig(W1·mapminmax(x) + b1), checked in double from the file's numbers. */
static void test_encode_formula(void **s) {
    (void)s;
    float x[N * D];
    make_data(x);
    bs_sae *m = fit_small(x, NULL, N, 20);
    char *dir = bs_test_tmpdir();
    char *path = bs_path_join(dir, "m.sae");
    assert_int_equal(bs_sae_save(m, path), 0);
    size_t len;
    unsigned char *buf = slurp(path, &len);
    /* layout (docs/autoencoder-format.md): 128-byte header, xoffset[D], gain[D] (f64),
     * then W1 (H×D), b1 (H), W2, b2 (f32) */
    double xoff[D], gain[D];
    float W1[H * D], b1[H];
    memcpy(xoff, buf + 128, sizeof xoff);
    memcpy(gain, buf + 128 + 8 * D, sizeof gain);
    memcpy(W1, buf + 128 + 16 * D, sizeof W1);
    memcpy(b1, buf + 128 + 16 * D + 4 * H * D, sizeof b1);
    assert_true(gain[2] == 1 && xoff[2] == 0); /* the constant feature */
    float nx[2 * D];                           /* new data, partly far outside the training range */
    for (int j = 0; j < D; j++) {
        nx[j] = x[3 * D + j];
        nx[D + j] = (float)(100 - 30 * j);
    }
    float z[2 * H];
    assert_int_equal(
        bs_sae_encode(m, bs_matrix_of(nx, 2, D), NULL, 2, bs_matrix_mut_of(z, 2, bs_sae_hidden(m))),
        0);
    for (int i = 0; i < 2; i++)
        for (int k = 0; k < H; k++) {
            double a = b1[k];
            for (int j = 0; j < D; j++) a += W1[k * D + j] * ((nx[i * D + j] - xoff[j]) * gain[j]);
            a = 1 / (1 + exp(-a));
            assert_true(fabs(z[i * H + k] - a) < 1e-5 * a + 1e-7);
        }
    free(buf);
    bs_sae_free(m);
    bs_test_rmtree(dir);
    free(dir);
    free(path);
}

/* Fitting on rows[] equals fitting on a copy of those rows; encoding rows[] likewise. */
static void test_row_subsets(void **s) {
    (void)s;
    float x[N * D], sub[N * D];
    make_data(x);
    const int64_t rows[12] = {29, 0, 3, 4, 7, 8, 11, 15, 16, 20, 21, 25};
    for (int i = 0; i < 12; i++) memcpy(sub + i * D, x + rows[i] * D, sizeof(float) * D);
    bs_sae *a = fit_small(x, rows, 12, 25);
    bs_sae_options o;
    bs_sae_options_default(&o);
    o.hidden = H;
    o.max_epochs = 25;
    o.seed = 5;
    bs_sae *b = bs_sae_fit(bs_matrix_of(sub, 12, D), NULL, 0, &o, NULL);
    assert_non_null(b);
    assert_true(bs_sae_info_of(a)->perf == bs_sae_info_of(b)->perf);
    const int64_t other[3] = {1, 2, 28};
    float za[3 * H], zb[3 * H], zc[N * H];
    assert_int_equal(bs_sae_encode(a, bs_matrix_of(x, N, D), other, 3,
                                   bs_matrix_mut_of(za, 3, bs_sae_hidden(a))),
                     0);
    assert_int_equal(bs_sae_encode(b, bs_matrix_of(x, N, D), other, 3,
                                   bs_matrix_mut_of(zb, 3, bs_sae_hidden(b))),
                     0);
    assert_memory_equal(za, zb, sizeof za);
    assert_int_equal(
        bs_sae_encode(a, bs_matrix_of(x, N, D), NULL, N, bs_matrix_mut_of(zc, N, bs_sae_hidden(a))),
        0);
    /* the same rows encoded in a different batch: sgemm may pick another kernel for another
     * row count, so equal to float rounding rather than bit for bit */
    for (int i = 0; i < 3; i++)
        for (int k = 0; k < H; k++)
            assert_true(fabsf(za[i * H + k] - zc[other[i] * H + k]) <=
                        1e-6f * zc[other[i] * H + k]);

    /* bad inputs */
    const int64_t bad_rows[2] = {0, N};
    assert_int_equal(bs_sae_encode(a, bs_matrix_of(x, N, D), bad_rows, 2,
                                   bs_matrix_mut_of(za, 2, bs_sae_hidden(a))),
                     -1);
    assert_non_null(strstr(bs_error_message(), "row index 30"));
    assert_null(bs_sae_fit(bs_matrix_of(x, N, D), bad_rows, 2, &o, NULL));
    assert_int_equal(bs_sae_encode(a, bs_matrix_of(x, N * D / 8, 8), NULL, 2,
                                   bs_matrix_mut_of(za, N * D / 8, bs_sae_hidden(a))),
                     -1);
    assert_non_null(strstr(bs_error_message(), "expects 9 features"));
    x[4 * D + 5] = NAN; /* only a problem for the rows that are used */
    assert_int_equal(bs_sae_encode(a, bs_matrix_of(x, N, D), other, 3,
                                   bs_matrix_mut_of(za, 3, bs_sae_hidden(a))),
                     0);
    assert_int_equal(
        bs_sae_encode(a, bs_matrix_of(x, N, D), NULL, N, bs_matrix_mut_of(zc, N, bs_sae_hidden(a))),
        -1);
    assert_non_null(strstr(bs_error_message(), "NaN value at row 4, column 5"));
    assert_null(bs_sae_fit(bs_matrix_of(x, N, D), NULL, N, &o, NULL));
    assert_non_null(strstr(bs_error_message(), "NaN value at row 4, column 5"));
    x[4 * D + 5] = -INFINITY;
    assert_null(bs_sae_fit(bs_matrix_of(x, N, D), NULL, N, &o, NULL));
    assert_non_null(strstr(bs_error_message(), "infinite value at row 4, column 5"));
    o.hidden = 0;
    assert_null(bs_sae_fit(bs_matrix_of(sub, 12, D), NULL, 0, &o, NULL));
    o.hidden = 2;
    o.proportion = 1;
    assert_null(bs_sae_fit(bs_matrix_of(sub, 12, D), NULL, 0, &o, NULL));
    bs_sae_free(a);
    bs_sae_free(b);
}

static void test_corrupt_files(void **s) {
    (void)s;
    float x[N * D];
    make_data(x);
    bs_sae *m = fit_small(x, NULL, N, 5);
    char *dir = bs_test_tmpdir();
    char *path = bs_path_join(dir, "m.sae");
    assert_int_equal(bs_sae_save(m, path), 0);
    size_t len;
    unsigned char *good = slurp(path, &len);
    unsigned char *buf = malloc(len + 8);
    bs_sae *ok = bs_sae_parse(good, len, "model.sae");
    assert_non_null(ok);
    bs_sae_free(ok);

    /* every truncation */
    for (size_t k = 0; k < len; k++) expect_refused(good, k, k < 160 ? "truncated" : "truncated");
    /* trailing bytes */
    memcpy(buf, good, len);
    memset(buf + len, 0, 8);
    expect_refused(buf, len + 8, "trailing bytes");
    /* every single-bit flip, anywhere */
    for (size_t k = 0; k < len; k++) {
        memcpy(buf, good, len);
        buf[k] ^= (unsigned char)(1u << (k % 8));
        bs_sae *mm = bs_sae_parse(buf, len, "model.sae");
        if (mm) fprintf(stderr, "flip at byte %zu accepted\n", k);
        assert_null(mm);
    }
    memcpy(buf, good, len);
    buf[200] ^= 0x40;
    expect_refused(buf, len, "checksum mismatch");
    memcpy(buf, good, len);
    buf[0] = 'X';
    expect_refused(buf, len, "bad magic");
    /* a newer version, even correctly sealed */
    memcpy(buf, good, len);
    buf[8] = 2;
    reseal(buf, len);
    expect_refused(buf, len, "unsupported autoencoder format version 2");
    /* sealed but inconsistent contents */
    memcpy(buf, good, len);
    buf[16] = 10; /* 10 features: the size no longer fits */
    reseal(buf, len);
    expect_refused(buf, len, "truncated");
    memcpy(buf, good, len);
    memset(buf + 16, 0xff, 8); /* absurd feature count */
    reseal(buf, len);
    expect_refused(buf, len, "corrupt header");
    memcpy(buf, good, len);
    double zero = 0;
    memcpy(buf + 128 + 8 * D, &zero, 8); /* gain 0 */
    reseal(buf, len);
    expect_refused(buf, len, "corrupt scaling for feature 0");
    memcpy(buf, good, len);
    float nan = NAN;
    memcpy(buf + 128 + 16 * D + 8, &nan, 4);
    reseal(buf, len);
    expect_refused(buf, len, "non-finite weight at parameter 2");
    memcpy(buf, good, len);
    double rho = 1.5;
    memcpy(buf + 80, &rho, 8);
    reseal(buf, len);
    expect_refused(buf, len, "training parameters out of range");
    /* and from disk, with the path in the message */
    bs_test_write(path, good, len / 2);
    assert_null(bs_sae_load(path));
    assert_non_null(strstr(bs_error_message(), path));
    assert_non_null(strstr(bs_error_message(), "truncated"));
    free(buf);
    free(good);
    bs_sae_free(m);
    bs_test_rmtree(dir);
    free(dir);
    free(path);
}

/* A file written before the container module (core/container.c) existed, by the commit before
 * it: it still loads, and saving or serialising the loaded model gives the same bytes, so the
 * format on disk did not change. D = 24, H = 6 (the autoencoder of
 * tests/pipeline/fixtures/v1-autoencoder.blastscan). */
static void test_file_from_an_earlier_build(void **s) {
    (void)s;
    const char *src = getenv("BLASTSCAN_SOURCE_DIR");
    if (!src) fail_msg("BLASTSCAN_SOURCE_DIR is not set (run through ctest)");
    char *path = bs_strfmt("%s/tests/autoencoder/fixtures/v1.sae", src);
    size_t len, len2;
    unsigned char *want = slurp(path, &len), *got;
    bs_sae *m = bs_sae_load(path);
    if (!m) fail_msg("%s", bs_error_message());
    assert_int_equal(bs_sae_features(m), 24);
    assert_int_equal(bs_sae_hidden(m), 6);
    assert_int_equal(bs_sae_serialize(m, "v1.sae", &got, &len2), 0);
    assert_int_equal(len2, len);
    assert_memory_equal(got, want, len);
    free(got);
    char *dir = bs_test_tmpdir(), *again = bs_path_join(dir, "again.sae");
    assert_int_equal(bs_sae_save(m, again), 0);
    got = slurp(again, &len2);
    assert_int_equal(len2, len);
    assert_memory_equal(got, want, len);
    float x[24] = {0}, z[6];
    assert_int_equal(
        bs_sae_encode(m, bs_matrix_of(x, 1, 24), NULL, 1, bs_matrix_mut_of(z, 1, bs_sae_hidden(m))),
        0);
    for (int j = 0; j < 6; j++) assert_true(z[j] > 0 && z[j] < 1); /* logistic units */
    bs_sae_free(m);
    free(got);
    free(want);
    bs_test_rmtree(dir);
    free(dir);
    free(again);
    free(path);
}

int main(void) {
    const struct CMUnitTest t[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_encode_formula),
        cmocka_unit_test(test_row_subsets),
        cmocka_unit_test(test_corrupt_files),
        cmocka_unit_test(test_file_from_an_earlier_build),
    };
    return cmocka_run_group_tests(t, NULL, NULL);
}
