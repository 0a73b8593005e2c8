/* explain.c — occlusion-sensitivity maps of a decision (see explain.h): occluded copies,
 * batched through a scorer; the per-pixel heat, the overlay and its files.
 * Not for: which images to explain or where their files go (callers decide). */
#include "explain.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/io.h"
#include "core/npy.h"

void bs_explain_options_init(bs_explain_options *o) {
    o->grid = 7;
    o->patch = 0.25;
    o->batch = 8;
}

void bs_explain_map_free(bs_explain_map *m) {
    free(m->drop);
    memset(m, 0, sizeof *m);
}

void bs_explain_patch_rect(int width, int height, int grid, double patch, int row, int col, int *x0,
                           int *y0, int *pw, int *ph) {
    int w = (int)lround(patch * width), h = (int)lround(patch * height);
    w = w < 1 ? 1 : w > width ? width : w;
    h = h < 1 ? 1 : h > height ? height : h;
    *pw = w;
    *ph = h;
    /* G equal steps from one edge to the other; one position sits in the middle. */
    *x0 = grid > 1 ? (int)lround((double)col * (width - w) / (grid - 1)) : (width - w) / 2;
    *y0 = grid > 1 ? (int)lround((double)row * (height - h) / (grid - 1)) : (height - h) / 2;
}

static void mean_colour(const bs_image *img, unsigned char rgb[3]) {
    double sum[3] = {0, 0, 0};
    const size_t n = (size_t)img->width * (size_t)img->height;
    for (size_t i = 0; i < n; i++)
        for (int c = 0; c < 3; c++) sum[c] += img->rgb[3 * i + c];
    for (int c = 0; c < 3; c++) rgb[c] = (unsigned char)lround(n ? sum[c] / (double)n : 0);
}

/* copy = img with cell `pos` (row-major; -1: none) filled with `fill`. */
static void occlude(const bs_image *img, const bs_explain_options *o, int pos,
                    const unsigned char fill[3], bs_image *copy) {
    memcpy(copy->rgb, img->rgb, (size_t)img->width * (size_t)img->height * 3);
    if (pos < 0) return;
    int x0, y0, pw, ph;
    bs_explain_patch_rect(img->width, img->height, o->grid, o->patch, pos / o->grid, pos % o->grid,
                          &x0, &y0, &pw, &ph);
    for (int y = y0; y < y0 + ph; y++)
        for (int x = x0; x < x0 + pw; x++)
            memcpy(copy->rgb + 3 * ((size_t)y * (size_t)img->width + (size_t)x), fill, 3);
}

static int check_options(const bs_image *img, const bs_explain_options *o) {
    if (o->grid < 1 || o->grid > BS_EXPLAIN_MAX_GRID)
        return bs_error("occlusion grid %d: must be 1..%d", o->grid, BS_EXPLAIN_MAX_GRID);
    if (!(o->patch > 0 && o->patch <= 1))
        return bs_error("occlusion patch %g: must be a fraction in (0, 1]", o->patch);
    if (!img->rgb || img->width < 1 || img->height < 1) return bs_error("occlusion: empty image");
    return 0;
}

static void free_copies(bs_image *copies, size_t n) {
    for (size_t i = 0; copies && i < n; i++) free(copies[i].rgb);
    free(copies);
}

int bs_explain_occlusion(const bs_image *img, const bs_explain_options *o, bs_explain_scorer score,
                         void *user, bs_explain_map *out) {
    memset(out, 0, sizeof *out);
    if (check_options(img, o)) return -1;
    const int cells = o->grid * o->grid, total = cells + 1; /* position -1: the image itself */
    const size_t batch = o->batch < 1 ? 1 : o->batch > (size_t)total ? (size_t)total : o->batch;
    const size_t bytes = (size_t)img->width * (size_t)img->height * 3;
    bs_image *copies = bs_calloc(batch, sizeof *copies);
    double *dec = bs_calloc((size_t)total, sizeof *dec);
    out->drop = bs_calloc((size_t)cells, sizeof *out->drop);
    int rc = copies && dec && out->drop ? 0 : -1;
    for (size_t i = 0; rc == 0 && i < batch; i++) {
        copies[i] = *img; /* its scale too (morphometric features) */
        copies[i].rgb = bs_malloc(bytes);
        if (!copies[i].rgb) rc = -1;
    }
    unsigned char fill[3];
    mean_colour(img, fill);
    for (int p0 = 0; rc == 0 && p0 < total; p0 += (int)batch) {
        size_t m = (size_t)(total - p0) < batch ? (size_t)(total - p0) : batch;
        for (size_t i = 0; i < m; i++) occlude(img, o, p0 + (int)i - 1, fill, &copies[i]);
        if (score(user, copies, m, dec + p0)) rc = bs_error_prefix("occlusion: ");
    }
    for (int k = 0; rc == 0 && k < total; k++)
        if (!isfinite(dec[k])) rc = bs_error("occlusion: the scorer gave a non-finite decision");
    if (rc == 0) {
        out->grid = o->grid;
        out->patch = o->patch;
        out->base = dec[0];
        for (int k = 0; k < cells; k++) out->drop[k] = dec[0] - dec[k + 1];
    } else {
        bs_explain_map_free(out);
    }
    free_copies(copies, batch);
    free(dec);
    return rc;
}

