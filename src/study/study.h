/* study.h — the paper's experiments on a feature folder, under a chosen protocol (SPEC §6).
 *
 *   Exp 1  each feature set alone (GSet, ISet)
 *   Exp 2  all feature sets concatenated (ESet)
 *   Exp 3  the sparse-autoencoder latent of the concatenation, per hidden fraction (RSet)
 *
 * Protocols: `paper` deals rows (all views) into stratified random folds and fits the
 * autoencoder once on every row, as the paper did: it leaks, and the leak is counted.
 * `grouped` deals whole groups (an image, its mirrors, its duplicates, the manifest's groups)
 * into stratified folds, and fits every step (scaling, autoencoder, standardisation, kernel
 * scale, SVM) on the training folds only. `source` (leave one source out, study/travel.c) tests
 * each source (index.csv `source`: microscope, lab, dataset) with a model fitted on the other
 * sources; a source the others cannot stand in for (they would hold one class only, as every
 * blast comes from one source) is tested by grouped folds within it instead, the rest of it
 * and every other source training. Each test unit (a source, or a fold within one) is a
 * "fold" of the study; its fit calibrates Platt's sigmoid by grouped CV inside its training
 * rows, as `train` does, and its held-out rows also get the adaptations of eval/adapt.h and the
 * stain-transfer rows of the feature folder (FEATDIR/stain-transfer, extract.h) their calls.
 *
 * Every random choice derives from one seed and the (experiment, fold) it serves, so results
 * do not depend on the order folds are computed in — nor on where: under an MPI job
 * (core/dist.h) the (experiment, fold) work units are dealt to the ranks, longest first (an
 * experiment whose autoencoder is shared by its folds, the paper protocol's, is one unit),
 * the owners broadcast their test decisions, and every rank ends with the same bs_study as a
 * single process, bit for bit. Not for: writing files (report.h). */
#ifndef BS_STUDY_H
#define BS_STUDY_H

#include <stddef.h>
#include <stdint.h>

#include "eval/calibration.h"
#include "eval/eval.h"
#include "features/featdir.h"
#include "fit/fit.h"
#include "svm/svm.h"

typedef enum { BS_PROTOCOL_PAPER = 0, BS_PROTOCOL_GROUPED = 1, BS_PROTOCOL_SOURCE = 2 } bs_protocol;
#define BS_PROTOCOLS 3

/* binary: ALL (label 1) vs healthy; subtype: one class per class name (e.g. Aria's
 * Benign/Early/Pre/Pro), one-vs-one SVMs, K-class confusion metrics. */
typedef enum { BS_TASK_BINARY = 0, BS_TASK_SUBTYPE = 1 } bs_task;

typedef struct bs_study_options {
    bs_protocol protocol;
    bs_task task;
    int folds; /* k, default 5 */
    uint64_t seed;
    const double *latent; /* hidden fractions of the fused width, e.g. 0.25, 0.5, 0.75 */
    size_t nlatent;
    int epochs;                      /* autoencoder MaxEpochs, default 750 */
    double l2, sparsity, proportion; /* autoencoder regularisation (SPEC §4 defaults) */
    double kernel_scale;             /* 0: MATLAB 'auto'; > 0: fixed */
    int progress;                    /* progress bars on a terminal */
    int verbose;                     /* a line per experiment on stderr */
    /* --protocol source: the field rule's probability (a field is called "ALL suspected" with at
     * least one cell called positive at this probability or above; default 0.9, as `cells`) and
     * the adaptations measured beside the model as trained: prior EM, diagonal CORAL, and the k
     * of the k-label recalibrations (adapt_given 0: all of them, k = 10, 25, 50). */
    double min_probability;
    int adapt_given, adapt_prior, adapt_coral;
    const int *recalibrate;
    size_t nrecalibrate;
    /* Under an MPI job, paper protocol: fit each experiment's shared autoencoder data-parallel
     * over every rank (autoencoder.h `distributed`) and deal its folds out, instead of one
     * rank fitting it alone. Faster with one latent size; the float32 sums then differ from a
     * single process's, so the latent (and results) are no longer bit-identical. */
    int ae_data_parallel;
    /* > 0: every fold's SVM as mi-SVM (fit.h) with at most this many fits: the bags are the
     * groups of label-1 rows among the fold's training rows, the instances their images (an
     * image's views share a label). Test rows are scored against their own (bag) label, so
     * their metrics are weak ones. Binary task only. */
    int mil_rounds;
} bs_study_options;

