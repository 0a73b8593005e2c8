/* svm.h — the cubic SVM of SPEC §5 (MATLAB Classification Learner "Cubic SVM"):
 * per-fit standardisation, kernel K(x, y) = (1 + xᵀy / s²)³, C = 1, trained by libsvm's
 * C-SVC (`-s 0`) on a precomputed kernel matrix built with one GEMM. Two classes, or K > 2
 * classes through libsvm's one-vs-one.
 *
 * Layout: features are an N×D float32 matrix view (core/matrix.h); a fit or a prediction names
 * the rows it uses by index, so folds never copy the feature matrix. Labels are given per row
 * of the full matrix (labels[r] for row r). A malformed view or a missing argument is a
 * programming error (asserted); bad data (a row outside the matrix, a non-finite value, a
 * width the model does not expect) is an error returned with a bs_error.
 *
 * Binary convention: the larger of the two labels is the positive class (label 1 = ALL when the
 * labels are 0/1); a positive decision value means "positive class".
 *
 * The fitted model is opaque, but its contents can be read (bs_svm_get_parts) and a model
 * rebuilt from them (bs_svm_from_parts), so a pipeline file can save and load it.
 * Not for: choosing folds, computing metrics or writing files. */
#ifndef BS_SVM_H
#define BS_SVM_H

#include <stddef.h>
#include <stdint.h>

#include "core/matrix.h"
#include "core/rng.h"

typedef struct bs_svm bs_svm;

/* What to do when a class of the label set is absent from the training rows. */
typedef enum {
    BS_SVM_MISSING_ERROR = 0, /* fail with a message naming the class (default) */
    BS_SVM_MISSING_SKIP = 1   /* fit on the classes present (at least 2); an absent class is
                                 never predicted. Two-class tasks always need both classes. */
} bs_svm_missing;

typedef struct bs_svm_params {
    /* Kernel scale s: > 0 fixes it; 0 (the default) means MATLAB's 'auto' heuristic
     * (bs_svm_auto_kernel_scale), which draws from the rng given to bs_svm_fit. */
    double kernel_scale;
    double box_constraint;  /* C, 1 */
    double tolerance;       /* libsvm -e, 1e-3 (also scikit-learn's default tol) */
    double cache_mb;        /* libsvm kernel cache, 200 (scikit-learn's default) */
    int shrinking;          /* libsvm -h, 1 */
    int n_classes;          /* K: labels must lie in 0..K-1; 2 for the paper */
    bs_svm_missing missing; /* see bs_svm_missing */
} bs_svm_params;

void bs_svm_params_default(bs_svm_params *p);

/* Fit on the training rows rows[0..n_rows) of x (N×D). labels[r] ∈ 0..K-1 is the
 * class of row r. rng is used only for the 'auto' kernel scale (may be NULL when the scale is
 * fixed). Non-finite features in a training row are an error. Memory: about 16·n_rows² bytes
 * for the precomputed kernel handed to libsvm. Returns NULL with a bs_error on failure. */
bs_svm *bs_svm_fit(bs_matrix x, const int32_t *labels, const int64_t *rows, int64_t n_rows,
                   const bs_svm_params *p, bs_rng *rng);
void bs_svm_free(bs_svm *m);

/* Number of decision values per row: 1 for two classes, K(K-1)/2 for one-vs-one (pair order
 * as in bs_svm_parts: (c0,c1), (c0,c2), ..., (c1,c2), ...; positive means the first class of
 * the pair wins). */
int bs_svm_n_decisions(const bs_svm *m);

/* Predict rows[0..n_rows) of x (N×D). decision: n_rows × bs_svm_n_decisions values (may be
 * NULL); predicted: n_rows labels (may be NULL). For two classes, decision > 0 means the
 * positive class; a decision of exactly 0 is predicted positive (libsvm gives a tie to the
 * pair's second class). K > 2: one-vs-one votes, ties to the smaller label (libsvm's rule).
 * Non-finite features are an error. Safe to call from several threads on one model. */
int bs_svm_predict(const bs_svm *m, bs_matrix x, const int64_t *rows, int64_t n_rows,
                   double *decision, int32_t *predicted);

/* k-fold cross-validation of the whole fit (standardisation, kernel scale, SVM per fold):
 * for f = 0..k−1 in order, fit on the rows with fold ≠ f and predict the rows with fold = f.
 * fold: x.rows values in 0..k−1 (src/eval makes them). decision (x.rows × bs_svm_n_decisions
 * values for n_classes classes; may be NULL) and predicted (x.rows; may be NULL) receive each
 * row's out-of-fold
 * result. The 'auto' scale draws from rng fold after fold. Steps fitted outside the SVM (an
 * autoencoder per fold) need the caller's own loop over bs_svm_fit / bs_svm_predict. */
int bs_svm_cross_validate(bs_matrix x, const int32_t *labels, const int32_t *fold, int k,
                          const bs_svm_params *p, bs_rng *rng, double *decision,
                          int32_t *predicted);

/* MATLAB's KernelScale 'auto' (SPEC §5), on already standardised rows: s = median, over up to
 * 100 positives drawn without replacement by rng, of the Euclidean distance to the nearest of
 * up to 100 negatives drawn likewise (all of them when there are at most 100, in which case the
 * rng is not used). z holds standardised rows; is_pos[i] says whether row i is
 * positive. With K > 2 classes, bs_svm_fit uses one scale for all pairs: the median of the K
 * one-vs-rest values (class k positive, the rest negative), computed for k = 0..K-1 in turn.
 * A degenerate result (0 or non-finite, e.g. duplicated rows across classes) becomes 1. */
int bs_svm_auto_kernel_scale(bs_matrix z, const uint8_t *is_pos, bs_rng *rng, double *scale);

/* The fitted model's contents, pointers into the model (valid until bs_svm_free). This is the
 * libsvm model in dense form:
 *   decision of pair (i, j), i < j, for a standardised row z:
 *     Σ_{t in class i} coef[(j-1)·n_sv + t]·K(z, sv_t) + Σ_{t in class j} coef[i·n_sv + t]·K(z, sv_t)
 *     − rho[p]     (p = the pair's index in the order above; support vectors grouped by class)
 * and K(z, v) = (1 + zᵀv / s²)³. The two-class bs_svm_predict decision is the pair's value
 * negated, because classes[0] is the smaller (negative) label; this is also how scikit-learn's
 * SVC.decision_function reports two classes. */
typedef struct bs_svm_parts {
    int64_t n_features;        /* D */
    const double *mean;        /* D: training mean */
    const double *scale;       /* D: training population std, 1 for zero-variance features */
    double kernel_scale;       /* s */
    int n_classes;             /* classes in the model (≥ 2) */
    const int32_t *classes;    /* n_classes labels, ascending */
    const int32_t *n_sv_class; /* n_classes: support vectors per class */
    int64_t n_sv;              /* total support vectors */
    const float *sv;           /* n_sv × D standardised support vectors, grouped by class */
    const double *coef;        /* (n_classes − 1) × n_sv dual coefficients (libsvm sv_coef) */
    const double *rho;         /* n_classes(n_classes − 1)/2 */
} bs_svm_parts;

void bs_svm_get_parts(const bs_svm *m, bs_svm_parts *out);
/* Build a model from saved parts (everything is copied and validated). */
bs_svm *bs_svm_from_parts(const bs_svm_parts *parts);

#endif
