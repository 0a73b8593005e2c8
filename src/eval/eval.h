/* eval.h — evaluation (SPEC §6): cross-validation folds for the `paper` and `grouped`
 * protocols, groups (joining rows that must stay together), the
 * leak count of the paper protocol, and metrics with confidence intervals (two-class and
 * K-class).
 *
 * Conventions: rows are indexed 0..n−1; a fold assignment is an int32 per row in 0..k−1 (row r
 * is a test row of fold fold[r] and a training row of every other fold). Two-class labels are
 * 0/1 with 1 the positive class (ALL); a decision > 0 means "positive".
 * Not for: fitting models or writing report files (the lead's experiment code does that, with
 * bs_metrics_write_json for the metric objects). */
#ifndef BS_EVAL_H
#define BS_EVAL_H

#include <stdint.h>
#include <stdio.h>

#include "core/json.h"
#include "core/rng.h"

/* ---- folds ------------------------------------------------------------------------------- */

/* Paper protocol: stratified random k-fold over rows. Each class's rows are shuffled (in class
 * order 0, 1, …) and dealt round-robin onto the folds, continuing the deal from one class to
 * the next, so every class's count per fold differs by at most 1 and fold sizes by at most 1.
 * labels: n values ≥ 0. fold: n outputs. Needs 2 ≤ k ≤ n. */
int bs_folds_stratified(const int32_t *labels, int64_t n, int k, bs_rng *rng, int32_t *fold);

/* Grouped protocol: stratified k-fold over groups. group[r] is any int64 id; all rows with the
 * same id land in the same fold. A group's stratum is its most frequent row label (ties: the
 * smaller label). Within each stratum (label order), the groups are shuffled, then placed
 * largest first (stable, so equal sizes keep the shuffled order) into the fold holding the
 * fewest rows of that stratum, ties to the fold with the fewest rows overall, then to a
 * fold drawn at random among the tied ones. Needs 2 ≤ k ≤ number of groups. A stratum with
 * fewer than k groups leaves some folds without that class (then sn or sp of those folds is
 * undefined; see bs_metrics). */
int bs_folds_grouped(const int32_t *labels, const int64_t *group, int64_t n, int k, bs_rng *rng,
                     int32_t *fold);

/* The test and training rows of fold f (ascending), malloc'd; free with free(). */
int bs_folds_split(const int32_t *fold, int64_t n, int f, int64_t **train, int64_t *n_train,
                   int64_t **test, int64_t *n_test);

/* Paper-protocol leak: a test row is "leaked" when another row with the same image id (a
 * mirror or other view of the same image) is in the training folds, i.e. has a different
 * fold. image_id: n ids. Returns the total over all folds in *leaked; per_fold (k values, may
 * be NULL) gets the count per test fold. */
int bs_folds_count_leaked(const int64_t *image_id, const int32_t *fold, int64_t n, int k,
                          int64_t *leaked, int64_t *per_fold);

/* ---- groups ------------------------------------------------------------------------------ */

/* Join groups: group[i] (n items, any int64 ids, in/out) is replaced by the smallest item index
 * of its connected component, where items are connected when they share an input id or are
 * named together by a pair (pairs: n_pairs × 2 item indices). Call it with group[i] = i and
 * the pairs to build groups from pairs alone; with several groupings, join them by calling it
 * once per grouping's pairs. */
int bs_groups_join(int64_t n, int64_t *group, const int64_t *pairs, int64_t n_pairs);

/* ---- metrics: two classes ------------------------------------------------------------------ */

/* A metric with its 95 % interval. defined = 0 when the metric's denominator is zero for these
 * counts (e.g. sn with no positives); then value, lo and hi are NaN and must not be printed as
 * numbers — bs_metrics_write_json writes null and lists the name under "undefined". */
typedef struct bs_metric {
    double value, lo, hi;
    int defined;
} bs_metric;

/* Intervals (docs in docs/metrics.md):
 *   sn, sp, pr, ac: Wilson score interval (z = 1.959964) on the proportion;
 *   balanced_accuracy: (Wilson(sn) + Wilson(sp)) / 2, bound by bound;
 *   f1: F1 = 2J/(1+J) with J = TP/(TP+FP+FN); the Wilson interval of J mapped through it;
 *   mcc: Fisher z: tanh(atanh(mcc) ± z/√(n−3)) (undefined interval when n ≤ 3);
 *   auc: Hanley–McNeil (1982) standard error, auc ± z·SE clipped to [0, 1].
 * Undefined when: sn: TP+FN = 0; sp: TN+FP = 0; pr: TP+FP = 0; ac: n = 0; f1: TP+FP+FN = 0;
 *   mcc: any of TP+FN, TN+FP, TP+FP, TN+FN is 0; balanced_accuracy: sn or sp undefined;
 *   auc: no positives or no negatives, or no decision values given. */
