/* test_field.c — field mode without networks (field/field.h): reflection-padded crops, colour
 * normalisation onto the references, the Wilson interval and the field call, and the cell
 * dataset that `cells --crops` writes (files, manifest rows, labels, classes and groups). */
#define _GNU_SOURCE
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/csv.h"
#include "core/error.h"
#include "core/io.h"
#include "core/stats.h"
#include "field/field.h"
#include "test_support.h"

static char *tmp;

static int setup(void **state) {
    (void)state;
    tmp = bs_test_tmpdir();
    return tmp && bs_image_init("test_field", 1) == 0 ? 0 : -1;
}

static int teardown(void **state) {
    (void)state;
    bs_test_rmtree(tmp);
    free(tmp);
    return 0;
}

static bs_cell cell_box(int x0, int y0, int x1, int y1) {
    bs_cell c = {0.5 * (x0 + x1), 0.5 * (y0 + y1), x0, y0, x1, y1, 1, 0};
    return c;
}

static void test_crop(void **state) {
    (void)state;
    /* 4×3 image whose pixel (x, y) holds (x, y, 7) */
    unsigned char px[3 * 4 * 3];
    for (int y = 0; y < 3; y++)
        for (int x = 0; x < 4; x++) {
            px[3 * (y * 4 + x)] = (unsigned char)x;
            px[3 * (y * 4 + x) + 1] = (unsigned char)y;
            px[3 * (y * 4 + x) + 2] = 7;
        }
    bs_image img = {.width = 4, .height = 3, .rgb = px};
    bs_cell c = cell_box(0, 0, 2, 2); /* side max(8, 1.25·2) = 8, top-left (-3, -3) */
    assert_int_equal(bs_field_crop_side(&c), BS_FIELD_CROP_MIN);
    bs_image out;
    assert_int_equal(bs_field_crop(&img, &c, &out), 0);
    assert_int_equal(out.width, 8);
    assert_int_equal(out.height, 8);
    /* columns -3..4 reflect to 2 1 0 0 1 2 3 3; rows -3..4 to 2 1 0 0 1 2 2 1 */
    const int xs[8] = {2, 1, 0, 0, 1, 2, 3, 3}, ys[8] = {2, 1, 0, 0, 1, 2, 2, 1};
    for (int r = 0; r < 8; r++)
        for (int k = 0; k < 8; k++) {
            const unsigned char *p = out.rgb + 3 * (r * 8 + k);
            assert_int_equal(p[0], xs[k]);
            assert_int_equal(p[1], ys[r]);
            assert_int_equal(p[2], 7);
        }
    bs_image_free(&out);
    /* a cell box larger than the image: the crop is still filled, at most 1024 px */
    bs_cell huge = cell_box(-5000, -5000, 5000, 5000);
    assert_int_equal(bs_field_crop(&img, &huge, &out), 0);
    assert_int_equal(out.width, 1024);
    bs_image_free(&out);
}

static void test_normalise(void **state) {
    (void)state;
    /* background (200, 180, 150) with a 10×10 "nucleus" (60, 30, 90) in a 40×40 field */
    int w = 40, h = 40;
    bs_image img = {.width = w, .height = h, .rgb = malloc((size_t)w * h * 3)};
    for (int i = 0; i < w * h; i++) {
        int x = i % w, y = i / w, nuc = x < 10 && y < 10;
        img.rgb[3 * i] = nuc ? 60 : 200;
        img.rgb[3 * i + 1] = nuc ? 30 : 180;
        img.rgb[3 * i + 2] = nuc ? 90 : 150;
    }
    bs_field_colour c;
    assert_int_equal(bs_field_normalise(&img, &c), 0);
    assert_true(c.background[0] == 200 && c.nucleus[2] == 90);
    for (int k = 0; k < 3; k++) {
        assert_true(fabs(img.rgb[3 * (w * h - 1) + k] - bs_field_background_ref[k]) <= 1);
        assert_true(fabs(img.rgb[k] - bs_field_nucleus_ref[k]) <= 1);
    }
    /* a grey field: only shifted onto the background reference, not stretched */
    memset(img.rgb, 100, (size_t)w * h * 3);
    assert_int_equal(bs_field_normalise(&img, &c), 0);
    assert_true(c.gain[0] == 1 && img.rgb[0] == (unsigned char)bs_field_background_ref[0]);
    free(img.rgb);
}

