/* finite.h — the check that a feature matrix holds only finite values, before anything is
 * fitted to it or predicted from it. Not for: checking model parameters (their readers do). */
#ifndef BS_CORE_FINITE_H
#define BS_CORE_FINITE_H

#include <stdint.h>

/* Every value of rows[0..n) (rows == NULL: rows 0..n) of the ld-column matrix x must be
 * finite; otherwise an error naming the first bad row and column (0-based, as in NumPy). */
int bs_check_finite(const float *x, int64_t ld, const int64_t *rows, int64_t n);

#endif