typedef struct bs_metrics {
    int64_t tp, fn, tn, fp;
    bs_metric sn, sp, pr, ac, f1, mcc, balanced_accuracy, auc;
} bs_metrics;

/* From labels (0/1), predicted labels (0/1; NULL means decision > 0) and decision values (may
 * be NULL: then the AUC is undefined). Labels other than 0/1 are an error. */
int bs_metrics_binary(const int32_t *labels, const int32_t *predicted, const double *decision,
                      int64_t n, bs_metrics *out);
/* The same from counts alone (AUC undefined). */
void bs_metrics_from_counts(int64_t tp, int64_t fn, int64_t tn, int64_t fp, bs_metrics *out);

/* ROC AUC = P(decision of a positive > that of a negative) + ½ P(tie): the Mann–Whitney
 * statistic with average ranks for ties. Returns NaN when a class is absent. */
double bs_metrics_auc(const int32_t *labels, const double *decision, int64_t n);

/* ROC curve for plotting: one point per distinct decision value (descending), plus (0,0)
 * first; a threshold t classifies decision ≥ t as positive. Tied decisions give one diagonal
 * step. *points is malloc'd; fpr/tpr are NaN-free (0 when a class is absent). */
typedef struct bs_roc_point {
    double threshold, fpr, tpr;
} bs_roc_point;
int bs_metrics_roc(const int32_t *labels, const double *decision, int64_t n, bs_roc_point **points,
                   int64_t *n_points);

/* One compact JSON object, the value of `key` (core/json.h: NULL in an array or at the top):
 * {"tp":…,"fn":…,"tn":…,"fp":…,"sn":{"value":…,"lo":…,"hi":…},…,"undefined":["sn",…]}; an
 * undefined metric is {"value":null,"lo":null,"hi":null}. Never writes NaN. */
void bs_metrics_write_json(bs_json_writer *w, const char *key, const bs_metrics *m);
/* The parts every metric object is made of (also for K-class and calibration reports): the
 * members "tp", "fn", "tn", "fp"; the member "name":{"value":v,"lo":l,"hi":h}, null where
 * undefined; and the member "undefined":["name",…] listing those of the n metrics v[] (named
 * names[]) not defined. */
void bs_metric_write_counts(bs_json_writer *w, int64_t tp, int64_t fn, int64_t tn, int64_t fp);
void bs_metric_write_json(bs_json_writer *w, const char *name, const bs_metric *m);
void bs_metric_write_undefined(bs_json_writer *w, const char *const *names,
                               const bs_metric *const *v, int n);

/* ---- metrics: K classes -------------------------------------------------------------------- */

typedef struct bs_class_metrics {
    int64_t tp, fn, tn, fp;   /* one-vs-rest counts */
    bs_metric sn, sp, pr, f1; /* as in bs_metrics (recall = sn) */
} bs_class_metrics;

/* counts[t·k + p] = rows of true class t predicted as p. Macro averages are the plain mean of
 * the per-class values over the classes where they are defined (undefined if none); their
 * interval is the mean of the per-class bounds (conservative). accuracy has a Wilson interval. */
typedef struct bs_confusion {
    int k;
    int64_t n;
    int64_t *counts;                                                     /* k × k */
    bs_class_metrics *per_class;                                         /* k */
    bs_metric accuracy, macro_sn, macro_pr, macro_f1, balanced_accuracy; /* bal. acc = macro sn */
} bs_confusion;

/* labels and predicted in 0..k−1; anything else is an error. */
int bs_confusion_build(const int32_t *labels, const int32_t *predicted, int64_t n, int k,
                       bs_confusion *out);
void bs_confusion_free(bs_confusion *c);
/* The compact object {"k":…,"counts":[[…],…],"per_class":[{…},…],"accuracy":{…},"macro_sn":{…},
 * …} as the value of `key`. class_names (k strings) may be NULL. Never writes NaN. */
void bs_confusion_write_json(bs_json_writer *w, const char *key, const bs_confusion *c,
                             const char *const *class_names);

#endif
