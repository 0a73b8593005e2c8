/* test_metrics.c — two-class metrics and intervals against hand-computed confusion matrices
 * (including degenerate folds), AUC and ROC with ties, JSON without NaN, K-class tables.
 * Expected interval bounds were computed from the published formulas (Wilson 1927;
 * Hanley & McNeil 1982; Fisher z) by hand with a calculator-level script; e.g. Wilson 0/5 has
 * upper bound 0.4345, the textbook value. */
#define _POSIX_C_SOURCE 200809L
#include "test_support.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/stats.h"
#include "eval/eval.h"

#define NEAR(a, b) assert_true(fabs((a) - (b)) < 1e-9)

static void test_counts(void **state) {
    (void)state;
    /* TP 40, FN 10, TN 45, FP 5 (100 rows, 50 positive). */
    bs_metrics m;
    bs_metrics_from_counts(40, 10, 45, 5, &m);
    NEAR(m.sn.value, 0.8), NEAR(m.sn.lo, 0.6696289406777459), NEAR(m.sn.hi, 0.887562499842239);
    NEAR(m.sp.value, 0.9), NEAR(m.sp.lo, 0.7863976856252035), NEAR(m.sp.hi, 0.9565242350681096);
    NEAR(m.pr.value, 40.0 / 45), NEAR(m.pr.lo, 0.7650090300423141),
        NEAR(m.pr.hi, 0.9515952820543282);
    NEAR(m.ac.value, 0.85), NEAR(m.ac.lo, 0.7671644040916763), NEAR(m.ac.hi, 0.9069401471634337);
    NEAR(m.f1.value, 80.0 / 95), NEAR(m.f1.lo, 0.7481833158110832),
        NEAR(m.f1.hi, 0.9054245673485546);
    /* MCC = (40·45 − 5·10)/√(50·50·45·55) */
    NEAR(m.mcc.value, 0.7035264706814484), NEAR(m.mcc.lo, 0.5884192733582119),
        NEAR(m.mcc.hi, 0.7906836898132241);
    NEAR(m.balanced_accuracy.value, 0.85);
    NEAR(m.balanced_accuracy.lo, (0.6696289406777459 + 0.7863976856252035) / 2);
    assert_true(m.sn.defined && m.sp.defined && m.pr.defined && m.mcc.defined);
    assert_false(m.auc.defined); /* counts alone have no AUC */

    /* Wilson edge values: 0/5 and 5/5. */
    double lo, hi;
    bs_wilson95(0, 5, &lo, &hi);
    NEAR(lo, 0.0), NEAR(hi, 0.43448246478317476);
    bs_wilson95(5, 5, &lo, &hi);
    NEAR(lo, 0.5655175352168251), NEAR(hi, 1.0);
}

static char *json_of(const bs_metrics *m) {
    char *buf = NULL;
    size_t len = 0;
    FILE *fp = open_memstream(&buf, &len);
    bs_json_writer w;
    bs_json_writer_init(&w, fp);
    bs_metrics_write_json(&w, NULL, m);
    fclose(fp);
    return buf;
}

