#define _GNU_SOURCE
/* test_json.c — the JSON writer (core/json.h): escaping, the three layouts with their commas,
 * breaks and indents, number and integer formats (non-finite as null), one record per line, and
 * a seeded random document read back by jansson value for value. */
#include <float.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"
#include "core/rng.h"
#include "test_support.h"

/* A writer into memory: open, write with it, then text() closes and hands over the bytes. */
typedef struct {
    char *buf;
    size_t len;
    FILE *fp;
    bs_json_writer w;
} sink;

static bs_json_writer *open_sink(sink *s) {
    s->buf = NULL, s->len = 0;
    s->fp = open_memstream(&s->buf, &s->len);
    assert_non_null(s->fp);
    bs_json_writer_init(&s->w, s->fp);
    return &s->w;
}

static char *text(sink *s) {
    fclose(s->fp);
    return s->buf;
}

static json_t *parse(const char *doc) {
    json_error_t err;
    json_t *root = json_loads(doc, 0, &err);
    if (!root) fail_msg("jansson: %s at line %d: %s", err.text, err.line, doc);
    return root;
}

static void strings_are_escaped(void **state) {
    (void)state;
    /* quote, backslash, the named and the other control characters; DEL, '/' and UTF-8 (é, 中,
     * an emoji) as they are */
    const char *in = "q\"b\\s/\n\r\t\x01\x1f\x7f \xc3\xa9\xe4\xb8\xad\xf0\x9f\xa9\xb8";
    sink s;
    bs_json_writer *w = open_sink(&s);
    bs_json_begin_object(w, NULL, BS_JSON_INLINE);
    bs_json_put_string(w, "k\"ey", in);
    bs_json_end(w);
    char *doc = text(&s);
    assert_string_equal(doc, "{\"k\\\"ey\": \"q\\\"b\\\\s/\\n\\r\\t\\u0001\\u001f\x7f "
                             "\xc3\xa9\xe4\xb8\xad\xf0\x9f\xa9\xb8\"}");
    json_t *root = parse(doc);
    assert_string_equal(json_string_value(json_object_get(root, "k\"ey")), in);
    json_decref(root);
    free(doc);
}

/* The layouts of results.json: LINES indents two spaces per LINES container around a value,
 * INLINE and COMPACT add none; empty containers stay on their line. */
static void layouts_place_commas_breaks_and_indents(void **state) {
    (void)state;
    sink s;
    bs_json_writer *w = open_sink(&s);
    bs_json_begin_object(w, NULL, BS_JSON_LINES);
    bs_json_put_string(w, "name", "x");
    bs_json_begin_array(w, "classes", BS_JSON_INLINE);
    bs_json_put_string(w, NULL, "a");
    bs_json_put_string(w, NULL, "b");
    bs_json_end(w);
    bs_json_begin_object(w, "m", BS_JSON_COMPACT);
    bs_json_put_int(w, "tp", 1);
    bs_json_put_number(w, "sn", 0.5);
    bs_json_begin_array(w, "undefined", BS_JSON_COMPACT);
    bs_json_end(w);
    bs_json_end(w);
    bs_json_begin_array(w, "per_fold", BS_JSON_LINES);
    bs_json_begin_object(w, NULL, BS_JSON_COMPACT);
    bs_json_put_null(w, "v");
    bs_json_end(w);
    bs_json_begin_object(w, NULL, BS_JSON_LINES);
    bs_json_put_bool(w, "b", 1);
    bs_json_put_bool(w, "c", 0);
    bs_json_end(w);
    bs_json_end(w);
    bs_json_begin_array(w, "empty", BS_JSON_LINES);
    bs_json_end(w);
    bs_json_begin_object(w, "group", BS_JSON_INLINE);
    bs_json_put_int(w, "count", 2);
    bs_json_begin_array(w, "experiments", BS_JSON_LINES);
    bs_json_begin_object(w, NULL, BS_JSON_INLINE);
    bs_json_put_string(w, "name", "e");
    bs_json_put_number(w, "ac", 0.25);
    bs_json_end(w);
    bs_json_end(w);
    bs_json_end(w);
    bs_json_end(w);
    bs_json_finish(w);
    char *doc = text(&s);
    assert_string_equal(doc, "{\n"
                             "  \"name\": \"x\",\n"
                             "  \"classes\": [\"a\", \"b\"],\n"
                             "  \"m\": {\"tp\":1,\"sn\":0.5,\"undefined\":[]},\n"
                             "  \"per_fold\": [\n"
                             "    {\"v\":null},\n"
                             "    {\n"
                             "      \"b\": true,\n"
                             "      \"c\": false\n"
                             "    }\n"
                             "  ],\n"
                             "  \"empty\": [],\n"
                             "  \"group\": {\"count\": 2, \"experiments\": [\n"
                             "    {\"name\": \"e\", \"ac\": 0.25}\n"
                             "  ]}\n"
                             "}\n");
    json_t *root = parse(doc);
    assert_int_equal(json_array_size(json_object_get(root, "per_fold")), 2);
    assert_true(
        json_is_true(json_object_get(json_array_get(json_object_get(root, "per_fold"), 1), "b")));
    json_decref(root);
    free(doc);
}

