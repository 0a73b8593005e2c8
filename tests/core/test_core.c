#define _GNU_SOURCE
/* test_core.c — .npy, CSV, atomic writes, the RNG, string lists, dense ids, union–find and
 * the finiteness check. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/csv.h"
#include "core/error.h"
#include "core/finite.h"
#include "core/io.h"
#include "core/npy.h"
#include "core/rng.h"
#include "core/stats.h"
#include "core/strings.h"
#include "core/unionfind.h"
#include "test_support.h"

static void npy_round_trip(void **state) {
    (void)state;
    char *dir = bs_test_tmpdir();
    char *path = bs_path_join(dir, "a.npy");
    int64_t shapes[3][3] = {{7, 0, 0}, {3, 5, 0}, {2, 3, 4}};
    for (int nd = 1; nd <= 3; nd++) {
        bs_array a, b;
        assert_int_equal(bs_array_alloc(&a, nd, shapes[nd - 1]), 0);
        for (int64_t i = 0; i < bs_array_count(&a); i++) a.data[i] = (float)i * 0.37f - 3.0f;
        a.data[0] = -0.0f;
        assert_int_equal(bs_npy_write(path, &a), 0);
        assert_int_equal(bs_npy_read(path, &b), 0);
        assert_int_equal(b.ndim, nd);
        for (int d = 0; d < nd; d++) assert_int_equal(b.shape[d], a.shape[d]);
        assert_memory_equal(a.data, b.data, sizeof(float) * (size_t)bs_array_count(&a));
        /* The data starts on a 64-byte boundary as numpy >= 1.x writes it. */
        struct stat st;
        assert_int_equal(stat(path, &st), 0);
        assert_int_equal(((size_t)st.st_size - sizeof(float) * (size_t)bs_array_count(&a)) % 64, 0);
        bs_array_free(&a);
        bs_array_free(&b);
    }
    bs_test_rmtree(dir);
    free(path);
    free(dir);
}

/* Build a .npy image with a given header dict and payload. */
static size_t make_npy(unsigned char *buf, int major, const char *dict, const void *data,
                       size_t dlen) {
    size_t pre = major == 1 ? 10 : 12, hl = strlen(dict);
    memcpy(buf, "\x93NUMPY", 6);
    buf[6] = (unsigned char)major;
    buf[7] = 0;
    if (major == 1) {
        buf[8] = (unsigned char)hl;
        buf[9] = (unsigned char)(hl >> 8);
    } else {
        for (int i = 0; i < 4; i++) buf[8 + i] = (unsigned char)(hl >> (8 * i));
    }
    memcpy(buf + pre, dict, hl);
    memcpy(buf + pre + hl, data, dlen);
    return pre + hl + dlen;
}

static void npy_versions_and_dtypes(void **state) {
    (void)state;
    unsigned char buf[512];
    bs_array a;
    float f[2] = {1.5f, -2.0f};
    size_t n = make_npy(buf, 2, "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }\n", f,
                        sizeof f);
    assert_int_equal(bs_npy_parse(buf, n, "v2", &a), 0);
    assert_true(a.data[0] == 1.5f && a.data[1] == -2.0f);
    bs_array_free(&a);
    double d[2] = {0.25, 1e10};
    n = make_npy(buf, 1, "{'shape': (1, 2), 'fortran_order': False, 'descr': '<f8'}", d, sizeof d);
    assert_int_equal(bs_npy_parse(buf, n, "f8", &a), 0);
    assert_int_equal(a.ndim, 2);
    assert_true(a.data[0] == 0.25f && a.data[1] == 1e10f);
    bs_array_free(&a);
    unsigned char be[4] = {0x3f, 0xc0, 0, 0}; /* 1.5 big-endian */
    n = make_npy(buf, 1, "{'descr': '>f4', 'fortran_order': False, 'shape': (1,)}", be, 4);
    assert_int_equal(bs_npy_parse(buf, n, "be", &a), 0);
    assert_true(a.data[0] == 1.5f);
    bs_array_free(&a);
}

