/* field_classify.h — a pipeline applied cell by cell to a field: every detected cell cropped
 * (field.h: normalised colour, square crop sized from the cell), run through the pipeline's
 * backbones in batches and classified like a whole image (class, decision, calibrated
 * probability, out-of-distribution flag). Shared by `blastscan cells` and the C API.
 * Not for: detection (detect/detect.h) or the per-field summary (field.h). */
#ifndef BS_PIPELINE_FIELD_CLASSIFY_H
#define BS_PIPELINE_FIELD_CLASSIFY_H

#include "detect/detect.h"
#include "pipeline.h"

/* out[i] for cells[i] of field; batch = crops per network run. normalise: 1 to normalise the
 * field's colour first (the setting the cell model was trained with: docs/cells.md). */
int bs_pipeline_classify_cells(bs_pipeline_runtime *rt, const bs_pipeline *p, const bs_image *field,
                               const bs_cell *cells, int64_t n, int normalise, size_t batch,
                               bs_pipeline_result *out);

#endif
