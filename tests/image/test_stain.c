/* test_stain.c — colour deconvolution, HED jitter, Reinhard transfer, scale jitter and the
 * augmentation views: known answers from tests/image/make_stain_fixture.py (plain Python,
 * computed without this code) and the invariants each tool promises. */
#define _GNU_SOURCE
#include <glib.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/io.h"
#include "core/rng.h"
#include "image/image.h"
#include "image/stain.h"
#include "test_support.h"

static int setup(void **state) {
    (void)state;
    return bs_image_init("test_stain", 1);
}

static bs_image new_image(int w, int h) {
    bs_image img = {.width = w, .height = h, .rgb = g_malloc((size_t)w * h * 3)};
    return img;
}

/* A smear-like field: a lilac background, pink red cells and a violet nucleus, with noise. */
static bs_image smear(int w, int h, uint64_t seed, const double tint[3]) {
    bs_image img = new_image(w, h);
    bs_rng rng;
    bs_rng_seed(&rng, seed);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            double dx = x - w * 0.6, dy = y - h * 0.4, ex = x - w * 0.25, ey = y - h * 0.7;
            const double *c;
            static const double bg[3] = {228, 222, 234}, rbc[3] = {205, 150, 178},
                                nuc[3] = {95, 55, 160};
            c = dx * dx + dy * dy < w * w / 25.0   ? nuc
                : ex * ex + ey * ey < w * w / 36.0 ? rbc
                : dx * dx + dy * dy < w * w / 9.0  ? rbc
                                                   : bg;
            for (int k = 0; k < 3; k++) {
                double v = c[k] * tint[k] + 12 * (bs_rng_uniform(&rng) - 0.5);
                img.rgb[((size_t)y * w + x) * 3 + k] = (unsigned char)(v < 0     ? 0
                                                                       : v > 255 ? 255
                                                                                 : v);
            }
        }
    return img;
}

static const double no_tint[3] = {1, 1, 1};

static int max_diff(const bs_image *a, const bs_image *b) {
    int m = 0;
    for (size_t i = 0; i < (size_t)a->width * a->height * 3; i++) {
        int d = abs((int)a->rgb[i] - (int)b->rgb[i]);
        if (d > m) m = d;
    }
    return m;
}

static bs_image copy_of(const bs_image *a) {
    bs_image c = new_image(a->width, a->height);
    memcpy(c.rgb, a->rgb, (size_t)a->width * a->height * 3);
    return c;
}

/* ---- known answers -------------------------------------------------------------------- */

static void known_answers(void **state) {
    (void)state;
    char *path = bs_strfmt("%s/tests/image/fixtures/stain.csv", getenv("BLASTSCAN_SOURCE_DIR"));
    FILE *fp = fopen(path, "r");
    assert_non_null(fp);
    char kind[8];
    double v[6];
    int counts[3] = {0, 0, 0};
    while (fscanf(fp, "%7[a-z],%lf,%lf,%lf,%lf,%lf,%lf\n", kind, &v[0], &v[1], &v[2], &v[3], &v[4],
                  &v[5]) == 7) {
        unsigned char px[3] = {(unsigned char)v[0], (unsigned char)v[1], (unsigned char)v[2]};
        if (!strcmp(kind, "hed")) {
            float hed[3];
            bs_rgb_to_hed(px, 1, hed);
            for (int c = 0; c < 3; c++)
                assert_true(fabs(hed[c] - v[3 + c]) < 2e-6 * (1 + fabs(v[3 + c])));
            counts[0]++;
        } else if (!strcmp(kind, "rgb")) {
            float hed[3] = {(float)v[0], (float)v[1], (float)v[2]};
            unsigned char out[3];
            bs_hed_to_rgb(hed, 1, out);
            for (int c = 0; c < 3; c++) {
                double want = v[3 + c] > 255 ? 255 : v[3 + c];
                assert_true(fabs(out[c] - want) <= 0.5 + 1e-4);
            }
            counts[1]++;
        } else {
            bs_image one = {.width = 1, .height = 1, .rgb = px};
            bs_colour_stats st = {0};
            bs_colour_stats_add(&st, &one);
            for (int c = 0; c < 3; c++) {
                assert_true(fabs(st.mean[c] - v[3 + c]) < 1e-8); /* the fixture has 9 digits */
                assert_true(st.sd[c] == 0);
            }
            counts[2]++;
        }
    }
    fclose(fp);
    free(path);
    assert_true(counts[0] >= 20 && counts[1] >= 12 && counts[2] >= 20);
}

