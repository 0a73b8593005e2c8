/* fit.h — one fit of the paper's model on a set of rows, the routine that the study's folds,
 * train's pipeline and the tests all go through:
 *
 *   [mapminmax + sparse autoencoder fitted on the rows → latent] → cubic SVM on the rows
 *     [refitted as mi-SVM until the labels of positive bags settle]
 *     → [Platt's sigmoid on out-of-fold decisions of a grouped k-fold CV of that SVM]
 *
 * The autoencoder (hidden = 0: the SVM sees x) and the calibration (calibration_folds = 0, as
 * in a cross-validation fold) are optional, and so is the SVM (autoencoder_only: the paper
 * protocol fits one autoencoder for all folds, then each fold's SVM on its latent through
 * another fit without autoencoder). Also the rule that turns a latent fraction into hidden
 * units. Not for: choosing the training rows or folds (study, eval), out-of-distribution
 * statistics or files (pipeline). */
#ifndef BS_FIT_H
#define BS_FIT_H

#include <stdint.h>

#include "autoencoder/autoencoder.h"
#include "core/matrix.h"
#include "svm/svm.h"

/* Hidden units for a latent fraction of a width: round(fraction · width), at least 1; 0 (no
 * autoencoder) when fraction is 0. */
int64_t bs_fit_hidden_units(double fraction, int64_t width);

/* mi-SVM's default cap on SVM fits (bs_fit_options.mil_rounds): each round is one SVM fit and a
 * prediction of the positive bags' rows, cheaper than the autoencoder; the cap only stops a
 * relabelling that cycles (docs/svm.md). */
#define BS_FIT_MIL_ROUNDS 20

/* What mi-SVM did in one fit (Andrews, Tsochantaridis & Hofmann, NIPS 2002; docs/svm.md).
 * Counts are of instances (the rows sharing an instance id: an image and its views) in
 * positive bags. */
typedef struct bs_fit_mil {
    int rounds;               /* SVM fits made, 1 .. the cap */
    int max_rounds;           /* the cap */
    int converged;            /* 1: the last relabelling changed no label */
    int64_t changed_last;     /* labels the last relabelling changed (left unapplied at the cap) */
    int64_t bags;             /* positive bags among the fit rows */
    int64_t instances;        /* their instances */
    int64_t positives;        /* of those, positive at the end (at least one per bag) */
    int64_t bag_min, bag_max; /* positives per positive bag */
    double bag_median;
} bs_fit_mil;

typedef struct bs_fit_options {
    int64_t hidden;            /* autoencoder hidden units; 0: no autoencoder */
    bs_sae_options ae;         /* its epochs, regularisation and seed (hidden is set from above) */
    int encode_all;            /* 1: encode every row of x, so that the caller can predict held-out
                             rows through features; 0: only the fit rows, in their order */
    int autoencoder_only;      /* 1: stop after the autoencoder (no SVM, no calibration) */
    bs_svm_params svm;         /* kernel scale (0 = auto), C, classes, ... */
    uint64_t svm_seed;         /* seeds the rng of the SVM's 'auto' kernel scale */
    int calibration_folds;     /* k of the grouped CV for Platt's sigmoid, lowered to the groups
                                  of the rarer class; 0: no calibration. Labels 0/1 only. */
    uint64_t calibration_seed; /* seeds the rng of its folds and of their SVMs' kernel scales */
    const int64_t *group;      /* per row of x: rows that share a calibration fold (an image and
                                  its mirrors); NULL: every row its own group */
    const char *log_name;      /* non-NULL: a line per step through bs_log, "<log_name>: ..." */
    /* mi-SVM (multiple-instance labels): the label-1 rows form bags (a field of an ALL patient)
     * that hold at least one positive instance (a blast), not only positives. Start from the bag
     * labels, fit the SVM, relabel each positive bag's instances by the sign of their mean
     * decision over their views (its highest-scoring instance stays positive), refit; until no
     * label changes or mil_rounds fits. Label-0 rows stay negative. Needs labels 0/1. */
    int mil_rounds;          /* > 0: mi-SVM with at most this many SVM fits; 0: labels as given */
    const int64_t *bag;      /* per row of x: the bag of a label-1 row (e.g. its field's group);
                                 NULL: group (or every row its own bag) */
    const int64_t *instance; /* per row of x: rows with one id are views of one instance and
                                 share its label; NULL: every row its own instance */
    /* > 1: relabel by out-of-fold decisions: the positive bags are dealt into mil_folds folds
     * (seeded by svm_seed, the same every round; at most one fold per bag), and each bag's
     * instances are scored by an SVM fitted on the current labels of every row outside its
     * fold's bags (every negative row included). An SVM that fits its own training labels
     * keeps every training instance positive; a bag's cells judged by a model that never saw
     * that bag do not have that bias. The model returned is still the SVM on all the rows.
     * 0: the decisions of that SVM itself (Andrews et al.). Costs mil_folds more SVM fits per
     * round. */
    int mil_folds;
} bs_fit_options;

/* The SPEC's defaults for the autoencoder and the SVM; no autoencoder, no calibration. */
void bs_fit_options_init(bs_fit_options *o);

typedef struct bs_fitted {
    bs_sae *ae;              /* NULL without autoencoder */
    bs_svm *svm;             /* NULL with autoencoder_only */
    bs_matrix_mut latent;    /* the autoencoder's encoding: of every row of x with encode_all, else
                             of the fit rows in order; empty without autoencoder */
    bs_matrix features;      /* what the SVM was fitted on: latent, or x without autoencoder */
    int calibration_folds;   /* k used; 0: not calibrated */
    double platt_a, platt_b; /* P(positive | decision f) = 1 / (1 + exp(A·f + B)) */
    int32_t *fold;           /* calibration fold of fit row i (n_rows values); NULL uncalibrated */
    bs_fit_mil mil;          /* with mil_rounds > 0; zero otherwise */
    int32_t *mil_labels;     /* with mil_rounds > 0: fit row i's final label (n_rows values), the
                                labels the SVM and the calibration were fitted on */
} bs_fitted;

/* Fit on rows[0..n_rows) of x (rows == NULL: every row, and n_rows == x.rows). labels[r] is
 * the class of row r of x (may be NULL with autoencoder_only). Rows outside x, a label that is
 * not 0 or 1 when calibrating or with mi-SVM, a class without a row, or (mi-SVM) no positive
 * bag or no negative row are errors. With mi-SVM the calibration folds are drawn from the bag
 * labels (a bag's rows stay together, every fold's training rows hold positive bags) and the
 * sigmoid is fitted on the final instance labels. On failure *f is empty and
 * a bs_error says why. The caller owns f's contents (bs_fitted_free; taking ae or svm out and
 * setting the field to NULL is allowed). */
int bs_fit(bs_fitted *f, bs_matrix x, const int32_t *labels, const int64_t *rows, int64_t n_rows,
           const bs_fit_options *o);
void bs_fitted_free(bs_fitted *f);

#endif
