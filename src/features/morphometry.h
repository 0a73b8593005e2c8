/* morphometry.h — morphometric features of one white cell, measured on its crop: what a
 * hematologist calls a blast by (a large cell, a high nucleus-to-cytoplasm ratio, a round
 * nucleus with fine chromatin), as numbers meant to be the same on every microscope: sizes in
 * red-cell diameters (the field's own ruler, carried by the crop: image.h cell_px,
 * red_cell_px), shapes as ratios, and chromatin texture on the haematoxylin optical density
 * (image/stain.h), quantised between the nucleus's own quantiles so the stain's strength
 * drops out. docs/cells.md ("Morphometric features") defines every column.
 *
 * The crop is resampled to BS_MORPH_SIDE × BS_MORPH_SIDE; the cell is the one at the centre
 * of the crop (the detector's crops and annotated boxes are centred on it). Masks, all from
 * the crop's own statistics (docs/cells.md): the nucleus pieces are the top class of a
 * three-class Otsu of the (smoothed) haematoxylin amount; the cell is the non-glass region
 * coloured like the cytoplasm next to the centre piece rather than like the red cells far
 * from it, opened to cut thin contacts, the component holding the centre piece; the nucleus
 * is the upper class of Otsu's split of haematoxylin inside the cell. A crop where no nucleus
 * is found (blank, tiny, all one colour) gives valid = 0 and every measured column 0:
 * features are always finite.
 *
 * As a feature set this is the pseudo-backbone `morphometry` (`--backbone morphometry`):
 * extraction writes its rows like a network's, a pipeline lists it among its backbones with
 * no ONNX file, and the pipeline runtime computes it from the image and its scale.
 * Not for: detecting cells (detect/detect.h) or cutting crops (field/field.h). */
#ifndef BS_FEATURES_MORPHOMETRY_H
#define BS_FEATURES_MORPHOMETRY_H

#include "image/image.h"

#define BS_MORPH_NAME "morphometry"      /* the feature set's name and --backbone word */
#define BS_MORPH_VERSION "morphometry-1" /* changes whenever any value would change */
#define BS_MORPH_SIDE 128                /* the side crops are resampled to */
/* A white cell's diameter in red-cell diameters, to turn a known white-cell scale into
 * red-cell units when the red cells were not measured (docs/cells.md: measured per source). */
#define BS_MORPH_CELL_PER_RED 1.9

/* The columns, in order. Sizes are in red-cell units: areas in red-cell areas (a disc of one
 * red-cell diameter), diameters (of the disc of the same area) in red-cell diameters. */
typedef enum {
    BS_MORPH_VALID = 0,            /* 1: nucleus and cell found; 0: every column below is 0 */
    BS_MORPH_SCALE_FROM,           /* 1 red cells measured, 0.5 from the white-cell size, 0 none */
    BS_MORPH_CELL_AREA,            /* red-cell areas */
    BS_MORPH_CELL_DIAMETER,        /* red-cell diameters */
    BS_MORPH_NUCLEUS_AREA,         /* red-cell areas */
    BS_MORPH_NUCLEUS_DIAMETER,     /* red-cell diameters */
    BS_MORPH_NC_RATIO,             /* nucleus area / cell area, 0..1 */
    BS_MORPH_NUCLEUS_ROUNDNESS,    /* 4π·area / perimeter², 1 for a disc */
    BS_MORPH_NUCLEUS_SOLIDITY,     /* area / convex hull area, 1 for a convex nucleus */
    BS_MORPH_NUCLEUS_ECCENTRICITY, /* of the ellipse of the same second moments, 0 = circle */
    BS_MORPH_NUCLEUS_LOBES,        /* pieces of the nucleus at half its largest inscribed radius */
    BS_MORPH_CELL_ROUNDNESS,       /* 4π·area / perimeter² of the cell */
    BS_MORPH_NUCLEUS_OFFSET, /* centroid distance nucleus-cell / the cell's equivalent radius */
    BS_MORPH_NUCLEUS_H_MEAN, /* mean haematoxylin OD in the nucleus (stain.h units) */
    BS_MORPH_NUCLEUS_H_SD,   /* its standard deviation */
    BS_MORPH_NUCLEUS_H_CV,   /* sd / mean: chromatin contrast without the stain's strength */
    BS_MORPH_GLCM_CONTRAST,  /* chromatin texture, grey-level co-occurrence (see below) */
    BS_MORPH_GLCM_HOMOGENEITY,
    BS_MORPH_GLCM_ENERGY,
    BS_MORPH_GLCM_CORRELATION,
    BS_MORPH_CYTO_H_MEAN,     /* mean haematoxylin OD of the cytoplasm (cell minus nucleus) */
    BS_MORPH_CYTO_E_MEAN,     /* mean eosin OD of the cytoplasm */
    BS_MORPH_CYTO_H_RELATIVE, /* cytoplasm / nucleus haematoxylin: basophilia, stain-free */
    BS_MORPH_DIM
} bs_morph_feature;

/* The column's name (e.g. "nucleus_diameter"), NULL out of range. */
const char *bs_morph_feature_name(int k);

/* The masks behind the features, at BS_MORPH_SIDE × BS_MORPH_SIDE (1 inside, 0 outside):
 * for tests and for looking at the segmentation. */
typedef struct bs_morph_masks {
    unsigned char nucleus[BS_MORPH_SIDE * BS_MORPH_SIDE];
    unsigned char cell[BS_MORPH_SIDE * BS_MORPH_SIDE];
    double red_cell; /* the ruler: working pixels per red-cell diameter */
} bs_morph_masks;

/* The features of the cell at the centre of crop (any size from 1×1; its scale from
 * crop->cell_px, crop->red_cell_px) into out[0..BS_MORPH_DIM); masks may be NULL. Returns -1
 * (bs_error) only when memory runs out or libvips fails; a crop without a cell is a result
 * (valid = 0). */
int bs_morph_features(const bs_image *crop, float *out, bs_morph_masks *masks);

/* The SHA-256 (hex) a pipeline records for the morphometry backbone: of BS_MORPH_VERSION, so
 * a model trained with another version is recognised and refused. */
void bs_morph_sha256(char hex[65]);

#endif
