/* test_mil.c — mi-SVM in the one fit (fit/fit.h) on a known multiple-instance problem: 2-D
 * points, negative bags drawn from one cluster, positive bags mixing that cluster with a
 * second one (the true instance labels are known). mi-SVM recovers the instance labels where
 * the plain SVM on the bag labels cannot; a bag with no positive-looking instance keeps its
 * top one; the cap on rounds; views of one instance share its label; no positive bag is an
 * error; the same seed gives the same fit; calibration uses the bag labels' folds and the
 * final labels. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/rng.h"
#include "eval/calibration.h"
#include "eval/eval.h"
#include "fit/fit.h"
#include "test_support.h"

enum { NEG_BAGS = 12, POS_BAGS = 20, BAG = 10, POS_IN_BAG = 4, MAXV = 3 };
enum { MAXROWS = (NEG_BAGS + POS_BAGS + 1) * BAG * MAXV };

/* A problem: rows of 2-D points with bag labels, bags, instances and the true instance label. */
typedef struct problem {
    int64_t n;
    float x[MAXROWS * 2];
    int32_t label[MAXROWS], truth[MAXROWS];
    int64_t bag[MAXROWS], instance[MAXROWS];
} problem;

static int64_t iota[MAXROWS]; /* bs_svm_predict takes a row list */

static double gauss(bs_rng *r) {
    double u = bs_rng_uniform(r), v = bs_rng_uniform(r);
    return sqrt(-2 * log(u > 1e-300 ? u : 1e-300)) * cos(6.283185307179586 * v);
}

/* Cluster 0 around (0, 0), cluster 1 around (3, 3), both of sd 0.8. Negative bags hold cluster
 * 0 only, positive bags POS_IN_BAG of cluster 1 among BAG; `lonely` adds a positive bag with
 * cluster 0 only. Each instance is `views` rows (the point, then shifts of sd 0.5). */
static void make(problem *p, uint64_t seed, int views, int lonely) {
    bs_rng r;
    bs_rng_seed(&r, seed);
    memset(p, 0, sizeof *p);
    for (int64_t i = 0; i < MAXROWS; i++) iota[i] = i;
    int64_t inst = 0;
    for (int b = 0; b < NEG_BAGS + POS_BAGS + lonely; b++) {
        const int positive = b >= NEG_BAGS;
        for (int i = 0; i < BAG; i++, inst++) {
            const int truth = positive && b < NEG_BAGS + POS_BAGS && i < POS_IN_BAG;
            double cx = truth ? 3 : 0, px = cx + 0.8 * gauss(&r), py = cx + 0.8 * gauss(&r);
            for (int v = 0; v < views; v++) {
                int64_t k = p->n++;
                p->x[2 * k] = (float)(px + (v ? 0.5 * gauss(&r) : 0));
                p->x[2 * k + 1] = (float)(py + (v ? 0.5 * gauss(&r) : 0));
                p->label[k] = positive;
                p->truth[k] = truth;
                p->bag[k] = b;
                p->instance[k] = inst;
            }
        }
    }
}

static void options(bs_fit_options *o, const problem *p, int rounds) {
    bs_fit_options_init(o);
    o->svm_seed = 7;
    o->svm.kernel_scale = 1; /* fixed: the "auto" scale of overlapping bags makes libsvm crawl */
    o->mil_rounds = rounds;
    o->bag = p->bag;
    o->instance = p->instance;
}

/* Share of n rows of x whose predicted class equals truth. */
static double accuracy(const bs_svm *svm, const problem *p) {
    int32_t *pred = calloc((size_t)p->n, sizeof *pred);
    assert_int_equal(bs_svm_predict(svm, bs_matrix_of(p->x, p->n, 2), iota, p->n, NULL, pred), 0);
    int64_t ok = 0;
    for (int64_t i = 0; i < p->n; i++) ok += pred[i] == p->truth[i];
    free(pred);
    return (double)ok / (double)p->n;
}

static problem train_set, test_set;

