/* test_groups.c — the per-group rule of study.h (BS_STUDY_GROUP_RULE) on a hand-made study:
 * majorities both ways, ties counted as ALL, only manifest-named groups and original views
 * scored, the AUC on the groups' mean probabilities; and per-source counts and metrics.
 *
 *   group  rows (label, predicted, probability)            truth        called        score
 *   p1     (1,1,.9) (1,0,.4) (0,0,.2)  + an hmirror row    ALL (2 of 3) healthy (1/3) 0.5
 *   p2     (0,1,.6) (0,0,.2)                               healthy      ALL (tie)     0.4
 *   p3     (1,0,.3) (0,0,.1)                               ALL (tie)    healthy       0.2
 *   p4     (0,0,.1)                                        healthy      healthy       0.1
 *   a/x.jpg (1,1,.8): a group named after its image's path: not a manifest group, not scored
 *
 * So TP 0, FN 2 (p1, p3), FP 1 (p2), TN 1 (p4); two groups hold both labels; AUC over the
 * scores: positives {0.5, 0.2} against negatives {0.4, 0.1}: 3 of 4 pairs ordered, 0.75. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "study/study_internal.h"
#include "test_support.h"

#define R 11

static void free_source_names(bs_study *s) {
    for (int k = 0; k < s->nsources; k++) free(s->source_names[k]);
    free(s->source_names);
}

static void groups_by_hand(void **state) {
    (void)state;
    static const char *const group[R] = {"p1", "p1", "p1", "p1",      "p2",     "p2",
                                         "p3", "p3", "p4", "a/x.jpg", "a/x.jpg"};
    static const char *const path[R] = {"p1a.png", "p1b.png", "p1c.png", "p1a.png",
                                        "p2a.png", "p2b.png", "p3a.png", "p3b.png",
                                        "p4a.png", "a/x.jpg", "a/y.jpg"};
    static const bs_view view[R] = {0, 0, 0, BS_VIEW_HMIRROR, 0, 0, 0, 0, 0, 0, 0};
    int32_t labels[R] = {1, 1, 0, 1, 0, 0, 1, 0, 0, 1, 1};
    int32_t pred[R] = {1, 0, 0, 1, 1, 0, 0, 0, 0, 1, 1};
    double prob[R] = {0.9, 0.4, 0.2, 0.99, 0.6, 0.2, 0.3, 0.1, 0.1, 0.8, 0.8};
    double dec[R];
    int32_t fold[R] = {0};
    bs_feature_row rows[R];
    for (int r = 0; r < R; r++) {
        rows[r] =
            (bs_feature_row){r, (char *)path[r], labels[r], "c", (char *)group[r], view[r], r >= 6};
        dec[r] = prob[r] - 0.5;
    }
    bs_feature_index idx = {.n = R, .rows = rows};
    bs_experiment x = {
        .name = "e", .decision = dec, .predicted = pred, .probability = prob, .calibrated = 1};
    bs_study s = {.task = BS_TASK_BINARY,
                  .folds = 1,
                  .n = R,
                  .labels = labels,
                  .nclasses = 2,
                  .fold = fold,
                  .experiments = &x,
                  .nexperiments = 1};
    assert_int_equal(bs_study_groups(&s, &idx), 0);
    assert_int_equal(s.group_count, 4);
    assert_int_equal(s.group_mixed, 2);
    assert_int_equal(x.groups.tp, 0);
    assert_int_equal(x.groups.fn, 2);
    assert_int_equal(x.groups.fp, 1);
    assert_int_equal(x.groups.tn, 1);
    assert_true(x.groups.auc.defined && fabs(x.groups.auc.value - 0.75) < 1e-12);

    /* Sources: rows 0–5 are source 0, rows 6–10 source 1; original views only. */
    assert_int_equal(bs_study_sources(&s, &idx), 0);
    assert_int_equal(s.nsources, 2);
    assert_int_equal(s.source_rows[0], 5);      /* rows 0, 1, 2, 4, 5 (row 3 is a mirror) */
    assert_int_equal(s.source_positives[0], 2); /* rows 0, 1 */
    assert_int_equal(s.source_rows[1], 5);
    assert_int_equal(s.source_positives[1], 3); /* rows 6, 9, 10 */
    /* source 1: labels 1,0,0,1,1, predicted 0,0,0,1,1: TP 2, FN 1, TN 2, FP 0 */
    assert_int_equal(x.per_source[1].tp, 2);
    assert_int_equal(x.per_source[1].fn, 1);
    assert_int_equal(x.per_source[1].tn, 2);
    assert_int_equal(x.per_source[1].fp, 0);
    free(x.per_source);
    free(s.source_rows);
    free(s.source_positives);
    free_source_names(&s);
}

/* Without manifest groups (every group named after an image's path) there are no group results. */
static void no_manifest_groups(void **state) {
    (void)state;
    bs_feature_row rows[2] = {{0, "a.png", 1, "c", "a.png", 0, 0},
                              {1, "b.png", 0, "c", "a.png", 0, 0}};
    bs_feature_index idx = {.n = 2, .rows = rows};
    int32_t labels[2] = {1, 0}, pred[2] = {1, 0}, fold[2] = {0, 1};
    double dec[2] = {1, -1};
    bs_experiment x = {.name = "e", .decision = dec, .predicted = pred};
    bs_study s = {.task = BS_TASK_BINARY,
                  .folds = 2,
                  .n = 2,
                  .labels = labels,
                  .nclasses = 2,
                  .fold = fold,
                  .experiments = &x,
                  .nexperiments = 1};
    assert_int_equal(bs_study_groups(&s, &idx), 0);
    assert_int_equal(s.group_count, 0);
    assert_int_equal(bs_study_sources(&s, &idx), 0);
    assert_int_equal(s.nsources, 1);
    assert_null(x.per_source);
    free(s.source_rows);
    free(s.source_positives);
    free_source_names(&s);
}

int main(void) {
    const struct CMUnitTest tests[] = {cmocka_unit_test(groups_by_hand),
                                       cmocka_unit_test(no_manifest_groups)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
