/* match.c — one-to-one matching of detections with annotated white cells (truth.h): a maximum
 * bipartite matching by augmenting paths (Kuhn), each annotation trying its compatible
 * detections closest centre first, so among the largest matchings the near pairs win.
 * Not for: reading annotations (truth.c). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/io.h"
#include "truth.h"

/* A box matches when each one's centre lies inside the other; a point when it lies inside
 * the detection's (half-open) box. */
static int compatible(const bs_cell *d, const bs_truth_cell *t) {
    double cx = 0.5 * (t->x0 + t->x1), cy = 0.5 * (t->y0 + t->y1);
    int truth_in_det = cx >= d->x0 && cx < d->x1 && cy >= d->y0 && cy < d->y1;
    if (!t->is_box) return truth_in_det;
    return truth_in_det && d->x >= t->x0 && d->x <= t->x1 && d->y >= t->y0 && d->y <= t->y1;
}

typedef struct {
    int64_t *start, *adj; /* CSR: candidates of truth j are adj[start[j]..start[j+1]) */
    int64_t *of_det, *of_truth;
    unsigned char *seen; /* detections visited in this augmentation */
} graph;

/* Iterative augmenting-path search from truth j (no recursion: thousands of records must not
 * overflow the stack). stack holds (truth, next candidate position) pairs. */
static int augment(graph *g, int64_t j0, int64_t *stack_t, int64_t *stack_k, int64_t *via) {
    int64_t top = 0;
    stack_t[0] = j0;
    stack_k[0] = g->start[j0];
    while (top >= 0) {
        int64_t j = stack_t[top];
        if (stack_k[top] == g->start[j + 1]) {
            top--;
            continue;
        }
        int64_t i = g->adj[stack_k[top]++];
        if (g->seen[i]) continue;
        g->seen[i] = 1;
        via[top] = i;
        if (g->of_det[i] < 0) { /* free detection: flip the path */
            for (int64_t s = top; s >= 0; s--) {
                g->of_det[via[s]] = stack_t[s];
                g->of_truth[stack_t[s]] = via[s];
            }
            return 1;
        }
        top++;
        stack_t[top] = g->of_det[i];
        stack_k[top] = g->start[stack_t[top]];
    }
    return 0;
}

typedef struct {
    double d2;
    int64_t i;
} cand;

static int by_distance(const void *a, const void *b) {
    const cand *x = a, *y = b;
    if (x->d2 != y->d2) return x->d2 < y->d2 ? -1 : 1;
    return x->i < y->i ? -1 : x->i > y->i;
}

/* Candidates of every truth record, closest first. */
static int build(graph *g, const bs_cell *det, size_t n, const bs_truth_cell *truth, size_t m) {
    size_t cap = 0;
    cand *c = NULL;
    int64_t used = 0, alloc = 0;
    g->start[0] = 0;
    for (size_t j = 0; j < m; j++) {
        size_t k = 0;
        double tx = 0.5 * (truth[j].x0 + truth[j].x1), ty = 0.5 * (truth[j].y0 + truth[j].y1);
        for (size_t i = 0; i < n; i++) {
            if (!compatible(&det[i], &truth[j])) continue;
            if (k == cap) {
                cap = cap ? 2 * cap : 16;
                cand *v = bs_realloc(c, cap * sizeof *v);
                if (!v) goto fail;
                c = v;
            }
            double dx = det[i].x - tx, dy = det[i].y - ty;
            c[k++] = (cand){dx * dx + dy * dy, (int64_t)i};
        }
        if (k > 1) qsort(c, k, sizeof *c, by_distance);
        if (used + (int64_t)k > alloc) {
            alloc = 2 * (used + (int64_t)k) + 16;
            int64_t *v = bs_realloc(g->adj, (size_t)alloc * sizeof *v);
            if (!v) goto fail;
            g->adj = v;
        }
        for (size_t q = 0; q < k; q++) g->adj[used++] = c[q].i;
        g->start[j + 1] = used;
    }
    free(c);
    return 0;
fail:
    free(c);
    return -1;
}

int64_t bs_truth_match(const bs_cell *det, size_t n, const bs_truth_cell *truth, size_t m,
                       int64_t *match_of_det, int64_t *match_of_truth) {
    for (size_t i = 0; i < n; i++) match_of_det[i] = -1;
    for (size_t j = 0; j < m; j++) match_of_truth[j] = -1;
    if (n == 0 || m == 0) return 0;
    graph g = {bs_calloc(m + 1, sizeof(int64_t)), NULL, match_of_det, match_of_truth,
               bs_calloc(n, 1)};
    int64_t *st = bs_calloc(m + 1, sizeof *st), *sk = bs_calloc(m + 1, sizeof *sk),
            *via = bs_calloc(m + 1, sizeof *via);
    int64_t pairs = -1;
    if (g.start && g.seen && st && sk && via && build(&g, det, n, truth, m) == 0) {
        pairs = 0;
        for (size_t j = 0; j < m; j++) {
            memset(g.seen, 0, n);
            pairs += augment(&g, (int64_t)j, st, sk, via);
        }
    }
    free(g.start);
    free(g.adj);
    free(g.seen);
    free(st);
    free(sk);
    free(via);
    return pairs;
}

void bs_truth_ratios(const bs_truth_counts *c, double *precision, double *recall, double *f1) {
    double tp = (double)c->tp;
    *precision = c->tp + c->fp > 0 ? tp / (double)(c->tp + c->fp) : NAN;
    *recall = c->tp + c->fn > 0 ? tp / (double)(c->tp + c->fn) : NAN;
    *f1 = c->tp + c->fp + c->fn > 0 ? 2 * tp / (double)(2 * c->tp + c->fp + c->fn) : NAN;
}
