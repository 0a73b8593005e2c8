/* bench_detect.c — the white-cell detector against annotations, and its speed.
 *
 *   bench_detect bccd DIR [--resize F] [--overlay OUTDIR] [--limit N] [--list]
 *       recall/precision/F1 on DIR/boxes.csv (class WBC), every image resized by F first
 *       (the detector is not told). Matching: one-to-one; a detection matches a box when
 *       each one's centre lies inside the other.
 *   bench_detect aria DIR [--overlay OUTDIR] [--limit N]
 *       the fraction of images of DIR/CLASS/ with at least one white cell.
 *   bench_detect time IMAGE [--resize F] [--tile WxH] [--repeat N]
 *       detection time (median of N) per call and per megapixel, CPU time per call; with
 *       --tile, the (resized) image tiled to W x H first (a field of many cells); --overlay
 *       FILE.png draws the detections.
 *   bench_detect limit IMAGE
 *       IMAGE tiled to 16384 x 16384 (the pixel limit): cells, time, peak memory (with
 *       --cell-size, the scale given); and the refusal of one row more.
 * Not a test: it prints numbers for bench/detect/run and docs/cells.md. */
#define _GNU_SOURCE
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <vips/vips.h>

#include "detect/detect.h"
#include "core/csv.h"
#include "core/error.h"
#include "image/image.h"

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void die(const char *what) {
    fprintf(stderr, "bench_detect: %s: %s\n", what, bs_error_message());
    exit(1);
}

/* Resize an RGB image by f (libvips, the default kernel). */
static void resize(bs_image *img, double f) {
    if (f == 1) return;
    VipsImage *in = vips_image_new_from_memory(img->rgb, (size_t)img->width * img->height * 3,
                                               img->width, img->height, 3, VIPS_FORMAT_UCHAR);
    VipsImage *out = NULL;
    if (!in || vips_resize(in, &out, f, NULL)) {
        fprintf(stderr, "bench_detect: resize: %s\n", vips_error_buffer());
        exit(1);
    }
    size_t len = 0;
    unsigned char *buf = vips_image_write_to_memory(out, &len);
    bs_image r = {
        .width = vips_image_get_width(out), .height = vips_image_get_height(out), .rgb = NULL};
    r.rgb = malloc(len);
    memcpy(r.rgb, buf, len);
    g_free(buf);
    g_object_unref(out);
    g_object_unref(in);
    bs_image_free(img);
    *img = r;
}

typedef struct box {
    int x0, y0, x1, y1;
} box;

/* Truth boxes in green, detections in red (edge cells in orange), written as PNG. */
static void overlay(const bs_image *img, const box *truth, int nt, const bs_cells *d,
                    const char *path) {
    VipsImage *im = vips_image_new_from_memory(img->rgb, (size_t)img->width * img->height * 3,
                                               img->width, img->height, 3, VIPS_FORMAT_UCHAR);
    VipsImage *copy = NULL;
    if (vips_copy(im, &copy, NULL) || vips_image_wio_input(copy)) return;
    double green[3] = {0, 255, 0}, red[3] = {255, 0, 0}, orange[3] = {255, 160, 0};
    for (int i = 0; i < nt; i++)
        for (int k = 0; k < 2; k++)
            vips_draw_rect(copy, green, 3, truth[i].x0 - k, truth[i].y0 - k,
                           truth[i].x1 - truth[i].x0 + 2 * k, truth[i].y1 - truth[i].y0 + 2 * k,
                           NULL);
    for (int64_t i = 0; i < d->n; i++) {
        const bs_cell *c = &d->cells[i];
        vips_draw_rect(copy, c->edge ? orange : red, 3, c->x0, c->y0, c->x1 - c->x0, c->y1 - c->y0,
                       NULL);
        vips_draw_rect(copy, c->edge ? orange : red, 3, (int)c->x - 2, (int)c->y - 2, 5, 5, "fill",
                       TRUE, NULL);
    }
    if (vips_image_write_to_file(copy, path, NULL))
        fprintf(stderr, "overlay %s: %s\n", path, vips_error_buffer());
    vips_error_clear();
    g_object_unref(copy);
    g_object_unref(im);
}

