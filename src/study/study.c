/* study.c — experiments × folds (see study.h). */
#define _GNU_SOURCE
#include "study.h"

#include <assert.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/dist.h"
#include "core/error.h"
#include "core/io.h"
#include "core/log.h"
#include "core/progress.h"
#include "core/rng.h"
#include "core/strings.h"
#include "fit/fit.h"
#include "study_internal.h"
#include "svm/svm.h"

void bs_study_options_init(bs_study_options *opt) {
    memset(opt, 0, sizeof *opt);
    opt->protocol = BS_PROTOCOL_GROUPED;
    opt->folds = 5;
    opt->seed = 1;
    opt->epochs = 750;
    opt->l2 = 0.001;
    opt->sparsity = 1.0;
    opt->proportion = 0.05;
    opt->min_probability = 0.9;
}

/* Dense integer ids for strings: equal strings get equal ids. Returns the distinct count. */
static int64_t string_ids(const bs_feature_index *idx, int use_group, int64_t *ids) {
    const char **keys = bs_calloc(idx->n ? idx->n : 1, sizeof *keys);
    if (!keys) return -1;
    for (size_t i = 0; i < idx->n; i++)
        keys[i] = use_group ? idx->rows[i].group : idx->rows[i].path;
    int64_t count = bs_dense_ids(keys, idx->n, ids);
    free(keys);
    return count;
}

void bs_study_free(bs_study *s) {
    for (size_t e = 0; e < s->nexperiments; e++) {
        bs_experiment *x = &s->experiments[e];
        free(x->name);
        for (size_t i = 0; i < x->nfeatures; i++) free(x->features[i]);
        free(x->features);
        free(x->decision);
        free(x->predicted);
        free(x->per_fold);
        bs_confusion_free(&x->cpooled);
        bs_confusion_free(&x->cpooled_original);
        for (int f = 0; x->cper_fold && f < s->folds; f++) bs_confusion_free(&x->cper_fold[f]);
        free(x->cper_fold);
        free(x->probability);
        free(x->per_source);
        free(x->unit_platt);
        free(x->unit_prior);
        free(x->coral_decision);
        free(x->transfer_decision);
        free(x->transfer_predicted);
        bs_travel_free(x->travel);
        bs_study_mil_free(x);
    }
    free(s->shortcuts);
    free(s->source_rows);
    free(s->source_positives);
    for (int k = 0; s->source_names && k < s->nsources; k++) free(s->source_names[k]);
    free(s->source_names);
    for (int c = 0; s->class_names && c < s->nclasses; c++) free(s->class_names[c]);
    free(s->class_names);
    free(s->experiments);
    free(s->labels);
    free(s->fold);
    free(s->leaked_per_fold);
    free(s->group_id);
    free(s->unit_source);
    free(s->source_within);
    free(s->original);
    free(s->transfer_row);
    free(s->transfer_target);
    free(s->recalibrate);
    free(s->mil_bag);
    free(s->mil_image);
    memset(s, 0, sizeof *s);
}

/* Metrics of the test rows of `fold` (-1: all), optionally original views only; binary
 * tasks fill `out`, subtype tasks `cout`. */
static int metrics_of(const bs_study *s, const bs_experiment *x, const bs_feature_index *idx,
                      int fold, int originals_only, bs_metrics *out, bs_confusion *cout) {
    int32_t *lab = bs_calloc(s->n, sizeof *lab), *pred = bs_calloc(s->n, sizeof *pred);
    double *dec = bs_calloc(s->n, sizeof *dec);
    int rc = (lab && pred && dec) ? 0 : -1;
    int64_t m = 0;
    for (size_t r = 0; r < s->n && rc == 0; r++) {
        if (fold >= 0 && s->fold[r] != fold) continue;
        if (originals_only && idx->rows[r].view != BS_VIEW_ORIGINAL) continue;
        lab[m] = s->labels[r];
        pred[m] = x->predicted[r];
        dec[m] = x->decision[r];
        m++;
    }
    if (rc == 0)
        rc = s->task == BS_TASK_BINARY ? bs_metrics_binary(lab, pred, dec, m, out)
                                       : bs_confusion_build(lab, pred, m, s->nclasses, cout);
    free(lab);
    free(pred);
    free(dec);
    return rc;
}

/* ---- sharing the work over the ranks of an MPI job (core/dist.h) ----
 * A unit is one fold of one experiment, or a whole experiment (fold = -1) when its folds share
 * one autoencoder fitted on every row (the paper protocol). Units are dealt longest first to
 * the least-loaded rank; every rank computes the same plan from the same inputs. */
