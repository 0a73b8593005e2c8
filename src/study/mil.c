/* mil.c — mi-SVM in the study's folds (study.h, bs_study_options.mil_rounds): what each fold's
 * relabelling did, gathered per experiment; per row, how often the folds that trained on it in
 * a positive bag ended it positive; the count of label-1 images kept positive or relabelled
 * negative everywhere; under an MPI job, the owners' records summed onto every rank.
 * Not for: the relabelling itself (fit/mil.c) or writing it out (report/). */
#include <stdlib.h>
#include <string.h>

#include "core/dist.h"
#include "core/error.h"
#include "core/io.h"
#include "core/log.h"
#include "study_internal.h"

int bs_study_mil_alloc(const bs_study *s, bs_experiment *x) {
    if (!s->mil_rounds) return 0;
    x->mil = bs_calloc((size_t)s->folds, sizeof *x->mil);
    x->mil_bagged = bs_calloc(s->n ? s->n : 1, sizeof *x->mil_bagged);
    x->mil_positive = bs_calloc(s->n ? s->n : 1, sizeof *x->mil_positive);
    return x->mil && x->mil_bagged && x->mil_positive ? 0 : -1;
}

void bs_study_mil_free(bs_experiment *x) {
    free(x->mil);
    free(x->mil_bagged);
    free(x->mil_positive);
}

void bs_study_mil_record(const bs_study *s, bs_experiment *x, int f, const int64_t *train,
                         int64_t ntrain, const bs_fitted *fit) {
    if (!s->mil_rounds) return;
    x->mil[f] = fit->mil;
    for (int64_t i = 0; i < ntrain; i++) {
        if (s->labels[train[i]] != 1) continue;
        x->mil_bagged[train[i]]++;
        x->mil_positive[train[i]] += fit->mil_labels[i];
    }
}

/* Every field of fold f's record as doubles (counts far below 2^53: exact). */
enum { MIL_FIELDS = 10 };
static void mil_to(const bs_fit_mil *m, double *d) {
    const double v[MIL_FIELDS] = {
        m->rounds,          m->max_rounds,        m->converged,         (double)m->changed_last,
        (double)m->bags,    (double)m->instances, (double)m->positives, (double)m->bag_min,
        (double)m->bag_max, m->bag_median};
    memcpy(d, v, sizeof v);
}
static void mil_from(const double *d, bs_fit_mil *m) {
    *m = (bs_fit_mil){(int)d[0],     (int)d[1],     (int)d[2],     (int64_t)d[3], (int64_t)d[4],
                      (int64_t)d[5], (int64_t)d[6], (int64_t)d[7], (int64_t)d[8], d[9]};
}

int bs_study_mil_share(bs_study *s) {
    if (!s->mil_rounds || bs_dist_size() <= 1) return 0;
    const size_t k = (size_t)s->folds, len = 2 * s->n + k * MIL_FIELDS;
    double *buf = bs_malloc(sizeof(double) * len);
    if (!buf) return -1;
    for (size_t e = 0; e < s->nexperiments; e++) {
        bs_experiment *x = &s->experiments[e];
        for (size_t r = 0; r < s->n; r++)
            buf[r] = x->mil_bagged[r], buf[s->n + r] = x->mil_positive[r];
        for (size_t f = 0; f < k; f++) mil_to(&x->mil[f], buf + 2 * s->n + f * MIL_FIELDS);
        bs_dist_sum_d(buf, len); /* each fold is one rank's: the others add zeros */
        for (size_t r = 0; r < s->n; r++)
            x->mil_bagged[r] = (int32_t)buf[r], x->mil_positive[r] = (int32_t)buf[s->n + r];
        for (size_t f = 0; f < k; f++) mil_from(buf + 2 * s->n + f * MIL_FIELDS, &x->mil[f]);
    }
    free(buf);
    return 0;
}

void bs_study_mil_count(const bs_study *s, bs_experiment *x, const bs_feature_index *idx) {
    memset(x->mil_images, 0, sizeof x->mil_images);
    for (size_t r = 0; s->mil_rounds && r < s->n; r++) {
        if (idx->rows[r].view != BS_VIEW_ORIGINAL || !x->mil_bagged[r]) continue;
        int c = x->mil_positive[r] == x->mil_bagged[r] ? 0 : x->mil_positive[r] == 0 ? 1 : 2;
        x->mil_images[c]++;
    }
}

void bs_study_mil_log(const bs_study *s, const bs_experiment *x) {
    if (!s->mil_rounds) return;
    int converged = 0, lo = 0, hi = 0;
    for (int f = 0; f < s->folds; f++) {
        converged += x->mil[f].converged;
        if (f == 0 || x->mil[f].rounds < lo) lo = x->mil[f].rounds;
        if (f == 0 || x->mil[f].rounds > hi) hi = x->mil[f].rounds;
    }
    const int64_t *c = x->mil_images;
    bs_log("  %-22s mi-SVM: %d of %d folds converged (%d-%d rounds); ALL-group images positive "
           "in every fold %lld, negative in every fold %lld, mixed %lld",
           x->name, converged, s->folds, lo, hi, (long long)c[0], (long long)c[1], (long long)c[2]);
}
