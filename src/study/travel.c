/* travel.c — leave one source out (`--protocol source`, study.h): the test units, what each
 * unit's model does beyond its test decisions (its sigmoid and prior, diagonal CORAL on its
 * held-out batch, the calls on stain-transferred rows), and the per-source tables built from them
 * (bs_travel: cells, fields, adaptations, the stain-shortcut tests).
 * Not for: fitting (fit.h, called by study.c's folds) or writing files (report/evidence.c). */
#define _GNU_SOURCE
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/io.h"
#include "core/log.h"
#include "core/rng.h"
#include "eval/adapt.h"
#include "eval/calibration.h"
#include "study_internal.h"

/* ---- the units ----------------------------------------------------------------------------- */

/* Can source k be held out whole: do the other sources hold both labels? */
static int holdable(const bs_study *s, const bs_feature_index *idx, int k) {
    int has[2] = {0, 0};
    for (size_t r = 0; r < s->n; r++)
        if (idx->rows[r].source != k) has[s->labels[r] == 1] = 1;
    return has[0] && has[1];
}

/* Deal source k's rows into k_inner grouped folds, numbered from *next. */
static int split_source(bs_study *s, const bs_feature_index *idx, int k, int k_inner, uint64_t seed,
                        int *next) {
    int64_t m = 0;
    int64_t *rows = bs_calloc(s->n, sizeof *rows), *grp = bs_calloc(s->n, sizeof *grp);
    int32_t *lab = bs_calloc(s->n, sizeof *lab), *fold = bs_calloc(s->n, sizeof *fold);
    int rc = rows && grp && lab && fold ? 0 : -1;
    for (size_t r = 0; r < s->n && rc == 0; r++)
        if (idx->rows[r].source == k)
            rows[m] = (int64_t)r, grp[m] = s->group_id[r], lab[m] = s->labels[r], m++;
    bs_rng rng;
    bs_rng_seed(&rng, seed);
    if (rc == 0) rc = bs_folds_grouped(lab, grp, m, k_inner, &rng, fold);
    if (rc)
        bs_error_prefix("source %s, tested within by %d grouped folds: ", idx->source_names[k],
                        k_inner);
    for (int64_t i = 0; i < m && rc == 0; i++) s->fold[rows[i]] = *next + fold[i];
    for (int f = 0; f < k_inner && rc == 0; f++) s->unit_source[*next + f] = k;
    *next += k_inner;
    free(rows), free(grp), free(lab), free(fold);
    return rc;
}

int bs_study_source_units(bs_study *s, const bs_feature_index *idx, const bs_study_options *opt,
                          uint64_t seed) {
    if (s->task != BS_TASK_BINARY) return bs_error("--protocol source needs --task binary");
    const int k = (int)idx->nsources;
    if (k < 2)
        return bs_error("--protocol source needs at least 2 sources; the index has one (give "
                        "each row a source: a manifest's source column, sources.csv, or one "
                        "--data per source)");
    s->nsources = k;
    s->source_within = bs_calloc((size_t)k, sizeof *s->source_within);
    s->unit_source = bs_calloc((size_t)k * (size_t)opt->folds, sizeof *s->unit_source);
    s->original = bs_calloc(s->n ? s->n : 1, 1);
    if (!s->source_within || !s->unit_source || !s->original) return -1;
    for (size_t r = 0; r < s->n; r++) s->original[r] = idx->rows[r].view == BS_VIEW_ORIGINAL;
    int next = 0, rc = 0;
    for (int j = 0; j < k && rc == 0; j++) {
        if (holdable(s, idx, j)) {
            for (size_t r = 0; r < s->n; r++)
                if (idx->rows[r].source == j) s->fold[r] = next;
            s->unit_source[next++] = j;
            continue;
        }
        s->source_within[j] = 1;
        rc = split_source(s, idx, j, opt->folds, bs_rng_derive_at(seed, 1, (uint64_t)j, 0), &next);
    }
    s->folds = next;
    s->inner_folds = opt->folds;
    s->min_probability = opt->min_probability;
    static const int default_k[] = {10, 25, 50};
    const int *ks = opt->adapt_given ? opt->recalibrate : default_k;
    s->nrecalibrate = opt->adapt_given ? opt->nrecalibrate : 3;
    s->adapt_prior = opt->adapt_given ? opt->adapt_prior : 1;
    s->adapt_coral = opt->adapt_given ? opt->adapt_coral : 1;
    s->recalibrate = bs_calloc(s->nrecalibrate + 1, sizeof *s->recalibrate);
    if (rc == 0 && !s->recalibrate) rc = -1;
    for (size_t i = 0; i < s->nrecalibrate && rc == 0; i++) s->recalibrate[i] = ks[i];
    return rc;
}

