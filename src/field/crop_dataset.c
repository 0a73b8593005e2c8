/* crop_dataset.c — cell datasets (field.h; `blastscan cells --crops`): from a field dataset,
 * every detected white cell (bs_field_write_crop_dataset); from annotated fields, every boxed
 * white cell (bs_field_write_box_crops). Both cut the crops with bs_field_crops, exactly as
 * `cells --model` classifies them, and list them in OUTDIR/manifest.csv with their labels,
 * group (= field: no cross-validation split puts cells of one field on both sides), source
 * (microscope/dataset), and provenance: the field, the box, the field's white- and red-cell
 * diameters, and whether colours were normalised. Not for: choosing or sampling the source
 * images (the dataset stage and the command do that) or reading annotations (eval/truth). */
#define _GNU_SOURCE
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/csv.h"
#include "core/error.h"
#include "core/io.h"
#include "core/log.h"
#include "field.h"

#define MANIFEST_COLUMNS 13
static const char *const manifest_header[MANIFEST_COLUMNS] = {
    "path", "label", "class", "group",   "source",      "field",     "x0",
    "y0",   "x1",    "y1",    "cell_px", "red_cell_px", "normalised"};

/* A class name usable as a folder name: letters, digits, '-', '_' and '.' kept, the rest '_'. */
static char *folder_name(const char *class_name) {
    char *s = bs_strdup(class_name[0] ? class_name : "unlabelled");
    for (char *p = s; p && *p; p++)
        if (!isalnum((unsigned char)*p) && *p != '-' && *p != '_' && *p != '.') *p = '_';
    if (s && s[0] == '.') s[0] = '_';
    return s;
}

/* ---- source names: sources.csv (image,source,...) beside the data, else the folder's name */

typedef struct {
    bs_sources_csv *listed; /* the folder's sources.csv; NULL when it has none */
    char *fallback;         /* the folder's name */
} source_table;

static void sources_free(source_table *s) {
    bs_sources_csv_free(s->listed);
    free(s->fallback);
    memset(s, 0, sizeof *s);
}

/* The folder's base name (of its resolved path: "." names its real folder). */
static char *folder_base(const char *folder) {
    char *real = realpath(folder, NULL);
    const char *p = real ? real : folder, *slash = strrchr(p, '/');
    char *name = bs_strdup(slash && slash[1] ? slash + 1 : p);
    free(real);
    return name;
}

static int sources_open(source_table *s, const char *folder) {
    memset(s, 0, sizeof *s);
    if (!(s->fallback = folder_base(folder)) || bs_sources_csv_open(folder, &s->listed)) {
        sources_free(s);
        return -1;
    }
    return 0;
}

static const char *source_of(const source_table *s, const char *path) {
    const char *name = bs_sources_csv_lookup(s->listed, path);
    return name ? name : s->fallback;
}

/* ---- writing crops --------------------------------------------------------------------- */

/* One run's settings and what it has written so far. */
typedef struct {
    const bs_field_options *o;
    const char *outdir;
    int jpeg;
    bs_atomic_file manifest;
    bs_field_crop_counts counts;
} crops_state;

/* What a crop's manifest row says besides its file. */
typedef struct {
    int label;
    const char *class_name, *group, *source, *field;
} crop_labels;

static char *number_or_empty(double v) { return v > 0 ? bs_strfmt("%.6g", v) : bs_strdup(""); }

/* Crop i of a field as OUTDIR/CLASS/NNNNN_STEM_cKKK.EXT and its manifest row. */
static int write_crop(crops_state *st, size_t index, const char *stem, int64_t i,
                      const bs_image *crop, const bs_cell *cell, const crop_labels *l) {
    char *folder = folder_name(l->class_name),
         *dir = folder ? bs_path_join(st->outdir, folder) : NULL;
    char *rel = folder ? bs_strfmt("%s/%05zu_%s_c%03lld.%s", folder, index, stem, (long long)i,
                                   st->jpeg ? "jpg" : "png")
                       : NULL;
    char *path = rel ? bs_path_join(st->outdir, rel) : NULL;
    char *num[6] = {bs_strfmt("%d", cell->x0),      bs_strfmt("%d", cell->y0),
                    bs_strfmt("%d", cell->x1),      bs_strfmt("%d", cell->y1),
                    number_or_empty(crop->cell_px), number_or_empty(crop->red_cell_px)};
    int rc = -1;
    if (dir && path && num[0] && num[1] && num[2] && num[3] && num[4] && num[5] &&
        !bs_mkdir_p(dir) && !bs_image_save(crop, path, st->jpeg ? 95 : 0)) {
        const char *row[MANIFEST_COLUMNS] = {rel,
                                             l->label ? "1" : "0",
                                             l->class_name,
                                             l->group,
                                             l->source,
                                             l->field,
                                             num[0],
                                             num[1],
                                             num[2],
                                             num[3],
                                             num[4],
                                             num[5],
                                             st->o->normalise ? "1" : "0"};
        bs_csv_put_row(st->manifest.fp, row, MANIFEST_COLUMNS);
        st->counts.cells++;
        rc = 0;
    }
    for (int k = 0; k < 6; k++) free(num[k]);
    free(folder), free(dir), free(rel), free(path);
    return rc;
}