static void test_degenerate(void **state) {
    (void)state;
    /* A fold with no positive rows: 20 negatives, 2 called positive. */
    int32_t y[22], p[22];
    double d[22];
    for (int i = 0; i < 22; i++) y[i] = 0, p[i] = i < 2, d[i] = i < 2 ? 0.5 : -1.0 - i;
    bs_metrics m;
    assert_int_equal(bs_metrics_binary(y, p, d, 22, &m), 0);
    assert_int_equal(m.tp, 0), assert_int_equal(m.fn, 0);
    assert_int_equal(m.tn, 20), assert_int_equal(m.fp, 2);
    assert_false(m.sn.defined);
    assert_true(m.sp.defined);
    NEAR(m.sp.value, 20.0 / 22), NEAR(m.sp.lo, 0.7218505315839417),
        NEAR(m.sp.hi, 0.9747045710090046);
    assert_true(m.pr.defined), NEAR(m.pr.value, 0.0); /* 0 of 2 called positive are positive */
    assert_true(m.f1.defined), NEAR(m.f1.value, 0.0);
    assert_false(m.mcc.defined);
    assert_false(m.balanced_accuracy.defined);
    assert_false(m.auc.defined);
    char *js = json_of(&m);
    assert_null(strstr(js, "nan"));
    assert_null(strstr(js, "NaN"));
    assert_null(strstr(js, "inf"));
    assert_non_null(strstr(js, "\"sn\":{\"value\":null,\"lo\":null,\"hi\":null}"));
    assert_non_null(strstr(js, "\"undefined\":[\"sn\",\"mcc\",\"balanced_accuracy\",\"auc\"]"));
    assert_non_null(strstr(js, "\"tp\":0,\"fn\":0,\"tn\":20,\"fp\":2"));
    free(js);

    /* Nothing called positive and no positives: pr and f1 undefined too. */
    bs_metrics_from_counts(0, 0, 7, 0, &m);
    assert_false(m.pr.defined), assert_false(m.f1.defined), assert_false(m.sn.defined);
    NEAR(m.sp.value, 1.0), NEAR(m.ac.value, 1.0);
    js = json_of(&m);
    assert_null(strstr(js, "nan"));
    assert_non_null(
        strstr(js, "\"undefined\":[\"sn\",\"pr\",\"f1\",\"mcc\",\"balanced_accuracy\",\"auc\"]"));
    free(js);

    /* Empty fold. */
    bs_metrics_from_counts(0, 0, 0, 0, &m);
    assert_false(m.ac.defined);

    /* Bad labels and non-finite decisions are errors. */
    y[3] = 2;
    assert_int_equal(bs_metrics_binary(y, p, d, 22, &m), -1);
    y[3] = 1;
    d[4] = NAN;
    assert_int_equal(bs_metrics_binary(y, NULL, d, 22, &m), -1);
    assert_non_null(strstr(bs_error_message(), "row 4"));
}

static void test_auc_ties(void **state) {
    (void)state;
    /* Positives 0.9 0.5 0.5, negatives 0.5 0.1 −0.3. Pairs won: 0.9 beats all 3 (3); each
     * 0.5 positive ties the 0.5 negative (½) and beats 0.1 and −0.3 (2) → 2.5 each.
     * AUC = (3 + 2.5 + 2.5)/9 = 8/9. */
    int32_t y[] = {1, 1, 0, 0, 1, 0};
    double d[] = {0.9, 0.5, 0.5, 0.1, 0.5, -0.3};
    NEAR(bs_metrics_auc(y, d, 6), 8.0 / 9);
    bs_metrics m;
    assert_int_equal(bs_metrics_binary(y, NULL, d, 6, &m), 0);
    /* predicted = decision > 0: all but −0.3 positive → TP 3, FP 2, TN 1 */
    assert_int_equal(m.tp, 3), assert_int_equal(m.fp, 2), assert_int_equal(m.tn, 1);
    assert_true(m.auc.defined);
    NEAR(m.auc.value, 8.0 / 9), NEAR(m.auc.lo, 0.5884504120761433), NEAR(m.auc.hi, 1.0);

    /* ROC: (0,0); t=0.9 → (0,⅓); t=0.5 (a tie of 2 pos + 1 neg: one diagonal step) → (⅓,1);
     * t=0.1 → (⅔,1); t=−0.3 → (1,1). */
    bs_roc_point *pt;
    int64_t np;
    assert_int_equal(bs_metrics_roc(y, d, 6, &pt, &np), 0);
    assert_int_equal(np, 5);
    double want[5][3] = {
        {INFINITY, 0, 0}, {0.9, 0, 1.0 / 3}, {0.5, 1.0 / 3, 1}, {0.1, 2.0 / 3, 1}, {-0.3, 1, 1}};
    for (int i = 0; i < 5; i++) {
        assert_true(pt[i].threshold == want[i][0]);
        NEAR(pt[i].fpr, want[i][1]), NEAR(pt[i].tpr, want[i][2]);
    }
    /* Trapezoid area under the points equals the rank AUC. */
    double area = 0;
    for (int i = 1; i < 5; i++)
        area += (pt[i].fpr - pt[i - 1].fpr) * (pt[i].tpr + pt[i - 1].tpr) / 2;
    NEAR(area, 8.0 / 9);
    free(pt);

    /* All decisions equal: AUC ½. One class: NaN from the raw function. */
    double flat[] = {0, 0, 0, 0, 0, 0};
    NEAR(bs_metrics_auc(y, flat, 6), 0.5);
    int32_t ones[] = {1, 1, 1};
    assert_true(isnan(bs_metrics_auc(ones, d, 3)));
}