/* hed2rgb(rgb2hed(x)) == x: over a grid of the colour cube, the edges included. */
static void deconvolution_round_trips(void **state) {
    (void)state;
    static const int levels[] = {0, 1, 2, 7, 30, 64, 95, 128, 160, 200, 231, 250, 254, 255};
    const size_t nl = sizeof levels / sizeof levels[0], n = nl * nl * nl;
    unsigned char *rgb = malloc(3 * n), *back = malloc(3 * n);
    float *hed = malloc(sizeof(float) * 3 * n);
    for (size_t i = 0; i < n; i++) {
        rgb[3 * i] = (unsigned char)levels[i % nl];
        rgb[3 * i + 1] = (unsigned char)levels[i / nl % nl];
        rgb[3 * i + 2] = (unsigned char)levels[i / nl / nl];
    }
    bs_rgb_to_hed(rgb, n, hed);
    bs_hed_to_rgb(hed, n, back);
    for (size_t i = 0; i < 3 * n; i++) assert_true(abs((int)rgb[i] - (int)back[i]) <= 1);
    free(rgb);
    free(back);
    free(hed);
}

/* ---- HED jitter ------------------------------------------------------------------------ */

static void hed_identity_and_composition(void **state) {
    (void)state;
    bs_image img = smear(48, 40, 3, no_tint), out = copy_of(&img);
    bs_hed_jitter id = {{1, 1, 1}, {0, 0, 0}};
    bs_hed_jitter_apply(&out, &id);
    assert_int_equal(max_diff(&img, &out), 0);
    /* The fused affine map equals deconvolve, scale and shift each stain, recombine. */
    bs_hed_jitter j = {{1.04, 0.96, 1.02}, {0.03, -0.02, 0.01}};
    bs_hed_jitter_apply(&out, &j);
    size_t n = (size_t)img.width * img.height;
    float *hed = malloc(sizeof(float) * 3 * n);
    bs_rgb_to_hed(img.rgb, n, hed);
    for (size_t i = 0; i < n; i++)
        for (int s = 0; s < 3; s++)
            hed[3 * i + s] = (float)(j.alpha[s] * hed[3 * i + s] + j.beta[s]);
    bs_image ref = new_image(img.width, img.height);
    bs_hed_to_rgb(hed, n, ref.rgb);
    assert_true(max_diff(&ref, &out) <= 1);
    /* ...and it did change the picture: more haematoxylin and less eosin darken red and blue. */
    assert_true(max_diff(&img, &out) >= 5);
    free(hed);
    bs_image_free(&img);
    bs_image_free(&out);
    bs_image_free(&ref);
}

static void hed_draws_stay_in_range(void **state) {
    (void)state;
    bs_rng rng;
    bs_rng_seed(&rng, 7);
    double lo_a = 2, hi_a = 0, lo_b = 1, hi_b = -1;
    for (int k = 0; k < 2000; k++) {
        bs_hed_jitter j;
        bs_hed_jitter_draw(&rng, 0.05, &j);
        for (int s = 0; s < 3; s++) {
            lo_a = fmin(lo_a, j.alpha[s]), hi_a = fmax(hi_a, j.alpha[s]);
            lo_b = fmin(lo_b, j.beta[s]), hi_b = fmax(hi_b, j.beta[s]);
        }
    }
    assert_true(lo_a >= 0.95 && lo_a < 0.951 && hi_a <= 1.05 && hi_a > 1.049);
    assert_true(lo_b >= -0.05 && lo_b < -0.049 && hi_b <= 0.05 && hi_b > 0.049);
}

/* ---- Reinhard -------------------------------------------------------------------------- */

static void reinhard_own_stats_is_identity(void **state) {
    (void)state;
    bs_image img = smear(64, 48, 11, no_tint), out = copy_of(&img);
    bs_colour_stats st = {0};
    bs_colour_stats_add(&st, &img);
    assert_int_equal(bs_reinhard_transfer(&out, NULL, &st), 0);
    assert_true(max_diff(&img, &out) <= 1);
    assert_int_equal(bs_reinhard_transfer(&out, &st, &st), 0);
    assert_true(max_diff(&img, &out) <= 1);
    bs_colour_stats empty = {0};
    assert_int_equal(bs_reinhard_transfer(&out, NULL, &empty), -1);
    bs_image_free(&img);
    bs_image_free(&out);
}

