/* test_neardup.c — near-duplicate detection on synthetic microscope-like images: a textured
 * field cropped twice with a 3–8 px offset (plus independent sensor noise and a brightness
 * change, as when a cell is photographed twice) must match; different fields with the same
 * overall layout (a dark "cell" in the middle) must not. */
#include "test_support.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/rng.h"
#include "dataset/neardup.h"
#include "eval/eval.h"

enum { FIELD = 320, CROP = 257 };

/* A grey field FIELD² : pale background, a large dark cell at the centre, ~60 random smaller
 * blobs (cytoplasm granules, red cells) and a smooth texture. */
static double *make_field(uint64_t seed) {
    bs_rng r;
    bs_rng_seed(&r, seed);
    double *f = malloc(sizeof(double) * FIELD * FIELD);
    double bx[60], by[60], br[60], ba[60];
    for (int i = 0; i < 60; i++) {
        bx[i] = bs_rng_uniform(&r) * FIELD, by[i] = bs_rng_uniform(&r) * FIELD;
        br[i] = 4 + 14 * bs_rng_uniform(&r), ba[i] = (bs_rng_uniform(&r) - 0.5) * 90;
    }
    double p1 = bs_rng_uniform(&r) * 6.28, p2 = bs_rng_uniform(&r) * 6.28;
    double f1 = 0.12 + 0.15 * bs_rng_uniform(&r), f2 = 0.12 + 0.15 * bs_rng_uniform(&r);
    for (int y = 0; y < FIELD; y++)
        for (int x = 0; x < FIELD; x++) {
            double cx = x - FIELD / 2.0, cy = y - FIELD / 2.0;
            double v = 200 - 110 * exp(-(cx * cx + cy * cy) / (2 * 55.0 * 55.0));
            v += 10 * sin(x * f1 + p1) * cos(y * f2 + p2);
            for (int i = 0; i < 60; i++) {
                double dx = x - bx[i], dy = y - by[i];
                v += ba[i] * exp(-(dx * dx + dy * dy) / (2 * br[i] * br[i]));
            }
            f[y * FIELD + x] = v;
        }
    return f;
}

/* An RGB crop CROP² at (ox, oy) with gain, offset and independent ±noise per pixel. */
static unsigned char *crop(const double *f, int ox, int oy, double gain, double offset,
                           double noise, uint64_t seed) {
    bs_rng r;
    bs_rng_seed(&r, seed);
    unsigned char *rgb = malloc(CROP * CROP * 3);
    for (int y = 0; y < CROP; y++)
        for (int x = 0; x < CROP; x++) {
            double v = f[(oy + y) * FIELD + ox + x] * gain + offset;
            double chan[3] = {v * 0.9 + 20, v * 0.7, v * 1.0};
            for (int c = 0; c < 3; c++) {
                double q = chan[c] + noise * (2 * bs_rng_uniform(&r) - 1);
                rgb[(y * CROP + x) * 3 + c] = (unsigned char)(q < 0 ? 0 : q > 255 ? 255 : q);
            }
        }
    return rgb;
}

static void thumb(const unsigned char *rgb, float *t) {
    assert_int_equal(bs_neardup_thumbnail(rgb, CROP, CROP, t), 0);
}

