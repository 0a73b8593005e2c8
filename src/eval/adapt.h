/* adapt.h — adapting a trained two-class model to a new lab, at prediction time:
 *
 *   prior   the batch's class prior re-estimated by EM from its calibrated probabilities
 *           (Saerens, Latinne & Decaestecker, Neural Computation 14, 2002), and the
 *           probabilities and the decision threshold moved by the change of prior odds;
 *   coral   the batch's features aligned to the training rows' per-column mean and standard
 *           deviation (the diagonal of CORAL: Sun, Feng & Saenko, AAAI 2016), so the SVM sees the
 *           batch standardised by its own statistics;
 *   k labels  Platt's sigmoid refitted on a few labelled rows of the new lab (its intercept
 *           alone when they hold one class), and the threshold moved to where it crosses 1/2.
 *
 * The first two use the batch's own unlabelled rows and assume what no batch promises: prior
 * EM that the probabilities are calibrated on the new lab, CORAL that the batch holds the two
 * classes in about the training mix (a batch of healthy cells aligned to a training set of
 * mostly blasts is pulled towards blasts). docs/cells.md measures both under
 * leave-one-source-out. Conventions as eval.h: labels 0/1, 1 positive; P = P(positive).
 * Not for: choosing the batch or the labelled rows (study, pipeline, cli). */
#ifndef BS_EVAL_ADAPT_H
#define BS_EVAL_ADAPT_H

#include <stdint.h>

#include "core/matrix.h"

typedef enum { BS_ADAPT_NONE = 0, BS_ADAPT_PRIOR = 1, BS_ADAPT_CORAL = 2 } bs_adapt_method;

/* "none", "prior" or "coral" (bs_error on anything else); and back. */
int bs_adapt_parse(const char *s, bs_adapt_method *out);
const char *bs_adapt_name(bs_adapt_method m);

/* The prior, bounded away from 0 and 1 so its log odds stay finite. */
#define BS_ADAPT_PRIOR_MIN 1e-4

/* EM for the batch prior: start from train_prior (0 < train_prior < 1), re-weight each
 * probability p[i] by the prior ratio, take the mean as the new prior, until it moves by less
 * than 1e-7 (at most 1000 rounds). *batch_prior gets the estimate (within [BS_ADAPT_PRIOR_MIN,
 * 1 − BS_ADAPT_PRIOR_MIN]); *rounds (may be NULL) the rounds it took. Probabilities outside
 * [0, 1] or NaN, n < 1 or a prior outside (0, 1) are errors. */
int bs_prior_em(const double *p, int64_t n, double train_prior, double *batch_prior, int *rounds);

/* The change of log odds from train_prior to batch_prior: logit(batch) − logit(train). */
double bs_prior_shift(double train_prior, double batch_prior);

/* A probability p (under the training prior) under the batch prior: logit(p) + shift. */
double bs_prior_adjust(double p, double shift);

/* Where a Platt sigmoid P = 1/(1 + exp(a·f + b)) (a < 0) reaches the odds it had at the SVM's
 * threshold f = 0, once the prior odds change by `shift`: f = shift / a. Decisions are then
 * read against this threshold (f − threshold > 0: positive). 0 when a >= 0 (no usable slope). */
double bs_prior_threshold(double a, double shift);

/* Diagonal CORAL: rows[0..n) of x (NULL: every row) into out (n × x.cols, row-major), each
 * column standardised by the batch's own mean and population sd and mapped onto the training
 * mean and sd: out = (x − mean_b) / sd_b · train_sd + train_mean. A column constant in the batch
 * becomes train_mean. n < 2 is an error: one row has no spread to align. */
int bs_coral_diagonal(bs_matrix x, const int64_t *rows, int64_t n, const double *train_mean,
                      const double *train_sd, float *out);

/* Recalibration from n labelled rows: their decisions and labels. With at least
 * BS_RECALIBRATE_MIN_PER_CLASS rows of each class, Platt's sigmoid is refitted (the fit of
 * calibration.h on fence-clipped decisions) and kept when its slope is negative; otherwise (one
 * class, too few of one, or a slope >= 0) only its intercept is refitted with the slope a0 kept,
 * which makes the sigmoid's mean over the rows equal Platt's smoothed mean target. The slope
 * needs many rows: refitted on 5 + 5 separable rows, Platt's smoothed targets (6/7 and 1/7) cap
 * every probability near 0.86, so no cell would reach the field rule's 0.9; the intercept moves
 * the threshold, which is what differs most between labs. *a, *b get the
 * sigmoid; *threshold the decision where it crosses 1/2 (−b / a), against which decisions are
 * then read. a0 must be negative; n >= 1. *full (may be NULL) says which fit was made. */
#define BS_RECALIBRATE_MIN_PER_CLASS 10
int bs_recalibrate(const double *decision, const int32_t *labels, int64_t n, double a0, double *a,
                   double *b, double *threshold, int *full);

#endif