/* ---- what a unit's model does beyond its test decisions ------------------------------------ */

/* Decisions of the SVM on rows[0..n) of x after diagonal CORAL of those rows onto the SVM's
 * training statistics (its standardisation). */
static int coral_decisions(const bs_svm *svm, bs_matrix x, const int64_t *rows, int64_t n,
                           double *dec) {
    bs_svm_parts parts;
    bs_svm_get_parts(svm, &parts);
    bs_matrix_mut aligned;
    int64_t *iota = bs_calloc((size_t)n, sizeof *iota);
    if (!iota || bs_matrix_alloc(n, x.cols, &aligned)) {
        free(iota);
        return -1;
    }
    for (int64_t i = 0; i < n; i++) iota[i] = i;
    int rc = bs_coral_diagonal(x, rows, n, parts.mean, parts.scale, aligned.data);
    if (rc == 0) rc = bs_svm_predict(svm, bs_matrix_view(aligned), iota, n, dec, NULL);
    free(aligned.data);
    free(iota);
    return rc;
}

/* The stain-transfer rows of unit f's original rows through the unit's model (its encoder when
 * it has one, then its SVM). */
static int transfer_calls(bs_study *s, bs_experiment *ex, int f, const bs_fitted *fit,
                          bs_matrix xt) {
    int64_t m = 0, *rows = bs_calloc(s->ntransfer ? s->ntransfer : 1, sizeof *rows);
    if (!rows) return -1;
    for (size_t t = 0; t < s->ntransfer; t++)
        if (s->fold[s->transfer_row[t]] == f) rows[m++] = (int64_t)t;
    double *dec = bs_calloc((size_t)(m ? m : 1), sizeof *dec);
    int32_t *pred = bs_calloc((size_t)(m ? m : 1), sizeof *pred);
    bs_matrix_mut latent = {NULL, 0, 0};
    int rc = dec && pred ? 0 : -1;
    if (rc == 0 && m && fit->ae) {
        rc = bs_matrix_alloc(m, bs_sae_hidden(fit->ae), &latent);
        if (rc == 0) rc = bs_sae_encode(fit->ae, xt, rows, m, latent);
    }
    if (rc == 0 && m && fit->ae) { /* the latent rows are 0..m-1: reuse rows as their list */
        for (int64_t i = 0; i < m; i++) pred[i] = (int32_t)rows[i];
        for (int64_t i = 0; i < m; i++) rows[i] = i;
        rc = bs_svm_predict(fit->svm, bs_matrix_view(latent), rows, m, dec, NULL);
        for (int64_t i = 0; i < m; i++) rows[i] = pred[i], pred[i] = dec[i] > 0;
    } else if (rc == 0 && m) {
        rc = bs_svm_predict(fit->svm, xt, rows, m, dec, pred);
    }
    for (int64_t i = 0; i < m && rc == 0; i++) {
        ex->transfer_decision[rows[i]] = dec[i];
        ex->transfer_predicted[rows[i]] = pred[i];
    }
    free(latent.data), free(rows), free(dec), free(pred);
    return rc;
}

