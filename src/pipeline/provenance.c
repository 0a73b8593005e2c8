/* provenance.c — what a trained pipeline records about its training (see pipeline.h,
 * bs_pipeline_set_provenance): version, seed, views, images and rows per label, the classes,
 * and each backbone's name, file, digest, input size and tap. Not for: the fitted options,
 * which bs_pipeline_fit records itself, or writing the file (pipeline_file.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/io.h"
#include "pipeline.h"

/* The classes of ds (in name order, as bs_dataset_ids numbers them) with their label and
 * images. */
static int set_classes(bs_pipeline *p, const bs_dataset *ds) {
    int64_t *cls = bs_calloc(ds->n ? ds->n : 1, sizeof *cls);
    int64_t ncls = cls ? bs_dataset_ids(ds, BS_SAMPLE_CLASS, cls) : -1;
    if (ncls >= 0 && !(p->classes = bs_calloc((size_t)(ncls ? ncls : 1), sizeof *p->classes)))
        ncls = -1;
    int rc = ncls >= 0 ? 0 : -1;
    if (rc == 0) p->n_classes = (size_t)ncls;
    for (size_t i = 0; i < ds->n && rc == 0; i++) {
        bs_pipeline_class *c = &p->classes[cls[i]];
        if (c->images == 0) {
            if (strlen(ds->samples[i].class_name) > BS_PIPELINE_NAME_MAX) {
                rc = bs_error("class name '%.40s...' is too long", ds->samples[i].class_name);
                break;
            }
            snprintf(c->name, sizeof c->name, "%s", ds->samples[i].class_name);
            c->label = ds->samples[i].label;
        }
        c->images++;
    }
    free(cls);
    return rc;
}

/* The k-th backbone of the pipeline is info[order[k]], read from paths[order[k]]. */
static int set_backbones(bs_pipeline *p, const bs_backbone_info *info, const char *const *paths,
                         const size_t *order, size_t nb) {
    p->backbones = bs_calloc(nb ? nb : 1, sizeof *p->backbones);
    if (!p->backbones) return -1;
    p->n_backbones = nb;
    for (size_t k = 0; k < nb; k++) {
        const bs_backbone_info *in = &info[order[k]];
        bs_pipeline_backbone *b = &p->backbones[k];
        const char *base = strrchr(paths[order[k]], '/');
        base = base ? base + 1 : paths[order[k]];
        if (strlen(base) > BS_PIPELINE_NAME_MAX)
            return bs_error("%s: file name too long", paths[order[k]]);
        snprintf(b->name, sizeof b->name, "%s", in->name);
        snprintf(b->file, sizeof b->file, "%s", base);
        memcpy(b->sha256, in->sha256, sizeof b->sha256);
        b->input_size = in->input_size;
        snprintf(b->tap, sizeof b->tap, "%s", in->tap);
        b->dim = in->dim;
    }
    return 0;
}

int bs_pipeline_set_provenance(bs_pipeline *p, const bs_dataset *ds, const bs_augment *augment,
                               uint64_t seed, const bs_backbone_info *info,
                               const char *const *paths, const size_t *order, size_t nb) {
    snprintf(p->version, sizeof p->version, "%s", BLASTSCAN_VERSION);
    p->seed = seed;
    p->augment = augment->flip | augment->hed << 8 | augment->scale << 16 | augment->transfer << 24;
    bs_view views[BS_VIEW_END];
    int nviews = bs_augment_views(augment, views);
    p->n_images = (int64_t)ds->n;
    p->n_rows = (int64_t)ds->n * nviews;
    snprintf(p->label_names[0], sizeof p->label_names[0], "healthy");
    snprintf(p->label_names[1], sizeof p->label_names[1], "ALL");
    for (size_t i = 0; i < ds->n; i++) {
        p->images_per_label[ds->samples[i].label ? 1 : 0]++;
        p->rows_per_label[ds->samples[i].label ? 1 : 0] += nviews;
    }
    if (set_classes(p, ds)) return -1;
    return set_backbones(p, info, paths, order, nb);
}
