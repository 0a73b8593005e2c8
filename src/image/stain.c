/* stain.c — colour deconvolution, HED jitter and Reinhard transfer (see stain.h).
 *
 * Both colour spaces are an 8-bit lookup or a log followed by a 3×3 matrix, so the matrices'
 * inverses are computed here from the published forward matrices (one definition of each);
 * HED jitter is affine in optical density (od' = od · Minv · diag(alpha) · M + beta · M), so it
 * is applied as one matrix and offset per pixel. */
#include "stain.h"

#include <math.h>

#include "core/error.h"

/* Ruifrok & Johnston's stain OD vectors, one row per stain (H, E, D): od = hed · M. */
static const double rgb_from_hed[3][3] = {
    {0.65, 0.70, 0.29}, {0.07, 0.99, 0.11}, {0.27, 0.57, 0.78}};

/* Reinhard et al.'s RGB to LMS cone responses: lms = A · rgb. */
static const double lms_from_rgb[3][3] = {
    {0.3811, 0.5783, 0.0402}, {0.1967, 0.7244, 0.0782}, {0.0241, 0.1288, 0.8444}};

#define OD_FLOOR 1e-6 /* scikit-image's: log of 0 avoided */
#define LN10 2.302585092994045684

static void inverse3(const double m[3][3], double inv[3][3]) {
    double c00 = m[1][1] * m[2][2] - m[1][2] * m[2][1];
    double c01 = m[1][2] * m[2][0] - m[1][0] * m[2][2];
    double c02 = m[1][0] * m[2][1] - m[1][1] * m[2][0];
    double det = m[0][0] * c00 + m[0][1] * c01 + m[0][2] * c02;
    inv[0][0] = c00 / det;
    inv[0][1] = (m[0][2] * m[2][1] - m[0][1] * m[2][2]) / det;
    inv[0][2] = (m[0][1] * m[1][2] - m[0][2] * m[1][1]) / det;
    inv[1][0] = c01 / det;
    inv[1][1] = (m[0][0] * m[2][2] - m[0][2] * m[2][0]) / det;
    inv[1][2] = (m[0][2] * m[1][0] - m[0][0] * m[1][2]) / det;
    inv[2][0] = c02 / det;
    inv[2][1] = (m[0][1] * m[2][0] - m[0][0] * m[2][1]) / det;
    inv[2][2] = (m[0][0] * m[1][1] - m[0][1] * m[1][0]) / det;
}

/* Absorbance of every 8-bit value. */
static void od_table(float od[256]) {
    for (int v = 0; v < 256; v++) {
        double t = v / 255.0;
        od[v] = (float)-log10(t > OD_FLOOR ? t : OD_FLOOR);
    }
}

static unsigned char to_byte(double v) {
    if (!(v > 0)) return 0; /* NaN too */
    if (v >= 255) return 255;
    return (unsigned char)(v + 0.5);
}

/* 255 · 10^(-od), as a byte. */
static unsigned char od_to_byte(double od) { return to_byte(255.0 * exp(-od * LN10)); }

void bs_rgb_to_hed(const unsigned char *rgb, size_t npixels, float *hed) {
    float od[256];
    od_table(od);
    double inv[3][3];
    inverse3(rgb_from_hed, inv);
    for (size_t i = 0; i < npixels; i++) {
        const unsigned char *p = rgb + 3 * i;
        double r = od[p[0]], g = od[p[1]], b = od[p[2]];
        for (int s = 0; s < 3; s++)
            hed[3 * i + s] = (float)(r * inv[0][s] + g * inv[1][s] + b * inv[2][s]);
    }
}

void bs_hed_to_rgb(const float *hed, size_t npixels, unsigned char *rgb) {
    for (size_t i = 0; i < npixels; i++) {
        const float *s = hed + 3 * i;
        for (int c = 0; c < 3; c++)
            rgb[3 * i + c] = od_to_byte(s[0] * rgb_from_hed[0][c] + s[1] * rgb_from_hed[1][c] +
                                        s[2] * rgb_from_hed[2][c]);
    }
}

void bs_hed_jitter_draw(bs_rng *rng, double sigma, bs_hed_jitter *j) {
    for (int s = 0; s < 3; s++) {
        j->alpha[s] = 1.0 + sigma * (2.0 * bs_rng_uniform(rng) - 1.0);
        j->beta[s] = sigma * (2.0 * bs_rng_uniform(rng) - 1.0);
    }
}

