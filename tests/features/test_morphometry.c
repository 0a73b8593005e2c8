/* test_morphometry.c — the morphometric features on synthetic cells with known answers: a disc
 * nucleus in a disc cell (areas, N:C, roundness, solidity), an ellipse (eccentricity), a
 * two-lobed nucleus; the same cell at three magnifications (red-cell units do not move); a
 * stain twice as pale or strong (shapes do not move, the stain's amount does); red cells
 * around the cell and a second cell in the corner (only the centre cell counts); and bad
 * crops (tiny, blank, grey, all violet, noise: defined, flagged, finite). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/rng.h"
#include "features/morphometry.h"
#include "image/image.h"
#include "image/stain.h"
#include "test_support.h"

static const unsigned char glass[3] = {236, 232, 236}, cytoplasm[3] = {200, 182, 222},
                           nucleus[3] = {105, 62, 165}, red_cell[3] = {222, 150, 162};

/* A shape: inside(x, y) in units of the crop side (0..1). */
typedef int (*shape_fn)(double x, double y, const double *p);

static int disc(double x, double y, const double *p) {
    return (x - p[0]) * (x - p[0]) + (y - p[1]) * (y - p[1]) <= p[2] * p[2];
}
static int ellipse(double x, double y, const double *p) {
    double u = (x - p[0]) / p[2], v = (y - p[1]) / p[3];
    return u * u + v * v <= 1;
}
/* Two discs of radius p[2] at p[0] ± p[3], joined by a bar p[4] high. */
static int two_lobes(double x, double y, const double *p) {
    double a[3] = {p[0] - p[3], p[1], p[2]}, b[3] = {p[0] + p[3], p[1], p[2]};
    return disc(x, y, a) || disc(x, y, b) || (fabs(x - p[0]) <= p[3] && fabs(y - p[1]) <= p[4] / 2);
}

/* Paint a shape in colour c with 4 × 4 supersampling (antialiased edges, as a camera sees). */
static void paint(bs_image *img, shape_fn f, const double *p, const unsigned char c[3]) {
    const int w = img->width;
    for (int y = 0; y < img->height; y++)
        for (int x = 0; x < w; x++) {
            int in = 0;
            for (int s = 0; s < 16; s++)
                in += f((x + (s % 4 + 0.5) / 4) / w, (y + (s / 4 + 0.5) / 4) / w, p);
            if (!in) continue;
            unsigned char *px = img->rgb + 3 * ((size_t)y * w + x);
            for (int k = 0; k < 3; k++)
                px[k] = (unsigned char)lround((px[k] * (16 - in) + c[k] * in) / 16.0);
        }
}

/* A side × side crop of glass, with the red-cell diameter given as a share of the side. */
static bs_image blank_crop(int side, double red_share) {
    bs_image img = {.width = side, .height = side, .rgb = malloc((size_t)side * side * 3)};
    for (int i = 0; i < side * side; i++) memcpy(img.rgb + 3 * i, glass, 3);
    img.red_cell_px = red_share * side;
    img.cell_px = 2 * img.red_cell_px;
    return img;
}

/* A 160 px crop: a disc cell of radius R (share of the side) centred, and a nucleus f(p). */
static bs_image cell_with(double R, shape_fn f, const double *p) {
    bs_image img = blank_crop(160, 0.25);
    double cell[3] = {0.5, 0.5, R};
    paint(&img, disc, cell, cytoplasm);
    paint(&img, f, p, nucleus);
    return img;
}

/* The standard cell: a disc cell of radius R (share of the side) and nucleus of radius r. */
static bs_image disc_cell(int side, double R, double r) {
    bs_image img = blank_crop(side, 0.25);
    double cell[3] = {0.5, 0.5, R}, nuc[3] = {0.5, 0.5, r};
    paint(&img, disc, cell, cytoplasm);
    paint(&img, disc, nuc, nucleus);
    return img;
}

