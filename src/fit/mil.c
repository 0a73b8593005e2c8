/* mil.c — mi-SVM (fit.h): the SVM refitted on instance labels of the positive bags until they
 * settle. Andrews, Tsochantaridis & Hofmann, "Support vector machines for multiple-instance
 * learning", NIPS 2002, their mi-SVM heuristic: every instance of a positive bag starts
 * positive; each round fits the SVM and relabels those instances by the sign of their decision,
 * the highest-scoring instance of a bag staying positive when none is. Two choices are ours:
 * an instance's decision is the mean over its views (the mirrors and jittered views of one crop
 * are one cell and share its label), and at the cap the labels the last SVM was fitted on are
 * kept, so that the model and the labels it reports agree.
 * Not for: the autoencoder or the calibration (fit.c). */
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/io.h"
#include "core/log.h"
#include "core/progress.h"
#include "core/rng.h"
#include "core/stats.h"
#include "fit_internal.h"

typedef struct pos_row {
    int64_t bag, inst, pos; /* pos: fit position */
} pos_row;

static int by_bag_instance(const void *a, const void *b) {
    const pos_row *x = a, *y = b;
    if (x->bag != y->bag) return x->bag < y->bag ? -1 : 1;
    if (x->inst != y->inst) return x->inst < y->inst ? -1 : 1;
    return (x->pos > y->pos) - (x->pos < y->pos);
}

/* The positive bags' rows sorted by (bag, instance, fit position): instance k covers sorted rows
 * ist[k] .. ist[k+1], bag b covers instances bst[b] .. bst[b+1]. */
typedef struct bags {
    int64_t n, ninst, nbags;
    int64_t *pos, *xrow; /* per sorted row: fit position, row of x */
    int64_t *ist, *bst;
    int32_t *fold;      /* per bag: its out-of-fold fold (mil_folds > 1), else NULL */
    int32_t *label;     /* per instance: the labels the current SVM is fitted on */
    int32_t *next;      /* per instance: the relabelling */
    double *dec, *mean; /* per sorted row, per instance */
} bags;

static void bags_free(bags *b) {
    free(b->pos);
    free(b->xrow);
    free(b->ist);
    free(b->bst);
    free(b->fold);
    free(b->label);
    free(b->next);
    free(b->dec);
    free(b->mean);
}

static int bags_build(const bs_mil_rows *in, bags *b) {
    memset(b, 0, sizeof *b);
    for (int64_t i = 0; i < in->m; i++) b->n += in->lab[i] == 1;
    size_t n1 = (size_t)(b->n + 1);
    pos_row *r = bs_malloc(sizeof *r * n1);
    b->pos = bs_malloc(sizeof(int64_t) * n1);
    b->xrow = bs_malloc(sizeof(int64_t) * n1);
    b->ist = bs_malloc(sizeof(int64_t) * n1);
    b->bst = bs_malloc(sizeof(int64_t) * n1);
    b->label = bs_malloc(sizeof(int32_t) * n1);
    b->next = bs_malloc(sizeof(int32_t) * n1);
    b->dec = bs_malloc(sizeof(double) * n1);
    b->mean = bs_malloc(sizeof(double) * n1);
    if (!r || !b->pos || !b->xrow || !b->ist || !b->bst || !b->label || !b->next || !b->dec ||
        !b->mean) {
        free(r);
        return -1;
    }
    int64_t k = 0;
    for (int64_t i = 0; i < in->m; i++)
        if (in->lab[i] == 1) r[k++] = (pos_row){in->bag[i], in->instance[i], i};
    qsort(r, (size_t)b->n, sizeof *r, by_bag_instance);
    for (int64_t j = 0; j < b->n; j++) {
        b->pos[j] = r[j].pos;
        b->xrow[j] = in->rows[r[j].pos];
        int new_bag = j == 0 || r[j].bag != r[j - 1].bag;
        if (new_bag) b->bst[b->nbags++] = b->ninst;
        if (new_bag || r[j].inst != r[j - 1].inst) {
            b->label[b->ninst] = 1; /* mi-SVM starts from the bag labels */
            b->ist[b->ninst++] = j;
        }
    }
    b->ist[b->ninst] = b->n;
    b->bst[b->nbags] = b->ninst;
    free(r);
    return 0;
}

/* b->next from the decisions b->dec: an instance is positive when its views' mean decision is,
 * and a bag without a positive instance keeps its highest-scoring one (the first on a tie).
 * Returns how many instances change. */
