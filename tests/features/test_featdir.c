/* test_featdir.c — feature folder round trip and validation. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/io.h"
#include "core/npy.h"
#include "features/featdir.h"
#include "test_support.h"

static void index_round_trip(void **state) {
    (void)state;
    char *dir = bs_test_tmpdir();
    char *fd = bs_path_join(dir, "feat/sub");
    bs_feature_row rows[3] = {
        {0, "data/a,b.jpg", 1, "Pre", "g1", BS_VIEW_ORIGINAL, 0},
        {1, "data/a,b.jpg", 1, "Pre", "g1", BS_VIEW_HMIRROR, 0},
        {2, "data/\"q\".png", 0, "Benign", "data/\"q\".png", BS_VIEW_VMIRROR, 3},
    };
    /* Without names the ids are written; they read back as names "0" and "3", ids 0 and 1. */
    bs_feature_index idx = {.n = 3, .rows = rows};
    assert_int_equal(bs_featdir_write_index(fd, &idx), 0);
    bs_feature_index back;
    if (bs_featdir_read_index(fd, &back)) fail_msg("%s", bs_error_message());
    assert_int_equal(back.n, 3);
    for (size_t i = 0; i < 3; i++) {
        assert_int_equal(back.rows[i].id, rows[i].id);
        assert_string_equal(back.rows[i].path, rows[i].path);
        assert_int_equal(back.rows[i].label, rows[i].label);
        assert_string_equal(back.rows[i].class_name, rows[i].class_name);
        assert_string_equal(back.rows[i].group, rows[i].group);
        assert_int_equal(back.rows[i].view, rows[i].view);
        assert_int_equal(back.rows[i].source, i == 2);
    }
    assert_int_equal(back.nsources, 2);
    assert_string_equal(back.source_names[0], "0");
    assert_string_equal(back.source_names[1], "3");
    bs_feature_index_free(&back);
    /* With names: the names are written (quoted where needed) and come back in order of first
     * appearance; an id outside the names is refused. */
    char *source_names[4] = {"BCCD", "Raabin-WBC", "x", "aria, 2021"};
    idx.source_names = source_names;
    idx.nsources = 4;
    assert_int_equal(bs_featdir_write_index(fd, &idx), 0);
    if (bs_featdir_read_index(fd, &back)) fail_msg("%s", bs_error_message());
    assert_int_equal(back.nsources, 2);
    assert_string_equal(back.source_names[0], "BCCD");
    assert_string_equal(back.source_names[1], "aria, 2021");
    assert_int_equal(back.rows[2].source, 1);
    bs_feature_index_free(&back);
    idx.nsources = 3;
    assert_int_equal(bs_featdir_write_index(fd, &idx), -1);
    assert_non_null(strstr(bs_error_message(), "source 3"));

    /* Feature sets: listed by name, shape and values checked against the index. */
    bs_array a;
    int64_t shape[2] = {3, 4};
    assert_int_equal(bs_array_alloc(&a, 2, shape), 0);
    for (int i = 0; i < 12; i++) a.data[i] = (float)i;
    char *p = bs_featdir_set_path(fd, "googlenet");
    assert_int_equal(bs_npy_write(p, &a), 0);
    free(p);
    p = bs_featdir_set_path(fd, "inception");
    a.data[5] = NAN;
    assert_int_equal(bs_npy_write(p, &a), 0);
    free(p);
    char **names;
    size_t n;
    assert_int_equal(bs_featdir_list_sets(fd, &names, &n), 0);
    assert_int_equal(n, 2);
    assert_string_equal(names[0], "googlenet");
    assert_string_equal(names[1], "inception");
    for (size_t i = 0; i < n; i++) free(names[i]);
    free(names);
    bs_array g;
    assert_int_equal(bs_featdir_read_set(fd, "googlenet", 3, &g), 0);
    assert_true(g.data[11] == 11.0f);
    bs_array_free(&g);
    assert_int_equal(bs_featdir_read_set(fd, "googlenet", 4, &g), -1);
    assert_non_null(strstr(bs_error_message(), "googlenet.npy"));
    assert_int_equal(bs_featdir_read_set(fd, "inception", 3, &g), -1);
    assert_non_null(strstr(bs_error_message(), "NaN value at row 1, column 1"));
    bs_array_free(&a);
    bs_test_rmtree(dir);
    free(fd);
    free(dir);
}

static void index_validation(void **state) {
    (void)state;
    static const char *const bad[] = {
        "id,path,label,class,group\n0,a,1,c,g\n",               /* missing view */
        "id,path,label,class,group,view\n1,a,1,c,g,original\n", /* id out of order */
        "id,path,label,class,group,view\n0,a,2,c,g,original\n", /* bad label */
        "id,path,label,class,group,view\n0,a,1,c,g,sideways\n", /* bad view */
        "id,path,label,class,group,view\n0,a,1,c,g,h\n",        /* abbreviations not allowed */
        "id,path,label,class,group,view\n",                     /* empty */
        "id,path,label,class,group,view,source\n0,a,1,c,g,original,\n", /* empty source */
    };
    char *dir = bs_test_tmpdir();
    char *p = bs_path_join(dir, "index.csv");
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        bs_test_write(p, bad[i], strlen(bad[i]));
        bs_feature_index idx;
        assert_int_equal(bs_featdir_read_index(dir, &idx), -1);
        assert_non_null(strstr(bs_error_message(), "index.csv"));
    }
    bs_test_rmtree(dir);
    free(p);
    free(dir);
}

