/* test_review.c — the review page's file (report/review.h) from a synthetic field whose cells
 * and calls are known: every JSON block parses (jansson) and holds each cell's box, the model's
 * call and a JPEG thumbnail of the cell's crop the size bs_field_crops makes it; the class
 * boundary comes from the model's Platt sigmoid; the batch block pools the fields with
 * bs_wilson95; a path holding quotes, a comma and "</script>" cannot end a script element
 * early; a page without a model or without cells is still a page; an unwritable place fails
 * at open, and an aborted page leaves no file behind. */
#define _GNU_SOURCE
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <vips/vips.h>

#include "core/error.h"
#include "core/io.h"
#include "core/stats.h"
#include "report/review.h"
#include "test_support.h"

static char *dir;

static int setup(void **state) {
    (void)state;
    dir = bs_test_tmpdir();
    return dir ? 0 : -1;
}

static int teardown(void **state) {
    (void)state;
    bs_test_rmtree(dir);
    free(dir);
    return 0;
}

/* A 120 x 90 field: grey background, two dark squares (the "cells"). */
static void make_field(bs_image *img) {
    img->width = 120;
    img->height = 90;
    img->rgb = malloc(120 * 90 * 3);
    memset(img->rgb, 220, 120 * 90 * 3);
    for (int y = 10; y < 30; y++)
        for (int x = 10; x < 30; x++) memset(img->rgb + 3 * (y * 120 + x), 60, 3);
}

/* Two cells; with results: cell 0 a confident blast, cell 1 not a blast. */
static void make_analysis(bs_field_analysis *a, bs_cell *cells, bs_pipeline_result *res,
                          bs_field_call *calls, int64_t n) {
    memset(a, 0, sizeof *a);
    bs_cell c0 = {.x = 20, .y = 20, .x0 = 10, .y0 = 10, .x1 = 30, .y1 = 30, .nucleus_area = 300};
    bs_cell c1 = {.x = 110, .y = 80, .x0 = 100, .y0 = 70, .x1 = 120, .y1 = 90, .edge = 1};
    cells[0] = c0;
    cells[1] = c1;
    a->cells.cells = cells;
    a->cells.n = n;
    if (res) {
        res[0] = (bs_pipeline_result){1, 2.0, 0.95, 0.1, 0};
        res[1] = (bs_pipeline_result){0, -0.5, 0.3, 0.2, 0};
        for (int64_t i = 0; i < n; i++)
            calls[i] = (bs_field_call){res[i].label, res[i].probability, res[i].ood};
        a->results = res;
    }
    a->calls = calls;
    bs_field_rule rule;
    bs_field_rule_default(&rule);
    bs_field_summarise(calls, n, &rule, &a->summary);
}

/* The page's JSON blocks, parsed; *count of them. */
static json_t **read_blocks(const char *path, size_t *count, char **html) {
    unsigned char *data;
    size_t len;
    assert_int_equal(bs_read_file(path, 64u << 20, &data, &len), 0);
    json_t **v = calloc(64, sizeof *v);
    size_t n = 0;
    const char *open = "<script type=\"application/json\"";
    for (char *p = strstr((char *)data, open); p; p = strstr(p, open)) {
        char *start = strchr(p, '>') + 1, *end = strstr(start, "</script>");
        assert_non_null(end);
        json_error_t err;
        v[n] = json_loadb(start, (size_t)(end - start), 0, &err);
        if (!v[n]) fail_msg("block %zu: %s", n, err.text);
        n++;
        p = end;
    }
    *count = n;
    *html = (char *)data;
    return v;
}

static void free_blocks(json_t **v, size_t n, char *html) {
    for (size_t i = 0; i < n; i++) json_decref(v[i]);
    free(v);
    free(html);
}

static int count_substr(const char *s, const char *sub) {
    int n = 0;
    for (const char *p = strstr(s, sub); p; p = strstr(p + 1, sub)) n++;
    return n;
}

/* dir/name opened as a page (*out: its path) and a field to put on it. */
static bs_review *open_page(const char *name, const bs_review_setup *s, char **out, bs_image *img) {
    *out = bs_path_join(dir, name);
    bs_review *r = NULL;
    assert_int_equal(bs_review_open(*out, s, &r), 0);
    make_field(img);
    return r;
}

