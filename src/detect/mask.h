/* mask.h — the detector's tools for binary masks, offered to later stages (the morphometric
 * features of features/morphometry.h segment a cell with them): an exact Euclidean distance
 * transform, 8-connected components, opening, closing and hole filling by libvips, and Otsu's
 * thresholds of a histogram. Masks are row-major, width × height, one byte per pixel (0 or
 * 255 where the comment says so, else 0 / non-zero). Not for: detecting cells (detect.h). */
#ifndef BS_DETECT_MASK_H
#define BS_DETECT_MASK_H

#include <stdint.h>

/* Exact Euclidean distance from every pixel to the nearest pixel where mask == 0 (0 there).
 * Outside the image is not background; with no background pixel at all every distance is
 * w + h. Felzenszwalb & Huttenlocher's two-pass lower envelope, O(w·h). Returns -1 with a
 * bs_error only when out of memory. */
int bs_detect_edt(const unsigned char *mask, int w, int h, float *dist);

/* 8-connected components of mask != 0 by flood fill: comp[i] = 1..n, 0 outside; `stack`
 * is scratch of w·h entries. Returns n. */
int bs_detect_components(const unsigned char *mask, int w, int h, int32_t *comp, int32_t *stack);

/* libvips morphology on a 0/255 mask, in place: opening (erode, dilate) or closing (dilate,
 * erode) by a disc of radius r (nothing when r < 1). */
int bs_detect_open(unsigned char *mask, int w, int h, int r);
int bs_detect_close(unsigned char *mask, int w, int h, int r);
/* Fill the holes of a 0/255 mask (background regions that do not touch the border), with
 * libvips labelregions. */
int bs_detect_fill_holes(unsigned char *mask, int w, int h);

/* Otsu's threshold of a histogram of n bins: the first bin of the upper class. */
int bs_detect_otsu(const double *hist, int n);

/* The upper threshold of a three-class Otsu (background, red cells, nuclei): the first bin of
 * the top class. */
int bs_detect_otsu3(const double *hist, int n);

#endif