typedef struct {
    size_t e;
    int fold;    /* -1: every fold */
    double cost; /* rough flops, only to order and balance */
    int owner;
} work_unit;

typedef struct {
    work_unit *u;
    size_t n;
    int shared_ae_dist; /* paper AEs fitted data-parallel by every rank */
} work_plan;

static int cmp_cost(const void *a, const void *b) {
    const work_unit *x = a, *y = b;
    if (x->cost != y->cost) return x->cost < y->cost ? 1 : -1;
    if (x->e != y->e) return x->e < y->e ? -1 : 1;
    return (x->fold > y->fold) - (x->fold < y->fold);
}

static int cmp_order(const void *a, const void *b) {
    const work_unit *x = a, *y = b;
    if (x->e != y->e) return x->e < y->e ? -1 : 1;
    return (x->fold > y->fold) - (x->fold < y->fold);
}

/* widths[e], hidden[e] (-1: no autoencoder) for every experiment. */
static int plan_work(const bs_study *s, const int64_t *widths, const int64_t *hidden, size_t nexp,
                     const bs_study_options *opt, work_plan *plan) {
    memset(plan, 0, sizeof *plan);
    const int size = bs_dist_size();
    plan->shared_ae_dist = opt->ae_data_parallel && size > 1;
    plan->u = bs_calloc(nexp * (size_t)s->folds + 1, sizeof *plan->u);
    double *load = bs_calloc((size_t)size, sizeof *load);
    if (!plan->u || !load) {
        free(load);
        return -1;
    }
    const double n = (double)s->n, ntrain = n * (s->folds - 1) / s->folds;
    for (size_t e = 0; e < nexp; e++) {
        double width = (double)(hidden[e] > 0 ? hidden[e] : widths[e]);
        double svm = ntrain * n * width; /* the kernel GEMMs */
        double ae =
            hidden[e] > 0 ? 12.0 * (opt->epochs + 1) * (double)widths[e] * (double)hidden[e] : 0;
        if (hidden[e] > 0 && s->protocol == BS_PROTOCOL_PAPER && !plan->shared_ae_dist)
            plan->u[plan->n++] = (work_unit){e, -1, ae * n + s->folds * svm, 0};
        else
            for (int f = 0; f < s->folds; f++)
                plan->u[plan->n++] = (work_unit){
                    e, f, (s->protocol == BS_PROTOCOL_GROUPED ? ae * ntrain : 0) + svm, 0};
    }
    qsort(plan->u, plan->n, sizeof *plan->u, cmp_cost);
    for (size_t i = 0; i < plan->n; i++) {
        int best = 0;
        for (int r = 1; r < size; r++)
            if (load[r] < load[best]) best = r;
        plan->u[i].owner = best;
        load[best] += plan->u[i].cost;
    }
    qsort(plan->u, plan->n, sizeof *plan->u, cmp_order);
    free(load);
    return 0;
}

/* Does this rank compute fold f of experiment e (f = -1: the shared autoencoder)? */
static int mine(const work_plan *plan, size_t e, int f) {
    const int rank = bs_dist_rank();
    for (size_t i = 0; i < plan->n; i++)
        if (plan->u[i].e == e && (plan->u[i].fold == f || plan->u[i].fold == -1))
            return plan->u[i].owner == rank;
    return 0; /* f = -1 with per-fold units: the autoencoder is fitted by every rank (data-parallel) */
}

/* After every rank ran its units: each owner broadcasts the decisions and predictions of its
 * units' test rows, so every rank holds the whole experiment. Bytes are copied, not summed. */
static int share_results(bs_study *s, const work_plan *plan) {
    if (bs_dist_size() <= 1) return 0;
    const int rank = bs_dist_rank();
    unsigned char *buf = bs_malloc(s->n ? s->n * (sizeof(double) + sizeof(int32_t)) : 1);
    if (!buf) return -1;
    for (size_t i = 0; i < plan->n; i++) {
        const work_unit *u = &plan->u[i];
        bs_experiment *ex = &s->experiments[u->e];
        size_t m = 0;
        for (size_t r = 0; r < s->n; r++) {
            if (u->fold >= 0 && s->fold[r] != u->fold) continue;
            if (rank == u->owner) {
                memcpy(buf + m * sizeof(double), &ex->decision[r], sizeof(double));
                memcpy(buf + s->n * sizeof(double) + m * sizeof(int32_t), &ex->predicted[r],
                       sizeof(int32_t));
            }
            m++;
        }
        bs_dist_bcast(buf, s->n * sizeof(double), u->owner);
        bs_dist_bcast(buf + s->n * sizeof(double), s->n * sizeof(int32_t), u->owner);
        if (rank == u->owner) continue;
        m = 0;
        for (size_t r = 0; r < s->n; r++) {
            if (u->fold >= 0 && s->fold[r] != u->fold) continue;
            memcpy(&ex->decision[r], buf + m * sizeof(double), sizeof(double));
            memcpy(&ex->predicted[r], buf + s->n * sizeof(double) + m * sizeof(int32_t),
                   sizeof(int32_t));
            m++;
        }
    }
    free(buf);
    return 0;
}

