/* test_morph_pipeline.c — a pipeline whose features are the morphometric ones (no network, no
 * file): recorded as a backbone entry named "morphometry" by train's provenance, saved and
 * read back, opened without any backbone folder, and the runtime's features of each crop
 * bit-identical to bs_morph_features' with the crop's scale; a file naming another version of
 * the features is refused at opening. Synthetic crops: a cell with a small nucleus (class 0)
 * or a large one (class 1). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/hash.h"
#include "core/io.h"
#include "features/morphometry.h"
#include "pipeline/pipeline.h"
#include "test_support.h"

#define N 40

/* A side × side crop: glass, a cytoplasm disc of radius 0.3·side, a nucleus of radius
 * r·side, both centred at (0.5 + dx, 0.5); red cells a quarter of the side across. */
static bs_image crop(int side, double r, double dx) {
    bs_image img = {.width = side, .height = side, .rgb = malloc((size_t)side * side * 3)};
    for (int y = 0; y < side; y++)
        for (int x = 0; x < side; x++) {
            double u = (x + 0.5) / side - 0.5 - dx, v = (y + 0.5) / side - 0.5;
            double d = sqrt(u * u + v * v);
            static const unsigned char glass[3] = {238, 234, 238}, cyto[3] = {198, 180, 222},
                                       nuc[3] = {100, 60, 160};
            memcpy(img.rgb + 3 * ((size_t)y * side + x), d <= r ? nuc : d <= 0.3 ? cyto : glass, 3);
        }
    img.red_cell_px = 0.25 * side;
    img.cell_px = 0.5 * side;
    return img;
}

static void morphometry_runs_as_a_backbone(void **state) {
    (void)state;
    bs_image imgs[N];
    float *x = malloc(sizeof(float) * N * BS_MORPH_DIM);
    int32_t labels[N];
    int64_t group[N];
    bs_sample samples[N];
    for (int i = 0; i < N; i++) {
        labels[i] = i % 2;
        group[i] = i;
        imgs[i] = crop(100 + 7 * i, labels[i] ? 0.22 : 0.12 + 0.002 * i, 0.01 * (i % 5));
        if (bs_morph_features(&imgs[i], x + (size_t)i * BS_MORPH_DIM, NULL))
            fail_msg("%s", bs_error_message());
        samples[i] = (bs_sample){.path = "crop.png",
                                 .label = labels[i],
                                 .class_name = labels[i] ? "Pro" : "Benign",
                                 .group = "g"};
    }
    /* What train records: the backbone as extraction describes it, from --backbone morphometry */
    bs_backbone_info info = {.name = BS_MORPH_NAME,
                             .input_size = BS_MORPH_SIDE,
                             .tap = BS_MORPH_VERSION,
                             .dim = BS_MORPH_DIM};
    bs_morph_sha256(info.sha256);
    const char *paths[1] = {BS_MORPH_NAME};
    size_t order[1] = {0};
    bs_dataset ds = {.n = N, .samples = samples};
    bs_augment none = {0};
    bs_pipeline p;
    memset(&p, 0, sizeof p);
    if (bs_pipeline_set_provenance(&p, &ds, &none, 3, &info, paths, order, 1))
        fail_msg("%s", bs_error_message());
    bs_pipeline_fit_options o;
    bs_pipeline_fit_options_init(&o);
    bs_pipeline_fit_options_seed(&o, 3);
    if (bs_pipeline_fit(&p, bs_matrix_of(x, N, BS_MORPH_DIM), labels, group, NULL, N, &o))
        fail_msg("fit: %s", bs_error_message());
    assert_string_equal(p.backbones[0].file, BS_MORPH_NAME);

    /* saved, read back, opened with no folder of backbones at all */
    char *dir = bs_test_tmpdir(), *path = bs_path_join(dir, "m.blastscan");
    if (bs_pipeline_save(&p, path)) fail_msg("%s", bs_error_message());
    bs_pipeline q;
    if (bs_pipeline_load(path, &q)) fail_msg("%s", bs_error_message());
    bs_pipeline_runtime *rt = bs_pipeline_runtime_open(&q, "/nonexistent");
    if (!rt) fail_msg("%s", bs_error_message());
    float *rows = malloc(sizeof(float) * N * BS_MORPH_DIM);
    bs_pipeline_result res[N];
    if (bs_pipeline_runtime_classify(rt, imgs, N, 4, rows, res)) fail_msg("%s", bs_error_message());
    assert_memory_equal(rows, x, sizeof(float) * N * BS_MORPH_DIM);
    int right = 0;
    for (int i = 0; i < N; i++) right += res[i].label == labels[i];
    assert_true(right >= N - 2); /* the nucleus's size tells the classes apart */
    /* the scale is used: the same crop told it is seen at twice the magnification */
    bs_image twice = imgs[1];
    twice.red_cell_px *= 2;
    if (bs_pipeline_runtime_features(rt, &twice, 1, 1, rows)) fail_msg("%s", bs_error_message());
    assert_true(fabsf(rows[BS_MORPH_NUCLEUS_DIAMETER] -
                      x[BS_MORPH_DIM + BS_MORPH_NUCLEUS_DIAMETER] / 2) < 1e-4f);
    bs_pipeline_runtime_free(rt);

    /* a model of another version of the features is refused, saying what to do */
    bs_sha256_buffer("morphometry-0", 13, q.backbones[0].sha256);
    assert_null(bs_pipeline_runtime_open(&q, "/nonexistent"));
    assert_non_null(strstr(bs_error_message(), "retrain"));
    bs_pipeline_free(&q);
    bs_pipeline_free(&p);
    for (int i = 0; i < N; i++) bs_image_free(&imgs[i]);
    free(rows), free(x), free(path);
    bs_test_rmtree(dir);
    free(dir);
}

static int setup(void **state) {
    (void)state;
    return bs_image_init("test_morph_pipeline", 1);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(morphometry_runs_as_a_backbone),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
