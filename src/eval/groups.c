/* groups.c — joining items into groups (union–find): rows that share an id, or that a pair
 * names together (near duplicates, a patient, a slide), end up with one group id: the smallest
 * item index of their component. Not for: finding the pairs (neardup.c). */
#include "eval/eval.h"

#include <stdlib.h>

#include "core/error.h"
#include "core/io.h"
#include "core/unionfind.h"

typedef struct {
    int64_t id, item;
} id_item;

static int cmp_id_item(const void *a, const void *b) {
    const id_item *x = a, *y = b;
    if (x->id != y->id) return (x->id > y->id) - (x->id < y->id);
    return (x->item > y->item) - (x->item < y->item);
}

int bs_groups_join(int64_t n, int64_t *group, const int64_t *pairs, int64_t n_pairs) {
    if (n < 0 || n_pairs < 0) return bs_error("groups: negative count");
    for (int64_t p = 0; p < 2 * n_pairs; p++)
        if (pairs[p] < 0 || pairs[p] >= n)
            return bs_error("groups: pair %lld names item %lld, outside 0..%lld",
                            (long long)(p / 2), (long long)pairs[p], (long long)(n - 1));
    int64_t *parent = bs_malloc(sizeof *parent * (size_t)(n ? n : 1));
    id_item *ii = bs_malloc(sizeof *ii * (size_t)(n ? n : 1));
    if (!parent || !ii) {
        free(parent), free(ii);
        return -1;
    }
    bs_uf_init(parent, n);
    for (int64_t i = 0; i < n; i++) ii[i].id = group[i], ii[i].item = i;
    /* items sharing an input id */
    qsort(ii, (size_t)n, sizeof *ii, cmp_id_item);
    for (int64_t i = 1; i < n; i++)
        if (ii[i].id == ii[i - 1].id) bs_uf_union(parent, ii[i - 1].item, ii[i].item);
    for (int64_t p = 0; p < n_pairs; p++) bs_uf_union(parent, pairs[2 * p], pairs[2 * p + 1]);
    for (int64_t i = 0; i < n; i++) group[i] = bs_uf_find(parent, i);
    free(parent), free(ii);
    return 0;
}
