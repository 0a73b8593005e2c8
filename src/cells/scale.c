/* scale.c — how big things are in this image: the red-cell diameter from a granulometry.
 * Red cells are the commonest round objects of a smear and vary little in size between
 * people (7-8 um), so their size in pixels gives the magnification; the detector derives the
 * white-cell size from it. Not for: fields without red cells (the caller falls back on the
 * nuclei) or for measuring single cells. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cells_internal.h"
#include "core/error.h"

int bs_cells_otsu(const double *hist, int n) {
    double total = 0, sum = 0;
    for (int i = 0; i < n; i++) total += hist[i], sum += i * hist[i];
    double w0 = 0, s0 = 0, best = -1;
    int t_best = n / 2;
    for (int t = 1; t < n; t++) {
        w0 += hist[t - 1];
        s0 += (t - 1) * hist[t - 1];
        double w1 = total - w0;
        if (w0 <= 0 || w1 <= 0) continue;
        double m0 = s0 / w0, m1 = (sum - s0) / w1;
        double v = w0 * w1 * (m0 - m1) * (m0 - m1);
        if (v > best) best = v, t_best = t;
    }
    return t_best;
}

int bs_cells_otsu3(const double *hist, int n) {
    /* Cumulative weight and first moment: class [a, b) has weight P[b] - P[a]. */
    double *P = malloc(sizeof *P * (n + 1)), *S = malloc(sizeof *S * (n + 1));
    if (!P || !S) {
        free(P), free(S);
        return bs_cells_otsu(hist, n);
    }
    P[0] = S[0] = 0;
    for (int i = 0; i < n; i++) P[i + 1] = P[i] + hist[i], S[i + 1] = S[i] + i * hist[i];
    double best = -1;
    int t2_best = n / 2;
    for (int t1 = 1; t1 < n - 1; t1++) {
        double w0 = P[t1];
        if (w0 <= 0) continue;
        double q0 = S[t1] * S[t1] / w0;
        for (int t2 = t1 + 1; t2 < n; t2++) {
            double w1 = P[t2] - P[t1], w2 = P[n] - P[t2];
            if (w1 <= 0 || w2 <= 0) continue;
            double s1 = S[t2] - S[t1], s2 = S[n] - S[t2];
            double v = q0 + s1 * s1 / w1 + s2 * s2 / w2; /* between-class variance + const */
            if (v > best) best = v, t2_best = t2;
        }
    }
    free(P), free(S);
    return t2_best;
}

/* The mask of red cells: darker than the background in green (Otsu), not violet, holes
 * (the pale centres of red cells) filled. Returns 0 if there is no contrast to speak of. */
static int red_mask(const unsigned char *rgb, const unsigned char *violet, int w, int h, unsigned char *m) {
    size_t npx = (size_t)w * h;
    double hist[256] = {0};
    for (size_t i = 0; i < npx; i++) hist[rgb[3 * i + 1]]++;
    int t = bs_cells_otsu(hist, 256);
    double n0 = 0, s0 = 0, n1 = 0, s1 = 0;
    for (int i = 0; i < 256; i++) {
        if (i < t) n0 += hist[i], s0 += i * hist[i];
        else n1 += hist[i], s1 += i * hist[i];
    }
    /* Cells absorb clearly more green than the glass; a blank or grey field does not split. */
    if (n0 < 0.02 * npx || n1 < 0.02 * npx || s1 / n1 - s0 / n0 < 15) return 0;
    for (size_t i = 0; i < npx; i++) m[i] = rgb[3 * i + 1] < t && !(violet && violet[i]) ? 255 : 0;
    return 1;
}

