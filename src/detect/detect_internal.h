/* detect_internal.h — the pieces of the white-cell detector that libvips lacks (a marker
 * watershed, markers from a distance map) and the scale estimate, shared by detect.c and the
 * unit tests; its mask tools, which later stages use too, are in mask.h. Not a public
 * interface: the cells command uses detect.h only. All images here are row-major,
 * width × height, one value per pixel. */
#ifndef BS_DETECT_INTERNAL_H
#define BS_DETECT_INTERNAL_H

#include <stdint.h>

#include "detect/mask.h"

/* Marker-controlled watershed (Meyer's priority flooding, 4-connected). `labels` holds the
 * markers on entry (> 0; 0 = unlabelled) and on return every pixel with mask != 0 that a
 * marker's flood reaches carries that marker's label; pixels outside the mask keep theirs.
 * Lower `elev` floods first; ties go first-come, so the result is deterministic. */
int bs_detect_watershed(const float *elev, const unsigned char *mask, int w, int h,
                        int32_t *labels);

/* A regional maximum of a distance map: where, how high, its dynamic (how far one descends
 * from it before meeting a higher maximum's region) and its distance to that maximum (both
 * infinite for the highest maximum of a component). */
typedef struct bs_detect_peak {
    int32_t i;
    float height, dynamic, sep;
} bs_detect_peak;

/* Every regional maximum of `dist` over mask != 0 (8-connected), in the order their regions
 * are absorbed, then each component's highest. *peaks is malloc'd (NULL when n = 0). Returns
 * -1 with a bs_error when out of memory. */
int bs_detect_peaks(const float *dist, const unsigned char *mask, int w, int h,
                    bs_detect_peak **peaks, size_t *n);

/* Markers for splitting touching round objects, from a distance map of the mask: the
 * maxima whose dynamic (how far one must descend from them to reach a higher maximum) is at
 * least `hdyn`, that are at least `min_dist` high and at least `sep` pixels from the higher
 * maximum they meet; plus the highest point of every 8-connected component. Writes labels
 * 1..n into `markers` (0 elsewhere) and returns n, or -1 when out of memory. */
int bs_detect_markers(const float *dist, const unsigned char *mask, int w, int h, double hdyn,
                      double min_dist, double sep, int32_t *markers);

/* Red-cell diameter, in pixels of this image, from the granulometry (pattern spectrum of
 * openings by discs, by distance transforms) of the non-background, non-violet pixels: red
 * cells are the commonest round objects of a smear. Overlapping red cells (BCCD) fuse into
 * larger objects, so this is a lower bound for the white-cell scale, not the scale. `violet` marks nucleus pixels to leave out (may be NULL).
 * Returns 0 when the image shows no such structure (blank, grey, too small). */
double bs_detect_red_cell_diameter(const unsigned char *rgb, const unsigned char *violet, int w,
                                   int h);

/* The typical nucleus width of a 0/255 violet mask: lobes joined by a closing (a fifth of
 * the largest piece's equivalent diameter) and holes filled, then the median width (largest
 * inscribed disc) of the groups at least 0.35 as wide as the widest; groups cut by the
 * border count only when no whole group is comparable. A group that is a clump of touching
 * nuclei (see scale.c) gives the widths of its nuclei instead of its own, so a crowd does
 * not inflate the result. 0 when the mask is empty. *round: the median roundness of those
 * groups (their largest nucleus' width over the group's: 1 for round nuclei, about 0.4-0.7
 * for a neutrophil's joined lobes; 0 when empty or from a single group). */
double bs_detect_nucleus_size(const unsigned char *violet, int w, int h, double *round);

#endif
