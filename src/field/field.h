/* field.h — field mode, everything about a field's cells after detection: per-field colour
 * normalisation, square cell crops, classification of every cell through a trained pipeline,
 * the per-field blast count with its interval and call, overlays, and the cell dataset that
 * `blastscan cells --crops` cuts from a field dataset.
 *
 * The same two steps prepare cells for training (bs_field_write_crop_dataset) and for
 * classification (bs_field_classify_cells: `blastscan cells --model`, blastscan_cells_rgb), so
 * a model sees at prediction time exactly what it was trained on:
 *   1. bs_field_normalise — per channel, a linear map sending the field's background (the
 *      median colour of its brightest quarter of pixels) to a fixed white and its nuclei (the
 *      median colour of its darkest 1 %) to a fixed violet: the stain and the illumination of
 *      one microscope are mapped onto fixed references (docs/cells.md, "Field mode");
 *   2. bs_field_crop — a square of BS_FIELD_CROP_SCALE × the larger side of the cell's box,
 *      centred on the box, padded by reflection at the borders; the backbone's resize then
 *      makes a cell fill the same fraction of the network's view on every microscope.
 * Not for: detection (detect/detect.h), the pipeline itself (pipeline/pipeline.h) or truth
 * files and detection metrics (eval/truth.h). */
#ifndef BS_FIELD_H
#define BS_FIELD_H

#include <stddef.h>
#include <stdint.h>

#include "dataset/dataset.h"
#include "detect/detect.h"
#include "eval/truth.h"
#include "image/image.h"
#include "pipeline/pipeline.h"

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

/* ---- classification through a pipeline -------------------------------------------------- */

/* out[i] for cells[i] of field: every cell cropped (bs_field_crops), run through the pipeline's
 * backbones in batches (batch = crops per network run) and classified like a whole image
 * (class, decision, calibrated probability, out-of-distribution flag). rt is p's runtime.
 * normalise: 1 to normalise the field's colour first (the setting the cell model was trained
 * with: docs/cells.md). */
int bs_field_classify_cells(bs_pipeline_runtime *rt, const bs_pipeline *p, const bs_image *field,
                            const bs_cell *cells, int64_t n, int normalise, size_t batch,
                            bs_pipeline_result *out);

/* How a field is analysed. Defaults: the detector's, normalised colour, batches of 8, the
 * default rule. */
typedef struct bs_field_options {
    bs_detect_params detect;
    int normalise; /* 1: normalise the field's colour before cropping */
    size_t batch;  /* crops per network run */
    bs_field_rule rule;
} bs_field_options;
void bs_field_options_default(bs_field_options *o);

/* A field analysed: its cells and, with a pipeline, each cell's result and call. */
typedef struct bs_field_analysis {
    bs_cells cells;
    bs_pipeline_result *results; /* cells.n records; NULL without a pipeline */
    bs_field_call *calls;        /* cells.n records; all zero without a pipeline */
    bs_field_summary summary;    /* over calls (meaningful with a pipeline) */
} bs_field_analysis;

/* Detect the white cells of img, and when rt is not NULL classify each one with p (rt is p's
 * runtime) and summarise the field under o->rule. On failure *out is freed. */
int bs_field_analyse(const bs_image *img, const bs_field_options *o, bs_pipeline_runtime *rt,
                     const bs_pipeline *p, bs_field_analysis *out);
void bs_field_analysis_free(bs_field_analysis *a);

/* --adapt prior over a batch of fields classified with p: one EM over all their cells
 * (bs_pipeline_adapt_prior), then every cell's result and call and each field's summary
 * redone under rule. A batch is one lab and one stain: its prior is what is re-estimated. */
int bs_field_adapt_prior(bs_field_analysis *fields, size_t n, const bs_pipeline *p,
                         const bs_field_rule *rule, bs_pipeline_adaptation *out);

/* Add a field analysed (with p's results when it was classified, a->results not NULL) to a
 * comparison with annotations: its detections against t's records of `path` (the field img),
 * and which cells were called blasts. *found = 0 (nothing added) when t does not annotate
 * the image. */
int bs_field_compare(bs_truth_eval *e, const bs_truth *t, const char *path, const bs_image *img,
                     const bs_field_analysis *a, int *found);

/* ---- exports other tools read --------------------------------------------------------- */

/* A field's cells as a GeoJSON FeatureCollection, as QuPath imports it: per cell a Feature
 * with its box as a Polygon in the field's pixels (y down) and properties objectType
 * "detection", classification {name, color}, class, probability (null without a model) and
 * measurements (centre, nucleus area and edge; with a model probability, decision,
 * reconstruction error, out of distribution). class_names: the model's two label names, NULL
 * without a model ("white cell"). Written atomically. */