/* Leave-one-source-out results of one experiment (study/travel.c). Per held-out source and per
 * way of reading its rows (a "method": the model as trained, adapted to the source's batch by
 * prior EM or diagonal CORAL, or recalibrated on k labelled cells of it), over its original
 * views: cells, and fields (rows grouped by `group`: crops of one field share it). A field's
 * label is the majority of its cells' (a tie counts as ALL); it is called "ALL suspected" when
 * one of its cells is called positive with probability >= min_probability; its score for the
 * AUC is its highest cell probability. The study has no out-of-distribution flag: every cell
 * counts. k-label rows pool BS_TRAVEL_DRAWS draws of k labelled cells per unit, each evaluated
 * on the unit's other cells (so their counts are draws × cells). */
#define BS_TRAVEL_DRAWS 5
typedef struct bs_travel_source {
    int defined;      /* 0: the method could not run on this source (too few cells, ...) */
    bs_metrics cells; /* false-blast rate = fp / (fp + tn); AUC when both classes */
    int64_t fields, fields_called;
    bs_metrics field_calls; /* field labels against field calls; AUC on the highest probability */
} bs_travel_source;

typedef struct bs_travel_method {
    char name[32];             /* "none", "prior", "coral", "k=10", ... */
    bs_travel_source *sources; /* study->nsources */
} bs_travel_method;

/* Stain transfer: cells of source `from` recoloured to source `to`'s colour statistics
 * (Reinhard), called by the model that tested them; `kept` calls equal the original's. */
typedef struct bs_travel_transfer {
    int from, to;
    int64_t n, kept, positive_before, positive_after;
} bs_travel_transfer;

#define BS_TRAVEL_KEPT_MIN 0.95
typedef struct bs_travel {
    bs_travel_method *methods;
    size_t nmethods;
    bs_travel_transfer *transfers;
    size_t ntransfers;
    int transfer_warning; /* some pair kept fewer than BS_TRAVEL_KEPT_MIN of its calls */
    /* Non-blast cells (label 0) of the sources tested within (e.g. Aria's Benign fields) and of
     * the sources held out whole: how many, and how many called positive. */
    int64_t within_negatives, within_called, heldout_negatives, heldout_called;
    int benign_warning; /* the first rate exceeds the second */
} bs_travel;

typedef struct bs_experiment {
    char *name;      /* "googlenet-bvlc", "fused", "latent-25%" ... */
    char **features; /* feature-set names it uses */
    size_t nfeatures;
    int64_t width;      /* columns the SVM saw */
    int64_t latent;     /* hidden units, or -1 when no autoencoder */
    double *decision;   /* per row: SVM decision value when the row was tested (binary) */
    int32_t *predicted; /* per row: the predicted label */
    /* binary task */
    bs_metrics pooled;          /* over every test row (all views) */
    bs_metrics pooled_original; /* over original views only (one per image) */
    bs_metrics *per_fold;       /* k */
    /* subtype task: the same three, as K-class confusion tables */
    bs_confusion cpooled, cpooled_original;
    bs_confusion *cper_fold;
    /* binary task, evidence beyond the metrics (study/calibrate.c, study/groups.c) */
    double *probability;        /* per row: Platt P(ALL) from a sigmoid fitted on the other folds'
                                   out-of-fold decisions (never the row's own fold); NaN if unfit */
    int calibrated;             /* 1: every row has a probability and `calibration` is filled */
    bs_calibration calibration; /* over original views (one row per image) */
    bs_metrics groups;          /* per group (study->group_count > 0): see bs_study_groups */
    bs_metrics *per_source;     /* study->nsources values when sources > 1, original views */
    /* mi-SVM (study->mil_rounds > 0; study/mil.c): each fold's relabelling, and per row in how
     * many folds it was a training row of a positive bag (mil_bagged) and ended positive */
    bs_fit_mil *mil; /* k: fold f's fit */
    int32_t *mil_bagged, *mil_positive;
    int64_t mil_images[3]; /* label-1 images (original views) positive in every fold that
                              trained on them, negative in every one, and the rest */
    double seconds;
    /* --protocol source (study/travel.c): per unit f, the sigmoid fitted inside its training rows
     * (unit_platt[2f], [2f+1]: a, b) and their share of positive rows (the prior it is
     * calibrated under); per row, the decision of its unit's model after diagonal CORAL of the
     * unit's original rows (NaN for other views); per stain-transfer row, its decision and call. */
    double *unit_platt, *unit_prior, *coral_decision, *transfer_decision;
    int32_t *transfer_predicted;
    bs_travel *travel; /* --protocol source: the leave-one-source-out tables */
} bs_experiment;

