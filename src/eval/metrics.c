/* metrics.c — two-class metrics with 95 % intervals, ROC AUC (average ranks for ties), ROC
 * points, and their JSON form (never NaN: an undefined metric is null and listed by name).
 * The rules are in eval.h and docs/metrics.md. Not for: K-class tables (confusion.c). */
#include "eval/eval.h"

#include <math.h>
#include <stdlib.h>

#include "core/error.h"
#include "core/io.h"
#include "core/json.h"
#include "core/stats.h"

#define Z95 1.959963984540054

static bs_metric undefined(void) { return (bs_metric){NAN, NAN, NAN, 0}; }

static bs_metric proportion(int64_t x, int64_t m) {
    if (m <= 0) return undefined();
    bs_metric r = {(double)x / (double)m, 0, 0, 1};
    bs_wilson95(x, m, &r.lo, &r.hi);
    return r;
}

void bs_metrics_from_counts(int64_t tp, int64_t fn, int64_t tn, int64_t fp, bs_metrics *o) {
    o->tp = tp, o->fn = fn, o->tn = tn, o->fp = fp;
    int64_t n = tp + fn + tn + fp;
    o->sn = proportion(tp, tp + fn);
    o->sp = proportion(tn, tn + fp);
    o->pr = proportion(tp, tp + fp);
    o->ac = proportion(tp + tn, n);
    /* F1 = 2J/(1+J), J = TP/(TP+FP+FN): Wilson on J, mapped (monotone). */
    if (tp + fp + fn > 0) {
        bs_metric j = proportion(tp, tp + fp + fn);
        o->f1 = (bs_metric){2 * j.value / (1 + j.value), 2 * j.lo / (1 + j.lo),
                            2 * j.hi / (1 + j.hi), 1};
    } else
        o->f1 = undefined();
    double a = (double)(tp + fn), b = (double)(tn + fp), c = (double)(tp + fp),
           d = (double)(tn + fn);
    if (a > 0 && b > 0 && c > 0 && d > 0) {
        double mcc = ((double)tp * (double)tn - (double)fp * (double)fn) / sqrt(a * b * c * d);
        o->mcc = (bs_metric){mcc, NAN, NAN, 1};
        if (n > 3) {
            double zz = atanh(fmax(-0.9999999999, fmin(0.9999999999, mcc)));
            double se = 1.0 / sqrt((double)n - 3.0);
            o->mcc.lo = tanh(zz - Z95 * se);
            o->mcc.hi = tanh(zz + Z95 * se);
        }
    } else
        o->mcc = undefined();
    if (o->sn.defined && o->sp.defined)
        o->balanced_accuracy = (bs_metric){(o->sn.value + o->sp.value) / 2,
                                           (o->sn.lo + o->sp.lo) / 2, (o->sn.hi + o->sp.hi) / 2, 1};
    else
        o->balanced_accuracy = undefined();
    o->auc = undefined();
}

typedef struct {
    double v;
    int32_t y;
} scored;

static int cmp_scored(const void *a, const void *b) {
    double x = ((const scored *)a)->v, y = ((const scored *)b)->v;
    return (x > y) - (x < y);
}

/* Sorted copy (ascending decision); NULL on allocation failure or non-finite values. */
static scored *sorted_scores(const int32_t *labels, const double *decision, int64_t n) {
    scored *s = bs_malloc(sizeof *s * (size_t)(n ? n : 1));
    if (!s) return NULL;
    for (int64_t i = 0; i < n; i++) {
        if (!isfinite(decision[i])) {
            free(s);
            bs_error("metrics: decision value of row %lld is not finite", (long long)i);
            return NULL;
        }
        s[i].v = decision[i], s[i].y = labels[i];
    }
    qsort(s, (size_t)n, sizeof *s, cmp_scored);
    return s;
}

double bs_metrics_auc(const int32_t *labels, const double *decision, int64_t n) {
    scored *s = sorted_scores(labels, decision, n);
    if (!s) return NAN;
    double rank_sum = 0.0;
    int64_t np = 0;
    for (int64_t i = 0; i < n;) {
        int64_t j = i;
        while (j < n && s[j].v == s[i].v) j++;
        double avg = 0.5 * (double)(i + 1 + j); /* ranks i+1..j */
        for (int64_t q = i; q < j; q++)
            if (s[q].y == 1) rank_sum += avg, np++;
        i = j;
    }
    free(s);
    int64_t nn = n - np;
    if (np == 0 || nn == 0) return NAN;
    return (rank_sum - (double)np * (double)(np + 1) / 2.0) / ((double)np * (double)nn);
}