static void npy_rejects_bad_headers(void **state) {
    (void)state;
    static const struct {
        const char *dict;
        size_t payload;
        const char *expect;
    } cases[] = {
        {"{'descr': '<i4', 'fortran_order': False, 'shape': (2,)}", 8, "dtype"},
        {"{'descr': '<f4', 'fortran_order': True, 'shape': (2,)}", 8, "Fortran"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (3,)}", 8, "data is 8 bytes"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (1,)}", 8, "data is 8 bytes"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (-2,)}", 8, "shape"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999, 99999999999)}", 8,
         "too large"},
        {"{'descr': '<f4', 'fortran_order': False}", 8, "lacks"},
        {"{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (2,)}", 8, "repeated"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (2,), 'extra': 1}", 8, "unexpected"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (2,)} junk", 8, "trailing"},
        {"['descr']", 8, "not a dict"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (1,2,3,4,5,6,7,8,9)}", 8, "shape"},
    };
    unsigned char buf[512], zeros[16] = {0};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        bs_array a;
        size_t n = make_npy(buf, 1, cases[i].dict, zeros, cases[i].payload);
        bs_error_clear();
        assert_int_equal(bs_npy_parse(buf, n, "bad.npy", &a), -1);
        assert_non_null(strstr(bs_error_message(), "bad.npy"));
        if (!strstr(bs_error_message(), cases[i].expect))
            fail_msg("case %zu: '%s'", i, bs_error_message());
        assert_null(a.data);
    }
    bs_array a;
    assert_int_equal(bs_npy_parse((const unsigned char *)"\x93NUMPX\x01\x00\x00\x00", 10, "m", &a),
                     -1);
    assert_int_equal(bs_npy_parse((const unsigned char *)"\x93NUMPY\x01\x00\xff\x00{", 11, "t", &a),
                     -1);
    assert_non_null(strstr(bs_error_message(), "truncated"));
    assert_int_equal(bs_npy_parse((const unsigned char *)"\x93NUMPY\x04\x00\x00\x00", 10, "v", &a),
                     -1);
    assert_non_null(strstr(bs_error_message(), "version"));
    /* Every truncation of a valid file is refused, none crashes. */
    float f[3] = {1, 2, 3};
    size_t n =
        make_npy(buf, 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }", f, sizeof f);
    for (size_t cut = 0; cut < n; cut++) {
        assert_int_equal(bs_npy_parse(buf, cut, "cut", &a), -1);
    }
}

static void npy_streaming_writer(void **state) {
    (void)state;
    char *dir = bs_test_tmpdir();
    char *path = bs_path_join(dir, "s.npy");
    int64_t shape[2] = {3, 2};
    bs_npy_writer *w = bs_npy_writer_open(path, 2, shape);
    assert_non_null(w);
    float row[2] = {1, 2};
    assert_int_equal(bs_npy_writer_append(w, row, 2), 0);
    assert_false(bs_file_exists(path)); /* nothing in place before close */
    assert_int_equal(bs_npy_writer_append(w, row, 2), 0);
    assert_int_equal(bs_npy_writer_close(w), -1); /* one row short: refused, nothing written */
    assert_false(bs_file_exists(path));
    w = bs_npy_writer_open(path, 2, shape);
    for (int i = 0; i < 3; i++) assert_int_equal(bs_npy_writer_append(w, row, 2), 0);
    assert_int_equal(bs_npy_writer_append(w, row, 2), -1); /* overflow refused */
    assert_int_equal(bs_npy_writer_close(w), 0);
    bs_array a;
    assert_int_equal(bs_npy_read(path, &a), 0);
    assert_int_equal(a.shape[0], 3);
    bs_array_free(&a);
    bs_test_rmtree(dir);
    free(path);
    free(dir);
}