static int open_manifest(crops_state *st, const bs_field_options *o, const char *outdir, int jpeg) {
    memset(st, 0, sizeof *st);
    st->o = o, st->outdir = outdir, st->jpeg = jpeg;
    if (bs_mkdir_p(outdir)) return -1;
    char *manifest = bs_path_join(outdir, "manifest.csv");
    int rc = !manifest || bs_atomic_open(&st->manifest, manifest) ? -1 : 0;
    free(manifest);
    if (rc == 0) bs_csv_put_row(st->manifest.fp, manifest_header, MANIFEST_COLUMNS);
    return rc;
}

static int close_manifest(crops_state *st, int rc, size_t images, bs_field_crop_counts *counts) {
    if (rc == 0 && st->counts.cells == 0)
        rc = bs_error("no white cell found in any of the %zu images", images);
    if (rc == 0) rc = bs_atomic_commit(&st->manifest);
    if (rc) bs_atomic_abort(&st->manifest);
    *counts = st->counts;
    return rc ? -1 : 0;
}

/* ---- detected cells of a field dataset ------------------------------------------------- */

/* The cells of one source image; returns -1 only for errors that stop the run. */
static int crop_sample(crops_state *st, size_t index, const bs_sample *s, const char *source) {
    bs_image img;
    if (bs_image_load(s->path, &img)) /* the dataset decoded it once already: a real failure */
        return -1;
    bs_cells cells = {0};
    bs_image *crops = NULL;
    char *stem = bs_path_stem(s->path);
    int rc = -1;
    if (!stem || bs_detect_cells(img.rgb, img.width, img.height, &st->o->detect, &cells)) goto out;
    if (cells.n == 0) {
        st->counts.images_without_cells++;
        rc = 0;
        goto out;
    }
    double unused, red = cells.red_cell_size;
    if (red <= 0 && st->o->detect.cell_size > 0 && /* the scale was given: measure red cells */
        bs_detect_scale(img.rgb, img.width, img.height, &unused, &red))
        goto out;
    img.cell_px = cells.cell_size, img.red_cell_px = red; /* the crops carry the field's scale */
    if (!(crops = bs_calloc((size_t)cells.n, sizeof *crops)) ||
        bs_field_crops(&img, cells.cells, cells.n, st->o->normalise, crops))
        goto out;
    crop_labels l = {s->label, s->class_name, s->group, source, s->path};
    rc = 0;
    for (int64_t i = 0; i < cells.n && rc == 0; i++)
        rc = write_crop(st, index, stem, i, &crops[i], &cells.cells[i], &l);
    for (int64_t i = 0; i < cells.n; i++) bs_image_free(&crops[i]);
out:
    if (rc) bs_error_prefix("%s: ", s->path);
    free(crops);
    bs_detect_free(&cells);
    bs_image_free(&img);
    free(stem);
    return rc;
}

/* The folder a --data source's sources.csv and name come from: itself, or a manifest's. */
static char *data_folder(const char *data) {
    if (bs_is_dir(data)) return bs_strdup(data);
    char *dir = bs_strdup(data), *slash = dir ? strrchr(dir, '/') : NULL;
    if (slash) *slash = '\0';
    if (dir && !slash) strcpy(dir, ".");
    if (dir && !dir[0]) strcpy(dir, "/");
    return dir;
}

int bs_field_write_crop_dataset(const bs_dataset *ds, const bs_field_options *o, const char *outdir,
                                int jpeg, bs_field_crop_counts *counts) {
    memset(counts, 0, sizeof *counts);
    crops_state st;
    if (open_manifest(&st, o, outdir, jpeg)) return -1;
    int rc = 0;
    for (size_t i = 0; i < ds->n && rc == 0; i++) {
        /* the dataset stage named every sample's source (a manifest's source column, a
         * folder's sources.csv, else the --data base name) */
        const bs_sample *s = &ds->samples[i];
        const char *name =
            s->source >= 0 && (size_t)s->source < ds->nsources ? ds->source_names[s->source] : "";
        rc = crop_sample(&st, i, s, name);
    }
    return close_manifest(&st, rc, ds->n, counts);
}

/* ---- annotated boxes ------------------------------------------------------------------- */

/* The folder the data of an annotation file or folder lives in: its own, or the one above a
 * labels/ or Annotations/ folder. */
static char *boxes_folder(const char *boxes) {
    char *dir = data_folder(boxes);
    char *base = dir ? folder_base(dir) : NULL;
    if (base &&
        (!strcmp(base, "labels") || !strcmp(base, "Annotations") || !strcmp(base, "annotations"))) {
        char *up = bs_path_join(dir, "..");
        free(dir);
        dir = up;
    }
    free(base);
    return dir;
}

/* A box in the field's pixels as a cell (half-open, clipped to the field); 0 when nothing of
 * it is left inside. */