static int alloc_travel_rows(const bs_study *s, bs_experiment *ex) {
    if (ex->unit_platt) return 0;
    ex->unit_platt = bs_calloc(2 * (size_t)s->folds, sizeof *ex->unit_platt);
    ex->unit_prior = bs_calloc((size_t)s->folds, sizeof *ex->unit_prior);
    ex->coral_decision = bs_malloc(sizeof *ex->coral_decision * (s->n ? s->n : 1));
    ex->transfer_decision = bs_calloc(s->ntransfer + 1, sizeof *ex->transfer_decision);
    ex->transfer_predicted = bs_calloc(s->ntransfer + 1, sizeof *ex->transfer_predicted);
    if (!ex->unit_platt || !ex->unit_prior || !ex->coral_decision || !ex->transfer_decision ||
        !ex->transfer_predicted)
        return -1;
    for (size_t r = 0; r < s->n; r++) ex->coral_decision[r] = NAN;
    for (size_t t = 0; t < s->ntransfer; t++) ex->transfer_decision[t] = NAN;
    return 0;
}

int bs_study_travel_fold(bs_study *s, size_t e, int f, const bs_fitted *fit, const int64_t *train,
                         int64_t ntrain, bs_matrix xt) {
    bs_experiment *ex = &s->experiments[e];
    if (alloc_travel_rows(s, ex)) return -1;
    ex->unit_platt[2 * f] = fit->platt_a;
    ex->unit_platt[2 * f + 1] = fit->platt_b;
    int64_t pos = 0;
    for (int64_t i = 0; i < ntrain; i++) pos += s->labels[train[i]] == 1;
    ex->unit_prior[f] = ntrain ? (double)pos / (double)ntrain : NAN;
    int64_t m = 0, *orig = bs_calloc(s->n, sizeof *orig);
    if (!orig) return -1;
    for (size_t r = 0; r < s->n; r++)
        if (s->fold[r] == f && s->original[r]) orig[m++] = (int64_t)r;
    double *dec = bs_calloc((size_t)(m ? m : 1), sizeof *dec);
    int rc = dec ? 0 : -1;
    if (rc == 0 && m >= 2 && s->adapt_coral)
        rc = coral_decisions(fit->svm, fit->features, orig, m, dec);
    for (int64_t i = 0; i < m && m >= 2 && rc == 0; i++) ex->coral_decision[orig[i]] = dec[i];
    free(orig), free(dec);
    if (rc == 0 && s->ntransfer) rc = transfer_calls(s, ex, f, fit, xt);
    return rc;
}

/* ---- the tables ---------------------------------------------------------------------------- */

/* A held-out row as one method reads it: its decision against the method's threshold (> 0:
 * positive) and its probability; `draw` keeps the k-label draws' fields apart. */
typedef struct {
    int64_t row, group;
    int draw;
    double decision, probability;
} read_row;

typedef struct {
    read_row *v;
    int64_t m;
} read_rows;

typedef enum { M_NONE, M_PRIOR, M_CORAL, M_LABELS } method_kind;

static int cmp_field(const void *a, const void *b) {
    const read_row *x = a, *y = b;
    if (x->draw != y->draw) return x->draw - y->draw;
    if (x->group != y->group) return x->group < y->group ? -1 : 1;
    return (x->row > y->row) - (x->row < y->row);
}

static void push(read_rows *rr, const bs_study *s, int64_t r, int draw, double d, double p) {
    rr->v[rr->m++] = (read_row){r, s->group_id[r], draw, d, p};
}

/* The original rows of unit f, in row order: *m of them into rows (s->n capacity). */
static int64_t unit_rows(const bs_study *s, int f, int64_t *rows) {
    int64_t m = 0;
    for (size_t r = 0; r < s->n; r++)
        if (s->fold[r] == f && s->original[r]) rows[m++] = (int64_t)r;
    return m;
}