static void test_wilson_and_call(void **state) {
    (void)state;
    double lo, hi;
    bs_wilson95(5, 10, &lo, &hi); /* textbook values */
    assert_true(fabs(lo - 0.2366) < 1e-4 && fabs(hi - 0.7634) < 1e-4);
    bs_wilson95(0, 10, &lo, &hi);
    assert_true(lo == 0 && fabs(hi - 0.2775) < 1e-4);
    bs_field_rule rule;
    bs_field_rule_default(&rule);
    bs_field_call calls[3] = {{1, 0.95, 1}, {1, 0.6, 0}, {0, 0.1, 0}};
    bs_field_summary s;
    bs_field_summarise(calls, 3, &rule, &s);
    assert_int_equal(s.blasts, 2);
    assert_int_equal(s.confident_blasts, 0); /* one out of distribution, one unsure */
    assert_false(s.all_suspected);
    assert_string_equal(bs_field_call_name(&s), "no confident blast");
    rule.min_probability = 0.5;
    bs_field_summarise(calls, 3, &rule, &s);
    assert_true(s.all_suspected);
    assert_true(fabs(s.blast_percent - 200.0 / 3) < 1e-9);
    bs_field_summarise(calls, 0, &rule, &s);
    assert_string_equal(bs_field_call_name(&s), "no white cells");
    assert_true(isnan(s.blast_percent));
}

/* --- the crop dataset ------------------------------------------------------------------ */

/* A 400×300 smear-like field saved as PNG at path: a pale background with `n` white cells of
 * 60 px (violet nucleus, pale cytoplasm) along a row. */
static void write_field(const char *path, int n) {
    static const unsigned char bg[3] = {225, 222, 205}, cyto[3] = {200, 190, 215},
                               nuc[3] = {115, 80, 185};
    bs_image img = {.width = 400, .height = 300, .rgb = malloc(400 * 300 * 3)};
    assert_non_null(img.rgb);
    for (int y = 0; y < img.height; y++)
        for (int x = 0; x < img.width; x++) {
            const unsigned char *c = bg;
            for (int k = 0; k < n; k++) {
                double d = hypot(x - (80 + 120 * k), y - 150);
                if (d <= 30) c = d <= 21 ? nuc : cyto;
            }
            memcpy(img.rgb + 3 * (y * img.width + x), c, 3);
        }
    assert_int_equal(bs_image_save(&img, path, 0), 0);
    bs_image_free(&img);
}

/* The crops the dataset must hold for one source image: detected and cut in memory. */
/* The crops of the cells detected in the field at path (and their boxes when boxes is not
 * NULL: at most 8). */
static int64_t expected_crops_boxes(const char *path, const bs_field_options *o, bs_image **crops,
                                    bs_cell *boxes) {
    bs_image img;
    bs_cells cells;
    assert_int_equal(bs_image_load(path, &img), 0);
    assert_int_equal(bs_detect_cells(img.rgb, img.width, img.height, &o->detect, &cells), 0);
    *crops = calloc((size_t)cells.n + 1, sizeof **crops);
    assert_int_equal(bs_field_crops(&img, cells.cells, cells.n, o->normalise, *crops), 0);
    int64_t n = cells.n;
    assert_true(!boxes || n <= 8);
    for (int64_t i = 0; boxes && i < n; i++) boxes[i] = cells.cells[i];
    bs_detect_free(&cells);
    bs_image_free(&img);
    return n;
}

static int64_t expected_crops(const char *path, const bs_field_options *o, bs_image **crops) {
    return expected_crops_boxes(path, o, crops, NULL);
}

