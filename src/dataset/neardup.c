/* neardup.c — near-duplicate images: the same cell photographed twice, a few pixels apart
 * (SPEC §7). Band-passed grey thumbnails compared by the best Pearson correlation over small
 * shifts; a coarse 16² plain-grey stage discards obvious non-matches first. The method and the
 * threshold are argued in docs/near-duplicates.md. Not for: exact duplicates (a pixel hash finds those)
 * or decoding images (the image stage). */
#include "dataset/neardup.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/io.h"

#define S BS_NEARDUP_SIZE
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

int bs_neardup_thumbnail(const unsigned char *rgb, int width, int height, float *thumb) {
    if (!rgb || width < 1 || height < 1) return bs_error("near-duplicates: empty image");
    double *grey = bs_malloc(sizeof(double) * (size_t)width * (size_t)height);
    double *rows = bs_malloc(sizeof(double) * (size_t)height * S);
    double *t = bs_malloc(sizeof(double) * S * S);
    double *sm = bs_malloc(sizeof(double) * S * S);
    if (!grey || !rows || !t || !sm) {
        free(grey), free(rows), free(t), free(sm);
        return -1;
    }
    for (int64_t i = 0; i < (int64_t)width * height; i++)
        grey[i] = 0.299 * rgb[3 * i] + 0.587 * rgb[3 * i + 1] + 0.114 * rgb[3 * i + 2];
    for (int y = 0; y < height; y++)
        area_1d(grey + (int64_t)y * width, width, 1, rows + (int64_t)y * S, S);
    double col[S];
    for (int x = 0; x < S; x++) {
        area_1d(rows + x, height, S, col, S);
        for (int y = 0; y < S; y++) t[y * S + x] = col[y];
    }
    /* light 3×3 binomial blur: sub-pixel misregistration then costs little correlation */
    for (int y = 0; y < S; y++)
        for (int x = 0; x < S; x++) {
            double s = 0.0, w = 0.0;
            for (int v = -1; v <= 1; v++)
                for (int u = -1; u <= 1; u++) {
                    int yy = y + v, xx = x + u;
                    if (yy < 0 || yy >= S || xx < 0 || xx >= S) continue;
                    double k = (v ? 1 : 2) * (u ? 1 : 2);
                    s += k * t[yy * S + xx], w += k;
                }
            sm[y * S + x] = s / w;
        }
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
    free(grey), free(rows), free(t), free(sm);
    return 0;
}

/* Best Pearson correlation of a and b (n×n) over shifts |dx|,|dy| ≤ r, comparing a(x, y) with
 * b(x + dx, y + dy) on the overlap. */
static double shifted_corr(const float *a, const float *b, int n, int r, int *bdx, int *bdy) {
    double best = -1.0;
    int bx = 0, by = 0;
    for (int dy = -r; dy <= r; dy++)
        for (int dx = -r; dx <= r; dx++) {
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
                    if (g) out = g, cap = nc;
                    else failed = 1;
                }
                if (!failed) out[count++] = (bs_neardup_pair){i, j, sc, dx, dy};
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