int bs_field_write_geojson(const char *path, const bs_field_analysis *a,
                           const char *const *class_names);

/* COCO detection JSON for a batch: info, licenses, categories (the model's two classes, ids 1
 * and 2 = label + 1; without a model one, "white cell"), an annotation per cell (bbox
 * [x,y,w,h], area, a box polygon as segmentation, iscrowd 0, score = probability with a model)
 * and the images (id, file_name as given, width, height). Written atomically on commit. */
typedef struct bs_field_coco bs_field_coco;
int bs_field_coco_open(bs_field_coco **c, const char *path, const char *const *class_names);
int bs_field_coco_add(bs_field_coco *c, const char *image, int width, int height,
                      const bs_field_analysis *a);
int bs_field_coco_commit(bs_field_coco *c); /* frees c */
void bs_field_coco_abort(bs_field_coco *c); /* frees c; NULL is fine */

/* ---- a cell model's crop settings (the pipeline file's CELL section) ----------------------- */

/* How the crops of ds were made, for a model trained on them: when its manifests carry the
 * `normalised` column, every sample must say the same (else an error naming two that differ,
 * or one that says and one that does not), and *out records it with this build's crop rule
 * (BS_FIELD_CROP_SCALE); when no sample says, *out is absent (present = 0). */
int bs_field_crop_settings(const bs_dataset *ds, bs_pipeline_cells *out);

/* The colour normalisation to crop with for model p. asked: -1 (nothing asked) takes the
 * model's setting, or normalised when the model does not record one (files before the CELL
 * section, whole-image models); 0 or 1 is used for a model that does not record one and is an
 * error against one that does (a mismatch changes the calls: docs/cells.md). A model whose
 * crop scale is not this build's crop rule is an error too. */
int bs_field_resolve_normalise(const bs_pipeline *p, int asked, int *normalise);

/* ---- cell datasets: from a field dataset, or from annotated boxes ---------------------- */

typedef struct bs_field_crop_counts {
    int64_t cells, images_without_cells;
    int64_t boxes_outside; /* annotated boxes with nothing inside the field (not cropped) */
} bs_field_crop_counts;

/* Both writers make OUTDIR/CLASS/NNNNN_STEM_cKKK.png (.jpg with jpeg: quality 95; NNNNN the
 * field's index, CLASS the crop's class made safe as a folder name, KKK the cell's index) with
 * bs_field_crops (so crops are cut exactly as bs_field_classify_cells cuts them), and
 * OUTDIR/manifest.csv, written atomically, with the columns
 *   path,label,class,group,source,field,x0,y0,x1,y1,cell_px,red_cell_px,normalised
 * path relative to OUTDIR; group = the field's group, so no cross-validation split puts cells
 * of one field on both sides; source = the microscope/dataset (sources.csv image,source in the
 * data's folder, else that folder's name); field and the half-open box x0..x1 × y0..y1 in its
 * pixels; the field's white- and red-cell diameters in pixels (empty when not measured; crops
 * keep the field's resolution); normalised 1 when colours were normalised per field. OUTDIR
 * is created. An error names the field; no cell at all is an error (no manifest). */

/* Every detected white cell of every sample of ds (o->detect, o->normalise), with the label
 * and class of its field (weak labels), its group and its source's name (ds->source_names). */
int bs_field_write_crop_dataset(const bs_dataset *ds, const bs_field_options *o, const char *outdir,
                                int jpeg, bs_field_crop_counts *counts);

/* The labels of crops whose annotations carry none. */
typedef struct bs_field_box_labels {
    int label;              /* 1 blast, 0 non-blast, -1 not given */
    const char *class_name; /* NULL: not given */
} bs_field_box_labels;

/* Every white cell boxed in t (read by bs_truth_read from `boxes`: a boxes CSV, a corrections
 * CSV, a YOLO or VOC folder; the images must be found) cropped (o->normalise; the box as the
 * cell's box). A record's label, class, group and source are its own when the file carries
 * them (a corrections CSV), else: label from a blast/non-blast class, else given->label;
 * class given->class_name, else blast/non-blast; group the field's path; source from
 * sources.csv in the folder of `boxes` (the one above for labels/ or Annotations/), else that
 * folder's name. A record without any label is an error. */
int bs_field_write_box_crops(const bs_truth *t, const char *boxes, const bs_field_box_labels *given,
                             const bs_field_options *o, const char *outdir, int jpeg,
                             bs_field_crop_counts *counts);

#endif
