/* test_truth_formats.c — the annotation formats beside the CSV tables (eval/truth.h): YOLO
 * label files with classes.txt, Pascal VOC XML, a folder of either with the images found
 * beside it, the corrections CSV's own labels; malformed files refused with the file's name;
 * and TXL-PBC's published YOLO labels read into the same pixel boxes as its boxes.csv. */
#define _GNU_SOURCE
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/csv.h"
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

static bs_truth_classes classes_of(const char *text) {
    bs_truth_classes c;
    assert_int_equal(bs_truth_parse_classes(text, strlen(text), "classes.txt", &c), 0);
    return c;
}

static void test_yolo(void **state) {
    (void)state;
    bs_truth_classes c = classes_of("WBC\r\nRBC\nPlatelet\n\n");
    assert_int_equal(c.n, 3);
    assert_string_equal(c.names[2], "Platelet");
    bs_truth t = {0};
    const char *text = "0 0.5 0.25 0.5 0.25\n1 0.1 0.1 0.05 0.05\n\n  0 0.2 0.8 0.1 0.2 \r\n";
    assert_int_equal(bs_truth_parse_yolo(text, strlen(text), "labels/f01.txt", &c, &t), 0);
    assert_int_equal(t.n, 1);
    assert_string_equal(t.images[0].key, "f01");
    assert_int_equal(t.images[0].n, 2); /* the red cell is not a white cell */
    assert_true(t.all_white && !t.knows_blasts && t.images[0].relative);
    bs_truth_image scratch;
    const bs_truth_image *img;
    int found;
    /* the stem names the image in any folder, with any extension; pixels from its size */
    assert_int_equal(bs_truth_lookup(&t, "/data/images/f01.png", 400, 200, &scratch, &img, &found),
                     0);
    assert_true(found && img == &scratch && img->n == 2);
    assert_true(img->cells[0].x0 == 100 && img->cells[0].x1 == 300);
    assert_true(img->cells[0].y0 == 25 && img->cells[0].y1 == 75);
    bs_truth_image_free(&scratch);
    assert_int_equal(bs_truth_lookup(&t, "/data/f011.png", 400, 200, &scratch, &img, &found), 0);
    assert_false(found);
    /* relative boxes need the image's size */
    assert_int_equal(bs_truth_lookup(&t, "f01.jpg", 0, 0, &scratch, &img, &found), -1);
    bs_truth_free(&t);
    bs_truth_classes_free(&c);
    /* a class that says blast makes blasts known */
    c = classes_of("lymphoblast\nneutrophil\n");
    text = "0 0.5 0.5 0.1 0.1\n1 0.2 0.2 0.1 0.1\n";
    memset(&t, 0, sizeof t);
    assert_int_equal(bs_truth_parse_yolo(text, strlen(text), "b.txt", &c, &t), 0);
    assert_true(t.knows_blasts);
    assert_true(t.images[0].cells[0].blast == 1 && t.images[0].cells[1].blast == 0);
    bs_truth_free(&t);
    bs_truth_classes_free(&c);
}

static void yolo_refused(const char *text, const char *why) {
    bs_truth_classes c = classes_of("WBC\nRBC\n");
    bs_truth t = {0};
    if (bs_truth_parse_yolo(text, strlen(text), "bad.txt", &c, &t) == 0)
        fail_msg("accepted: %s", why);
    assert_non_null(strstr(bs_error_message(), "bad.txt: line"));
    bs_truth_free(&t);
    bs_truth_classes_free(&c);
}

