/* pipeline.h — a trained pipeline, the model `blastscan train` writes and `predict` applies:
 *
 *   image → each backbone (resize to its input, ONNX engine, tap) → fused row [GSet | ISet | …]
 *         → mapminmax + sparse-autoencoder encoder (optional) → cubic SVM → decision
 *         → Platt sigmoid → P(positive);  autoencoder reconstruction error → out-of-distribution
 *
 * Fitting works on a feature matrix (the caller extracts it, e.g. with bs_extract and its
 * cache); the file (docs/pipeline-format.md) is parsed from a buffer as untrusted input; the
 * runtime loads the backbones named in the file, verified by SHA-256, and turns RGB images
 * into fused rows. The public embedding API (include/blastscan/blastscan.h) is built on this.
 * Not for: datasets, cross-validated evaluation (study.h) or command-line parsing. */
#ifndef BS_PIPELINE_H
#define BS_PIPELINE_H

#include <stddef.h>
#include <stdint.h>

#include "autoencoder/autoencoder.h"
#include "core/matrix.h"
#include "features/extract.h"
#include "fit/fit.h"
#include "image/image.h"
#include "svm/svm.h"

#define BS_PIPELINE_NAME_MAX 255 /* longest name, file name, tap or version string */
#define BS_PIPELINE_MAX_BACKBONES 64
#define BS_PIPELINE_MAX_CLASSES 4096

typedef struct bs_pipeline_backbone {
    char name[BS_PIPELINE_NAME_MAX + 1]; /* feature-set name (metadata `name` or file stem) */
    char file[BS_PIPELINE_NAME_MAX + 1]; /* ONNX file name, no folder: looked up at load;
                                            "morphometry": the morphometric features */
    char sha256[65];                     /* of the ONNX file (of the morphometry version),
                                            lower-case hex */
    int input_size;                      /* square input side S */
    char tap[BS_PIPELINE_NAME_MAX + 1];  /* output tensor taken as features */
    int64_t dim;                         /* features it contributes, in this order */
} bs_pipeline_backbone;

typedef struct bs_pipeline_class { /* a class of the training data (folder, manifest class) */
    char name[BS_PIPELINE_NAME_MAX + 1];
    int32_t label; /* 0 or 1 */
    int64_t images;
} bs_pipeline_class;

/* Out-of-distribution statistics. The autoencoder's reconstruction error (bs_sae_reconstruction_
 * error, original feature units) of rows it was trained on is optimistic, so the threshold comes
 * from rows it has not seen: a validation autoencoder, fitted like the final one on the groups
 * outside calibration fold 0, measures the errors of the fold-0 rows; the threshold is
 * exp(q75 + k·(q75 − q25)) of their log errors (Tukey's far-out fence on the log scale, k = 3
 * unless asked otherwise), or a quantile of those errors (--ood-quantile),
 * docs/pipeline-format.md. The final autoencoder's errors on its own training rows are kept
 * for reference. */
typedef struct bs_pipeline_ood {
    int available;                                    /* 0 without an autoencoder (--latent none) */
    double k;                                         /* fence multiplier */
    double threshold;                                 /* flag when error > threshold */
    int64_t n_validation;                             /* rows whose errors set it */
    double mean, sd, q25, median, q75, q95, q99, max; /* of those validation errors */
    double train_median, train_q99, train_max;        /* the final model on its training rows */
} bs_pipeline_ood;

/* How a cell model's crops were made (docs/cells.md), so that `cells --model` crops the same
 * way without the user repeating it. Recorded when the training manifest says (a crop manifest's
 * `normalised` column); absent (present = 0) for whole-image models and older files. */
typedef struct bs_pipeline_cells {
    int present;
    int normalised;    /* 1: each field's colour normalised before cropping; 0: as photographed */
    double crop_scale; /* the crop's side over the cell box's larger side (field.h) */
} bs_pipeline_cells;

