/* stats.c — statistics shared by the stages (see stats.h). */
#include "stats.h"

#include <math.h>
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

void bs_wilson95(int64_t k, int64_t n, double *lo, double *hi) {
    const double z = 1.959963984540054; /* the 97.5 % normal quantile */
    if (n <= 0) {
        *lo = *hi = NAN;
        return;
    }
    double nn = (double)n, p = (double)k / nn, z2 = z * z;
    double den = 1.0 + z2 / nn;
    double centre = (p + z2 / (2 * nn)) / den;
    double half = z / den * sqrt(p * (1 - p) / nn + z2 / (4 * nn * nn));
    *lo = fmax(0.0, centre - half);
    *hi = fmin(1.0, centre + half);
}
