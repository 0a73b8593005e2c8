/* stats.h — statistics shared by the stages: one comparator for qsort, the interpolated
 * quantile of a sorted array, MATLAB's median, and the Wilson interval of a proportion.
 * Not for: means, variances or anything that depends on a stage's data layout. */
#ifndef BS_CORE_STATS_H
#define BS_CORE_STATS_H

#include <stdint.h>

/* qsort comparator: ascending doubles (NaN compares equal to everything; callers check
 * finiteness first). */
int bs_cmp_double(const void *x, const void *y);

/* Quantile q (0..1) of sorted v (n ≥ 1), linear interpolation between order statistics
 * (NumPy's default). */
double bs_quantile_sorted(const double *v, int64_t n, double q);

/* MATLAB median (n ≥ 1): the middle value, or the mean of the two middle values for an even
 * count. Sorts v in place. */
double bs_median(double *v, int64_t n);

/* The 95 % Wilson score interval of k successes in n trials, clipped to [0, 1]; NaN for
 * n <= 0. Used for every proportion blastscan reports (metrics, blast percentages). */
void bs_wilson95(int64_t k, int64_t n, double *lo, double *hi);

#endif
