/* explain.h — occlusion sensitivity of a decision: which part of an image the classifier's
 * decision depends on (Zeiler & Fergus 2014).
 *
 * A patch of the image's mean colour is slid over a G×G grid of positions; at each one the
 * occluded copy is scored and the map records the decision's drop, base − occluded. A
 * positive value means the covered region pushed the decision up (towards the positive
 * class, ALL); a negative one that it pushed towards healthy. The scorer is a black box:
 * bs_pipeline_explain scores with a whole trained pipeline (backbones, autoencoder, SVM) in
 * batches; tests inject their own. Geometry, all relative to the image so the map means the
 * same on any image size: the patch covers a fraction `patch` of the width and of the height
 * (a square at the backbones' square input, which ignores the aspect ratio), and its corner
 * moves in G equal steps from the top-left to the bottom-right, so patches cover the image
 * edge to edge (stride (1 − patch)/(G − 1) of a side). Cost: G² + 1 forward passes per image.
 * Not for: choosing images or naming files (the CLI and the report do that). */
#ifndef BS_PIPELINE_EXPLAIN_H
#define BS_PIPELINE_EXPLAIN_H

#include <stddef.h>

#include "image/image.h"
#include "pipeline.h"

#define BS_EXPLAIN_MAX_GRID 64

typedef struct bs_explain_options {
    int grid;     /* G: positions per side (default 7: 50 passes per image) */
    double patch; /* patch side as a fraction of each image side, in (0, 1] (default 0.25) */
    size_t batch; /* occluded copies per scorer call (default 8) */
} bs_explain_options;

void bs_explain_options_init(bs_explain_options *o);

typedef struct bs_explain_map {
    int grid;
    double patch;
    double base;  /* decision on the image itself */
    double *drop; /* grid × grid, row-major (row = vertical position): base − occluded decision */
} bs_explain_map;

/* Decisions of n images (decision[i] of images[i]); 0 or -1 with a bs_error. */
typedef int (*bs_explain_scorer)(void *user, const bs_image *images, size_t n, double *decision);

/* The patch rectangle of grid cell (row, col) on a width × height image. */
void bs_explain_patch_rect(int width, int height, int grid, double patch, int row, int col, int *x0,
                           int *y0, int *pw, int *ph);
/* The occlusion map of img through any scorer. */
int bs_explain_occlusion(const bs_image *img, const bs_explain_options *o, bs_explain_scorer score,
                         void *user, bs_explain_map *out);
/* The occlusion map of the SVM decision of a trained pipeline (its backbones in rt). */
int bs_pipeline_explain(const bs_pipeline *p, bs_pipeline_runtime *rt, const bs_image *img,
                        const bs_explain_options *o, bs_explain_map *out);
void bs_explain_map_free(bs_explain_map *m);

/* Per-pixel heat (height × width floats): the mean drop of the patches covering each pixel. */
int bs_explain_heat(const bs_explain_map *m, int width, int height, float *heat);
/* The image with the heat blended over it: red where the region pushed towards the positive
 * class, blue towards the negative one, opacity ∝ |heat| / max |heat|. */
int bs_explain_overlay(const bs_image *img, const bs_explain_map *m, bs_image *out);
/* The overlay as PNG (libvips) and the raw grid × grid map as float32 .npy, both atomically;
 * either path may be NULL. */
int bs_explain_write(const bs_image *img, const bs_explain_map *m, const char *png_path,
                     const char *npy_path);

#endif