int bs_metrics_binary(const int32_t *labels, const int32_t *predicted, const double *decision,
                      int64_t n, bs_metrics *o) {
    int64_t tp = 0, fn = 0, tn = 0, fp = 0;
    for (int64_t i = 0; i < n; i++) {
        if (labels[i] != 0 && labels[i] != 1)
            return bs_error("metrics: row %lld has label %d (two-class metrics need 0/1)",
                            (long long)i, labels[i]);
        int p;
        if (predicted) {
            if (predicted[i] != 0 && predicted[i] != 1)
                return bs_error("metrics: row %lld has predicted label %d", (long long)i,
                                predicted[i]);
            p = predicted[i];
        } else {
            if (!decision) return bs_error("metrics: neither predictions nor decisions given");
            p = decision[i] > 0;
        }
        if (labels[i])
            p ? tp++ : fn++;
        else
            p ? fp++ : tn++;
    }
    bs_metrics_from_counts(tp, fn, tn, fp, o);
    if (decision && tp + fn > 0 && tn + fp > 0) {
        double a = bs_metrics_auc(labels, decision, n);
        if (isnan(a)) return -1; /* non-finite decision: message set */
        /* Hanley & McNeil (1982) */
        double np = (double)(tp + fn), nn = (double)(tn + fp);
        double q1 = a / (2 - a), q2 = 2 * a * a / (1 + a);
        double var = (a * (1 - a) + (np - 1) * (q1 - a * a) + (nn - 1) * (q2 - a * a)) / (np * nn);
        double se = sqrt(fmax(var, 0.0));
        o->auc = (bs_metric){a, fmax(0.0, a - Z95 * se), fmin(1.0, a + Z95 * se), 1};
    }
    return 0;
}

int bs_metrics_roc(const int32_t *labels, const double *decision, int64_t n, bs_roc_point **points,
                   int64_t *n_points) {
    *points = NULL;
    *n_points = 0;
    scored *s = sorted_scores(labels, decision, n);
    if (!s) return -1;
    int64_t np = 0;
    for (int64_t i = 0; i < n; i++) np += labels[i] == 1;
    int64_t nn = n - np;
    bs_roc_point *pt = bs_malloc(sizeof *pt * (size_t)(n + 1));
    if (!pt) {
        free(s);
        return -1;
    }
    int64_t m = 0, tp = 0, fp = 0;
    pt[m++] = (bs_roc_point){INFINITY, 0.0, 0.0};
    /* walk from the largest decision down; ties form one step */
    for (int64_t j = n; j > 0;) {
        int64_t i = j;
        while (i > 0 && s[i - 1].v == s[j - 1].v) i--;
        for (int64_t q = i; q < j; q++) s[q].y == 1 ? tp++ : fp++;
        pt[m++] = (bs_roc_point){s[j - 1].v, nn ? (double)fp / (double)nn : 0.0,
                                 np ? (double)tp / (double)np : 0.0};
        j = i;
    }
    free(s);
    /* The first point's threshold is +inf: JSON writers print it as null (nothing is positive). */
    *points = pt;
    *n_points = m;
    return 0;
}

void bs_metric_write_json(bs_json_writer *w, const char *name, const bs_metric *m) {
    bs_json_begin_object(w, name, BS_JSON_COMPACT);
    bs_json_put_number(w, "value", m->defined ? m->value : NAN);
    bs_json_put_number(w, "lo", m->defined ? m->lo : NAN);
    bs_json_put_number(w, "hi", m->defined ? m->hi : NAN);
    bs_json_end(w);
}

void bs_metric_write_counts(bs_json_writer *w, int64_t tp, int64_t fn, int64_t tn, int64_t fp) {
    bs_json_put_int(w, "tp", tp);
    bs_json_put_int(w, "fn", fn);
    bs_json_put_int(w, "tn", tn);
    bs_json_put_int(w, "fp", fp);
}

void bs_metrics_write_json(bs_json_writer *w, const char *key, const bs_metrics *m) {
    bs_json_begin_object(w, key, BS_JSON_COMPACT);
    bs_metric_write_counts(w, m->tp, m->fn, m->tn, m->fp);
    const char *names[] = {"sn", "sp", "pr", "ac", "f1", "mcc", "balanced_accuracy", "auc"};
    const bs_metric *v[] = {&m->sn, &m->sp, &m->pr, &m->ac, &m->f1, &m->mcc, &m->balanced_accuracy,
                            &m->auc};
    for (int i = 0; i < 8; i++) bs_metric_write_json(w, names[i], v[i]);
    bs_metric_write_undefined(w, names, v, 8);
    bs_json_end(w);
}

void bs_metric_write_undefined(bs_json_writer *w, const char *const *names,
                               const bs_metric *const *v, int n) {
    bs_json_begin_array(w, "undefined", BS_JSON_COMPACT);
    for (int i = 0; i < n; i++)
        if (!v[i]->defined) bs_json_put_string(w, NULL, names[i]);
    bs_json_end(w);
}