static void test_bad_yolo(void **state) {
    (void)state;
    yolo_refused("2 0.5 0.5 0.1 0.1\n", "class beyond classes.txt");
    yolo_refused("-1 0.5 0.5 0.1 0.1\n", "negative class");
    yolo_refused("0 0.5 0.5 0.1\n", "four fields");
    yolo_refused("0 0.5 0.5 0.1 0.1 0.9\n", "six fields");
    yolo_refused("0 0.5 nan 0.1 0.1\n", "nan");
    yolo_refused("0 0.5 0.5 0 0.1\n", "empty box");
    yolo_refused("0 12 0.5 0.1 0.1\n", "pixels, not fractions");
    yolo_refused("0x 0.5 0.5 0.1 0.1\n", "garbage class");
    yolo_refused("0 0.5 0.5 0.1 0.1\n0 0.5 0.5 0.1 0.1e\n", "garbage on line 2");
    char longline[400];
    memset(longline, ' ', sizeof longline);
    memcpy(longline, "0 0.5 0.5 0.1 0.1", 17);
    longline[sizeof longline - 1] = '\0';
    yolo_refused(longline, "a line longer than any label line");
    bs_truth_classes c = classes_of("WBC\n");
    bs_truth t = {0};
    const char nul[] = "0 0.5\0 0.5 0.1 0.1\n";
    assert_int_equal(bs_truth_parse_yolo(nul, sizeof nul - 1, "nul.txt", &c, &t), -1);
    bs_truth_free(&t);
    bs_truth_classes_free(&c);
    const char *bad_classes[] = {"", "\n\n", "WBC\n\nRBC\n"};
    for (size_t i = 0; i < sizeof bad_classes / sizeof *bad_classes; i++) {
        assert_int_equal(
            bs_truth_parse_classes(bad_classes[i], strlen(bad_classes[i]), "classes.txt", &c), -1);
        assert_non_null(strstr(bs_error_message(), "classes.txt"));
    }
}

static const char voc[] = "\xEF\xBB\xBF<?xml version=\"1.0\"?>\n<!-- BCCD style -->\n"
                          "<annotation><folder>JPEGImages</folder>\n"
                          "  <filename>Blood_1.jpg</filename>\n"
                          "  <size><width>640</width><height>480</height><depth>3</depth></size>\n"
                          "  <object><name>WBC</name><difficult>0</difficult>\n"
                          "    <bndbox><xmin>260</xmin><ymin>177</ymin><xmax>491.5</xmax>"
                          "<ymax> 376 </ymax></bndbox></object>\n"
                          "  <object><name>RBC</name><bndbox><xmin>1</xmin><ymin>2</ymin>"
                          "<xmax>3</xmax><ymax>4</ymax></bndbox></object>\n"
                          "  <object><name>lymphocyte</name><bndbox><xmin>10</xmin><ymin>20</ymin>"
                          "<xmax>30</xmax><ymax>40</ymax></bndbox>\n"
                          "    <part><name>hand</name><bndbox><xmin>900</xmin><ymin>900</ymin>"
                          "<xmax>901</xmax><ymax>901</ymax></bndbox></part></object>\n"
                          "</annotation>\n";

static void test_voc(void **state) {
    (void)state;
    bs_truth t = {0};
    char *filename;
    assert_int_equal(bs_truth_parse_voc(voc, strlen(voc), "Annotations/Blood_1.xml", &t, &filename),
                     0);
    assert_string_equal(filename, "Blood_1.jpg");
    free(filename);
    assert_int_equal(t.n, 1);
    const bs_truth_image *img = &t.images[0];
    assert_int_equal(img->n, 2);
    assert_false(img->relative);
    assert_true(img->cells[0].x0 == 260 && img->cells[0].x1 == 491.5 && img->cells[0].y1 == 376);
    assert_int_equal(img->cells[0].blast, -1);
    assert_true(img->cells[1].x0 == 10 && img->cells[1].blast == 0); /* the part's box ignored */
    assert_true(t.knows_blasts && t.all_white);
    bs_truth_image scratch;
    const bs_truth_image *found_img;
    int found;
    assert_int_equal(bs_truth_lookup(&t, "x/Blood_1.jpg", 0, 0, &scratch, &found_img, &found), 0);
    assert_true(found && found_img == img);
    bs_truth_free(&t);
}

static void voc_refused(const char *text, const char *why) {
    bs_truth t = {0};
    if (bs_truth_parse_voc(text, strlen(text), "bad.xml", &t, NULL) == 0)
        fail_msg("accepted: %s", why);
    assert_non_null(strstr(bs_error_message(), "bad.xml: "));
    bs_truth_free(&t);
}

#define OBJ(name, box) "<object><name>" name "</name><bndbox>" box "</bndbox></object>"
#define BOX "<xmin>1</xmin><ymin>2</ymin><xmax>3</xmax><ymax>4</ymax>"