static int inside(double x, double y, int x0, int y0, int x1, int y1) {
    return x >= x0 && x < x1 && y >= y0 && y < y1;
}

/* One-to-one matching, greedy by centre distance among the pairs that qualify. Returns tp. */
static int match(const box *t, int nt, const bs_cells *d) {
    int tp = 0;
    char used_t[64] = {0}, *used_d = calloc((size_t)d->n + 1, 1);
    for (;;) {
        double best = INFINITY;
        int bi = -1, bj = -1;
        for (int i = 0; i < nt; i++) {
            if (used_t[i]) continue;
            double tx = (t[i].x0 + t[i].x1) / 2.0, ty = (t[i].y0 + t[i].y1) / 2.0;
            for (int64_t j = 0; j < d->n; j++) {
                const bs_cell *c = &d->cells[j];
                if (used_d[j] || !inside(c->x, c->y, t[i].x0, t[i].y0, t[i].x1, t[i].y1) ||
                    !inside(tx, ty, c->x0, c->y0, c->x1, c->y1))
                    continue;
                double dd = hypot(c->x - tx, c->y - ty);
                if (dd < best) best = dd, bi = i, bj = (int)j;
            }
        }
        if (bi < 0) break;
        used_t[bi] = 1, used_d[bj] = 1, tp++;
    }
    free(used_d);
    return tp;
}

static int bench_bccd(const char *dir, double f, const char *ovl, int limit, int list,
                      double cell_size) {
    char path[4096];
    snprintf(path, sizeof path, "%s/boxes.csv", dir);
    bs_csv csv;
    if (bs_csv_read(path, &csv)) die("boxes");
    int ci = bs_csv_column(&csv, "image"), cc = bs_csv_column(&csv, "class");
    int cx0 = bs_csv_column(&csv, "xmin"), cy0 = bs_csv_column(&csv, "ymin");
    int cx1 = bs_csv_column(&csv, "xmax"), cy1 = bs_csv_column(&csv, "ymax");
    /* Image list: the csv's images in order of first appearance. */
    long tp = 0, fp = 0, fn = 0, nimg = 0;
    double t_det = 0, mpx = 0;
    for (size_t r = 0; r < csv.nrows; r++) {
        if (r > 0 && strcmp(csv.rows[r][ci], csv.rows[r - 1][ci]) == 0) continue;
        if (limit > 0 && nimg >= limit) break;
        const char *name = csv.rows[r][ci];
        box t[64];
        int nt = 0;
        for (size_t q = r; q < csv.nrows && strcmp(csv.rows[q][ci], name) == 0; q++) {
            if (strcmp(csv.rows[q][cc], "WBC") || nt >= 64) continue;
            t[nt].x0 = (int)floor(atof(csv.rows[q][cx0]) * f),
            t[nt].y0 = (int)floor(atof(csv.rows[q][cy0]) * f);
            t[nt].x1 = (int)ceil(atof(csv.rows[q][cx1]) * f),
            t[nt].y1 = (int)ceil(atof(csv.rows[q][cy1]) * f);
            nt++;
        }
        snprintf(path, sizeof path, "%s/%s", dir, name);
        bs_image img;
        if (bs_image_load(path, &img)) die(path);
        resize(&img, f);
        bs_detect_params p;
        bs_detect_params_default(&p);
        if (cell_size > 0) p.cell_size = cell_size * f;
        bs_cells d;
        double t0 = now();
        if (bs_detect_cells(img.rgb, img.width, img.height, &p, &d)) die(path);
        t_det += now() - t0;
        mpx += img.width * (double)img.height / 1e6;
        int m = match(t, nt, &d);
        tp += m, fp += d.n - m, fn += nt - m;
        if (list && (m < nt || m < d.n))
            printf("  %s: truth %d, detected %lld, matched %d, cell_size %.0f\n", name, nt,
                   (long long)d.n, m, d.cell_size);
        if (ovl && (list < 2 || m < nt || m < d.n)) {
            const char *base = strrchr(name, '/');
            snprintf(path, sizeof path, "%s/%s.png", ovl, base ? base + 1 : name);
            overlay(&img, t, nt, &d, path);
        }
        bs_detect_free(&d);
        bs_image_free(&img);
        nimg++;
    }
    double P = tp + fp ? (double)tp / (tp + fp) : 0, R = tp + fn ? (double)tp / (tp + fn) : 0;
    printf("bccd x%-5g images %ld  truth %ld  tp %ld fp %ld fn %ld  recall %.4f precision %.4f F1 "
           "%.4f  "
           "%.1f ms/MP\n",
           f, nimg, tp + fn, tp, fp, fn, R, P, P + R > 0 ? 2 * P * R / (P + R) : 0,
           1000 * t_det / mpx);
    bs_csv_free(&csv);
    return 0;
}