static void atomic_write_keeps_old_file_on_abort(void **state) {
    (void)state;
    char *dir = bs_test_tmpdir();
    char *path = bs_path_join(dir, "out.txt");
    assert_int_equal(bs_write_file_atomic(path, "old", 3), 0);
    bs_atomic_file af;
    assert_int_equal(bs_atomic_open(&af, path), 0);
    fputs("new, half-written", af.fp);
    bs_atomic_abort(&af);
    unsigned char *data;
    size_t len;
    assert_int_equal(bs_read_file(path, 100, &data, &len), 0);
    assert_int_equal(len, 3);
    assert_memory_equal(data, "old", 3);
    free(data);
    /* No temp file left behind. */
    char *cmd = bs_strfmt("test $(ls -A '%s' | wc -l) -eq 1", dir);
    assert_int_equal(system(cmd), 0);
    free(cmd);
    /* An unwritable destination is an error that names it. */
    char *bad = bs_path_join(dir, "no/such/dir/x");
    assert_int_equal(bs_write_file_atomic(bad, "x", 1), -1);
    assert_non_null(strstr(bs_error_message(), bad));
    free(bad);
    bs_test_rmtree(dir);
    free(path);
    free(dir);
}

static void csv_parse_and_quote(void **state) {
    (void)state;
    const char *text =
        "\xEF\xBB\xBFpath,label,class\r\n\"a,b.jpg\",1,\"say \"\"hi\"\"\"\n\nc.jpg,0,\n";
    bs_csv csv;
    assert_int_equal(bs_csv_parse(text, strlen(text), "t.csv", &csv), 0);
    assert_int_equal(csv.ncols, 3);
    assert_int_equal(csv.nrows, 2);
    assert_string_equal(csv.header[0], "path");
    assert_string_equal(csv.rows[0][0], "a,b.jpg");
    assert_string_equal(csv.rows[0][2], "say \"hi\"");
    assert_string_equal(csv.rows[1][2], "");
    assert_int_equal(bs_csv_column(&csv, "class"), 2);
    assert_int_equal(bs_csv_column(&csv, "group"), -1);
    /* Round trip through the writer. */
    char *buf = NULL;
    size_t blen = 0;
    FILE *fp = open_memstream(&buf, &blen);
    bs_csv_put_row(fp, (const char *const *)csv.header, csv.ncols);
    for (size_t r = 0; r < csv.nrows; r++)
        bs_csv_put_row(fp, (const char *const *)csv.rows[r], csv.ncols);
    fclose(fp);
    bs_csv again;
    assert_int_equal(bs_csv_parse(buf, blen, "again", &again), 0);
    assert_int_equal(again.nrows, 2);
    for (size_t r = 0; r < 2; r++)
        for (size_t c = 0; c < 3; c++) assert_string_equal(again.rows[r][c], csv.rows[r][c]);
    bs_csv_free(&again);
    bs_csv_free(&csv);
    free(buf);
    static const char *const bad[] = {"a,b\n1\n", "a\n\"x\n", "a\n\"x\"y\n", "a\nx\"y\n", ""};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(bs_csv_parse(bad[i], strlen(bad[i]), "bad.csv", &csv), -1);
        assert_non_null(strstr(bs_error_message(), "bad.csv"));
    }
}

static void rng_is_seeded_and_uniform(void **state) {
    (void)state;
    bs_rng a, b;
    bs_rng_seed(&a, 42);
    bs_rng_seed(&b, 42);
    for (int i = 0; i < 100; i++) assert_true(bs_rng_next(&a) == bs_rng_next(&b));
    bs_rng_seed(&b, 43);
    assert_true(bs_rng_next(&a) != bs_rng_next(&b));
    double sum = 0;
    int counts[10] = {0};
    for (int i = 0; i < 100000; i++) {
        double u = bs_rng_uniform(&a);
        assert_true(u >= 0 && u < 1);
        sum += u;
        counts[bs_rng_below(&a, 10)]++;
    }
    assert_true(fabs(sum / 100000 - 0.5) < 0.01);
    for (int k = 0; k < 10; k++) assert_true(abs(counts[k] - 10000) < 500);
    size_t idx[50], seen[50] = {0};
    for (size_t i = 0; i < 50; i++) idx[i] = i;
    bs_rng_shuffle(&a, idx, 50);
    for (size_t i = 0; i < 50; i++) seen[idx[i]]++;
    for (size_t i = 0; i < 50; i++) assert_int_equal(seen[i], 1);
}