static void reinhard_reaches_target_and_back(void **state) {
    (void)state;
    static const double yellow[3] = {1.0, 0.95, 0.7};
    bs_image src = smear(64, 48, 5, no_tint), dst = smear(64, 48, 6, yellow);
    bs_colour_stats s = {0}, t = {0}, after = {0};
    bs_colour_stats_add(&s, &src);
    bs_colour_stats_add(&t, &dst);
    bs_image out = copy_of(&src);
    assert_int_equal(bs_reinhard_transfer(&out, NULL, &t), 0);
    bs_colour_stats_add(&after, &out);
    for (int c = 0; c < 3; c++) {
        assert_true(fabs(after.mean[c] - t.mean[c]) < 0.01);
        assert_true(fabs(after.sd[c] - t.sd[c]) < 0.05 * t.sd[c] + 0.002);
        /* the two images do differ in colour, so this was not trivial */
    }
    assert_true(fabs(s.mean[2] - t.mean[2]) > 0.02 || fabs(s.mean[1] - t.mean[1]) > 0.02);
    assert_true(max_diff(&src, &out) > 10);
    /* ...and back with the set statistics: the picture returns within rounding. */
    assert_int_equal(bs_reinhard_transfer(&out, &t, &s), 0);
    assert_true(max_diff(&src, &out) <= 3);
    bs_image_free(&src);
    bs_image_free(&dst);
    bs_image_free(&out);
}

/* The statistics of a set are those of all its pixels together. */
static void colour_stats_of_a_set(void **state) {
    (void)state;
    static const double pink[3] = {1.0, 0.8, 0.9};
    bs_image a = smear(32, 20, 1, no_tint), b = smear(32, 30, 2, pink), ab = new_image(32, 50);
    memcpy(ab.rgb, a.rgb, 32 * 20 * 3);
    memcpy(ab.rgb + 32 * 20 * 3, b.rgb, 32 * 30 * 3);
    bs_colour_stats set = {0}, whole = {0};
    bs_colour_stats_add(&set, &a);
    bs_colour_stats_add(&set, &b);
    bs_colour_stats_add(&whole, &ab);
    assert_true(set.pixels == 1600 && whole.pixels == 1600);
    for (int c = 0; c < 3; c++) {
        assert_true(fabs(set.mean[c] - whole.mean[c]) < 1e-12);
        assert_true(fabs(set.sd[c] - whole.sd[c]) < 1e-12);
    }
    /* Computed apart and merged (b's statistics into a's), the same again. */
    bs_colour_stats sa = {0}, sb = {0}, empty = {0};
    bs_colour_stats_add(&sa, &a);
    bs_colour_stats_add(&sb, &b);
    bs_colour_stats_merge(&sa, &sb);
    bs_colour_stats_merge(&sa, &empty);
    assert_true(sa.pixels == 1600);
    for (int c = 0; c < 3; c++) {
        assert_true(fabs(sa.mean[c] - whole.mean[c]) < 1e-12);
        assert_true(fabs(sa.sd[c] - whole.sd[c]) < 1e-12);
    }
    bs_image_free(&a);
    bs_image_free(&b);
    bs_image_free(&ab);
}

/* ---- scale jitter ---------------------------------------------------------------------- */

static void rescale_keeps_size_and_centre(void **state) {
    (void)state;
    /* Four coloured quadrants: enlarging keeps the centre's colours in their quadrants. */
    const int w = 40, h = 40;
    bs_image img = new_image(w, h);
    static const unsigned char q[4][3] = {
        {200, 20, 20}, {20, 200, 20}, {20, 20, 200}, {200, 200, 20}};
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            memcpy(img.rgb + ((size_t)y * w + x) * 3, q[(y >= h / 2) * 2 + (x >= w / 2)], 3);
    bs_image out;
    assert_int_equal(bs_image_rescale(&img, 1.0, &out), 0);
    assert_int_equal(max_diff(&img, &out), 0);
    bs_image_free(&out);
    assert_int_equal(bs_image_rescale(&img, 1.5, &out), 0);
    assert_true(out.width == w && out.height == h);
    assert_memory_equal(out.rgb + ((size_t)5 * w + 5) * 3, q[0], 3);
    assert_memory_equal(out.rgb + ((size_t)34 * w + 34) * 3, q[3], 3);
    bs_image_free(&out);
    /* Shrinking pads by mirroring: the scaled image sits in the middle (32 of 40 columns at
     * 0.8) and the 4-column border repeats the quadrant next to it, never a blank. */
    assert_int_equal(bs_image_rescale(&img, 0.8, &out), 0);
    assert_true(out.width == w && out.height == h);
    assert_memory_equal(out.rgb + ((size_t)1 * w + 1) * 3, q[0], 3);
    assert_memory_equal(out.rgb + ((size_t)38 * w + 1) * 3, q[2], 3);
    assert_memory_equal(out.rgb + ((size_t)38 * w + 38) * 3, q[3], 3);
    bs_image_free(&out);
    assert_int_equal(bs_image_rescale(&img, 0.1, &out), -1);
    bs_image_free(&img);
}

