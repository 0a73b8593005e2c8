/* kernel.h — standardisation and the cubic kernel matrix.
 * Private to src/svm: the stage's door is svm.h. */
#ifndef BS_SVM_KERNEL_H
#define BS_SVM_KERNEL_H

#include <stdint.h>

/* Training mean and population std of rows[0..n_rows) of x (N×D), in double; zero-variance
 * features get scale 1 (only centred). mean, scale: D. Fails on a non-finite value. */
int bs_svm_standardise_fit(const float *x, int64_t d, const int64_t *rows, int64_t n_rows,
                           double *mean, double *scale);
/* z (n_rows×D) = (x[rows] − mean) / scale, as float32. Fails on a non-finite value. */
int bs_svm_standardise_apply(const float *x, int64_t d, const int64_t *rows, int64_t n_rows,
                             const double *mean, const double *scale, float *z);
/* k (m×n, row-major, double) = (1 + a·bᵀ / s²)³ where a is m×D and b is n×D (float32).
 * One GEMM; see kernel.c for the precision argument. */
int bs_svm_cubic_kernel(const float *a, int64_t m, const float *b, int64_t n, int64_t d, double s,
                        double *k);

#endif
