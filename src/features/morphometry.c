/* morphometry.c — the morphometric features of the cell at the centre of a crop
 * (morphometry.h): the crop resampled to 128 × 128, stain amounts by colour deconvolution,
 * nucleus and cell masks by Otsu's thresholds within the crop, then sizes in red-cell units,
 * shape ratios and chromatin texture (morph_shape.c). Not for: the feature set's plumbing
 * (extraction, the pipeline runtime). */
#include "morphometry.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/hash.h"
#include "core/io.h"
#include "core/stats.h"
#include "detect/mask.h"
#include "image/stain.h"
#include "morph_shape.h"

#define PI 3.14159265358979323846
#define S BS_MORPH_SIDE
#define NPX (S * S)
/* A nucleus is at least this share of the crop (a disc of radius 4 at 128 px): below it,
 * specks and platelets. */
#define MIN_NUCLEUS_SHARE 0.003
/* The nucleus must stand out: its class's mean haematoxylin at least this much (absorbance
 * units of stain.h) above the rest of the crop's; a blank, grey or single-colour crop has no
 * cell. */
#define MIN_NUCLEUS_CONTRAST 0.08
/* Glass is what lies less than this share of the way from the glass's optical density to the
 * nucleus's (a pale cytoplasm lies further): a share, so that a paler or stronger stain moves
 * the cell's outline nowhere. */
#define GLASS_SHARE 0.08
/* The cytoplasm's colour is learnt within NEAR_SHARE of the side from the centre piece, the
 * red cells' beyond FAR_SHARE; they are told apart when their colours (shares of the red and
 * blue channels in the density) differ by COLOUR_SPLIT. */
#define NEAR_SHARE 0.04
#define FAR_SHARE 0.25
#define COLOUR_SPLIT 0.03
/* Opening radius of the cell mask (share of the side): cuts the necks where red cells touch
 * the cytoplasm; the cell's body, much wider, survives. */
#define CELL_OPEN_SHARE 0.08
/* The cell lies within this share of the side from the crop's centre (the box is 0.8 of the
 * side): red cells beyond are cut off. */
#define CELL_RADIUS_SHARE 0.45
/* A crop is 1.25 × the cell's box (field.h BS_FIELD_CROP_SCALE), so the box, where the cell's
 * nucleus pieces lie, is the central square of side S / 1.25. */
#define CROP_PER_CELL 1.25
#define GLCM_LEVELS 8
/* Closing radius of the nucleus (pixels at 128): joins the clumps of a coarse chromatin whose
 * paler parts fall below the threshold. */
#define NUCLEUS_CLOSE 3

static const char *const names[BS_MORPH_DIM] = {"valid",
                                                "scale_from",
                                                "cell_area",
                                                "cell_diameter",
                                                "nucleus_area",
                                                "nucleus_diameter",
                                                "nc_ratio",
                                                "nucleus_roundness",
                                                "nucleus_solidity",
                                                "nucleus_eccentricity",
                                                "nucleus_lobes",
                                                "cell_roundness",
                                                "nucleus_offset",
                                                "nucleus_h_mean",
                                                "nucleus_h_sd",
                                                "nucleus_h_cv",
                                                "glcm_contrast",
                                                "glcm_homogeneity",
                                                "glcm_energy",
                                                "glcm_correlation",
                                                "cyto_h_mean",
                                                "cyto_e_mean",
                                                "cyto_h_relative"};

const char *bs_morph_feature_name(int k) { return k >= 0 && k < BS_MORPH_DIM ? names[k] : NULL; }

void bs_morph_sha256(char hex[65]) {
    bs_sha256_buffer(BS_MORPH_VERSION, strlen(BS_MORPH_VERSION), hex);
}

/* One crop's working buffers. */
typedef struct {
    float hed[3 * NPX];
    float h[NPX], e[NPX], od[NPX]; /* haematoxylin, eosin, total optical density */
    float hs[NPX], ods[NPX];       /* h and od smoothed over a small box */
    float red[NPX], blue[NPX];     /* the red and blue channels' shares of the density */
    float dist[NPX];               /* distance to the centre piece */
    double t_nucleus, t_glass;     /* thresholds on hs and ods */
    unsigned char pieces[NPX];     /* nucleus-coloured pixels (0/255) */
    unsigned char nucleus[NPX], cell[NPX], tmp[NPX];
    int32_t comp[NPX], stack[NPX];
} work;

