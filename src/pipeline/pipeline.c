/* pipeline.c — fitting and applying a pipeline on feature rows (see pipeline.h): autoencoder,
 * SVM, Platt calibration by internal cross-validation, OOD statistics.
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
#include "eval/calibration.h"
#include "eval/eval.h"

#define BS_PIPELINE_CLIP_K 3.0 /* fence multiplier for the decisions Platt is fitted on */

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

static int cmp_i64(const void *x, const void *y) {
    int64_t a = *(const int64_t *)x, b = *(const int64_t *)y;
    return (a > b) - (a < b);
}

/* Distinct groups among the rows of each label. */
static int count_groups(const int32_t *labels, const int64_t *group, int64_t n, int64_t groups[2]) {
    int64_t *ids = bs_malloc(sizeof(int64_t) * (size_t)(n ? n : 1));
    if (!ids) return -1;
    for (int c = 0; c < 2; c++) {
        int64_t m = 0;
        for (int64_t i = 0; i < n; i++)
            if (labels[i] == c) ids[m++] = group[i];
        qsort(ids, (size_t)m, sizeof *ids, cmp_i64);
        groups[c] = 0;
        for (int64_t i = 0; i < m; i++)
            if (i == 0 || ids[i] != ids[i - 1]) groups[c]++;
    }
    free(ids);
    return 0;
}

/* The training rows, compacted: row i of the fit is x's row rows[i] (or i). */
typedef struct fit_rows {
    int64_t m;
    int32_t *lab;      /* label of fit row i */
    int64_t *grp;      /* its group (an image and its mirrors) */
    int32_t *fold;     /* its calibration fold (step 3; fold 0 validates the OOD threshold) */
    int64_t *iota;     /* 0..m-1: the svm stage takes row lists */
    int64_t groups[2]; /* distinct groups per label */
} fit_rows;

static void fit_rows_free(fit_rows *fr) {
    free(fr->lab);
    free(fr->grp);
    free(fr->fold);
    free(fr->iota);
}

static int gather_rows(fit_rows *fr, int64_t n, const int32_t *labels, const int64_t *group,
                       const int64_t *rows, int64_t m) {
    memset(fr, 0, sizeof *fr);
    fr->m = m;
    fr->lab = bs_malloc(sizeof(int32_t) * (size_t)m);
    fr->fold = bs_malloc(sizeof(int32_t) * (size_t)m);
    fr->grp = bs_malloc(sizeof(int64_t) * (size_t)m);
    fr->iota = bs_malloc(sizeof(int64_t) * (size_t)m);
    if (!fr->lab || !fr->fold || !fr->grp || !fr->iota) return -1;
    for (int64_t i = 0; i < m; i++) {
        int64_t r = rows ? rows[i] : i;
        if (r < 0 || r >= n) return bs_error("row index %lld out of range", (long long)r);
        if (labels[r] != 0 && labels[r] != 1)
            return bs_error("row %lld: label %d is not 0 or 1", (long long)r, labels[r]);
        fr->iota[i] = i;
        fr->lab[i] = labels[r];
        fr->grp[i] = group ? group[r] : r;
    }
    if (count_groups(fr->lab, fr->grp, m, fr->groups)) return -1;
    if (fr->groups[0] == 0 || fr->groups[1] == 0)
        return bs_error("training needs images of both classes");
    return 0;
}

/* What the SVM sees: rows[0..m) of x (n × width), labels indexed like x's rows. */
typedef struct svm_input {
    const float *x;
    int64_t n, width;
    const int64_t *rows;
    const int32_t *labels;
} svm_input;

/* Step 1: mapminmax + sparse autoencoder on the training rows; *latent (m × hidden) becomes
 * the SVM's input. */
static int fit_autoencoder(bs_pipeline *p, const float *x, int64_t n, int64_t d,
                           const int64_t *rows, const fit_rows *fr,
                           const bs_pipeline_fit_options *o, float **latent) {
    bs_sae_options ae = o->ae;
    ae.hidden = o->hidden;
    double t0 = bs_now();
    if (o->verbose)
        bs_log("train: autoencoder %lld -> %lld units, %d epochs on %lld rows", (long long)d,
               (long long)o->hidden, ae.max_epochs, (long long)fr->m);
    bs_sae_fit_info info;
    p->ae = bs_sae_fit(bs_matrix_of(x, n, d), rows, fr->m, &ae, &info);
    *latent = p->ae ? bs_malloc(sizeof(float) * (size_t)fr->m * (size_t)o->hidden) : NULL;
    if (!*latent || bs_sae_encode(p->ae, bs_matrix_of(x, n, d), rows, fr->m,
                                  bs_matrix_mut_of(*latent, fr->m, bs_sae_hidden(p->ae))))
        return -1;
    if (o->verbose)
        bs_log("train: autoencoder done: %d epochs (%s), perf %.6g, %.1f s", info.epochs,
               bs_sae_stop_name(info.stop), info.perf, bs_now() - t0);
    return 0;
}

