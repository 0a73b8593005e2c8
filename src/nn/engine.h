/* engine.h — run an ONNX graph on oneDNN.
 *
 * Load a model once (bs_engine_load or bs_engine_create), then call bs_engine_run with batches
 * of any size N; each distinct input shape (and thread count) gets its own execution plan —
 * oneDNN primitives, blocked weight copies, a buffer-reusing memory plan — built on first use
 * and kept for later runs. Outputs stay valid until the next run or bs_engine_free.
 * Threads: the OpenMP budget in force when a run starts (core/threads.h, --threads).
 * Not for: image decoding, batching policy, writing files (the caller's job). */
#ifndef BS_NN_ENGINE_H
#define BS_NN_ENGINE_H

#include <stddef.h>
#include <stdint.h>

#include "core/npy.h"
#include "onnx/onnx.h"

typedef struct bs_engine bs_engine;

/* Take ownership of `model` (freed with the engine, also on failure) and prepare it: operators
 * checked, BatchNormalization folded into convolutions, Conv/Gemm+Relu fused, nodes not needed
 * for the requested outputs dropped. `outputs` names the tensors to compute (graph outputs or
 * any intermediate tensor); NULL/0 means the graph's outputs. Returns NULL on error. */
bs_engine *bs_engine_create(bs_onnx_model *model, const char *const *outputs, size_t n_outputs);
/* bs_onnx_load + bs_engine_create. */
bs_engine *bs_engine_load(const char *path, const char *const *outputs, size_t n_outputs);
void bs_engine_free(bs_engine *e);

/* The model's input: name, rank and declared dims (-1 where dynamic, e.g. the batch). */
const char *bs_engine_input_name(const bs_engine *e);
int bs_engine_input_dims(const bs_engine *e, int64_t dims[BS_ONNX_MAX_DIMS]);
/* Square input side: metadata `input_size`, else the declared H == W, else 0 (unknown). */
int64_t bs_engine_input_size(const bs_engine *e);
/* metadata_props value, or NULL. */
const char *bs_engine_meta(const bs_engine *e, const char *key);
/* The computed outputs, in request order. */
size_t bs_engine_output_count(const bs_engine *e);
const char *bs_engine_output_name(const bs_engine *e, size_t i);

/* Run on a float32 C-order tensor (e.g. [N,3,S,S]). */
int bs_engine_run(bs_engine *e, const float *input, int ndim, const int64_t *shape);
/* After a run: the output's data (C order, plain) and shape; NULL (with bs_error) if `name` is
 * not a computed output. Borrowed: valid until the next run. */
const float *bs_engine_output(const bs_engine *e, const char *name, int *ndim,
                              int64_t shape[BS_ONNX_MAX_DIMS]);
/* Copy an output into a newly allocated array. */
int bs_engine_output_array(const bs_engine *e, const char *name, bs_array *out);

#endif