void bs_hed_jitter_apply(bs_image *img, const bs_hed_jitter *j) {
    double inv[3][3], a[3][3], b[3];
    inverse3(rgb_from_hed, inv);
    /* od' = od · A + b with A = Minv · diag(alpha) · M and b = beta · M. */
    for (int r = 0; r < 3; r++)
        for (int c = 0; c < 3; c++) {
            a[r][c] = 0;
            for (int s = 0; s < 3; s++) a[r][c] += inv[r][s] * j->alpha[s] * rgb_from_hed[s][c];
        }
    for (int c = 0; c < 3; c++)
        b[c] = j->beta[0] * rgb_from_hed[0][c] + j->beta[1] * rgb_from_hed[1][c] +
               j->beta[2] * rgb_from_hed[2][c];
    float od[256];
    od_table(od);
    const size_t n = (size_t)img->width * img->height;
    for (size_t i = 0; i < n; i++) {
        unsigned char *p = img->rgb + 3 * i;
        double r = od[p[0]], g = od[p[1]], bl = od[p[2]];
        for (int c = 0; c < 3; c++)
            p[c] = od_to_byte(r * a[0][c] + g * a[1][c] + bl * a[2][c] + b[c]);
    }
}

/* ---- Reinhard ------------------------------------------------------------------------ */

static void to_lab(const unsigned char *p, double lab[3]) {
    double v[3] = {(p[0] + 1) / 256.0, (p[1] + 1) / 256.0, (p[2] + 1) / 256.0}, L[3];
    for (int r = 0; r < 3; r++)
        L[r] = log10(lms_from_rgb[r][0] * v[0] + lms_from_rgb[r][1] * v[1] +
                     lms_from_rgb[r][2] * v[2]);
    lab[0] = (L[0] + L[1] + L[2]) / sqrt(3.0);
    lab[1] = (L[0] + L[1] - 2 * L[2]) / sqrt(6.0);
    lab[2] = (L[0] - L[1]) / sqrt(2.0);
}

/* rgb_from_lms: the inverse of lms_from_rgb. */
static void from_lab(const double rgb_from_lms[3][3], const double lab[3], unsigned char *p) {
    double l = lab[0] / sqrt(3.0), a = lab[1] / sqrt(6.0), b = lab[2] / sqrt(2.0);
    double lms[3] = {pow(10.0, l + a + b), pow(10.0, l + a - b), pow(10.0, l - 2 * a)};
    for (int r = 0; r < 3; r++)
        p[r] = to_byte(256.0 * (rgb_from_lms[r][0] * lms[0] + rgb_from_lms[r][1] * lms[1] +
                                rgb_from_lms[r][2] * lms[2]) -
                       1.0);
}

void bs_colour_stats_add(bs_colour_stats *st, const bs_image *img) {
    const size_t n = (size_t)img->width * img->height;
    if (!n) return;
    /* This image's mean and sum of squared deviations (Welford), merged with what st holds
     * (Chan et al.'s pairwise update): exact enough for millions of pixels. */
    double mean[3] = {0, 0, 0}, m2[3] = {0, 0, 0};
    for (size_t i = 0; i < n; i++) {
        double lab[3];
        to_lab(img->rgb + 3 * i, lab);
        for (int c = 0; c < 3; c++) {
            double d = lab[c] - mean[c];
            mean[c] += d / (double)(i + 1);
            m2[c] += d * (lab[c] - mean[c]);
        }
    }
    bs_colour_stats own = {.pixels = (double)n};
    for (int c = 0; c < 3; c++) own.mean[c] = mean[c], own.sd[c] = sqrt(m2[c] / (double)n);
    bs_colour_stats_merge(st, &own);
}

void bs_colour_stats_merge(bs_colour_stats *st, const bs_colour_stats *other) {
    double na = st->pixels, nb = other->pixels, nt = na + nb;
    if (!(nb > 0)) return;
    for (int c = 0; c < 3; c++) {
        double d = other->mean[c] - st->mean[c];
        double m2t =
            st->sd[c] * st->sd[c] * na + other->sd[c] * other->sd[c] * nb + d * d * na * nb / nt;
        st->mean[c] += d * nb / nt;
        st->sd[c] = sqrt(m2t / nt);
    }
    st->pixels = nt;
}

int bs_reinhard_transfer(bs_image *img, const bs_colour_stats *from, const bs_colour_stats *to) {
    bs_colour_stats own = {0};
    if (!from) {
        bs_colour_stats_add(&own, img);
        from = &own;
    }
    if (!(from->pixels > 0) || !(to->pixels > 0))
        return bs_error("colour transfer: statistics of no pixels");
    double inv[3][3], gain[3];
    inverse3(lms_from_rgb, inv);
    for (int c = 0; c < 3; c++) gain[c] = from->sd[c] < 1e-6 ? 1.0 : to->sd[c] / from->sd[c];
    const size_t n = (size_t)img->width * img->height;
    for (size_t i = 0; i < n; i++) {
        double lab[3];
        to_lab(img->rgb + 3 * i, lab);
        for (int c = 0; c < 3; c++) lab[c] = (lab[c] - from->mean[c]) * gain[c] + to->mean[c];
        from_lab(inv, lab, img->rgb + 3 * i);
    }
    return 0;
}
