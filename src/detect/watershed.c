/* watershed.c — marker-controlled watershed and the markers that split touching round
 * objects (libvips has neither). Not for: over-segmenting watersheds without markers. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "detect_internal.h"
#include "core/error.h"

typedef struct item {
    float e;
    uint32_t seq; /* insertion order: equal heights flood first-come */
    int32_t i;
} item;

static int before(const item *a, const item *b) {
    return a->e < b->e || (a->e == b->e && a->seq < b->seq);
}

static void push(item *h, size_t *n, item it) {
    size_t k = (*n)++;
    while (k > 0) {
        size_t p = (k - 1) / 2;
        if (!before(&it, &h[p])) break;
        h[k] = h[p];
        k = p;
    }
    h[k] = it;
}

static item pop(item *h, size_t *n) {
    item top = h[0], last = h[--*n];
    size_t k = 0;
    for (;;) {
        size_t c = 2 * k + 1;
        if (c >= *n) break;
        if (c + 1 < *n && before(&h[c + 1], &h[c])) c++;
        if (!before(&h[c], &last)) break;
        h[k] = h[c];
        k = c;
    }
    if (*n) h[k] = last;
    return top;
}

int bs_detect_watershed(const float *elev, const unsigned char *mask, int w, int h,
                        int32_t *labels) {
    size_t npx = (size_t)w * h, n = 0;
    uint32_t seq = 0;
    /* Every pixel enters the queue at most once: when it is labelled. */
    item *heap = malloc(sizeof *heap * (npx ? npx : 1));
    if (!heap) return bs_error("cells: out of memory (watershed)");
    for (size_t i = 0; i < npx; i++)
        if (labels[i] > 0 && mask[i]) push(heap, &n, (item){elev[i], seq++, (int32_t)i});
    while (n) {
        item it = pop(heap, &n);
        int x = (int)(it.i % w), y = (int)(it.i / w);
        const int dx[4] = {1, -1, 0, 0}, dy[4] = {0, 0, 1, -1};
        for (int k = 0; k < 4; k++) {
            int u = x + dx[k], v = y + dy[k];
            if (u < 0 || v < 0 || u >= w || v >= h) continue;
            size_t j = (size_t)v * w + u;
            if (!mask[j] || labels[j] > 0) continue;
            labels[j] = labels[it.i];
            push(heap, &n, (item){elev[j], seq++, (int32_t)j});
        }
    }
    free(heap);
    return 0;
}

typedef struct peak {
    float d;
    int32_t i;
} peak;

static int by_height(const void *a, const void *b) {
    const peak *p = a, *q = b;
    if (p->d != q->d) return p->d > q->d ? -1 : 1;
    return (p->i > q->i) - (p->i < q->i);
}

int bs_detect_components(const unsigned char *mask, int w, int h, int32_t *comp, int32_t *stack) {
    size_t npx = (size_t)w * h;
    int n = 0;
    memset(comp, 0, sizeof *comp * npx);
    for (size_t s = 0; s < npx; s++) {
        if (!mask[s] || comp[s]) continue;
        size_t top = 0;
        comp[s] = ++n;
        stack[top++] = (int32_t)s;
        while (top) {
            int32_t i = stack[--top];
            int x = i % w, y = i / w;
            for (int v = y - 1; v <= y + 1; v++)
                for (int u = x - 1; u <= x + 1; u++) {
                    if (u < 0 || v < 0 || u >= w || v >= h) continue;
                    size_t j = (size_t)v * w + u;
                    if (mask[j] && !comp[j]) comp[j] = n, stack[top++] = (int32_t)j;
                }
        }
    }
    return n;
}

static int32_t find(int32_t *parent, int32_t i) {
    while (parent[i] != i) i = parent[i] = parent[parent[i]];
    return i;
}

static int push_peak(bs_detect_peak **pk, size_t *n, size_t *cap, bs_detect_peak p) {
    if (*n == *cap) {
        size_t c = *cap ? 2 * *cap : 64;
        bs_detect_peak *g = realloc(*pk, sizeof *g * c);
        if (!g) return -1;
        *pk = g, *cap = c;
    }
    (*pk)[(*n)++] = p;
    return 0;
}

