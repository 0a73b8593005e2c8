/* truth.h — evaluation of field mode: annotations of white cells to compare a detector and a
 * cell classifier against: reading them, finding an image's records, one-to-one matching, and
 * the detection and blast counts over many images (the evaluation JSON).
 *
 * Three sources:
 *   boxes CSV   image,class,xmin,ymin,xmax,ymax (BCCD's boxes.csv); only white-cell classes
 *               count (bs_truth_class_kind: WBC, leukocyte, lymphocyte, monocyte, neutrophil,
 *               eosinophil, basophil, granulocyte, blast, ...); RBC, platelets and anything
 *               else are ignored, but their rows still mark the image as annotated;
 *   points CSV  image,x,y[,class]: one point per white cell (non-white classes ignored);
 *   .xyc        ALL-IDB: STEM.xyc beside the image, one "x y" blast centroid per line. Only
 *               blasts are annotated, so detection precision is undefined there;
 *   YOLO        a folder of STEM.txt label files, one "class cx cy w h" per line relative to
 *               the image's size; class k is line k of classes.txt in that folder or its
 *               parent (TXL-PBC's labels/);
 *   Pascal VOC  a folder of STEM.xml files (or one file): <object><name> and <bndbox>
 *               xmin/ymin/xmax/ymax in pixels, read with glib's GMarkup XML parser.
 * An `image` in a CSV is a path relative to the CSV's folder, an absolute path, or a bare file
 * name that matches an image of that name in any folder; a YOLO or VOC file matches the images
 * of its stem in any folder. A boxes CSV may carry each record's own label,class,group,source
 * (the review page's corrections): records with an empty label are skipped.
 *
 * Matching is one-to-one (a maximum bipartite matching, closest centres tried first): a
 * detection matches a box when each one's centre lies inside the other, a point when the point
 * lies inside the detection's box. Detections are detect.h's bs_cell records (the type only:
 * eval does not run the detector). Not for: detection (detect/detect.h) or classification of
 * a field's cells (field/field.h). */
#ifndef BS_EVAL_TRUTH_H
#define BS_EVAL_TRUTH_H

#include <stddef.h>
#include <stdint.h>

#include "detect/detect.h"

/* A class name's kind: not a white cell, a white cell of unknown type, a non-blast white cell,
 * or a blast. */
typedef enum {
    BS_TRUTH_OTHER = 0,
    BS_TRUTH_WHITE = 1,
    BS_TRUTH_NONBLAST = 2,
    BS_TRUTH_BLAST = 3
} bs_truth_kind;
bs_truth_kind bs_truth_class_kind(const char *class_name);

typedef struct bs_truth_cell {
    int is_box;            /* 1: box x0..x1 × y0..y1 (inclusive, as annotated); 0: point */
    double x0, y0, x1, y1; /* a point has x0 == x1, y0 == y1 */
    int blast;             /* 1 blast, 0 not a blast, -1 unknown */
} bs_truth_cell;

/* A record's own labels (a boxes CSV with a label column); strings "" when the table has no
 * such column. */
typedef struct bs_truth_meta {
    int label; /* 1 blast (positive), 0 not */
    char *class_name, *group, *source;
} bs_truth_meta;

typedef struct bs_truth_image {
    char *key;    /* resolved path (absolute when it was found), a bare file name or a stem */
    int bare;     /* 1: key is a bare file name; 2: a file stem (YOLO, VOC) */
    int relative; /* 1: coordinates are fractions of the image's width and height (YOLO) */
    char *path;   /* the image file when known (a CSV path that exists, or an image of the
                   * stem beside a YOLO/VOC folder), else NULL */
    bs_truth_cell *cells;
    bs_truth_meta *meta; /* n records, or NULL when the table carries no labels */
    size_t n, cap;
} bs_truth_image;

typedef struct bs_truth {
    int xyc;          /* 1: no table; STEM.xyc beside each image */
    int all_white;    /* 1: every white cell is annotated (detection precision is defined) */
    int knows_blasts; /* 1: some record says blast or not (blast metrics are defined) */
    bs_truth_image *images;
    size_t n;
} bs_truth;

/* Parse a truth CSV from memory; `name` is its path (messages, and the folder relative image
 * paths start from). */