/* Working pixels per red-cell diameter, and where that ruler came from (1, 0.5, 0). */
static double ruler(const bs_image *crop, double *from) {
    double f = sqrt((double)S / crop->width * S / crop->height);
    if (crop->red_cell_px > 0 && isfinite(crop->red_cell_px)) {
        *from = 1;
        return fmax(crop->red_cell_px * f, 1e-3);
    }
    if (crop->cell_px > 0 && isfinite(crop->cell_px)) {
        *from = 0.5;
        return fmax(crop->cell_px * f / BS_MORPH_CELL_PER_RED, 1e-3);
    }
    *from = 0; /* assume the crop holds one typical white cell */
    return S / (CROP_PER_CELL * BS_MORPH_CELL_PER_RED);
}

/* Otsu's threshold (2 or 3 classes: the upper one) of v over the pixels where `within` is set
 * (NULL: all), on 256 bins between its extremes; *contrast = the mean above it minus the mean
 * below. Returns +inf when v is flat. */
static double otsu_value(const float *v, const unsigned char *within, int classes,
                         double *contrast) {
    float lo = INFINITY, hi = -INFINITY;
    for (int i = 0; i < NPX; i++)
        if (!within || within[i]) lo = fminf(lo, v[i]), hi = fmaxf(hi, v[i]);
    *contrast = 0;
    if (!(hi - lo > 1e-6f)) return INFINITY;
    double hist[256] = {0}, step = (hi - lo) / 256.0;
    for (int i = 0; i < NPX; i++)
        if (!within || within[i]) hist[(int)fmin(255, (v[i] - lo) / step)]++;
    int t = classes == 3 ? bs_detect_otsu3(hist, 256) : bs_detect_otsu(hist, 256);
    double th = lo + t * step, n0 = 0, s0 = 0, n1 = 0, s1 = 0;
    for (int i = 0; i < NPX; i++) {
        if (within && !within[i]) continue;
        if (v[i] >= th)
            n1++, s1 += v[i];
        else
            n0++, s0 += v[i];
    }
    if (n0 > 0 && n1 > 0) *contrast = s1 / n1 - s0 / n0;
    return th;
}

/* The component (1..n) nearest the crop's centre among those of at least min_area pixels;
 * 0 when none. */
static int32_t centre_component(const int32_t *comp, int32_t n, double min_area) {
    double *near = bs_calloc((size_t)n + 1, sizeof *near), *area = bs_calloc((size_t)n + 1, 8);
    int32_t best = 0;
    if (!near || !area) goto done;
    for (int32_t k = 1; k <= n; k++) near[k] = INFINITY;
    const double c = (S - 1) / 2.0;
    for (int i = 0; i < NPX; i++)
        if (comp[i]) {
            double d = hypot(i % S - c, i / S - c);
            area[comp[i]]++;
            if (d < near[comp[i]]) near[comp[i]] = d;
        }
    for (int32_t k = 1; k <= n; k++)
        if (area[k] >= min_area &&
            (!best || near[k] < near[best] || (near[k] == near[best] && area[k] > area[best])))
            best = k;
done:
    free(near), free(area);
    return best;
}

/* v averaged over a box of (2·SMOOTH_R + 1)² pixels into out (rows, then columns in place):
 * chromatin's grain, finer than that, must not break the nucleus into pieces. */
#define SMOOTH_R 2
static void box_mean(const float *line, int stride, float *out, int out_stride) {
    for (int x = 0; x < S; x++) {
        double sum = 0;
        int n = 0;
        for (int d = -SMOOTH_R; d <= SMOOTH_R; d++)
            if (x + d >= 0 && x + d < S) sum += line[(x + d) * stride], n++;
        out[x * out_stride] = (float)(sum / n);
    }
}

