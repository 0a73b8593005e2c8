/* field.h — field mode between detection and classification: per-field colour normalisation,
 * square cell crops, the per-field blast count with its interval and call, and overlays.
 *
 * The same two steps prepare cells for training (`blastscan cells --crops`) and for
 * classification (`blastscan cells --model`, blastscan_cells_rgb), so a model sees at
 * prediction time exactly what it was trained on:
 *   1. bs_field_normalise — per channel, a linear map sending the field's background (the
 *      median colour of its brightest quarter of pixels) to a fixed white and its nuclei (the
 *      median colour of its darkest 1 %) to a fixed violet: the stain and the illumination of
 *      one microscope are mapped onto fixed references (docs/cells.md, "Field mode");
 *   2. bs_field_crop — a square of BS_FIELD_CROP_SCALE × the larger side of the cell's box,
 *      centred on the box, padded by reflection at the borders; the backbone's resize then
 *      makes a cell fill the same fraction of the network's view on every microscope.
 * Not for: detection (detect/detect.h), classification (pipeline.h) or truth files (truth.h). */
#ifndef BS_FIELD_H
#define BS_FIELD_H

#include <stddef.h>
#include <stdint.h>

#include "detect/detect.h"
#include "image/image.h"

#define BS_FIELD_CROP_SCALE 1.25 /* crop side / larger box side: the cell and a rim around it */
#define BS_FIELD_CROP_MIN 8      /* smallest crop side in pixels */

/* The references colours map to. */
extern const double bs_field_background_ref[3], bs_field_nucleus_ref[3];

/* The per-channel map out = gain·in + offset that bs_field_normalise applies. */
typedef struct bs_field_colour {
    double background[3], nucleus[3]; /* measured in the field */
    double gain[3], offset[3];
} bs_field_colour;

/* Measure the field's background and nuclei and map them onto the references, in place.
 * A channel whose background and nuclei differ by less than 16 levels (a blank or grey
 * field) is only shifted. colour may be NULL. */
int bs_field_normalise(bs_image *img, bs_field_colour *colour);

/* The crop of one cell: side × side RGB (side from the box, see above). */
int bs_field_crop(const bs_image *img, const bs_cell *cell, bs_image *out);
int bs_field_crop_side(const bs_cell *cell);

/* Both steps for every cell of a field, as training and classification both need them: a
 * copy of the field normalised (unless normalise is 0), then crops[i] for cells[i]. On
 * failure every crop made is freed. */
int bs_field_crops(const bs_image *field, const bs_cell *cells, int64_t n, int normalise,
                   bs_image *crops);

/* The rule that calls a field: `ALL suspected` when at least min_blasts cells are confident
 * blasts (positive class, probability >= min_probability, not out of distribution).
 * Defaults: 1 blast, probability 0.9. */
typedef struct bs_field_rule {
    int64_t min_blasts;
    double min_probability;
} bs_field_rule;
void bs_field_rule_default(bs_field_rule *r);

/* What a field says (counts over its cells; blasts = cells of the positive class). */
typedef struct bs_field_summary {
    int64_t white_cells, blasts, confident_blasts, ood_cells;
    double blast_percent, blast_percent_lo, blast_percent_hi; /* 0..100; NaN without cells */
    int all_suspected;                                        /* the rule's call */
} bs_field_summary;

/* One classified cell, as the summary and the overlay read it. */
typedef struct bs_field_call {
    int label;          /* 1 = positive (blast) */
    double probability; /* calibrated P(positive) */
    int ood;            /* 1: out of distribution */
} bs_field_call;

void bs_field_summarise(const bs_field_call *calls, int64_t n, const bs_field_rule *rule,
                        bs_field_summary *out);
/* The call's words: "ALL suspected", "no confident blast" or "no white cells". */
const char *bs_field_call_name(const bs_field_summary *s);

/* Write a PNG (atomically) of the field with every cell boxed: without calls (NULL) yellow;
 * with calls red for blasts, green for other cells, grey when out of distribution, each
 * labelled with its probability when libvips can render text. */
int bs_field_overlay(const bs_image *img, const bs_cell *cells, int64_t n,
                     const bs_field_call *calls, const char *png_path);

#endif
