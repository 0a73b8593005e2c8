/* field_classify.c — classify every detected cell of a field (field_classify.h). The crops are
 * made once by bs_field_crops, exactly as `blastscan cells --crops` makes training crops. */
#include "field_classify.h"

#include <stdlib.h>

#include "core/error.h"
#include "core/io.h"
#include "field/field.h"

int bs_pipeline_classify_cells(bs_pipeline_runtime *rt, const bs_pipeline *p, const bs_image *field,
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
