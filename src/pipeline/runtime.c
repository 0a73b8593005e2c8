/* runtime.c — the backbones of a pipeline at prediction time: each ONNX file found by its
 * recorded name in a folder, verified by SHA-256 against the pipeline file, and run on RGB
 * images (resized to the recorded input side, original view) to build fused feature rows; the
 * morphometric features (features/morphometry.h), a backbone without a file, are computed
 * from each image at its own size and its scale. Not for: the models after the features
 * (pipeline.c) or files (pipeline_file.c). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/hash.h"
#include "core/io.h"
#include "features/morphometry.h"
#include "nn/engine.h"
#include "pipeline.h"

struct bs_pipeline_runtime {
    const bs_pipeline *p;
    bs_engine **engines;
    float *tensor;
    size_t tensor_len;
};

void bs_pipeline_runtime_free(bs_pipeline_runtime *rt) {
    if (!rt) return;
    for (size_t i = 0; rt->engines && i < rt->p->n_backbones; i++) bs_engine_free(rt->engines[i]);
    free(rt->engines);
    free(rt->tensor);
    free(rt);
}

/* A morphometry entry is usable when it is this build's version (its digest and width). */
static int morph_check(const bs_pipeline_backbone *b) {
    char sha[BS_SHA256_HEX];
    bs_morph_sha256(sha);
    if (strcmp(sha, b->sha256) != 0 || b->dim != BS_MORPH_DIM)
        return bs_error("the pipeline was trained with morphometric features '%s' (sha256 %s, %lld "
                        "columns); this build computes %s (sha256 %s, %d columns): retrain it",
                        b->tap, b->sha256, (long long)b->dim, BS_MORPH_VERSION, sha, BS_MORPH_DIM);
    return 0;
}

bs_pipeline_runtime *bs_pipeline_runtime_open(const bs_pipeline *p, const char *dir) {
    bs_pipeline_runtime *rt = bs_calloc(1, sizeof *rt);
    if (!rt) return NULL;
    rt->p = p;
    if (!(rt->engines = bs_calloc(p->n_backbones, sizeof *rt->engines))) goto fail;
    for (size_t i = 0; i < p->n_backbones; i++) {
        const bs_pipeline_backbone *b = &p->backbones[i];
        if (strcmp(b->file, BS_MORPH_NAME) == 0) {
            if (morph_check(b)) goto fail;
            continue; /* no engine: computed from the images */
        }
        char *path = bs_path_join(dir, b->file);
        if (!path) goto fail;
        char sha[BS_SHA256_HEX];
        if (!bs_file_exists(path)) {
            bs_error("backbone '%s' not found: %s does not exist (give --backbone-dir DIR holding "
                     "%s, sha256 %s)",
                     b->name, path, b->file, b->sha256);
            free(path);
            goto fail;
        }
        if (bs_sha256_file(path, sha)) {
            free(path);
            goto fail;
        }
        if (strcmp(sha, b->sha256) != 0) {
            bs_error(
                "%s: sha256 %s differs from the backbone '%s' the pipeline was trained with (%s); "
                "features from another model would be meaningless",
                path, sha, b->name, b->sha256);
            free(path);
            goto fail;
        }
        const char *outs[1] = {b->tap};
        rt->engines[i] = bs_engine_load(path, outs, 1);
        if (!rt->engines[i]) {
            bs_error_prefix("%s: ", path);
            free(path);
            goto fail;
        }
        free(path);
    }
    return rt;
fail:
    bs_pipeline_runtime_free(rt);
    return NULL;
}

/* The morphometric columns [off, off + BS_MORPH_DIM) of n rows of width `width`. */
static int morph_features(const bs_image *images, size_t n, float *rows, int64_t width,
                          int64_t off) {
    char *first_error = NULL; /* errors are per thread: keep the first one's words */
#pragma omp parallel for schedule(dynamic, 1)
    for (size_t i = 0; i < n; i++)
        if (bs_morph_features(&images[i], rows + i * (size_t)width + off, NULL)) {
#pragma omp critical(morph_error)
            if (!first_error) first_error = bs_strdup(bs_error_message());
        }
    if (!first_error) return 0;
    bs_error("morphometry: %s", first_error);
    free(first_error);
    return -1;
}