static void recovers_instance_labels(void **state) {
    (void)state;
    make(&train_set, 11, 1, 0);
    make(&test_set, 12, 1, 0);
    bs_fit_options o;
    options(&o, &train_set, 0);
    bs_fitted plain, mil;
    assert_int_equal(bs_fit(&plain, bs_matrix_of(train_set.x, train_set.n, 2), train_set.label,
                            NULL, train_set.n, &o),
                     0);
    o.mil_rounds = BS_FIT_MIL_ROUNDS;
    if (bs_fit(&mil, bs_matrix_of(train_set.x, train_set.n, 2), train_set.label, NULL, train_set.n,
               &o))
        fail_msg("%s", bs_error_message());
    double acc_plain = accuracy(plain.svm, &test_set), acc_mil = accuracy(mil.svm, &test_set);
    int64_t recovered = 0;
    for (int64_t i = 0; i < train_set.n; i++) recovered += mil.mil_labels[i] == train_set.truth[i];
    double acc_labels = (double)recovered / (double)train_set.n;
    print_message("held-out instance accuracy: plain SVM on bag labels %.3f, mi-SVM %.3f; "
                  "training instance labels recovered %.3f; %d rounds, %lld of %lld positive\n",
                  acc_plain, acc_mil, acc_labels, mil.mil.rounds, (long long)mil.mil.positives,
                  (long long)mil.mil.instances);
    assert_true(acc_plain < 0.85); /* bag labels call many cluster-0 points of ALL bags positive */
    assert_true(acc_mil > 0.95);
    assert_true(acc_labels > 0.95);
    assert_true(mil.mil.converged);
    assert_true(mil.mil.rounds >= 2 && mil.mil.rounds <= BS_FIT_MIL_ROUNDS);
    assert_int_equal(mil.mil.bags, POS_BAGS);
    assert_int_equal(mil.mil.instances, POS_BAGS * BAG);
    assert_true(mil.mil.bag_min >= 1);
    assert_true(llabs(mil.mil.positives - POS_BAGS * POS_IN_BAG) <= POS_BAGS / 2);
    assert_null(plain.mil_labels);
    assert_int_equal(plain.mil.rounds, 0);
    bs_fitted_free(&plain);
    bs_fitted_free(&mil);
}

static void every_bag_keeps_its_top_instance(void **state) {
    (void)state;
    problem *p = &train_set;
    make(p, 21, 1, 1); /* the last bag: cluster 0 only, every instance scores negative */
    bs_fit_options o;
    options(&o, p, BS_FIT_MIL_ROUNDS);
    bs_fitted f;
    assert_int_equal(bs_fit(&f, bs_matrix_of(p->x, p->n, 2), p->label, NULL, p->n, &o), 0);
    assert_true(f.mil.converged);
    const int64_t first = (NEG_BAGS + POS_BAGS) * BAG;
    double dec[BAG];
    int64_t rows[BAG], top = 0, positives = 0, negative_decisions = 0;
    for (int i = 0; i < BAG; i++) rows[i] = first + i;
    assert_int_equal(bs_svm_predict(f.svm, bs_matrix_of(p->x, p->n, 2), rows, BAG, dec, NULL), 0);
    for (int i = 0; i < BAG; i++)
        if (dec[i] > dec[top]) top = i;
    for (int i = 0; i < BAG; i++) {
        positives += f.mil_labels[first + i];
        negative_decisions += i != top && dec[i] <= 0;
    }
    assert_int_equal(positives, 1);
    assert_int_equal(f.mil_labels[first + top], 1);
    assert_int_equal(f.mil.bag_min, 1);
    assert_true(negative_decisions >= BAG - 2);
    bs_fitted_free(&f);
}

static void the_cap_keeps_the_labels_of_the_last_fit(void **state) {
    (void)state;
    problem *p = &train_set;
    make(p, 11, 1, 0);
    bs_fit_options o;
    options(&o, p, 1); /* one round: the plain SVM on the bag labels, relabelling not applied */
    bs_fitted capped, plain;
    assert_int_equal(bs_fit(&capped, bs_matrix_of(p->x, p->n, 2), p->label, NULL, p->n, &o), 0);
    assert_int_equal(capped.mil.rounds, 1);
    assert_int_equal(capped.mil.max_rounds, 1);
    assert_false(capped.mil.converged);
    assert_true(capped.mil.changed_last > 0);
    assert_memory_equal(capped.mil_labels, p->label, sizeof(int32_t) * (size_t)p->n);
    assert_int_equal(capped.mil.positives, POS_BAGS * BAG);
    o.mil_rounds = 0;
    assert_int_equal(bs_fit(&plain, bs_matrix_of(p->x, p->n, 2), p->label, NULL, p->n, &o), 0);
    double a[64], b[64];
    assert_int_equal(bs_svm_predict(capped.svm, bs_matrix_of(p->x, 64, 2), iota, 64, a, NULL), 0);
    assert_int_equal(bs_svm_predict(plain.svm, bs_matrix_of(p->x, 64, 2), iota, 64, b, NULL), 0);
    assert_memory_equal(a, b, sizeof a);
    bs_fitted_free(&capped);
    o.mil_rounds = 2;
    assert_int_equal(bs_fit(&capped, bs_matrix_of(p->x, p->n, 2), p->label, NULL, p->n, &o), 0);
    assert_int_equal(capped.mil.rounds, 2);
    bs_fitted_free(&capped);
    bs_fitted_free(&plain);
}