static int bench_aria(const char *dir, const char *ovl, int limit, int list) {
    static const char *const classes[] = {"Benign", "Early", "Pre", "Pro"};
    long n = 0, with = 0, cells = 0;
    char path[4096];
    for (int k = 0; k < 4; k++) {
        snprintf(path, sizeof path, "%s/%s", dir, classes[k]);
        struct dirent **ents = NULL;
        int ne = scandir(path, &ents, NULL, alphasort);
        for (int e = 0; e < ne; e++) {
            const char *nm = ents[e]->d_name;
            if (!bs_image_has_image_ext(nm) || (limit > 0 && e % (ne / limit + 1))) {
                free(ents[e]);
                continue;
            }
            snprintf(path, sizeof path, "%s/%s/%s", dir, classes[k], nm);
            bs_image img;
            if (bs_image_load(path, &img)) die(path);
            bs_cells d;
            if (bs_detect_cells(img.rgb, img.width, img.height, NULL, &d)) die(path);
            n++, with += d.n > 0, cells += d.n;
            if (ovl && (d.n == 0 || limit > 0)) {
                char o[4096];
                snprintf(o, sizeof o, "%s/%s.png", ovl, nm);
                overlay(&img, NULL, 0, &d, o);
            }
            if (d.n == 0 && !ovl) printf("  no cell: %s/%s\n", classes[k], nm);
            if (list)
                printf("  %s/%s: %lld cells, cell_size %.1f\n", classes[k], nm, (long long)d.n,
                       d.cell_size);
            bs_detect_free(&d);
            bs_image_free(&img);
            free(ents[e]);
        }
        free(ents);
    }
    printf("aria images %ld  with >= 1 cell %ld (%.4f)  cells per image %.2f\n", n, with,
           n ? (double)with / n : 0, n ? (double)cells / n : 0);
    return 0;
}

/* img repeated to fill w x h (seams between tiles; mirrored tiles would put four copies of
 * a cell together). */
static void tile(bs_image *img, int w, int h) {
    unsigned char *big = malloc((size_t)w * h * 3);
    if (!big) die("no memory for the tiled image");
    for (int y = 0; y < h; y++) {
        int ty = y % img->height;
        for (int x = 0; x < w; x++) {
            int tx = x % img->width;
            memcpy(big + 3 * ((size_t)y * w + x), img->rgb + 3 * ((size_t)ty * img->width + tx), 3);
        }
    }
    free(img->rgb);
    img->rgb = big, img->width = w, img->height = h;
}