static void test_confusion(void **state) {
    (void)state;
    /* 3 classes, true × predicted:
     *        p0 p1 p2
     *   t0 [  5  1  0 ]
     *   t1 [  2  3  1 ]
     *   t2 [  0  0  0 ]   (class 2 absent from the fold, predicted once) */
    int32_t y[12], p[12];
    int n = 0;
    int table[3][3] = {{5, 1, 0}, {2, 3, 1}, {0, 0, 0}};
    for (int t = 0; t < 3; t++)
        for (int q = 0; q < 3; q++)
            for (int c = 0; c < table[t][q]; c++) y[n] = t, p[n] = q, n++;
    bs_confusion cm;
    assert_int_equal(bs_confusion_build(y, p, n, 3, &cm), 0);
    for (int t = 0; t < 3; t++)
        for (int q = 0; q < 3; q++) assert_int_equal(cm.counts[t * 3 + q], table[t][q]);
    /* class 0: TP 5, FN 1, FP 2, TN 4; class 1: TP 3, FN 3, FP 1, TN 5;
     * class 2: TP 0, FN 0, FP 1, TN 11 */
    assert_int_equal(cm.per_class[0].tp, 5), assert_int_equal(cm.per_class[0].fn, 1);
    assert_int_equal(cm.per_class[0].fp, 2), assert_int_equal(cm.per_class[0].tn, 4);
    NEAR(cm.per_class[0].sn.value, 5.0 / 6), NEAR(cm.per_class[0].pr.value, 5.0 / 7);
    NEAR(cm.per_class[1].sn.value, 0.5), NEAR(cm.per_class[1].pr.value, 0.75);
    assert_false(cm.per_class[2].sn.defined);
    NEAR(cm.per_class[2].pr.value, 0.0);
    NEAR(cm.accuracy.value, 8.0 / 12);
    /* macro over defined classes: sn (5/6 + 1/2)/2; pr (5/7 + 3/4 + 0)/3 */
    NEAR(cm.macro_sn.value, (5.0 / 6 + 0.5) / 2);
    NEAR(cm.macro_pr.value, (5.0 / 7 + 0.75 + 0.0) / 3);
    NEAR(cm.balanced_accuracy.value, cm.macro_sn.value);
    /* f1 class 0: 2·5/(10+2+1) = 10/13; class 1: 6/(6+1+3) = 0.6; class 2: 0 */
    NEAR(cm.per_class[0].f1.value, 10.0 / 13), NEAR(cm.per_class[1].f1.value, 0.6);
    NEAR(cm.macro_f1.value, (10.0 / 13 + 0.6 + 0.0) / 3);
    char *buf = NULL;
    size_t len = 0;
    FILE *fp = open_memstream(&buf, &len);
    const char *names[] = {"Benign", "Early", "Pre"};
    bs_json_writer w;
    bs_json_writer_init(&w, fp);
    bs_confusion_write_json(&w, NULL, &cm, names);
    fclose(fp);
    assert_null(strstr(buf, "nan"));
    assert_non_null(strstr(buf, "\"counts\":[[5,1,0],[2,3,1],[0,0,0]]"));
    assert_non_null(strstr(buf, "\"classes\":[\"Benign\",\"Early\",\"Pre\"]"));
    /* Pre has no rows: its sensitivity is undefined, printed as nulls and listed by name, and
     * the per-class list closes before the overall metrics. */
    assert_non_null(strstr(
        buf,
        "{\"tp\":0,\"fn\":0,\"tn\":11,\"fp\":1,\"sn\":{\"value\":null,\"lo\":null,\"hi\":null},"));
    assert_non_null(strstr(buf, ",\"undefined\":[\"sn\"]}],\"accuracy\":{\"value\":"));
    assert_non_null(strstr(buf, ",\"undefined\":[]},{\"tp\":3,"));
    assert_non_null(strstr(buf, "},\"macro_f1\":{\"value\":"));
    assert_non_null(strstr(buf, "},\"balanced_accuracy\":{\"value\":"));
    assert_int_equal(buf[strlen(buf) - 1], '}');
    free(buf);
    bs_confusion_free(&cm);
    p[0] = 3;
    assert_int_equal(bs_confusion_build(y, p, n, 3, &cm), -1);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_counts),
        cmocka_unit_test(test_degenerate),
        cmocka_unit_test(test_auc_ties),
        cmocka_unit_test(test_confusion),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
