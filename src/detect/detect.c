/* detect.c — white-cell detection (see detect.h): the steps, in order.
 *
 * 1. Scale (scale.c, on a thumbnail of at most 320 px): the typical width of the nucleus
 *    groups (lobes joined by a closing; the largest inscribed disc, which two touching nuclei
 *    do not widen) times CELL_PER_NUCLEUS, less (CELL_PER_ROUND) where the nuclei are round
 *    and fill their cells (lymphocytes, blasts). Red cells, measured by a granulometry, bound it:
 *    "nuclei" narrower than MIN_NUCLEUS_PER_RED red cells are platelets (the field has no
 *    white cell; CELL_PER_RED red cells are used) and a white cell is at least
 *    MIN_CELL_PER_RED red cells across.
 * 2. Work at a resolution where a white cell is WORK_CELL pixels across (libvips resize), so
 *    every later step costs the same at any magnification.
 * 3. Nuclei: blue minus green above the upper threshold of a three-class Otsu (glass, red
 *    cells, nuclei), never below the field's median plus a margin, so a field without nuclei
 *    stays empty; opening and hole filling (libvips morph and labelregions).
 * 4. Cells: a closing joins the lobes of one nucleus; touching cells are split by a marker
 *    watershed on the distance transform of the nuclei (markers: maxima deep enough, with a
 *    neck, far enough apart); pieces whose joined box fits in MERGE cells are one cell again,
 *    unless both are as wide as a whole nucleus.
 * 5. Platelets and specks: regions whose nucleus is small for the scale are dropped. The box
 *    is the region's, grown to at least 0.85 white cells around it.
 * Not for: cropping or classifying cells (the cells command). */
#include "detect.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <vips/vips.h>

#include "detect_internal.h"
#include "core/error.h"
#include "image/image.h"

#define CELL_PER_NUCLEUS 1.9 /* white-cell diameter / nucleus-group width (BCCD: 201 / 103 px) */
/* ... for a field of round nuclei (BCCD's lymphocyte fields: box / width 1.3-1.6; blasts'
 * nuclei fill ~0.8 of the cell), reached linearly from a median roundness of ROUND_LOBED
 * (BCCD's neutrophil fields: 0.4-0.9) to 1. */
#define CELL_PER_ROUND 1.45
#define ROUND_LOBED 0.9
#define CELL_PER_RED 1.9 /* white-cell / red-cell diameter (BCCD boxes: 201 / 105 px) */
#define MIN_NUCLEUS_PER_RED 0.45
#define MIN_CELL_PER_RED 1.5
#define WORK_CELL 56.0 /* white-cell diameter in working pixels */
#define THUMB_SIDE 320 /* longer side of the thumbnail the nuclei are measured on */
#define RED_SIDE 160   /* ... and of the one the red cells are measured on (both x4 when retried) */
#define MIN_CELL_PX 8.0 /* below this a cell cannot be resolved: zero cells */
#define MAX_WORK_PX (16 << 20)
#define VIOLET_MARGIN 24 /* nucleus threshold at least median(B - G) + this */
#define MAX_VIOLET 0.5   /* more of the field than this violet: not a smear */
/* In white-cell diameters: the closing that joins the lobes of one nucleus, and the markers
 * of the split: a second nucleus must be this deep (distance-map maximum), stand this far
 * above the neck joining it to the first, and lie this far from it. */
#define JOIN 0.08
#define SPLIT_HEIGHT 0.2
#define SPLIT_DYNAMIC 0.02
#define SPLIT_SEP 0.35
/* Pieces whose joined box is at most this wide are one cell (the lobes of a neutrophil),
 * unless both are as wide as a whole nucleus (the scale's nucleus width): two cells. */
#define MERGE 1.2

void bs_detect_params_default(bs_detect_params *p) { p->cell_size = 0; }

void bs_detect_free(bs_cells *c) {
    if (!c) return;
    free(c->cells);
    c->cells = NULL;
    c->n = 0;
}

/* Resize an RGB image by f with libvips into a new malloc'd buffer; `fast`: a linear
 * kernel (half the time of the default lanczos3 on a 5 MP field; enough to measure sizes). */
