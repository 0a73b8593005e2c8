/* test_explain.c — occlusion maps (pipeline/explain.h) through injected scorers whose answer
 * is known: a decision that depends on one region only must give a map that peaks on that
 * region and is exactly zero wherever the patch misses it; a region that pulls the decision
 * the other way must give the minimum; the map must not depend on the batch size; scorer
 * failures propagate; the PNG overlay and the .npy map are written and read back. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/io.h"
#include "core/npy.h"
#include "image/image.h"
#include "pipeline/explain.h"
#include "test_support.h"

#define W 80
#define H 64

typedef struct {
    int x0, y0, x1, y1; /* the region the decision depends on, [x0, x1) × [y0, y1) */
    int sign;           /* +1: darkness there raises the decision; -1: lowers it */
} region;

typedef struct {
    region r[2];
    int nr;
    int calls;
    size_t largest;
    int fail_at; /* call number that fails, 0 = never */
} scorer_state;

static double darkness(const bs_image *img, const region *r) {
    double s = 0;
    for (int y = r->y0; y < r->y1; y++)
        for (int x = r->x0; x < r->x1; x++) {
            const unsigned char *p = img->rgb + 3 * ((size_t)y * img->width + x);
            s += 255.0 - (p[0] + p[1] + p[2]) / 3.0;
        }
    return s / ((r->x1 - r->x0) * (r->y1 - r->y0));
}

static int score(void *user, const bs_image *images, size_t n, double *decision) {
    scorer_state *s = user;
    s->calls++;
    if (n > s->largest) s->largest = n;
    if (s->fail_at && s->calls == s->fail_at) {
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        decision[i] = -1.0;
        for (int k = 0; k < s->nr; k++)
            decision[i] += s->r[k].sign * darkness(&images[i], &s->r[k]) / 100.0;
    }
    return 0;
}

/* A light grey image with a dark blob on each region. */
static bs_image make_image(const region *r, int nr) {
    bs_image img = {.width = W, .height = H, .rgb = malloc(W * H * 3)};
    memset(img.rgb, 200, W * H * 3);
    for (int k = 0; k < nr; k++)
        for (int y = r[k].y0; y < r[k].y1; y++)
            for (int x = r[k].x0; x < r[k].x1; x++)
                memset(img.rgb + 3 * ((size_t)y * W + x), 40, 3);
    return img;
}

static int overlaps(const region *r, int x0, int y0, int pw, int ph) {
    return x0 < r->x1 && r->x0 < x0 + pw && y0 < r->y1 && r->y0 < y0 + ph;
}

static void patches_cover_edge_to_edge(void **state) {
    (void)state;
    int x0, y0, pw, ph;
    bs_explain_patch_rect(W, H, 7, 0.25, 0, 0, &x0, &y0, &pw, &ph);
    assert_int_equal(x0, 0);
    assert_int_equal(y0, 0);
    assert_int_equal(pw, 20);
    assert_int_equal(ph, 16);
    bs_explain_patch_rect(W, H, 7, 0.25, 6, 6, &x0, &y0, &pw, &ph);
    assert_int_equal(x0 + pw, W);
    assert_int_equal(y0 + ph, H);
    bs_explain_patch_rect(W, H, 1, 0.5, 0, 0, &x0, &y0, &pw, &ph);
    assert_int_equal(x0, 20);
    assert_int_equal(y0, 16);
}

static void map_peaks_on_the_region_the_decision_depends_on(void **state) {
    (void)state;
    scorer_state s = {.r = {{52, 8, 64, 20, +1}}, .nr = 1};
    bs_image img = make_image(s.r, 1);
    bs_explain_options o;
    bs_explain_options_init(&o);
    bs_explain_map m;
    assert_int_equal(bs_explain_occlusion(&img, &o, score, &s, &m), 0);
    assert_int_equal(m.grid, 7);
    assert_int_equal(s.calls, (7 * 7 + 1 + 7) / 8); /* G² + 1 images in batches of 8 */
    assert_true(s.largest <= 8);
    assert_true(m.base > 0);
    int best = 0;
    for (int k = 0; k < 49; k++) {
        int x0, y0, pw, ph;
        bs_explain_patch_rect(W, H, 7, 0.25, k / 7, k % 7, &x0, &y0, &pw, &ph);
        if (!overlaps(&s.r[0], x0, y0, pw, ph))
            assert_true(m.drop[k] == 0.0); /* the decision ignores every other pixel */
        else
            assert_true(m.drop[k] > 0); /* covering the dark blob lowers the decision */
        if (m.drop[k] > m.drop[best]) best = k;
    }
    int x0, y0, pw, ph;
    bs_explain_patch_rect(W, H, 7, 0.25, best / 7, best % 7, &x0, &y0, &pw, &ph);
    /* the strongest patch covers the whole region */
    assert_true(x0 <= 52 && x0 + pw >= 64 && y0 <= 8 && y0 + ph >= 20);
    /* the per-pixel heat is centred on the region, and zero far from it */
    float *heat = malloc(sizeof(float) * W * H);
    assert_int_equal(bs_explain_heat(&m, W, H, heat), 0);
    double sum = 0, cx = 0, cy = 0;
    for (int i = 0; i < W * H; i++) {
        assert_true(heat[i] >= 0);
        sum += heat[i];
        cx += heat[i] * (i % W + 0.5);
        cy += heat[i] * (i / W + 0.5);
    }
    cx /= sum;
    cy /= sum;
    assert_true(cx >= 52 && cx <= 64 && cy >= 8 && cy <= 20); /* its centre of mass in the region */
    assert_true(heat[(H - 1) * W] == 0.0f);
    free(heat);
    bs_explain_map_free(&m);
    free(img.rgb);
}