static void test_bad_voc(void **state) {
    (void)state;
    voc_refused("", "empty");
    voc_refused("<html></html>", "another root");
    voc_refused("<annotation>" OBJ("WBC", BOX), "unclosed");
    voc_refused("<annotation>" OBJ("WBC", "<xmin>1</xmin>") "</annotation>", "half a box");
    voc_refused("<annotation><object><bndbox>" BOX "</bndbox></object></annotation>", "no name");
    voc_refused("<annotation>" OBJ("WBC", "<xmin>1</xmin><ymin>2</ymin><xmax>x</xmax><ymax>4"
                                          "</ymax>") "</annotation>",
                "not a number");
    voc_refused("<annotation>" OBJ("WBC", "<xmin>9</xmin><ymin>2</ymin><xmax>3</xmax><ymax>4"
                                          "</ymax>") "</annotation>",
                "xmax < xmin");
    voc_refused("<annotation>" OBJ("WBC", "<xmin>1e300</xmin><ymin>2</ymin><xmax>3</xmax><ymax>4"
                                          "</ymax>") "</annotation>",
                "huge");
    voc_refused("<annotation><filename>&xxe;</filename></annotation>", "unknown entity");
    voc_refused("<annotation><object><name>a</name></object></annotation>", "object without box");
    char deep[2000] = "<annotation>";
    for (int i = 0; i < 100; i++) strcat(deep, "<a>");
    voc_refused(deep, "nested too deep");
    char long_name[600] = "<annotation><filename>";
    memset(long_name + strlen(long_name), 'a', 300);
    strcat(long_name, "</filename></annotation>");
    voc_refused(long_name, "a value too long");
}

/* A corrections CSV (the review page's export): each record's own labels, blanks skipped. */
static void test_corrections(void **state) {
    (void)state;
    const char *text = "image,xmin,ymin,xmax,ymax,label,class,group,source,model_class,"
                       "model_probability,reviewer_class\n"
                       "/f/a.jpg,1,2,30,40,1,blast,a,aria2021,non-blast,0.2,blast\n"
                       "/f/a.jpg,5,5,9,9,,,a,aria2021,blast,0.9,artefact\n"
                       "/f/a.jpg,50,60,70,80,0,non-blast,a,aria2021,blast,0.6,non-blast\n";
    bs_truth t;
    assert_int_equal(bs_truth_parse(text, strlen(text), "corrections.csv", &t), 0);
    assert_int_equal(t.n, 1);
    const bs_truth_image *img = &t.images[0];
    assert_int_equal(img->n, 2);
    assert_non_null(img->meta);
    assert_true(img->meta[0].label == 1 && img->meta[1].label == 0);
    assert_true(img->cells[0].blast == 1 && img->cells[1].blast == 0);
    assert_string_equal(img->meta[1].class_name, "non-blast");
    assert_string_equal(img->meta[1].group, "a");
    assert_string_equal(img->meta[1].source, "aria2021");
    bs_truth_free(&t);
    assert_int_equal(bs_truth_class_kind("non-blast"), BS_TRUTH_NONBLAST);
    text = "image,xmin,ymin,xmax,ymax,label\na.jpg,1,2,3,4,2\n";
    assert_int_equal(bs_truth_parse(text, strlen(text), "c.csv", &t), -1);
    assert_non_null(strstr(bs_error_message(), "c.csv: row 2: label"));
}

/* A folder: labels/STEM.txt with classes.txt above, and the images found in ../images. */
static void test_folder(void **state) {
    (void)state;
    char *labels = bs_path_join(tmp, "set/labels"), *images = bs_path_join(tmp, "set/images");
    assert_int_equal(bs_mkdir_p(labels), 0);
    assert_int_equal(bs_mkdir_p(images), 0);
    char *classes = bs_path_join(tmp, "set/classes.txt"), *a = bs_path_join(labels, "a.txt"),
         *b = bs_path_join(labels, "b.txt"), *ai = bs_path_join(images, "a.png");
    bs_test_write(classes, "WBC\nRBC\n", 8);
    bs_test_write(a, "0 0.5 0.5 0.2 0.2\n", 18);
    bs_test_write(b, "", 0);
    bs_test_write(ai, "x", 1);
    bs_truth t;
    int rc = bs_truth_read(labels, &t);
    if (rc) fail_msg("%s", bs_error_message());
    assert_int_equal(t.n, 2);
    assert_string_equal(t.images[0].key, "a");
    char *real = realpath(ai, NULL);
    assert_non_null(t.images[0].path);
    assert_string_equal(t.images[0].path, real);
    assert_null(t.images[1].path); /* b has no image */
    bs_truth_free(&t);
    /* without classes.txt */
    unlink(classes);
    assert_int_equal(bs_truth_read(labels, &t), -1);
    assert_non_null(strstr(bs_error_message(), "classes.txt"));
    /* a VOC file given alone, its image named by <filename> */
    char *xml = bs_path_join(labels, "v.xml"), *jpg = bs_path_join(images, "Blood_1.jpg");
    bs_test_write(xml, voc, strlen(voc));
    bs_test_write(jpg, "x", 1);
    assert_int_equal(bs_truth_read(xml, &t), 0);
    assert_int_equal(t.n, 1);
    assert_non_null(t.images[0].path);
    assert_non_null(strstr(t.images[0].path, "/images/Blood_1.jpg"));
    bs_truth_free(&t);
    free(xml), free(jpg), free(real), free(labels), free(images), free(classes), free(a), free(b),
        free(ai);
}

