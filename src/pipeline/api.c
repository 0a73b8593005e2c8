/* api.c — the public embedding API (include/blastscan/blastscan.h) on top of the pipeline
 * stage: a handle owns a loaded pipeline, its backbone engines and one feature row. */
#include "blastscan/blastscan.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/io.h"
#include "image/image.h"
#include "pipeline.h"

#ifndef BLASTSCAN_VERSION
#define BLASTSCAN_VERSION "unknown"
#endif

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
        if (bs_image_init("blastscan", 0))
            return NULL;
        vips_started = 1;
    }
    blastscan *bs = bs_calloc(1, sizeof *bs);
    if (!bs)
        return NULL;
    if (bs_pipeline_load(pipeline_path, &bs->p) ||
        !(bs->rt = bs_pipeline_runtime_open(&bs->p, backbone_dir)) ||
        !(bs->row = bs_malloc(sizeof(float) * (size_t)bs->p.n_features))) {
        blastscan_close(bs);
        return NULL;
    }
    return bs;
}

void blastscan_close(blastscan *bs) {
    if (!bs)
        return;
    bs_pipeline_runtime_free(bs->rt);
    bs_pipeline_free(&bs->p);
    free(bs->row);
    free(bs);
}

static int classify(blastscan *bs, const bs_image *img, blastscan_result *out) {
    bs_pipeline_result r;
    if (bs_pipeline_runtime_features(bs->rt, img, 1, 1, bs->row) ||
        bs_pipeline_predict(&bs->p, bs->row, 1, bs->p.n_features, NULL, 1, &r))
        return -1;
    out->label = r.label;
    out->class_name = bs->p.label_names[r.label ? 1 : 0];
    out->decision = r.decision;
    out->probability = r.probability;
    out->ood_score = bs->p.ood.available ? r.recon_error / bs->p.ood.threshold : -1.0;
    out->out_of_distribution = r.ood;
    return 0;
}

int blastscan_classify_rgb(blastscan *bs, const unsigned char *rgb, int width, int height,
                           blastscan_result *out) {
    bs_error_clear();
    if (!bs || !rgb || !out)
        return bs_error("blastscan_classify_rgb: NULL argument");
    if (width < 1 || height < 1 || (int64_t)width * height > BS_IMAGE_MAX_PIXELS)
        return bs_error("blastscan_classify_rgb: image size %dx%d out of range (1 to 2^28 pixels)",
                        width, height);
    bs_image img = {width, height, (unsigned char *)rgb}; /* read only */
    return classify(bs, &img, out);
}

int blastscan_classify_file(blastscan *bs, const char *path, blastscan_result *out) {
    bs_error_clear();
    if (!bs || !path || !out)
        return bs_error("blastscan_classify_file: NULL argument");
    bs_image img;
    if (bs_image_load(path, &img))
        return -1;
    int rc = classify(bs, &img, out);
    if (rc)
        bs_error_prefix("%s: ", path);
    bs_image_free(&img);
    return rc;
}

const char *blastscan_error(void) { return bs_error_message(); }

const char *blastscan_version(void) { return BLASTSCAN_VERSION; }
