/* test_folds.c — fold assignment (paper and grouped protocols), splitting, group joins and
 * the leak count, on hand-made cases and over many seeds. */
#include "test_support.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "eval/eval.h"

static void test_stratified(void **state) {
    (void)state;
    enum { N = 1104, K = 5 };
    int32_t y[N], f1[N], f2[N];
    for (int i = 0; i < N; i++) y[i] = i < 537 ? 1 : 0; /* 179·3 ALL views, 189·3 healthy */
    for (uint64_t seed = 1; seed <= 50; seed++) {
        bs_rng r;
        bs_rng_seed(&r, seed);
        assert_int_equal(bs_folds_stratified(y, N, K, &r, f1), 0);
        int64_t cnt[K][2] = {{0}};
        for (int i = 0; i < N; i++) {
            assert_true(f1[i] >= 0 && f1[i] < K);
            cnt[f1[i]][y[i]]++;
        }
        for (int c = 0; c < 2; c++) {
            int64_t lo = N, hi = 0, tot_lo = N, tot_hi = 0;
            for (int f = 0; f < K; f++) {
                lo = cnt[f][c] < lo ? cnt[f][c] : lo, hi = cnt[f][c] > hi ? cnt[f][c] : hi;
                int64_t t = cnt[f][0] + cnt[f][1];
                tot_lo = t < tot_lo ? t : tot_lo, tot_hi = t > tot_hi ? t : tot_hi;
            }
            assert_true(hi - lo <= 1);         /* stratified */
            assert_true(tot_hi - tot_lo <= 1); /* balanced sizes */
        }
    }
    /* Same seed, same folds; another seed, other folds. */
    bs_rng a, b;
    bs_rng_seed(&a, 9), bs_rng_seed(&b, 9);
    assert_int_equal(bs_folds_stratified(y, N, K, &a, f1), 0);
    assert_int_equal(bs_folds_stratified(y, N, K, &b, f2), 0);
    assert_memory_equal(f1, f2, sizeof f1);
    bs_rng_seed(&b, 10);
    assert_int_equal(bs_folds_stratified(y, N, K, &b, f2), 0);
    assert_memory_not_equal(f1, f2, sizeof f1);
    assert_int_equal(bs_folds_stratified(y, 3, 5, &a, f1), -1);
}

/* Random groups of 1..7 rows (an image with its two mirrors is 3, duplicates make more),
 * labels per group, shuffled rows with arbitrary (sparse, negative) group ids. */
static void test_grouped_never_split(void **state) {
    (void)state;
    enum { MAXN = 4000, K = 5 };
    int32_t *y = malloc(sizeof(int32_t) * MAXN), *fold = malloc(sizeof(int32_t) * MAXN);
    int64_t *g = malloc(sizeof(int64_t) * MAXN);
    int64_t *gsize = malloc(sizeof(int64_t) * MAXN);
    for (uint64_t seed = 1; seed <= 200; seed++) {
        bs_rng r;
        bs_rng_seed(&r, 1000 + seed);
        int64_t n = 0, ng = 0, maxsize[3] = {0};
        int nclass = seed % 3 == 0 ? 3 : 2;
        while (n < 300 + (int64_t)(seed * 13 % 700)) {
            int64_t sz = 1 + (int64_t)bs_rng_below(&r, 7);
            int32_t lab = (int32_t)bs_rng_below(&r, (uint64_t)nclass);
            if (sz > maxsize[lab]) maxsize[lab] = sz;
            for (int64_t q = 0; q < sz && n < MAXN; q++) {
                y[n] = lab;
                g[n] = ng * 7919 - 100000; /* ids need not be dense or positive */
                n++;
            }
            gsize[ng++] = sz;
        }
        /* shuffle rows so groups are not contiguous */
        for (int64_t i = n - 1; i > 0; i--) {
            int64_t j = (int64_t)bs_rng_below(&r, (uint64_t)(i + 1));
            int32_t ty = y[i];
            y[i] = y[j], y[j] = ty;
            int64_t tg = g[i];
            g[i] = g[j], g[j] = tg;
        }
        bs_rng fr;
        bs_rng_seed(&fr, seed);
        assert_int_equal(bs_folds_grouped(y, g, n, K, &fr, fold), 0);
        /* never split: every row of a group shares the fold of the group's first row */
        for (int64_t i = 0; i < n; i++)
            for (int64_t j = i + 1; j < n; j++)
                if (g[i] == g[j]) assert_int_equal(fold[i], fold[j]);
        /* strata balanced within the largest group of that stratum (greedy bound) */
        int64_t cnt[K][3] = {{0}};
        for (int64_t i = 0; i < n; i++) cnt[fold[i]][y[i]]++;
        for (int c = 0; c < nclass; c++) {
            int64_t lo = n, hi = 0;
            for (int f = 0; f < K; f++)
                lo = cnt[f][c] < lo ? cnt[f][c] : lo, hi = cnt[f][c] > hi ? cnt[f][c] : hi;
            assert_true(hi - lo <= maxsize[c]);
        }
    }
    free(y), free(fold), free(g), free(gsize);
}