static unsigned char *resize_rgb(const unsigned char *rgb, int w, int h, double f, int fast,
                                 int *ow, int *oh) {
    VipsImage *in = vips_image_new_from_memory(rgb, (size_t)w * h * 3, w, h, 3, VIPS_FORMAT_UCHAR),
              *out = NULL;
    unsigned char *res = NULL;
    if (in && (f == 1 ? !vips_copy(in, &out, NULL)
                      : !vips_resize(in, &out, f, "kernel",
                                     fast ? VIPS_KERNEL_LINEAR : VIPS_KERNEL_LANCZOS3, NULL))) {
        size_t len = 0;
        void *buf = vips_image_write_to_memory(out, &len);
        *ow = vips_image_get_width(out), *oh = vips_image_get_height(out);
        if (buf && len == (size_t)*ow * *oh * 3 && (res = malloc(len))) memcpy(res, buf, len);
        g_free(buf);
    }
    if (!res) {
        bs_error("cells: cannot resize the image: %s", vips_error_buffer());
        vips_error_clear();
    }
    if (out) g_object_unref(out);
    if (in) g_object_unref(in);
    return res;
}

/* B - G of every pixel (violet stains absorb green) and the nucleus threshold. */
static int violet_threshold(const unsigned char *rgb, size_t npx, short *v) {
    double hist[511] = {0};
    for (size_t i = 0; i < npx; i++) {
        v[i] = (short)(rgb[3 * i + 2] - rgb[3 * i + 1]);
        hist[v[i] + 255]++;
    }
    /* Only the occupied range of the histogram: the three-class search is quadratic in it. */
    int lo = 0, hi = 510;
    while (lo < hi && hist[lo] == 0) lo++;
    while (hi > lo && hist[hi] == 0) hi--;
    double half = npx / 2.0, acc = 0;
    int median = 0;
    for (int i = 0; i < 511; i++)
        if ((acc += hist[i]) >= half) {
            median = i - 255;
            break;
        }
    int t = bs_detect_otsu3(hist + lo, hi - lo + 1) + lo - 255;
    return t > median + VIOLET_MARGIN ? t : median + VIOLET_MARGIN;
}

/* The red-cell diameter measured at most `side` pixels wide (the granulometry runs ~20
 * distance transforms), in pixels of the given image. */
static double red_diameter(const unsigned char *rgb, const unsigned char *violet, int w, int h,
                           int side) {
    double f = fmin(1.0, (double)side / (w > h ? w : h));
    if (f == 1) return bs_detect_red_cell_diameter(rgb, violet, w, h);
    int sw = 0, sh = 0;
    unsigned char *s = resize_rgb(rgb, w, h, f, 1, &sw, &sh), *sv = malloc((size_t)sw * sh);
    double d = 0;
    if (s && sv) {
        for (int y = 0; y < sh; y++)
            for (int x = 0; x < sw; x++)
                sv[(size_t)y * sw + x] = violet[(size_t)(int)(y / f) * w + (int)(x / f)];
        d = bs_detect_red_cell_diameter(s, sv, sw, sh) / f;
    }
    free(s), free(sv);
    return d;
}

/* White-cell diameter over nucleus width: a neutrophil's cytoplasm is wide and its joined
 * lobes narrower than the cell (BCCD: 1.9), a round nucleus (lymphocyte, blast) fills most
 * of its cell (BCCD's lymphocytes: 1.3-1.6). `round`: the field's median nucleus roundness. */
static double cell_per_nucleus(double round) {
    double t = (round - ROUND_LOBED) / (1 - ROUND_LOBED);
    t = t < 0 ? 0 : t > 1 ? 1 : t;
    return CELL_PER_NUCLEUS + t * (CELL_PER_ROUND - CELL_PER_NUCLEUS);
}

/* The white-cell diameter in pixels of the input, or 0 when the field shows no nuclei; *red
 * gets the red-cell diameter measured on the way (0: none). */