/* Unit f as it is, adapted by prior EM, or by diagonal CORAL. */
static int read_unit(const bs_study *s, const bs_experiment *x, int f, method_kind kind,
                     const int64_t *rows, int64_t m, double *p, read_rows *rr) {
    const double a = x->unit_platt[2 * f], b = x->unit_platt[2 * f + 1];
    double shift = 0, threshold = 0;
    for (int64_t i = 0; i < m; i++) p[i] = bs_platt(a, b, x->decision[rows[i]]);
    if (kind == M_PRIOR) {
        double prior;
        if (bs_prior_em(p, m, x->unit_prior[f], &prior, NULL)) return -1;
        shift = bs_prior_shift(x->unit_prior[f], prior);
        threshold = bs_prior_threshold(a, shift);
    }
    for (int64_t i = 0; i < m; i++) {
        int64_t r = rows[i];
        if (kind == M_CORAL)
            push(rr, s, r, 0, x->coral_decision[r], bs_platt(a, b, x->coral_decision[r]));
        else
            push(rr, s, r, 0, x->decision[r] - threshold, bs_prior_adjust(p[i], shift));
    }
    return 0;
}

/* Unit f recalibrated on k of its rows, BS_TRAVEL_DRAWS times, each read on the others. */
static int read_unit_labelled(const bs_study *s, const bs_experiment *x, size_t e, int f, int k,
                              int64_t *rows, int64_t m, double *dec, int32_t *lab, read_rows *rr) {
    if (m <= k || !(x->unit_platt[2 * f] < 0)) return 0; /* too few, or no usable slope */
    for (int draw = 0; draw < BS_TRAVEL_DRAWS; draw++) {
        bs_rng rng;
        bs_rng_seed(&rng, bs_rng_derive_at(s->seed, SEED_RECALIBRATION, e,
                                           (uint64_t)f * 1024 + (uint64_t)k * 8 + (uint64_t)draw));
        size_t *order = bs_calloc((size_t)m, sizeof *order);
        if (!order) return -1;
        for (int64_t i = 0; i < m; i++) order[i] = (size_t)i;
        bs_rng_shuffle(&rng, order, (size_t)m);
        for (int i = 0; i < k; i++)
            dec[i] = x->decision[rows[order[i]]], lab[i] = s->labels[rows[order[i]]];
        double a, b, t;
        int rc = bs_recalibrate(dec, lab, k, x->unit_platt[2 * f], &a, &b, &t, NULL);
        for (int64_t i = k; i < m && rc == 0; i++) {
            int64_t r = rows[order[i]];
            push(rr, s, r, draw, x->decision[r] - t, bs_platt(a, b, x->decision[r]));
        }
        free(order);
        if (rc) return rc;
    }
    return 0;
}

/* Cells and fields of the rows one method read on one source. */
static int score_source(const bs_study *s, read_rows *rr, bs_travel_source *out) {
    const int64_t m = rr->m;
    int32_t *lab = bs_calloc((size_t)m + 1, sizeof *lab),
            *pred = bs_calloc((size_t)m + 1, sizeof *pred);
    double *score = bs_calloc((size_t)m + 1, sizeof *score);
    int rc = lab && pred && score ? 0 : -1;
    for (int64_t i = 0; i < m && rc == 0; i++) {
        lab[i] = s->labels[rr->v[i].row];
        pred[i] = rr->v[i].decision > 0;
        score[i] = rr->v[i].decision;
    }
    if (rc == 0) rc = bs_metrics_binary(lab, pred, score, m, &out->cells);
    if (rc == 0) qsort(rr->v, (size_t)m, sizeof *rr->v, cmp_field);
    int64_t g = 0;
    for (int64_t i = 0, j; i < m && rc == 0; i = j, g++) { /* v[i..j) is one field of one draw */
        int64_t n = 0, pos = 0;
        int called = 0;
        double top = 0;
        for (j = i; j < m && rr->v[j].draw == rr->v[i].draw && rr->v[j].group == rr->v[i].group;
             j++) {
            n++;
            pos += s->labels[rr->v[j].row] == 1;
            called |= rr->v[j].decision > 0 && rr->v[j].probability >= s->min_probability;
            if (rr->v[j].probability > top) top = rr->v[j].probability;
        }
        lab[g] = 2 * pos >= n; /* a tie counts as ALL */
        pred[g] = called;
        score[g] = top;
        out->fields_called += called;
    }
    out->fields = g;
    if (rc == 0) rc = bs_metrics_binary(lab, pred, score, g, &out->field_calls);
    out->defined = rc == 0 && m > 0;
    free(lab), free(pred), free(score);
    return rc;
}