static void features(const bs_image *img, float *f) {
    if (bs_morph_features(img, f, NULL)) fail_msg("%s", bs_error_message());
    for (int k = 0; k < BS_MORPH_DIM; k++)
        if (!isfinite(f[k])) fail_msg("%s is not finite", bs_morph_feature_name(k));
}

#define near(a, b, tol)                                                                            \
    do {                                                                                           \
        double a_ = (a), b_ = (b);                                                                 \
        if (!(fabs(a_ - b_) <= (tol)))                                                             \
            fail_msg("%s = %g, expected %g ± %g", #a, a_, b_, (double)(tol));                      \
    } while (0)

static void disc_in_disc(void **state) {
    (void)state;
    /* cell radius 0.3 of the side, nucleus 0.18, red cell 0.25: the cell is 2.4 red cells
     * across (5.76 red-cell areas), the nucleus 1.44 (2.07 areas), N:C = 0.36. */
    bs_image img = disc_cell(160, 0.3, 0.18);
    float f[BS_MORPH_DIM];
    features(&img, f);
    near(f[BS_MORPH_VALID], 1, 0);
    near(f[BS_MORPH_SCALE_FROM], 1, 0);
    near(f[BS_MORPH_CELL_DIAMETER], 2.4, 0.06);
    near(f[BS_MORPH_CELL_AREA], 5.76, 0.3);
    near(f[BS_MORPH_NUCLEUS_DIAMETER], 1.44, 0.04);
    near(f[BS_MORPH_NUCLEUS_AREA], 2.07, 0.12);
    near(f[BS_MORPH_NC_RATIO], 0.36, 0.03);
    near(f[BS_MORPH_NUCLEUS_ROUNDNESS], 1, 0.05);
    near(f[BS_MORPH_NUCLEUS_SOLIDITY], 1, 0.03);
    near(f[BS_MORPH_NUCLEUS_ECCENTRICITY], 0, 0.15);
    near(f[BS_MORPH_NUCLEUS_LOBES], 1, 0);
    near(f[BS_MORPH_CELL_ROUNDNESS], 1, 0.05);
    near(f[BS_MORPH_NUCLEUS_OFFSET], 0, 0.03);
    /* a flat nucleus has no texture to speak of, the cytoplasm some haematoxylin */
    assert_true(f[BS_MORPH_NUCLEUS_H_MEAN] > f[BS_MORPH_CYTO_H_MEAN]);
    assert_true(f[BS_MORPH_CYTO_H_RELATIVE] > 0 && f[BS_MORPH_CYTO_H_RELATIVE] < 1);
    bs_image_free(&img);

    /* A nucleus off the cell's centre: the offset says how far (0.08 of the side over a cell
     * radius of 0.3). */
    double nuc[3] = {0.58, 0.5, 0.15};
    img = cell_with(0.3, disc, nuc);
    features(&img, f);
    near(f[BS_MORPH_NUCLEUS_OFFSET], 0.08 / 0.3, 0.04);
    bs_image_free(&img);
}

static void ellipse_and_lobes(void **state) {
    (void)state;
    /* semi-axes 0.2 and 0.1: eccentricity √(1 − ¼) = 0.866, roundness 0.84, solid */
    double ell[4] = {0.5, 0.5, 0.2, 0.1};
    bs_image img = cell_with(0.32, ellipse, ell);
    float f[BS_MORPH_DIM];
    features(&img, f);
    near(f[BS_MORPH_NUCLEUS_ECCENTRICITY], 0.866, 0.04);
    near(f[BS_MORPH_NUCLEUS_ROUNDNESS], 0.84, 0.05);
    near(f[BS_MORPH_NUCLEUS_SOLIDITY], 1, 0.03);
    near(f[BS_MORPH_NUCLEUS_LOBES], 1, 0);
    bs_image_free(&img);

    /* two lobes of radius 0.09, 0.26 apart, joined by a bar 0.03 high: two pieces, not solid */
    double lobes[5] = {0.5, 0.5, 0.09, 0.13, 0.03};
    img = cell_with(0.32, two_lobes, lobes);
    features(&img, f);
    near(f[BS_MORPH_NUCLEUS_LOBES], 2, 0);
    assert_true(f[BS_MORPH_NUCLEUS_SOLIDITY] < 0.85);
    assert_true(f[BS_MORPH_NUCLEUS_ROUNDNESS] < 0.6);
    assert_true(f[BS_MORPH_NUCLEUS_ECCENTRICITY] > 0.8);
    /* the same two lobes apart (no bar) are still one nucleus: both pieces lie in the cell */
    bs_image_free(&img);
    double apart[5] = {0.5, 0.5, 0.09, 0.13, 0};
    img = cell_with(0.32, two_lobes, apart);
    float g[BS_MORPH_DIM];
    features(&img, g);
    near(g[BS_MORPH_NUCLEUS_LOBES], 2, 0);
    near(g[BS_MORPH_NUCLEUS_AREA], f[BS_MORPH_NUCLEUS_AREA], 0.1 * f[BS_MORPH_NUCLEUS_AREA]);
    bs_image_free(&img);
}

/* The same cell photographed at 0.6×, 1× and 2.5× (the crop, the cell and the red-cell ruler
 * all scale): sizes in red-cell units and shapes stay. */
static void magnification_invariant(void **state) {
    (void)state;
    static const int ks[] = {BS_MORPH_CELL_DIAMETER, BS_MORPH_NUCLEUS_DIAMETER, BS_MORPH_NC_RATIO,
                             BS_MORPH_NUCLEUS_ROUNDNESS, BS_MORPH_NUCLEUS_SOLIDITY};
    static const double tol[] = {0.04, 0.04, 0.02, 0.04, 0.02};
    float ref[BS_MORPH_DIM], f[BS_MORPH_DIM];
    bs_image img = disc_cell(160, 0.3, 0.2);
    features(&img, ref);
    bs_image_free(&img);
    const int sides[] = {96, 400};
    for (int s = 0; s < 2; s++) {
        img = disc_cell(sides[s], 0.3, 0.2);
        features(&img, f);
        for (int j = 0; j < 5; j++) near(f[ks[j]], ref[ks[j]], tol[j] * (1 + ref[ks[j]]));
        bs_image_free(&img);
    }
    /* Telling it the wrong ruler moves the sizes and nothing else: the scale is what makes
     * them comparable. */
    img = disc_cell(160, 0.3, 0.2);
    img.red_cell_px *= 2;
    features(&img, f);
    near(f[BS_MORPH_CELL_DIAMETER], ref[BS_MORPH_CELL_DIAMETER] / 2, 0.03);
    near(f[BS_MORPH_NC_RATIO], ref[BS_MORPH_NC_RATIO], 1e-6);
    /* Without red cells the white-cell size is the ruler, flagged 0.5; without either, the
     * crop, flagged 0. */
    img.red_cell_px = 0;
    features(&img, f);
    near(f[BS_MORPH_SCALE_FROM], 0.5, 0);
    near(f[BS_MORPH_CELL_DIAMETER], 2 * 0.3 * 160 / (img.cell_px / BS_MORPH_CELL_PER_RED), 0.06);
    img.cell_px = 0;
    features(&img, f);
    near(f[BS_MORPH_SCALE_FROM], 0, 0);
    near(f[BS_MORPH_VALID], 1, 0);
    bs_image_free(&img);
}

/* Stain amounts scaled (haematoxylin and eosin ×0.6 and ×1.5): the masks, so the shapes and
 * the ratios, stay; the nucleus's haematoxylin follows the stain. */
static void stain_strength_invariant(void **state) {
    (void)state;
    bs_image img = disc_cell(160, 0.3, 0.2);
    double lobes[5] = {0.5, 0.5, 0.08, 0.1, 0.02};
    paint(&img, two_lobes, lobes, nucleus); /* a nucleus with more to its shape */
    float ref[BS_MORPH_DIM], f[BS_MORPH_DIM];
    features(&img, ref);
    const size_t n = (size_t)img.width * img.height;
    float *hed = malloc(sizeof *hed * 3 * n);
    const double gains[] = {0.6, 1.5};
    for (int g = 0; g < 2; g++) {
        bs_image stained = img;
        stained.rgb = malloc(3 * n);
        bs_rgb_to_hed(img.rgb, n, hed);
        for (size_t i = 0; i < 3 * n; i++) hed[i] *= (float)gains[g];
        bs_hed_to_rgb(hed, n, stained.rgb);
        features(&stained, f);
        near(f[BS_MORPH_CELL_AREA], ref[BS_MORPH_CELL_AREA], 0.04 * ref[BS_MORPH_CELL_AREA]);
        near(f[BS_MORPH_NUCLEUS_AREA], ref[BS_MORPH_NUCLEUS_AREA],
             0.04 * ref[BS_MORPH_NUCLEUS_AREA]);
        near(f[BS_MORPH_NC_RATIO], ref[BS_MORPH_NC_RATIO], 0.02);
        near(f[BS_MORPH_NUCLEUS_ROUNDNESS], ref[BS_MORPH_NUCLEUS_ROUNDNESS], 0.04);
        near(f[BS_MORPH_NUCLEUS_SOLIDITY], ref[BS_MORPH_NUCLEUS_SOLIDITY], 0.03);
        near(f[BS_MORPH_NUCLEUS_LOBES], ref[BS_MORPH_NUCLEUS_LOBES], 0);
        near(f[BS_MORPH_NUCLEUS_H_MEAN], gains[g] * ref[BS_MORPH_NUCLEUS_H_MEAN],
             0.1 * ref[BS_MORPH_NUCLEUS_H_MEAN]);
        near(f[BS_MORPH_CYTO_H_RELATIVE], ref[BS_MORPH_CYTO_H_RELATIVE], 0.05);
        free(stained.rgb);
    }
    free(hed);
    bs_image_free(&img);
}

/* Red cells touching the white cell and another white cell in the corner: the features are
 * those of the centre cell alone. */
static void only_the_centre_cell(void **state) {
    (void)state;
    float ref[BS_MORPH_DIM], f[BS_MORPH_DIM];
    bs_image img = disc_cell(160, 0.27, 0.16);
    features(&img, ref);
    const double reds[][3] = {{0.5, 0.12, 0.12}, {0.86, 0.55, 0.12}, {0.15, 0.7, 0.12}};
    for (int i = 0; i < 3; i++) paint(&img, disc, reds[i], red_cell);
    double other[3] = {0.02, 0.02, 0.2}, other_nuc[3] = {0.0, 0.0, 0.12};
    paint(&img, disc, other, cytoplasm);
    paint(&img, disc, other_nuc, nucleus);
    bs_morph_masks *m = malloc(sizeof *m);
    if (bs_morph_features(&img, f, m)) fail_msg("%s", bs_error_message());
    assert_int_equal(m->nucleus[0], 0); /* the corner cell is no part of it */
    assert_int_equal(m->nucleus[64 * BS_MORPH_SIDE + 64], 1);
    near(f[BS_MORPH_NUCLEUS_AREA], ref[BS_MORPH_NUCLEUS_AREA], 0.05 * ref[BS_MORPH_NUCLEUS_AREA]);
    near(f[BS_MORPH_CELL_AREA], ref[BS_MORPH_CELL_AREA], 0.12 * ref[BS_MORPH_CELL_AREA]);
    near(f[BS_MORPH_NC_RATIO], ref[BS_MORPH_NC_RATIO], 0.05);
    free(m);
    bs_image_free(&img);
}

/* A finely mottled nucleus has more co-occurrence contrast than a smooth one. */
static void texture_sees_chromatin(void **state) {
    (void)state;
    float smooth[BS_MORPH_DIM], coarse[BS_MORPH_DIM];
    bs_image img = disc_cell(128, 0.3, 0.2);
    features(&img, smooth);
    for (int y = 0; y < 128; y++)
        for (int x = 0; x < 128; x++) {
            unsigned char *p = img.rgb + 3 * (y * 128 + x);
            if (p[0] < 150 && ((x / 2 + y / 2) % 2)) /* 2-pixel checks inside the nucleus */
                p[0] = (unsigned char)(p[0] - 40), p[1] = (unsigned char)(p[1] - 35);
        }
    features(&img, coarse);
    assert_true(coarse[BS_MORPH_GLCM_CONTRAST] > smooth[BS_MORPH_GLCM_CONTRAST] + 0.5);
    assert_true(coarse[BS_MORPH_GLCM_HOMOGENEITY] < smooth[BS_MORPH_GLCM_HOMOGENEITY]);
    assert_true(coarse[BS_MORPH_NUCLEUS_H_CV] > smooth[BS_MORPH_NUCLEUS_H_CV]);
    bs_image_free(&img);
}

/* Crops without a cell: valid = 0, everything else 0 but the ruler, never a failure. */
static void bad_crops(void **state) {
    (void)state;
    float f[BS_MORPH_DIM];
    const int sides[] = {1, 7, 200};
    for (int s = 0; s < 3; s++) {
        bs_image img = blank_crop(sides[s], 0.25);
        features(&img, f);
        assert_int_equal((int)f[BS_MORPH_VALID], 0);
        near(f[BS_MORPH_SCALE_FROM], 1, 0);
        for (int k = BS_MORPH_CELL_AREA; k < BS_MORPH_DIM; k++) near(f[k], 0, 0);
        bs_image_free(&img);
    }
    const unsigned char flat[][3] = {{128, 128, 128}, {0, 0, 0}, {255, 255, 255}, {105, 62, 165}};
    for (int c = 0; c < 4; c++) {
        bs_image img = blank_crop(64, 0.25);
        for (int i = 0; i < 64 * 64; i++) memcpy(img.rgb + 3 * i, flat[c], 3);
        features(&img, f);
        assert_int_equal((int)f[BS_MORPH_VALID], 0);
        bs_image_free(&img);
    }
    bs_rng rng;
    bs_rng_seed(&rng, 19);
    bs_image img = blank_crop(90, 0.25);
    for (int i = 0; i < 90 * 90 * 3; i++) img.rgb[i] = (unsigned char)(bs_rng_uniform(&rng) * 256);
    img.red_cell_px = 1e6; /* an absurd ruler is still a number */
    features(&img, f);
    bs_image_free(&img);
    /* a non-square crop is measured too (resampled like any other) */
    img = disc_cell(160, 0.3, 0.18);
    img.height = 100; /* the top 100 rows: the cell cut by the border */
    features(&img, f);
    img.height = 160;
    bs_image_free(&img);
    assert_int_equal(bs_morph_features(NULL, f, NULL), -1);
    bs_image none = {0};
    assert_int_equal(bs_morph_features(&none, f, NULL), -1);
    for (int k = 0; k < BS_MORPH_DIM; k++) assert_non_null(bs_morph_feature_name(k));
    assert_null(bs_morph_feature_name(BS_MORPH_DIM));
}

static int setup(void **state) {
    (void)state;
    return bs_image_init("test_morphometry", 1);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(disc_in_disc),
        cmocka_unit_test(ellipse_and_lobes),
        cmocka_unit_test(magnification_invariant),
        cmocka_unit_test(stain_strength_invariant),
        cmocka_unit_test(only_the_centre_cell),
        cmocka_unit_test(texture_sees_chromatin),
        cmocka_unit_test(bad_crops),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