static void test_grouped_rules(void **state) {
    (void)state;
    /* A mixed group takes its majority label's stratum; fewer groups than folds is an error. */
    int32_t y[] = {1, 1, 0, 0, 0, 1, 0, 1};
    int64_t g[] = {5, 5, 5, 9, 9, 2, 4, 3};
    int32_t fold[8];
    bs_rng r;
    bs_rng_seed(&r, 4);
    assert_int_equal(bs_folds_grouped(y, g, 8, 5, &r, fold), 0);
    assert_int_equal(fold[0], fold[1]);
    assert_int_equal(fold[0], fold[2]);
    assert_int_equal(fold[3], fold[4]);
    /* 5 groups, 5 folds: every fold gets exactly one group */
    int used[5] = {0};
    used[fold[0]]++, used[fold[3]]++, used[fold[5]]++, used[fold[6]]++, used[fold[7]]++;
    for (int f = 0; f < 5; f++) assert_int_equal(used[f], 1);
    assert_int_equal(bs_folds_grouped(y, g, 8, 6, &r, fold), -1);
    assert_non_null(strstr(bs_error_message(), "5 groups cannot fill 6 folds"));
}

static void test_split(void **state) {
    (void)state;
    int32_t fold[] = {0, 1, 2, 1, 0, 1};
    int64_t *tr, *te, ntr, nte;
    assert_int_equal(bs_folds_split(fold, 6, 1, &tr, &ntr, &te, &nte), 0);
    assert_int_equal(ntr, 3);
    assert_int_equal(nte, 3);
    int64_t etr[] = {0, 2, 4}, ete[] = {1, 3, 5};
    assert_memory_equal(tr, etr, sizeof etr);
    assert_memory_equal(te, ete, sizeof ete);
    free(tr), free(te);
}

static void test_leak_hand(void **state) {
    (void)state;
    /* 4 images × 3 views (original, hmirror, vmirror), folds chosen by hand:
     * image 0: folds 0 0 0  → no leak
     * image 1: folds 0 1 1  → all three leak (each has a sibling elsewhere)
     * image 2: folds 2 2 1  → all three leak
     * image 3: folds 1 1 1  → no leak
     * total 6; per test fold: fold 0: row of image 1 (1); fold 1: image 1 ×2, image 2 ×1 (3);
     * fold 2: image 2 ×2 (2). */
    int64_t img[] = {0, 0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 3};
    int32_t fold[] = {0, 0, 0, 0, 1, 1, 2, 2, 1, 1, 1, 1};
    int64_t leaked, per[3];
    assert_int_equal(bs_folds_count_leaked(img, fold, 12, 3, &leaked, per), 0);
    assert_int_equal(leaked, 6);
    assert_int_equal(per[0], 1);
    assert_int_equal(per[1], 3);
    assert_int_equal(per[2], 2);

    /* The paper protocol on 368 images × 3 views: about 96 % of test rows leak (SPEC §6). */
    enum { NI = 368, N = NI * 3 };
    int32_t y[N], f[N];
    int64_t id[N];
    for (int i = 0; i < N; i++) id[i] = i % NI, y[i] = (i % NI) < 179;
    bs_rng r;
    bs_rng_seed(&r, 1);
    assert_int_equal(bs_folds_stratified(y, N, 5, &r, f), 0);
    assert_int_equal(bs_folds_count_leaked(id, f, N, 5, &leaked, NULL), 0);
    fprintf(stderr, "paper protocol, 368 images × 3 views, 5 folds: %lld of %d test rows leak\n",
            (long long)leaked, N);
    assert_true(leaked > 0.9 * N && leaked < N);
    /* Grouped folds over the same rows leak nothing. */
    assert_int_equal(bs_folds_grouped(y, id, N, 5, &r, f), 0);
    assert_int_equal(bs_folds_count_leaked(id, f, N, 5, &leaked, NULL), 0);
    assert_int_equal(leaked, 0);
}

static void test_groups_join(void **state) {
    (void)state;
    /* 8 items; ids join {0,3} and {5,6}; pairs join 3–7 and 1–2 and 6–4. */
    int64_t g[] = {10, 11, 12, 10, 14, 15, 15, 17};
    int64_t pairs[] = {3, 7, 2, 1, 6, 4};
    assert_int_equal(bs_groups_join(8, g, pairs, 3), 0);
    int64_t want[] = {0, 1, 1, 0, 4, 4, 4, 0};
    assert_memory_equal(g, want, sizeof want);
    int64_t bad[] = {0, 8};
    assert_int_equal(bs_groups_join(8, g, bad, 1), -1);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stratified),    cmocka_unit_test(test_grouped_never_split),
        cmocka_unit_test(test_grouped_rules), cmocka_unit_test(test_split),
        cmocka_unit_test(test_leak_hand),     cmocka_unit_test(test_groups_join),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
