/* stats.c — order statistics of double arrays (see stats.h). */
#include "stats.h"

#include <stdlib.h>

int bs_cmp_double(const void *x, const void *y) {
    double a = *(const double *)x, b = *(const double *)y;
    return (a > b) - (a < b);
}

double bs_quantile_sorted(const double *v, int64_t n, double q) {
    double pos = q * (double)(n - 1);
    int64_t i = (int64_t)pos; /* pos ≥ 0: truncation is floor */
    return i + 1 < n ? v[i] + (pos - (double)i) * (v[i + 1] - v[i]) : v[n - 1];
}

/* Not bs_quantile_sorted(v, n, 0.5): 0.5 * (a + b) rounds differently from a + 0.5 * (b - a),
 * and the SVM's kernel scale must stay MATLAB's to the bit. */
double bs_median(double *v, int64_t n) {
    qsort(v, (size_t)n, sizeof *v, bs_cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}