static void views_share_their_instance_label(void **state) {
    (void)state;
    problem *p = &train_set;
    make(p, 31, MAXV, 0);
    bs_fit_options o;
    options(&o, p, BS_FIT_MIL_ROUNDS);
    bs_fitted f;
    bs_matrix x = bs_matrix_of(p->x, p->n, 2);
    assert_int_equal(bs_fit(&f, x, p->label, NULL, p->n, &o), 0);
    assert_true(f.mil.converged);
    assert_int_equal(f.mil.instances, POS_BAGS * BAG); /* instances, not rows */
    double *dec = calloc((size_t)p->n, sizeof *dec);
    assert_int_equal(bs_svm_predict(f.svm, x, iota, p->n, dec, NULL), 0);
    int64_t mixed_signs = 0;
    for (int64_t i = 0; i < p->n; i += MAXV) {
        double mean = 0;
        int pos = 0;
        for (int v = 0; v < MAXV; v++) {
            assert_int_equal(f.mil_labels[i + v], f.mil_labels[i]);
            mean += dec[i + v] / MAXV;
            pos += dec[i + v] > 0;
        }
        mixed_signs += p->label[i] && pos > 0 && pos < MAXV;
        /* converged: a positive bag's instance is positive exactly when its mean decision is
         * (every bag here holds cluster-1 instances, so no bag needed its top one kept) */
        if (p->label[i]) assert_int_equal(f.mil_labels[i], mean > 0);
    }
    assert_true(mixed_signs >= 1); /* the fixture exercises the mean: some views disagree */
    free(dec);
    bs_fitted_free(&f);
}

static void no_positive_bag_is_an_error(void **state) {
    (void)state;
    problem *p = &train_set;
    make(p, 11, 1, 0);
    bs_fit_options o;
    options(&o, p, BS_FIT_MIL_ROUNDS);
    int64_t rows[NEG_BAGS * BAG];
    for (int i = 0; i < NEG_BAGS * BAG; i++) rows[i] = i; /* the negative bags only */
    bs_fitted f;
    assert_int_equal(bs_fit(&f, bs_matrix_of(p->x, p->n, 2), p->label, rows, NEG_BAGS * BAG, &o),
                     -1);
    assert_non_null(strstr(bs_error_message(), "mi-SVM needs a positive bag"));
    assert_null(f.svm);
    assert_null(f.mil_labels);
    for (int i = 0; i < BAG; i++) rows[i] = NEG_BAGS * BAG + i; /* a positive bag only */
    assert_int_equal(bs_fit(&f, bs_matrix_of(p->x, p->n, 2), p->label, rows, BAG, &o), -1);
    assert_non_null(strstr(bs_error_message(), "0 negative rows"));
    int32_t bad[MAXROWS];
    memcpy(bad, p->label, sizeof bad);
    bad[3] = 2;
    assert_int_equal(bs_fit(&f, bs_matrix_of(p->x, p->n, 2), bad, NULL, p->n, &o), -1);
    assert_non_null(strstr(bs_error_message(), "label 2 is not 0 or 1"));
}

static void same_seed_same_fit(void **state) {
    (void)state;
    problem *p = &train_set;
    make(p, 41, 2, 1);
    bs_fit_options o;
    options(&o, p, BS_FIT_MIL_ROUNDS);
    o.calibration_folds = 5;
    o.group = p->bag;
    bs_fitted a, b;
    bs_matrix x = bs_matrix_of(p->x, p->n, 2);
    assert_int_equal(bs_fit(&a, x, p->label, NULL, p->n, &o), 0);
    assert_int_equal(bs_fit(&b, x, p->label, NULL, p->n, &o), 0);
    assert_memory_equal(a.mil_labels, b.mil_labels, sizeof(int32_t) * (size_t)p->n);
    assert_memory_equal(&a.mil, &b.mil, sizeof a.mil);
    assert_true(a.platt_a == b.platt_a && a.platt_b == b.platt_b);
    double da[64], db[64];
    assert_int_equal(bs_svm_predict(a.svm, x, iota, 64, da, NULL), 0);
    assert_int_equal(bs_svm_predict(b.svm, x, iota, 64, db, NULL), 0);
    assert_memory_equal(da, db, sizeof da);
    /* calibration: folds from the bag labels, the sigmoid on the final labels */
    int32_t *fold = calloc((size_t)p->n, sizeof *fold);
    double *dec = calloc((size_t)p->n, sizeof *dec), pa, pb;
    bs_rng rng;
    bs_rng_seed(&rng, o.calibration_seed);
    assert_int_equal(bs_folds_grouped(p->label, p->bag, p->n, 5, &rng, fold), 0);
    assert_memory_equal(fold, a.fold, sizeof(int32_t) * (size_t)p->n);
    assert_int_equal(bs_svm_cross_validate(x, a.mil_labels, fold, 5, &o.svm, &rng, dec, NULL), 0);
    assert_int_equal(bs_platt_fit_clipped(dec, a.mil_labels, p->n, BS_PLATT_CLIP_K, &pa, &pb), 0);
    assert_true(pa == a.platt_a && pb == a.platt_b);
    assert_true(a.platt_a < 0);
    free(fold);
    free(dec);
    bs_fitted_free(&a);
    bs_fitted_free(&b);
}