static int64_t relabel(bags *b) {
    int64_t changed = 0;
    for (int64_t k = 0; k < b->ninst; k++) {
        double s = 0;
        for (int64_t j = b->ist[k]; j < b->ist[k + 1]; j++) s += b->dec[j];
        b->mean[k] = s / (double)(b->ist[k + 1] - b->ist[k]);
        b->next[k] = b->mean[k] > 0;
    }
    for (int64_t g = 0; g < b->nbags; g++) {
        int64_t best = b->bst[g], any = 0;
        for (int64_t k = b->bst[g]; k < b->bst[g + 1]; k++) {
            any += b->next[k];
            if (b->mean[k] > b->mean[best]) best = k;
        }
        if (!any) b->next[best] = 1;
    }
    for (int64_t k = 0; k < b->ninst; k++) changed += b->next[k] != b->label[k];
    return changed;
}

/* Positives per bag, and their total, into info. */
static int bag_counts(const bags *b, bs_fit_mil *info) {
    double *per = bs_malloc(sizeof(double) * (size_t)(b->nbags ? b->nbags : 1));
    if (!per) return -1;
    info->bags = b->nbags;
    info->instances = b->ninst;
    info->positives = 0;
    for (int64_t g = 0; g < b->nbags; g++) {
        int64_t c = 0;
        for (int64_t k = b->bst[g]; k < b->bst[g + 1]; k++) c += b->label[k];
        per[g] = (double)c;
        info->positives += c;
        if (g == 0 || c < info->bag_min) info->bag_min = c;
        if (g == 0 || c > info->bag_max) info->bag_max = c;
    }
    info->bag_median = bs_median(per, b->nbags);
    free(per);
    return 0;
}

/* Deal the bags into k folds: a seeded shuffle of the bags, bag perm[i] in fold i mod k. */
static int deal_folds(bags *b, int k, uint64_t seed) {
    size_t *perm = bs_malloc(sizeof(size_t) * (size_t)(b->nbags ? b->nbags : 1));
    b->fold = bs_malloc(sizeof(int32_t) * (size_t)(b->nbags ? b->nbags : 1));
    if (!perm || !b->fold) {
        free(perm);
        return -1;
    }
    for (int64_t g = 0; g < b->nbags; g++) perm[g] = (size_t)g;
    bs_rng rng;
    bs_rng_seed(&rng, bs_rng_derive(seed, 0x6d696c)); /* "mil": apart from the SVM's own draws */
    bs_rng_shuffle(&rng, perm, (size_t)b->nbags);
    for (int64_t i = 0; i < b->nbags; i++) b->fold[perm[i]] = (int32_t)(i % k);
    free(perm);
    return 0;
}

/* b->dec of fold f's bags from an SVM fitted on every fit row outside them (lab: current
 * labels indexed like x's rows; out: is_out[i] marks fit rows left out, scratch). */
static int fold_decisions(const bs_mil_rows *in, const bs_fit_options *o, bags *b, int32_t f,
                          const int32_t *lab, uint8_t *is_out, int64_t *list) {
    memset(is_out, 0, (size_t)in->m);
    int64_t ntest = 0, ntrain = 0;
    for (int64_t g = 0; g < b->nbags; g++)
        if (b->fold[g] == f)
            for (int64_t j = b->ist[b->bst[g]]; j < b->ist[b->bst[g + 1]]; j++)
                is_out[b->pos[j]] = 1;
    for (int64_t i = 0; i < in->m; i++)
        if (!is_out[i]) list[ntrain++] = in->rows[i];
    bs_rng rng;
    bs_rng_seed(&rng, o->svm_seed);
    bs_svm *svm = bs_svm_fit(in->x, lab, list, ntrain, &o->svm, &rng);
    if (!svm) return -1;
    int64_t *test = list + ntrain, *where = test + in->m;
    for (int64_t j = 0; j < b->n; j++)
        if (is_out[b->pos[j]]) where[ntest] = j, test[ntest++] = b->xrow[j];
    double *dec = bs_malloc(sizeof(double) * (size_t)(ntest ? ntest : 1));
    int rc = dec ? bs_svm_predict(svm, in->x, test, ntest, dec, NULL) : -1;
    for (int64_t t = 0; t < ntest && rc == 0; t++) b->dec[where[t]] = dec[t];
    free(dec);
    bs_svm_free(svm);
    return rc;
}