/* Method `kind` (k labelled cells for M_LABELS) on every source. */
static int run_method(const bs_study *s, const bs_experiment *x, size_t e, method_kind kind, int k,
                      bs_travel_method *out) {
    out->sources = bs_calloc((size_t)s->nsources, sizeof *out->sources);
    read_rows rr = {bs_calloc(s->n * BS_TRAVEL_DRAWS + 1, sizeof *rr.v), 0};
    int64_t *rows = bs_calloc(s->n + 1, sizeof *rows);
    double *work = bs_calloc(s->n + 1, sizeof *work);
    int32_t *lab = bs_calloc(s->n + 1, sizeof *lab);
    int rc = out->sources && rr.v && rows && work && lab ? 0 : -1;
    for (int j = 0; j < s->nsources && rc == 0; j++) {
        rr.m = 0;
        for (int f = 0; f < s->folds && rc == 0; f++) {
            if (s->unit_source[f] != j) continue;
            int64_t m = unit_rows(s, f, rows);
            if (kind == M_LABELS)
                rc = read_unit_labelled(s, x, e, f, k, rows, m, work, lab, &rr);
            else if (m > 0 && !(kind == M_CORAL && m < 2))
                rc = read_unit(s, x, f, kind, rows, m, work, &rr);
        }
        if (rc == 0 && rr.m > 0) rc = score_source(s, &rr, &out->sources[j]);
    }
    free(rr.v), free(rows), free(work), free(lab);
    return rc;
}

/* Calls kept by the stain-transfer rows, per (source, target) pair in order of first
 * appearance. */
static int stain_transfers(const bs_study *s, const bs_experiment *x, const bs_feature_index *idx,
                           bs_travel *t) {
    const size_t npairs = (size_t)s->nsources * (size_t)s->nsources;
    int *slot = bs_calloc(npairs, sizeof *slot);
    t->transfers = bs_calloc(npairs, sizeof *t->transfers);
    if (!slot || !t->transfers) {
        free(slot);
        return -1;
    }
    for (size_t i = 0; i < s->ntransfer; i++) {
        const int64_t r = s->transfer_row[i];
        const int from = idx->rows[r].source, to = s->transfer_target[i];
        int *sl = &slot[(size_t)from * (size_t)s->nsources + (size_t)to];
        if (!*sl) {
            t->transfers[t->ntransfers] = (bs_travel_transfer){from, to, 0, 0, 0, 0};
            *sl = (int)++t->ntransfers;
        }
        bs_travel_transfer *p = &t->transfers[*sl - 1];
        p->n++;
        p->kept += x->transfer_predicted[i] == x->predicted[r];
        p->positive_before += x->predicted[r] == 1;
        p->positive_after += x->transfer_predicted[i] == 1;
    }
    for (size_t i = 0; i < t->ntransfers; i++)
        if ((double)t->transfers[i].kept < BS_TRAVEL_KEPT_MIN * (double)t->transfers[i].n)
            t->transfer_warning = 1;
    free(slot);
    return 0;
}

