/* crop_settings.c — how a cell model's crops were made, recorded at training (the pipeline
 * file's `CELL` section) and applied when the model classifies cells, so that `cells --model`
 * crops exactly as the training crops were cut without the user repeating options (see
 * field.h). Not for: the crops themselves (field.c) or the file (pipeline_file.c). */
#include <math.h>
#include <string.h>

#include "core/error.h"
#include "field.h"

static const char *how(int normalised) {
    return normalised ? "normalised colours" : "colours as photographed";
}

int bs_field_crop_settings(const bs_dataset *ds, bs_pipeline_cells *out) {
    memset(out, 0, sizeof *out);
    const bs_sample *first = NULL, *unsaid = NULL;
    for (size_t i = 0; i < ds->n; i++) {
        const bs_sample *s = &ds->samples[i];
        if (s->normalised < 0) {
            if (!unsaid) unsaid = s;
        } else if (!first) {
            first = s;
        } else if (s->normalised != first->normalised) {
            return bs_error("%s was cropped with %s, %s with %s: a cell model's crops must all "
                            "be made one way",
                            first->path, how(first->normalised), s->path, how(s->normalised));
        }
    }
    if (!first) return 0; /* not a crop manifest, or one written before the column */
    if (unsaid)
        return bs_error("%s says how it was cropped (normalised = %d) but %s does not (no "
                        "`normalised` value): a cell model's crops must all be made one way",
                        first->path, first->normalised, unsaid->path);
    *out = (bs_pipeline_cells){1, first->normalised, BS_FIELD_CROP_SCALE};
    return 0;
}

int bs_field_resolve_normalise(const bs_pipeline *p, int asked, int *normalise) {
    const bs_pipeline_cells *c = &p->cells;
    *normalise = asked < 0 ? 1 : asked;
    if (!c->present) return 0; /* a model that does not say: as asked, normalised by default */
    if (fabs(c->crop_scale - BS_FIELD_CROP_SCALE) > 1e-9)
        return bs_error("the model was trained on crops of %g x the cell's box, this build crops "
                        "at %g x",
                        c->crop_scale, BS_FIELD_CROP_SCALE);
    if (asked >= 0 && asked != c->normalised)
        return bs_error("the model was trained on crops with %s, and %s were asked for: the "
                        "model's own setting is used when none is given",
                        how(c->normalised), how(asked));
    *normalise = c->normalised;
    return 0;
}