typedef struct {
    bs_pipeline_runtime *rt;
    size_t batch;
    float *rows;
    bs_pipeline_result *res;
} pipeline_scorer;

static int score_pipeline(void *user, const bs_image *images, size_t n, double *decision) {
    pipeline_scorer *s = user;
    if (n > s->batch) return bs_error("occlusion: %zu images in a batch of %zu", n, s->batch);
    if (bs_pipeline_runtime_classify(s->rt, images, n, s->batch, s->rows, s->res)) return -1;
    for (size_t i = 0; i < n; i++) decision[i] = s->res[i].decision;
    return 0;
}

int bs_pipeline_explain(const bs_pipeline *p, bs_pipeline_runtime *rt, const bs_image *img,
                        const bs_explain_options *o, bs_explain_map *out) {
    memset(out, 0, sizeof *out);
    pipeline_scorer s = {rt, o->batch < 1 ? 1 : o->batch, NULL, NULL};
    size_t len;
    if (bs_mul_size(s.batch * sizeof(float), (size_t)p->n_features, &len)) return -1;
    s.rows = bs_malloc(len);
    s.res = bs_calloc(s.batch, sizeof *s.res);
    int rc = s.rows && s.res ? bs_explain_occlusion(img, o, score_pipeline, &s, out) : -1;
    free(s.rows);
    free(s.res);
    return rc;
}

int bs_explain_heat(const bs_explain_map *m, int width, int height, float *heat) {
    const size_t n = (size_t)width * (size_t)height;
    unsigned short *count = bs_calloc(n, sizeof *count);
    if (!count) return -1;
    memset(heat, 0, n * sizeof *heat);
    for (int r = 0; r < m->grid; r++)
        for (int c = 0; c < m->grid; c++) {
            int x0, y0, pw, ph;
            bs_explain_patch_rect(width, height, m->grid, m->patch, r, c, &x0, &y0, &pw, &ph);
            const float v = (float)m->drop[r * m->grid + c];
            for (int y = y0; y < y0 + ph; y++)
                for (int x = x0; x < x0 + pw; x++) {
                    heat[(size_t)y * width + x] += v;
                    count[(size_t)y * width + x]++;
                }
        }
    for (size_t i = 0; i < n; i++) heat[i] = count[i] ? heat[i] / count[i] : 0.0f;
    free(count);
    return 0;
}

int bs_explain_overlay(const bs_image *img, const bs_explain_map *m, bs_image *out) {
    const size_t n = (size_t)img->width * (size_t)img->height;
    memset(out, 0, sizeof *out);
    float *heat = bs_malloc(n * sizeof *heat);
    unsigned char *rgb = bs_malloc(n * 3);
    if (!heat || !rgb || bs_explain_heat(m, img->width, img->height, heat)) {
        free(heat);
        free(rgb);
        return -1;
    }
    float top = 0;
    for (size_t i = 0; i < n; i++) top = fabsf(heat[i]) > top ? fabsf(heat[i]) : top;
    static const float towards_pos[3] = {215, 25, 28}, towards_neg[3] = {44, 123, 182};
    for (size_t i = 0; i < n; i++) {
        const float v = top > 0 ? heat[i] / top : 0, a = 0.7f * fabsf(v);
        const float *c = v > 0 ? towards_pos : towards_neg;
        for (int k = 0; k < 3; k++)
            rgb[3 * i + k] = (unsigned char)lroundf((1 - a) * img->rgb[3 * i + k] + a * c[k]);
    }
    free(heat);
    *out = (bs_image){.width = img->width, .height = img->height, .rgb = rgb};
    return 0;
}

int bs_explain_write(const bs_image *img, const bs_explain_map *m, const char *png_path,
                     const char *npy_path) {
    if (png_path) {
        bs_image ov;
        if (bs_explain_overlay(img, m, &ov)) return -1;
        int rc = bs_image_save(&ov, png_path, 0);
        free(ov.rgb);
        if (rc) return -1;
    }
    if (npy_path) {
        bs_array a;
        const int64_t shape[2] = {m->grid, m->grid};
        if (bs_array_alloc(&a, 2, shape)) return -1;
        for (int k = 0; k < m->grid * m->grid; k++) a.data[k] = (float)m->drop[k];
        int rc = bs_npy_write(npy_path, &a);
        bs_array_free(&a);
        if (rc) return -1;
    }
    return 0;
}
