/* field.c — per-field colour normalisation, reflection-padded cell crops, the blast count with
 * its Wilson interval (core/stats.h) and the field call (field.h). Not for: drawing (overlay.c)
 * or classification (classify.c). */
#include "field.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/io.h"
#include "core/stats.h"

/* Typical of a well-stained May-Grünwald-Giemsa smear under white light: a near-white
 * background and dark-violet nuclei (roughly the middle of Aria 2021's and BCCD's fields). */
const double bs_field_background_ref[3] = {232, 232, 232};
const double bs_field_nucleus_ref[3] = {95, 55, 160};

#define NORM_MIN_SPREAD 16.0
#define NORM_MIN_GAIN 0.25
#define NORM_MAX_GAIN 4.0
#define CROP_MAX_SIDE 1024 /* larger crops are subsampled: the backbone input is far smaller */

/* Median of a 256-bin histogram holding total > 0 counts. */
static double hist_median(const int64_t *h, int64_t total) {
    int64_t half = (total + 1) / 2, acc = 0;
    for (int v = 0; v < 256; v++) {
        acc += h[v];
        if (acc >= half) return v;
    }
    return 255;
}

/* Brightness thresholds: the brightest quarter has s >= *hi, the darkest 1 % s <= *lo. */
static void thresholds(const bs_image *img, int *lo, int *hi) {
    static const int bins = 766;
    int64_t *h = calloc(bins, sizeof *h); /* 6 KB; on failure fall back to fixed cuts */
    int64_t n = (int64_t)img->width * img->height;
    *lo = 0;
    *hi = 765;
    if (!h) return;
    for (int64_t i = 0; i < n; i++) {
        const unsigned char *p = img->rgb + 3 * i;
        h[p[0] + p[1] + p[2]]++;
    }
    int64_t acc = 0, want_hi = (n + 3) / 4, want_lo = n / 100 > 0 ? n / 100 : 1;
    for (int s = bins - 1; s >= 0; s--) {
        acc += h[s];
        if (acc >= want_hi) {
            *hi = s;
            break;
        }
    }
    acc = 0;
    for (int s = 0; s < bins; s++) {
        acc += h[s];
        if (acc >= want_lo) {
            *lo = s;
            break;
        }
    }
    free(h);
}

static void measure(const bs_image *img, bs_field_colour *c) {
    int lo, hi;
    thresholds(img, &lo, &hi);
    int64_t hb[3][256] = {{0}}, hn[3][256] = {{0}}, nb = 0, nn = 0;
    int64_t n = (int64_t)img->width * img->height;
    for (int64_t i = 0; i < n; i++) {
        const unsigned char *p = img->rgb + 3 * i;
        int s = p[0] + p[1] + p[2];
        if (s >= hi) {
            nb++;
            for (int k = 0; k < 3; k++) hb[k][p[k]]++;
        }
        if (s <= lo) {
            nn++;
            for (int k = 0; k < 3; k++) hn[k][p[k]]++;
        }
    }
    for (int k = 0; k < 3; k++) {
        c->background[k] = nb ? hist_median(hb[k], nb) : 255;
        c->nucleus[k] = nn ? hist_median(hn[k], nn) : 0;
    }
}

int bs_field_normalise(bs_image *img, bs_field_colour *colour) {
    if (!img || !img->rgb || img->width < 1 || img->height < 1)
        return bs_error("normalise: empty image");
    bs_field_colour c;
    memset(&c, 0, sizeof c);
    measure(img, &c);
    unsigned char lut[3][256];
    for (int k = 0; k < 3; k++) {
        double spread = c.background[k] - c.nucleus[k];
        double gain = 1.0;
        if (spread >= NORM_MIN_SPREAD) {
            gain = (bs_field_background_ref[k] - bs_field_nucleus_ref[k]) / spread;
            gain = gain < NORM_MIN_GAIN   ? NORM_MIN_GAIN
                   : gain > NORM_MAX_GAIN ? NORM_MAX_GAIN
                                          : gain;
        }
        c.gain[k] = gain;
        c.offset[k] = bs_field_background_ref[k] - gain * c.background[k];
        for (int v = 0; v < 256; v++) {
            double o = floor(gain * v + c.offset[k] + 0.5);
            lut[k][v] = (unsigned char)(o < 0 ? 0 : o > 255 ? 255 : o);
        }
    }
    int64_t n = (int64_t)img->width * img->height;
    for (int64_t i = 0; i < n; i++) {
        unsigned char *p = img->rgb + 3 * i;
        p[0] = lut[0][p[0]];
        p[1] = lut[1][p[1]];
        p[2] = lut[2][p[2]];
    }
    if (colour) *colour = c;
    return 0;
}