static void split_list_trims_and_drops_empty(void **state) {
    (void)state;
    char **items;
    size_t n;
    assert_int_equal(bs_split_list(" Early, Pre ,,Pro,", &items, &n), 0);
    assert_int_equal(n, 3);
    assert_string_equal(items[0], "Early");
    assert_string_equal(items[1], "Pre");
    assert_string_equal(items[2], "Pro");
    bs_free_list(items, n);
    assert_int_equal(bs_split_list(" , ", &items, &n), 0);
    assert_int_equal(n, 0);
    bs_free_list(items, n);
}

static void dense_ids_follow_string_order(void **state) {
    (void)state;
    const char *keys[] = {"pro", "benign", NULL, "pro", "early", "benign"};
    int64_t ids[6];
    assert_int_equal(bs_dense_ids(keys, 6, ids), 3);
    int64_t want[] = {2, 0, -1, 2, 1, 0};
    for (int i = 0; i < 6; i++) assert_int_equal(ids[i], want[i]);
}

static void union_find_roots_are_smallest_items(void **state) {
    (void)state;
    int64_t parent[7];
    bs_uf_init(parent, 7);
    assert_int_equal(bs_uf_union(parent, 5, 3), 1);
    assert_int_equal(bs_uf_union(parent, 6, 5), 1);
    assert_int_equal(bs_uf_union(parent, 3, 6), 0); /* already joined */
    assert_int_equal(bs_uf_union(parent, 4, 1), 1);
    int64_t want[] = {0, 1, 2, 3, 1, 3, 3};
    for (int i = 0; i < 7; i++) assert_int_equal(bs_uf_find(parent, i), want[i]);
}

static void check_finite_names_first_bad_value(void **state) {
    (void)state;
    float x[6] = {0, 1, 2, 3, 4, 5};
    int64_t rows[] = {2, 0};
    assert_int_equal(bs_check_finite(x, 2, rows, 2), 0);
    x[5] = INFINITY;
    x[3] = NAN;
    assert_int_equal(bs_check_finite(x, 2, NULL, 3), -1);
    assert_non_null(strstr(bs_error_message(), "NaN value at row 1, column 1"));
    assert_int_equal(bs_check_finite(x, 2, rows, 2), -1);
    assert_non_null(strstr(bs_error_message(), "infinite value at row 2, column 1"));
    assert_int_equal(bs_check_finite(x, 2, rows + 1, 1), 0);
}

/* NumPy's default quantile (linear interpolation) and MATLAB's median, by hand:
 * np.quantile([1, 2, 4, 8], [0, .25, .5, .9, 1]) = 1, 1.75, 3, 6.8, 8. */
static void quantiles_and_median_by_hand(void **state) {
    (void)state;
    double v[4] = {8, 1, 4, 2};
    qsort(v, 4, sizeof *v, bs_cmp_double);
    assert_true(v[0] == 1 && v[1] == 2 && v[2] == 4 && v[3] == 8);
    const double q[5] = {0, 0.25, 0.5, 0.9, 1}, want[5] = {1, 1.75, 3, 6.8, 8};
    for (int i = 0; i < 5; i++) assert_true(fabs(bs_quantile_sorted(v, 4, q[i]) - want[i]) < 1e-12);
    assert_true(bs_quantile_sorted(v, 1, 0.7) == 1);
    double even[4] = {8, 1, 4, 2}, odd[5] = {5, -1, 3, 9, 0};
    assert_true(bs_median(even, 4) == 3);
    assert_true(bs_median(odd, 5) == 3);
    assert_true(odd[0] == -1 && odd[4] == 9); /* sorted in place */
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(npy_round_trip),
        cmocka_unit_test(npy_versions_and_dtypes),
        cmocka_unit_test(npy_rejects_bad_headers),
        cmocka_unit_test(npy_streaming_writer),
        cmocka_unit_test(atomic_write_keeps_old_file_on_abort),
        cmocka_unit_test(csv_parse_and_quote),
        cmocka_unit_test(rng_is_seeded_and_uniform),
        cmocka_unit_test(split_list_trims_and_drops_empty),
        cmocka_unit_test(dense_ids_follow_string_order),
        cmocka_unit_test(union_find_roots_are_smallest_items),
        cmocka_unit_test(check_finite_names_first_bad_value),
        cmocka_unit_test(quantiles_and_median_by_hand),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