/* Non-blast cells called blasts: in the sources tested within, against the sources held out. */
static void benign_rates(const bs_study *s, const bs_experiment *x, const bs_feature_index *idx,
                         bs_travel *t) {
    for (size_t r = 0; r < s->n; r++) {
        if (!s->original[r] || s->labels[r] != 0) continue;
        if (s->source_within[idx->rows[r].source])
            t->within_negatives++, t->within_called += x->predicted[r] == 1;
        else
            t->heldout_negatives++, t->heldout_called += x->predicted[r] == 1;
    }
    t->benign_warning = t->within_negatives > 0 && t->heldout_negatives > 0 &&
                        (double)t->within_called * (double)t->heldout_negatives >
                            (double)t->heldout_called * (double)t->within_negatives;
}

static void warn_travel(const bs_study *s, const bs_experiment *x) {
    const bs_travel *t = x->travel;
    for (size_t i = 0; i < t->ntransfers; i++) {
        const bs_travel_transfer *p = &t->transfers[i];
        if ((double)p->kept < BS_TRAVEL_KEPT_MIN * (double)p->n)
            bs_warn("stain shortcut (%s): cells of %s recoloured to %s's colours keep only %.1f %% "
                    "of their calls (%lld of %lld; blasts called %lld before, %lld after)",
                    x->name, s->source_names[p->from], s->source_names[p->to],
                    100.0 * (double)p->kept / (double)p->n, (long long)p->kept, (long long)p->n,
                    (long long)p->positive_before, (long long)p->positive_after);
    }
    if (t->benign_warning)
        bs_warn("stain shortcut (%s): non-blast cells of the sources tested within are called "
                "blasts more often (%.1f %%, %lld of %lld) than those of the sources held out "
                "(%.1f %%, %lld of %lld)",
                x->name, 100.0 * (double)t->within_called / (double)t->within_negatives,
                (long long)t->within_called, (long long)t->within_negatives,
                100.0 * (double)t->heldout_called / (double)t->heldout_negatives,
                (long long)t->heldout_called, (long long)t->heldout_negatives);
}

static int travel_experiment(const bs_study *s, bs_experiment *x, size_t e,
                             const bs_feature_index *idx) {
    bs_travel *t = x->travel = bs_calloc(1, sizeof *x->travel);
    if (!t || !(t->methods = bs_calloc(3 + s->nrecalibrate, sizeof *t->methods))) return -1;
    static const char *const names[] = {"none", "prior", "coral"};
    const int wanted[] = {1, s->adapt_prior, s->adapt_coral};
    int rc = 0;
    for (int k = 0; k < 3 && rc == 0; k++) {
        if (!wanted[k]) continue;
        bs_travel_method *m = &t->methods[t->nmethods++];
        snprintf(m->name, sizeof m->name, "%s", names[k]);
        rc = run_method(s, x, e, (method_kind)k, 0, m);
    }
    for (size_t i = 0; i < s->nrecalibrate && rc == 0; i++, t->nmethods++) {
        bs_travel_method *m = &t->methods[t->nmethods];
        snprintf(m->name, sizeof m->name, "k=%d", s->recalibrate[i]);
        rc = run_method(s, x, e, M_LABELS, s->recalibrate[i], m);
    }
    if (rc == 0) rc = stain_transfers(s, x, idx, t);
    if (rc == 0) benign_rates(s, x, idx, t);
    return rc;
}

int bs_study_travel(bs_study *s, const bs_feature_index *idx) {
    if (s->protocol != BS_PROTOCOL_SOURCE) return 0;
    int rc = 0;
    for (size_t e = 0; e < s->nexperiments && rc == 0; e++) {
        rc = travel_experiment(s, &s->experiments[e], e, idx);
        if (rc == 0) warn_travel(s, &s->experiments[e]);
    }
    return rc;
}

void bs_travel_free(bs_travel *t) {
    if (!t) return;
    for (size_t i = 0; i < t->nmethods; i++) free(t->methods[i].sources);
    free(t->methods);
    free(t->transfers);
    free(t);
}
