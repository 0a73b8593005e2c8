/* adapt.c — prior EM, diagonal CORAL and k-label recalibration (see adapt.h). */
#include "adapt.h"

#include <assert.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "calibration.h"
#include "core/error.h"
#include "core/io.h"

int bs_adapt_parse(const char *s, bs_adapt_method *out) {
    static const char *const names[] = {"none", "prior", "coral"};
    for (int i = 0; i < 3; i++)
        if (strcmp(s, names[i]) == 0) {
            *out = (bs_adapt_method)i;
            return 0;
        }
    return bs_error("adaptation must be none, prior or coral, not '%s'", s);
}

const char *bs_adapt_name(bs_adapt_method m) {
    return m == BS_ADAPT_PRIOR ? "prior" : m == BS_ADAPT_CORAL ? "coral" : "none";
}

static double clamp_prior(double p) {
    return fmin(fmax(p, BS_ADAPT_PRIOR_MIN), 1 - BS_ADAPT_PRIOR_MIN);
}

static double logit(double p) { return log(p) - log1p(-p); }

int bs_prior_em(const double *p, int64_t n, double train_prior, double *batch_prior, int *rounds) {
    if (n < 1) return bs_error("prior EM: no rows");
    if (!(train_prior > 0 && train_prior < 1))
        return bs_error("prior EM: training prior %g is not in (0, 1)", train_prior);
    for (int64_t i = 0; i < n; i++)
        if (!(p[i] >= 0 && p[i] <= 1))
            return bs_error("prior EM: probability %g of row %lld is not in [0, 1]", p[i],
                            (long long)i);
    double prior = train_prior;
    int r = 0;
    for (; r < 1000; r++) {
        /* E step: each row's posterior under the current prior; M step: their mean. */
        const double up = prior / train_prior, down = (1 - prior) / (1 - train_prior);
        double sum = 0;
        for (int64_t i = 0; i < n; i++) {
            double pos = up * p[i], neg = down * (1 - p[i]);
            sum += pos + neg > 0 ? pos / (pos + neg) : 0;
        }
        double next = clamp_prior(sum / (double)n);
        int done = fabs(next - prior) < 1e-7;
        prior = next;
        if (done) break;
    }
    *batch_prior = prior;
    if (rounds) *rounds = r + 1;
    return 0;
}

double bs_prior_shift(double train_prior, double batch_prior) {
    return logit(clamp_prior(batch_prior)) - logit(clamp_prior(train_prior));
}

double bs_prior_adjust(double p, double shift) {
    if (p <= 0 || p >= 1) return p; /* certainty stays certain */
    return 1 / (1 + exp(-(logit(p) + shift)));
}

double bs_prior_threshold(double a, double shift) { return a < 0 ? shift / a : 0; }

int bs_coral_diagonal(bs_matrix x, const int64_t *rows, int64_t n, const double *train_mean,
                      const double *train_sd, float *out) {
    assert(bs_matrix_ok(x));
    if (n < 2) return bs_error("CORAL needs at least 2 rows in the batch, not %lld", (long long)n);
    const int64_t w = x.cols;
    double *mean = bs_calloc((size_t)w, sizeof *mean), *sd = bs_calloc((size_t)w, sizeof *sd);
    if (!mean || !sd) {
        free(mean);
        free(sd);
        return -1;
    }
    for (int64_t i = 0; i < n; i++) {
        const float *r = x.data + (rows ? rows[i] : i) * w;
        for (int64_t c = 0; c < w; c++) mean[c] += r[c];
    }
    for (int64_t c = 0; c < w; c++) mean[c] /= (double)n;
    for (int64_t i = 0; i < n; i++) {
        const float *r = x.data + (rows ? rows[i] : i) * w;
        for (int64_t c = 0; c < w; c++) sd[c] += (r[c] - mean[c]) * (r[c] - mean[c]);
    }
    for (int64_t c = 0; c < w; c++) sd[c] = sqrt(sd[c] / (double)n);
    for (int64_t i = 0; i < n; i++) {
        const float *r = x.data + (rows ? rows[i] : i) * w;
        float *o = out + i * w;
        for (int64_t c = 0; c < w; c++)
            o[c] = (float)(sd[c] > 1e-12 ? (r[c] - mean[c]) / sd[c] * train_sd[c] + train_mean[c]
                                         : train_mean[c]);
    }
    free(mean);
    free(sd);
    return 0;
}

/* The intercept b of P = 1/(1 + exp(a0·f + b)) that makes Σ P equal Σ target (Platt's smoothed
 * targets): the maximum-likelihood intercept for a fixed slope. Σ P falls as b rises, so
 * bisection finds it. */
static double fit_intercept(const double *f, const int32_t *labels, int64_t n, double a0) {
    int64_t pos = 0;
    for (int64_t i = 0; i < n; i++) pos += labels[i] == 1;
    const double hi_t = (pos + 1.0) / (pos + 2.0), lo_t = 1.0 / ((double)(n - pos) + 2.0);
    const double want = (double)pos * hi_t + (double)(n - pos) * lo_t;
    double fmin_ = f[0], fmax_ = f[0];
    for (int64_t i = 1; i < n; i++) fmin_ = fmin(fmin_, f[i]), fmax_ = fmax(fmax_, f[i]);
    /* Beyond these bounds every P is below want / n or above it. */
    double lo = -fabs(a0) * fmax(fabs(fmin_), fabs(fmax_)) - 40,
           hi = fabs(a0) * fmax(fabs(fmin_), fabs(fmax_)) + 40;
    for (int it = 0; it < 200; it++) {
        double mid = 0.5 * (lo + hi), sum = 0;
        for (int64_t i = 0; i < n; i++) sum += bs_platt(a0, mid, f[i]);
        if (sum > want)
            lo = mid;
        else
            hi = mid;
    }
    return 0.5 * (lo + hi);
}

int bs_recalibrate(const double *decision, const int32_t *labels, int64_t n, double a0, double *a,
                   double *b, double *threshold, int *full) {
    if (n < 1) return bs_error("recalibration needs at least one labelled row");
    if (!(a0 < 0))
        return bs_error("recalibration: the model's sigmoid slope %g is not negative", a0);
    int64_t pos = 0;
    for (int64_t i = 0; i < n; i++) {
        if (labels[i] != 0 && labels[i] != 1)
            return bs_error("recalibration: label %d of row %lld is not 0 or 1", labels[i],
                            (long long)i);
        if (!isfinite(decision[i]))
            return bs_error("recalibration: decision of row %lld is not finite", (long long)i);
        pos += labels[i];
    }
    int made_full = 0;
    if (pos >= BS_RECALIBRATE_MIN_PER_CLASS && n - pos >= BS_RECALIBRATE_MIN_PER_CLASS) {
        double fa, fb;
        if (bs_platt_fit_clipped(decision, labels, n, BS_PLATT_CLIP_K, &fa, &fb)) return -1;
        if (fa < 0) {
            *a = fa, *b = fb;
            made_full = 1;
        }
    }
    if (!made_full) {
        *a = a0;
        *b = fit_intercept(decision, labels, n, a0);
    }
    *threshold = -*b / *a;
    if (full) *full = made_full;
    return 0;
}
