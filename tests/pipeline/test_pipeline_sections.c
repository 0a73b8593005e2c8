/* test_pipeline_sections.c — the pipeline file's optional sections (docs/pipeline-format.md):
 * `MIL ` (what mi-SVM did, train --mil), `CELL` (how a cell model's crops were made) and `PRIO`
 * (the training class prior, for prior adaptation: its failure case is tested here too). A
 * pipeline fitted as mi-SVM records its rounds and counts; both sections survive a round trip
 * (same predictions, byte-identical re-save); a file without them has neither tag and loads
 * with them absent; damaged sections (values out of range, truncated, misplaced, unknown
 * sections) are refused with the section named, and byte-wise tampering never crashes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/hash.h"
#include "core/io.h"
#include "core/rng.h"
#include "pipeline/pipeline.h"
#include "test_support.h"

#define N 96 /* 32 images of 3 views; bags of 4 images; in an ALL bag one image is "ALL-like" */
#define D 8

static float x[N * D];
static int32_t labels[N];
static int64_t bag[N], image[N];

static int setup(void **state) {
    (void)state;
    bs_rng r;
    bs_rng_seed(&r, 9);
    for (int i = 0; i < N; i++) {
        int img = i / 3, b = img / 4;
        image[i] = img;
        bag[i] = b;
        labels[i] = b % 2;
        int blast = labels[i] && img % 4 == 0;
        for (int j = 0; j < D; j++)
            x[i * D + j] = (float)((blast && j < D / 2 ? 1.4 : 0.6) * (0.5 + bs_rng_uniform(&r)));
    }
    return 0;
}

static void minimal_meta(bs_pipeline *p) {
    snprintf(p->version, sizeof p->version, "test");
    snprintf(p->label_names[0], sizeof p->label_names[0], "healthy");
    snprintf(p->label_names[1], sizeof p->label_names[1], "ALL");
    p->n_images = N / 3;
    p->n_rows = N;
    p->images_per_label[0] = p->images_per_label[1] = N / 6;
    p->rows_per_label[0] = p->rows_per_label[1] = N / 2;
    p->backbones = calloc(1, sizeof *p->backbones);
    p->n_backbones = 1;
    snprintf(p->backbones[0].name, sizeof p->backbones[0].name, "net");
    snprintf(p->backbones[0].file, sizeof p->backbones[0].file, "net.onnx");
    bs_sha256_buffer("net", 3, p->backbones[0].sha256);
    p->backbones[0].input_size = 224;
    snprintf(p->backbones[0].tap, sizeof p->backbones[0].tap, "features");
    p->backbones[0].dim = D;
}

static void fit(bs_pipeline *p, int mil_rounds, int64_t hidden) {
    bs_pipeline_fit_options o;
    bs_pipeline_fit_options_init(&o);
    o.latent_fraction = hidden ? (double)hidden / D : 0;
    o.ae.max_epochs = 30;
    o.svm_seed = 3;
    o.mil_rounds = mil_rounds;
    o.instance = image;
    memset(p, 0, sizeof *p);
    minimal_meta(p);
    if (bs_pipeline_fit(p, bs_matrix_of(x, N, D), labels, bag, NULL, N, &o))
        fail_msg("fit: %s", bs_error_message());
}

static unsigned char *to_buffer(const bs_pipeline *p, size_t *len) {
    char *dir = bs_test_tmpdir(), *path = bs_path_join(dir, "m.blastscan");
    if (bs_pipeline_save(p, path)) fail_msg("save: %s", bs_error_message());
    unsigned char *buf;
    assert_int_equal(bs_read_file(path, 1 << 24, &buf, len), 0);
    bs_test_rmtree(dir);
    free(path);
    free(dir);
    return buf;
}

static unsigned char *find_tag(unsigned char *buf, size_t len, const char *tag) {
    for (size_t i = 32; i + 16 <= len; i++)
        if (!memcmp(buf + i, tag, 4) && !memcmp(buf + i + 4, "\0\0\0\0", 4)) return buf + i;
    return NULL;
}

static void rehash(unsigned char *buf, size_t len) {
    char hex[BS_SHA256_HEX];
    bs_sha256_buffer(buf, len - 32, hex);
    bs_sha256_hex_to_bytes(hex, buf + len - 32);
}