/* Experiment e's fit (fit/fit.h) without its seeds: autoencoder (hidden > 0) and SVM options;
 * the latent of every row, so that each fold's test rows are predicted through its encoder. */
static void experiment_fit_options(const bs_study *s, int64_t hidden, const bs_study_options *opt,
                                   bs_fit_options *fo) {
    bs_fit_options_init(fo);
    fo->hidden = hidden > 0 ? hidden : 0;
    fo->ae.max_epochs = opt->epochs;
    fo->ae.l2 = opt->l2;
    fo->ae.sparsity = opt->sparsity;
    fo->ae.proportion = opt->proportion;
    fo->ae.progress = opt->progress && bs_dist_rank() == 0;
    fo->encode_all = 1;
    fo->svm.kernel_scale = opt->kernel_scale;
    fo->svm.n_classes = s->nclasses;
    fo->mil_rounds = s->mil_rounds; /* bags: groups; instances: images (study/mil.c) */
    fo->bag = s->mil_bag;
    fo->instance = s->mil_image;
}

/* The paper fits the autoencoder once, on every row, test folds included; *shared gets its
 * latent of every row. Under a job with a data-parallel plan every rank fits it on its slice
 * of the rows; otherwise the owner of the experiment does (on other ranks *shared stays empty,
 * and so do their folds). */
static int fit_shared_autoencoder(const bs_study *s, size_t e, bs_matrix x, const work_plan *plan,
                                  const bs_fit_options *experiment, bs_fitted *shared) {
    bs_fit_options fo = *experiment;
    fo.autoencoder_only = 1;
    fo.ae.seed = bs_rng_derive_at(s->seed, SEED_AE, e, 0);
    memset(shared, 0, sizeof *shared);
    if (!plan->shared_ae_dist)
        return mine(plan, e, -1) ? bs_fit(shared, x, NULL, NULL, x.rows, &fo) : 0;
    const int rank = bs_dist_rank(), size = bs_dist_size();
    int64_t lo = x.rows * rank / size, hi = x.rows * (rank + 1) / size;
    if (hi <= lo)
        return bs_error("%lld rows cannot be shared by %d ranks", (long long)x.rows, size);
    int64_t *shard = bs_calloc((size_t)(hi - lo), sizeof *shard);
    if (!shard) return -1;
    for (int64_t i = lo; i < hi; i++) shard[i - lo] = i;
    fo.ae.distributed = 1;
    int rc = bs_fit(shared, x, NULL, shard, hi - lo, &fo);
    free(shard);
    return rc;
}

/* Fold f of experiment e: one fit on the other folds' rows (with the grouped protocol the
 * autoencoder, and its mapminmax, sees those rows only: honest), then decisions for the
 * fold's own rows. */
static int run_fold(bs_study *s, size_t e, int f, bs_matrix x, bs_matrix xt,
                    const bs_fit_options *experiment) {
    bs_experiment *ex = &s->experiments[e];
    int64_t *train = NULL, *test = NULL, ntrain = 0, ntest = 0;
    if (bs_folds_split(s->fold, x.rows, f, &train, &ntrain, &test, &ntest)) return -1;
    bs_fit_options fo = *experiment;
    fo.ae.seed = bs_rng_derive_at(s->seed, SEED_AE, e, (uint64_t)f);
    fo.svm_seed = bs_rng_derive_at(s->seed, SEED_SVM, e, (uint64_t)f);
    if (s->protocol == BS_PROTOCOL_SOURCE) { /* a sigmoid per unit, as `train` fits one */
        fo.calibration_folds = s->inner_folds;
        fo.calibration_seed = bs_rng_derive_at(s->seed, SEED_CALIBRATION, e, (uint64_t)f);
        fo.group = s->group_id;
    }
    bs_fitted fit;
    int rc = bs_fit(&fit, x, s->labels, train, ntrain, &fo);
    if (rc == 0) bs_study_mil_record(s, ex, f, train, ntrain, &fit);
    /* One-vs-one gives K(K-1)/2 decisions per row; only binary tasks keep them. */
    int ndec = rc == 0 ? bs_svm_n_decisions(fit.svm) : 1;
    double *dec = bs_calloc((size_t)(ntest ? ntest : 1) * (size_t)ndec, sizeof *dec);
    int32_t *pred = bs_calloc((size_t)(ntest ? ntest : 1), sizeof *pred);
    if (!dec || !pred) rc = -1;
    if (rc == 0) rc = bs_svm_predict(fit.svm, fit.features, test, ntest, dec, pred);
    for (int64_t i = 0; i < ntest && rc == 0; i++) {
        ex->decision[test[i]] = ndec == 1 ? dec[i] : NAN;
        ex->predicted[test[i]] = pred[i];
    }
    if (rc == 0 && s->protocol == BS_PROTOCOL_SOURCE)
        rc = bs_study_travel_fold(s, e, f, &fit, train, ntrain, xt);
    if (rc) bs_error_prefix("%s, fold %d: ", ex->name, f + 1);
    bs_fitted_free(&fit);
    free(dec);
    free(pred);
    free(train);
    free(test);
    return rc;
}

