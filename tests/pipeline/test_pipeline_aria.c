/* test_pipeline_aria.c — the round trip on real images: 24 Aria 2021 images through GoogLeNet
 * (bs_extract, as `train` does), a pipeline fitted in memory, saved, loaded, and both applied to
 * held-out images through the backbone runtime (as `predict` and the library do): the decisions
 * must be bit-identical. Also: the runtime's features of the training images equal the
 * extraction's (the predict path computes what training saw). Skipped without the assets. */
#define _GNU_SOURCE
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/error.h"
#include "core/io.h"
#include "dataset/dataset.h"
#include "features/extract.h"
#include "features/featdir.h"
#include "image/image.h"
#include "pipeline/pipeline.h"
#include "test_support.h"

static void link_first(const char *aria, const char *cls, int from, int to, const char *dir) {
    char *src = bs_path_join(aria, cls);
    char *cmd = bs_strfmt("ls '%s' | sed -n %d,%dp", src, from, to);
    FILE *fp = popen(cmd, "r");
    char name[512];
    while (fp && fgets(name, sizeof name, fp)) {
        name[strcspn(name, "\n")] = 0;
        char *a = bs_strfmt("%s/%s", src, name), *b = bs_strfmt("%s/%s", dir, name);
        if (symlink(a, b)) fail_msg("symlink %s", b);
        free(a);
        free(b);
    }
    if (fp) pclose(fp);
    free(cmd);
    free(src);
}