int bs_pipeline_runtime_features(bs_pipeline_runtime *rt, const bs_image *images, size_t n,
                                 size_t batch, float *rows) {
    const bs_pipeline *p = rt->p;
    if (batch < 1) batch = 1;
    if (batch > n) batch = n;
    if (n == 0) return 0;
    int64_t off = 0;
    for (size_t bi = 0; bi < p->n_backbones; bi++) {
        const bs_pipeline_backbone *b = &p->backbones[bi];
        if (!rt->engines[bi]) {
            if (morph_features(images, n, rows, p->n_features, off)) return -1;
            off += b->dim;
            continue;
        }
        const size_t per = (size_t)3 * b->input_size * b->input_size;
        size_t need;
        if (bs_mul_size(per, batch * sizeof(float), &need)) return -1;
        if (need > rt->tensor_len) {
            float *t = bs_realloc(rt->tensor, need);
            if (!t) return -1;
            rt->tensor = t;
            rt->tensor_len = need;
        }
        for (size_t i0 = 0; i0 < n; i0 += batch) {
            size_t m = n - i0 < batch ? n - i0 : batch;
            memset(rt->tensor + m * per, 0, (batch - m) * per * sizeof(float));
            int failed = 0;
#pragma omp parallel for schedule(dynamic, 1)
            for (size_t i = 0; i < m; i++) {
                bs_image small;
                if (bs_image_resize(&images[i0 + i], b->input_size, &small)) {
                    failed = 1;
                    continue;
                }
                bs_image_to_chw(&small, BS_VIEW_ORIGINAL, rt->tensor + i * per);
                bs_image_free(&small);
            }
            if (failed)
                return bs_error("cannot resize an image to %dx%d for '%s'", b->input_size,
                                b->input_size, b->name);
            int64_t shape[4] = {(int64_t)batch, 3, b->input_size, b->input_size};
            if (bs_engine_run(rt->engines[bi], rt->tensor, 4, shape))
                return bs_error_prefix("backbone '%s': ", b->name);
            int ndim;
            int64_t oshape[BS_ONNX_MAX_DIMS];
            const float *out = bs_engine_output(rt->engines[bi], b->tap, &ndim, oshape);
            if (!out) return bs_error_prefix("backbone '%s': ", b->name);
            int64_t count = 1;
            for (int k = 0; k < ndim; k++) count *= oshape[k];
            if (ndim < 1 || oshape[0] != (int64_t)batch || count != (int64_t)batch * b->dim)
                return bs_error("backbone '%s': output '%s' does not have %lld features per image",
                                b->name, b->tap, (long long)b->dim);
            for (size_t i = 0; i < m; i++) {
                const float *src = out + i * (size_t)b->dim;
                for (int64_t k = 0; k < b->dim; k++)
                    if (!isfinite(src[k]))
                        return bs_error("backbone '%s' gave a non-finite feature", b->name);
                memcpy(rows + (i0 + i) * (size_t)p->n_features + off, src,
                       sizeof(float) * (size_t)b->dim);
            }
        }
        off += b->dim;
    }
    return 0;
}

int bs_pipeline_runtime_classify(bs_pipeline_runtime *rt, const bs_image *images, size_t n,
                                 size_t batch, float *rows, bs_pipeline_result *out) {
    const bs_pipeline *p = rt->p;
    if (bs_pipeline_runtime_features(rt, images, n, batch, rows)) return -1;
    return bs_pipeline_predict(p, bs_matrix_of(rows, (int64_t)n, p->n_features), NULL, (int64_t)n,
                               out);
}
