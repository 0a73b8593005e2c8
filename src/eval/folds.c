/* folds.c — cross-validation fold assignment for the paper protocol (stratified over rows) and
 * the grouped protocol (stratified over groups), fold splitting, and the paper protocol's leak
 * count. See eval.h for the exact rules. Not for: deciding which rows form a group (groups.c). */
#include "eval/eval.h"

#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/io.h"

static int32_t max_label(const int32_t *labels, int64_t n) {
    int32_t m = -1;
    for (int64_t i = 0; i < n; i++)
        if (labels[i] > m) m = labels[i];
    return m;
}

int bs_folds_stratified(const int32_t *labels, int64_t n, int k, bs_rng *rng, int32_t *fold) {
    if (k < 2 || n < k)
        return bs_error("folds: need 2 <= k <= rows (k = %d, %lld rows)", k, (long long)n);
    for (int64_t i = 0; i < n; i++)
        if (labels[i] < 0)
            return bs_error("folds: row %lld has negative label %d", (long long)i, labels[i]);
    int32_t nl = max_label(labels, n) + 1;
    size_t *idx = bs_malloc(sizeof *idx * (size_t)n);
    if (!idx) return -1;
    int64_t deal = 0;
    for (int32_t c = 0; c < nl; c++) {
        size_t m = 0;
        for (int64_t i = 0; i < n; i++)
            if (labels[i] == c) idx[m++] = (size_t)i;
        bs_rng_shuffle(rng, idx, m);
        for (size_t j = 0; j < m; j++) fold[idx[j]] = (int32_t)(deal++ % k);
    }
    free(idx);
    return 0;
}

/* ---- grouped ---------------------------------------------------------------------------- */

typedef struct {
    int64_t id;
    int64_t row;
} id_row;

static int cmp_id_row(const void *a, const void *b) {
    const id_row *x = a, *y = b;
    if (x->id != y->id) return (x->id > y->id) - (x->id < y->id);
    return (x->row > y->row) - (x->row < y->row);
}

typedef struct {
    int64_t first; /* start in the sorted id_row array */
    int64_t size;
    int32_t stratum;
} group_info;

/* Stable sort by size descending over an index array (insertion sort is fine: groups ≤ rows,
 * and this runs once per experiment; a merge sort keeps it O(g log g) anyway). */
static void sort_by_size_desc(int64_t *ix, int64_t m, const group_info *g, int64_t *tmp) {
    if (m < 2) return;
    int64_t h = m / 2;
    sort_by_size_desc(ix, h, g, tmp);
    sort_by_size_desc(ix + h, m - h, g, tmp);
    int64_t i = 0, j = h, o = 0;
    while (i < h && j < m) tmp[o++] = g[ix[j]].size > g[ix[i]].size ? ix[j++] : ix[i++];
    while (i < h) tmp[o++] = ix[i++];
    while (j < m) tmp[o++] = ix[j++];
    memcpy(ix, tmp, sizeof *ix * (size_t)m);
}