int bs_field_crop_side(const bs_cell *cell) {
    int64_t w = (int64_t)cell->x1 - cell->x0, h = (int64_t)cell->y1 - cell->y0;
    double side = BS_FIELD_CROP_SCALE * (double)(w > h ? w : h);
    if (!(side >= BS_FIELD_CROP_MIN)) return BS_FIELD_CROP_MIN;
    return side > 1e9 ? 1000000000 : (int)lround(side);
}

/* Symmetric reflection of any integer coordinate into [0, n): ... 2 1 0 | 0 1 2 ... n-1 |
 * n-1 n-2 ... (whole periods first, so a pad wider than the image still lands inside). */
static int64_t reflect(int64_t i, int64_t n) {
    int64_t period = 2 * n;
    int64_t m = i % period;
    if (m < 0) m += period;
    return m < n ? m : period - 1 - m;
}

int bs_field_crop(const bs_image *img, const bs_cell *cell, bs_image *out) {
    memset(out, 0, sizeof *out);
    if (!img || !img->rgb || img->width < 1 || img->height < 1 || !cell)
        return bs_error("crop: empty image");
    int64_t side = bs_field_crop_side(cell);
    int64_t o = side > CROP_MAX_SIDE ? CROP_MAX_SIDE : side; /* output side */
    /* top-left of the square centred on the box, floor division for negative coordinates */
    int64_t twice_left = (int64_t)cell->x0 + cell->x1 - side,
            twice_top = (int64_t)cell->y0 + cell->y1 - side;
    int64_t left = twice_left >= 0 ? twice_left / 2 : -((-twice_left + 1) / 2);
    int64_t top = twice_top >= 0 ? twice_top / 2 : -((-twice_top + 1) / 2);
    if (!(out->rgb = bs_malloc((size_t)(o * o * 3)))) return -1;
    out->width = out->height = (int)o;
    out->cell_px = img->cell_px * (double)o / (double)side; /* the field's scale, in crop pixels */
    out->red_cell_px = img->red_cell_px * (double)o / (double)side;
    for (int64_t r = 0; r < o; r++) {
        int64_t sy = reflect(top + r * side / o, img->height);
        const unsigned char *row = img->rgb + (size_t)sy * (size_t)img->width * 3;
        unsigned char *dst = out->rgb + (size_t)(r * o * 3);
        for (int64_t c = 0; c < o; c++) {
            int64_t sx = reflect(left + c * side / o, img->width);
            memcpy(dst + 3 * c, row + 3 * sx, 3);
        }
    }
    return 0;
}

int bs_field_crops(const bs_image *field, const bs_cell *cells, int64_t n, int normalise,
                   bs_image *crops) {
    for (int64_t i = 0; i < n; i++) memset(&crops[i], 0, sizeof crops[i]);
    if (n == 0) return 0;
    bs_image norm = *field;
    if (normalise) {
        size_t bytes = (size_t)field->width * (size_t)field->height * 3;
        if (!(norm.rgb = bs_malloc(bytes))) return -1;
        memcpy(norm.rgb, field->rgb, bytes);
        if (bs_field_normalise(&norm, NULL)) {
            free(norm.rgb);
            return -1;
        }
    }
    int rc = 0;
    for (int64_t i = 0; i < n && rc == 0; i++) rc = bs_field_crop(&norm, &cells[i], &crops[i]);
    if (normalise) free(norm.rgb);
    if (rc)
        for (int64_t i = 0; i < n; i++) bs_image_free(&crops[i]);
    return rc;
}

void bs_field_rule_default(bs_field_rule *r) {
    r->min_blasts = 1;
    r->min_probability = 0.9;
}

void bs_field_summarise(const bs_field_call *calls, int64_t n, const bs_field_rule *rule,
                        bs_field_summary *out) {
    memset(out, 0, sizeof *out);
    out->white_cells = n;
    for (int64_t i = 0; i < n; i++) {
        out->ood_cells += calls[i].ood != 0;
        if (calls[i].label != 1) continue;
        out->blasts++;
        if (!calls[i].ood && calls[i].probability >= rule->min_probability) out->confident_blasts++;
    }
    if (n > 0) {
        double lo, hi;
        bs_wilson95(out->blasts, n, &lo, &hi);
        out->blast_percent = 100.0 * (double)out->blasts / (double)n;
        out->blast_percent_lo = 100 * lo;
        out->blast_percent_hi = 100 * hi;
    } else {
        out->blast_percent = out->blast_percent_lo = out->blast_percent_hi = NAN;
    }
    out->all_suspected = n > 0 && out->confident_blasts >= rule->min_blasts;
}

const char *bs_field_call_name(const bs_field_summary *s) {
    if (s->white_cells == 0) return "no white cells";
    return s->all_suspected ? "ALL suspected" : "no confident blast";
}
