/* fit.c — one fit on a set of rows (see fit.h): autoencoder and latent, SVM (or mi-SVM's rounds,
 * mil.c), Platt calibration.
 * Not for: what the fitted model is used for afterwards (the caller predicts, scores or saves). */
#include "fit/fit.h"

#include <assert.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/io.h"
#include "core/log.h"
#include "core/progress.h"
#include "core/rng.h"
#include "eval/calibration.h"
#include "eval/eval.h"
#include "fit_internal.h"

int64_t bs_fit_hidden_units(double fraction, int64_t width) {
    assert(fraction >= 0 && width >= 0);
    if (fraction == 0) return 0;
    int64_t hidden = (int64_t)llround(fraction * (double)width);
    return hidden < 1 ? 1 : hidden;
}

void bs_fit_options_init(bs_fit_options *o) {
    memset(o, 0, sizeof *o);
    bs_sae_options_default(&o->ae);
    bs_svm_params_default(&o->svm);
    o->svm_seed = 1;
    o->calibration_seed = 1;
}

void bs_fitted_free(bs_fitted *f) {
    if (!f) return;
    bs_sae_free(f->ae);
    bs_svm_free(f->svm);
    free(f->latent.data);
    free(f->fold);
    free(f->mil_labels);
    memset(f, 0, sizeof *f);
}

static int cmp_i64(const void *x, const void *y) {
    int64_t a = *(const int64_t *)x, b = *(const int64_t *)y;
    return (a > b) - (a < b);
}

/* Distinct groups among the rows of each label (0 and 1). */
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

/* The fit rows, compacted: fit row i is x's row rows[i] (or i). */
typedef struct fit_rows {
    int64_t m;
    int32_t *lab;       /* label of fit row i */
    int64_t *grp;       /* its calibration group */
    int64_t *iota;      /* 0..m-1: the svm stage takes row lists */
    int64_t *bag, *ins; /* mi-SVM: bag and instance of fit row i; NULL otherwise */
    int64_t groups[2];  /* distinct groups per label (binary labels only) */
} fit_rows;

static void fit_rows_free(fit_rows *fr) {
    free(fr->lab);
    free(fr->grp);
    free(fr->iota);
    free(fr->bag);
    free(fr->ins);
}

static int64_t count_label(const fit_rows *fr, int32_t c) {
    int64_t k = 0;
    for (int64_t i = 0; i < fr->m; i++) k += fr->lab[i] == c;
    return k;
}

/* With mi-SVM, every fit row's bag (o->bag, else its group) and instance (o->instance, else
 * itself); and the bags that must exist. */
static int gather_bags(fit_rows *fr, const int64_t *rows, const bs_fit_options *o) {
    const int64_t m = fr->m;
    fr->bag = bs_malloc(sizeof(int64_t) * (size_t)(m ? m : 1));
    fr->ins = bs_malloc(sizeof(int64_t) * (size_t)(m ? m : 1));
    if (!fr->bag || !fr->ins) return -1;
    int64_t bags[2];
    for (int64_t i = 0; i < m; i++) {
        int64_t r = rows ? rows[i] : i;
        fr->bag[i] = o->bag ? o->bag[r] : fr->grp[i];
        fr->ins[i] = o->instance ? o->instance[r] : r;
    }
    if (count_groups(fr->lab, fr->bag, m, bags)) return -1;
    if (bags[1] == 0 || bags[0] == 0)
        return bs_error("mi-SVM needs a positive bag (a group of label-1 rows) and negative rows "
                        "among the %lld training rows (%lld positive bags, %lld negative rows)",
                        (long long)m, (long long)bags[1], (long long)(m - count_label(fr, 1)));
    return 0;
}

