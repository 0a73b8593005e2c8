/* export.c — a batch of analysed fields in formats other tools read (field.h): GeoJSON, one
 * FeatureCollection per field as QuPath imports it (a detection per cell: its box as a Polygon
 * in the field's pixels, its classification and measurements), and COCO detection JSON for the
 * whole batch (images, categories, one annotation per cell with its bbox and score). Both are
 * written through core/json's writer into a temporary file renamed into place. Not for: the
 * command's own table/json/csv output (cli) or the crop datasets (crop_dataset.c). */
#define _GNU_SOURCE
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/io.h"
#include "core/json.h"
#include "field.h"

/* The class a cell is given: the model's name for its label, or "white cell" without one. */
static const char *cell_class(const bs_field_analysis *a, const char *const *names, int64_t i) {
    return a->results && names ? names[a->results[i].label ? 1 : 0] : "white cell";
}

static void put_box_ring(bs_json_writer *w, const bs_cell *c) {
    const int xy[5][2] = {
        {c->x0, c->y0}, {c->x1, c->y0}, {c->x1, c->y1}, {c->x0, c->y1}, {c->x0, c->y0}};
    bs_json_begin_array(w, NULL, BS_JSON_COMPACT);
    for (int k = 0; k < 5; k++) {
        bs_json_begin_array(w, NULL, BS_JSON_COMPACT);
        bs_json_put_int(w, NULL, xy[k][0]);
        bs_json_put_int(w, NULL, xy[k][1]);
        bs_json_end(w);
    }
    bs_json_end(w);
}

static void put_feature(bs_json_writer *w, const bs_field_analysis *a, const char *const *names,
                        int64_t i) {
    const bs_cell *c = &a->cells.cells[i];
    const bs_pipeline_result *r = a->results ? &a->results[i] : NULL;
    bs_json_begin_object(w, NULL, BS_JSON_INLINE);
    bs_json_put_string(w, "type", "Feature");
    bs_json_begin_object(w, "geometry", BS_JSON_INLINE);
    bs_json_put_string(w, "type", "Polygon");
    bs_json_begin_array(w, "coordinates", BS_JSON_COMPACT);
    put_box_ring(w, c);
    bs_json_end(w);
    bs_json_end(w);
    bs_json_begin_object(w, "properties", BS_JSON_INLINE);
    bs_json_put_string(w, "objectType", "detection");
    const char *cls = cell_class(a, names, i);
    bs_json_begin_object(w, "classification", BS_JSON_INLINE);
    bs_json_put_string(w, "name", cls);
    int blast = r && r->label, rgb[3] = {blast ? 220
                                         : r   ? 40
                                               : 230,
                                         blast ? 40
                                         : r   ? 170
                                               : 200,
                                         blast ? 40
                                         : r   ? 60
                                               : 30};
    bs_json_begin_array(w, "color", BS_JSON_COMPACT);
    for (int k = 0; k < 3; k++) bs_json_put_int(w, NULL, rgb[k]);
    bs_json_end(w);
    bs_json_end(w);
    bs_json_put_string(w, "class", cls);
    bs_json_put_number(w, "probability", r ? r->probability : NAN);
    bs_json_begin_object(w, "measurements", BS_JSON_INLINE);
    bs_json_put_number(w, "centre x px", c->x);
    bs_json_put_number(w, "centre y px", c->y);
    bs_json_put_int(w, "nucleus area px", c->nucleus_area);
    bs_json_put_int(w, "edge", c->edge);
    if (r) {
        bs_json_put_number(w, "probability", r->probability);
        bs_json_put_number(w, "decision", r->decision);
        bs_json_put_number(w, "reconstruction error", r->recon_error);
        bs_json_put_int(w, "out of distribution", r->ood);
    }
    bs_json_end(w);
    bs_json_end(w);
    bs_json_end(w);
}

int bs_field_write_geojson(const char *path, const bs_field_analysis *a,
                           const char *const *class_names) {
    bs_atomic_file f;
    if (bs_atomic_open(&f, path)) return -1;
    bs_json_writer w;
    bs_json_writer_init(&w, f.fp);
    bs_json_begin_object(&w, NULL, BS_JSON_LINES);
    bs_json_put_string(&w, "type", "FeatureCollection");
    bs_json_begin_array(&w, "features", BS_JSON_LINES);
    for (int64_t i = 0; i < a->cells.n; i++) put_feature(&w, a, class_names, i);
    bs_json_end(&w);
    bs_json_end(&w);
    bs_json_finish(&w);
    return bs_atomic_commit(&f);
}

/* ---- COCO ------------------------------------------------------------------------------ */

/* The images are kept (small) and written last; annotations stream as fields are added. */
struct bs_field_coco {
    bs_atomic_file f;
    bs_json_writer w;
    int with_classes;
    char **files;
    int *size; /* width, height per image */
    size_t n;
    int64_t annotations;
};

