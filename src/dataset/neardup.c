/* neardup.c — near-duplicate images: the same cell photographed twice, a few pixels apart
 * (SPEC §7). Band-passed grey thumbnails compared by the best Pearson correlation over small
 * shifts; a coarse 16² plain-grey stage discards obvious non-matches first; candidates are
 * verified on 128² finer band-passed planes at the shift found, and linked into clusters by
 * average linkage. The method and the threshold are argued in docs/near-duplicates.md. Not for: exact duplicates (a pixel hash finds those)
 * or decoding images (the image stage). */
#include "dataset/neardup.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/io.h"

#define S BS_NEARDUP_SIZE
#define FN BS_NEARDUP_FINE
#define FINE_HP 2       /* band-pass radius of the fine plane */
#define FINE_SLACK 3    /* fine pixels searched around the coarse shift (scaled) */
#define C (S / 4)       /* coarse size */
#define COARSE_SHIFT 2  /* ±2 coarse pixels ≥ ±BS_NEARDUP_SHIFT/4 + rounding slack */
#define COARSE_PASS 0.5 /* loose: on aria2021 a stage of 0.2 found the same pairs (docs) */
#define MIN_OVERLAP 0.6 /* shifts are small, so the overlap is never below ~76 % anyway */
#define MIN_STD 0.1     /* grey levels: a thumbnail flatter than this has no detail to match */

/* Resample src (n_in values, stride `stride`) onto n_out cells by exact area averaging. */
static void area_1d(const double *src, int n_in, int stride, double *dst, int n_out) {
    double step = (double)n_in / n_out;
    for (int o = 0; o < n_out; o++) {
        double a = o * step, b = a + step, sum = 0.0;
        for (int i = (int)a; i < n_in && i < b; i++) {
            double lo = i > a ? i : a, hi = i + 1 < b ? i + 1 : b;
            if (hi > lo) sum += (hi - lo) * src[(int64_t)i * stride];
        }
        dst[o] = sum / step;
    }
}

/* Subtract the local mean over a (2r+1)² box (clipped at the edges): keeps detail at the
 * scale of a few pixels, drops the overall shape and illumination. */
static void band_pass(const double *in, double *out, int n, int r) {
    for (int y = 0; y < n; y++)
        for (int x = 0; x < n; x++) {
            double s = 0.0;
            int cnt = 0;
            for (int v = y - r; v <= y + r; v++)
                for (int u = x - r; u <= x + r; u++)
                    if (u >= 0 && u < n && v >= 0 && v < n) s += in[v * n + u], cnt++;
            out[y * n + x] = in[y * n + x] - s / cnt;
        }
}

/* Grey (0.299 R + 0.587 G + 0.114 B) resampled to n × n by exact area averaging (aspect ratio
 * ignored) into out. */
static int grey_area(const unsigned char *rgb, int width, int height, int n, double *out) {
    double *grey = bs_malloc(sizeof(double) * (size_t)width * (size_t)height);
    double *rows = bs_malloc(sizeof(double) * (size_t)height * (size_t)n);
    double *col = bs_malloc(sizeof(double) * (size_t)n);
    if (!grey || !rows || !col) {
        free(grey), free(rows), free(col);
        return -1;
    }
    for (int64_t i = 0; i < (int64_t)width * height; i++)
        grey[i] = 0.299 * rgb[3 * i] + 0.587 * rgb[3 * i + 1] + 0.114 * rgb[3 * i + 2];
    for (int y = 0; y < height; y++)
        area_1d(grey + (int64_t)y * width, width, 1, rows + (int64_t)y * n, n);
    for (int x = 0; x < n; x++) {
        area_1d(rows + x, height, n, col, n);
        for (int y = 0; y < n; y++) out[y * n + x] = col[y];
    }
    free(grey), free(rows), free(col);
    return 0;
}

/* Light 3×3 binomial blur (clipped at the edges): sub-pixel misregistration then costs little
 * correlation, and pixel noise is damped. */
static void blur3(const double *in, double *out, int n) {
    for (int y = 0; y < n; y++)
        for (int x = 0; x < n; x++) {
            double s = 0.0, w = 0.0;
            for (int v = -1; v <= 1; v++)
                for (int u = -1; u <= 1; u++) {
                    int yy = y + v, xx = x + u;
                    if (yy < 0 || yy >= n || xx < 0 || xx >= n) continue;
                    double k = (v ? 1 : 2) * (u ? 1 : 2);
                    s += k * in[yy * n + xx], w += k;
                }
            out[y * n + x] = s / w;
        }
}