/* binary: every label must be 0 or 1 and both must be present (calibration needs them). */
static int gather_rows(fit_rows *fr, int64_t n, const int32_t *labels, const int64_t *rows,
                       int64_t m, int binary, const bs_fit_options *o) {
    fr->m = m;
    fr->lab = bs_malloc(sizeof(int32_t) * (size_t)(m ? m : 1));
    fr->grp = bs_malloc(sizeof(int64_t) * (size_t)(m ? m : 1));
    fr->iota = bs_malloc(sizeof(int64_t) * (size_t)(m ? m : 1));
    if (!fr->lab || !fr->grp || !fr->iota) return -1;
    for (int64_t i = 0; i < m; i++) {
        int64_t r = rows ? rows[i] : i;
        if (r < 0 || r >= n) return bs_error("row index %lld out of range", (long long)r);
        if (binary && labels[r] != 0 && labels[r] != 1)
            return bs_error("row %lld: label %d is not 0 or 1", (long long)r, labels[r]);
        fr->iota[i] = i;
        fr->lab[i] = labels[r];
        fr->grp[i] = o->group ? o->group[r] : r;
    }
    if (o->mil_rounds > 0 && gather_bags(fr, rows, o)) return -1;
    if (!binary) return 0;
    if (count_groups(fr->lab, fr->grp, m, fr->groups)) return -1;
    if (fr->groups[0] == 0 || fr->groups[1] == 0)
        return bs_error("training needs images of both classes");
    return 0;
}

/* What the SVM sees: rows[0..m) of x, labels indexed like x's rows. */
typedef struct svm_input {
    bs_matrix x;
    const int64_t *rows;
    const int32_t *labels;
    int64_t m;
} svm_input;

/* Step 1: mapminmax + sparse autoencoder on the fit rows, then f->latent. */
static int fit_autoencoder(bs_fitted *f, bs_matrix x, const int64_t *rows, int64_t m,
                           const bs_fit_options *o) {
    bs_sae_options ae = o->ae;
    ae.hidden = o->hidden;
    double t0 = bs_now();
    if (o->log_name)
        bs_log("%s: autoencoder %lld -> %lld units, %d epochs on %lld rows", o->log_name,
               (long long)x.cols, (long long)o->hidden, ae.max_epochs, (long long)m);
    bs_sae_fit_info info;
    if (!(f->ae = bs_sae_fit(x, rows, m, &ae, &info))) return -1;
    const int64_t *encode = o->encode_all ? NULL : rows;
    const int64_t n_encode = o->encode_all ? x.rows : m;
    if (bs_matrix_alloc(n_encode, o->hidden, &f->latent) ||
        bs_sae_encode(f->ae, x, encode, n_encode, f->latent))
        return -1;
    if (o->log_name)
        bs_log("%s: autoencoder done: %d epochs (%s), perf %.6g, %.1f s", o->log_name, info.epochs,
               bs_sae_stop_name(info.stop), info.perf, bs_now() - t0);
    return 0;
}

/* Step 2: the SVM on every fit row. */
static int fit_svm(bs_fitted *f, const svm_input *in, const bs_fit_options *o) {
    bs_rng rng;
    bs_rng_seed(&rng, o->svm_seed);
    double t0 = bs_now();
    if (!(f->svm = bs_svm_fit(in->x, in->labels, in->rows, in->m, &o->svm, &rng))) return -1;
    if (o->log_name)
        bs_log("%s: SVM on %lld x %lld in %.1f s", o->log_name, (long long)in->m,
               (long long)in->x.cols, bs_now() - t0);
    return 0;
}

/* Step 2 as mi-SVM (mil.c): f->svm, f->mil_labels and f->mil. */
static int fit_mil(bs_fitted *f, const svm_input *in, const fit_rows *fr, const bs_fit_options *o) {
    f->mil_labels = bs_malloc(sizeof(int32_t) * (size_t)(fr->m ? fr->m : 1));
    if (!f->mil_labels) return -1;
    bs_mil_rows mr = {in->x, in->rows, fr->m, fr->lab, fr->bag, fr->ins};
    return bs_mil_fit(&mr, o, &f->svm, f->mil_labels, &f->mil);
}

/* Step 3: Platt's sigmoid on out-of-fold decisions of a grouped k-fold CV of the SVM (k
 * lowered to the groups of the rarer class); fills f->fold. The folds are drawn from the labels
 * given (with mi-SVM: the bag labels, so that each fold's training rows hold positive bags),
 * the SVMs and the sigmoid fitted on the final ones. */