int bs_field_coco_open(bs_field_coco **out, const char *path, const char *const *class_names) {
    bs_field_coco *c = bs_calloc(1, sizeof *c);
    if (!c || bs_atomic_open(&c->f, path)) {
        free(c);
        return -1;
    }
    c->with_classes = class_names != NULL;
    bs_json_writer_init(&c->w, c->f.fp);
    bs_json_begin_object(&c->w, NULL, BS_JSON_LINES);
    bs_json_begin_object(&c->w, "info", BS_JSON_INLINE);
    bs_json_put_string(&c->w, "description", "white cells found by blastscan cells");
    bs_json_end(&c->w);
    bs_json_begin_array(&c->w, "licenses", BS_JSON_INLINE);
    bs_json_end(&c->w);
    bs_json_begin_array(&c->w, "categories", BS_JSON_LINES);
    for (int k = 0; k < (class_names ? 2 : 1); k++) {
        bs_json_begin_object(&c->w, NULL, BS_JSON_INLINE);
        bs_json_put_int(&c->w, "id", k + 1); /* category_id = label + 1 */
        bs_json_put_string(&c->w, "name", class_names ? class_names[k] : "white cell");
        bs_json_put_string(&c->w, "supercategory", "white cell");
        bs_json_end(&c->w);
    }
    bs_json_end(&c->w);
    bs_json_begin_array(&c->w, "annotations", BS_JSON_LINES);
    *out = c;
    return 0;
}

int bs_field_coco_add(bs_field_coco *c, const char *image, int width, int height,
                      const bs_field_analysis *a) {
    char **files = bs_realloc(c->files, (c->n + 1) * sizeof *files);
    if (files) c->files = files;
    int *size = files ? bs_realloc(c->size, 2 * (c->n + 1) * sizeof *size) : NULL;
    if (size) c->size = size;
    if (!size || !(files[c->n] = bs_strdup(image))) return -1;
    size[2 * c->n] = width, size[2 * c->n + 1] = height;
    int64_t image_id = (int64_t)++c->n;
    bs_json_writer *w = &c->w;
    for (int64_t i = 0; i < a->cells.n; i++) {
        const bs_cell *cell = &a->cells.cells[i];
        const bs_pipeline_result *r = a->results ? &a->results[i] : NULL;
        int bw = cell->x1 - cell->x0, bh = cell->y1 - cell->y0;
        bs_json_begin_object(w, NULL, BS_JSON_INLINE);
        bs_json_put_int(w, "id", ++c->annotations);
        bs_json_put_int(w, "image_id", image_id);
        bs_json_put_int(w, "category_id", c->with_classes && r && r->label ? 2 : 1);
        bs_json_begin_array(w, "bbox", BS_JSON_COMPACT);
        const int box[4] = {cell->x0, cell->y0, bw, bh};
        for (int k = 0; k < 4; k++) bs_json_put_int(w, NULL, box[k]);
        bs_json_end(w);
        bs_json_put_int(w, "area", (int64_t)bw * bh);
        bs_json_begin_array(w, "segmentation", BS_JSON_COMPACT);
        bs_json_begin_array(w, NULL, BS_JSON_COMPACT);
        const int poly[8] = {cell->x0, cell->y0, cell->x1, cell->y0,
                             cell->x1, cell->y1, cell->x0, cell->y1};
        for (int k = 0; k < 8; k++) bs_json_put_int(w, NULL, poly[k]);
        bs_json_end(w);
        bs_json_end(w);
        bs_json_put_int(w, "iscrowd", 0);
        if (r) bs_json_put_number(w, "score", r->probability);
        bs_json_end(w);
    }
    return 0;
}

static void coco_free(bs_field_coco *c) {
    for (size_t i = 0; i < c->n; i++) free(c->files[i]);
    free(c->files), free(c->size), free(c);
}

int bs_field_coco_commit(bs_field_coco *c) {
    bs_json_writer *w = &c->w;
    bs_json_end(w); /* annotations */
    bs_json_begin_array(w, "images", BS_JSON_LINES);
    for (size_t i = 0; i < c->n; i++) {
        bs_json_begin_object(w, NULL, BS_JSON_INLINE);
        bs_json_put_int(w, "id", (int64_t)i + 1);
        bs_json_put_string(w, "file_name", c->files[i]);
        bs_json_put_int(w, "width", c->size[2 * i]);
        bs_json_put_int(w, "height", c->size[2 * i + 1]);
        bs_json_end(w);
    }
    bs_json_end(w);
    bs_json_end(w);
    bs_json_finish(w);
    int rc = bs_atomic_commit(&c->f);
    coco_free(c);
    return rc;
}

void bs_field_coco_abort(bs_field_coco *c) {
    if (!c) return;
    bs_atomic_abort(&c->f);
    coco_free(c);
}
