/* cells.c — white-cell detection (see cells.h). First version: a threshold on blue minus
 * green (Otsu), an opening, hole filling and the components of at least 15 % of the largest.
 * Not for: cropping or classification. */
#include "cells.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <vips/vips.h>

#include "core/error.h"
#include "image/image.h"

void bs_cells_params_default(bs_cells_params *p) { p->cell_size = 0; }

void bs_cells_free(bs_cells *c) {
    if (!c) return;
    free(c->cells);
    c->cells = NULL;
    c->n = 0;
}

/* Otsu's threshold of a 256-bin histogram: the level t that maximises the between-class
 * variance of {< t} and {>= t}. */
static int otsu(const double *hist) {
    double total = 0, sum = 0;
    for (int i = 0; i < 256; i++) total += hist[i], sum += i * hist[i];
    double w0 = 0, s0 = 0, best = -1;
    int t_best = 128;
    for (int t = 1; t < 256; t++) {
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

/* A disc structuring element for vips_morph: 255 inside, 128 (don't care) outside. */
static VipsImage *disc(int r) {
    VipsImage *m = vips_image_new_matrix(2 * r + 1, 2 * r + 1);
    if (!m) return NULL;
    for (int y = -r; y <= r; y++)
        for (int x = -r; x <= r; x++) *VIPS_MATRIX(m, x + r, y + r) = x * x + y * y <= r * r + r ? 255 : 128;
    return m;
}

static const char *vmsg(void) {
    static _Thread_local char buf[512];
    snprintf(buf, sizeof buf, "%s", vips_error_buffer());
    vips_error_clear();
    char *nl = strchr(buf, '\n');
    if (nl) *nl = '\0';
    return buf;
}

/* Copy a computed image into dst (len bytes expected). */
static int write_into(VipsImage *im, void *dst, size_t len) {
    size_t got = 0;
    void *buf = vips_image_write_to_memory(im, &got);
    if (!buf) return -1;
    int ok = got == len;
    if (ok) memcpy(dst, buf, len);
    g_free(buf);
    if (!ok) vips_error("cells", "unexpected image size");
    return ok ? 0 : -1;
}

/* Opening of a 0/255 mask by a disc, with libvips. Writes the result over `mask`. */
static int open_mask(unsigned char *mask, int w, int h, int r) {
    if (r < 1) return 0;
    VipsImage *ctx = vips_image_new();
    VipsImage **t = (VipsImage **)vips_object_local_array(VIPS_OBJECT(ctx), 4);
    int rc = -1;
    t[0] = vips_image_new_from_memory(mask, (size_t)w * h, w, h, 1, VIPS_FORMAT_UCHAR);
    t[1] = disc(r);
    if (t[0] && t[1] && !vips_morph(t[0], &t[2], t[1], VIPS_OPERATION_MORPHOLOGY_ERODE, NULL) &&
        !vips_morph(t[2], &t[3], t[1], VIPS_OPERATION_MORPHOLOGY_DILATE, NULL) &&
        !write_into(t[3], mask, (size_t)w * h))
        rc = 0;
    if (rc) bs_error("cells: opening failed: %s", vmsg());
    g_object_unref(ctx);
    return rc;
}

/* Connected components (libvips labelregions labels every region of equal value, foreground
 * and background alike). Returns a malloc'd label image, and the number of labels. */
static int32_t *label(const unsigned char *mask, int w, int h, int *nlabels) {
    VipsImage *ctx = vips_image_new();
    VipsImage **t = (VipsImage **)vips_object_local_array(VIPS_OBJECT(ctx), 3);
    int32_t *lab = NULL;
    int segments = 0;
    t[0] = vips_image_new_from_memory(mask, (size_t)w * h, w, h, 1, VIPS_FORMAT_UCHAR);
    if (t[0] && !vips_labelregions(t[0], &t[1], "segments", &segments, NULL) &&
        !vips_cast(t[1], &t[2], VIPS_FORMAT_INT, NULL)) {
        lab = malloc(sizeof *lab * (size_t)w * h);
        if (!lab) bs_error("cells: out of memory");
        else if (write_into(t[2], lab, sizeof *lab * (size_t)w * h)) free(lab), lab = NULL;
    }
    if (!lab && !bs_error_message()[0]) bs_error("cells: labelling failed: %s", vmsg());
    *nlabels = segments;
    g_object_unref(ctx);
    return lab;
}

/* Fill the holes of a 0/255 mask: background regions that do not touch the border. */
static int fill_holes(unsigned char *mask, int w, int h) {
    int n = 0;
    int32_t *lab = label(mask, w, h, &n);
    if (!lab) return -1;
    unsigned char *outer = calloc((size_t)n + 1, 1);
    if (!outer) return free(lab), bs_error("cells: out of memory");
    for (int x = 0; x < w; x++) outer[lab[x]] = outer[lab[(size_t)(h - 1) * w + x]] = 1;
    for (int y = 0; y < h; y++) outer[lab[(size_t)y * w]] = outer[lab[(size_t)y * w + w - 1]] = 1;
    for (size_t i = 0; i < (size_t)w * h; i++)
        if (!mask[i] && lab[i] >= 0 && lab[i] <= n && !outer[lab[i]]) mask[i] = 255;
    free(outer);
    free(lab);
    return 0;
}

typedef struct region {
    int64_t area;
    double sx, sy;
    int x0, y0, x1, y1;
    int fg;
} region;

static int cmp_cell(const void *a, const void *b) {
    const bs_cell *p = a, *q = b;
    if (p->y0 != q->y0) return p->y0 < q->y0 ? -1 : 1;
    return (p->x0 > q->x0) - (p->x0 < q->x0);
}

int bs_cells_detect(const unsigned char *rgb, int width, int height, const bs_cells_params *p, bs_cells *out) {
    if (!out) return bs_error("cells: no output");
    memset(out, 0, sizeof *out);
    if (!rgb || width <= 0 || height <= 0) return bs_error("cells: invalid image (%dx%d)", width, height);
    if ((int64_t)width * height > BS_IMAGE_MAX_PIXELS)
        return bs_error("cells: image is %dx%d pixels, more than the %lld allowed", width, height,
                        (long long)BS_IMAGE_MAX_PIXELS);
    int w = width, h = height;
    size_t npx = (size_t)w * h;
    unsigned char *mask = malloc(npx);
    double hist[256] = {0};
    if (!mask) return bs_error("cells: out of memory");
    for (size_t i = 0; i < npx; i++) {
        int v = (rgb[3 * i + 2] - rgb[3 * i + 1]) / 2 + 128;
        mask[i] = (unsigned char)v;
        hist[v]++;
    }
    /* A blank or grey field has no contrast to split: require the threshold to mean violet. */
    int thr = otsu(hist);
    if (thr < 128 + 10) thr = 128 + 10;
    for (size_t i = 0; i < npx; i++) mask[i] = mask[i] >= thr ? 255 : 0;
    double size = p && p->cell_size > 0 ? p->cell_size : 0;
    int r = size > 0 ? (int)(size / 40) : (int)((w > h ? w : h) / 320);
    if (open_mask(mask, w, h, r > 0 ? r : 1) || fill_holes(mask, w, h)) return free(mask), -1;
    int n = 0;
    int32_t *lab = label(mask, w, h, &n);
    region *reg = lab ? calloc((size_t)n + 1, sizeof *reg) : NULL;
    if (!reg) {
        free(mask), free(lab);
        return lab ? bs_error("cells: out of memory") : -1;
    }
    for (int i = 0; i <= n; i++) reg[i].x0 = w, reg[i].y0 = h;
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            size_t i = (size_t)y * w + x;
            if (lab[i] < 0 || lab[i] > n) continue;
            region *g = &reg[lab[i]];
            g->fg = mask[i] != 0;
            g->area++, g->sx += x, g->sy += y;
            if (x < g->x0) g->x0 = x;
            if (y < g->y0) g->y0 = y;
            if (x + 1 > g->x1) g->x1 = x + 1;
            if (y + 1 > g->y1) g->y1 = y + 1;
        }
    int64_t largest = 0;
    for (int i = 0; i <= n; i++)
        if (reg[i].fg && reg[i].area > largest) largest = reg[i].area;
    out->cells = calloc((size_t)n + 1, sizeof *out->cells);
    if (!out->cells) {
        free(mask), free(lab), free(reg);
        return bs_error("cells: out of memory");
    }
    for (int i = 0; i <= n; i++) {
        region *g = &reg[i];
        if (!g->fg || g->area < 0.15 * largest || g->area < 16) continue;
        bs_cell *c = &out->cells[out->n++];
        c->x = g->sx / g->area, c->y = g->sy / g->area;
        c->x0 = g->x0, c->y0 = g->y0, c->x1 = g->x1, c->y1 = g->y1;
        c->nucleus_area = g->area;
        c->edge = g->x0 == 0 || g->y0 == 0 || g->x1 == w || g->y1 == h;
    }
    qsort(out->cells, (size_t)out->n, sizeof *out->cells, cmp_cell);
    out->cell_size = size > 0 ? size : 0;
    free(mask), free(lab), free(reg);
    return 0;
}