static int fit_calibration(bs_fitted *f, const svm_input *in, const fit_rows *fr,
                           const bs_fit_options *o) {
    const int64_t m = fr->m;
    const int32_t *target = f->mil_labels ? f->mil_labels : fr->lab;
    int k = o->calibration_folds;
    int64_t fewest = fr->groups[0] < fr->groups[1] ? fr->groups[0] : fr->groups[1];
    if (k > fewest) k = (int)fewest;
    if (k < 2) return bs_error("calibration needs at least 2 groups (images) of each class");
    /* cross-validation takes the rows as a plain m-row matrix: copy them unless they are one */
    const int compact = in->x.rows == m && in->rows == fr->iota;
    bs_matrix_mut copy = {NULL, 0, 0};
    double *dec = bs_malloc(sizeof(double) * (size_t)m);
    f->fold = bs_malloc(sizeof(int32_t) * (size_t)m);
    int rc = dec && f->fold && (compact || !bs_matrix_alloc(m, in->x.cols, &copy)) ? 0 : -1;
    if (rc == 0 && !compact) bs_matrix_gather(in->x, in->rows, copy);
    bs_rng rng;
    bs_rng_seed(&rng, o->calibration_seed);
    if (rc == 0) rc = bs_folds_grouped(fr->lab, fr->grp, m, k, &rng, f->fold);
    double t0 = bs_now();
    if (rc == 0)
        rc = bs_svm_cross_validate(compact ? in->x : bs_matrix_view(copy), target, f->fold, k,
                                   &o->svm, &rng, dec, NULL);
    /* Fitted on decisions clipped to Tukey's far-out fences (eval/calibration.h): without an
     * autoencoder one far-out decision of the wrong sign (-1306 on an Aria sample) flattened
     * the sigmoid to the training prior. */
    if (rc == 0)
        rc = bs_platt_fit_clipped(dec, target, m, BS_PLATT_CLIP_K, &f->platt_a, &f->platt_b);
    if (rc == 0) f->calibration_folds = k;
    if (rc == 0 && o->log_name)
        bs_log("%s: Platt scaling from %d-fold grouped CV: A = %.6g, B = %.6g (%.1f s)",
               o->log_name, k, f->platt_a, f->platt_b, bs_now() - t0);
    free(copy.data);
    free(dec);
    return rc;
}

int bs_fit(bs_fitted *f, bs_matrix x, const int32_t *labels, const int64_t *rows, int64_t n_rows,
           const bs_fit_options *o) {
    assert(f && o && bs_matrix_ok(x));
    assert(rows || n_rows == x.rows);
    assert(n_rows >= 0 && o->hidden >= 0 && o->calibration_folds >= 0);
    assert(labels || o->autoencoder_only);
    assert(o->hidden > 0 || !o->autoencoder_only); /* else there is nothing to fit */
    memset(f, 0, sizeof *f);
    assert(o->mil_rounds >= 0 && (o->mil_rounds == 0 || !o->autoencoder_only));
    const int fit_svm_too = !o->autoencoder_only, calibrate = fit_svm_too && o->calibration_folds;
    const int mil = fit_svm_too && o->mil_rounds > 0;
    fit_rows fr = {0};
    int rc = fit_svm_too ? gather_rows(&fr, x.rows, labels, rows, n_rows, calibrate || mil, o) : 0;
    f->features = x;
    svm_input in = {x, rows ? rows : fr.iota, labels, n_rows};
    if (rc == 0 && o->hidden > 0) {
        rc = fit_autoencoder(f, x, rows, n_rows, o);
        f->features = bs_matrix_view(f->latent);
        /* the latent of the fit rows only is indexed by their position, with their labels */
        in = o->encode_all ? (svm_input){f->features, in.rows, labels, n_rows}
                           : (svm_input){f->features, fr.iota, fr.lab, n_rows};
    }
    if (rc == 0 && fit_svm_too) rc = mil ? fit_mil(f, &in, &fr, o) : fit_svm(f, &in, o);
    if (rc == 0 && calibrate) rc = fit_calibration(f, &in, &fr, o);
    fit_rows_free(&fr);
    if (rc) bs_fitted_free(f);
    return rc;
}
