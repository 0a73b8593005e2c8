/* calibration.h — turning two-class SVM decisions into probabilities and judging them:
 * Platt scaling (fit and apply), the Brier score, the expected calibration error over equal-width
 * bins with the reliability bins behind it, and the accuracy–coverage trade of abstaining when a
 * probability is too close to ½.
 *
 * Conventions as in eval.h: labels are 0/1 with 1 the positive class (ALL); a probability is
 * P(positive). Not for: choosing which decisions to fit on (the study and the pipeline decide:
 * out-of-fold decisions, never a row's own) or writing files. */
#ifndef BS_EVAL_CALIBRATION_H
#define BS_EVAL_CALIBRATION_H

#include <stdint.h>
#include <stdio.h>

#include "core/json.h"

/* P(positive | f) = 1 / (1 + exp(a·f + b)), computed so exp never overflows. */
double bs_platt(double a, double b, double decision);

/* Platt's (1999) sigmoid fitted by the Newton method with backtracking of Lin, Lin & Weng
 * (2007), as libsvm's sigmoid_train: targets (N₊+1)/(N₊+2) for positives and 1/(N₋+2) for
 * negatives. Needs both classes and finite decisions (else an error). */
int bs_platt_fit(const double *decision, const int32_t *labels, int64_t n, double *a, double *b);

/* The same fit on decisions clipped to Tukey's far-out fences q25 − k·IQR and q75 + k·IQR
 * (quartiles by linear interpolation, NumPy's default; nothing clipped when IQR = 0). A cubic SVM
 * without an autoencoder can give a row far outside a fold's training range a decision in the
 * thousands; one such row of the wrong sign flattens the maximum-likelihood sigmoid to the
 * class prior. A decision beyond the fence says no more than one at the fence. Only the fit is
 * clipped: applying the sigmoid to unclipped decisions keeps their order. */
#define BS_PLATT_CLIP_K 3.0
int bs_platt_fit_clipped(const double *decision, const int32_t *labels, int64_t n, double k,
                         double *a, double *b);

/* Brier score: mean of (p − label)²; NaN when n = 0. */
double bs_brier(const double *p, const int32_t *labels, int64_t n);

#define BS_CALIBRATION_BINS 10

/* One equal-width bin [lo, hi) of probabilities (the last bin also holds p = 1). When n = 0
 * mean_probability and fraction_positive are NaN. */
typedef struct bs_reliability_bin {
    double lo, hi;
    int64_t n;
    double mean_probability, fraction_positive;
} bs_reliability_bin;

/* nbins equal-width bins over [0, 1]; probabilities outside [0, 1] or NaN are an error. */
int bs_reliability(const double *p, const int32_t *labels, int64_t n, int nbins,
                   bs_reliability_bin *bins);

/* Expected calibration error of reliability bins: Σ_b (n_b / n)·|mean_probability_b −
 * fraction_positive_b| over the non-empty bins; NaN when every bin is empty. */
double bs_ece(const bs_reliability_bin *bins, int nbins);

/* Abstention at threshold P (0 < P < 0.5): a row whose probability lies in [P, 1 − P] is set
 * aside ("uncertain"); accuracy is that of predicted[] on the rows kept (NaN when none is kept);
 * coverage = kept / n. */
typedef struct bs_coverage_point {
    double abstain;
    int64_t set_aside, kept;
    double coverage, accuracy;
} bs_coverage_point;

int bs_coverage(const double *p, const int32_t *labels, const int32_t *predicted, int64_t n,
                double abstain, bs_coverage_point *out);

/* Everything results.json reports per experiment. The coverage points are P = 0.05, 0.10, …,
 * 0.45. */
#define BS_CALIBRATION_COVERAGE 9
typedef struct bs_calibration {
    int64_t n;
    double brier, ece;
    bs_reliability_bin bins[BS_CALIBRATION_BINS];
    bs_coverage_point coverage[BS_CALIBRATION_COVERAGE];
} bs_calibration;

int bs_calibration_compute(const double *p, const int32_t *labels, const int32_t *predicted,
                           int64_t n, bs_calibration *out);

/* The one-line object {"n": …, "brier": …, "ece": …, "bins": [{"lo", "hi", "n",
 * "mean_probability", "fraction_positive"}…], "coverage": [{"abstain", "set_aside", "coverage",
 * "accuracy"}…]} as the value of `key`; never writes NaN (null). */
void bs_calibration_write_json(bs_json_writer *w, const char *key, const bs_calibration *c);

#endif