static int box_cell(const bs_truth_cell *b, int width, int height, bs_cell *c) {
    double x0 = fmax(0, floor(b->x0)), y0 = fmax(0, floor(b->y0));
    double x1 = fmin(width, ceil(b->x1)), y1 = fmin(height, ceil(b->y1));
    if (!(x1 - x0 >= 2 && y1 - y0 >= 2)) return 0;
    memset(c, 0, sizeof *c);
    c->x0 = (int)x0, c->y0 = (int)y0, c->x1 = (int)x1, c->y1 = (int)y1;
    c->x = 0.5 * (x0 + x1), c->y = 0.5 * (y0 + y1);
    c->edge = c->x0 == 0 || c->y0 == 0 || c->x1 == width || c->y1 == height;
    return 1;
}

/* What one record's crop is labelled: its own labels, else what its class says, else what
 * the user gave. */
static int record_labels(const bs_truth_image *ti, size_t i, const bs_field_box_labels *given,
                         const source_table *src, const char *name, crop_labels *l) {
    const bs_truth_meta *m = ti->meta ? &ti->meta[i] : NULL;
    l->label = m ? m->label : ti->cells[i].blast >= 0 ? ti->cells[i].blast : given->label;
    if (l->label < 0)
        return bs_error("%s: %s: a white cell without a label (the file names no blast or "
                        "non-blast class): give --label",
                        name, ti->path);
    l->class_name = m && m->class_name[0] ? m->class_name
                    : given->class_name   ? given->class_name
                    : l->label            ? "blast"
                                          : "non-blast";
    l->group = m && m->group[0] ? m->group : ti->path;
    l->source = m && m->source[0] ? m->source : source_of(src, ti->path);
    l->field = ti->path;
    return 0;
}

/* Every box of one annotated field as crops; returns -1 for errors that stop the run. */
static int crop_boxes(crops_state *st, size_t index, const bs_truth_image *ti,
                      const bs_field_box_labels *given, const source_table *src, const char *name) {
    if (ti->n == 0) {
        st->counts.images_without_cells++;
        return 0;
    }
    if (!ti->path)
        return bs_error("%s: the image of '%s' is not found (looked beside the annotations, in "
                        "images/ and JPEGImages/)",
                        name, ti->key);
    bs_image img;
    if (bs_image_load(ti->path, &img)) return -1;
    bs_truth_image px = {0};
    bs_cell *cells = NULL;
    bs_image *crops = NULL;
    size_t *record = NULL, n = 0;
    char *stem = bs_path_stem(ti->path);
    double cell_px = 0, red_px = 0;
    int rc = -1;
    if (!stem || bs_truth_image_pixels(ti, img.width, img.height, &px) ||
        !(cells = bs_calloc(ti->n, sizeof *cells)) ||
        !(record = bs_calloc(ti->n, sizeof *record)) || !(crops = bs_calloc(ti->n, sizeof *crops)))
        goto out;
    for (size_t i = 0; i < px.n; i++) {
        if (!px.cells[i].is_box) {
            rc = bs_error("%s: points, not boxes: a crop needs a box", name);
            goto out;
        }
        if (box_cell(&px.cells[i], img.width, img.height, &cells[n])) record[n++] = i;
    }
    st->counts.boxes_outside += (int64_t)(px.n - n);
    if (n == 0 || bs_detect_scale(img.rgb, img.width, img.height, &cell_px, &red_px) ||
        (img.cell_px = cell_px, img.red_cell_px = red_px, 0) ||
        bs_field_crops(&img, cells, (int64_t)n, st->o->normalise, crops)) {
        rc = n == 0 ? 0 : -1;
        n = 0; /* no crop made */
        goto out;
    }
    rc = 0;
    for (size_t k = 0; k < n && rc == 0; k++) {
        crop_labels l;
        rc = record_labels(ti, record[k], given, src, name, &l);
        if (rc == 0) rc = write_crop(st, index, stem, (int64_t)record[k], &crops[k], &cells[k], &l);
    }
out:
    for (size_t k = 0; crops && k < n; k++) bs_image_free(&crops[k]);
    if (rc) bs_error_prefix("%s: ", ti->path);
    free(crops), free(cells), free(record), free(stem);
    bs_truth_image_free(&px);
    bs_image_free(&img);
    return rc;
}

int bs_field_write_box_crops(const bs_truth *t, const char *boxes, const bs_field_box_labels *given,
                             const bs_field_options *o, const char *outdir, int jpeg,
                             bs_field_crop_counts *counts) {
    memset(counts, 0, sizeof *counts);
    if (t->xyc) return bs_error("%s: .xyc files mark blast centres, not boxes to crop", boxes);
    char *folder = boxes_folder(boxes);
    source_table src;
    int rc = folder ? sources_open(&src, folder) : -1;
    free(folder);
    if (rc) return -1;
    crops_state st;
    rc = open_manifest(&st, o, outdir, jpeg);
    for (size_t i = 0; i < t->n && rc == 0; i++)
        rc = crop_boxes(&st, i, &t->images[i], given, &src, boxes);
    sources_free(&src);
    return rc && !st.manifest.fp ? -1 : close_manifest(&st, rc, t->n, counts);
}
