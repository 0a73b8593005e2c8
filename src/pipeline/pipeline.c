/* pipeline.c — fitting and applying a pipeline on feature rows (see pipeline.h): the model
 * through fit/fit.h's one fit (autoencoder, SVM, Platt calibration by internal cross-validation),
 * then the OOD statistics.
 * Not for: the file (pipeline_file.c) or images and backbones (runtime.c). */
#include "pipeline.h"

#include <assert.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/io.h"
#include "core/log.h"
#include "core/stats.h"
#include "core/progress.h"
#include "core/rng.h"
#include "eval/adapt.h"
#include "eval/calibration.h"
#include "fit/fit.h"

void bs_pipeline_fit_options_init(bs_pipeline_fit_options *o) {
    memset(o, 0, sizeof *o);
    bs_sae_options_default(&o->ae);
    bs_svm_params_default(&o->svm);
    o->svm.n_classes = 2;
    o->svm_seed = 1;
    o->calibration_folds = 5;
    o->calibration_seed = 1;
    o->ood_k = 3;
}

void bs_pipeline_free(bs_pipeline *p) {
    if (!p) return;
    free(p->classes);
    free(p->backbones);
    bs_sae_free(p->ae);
    bs_svm_free(p->svm);
    memset(p, 0, sizeof *p);
}

/* Statistics of n errors and the threshold: Tukey's far-out fence on the log scale,
 * exp(q75 + k·(q75 − q25)), or, when 0 < at ≤ 1, the at-quantile of the errors themselves.
 * A quantile states the false-alarm rate on rows like the validation rows (1 − at);
 * the fence only says "far beyond the spread", which for cell models is 8-14 × the median
 * (docs/cells.md). k is stored either way: with a quantile, the k whose fence gives that
 * threshold, so threshold = exp(q75 + k·(q75 − q25)) holds in every file (0 if q75 = q25). */
static int ood_stats(bs_pipeline_ood *o, const double *err, int64_t n, double k, double at) {
    double *s = bs_malloc(sizeof(double) * (size_t)n), *lg = bs_malloc(sizeof(double) * (size_t)n);
    if (!s || !lg) {
        free(s);
        free(lg);
        return -1;
    }
    double sum = 0, sum2 = 0;
    for (int64_t i = 0; i < n; i++) {
        s[i] = err[i];
        lg[i] = log(err[i] > 1e-300 ? err[i] : 1e-300);
        sum += err[i];
    }
    double mean = sum / (double)n;
    for (int64_t i = 0; i < n; i++) sum2 += (err[i] - mean) * (err[i] - mean);
    qsort(s, (size_t)n, sizeof *s, bs_cmp_double);
    qsort(lg, (size_t)n, sizeof *lg, bs_cmp_double);
    o->available = 1;
    o->k = k;
    o->mean = mean;
    o->sd = sqrt(sum2 / (double)n);
    o->q25 = bs_quantile_sorted(s, n, 0.25);
    o->median = bs_quantile_sorted(s, n, 0.5);
    o->q75 = bs_quantile_sorted(s, n, 0.75);
    o->q95 = bs_quantile_sorted(s, n, 0.95);
    o->q99 = bs_quantile_sorted(s, n, 0.99);
    o->max = s[n - 1];
    double l25 = bs_quantile_sorted(lg, n, 0.25), l75 = bs_quantile_sorted(lg, n, 0.75);
    o->threshold = exp(l75 + k * (l75 - l25));
    if (at > 0) {
        o->threshold = fmax(bs_quantile_sorted(s, n, at), 1e-300);
        o->k = l75 > l25 ? (log(o->threshold) - l75) / (l75 - l25) : 0;
    }
    free(s);
    free(lg);
    return 0;
}

/* The validation autoencoder of step 4: fitted like the final one on the rows outside
 * calibration fold 0; the reconstruction errors of the fold-0 rows go to err[0..*nval). */
static int validation_errors(bs_matrix x, const int64_t *rows, const bs_fitted *fit, int64_t m,
                             const bs_pipeline_fit_options *o, int64_t hidden, double *err,
                             int64_t *nval) {
    int64_t ntr = 0;
    int64_t *vrows = bs_malloc(sizeof(int64_t) * (size_t)m),
            *trows = bs_malloc(sizeof(int64_t) * (size_t)m);
    int rc = vrows && trows ? 0 : -1;
    *nval = 0;
    for (int64_t i = 0; i < m && rc == 0; i++) {
        int64_t r = rows ? rows[i] : i;
        if (fit->fold[i] == 0)
            vrows[(*nval)++] = r;
        else
            trows[ntr++] = r;
    }
    bs_sae_options ae = o->ae;
    ae.hidden = hidden;
    ae.seed = bs_rng_derive_twin(o->ae.seed);
    ae.progress = 0;
    bs_sae *val = rc == 0 ? bs_sae_fit(x, trows, ntr, &ae, NULL) : NULL;
    if (!val || bs_sae_reconstruction_error(val, x, vrows, *nval, err)) rc = -1;
    bs_sae_free(val);
    free(vrows);
    free(trows);
    return rc;
}

