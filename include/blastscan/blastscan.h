/* blastscan.h — embed blastscan: load a trained pipeline file (`blastscan train`), classify
 * RGB images, free.
 *
 *     blastscan *bs = blastscan_open("model.blastscan", "/opt/models");
 *     if (!bs) {
 *         fprintf(stderr, "%s\n", blastscan_error());
 *         return 1;
 *     }
 *     blastscan_result r;
 *     if (blastscan_classify_rgb(bs, pixels, width, height, &r) == 0)
 *         printf("%s p=%.3f%s\n", r.class_name, r.probability,
 *                r.out_of_distribution ? " (out of distribution)" : "");
 *     else
 *         fprintf(stderr, "%s\n", blastscan_error());
 *     blastscan_close(bs);
 *
 * Every function returns 0 (or a non-NULL handle) on success and -1 (or NULL) on failure;
 * blastscan_error() then tells why, naming the file and the reason. The message is kept per
 * thread. One handle may be used by one thread at a time; use one handle per thread to
 * classify in parallel. The first blastscan_open starts libvips (image resizing); call it
 * from one thread before starting others. Threads: the OpenMP settings of the process
 * (OMP_NUM_THREADS) govern the networks; where other work keeps the cores busy, set
 * OMP_WAIT_POLICY=passive before the process starts (spinning OpenMP threads then slow every
 * image down several times; bench/predict/run measures both). Link: libblastscan.a and its
 * dependencies (libvips, oneDNN, libsvm, protobuf-c, OpenMP), as CMake's `bs_api` target does.
 */
#ifndef BLASTSCAN_H
#define BLASTSCAN_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct blastscan blastscan; /* a loaded pipeline with its backbones */

typedef struct blastscan_result {
    int label;               /* 1 = the positive class (ALL), 0 = negative (healthy) */
    const char *class_name;  /* the label's name recorded in the pipeline, e.g. "ALL";
                                owned by the handle, valid until blastscan_close */
    double decision;         /* SVM decision value; > 0 means positive */
    double probability;      /* calibrated probability of the positive class (Platt) */
    double ood_score;        /* autoencoder reconstruction error / OOD threshold (> 1: OOD);
                                negative when the pipeline has no autoencoder */
    int out_of_distribution; /* 1: unlike the training images; do not trust the label */
} blastscan_result;

/* Load a pipeline file and its backbones, found by their recorded file names in backbone_dir
 * and verified by SHA-256. */
blastscan *blastscan_open(const char *pipeline_path, const char *backbone_dir);

/* Classify one 8-bit RGB image: height rows of width pixels, 3 bytes per pixel (R, G, B),
 * rows packed (stride = 3·width). Any size up to 2^28 pixels; it is resized as in training. */
int blastscan_classify_rgb(blastscan *bs, const unsigned char *rgb, int width, int height,
                           blastscan_result *out);

/* Decode an image file (JPEG, TIFF, PNG, BMP) and classify it. */
int blastscan_classify_file(blastscan *bs, const char *path, blastscan_result *out);

/* Field mode: find every white cell of a smear field (any magnification), classify each cell
 * (normalised colour, a square crop sized from the cell, as `blastscan cells --model`) and
 * count the blasts. Use a pipeline trained on cell crops (`blastscan cells --crops`). */
typedef struct blastscan_cell {
    double x, y;             /* centre, pixels */
    int x0, y0, x1, y1;      /* box, half-open: x0 <= x < x1 */
    long long nucleus_area;  /* stained-nucleus pixels */
    int edge;                /* 1: cut by the image border */
    blastscan_result result; /* the cell's class, decision, probability and OOD flag */
} blastscan_cell;

typedef struct blastscan_field {
    size_t n_cells;          /* white cells found (zero is a result) */
    blastscan_cell *cells;   /* owned: blastscan_field_free */
    size_t blasts;           /* cells of the positive class */
    size_t confident_blasts; /* positive, probability >= min_probability, in distribution */
    double blast_percent;    /* 100·blasts/n_cells; NaN without cells */
    double blast_percent_lo, blast_percent_hi; /* 95 % Wilson interval */
    int all_suspected;                         /* 1: confident_blasts >= min_blasts */
    double cell_size;                          /* the white-cell diameter used, pixels */
} blastscan_field;

typedef struct blastscan_cells_options {
    double cell_size;       /* <= 0: estimated from the image (default) */
    double min_probability; /* default 0.9 */
    int min_blasts;         /* default 1 */
    int normalise; /* -1 (default): as the model's crops were made (its file records it; a model
                      that does not: normalised); 1: per-field colour normalisation; 0: colours
                      as photographed. 0 or 1 against what the model records is an error. */
} blastscan_cells_options;

void blastscan_cells_options_default(blastscan_cells_options *opt);
/* opt may be NULL (defaults). On success *out holds the cells; free with blastscan_field_free. */
int blastscan_cells_rgb(blastscan *bs, const unsigned char *rgb, int width, int height,
                        const blastscan_cells_options *opt, blastscan_field *out);
/* Decode an image file (JPEG, TIFF, PNG, BMP) and do the same. */
int blastscan_cells_file(blastscan *bs, const char *path, const blastscan_cells_options *opt,
                         blastscan_field *out);
void blastscan_field_free(blastscan_field *field);

void blastscan_close(blastscan *bs);

/* Why the last call on this thread failed ("" if none). */
const char *blastscan_error(void);

/* The library's version, e.g. "0.1.0". */
const char *blastscan_version(void);

#ifdef __cplusplus
}
#endif

#endif