static void smooth(const float *v, float *out) {
    float col[S];
    for (int y = 0; y < S; y++) box_mean(v + y * S, 1, out + y * S, 1);
    for (int x = 0; x < S; x++) {
        for (int y = 0; y < S; y++) col[y] = out[y * S + x];
        box_mean(col, 1, out + x, S);
    }
}

/* The glass's optical density: the 10 % quantile of the crop's (a crop is mostly glass
 * around the cell; in a crowded one, the palest parts of red cells). */
static double glass_level(const float *v) {
    double *sorted = bs_malloc(sizeof *sorted * NPX);
    if (!sorted) return 0;
    for (int i = 0; i < NPX; i++) sorted[i] = v[i];
    qsort(sorted, NPX, sizeof *sorted, bs_cmp_double);
    double q = bs_quantile_sorted(sorted, NPX, 0.1);
    free(sorted);
    return q;
}

/* The thresholds: the nucleus's pieces are the top class of a three-class Otsu of the
 * smoothed haematoxylin (glass and red cells, which hold little of it; cytoplasm; nucleus);
 * glass is what lies below GLASS_SHARE of the way to the nucleus's density. Returns 0 when the crop has no
 * nucleus-like contrast. */
static int thresholds(work *k) {
    double contrast;
    k->t_nucleus = otsu_value(k->hs, NULL, 3, &contrast);
    if (!(contrast >= MIN_NUCLEUS_CONTRAST)) return 0;
    double g = glass_level(k->ods), n = 0, sum = 0;
    for (int i = 0; i < NPX; i++)
        if (k->hs[i] >= k->t_nucleus) n++, sum += k->ods[i];
    k->t_glass = g + GLASS_SHARE * (sum / n - g);
    return 1;
}

/* The nucleus-coloured pieces of the crop (0/255), holes (nucleoli, pale chromatin) filled. */
static int nucleus_pieces(work *k) {
    int found = thresholds(k);
    if (found <= 0) return found;
    for (int i = 0; i < NPX; i++) k->pieces[i] = k->hs[i] >= k->t_nucleus ? 255 : 0;
    if (bs_detect_fill_holes(k->pieces, S, S)) return -1;
    return 1;
}

/* Mean colour (red and blue shares of the density) of the pixels where m is set; 0 when
 * fewer than MIN_SEED. */
#define MIN_SEED 20
static int seed_colour(const work *k, const unsigned char *m, double c[2]) {
    double n = 0;
    c[0] = c[1] = 0;
    for (int i = 0; i < NPX; i++)
        if (m[i]) n++, c[0] += k->red[i], c[1] += k->blue[i];
    if (n < MIN_SEED) return 0;
    c[0] /= n, c[1] /= n;
    return 1;
}

/* Into k->tmp (0/255): the nucleus pieces and the non-glass pixels coloured like the cell, not
 * like the red cells. The two colours are learnt from the crop itself: the cell's from the
 * non-glass pixels next to the centre piece (its cytoplasm), the red cells' from those far
 * from it; each pixel goes to the nearer (red and blue shares of its density). When the two
 * are alike, or either is missing, every non-glass pixel counts. */
static int cell_coloured(work *k, int32_t centre) {
    for (int i = 0; i < NPX; i++) k->tmp[i] = k->comp[i] != centre;
    if (bs_detect_edt(k->tmp, S, S, k->dist)) return -1;
    double cell[2], red[2];
    for (int i = 0; i < NPX; i++)
        k->tmp[i] = k->ods[i] >= k->t_glass && !k->pieces[i] && k->dist[i] <= NEAR_SHARE * S;
    int split = seed_colour(k, k->tmp, cell);
    for (int i = 0; i < NPX; i++)
        k->tmp[i] = k->ods[i] >= k->t_glass && !k->pieces[i] && k->dist[i] >= FAR_SHARE * S;
    split = split && seed_colour(k, k->tmp, red) &&
            hypot(cell[0] - red[0], cell[1] - red[1]) >= COLOUR_SPLIT;
    for (int i = 0; i < NPX; i++) {
        int fg = k->ods[i] >= k->t_glass;
        if (fg && split)
            fg = hypot(k->red[i] - cell[0], k->blue[i] - cell[1]) <
                 hypot(k->red[i] - red[0], k->blue[i] - red[1]);
        k->tmp[i] = fg || k->pieces[i] ? 255 : 0;
    }
    return 0;
}

