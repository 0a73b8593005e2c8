/* calibration.c — Platt scaling, Brier score, reliability bins, ECE and accuracy–coverage
 * (see calibration.h). Not for: deciding which rows a sigmoid is fitted on. */
#include "calibration.h"

#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/io.h"
#include "core/json.h"
#include "core/stats.h"

double bs_platt(double a, double b, double f) {
    double t = a * f + b; /* P = 1/(1 + e^t), written so e^x never overflows */
    return t >= 0 ? exp(-t) / (1.0 + exp(-t)) : 1.0 / (1.0 + exp(t));
}

/* −log-likelihood term of one row with target t at fApB = A·f + B, overflow-free. */
static double platt_term(double t, double fApB) {
    return fApB >= 0 ? t * fApB + log1p(exp(-fApB)) : (t - 1) * fApB + log1p(exp(fApB));
}

static double platt_objective(const double *dec, const int32_t *labels, int64_t n, double hi,
                              double lo, double A, double B) {
    double f = 0;
    for (int64_t i = 0; i < n; i++) f += platt_term(labels[i] > 0 ? hi : lo, dec[i] * A + B);
    return f;
}

/* Platt (1999) with the Newton method and backtracking of Lin, Lin & Weng (2007), as in
 * libsvm's sigmoid_train: targets (N+ + 1)/(N+ + 2) and 1/(N− + 2). */
int bs_platt_fit(const double *dec, const int32_t *labels, int64_t n, double *a, double *b) {
    double prior1 = 0, prior0 = 0;
    for (int64_t i = 0; i < n; i++) {
        if (!isfinite(dec[i]))
            return bs_error("calibration: non-finite decision value at row %lld", (long long)i);
        if (labels[i] > 0)
            prior1++;
        else
            prior0++;
    }
    if (prior1 == 0 || prior0 == 0) return bs_error("calibration needs both classes");
    const double hi = (prior1 + 1) / (prior1 + 2), lo = 1 / (prior0 + 2), sigma = 1e-12, eps = 1e-5;
    double A = 0, B = log((prior0 + 1) / (prior1 + 1));
    double fval = platt_objective(dec, labels, n, hi, lo, A, B);
    for (int it = 0; it < 100; it++) {
        double h11 = sigma, h22 = sigma, h21 = 0, g1 = 0, g2 = 0;
        for (int64_t i = 0; i < n; i++) {
            double fApB = dec[i] * A + B, p, q;
            if (fApB >= 0) {
                p = exp(-fApB) / (1.0 + exp(-fApB));
                q = 1.0 / (1.0 + exp(-fApB));
            } else {
                p = 1.0 / (1.0 + exp(fApB));
                q = exp(fApB) / (1.0 + exp(fApB));
            }
            double t = labels[i] > 0 ? hi : lo, d2 = p * q, d1 = t - p;
            h11 += dec[i] * dec[i] * d2;
            h22 += d2;
            h21 += dec[i] * d2;
            g1 += dec[i] * d1;
            g2 += d1;
        }
        if (fabs(g1) < eps && fabs(g2) < eps) break;
        double det = h11 * h22 - h21 * h21;
        double dA = -(h22 * g1 - h21 * g2) / det, dB = -(-h21 * g1 + h11 * g2) / det,
               gd = g1 * dA + g2 * dB;
        double step = 1;
        while (step >= 1e-10) {
            double nA = A + step * dA, nB = B + step * dB;
            double nf = platt_objective(dec, labels, n, hi, lo, nA, nB);
            if (nf < fval + 1e-4 * step * gd) {
                A = nA;
                B = nB;
                fval = nf;
                break;
            }
            step /= 2;
        }
        if (step < 1e-10) break; /* line search failed: keep the best point found */
    }
    *a = A;
    *b = B;
    return 0;
}

int bs_platt_fit_clipped(const double *dec, const int32_t *labels, int64_t n, double k, double *a,
                         double *b) {
    if (n < 1) return bs_error("calibration needs both classes");
    double *c = bs_malloc(sizeof *c * (size_t)n), *s = bs_malloc(sizeof *s * (size_t)n);
    if (!c || !s) {
        free(c), free(s);
        return -1;
    }
    memcpy(s, dec, sizeof *s * (size_t)n);
    qsort(s, (size_t)n, sizeof *s, bs_cmp_double);
    double q25 = bs_quantile_sorted(s, n, 0.25), q75 = bs_quantile_sorted(s, n, 0.75),
           iqr = q75 - q25;
    double lo = q25 - k * iqr, hi = q75 + k * iqr;
    for (int64_t i = 0; i < n; i++)
        c[i] = !(iqr > 0) ? dec[i] : dec[i] < lo ? lo : dec[i] > hi ? hi : dec[i];
    int rc = bs_platt_fit(c, labels, n, a, b);
    free(c);
    free(s);
    return rc;
}

double bs_brier(const double *p, const int32_t *labels, int64_t n) {
    if (n <= 0) return NAN;
    double s = 0;
    for (int64_t i = 0; i < n; i++) {
        double d = p[i] - (labels[i] > 0 ? 1.0 : 0.0);
        s += d * d;
    }
    return s / (double)n;
}