static void numbers_are_shortest_and_non_finite_is_null(void **state) {
    (void)state;
    const struct {
        double v;
        const char *text;
    } cases[] = {
        {0.1, "0.1"},
        {1.0 / 3, "0.3333333333333333"},
        {0.1 + 0.2, "0.30000000000000004"},
        {2.5, "2.5"},
        {100, "100"},
        {1e6, "1e+06"},
        {1234567, "1234567"},
        {-0.0, "-0"},
        {5e-324, "4.94066e-324"},
        {DBL_MAX, "1.7976931348623157e+308"},
        {NAN, "null"},
        {INFINITY, "null"},
        {-INFINITY, "null"},
    };
    size_t n = sizeof cases / sizeof cases[0];
    sink s;
    bs_json_writer *w = open_sink(&s);
    bs_json_begin_array(w, NULL, BS_JSON_COMPACT);
    for (size_t i = 0; i < n; i++) bs_json_put_number(w, NULL, cases[i].v);
    bs_json_put_int(w, NULL, INT64_MIN);
    bs_json_put_int(w, NULL, INT64_MAX);
    bs_json_end(w);
    char *doc = text(&s);
    char want[512] = "[";
    for (size_t i = 0; i < n; i++) strcat(strcat(want, cases[i].text), ",");
    strcat(want, "-9223372036854775808,9223372036854775807]");
    assert_string_equal(doc, want);
    json_t *root = parse(doc); /* jansson reads every double back exactly */
    for (size_t i = 0; i < n; i++) {
        json_t *v = json_array_get(root, i);
        if (isfinite(cases[i].v))
            assert_true(json_number_value(v) == cases[i].v);
        else
            assert_true(json_is_null(v));
    }
    assert_true(json_integer_value(json_array_get(root, n)) == INT64_MIN);
    assert_true(json_integer_value(json_array_get(root, n + 1)) == INT64_MAX);
    json_decref(root);
    free(doc);
    /* above INT64_MAX (a seed): jansson has no such integer, so only the text is checked */
    w = open_sink(&s);
    bs_json_put_uint(w, NULL, UINT64_MAX);
    doc = text(&s);
    assert_string_equal(doc, "18446744073709551615");
    free(doc);
}

/* JSON Lines: finish ends a record with a newline and readies the writer for the next. */
static void finish_ends_one_record_a_line(void **state) {
    (void)state;
    sink s;
    bs_json_writer *w = open_sink(&s);
    for (int i = 0; i < 2; i++) {
        bs_json_begin_object(w, NULL, BS_JSON_INLINE);
        bs_json_put_int(w, "i", i);
        bs_json_put_string(w, "s", "x");
        bs_json_end(w);
        bs_json_finish(w);
    }
    char *doc = text(&s);
    assert_string_equal(doc, "{\"i\": 0, \"s\": \"x\"}\n{\"i\": 1, \"s\": \"x\"}\n");
    free(doc);
}