/* The cell holding the centre piece `centre` (labels in k->comp): the non-glass pixels and the
 * nucleus pieces, holes filled, opened, inside the crop's inscribed disc, the component that
 * overlaps the centre piece most. Falls back to the centre piece alone. */
static int cell_mask(work *k, int32_t centre) {
    if (cell_coloured(k, centre)) return -1;
    if (bs_detect_fill_holes(k->tmp, S, S) ||
        bs_detect_open(k->tmp, S, S, (int)lround(CELL_OPEN_SHARE * S)))
        return -1;
    const double c = (S - 1) / 2.0;
    for (int i = 0; i < NPX; i++)
        if (hypot(i % S - c, i / S - c) > CELL_RADIUS_SHARE * S) k->tmp[i] = 0;
    int32_t *cc = bs_malloc(sizeof *cc * NPX); /* k->comp holds the pieces' labels */
    if (!cc) return -1;
    int32_t n = bs_detect_components(k->tmp, S, S, cc, k->stack);
    int64_t *overlap = bs_calloc((size_t)n + 1, sizeof *overlap);
    if (!overlap) {
        free(cc);
        return -1;
    }
    for (int i = 0; i < NPX; i++)
        if (k->comp[i] == centre && cc[i]) overlap[cc[i]]++;
    int32_t best = 0;
    for (int32_t j = 1; j <= n; j++)
        if (overlap[j] > overlap[best]) best = j;
    for (int i = 0; i < NPX; i++) k->cell[i] = (best && cc[i] == best) || k->comp[i] == centre;
    free(cc), free(overlap);
    for (int i = 0; i < NPX; i++) k->cell[i] = k->cell[i] ? 255 : 0;
    if (bs_detect_fill_holes(k->cell, S, S)) return -1;
    for (int i = 0; i < NPX; i++) k->cell[i] = k->cell[i] != 0;
    return 0;
}

/* The nucleus within the cell: the upper class of Otsu's threshold of the smoothed
 * haematoxylin inside the cell (cytoplasm, nucleus), as pieces: the one nearest the centre
 * and every other whose centroid lies in the cell's box (the crop's central square); holes
 * filled. Returns 0 when no piece is large enough. */
static int nucleus_mask(work *k) {
    double contrast, t = otsu_value(k->hs, k->cell, 2, &contrast);
    if (!isfinite(t)) t = k->t_nucleus;
    for (int i = 0; i < NPX; i++) k->nucleus[i] = k->cell[i] && k->hs[i] >= t ? 255 : 0;
    if (bs_detect_close(k->nucleus, S, S, NUCLEUS_CLOSE) || bs_detect_fill_holes(k->nucleus, S, S))
        return -1;
    for (int i = 0; i < NPX; i++) k->nucleus[i] = k->cell[i] ? k->nucleus[i] : 0;
    int32_t n = bs_detect_components(k->nucleus, S, S, k->comp, k->stack);
    int32_t centre = centre_component(k->comp, n, MIN_NUCLEUS_SHARE * NPX);
    if (!centre) return 0;
    double *sx = bs_calloc((size_t)n + 1, sizeof *sx), *sy = bs_calloc((size_t)n + 1, 8);
    double *area = bs_calloc((size_t)n + 1, 8);
    int rc = -1;
    if (!sx || !sy || !area) goto done;
    for (int i = 0; i < NPX; i++) {
        int32_t j = k->comp[i];
        if (j) area[j]++, sx[j] += i % S, sy[j] += i / S;
    }
    const double c = (S - 1) / 2.0, half = S / (2.0 * CROP_PER_CELL);
    for (int i = 0; i < NPX; i++) {
        int32_t j = k->comp[i];
        int keep = j == centre ||
                   (j && fabs(sx[j] / area[j] - c) <= half && fabs(sy[j] / area[j] - c) <= half);
        k->nucleus[i] = keep ? 255 : 0;
    }
    rc = bs_detect_fill_holes(k->nucleus, S, S) ? -1 : 1;
    for (int i = 0; i < NPX; i++) k->nucleus[i] = k->nucleus[i] != 0;
done:
    free(sx), free(sy), free(area);
    return rc;
}

