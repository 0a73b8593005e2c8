/* maps.h — occlusion maps (pipeline/explain.h) of the most confidently misclassified images
 * of a study, for report.html's gallery. Scope, bounded so a default `reproduce` stays
 * affordable: one experiment — the one without an autoencoder that uses every feature set
 * (Exp 2, "fused"; with one backbone, Exp 1) — of one study (reproduce passes the grouped
 * one); original views only; at most max_images (default 8), most confident errors first; a
 * coarse grid (default 5×5, patch 0.3: 26 forward passes per image). Each image is explained
 * through the model that tested it: its fold's SVM refitted exactly as the study fitted it
 * (bs_study_refit_svm), behind the backbones that made the features (extract.json).
 * Not for: autoencoder experiments (refitting their autoencoders per fold would cost as much
 * as the study itself). */
#ifndef BS_REPORT_MAPS_H
#define BS_REPORT_MAPS_H

#include <stddef.h>

#include "features/featdir.h"
#include "html.h"
#include "pipeline/explain.h"
#include "pipeline/pipeline.h"
#include "study/study.h"

typedef struct bs_report_maps_options {
    size_t max_images;          /* default 8 */
    bs_explain_options explain; /* default grid 5, patch 0.3, batch 8 */
    double kernel_scale;        /* the study's --kernel-scale (0: auto) */
    /* The backbones come from the feature folder's extract.json (name, path, sha256, input
     * side, tap, width): found at their recorded paths, or by file name in backbone_dir when
     * it is given; the runtime refuses a file whose SHA-256 differs. */
    const char *backbone_dir;
} bs_report_maps_options;

void bs_report_maps_options_init(bs_report_maps_options *o);

/* Maps of study s (features in featdir, index idx) into *maps (*n of them) and a sentence
 * saying what they cover into *note (malloc'd). No candidate or no suitable experiment is not
 * an error: *n = 0 and the note says why. */
int bs_report_occlusion_maps(const bs_study *s, const bs_feature_index *idx, const char *featdir,
                             const bs_report_maps_options *o, bs_html_map **maps, size_t *n,
                             char **note);
void bs_report_maps_free(bs_html_map *maps, size_t n);

#endif
