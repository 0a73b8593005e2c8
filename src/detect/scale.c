/* scale.c — how big things are in this image: the red-cell diameter from a granulometry and
 * the typical width of a white cell's nucleus. Red cells are the commonest round objects of
 * a smear and vary little in size between people (7-8 um), so they bound the white-cell size
 * the detector derives from the nuclei. The nucleus width is measured on groups of nucleus
 * pixels (lobes joined); a group that is a clump of touching cells counts as its nuclei, so
 * a crowded field gives the same width as its cells apart. Not for: measuring single cells. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "detect_internal.h"
#include "core/error.h"
#include "core/stats.h"

/* Peaks and clumps (in units of a peak's own height, or of a group's width): a peak is a
 * nucleus of its own when it rises PEAK_DYNAMIC of its height above the neck to a higher
 * one; a reference group is at most 1/REFERENCE as wide as its largest nucleus; a clump is
 * a group at least 1/CLUMP_TOP as wide as its largest nucleus, or with CLUMP_NUCLEI
 * nuclei, or CLUMP_WIDER times as wide as the reference groups (BCCD's neutrophils: their
 * lobes are 0.41-0.72 of the group's width and at most 6 to a cell). */
#define PEAK_DYNAMIC 0.2
#define REFERENCE 0.85
#define CLUMP_TOP 0.3
#define CLUMP_NUCLEI 7
#define CLUMP_WIDER 1.5
#define ROUND_GROUPS 2
/* Nuclei over this share of the image are left out of the red-cell split. */
#define NUCLEI_APART 0.05

