/* crop_dataset.c — a cell dataset made from a field dataset (field.h,
 * bs_field_write_crop_dataset; `blastscan cells --crops`). Every detected white cell of every
 * source image is written as an image (normalised and cropped exactly as `cells --model`
 * classifies it), and OUTDIR/manifest.csv lists them with the label and class of their source
 * image (weak labels) and its group, so no cross-validation split puts cells of one field, or
 * of its duplicates, on both sides. Not for: choosing or sampling the source images (the
 * dataset stage and the command do that). */
#define _GNU_SOURCE
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/csv.h"
#include "core/error.h"
#include "core/io.h"
#include "field.h"

/* A class name usable as a folder name: letters, digits, '-', '_' and '.' kept, the rest '_'. */
static char *folder_name(const char *class_name) {
    char *s = bs_strdup(class_name[0] ? class_name : "unlabelled");
    for (char *p = s; p && *p; p++)
        if (!isalnum((unsigned char)*p) && *p != '-' && *p != '_' && *p != '.') *p = '_';
    if (s && s[0] == '.') s[0] = '_';
    return s;
}

/* One run's settings and what it has written so far. */
typedef struct {
    const bs_field_options *o;
    const char *outdir;
    int jpeg;
    bs_atomic_file manifest;
    bs_field_crop_counts counts;
} crops_state;

/* The crops of one source image, as files and manifest rows. */
static int write_crops(crops_state *st, size_t index, const bs_sample *s, const char *folder,
                       const char *stem, const bs_image *crops, int64_t n) {
    int rc = 0;
    for (int64_t i = 0; i < n && rc == 0; i++) {
        char *rel = bs_strfmt("%s/%05zu_%s_c%03lld.%s", folder, index, stem, (long long)i,
                              st->jpeg ? "jpg" : "png");
        char *path = rel ? bs_path_join(st->outdir, rel) : NULL;
        if (!path || bs_image_save(&crops[i], path, st->jpeg ? 95 : 0)) {
            rc = -1;
        } else {
            char cell[32] = "", red[32] = ""; /* empty: unknown */
            if (crops[i].cell_px > 0) snprintf(cell, sizeof cell, "%.9g", crops[i].cell_px);
            if (crops[i].red_cell_px > 0) snprintf(red, sizeof red, "%.9g", crops[i].red_cell_px);
            const char *row[6] = {rel, s->label ? "1" : "0", s->class_name, s->group, cell, red};
            bs_csv_put_row(st->manifest.fp, row, 6);
            st->counts.cells++;
        }
        free(rel);
        free(path);
    }
    return rc;
}

/* The cells of one source image; returns -1 only for errors that stop the run. */
static int crop_sample(crops_state *st, size_t index, const bs_sample *s) {
    bs_image img;
    if (bs_image_load(s->path, &img)) /* the dataset decoded it once already: a real failure */
        return -1;
    bs_cells cells = {0};
    bs_image *crops = NULL;
    char *folder = folder_name(s->class_name), *dir = NULL, *stem = bs_path_stem(s->path);
    int rc = -1;
    if (!folder || !stem || !(dir = bs_path_join(st->outdir, folder)) || bs_mkdir_p(dir) ||
        bs_detect_cells(img.rgb, img.width, img.height, &st->o->detect, &cells))
        goto out;
    img.cell_px = cells.cell_size; /* the crops carry the field's scale */
    img.red_cell_px = cells.red_cell_size;
    if (cells.n == 0) {
        st->counts.images_without_cells++;
        rc = 0;
        goto out;
    }
    if (!(crops = bs_calloc((size_t)cells.n, sizeof *crops)) ||
        bs_field_crops(&img, cells.cells, cells.n, st->o->normalise, crops))
        goto out;
    rc = write_crops(st, index, s, folder, stem, crops, cells.n);
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

int bs_field_write_crop_dataset(const bs_dataset *ds, const bs_field_options *o, const char *outdir,
                                int jpeg, bs_field_crop_counts *counts) {
    crops_state st;
    memset(&st, 0, sizeof st);
    st.o = o, st.outdir = outdir, st.jpeg = jpeg;
    memset(counts, 0, sizeof *counts);
    if (bs_mkdir_p(outdir)) return -1;
    char *manifest = bs_path_join(outdir, "manifest.csv");
    if (!manifest || bs_atomic_open(&st.manifest, manifest)) {
        free(manifest);
        return -1;
    }
    free(manifest);
    static const char *const header[] = {"path",  "label",   "class",
                                         "group", "cell_px", "red_cell_px"};
    bs_csv_put_row(st.manifest.fp, header, 6);
    int rc = 0;
    for (size_t i = 0; i < ds->n && rc == 0; i++) rc = crop_sample(&st, i, &ds->samples[i]);
    if (rc == 0 && st.counts.cells == 0)
        rc = bs_error("no white cell found in any of the %zu images", ds->n);
    if (rc == 0) rc = bs_atomic_commit(&st.manifest);
    if (rc) bs_atomic_abort(&st.manifest);
    *counts = st.counts;
    return rc ? -1 : 0;
}
