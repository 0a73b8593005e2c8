/* edt.c — exact Euclidean distance transform (libvips has none): Felzenszwalb & Huttenlocher,
 * "Distance transforms of sampled functions" (2012), squared distances along columns, then
 * along rows, then a square root. Not for: other metrics or feature (nearest-pixel) maps. */
#include <math.h>
#include <stdlib.h>

#include "detect_internal.h"
#include "core/error.h"

/* Lower envelope of the parabolas (q - i)^2 + f[i]: d[q] = min_i of them. v, z: scratch of
 * n and n + 1 entries. */
static void dt1d(const float *f, int n, float *d, int *v, float *z) {
    int k = 0;
    v[0] = 0;
    z[0] = -INFINITY, z[1] = INFINITY;
    for (int q = 1; q < n; q++) {
        float s;
        for (;;) {
            int p = v[k];
            s = ((f[q] + (float)q * q) - (f[p] + (float)p * p)) / (2.0f * (q - p));
            if (s > z[k] || k == 0) break;
            k--;
        }
        if (s <= z[k]) { /* k == 0 and the new parabola hides the first one everywhere */
            v[0] = q;
            z[1] = INFINITY;
            continue;
        }
        k++;
        v[k] = q;
        z[k] = s, z[k + 1] = INFINITY;
    }
    k = 0;
    for (int q = 0; q < n; q++) {
        while (z[k + 1] < q) k++;
        float dq = (float)(q - v[k]);
        d[q] = dq * dq + f[v[k]];
    }
}

int bs_detect_edt(const unsigned char *mask, int w, int h, float *dist) {
    int n = w > h ? w : h;
    /* A finite "infinity" keeps the parabola intersections finite; (w + h)^2 exceeds every
     * real squared distance. */
    const float big = (float)(w + h) * (float)(w + h);
    float *f = calloc((size_t)n, sizeof *f), *d = calloc((size_t)n, sizeof *d),
          *z = malloc(sizeof *z * (n + 1));
    int *v = malloc(sizeof *v * n);
    if (!f || !d || !z || !v) {
        free(f), free(d), free(z), free(v);
        return bs_error("cells: out of memory (distance transform)");
    }
    for (int x = 0; x < w; x++) {
        for (int y = 0; y < h; y++) f[y] = mask[(size_t)y * w + x] ? big : 0;
        dt1d(f, h, d, v, z);
        for (int y = 0; y < h; y++) dist[(size_t)y * w + x] = d[y];
    }
    for (int y = 0; y < h; y++) {
        float *row = dist + (size_t)y * w;
        for (int x = 0; x < w; x++) f[x] = row[x] < big ? row[x] : big;
        dt1d(f, w, d, v, z);
        for (int x = 0; x < w; x++) row[x] = d[x] >= big ? (float)(w + h) : sqrtf(d[x]);
    }
    free(f), free(d), free(z), free(v);
    return 0;
}