static void region_pulling_the_other_way_gives_the_minimum(void **state) {
    (void)state;
    scorer_state s = {.r = {{4, 40, 16, 56, +1}, {60, 44, 72, 60, -1}}, .nr = 2};
    bs_image img = make_image(s.r, 2);
    bs_explain_options o;
    bs_explain_options_init(&o);
    bs_explain_map m;
    assert_int_equal(bs_explain_occlusion(&img, &o, score, &s, &m), 0);
    int lo = 0, hi = 0;
    for (int k = 0; k < 49; k++) {
        lo = m.drop[k] < m.drop[lo] ? k : lo;
        hi = m.drop[k] > m.drop[hi] ? k : hi;
    }
    int x0, y0, pw, ph;
    bs_explain_patch_rect(W, H, 7, 0.25, hi / 7, hi % 7, &x0, &y0, &pw, &ph);
    assert_true(overlaps(&s.r[0], x0, y0, pw, ph) && m.drop[hi] > 0);
    bs_explain_patch_rect(W, H, 7, 0.25, lo / 7, lo % 7, &x0, &y0, &pw, &ph);
    assert_true(overlaps(&s.r[1], x0, y0, pw, ph) && m.drop[lo] < 0);
    bs_explain_map_free(&m);
    free(img.rgb);
}

static void batch_size_does_not_change_the_map(void **state) {
    (void)state;
    scorer_state s = {.r = {{20, 30, 36, 44, +1}}, .nr = 1};
    bs_image img = make_image(s.r, 1);
    bs_explain_options o;
    bs_explain_options_init(&o);
    o.grid = 5;
    o.patch = 0.3;
    bs_explain_map a, b;
    o.batch = 1;
    assert_int_equal(bs_explain_occlusion(&img, &o, score, &s, &a), 0);
    assert_int_equal(s.calls, 26);
    o.batch = 100;
    s.calls = 0;
    assert_int_equal(bs_explain_occlusion(&img, &o, score, &s, &b), 0);
    assert_int_equal(s.calls, 1);
    assert_memory_equal(a.drop, b.drop, sizeof(double) * 25);
    assert_true(a.base == b.base);
    bs_explain_map_free(&a);
    bs_explain_map_free(&b);
    free(img.rgb);
}

static void bad_options_and_scorer_failures_are_errors(void **state) {
    (void)state;
    scorer_state s = {.r = {{0, 0, 8, 8, +1}}, .nr = 1, .fail_at = 3};
    bs_image img = make_image(s.r, 1);
    bs_explain_options o;
    bs_explain_options_init(&o);
    bs_explain_map m;
    assert_int_equal(bs_explain_occlusion(&img, &o, score, &s, &m), -1);
    assert_null(m.drop);
    s.fail_at = 0;
    o.grid = 0;
    assert_int_equal(bs_explain_occlusion(&img, &o, score, &s, &m), -1);
    o.grid = 7;
    o.patch = 1.5;
    assert_int_equal(bs_explain_occlusion(&img, &o, score, &s, &m), -1);
    free(img.rgb);
}

static void overlay_and_map_files(void **state) {
    (void)state;
    scorer_state s = {.r = {{52, 8, 64, 20, +1}}, .nr = 1};
    bs_image img = make_image(s.r, 1);
    bs_explain_options o;
    bs_explain_options_init(&o);
    bs_explain_map m;
    assert_int_equal(bs_explain_occlusion(&img, &o, score, &s, &m), 0);
    bs_image ov;
    assert_int_equal(bs_explain_overlay(&img, &m, &ov), 0);
    const unsigned char *peak = ov.rgb + 3 * (14 * W + 58), *far = ov.rgb + 3 * ((H - 1) * W);
    assert_true(peak[0] > peak[2] + 20); /* red over the region that raised the decision */
    assert_memory_equal(far, img.rgb + 3 * ((H - 1) * W), 3); /* untouched where heat is 0 */
    free(ov.rgb);
    char *dir = bs_test_tmpdir();
    char *png = bs_path_join(dir, "map.png"), *npy = bs_path_join(dir, "map.npy");
    assert_int_equal(bs_explain_write(&img, &m, png, npy), 0);
    bs_image back;
    assert_int_equal(bs_image_load(png, &back), 0);
    assert_int_equal(back.width, W);
    assert_int_equal(back.height, H);
    bs_image_free(&back);
    bs_array a;
    assert_int_equal(bs_npy_read(npy, &a), 0);
    assert_int_equal(a.ndim, 2);
    assert_int_equal(a.shape[0], 7);
    assert_int_equal(a.shape[1], 7);
    for (int k = 0; k < 49; k++) assert_true(a.data[k] == (float)m.drop[k]);
    bs_array_free(&a);
    free(png);
    free(npy);
    bs_test_rmtree(dir);
    free(dir);
    bs_explain_map_free(&m);
    free(img.rgb);
}

int main(void) {
    if (bs_image_init("test_explain", 1)) return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(patches_cover_edge_to_edge),
        cmocka_unit_test(map_peaks_on_the_region_the_decision_depends_on),
        cmocka_unit_test(region_pulling_the_other_way_gives_the_minimum),
        cmocka_unit_test(batch_size_does_not_change_the_map),
        cmocka_unit_test(bad_options_and_scorer_failures_are_errors),
        cmocka_unit_test(overlay_and_map_files),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    bs_image_shutdown();
    return rc;
}