/* Manifest row r: path, label, class and group as given; the file holds crop `want` exactly. */
static void check_row(const bs_csv *m, size_t r, const char *outdir, const char *path,
                      const char *label, const char *class_name, const char *group,
                      const bs_image *want) {
    assert_string_equal(m->rows[r][0], path);
    assert_string_equal(m->rows[r][1], label);
    assert_string_equal(m->rows[r][2], class_name);
    assert_string_equal(m->rows[r][3], group);
    char *file = bs_path_join(outdir, path);
    bs_image got;
    assert_int_equal(bs_image_load(file, &got), 0);
    assert_int_equal(got.width, want->width);
    assert_int_equal(got.height, want->height);
    assert_memory_equal(got.rgb, want->rgb, (size_t)got.width * got.height * 3);
    bs_image_free(&got);
    free(file);
}

/* Three fields (two cells, none, one): a PNG per detected cell under its class's folder (made
 * safe as a folder name), and a manifest row with the source's label, class and group. */
static void test_crop_dataset(void **state) {
    (void)state;
    char *a = bs_path_join(tmp, "a.png"), *b = bs_path_join(tmp, "b.png"),
         *c = bs_path_join(tmp, "c.png"), *out = bs_path_join(tmp, "cells");
    write_field(a, 2);
    write_field(b, 0);
    write_field(c, 1);
    bs_sample s[3] = {{.path = a, .label = 1, .class_name = "Pre B", .group = "g1"},
                      {.path = b, .label = 0, .class_name = "Benign", .group = "g2"},
                      {.path = c, .label = 0, .class_name = "Benign", .group = "g1"}};
    char *names[] = {"lab-a"}; /* the dataset stage's name of source 0 */
    bs_dataset ds = {.n = 3, .samples = s, .source_names = names, .nsources = 1};
    bs_field_options o;
    bs_field_options_default(&o);
    o.detect.cell_size = 60;
    bs_image *ca, *cc;
    int64_t na = expected_crops(a, &o, &ca), nc = expected_crops(c, &o, &cc);
    assert_int_equal(na, 2);
    assert_int_equal(nc, 1);
    bs_field_crop_counts counts;
    assert_int_equal(bs_field_write_crop_dataset(&ds, &o, out, 0, &counts), 0);
    assert_int_equal(counts.cells, 3);
    assert_int_equal(counts.images_without_cells, 1);
    char *manifest = bs_path_join(out, "manifest.csv");
    bs_csv m;
    assert_int_equal(bs_csv_read(manifest, &m), 0);
    assert_int_equal(m.ncols, 13);
    assert_string_equal(m.header[0], "path");
    assert_string_equal(m.header[3], "group");
    assert_string_equal(m.header[4], "source");
    assert_string_equal(m.header[12], "normalised");
    /* provenance: the source's name, the field, the box, the scale, the colour rule */
    assert_string_equal(m.rows[0][4], "lab-a");
    assert_string_equal(m.rows[0][5], a);
    assert_true(atoi(m.rows[0][8]) > atoi(m.rows[0][6]) && atoi(m.rows[0][9]) > atoi(m.rows[0][7]));
    assert_true(atof(m.rows[0][10]) == 60); /* --cell-size given */
    assert_string_equal(m.rows[0][12], "1");
    assert_int_equal(m.nrows, 3);
    /* the field's scale in crop pixels: the cell size given (crops are cut at the field's
     * resolution); red cells measured apart, empty when the field has none */
    for (size_t r = 0; r < 3; r++) {
        assert_string_equal(m.rows[r][10], "60");
        assert_true(!m.rows[r][11][0] || atof(m.rows[r][11]) > 0);
    }
    check_row(&m, 0, out, "Pre_B/00000_a_c000.png", "1", "Pre B", "g1", &ca[0]);
    check_row(&m, 1, out, "Pre_B/00000_a_c001.png", "1", "Pre B", "g1", &ca[1]);
    check_row(&m, 2, out, "Benign/00002_c_c000.png", "0", "Benign", "g1", &cc[0]);
    bs_csv_free(&m);
    for (int i = 0; i < 2; i++) bs_image_free(&ca[i]);
    bs_image_free(&cc[0]);
    free(ca);
    free(cc);
    /* JPEG crops: .jpg files that decode to the crop's size */
    char *jout = bs_path_join(tmp, "cells-jpeg"),
         *jpg = bs_path_join(jout, "Benign/00000_c_c000.jpg");
    bs_dataset one = {.n = 1, .samples = &s[2]};
    assert_int_equal(bs_field_write_crop_dataset(&one, &o, jout, 1, &counts), 0);
    assert_int_equal(counts.cells, 1);
    bs_image got;
    assert_int_equal(bs_image_load(jpg, &got), 0);
    assert_true(got.width >= BS_FIELD_CROP_MIN && got.width == got.height);
    bs_image_free(&got);
    free(jpg);
    free(jout);
    free(manifest);
    free(a), free(b), free(c), free(out);
}

