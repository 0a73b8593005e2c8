/* kernel.c — standardisation (SPEC §5: training mean, population std, zero-variance features
 * only centred) and the cubic kernel matrix (1 + a·bᵀ/s²)³ computed with one GEMM.
 *
 * Precision: the GEMM runs in float32 (oneDNN dnnl_sgemm) on standardised data, and the cubic
 * map in double. Standardised features are O(1), so a·bᵀ/s² is O(1) with an absolute error of
 * about 1e-7 (float32 accumulation over D ≤ a few thousand terms, relative to |a||b|/s² ≈ 1);
 * the parity test against scikit-learn's float64 kernel (tests/svm) shows decision values
 * agreeing far inside the 1e-3 tolerance, so a float64 GEMM (≈ 10× slower here) buys nothing.
 * Not for: anything libsvm-specific. */
#include "svm/kernel.h"

#include <math.h>
#include <stdlib.h>

#include <oneapi/dnnl/dnnl.h>
#include <omp.h>

#include "core/error.h"
#include "core/finite.h"
#include "core/io.h"

int bs_svm_standardise_fit(const float *x, int64_t d, const int64_t *rows, int64_t n_rows,
                           double *mean, double *scale) {
    if (n_rows <= 0) return bs_error("standardisation: no training rows");
    if (bs_check_finite(x, d, rows, n_rows)) return -1;
    for (int64_t j = 0; j < d; j++) mean[j] = 0.0, scale[j] = 0.0;
    for (int64_t i = 0; i < n_rows; i++) {
        const float *xr = x + rows[i] * d;
        for (int64_t j = 0; j < d; j++) mean[j] += xr[j];
    }
    for (int64_t j = 0; j < d; j++) mean[j] /= (double)n_rows;
    /* Two-pass variance: exact zero for a constant feature. */
    for (int64_t i = 0; i < n_rows; i++) {
        const float *xr = x + rows[i] * d;
        for (int64_t j = 0; j < d; j++) {
            double c = xr[j] - mean[j];
            scale[j] += c * c;
        }
    }
    for (int64_t j = 0; j < d; j++) {
        double sd = sqrt(scale[j] / (double)n_rows);
        scale[j] = sd > 0.0 ? sd : 1.0;
    }
    return 0;
}

int bs_svm_standardise_apply(const float *x, int64_t d, const int64_t *rows, int64_t n_rows,
                             const double *mean, const double *scale, float *z) {
    if (bs_check_finite(x, d, rows, n_rows)) return -1;
    for (int64_t i = 0; i < n_rows; i++) {
        const float *xr = x + rows[i] * d;
        float *zr = z + i * d;
        for (int64_t j = 0; j < d; j++) zr[j] = (float)((xr[j] - mean[j]) / scale[j]);
    }
    return 0;
}

/* Rows of the output per GEMM call. The tiling is fixed, never derived from the thread count:
 * each tile is one dnnl_sgemm of the same shape on every run, called inside an OpenMP loop where
 * oneDNN runs it on one thread, so every kernel entry is summed in the same order whatever
 * --threads says (docs/determinism.md). A parallel dnnl_sgemm splits its work by the thread
 * count, and on AVX2 kernels that changed the decisions in the 8th digit. */
#define KERNEL_TILE 64

/* k[i0:i0+mb] = (1 + a[i0:i0+mb]·bᵀ/s²)³ through the float32 scratch g (mb×n). */
static int kernel_tile(const float *a, int64_t mb, const float *b, int64_t n, int64_t d,
                       double inv_s2, float *g, double *k) {
    dnnl_status_t st = dnnl_sgemm('N', 'T', mb, n, d, 1.0f, a, d, b, d, 0.0f, g, n);
    if (st != dnnl_success) return (int)st;
    for (int64_t i = 0; i < mb; i++) {
        const float *gr = g + i * n;
        double *kr = k + i * n;
        for (int64_t j = 0; j < n; j++) {
            double t = 1.0 + (double)gr[j] * inv_s2;
            kr[j] = t * t * t;
        }
    }
    return 0;
}

int bs_svm_cubic_kernel(const float *a, int64_t m, const float *b, int64_t n, int64_t d, double s,
                        double *k) {
    if (m == 0 || n == 0) return 0;
    int64_t tile = m < KERNEL_TILE ? m : KERNEL_TILE;
    int64_t n_tiles = (m + tile - 1) / tile;
    int n_threads = omp_get_max_threads();
    if (n_threads > n_tiles) n_threads = (int)n_tiles;
    size_t bytes;
    if (bs_mul_size((size_t)tile * (size_t)n, sizeof(float) * (size_t)n_threads, &bytes)) return -1;
    float *scratch = bs_malloc(bytes);
    if (!scratch) return bs_error_prefix("cubic kernel: ");
    double inv = 1.0 / (s * s);
    int failed = 0;
#pragma omp parallel num_threads(n_threads) reduction(| : failed)
    {
        /* One thread per dnnl_sgemm even when this team has one member (an inactive region,
         * where oneDNN would otherwise take every core); the setting ends with the region. */
        omp_set_num_threads(1);
        float *g = scratch + (size_t)omp_get_thread_num() * (size_t)tile * (size_t)n;
#pragma omp for schedule(dynamic, 1)
        for (int64_t t = 0; t < n_tiles; t++) {
            int64_t i0 = t * tile, mb = m - i0 < tile ? m - i0 : tile;
            failed |= kernel_tile(a + i0 * d, mb, b, n, d, inv, g, k + i0 * n) != 0;
        }
    }
    free(scratch);
    if (failed)
        return bs_error("cubic kernel: dnnl_sgemm failed (%lld×%lld×%lld)", (long long)m,
                        (long long)n, (long long)d);
    return 0;
}