/* Step 2: the SVM on every training row. */
static int fit_svm(bs_pipeline *p, const svm_input *in, int64_t m,
                   const bs_pipeline_fit_options *o) {
    bs_rng rng;
    bs_rng_seed(&rng, o->svm_seed);
    double t0 = bs_now();
    p->svm =
        bs_svm_fit(bs_matrix_of(in->x, in->n, in->width), in->labels, in->rows, m, &o->svm, &rng);
    if (!p->svm) return -1;
    if (o->verbose)
        bs_log("train: SVM on %lld x %lld in %.1f s", (long long)m, (long long)in->width,
               bs_now() - t0);
    return 0;
}

/* Step 3: Platt's sigmoid on out-of-fold decisions of a grouped k-fold CV of the SVM (k
 * lowered to the groups of the rarer class); fills fr->fold. */
static int fit_calibration(bs_pipeline *p, const svm_input *in, fit_rows *fr,
                           const bs_pipeline_fit_options *o) {
    int64_t m = fr->m, w = in->width;
    int k = o->calibration_folds;
    int64_t fewest = fr->groups[0] < fr->groups[1] ? fr->groups[0] : fr->groups[1];
    if (k > fewest) k = (int)fewest;
    if (k < 2) return bs_error("calibration needs at least 2 groups (images) of each class");
    /* cross-validation takes a plain m × w matrix: copy the rows unless x is one already */
    int compact = in->n == m && in->rows == fr->iota;
    float *cx = compact ? NULL : bs_malloc(sizeof(float) * (size_t)m * (size_t)w);
    double *dec = bs_malloc(sizeof(double) * (size_t)m);
    int rc = (compact || cx) && dec ? 0 : -1;
    for (int64_t i = 0; i < m && cx && rc == 0; i++)
        memcpy(cx + i * w, in->x + in->rows[i] * w, sizeof(float) * (size_t)w);
    bs_rng rng;
    bs_rng_seed(&rng, o->calibration_seed);
    if (rc == 0) rc = bs_folds_grouped(fr->lab, fr->grp, m, k, &rng, fr->fold);
    double t0 = bs_now();
    if (rc == 0)
        rc = bs_svm_cross_validate(bs_matrix_of(cx ? cx : in->x, m, w), fr->lab, fr->fold, k,
                                   &o->svm, &rng, dec, NULL);
    if (rc == 0)
        /* Fitted on decisions clipped to Tukey's far-out fences (eval/calibration.h): without an
         * autoencoder one far-out decision of the wrong sign (-1306 on an Aria sample) flattened
         * the sigmoid to the training prior. */
        rc = bs_platt_fit_clipped(dec, fr->lab, m, BS_PIPELINE_CLIP_K, &p->platt_a, &p->platt_b);
    if (rc == 0) {
        p->calibration_folds = k;
        p->calibration_rows = m;
        if (o->verbose)
            bs_log("train: Platt scaling from %d-fold grouped CV: A = %.6g, B = %.6g (%.1f s)", k,
                   p->platt_a, p->platt_b, bs_now() - t0);
    }
    free(cx);
    free(dec);
    return rc;
}

/* The validation autoencoder of step 4: fitted like the final one on the rows outside
 * calibration fold 0; the reconstruction errors of the fold-0 rows go to err[0..*nval). */
static int validation_errors(const float *x, int64_t n, int64_t d, const int64_t *rows,
                             const fit_rows *fr, const bs_pipeline_fit_options *o, double *err,
                             int64_t *nval) {
    int64_t ntr = 0, m = fr->m;
    int64_t *vrows = bs_malloc(sizeof(int64_t) * (size_t)m),
            *trows = bs_malloc(sizeof(int64_t) * (size_t)m);
    int rc = vrows && trows ? 0 : -1;
    *nval = 0;
    for (int64_t i = 0; i < m && rc == 0; i++) {
        int64_t r = rows ? rows[i] : i;
        if (fr->fold[i] == 0)
            vrows[(*nval)++] = r;
        else
            trows[ntr++] = r;
    }
    bs_sae_options ae = o->ae;
    ae.hidden = o->hidden;
    ae.seed = o->ae.seed ^ 0x5bd1e9955bd1e995ULL;
    ae.progress = 0;
    bs_sae *val = rc == 0 ? bs_sae_fit(bs_matrix_of(x, n, d), trows, ntr, &ae, NULL) : NULL;
    if (!val || bs_sae_reconstruction_error(val, bs_matrix_of(x, n, d), vrows, *nval, err)) rc = -1;
    bs_sae_free(val);
    free(vrows);
    free(trows);
    return rc;
}

