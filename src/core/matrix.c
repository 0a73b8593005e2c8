/* matrix.c — see matrix.h. */
#include "core/matrix.h"

#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/io.h"

/* rows·cols floats can be addressed (and their byte count held in a size_t). */
static int addressable(int64_t rows, int64_t cols) {
    if (rows < 0 || cols < 0) return 0;
    return rows == 0 || cols == 0 || (uint64_t)rows <= SIZE_MAX / sizeof(float) / (uint64_t)cols;
}

int bs_matrix_ok(bs_matrix m) {
    return addressable(m.rows, m.cols) && (m.data != NULL || m.rows == 0 || m.cols == 0);
}

int bs_matrix_alloc(int64_t rows, int64_t cols, bs_matrix_mut *out) {
    *out = (bs_matrix_mut){NULL, 0, 0};
    if (!addressable(rows, cols))
        return bs_error("a matrix of %lld x %lld floats cannot be allocated", (long long)rows,
                        (long long)cols);
    size_t count = (size_t)rows * (size_t)cols;
    float *data = bs_calloc(count ? count : 1, sizeof *data);
    if (!data) return -1;
    *out = (bs_matrix_mut){data, rows, cols};
    return 0;
}

void bs_matrix_gather(bs_matrix x, const int64_t *rows, bs_matrix_mut out) {
    assert(bs_matrix_ok(x) && bs_matrix_ok(bs_matrix_view(out)));
    assert(out.cols == x.cols && (rows || out.rows == 0));
    if (x.cols == 0) return;
    for (int64_t i = 0; i < out.rows; i++)
        memcpy(bs_matrix_mut_row(out, i), bs_matrix_row(x, rows[i]),
               sizeof(float) * (size_t)x.cols);
}