static void both_sections_round_trip(void **state) {
    (void)state;
    bs_pipeline p, q;
    fit(&p, 20, 2);
    assert_true(p.mil.rounds >= 1 && p.mil.rounds <= 20 && p.mil.max_rounds == 20);
    assert_int_equal(p.mil.bags, 4); /* 8 bags of 4 images, every other one ALL */
    assert_int_equal(p.mil.instances, 16);
    assert_true(p.mil.positives >= 4 && p.mil.positives <= 16 && p.mil.bag_min >= 1);
    p.cells = (bs_pipeline_cells){1, 0, 1.25};
    size_t len, len2;
    unsigned char *buf = to_buffer(&p, &len);
    assert_non_null(find_tag(buf, len, "MIL "));
    assert_non_null(find_tag(buf, len, "CELL"));
    assert_true(find_tag(buf, len, "MIL ") < find_tag(buf, len, "CELL"));
    if (bs_pipeline_parse(buf, len, "m", &q)) fail_msg("parse: %s", bs_error_message());
    assert_memory_equal(&q.mil, &p.mil, sizeof p.mil);
    assert_int_equal(q.cells.present, 1);
    assert_int_equal(q.cells.normalised, 0);
    assert_true(q.cells.crop_scale == 1.25);
    bs_pipeline_result a[N], b[N];
    assert_int_equal(bs_pipeline_predict(&p, bs_matrix_of(x, N, D), NULL, N, a), 0);
    assert_int_equal(bs_pipeline_predict(&q, bs_matrix_of(x, N, D), NULL, N, b), 0);
    for (int i = 0; i < N; i++) { /* bit for bit (the records have padding) */
        assert_memory_equal(&a[i].decision, &b[i].decision, sizeof(double));
        assert_memory_equal(&a[i].probability, &b[i].probability, sizeof(double));
        assert_memory_equal(&a[i].recon_error, &b[i].recon_error, sizeof(double));
        assert_true(a[i].label == b[i].label && a[i].ood == b[i].ood);
    }
    unsigned char *buf2 = to_buffer(&q, &len2);
    assert_int_equal(len, len2);
    assert_memory_equal(buf, buf2, len);
    free(buf2);
    /* the cell section alone */
    bs_pipeline_free(&q);
    p.mil.rounds = 0;
    p.cells.normalised = 1;
    free(buf);
    buf = to_buffer(&p, &len);
    assert_null(find_tag(buf, len, "MIL "));
    assert_int_equal(bs_pipeline_parse(buf, len, "m", &q), 0);
    assert_int_equal(q.mil.rounds, 0);
    assert_true(q.cells.present && q.cells.normalised == 1);
    bs_pipeline_free(&q);
    bs_pipeline_free(&p);
    free(buf);
}

static void without_them_the_file_is_as_before(void **state) {
    (void)state;
    bs_pipeline p, q;
    fit(&p, 0, 0);
    assert_int_equal(p.mil.rounds, 0);
    size_t len;
    unsigned char *buf = to_buffer(&p, &len);
    assert_null(find_tag(buf, len, "MIL "));
    assert_null(find_tag(buf, len, "CELL"));
    assert_int_equal(bs_pipeline_parse(buf, len, "m", &q), 0);
    assert_int_equal(q.mil.rounds, 0);
    assert_int_equal(q.cells.present, 0);
    bs_pipeline_free(&q);
    bs_pipeline_free(&p);
    free(buf);
}

/* buf with `extra` (a whole section) inserted at byte `at` of the payload, header and digest
 * fixed; *len grows. */
static unsigned char *insert(const unsigned char *buf, size_t *len, size_t at,
                             const unsigned char *extra, size_t n) {
    unsigned char *out = malloc(*len + n);
    memcpy(out, buf, at);
    memcpy(out + at, extra, n);
    memcpy(out + at + n, buf + at, *len - at);
    *len += n;
    uint64_t payload = *len - 64;
    for (int i = 0; i < 8; i++) out[16 + i] = (unsigned char)(payload >> (8 * i));
    rehash(out, *len);
    return out;
}

static void expect_refused(unsigned char *buf, size_t len, const char *words) {
    bs_pipeline q;
    assert_int_equal(bs_pipeline_parse(buf, len, "m", &q), -1);
    if (!strstr(bs_error_message(), words))
        fail_msg("expected '%s' in: %s", words, bs_error_message());
}