/* One experiment: features x (n × w) → per fold (optional autoencoder) + SVM → test decisions. */
static int run_experiment(bs_study *s, size_t e, bs_matrix x, bs_matrix xt, int64_t hidden,
                          const bs_study_options *opt, const work_plan *plan) {
    assert(bs_matrix_ok(x) && x.rows == (int64_t)s->n && x.cols >= 1);
    bs_experiment *ex = &s->experiments[e];
    double t0 = bs_now();
    ex->decision = bs_calloc(s->n, sizeof *ex->decision);
    ex->predicted = bs_calloc(s->n, sizeof *ex->predicted);
    ex->per_fold = bs_calloc((size_t)s->folds, sizeof *ex->per_fold);
    ex->cper_fold = bs_calloc((size_t)s->folds, sizeof *ex->cper_fold);
    ex->latent = hidden;
    ex->width = hidden > 0 ? hidden : x.cols;
    if (!ex->decision || !ex->predicted || !ex->per_fold || !ex->cper_fold ||
        bs_study_mil_alloc(s, ex))
        return -1;
    bs_fit_options fo;
    experiment_fit_options(s, hidden, opt, &fo);
    bs_fitted shared = {0};
    int rc = 0;
    if (hidden > 0 && s->protocol == BS_PROTOCOL_PAPER) {
        rc = fit_shared_autoencoder(s, e, x, plan, &fo, &shared);
        x = bs_matrix_view(shared.latent); /* the folds' SVMs see the shared latent */
        fo.hidden = 0;
    }
    for (int f = 0; f < s->folds && rc == 0; f++)
        if (mine(plan, e, f)) rc = run_fold(s, e, f, x, xt, &fo); /* else another rank's unit */
    bs_fitted_free(&shared);
    ex->seconds = bs_now() - t0;
    return rc;
}

/* Metrics of an experiment whose decisions are all in (after share_results under a job). */
static int score_experiment(bs_study *s, size_t e, const bs_feature_index *idx,
                            const bs_study_options *opt) {
    bs_experiment *ex = &s->experiments[e];
    int rc = 0;
    for (int f = 0; f < s->folds && rc == 0; f++)
        rc = metrics_of(s, ex, idx, f, 0, &ex->per_fold[f], &ex->cper_fold[f]);
    if (rc == 0) rc = metrics_of(s, ex, idx, -1, 0, &ex->pooled, &ex->cpooled);
    if (rc == 0) rc = metrics_of(s, ex, idx, -1, 1, &ex->pooled_original, &ex->cpooled_original);
    bs_study_mil_count(s, ex, idx);
    if (bs_dist_rank() != 0) return rc;
    if (rc == 0 && opt->verbose && s->task == BS_TASK_SUBTYPE)
        bs_log("  %-22s width %-5lld accuracy %.4f  macro F1 %.4f  balanced %.4f  (%.1f s)",
               ex->name, (long long)ex->width, ex->cpooled.accuracy.value,
               ex->cpooled.macro_f1.value, ex->cpooled.balanced_accuracy.value, ex->seconds);
    else if (rc == 0 && opt->verbose)
        bs_log("  %-22s width %-5lld AC %.4f  SN %.4f  SP %.4f  AUC %.4f  (%.1f s)", ex->name,
               (long long)ex->width, ex->pooled.ac.value, ex->pooled.sn.value, ex->pooled.sp.value,
               ex->pooled.auc.value, ex->seconds);
    if (rc == 0 && opt->verbose) bs_study_mil_log(s, ex);
    return rc;
}

/* One line per experiment: how calibrated its probabilities are, and what abstaining at
 * P = 0.2 would cost and buy. */