/* Step 4: OOD statistics; errors of rows a validation autoencoder has not seen set the
 * threshold, the final autoencoder's errors on its own rows are kept for reference. */
static int fit_ood(bs_pipeline *p, bs_matrix x, const int64_t *rows, const bs_fitted *fit,
                   int64_t m, const bs_pipeline_fit_options *o) {
    double t0 = bs_now();
    int64_t nval = 0;
    double *err = bs_malloc(sizeof(double) * (size_t)m);
    int rc = err ? validation_errors(x, rows, fit, m, o, bs_sae_hidden(p->ae), err, &nval) : -1;
    if (rc == 0) rc = ood_stats(&p->ood, err, nval, o->ood_k, o->ood_quantile);
    p->ood.n_validation = nval;
    bs_pipeline_ood tr;
    if (rc == 0) rc = bs_sae_reconstruction_error(p->ae, x, rows, m, err);
    if (rc == 0) rc = ood_stats(&tr, err, m, o->ood_k, 0);
    if (rc == 0) {
        p->ood.train_median = tr.median;
        p->ood.train_q99 = tr.q99;
        p->ood.train_max = tr.max;
    }
    if (rc == 0 && o->verbose)
        bs_log("train: reconstruction error: training rows median %.4g, max %.4g; %lld unseen "
               "rows (validation autoencoder) median %.4g, q99 %.4g, max %.4g; "
               "out-of-distribution above %.4g (%s %.3g; %.1f s)",
               tr.median, tr.max, (long long)nval, p->ood.median, p->ood.q99, p->ood.max,
               p->ood.threshold, o->ood_quantile > 0 ? "quantile" : "fence k",
               o->ood_quantile > 0 ? o->ood_quantile : o->ood_k, bs_now() - t0);
    free(err);
    return rc;
}

int bs_pipeline_weighted_rows(const int32_t *weight, int64_t n, int64_t **rows, int64_t *n_rows) {
    assert(weight && n >= 0 && rows && n_rows);
    *rows = NULL;
    *n_rows = 0;
    int64_t m = 0;
    for (int64_t r = 0; r < n; r++) {
        if (weight[r] < 1 || weight[r] > BS_PIPELINE_WEIGHT_MAX)
            return bs_error("row %lld: weight %d is outside 1..%d", (long long)r, (int)weight[r],
                            BS_PIPELINE_WEIGHT_MAX);
        m += weight[r];
    }
    int64_t *list = bs_malloc(sizeof(int64_t) * (size_t)(m ? m : 1));
    if (!list) return -1;
    int64_t k = 0;
    for (int64_t r = 0; r < n; r++)
        for (int32_t w = 0; w < weight[r]; w++) list[k++] = r;
    *rows = list;
    *n_rows = m;
    return 0;
}

/* Steps 1-3 are one bs_fit (fit/fit.h): the autoencoder's latent of the training rows only,
 * the SVM on it, Platt's sigmoid from a grouped CV. */
static void fit_options(const bs_pipeline_fit_options *o, int64_t d, const int64_t *group,
                        bs_fit_options *fo) {
    bs_fit_options_init(fo);
    fo->hidden = bs_fit_hidden_units(o->latent_fraction, d);
    fo->ae = o->ae;
    fo->svm = o->svm;
    fo->svm_seed = o->svm_seed;
    fo->calibration_folds = o->calibration_folds;
    fo->calibration_seed = o->calibration_seed;
    fo->group = group;
    fo->log_name = o->verbose ? "train" : NULL;
    fo->mil_rounds = o->mil_rounds;
    fo->instance = o->instance; /* the bags are the groups */
    fo->mil_folds = o->mil_folds;
}

/* The positive share of the labels the sigmoid was fitted to: mi-SVM's final ones when it ran
 * (fit row order), else the given labels of the fit rows. */
static double train_prior(const int32_t *labels, const int64_t *rows, int64_t m,
                          const int32_t *mil_labels) {
    int64_t pos = 0;
    for (int64_t i = 0; i < m; i++)
        pos += (mil_labels ? mil_labels[i] : labels[rows ? rows[i] : i]) == 1;
    return m > 0 ? (double)pos / (double)m : 0;
}

