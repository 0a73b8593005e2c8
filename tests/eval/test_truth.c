/* test_truth.c — field mode's evaluation without networks (eval/truth.h): truth files (boxes,
 * points, .xyc; how an image is found; malformed files refused), one-to-one matching of
 * detections with them, and the precision/recall/F1 ratios. */
#define _GNU_SOURCE
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/io.h"
#include "eval/truth.h"
#include "test_support.h"

static char *tmp;

static int setup(void **state) {
    (void)state;
    tmp = bs_test_tmpdir();
    return tmp ? 0 : -1;
}

static int teardown(void **state) {
    (void)state;
    bs_test_rmtree(tmp);
    free(tmp);
    return 0;
}

static void test_class_kinds(void **state) {
    (void)state;
    assert_int_equal(bs_truth_class_kind("WBC"), BS_TRUTH_WHITE);
    assert_int_equal(bs_truth_class_kind("Leukocyte"), BS_TRUTH_WHITE);
    assert_int_equal(bs_truth_class_kind(""), BS_TRUTH_WHITE);
    assert_int_equal(bs_truth_class_kind("RBC"), BS_TRUTH_OTHER);
    assert_int_equal(bs_truth_class_kind("Platelets"), BS_TRUTH_OTHER);
    assert_int_equal(bs_truth_class_kind("lymphocyte"), BS_TRUTH_NONBLAST);
    assert_int_equal(bs_truth_class_kind("Neutrophil"), BS_TRUTH_NONBLAST);
    assert_int_equal(bs_truth_class_kind("Lymphoblast"), BS_TRUTH_BLAST);
    assert_int_equal(bs_truth_class_kind("ALL"), BS_TRUTH_BLAST);
}

static bs_truth parse_ok(const char *text, const char *name) {
    bs_truth t;
    int rc = bs_truth_parse(text, strlen(text), name, &t);
    if (rc) fprintf(stderr, "%s\n", bs_error_message());
    assert_int_equal(rc, 0);
    return t;
}

static void test_boxes_and_lookup(void **state) {
    (void)state;
    char *images = bs_path_join(tmp, "images"), *a = bs_path_join(images, "a.jpg"),
         *csv = bs_path_join(tmp, "boxes.csv");
    assert_int_equal(bs_mkdir_p(images), 0);
    bs_test_write(a, "x", 1);
    const char *text = "image,class,xmin,ymin,xmax,ymax\n"
                       "images/a.jpg,WBC,10,20,50,60\n"
                       "images/a.jpg,RBC,0,0,5,5\n"
                       "images/b.jpg,RBC,1,1,4,4\n"
                       "c.png,Lymphoblast,1,2,3,4\n";
    bs_truth t = parse_ok(text, csv);
    assert_int_equal(t.n, 3);
    assert_true(t.all_white);
    assert_true(t.knows_blasts);
    bs_truth_image scratch;
    const bs_truth_image *img;
    int found;
    /* relative to the CSV's folder, reached through another spelling of the same path */
    char *other = bs_strfmt("%s/./images/../images/a.jpg", tmp);
    assert_int_equal(bs_truth_lookup(&t, other, 0, 0, &scratch, &img, &found), 0);
    assert_true(found);
    assert_int_equal(img->n, 1); /* the red cell is not a white cell */
    assert_true(img->cells[0].is_box);
    assert_true(img->cells[0].x0 == 10 && img->cells[0].y1 == 60);
    assert_int_equal(img->cells[0].blast, -1);
    /* annotated, only red cells: found with no white cell (every detection a false positive) */
    char *b = bs_path_join(images, "b.jpg");
    assert_int_equal(bs_truth_lookup(&t, b, 0, 0, &scratch, &img, &found), 0);
    assert_true(found);
    assert_int_equal(img->n, 0);
    /* a bare name matches that file name in any folder */
    assert_int_equal(bs_truth_lookup(&t, "/elsewhere/c.png", 0, 0, &scratch, &img, &found), 0);
    assert_true(found);
    assert_int_equal(img->cells[0].blast, 1);
    /* not annotated */
    assert_int_equal(bs_truth_lookup(&t, "/elsewhere/a.jpg", 0, 0, &scratch, &img, &found), 0);
    assert_false(found);
    bs_truth_free(&t);
    free(other);
    free(b);
    free(images);
    free(a);
    free(csv);
}

static void test_points(void **state) {
    (void)state;
    bs_truth t = parse_ok("image,x,y\n/data/f.jpg,10.5,20\n/data/f.jpg,30,40\n", "p.csv");
    assert_int_equal(t.n, 1);
    assert_false(t.knows_blasts);
    assert_int_equal(t.images[0].n, 2);
    assert_false(t.images[0].cells[0].is_box);
    assert_true(t.images[0].cells[0].x0 == 10.5 && t.images[0].cells[0].x1 == 10.5);
    bs_truth_free(&t);
    t = parse_ok("image,x,y,class\nf.jpg,1,2,blast\nf.jpg,3,4,lymphocyte\nf.jpg,5,6,rbc\n",
                 "p.csv");
    assert_int_equal(t.images[0].n, 2);
    assert_true(t.knows_blasts);
    assert_int_equal(t.images[0].cells[0].blast, 1);
    assert_int_equal(t.images[0].cells[1].blast, 0);
    bs_truth_free(&t);
}

