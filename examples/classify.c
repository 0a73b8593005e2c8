/* classify.c — embedding blastscan: load a pipeline file, classify images, print one line each.
 *
 *     classify MODEL.blastscan BACKBONE_DIR IMAGE ...
 *
 * Each image is decoded here into an RGB buffer (a scanner would hand over its own pixels)
 * and passed to blastscan_classify_rgb; for simplicity this example reads binary PPM (P6)
 * files itself and lets the library decode every other format (blastscan_classify_file). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "blastscan/blastscan.h"

/* The next header number of a PPM file, skipping white space and # comments; -1 if none. */
static long ppm_number(FILE *fp) {
    int c;
    for (;;) {
        c = fgetc(fp);
        if (c == '#')
            while (c != '\n' && c != EOF) c = fgetc(fp);
        if (c == EOF) return -1;
        if (c >= '0' && c <= '9') break;
        if (c != ' ' && c != '\t' && c != '\n' && c != '\r') return -1;
    }
    long v = 0;
    while (c >= '0' && c <= '9') {
        if (v > 100000000) return -1;
        v = v * 10 + (c - '0');
        c = fgetc(fp);
    }
    return v; /* the one white-space character after the number is consumed */
}

/* A minimal binary PPM (P6, maxval 255) reader: returns malloc'd RGB pixels or NULL. */
static unsigned char *read_ppm(const char *path, int *w, int *h) {
    FILE *fp = fopen(path, "rb");
    if (!fp) return NULL;
    unsigned char *px = NULL;
    if (fgetc(fp) == 'P' && fgetc(fp) == '6') {
        long lw = ppm_number(fp), lh = ppm_number(fp), maxval = ppm_number(fp);
        if (lw > 0 && lh > 0 && maxval == 255 && lw * lh <= (1L << 28)) {
            *w = (int)lw;
            *h = (int)lh;
            size_t n = (size_t)lw * (size_t)lh * 3;
            px = malloc(n);
            if (px && fread(px, 1, n, fp) != n) {
                free(px);
                px = NULL;
            }
        }
    }
    fclose(fp);
    return px;
}

int main(int argc, char **argv) {
    if (argc < 4) {
        fprintf(stderr, "usage: %s MODEL.blastscan BACKBONE_DIR IMAGE ...\n", argv[0]);
        return 2;
    }
    blastscan *bs = blastscan_open(argv[1], argv[2]);
    if (!bs) {
        fprintf(stderr, "classify: %s\n", blastscan_error());
        return 1;
    }
    int status = 0;
    for (int i = 3; i < argc; i++) {
        blastscan_result r;
        int rc;
        const char *dot = strrchr(argv[i], '.');
        if (dot && strcmp(dot, ".ppm") == 0) {
            int w, h;
            unsigned char *rgb = read_ppm(argv[i], &w, &h);
            if (!rgb) {
                fprintf(stderr, "classify: %s: not a binary PPM with maxval 255\n", argv[i]);
                status = 1;
                continue;
            }
            rc = blastscan_classify_rgb(bs, rgb, w, h, &r);
            free(rgb);
        } else {
            rc = blastscan_classify_file(bs, argv[i], &r);
        }
        if (rc) {
            fprintf(stderr, "classify: %s\n", blastscan_error());
            status = 1;
            continue;
        }
        printf("%s\t%s\tdecision=%.17g\tprobability=%.6f\tood_score=%.4f%s\n", argv[i],
               r.class_name, r.decision, r.probability, r.ood_score,
               r.out_of_distribution ? "\tOUT-OF-DISTRIBUTION" : "");
    }
    blastscan_close(bs);
    return status;
}
