/* stain.h — colour tools for stain augmentation and stain-transfer tests: colour deconvolution
 * into haematoxylin, eosin and DAB (Ruifrok & Johnston, Anal Quant Cytol Histol 2001), HED
 * jitter (Tellez et al., IEEE TMI 2018 and Medical Image Analysis 2019), and Reinhard's colour
 * transfer (Reinhard et al., IEEE CG&A 2001). Scale jitter and the views extraction makes from
 * these are in image.h (bs_image_rescale, bs_image_view).
 *
 * All of it works on 8-bit RGB pixels, runs in one pass without allocating, and draws its
 * randomness only from the bs_rng it is handed. Not for: field mode's per-field colour
 * normalisation (src/field), which maps two measured references, not stain amounts. */
#ifndef BS_IMAGE_STAIN_H
#define BS_IMAGE_STAIN_H

#include <stddef.h>

#include "core/rng.h"
#include "image/image.h"

/* ---- optical density and colour deconvolution ----------------------------------------
 * Stain amounts per pixel, haematoxylin, eosin, DAB (H, E, D), in absorbance units:
 * od_c = -log10(max(I_c / 255, 1e-6)), and od = hed · M, where the rows of M are the three
 * stains' optical-density vectors of Ruifrok & Johnston (the matrix scikit-image's rgb2hed
 * inverts): H (0.65, 0.70, 0.29), E (0.07, 0.99, 0.11), D (0.27, 0.57, 0.78). The values are
 * exactly 6 × scikit-image's rgb2hed (which divides the natural-log OD by -ln 1e-6) without its
 * clamp of negative amounts at 0: a colour outside the stains' cone keeps its negative amount,
 * so bs_hed_to_rgb inverts bs_rgb_to_hed (within rounding to 8 bits). */
void bs_rgb_to_hed(const unsigned char *rgb, size_t npixels, float *hed);
/* RGB = 255 · 10^(-hed · M), clamped to 0..255 and rounded. */
void bs_hed_to_rgb(const float *hed, size_t npixels, unsigned char *rgb);

/* ---- HED jitter (Tellez et al.) -------------------------------------------------------
 * Per stain c: s'_c = alpha_c · s_c + beta_c. Their "HED-light" strength, sigma = 0.05, is the
 * default: alpha_c in [0.95, 1.05] scales each stain's amount by up to 5 %, and beta_c adds or
 * removes up to 0.05 absorbance units of it; on 40 Aria images that moves a pixel by 9.4 grey
 * levels on average (docs/cells.md), a different day's staining rather than another stain.
 * Their "HED-strong" is sigma = 0.2. */
#define BS_HED_SIGMA 0.05

typedef struct bs_hed_jitter {
    double alpha[3], beta[3]; /* H, E, D */
} bs_hed_jitter;

/* alpha_c ~ U[1 - sigma, 1 + sigma], beta_c ~ U[-sigma, sigma], drawn in the order
 * alpha_H, beta_H, alpha_E, beta_E, alpha_D, beta_D. */
void bs_hed_jitter_draw(bs_rng *rng, double sigma, bs_hed_jitter *j);
/* Recolour img in place (alpha = 1, beta = 0 leaves every pixel as it is). */
void bs_hed_jitter_apply(bs_image *img, const bs_hed_jitter *j);

/* ---- Reinhard colour transfer ----------------------------------------------------------
 * Pixels in Ruderman's l-alpha-beta space as Reinhard et al. use it: (RGB + 1) / 256 to LMS
 * cones by their matrix, log10, then the decorrelating rotation (l = (L+M+S)/√3,
 * alpha = (L+M-2S)/√6, beta = (L-M)/√2). The +1 keeps black finite; the way back is the exact
 * inverse, so a transfer to an image's own statistics changes nothing. */
typedef struct bs_colour_stats {
    double mean[3], sd[3]; /* l, alpha, beta; sd is the population standard deviation */
    double pixels;         /* how many pixels they summarise; 0: empty */
} bs_colour_stats;

/* Add every pixel of img to st (start from a zeroed struct). Statistics of a set of images are
 * over all their pixels, so adding the images one by one gives the set's. */
void bs_colour_stats_add(bs_colour_stats *st, const bs_image *img);
/* Add the pixels `other` summarises to st (Chan et al.'s pairwise update): statistics of image
 * sets computed apart, e.g. in parallel, then joined. */
void bs_colour_stats_merge(bs_colour_stats *st, const bs_colour_stats *other);
/* Recolour img in place: per l-alpha-beta channel, v' = (v - from.mean) · to.sd / from.sd +
 * to.mean. from NULL: img's own statistics (Reinhard's transfer); a set's (e.g. every Aria
 * cell's) maps that set onto `to` and keeps the differences within it. A channel whose
 * from.sd is below 1e-6 (a flat image) is only shifted. The result is clamped to
 * 0..255. Returns -1 (bs_error) if either statistics are empty. */
int bs_reinhard_transfer(bs_image *img, const bs_colour_stats *from, const bs_colour_stats *to);

#endif