static void log_calibration(const bs_study *s) {
    for (size_t e = 0; e < s->nexperiments; e++) {
        const bs_experiment *x = &s->experiments[e];
        if (!x->calibrated) continue;
        const bs_coverage_point *c = &x->calibration.coverage[3]; /* P = 0.2 */
        bs_log("  %-22s Brier %.4f  ECE %.4f  abstain at P=0.2: %lld of %lld images set aside, "
               "accuracy %.4f on the rest",
               x->name, x->calibration.brier, x->calibration.ece, (long long)c->set_aside,
               (long long)x->calibration.n, c->accuracy);
    }
}

/* Once every experiment's decisions are in (the same on every rank): probabilities and their
 * calibration, per-group and per-source metrics, and the shortcut audit. */
static int add_evidence(bs_study *s, const bs_feature_index *idx, const bs_study_options *opt) {
    int rc = 0;
    for (size_t e = 0; e < s->nexperiments && rc == 0; e++)
        rc = bs_study_calibrate(s, &s->experiments[e], idx);
    if (rc == 0) rc = bs_study_groups(s, idx);
    if (rc == 0) rc = bs_study_sources(s, idx);
    if (rc == 0) rc = bs_study_travel(s, idx);
    if (rc == 0 && s->task == BS_TASK_BINARY)
        rc = bs_study_shortcuts(s, idx, bs_rng_derive_at(s->seed, SEED_SHORTCUTS, 0, 0));
    if (rc == 0 && opt->verbose && bs_dist_rank() == 0) log_calibration(s);
    for (size_t i = 0; rc == 0 && opt->verbose && bs_dist_rank() == 0 && i < s->nshortcuts; i++)
        bs_log("  shortcut %-16s AC %.4f  AUC %.4f%s", s->shortcuts[i].name,
               s->shortcuts[i].pooled.ac.value, s->shortcuts[i].pooled.auc.value,
               s->shortcuts[i].warning ? "  (warning)" : "");
    return rc;
}

static int set_features(bs_experiment *ex, const char *name, char **sets, size_t nsets) {
    ex->name = bs_strdup(name);
    ex->features = bs_calloc(nsets, sizeof *ex->features);
    if (!ex->name || !ex->features) return -1;
    ex->nfeatures = nsets;
    for (size_t i = 0; i < nsets; i++)
        if (!(ex->features[i] = bs_strdup(sets[i]))) return -1;
    return 0;
}

/* Binary: the index's 0/1 labels. Subtype: one label per class name, in sorted order. */
static int assign_labels(bs_study *s, const bs_feature_index *idx) {
    if (s->task == BS_TASK_BINARY) {
        s->nclasses = 2;
        s->class_names = bs_calloc(2, sizeof *s->class_names);
        if (!s->class_names || !(s->class_names[0] = bs_strdup("healthy")) ||
            !(s->class_names[1] = bs_strdup("ALL")))
            return -1;
        for (size_t r = 0; r < idx->n; r++) s->labels[r] = idx->rows[r].label;
        return 0;
    }
    const char **names = bs_calloc(idx->n ? idx->n : 1, sizeof *names);
    int64_t *ids = bs_calloc(idx->n ? idx->n : 1, sizeof *ids);
    int64_t count = names && ids ? 0 : -1;
    for (size_t i = 0; i < idx->n && count == 0; i++) names[i] = idx->rows[i].class_name;
    if (count == 0) count = bs_dense_ids(names, idx->n, ids);
    int k = count > 0 ? (int)count : 0;
    s->nclasses = k;
    s->class_names = count >= 0 ? bs_calloc((size_t)(k ? k : 1), sizeof *s->class_names) : NULL;
    int rc = s->class_names ? 0 : -1;
    for (size_t i = 0; i < idx->n && rc == 0; i++) {
        if (!s->class_names[ids[i]] && !(s->class_names[ids[i]] = bs_strdup(names[i]))) rc = -1;
        s->labels[i] = (int32_t)ids[i];
    }
    free(names);
    free(ids);
    if (rc == 0 && k < 3)
        rc = bs_error("--task subtype needs at least 3 classes; the index has %d", k);
    return rc;
}

/* The feature sets of a folder, their fusion and every experiment's shape: what the
 * experiments run on. */
typedef struct {
    char **sets;
    size_t nsets;
    bs_array *data;   /* nsets */
    float *fused;     /* n × total when nsets > 1 */
    int64_t total;    /* fused width */
    size_t nexp;      /* Exp 1 per set, Exp 2 when there is more than one set, Exp 3 per latent */
    int64_t *widths;  /* nexp: input width */
    int64_t *hiddens; /* nexp: hidden units, -1 without autoencoder */
    /* --protocol source: the stain-transfer rows, the same sets and fusion (s->ntransfer rows) */
    bs_array *tdata;
    float *tfused;
} study_inputs;