static void test_shifted_crops_match(void **state) {
    (void)state;
    static float ta[BS_NEARDUP_FLOATS], tb[BS_NEARDUP_FLOATS];
    static float fa[BS_NEARDUP_FINE_FLOATS], fb[BS_NEARDUP_FINE_FLOATS];
    double worst = 1.0, worst_fine = 1.0;
    int shifts[][2] = {{3, 0}, {0, 3}, {5, 4}, {8, 0}, {0, -8}, {-6, 7}, {8, 8}, {-3, -5}, {7, -2}};
    for (uint64_t seed = 1; seed <= 6; seed++) {
        double *f = make_field(seed);
        for (size_t s = 0; s < sizeof shifts / sizeof *shifts; s++) {
            int ox = 30, oy = 30;
            unsigned char *a = crop(f, ox, oy, 1.0, 0.0, 6.0, seed * 100 + s);
            unsigned char *b =
                crop(f, ox + shifts[s][0], oy + shifts[s][1], 0.92, 8.0, 6.0, seed * 100 + s + 50);
            thumb(a, ta), thumb(b, tb);
            int dx, dy;
            double sc = bs_neardup_score(ta, tb, &dx, &dy);
            if (sc < worst) worst = sc;
            assert_true(sc >= BS_NEARDUP_THRESHOLD);
            /* the found shift is the crop offset in thumbnail pixels, rounded */
            double ex = -shifts[s][0] * (double)BS_NEARDUP_SIZE / CROP;
            double ey = -shifts[s][1] * (double)BS_NEARDUP_SIZE / CROP;
            assert_true(fabs(dx - ex) <= 1.0 && fabs(dy - ey) <= 1.0);
            /* and the pair verifies on the fine planes at that shift */
            assert_int_equal(bs_neardup_fine(a, CROP, CROP, fa), 0);
            assert_int_equal(bs_neardup_fine(b, CROP, CROP, fb), 0);
            double fine = bs_neardup_verify(fa, fb, dx, dy);
            if (fine < worst_fine) worst_fine = fine;
            assert_true(fine >= BS_NEARDUP_THRESHOLD);
            free(a), free(b);
        }
        free(f);
    }
    fprintf(
        stderr,
        "shifted crops (3–8 px, new noise, brightness change): lowest score %.3f, verified %.3f\n",
        worst, worst_fine);
}

static void test_different_images_do_not_match(void **state) {
    (void)state;
    enum { M = 12 };
    float *t = malloc(sizeof(float) * BS_NEARDUP_FLOATS * M);
    for (int i = 0; i < M; i++) {
        double *f = make_field(1000 + (uint64_t)i);
        unsigned char *a = crop(f, 30, 30, 1.0, 0.0, 6.0, (uint64_t)i);
        thumb(a, t + (int64_t)i * BS_NEARDUP_FLOATS);
        free(a), free(f);
    }
    double best = -1;
    for (int i = 0; i < M; i++)
        for (int j = i + 1; j < M; j++) {
            double sc = bs_neardup_score(t + (int64_t)i * BS_NEARDUP_FLOATS,
                                         t + (int64_t)j * BS_NEARDUP_FLOATS, NULL, NULL);
            if (sc > best) best = sc;
            assert_true(sc < BS_NEARDUP_THRESHOLD);
        }
    fprintf(stderr, "different images with the same layout: highest score %.3f\n", best);
    free(t);
}

static void test_find_and_join(void **state) {
    (void)state;
    /* 7 images: 0 and 3 are one cell shifted (5, −4); 2, 5 and 6 are one cell three times
     * (like ALL-IDB2 Im025/028/031); 1 and 4 are singletons. 6 is also an exact copy of 5. */
    enum { M = 7 };
    float *t = malloc(sizeof(float) * BS_NEARDUP_FLOATS * M);
    double *fa = make_field(501), *fb = make_field(502), *fc = make_field(503),
           *fd = make_field(504);
    unsigned char *img[M];
    img[0] = crop(fa, 30, 30, 1.0, 0.0, 5.0, 1);
    img[1] = crop(fb, 30, 30, 1.0, 0.0, 5.0, 2);
    img[2] = crop(fc, 20, 25, 1.0, 0.0, 5.0, 3);
    img[3] = crop(fa, 35, 26, 1.05, -6.0, 5.0, 4);
    img[4] = crop(fd, 30, 30, 1.0, 0.0, 5.0, 5);
    img[5] = crop(fc, 26, 30, 0.95, 4.0, 5.0, 6);
    img[6] = malloc(CROP * CROP * 3);
    memcpy(img[6], img[5], CROP * CROP * 3);
    for (int i = 0; i < M; i++) thumb(img[i], t + (int64_t)i * BS_NEARDUP_FLOATS);
    bs_neardup_pair *pairs;
    int64_t np;
    assert_int_equal(bs_neardup_find(t, M, BS_NEARDUP_THRESHOLD, &pairs, &np), 0);
    assert_int_equal(np, 4); /* 0–3, 2–5, 2–6, 5–6 */
    int64_t want[4][2] = {{0, 3}, {2, 5}, {2, 6}, {5, 6}};
    for (int i = 0; i < 4; i++) {
        assert_int_equal(pairs[i].a, want[i][0]);
        assert_int_equal(pairs[i].b, want[i][1]);
        fprintf(stderr, "pair %lld–%lld score %.3f shift (%d, %d)\n", (long long)pairs[i].a,
                (long long)pairs[i].b, pairs[i].score, pairs[i].dx, pairs[i].dy);
    }
    assert_true(pairs[3].score > 0.999); /* exact copy */
    int64_t g[M], flat[2 * 4];
    for (int i = 0; i < M; i++) g[i] = i;
    for (int i = 0; i < 4; i++) flat[2 * i] = pairs[i].a, flat[2 * i + 1] = pairs[i].b;
    assert_int_equal(bs_groups_join(M, g, flat, 4), 0);
    int64_t wg[M] = {0, 1, 2, 0, 4, 2, 2};
    assert_memory_equal(g, wg, sizeof wg);
    free(pairs);
    for (int i = 0; i < M; i++) free(img[i]);
    free(fa), free(fb), free(fc), free(fd), free(t);
}