/* A shortcut baseline (study/shortcuts.c): the cubic SVM on features a diagnosis must not depend
 * on (image size, bytes per pixel, JPEG quality, mean colour, colour histogram, source), on the
 * study's folds. */
typedef struct bs_shortcut {
    char name[32];     /* "size", "bytes_per_pixel", "jpeg_quality", ... */
    char features[96]; /* what the columns are, in words */
    int64_t width;     /* columns */
    int constant;      /* every image alike: no SVM, each fold called its training majority */
    bs_metrics pooled; /* over every test row; ac and auc are the headline */
    int warning;       /* AUC ≥ 0.80, or AC within 5 points of the best deep model's */
} bs_shortcut;

typedef struct bs_study {
    bs_protocol protocol;
    bs_task task;
    int folds;
    uint64_t seed;
    int epochs;
    size_t n;                 /* rows */
    int32_t *labels;          /* per row: 0/1 (binary) or class index (subtype) */
    int nclasses;             /* 2 for binary */
    char **class_names;       /* nclasses: healthy, ALL (binary) or the sorted class names */
    int32_t *fold;            /* per row: the fold it is tested in */
    int64_t leaked_test_rows; /* test rows whose sibling view is in training */
    int64_t *leaked_per_fold; /* k */
    int64_t groups;           /* distinct groups */
    bs_experiment *experiments;
    size_t nexperiments;
    /* binary task only */
    bs_shortcut *shortcuts; /* the shortcut audit; NULL when it could not run (images unreadable) */
    size_t nshortcuts;
    double best_deep_ac; /* the best experiment's pooled AC, what the baselines are held to */
    int nsources;        /* distinct sources in the index (index.csv `source`) */
    char **source_names; /* nsources: their names (the index's) */
    int64_t *source_rows, *source_positives; /* nsources: original views per source */
    int64_t *group_id;                       /* per row: its group's dense id */
    /* --protocol source: the test units (folds) and the stain-transfer rows */
    int inner_folds; /* k of the grouped CV inside a unit's training rows */
    double min_probability;
    int *unit_source;      /* folds values: the source a unit tests */
    int *source_within;    /* nsources values: 1 when the source is tested by folds within it */
    uint8_t *original;     /* per row: 1 for an original view */
    size_t ntransfer;      /* stain-transfer rows (FEATDIR/stain-transfer) */
    int64_t *transfer_row; /* ntransfer: the original row each recolours */
    int *transfer_target;  /* ntransfer: the source whose colour statistics it was given */
    int adapt_prior, adapt_coral; /* the adaptations measured (bs_study_options) */
    int *recalibrate;             /* the k of the k-label recalibrations */
    size_t nrecalibrate;
    int64_t group_count;          /* manifest groups (bs_study_groups); 0: no per-group metrics */
    int64_t group_mixed;          /* of those, groups holding images of both labels */
    int mil_rounds;               /* the option: > 0 when every fold's SVM is mi-SVM */
    int64_t *mil_bag, *mil_image; /* with mil_rounds: per row, its group and its image (ids) */
    double seconds;
} bs_study;

/* Per-group results. Groups count as "from a manifest" when a group's name is neither the path
 * of an indexed image nor a file name with an image extension (groups blastscan makes itself are
 * named after a member's path). Per experiment and group, over the original views (one per
 * image): the group's true label is ALL when more than half of its images are ALL, its
 * predicted label is ALL when more than half of its images are predicted ALL, and a tie is
 * called ALL both ways (a clinician refers a patient whose smears disagree); its score for the
 * AUC is the mean probability of its images (the mean decision when uncalibrated). */
#define BS_STUDY_GROUP_RULE                                                                        \
    "majority of the group's images (original views); a tie counts as ALL; AUC on the mean "       \
    "probability"

void bs_study_options_init(bs_study_options *opt);
const char *bs_protocol_name(bs_protocol p);
const char *bs_task_name(bs_task t);
int bs_task_parse(const char *s, bs_task *out);
int bs_protocol_parse(const char *s, bs_protocol *out);

/* Run every experiment on the feature folder `dir` (index already read into idx). */
int bs_study_run(const char *dir, const bs_feature_index *idx, const bs_study_options *opt,
                 bs_study *out);
void bs_study_free(bs_study *s);

/* The SVM of experiment e, fold f, refitted exactly as bs_study_run fitted it (the same
 * training rows, parameters and seed) on that experiment's features x (n × w), e.g. to explain
 * the decisions it made. Experiments without an autoencoder only. NULL on error. */
bs_svm *bs_study_refit_svm(const bs_study *s, size_t e, int f, const float *x, int64_t w,
                           double kernel_scale);

#endif