static void inputs_free(study_inputs *in) {
    for (size_t i = 0; in->data && i < in->nsets; i++) bs_array_free(&in->data[i]);
    free(in->data);
    for (size_t i = 0; i < in->nsets; i++) free(in->sets[i]);
    free(in->sets);
    free(in->fused);
    for (size_t i = 0; in->tdata && i < in->nsets; i++) bs_array_free(&in->tdata[i]);
    free(in->tdata);
    free(in->tfused);
    free(in->widths);
    free(in->hiddens);
    memset(in, 0, sizeof *in);
}

/* Labels, folds and the leak count; the study's scalar fields from opt. */
static int study_begin(bs_study *s, const bs_feature_index *idx, const bs_study_options *opt) {
    s->protocol = opt->protocol;
    s->task = opt->task;
    s->folds = opt->folds;
    s->seed = opt->seed;
    s->epochs = opt->epochs;
    s->n = idx->n;
    int64_t *image_id = bs_calloc(idx->n, sizeof *image_id);
    s->group_id = bs_calloc(idx->n, sizeof *s->group_id);
    s->labels = bs_calloc(idx->n, sizeof *s->labels);
    s->fold = bs_calloc(idx->n, sizeof *s->fold);
    int rc = (image_id && s->group_id && s->labels && s->fold) ? 0 : -1;
    if (rc == 0 && (opt->folds < 2 || (size_t)opt->folds > idx->n))
        rc = bs_error("--folds %d: need 2 <= k <= rows (%zu)", opt->folds, idx->n);
    if (rc == 0 && opt->mil_rounds > 0 && opt->task != BS_TASK_BINARY)
        rc = bs_error("mi-SVM (multiple-instance labels) needs the binary task");
    if (rc == 0) rc = assign_labels(s, idx);
    if (rc == 0 &&
        (string_ids(idx, 0, image_id) < 0 || (s->groups = string_ids(idx, 1, s->group_id)) < 0))
        rc = -1;
    const uint64_t seed = bs_rng_derive_at(opt->seed, SEED_FOLDS, 0, 0);
    if (rc == 0 && opt->protocol == BS_PROTOCOL_SOURCE) {
        rc = bs_study_source_units(s, idx, opt, seed);
    } else if (rc == 0) {
        bs_rng rng;
        bs_rng_seed(&rng, seed);
        rc = opt->protocol == BS_PROTOCOL_PAPER
                 ? bs_folds_stratified(s->labels, (int64_t)idx->n, opt->folds, &rng, s->fold)
                 : bs_folds_grouped(s->labels, s->group_id, (int64_t)idx->n, opt->folds, &rng,
                                    s->fold);
    }
    if (rc == 0 && !(s->leaked_per_fold = bs_calloc((size_t)s->folds, sizeof *s->leaked_per_fold)))
        rc = -1;
    if (rc == 0)
        rc = bs_folds_count_leaked(image_id, s->fold, (int64_t)idx->n, s->folds,
                                   &s->leaked_test_rows, s->leaked_per_fold);
    s->mil_rounds = opt->mil_rounds > 0 ? opt->mil_rounds : 0;
    if (rc == 0 && s->mil_rounds) { /* the bags and instances of every fold's mi-SVM */
        s->mil_image = image_id, image_id = NULL;
        if (!(s->mil_bag = bs_malloc(idx->n * sizeof *s->mil_bag))) rc = -1;
        for (size_t r = 0; rc == 0 && r < idx->n; r++) s->mil_bag[r] = s->group_id[r];
    }
    free(image_id);
    return rc;
}

/* Every set's rows (n each) joined column-wise: n × total. */
static float *fuse_sets(const bs_array *data, size_t nsets, size_t n, int64_t total) {
    float *fused = bs_calloc(n * (size_t)total + 1, sizeof *fused);
    for (size_t r = 0; fused && r < n; r++) {
        int64_t off = 0;
        for (size_t i = 0; i < nsets; i++) {
            memcpy(fused + r * (size_t)total + off, data[i].data + r * (size_t)data[i].shape[1],
                   sizeof(float) * (size_t)data[i].shape[1]);
            off += data[i].shape[1];
        }
    }
    return fused;
}

/* --protocol source: the folder's stain-transfer rows (FEATDIR/stain-transfer), when there are
 * any, with the same feature sets as the folder. */