double bs_cells_red_cell_diameter(const unsigned char *rgb, const unsigned char *violet, int w, int h) {
    if (w < 16 || h < 16) return 0;
    size_t npx = (size_t)w * h;
    unsigned char *m = malloc(npx), *s = malloc(npx);
    float *dt = malloc(sizeof *dt * npx), *ds = malloc(sizeof *ds * npx);
    double *area = NULL, result = 0;
    if (!m || !s || !dt || !ds) goto done;
    if (!red_mask(rgb, violet, w, h, m)) goto done;
    /* Small specks (noise, platelets) would peak the spectrum at r = 1: open them away. */
    if (bs_cells_fill_holes(m, w, h) || bs_cells_open(m, w, h, 1) || bs_cells_edt(m, w, h, dt)) goto done;
    float dmax = 0;
    for (size_t i = 0; i < npx; i++) dmax = dt[i] > dmax ? dt[i] : dmax;
    int rmax = (int)dmax + 1;
    if (rmax < 3 || rmax > (w < h ? w : h)) goto done;
    /* Radii on a ladder, steps of 1 then of ~12 %: the estimate needs no finer resolution. */
    int radii[64], nr = 0;
    for (double r = 1; nr < 63 && (int)r <= rmax + 1; r = r < 8 ? r + 1 : r * 1.12) radii[nr++] = (int)r;
    radii[nr++] = rmax + 1;
    area = calloc((size_t)nr, sizeof *area);
    if (!area) goto done;
    /* Opening by a disc of radius r = the points within r of a centre at least r inside. */
    for (int k = 0; k < nr; k++) {
        int r = radii[k];
        for (size_t i = 0; i < npx; i++) s[i] = dt[i] >= r ? 0 : 255;
        if (bs_cells_edt(s, w, h, ds)) goto done;
        double a = 0;
        for (size_t i = 0; i < npx; i++) a += ds[i] <= r;
        area[k] = a;
    }
    /* Pattern spectrum: the area of objects whose inscribed radius lies in [r_k, r_k+1), per
     * unit of radius; the peak (past r = 1, which is noise) is the red cells'. */
    double best = 0;
    int rb = 0;
    for (int k = 1; k + 1 < nr; k++) {
        double ps = (area[k] - area[k + 1]) / (radii[k + 1] - radii[k]);
        if (ps > best) best = ps, rb = k;
    }
    if (rb >= 1 && best * (radii[rb + 1] - radii[rb]) > 0.01 * npx) result = radii[rb] + radii[rb + 1];
done:
    free(m), free(s), free(dt), free(ds), free(area);
    return result;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Equivalent diameters (2 sqrt(area / pi)) of the components of mask, largest first in
 * d[0..n-1]. With `split`, a component holding k > 1 round parts (distance-map maxima of
 * similar height with a neck between, as two touching nuclei) counts as k of area / k, and
 * components touching the border are left out when whole ones of comparable size exist. Returns n (-1: no memory). */
static int diameters(const unsigned char *mask, int w, int h, int split, double **d) {
    size_t npx = (size_t)w * h;
    int32_t *comp = malloc(sizeof *comp * npx), *stack = malloc(sizeof *stack * npx);
    int32_t *mk = split ? malloc(sizeof *mk * npx) : NULL;
    float *dt = split ? malloc(sizeof *dt * npx) : NULL;
    double *area = NULL;
    int *parts = NULL, *border = NULL, n = -1, m = 0;
    *d = NULL;
    if (!comp || !stack || (split && (!mk || !dt))) goto done;
    n = bs_cells_components(mask, w, h, comp, stack);
    area = calloc((size_t)n + 1, sizeof *area), *d = calloc((size_t)n + 1, sizeof **d);
    parts = calloc((size_t)n + 1, sizeof *parts), border = calloc((size_t)n + 1, sizeof *border);
    if (!area || !*d || !parts || !border) {
        n = -1;
        goto done;
    }
    for (size_t i = 0; i < npx; i++) {
        area[comp[i]]++;
        border[comp[i]] |= i % w == 0 || i % w == (size_t)w - 1 || i / w == 0 || i / w == (size_t)h - 1;
    }
    double inner_max = 0;
    for (int c = 1; c <= n; c++) {
        parts[c] = 1;
        if (!border[c] && area[c] > inner_max) inner_max = area[c];
    }
    if (split) {
        float hmax = 0;
        if (bs_cells_edt(mask, w, h, dt)) goto fail;
        for (size_t i = 0; i < npx; i++) hmax = dt[i] > hmax ? dt[i] : hmax;
        if (bs_cells_markers(dt, mask, w, h, 0.25 * hmax, 0.6 * hmax, 1.2 * hmax, mk) < 0) goto fail;
        float *peak = calloc((size_t)n + 1, sizeof *peak);
        if (!peak) goto fail;
        for (int c = 1; c <= n; c++) parts[c] = 0;
        for (size_t i = 0; i < npx; i++) {
            parts[comp[i]] += mk[i] > 0;
            if (dt[i] > peak[comp[i]]) peak[comp[i]] = dt[i];
        }
        /* The group's width: its largest inscribed disc, which two touching nuclei do not
         * widen (their area does). */
        for (int c = 1; c <= n; c++) parts[c] = 1, area[c] = 3.14159265358979 * peak[c] * peak[c];
        free(peak);
    }
    for (int c = 1; c <= n; c++) {
        /* A group cut by the border is smaller than it is: left out when whole ones of a
         * comparable size exist (not when those are only platelets). */
        if (split && border[c] && inner_max >= 0.5 * area[c]) continue;
        double a = area[c] / (parts[c] > 0 ? parts[c] : 1);
        for (int k = 0; k < parts[c] || k == 0; k++) {
            double *grown = m >= n ? realloc(*d, sizeof **d * (2 * (size_t)m + 2)) : *d;
            if (!grown) goto fail;
            *d = grown;
            (*d)[m++] = 2 * sqrt(a / 3.14159265358979);
        }
    }
    qsort(*d, (size_t)m, sizeof **d, cmp_double);
    for (int a = 0, b = m - 1; a < b; a++, b--) {
        double t = (*d)[a];
        (*d)[a] = (*d)[b], (*d)[b] = t;
    }
    n = m;
    goto done;
fail:
    n = -1;
done:
    free(comp), free(stack), free(mk), free(dt), free(area), free(parts), free(border);
    if (n < 0) free(*d), *d = NULL;
    return n;
}

double bs_cells_nucleus_size(const unsigned char *violet, int w, int h) {
    size_t npx = (size_t)w * h;
    unsigned char *m = malloc(npx);
    double *d = NULL, result = 0;
    if (!m) return 0;
    memcpy(m, violet, npx);
    if (bs_cells_open(m, w, h, 1)) goto done;
    int n = diameters(m, w, h, 0, &d);
    if (n <= 0) goto done;
    /* Join the lobes of one nucleus: a closing a fraction of the largest piece's size. */
    int r = (int)lround(0.2 * d[0]);
    free(d), d = NULL;
    if (bs_cells_close(m, w, h, r) || bs_cells_fill_holes(m, w, h)) goto done;
    n = diameters(m, w, h, 1, &d);
    if (n <= 0) goto done;
    /* The median of the large groups: one white cell's nucleus even in a crowded field where
     * the largest group is two touching cells. */
    int k = 0;
    while (k < n && d[k] >= 0.5 * d[0]) k++;
    result = d[(k - 1) / 2];
done:
    free(m), free(d);
    return result;
}