/* Both masks; 1 when found, 0 when the crop shows no cell, -1 on failure. */
static int segment(work *k) {
    int found = nucleus_pieces(k);
    if (found <= 0) return found;
    int32_t n = bs_detect_components(k->pieces, S, S, k->comp, k->stack);
    int32_t centre = centre_component(k->comp, n, MIN_NUCLEUS_SHARE * NPX);
    if (!centre) return 0;
    if (cell_mask(k, centre)) return -1;
    return nucleus_mask(k);
}

/* Mean and population sd of v over mask. */
static void mean_sd(const float *v, const unsigned char *mask, double *mean, double *sd) {
    double n = 0, s = 0, ss = 0;
    for (int i = 0; i < NPX; i++)
        if (mask[i]) n++, s += v[i], ss += (double)v[i] * v[i];
    *mean = n ? s / n : 0;
    *sd = n ? sqrt(fmax(0, ss / n - *mean * *mean)) : 0;
}

/* Chromatin texture on the haematoxylin image averaged over 2 × 2 blocks (64 × 64: what the
 * coarsest microscope resolves of a crop, so texture means the same at every magnification),
 * inside the blocks wholly in the nucleus. */
static int texture(const work *k, float *out) {
    enum { H = S / 2 };
    float *v = bs_malloc(sizeof *v * H * H);
    unsigned char *m = bs_malloc(H * H);
    double g[4] = {0};
    int rc = -1;
    if (v && m) {
        for (int y = 0; y < H; y++)
            for (int x = 0; x < H; x++) {
                int i = 2 * y * S + 2 * x;
                v[y * H + x] = (k->h[i] + k->h[i + 1] + k->h[i + S] + k->h[i + S + 1]) / 4;
                m[y * H + x] = k->nucleus[i] && k->nucleus[i + 1] && k->nucleus[i + S] &&
                               k->nucleus[i + S + 1];
            }
        rc = bs_morph_glcm(v, m, H, GLCM_LEVELS, g);
    }
    for (int j = 0; j < 4; j++) out[BS_MORPH_GLCM_CONTRAST + j] = (float)g[j];
    free(v), free(m);
    return rc;
}

/* Sizes, shapes and colour from the masks. */
static int measure(work *k, double unit, float *out) {
    bs_morph_shape nu, ce;
    if (bs_morph_shape_measure(k->nucleus, S, &nu) || bs_morph_shape_measure(k->cell, S, &ce))
        return -1;
    if (nu.area < MIN_NUCLEUS_SHARE * NPX) return 0;
    const double red_area = PI * unit * unit / 4;
    out[BS_MORPH_CELL_AREA] = (float)(ce.area / red_area);
    out[BS_MORPH_CELL_DIAMETER] = (float)(sqrt(4 * ce.area / PI) / unit);
    out[BS_MORPH_NUCLEUS_AREA] = (float)(nu.area / red_area);
    out[BS_MORPH_NUCLEUS_DIAMETER] = (float)(sqrt(4 * nu.area / PI) / unit);
    out[BS_MORPH_NC_RATIO] = (float)(nu.area / ce.area);
    out[BS_MORPH_NUCLEUS_ROUNDNESS] =
        (float)fmin(1, nu.perimeter > 0 ? 4 * PI * nu.area / (nu.perimeter * nu.perimeter) : 0);
    out[BS_MORPH_NUCLEUS_SOLIDITY] = (float)fmin(1, nu.hull_area > 0 ? nu.area / nu.hull_area : 0);
    out[BS_MORPH_NUCLEUS_ECCENTRICITY] = (float)nu.eccentricity;
    int lobes = bs_morph_lobes(k->nucleus, S);
    if (lobes < 0) return -1;
    out[BS_MORPH_NUCLEUS_LOBES] = (float)lobes;
    out[BS_MORPH_CELL_ROUNDNESS] =
        (float)fmin(1, ce.perimeter > 0 ? 4 * PI * ce.area / (ce.perimeter * ce.perimeter) : 0);
    out[BS_MORPH_NUCLEUS_OFFSET] =
        (float)(hypot(nu.cx - ce.cx, nu.cy - ce.cy) / sqrt(ce.area / PI));
    double hm, hsd, cm, csd, em, esd;
    mean_sd(k->h, k->nucleus, &hm, &hsd);
    for (int i = 0; i < NPX; i++) k->tmp[i] = k->cell[i] && !k->nucleus[i];
    mean_sd(k->h, k->tmp, &cm, &csd);
    mean_sd(k->e, k->tmp, &em, &esd);
    out[BS_MORPH_NUCLEUS_H_MEAN] = (float)hm;
    out[BS_MORPH_NUCLEUS_H_SD] = (float)hsd;
    out[BS_MORPH_NUCLEUS_H_CV] = (float)(hm > 0 ? hsd / hm : 0);
    out[BS_MORPH_CYTO_H_MEAN] = (float)cm;
    out[BS_MORPH_CYTO_E_MEAN] = (float)em;
    out[BS_MORPH_CYTO_H_RELATIVE] = (float)(hm > 0 ? cm / hm : 0);
    if (texture(k, out)) return -1;
    out[BS_MORPH_VALID] = 1;
    return 0;
}

