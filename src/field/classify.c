/* classify.c — a field's cells through a trained pipeline (field.h): every detected cell
 * classified (bs_field_classify_cells; the crops are made once by bs_field_crops, exactly as
 * the crop dataset makes training crops), and a whole field analysed: detection, then with a
 * pipeline each cell's result and call, and the field's summary (bs_field_analyse, behind
 * `blastscan cells` and blastscan_cells_rgb), and a field analysed added to a comparison with
 * annotations (bs_field_compare). Not for: printing or the public records. */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/io.h"
#include "field.h"

int bs_field_classify_cells(bs_pipeline_runtime *rt, const bs_pipeline *p, const bs_image *field,
                            const bs_cell *cells, int64_t n, int normalise, size_t batch,
                            bs_pipeline_result *out) {
    if (n <= 0) return 0;
    size_t rows_len;
    if (bs_mul_size((size_t)n, sizeof(float) * (size_t)p->n_features, &rows_len)) return -1;
    bs_image *crops = bs_calloc((size_t)n, sizeof *crops);
    float *rows = crops ? bs_malloc(rows_len) : NULL;
    int rc = -1;
    if (rows && bs_field_crops(field, cells, n, normalise, crops) == 0) {
        rc = bs_pipeline_runtime_classify(rt, crops, (size_t)n, batch, rows, out);
        for (int64_t i = 0; i < n; i++) bs_image_free(&crops[i]);
    }
    free(crops);
    free(rows);
    return rc;
}

void bs_field_options_default(bs_field_options *o) {
    memset(o, 0, sizeof *o);
    bs_detect_params_default(&o->detect);
    o->normalise = 1;
    o->batch = 8;
    bs_field_rule_default(&o->rule);
}

void bs_field_analysis_free(bs_field_analysis *a) {
    bs_detect_free(&a->cells);
    free(a->results);
    free(a->calls);
    memset(a, 0, sizeof *a);
}

int bs_field_analyse(const bs_image *img, const bs_field_options *o, bs_pipeline_runtime *rt,
                     const bs_pipeline *p, bs_field_analysis *out) {
    memset(out, 0, sizeof *out);
    if (bs_detect_cells(img->rgb, img->width, img->height, &o->detect, &out->cells)) goto fail;
    size_t n = (size_t)out->cells.n;
    if (!(out->calls = bs_calloc(n + 1, sizeof *out->calls))) goto fail;
    if (rt) {
        bs_image scaled = *img; /* the crops carry the field's scale (morphometric features) */
        scaled.cell_px = out->cells.cell_size;
        scaled.red_cell_px = out->cells.red_cell_size;
        if (!(out->results = bs_calloc(n + 1, sizeof *out->results)) ||
            bs_field_classify_cells(rt, p, &scaled, out->cells.cells, out->cells.n, o->normalise,
                                    o->batch, out->results))
            goto fail;
        for (size_t i = 0; i < n; i++) {
            const bs_pipeline_result *r = &out->results[i];
            out->calls[i] = (bs_field_call){r->label, r->probability, r->ood};
        }
    }
    bs_field_summarise(out->calls, out->cells.n, &o->rule, &out->summary);
    return 0;
fail:
    bs_field_analysis_free(out);
    return -1;
}

int bs_field_compare(bs_truth_eval *e, const bs_truth *t, const char *path, const bs_image *img,
                     const bs_field_analysis *a, int *found) {
    bs_truth_image scratch = {0};
    const bs_truth_image *ti;
    if (bs_truth_lookup(t, path, img->width, img->height, &scratch, &ti, found)) return -1;
    if (!*found) return 0;
    int *called = NULL;
    size_t n = (size_t)a->cells.n;
    if (a->results && !(called = bs_calloc(n + 1, sizeof *called))) {
        bs_truth_image_free(&scratch);
        return -1;
    }
    for (size_t i = 0; called && i < n; i++) called[i] = a->results[i].label == 1;
    int rc = bs_truth_eval_add(e, path, a->cells.cells, n, called, ti);
    free(called);
    bs_truth_image_free(&scratch);
    return rc;
}

int bs_field_adapt_prior(bs_field_analysis *fields, size_t n, const bs_pipeline *p,
                         const bs_field_rule *rule, bs_pipeline_adaptation *out) {
    int64_t total = 0;
    for (size_t i = 0; i < n; i++) {
        assert(fields[i].cells.n == 0 || fields[i].results);
        total += fields[i].cells.n;
    }
    bs_pipeline_result *all = bs_calloc(total ? (size_t)total : 1, sizeof *all);
    if (!all) return -1;
    for (size_t i = 0, k = 0; i < n; i++)
        for (int64_t c = 0; c < fields[i].cells.n; c++) all[k++] = fields[i].results[c];
    int rc = bs_pipeline_adapt_prior(p, all, total, out);
    for (size_t i = 0, k = 0; i < n && rc == 0; i++) {
        bs_field_analysis *a = &fields[i];
        for (int64_t c = 0; c < a->cells.n; c++, k++) {
            a->results[c] = all[k];
            a->calls[c] = (bs_field_call){all[k].label, all[k].probability, all[k].ood};
        }
        bs_field_summarise(a->calls, a->cells.n, rule, &a->summary);
    }
    free(all);
    return rc;
}