static void damaged_sections_are_refused(void **state) {
    (void)state;
    bs_pipeline p;
    fit(&p, 20, 0);
    p.cells = (bs_pipeline_cells){1, 1, 1.25};
    size_t len;
    unsigned char *buf = to_buffer(&p, &len), *copy = malloc(len);
    const size_t mil = (size_t)(find_tag(buf, len, "MIL ") - buf),
                 cell = (size_t)(find_tag(buf, len, "CELL") - buf);
    struct {
        size_t at;
        unsigned char value;
        const char *words;
    } bad[] = {
        {mil + 16, 0, "corrupt MIL  section: values out of range"},  /* 0 rounds */
        {mil + 20, 0, "corrupt MIL  section: values out of range"},  /* cap below rounds */
        {mil + 24, 7, "corrupt MIL  section: values out of range"},  /* converged = 7 */
        {mil + 36, 0, "corrupt MIL  section: values out of range"},  /* no bag */
        {cell + 16, 2, "corrupt CELL section: values out of range"}, /* normalised = 2 */
        {cell + 27, 0x7f, "corrupt CELL section"},                   /* crop scale huge */
        {cell + 8, 5, "corrupt CELL section"},                       /* body length 5 */
        {mil, 'X', "unknown section 'XIL '"},                        /* a tag not known */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        memcpy(copy, buf, len);
        copy[bad[i].at] = bad[i].value;
        rehash(copy, len);
        expect_refused(copy, len, bad[i].words);
    }
    /* misplaced: a second CELL section after the first, or MIL after CELL */
    size_t l2 = len;
    unsigned char *twice = insert(buf, &l2, len - 32, buf + cell, len - 32 - cell);
    expect_refused(twice, l2, "unknown section 'CELL'");
    free(twice);
    l2 = len;
    unsigned char *swapped = insert(buf, &l2, len - 32, buf + mil, cell - mil);
    memmove(swapped + mil, swapped + cell, l2 - 32 - cell); /* drop the first MIL */
    l2 -= cell - mil;
    for (int i = 0; i < 8; i++) swapped[16 + i] = (unsigned char)((uint64_t)(l2 - 64) >> (8 * i));
    rehash(swapped, l2);
    expect_refused(swapped, l2, "unknown section 'MIL '");
    free(swapped);
    /* every truncation of the optional part, and tampering with the digest recomputed: a
     * clean error or a valid model, never a crash (the sanitizer build checks the reads) */
    bs_pipeline q;
    for (size_t cut = mil; cut < len; cut++)
        assert_int_equal(bs_pipeline_parse(buf, cut, "m", &q), -1);
    for (size_t i = mil; i + 32 < len; i++)
        for (int d = 1; d < 256; d *= 2) {
            memcpy(copy, buf, len);
            copy[i] ^= (unsigned char)d;
            rehash(copy, len);
            if (bs_pipeline_parse(copy, len, "m", &q) == 0) bs_pipeline_free(&q);
        }
    assert_int_equal(bs_pipeline_parse(buf, len, "m", &q), 0);
    bs_pipeline_free(&q);
    bs_pipeline_free(&p);
    free(copy);
    free(buf);
}

/* PRIO: the fit records the positive share of its labels (mi-SVM's final labels with --mil);
 * it survives a round trip; a file without it (what builds before it wrote) is byte for byte
 * that file, loads with the prior 0 and predicts the same, and only adaptation refuses it. */
