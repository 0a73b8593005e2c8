/* fuzz_onnx.c — libFuzzer target: an ONNX file up to a validated, prepared engine graph
 * (bs_onnx_parse + bs_engine_create; no network is run). */
#include <stddef.h>
#include <stdint.h>

#include "nn/engine.h"
#include "onnx/onnx.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    bs_onnx_model *m = NULL;
    if (bs_onnx_parse(data, size, "fuzz.onnx", &m) != 0) return 0;
    (void)bs_onnx_meta(m, "input_size");
    bs_engine *e = bs_engine_create(m, NULL, 0); /* owns m, also on failure */
    if (e) {
        int64_t dims[BS_ONNX_MAX_DIMS];
        (void)bs_engine_input_dims(e, dims);
        (void)bs_engine_input_size(e);
        (void)bs_engine_input_name(e);
        for (size_t i = 0; i < bs_engine_output_count(e); i++) (void)bs_engine_output_name(e, i);
        bs_engine_free(e);
    }
    return 0;
}