/* A random string: ASCII 1..127 and valid two-, three- and four-byte UTF-8 sequences. */
static void random_string(bs_rng *r, char *out, size_t cap) {
    size_t n = 0, want = bs_rng_below(r, 24);
    while (n < want && n + 5 < cap) {
        uint64_t kind = bs_rng_below(r, 4);
        if (kind == 0) {
            out[n++] = (char)(1 + bs_rng_below(r, 127));
        } else if (kind == 1) {
            uint32_t c = 0x80 + (uint32_t)bs_rng_below(r, 0x800 - 0x80);
            out[n++] = (char)(0xc0 | c >> 6), out[n++] = (char)(0x80 | (c & 0x3f));
        } else if (kind == 2) {
            uint32_t c = 0x800 + (uint32_t)bs_rng_below(r, 0xd800 - 0x800); /* below surrogates */
            out[n++] = (char)(0xe0 | c >> 12), out[n++] = (char)(0x80 | (c >> 6 & 0x3f));
            out[n++] = (char)(0x80 | (c & 0x3f));
        } else {
            uint32_t c = 0x10000 + (uint32_t)bs_rng_below(r, 0x110000 - 0x10000);
            out[n++] = (char)(0xf0 | c >> 18), out[n++] = (char)(0x80 | (c >> 12 & 0x3f));
            out[n++] = (char)(0x80 | (c >> 6 & 0x3f)), out[n++] = (char)(0x80 | (c & 0x3f));
        }
    }
    out[n] = '\0';
}

/* Any double's bits: subnormals, huge values, NaN and infinities among them. */
static double random_double(bs_rng *r) {
    uint64_t bits = bs_rng_next(r);
    double v;
    memcpy(&v, &bits, sizeof v);
    return v;
}

enum { ROWS = 200 };

/* Row i of the random document: {key: str, "x": x, "i": i} with key "k" + str. */
typedef struct {
    char str[128], key[130];
    double x;
    int64_t i;
} random_row;

static void draw_row(bs_rng *r, random_row *row) {
    random_string(r, row->str, sizeof row->str);
    snprintf(row->key, sizeof row->key, "k%s", row->str); /* keys are escaped like values */
    row->x = random_double(r);
    row->i = (int64_t)bs_rng_next(r);
}

static void random_document_reads_back_in_jansson(void **state) {
    (void)state;
    const uint64_t seed = 20240611;
    random_row *rows = malloc(ROWS * sizeof *rows);
    assert_non_null(rows);
    bs_rng r;
    bs_rng_seed(&r, seed);
    sink s;
    bs_json_writer *w = open_sink(&s);
    bs_json_begin_array(w, NULL, BS_JSON_LINES);
    for (int i = 0; i < ROWS; i++) {
        draw_row(&r, &rows[i]);
        bs_json_begin_object(w, NULL, (bs_json_layout)(i % 3)); /* every layout */
        bs_json_put_string(w, rows[i].key, rows[i].str);
        bs_json_put_number(w, "x", rows[i].x);
        bs_json_put_int(w, "i", rows[i].i);
        bs_json_end(w);
    }
    bs_json_end(w);
    bs_json_finish(w);
    char *doc = text(&s);
    json_t *root = parse(doc);
    assert_int_equal(json_array_size(root), ROWS);
    for (int i = 0; i < ROWS; i++) {
        json_t *row = json_array_get(root, (size_t)i);
        assert_int_equal(json_object_size(row), 3);
        assert_string_equal(json_string_value(json_object_get(row, rows[i].key)), rows[i].str);
        json_t *x = json_object_get(row, "x");
        if (isfinite(rows[i].x))
            assert_true(json_number_value(x) == rows[i].x);
        else
            assert_true(json_is_null(x));
        assert_true(json_integer_value(json_object_get(row, "i")) == rows[i].i);
    }
    json_decref(root);
    free(doc);
    free(rows);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(strings_are_escaped),
        cmocka_unit_test(layouts_place_commas_breaks_and_indents),
        cmocka_unit_test(numbers_are_shortest_and_non_finite_is_null),
        cmocka_unit_test(finish_ends_one_record_a_line),
        cmocka_unit_test(random_document_reads_back_in_jansson),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
