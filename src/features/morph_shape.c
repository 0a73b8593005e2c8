/* morph_shape.c — outline, convex hull, moments, lobes and co-occurrence texture of a mask
 * (morph_shape.h). Plain loops on side × side masks: a crop is resampled to 128 × 128 first,
 * so every measurement here costs the same whatever the microscope. */
#include "morph_shape.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/io.h"
#include "core/stats.h"
#include "detect/mask.h"

typedef struct {
    double x, y;
} point;

/* The mask smoothed by the 3×3 binomial kernel on a grid padded by one pixel of outside:
 * g[(y + 1) · (side + 2) + (x + 1)] for x, y in -1..side. */
static void smooth_padded(const unsigned char *mask, int side, float *g) {
    const int gs = side + 2;
    for (int gy = 0; gy < gs; gy++)
        for (int gx = 0; gx < gs; gx++) {
            int x = gx - 1, y = gy - 1, sum = 0;
            for (int dy = -1; dy <= 1; dy++)
                for (int dx = -1; dx <= 1; dx++) {
                    int sx = x + dx, sy = y + dy;
                    if (sx < 0 || sy < 0 || sx >= side || sy >= side) continue;
                    if (mask[(size_t)sy * side + sx]) sum += (2 - abs(dx)) * (2 - abs(dy));
                }
            g[(size_t)gy * gs + gx] = (float)sum / 16.0f;
        }
}

/* Where the level 0.5 crosses the edge from (x0, y0) valued a to (x1, y1) valued b. */
static point cross(double x0, double y0, double a, double x1, double y1, double b) {
    double t = (0.5 - a) / (b - a);
    return (point){x0 + t * (x1 - x0), y0 + t * (y1 - y0)};
}

/* Marching squares over the padded grid: the outline's length, and every segment end into
 * pts (at most 4 per cell); returns the number of points. */
static size_t outline(const float *g, int side, double *length, point *pts) {
    /* Per case (corners a = top left, b = top right, c = bottom right, d = bottom left, bit
     * set when inside), the edges each segment joins: T(a-b) R(b-c) B(c-d) L(d-a); the
     * saddles 5 and 10 take their second pair when the cell's centre is inside. */
    enum { T, R, B, L };
    static const signed char seg[16][4] = {{-1},       {L, T, -1},   {T, R, -1},   {L, R, -1},
                                           {R, B, -1}, {L, T, R, B}, {T, B, -1},   {L, B, -1},
                                           {B, L, -1}, {T, B, -1},   {T, R, B, L}, {R, B, -1},
                                           {L, R, -1}, {T, R, -1},   {L, T, -1},   {-1}};
    const int gs = side + 2;
    size_t n = 0;
    *length = 0;
    for (int y = 0; y + 1 < gs; y++)
        for (int x = 0; x + 1 < gs; x++) {
            double a = g[(size_t)y * gs + x], b = g[(size_t)y * gs + x + 1];
            double c = g[(size_t)(y + 1) * gs + x + 1], d = g[(size_t)(y + 1) * gs + x];
            int k = (a >= 0.5) | (b >= 0.5) << 1 | (c >= 0.5) << 2 | (d >= 0.5) << 3;
            if (k == 0 || k == 15) continue;
            const signed char *s = seg[k];
            signed char flip[4];
            if ((k == 5 || k == 10) && (a + b + c + d) / 4 >= 0.5) { /* centre inside */
                const signed char other[2][4] = {{T, R, B, L}, {L, T, R, B}};
                memcpy(flip, other[k == 10], 4);
                s = flip;
            }
            point e[4] = {cross(x, y, a, x + 1, y, b), cross(x + 1, y, b, x + 1, y + 1, c),
                          cross(x + 1, y + 1, c, x, y + 1, d), cross(x, y + 1, d, x, y, a)};
            for (int j = 0; j < 4 && s[j] >= 0; j += 2) {
                point p = e[s[j]], q = e[s[j + 1]];
                *length += hypot(q.x - p.x, q.y - p.y);
                pts[n++] = p;
                pts[n++] = q;
            }
        }
    return n;
}

static int cmp_point(const void *pa, const void *pb) {
    const point *p = pa, *q = pb;
    if (p->x != q->x) return p->x < q->x ? -1 : 1;
    return (p->y > q->y) - (p->y < q->y);
}

static double turn(point o, point a, point b) {
    return (a.x - o.x) * (b.y - o.y) - (a.y - o.y) * (b.x - o.x);
}

/* The area of the convex hull of pts (Andrew's monotone chain; pts is sorted in place and
 * hull holds 2n + 1 points of scratch). */
static double hull_area(point *pts, size_t n, point *hull) {
    if (n < 3) return 0;
    qsort(pts, n, sizeof *pts, cmp_point);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        while (k >= 2 && turn(hull[k - 2], hull[k - 1], pts[i]) <= 0) k--;
        hull[k++] = pts[i];
    }
    for (size_t i = n - 1, lower = k + 1; i-- > 0;) {
        while (k >= lower && turn(hull[k - 2], hull[k - 1], pts[i]) <= 0) k--;
        hull[k++] = pts[i];
    }
    double a = 0;
    for (size_t i = 0; i + 1 < k; i++) a += hull[i].x * hull[i + 1].y - hull[i + 1].x * hull[i].y;
    return fabs(a) / 2;
}

