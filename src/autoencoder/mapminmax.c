/* mapminmax.c — see mapminmax.h. */
#include "mapminmax.h"

#include <math.h>
#include <stdlib.h>

#include "core/dist.h"
#include "core/error.h"
#include "core/finite.h"
#include "core/io.h"

int bs_mapminmax_alloc(bs_mapminmax *m, int64_t d) {
    m->d = d;
    m->xoffset = bs_malloc((size_t)d * sizeof(double));
    m->gain = bs_malloc((size_t)d * sizeof(double));
    if (!m->xoffset || !m->gain) {
        bs_mapminmax_free(m);
        return -1;
    }
    return 0;
}

void bs_mapminmax_free(bs_mapminmax *m) {
    free(m->xoffset);
    free(m->gain);
    m->xoffset = m->gain = NULL;
}

static int fit(bs_mapminmax *m, const float *x, int64_t d, const int64_t *rows, int64_t n,
               int dist) {
    if (n < 1) return bs_error("mapminmax: no training rows");
    if (bs_check_finite(x, d, rows, n)) return -1;
    if (bs_mapminmax_alloc(m, d)) return -1;
    double *lo = m->xoffset, *hi = m->gain; /* reuse the storage for min and max */
    const float *r0 = x + (rows ? rows[0] : 0) * d;
    for (int64_t j = 0; j < d; j++) lo[j] = hi[j] = r0[j];
    for (int64_t i = 1; i < n; i++) {
        const float *row = x + (rows ? rows[i] : i) * d;
        for (int64_t j = 0; j < d; j++) {
            double v = row[j];
            if (v < lo[j]) lo[j] = v;
            if (v > hi[j]) hi[j] = v;
        }
    }
    if (dist) {
        bs_dist_min_d(lo, (size_t)d);
        bs_dist_max_d(hi, (size_t)d);
    }
    for (int64_t j = 0; j < d; j++) {
        double range = hi[j] - lo[j];
        if (range == 0 || !isfinite(range)) { /* MATLAB: gain 1, xoffset = ymin */
            m->gain[j] = 1;
            m->xoffset[j] = 0;
        } else {
            m->gain[j] = 1.0 / range; /* (ymax − ymin)/(xmax − xmin) with [ymin, ymax] = [0, 1] */
            m->xoffset[j] = lo[j];
        }
    }
    return 0;
}

int bs_mapminmax_fit(bs_mapminmax *m, const float *x, int64_t d, const int64_t *rows, int64_t n) {
    return fit(m, x, d, rows, n, 0);
}

int bs_mapminmax_fit_dist(bs_mapminmax *m, const float *x, int64_t d, const int64_t *rows,
                          int64_t n) {
    return fit(m, x, d, rows, n, 1);
}

void bs_mapminmax_apply_d(const bs_mapminmax *m, const float *x, double *y) {
    for (int64_t j = 0; j < m->d; j++) y[j] = ((double)x[j] - m->xoffset[j]) * m->gain[j];
}

void bs_mapminmax_apply_f(const bs_mapminmax *m, const float *x, float *y) {
    for (int64_t j = 0; j < m->d; j++) y[j] = (float)(((double)x[j] - m->xoffset[j]) * m->gain[j]);
}

void bs_mapminmax_reverse_d(const bs_mapminmax *m, const double *y, double *x) {
    for (int64_t j = 0; j < m->d; j++) x[j] = y[j] / m->gain[j] + m->xoffset[j];
}