int bs_pipeline_fit(bs_pipeline *p, bs_matrix x, const int32_t *labels, const int64_t *group,
                    const int64_t *rows, int64_t n_rows, const bs_pipeline_fit_options *o) {
    assert(p && o && bs_matrix_ok(x) && labels && (rows || n_rows == x.rows));
    int64_t m = rows ? n_rows : x.rows;
    if (m < 2 || x.cols < 1)
        return bs_error("nothing to train on (%lld rows x %lld features)", (long long)m,
                        (long long)x.cols);
    if (o->calibration_folds < 2)
        return bs_error("calibration needs at least 2 folds (got %d)", o->calibration_folds);
    bs_fit_options fo;
    fit_options(o, x.cols, group, &fo);
    bs_fitted fit;
    int rc = bs_fit(&fit, x, labels, rows, m, &fo);
    p->n_features = x.cols;
    p->latent_fraction = o->latent_fraction;
    p->epochs = fo.hidden > 0 ? o->ae.max_epochs : 0;
    p->kernel_scale_option = o->svm.kernel_scale;
    if (rc == 0) {
        p->ae = fit.ae, fit.ae = NULL;
        p->svm = fit.svm, fit.svm = NULL;
        p->platt_a = fit.platt_a;
        p->platt_b = fit.platt_b;
        p->calibration_folds = fit.calibration_folds;
        p->calibration_rows = m;
        p->mil = fit.mil;
        p->train_prior = train_prior(labels, rows, m, fit.mil_labels);
    }
    if (rc == 0 && p->ae) rc = fit_ood(p, x, rows, &fit, m, o);
    bs_fitted_free(&fit);
    if (rc) {
        bs_sae_free(p->ae);
        bs_svm_free(p->svm);
        p->ae = NULL;
        p->svm = NULL;
    }
    return rc;
}

int bs_pipeline_predict(const bs_pipeline *p, bs_matrix x, const int64_t *rows, int64_t n_rows,
                        bs_pipeline_result *out) {
    assert(p && p->svm && bs_matrix_ok(x));
    if (x.cols != p->n_features)
        return bs_error("the pipeline expects %lld features, got %lld", (long long)p->n_features,
                        (long long)x.cols);
    int64_t m = rows ? n_rows : x.rows;
    if (m <= 0) return 0;
    assert(out);
    double *dec = bs_malloc(sizeof(double) * (size_t)m),
           *err = bs_malloc(sizeof(double) * (size_t)m);
    int32_t *pred = bs_malloc(sizeof(int32_t) * (size_t)m);
    int64_t *iota = bs_malloc(sizeof(int64_t) * (size_t)m);
    bs_matrix_mut latent = {NULL, 0, 0};
    int rc = (dec && err && pred && iota) ? 0 : -1;
    for (int64_t i = 0; i < m && rc == 0; i++) iota[i] = i;
    if (rc == 0 && p->ae) {
        if (bs_matrix_alloc(m, bs_sae_hidden(p->ae), &latent) ||
            bs_sae_encode(p->ae, x, rows, m, latent) ||
            bs_sae_reconstruction_error(p->ae, x, rows, m, err))
            rc = -1;
        if (rc == 0) rc = bs_svm_predict(p->svm, bs_matrix_view(latent), iota, m, dec, pred);
    } else if (rc == 0) {
        rc = bs_svm_predict(p->svm, x, rows ? rows : iota, m, dec, pred);
    }
    for (int64_t i = 0; i < m && rc == 0; i++) {
        out[i].label = pred[i];
        out[i].decision = dec[i];
        out[i].probability = bs_platt(p->platt_a, p->platt_b, dec[i]);
        out[i].recon_error = p->ae ? err[i] : NAN;
        out[i].ood = p->ood.available && !(err[i] <= p->ood.threshold);
    }
    free(dec);
    free(err);
    free(pred);
    free(iota);
    free(latent.data);
    return rc;
}

int bs_pipeline_adapt_prior(const bs_pipeline *p, bs_pipeline_result *r, int64_t n,
                            bs_pipeline_adaptation *out) {
    memset(out, 0, sizeof *out);
    out->n = n;
    out->train_prior = out->batch_prior = p->train_prior;
    if (!(p->train_prior > 0 && p->train_prior < 1))
        return bs_error("the model records no training class prior (written by train since "
                        "prior adaptation; retrain it), so it cannot be adapted by prior");
    if (n == 0) return 0;
    double *prob = bs_malloc(sizeof *prob * (size_t)n);
    if (!prob) return -1;
    for (int64_t i = 0; i < n; i++) prob[i] = r[i].probability;
    int rc = bs_prior_em(prob, n, p->train_prior, &out->batch_prior, &out->rounds);
    free(prob);
    if (rc) return -1;
    out->shift = bs_prior_shift(p->train_prior, out->batch_prior);
    out->threshold = bs_prior_threshold(p->platt_a, out->shift);
    for (int64_t i = 0; i < n; i++) {
        out->positives_before += r[i].label == 1;
        r[i].decision -= out->threshold;
        r[i].probability = bs_prior_adjust(r[i].probability, out->shift);
        r[i].label = r[i].decision > 0;
        out->positives_after += r[i].label == 1;
    }
    return 0;
}