static void test_page_with_model(void **state) {
    (void)state;
    bs_pipeline p;
    memset(&p, 0, sizeof p);
    strcpy(p.label_names[0], "healthy");
    strcpy(p.label_names[1], "ALL");
    p.platt_b = 0.5; /* the class boundary: 1 / (1 + e^0.5) */
    bs_review_setup s = {&p, "m.blastscan", {1, 0.9}, 1};
    char *out;
    bs_image img;
    bs_review *r = open_page("page.html", &s, &out, &img);
    /* "</script>" holds a slash: the folder `lab "q", <` and the file `script> x,y's.png`. */
    char *odd = bs_path_join(dir, "lab \"q\", </script> x,y's.png");
    bs_cell cells[2];
    bs_pipeline_result res[2];
    bs_field_call calls[2];
    bs_field_analysis a;
    make_analysis(&a, cells, res, calls, 2);
    assert_int_equal(bs_review_add_field(r, odd, &img, &a), 0);
    assert_int_equal(bs_review_add_field(r, "relative/b.png", &img, &a), 0);
    assert_int_equal(bs_review_commit(r), 0);

    size_t n;
    char *html;
    json_t **b = read_blocks(out, &n, &html);
    assert_int_equal(n, 4); /* setup, two fields, batch */
    /* Only the page's own script elements end: none inside the data. */
    assert_int_equal(count_substr(html, "</script>"), 5);
    assert_null(strstr(html, "@DATA@"));
    assert_non_null(strstr(html, "Content-Security-Policy"));
    assert_string_equal(json_string_value(json_object_get(b[0], "model")), "m.blastscan");
    assert_true(fabs(json_real_value(json_object_get(b[0], "threshold")) - 1 / (1 + exp(0.5))) <
                1e-15);
    assert_string_equal(json_string_value(json_object_get(b[1], "path")), odd);
    assert_string_equal(json_string_value(json_object_get(b[1], "source")), "lab \"q\", <");
    const char *rel = json_string_value(json_object_get(b[2], "path"));
    assert_true(rel[0] == '/' && strstr(rel, "/relative/b.png"));
    assert_string_equal(json_string_value(json_object_get(b[2], "source")), "relative");
    json_t *c = json_object_get(b[1], "cells");
    assert_int_equal(json_array_size(c), 2);
    json_t *c0 = json_array_get(c, 0), *c1 = json_array_get(c, 1);
    assert_int_equal(json_integer_value(json_object_get(c0, "x1")), 30);
    assert_int_equal(json_integer_value(json_object_get(c0, "label")), 1);
    assert_true(json_real_value(json_object_get(c1, "p")) == 0.3);
    assert_true(json_is_true(json_object_get(c1, "edge")));
    assert_null(json_object_get(c0, "ood")); /* the model has no autoencoder */
    json_t *sum = json_object_get(b[1], "summary");
    assert_string_equal(json_string_value(json_object_get(sum, "call")), "ALL suspected");
    /* The thumbnail: a JPEG (base64 of FF D8 FF begins /9j/). */
    assert_memory_equal(json_string_value(json_object_get(c0, "thumb")), "/9j/", 4);
    /* The batch: 2 of 4 cells pooled, bs_wilson95's interval. */
    double lo, hi;
    bs_wilson95(2, 4, &lo, &hi);
    assert_int_equal(json_integer_value(json_object_get(b[3], "white_cells")), 4);
    assert_int_equal(json_integer_value(json_object_get(b[3], "blasts")), 2);
    assert_true(json_real_value(json_object_get(b[3], "ci95_lo")) == 100 * lo);
    assert_true(json_real_value(json_object_get(b[3], "ci95_hi")) == 100 * hi);
    free_blocks(b, n, html);
    bs_image_free(&img);
    free(odd);
    free(out);
}

static void test_page_without_model_or_cells(void **state) {
    (void)state;
    bs_review_setup s = {NULL, NULL, {1, 0.9}, 0};
    char *out;
    bs_image img;
    bs_review *r = open_page("plain.html", &s, &out, &img);
    bs_cell cells[2];
    bs_field_call calls[2] = {{0}};
    bs_field_analysis a;
    make_analysis(&a, cells, NULL, calls, 0); /* no cell at all */
    assert_int_equal(bs_review_add_field(r, "/x/empty.png", &img, &a), 0);
    make_analysis(&a, cells, NULL, calls, 2);
    assert_int_equal(bs_review_add_field(r, "/x/two.png", &img, &a), 0);
    bs_image one = {.width = 1, .height = 1, .rgb = calloc(1, 3)};
    make_analysis(&a, cells, NULL, calls, 0);
    assert_int_equal(bs_review_add_field(r, "/x/one.png", &one, &a), 0);
    assert_int_equal(bs_review_commit(r), 0);
    size_t n;
    char *html;
    json_t **b = read_blocks(out, &n, &html);
    assert_int_equal(n, 5);
    assert_true(json_is_null(json_object_get(b[0], "model")));
    assert_int_equal(json_array_size(json_object_get(b[1], "cells")), 0);
    json_t *c0 = json_array_get(json_object_get(b[2], "cells"), 0);
    assert_null(json_object_get(c0, "label"));
    assert_null(json_object_get(json_object_get(b[2], "summary"), "blasts"));
    assert_int_equal(json_integer_value(json_object_get(b[4], "white_cells")), 2);
    assert_null(json_object_get(b[4], "blasts"));
    free_blocks(b, n, html);
    bs_image_free(&img);
    bs_image_free(&one);
    free(out);
}

static void test_unwritable_and_abort(void **state) {
    (void)state;
    bs_review_setup s = {NULL, NULL, {1, 0.9}, 1};
    char *missing = bs_path_join(dir, "no/such/folder/page.html");
    bs_review *r = NULL;
    assert_int_equal(bs_review_open(missing, &s, &r), -1);
    assert_null(r);
    assert_non_null(strstr(bs_error_message(), missing));
    char *out = bs_path_join(dir, "aborted.html");
    assert_int_equal(bs_review_open(out, &s, &r), 0);
    bs_review_abort(r);
    assert_false(bs_file_exists(out));
    size_t left = 0; /* no temporary file either */
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "ls -A '%s' | grep -c aborted", dir);
    FILE *ls = popen(cmd, "r");
    assert_int_equal(fscanf(ls, "%zu", &left), 1);
    pclose(ls);
    assert_int_equal(left, 0);
    free(out);
    free(missing);
}

int main(void) {
    VIPS_INIT("test_review");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_page_with_model),
        cmocka_unit_test(test_page_without_model_or_cells),
        cmocka_unit_test(test_unwritable_and_abort),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
