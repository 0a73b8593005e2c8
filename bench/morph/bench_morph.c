/* bench_morph.c — crops and masks for measuring the morphometric features across sources.
 *
 *   bench_morph boxes BOXES.csv OUTDIR [--source NAME | --sources SOURCES.csv]
 *                     [--no-normalise] [--every K]
 *       every annotated white cell of a boxes CSV (eval/truth.h: image,class,xmin,...) cut as
 *       `cells --crops` cuts a detected one (the field normalised unless --no-normalise, a
 *       square of 1.25 × the box's larger side, mirrored at the borders, the field's scale
 *       from the detector) into OUTDIR/NNNNN_STEM_cKKK.png, and OUTDIR/manifest.csv
 *       (path,label,class,group,source,cell_px,red_cell_px; label 0, class non-blast, group
 *       the field). --sources maps each image to a source (TXL-PBC's sources.csv:
 *       image,source,...); --every K keeps every K-th image.
 *   bench_morph look MANIFEST.csv OUTDIR [--limit N]
 *       per crop: OUTDIR/NNNNN.png, the 128 × 128 working crop with the nucleus outlined in
 *       red and the cell in green, and a line of features on stdout (CSV with a header).
 * Until `cells --crops --boxes` exists (issue 19 item 2); not a test. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/csv.h"
#include "core/error.h"
#include "core/io.h"
#include "dataset/dataset.h"
#include "detect/detect.h"
#include "eval/truth.h"
#include "features/morphometry.h"
#include "field/field.h"
#include "image/image.h"

static void die(const char *what) {
    fprintf(stderr, "bench_morph: %s: %s\n", what, bs_error_message());
    exit(1);
}

/* The source of an image from --sources (image,source,...), matched by file name. */
static const char *source_of(const bs_csv *src, const char *path, const char *fallback) {
    if (!src) return fallback;
    int ci = bs_csv_column(src, "image"), cs = bs_csv_column(src, "source");
    const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
    for (size_t r = 0; r < src->nrows; r++) {
        const char *b = strrchr(src->rows[r][ci], '/');
        if (strcmp(b ? b + 1 : src->rows[r][ci], base) == 0) return src->rows[r][cs];
    }
    return fallback;
}

/* The annotated white cells of one field as crops, with their manifest rows. */
static int crop_field(const bs_truth_image *ti, size_t index, int normalise, const char *outdir,
                      const char *source, FILE *manifest, int64_t *count) {
    bs_image img;
    if (bs_image_load(ti->key, &img)) return -1;
    bs_cells det;
    if (bs_detect_cells(img.rgb, img.width, img.height, NULL, &det)) return -1;
    img.cell_px = det.cell_size, img.red_cell_px = det.red_cell_size;
    bs_detect_free(&det);
    bs_cell *cells = calloc(ti->n + 1, sizeof *cells);
    bs_image *crops = calloc(ti->n + 1, sizeof *crops);
    for (size_t i = 0; i < ti->n; i++) {
        const bs_truth_cell *t = &ti->cells[i];
        cells[i] = (bs_cell){.x = (t->x0 + t->x1) / 2,
                             .y = (t->y0 + t->y1) / 2,
                             .x0 = (int)t->x0,
                             .y0 = (int)t->y0,
                             .x1 = (int)t->x1 + 1,
                             .y1 = (int)t->y1 + 1};
    }
    int rc = ti->n ? bs_field_crops(&img, cells, (int64_t)ti->n, normalise, crops) : 0;
    char *stem = bs_path_stem(ti->key);
    for (size_t i = 0; rc == 0 && i < ti->n; i++) {
        char *rel = bs_strfmt("%05zu_%s_c%03zu.png", index, stem, i);
        char *path = bs_path_join(outdir, rel);
        rc = bs_image_save(&crops[i], path, 0);
        fprintf(manifest, "%s,0,non-blast,%s,%s,%.9g,%.9g\n", rel, ti->key, source,
                crops[i].cell_px, crops[i].red_cell_px);
        (*count)++;
        free(rel), free(path);
        bs_image_free(&crops[i]);
    }
    free(stem), free(cells), free(crops);
    bs_image_free(&img);
    return rc;
}