static int cmp_d(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static int bench_time(const char *image, double f, int repeat, int tw, int th, const char *ovl) {
    bs_image img;
    if (bs_image_load(image, &img)) die(image);
    resize(&img, f);
    if (tw > 0 && th > 0) tile(&img, tw, th);
    double *t = calloc((size_t)repeat, sizeof *t);
    int64_t n = 0;
    struct rusage r0, r1;
    getrusage(RUSAGE_SELF, &r0);
    for (int i = 0; i < repeat; i++) {
        bs_cells d;
        double t0 = now();
        if (bs_detect_cells(img.rgb, img.width, img.height, NULL, &d)) die(image);
        t[i] = now() - t0;
        n = d.n;
        if (ovl && i == 0) overlay(&img, NULL, 0, &d, ovl);
        bs_detect_free(&d);
    }
    getrusage(RUSAGE_SELF, &r1);
    qsort(t, (size_t)repeat, sizeof *t, cmp_d);
    double mp = img.width * (double)img.height / 1e6;
    /* CPU time (all threads) per call: what the detection costs when the machine is shared. */
    double cpu = (r1.ru_utime.tv_sec - r0.ru_utime.tv_sec) +
                 (r1.ru_utime.tv_usec - r0.ru_utime.tv_usec) * 1e-6 +
                 (r1.ru_stime.tv_sec - r0.ru_stime.tv_sec) +
                 (r1.ru_stime.tv_usec - r0.ru_stime.tv_usec) * 1e-6;
    printf("time %dx%d (%.2f MP): %lld cells, wall median %.1f ms (min %.1f, %.1f ms/MP), CPU %.1f "
           "ms per call, "
           "peak RSS %.0f MB\n",
           img.width, img.height, mp, (long long)n, 1000 * t[repeat / 2], 1000 * t[0],
           1000 * t[repeat / 2] / mp, 1000 * cpu / repeat, r1.ru_maxrss / 1024.0);
    free(t);
    bs_image_free(&img);
    return 0;
}

/* An image at the pixel limit (16384 x 16384 = BS_IMAGE_MAX_PIXELS): the field repeated, as
 * a slide scan would be; then one row more, which must be refused. */
static int bench_limit(const char *image, double cell_size) {
    bs_image img;
    if (bs_image_load(image, &img)) die(image);
    int side = 1 << 14;
    tile(&img, side, side);
    unsigned char *big = img.rgb;
    bs_cells d;
    bs_detect_params p;
    bs_detect_params_default(&p);
    p.cell_size = cell_size;
    double t0 = now();
    if (bs_detect_cells(big, side, side, &p, &d)) die("limit");
    double t = now() - t0;
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("limit %dx%d (%.0f MP, %.0f MB of RGB): %lld cells (cell_size %.0f) in %.1f s, peak RSS "
           "%.0f MB\n",
           side, side, side * (double)side / 1e6, side * (double)side * 3 / 1e6, (long long)d.n,
           d.cell_size, t, ru.ru_maxrss / 1024.0);
    bs_detect_free(&d);
    int rc = bs_detect_cells(big, side, side + 1, NULL, &d);
    printf("limit %dx%d: %s\n", side, side + 1, rc ? bs_error_message() : "accepted (wrong)");
    bs_image_free(&img);
    return rc ? 0 : 1;
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: bench_detect bccd|aria|time|limit PATH [--resize F] "
                        "[--overlay DIR] [--limit N] [--list] [--repeat N] [--threads N] "
                        "[--cell-size PX] [--tile WxH]\n");
        return 2;
    }
    double f = 1, cell_size = 0;
    const char *ovl = NULL;
    int limit = 0, list = 0, repeat = 10, threads = 2, tw = 0, th = 0;
    for (int i = 3; i < argc; i++) {
        if (!strcmp(argv[i], "--resize") && i + 1 < argc)
            f = atof(argv[++i]);
        else if (!strcmp(argv[i], "--overlay") && i + 1 < argc)
            ovl = argv[++i];
        else if (!strcmp(argv[i], "--limit") && i + 1 < argc)
            limit = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--repeat") && i + 1 < argc)
            repeat = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--threads") && i + 1 < argc)
            threads = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--cell-size") && i + 1 < argc)
            cell_size = atof(argv[++i]);
        else if (!strcmp(argv[i], "--list"))
            list++;
        else if (!strcmp(argv[i], "--tile") && i + 1 < argc &&
                 sscanf(argv[i + 1], "%dx%d", &tw, &th) == 2)
            i++;
        else {
            fprintf(stderr, "bench_detect: unknown option %s\n", argv[i]);
            return 2;
        }
    }
    if (bs_image_init(argv[0], threads)) die("libvips");
    if (f <= 0 || repeat < 1) return 2;
    int rc = !strcmp(argv[1], "bccd")    ? bench_bccd(argv[2], f, ovl, limit, list, cell_size)
             : !strcmp(argv[1], "aria")  ? bench_aria(argv[2], ovl, limit, list)
             : !strcmp(argv[1], "limit") ? bench_limit(argv[2], cell_size)
                                         : bench_time(argv[2], f, repeat, tw, th, ovl);
    bs_image_shutdown();
    return rc;
}