static double estimate_at(const unsigned char *rgb, int w, int h, int side, double *red_out,
                          double *ratio) {
    double ft = fmin(1.0, (double)side / (w > h ? w : h));
    int tw = 0, th = 0;
    unsigned char *t = resize_rgb(rgb, w, h, ft, 0, &tw, &th), *violet = NULL;
    short *v = NULL;
    double size = -1;
    if (!t) return -1;
    size_t npx = (size_t)tw * th;
    v = malloc(sizeof *v * npx), violet = malloc(npx);
    if (!v || !violet) {
        bs_error("cells: out of memory");
        goto done;
    }
    int thr = violet_threshold(t, npx, v);
    for (size_t i = 0; i < npx; i++) violet[i] = v[i] >= thr ? 255 : 0;
    double round = 0;
    double nucleus = bs_detect_nucleus_size(violet, tw, th, &round) / ft;
    double red = red_diameter(t, violet, tw, th, side * RED_SIDE / THUMB_SIDE) / ft;
    *red_out = red > 0 ? red : 0;
    *ratio = cell_per_nucleus(round);
    size = *ratio * nucleus;
    /* A "nucleus" smaller than a red cell is a platelet: the field has no white cell to
     * measure, so the red cells set the scale (and the platelets fall below it). */
    if (red > 0 && nucleus < MIN_NUCLEUS_PER_RED * red) size = CELL_PER_RED * red;
    /* A white cell is never much smaller than a red cell: lobes of one nucleus taken for
     * nuclei would otherwise shrink the scale and split the cell. */
    if (red > 0 && size < MIN_CELL_PER_RED * red) size = MIN_CELL_PER_RED * red;
done:
    free(t), free(v), free(violet);
    return size;
}

/* The thumbnail must resolve the cells: when the first estimate says a cell is under 12
 * thumbnail pixels or wider than the thumbnail (a slide-sized image, where the cells are
 * specks at 320 px), measure again on a thumbnail 4 times larger, up to 2560 px. */
static double estimate_cell_size(const unsigned char *rgb, int w, int h, double *red,
                                 double *ratio) {
    int longer = w > h ? w : h, shorter = w < h ? w : h;
    double size = 0;
    for (int side = THUMB_SIDE; side <= 8 * THUMB_SIDE; side *= 4) {
        *red = 0;
        size = estimate_at(rgb, w, h, side, red, ratio);
        double ft = fmin(1.0, (double)side / longer);
        if (size < 0 || ft >= 1 || (size * ft >= 12 && size * ft <= shorter * ft)) break;
    }
    return size;
}

typedef struct region {
    int64_t nuc;        /* nucleus pixels */
    double half;        /* the largest distance inside to the nucleus' edge: half its width */
    double sx, sy;      /* sums of nucleus pixel coordinates */
    int x0, y0, x1, y1; /* box of the region (joined nucleus) */
} region;

static int cmp_cell(const void *a, const void *b) {
    const bs_cell *p = a, *q = b;
    if (p->y0 != q->y0) return p->y0 < q->y0 ? -1 : 1;
    return (p->x0 > q->x0) - (p->x0 < q->x0);
}

/* The working buffers of one detection. */
typedef struct work {
    int w, h;
    double f, cell; /* scale to the input, white-cell diameter in working pixels */
    double ratio;   /* white-cell diameter / nucleus width */
    unsigned char *rgb, *nuc, *grp;
    short *v;
    float *dt;
    int32_t *lab;
} work;

static void work_free(work *k) {
    free(k->rgb), free(k->nuc), free(k->grp), free(k->v), free(k->dt), free(k->lab);
}

/* Steps 3 and 4: nucleus mask, joined mask, labelled regions. Returns the region count. */
static int segment(work *k) {
    size_t npx = (size_t)k->w * k->h, nv = 0;
    int thr = violet_threshold(k->rgb, npx, k->v);
    for (size_t i = 0; i < npx; i++) nv += (k->nuc[i] = k->v[i] >= thr ? 255 : 0) != 0;
    if (nv > MAX_VIOLET * npx) return 0;
    if (bs_detect_open(k->nuc, k->w, k->h, (int)lround(0.04 * k->cell)) ||
        bs_detect_fill_holes(k->nuc, k->w, k->h))
        return -1;
    memcpy(k->grp, k->nuc, npx);
    if (bs_detect_close(k->grp, k->w, k->h, (int)lround(JOIN * k->cell)) ||
        bs_detect_fill_holes(k->grp, k->w, k->h) || bs_detect_edt(k->nuc, k->w, k->h, k->dt))
        return -1;
    /* Markers from the nuclei before the closing: the closing fills the notch where two
     * round nuclei touch, and with it the neck that tells them apart. */
    int n = bs_detect_markers(k->dt, k->nuc, k->w, k->h, SPLIT_DYNAMIC * k->cell,
                              SPLIT_HEIGHT * k->cell, SPLIT_SEP * k->cell, k->lab);
    if (n <= 0) return n;
    for (size_t i = 0; i < npx; i++) k->dt[i] = -k->dt[i];
    if (bs_detect_watershed(k->dt, k->grp, k->w, k->h, k->lab)) return -1;
    return n;
}