int bs_truth_parse(const char *text, size_t len, const char *name, bs_truth *out);
/* Read a truth CSV, a folder of YOLO .txt or VOC .xml files, or one VOC .xml file; the word
 * "xyc" instead of a path selects the .xyc files. */
int bs_truth_read(const char *path, bs_truth *out);
/* The class names of a YOLO classes.txt, one per line (names[k] for class k). */
typedef struct bs_truth_classes {
    char **names;
    size_t n;
} bs_truth_classes;
int bs_truth_parse_classes(const char *text, size_t len, const char *name, bs_truth_classes *out);
void bs_truth_classes_free(bs_truth_classes *c);
/* Add the records of one YOLO label file (`name`: its path; the image is its stem) or one VOC
 * annotation to t (zeroed by the caller before the first; freed by the caller also on
 * failure). A VOC file's <filename> is kept in *filename (NULL when absent; may be NULL). */
int bs_truth_parse_yolo(const char *text, size_t len, const char *name,
                        const bs_truth_classes *classes, bs_truth *t);
int bs_truth_parse_voc(const char *text, size_t len, const char *name, bs_truth *t,
                       char **filename);
/* Parse the text of one .xyc file (blast centroids, "x y" per line). */
int bs_truth_parse_xyc(const char *text, size_t len, const char *name, bs_truth_image *out);
/* The records of an image of width × height pixels: *found = 0 when the truth does not
 * annotate it (for .xyc: no file beside it). For .xyc and YOLO the records are made in
 * *scratch, in pixels (freed by the caller with bs_truth_image_free); otherwise *img points
 * into t. */
int bs_truth_lookup(const bs_truth *t, const char *image_path, int width, int height,
                    bs_truth_image *scratch, const bs_truth_image **img, int *found);
/* An image's records in pixels: relative (YOLO) ones scaled to width × height into *out,
 * others copied (meta not copied). */
int bs_truth_image_pixels(const bs_truth_image *in, int width, int height, bs_truth_image *out);
void bs_truth_image_free(bs_truth_image *img);
void bs_truth_free(bs_truth *t);

/* One-to-one matching of n detections with m truth records: match_of_det[i] is the truth index
 * of detection i or -1, match_of_truth[j] likewise. Returns the number of pairs, -1 on no
 * memory. */
int64_t bs_truth_match(const bs_cell *det, size_t n, const bs_truth_cell *truth, size_t m,
                       int64_t *match_of_det, int64_t *match_of_truth);

/* Counts and their ratios; precision/recall/f1 are NaN when undefined. */
typedef struct bs_truth_counts {
    int64_t tp, fp, fn;
} bs_truth_counts;
void bs_truth_ratios(const bs_truth_counts *c, double *precision, double *recall, double *f1);

/* The comparison over many images: detection counts (false positives only when every white
 * cell is annotated), and with a classifier the blast counts and per-image blast-count
 * errors (when the truth knows blasts). */
typedef struct bs_truth_eval_image {
    char *path;
    int64_t truth_cells, detected;
    bs_truth_counts detection, blasts;
    int64_t true_blasts, called_blasts; /* -1 when unknown */
} bs_truth_eval_image;

typedef struct bs_truth_eval {
    int all_white, knows_blasts, with_model;
    bs_truth_counts detection, blasts;
    double abs_count_error; /* sum over images with known blasts */
    int64_t count_images;
    bs_truth_eval_image *images;
    size_t n, cap;
} bs_truth_eval;

void bs_truth_eval_init(bs_truth_eval *e, const bs_truth *t, int with_model);
/* Add one image: n detections (called_blast[i] = 1 when detection i was classified a blast;
 * NULL without a classifier) against its annotation. */
int bs_truth_eval_add(bs_truth_eval *e, const char *path, const bs_cell *det, size_t n,
                      const int *called_blast, const bs_truth_image *truth);
/* {"detection": {tp, fp, fn, precision, recall, f1}, "blasts": {...} or null, "count_mae",
 * "images", "per_image": [...]}, written atomically. */
int bs_truth_eval_write_json(const bs_truth_eval *e, const char *path);
void bs_truth_eval_free(bs_truth_eval *e);

#endif
