/* fuzz_pipeline.c — libFuzzer target: the pipeline file (bs_pipeline_parse, issue 6); a
 * pipeline that loads also predicts one all-zero row, so an inconsistent model (autoencoder,
 * SVM, Platt and OOD parts that do not fit together) would show. Backbones are not opened. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "core/threads.h"
#include "pipeline/pipeline.h"

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc, (void)argv;
    bs_threads_set(1);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    bs_pipeline p;
    if (bs_pipeline_parse(data, size, "fuzz.blastscan", &p) != 0) return 0;
    int64_t d = p.n_features;
    if (d > 0 && d <= (1 << 16)) {
        float *x = calloc((size_t)d, sizeof *x);
        bs_pipeline_result res;
        if (x) (void)bs_pipeline_predict(&p, bs_matrix_of(x, 1, d), NULL, 1, &res);
        free(x);
    }
    bs_pipeline_free(&p);
    return 0;
}
