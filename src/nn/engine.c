/* engine.c — the public face of src/nn: create/free, model queries, run with a per-shape
 * plan cache, output access. Not for: graph rewriting (graph.c) or oneDNN plans (plan.c). */
#include "engine.h"

#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/io.h"
#include "core/threads.h"
#include "internal.h"

#define N_PLANS ((int)(sizeof((bs_engine *)0)->plans / sizeof((bs_engine *)0)->plans[0]))

void bs_engine_free(bs_engine *e) {
    if (!e) return;
    for (int i = 0; i < N_PLANS; i++) bs_nn_plan_free(e->plans[i]);
    bs_nn_wcache_free(e);
    /* ops has room for one more than n_ops: a node that failed half-way may own `cin` there */
    if (e->ops)
        for (size_t i = 0; i <= e->n_ops; i++) free(e->ops[i].cin);
    free(e->ops);
    for (size_t i = 0; i < e->n_owned; i++) {
        bs_onnx_tensor_clear(e->owned[i]);
        free(e->owned[i]);
    }
    free(e->owned);
    for (size_t i = 0; i < e->n_outputs; i++) free(e->output_names[i]);
    free(e->output_names);
    free(e->outputs);
    free(e->tensors);
    free(e->tindex);
    if (e->stream) dnnl_stream_destroy(e->stream);
    if (e->eng) dnnl_engine_destroy(e->eng);
    bs_onnx_free(e->model);
    free(e);
}

bs_engine *bs_engine_create(bs_onnx_model *model, const char *const *outputs, size_t n_outputs) {
    if (!model) {
        bs_error("no model");
        return NULL;
    }
    bs_engine *e = bs_calloc(1, sizeof *e);
    if (!e) {
        bs_onnx_free(model);
        return NULL;
    }
    e->model = model;
    if (bs_nn_graph_prepare(e, outputs, n_outputs)) {
        if (!strstr(bs_error_message(), model->path)) bs_error_prefix("%s: ", model->path);
        bs_engine_free(e);
        return NULL;
    }
    if (dnnl_engine_create(&e->eng, dnnl_cpu, 0) != dnnl_success ||
        dnnl_stream_create(&e->stream, e->eng, dnnl_stream_default_flags) != dnnl_success) {
        bs_error("oneDNN: cannot create a CPU engine");
        bs_engine_free(e);
        return NULL;
    }
    return e;
}

bs_engine *bs_engine_load(const char *path, const char *const *outputs, size_t n_outputs) {
    bs_onnx_model *m;
    if (bs_onnx_load(path, &m)) return NULL;
    return bs_engine_create(m, outputs, n_outputs);
}

const char *bs_engine_input_name(const bs_engine *e) { return e->model->inputs[0].name; }

int bs_engine_input_dims(const bs_engine *e, int64_t dims[BS_ONNX_MAX_DIMS]) {
    const bs_onnx_value *v = &e->model->inputs[0];
    for (int i = 0; i < v->ndim; i++) dims[i] = v->dims[i];
    return v->ndim;
}

int64_t bs_engine_input_size(const bs_engine *e) {
    const char *s = bs_onnx_meta(e->model, "input_size");
    if (s) {
        char *end;
        long long v = strtoll(s, &end, 10);
        if (*s && !*end && v > 0 && v <= 65536) return v;
    }
    const bs_onnx_value *v = &e->model->inputs[0];
    if (v->ndim == 4 && v->dims[2] > 0 && v->dims[2] == v->dims[3]) return v->dims[2];
    return 0;
}

const char *bs_engine_meta(const bs_engine *e, const char *key) {
    return bs_onnx_meta(e->model, key);
}
size_t bs_engine_output_count(const bs_engine *e) { return e->n_outputs; }
const char *bs_engine_output_name(const bs_engine *e, size_t i) {
    return i < e->n_outputs ? e->output_names[i] : NULL;
}

int bs_engine_run(bs_engine *e, const float *input, int ndim, const int64_t *shape) {
    const bs_onnx_value *decl = &e->model->inputs[0];
    const char *path = e->model->path;
    if (ndim < 1 || ndim > 6) return bs_error("%s: input of rank %d not supported", path, ndim);
    if (decl->ndim >= 0 && decl->ndim != ndim)
        return bs_error("%s: input '%s' must have rank %d, got %d", path, decl->name, decl->ndim,
                        ndim);
    for (int i = 0; i < ndim; i++) {
        if (shape[i] < 1 || shape[i] > ((int64_t)1 << 31))
            return bs_error("%s: input dimension %d is %lld", path, i, (long long)shape[i]);
        if (decl->ndim >= 0 && decl->dims[i] >= 0 && decl->dims[i] != shape[i])
            return bs_error("%s: input '%s' dimension %d must be %lld, got %lld", path, decl->name,
                            i, (long long)decl->dims[i], (long long)shape[i]);
    }
    /* oneDNN (OpenMP runtime) uses the calling thread's OpenMP team size: the project budget */
    int threads = bs_threads_get();
    if (omp_get_max_threads() != threads) omp_set_num_threads(threads);
    struct nn_plan *p = NULL;
    int slot = -1;
    for (int i = 0; i < N_PLANS; i++)
        if (e->plans[i] && bs_nn_plan_matches(e->plans[i], ndim, shape, threads)) {
            p = e->plans[i];
            slot = i;
        }
    if (!p) {
        p = bs_nn_plan_build(e, ndim, shape, threads);
        if (!p) {
            if (!strstr(bs_error_message(), path)) bs_error_prefix("%s: ", path);
            return -1;
        }
        for (int i = 0; i < N_PLANS && slot < 0; i++)
            if (!e->plans[i]) slot = i;
        if (slot < 0) { /* evict the oldest (last slot) */
            slot = N_PLANS - 1;
            bs_nn_plan_free(e->plans[slot]);
        }
        e->plans[slot] = p;
    }
    /* most recently used first */
    for (int i = slot; i > 0; i--) e->plans[i] = e->plans[i - 1];
    e->plans[0] = p;
    e->current = NULL;
    if (bs_nn_plan_run(e, p, input)) return bs_error_prefix("%s: ", path);
    e->current = p;
    return 0;
}

const float *bs_engine_output(const bs_engine *e, const char *name, int *ndim,
                              int64_t shape[BS_ONNX_MAX_DIMS]) {
    if (!e->current) {
        bs_error("%s: no completed run", e->model->path);
        return NULL;
    }
    for (size_t i = 0; i < e->n_outputs; i++)
        if (strcmp(e->output_names[i], name) == 0)
            return bs_nn_plan_output(e->current, i, ndim, shape);
    bs_error("%s: '%s' is not a computed output", e->model->path, name);
    return NULL;
}

int bs_engine_output_array(const bs_engine *e, const char *name, bs_array *out) {
    int nd;
    int64_t shape[BS_ONNX_MAX_DIMS];
    const float *d = bs_engine_output(e, name, &nd, shape);
    if (!d) return -1;
    if (bs_array_alloc(out, nd, shape)) return -1;
    memcpy(out->data, d, (size_t)bs_array_count(out) * sizeof(float));
    return 0;
}