int bs_neardup_thumbnail(const unsigned char *rgb, int width, int height, float *thumb) {
    if (!rgb || width < 1 || height < 1) return bs_error("near-duplicates: empty image");
    double *t = bs_malloc(sizeof(double) * S * S);
    double *sm = bs_malloc(sizeof(double) * S * S);
    if (!t || !sm || grey_area(rgb, width, height, S, t)) {
        free(t), free(sm);
        return -1;
    }
    blur3(t, sm, S);
    /* coarse plane: 4×4 means of the unfiltered thumbnail */
    for (int y = 0; y < C; y++)
        for (int x = 0; x < C; x++) {
            double s = 0;
            for (int v = 0; v < 4; v++)
                for (int u = 0; u < 4; u++) s += t[(4 * y + v) * S + 4 * x + u];
            thumb[S * S + y * C + x] = (float)(s / 16);
        }
    band_pass(sm, t, S, BS_NEARDUP_HP);
    for (int i = 0; i < S * S; i++) thumb[i] = (float)t[i];
    free(t), free(sm);
    return 0;
}

int bs_neardup_fine(const unsigned char *rgb, int width, int height, float *fine) {
    if (!rgb || width < 1 || height < 1) return bs_error("near-duplicates: empty image");
    double *t = bs_malloc(sizeof(double) * FN * FN);
    double *sm = bs_malloc(sizeof(double) * FN * FN);
    if (!t || !sm || grey_area(rgb, width, height, FN, t)) {
        free(t), free(sm);
        return -1;
    }
    blur3(t, sm, FN);
    band_pass(sm, t, FN, FINE_HP);
    for (int i = 0; i < FN * FN; i++) fine[i] = (float)t[i];
    free(t), free(sm);
    return 0;
}

/* Best Pearson correlation of a and b (n×n) over shifts |dx|,|dy| ≤ r, comparing a(x, y) with
 * b(x + dx, y + dy) on the overlap. */
static double shifted_corr_at(const float *a, const float *b, int n, int cx, int cy, int r,
                              int *bdx, int *bdy) {
    double best = -1.0;
    int bx = cx, by = cy;
    for (int dy = cy - r; dy <= cy + r; dy++)
        for (int dx = cx - r; dx <= cx + r; dx++) {
            int x0 = dx < 0 ? -dx : 0, x1 = dx > 0 ? n - dx : n;
            int y0 = dy < 0 ? -dy : 0, y1 = dy > 0 ? n - dy : n;
            double m = (double)(x1 - x0) * (y1 - y0);
            if (m < MIN_OVERLAP * n * n) continue;
            double sa = 0, sb = 0, saa = 0, sbb = 0, sab = 0;
            for (int y = y0; y < y1; y++) {
                const float *ar = a + y * n, *br = b + (y + dy) * n + dx;
                for (int x = x0; x < x1; x++) {
                    double p = ar[x], q = br[x];
                    sa += p, sb += q, saa += p * p, sbb += q * q, sab += p * q;
                }
            }
            double va = saa - sa * sa / m, vb = sbb - sb * sb / m;
            if (va <= MIN_STD * MIN_STD * m || vb <= MIN_STD * MIN_STD * m) continue;
            double c = (sab - sa * sb / m) / sqrt(va * vb);
            if (c > best) best = c, bx = dx, by = dy;
        }
    if (bdx) *bdx = bx;
    if (bdy) *bdy = by;
    return best;
}

static double shifted_corr(const float *a, const float *b, int n, int r, int *bdx, int *bdy) {
    return shifted_corr_at(a, b, n, 0, 0, r, bdx, bdy);
}

double bs_neardup_verify(const float *fa, const float *fb, int dx, int dy) {
    return shifted_corr_at(fa, fb, FN, dx * FN / S, dy * FN / S, FINE_SLACK, NULL, NULL);
}

double bs_neardup_score(const float *a, const float *b, int *dx, int *dy) {
    return shifted_corr(a, b, S, BS_NEARDUP_SHIFT, dx, dy);
}

static int cmp_pair(const void *x, const void *y) {
    const bs_neardup_pair *p = x, *q = y;
    if (p->a != q->a) return (p->a > q->a) - (p->a < q->a);
    return (p->b > q->b) - (p->b < q->b);
}