typedef struct bs_pipeline {
    /* provenance */
    char version[BS_PIPELINE_NAME_MAX + 1]; /* blastscan version that trained it */
    uint64_t seed;
    int augment; /* bit 0: trained on originals + h/v mirrors; bits 8-15, 16-23, 24-31: how
                    many HED, scale jitter and stain-transfer views per image (image.h) */
    int64_t n_images, n_rows; /* training images and rows (views) */
    int64_t images_per_label[2], rows_per_label[2];
    char label_names[2][BS_PIPELINE_NAME_MAX + 1]; /* "healthy", "ALL" */
    size_t n_classes;
    bs_pipeline_class *classes;
    /* features */
    size_t n_backbones;
    bs_pipeline_backbone *backbones;
    int64_t n_features; /* fused width = Σ dim */
    /* model */
    double latent_fraction; /* hidden / n_features as asked; 0 = no autoencoder */
    int epochs;
    double kernel_scale_option; /* 0 = auto (the fitted scale is in the SVM) */
    bs_sae *ae;                 /* NULL: the SVM sees the fused features */
    bs_svm *svm;
    int calibration_folds;
    int64_t calibration_rows;
    double platt_a, platt_b; /* P(positive | f) = 1 / (1 + exp(A·f + B)) */
    bs_pipeline_ood ood;
    bs_fit_mil mil;          /* trained as mi-SVM when mil.rounds > 0 (train --mil) */
    bs_pipeline_cells cells; /* a cell model's crops */
    /* The share of positive labels among the rows Platt's sigmoid was fitted to (after mi-SVM's
     * relabelling): the class prior its probabilities assume, which prior adaptation
     * (bs_pipeline_adapt_prior) starts from. 0: not recorded (a file older than the PRIO
     * section). */
    double train_prior;
} bs_pipeline;

typedef struct bs_pipeline_fit_options {
    double latent_fraction; /* hidden units as a fraction of the width (bs_fit_hidden_units,
                               fit/fit.h); 0 = no autoencoder */
    bs_sae_options ae;      /* epochs, regularisation, seed (hidden from the fraction) */
    bs_svm_params svm;      /* kernel scale (0 = auto), C ... */
    uint64_t svm_seed;      /* rng for the 'auto' kernel scale of the final SVM */
    int calibration_folds;  /* k of the internal grouped CV for Platt scaling (default 5) */
    uint64_t calibration_seed;
    double ood_k;            /* fence multiplier (default 3) */
    double ood_quantile;     /* in (0, 1]: threshold at this quantile of the validation errors
                            instead of the fence (e.g. 0.95 for cell models); 0: the fence */
    int verbose;             /* a line per step through bs_log (core/log.h) */
    int mil_rounds;          /* > 0: the SVM as mi-SVM (fit.h), bags = the label-1 rows' groups, at
                            most this many SVM fits; 0: the labels as given */
    const int64_t *instance; /* mi-SVM: per row, rows with one id are views of one image and
                                share its label; NULL: every row its own */
    int mil_folds; /* mi-SVM: > 1 relabel by out-of-fold decisions (fit.h), 0: in-sample */
} bs_pipeline_fit_options;

void bs_pipeline_fit_options_init(bs_pipeline_fit_options *o);

/* `train`'s seeds, each bs_rng_derive(--seed, purpose) (core/rng.h): published pipeline files
 * depend on these values. */
enum { BS_SEED_AE = 1, BS_SEED_SVM = 2, BS_SEED_CALIBRATION = 3 };
void bs_pipeline_fit_options_seed(bs_pipeline_fit_options *o, uint64_t seed);

/* `train`'s fused rows (rows × *width, *x the caller's to free): the feature sets of a feature
 * folder holding one set per backbone of info[0..nb) (bs_extract's output), joined in
 * feature-set name order as `experiment` fuses them; order[k] (nb entries) receives the index
 * in info of the k-th block of columns, the order of the pipeline's backbones. */
int bs_pipeline_read_features(const char *featdir, const bs_backbone_info *info, size_t nb,
                              size_t rows, size_t *order, float **x, int64_t *width);

/* The provenance of a pipeline trained on ds with --seed seed: version, seed, views (augment:
 * the mirrors, stain and scale views of each image, image.h), images and rows per label, the classes with their label and
 * images, and the backbones in column order: the k-th is info[order[k]], read from the ONNX file
 * paths[order[k]] (order from bs_pipeline_read_features). An over-long class or file name is an
 * error. bs_pipeline_fit records the options it fits with. */
int bs_pipeline_set_provenance(bs_pipeline *p, const bs_dataset *ds, const bs_augment *augment,
                               uint64_t seed, const bs_backbone_info *info,
                               const char *const *paths, const size_t *order, size_t nb);

/* Whole-number row weights as a row list for bs_pipeline_fit: row r of n listed weight[r]
 * times (1 ..= BS_PIPELINE_WEIGHT_MAX), in row order; *rows is the caller's to free. A row
 * listed W times counts W times in every step (the autoencoder, the SVM, the calibration and
 * the OOD quantile). For the C-SVM this is exact: W identical rows enter libsvm's dual only
 * through the sum of their multipliers, which is one row with box constraint W·C; libsvm has
 * no per-row weights (Debian ships 3.24 without the libsvm-weights patch), and a per-class C
 * (libsvm's weight_label) cannot single out some rows of a class. The copies share the row's
 * group, so they never straddle calibration folds, and its instance (one mi-SVM label).
 * Costs (n + extra rows)² of kernel memory. A weight outside the range is an error. */
#define BS_PIPELINE_WEIGHT_MAX 1000
int bs_pipeline_weighted_rows(const int32_t *weight, int64_t n, int64_t **rows, int64_t *n_rows);

