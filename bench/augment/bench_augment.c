/* bench_augment.c — what one stain (HED) view and one scale view cost per crop, beside decoding
 * the crop, and how much each changes it.
 *
 *   bench_augment [--size S] [--repeat N] IMAGE...
 *
 * Per image (decoded and resized to S×S, default 224, as extraction does): the median over N
 * repeats (default 20) of decoding, of making a hed1 view, a scale1 view, and of laying an
 * image out as the network's CHW input (which every view pays); the ratio of each view to
 * decoding; and the mean absolute change per channel (0..255) each view makes at the default
 * strengths, over the images. Seeds: bs_view_seed(1, path, view). Not a test: it prints numbers
 * for bench/augment/run and docs/cells.md. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/progress.h"
#include "core/stats.h"
#include "image/image.h"

static void die(const char *what) {
    fprintf(stderr, "bench_augment: %s: %s\n", what, bs_error_message());
    exit(1);
}

/* Mean |a - b| over every byte. */
static double mean_change(const bs_image *a, const bs_image *b) {
    size_t n = (size_t)a->width * a->height * 3;
    double s = 0;
    for (size_t i = 0; i < n; i++) s += abs((int)a->rgb[i] - (int)b->rgb[i]);
    return s / (double)n;
}

enum { T_DECODE, T_HED, T_SCALE, T_CHW, NT };
static const char *const t_name[NT] = {"decode+resize", "hed1 view", "scale1 view", "CHW layout"};

/* Median seconds of each step on one image, and the two views' mean change. */
static void time_one(const char *path, int size, int repeat, double med[NT], double change[2]) {
    double *t[NT];
    for (int k = 0; k < NT; k++) t[k] = calloc((size_t)repeat, sizeof(double));
    float *chw = malloc(sizeof(float) * 3 * size * size);
    bs_augment aug = {.hed = 1, .scale = 1};
    static const bs_view views[2] = {BS_VIEW_HED, BS_VIEW_SCALE};
    for (int r = 0; r < repeat; r++) {
        bs_image img, v;
        double t0 = bs_now();
        if (bs_image_load_resized(path, size, &img)) die(path);
        t[T_DECODE][r] = bs_now() - t0;
        for (int k = 0; k < 2; k++) {
            t0 = bs_now();
            if (bs_image_view(&img, views[k], &aug, bs_view_seed(1, path, views[k]), &v)) die(path);
            t[T_HED + k][r] = bs_now() - t0;
            if (r == 0) change[k] = mean_change(&img, &v);
            bs_image_free(&v);
        }
        t0 = bs_now();
        bs_image_to_chw(&img, BS_VIEW_ORIGINAL, chw);
        t[T_CHW][r] = bs_now() - t0;
        bs_image_free(&img);
    }
    for (int k = 0; k < NT; k++) {
        med[k] = bs_median(t[k], (size_t)repeat);
        free(t[k]);
    }
    free(chw);
}

int main(int argc, char **argv) {
    int size = 224, repeat = 20, first = 1;
    for (; first < argc && argv[first][0] == '-'; first += 2) {
        if (first + 1 >= argc) break;
        if (!strcmp(argv[first], "--size"))
            size = atoi(argv[first + 1]);
        else if (!strcmp(argv[first], "--repeat"))
            repeat = atoi(argv[first + 1]);
    }
    if (first >= argc || size < 8 || repeat < 1) {
        fprintf(stderr, "usage: bench_augment [--size S] [--repeat N] IMAGE...\n");
        return 2;
    }
    if (bs_image_init(argv[0], 1)) die("libvips");
    int n = argc - first;
    double *per[NT], *chg[2];
    for (int k = 0; k < NT; k++) per[k] = calloc((size_t)n, sizeof(double));
    for (int k = 0; k < 2; k++) chg[k] = calloc((size_t)n, sizeof(double));
    for (int i = 0; i < n; i++) {
        double med[NT], change[2];
        time_one(argv[first + i], size, repeat, med, change);
        for (int k = 0; k < NT; k++) per[k][i] = med[k];
        for (int k = 0; k < 2; k++) chg[k][i] = change[k];
    }
    printf("%d images at %dx%d, median of %d repeats each, then the median over images:\n", n, size,
           size, repeat);
    double decode = bs_median(per[T_DECODE], (size_t)n);
    for (int k = 0; k < NT; k++) {
        double m = bs_median(per[k], (size_t)n);
        printf("  %-14s %8.1f us  %5.2f x decoding\n", t_name[k], m * 1e6, m / decode);
    }
    for (int k = 0; k < 2; k++) {
        double s = 0;
        for (int i = 0; i < n; i++) s += chg[k][i];
        printf("  %-14s mean |change| %.1f grey levels (median image %.1f)\n",
               k ? "scale1 view" : "hed1 view", s / n, bs_median(chg[k], (size_t)n));
    }
    for (int k = 0; k < NT; k++) free(per[k]);
    for (int k = 0; k < 2; k++) free(chg[k]);
    bs_image_shutdown();
    return 0;
}