/* Step 4: OOD statistics; errors of rows a validation autoencoder has not seen set the
 * threshold, the final autoencoder's errors on its own rows are kept for reference. */
static int fit_ood(bs_pipeline *p, const float *x, int64_t n, int64_t d, const int64_t *rows,
                   const fit_rows *fr, const bs_pipeline_fit_options *o) {
    double t0 = bs_now();
    int64_t nval = 0, m = fr->m;
    double *err = bs_malloc(sizeof(double) * (size_t)m);
    int rc = err ? validation_errors(x, n, d, rows, fr, o, err, &nval) : -1;
    if (rc == 0) rc = ood_stats(&p->ood, err, nval, o->ood_k, o->ood_quantile);
    p->ood.n_validation = nval;
    bs_pipeline_ood tr;
    if (rc == 0) rc = bs_sae_reconstruction_error(p->ae, bs_matrix_of(x, n, d), rows, m, err);
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

int bs_pipeline_fit(bs_pipeline *p, bs_matrix xm, const int32_t *labels, const int64_t *group,
                    const int64_t *rows, int64_t n_rows, const bs_pipeline_fit_options *o) {
    assert(p && o && bs_matrix_ok(xm) && labels);
    const float *x = xm.data;
    int64_t n = xm.rows, d = xm.cols;
    int64_t m = rows ? n_rows : n;
    if (m < 2 || d < 1)
        return bs_error("nothing to train on (%lld rows x %lld features)", (long long)m,
                        (long long)d);
    fit_rows fr;
    float *latent = NULL;
    int rc = gather_rows(&fr, n, labels, group, rows, m);
    p->n_features = d;
    /* without an autoencoder the SVM sees x's training rows themselves */
    svm_input in = {x, n, d, rows ? rows : fr.iota, labels};
    if (rc == 0 && o->hidden > 0) {
        rc = fit_autoencoder(p, x, n, d, rows, &fr, o, &latent);
        in = (svm_input){latent, m, o->hidden, fr.iota, fr.lab};
    }
    if (rc == 0) rc = fit_svm(p, &in, m, o);
    if (rc == 0) rc = fit_calibration(p, &in, &fr, o);
    if (rc == 0 && p->ae) rc = fit_ood(p, x, n, d, rows, &fr, o);
    fit_rows_free(&fr);
    free(latent);
    if (rc) {
        bs_sae_free(p->ae);
        bs_svm_free(p->svm);
        p->ae = NULL;
        p->svm = NULL;
    }
    return rc;
}

int bs_pipeline_predict(const bs_pipeline *p, bs_matrix xm, const int64_t *rows, int64_t n_rows,
                        bs_pipeline_result *out) {
    assert(p && p->svm && bs_matrix_ok(xm));
    const float *x = xm.data;
    int64_t n = xm.rows, d = xm.cols;
    if (d != p->n_features)
        return bs_error("the pipeline expects %lld features, got %lld", (long long)p->n_features,
                        (long long)d);
    int64_t m = rows ? n_rows : n;
    if (m <= 0) return 0;
    double *dec = bs_malloc(sizeof(double) * (size_t)m),
           *err = bs_malloc(sizeof(double) * (size_t)m);
    int32_t *pred = bs_malloc(sizeof(int32_t) * (size_t)m);
    int64_t *iota = bs_malloc(sizeof(int64_t) * (size_t)m);
    float *latent = NULL;
    int rc = (dec && err && pred && iota) ? 0 : -1;
    for (int64_t i = 0; i < m && rc == 0; i++) iota[i] = i;
    if (rc == 0 && p->ae) {
        int64_t h = bs_sae_hidden(p->ae);
        latent = bs_malloc(sizeof(float) * (size_t)m * (size_t)h);
        if (!latent ||
            bs_sae_encode(p->ae, bs_matrix_of(x, n, d), rows, m,
                          bs_matrix_mut_of(latent, m, bs_sae_hidden(p->ae))) ||
            bs_sae_reconstruction_error(p->ae, bs_matrix_of(x, n, d), rows, m, err))
            rc = -1;
        if (rc == 0) rc = bs_svm_predict(p->svm, bs_matrix_of(latent, m, h), iota, m, dec, pred);
    } else if (rc == 0) {
        rc = bs_svm_predict(p->svm, bs_matrix_of(x, n, d), rows ? rows : iota, m, dec, pred);
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
    free(latent);
    return rc;
}
