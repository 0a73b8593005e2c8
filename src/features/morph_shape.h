/* morph_shape.h — Private to src/features: the measurements morphometry.c takes of a mask
 * and the haematoxylin image (outline, convex hull, moments, lobes, co-occurrence texture).
 * Masks are side × side, row-major, 1 inside and 0 outside. */
#ifndef BS_FEATURES_MORPH_SHAPE_H
#define BS_FEATURES_MORPH_SHAPE_H

#include <stdint.h>

/* What one mask measures. */
typedef struct bs_morph_shape {
    double area;         /* pixels */
    double perimeter;    /* of the outline, pixels */
    double hull_area;    /* of the outline's convex hull, pixels² */
    double cx, cy;       /* centroid */
    double eccentricity; /* of the ellipse with the same second moments */
} bs_morph_shape;

/* Area, centroid and moments from the pixels; the outline is the 0.5 level (marching squares,
 * linear interpolation) of the mask smoothed by a 3×3 binomial kernel, so a digital disc of
 * radius r has a perimeter close to 2πr instead of the 8r of its staircase. Returns -1 when
 * memory runs out; an empty mask measures all zeros. */
int bs_morph_shape_measure(const unsigned char *mask, int side, bs_morph_shape *out);

/* The pieces of mask at half its largest inscribed radius: the components of
 * {distance to the outside >= 0.5 · max}. A disc or an ellipse is one piece, two discs joined
 * by a neck narrower than their radius are two. -1 when memory runs out. */
int bs_morph_lobes(const unsigned char *mask, int side);

/* Grey-level co-occurrence of v (side × side) inside mask at distance 1, in the four
 * directions 0°, 45°, 90°, 135°, symmetric, pooled: v is quantised to `levels` levels between
 * its 5 % and 95 % quantiles inside the mask (a stain twice as strong gives the same levels).
 * out: contrast Σ(i−j)²p, homogeneity Σp/(1+(i−j)²), energy Σp², correlation
 * Σ(i−μ)(j−μ)p/σ² (0 when σ = 0). Fewer than 8 pairs: all 0. -1 when memory runs out. */
int bs_morph_glcm(const float *v, const unsigned char *mask, int side, int levels, double out[4]);

#endif