/* near_duplicates.csv: one row per pair, paths quoted when needed, joined 0/1; a pair naming
 * a sample that does not exist is refused and leaves no file. */
static void near_duplicates_csv(void **state) {
    (void)state;
    char *dir = bs_test_tmpdir();
    bs_sample s[3] = {{.path = "a/x.png"}, {.path = "a/y,1.png"}, {.path = "b/z.png"}};
    bs_dataset_pair pairs[2] = {{0, 1, 0.91234, 1}, {1, 2, 0.5, 0}};
    bs_dataset ds = {.n = 3, .samples = s, .pairs = pairs, .npairs = 2};
    assert_int_equal(bs_featdir_write_near_duplicates(dir, &ds), 0);
    char *path = bs_path_join(dir, "near_duplicates.csv");
    unsigned char *text;
    size_t len;
    assert_int_equal(bs_read_file(path, 1 << 20, &text, &len), 0);
    assert_string_equal((char *)text, "path_a,path_b,score,joined\n"
                                      "a/x.png,\"a/y,1.png\",0.9123,1\n"
                                      "\"a/y,1.png\",b/z.png,0.5000,0\n");
    free(text);
    bs_dataset none = {.n = 3, .samples = s};
    assert_int_equal(bs_featdir_write_near_duplicates(dir, &none), 0);
    assert_int_equal(bs_read_file(path, 1 << 20, &text, &len), 0);
    assert_string_equal((char *)text, "path_a,path_b,score,joined\n");
    free(text);
    pairs[1].b = 3;
    remove(path);
    assert_int_equal(bs_featdir_write_near_duplicates(dir, &ds), -1);
    assert_false(bs_file_exists(path));
    free(path);
    bs_test_rmtree(dir);
    free(dir);
}

/* An index.csv written before the `source` column existed still loads: one source, "0". */
static void index_without_source(void **state) {
    (void)state;
    static const char old[] = "id,path,label,class,group,view\n0,a.jpg,1,ALL,a.jpg,original\n"
                              "1,a.jpg,1,ALL,a.jpg,hmirror\n";
    bs_feature_index idx;
    if (bs_featdir_parse_index(old, sizeof old - 1, "old/index.csv", &idx))
        fail_msg("%s", bs_error_message());
    assert_int_equal(idx.n, 2);
    assert_int_equal(idx.rows[0].source, 0);
    assert_int_equal(idx.rows[1].source, 0);
    assert_int_equal(idx.nsources, 1);
    assert_string_equal(idx.source_names[0], "0");
    assert_int_equal(idx.rows[1].view, BS_VIEW_HMIRROR);
    bs_feature_index_free(&idx);
}

/* Stain-transfer index: round trip by source names; rows that are not original rows of the
 * main index, unknown targets, ids out of order or missing columns are refused with the line. */
static void transfer_index(void **state) {
    (void)state;
    char *dir = bs_test_tmpdir();
    char *td = bs_path_join(dir, "feat/" BS_FEATDIR_TRANSFER), *csv = bs_path_join(td, "index.csv");
    bs_feature_row rows[3] = {
        {0, "a.jpg", 1, "Pre", "g1", BS_VIEW_ORIGINAL, 0},
        {1, "a.jpg", 1, "Pre", "g1", BS_VIEW_HMIRROR, 0},
        {2, "b.png", 0, "Benign", "b.png", BS_VIEW_ORIGINAL, 1},
    };
    char *names[2] = {"aria", "BCCD, x"};
    bs_feature_index idx = {.n = 3, .rows = rows, .source_names = names, .nsources = 2};
    int64_t trow[2] = {0, 2};
    int ttarget[2] = {1, 0};
    bs_transfer_index t = {2, trow, ttarget}, back;
    assert_int_equal(bs_featdir_write_transfer_index(td, &t, &idx), 0);
    if (bs_featdir_read_transfer_index(td, &idx, &back)) fail_msg("%s", bs_error_message());
    assert_int_equal(back.n, 2);
    for (size_t i = 0; i < 2; i++) {
        assert_int_equal(back.row[i], trow[i]);
        assert_int_equal(back.target[i], ttarget[i]);
    }
    bs_transfer_index_free(&back);
    static const struct {
        const char *text, *says;
    } bad[] = {
        {"id,row\n0,0\n", "id,row,target"},
        {"id,row,target\n1,0,aria\n", "should be 0"},
        {"id,row,target\n0,1,aria\n", "not an original row"},
        {"id,row,target\n0,3,aria\n", "not an original row"},
        {"id,row,target\n0,-1,aria\n", "not an original row"},
        {"id,row,target\n0,0x,aria\n", "not an original row"},
        {"id,row,target\n0,0,nowhere\n", "not a source"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        assert_int_equal(bs_write_file_atomic(csv, bad[i].text, strlen(bad[i].text)), 0);
        assert_int_equal(bs_featdir_read_transfer_index(td, &idx, &back), -1);
        if (!strstr(bs_error_message(), bad[i].says))
            fail_msg("case %zu: '%s' lacks '%s'", i, bs_error_message(), bad[i].says);
        assert_null(back.row);
    }
    free(csv);
    free(td);
    bs_test_rmtree(dir);
    free(dir);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(index_round_trip), cmocka_unit_test(index_validation),
        cmocka_unit_test(near_duplicates_csv), cmocka_unit_test(index_without_source),
        cmocka_unit_test(transfer_index)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
