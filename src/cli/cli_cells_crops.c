/* cli_cells_crops.c — `blastscan cells --crops OUTDIR --data D ...`: a cell dataset made from
 * a field dataset. Every detected white cell of every source image is written as an image
 * (normalised and cropped exactly as `cells --model` classifies it), and OUTDIR/manifest.csv
 * lists them with the label and class of their source image (weak labels) and its group, so
 * no cross-validation split puts cells of one field, or of its duplicates, on both sides. */
#define _GNU_SOURCE
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_cells.h"
#include "core/csv.h"
#include "core/error.h"
#include "core/io.h"
#include "dataset/dataset.h"
#include "image/image.h"

/* A class name usable as a folder name: letters, digits, '-', '_' and '.' kept, the rest '_'. */
static char *folder_name(const char *class_name) {
    char *s = bs_strdup(class_name[0] ? class_name : "unlabelled");
    for (char *p = s; p && *p; p++)
        if (!isalnum((unsigned char)*p) && *p != '-' && *p != '_' && *p != '.') *p = '_';
    if (s && s[0] == '.') s[0] = '_';
    return s;
}

typedef struct {
    bs_atomic_file manifest;
    int64_t cells, images_without_cells;
} crops_state;

/* The cells of one source image; returns -1 only for errors that stop the run. */
static int crop_sample(const bs_cells_opts *o, size_t index, const bs_sample *s, crops_state *st) {
    bs_image img;
    if (bs_image_load(s->path, &img)) /* the dataset decoded it once already: a real failure */
        return -1;
    bs_cells cells = {0};
    bs_image *crops = NULL;
    char *folder = folder_name(s->class_name), *dir = NULL, *stem = bs_path_stem(s->path);
    int rc = -1;
    if (!folder || !stem || !(dir = bs_path_join(o->crops, folder)) || bs_mkdir_p(dir) ||
        bs_detect_cells(img.rgb, img.width, img.height, &o->detect, &cells))
        goto out;
    if (cells.n == 0) {
        st->images_without_cells++;
        rc = 0;
        goto out;
    }
    if (!(crops = bs_calloc((size_t)cells.n, sizeof *crops)) ||
        bs_field_crops(&img, cells.cells, cells.n, o->normalise, crops))
        goto out;
    rc = 0;
    for (int64_t i = 0; i < cells.n && rc == 0; i++) {
        char *rel = bs_strfmt("%s/%05zu_%s_c%03lld.%s", folder, index, stem, (long long)i,
                              o->crop_jpeg ? "jpg" : "png");
        char *path = rel ? bs_path_join(o->crops, rel) : NULL;
        if (!path || bs_image_save(&crops[i], path, o->crop_jpeg ? 95 : 0)) {
            rc = -1;
        } else {
            const char *row[4] = {rel, s->label ? "1" : "0", s->class_name, s->group};
            bs_csv_put_row(st->manifest.fp, row, 4);
            st->cells++;
        }
        free(rel);
        free(path);
    }
    for (int64_t i = 0; i < cells.n; i++) bs_image_free(&crops[i]);
out:
    if (rc) bs_error_prefix("%s: ", s->path);
    free(crops);
    bs_detect_free(&cells);
    bs_image_free(&img);
    free(folder);
    free(dir);
    free(stem);
    return rc;
}

int bs_cells_crops(const bs_cells_opts *o, const bs_cli *cli) {
    bs_dataset ds;
    if (bs_mkdir_p(o->crops) || bs_cli_data_open(&o->data, (size_t)o->sample, cli->seed, &ds))
        return bs_cli_fail("cells");
    crops_state st;
    memset(&st, 0, sizeof st);
    char *manifest = bs_path_join(o->crops, "manifest.csv");
    int rc = BS_EXIT_OK;
    if (!manifest || bs_atomic_open(&st.manifest, manifest)) {
        rc = bs_cli_fail("cells");
    } else {
        static const char *const header[] = {"path", "label", "class", "group"};
        bs_csv_put_row(st.manifest.fp, header, 4);
        for (size_t i = 0; i < ds.n && rc == BS_EXIT_OK; i++)
            if (crop_sample(o, i, &ds.samples[i], &st)) rc = BS_EXIT_FAIL;
        if (rc == BS_EXIT_OK && st.cells == 0) {
            bs_error("no white cell found in any of the %zu images", ds.n);
            rc = BS_EXIT_FAIL;
        }
        if (rc == BS_EXIT_OK && bs_atomic_commit(&st.manifest)) rc = BS_EXIT_FAIL;
        if (rc != BS_EXIT_OK) {
            bs_atomic_abort(&st.manifest);
            bs_cli_fail("cells");
        }
    }
    if (rc == BS_EXIT_OK)
        fprintf(stderr,
                "cells: %lld cells from %zu images (%lld without a white cell), colour %s; "
                "wrote %s\n",
                (long long)st.cells, ds.n, (long long)st.images_without_cells,
                o->normalise ? "normalised" : "as photographed", manifest);
    free(manifest);
    bs_dataset_free(&ds);
    return rc;
}