int bs_detect_otsu(const double *hist, int n) {
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

int bs_detect_otsu3(const double *hist, int n) {
    /* Cumulative weight and first moment: class [a, b) has weight P[b] - P[a]. */
    double *P = malloc(sizeof *P * (n + 1)), *S = malloc(sizeof *S * (n + 1));
    if (!P || !S) {
        free(P), free(S);
        return bs_detect_otsu(hist, n);
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
static int red_mask(const unsigned char *rgb, const unsigned char *violet, int w, int h,
                    int without_nuclei, unsigned char *m) {
    size_t npx = (size_t)w * h;
    double hist[256] = {0};
    for (size_t i = 0; i < npx; i++)
        if (!(without_nuclei && violet[i])) hist[rgb[3 * i + 1]]++;
    int t = bs_detect_otsu(hist, 256);
    double n0 = 0, s0 = 0, n1 = 0, s1 = 0;
    for (int i = 0; i < 256; i++) {
        if (i < t)
            n0 += hist[i], s0 += i * hist[i];
        else
            n1 += hist[i], s1 += i * hist[i];
    }
    /* Cells absorb clearly more green than the glass; a blank or grey field does not split. */
    if (n0 < 0.02 * npx || n1 < 0.02 * npx || s1 / n1 - s0 / n0 < 15) return 0;
    for (size_t i = 0; i < npx; i++) m[i] = rgb[3 * i + 1] < t && !(violet && violet[i]) ? 255 : 0;
    return 1;
}

static double red_cell_diameter(const unsigned char *rgb, const unsigned char *violet, int w, int h,
                                int without_nuclei) {
    if (w < 16 || h < 16) return 0;
    size_t npx = (size_t)w * h;
    unsigned char *m = malloc(npx), *s = malloc(npx);
    float *dt = malloc(sizeof *dt * npx), *ds = malloc(sizeof *ds * npx);
    double *area = NULL, result = 0;
    if (!m || !s || !dt || !ds) goto done;
    if (!red_mask(rgb, violet, w, h, without_nuclei, m)) goto done;
    /* Small specks (noise, platelets) would peak the spectrum at r = 1: open them away. */
    if (bs_detect_fill_holes(m, w, h) || bs_detect_open(m, w, h, 1) || bs_detect_edt(m, w, h, dt))
        goto done;
    float dmax = 0;
    for (size_t i = 0; i < npx; i++) dmax = dt[i] > dmax ? dt[i] : dmax;
    int rmax = (int)dmax + 1;
    if (rmax < 3 || rmax > (w < h ? w : h)) goto done;
    /* Radii on a ladder, steps of 1 then of ~12 %: the estimate needs no finer resolution. */
    int radii[64], nr = 0;
    for (double r = 1; nr < 63 && (int)r <= rmax + 1; r = r < 8 ? r + 1 : r * 1.12)
        radii[nr++] = (int)r;
    radii[nr++] = rmax + 1;
    area = calloc((size_t)nr, sizeof *area);
    if (!area) goto done;
    /* Opening by a disc of radius r = the points within r of a centre at least r inside. */
    for (int k = 0; k < nr; k++) {
        int r = radii[k];
        for (size_t i = 0; i < npx; i++) s[i] = dt[i] >= r ? 0 : 255;
        if (bs_detect_edt(s, w, h, ds)) goto done;
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
    if (rb >= 1 && best * (radii[rb + 1] - radii[rb]) > 0.01 * npx)
        result = radii[rb] + radii[rb + 1];
done:
    free(m), free(s), free(dt), free(ds), free(area);
    return result;
}

double bs_detect_red_cell_diameter(const unsigned char *rgb, const unsigned char *violet, int w,
                                   int h) {
    /* Where nuclei are a large part of the image (a high-magnification crop: TXL-PBC's PBC
     * fields, one white cell a third of the image), the green split falls between glass and
     * nucleus, not glass and red cells: split without the nuclei. Elsewhere (BCCD, Aria) the
     * nuclei are a few per cent of the pixels and the split stays as it was measured. */
    size_t nv = 0, npx = (size_t)w * h;
    for (size_t i = 0; violet && i < npx; i++) nv += violet[i] != 0;
    return red_cell_diameter(rgb, violet, w, h, nv > NUCLEI_APART * npx);
}

/* The peaks of `mask`'s distance map that stand for a round blob of their own: at least
 * 1 px high, rising at least a fifth of their height (and 1 px) above where they meet a
 * higher peak, and at least their own radius from it. Relative thresholds, so the same at
 * any magnification: one per nucleus, also where nuclei touch. *pk malloc'd. */
static int significant_peaks(const unsigned char *mask, int w, int h, bs_detect_peak **pk,
                             size_t *n) {
    size_t npx = (size_t)w * h, m = 0;
    float *dt = malloc(sizeof *dt * (npx ? npx : 1));
    *pk = NULL, *n = 0;
    int rc = !dt || bs_detect_edt(mask, w, h, dt) || bs_detect_peaks(dt, mask, w, h, pk, n);
    free(dt);
    if (rc) return -1;
    for (size_t k = 0; k < *n; k++) {
        double ht = (*pk)[k].height;
        if (ht >= 1 && (*pk)[k].dynamic >= fmax(1, PEAK_DYNAMIC * ht) && (*pk)[k].sep >= ht)
            (*pk)[m++] = (*pk)[k];
    }
    *n = m;
    return 0;
}

/* A group's nuclei: its largest significant peak of the unjoined mask (half-width `top`)
 * and how many reach half of that. */
typedef struct group {
    double area, peak, top; /* pixels; largest inscribed radius of the group and of a nucleus */
    int border, nuclei;
} group;

/* The typical width of the reference groups: those no wider than their largest nucleus
 * (a single nucleus, or a chain of them, which does not widen a group), at least half as
 * wide as the widest of them. 0 when there are none. */
static double reference_width(const group *g, int n) {
    double *r = malloc(sizeof *r * ((size_t)n + 1)), widest = 0, res = 0;
    int m = 0;
    if (!r) return 0;
    for (int c = 1; c <= n; c++)
        if (g[c].top > 0 && g[c].top >= REFERENCE * g[c].peak) widest = fmax(widest, g[c].peak);
    for (int c = 1; c <= n; c++)
        if (g[c].top > 0 && g[c].top >= REFERENCE * g[c].peak && g[c].peak >= 0.5 * widest)
            r[m++] = 2 * g[c].peak;
    if (m) {
        qsort(r, (size_t)m, sizeof *r, bs_cmp_double);
        res = r[m / 2];
    }
    free(r);
    return res;
}

/* A clump of touching cells rather than one cell's nucleus: a group much wider than the
 * nuclei in it (a compact crowd, once joined and filled, is wider than any cell), or with
 * many of them, or wider than the field's reference groups while its nuclei are as wide as
 * theirs. A neutrophil's lobes are narrower than the reference and about half as wide as
 * their group, so it stays one. */
static int clump(const group *g, double ref) {
    if (g->top <= 0) return 0;
    if (g->top <= CLUMP_TOP * g->peak || g->nuclei >= CLUMP_NUCLEI) return 1;
    return ref > 0 && g->nuclei >= 2 && 2 * g->peak > CLUMP_WIDER * ref &&
           2 * g->top >= 0.7 * ref && 2 * g->top <= 1.4 * ref;
}

typedef struct width {
    double w, round;
} width;

static int wider_first(const void *a, const void *b) {
    const width *p = a, *q = b;
    if (p->w != q->w) return p->w > q->w ? -1 : 1;
    return (p->round > q->round) - (p->round < q->round);
}

/* The width of each component of mask: the diameter of its largest inscribed disc, which
 * two touching nuclei do not widen (their area does), and its roundness: the width of its
 * largest nucleus (significant peak of `unjoined`) over the group's, 1 for one round nucleus,
 * 0.4-0.7 for a neutrophil's joined lobes. Components touching the border are left out when
 * whole ones of comparable size exist (not when those are only platelets). A clump gives
 * instead the widths of its nuclei (roundness 1): the significant peaks of `unjoined` inside
 * it that reach half the largest. Largest first in d[0..n-1]; returns n (-1: no memory). */
static int widths(const unsigned char *mask, const unsigned char *unjoined, int w, int h,
                  width **d) {
    size_t npx = (size_t)w * h, npk = 0;
    int32_t *comp = malloc(sizeof *comp * npx), *stack = malloc(sizeof *stack * npx);
    float *dt = malloc(sizeof *dt * npx);
    bs_detect_peak *pk = NULL;
    group *g = NULL;
    int n = -1, m = 0;
    *d = NULL;
    if (!comp || !stack || !dt || bs_detect_edt(mask, w, h, dt) ||
        significant_peaks(unjoined, w, h, &pk, &npk))
        goto done;
    n = bs_detect_components(mask, w, h, comp, stack);
    g = calloc((size_t)n + 1, sizeof *g), *d = calloc((size_t)n + npk + 1, sizeof **d);
    if (!g || !*d) {
        n = -1;
        goto done;
    }
    for (size_t i = 0; i < npx; i++) {
        group *q = &g[comp[i]];
        q->area++;
        if (dt[i] > q->peak) q->peak = dt[i];
        q->border |= i % w == 0 || i % w == (size_t)w - 1 || i / w == 0 || i / w == (size_t)h - 1;
    }
    for (size_t k = 0; k < npk; k++)
        g[comp[pk[k].i]].top = fmax(g[comp[pk[k].i]].top, pk[k].height);
    for (size_t k = 0; k < npk; k++)
        g[comp[pk[k].i]].nuclei += pk[k].height >= 0.5 * g[comp[pk[k].i]].top;
    double inner_max = 0, ref = reference_width(g, n);
    for (int c = 1; c <= n; c++)
        if (!g[c].border && g[c].area > inner_max) inner_max = g[c].area;
    for (int c = 1; c <= n; c++) {
        if (g[c].border && inner_max >= 0.5 * g[c].area) continue;
        if (!clump(&g[c], ref)) {
            (*d)[m++] = (width){2 * g[c].peak, g[c].peak > 0 ? fmin(1, g[c].top / g[c].peak) : 0};
            continue;
        }
        for (size_t k = 0; k < npk; k++)
            if (comp[pk[k].i] == c && pk[k].height >= 0.5 * g[c].top)
                (*d)[m++] = (width){2 * pk[k].height, 1};
    }
    qsort(*d, (size_t)m, sizeof **d, wider_first);
    n = m;
done:
    free(comp), free(stack), free(dt), free(pk), free(g);
    if (n < 0) free(*d), *d = NULL;
    return n;
}

/* The median of the widths at least 0.35 of the widest: one white cell's nucleus, even in a
 * crowded field where some groups are several touching cells; *round the median roundness
 * of the same groups, 0 when fewer than ROUND_GROUPS: one neutrophil whose largest lobe is
 * as wide as its joined nucleus would make a field read as round (BCCD 00345, 00387). */
static double typical_width(const unsigned char *mask, const unsigned char *unjoined, int w, int h,
                            double *round) {
    width *d = NULL;
    double r = 0;
    int n = widths(mask, unjoined, w, h, &d), k = 0;
    *round = 0;
    if (n > 0) {
        while (k < n && d[k].w >= 0.35 * d[0].w) k++;
        r = d[(k - 1) / 2].w;
        double *o = malloc(sizeof *o * (size_t)k);
        if (o) {
            for (int i = 0; i < k; i++) o[i] = d[i].round;
            qsort(o, (size_t)k, sizeof *o, bs_cmp_double);
            *round = k >= ROUND_GROUPS ? o[k / 2] : 0;
        }
        free(o);
    }
    free(d);
    return n < 0 ? -1 : r;
}

/* The equivalent diameter (2 sqrt(area / pi)) of a typical large component: the median of
 * those with at least a quarter of the largest's area (in a crowded field the largest is a
 * clump of cells). -1: no memory. */
static double typical_piece(const unsigned char *mask, int w, int h) {
    size_t npx = (size_t)w * h;
    int32_t *comp = malloc(sizeof *comp * npx), *stack = malloc(sizeof *stack * npx);
    double *area = NULL, best = -1;
    if (comp && stack) {
        int n = bs_detect_components(mask, w, h, comp, stack);
        if ((area = calloc((size_t)n + 1, sizeof *area))) {
            for (size_t i = 0; i < npx; i++) area[comp[i]] += comp[i] > 0;
            qsort(area + 1, (size_t)n, sizeof *area, bs_cmp_double);
            int k = n;
            while (k > 1 && area[k - 1] >= 0.25 * area[n]) k--;
            /* area[k..n] are the large ones, ascending: the upper median. */
            best = n ? 2 * sqrt(area[k + (n - k + 1) / 2] / 3.14159265358979) : 0;
        }
    }
    free(comp), free(stack), free(area);
    return best;
}

double bs_detect_nucleus_size(const unsigned char *violet, int w, int h, double *round) {
    size_t npx = (size_t)w * h;
    unsigned char *m = malloc(npx), *unjoined = malloc(npx);
    double result = 0;
    *round = 0;
    if (!m || !unjoined) goto done;
    memcpy(m, violet, npx);
    if (bs_detect_open(m, w, h, 1)) goto done;
    memcpy(unjoined, m, npx);
    double piece = typical_piece(m, w, h);
    if (piece <= 0) goto done;
    /* Join the lobes of one nucleus: a closing a fifth of a large piece's equivalent
     * diameter; then the width of the joined groups (of the nuclei, for a clump). */
    if (bs_detect_close(m, w, h, (int)lround(0.2 * piece)) || bs_detect_fill_holes(m, w, h))
        goto done;
    result = typical_width(m, unjoined, w, h, round);
    if (result < 0) result = 0;
done:
    free(m), free(unjoined);
    return result;
}