static void refused(const char *text, const char *why) {
    bs_truth t;
    if (bs_truth_parse(text, strlen(text), "t.csv", &t) == 0) {
        bs_truth_free(&t);
        fail_msg("accepted: %s", why);
    }
    assert_non_null(strstr(bs_error_message(), "t.csv"));
}

static void test_bad_truth(void **state) {
    (void)state;
    refused("path,label\na.jpg,1\n", "no truth columns");
    refused("image,x\na.jpg,1\n", "no y");
    refused("image,x,y\na.jpg,1,zz\n", "not a number");
    refused("image,x,y\na.jpg,1,2x\n", "trailing garbage");
    refused("image,x,y\na.jpg,inf,2\n", "infinite");
    refused("image,x,y\na.jpg,1e300,2\n", "huge");
    refused("image,x,y\n,1,2\n", "empty image");
    refused("image,class,xmin,ymin,xmax,ymax\na.jpg,WBC,10,10,5,20\n", "xmax < xmin");
    refused("image,x,y\na.jpg,1\n", "short row");
    refused("image,x,y\n", "no rows");
}

static void test_xyc(void **state) {
    (void)state;
    bs_truth_image img;
    const char *ok = "120 240\n\n  33\t44 \r\n";
    assert_int_equal(bs_truth_parse_xyc(ok, strlen(ok), "a.xyc", &img), 0);
    assert_int_equal(img.n, 2);
    assert_true(img.cells[1].x0 == 33 && img.cells[1].y0 == 44 && img.cells[1].blast == 1);
    bs_truth_image_free(&img);
    const char *bad[] = {"1\n", "1 2 3\n", "a b\n", "1 nan\n"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        assert_int_equal(bs_truth_parse_xyc(bad[i], strlen(bad[i]), "a.xyc", &img), -1);
        assert_non_null(strstr(bs_error_message(), "a.xyc:"));
    }
    /* beside the image */
    char *image = bs_path_join(tmp, "Im001_1.jpg"), *xyc = bs_path_join(tmp, "Im001_1.xyc");
    bs_test_write(xyc, ok, strlen(ok));
    bs_truth t;
    assert_int_equal(bs_truth_read("xyc", &t), 0);
    const bs_truth_image *found_img;
    int found;
    assert_int_equal(bs_truth_lookup(&t, image, 0, 0, &img, &found_img, &found), 0);
    assert_true(found);
    assert_int_equal(found_img->n, 2);
    bs_truth_image_free(&img);
    assert_int_equal(bs_truth_lookup(&t, "/nowhere/Im002_0.jpg", 0, 0, &img, &found_img, &found),
                     0);
    assert_false(found);
    bs_truth_free(&t);
    free(image);
    free(xyc);
}

static bs_cell cell_box(int x0, int y0, int x1, int y1) {
    bs_cell c = {0.5 * (x0 + x1), 0.5 * (y0 + y1), x0, y0, x1, y1, 1, 0};
    return c;
}

static bs_truth_cell truth_box(double x0, double y0, double x1, double y1) {
    bs_truth_cell t = {1, x0, y0, x1, y1, -1};
    return t;
}

static void test_match(void **state) {
    (void)state;
    int64_t md[4], mt[4];
    /* two touching cells detected as one merged box: one pair, one miss */
    bs_cell merged = cell_box(0, 0, 200, 100);
    bs_truth_cell two[2] = {truth_box(0, 0, 98, 99), truth_box(101, 0, 199, 99)};
    assert_int_equal(bs_truth_match(&merged, 1, two, 2, md, mt),
                     0);                     /* merged centre lies in neither */
    bs_cell wide = cell_box(0, 0, 180, 100); /* centre (90, 50): in the first */
    assert_int_equal(bs_truth_match(&wide, 1, two, 2, md, mt), 1);
    assert_int_equal(md[0], 0);
    assert_int_equal(mt[1], -1);
    /* one-to-one: the closest-first choice of truth 0 would take detection 0 and leave truth 1
     * without a partner; the augmenting path moves it */
    bs_cell d[2] = {cell_box(0, 0, 100, 100), cell_box(40, 0, 140, 100)};
    bs_truth_cell p[2] = {{0, 45, 50, 45, 50, -1}, {0, 20, 50, 20, 50, -1}};
    assert_int_equal(bs_truth_match(d, 2, p, 2, md, mt), 2);
    assert_int_equal(mt[0], 1);
    assert_int_equal(mt[1], 0);
    /* a point on the box's right edge is outside (half-open boxes) */
    bs_truth_cell edge = {0, 100, 50, 100, 50, -1};
    assert_int_equal(bs_truth_match(d, 1, &edge, 1, md, mt), 0);
    assert_int_equal(bs_truth_match(d, 0, &edge, 1, md, mt), 0);
    bs_truth_counts c = {8, 2, 0};
    double pr, rc, f1;
    bs_truth_ratios(&c, &pr, &rc, &f1);
    assert_true(fabs(pr - 0.8) < 1e-12 && rc == 1 && fabs(f1 - 16.0 / 18) < 1e-12);
    bs_truth_counts none = {0, 0, 0};
    bs_truth_ratios(&none, &pr, &rc, &f1);
    assert_true(isnan(pr) && isnan(rc) && isnan(f1));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_class_kinds), cmocka_unit_test(test_boxes_and_lookup),
        cmocka_unit_test(test_points),      cmocka_unit_test(test_bad_truth),
        cmocka_unit_test(test_xyc),         cmocka_unit_test(test_match),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
