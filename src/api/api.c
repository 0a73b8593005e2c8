/* api.c — the public embedding API (include/blastscan/blastscan.h) on top of the pipeline
 * stage (whole images) and the field stage (fields cell by cell): a handle owns a loaded
 * pipeline, its backbone engines and one feature row. Not for: anything the command line does
 * that the public header does not offer. */
#include "blastscan/blastscan.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/io.h"
#include "field/field.h"
#include "image/image.h"
#include "pipeline/pipeline.h"

struct blastscan {
    bs_pipeline p;
    bs_pipeline_runtime *rt;
    float *row;
};

static int vips_started;

blastscan *blastscan_open(const char *pipeline_path, const char *backbone_dir) {
    bs_error_clear();
    if (!pipeline_path || !backbone_dir) {
        bs_error("blastscan_open: the pipeline path and the backbone folder are required");
        return NULL;
    }
    if (!vips_started) {
        if (bs_image_init("blastscan", 0)) return NULL;
        vips_started = 1;
    }
    blastscan *bs = bs_calloc(1, sizeof *bs);
    if (!bs) return NULL;
    if (bs_pipeline_load(pipeline_path, &bs->p) ||
        !(bs->rt = bs_pipeline_runtime_open(&bs->p, backbone_dir)) ||
        !(bs->row = bs_malloc(sizeof(float) * (size_t)bs->p.n_features))) {
        blastscan_close(bs);
        return NULL;
    }
    return bs;
}

void blastscan_close(blastscan *bs) {
    if (!bs) return;
    bs_pipeline_runtime_free(bs->rt);
    bs_pipeline_free(&bs->p);
    free(bs->row);
    free(bs);
}

static void fill_result(blastscan *bs, const bs_pipeline_result *rp, blastscan_result *out) {
    bs_pipeline_result r = *rp;
    out->label = r.label;
    out->class_name = bs->p.label_names[r.label ? 1 : 0];
    out->decision = r.decision;
    out->probability = r.probability;
    out->ood_score = bs->p.ood.available ? r.recon_error / bs->p.ood.threshold : -1.0;
    out->out_of_distribution = r.ood;
}

static int classify(blastscan *bs, const bs_image *img, blastscan_result *out) {
    bs_pipeline_result r;
    if (bs_pipeline_runtime_classify(bs->rt, img, 1, 1, bs->row, &r)) return -1;
    fill_result(bs, &r, out);
    return 0;
}

int blastscan_classify_rgb(blastscan *bs, const unsigned char *rgb, int width, int height,
                           blastscan_result *out) {
    bs_error_clear();
    if (!bs || !rgb || !out) return bs_error("blastscan_classify_rgb: NULL argument");
    if (width < 1 || height < 1 || (int64_t)width * height > BS_IMAGE_MAX_PIXELS)
        return bs_error("blastscan_classify_rgb: image size %dx%d out of range (1 to 2^28 pixels)",
                        width, height);
    bs_image img = {.width = width, .height = height, .rgb = (unsigned char *)rgb}; /* read only */
    return classify(bs, &img, out);
}

int blastscan_classify_file(blastscan *bs, const char *path, blastscan_result *out) {
    bs_error_clear();
    if (!bs || !path || !out) return bs_error("blastscan_classify_file: NULL argument");
    bs_image img;
    if (bs_image_load(path, &img)) return -1;
    int rc = classify(bs, &img, out);
    if (rc) bs_error_prefix("%s: ", path);
    bs_image_free(&img);
    return rc;
}

void blastscan_cells_options_default(blastscan_cells_options *opt) {
    opt->cell_size = 0;
    opt->min_probability = 0.9;
    opt->min_blasts = 1;
    opt->normalise = -1;
}

void blastscan_field_free(blastscan_field *field) {
    if (!field) return;
    free(field->cells);
    memset(field, 0, sizeof *field);
}

/* A field analysed (field.h) into the public records and the summary. */
static int field_results(blastscan *bs, const bs_field_analysis *a, blastscan_field *out) {
    size_t n = (size_t)a->cells.n;
    if (!(out->cells = bs_calloc(n + 1, sizeof *out->cells))) return -1;
    for (size_t i = 0; i < n; i++) {
        const bs_cell *c = &a->cells.cells[i];
        blastscan_cell *d = &out->cells[i];
        d->x = c->x, d->y = c->y, d->x0 = c->x0, d->y0 = c->y0, d->x1 = c->x1, d->y1 = c->y1;
        d->nucleus_area = (long long)c->nucleus_area;
        d->edge = c->edge;
        fill_result(bs, &a->results[i], &d->result);
    }
    const bs_field_summary *s = &a->summary;
    out->n_cells = n;
    out->blasts = (size_t)s->blasts;
    out->confident_blasts = (size_t)s->confident_blasts;
    out->blast_percent = s->blast_percent;
    out->blast_percent_lo = s->blast_percent_lo;
    out->blast_percent_hi = s->blast_percent_hi;
    out->all_suspected = s->all_suspected;
    out->cell_size = a->cells.cell_size;
    return 0;
}

int blastscan_cells_rgb(blastscan *bs, const unsigned char *rgb, int width, int height,
                        const blastscan_cells_options *opt, blastscan_field *out) {
    bs_error_clear();
    if (!bs || !rgb || !out) return bs_error("blastscan_cells_rgb: NULL argument");
    memset(out, 0, sizeof *out);
    if (width < 1 || height < 1 || (int64_t)width * height > BS_IMAGE_MAX_PIXELS)
        return bs_error("blastscan_cells_rgb: image size %dx%d out of range (1 to 2^28 pixels)",
                        width, height);
    blastscan_cells_options o;
    blastscan_cells_options_default(&o);
    if (opt) o = *opt;
    bs_field_options fo;
    bs_field_options_default(&fo);
    fo.detect.cell_size = o.cell_size;
    if (bs_field_resolve_normalise(&bs->p, o.normalise < 0 ? -1 : o.normalise != 0, &fo.normalise))
        return bs_error_prefix("blastscan_cells_rgb: ");
    fo.rule = (bs_field_rule){o.min_blasts < 1 ? 1 : o.min_blasts, o.min_probability};
    bs_image img = {.width = width, .height = height, .rgb = (unsigned char *)rgb}; /* read only */
    bs_field_analysis a;
    if (bs_field_analyse(&img, &fo, bs->rt, &bs->p, &a)) return -1;
    int rc = field_results(bs, &a, out);
    if (rc) blastscan_field_free(out);
    bs_field_analysis_free(&a);
    return rc;
}

int blastscan_cells_file(blastscan *bs, const char *path, const blastscan_cells_options *opt,
                         blastscan_field *out) {
    bs_error_clear();
    if (!bs || !path || !out) return bs_error("blastscan_cells_file: NULL argument");
    memset(out, 0, sizeof *out);
    bs_image img;
    if (bs_image_load(path, &img)) return -1;
    int rc = blastscan_cells_rgb(bs, img.rgb, img.width, img.height, opt, out);
    if (rc) bs_error_prefix("%s: ", path);
    bs_image_free(&img);
    return rc;
}

const char *blastscan_error(void) { return bs_error_message(); }

const char *blastscan_version(void) { return BLASTSCAN_VERSION; }