typedef struct pair {
    double d;
    int a, b;
} pair;

static int by_distance(const void *x, const void *y) {
    const pair *p = x, *q = y;
    if (p->d != q->d) return p->d < q->d ? -1 : 1;
    return p->a != q->a ? p->a - q->a : p->b - q->b;
}

/* Pieces of one nucleus left apart (lobes the closing did not join, or split by the
 * watershed) go back together, nearest first, while the joined box stays within `limit`
 * on its longer side: lobes of one cell fit in one cell, two touching nuclei do not. Two
 * pieces each as wide as a whole nucleus (`whole`) are two round nuclei, never joined:
 * lobes are narrower than the nucleus they make up. */
static int merge_lobes(region *reg, int n, double limit, double whole) {
    size_t np = 0, cap = 64;
    pair *pr = malloc(sizeof *pr * cap);
    if (!pr) return bs_error("cells: out of memory");
    for (int a = 1; a <= n; a++)
        for (int b = a + 1; b <= n && reg[a].nuc; b++) {
            if (!reg[b].nuc) continue;
            double dx = reg[a].sx / reg[a].nuc - reg[b].sx / reg[b].nuc,
                   dy = reg[a].sy / reg[a].nuc - reg[b].sy / reg[b].nuc;
            if (dx * dx + dy * dy > limit * limit) continue;
            if (np == cap) {
                pair *g = realloc(pr, sizeof *pr * (cap *= 2));
                if (!g) return free(pr), bs_error("cells: out of memory");
                pr = g;
            }
            pr[np++] = (pair){dx * dx + dy * dy, a, b};
        }
    qsort(pr, np, sizeof *pr, by_distance);
    for (size_t k = 0; k < np; k++) {
        region *p = &reg[pr[k].a], *q = &reg[pr[k].b];
        if (!p->nuc || !q->nuc) continue; /* already merged into another */
        int x0 = p->x0 < q->x0 ? p->x0 : q->x0, x1 = p->x1 > q->x1 ? p->x1 : q->x1;
        int y0 = p->y0 < q->y0 ? p->y0 : q->y0, y1 = p->y1 > q->y1 ? p->y1 : q->y1;
        if (x1 - x0 > limit || y1 - y0 > limit) continue;
        if (2 * p->half >= whole && 2 * q->half >= whole) continue;
        p->nuc += q->nuc, p->sx += q->sx, p->sy += q->sy;
        p->half = fmax(p->half, q->half);
        p->x0 = x0, p->x1 = x1, p->y0 = y0, p->y1 = y1;
        q->nuc = 0;
    }
    free(pr);
    return 0;
}

/* Step 5: one record per region big enough, in input coordinates. */
static int collect(const work *k, int n, int width, int height, bs_cells *out) {
    region *reg = calloc((size_t)n + 1, sizeof *reg);
    out->cells = calloc((size_t)n + 1, sizeof *out->cells);
    if (!reg || !out->cells) {
        free(reg);
        return bs_error("cells: out of memory");
    }
    for (int i = 0; i <= n; i++) reg[i].x0 = k->w, reg[i].y0 = k->h;
    for (int y = 0; y < k->h; y++)
        for (int x = 0; x < k->w; x++) {
            size_t i = (size_t)y * k->w + x;
            int l = k->lab[i];
            if (l <= 0 || l > n) continue;
            region *g = &reg[l];
            if (k->nuc[i]) g->nuc++, g->sx += x, g->sy += y;
            if (-k->dt[i] > g->half) g->half = -k->dt[i];
            if (x < g->x0) g->x0 = x;
            if (y < g->y0) g->y0 = y;
            if (x + 1 > g->x1) g->x1 = x + 1;
            if (y + 1 > g->y1) g->y1 = y + 1;
        }
    if (merge_lobes(reg, n, MERGE * k->cell, k->cell / k->ratio)) {
        free(reg);
        return -1;
    }
    double min_area = 0.07 * k->cell * k->cell, side = 0.85 * k->cell, pad = 0.05 * k->cell;
    for (int l = 1; l <= n; l++) {
        region *g = &reg[l];
        if (g->nuc < min_area) continue;
        double cx = g->sx / g->nuc, cy = g->sy / g->nuc;
        double bx = (g->x0 + g->x1) / 2.0, by = (g->y0 + g->y1) / 2.0;
        double hw = fmax(g->x1 - g->x0, side) / 2 + pad, hh = fmax(g->y1 - g->y0, side) / 2 + pad;
        double x0 = (bx - hw) / k->f, x1 = (bx + hw) / k->f, y0 = (by - hh) / k->f,
               y1 = (by + hh) / k->f;
        bs_cell *c = &out->cells[out->n++];
        c->x = (cx + 0.5) / k->f - 0.5, c->y = (cy + 0.5) / k->f - 0.5;
        c->x0 = (int)fmax(0, floor(x0)), c->y0 = (int)fmax(0, floor(y0));
        c->x1 = (int)fmin(width, ceil(x1)), c->y1 = (int)fmin(height, ceil(y1));
        c->edge = g->x0 == 0 || g->y0 == 0 || g->x1 == k->w || g->y1 == k->h || x0 < 0 || y0 < 0 ||
                  x1 > width || y1 > height;
        c->nucleus_area = (int64_t)llround(g->nuc / (k->f * k->f));
    }
    free(reg);
    qsort(out->cells, (size_t)out->n, sizeof *out->cells, cmp_cell);
    return 0;
}