int bs_neardup_find(const float *thumbs, int64_t n, double threshold, bs_neardup_pair **pairs,
                    int64_t *n_pairs) {
    *pairs = NULL;
    *n_pairs = 0;
    if (n < 2) return 0;
    const int64_t F = BS_NEARDUP_FLOATS;
    bs_neardup_pair *out = NULL;
    int64_t count = 0, cap = 0;
    int failed = 0;
#pragma omp parallel for schedule(dynamic, 4)
    for (int64_t i = 0; i < n; i++) {
        for (int64_t j = i + 1; j < n; j++) {
            if (shifted_corr(thumbs + i * F + S * S, thumbs + j * F + S * S, C, COARSE_SHIFT, NULL,
                             NULL) < COARSE_PASS)
                continue;
            int dx, dy;
            double sc = bs_neardup_score(thumbs + i * F, thumbs + j * F, &dx, &dy);
            if (sc < threshold) continue;
#pragma omp critical(bs_neardup_append)
            {
                if (count == cap && !failed) {
                    int64_t nc = cap ? 2 * cap : 64;
                    bs_neardup_pair *g = realloc(out, sizeof *g * (size_t)nc);
                    if (g)
                        out = g, cap = nc;
                    else
                        failed = 1;
                }
                if (!failed)
                    out[count++] =
                        (bs_neardup_pair){.a = i, .b = j, .score = sc, .dx = dx, .dy = dy};
            }
        }
    }
    if (failed) {
        free(out);
        return bs_error("near-duplicates: out of memory");
    }
    if (count) qsort(out, (size_t)count, sizeof *out, cmp_pair);
    *pairs = out;
    *n_pairs = count;
    return 0;
}

static int cmp_fine_desc(const void *x, const void *y) {
    const bs_neardup_pair *p = x, *q = y;
    if (p->fine != q->fine) return p->fine < q->fine ? 1 : -1;
    return cmp_pair(x, y); /* ties in (a, b) order: deterministic */
}

static int64_t root_of(int64_t *parent, int64_t i) {
    while (parent[i] != i) i = parent[i] = parent[parent[i]];
    return i;
}

/* Is (a, b) one of the pairs? `by_ab` holds the pairs' (a, b) sorted, a < b. */
static int has_pair(const bs_neardup_pair *by_ab, int64_t np, int64_t a, int64_t b) {
    if (a > b) {
        int64_t t = a;
        a = b, b = t;
    }
    bs_neardup_pair key = {.a = a, .b = b};
    return bsearch(&key, by_ab, (size_t)np, sizeof key, cmp_pair) != NULL;
}

int bs_neardup_link(bs_neardup_pair *pairs, int64_t n_pairs, int64_t n) {
    if (n_pairs <= 0) return 0;
    int64_t *parent = bs_malloc(sizeof *parent * (size_t)n);
    int64_t *next = bs_malloc(sizeof *next * (size_t)n); /* members of a cluster: a cycle */
    int64_t *size = bs_malloc(sizeof *size * (size_t)n);
    bs_neardup_pair *by_ab = bs_malloc(sizeof *by_ab * (size_t)n_pairs);
    if (!parent || !next || !size || !by_ab) {
        free(parent), free(next), free(size), free(by_ab);
        return -1;
    }
    for (int64_t i = 0; i < n; i++) parent[i] = next[i] = i, size[i] = 1;
    memcpy(by_ab, pairs, sizeof *by_ab * (size_t)n_pairs);
    qsort(by_ab, (size_t)n_pairs, sizeof *by_ab, cmp_pair);
    qsort(pairs, (size_t)n_pairs, sizeof *pairs, cmp_fine_desc);
    for (int64_t p = 0; p < n_pairs; p++) {
        int64_t ra = root_of(parent, pairs[p].a), rb = root_of(parent, pairs[p].b);
        pairs[p].linked = 1;
        if (ra == rb) continue;
        int64_t across = 0, ai = ra;
        do {
            int64_t bi = rb;
            do across += has_pair(by_ab, n_pairs, ai, bi);
            while ((bi = next[bi]) != rb);
        } while ((ai = next[ai]) != ra);
        if (2 * across < size[ra] * size[rb]) {
            pairs[p].linked = 0;
            continue;
        }
        int64_t t = next[ra]; /* splice the two member cycles */
        next[ra] = next[rb], next[rb] = t;
        if (ra < rb)
            parent[rb] = ra, size[ra] += size[rb];
        else
            parent[ra] = rb, size[rb] += size[ra];
    }
    free(parent), free(next), free(size), free(by_ab);
    return 0;
}