static void rescale_mirrors_at_the_border(void **state) {
    (void)state;
    /* A horizontal ramp shrunk by half: the border columns reflect the columns inside. */
    const int w = 64, h = 8;
    bs_image img = new_image(w, h);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) memset(img.rgb + ((size_t)y * w + x) * 3, 4 * x, 3);
    bs_image out;
    assert_int_equal(bs_image_rescale(&img, 0.5, &out), 0);
    const unsigned char *row = out.rgb + (size_t)4 * w * 3;
    int first = 16; /* 32 columns in the middle of 64 */
    for (int k = 0; k < 16; k++) {
        int inside = row[(first + k) * 3], outside = row[(first - 1 - k) * 3];
        assert_true(abs(inside - outside) <= 8); /* mirror, give or take the edge pixel */
    }
    assert_true(row[(first + 15) * 3] > row[first * 3] + 40); /* the ramp survived */
    bs_image_free(&out);
    bs_image_free(&img);
}

/* ---- views ------------------------------------------------------------------------------ */

static void augment_lists(void **state) {
    (void)state;
    bs_augment a;
    char name[BS_AUGMENT_NAME_MAX];
    bs_view views[BS_VIEW_END];
    assert_int_equal(bs_augment_parse("none", &a), 0);
    bs_augment_name(&a, name);
    assert_string_equal(name, "none");
    assert_int_equal(bs_augment_views(&a, views), 1);
    assert_int_equal(bs_augment_parse("flip", &a), 0);
    bs_augment_name(&a, name);
    assert_string_equal(name, "flip");
    assert_int_equal(bs_augment_views(&a, views), 3);
    assert_int_equal(bs_augment_parse("scale:2:0.2,flip,hed:3", &a), 0);
    bs_augment_name(&a, name);
    assert_string_equal(name, "flip,hed:3:0.05,scale:2:0.2");
    assert_int_equal(bs_augment_views(&a, views), 8);
    const char *want[] = {"original", "hmirror", "vmirror", "hed1",
                          "hed2",     "hed3",    "scale1",  "scale2"};
    for (int k = 0; k < 8; k++) {
        assert_string_equal(bs_view_name(views[k]), want[k]);
        bs_view back;
        assert_int_equal(bs_view_from_name(want[k], &back), 0);
        assert_int_equal(back, views[k]);
    }
    bs_augment again;
    char again_name[BS_AUGMENT_NAME_MAX];
    assert_int_equal(bs_augment_parse(name, &again), 0);
    bs_augment_name(&again, again_name);
    assert_string_equal(again_name, name);
    assert_int_equal(bs_augment_parse("hed", &a), 0);
    assert_true(a.hed == 1 && !a.flip && !a.scale && !a.transfer);
    /* Stain-transfer views: counted and named after the others, no strength. */
    assert_int_equal(bs_augment_parse("transfer:2,flip", &a), 0);
    bs_augment_name(&a, name);
    assert_string_equal(name, "flip,transfer:2");
    assert_int_equal(bs_augment_views(&a, views), 5);
    assert_string_equal(bs_view_name(views[3]), "transfer1");
    assert_string_equal(bs_view_name(views[4]), "transfer2");
    assert_int_equal(bs_view_from_name("transfer8", &views[0]), 0);
    assert_int_equal(views[0], BS_VIEW_TRANSFER + 7);
    assert_int_equal(bs_augment_strength(&a, BS_VIEW_TRANSFER), 0);
    /* bs_image_view cannot make one: only extraction knows the sources' colours. */
    bs_image img = smear(8, 8, 1, no_tint), out;
    assert_int_equal(bs_image_view(&img, BS_VIEW_TRANSFER, &a, 1, &out), -1);
    assert_non_null(strstr(bs_error_message(), "transfer1"));
    bs_image_free(&img);
    static const char *bad[] = {"",
                                "flop",
                                "none,flip",
                                "flip,flip",
                                "hed:0",
                                "hed:9",
                                "hed:2:0",
                                "hed:2:2",
                                "scale:1:0.6",
                                "hed:x",
                                "hed2",
                                "scale:1:",
                                "hed,hed:2",
                                "transfer:9",
                                "transfer:1:0.5",
                                "transfer,transfer",
                                "transfers"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        assert_int_equal(bs_augment_parse(bad[i], &a), -1);
        assert_true(strlen(bs_error_message()) > 0);
    }
    bs_view v;
    assert_int_equal(bs_view_from_name("hed9", &v), -1);
    assert_int_equal(bs_view_parse("hed1", &v), -1); /* tensor's --mirror takes mirrors only */
}