/* Area, centroid and the eccentricity of the ellipse with the same second moments. */
static void moments(const unsigned char *mask, int side, bs_morph_shape *out) {
    double n = 0, sx = 0, sy = 0, sxx = 0, syy = 0, sxy = 0;
    for (int y = 0; y < side; y++)
        for (int x = 0; x < side; x++)
            if (mask[(size_t)y * side + x]) {
                n++, sx += x, sy += y;
                sxx += (double)x * x, syy += (double)y * y, sxy += (double)x * y;
            }
    out->area = n;
    if (n == 0) return;
    out->cx = sx / n, out->cy = sy / n;
    double cxx = sxx / n - out->cx * out->cx, cyy = syy / n - out->cy * out->cy;
    double cxy = sxy / n - out->cx * out->cy;
    double mid = (cxx + cyy) / 2, half = sqrt((cxx - cyy) * (cxx - cyy) / 4 + cxy * cxy);
    double l1 = mid + half, l2 = mid - half;
    out->eccentricity = l1 > 0 && l2 >= 0 ? sqrt(1 - l2 / l1) : 0;
}

int bs_morph_shape_measure(const unsigned char *mask, int side, bs_morph_shape *out) {
    memset(out, 0, sizeof *out);
    moments(mask, side, out);
    if (out->area == 0) return 0;
    const size_t gs = (size_t)side + 2;
    float *g = bs_malloc(sizeof *g * gs * gs);
    point *pts = bs_malloc(sizeof *pts * 4 * gs * gs), *hull = NULL;
    int rc = -1;
    if (g && pts) {
        smooth_padded(mask, side, g);
        size_t n = outline(g, side, &out->perimeter, pts);
        if ((hull = bs_malloc(sizeof *hull * (2 * n + 1)))) {
            out->hull_area = hull_area(pts, n, hull);
            rc = 0;
        }
    }
    free(g), free(pts), free(hull);
    return rc;
}

int bs_morph_lobes(const unsigned char *mask, int side) {
    const size_t npx = (size_t)side * side;
    float *dt = bs_malloc(sizeof *dt * npx);
    unsigned char *core = bs_malloc(npx);
    int32_t *comp = bs_malloc(sizeof *comp * npx), *stack = bs_malloc(sizeof *stack * npx);
    int n = -1;
    if (dt && core && comp && stack && bs_detect_edt(mask, side, side, dt) == 0) {
        float top = 0;
        for (size_t i = 0; i < npx; i++) top = mask[i] && dt[i] > top ? dt[i] : top;
        for (size_t i = 0; i < npx; i++) core[i] = mask[i] && top > 0 && dt[i] >= 0.5f * top;
        n = bs_detect_components(core, side, side, comp, stack);
    }
    free(dt), free(core), free(comp), free(stack);
    return n;
}

/* The quantised level of every pixel inside mask (-1 outside), between the 5 % and 95 %
 * quantiles of v there. Returns the number of pixels inside, -1 when memory runs out. */
static int64_t quantise(const float *v, const unsigned char *mask, int side, int levels, int *lev) {
    const size_t npx = (size_t)side * side;
    double *in = bs_malloc(sizeof *in * (npx + 1));
    if (!in) return -1;
    int64_t n = 0;
    for (size_t i = 0; i < npx; i++)
        if (mask[i]) in[n++] = v[i];
    qsort(in, (size_t)n, sizeof *in, bs_cmp_double);
    double lo = n ? bs_quantile_sorted(in, n, 0.05) : 0,
           hi = n ? bs_quantile_sorted(in, n, 0.95) : 0;
    free(in);
    for (size_t i = 0; i < npx; i++) {
        if (!mask[i]) {
            lev[i] = -1;
            continue;
        }
        int q = hi - lo > 1e-9 ? (int)floor((v[i] - lo) / (hi - lo) * levels) : 0;
        lev[i] = q < 0 ? 0 : q >= levels ? levels - 1 : q;
    }
    return n;
}

int bs_morph_glcm(const float *v, const unsigned char *mask, int side, int levels, double out[4]) {
    memset(out, 0, 4 * sizeof *out);
    int *lev = bs_malloc(sizeof *lev * (size_t)side * side);
    double *p = bs_calloc((size_t)levels * levels, sizeof *p);
    if (!lev || !p || quantise(v, mask, side, levels, lev) < 0) {
        free(lev), free(p);
        return -1;
    }
    static const int off[4][2] = {{1, 0}, {1, 1}, {0, 1}, {-1, 1}};
    double pairs = 0;
    for (int y = 0; y < side; y++)
        for (int x = 0; x < side; x++) {
            int i = lev[(size_t)y * side + x];
            for (int k = 0; i >= 0 && k < 4; k++) {
                int nx = x + off[k][0], ny = y + off[k][1];
                if (nx < 0 || nx >= side || ny >= side) continue;
                int j = lev[(size_t)ny * side + nx];
                if (j < 0) continue;
                p[i * levels + j]++, p[j * levels + i]++, pairs += 2;
            }
        }
    if (pairs >= 16) {
        double mu = 0, var = 0;
        for (int i = 0; i < levels * levels; i++) p[i] /= pairs, mu += (i / levels) * p[i];
        for (int i = 0; i < levels * levels; i++)
            var += (i / levels - mu) * (i / levels - mu) * p[i];
        for (int i = 0; i < levels; i++)
            for (int j = 0; j < levels; j++) {
                double q = p[i * levels + j], d = i - j;
                out[0] += d * d * q;
                out[1] += q / (1 + d * d);
                out[2] += q * q;
                out[3] += var > 0 ? (i - mu) * (j - mu) * q / var : 0;
            }
    }
    free(lev), free(p);
    return 0;
}
