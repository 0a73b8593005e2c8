/* matrix.h — a view of a float32 matrix, row-major and dense (row r starts at data + r·cols),
 * and its mutable twin: the row sets that svm, autoencoder, fit and pipeline pass around, with
 * the shape in one value instead of a loose (pointer, rows, cols) tuple. The stages assert on
 * entry that a view is well formed (bs_matrix_ok) and state what they rely on with asserts.
 *
 * No stride: every stage reads row r at data + r·cols (mapminmax, standardisation, the GEMMs'
 * leading dimension), so a strided view is a copy (bs_matrix_gather) until a kernel learns one.
 * Not for: owning storage (a view owns nothing; core/npy.h's bs_array owns .npy data). */
#ifndef BS_CORE_MATRIX_H
#define BS_CORE_MATRIX_H

#include <assert.h>
#include <stdint.h>

typedef struct bs_matrix {
    const float *data;
    int64_t rows, cols;
} bs_matrix;

typedef struct bs_matrix_mut {
    float *data;
    int64_t rows, cols;
} bs_matrix_mut;

static inline bs_matrix bs_matrix_of(const float *data, int64_t rows, int64_t cols) {
    return (bs_matrix){data, rows, cols};
}

static inline bs_matrix_mut bs_matrix_mut_of(float *data, int64_t rows, int64_t cols) {
    return (bs_matrix_mut){data, rows, cols};
}

/* The read-only view of a mutable matrix. */
static inline bs_matrix bs_matrix_view(bs_matrix_mut m) {
    return (bs_matrix){m.data, m.rows, m.cols};
}

/* Well formed: no negative extent, rows·cols elements addressable (no int64 or size_t overflow),
 * and data present unless the matrix is empty. */
int bs_matrix_ok(bs_matrix m);

static inline const float *bs_matrix_row(bs_matrix m, int64_t r) {
    assert(r >= 0 && r < m.rows);
    return m.data + r * m.cols;
}

static inline float *bs_matrix_mut_row(bs_matrix_mut m, int64_t r) {
    assert(r >= 0 && r < m.rows);
    return m.data + r * m.cols;
}

/* A rows × cols matrix of zeros (bs_calloc: overflow and out of memory are errors); free its
 * data with free(). Returns -1 with a bs_error on failure, leaving *out empty. */
int bs_matrix_alloc(int64_t rows, int64_t cols, bs_matrix_mut *out);

/* Row i of out = row rows[i] of x, for i < out.rows (out.cols == x.cols; every rows[i] a row
 * of x, which the caller guarantees: it is asserted). */
void bs_matrix_gather(bs_matrix x, const int64_t *rows, bs_matrix_mut out);

#endif
