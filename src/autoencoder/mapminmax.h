/* mapminmax.h — MATLAB mapminmax to [0, 1], per feature (column of an N × D sample matrix).
 *
 * MATLAB's rule, from mapminmax.m: gain = (ymax − ymin)/(xmax − xmin), xoffset = xmin;
 * where xmax − xmin is 0 or not finite, gain = 1 and xoffset = ymin (= 0), so a constant
 * feature passes through unchanged. Forward y = (x − xoffset)·gain + ymin, reverse
 * x = (y − ymin)/gain + xoffset, no clipping.
 * Private to src/autoencoder: the stage's door is autoencoder.h (tests: autoencoder_test.h). */
#ifndef BS_AUTOENCODER_MAPMINMAX_H
#define BS_AUTOENCODER_MAPMINMAX_H

#include <stdint.h>

typedef struct bs_mapminmax {
    int64_t d;
    double *xoffset; /* d */
    double *gain;    /* d */
} bs_mapminmax;

/* Settings from the training rows (x is checked finite first). */
int bs_mapminmax_fit(bs_mapminmax *m, const float *x, int64_t d, const int64_t *rows, int64_t n);
/* The same over every rank's rows of an MPI job (min and max reduced exactly, so the settings
 * equal a single-process fit on the union); every rank must call it. */
int bs_mapminmax_fit_dist(bs_mapminmax *m, const float *x, int64_t d, const int64_t *rows,
                          int64_t n);
int bs_mapminmax_alloc(bs_mapminmax *m, int64_t d);
void bs_mapminmax_free(bs_mapminmax *m);

/* y = (x − xoffset)·gain for one row of d values, in double and in float. */
void bs_mapminmax_apply_d(const bs_mapminmax *m, const float *x, double *y);
void bs_mapminmax_apply_f(const bs_mapminmax *m, const float *x, float *y);
/* x = y/gain + xoffset for one row. */
void bs_mapminmax_reverse_d(const bs_mapminmax *m, const double *y, double *x);

#endif