/* The scale (cell_px, red_cell_px) travels: a resize scales it by the geometric mean of its
 * factors, a rescale by the factor, and every view keeps it as it is. */
static void the_scale_travels(void **state) {
    (void)state;
    bs_image img = smear(60, 40, 3, no_tint), out;
    img.cell_px = 30, img.red_cell_px = 12;
    assert_int_equal(bs_image_resize(&img, 120, &out), 0);
    double f = sqrt(120.0 / 60 * 120.0 / 40);
    assert_true(fabs(out.cell_px - 30 * f) < 1e-9 && fabs(out.red_cell_px - 12 * f) < 1e-9);
    bs_image_free(&out);
    assert_int_equal(bs_image_rescale(&img, 1.25, &out), 0);
    assert_true(fabs(out.cell_px - 37.5) < 1e-9 && fabs(out.red_cell_px - 15) < 1e-9);
    bs_image_free(&out);
    bs_augment a = {.flip = 1, .hed = 1, .scale = 1};
    static const bs_view views[] = {BS_VIEW_HMIRROR, BS_VIEW_HED, BS_VIEW_SCALE};
    for (int k = 0; k < 3; k++) {
        assert_int_equal(bs_image_view(&img, views[k], &a, 5, &out), 0);
        assert_true(out.cell_px == 30 && out.red_cell_px == 12);
        bs_image_free(&out);
    }
    bs_image_free(&img);
}

static void views_are_seeded(void **state) {
    (void)state;
    bs_image img = smear(56, 56, 9, no_tint);
    bs_augment a = {.flip = 1, .hed = 2, .scale = 2};
    const char *sha = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
    assert_int_equal(bs_view_seed(1, sha, BS_VIEW_HED), bs_view_seed(1, sha, BS_VIEW_HED));
    assert_true(bs_view_seed(1, sha, BS_VIEW_HED) != bs_view_seed(2, sha, BS_VIEW_HED));
    assert_true(bs_view_seed(1, sha, BS_VIEW_HED) != bs_view_seed(1, sha, BS_VIEW_HED + 1));
    assert_true(bs_view_seed(1, sha, BS_VIEW_HED) != bs_view_seed(1, "other", BS_VIEW_HED));
    static const bs_view jittered[] = {BS_VIEW_HED, BS_VIEW_SCALE};
    for (int k = 0; k < 2; k++) {
        bs_image x, y, z;
        bs_view v = jittered[k];
        assert_int_equal(bs_image_view(&img, v, &a, bs_view_seed(1, sha, v), &x), 0);
        assert_int_equal(bs_image_view(&img, v, &a, bs_view_seed(1, sha, v), &y), 0);
        assert_int_equal(bs_image_view(&img, v, &a, bs_view_seed(2, sha, v), &z), 0);
        assert_true(x.width == img.width && x.height == img.height);
        assert_int_equal(max_diff(&x, &y), 0);
        assert_true(max_diff(&x, &z) > 0);
        assert_true(max_diff(&x, &img) > 0);
        bs_image_free(&x);
        bs_image_free(&y);
        bs_image_free(&z);
    }
    /* A mirror view is the mirror bs_image_to_chw makes. */
    bs_image m;
    assert_int_equal(bs_image_view(&img, BS_VIEW_HMIRROR, &a, 0, &m), 0);
    float *c1 = malloc(sizeof(float) * 3 * 56 * 56), *c2 = malloc(sizeof(float) * 3 * 56 * 56);
    bs_image_to_chw(&img, BS_VIEW_HMIRROR, c1);
    bs_image_to_chw(&m, BS_VIEW_ORIGINAL, c2);
    assert_memory_equal(c1, c2, sizeof(float) * 3 * 56 * 56);
    free(c1);
    free(c2);
    bs_image_free(&m);
    bs_image_free(&img);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(known_answers),
        cmocka_unit_test(deconvolution_round_trips),
        cmocka_unit_test(hed_identity_and_composition),
        cmocka_unit_test(hed_draws_stay_in_range),
        cmocka_unit_test(reinhard_own_stats_is_identity),
        cmocka_unit_test(reinhard_reaches_target_and_back),
        cmocka_unit_test(colour_stats_of_a_set),
        cmocka_unit_test(rescale_keeps_size_and_centre),
        cmocka_unit_test(rescale_mirrors_at_the_border),
        cmocka_unit_test(augment_lists),
        cmocka_unit_test(views_are_seeded),
        cmocka_unit_test(the_scale_travels),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
