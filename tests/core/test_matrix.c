/* test_matrix.c — the matrix view (core/matrix.h): which shapes are well formed, rows at
 * data + r·cols, allocation (zeros; overflow refused), gathering rows in the order asked, and
 * the asserts that refuse a row outside the view or a gather into the wrong width. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/matrix.h"
#include "test_support.h"

static void well_formed_shapes(void **state) {
    (void)state;
    float v[6] = {0};
    assert_true(bs_matrix_ok(bs_matrix_of(v, 2, 3)));
    assert_true(bs_matrix_ok(bs_matrix_of(NULL, 0, 3))); /* empty: no data needed */
    assert_true(bs_matrix_ok(bs_matrix_of(NULL, 4, 0)));
    assert_false(bs_matrix_ok(bs_matrix_of(NULL, 2, 3)));
    assert_false(bs_matrix_ok(bs_matrix_of(v, -1, 3)));
    assert_false(bs_matrix_ok(bs_matrix_of(v, 2, -3)));
    assert_false(bs_matrix_ok(bs_matrix_of(v, INT64_MAX / 2, 3))); /* rows·cols overflows */
    assert_false(bs_matrix_ok(bs_matrix_of(v, (int64_t)1 << 40, (int64_t)1 << 40)));
}

static void rows_are_cols_apart(void **state) {
    (void)state;
    float v[12];
    for (int i = 0; i < 12; i++) v[i] = (float)i;
    bs_matrix_mut m = bs_matrix_mut_of(v, 4, 3);
    bs_matrix c = bs_matrix_view(m);
    assert_ptr_equal(c.data, v);
    assert_int_equal(c.rows, 4);
    assert_int_equal(c.cols, 3);
    assert_ptr_equal(bs_matrix_row(c, 2), v + 6);
    assert_true(bs_matrix_row(c, 3)[2] == 11.0f);
    bs_matrix_mut_row(m, 1)[0] = -1;
    assert_true(v[3] == -1.0f);
}

static void alloc_gives_zeros_or_an_error(void **state) {
    (void)state;
    bs_matrix_mut m;
    assert_int_equal(bs_matrix_alloc(5, 7, &m), 0);
    assert_non_null(m.data);
    assert_int_equal(m.rows, 5);
    assert_int_equal(m.cols, 7);
    for (int i = 0; i < 35; i++) assert_true(m.data[i] == 0.0f);
    free(m.data);
    assert_int_equal(bs_matrix_alloc(0, 7, &m), 0); /* empty, but free()-able */
    assert_int_equal(m.rows, 0);
    free(m.data);
    bs_error_clear();
    assert_int_equal(bs_matrix_alloc(INT64_MAX / 2, 3, &m), -1);
    assert_null(m.data);
    assert_int_equal(m.rows, 0);
    assert_non_null(strstr(bs_error_message(), "cannot be allocated"));
    assert_int_equal(bs_matrix_alloc(-1, 3, &m), -1);
}

static void gather_copies_the_rows_asked_for(void **state) {
    (void)state;
    float v[12], out[9];
    for (int i = 0; i < 12; i++) v[i] = (float)i;
    const int64_t rows[3] = {3, 0, 3};
    bs_matrix_gather(bs_matrix_of(v, 4, 3), rows, bs_matrix_mut_of(out, 3, 3));
    const float want[9] = {9, 10, 11, 0, 1, 2, 9, 10, 11};
    assert_memory_equal(out, want, sizeof want);
}

static void row_outside(void *arg) { (void)bs_matrix_row(*(bs_matrix *)arg, 4); }

static void gather_into_another_width(void *arg) {
    float out[8];
    const int64_t rows[2] = {0, 1};
    bs_matrix_gather(*(bs_matrix *)arg, rows, bs_matrix_mut_of(out, 2, 4));
}

static void gather_a_malformed_view(void *arg) {
    (void)arg;
    float out[3];
    const int64_t rows[1] = {0};
    bs_matrix_gather(bs_matrix_of(NULL, 2, 3), rows, bs_matrix_mut_of(out, 1, 3));
}

static void bad_calls_are_asserted(void **state) {
    (void)state;
    BS_SKIP_WITHOUT_ASSERTS();
    float v[12] = {0};
    bs_matrix m = bs_matrix_of(v, 4, 3);
    assert_true(bs_test_aborts(row_outside, &m));
    assert_true(bs_test_aborts(gather_into_another_width, &m));
    assert_true(bs_test_aborts(gather_a_malformed_view, NULL));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(well_formed_shapes),
        cmocka_unit_test(rows_are_cols_apart),
        cmocka_unit_test(alloc_gives_zeros_or_an_error),
        cmocka_unit_test(gather_copies_the_rows_asked_for),
        cmocka_unit_test(bad_calls_are_asserted),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