/* Out-of-fold relabelling (mil_folds) where in-sample relabelling keeps everything: 40-D
 * points, few per dimension, so the cubic SVM fits its own training labels. 24 negative bags
 * of 8 from N(0, I); 16 positive bags of 8 holding 2 of N(mu, I) (mu = 1.2 on the first 10
 * dimensions) among 6 negatives. In-sample, every training instance scores as it was labelled
 * and (nearly) nothing is relabelled; scored by SVMs that never saw their bag, the negatives of
 * the positive bags look like the negative bags' and are relabelled negative. */
enum { HD = 40, HNEG = 24, HPOS = 16, HBAG = 8, HTRUE = 2 };
enum { HN = (HNEG + HPOS) * HBAG };

static void out_of_fold_relabels_what_in_sample_keeps(void **state) {
    (void)state;
    static float hx[HN * HD];
    static int32_t hl[HN], ht[HN];
    static int64_t hb[HN];
    bs_rng r;
    bs_rng_seed(&r, 51);
    for (int64_t i = 0; i < HN; i++) {
        int64_t bag = i / HBAG;
        hb[i] = bag;
        hl[i] = bag >= HNEG;
        ht[i] = hl[i] && i % HBAG < HTRUE;
        for (int j = 0; j < HD; j++)
            hx[i * HD + j] = (float)(gauss(&r) + (ht[i] && j < 10 ? 1.2 : 0));
    }
    bs_fit_options o;
    bs_fit_options_init(&o);
    o.svm_seed = 7;
    o.mil_rounds = BS_FIT_MIL_ROUNDS;
    o.bag = hb;
    bs_fitted in, oof;
    bs_matrix x = bs_matrix_of(hx, HN, HD);
    assert_int_equal(bs_fit(&in, x, hl, NULL, HN, &o), 0);
    o.mil_folds = 4;
    if (bs_fit(&oof, x, hl, NULL, HN, &o)) fail_msg("%s", bs_error_message());
    int64_t right_in = 0, right_oof = 0, false_pos_oof = 0;
    for (int64_t i = HNEG * HBAG; i < HN; i++) {
        right_in += in.mil_labels[i] == ht[i];
        right_oof += oof.mil_labels[i] == ht[i];
        false_pos_oof += oof.mil_labels[i] && !ht[i];
    }
    print_message(
        "positive bags' %d instances (%d true): in-sample mi-SVM keeps %lld positive "
        "(%d rounds), out of fold %lld (%d rounds, %lld false); labels right %lld, %lld\n",
        HPOS * HBAG, HPOS * HTRUE, (long long)in.mil.positives, in.mil.rounds,
        (long long)oof.mil.positives, oof.mil.rounds, (long long)false_pos_oof, (long long)right_in,
        (long long)right_oof);
    assert_true(in.mil.positives >= HPOS * HBAG * 9 / 10); /* in-sample keeps (nearly) all */
    assert_true(oof.mil.positives <= HPOS * HTRUE * 2);    /* out of fold: near the true 32 */
    assert_true(right_oof >= HPOS * HBAG * 8 / 10);
    assert_true(right_oof > right_in + HPOS * HBAG / 2);
    assert_true(oof.mil.bag_min >= 1);
    /* the same seed, the same folds and labels */
    bs_fitted again;
    assert_int_equal(bs_fit(&again, x, hl, NULL, HN, &o), 0);
    assert_memory_equal(again.mil_labels, oof.mil_labels, sizeof(int32_t) * HN);
    bs_fitted_free(&again);
    bs_fitted_free(&in);
    bs_fitted_free(&oof);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(recovers_instance_labels),
        cmocka_unit_test(every_bag_keeps_its_top_instance),
        cmocka_unit_test(the_cap_keeps_the_labels_of_the_last_fit),
        cmocka_unit_test(views_share_their_instance_label),
        cmocka_unit_test(no_positive_bag_is_an_error),
        cmocka_unit_test(same_seed_same_fit),
        cmocka_unit_test(out_of_fold_relabels_what_in_sample_keeps),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
