/* inputs.c — what `train` feeds bs_pipeline_fit, in the library so that the command, the
 * tests and embedding programs build it the same way: the fused feature rows of a feature
 * folder (backbones in feature-set name order, as the study fuses them) and the seeds derived
 * from --seed. Not for: extracting features (features/extract.h) or fitting (pipeline.c). */
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/rng.h"
#include "features/featdir.h"
#include "pipeline.h"

void bs_pipeline_fit_options_seed(bs_pipeline_fit_options *o, uint64_t seed) {
    o->ae.seed = bs_rng_derive(seed, BS_SEED_AE);
    o->svm_seed = bs_rng_derive(seed, BS_SEED_SVM);
    o->calibration_seed = bs_rng_derive(seed, BS_SEED_CALIBRATION);
}

int bs_pipeline_read_features(const char *featdir, const bs_backbone_info *info, size_t nb,
                              size_t rows, size_t *order, float **x, int64_t *width) {
    char **names = NULL;
    size_t nsets = 0;
    if (bs_featdir_read_joined(featdir, rows, x, width, &names, &nsets)) return -1;
    int rc =
        nsets == nb ? 0 : bs_error("%s: %zu feature sets for %zu backbones", featdir, nsets, nb);
    for (size_t k = 0; k < nsets && rc == 0; k++) {
        size_t i = 0;
        while (i < nb && strcmp(info[i].name, names[k]) != 0) i++;
        if (i == nb)
            rc = bs_error("%s: feature set '%s' is no backbone's", featdir, names[k]);
        else
            order[k] = i;
    }
    for (size_t k = 0; k < nsets; k++) free(names[k]);
    free(names);
    if (rc) {
        free(*x);
        *x = NULL;
    }
    return rc;
}