int bs_detect_scale(const unsigned char *rgb, int width, int height, double *cell_size,
                    double *red_cell_size) {
    *cell_size = *red_cell_size = 0;
    if (!rgb || width <= 0 || height <= 0)
        return bs_error("cells: invalid image (%dx%d)", width, height);
    if ((int64_t)width * height > BS_IMAGE_MAX_PIXELS)
        return bs_error("cells: image is %dx%d pixels, more than the %lld allowed", width, height,
                        (long long)BS_IMAGE_MAX_PIXELS);
    double ratio = CELL_PER_NUCLEUS;
    double cell = estimate_cell_size(rgb, width, height, red_cell_size, &ratio);
    if (cell < 0) return -1;
    *cell_size = cell >= MIN_CELL_PX ? cell : 0;
    return 0;
}

int bs_detect_cells(const unsigned char *rgb, int width, int height, const bs_detect_params *p,
                    bs_cells *out) {
    if (!out) return bs_error("cells: no output");
    memset(out, 0, sizeof *out);
    if (!rgb || width <= 0 || height <= 0)
        return bs_error("cells: invalid image (%dx%d)", width, height);
    if ((int64_t)width * height > BS_IMAGE_MAX_PIXELS)
        return bs_error("cells: image is %dx%d pixels, more than the %lld allowed", width, height,
                        (long long)BS_IMAGE_MAX_PIXELS);
    if (p && !isfinite(p->cell_size)) return bs_error("cells: cell size is not a finite number");
    double red = 0, ratio = CELL_PER_NUCLEUS;
    double cell =
        p && p->cell_size > 0 ? p->cell_size : estimate_cell_size(rgb, width, height, &red, &ratio);
    if (cell < 0) return -1;
    out->cell_size = cell;
    out->red_cell_size = red;
    /* Cells too small to resolve, or so large that no whole one fits: none to find. */
    int longer = width > height ? width : height;
    if (cell < MIN_CELL_PX || width < MIN_CELL_PX || height < MIN_CELL_PX || cell > 4.0 * longer)
        return 0;
    work k = {0};
    k.f = fmin(1.0, WORK_CELL / cell);
    if ((double)width * height * k.f * k.f > MAX_WORK_PX)
        k.f = sqrt((double)MAX_WORK_PX / ((double)width * height));
    k.cell = cell * k.f;
    k.ratio = ratio;
    k.rgb = resize_rgb(rgb, width, height, k.f, 1, &k.w, &k.h);
    if (!k.rgb) return -1;
    size_t npx = (size_t)k.w * k.h;
    k.nuc = malloc(npx), k.grp = malloc(npx), k.v = malloc(sizeof *k.v * npx);
    k.dt = malloc(sizeof *k.dt * npx), k.lab = malloc(sizeof *k.lab * npx);
    if (!k.nuc || !k.grp || !k.v || !k.dt || !k.lab) {
        work_free(&k);
        return bs_error("cells: out of memory (%dx%d working image)", k.w, k.h);
    }
    int n = segment(&k), rc = n < 0 ? -1 : n == 0 ? 0 : collect(&k, n, width, height, out);
    work_free(&k);
    if (rc) bs_detect_free(out);
    return rc;
}