static void test_thumbnail_sizes(void **state) {
    (void)state;
    static float t[BS_NEARDUP_FLOATS];
    /* Tiny, non-square and large-aspect images work; a flat image has no detail and never
     * matches anything (its correlation is undefined, scored −1). */
    unsigned char px[7 * 3 * 3];
    for (int i = 0; i < 7 * 3 * 3; i++) px[i] = (unsigned char)(i * 37);
    assert_int_equal(bs_neardup_thumbnail(px, 7, 3, t), 0);
    for (int i = 0; i < BS_NEARDUP_FLOATS; i++) assert_true(isfinite(t[i]));
    unsigned char flat[20 * 10 * 3];
    memset(flat, 128, sizeof flat);
    static float u[BS_NEARDUP_FLOATS];
    assert_int_equal(bs_neardup_thumbnail(flat, 20, 10, u), 0);
    assert_true(bs_neardup_score(u, u, NULL, NULL) < BS_NEARDUP_THRESHOLD);
    assert_int_equal(bs_neardup_thumbnail(px, 0, 3, t), -1);
    /* The fine plane too: finite on a tiny image; a flat one never verifies. */
    static float f[BS_NEARDUP_FINE_FLOATS], g[BS_NEARDUP_FINE_FLOATS];
    assert_int_equal(bs_neardup_fine(px, 7, 3, f), 0);
    for (int i = 0; i < BS_NEARDUP_FINE_FLOATS; i++) assert_true(isfinite(f[i]));
    assert_int_equal(bs_neardup_fine(flat, 20, 10, g), 0);
    assert_true(bs_neardup_verify(g, g, 0, 0) < BS_NEARDUP_THRESHOLD);
    assert_int_equal(bs_neardup_fine(px, 7, 0, f), -1);
}

/* Average linkage: a weak link between two established pairs does not chain them; a third image
 * joins a pair through one of its two links; two pairs merge when half the cross pairs agree. */
static void test_link(void **state) {
    (void)state;
    bs_neardup_pair p[] = {
        {.a = 0, .b = 1, .fine = 0.95},  {.a = 2, .b = 3, .fine = 0.90},
        {.a = 1, .b = 2, .fine = 0.60},  {.a = 4, .b = 5, .fine = 0.90},
        {.a = 5, .b = 6, .fine = 0.80},  {.a = 7, .b = 8, .fine = 0.90},
        {.a = 9, .b = 10, .fine = 0.90}, {.a = 7, .b = 9, .fine = 0.70},
        {.a = 8, .b = 10, .fine = 0.65},
    };
    int64_t np = sizeof p / sizeof p[0];
    assert_int_equal(bs_neardup_link(p, np, 11), 0);
    for (int64_t i = 0; i < np; i++) {
        if (i) assert_true(p[i - 1].fine >= p[i].fine); /* by descending score */
        int want = !(p[i].a == 1 && p[i].b == 2);
        if (p[i].linked != want)
            fail_msg("pair %lld-%lld linked %d, want %d", (long long)p[i].a, (long long)p[i].b,
                     p[i].linked, want);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shifted_crops_match),
        cmocka_unit_test(test_different_images_do_not_match),
        cmocka_unit_test(test_find_and_join),
        cmocka_unit_test(test_thumbnail_sizes),
        cmocka_unit_test(test_link),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