static void round_trip_on_aria_images(void **state) {
    (void)state;
    char *model = bs_test_asset("models/googlenet-bvlc.onnx"),
         *aria = bs_test_asset("data/aria2021");
    if (!model || !aria) {
        free(model);
        free(aria);
        BS_SKIP("GoogLeNet or Aria 2021 absent");
    }
    assert_int_equal(bs_image_init("test", 0), 0);
    char *dir = bs_test_tmpdir();
    char *data = bs_path_join(dir, "data"), *benign = bs_path_join(dir, "data/Benign"),
         *pro = bs_path_join(dir, "data/Pro"), *held = bs_path_join(dir, "held"),
         *feat = bs_path_join(dir, "feat"), *cache = bs_path_join(dir, "cache");
    assert_int_equal(bs_mkdir_p(benign) | bs_mkdir_p(pro) | bs_mkdir_p(held), 0);
    link_first(aria, "Benign", 1, 12, benign);
    link_first(aria, "Pro", 1, 12, pro);
    link_first(aria, "Benign", 13, 15, held);
    link_first(aria, "Pro", 13, 15, held);

    bs_dataset ds;
    bs_dataset_options dopt;
    bs_dataset_options_init(&dopt);
    const char *src[1] = {data};
    if (bs_dataset_open(src, 1, &dopt, &ds)) fail_msg("%s", bs_error_message());
    assert_int_equal(ds.n, 24);
    bs_backbone_spec spec = {model, 0, NULL};
    bs_backbone_info info;
    bs_extract_options xo;
    bs_extract_options_init(&xo);
    xo.cache = cache;
    xo.batch = 8;
    xo.quiet = 1;
    xo.info = &info;
    bs_extract_stats st;
    if (bs_extract(&ds, &spec, 1, &xo, feat, &st)) fail_msg("%s", bs_error_message());
    assert_string_equal(info.name, "googlenet-bvlc");
    assert_int_equal(info.dim, 1024);
    bs_array x;
    assert_int_equal(bs_featdir_read_set(feat, info.name, 24, &x), 0);
    int32_t labels[24];
    int64_t group[24];
    for (int i = 0; i < 24; i++) {
        labels[i] = ds.samples[i].label;
        group[i] = i;
    }

    bs_pipeline p, q;
    memset(&p, 0, sizeof p);
    snprintf(p.version, sizeof p.version, "test");
    snprintf(p.label_names[0], sizeof p.label_names[0], "healthy");
    snprintf(p.label_names[1], sizeof p.label_names[1], "ALL");
    p.n_images = p.n_rows = 24;
    p.images_per_label[0] = p.images_per_label[1] = p.rows_per_label[0] = p.rows_per_label[1] = 12;
    p.backbones = calloc(1, sizeof *p.backbones);
    p.n_backbones = 1;
    snprintf(p.backbones[0].name, sizeof p.backbones[0].name, "%s", info.name);
    snprintf(p.backbones[0].file, sizeof p.backbones[0].file, "googlenet-bvlc.onnx");
    memcpy(p.backbones[0].sha256, info.sha256, 65);
    p.backbones[0].input_size = info.input_size;
    snprintf(p.backbones[0].tap, sizeof p.backbones[0].tap, "%s", info.tap);
    p.backbones[0].dim = info.dim;
    bs_pipeline_fit_options o;
    bs_pipeline_fit_options_init(&o);
    o.latent_fraction = 0.25; /* 256 of 1024 */
    o.ae.max_epochs = 30;
    o.calibration_folds = 4;
    if (bs_pipeline_fit(&p, bs_matrix_of(x.data, 24, 1024), labels, group, NULL, 24, &o))
        fail_msg("%s", bs_error_message());
    char *path = bs_path_join(dir, "m.blastscan");
    assert_int_equal(bs_pipeline_save(&p, path), 0);
    if (bs_pipeline_load(path, &q)) fail_msg("%s", bs_error_message());

    char *models = bs_test_asset("models");
    bs_pipeline_runtime *rt = bs_pipeline_runtime_open(&q, models);
    if (!rt) fail_msg("%s", bs_error_message());
    /* held-out images, and the training images (original views) for the feature check */
    bs_image imgs[30];
    const char *names[30];
    int ni = 0;
    char *ls = bs_strfmt("ls %s", held);
    FILE *fp = popen(ls, "r");
    free(ls);
    char line[512];
    while (fp && fgets(line, sizeof line, fp) && ni < 6) {
        line[strcspn(line, "\n")] = 0;
        char *f = bs_path_join(held, line);
        if (bs_image_load(f, &imgs[ni])) fail_msg("%s", bs_error_message());
        names[ni++] = f;
    }
    pclose(fp);
    assert_int_equal(ni, 6);
    for (int i = 0; i < 24; i++) {
        if (bs_image_load(ds.samples[i].path, &imgs[ni])) fail_msg("%s", bs_error_message());
        names[ni++] = ds.samples[i].path;
    }
    float *rows = malloc(sizeof(float) * 30 * 1024);
    if (bs_pipeline_runtime_features(rt, imgs, 30, 8, rows)) fail_msg("%s", bs_error_message());
    bs_pipeline_result a[30], b[30];
    assert_int_equal(bs_pipeline_predict(&p, bs_matrix_of(rows, 30, 1024), NULL, 30, a), 0);
    assert_int_equal(bs_pipeline_predict(&q, bs_matrix_of(rows, 30, 1024), NULL, 30, b), 0);
    for (int i = 0; i < 30; i++) {
        assert_memory_equal(&a[i].decision, &b[i].decision, sizeof(double));
        assert_memory_equal(&a[i].probability, &b[i].probability, sizeof(double));
        assert_memory_equal(&a[i].recon_error, &b[i].recon_error, sizeof(double));
        assert_int_equal(a[i].ood, b[i].ood);
        if (i < 6)
            fprintf(stderr, "  %s: decision %.6f, P(ALL) %.3f, error %.4g (threshold %.4g)\n",
                    names[i], a[i].decision, a[i].probability, a[i].recon_error, q.ood.threshold);
    }
    /* the predict path computes the features training saw (engine batch 8 in both) */
    double worst = 0;
    for (int i = 0; i < 24; i++)
        for (int k = 0; k < 1024; k++) {
            double d = fabs(rows[(6 + i) * 1024 + k] - x.data[i * 1024 + k]) /
                       (1 + fabs(x.data[i * 1024 + k]));
            if (d > worst) worst = d;
        }
    fprintf(stderr, "  runtime features vs extraction: largest relative difference %.3g\n", worst);
    assert_true(worst <= 1e-4);
    for (int i = 0; i < 30; i++) bs_image_free(&imgs[i]);
    for (int i = 0; i < 6; i++) free((char *)names[i]);
    free(rows);
    bs_pipeline_runtime_free(rt);
    bs_pipeline_free(&p);
    bs_pipeline_free(&q);
    bs_array_free(&x);
    bs_dataset_free(&ds);
    bs_test_rmtree(dir);
    free(path);
    free(models);
    free(dir);
    free(data);
    free(benign);
    free(pro);
    free(held);
    free(feat);
    free(cache);
    free(model);
    free(aria);
}

int main(void) {
    const struct CMUnitTest tests[] = {cmocka_unit_test(round_trip_on_aria_images)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