/* b->dec out of fold: every fold's bags scored by an SVM that did not train on them. */
static int oof_decisions(const bs_mil_rows *in, const bs_fit_options *o, bags *b,
                         const int32_t *lab) {
    int k = o->mil_folds < b->nbags ? o->mil_folds : (int)b->nbags;
    uint8_t *is_out = bs_malloc((size_t)(in->m ? in->m : 1));
    int64_t *list = bs_malloc(sizeof(int64_t) * 3 * (size_t)(in->m ? in->m : 1));
    int rc = is_out && list ? 0 : -1;
    for (int32_t f = 0; f < k && rc == 0; f++) rc = fold_decisions(in, o, b, f, lab, is_out, list);
    free(is_out);
    free(list);
    return rc;
}

/* One round: the SVM on the current labels (lab indexed like x's rows), then the decisions of
 * the positive bags' rows (its own, or out of fold) and the relabelling. */
static int round_fit(const bs_mil_rows *in, const bs_fit_options *o, bags *b, int32_t *lab,
                     bs_svm **svm, int64_t *changed) {
    for (int64_t k = 0; k < b->ninst; k++)
        for (int64_t j = b->ist[k]; j < b->ist[k + 1]; j++) lab[b->xrow[j]] = b->label[k];
    bs_rng rng;
    bs_rng_seed(&rng, o->svm_seed); /* every round draws the same kernel-scale sample */
    if (!(*svm = bs_svm_fit(in->x, lab, in->rows, in->m, &o->svm, &rng))) return -1;
    if (b->fold ? oof_decisions(in, o, b, lab)
                : bs_svm_predict(*svm, in->x, b->xrow, b->n, b->dec, NULL))
        return -1;
    *changed = relabel(b);
    return 0;
}

int bs_mil_fit(const bs_mil_rows *in, const bs_fit_options *o, bs_svm **svm, int32_t *final,
               bs_fit_mil *info) {
    memset(info, 0, sizeof *info);
    info->max_rounds = o->mil_rounds;
    *svm = NULL;
    bags b;
    int32_t *lab = bs_calloc((size_t)(in->x.rows ? in->x.rows : 1), sizeof *lab);
    int rc = lab && bags_build(in, &b) == 0 ? 0 : -1;
    if (rc == 0 && o->mil_folds > 1) {
        rc = deal_folds(&b, o->mil_folds < b.nbags ? o->mil_folds : (int)b.nbags, o->svm_seed);
        if (rc == 0 && o->log_name)
            bs_log("%s: mi-SVM relabels by out-of-fold decisions (%d folds of positive bags)",
                   o->log_name, o->mil_folds < b.nbags ? o->mil_folds : (int)b.nbags);
    }
    for (int64_t i = 0; i < in->m && rc == 0; i++) lab[in->rows[i]] = in->lab[i];
    double t0 = bs_now();
    while (rc == 0) {
        bs_svm_free(*svm);
        int64_t changed = 0;
        rc = round_fit(in, o, &b, lab, svm, &changed);
        if (rc) break;
        info->rounds++;
        info->converged = changed == 0;
        info->changed_last = changed;
        if (o->log_name)
            bs_log("%s: mi-SVM round %d: %lld instances of positive bags, %lld changed",
                   o->log_name, info->rounds, (long long)b.ninst, (long long)changed);
        if (info->converged || info->rounds >= o->mil_rounds) break;
        memcpy(b.label, b.next, sizeof *b.label * (size_t)b.ninst);
    }
    if (rc == 0) rc = bag_counts(&b, info);
    for (int64_t i = 0; i < in->m && rc == 0; i++) final[i] = in->lab[i];
    for (int64_t k = 0; k < b.ninst && rc == 0; k++)
        for (int64_t j = b.ist[k]; j < b.ist[k + 1]; j++) final[b.pos[j]] = b.label[k];
    if (rc == 0 && o->log_name)
        bs_log("%s: mi-SVM %s after %d round%s (cap %d): %lld of %lld instances of %lld positive "
               "bags positive (per bag %lld / %g / %lld), %.1f s",
               o->log_name, info->converged ? "converged" : "stopped at the cap", info->rounds,
               info->rounds == 1 ? "" : "s", o->mil_rounds, (long long)info->positives,
               (long long)info->instances, (long long)info->bags, (long long)info->bag_min,
               info->bag_median, (long long)info->bag_max, bs_now() - t0);
    if (rc) {
        bs_svm_free(*svm);
        *svm = NULL;
    }
    if (lab) bags_free(&b);
    free(lab);
    return rc;
}