static int cmd_boxes(int argc, char **argv) {
    if (argc < 4) return 2;
    const char *boxes = argv[2], *outdir = argv[3], *source = "unknown", *sources = NULL;
    int normalise = 1, every = 1;
    for (int i = 4; i < argc; i++) {
        if (!strcmp(argv[i], "--source") && i + 1 < argc)
            source = argv[++i];
        else if (!strcmp(argv[i], "--sources") && i + 1 < argc)
            sources = argv[++i];
        else if (!strcmp(argv[i], "--no-normalise"))
            normalise = 0;
        else if (!strcmp(argv[i], "--every") && i + 1 < argc)
            every = atoi(argv[++i]);
        else
            return 2;
    }
    bs_truth truth;
    bs_csv src;
    if (bs_truth_read(boxes, &truth)) die(boxes);
    if (sources) {
        if (bs_csv_read(sources, &src)) die(sources);
    }
    if (bs_mkdir_p(outdir)) die(outdir);
    char *mpath = bs_path_join(outdir, "manifest.csv");
    FILE *m = fopen(mpath, "w");
    if (!m) die(mpath);
    fprintf(m, "path,label,class,group,source,cell_px,red_cell_px\n");
    int64_t count = 0;
    for (size_t i = 0; i < truth.n; i += (size_t)(every > 0 ? every : 1)) {
        const bs_truth_image *ti = &truth.images[i];
        const char *s = source_of(sources ? &src : NULL, ti->key, source);
        if (crop_field(ti, i, normalise, outdir, s, m, &count)) die(ti->key);
    }
    fclose(m);
    fprintf(stderr, "bench_morph: %lld crops in %s\n", (long long)count, outdir);
    free(mpath);
    if (sources) bs_csv_free(&src);
    bs_truth_free(&truth);
    return 0;
}

/* The working crop with the masks' borders drawn: nucleus red, cell green. */
static int save_look(const bs_image *crop, const bs_morph_masks *mk, const char *path) {
    bs_image w;
    if (bs_image_resize(crop, BS_MORPH_SIDE, &w)) return -1;
    const int s = BS_MORPH_SIDE;
    for (int y = 1; y + 1 < s; y++)
        for (int x = 1; x + 1 < s; x++) {
            int i = y * s + x;
            const unsigned char *ms[2] = {mk->cell, mk->nucleus};
            for (int k = 0; k < 2; k++) {
                const unsigned char *m = ms[k];
                if (m[i] && (!m[i - 1] || !m[i + 1] || !m[i - s] || !m[i + s])) {
                    unsigned char c[3] = {0, 0, 0};
                    c[k == 0 ? 1 : 0] = 255;
                    memcpy(w.rgb + 3 * i, c, 3);
                }
            }
        }
    int rc = bs_image_save(&w, path, 0);
    bs_image_free(&w);
    return rc;
}

static int cmd_look(int argc, char **argv) {
    if (argc < 4) return 2;
    long limit = argc > 5 && !strcmp(argv[4], "--limit") ? atol(argv[5]) : -1;
    bs_dataset ds;
    bs_dataset_options o;
    bs_dataset_options_init(&o);
    o.decode = 0;
    if (bs_dataset_open((const char *const *)&argv[2], 1, &o, &ds)) die(argv[2]);
    if (bs_mkdir_p(argv[3])) die(argv[3]);
    printf("path");
    for (int k = 0; k < BS_MORPH_DIM; k++) printf(",%s", bs_morph_feature_name(k));
    printf("\n");
    static bs_morph_masks mk;
    for (size_t i = 0; i < ds.n && (limit < 0 || (long)i < limit); i++) {
        bs_image img;
        if (bs_image_load(ds.samples[i].path, &img)) die(ds.samples[i].path);
        img.cell_px = ds.samples[i].cell_px, img.red_cell_px = ds.samples[i].red_cell_px;
        float f[BS_MORPH_DIM];
        if (bs_morph_features(&img, f, &mk)) die(ds.samples[i].path);
        char *png = bs_strfmt("%s/%05zu.png", argv[3], i);
        if (save_look(&img, &mk, png)) die(png);
        printf("%s", ds.samples[i].path);
        for (int k = 0; k < BS_MORPH_DIM; k++) printf(",%.4g", f[k]);
        printf("\n");
        free(png);
        bs_image_free(&img);
    }
    bs_dataset_free(&ds);
    return 0;
}

int main(int argc, char **argv) {
    if (bs_image_init(argv[0], 0)) die("libvips");
    int rc = 2;
    if (argc > 1 && !strcmp(argv[1], "boxes")) rc = cmd_boxes(argc, argv);
    if (argc > 1 && !strcmp(argv[1], "look")) rc = cmd_look(argc, argv);
    if (rc == 2) fprintf(stderr, "usage: see the top of bench/morph/bench_morph.c\n");
    bs_image_shutdown();
    return rc;
}