/* Whether every box of a has one of b within a pixel. */
static int boxes_within(const bs_truth_image *a, const bs_truth_image *b) {
    for (size_t i = 0; i < a->n; i++) {
        int hit = 0;
        for (size_t j = 0; j < b->n && !hit; j++)
            hit = fabs(a->cells[i].x0 - b->cells[j].x0) <= 1 &&
                  fabs(a->cells[i].y0 - b->cells[j].y0) <= 1 &&
                  fabs(a->cells[i].x1 - b->cells[j].x1) <= 1 &&
                  fabs(a->cells[i].y1 - b->cells[j].y1) <= 1;
        if (!hit) return 0;
    }
    return 1;
}

/* TXL-PBC publishes both: its YOLO labels must give boxes.csv's white boxes, in pixels (image
 * sizes from its sources.csv). */
static void test_txlpbc_labels_match_boxes(void **state) {
    (void)state;
    char *dir = bs_test_asset("data/txlpbc-train");
    if (!dir) BS_SKIP("../shared/data/txlpbc-train is absent");
    char *labels = bs_path_join(dir, "labels"), *csv = bs_path_join(dir, "boxes.csv"),
         *sources = bs_path_join(dir, "sources.csv");
    bs_truth yolo, boxes;
    bs_csv sizes;
    assert_int_equal(bs_truth_read(labels, &yolo), 0);
    assert_int_equal(bs_truth_read(csv, &boxes), 0);
    assert_int_equal(bs_csv_read(sources, &sizes), 0);
    int ci = bs_csv_column(&sizes, "image"), cw = bs_csv_column(&sizes, "width"),
        ch = bs_csv_column(&sizes, "height");
    assert_true(ci >= 0 && cw >= 0 && ch >= 0);
    assert_int_equal(yolo.n, sizes.nrows);
    size_t cells = 0;
    for (size_t r = 0; r < sizes.nrows; r++) {
        char *image = bs_path_join(dir, sizes.rows[r][ci]);
        const bs_truth_image *want, *got;
        bs_truth_image scratch, none;
        int found;
        assert_int_equal(bs_truth_lookup(&boxes, image, 0, 0, &none, &want, &found), 0);
        assert_true(found);
        assert_int_equal(bs_truth_lookup(&yolo, image, atoi(sizes.rows[r][cw]),
                                         atoi(sizes.rows[r][ch]), &scratch, &got, &found),
                         0);
        assert_true(found);
        if (!boxes_within(want, got) || !boxes_within(got, want))
            fail_msg("%s: the YOLO boxes differ from boxes.csv", image);
        char *real = realpath(image, NULL);
        assert_string_equal(yolo.images[r].path ? real : "", real); /* the image was found */
        cells += want->n;
        free(real), free(image);
        bs_truth_image_free(&scratch);
    }
    assert_true(cells > 1000);
    bs_csv_free(&sizes);
    bs_truth_free(&yolo);
    bs_truth_free(&boxes);
    free(labels), free(csv), free(sources), free(dir);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_yolo),
        cmocka_unit_test(test_bad_yolo),
        cmocka_unit_test(test_voc),
        cmocka_unit_test(test_bad_voc),
        cmocka_unit_test(test_corrections),
        cmocka_unit_test(test_folder),
        cmocka_unit_test(test_txlpbc_labels_match_boxes),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