int bs_reliability(const double *p, const int32_t *labels, int64_t n, int nbins,
                   bs_reliability_bin *bins) {
    if (nbins < 1) return bs_error("reliability: %d bins", nbins);
    for (int b = 0; b < nbins; b++)
        bins[b] = (bs_reliability_bin){(double)b / nbins, (double)(b + 1) / nbins, 0, 0, 0};
    for (int64_t i = 0; i < n; i++) {
        if (!(p[i] >= 0 && p[i] <= 1))
            return bs_error("reliability: probability %g at row %lld", p[i], (long long)i);
        int b = (int)(p[i] * nbins);
        if (b >= nbins) b = nbins - 1; /* p = 1 belongs to the last bin */
        bins[b].n++;
        bins[b].mean_probability += p[i];
        bins[b].fraction_positive += labels[i] > 0;
    }
    for (int b = 0; b < nbins; b++) { /* the sums become means */
        if (bins[b].n == 0) {
            bins[b].mean_probability = bins[b].fraction_positive = NAN;
            continue;
        }
        bins[b].mean_probability /= (double)bins[b].n;
        bins[b].fraction_positive /= (double)bins[b].n;
    }
    return 0;
}

double bs_ece(const bs_reliability_bin *bins, int nbins) {
    int64_t total = 0;
    double s = 0;
    for (int b = 0; b < nbins; b++) {
        if (bins[b].n == 0) continue;
        total += bins[b].n;
        s += (double)bins[b].n * fabs(bins[b].mean_probability - bins[b].fraction_positive);
    }
    return total ? s / (double)total : NAN;
}

int bs_coverage(const double *p, const int32_t *labels, const int32_t *predicted, int64_t n,
                double abstain, bs_coverage_point *out) {
    if (!(abstain > 0 && abstain < 0.5))
        return bs_error("abstention threshold %g outside (0, 0.5)", abstain);
    int64_t aside = 0, right = 0;
    for (int64_t i = 0; i < n; i++) {
        if (isnan(p[i])) return bs_error("coverage: no probability at row %lld", (long long)i);
        if (p[i] >= abstain && p[i] <= 1 - abstain)
            aside++;
        else
            right += predicted[i] == labels[i];
    }
    int64_t kept = n - aside;
    *out = (bs_coverage_point){abstain, aside, kept, n ? (double)kept / (double)n : NAN,
                               kept ? (double)right / (double)kept : NAN};
    return 0;
}

int bs_calibration_compute(const double *p, const int32_t *labels, const int32_t *predicted,
                           int64_t n, bs_calibration *out) {
    out->n = n;
    out->brier = bs_brier(p, labels, n);
    if (bs_reliability(p, labels, n, BS_CALIBRATION_BINS, out->bins)) return -1;
    out->ece = bs_ece(out->bins, BS_CALIBRATION_BINS);
    for (int k = 0; k < BS_CALIBRATION_COVERAGE; k++)
        if (bs_coverage(p, labels, predicted, n, (k + 1) / 20.0, &out->coverage[k])) return -1;
    return 0;
}

/* The bins and the coverage points are both arrays of one-line objects holding numbers and one
 * count, so one loop writes either from a table of its members. */
typedef struct row_member {
    const char *key;
    size_t offset;
    int count; /* an int64_t count, else a double */
} row_member;

#define BIN(field, count)                                                                          \
    { #field, offsetof(bs_reliability_bin, field), count }
static const row_member bin_members[] = {BIN(lo, 0), BIN(hi, 0), BIN(n, 1),
                                         BIN(mean_probability, 0), BIN(fraction_positive, 0)};
#define POINT(field, count)                                                                        \
    { #field, offsetof(bs_coverage_point, field), count }
static const row_member point_members[] = {POINT(abstain, 0), POINT(set_aside, 1),
                                           POINT(coverage, 0), POINT(accuracy, 0)};

static void write_rows(bs_json_writer *w, const char *key, const void *rows, int nrows,
                       size_t row_size, const row_member *members, size_t nmembers) {
    bs_json_begin_array(w, key, BS_JSON_INLINE);
    for (int r = 0; r < nrows; r++) {
        const char *row = (const char *)rows + (size_t)r * row_size;
        bs_json_begin_object(w, NULL, BS_JSON_INLINE);
        for (const row_member *m = members; m < members + nmembers; m++) {
            const char *at = row + m->offset; /* a field of the row's own struct type */
            if (m->count)
                bs_json_put_int(w, m->key, *(const int64_t *)at);
            else
                bs_json_put_number(w, m->key, *(const double *)at);
        }
        bs_json_end(w);
    }
    bs_json_end(w);
}

void bs_calibration_write_json(bs_json_writer *w, const char *key, const bs_calibration *c) {
    bs_json_begin_object(w, key, BS_JSON_INLINE);
    bs_json_put_int(w, "n", c->n);
    bs_json_put_number(w, "brier", c->brier);
    bs_json_put_number(w, "ece", c->ece);
    write_rows(w, "bins", c->bins, BS_CALIBRATION_BINS, sizeof c->bins[0], bin_members,
               sizeof bin_members / sizeof bin_members[0]);
    write_rows(w, "coverage", c->coverage, BS_CALIBRATION_COVERAGE, sizeof c->coverage[0],
               point_members, sizeof point_members / sizeof point_members[0]);
    bs_json_end(w);
}