/* Stain amounts of the working image; the total optical density is their sum through the
 * stain vectors (od = hed · M, stain.h), whose rows sum to 1.64, 1.17 and 1.62. */
static void stain_amounts(work *k, const bs_image *img) {
    bs_rgb_to_hed(img->rgb, NPX, k->hed);
    for (int i = 0; i < NPX; i++) {
        const float *p = k->hed + 3 * i;
        k->h[i] = p[0], k->e[i] = p[1];
        k->od[i] = 1.64f * p[0] + 1.17f * p[1] + 1.62f * p[2];
    }
    smooth(k->h, k->hs);
    smooth(k->od, k->ods);
    /* the channels' densities, od = hed · M (stain.h), smoothed like the rest */
    for (int i = 0; i < NPX; i++) {
        const float *p = k->hed + 3 * i;
        k->red[i] = 0.65f * p[0] + 0.07f * p[1] + 0.27f * p[2];
        k->blue[i] = 0.29f * p[0] + 0.11f * p[1] + 0.78f * p[2];
    }
    smooth(k->red, k->dist); /* dist is free until the cell is made */
    smooth(k->blue, k->red);
    for (int i = 0; i < NPX; i++) {
        float od = k->ods[i] > 0.02f ? k->ods[i] : 0.02f, r = k->dist[i], b = k->red[i];
        k->red[i] = r / od, k->blue[i] = b / od;
    }
}

int bs_morph_features(const bs_image *crop, float *out, bs_morph_masks *masks) {
    memset(out, 0, sizeof *out * BS_MORPH_DIM);
    if (masks) memset(masks, 0, sizeof *masks);
    if (!crop || !crop->rgb || crop->width < 1 || crop->height < 1)
        return bs_error("morphometry: empty image");
    double from, unit = ruler(crop, &from);
    out[BS_MORPH_SCALE_FROM] = (float)from;
    if (masks) masks->red_cell = unit;
    if (crop->width < 8 || crop->height < 8) return 0; /* nothing to measure: valid = 0 */
    bs_image img;
    work *k = bs_calloc(1, sizeof *k);
    if (!k || bs_image_resize(crop, S, &img)) {
        free(k);
        return -1;
    }
    stain_amounts(k, &img);
    bs_image_free(&img);
    int found = segment(k), rc = found < 0 ? -1 : 0;
    if (found > 0) rc = measure(k, unit, out);
    for (int j = 0; j < BS_MORPH_DIM; j++)
        if (!isfinite(out[j])) out[j] = 0;
    if (rc == 0 && !out[BS_MORPH_VALID]) /* only the ruler describes an invalid crop */
        for (int j = BS_MORPH_CELL_AREA; j < BS_MORPH_DIM; j++) out[j] = 0;
    if (masks && found > 0 && out[BS_MORPH_VALID]) {
        memcpy(masks->nucleus, k->nucleus, NPX);
        memcpy(masks->cell, k->cell, NPX);
    }
    free(k);
    return rc;
}