static int load_transfer(bs_study *s, const char *dir, const bs_feature_index *idx,
                         study_inputs *in) {
    char *tdir = bs_path_join(dir, BS_FEATDIR_TRANSFER), *tindex = NULL;
    if (tdir) tindex = bs_path_join(tdir, "index.csv");
    int rc = tindex ? 0 : -1;
    bs_transfer_index t = {0};
    if (rc == 0 && bs_file_exists(tindex)) rc = bs_featdir_read_transfer_index(tdir, idx, &t);
    if (rc == 0 && t.n && !(in->tdata = bs_calloc(in->nsets, sizeof *in->tdata))) rc = -1;
    for (size_t i = 0; i < in->nsets && rc == 0 && t.n; i++) {
        rc = bs_featdir_read_set(tdir, in->sets[i], t.n, &in->tdata[i]);
        if (rc == 0 && in->tdata[i].shape[1] != in->data[i].shape[1])
            rc = bs_error("%s/%s.npy: %lld columns, the folder's set has %lld", tdir, in->sets[i],
                          (long long)in->tdata[i].shape[1], (long long)in->data[i].shape[1]);
    }
    if (rc == 0 && t.n && in->nsets > 1 &&
        !(in->tfused = fuse_sets(in->tdata, in->nsets, t.n, in->total)))
        rc = -1;
    if (rc == 0) {
        s->ntransfer = t.n, s->transfer_row = t.row, s->transfer_target = t.target;
        t.row = NULL, t.target = NULL;
    }
    bs_transfer_index_free(&t);
    free(tindex);
    free(tdir);
    return rc;
}

/* Read every feature set of dir, fuse them (several sets) and size every experiment. */
static int load_inputs(const char *dir, const bs_feature_index *idx, const bs_study_options *opt,
                       study_inputs *in) {
    int rc = bs_featdir_list_sets(dir, &in->sets, &in->nsets);
    if (rc == 0 && in->nsets == 0)
        rc = bs_error("%s: no feature sets (NAME.npy) in the folder", dir);
    if (rc == 0 && !(in->data = bs_calloc(in->nsets, sizeof *in->data))) rc = -1;
    for (size_t i = 0; i < in->nsets && rc == 0; i++)
        rc = bs_featdir_read_set(dir, in->sets[i], idx->n, &in->data[i]);
    if (rc) return rc;
    const size_t nsets = in->nsets;
    for (size_t i = 0; i < nsets; i++) in->total += in->data[i].shape[1];
    if (nsets > 1 && !(in->fused = fuse_sets(in->data, nsets, idx->n, in->total))) return -1;
    /* Every experiment's width and hidden size up front: the work plan needs them all. */
    in->nexp = nsets + (nsets > 1) + opt->nlatent;
    in->widths = bs_calloc(in->nexp, sizeof *in->widths);
    in->hiddens = bs_calloc(in->nexp, sizeof *in->hiddens);
    if (!in->widths || !in->hiddens) return -1;
    for (size_t i = 0, e = 0; e < in->nexp; e++) {
        if (e < nsets)
            in->widths[e] = in->data[e].shape[1], in->hiddens[e] = -1;
        else if (nsets > 1 && e == nsets)
            in->widths[e] = in->total, in->hiddens[e] = -1;
        else {
            in->widths[e] = in->total;
            in->hiddens[e] = bs_fit_hidden_units(opt->latent[i++], in->total);
        }
    }
    return 0;
}

/* Name and run experiment s->nexperiments on x (n × w); one process scores it right away. */
static int run_next(bs_study *s, const bs_feature_index *idx, const bs_study_options *opt,
                    const work_plan *plan, const char *name, char **sets, size_t nsets, bs_matrix x,
                    bs_matrix xt, int64_t hidden) {
    int rc = set_features(&s->experiments[s->nexperiments], name, sets, nsets);
    if (rc == 0) rc = run_experiment(s, s->nexperiments, x, xt, hidden, opt, plan);
    if (rc == 0 && bs_dist_size() == 1) rc = score_experiment(s, s->nexperiments, idx, opt);
    s->nexperiments++;
    return rc;
}

/* Exp 1 per set, Exp 2 on the fusion, Exp 3 per latent fraction; under a job the owners then
 * share their rows and every rank scores every experiment. */