/* Fit on rows[0..n_rows) (NULL: all x.rows) of x: mapminmax + autoencoder on those rows,
 * then the SVM on their latent (or on x; with mil_rounds, mi-SVM: p->mil), then Platt's sigmoid on out-of-fold decisions of a
 * grouped k-fold CV of the SVM (standardisation, kernel scale and SVM refitted per fold, the
 * autoencoder kept: it never sees labels), then the OOD statistics. labels[r] ∈ {0, 1};
 * group[r] ties rows that must share a calibration fold (an image and its mirrors). Fills the
 * model fields of *p, and of its provenance the options it was fitted with (latent fraction,
 * epochs, kernel scale option); bs_pipeline_set_provenance fills the rest. */
int bs_pipeline_fit(bs_pipeline *p, bs_matrix x, const int32_t *labels, const int64_t *group,
                    const int64_t *rows, int64_t n_rows, const bs_pipeline_fit_options *o);

/* One prediction. */
typedef struct bs_pipeline_result {
    int32_t label;      /* 1 = positive (label_names[1]) */
    double decision;    /* SVM decision value; > 0 means positive */
    double probability; /* calibrated P(positive) */
    double recon_error; /* autoencoder reconstruction error; NaN without autoencoder */
    int ood;            /* 1: recon_error > threshold; 0 otherwise or unavailable */
} bs_pipeline_result;

/* Predict rows[0..n_rows) (NULL: all x.rows) of fused features x (x.cols = n_features). */
int bs_pipeline_predict(const bs_pipeline *p, bs_matrix x, const int64_t *rows, int64_t n_rows,
                        bs_pipeline_result *out);
/* Platt's sigmoid (fit and apply) lives in eval/calibration.h: bs_platt_fit, bs_platt. */

/* Prior adaptation of a batch's results (Saerens, Latinne & Decaestecker 2002; eval/adapt.h):
 * the batch's class prior re-estimated by EM from its n probabilities, starting from
 * p->train_prior, then every result moved by the change of prior odds: probability through
 * bs_prior_adjust, decision less the threshold bs_prior_threshold gives (so > 0 still means
 * positive), label from that decision. A batch of one class moves away from the training mix,
 * towards its own: fewer positives in an all-negative batch, more in an all-positive one. An
 * error (nothing changed) when the file records no prior (train_prior 0: retrain). n = 0
 * changes nothing. */
typedef struct bs_pipeline_adaptation {
    double train_prior, batch_prior; /* the EM's start and its estimate */
    double shift;                    /* logit(batch) - logit(train) */
    double threshold;                /* the decision threshold the shift sets */
    int rounds;                      /* EM rounds */
    int64_t n, positives_before, positives_after;
} bs_pipeline_adaptation;
int bs_pipeline_adapt_prior(const bs_pipeline *p, bs_pipeline_result *r, int64_t n,
                            bs_pipeline_adaptation *out);

/* The file: bs_pipeline_save writes atomically; bs_pipeline_parse reads an in-memory image as
 * untrusted input (name is used in messages). On failure *p is left empty. */
int bs_pipeline_save(const bs_pipeline *p, const char *path);
int bs_pipeline_parse(const unsigned char *buf, size_t len, const char *name, bs_pipeline *p);
int bs_pipeline_load(const char *path, bs_pipeline *p);
void bs_pipeline_free(bs_pipeline *p);

/* The backbones of a pipeline, loaded from dir/<file> and verified by SHA-256. */
typedef struct bs_pipeline_runtime bs_pipeline_runtime;
bs_pipeline_runtime *bs_pipeline_runtime_open(const bs_pipeline *p, const char *dir);
void bs_pipeline_runtime_free(bs_pipeline_runtime *rt);
/* Fused feature rows (n × n_features) of n RGB images (any size; the original view): each
 * image resized to every backbone's input, batches of up to `batch` images per engine run
 * (runs are padded to a fixed batch so one plan serves them all). A backbone recorded with the
 * file name "morphometry" has no file: its columns are the morphometric features
 * (features/morphometry.h) of each image at its own size and scale (image.h cell_px,
 * red_cell_px: set on field mode's crops), and opening refuses another version of them. */
int bs_pipeline_runtime_features(bs_pipeline_runtime *rt, const bs_image *images, size_t n,
                                 size_t batch, float *rows);
/* The runtime's pipeline applied to n RGB images: their fused rows (into the caller's scratch
 * `rows`, n × n_features) and then bs_pipeline_predict, out[i] for images[i]. */
int bs_pipeline_runtime_classify(bs_pipeline_runtime *rt, const bs_image *images, size_t n,
                                 size_t batch, float *rows, bs_pipeline_result *out);

#endif