static void prior_section(void **state) {
    (void)state;
    bs_pipeline p, q, old;
    fit(&p, 0, 0);
    assert_true(p.train_prior == 0.5); /* every other bag ALL */
    size_t len, len2, len_old;
    unsigned char *buf = to_buffer(&p, &len);
    unsigned char *at = find_tag(buf, len, "PRIO");
    assert_non_null(at);
    assert_true(at + 24 == buf + len - 32); /* the last section */
    assert_int_equal(bs_pipeline_parse(buf, len, "m", &q), 0);
    assert_true(q.train_prior == 0.5);
    unsigned char *buf2 = to_buffer(&q, &len2);
    assert_int_equal(len, len2);
    assert_memory_equal(buf, buf2, len);
    /* without it: the bytes before it, as an older build wrote them */
    p.train_prior = 0;
    unsigned char *obuf = to_buffer(&p, &len_old);
    assert_null(find_tag(obuf, len_old, "PRIO"));
    assert_int_equal(len_old, len - 24);
    assert_memory_equal(obuf + 32, buf + 32, len_old - 64); /* payload up to PRIO */
    assert_int_equal(bs_pipeline_parse(obuf, len_old, "old", &old), 0);
    assert_true(old.train_prior == 0);
    bs_pipeline_result a[N], b[N];
    assert_int_equal(bs_pipeline_predict(&q, bs_matrix_of(x, N, D), NULL, N, a), 0);
    assert_int_equal(bs_pipeline_predict(&old, bs_matrix_of(x, N, D), NULL, N, b), 0);
    for (int i = 0; i < N; i++)
        assert_true(a[i].decision == b[i].decision && a[i].probability == b[i].probability &&
                    a[i].label == b[i].label);
    bs_pipeline_adaptation ad;
    assert_int_equal(bs_pipeline_adapt_prior(&old, b, N, &ad), -1);
    assert_non_null(strstr(bs_error_message(), "no training class prior"));
    for (int i = 0; i < N; i++) assert_true(a[i].probability == b[i].probability); /* untouched */
    /* a prior of 0 or 1 in the section is refused */
    const double bad[] = {0.0, 1.0, -0.5};
    for (int k = 0; k < 3; k++) {
        memcpy(buf + (at - buf) + 16, &bad[k], 8); /* little-endian f64, as the file */
        rehash(buf, len);
        expect_refused(buf, len, "corrupt PRIO section: values out of range");
    }
    bs_pipeline_free(&q);
    bs_pipeline_free(&old);
    bs_pipeline_free(&p);
    free(buf), free(buf2), free(obuf);
}

/* The failure case prior adaptation invites (issue 19.7): a batch of one class must move away
 * from the training mix towards its own, never towards the mix. A model fitted on a 50:50 mix;
 * batches of its negative rows only and of its positive rows only (the blast-like images). */
static void a_batch_of_one_class_is_not_pulled_to_the_mix(void **state) {
    (void)state;
    bs_pipeline p;
    fit(&p, 0, 0);
    bs_pipeline_result all[N], neg[N], pos[N];
    assert_int_equal(bs_pipeline_predict(&p, bs_matrix_of(x, N, D), NULL, N, all), 0);
    int64_t nn = 0, np = 0;
    for (int i = 0; i < N; i++) {
        if (labels[i] == 0) neg[nn++] = all[i];
        if (labels[i] == 1 && image[i] % 4 == 0) pos[np++] = all[i]; /* the blast-like ones */
    }
    bs_pipeline_adaptation ad;
    int64_t called = 0;
    for (int64_t i = 0; i < nn; i++) called += neg[i].label;
    bs_pipeline_result before[N];
    memcpy(before, neg, sizeof neg);
    assert_int_equal(bs_pipeline_adapt_prior(&p, neg, nn, &ad), 0);
    for (int64_t i = 0; i < nn; i++) /* every cell less likely a blast, none more */
        assert_true(neg[i].probability < before[i].probability &&
                    neg[i].decision < before[i].decision);
    assert_true(ad.batch_prior < p.train_prior); /* towards 0, its own */
    assert_true(ad.batch_prior < 0.5 * p.train_prior);
    assert_int_equal(ad.positives_before, called);
    assert_true(ad.positives_after <= ad.positives_before); /* no more false positives */
    for (int64_t i = 0; i < nn; i++) assert_true(neg[i].label == (neg[i].decision > 0));
    assert_int_equal(bs_pipeline_adapt_prior(&p, pos, np, &ad), 0);
    assert_true(ad.batch_prior > p.train_prior); /* towards 1 */
    assert_true(ad.positives_after >= ad.positives_before);
    assert_true(ad.positives_after == np); /* every blast kept */
    /* an empty batch changes nothing */
    assert_int_equal(bs_pipeline_adapt_prior(&p, pos, 0, &ad), 0);
    assert_true(ad.batch_prior == p.train_prior && ad.shift == 0);
    bs_pipeline_free(&p);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(both_sections_round_trip),
        cmocka_unit_test(without_them_the_file_is_as_before),
        cmocka_unit_test(damaged_sections_are_refused),
        cmocka_unit_test(prior_section),
        cmocka_unit_test(a_batch_of_one_class_is_not_pulled_to_the_mix),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
