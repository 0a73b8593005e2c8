/* fit_internal.h — Private to src/fit: mi-SVM's rounds (mil.c), which fit.c calls in place of
 * its one SVM fit. Not for: anything outside src/fit (fit.h is the door). */
#ifndef BS_FIT_INTERNAL_H
#define BS_FIT_INTERNAL_H

#include <stdint.h>

#include "fit/fit.h"

/* The fit rows as mi-SVM sees them: fit row i is row rows[i] of x (what the SVM sees), with
 * its bag label, bag and instance. */
typedef struct bs_mil_rows {
    bs_matrix x;
    const int64_t *rows;
    int64_t m;
    const int32_t *lab;            /* 0 or 1 */
    const int64_t *bag, *instance; /* of fit row i */
} bs_mil_rows;

/* mi-SVM (fit.h): *svm is the last SVM fitted, final[i] the label fit row i had when it was
 * fitted, *info what happened. On failure *svm is NULL and a bs_error says why. */
int bs_mil_fit(const bs_mil_rows *in, const bs_fit_options *o, bs_svm **svm, int32_t *final,
               bs_fit_mil *info);

#endif