/* A crop carries its field's scale in its own pixels: as it is, or scaled with a crop
 * subsampled past the largest side. */
static void crop_carries_the_scale(void **state) {
    (void)state;
    bs_image img = {.width = 1200, .height = 1200, .rgb = calloc(1200 * 1200, 3)};
    img.cell_px = 50, img.red_cell_px = 20;
    bs_cell small = {.x0 = 100, .y0 = 100, .x1 = 200, .y1 = 180};
    bs_image c;
    assert_int_equal(bs_field_crop(&img, &small, &c), 0);
    assert_true(c.cell_px == 50 && c.red_cell_px == 20);
    bs_image_free(&c);
    bs_cell huge = {.x0 = 0, .y0 = 0, .x1 = 1100, .y1 = 1100};
    assert_int_equal(bs_field_crop(&img, &huge, &c), 0);
    double f = (double)c.width / bs_field_crop_side(&huge);
    assert_true(f < 1 && fabs(c.cell_px - 50 * f) < 1e-9 && fabs(c.red_cell_px - 20 * f) < 1e-9);
    bs_image_free(&c);
    free(img.rgb);
}

/* No white cell in any source image: an error, and no manifest is left behind. */
/* Crops from annotated boxes: a boxes CSV giving the detected cells' boxes yields the same
 * crops as detection; labels from --label/--class, sources from sources.csv; a corrections
 * CSV's own labels per row, rows without a label skipped; boxes outside the field counted. */