static int run_all(bs_study *s, const bs_feature_index *idx, const bs_study_options *opt,
                   const study_inputs *in, const work_plan *plan) {
    int rc = 0;
    const int64_t n = (int64_t)s->n, nt = (int64_t)s->ntransfer;
    for (size_t i = 0; i < in->nsets && rc == 0; i++)
        rc = run_next(s, idx, opt, plan, in->sets[i], &in->sets[i], 1,
                      bs_matrix_of(in->data[i].data, n, in->data[i].shape[1]),
                      bs_matrix_of(nt ? in->tdata[i].data : NULL, nt, in->data[i].shape[1]), -1);
    const bs_matrix all = bs_matrix_of(in->nsets > 1 ? in->fused : in->data[0].data, n, in->total);
    const bs_matrix tall = bs_matrix_of(!nt             ? NULL
                                        : in->nsets > 1 ? in->tfused
                                                        : in->tdata[0].data,
                                        nt, in->total);
    if (in->nsets > 1 && rc == 0)
        rc = run_next(s, idx, opt, plan, "fused", in->sets, in->nsets, all, tall, -1);
    for (size_t l = 0; l < opt->nlatent && rc == 0; l++) {
        char name[64];
        snprintf(name, sizeof name, "latent-%g%%", opt->latent[l] * 100);
        rc = run_next(s, idx, opt, plan, name, in->sets, in->nsets, all, tall,
                      in->hiddens[s->nexperiments]);
    }
    const int job = bs_dist_size() > 1;
    if (rc == 0 && job) rc = share_results(s, plan);
    if (rc == 0 && job) rc = bs_study_mil_share(s);
    for (size_t e = 0; rc == 0 && job && e < s->nexperiments; e++)
        rc = score_experiment(s, e, idx, opt);
    return rc;
}

int bs_study_run(const char *dir, const bs_feature_index *idx, const bs_study_options *opt,
                 bs_study *s) {
    double t0 = bs_now();
    memset(s, 0, sizeof *s);
    for (size_t i = 0; i < opt->nlatent; i++)
        if (!(opt->latent[i] > 0 && opt->latent[i] <= 4))
            return bs_error("latent fraction %g out of (0, 4]", opt->latent[i]);
    study_inputs in = {0};
    work_plan plan = {0};
    int rc = study_begin(s, idx, opt);
    if (rc == 0 && opt->protocol == BS_PROTOCOL_SOURCE && bs_dist_size() > 1)
        rc = bs_error("--protocol source runs in one process, not under mpirun");
    if (rc == 0) rc = load_inputs(dir, idx, opt, &in);
    if (rc == 0 && opt->protocol == BS_PROTOCOL_SOURCE) rc = load_transfer(s, dir, idx, &in);
    if (rc == 0 && !(s->experiments = bs_calloc(in.nexp, sizeof *s->experiments))) rc = -1;
    if (rc == 0 && opt->verbose && bs_dist_rank() == 0)
        bs_log("study: %s protocol, %zu rows, %lld groups, %d folds, seed %llu%s",
               bs_protocol_name(opt->protocol), idx->n, (long long)s->groups, opt->folds,
               (unsigned long long)opt->seed,
               opt->protocol == BS_PROTOCOL_PAPER ? " (leaky, as published)" : "");
    if (rc == 0) rc = plan_work(s, in.widths, in.hiddens, in.nexp, opt, &plan);
    if (rc == 0) rc = run_all(s, idx, opt, &in, &plan);
    if (rc == 0) rc = add_evidence(s, idx, opt);
    free(plan.u);
    inputs_free(&in);
    s->seconds = bs_now() - t0;
    if (rc) bs_study_free(s);
    return rc;
}

bs_svm *bs_study_refit_svm(const bs_study *s, size_t e, int f, const float *x, int64_t w,
                           double kernel_scale) {
    if (e >= s->nexperiments || f < 0 || f >= s->folds) {
        bs_error("refit: no experiment %zu, fold %d", e, f + 1);
        return NULL;
    }
    if (s->experiments[e].latent > 0 || s->mil_rounds) {
        bs_error("%s: refitting an experiment with an autoencoder or mi-SVM is not supported",
                 s->experiments[e].name);
        return NULL;
    }
    int64_t *train = NULL, *test = NULL, ntrain = 0, ntest = 0;
    if (bs_folds_split(s->fold, (int64_t)s->n, f, &train, &ntrain, &test, &ntest)) return NULL;
    /* The same parameters and seed as run_experiment: the same model, bit for bit. */
    bs_svm_params sp;
    bs_svm_params_default(&sp);
    sp.kernel_scale = kernel_scale;
    sp.n_classes = s->nclasses;
    bs_rng rng;
    bs_rng_seed(&rng, bs_rng_derive_at(s->seed, SEED_SVM, e, (uint64_t)f));
    bs_svm *svm =
        bs_svm_fit(bs_matrix_of(x, (int64_t)s->n, w), s->labels, train, ntrain, &sp, &rng);
    free(train);
    free(test);
    return svm;
}