int bs_folds_grouped(const int32_t *labels, const int64_t *group, int64_t n, int k, bs_rng *rng,
                     int32_t *fold) {
    if (k < 2) return bs_error("grouped folds: need k >= 2 (k = %d)", k);
    for (int64_t i = 0; i < n; i++)
        if (labels[i] < 0)
            return bs_error("grouped folds: row %lld has negative label %d", (long long)i,
                            labels[i]);
    int32_t nl = max_label(labels, n) + 1;
    int rc = -1;
    id_row *ir = bs_malloc(sizeof *ir * (size_t)(n ? n : 1));
    group_info *g = bs_malloc(sizeof *g * (size_t)(n ? n : 1));
    int64_t *lab_count = bs_calloc((size_t)(nl > 0 ? nl : 1), sizeof *lab_count);
    int64_t *ix = bs_malloc(sizeof *ix * (size_t)(n ? n : 1));
    int64_t *tmp = bs_malloc(sizeof *tmp * (size_t)(n ? n : 1));
    size_t *perm = bs_malloc(sizeof *perm * (size_t)(n ? n : 1));
    int64_t *fold_total = bs_calloc((size_t)k, sizeof *fold_total);
    int64_t *fold_class = bs_calloc((size_t)k, sizeof *fold_class);
    int *ties = bs_malloc(sizeof *ties * (size_t)k);
    if (!ir || !g || !lab_count || !ix || !tmp || !perm || !fold_total || !fold_class || !ties)
        goto done;

    for (int64_t i = 0; i < n; i++) ir[i].id = group[i], ir[i].row = i;
    qsort(ir, (size_t)n, sizeof *ir, cmp_id_row);
    int64_t ng = 0;
    for (int64_t i = 0; i < n;) {
        int64_t j = i;
        memset(lab_count, 0, sizeof *lab_count * (size_t)nl);
        while (j < n && ir[j].id == ir[i].id) lab_count[labels[ir[j].row]]++, j++;
        int32_t best = 0;
        for (int32_t c = 1; c < nl; c++)
            if (lab_count[c] > lab_count[best]) best = c;
        g[ng].first = i, g[ng].size = j - i, g[ng].stratum = best;
        ng++;
        i = j;
    }
    if (ng < k) {
        bs_error("grouped folds: %lld groups cannot fill %d folds", (long long)ng, k);
        goto done;
    }
    for (int32_t c = 0; c < nl; c++) {
        int64_t m = 0;
        for (int64_t q = 0; q < ng; q++)
            if (g[q].stratum == c) perm[m++] = (size_t)q;
        bs_rng_shuffle(rng, perm, (size_t)m);
        for (int64_t q = 0; q < m; q++) ix[q] = (int64_t)perm[q];
        sort_by_size_desc(ix, m, g, tmp);
        memset(fold_class, 0, sizeof *fold_class * (size_t)k);
        for (int64_t q = 0; q < m; q++) {
            const group_info *gi = &g[ix[q]];
            /* fewest rows of this stratum, then fewest rows overall, then random */
            int nt = 0;
            for (int f = 0; f < k; f++) {
                if (nt == 0 || fold_class[f] < fold_class[ties[0]] ||
                    (fold_class[f] == fold_class[ties[0]] && fold_total[f] < fold_total[ties[0]])) {
                    ties[0] = f, nt = 1;
                } else if (fold_class[f] == fold_class[ties[0]] &&
                           fold_total[f] == fold_total[ties[0]]) {
                    ties[nt++] = f;
                }
            }
            int f = nt == 1 ? ties[0] : ties[bs_rng_below(rng, (uint64_t)nt)];
            fold_class[f] += gi->size;
            fold_total[f] += gi->size;
            for (int64_t r = 0; r < gi->size; r++) fold[ir[gi->first + r].row] = (int32_t)f;
        }
    }
    for (int f = 0; f < k; f++)
        if (fold_total[f] == 0) {
            bs_error("grouped folds: fold %d is empty", f);
            goto done;
        }
    rc = 0;
done:
    free(ir), free(g), free(lab_count), free(ix), free(tmp), free(perm);
    free(fold_total), free(fold_class), free(ties);
    return rc;
}

int bs_folds_split(const int32_t *fold, int64_t n, int f, int64_t **train, int64_t *n_train,
                   int64_t **test, int64_t *n_test) {
    int64_t nt = 0;
    for (int64_t i = 0; i < n; i++) nt += fold[i] == f;
    *train = bs_malloc(sizeof **train * (size_t)(n - nt > 0 ? n - nt : 1));
    *test = bs_malloc(sizeof **test * (size_t)(nt > 0 ? nt : 1));
    if (!*train || !*test) {
        free(*train), free(*test);
        *train = *test = NULL;
        return -1;
    }
    int64_t a = 0, b = 0;
    for (int64_t i = 0; i < n; i++) {
        if (fold[i] == f)
            (*test)[b++] = i;
        else
            (*train)[a++] = i;
    }
    *n_train = a, *n_test = b;
    return 0;
}

int bs_folds_count_leaked(const int64_t *image_id, const int32_t *fold, int64_t n, int k,
                          int64_t *leaked, int64_t *per_fold) {
    id_row *ir = bs_malloc(sizeof *ir * (size_t)(n ? n : 1));
    if (!ir) return -1;
    for (int64_t i = 0; i < n; i++) {
        if (fold[i] < 0 || fold[i] >= k) {
            free(ir);
            return bs_error("leak count: row %lld has fold %d, outside 0..%d", (long long)i,
                            fold[i], k - 1);
        }
        ir[i].id = image_id[i], ir[i].row = i;
    }
    qsort(ir, (size_t)n, sizeof *ir, cmp_id_row);
    if (per_fold) memset(per_fold, 0, sizeof *per_fold * (size_t)k);
    int64_t total = 0;
    for (int64_t i = 0; i < n;) {
        int64_t j = i;
        while (j < n && ir[j].id == ir[i].id) j++;
        /* a row is leaked when a sibling sits in another fold */
        for (int64_t a = i; a < j; a++) {
            int32_t fa = fold[ir[a].row];
            int leak = 0;
            for (int64_t b = i; b < j && !leak; b++) leak = fold[ir[b].row] != fa;
            if (leak) {
                total++;
                if (per_fold) per_fold[fa]++;
            }
        }
        i = j;
    }
    *leaked = total;
    free(ir);
    return 0;
}