/* Every regional maximum of `dist`, by union-find over the pixels in decreasing height: when
 * two regions meet at level L, the lower one's peak ends there (its dynamic is its height
 * minus L; `sep` its distance to the higher one's peak). The highest peak of each component
 * never ends (dynamic and sep infinite). Appends to *out (grown as needed). */
static int find_peaks(const float *dist, int w, int h, const peak *px, size_t np, int32_t *parent,
                      int32_t *top, bs_detect_peak **out, size_t *n, size_t *cap) {
    for (size_t k = 0; k < np; k++) {
        int32_t p = px[k].i;
        parent[p] = p, top[p] = p;
        int x = p % w, y = p / w;
        for (int v = y - 1; v <= y + 1; v++)
            for (int u = x - 1; u <= x + 1; u++) {
                if (u < 0 || v < 0 || u >= w || v >= h) continue;
                int32_t q = v * w + u;
                if (parent[q] < 0) continue;
                int32_t a = find(parent, p), b = find(parent, q);
                if (a == b) continue;
                /* a: the region with the higher peak survives. */
                if (dist[top[a]] < dist[top[b]] ||
                    (dist[top[a]] == dist[top[b]] && top[a] > top[b])) {
                    int32_t t = a;
                    a = b, b = t;
                }
                int32_t t = top[b];
                double dx = t % w - top[a] % w, dy = t / w - top[a] / w;
                /* A pixel joining a region is no peak (dynamic 0): only maxima are kept. */
                if (dist[t] > px[k].d && push_peak(out, n, cap,
                                                   (bs_detect_peak){t, dist[t], dist[t] - px[k].d,
                                                                    sqrt(dx * dx + dy * dy)}))
                    return -1;
                parent[b] = a;
            }
    }
    for (size_t k = 0; k < np; k++) {
        int32_t p = px[k].i;
        if (find(parent, p) == p &&
            push_peak(out, n, cap, (bs_detect_peak){top[p], dist[top[p]], INFINITY, INFINITY}))
            return -1;
    }
    return 0;
}

int bs_detect_peaks(const float *dist, const unsigned char *mask, int w, int h,
                    bs_detect_peak **peaks, size_t *n) {
    size_t npx = (size_t)w * h, np = 0, cap = 0;
    *peaks = NULL, *n = 0;
    int32_t *parent = malloc(sizeof *parent * (npx ? npx : 1)),
            *top = malloc(sizeof *top * (npx ? npx : 1));
    peak *px = malloc(sizeof *px * (npx ? npx : 1));
    int rc = -1;
    if (parent && top && px) {
        for (size_t i = 0; i < npx; i++) {
            parent[i] = -1;
            if (mask[i]) px[np++] = (peak){dist[i], (int32_t)i};
        }
        qsort(px, np, sizeof *px, by_height);
        rc = find_peaks(dist, w, h, px, np, parent, top, peaks, n, &cap);
    }
    free(parent), free(top), free(px);
    if (rc) {
        free(*peaks), *peaks = NULL, *n = 0;
        return bs_error("cells: out of memory (peaks)");
    }
    return 0;
}

int bs_detect_markers(const float *dist, const unsigned char *mask, int w, int h, double hdyn,
                      double min_dist, double sep, int32_t *markers) {
    bs_detect_peak *pk;
    size_t n;
    if (bs_detect_peaks(dist, mask, w, h, &pk, &n)) return -1;
    memset(markers, 0, sizeof *markers * (size_t)w * h);
    int nm = 0;
    /* The peaks in the order they ended (the kept ones of a component's merges first), then
     * each component's highest: the numbering of the earlier union-find loop. */
    for (size_t k = 0; k < n; k++)
        if (isinf(pk[k].dynamic) ||
            (pk[k].dynamic >= hdyn && pk[k].height >= min_dist && pk[k].sep >= sep))
            if (!markers[pk[k].i]) markers[pk[k].i] = ++nm;
    free(pk);
    return nm;
}