static void test_box_crops(void **state) {
    (void)state;
    char *dir = bs_path_join(tmp, "boxed"), *a = bs_path_join(dir, "a.png"),
         *csv = bs_path_join(dir, "boxes.csv"), *src = bs_path_join(dir, "sources.csv"),
         *out = bs_path_join(tmp, "boxcrops"), *manifest = bs_path_join(out, "manifest.csv");
    assert_int_equal(bs_mkdir_p(dir), 0);
    write_field(a, 2);
    bs_field_options o;
    bs_field_options_default(&o);
    o.detect.cell_size = 60;
    bs_image *ca;
    bs_cell box[8];
    assert_int_equal(expected_crops_boxes(a, &o, &ca, box), 2);
    char *text = bs_strfmt("image,class,xmin,ymin,xmax,ymax\na.png,WBC,%d,%d,%d,%d\n"
                           "a.png,RBC,1,1,5,5\na.png,WBC,%d,%d,%d,%d\na.png,WBC,900,900,990,990\n",
                           box[0].x0, box[0].y0, box[0].x1, box[0].y1, box[1].x0, box[1].y0,
                           box[1].x1, box[1].y1);
    bs_test_write(csv, text, strlen(text));
    bs_test_write(src, "image,source\na.png,BCD\n", 23);
    bs_truth t;
    assert_int_equal(bs_truth_read(csv, &t), 0);
    bs_field_box_labels given = {-1, NULL};
    bs_field_crop_counts counts;
    /* WBC says neither blast nor non-blast: a label must be given */
    assert_int_equal(bs_field_write_box_crops(&t, csv, &given, &o, out, 0, &counts), -1);
    if (!strstr(bs_error_message(), "--label")) fail_msg("%s", bs_error_message());
    assert_false(bs_file_exists(manifest));
    given = (bs_field_box_labels){0, "normal WBC"};
    assert_int_equal(bs_field_write_box_crops(&t, csv, &given, &o, out, 0, &counts), 0);
    assert_int_equal(counts.cells, 2);
    assert_int_equal(counts.boxes_outside, 1);
    bs_csv m;
    assert_int_equal(bs_csv_read(manifest, &m), 0);
    assert_int_equal(m.nrows, 2);
    char *real = realpath(a, NULL);
    check_row(&m, 0, out, "normal_WBC/00000_a_c000.png", "0", "normal WBC", real, &ca[0]);
    check_row(&m, 1, out, "normal_WBC/00000_a_c001.png", "0", "normal WBC", real, &ca[1]);
    assert_string_equal(m.rows[1][4], "BCD");
    assert_string_equal(m.rows[1][5], real);
    char *x0 = bs_strfmt("%d", box[1].x0);
    assert_string_equal(m.rows[1][6], x0);
    bs_csv_free(&m);
    bs_truth_free(&t);
    /* the review page's corrections: each row's own labels */
    free(text);
    text = bs_strfmt("image,xmin,ymin,xmax,ymax,label,class,group,source,model_class,"
                     "model_probability,reviewer_class\n"
                     "%s,%d,%d,%d,%d,1,blast,field-7,aria2021,non-blast,0.3,blast\n"
                     "%s,%d,%d,%d,%d,,,field-7,aria2021,blast,0.9,artefact\n",
                     real, box[0].x0, box[0].y0, box[0].x1, box[0].y1, real, box[1].x0, box[1].y0,
                     box[1].x1, box[1].y1);
    bs_test_write(csv, text, strlen(text));
    assert_int_equal(bs_truth_read(csv, &t), 0);
    given = (bs_field_box_labels){0, "ignored"};
    assert_int_equal(bs_field_write_box_crops(&t, csv, &given, &o, out, 0, &counts), 0);
    assert_int_equal(counts.cells, 1);
    assert_int_equal(bs_csv_read(manifest, &m), 0);
    assert_int_equal(m.nrows, 1);
    check_row(&m, 0, out, "blast/00000_a_c000.png", "1", "blast", "field-7", &ca[0]);
    assert_string_equal(m.rows[0][4], "aria2021");
    bs_csv_free(&m);
    bs_truth_free(&t);
    for (int i = 0; i < 2; i++) bs_image_free(&ca[i]);
    free(ca), free(x0), free(real), free(text), free(dir), free(a), free(csv), free(src), free(out),
        free(manifest);
}

static void test_crop_dataset_without_cells(void **state) {
    (void)state;
    char *b = bs_path_join(tmp, "blank.png"), *out = bs_path_join(tmp, "none");
    write_field(b, 0);
    bs_sample s = {.path = b, .label = 0, .class_name = "Benign", .group = "g"};
    bs_dataset ds = {.n = 1, .samples = &s};
    bs_field_options o;
    bs_field_options_default(&o);
    bs_field_crop_counts counts;
    assert_int_equal(bs_field_write_crop_dataset(&ds, &o, out, 0, &counts), -1);
    assert_non_null(strstr(bs_error_message(), "no white cell"));
    assert_int_equal(counts.images_without_cells, 1);
    char *manifest = bs_path_join(out, "manifest.csv");
    assert_false(bs_file_exists(manifest));
    free(manifest);
    free(b);
    free(out);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_crop),
        cmocka_unit_test(test_normalise),
        cmocka_unit_test(test_wilson_and_call),
        cmocka_unit_test(test_crop_dataset),
        cmocka_unit_test(crop_carries_the_scale),
        cmocka_unit_test(test_crop_dataset_without_cells),
        cmocka_unit_test(test_box_crops),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
