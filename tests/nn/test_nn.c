/* test_nn.c — the ONNX loader and the oneDNN engine.
 *
 * - Known-answer tests: one tiny model per operator case (fixtures/generate.py wrote the model,
 *   its input and the expected output computed in numpy float64, independently of oneDNN).
 *   Tolerance: max |diff| <= 1e-4 and relative L2 <= 1e-5.
 * - Parity with ONNX Runtime 1.30 on the shipped models (../shared/reference): for all 4 images,
 *   `features` max |diff| <= 1e-4, `probabilities` max |diff| <= 1e-5, relative L2 <= 1e-4 for
 *   both; and a batch of the 4 images equals the 4 single runs (max |diff| <= 1e-5).
 * - Malformed models: every fixtures/bad_*.onnx fails with a message naming the problem;
 *   every truncation and many byte corruptions of a valid model fail cleanly or load.
 * - API: metadata, input size, intermediate outputs, plan reuse across batch sizes. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/io.h"
#include "core/npy.h"
#include "core/threads.h"
#include "nn/engine.h"
#include "onnx/onnx.h"
#include "test_support.h"

static char *fixture(const char *name) {
    const char *src = getenv("BLASTSCAN_SOURCE_DIR");
    return bs_strfmt("%s/tests/nn/fixtures/%s", src ? src : ".", name);
}

typedef struct {
    double max_abs, rel_l2;
} diff;

static diff compare(const float *a, const float *b, size_t n) {
    double m = 0, num = 0, den = 0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)a[i] - (double)b[i]);
        if (d > m || d != d) m = d != d ? INFINITY : d;
        num += d * d;
        den += (double)b[i] * b[i];
    }
    diff r = {m, den > 0 ? sqrt(num / den) : sqrt(num)};
    return r;
}

static void load_npy(const char *path, bs_array *a) {
    if (bs_npy_read(path, a)) fail_msg("%s", bs_error_message());
}

/* ---- known answers ---- */

static const char *cases[] = {"conv_pads", "conv_group_relu", "conv_chain_same", "relu", "maxpool_ceil",
                              "maxpool_pads", "avgpool_exclude", "avgpool_include", "avgpool_ceil_include", "avgpool_ceil_exclude", "gap", "lrn", "concat",
                              "flatten", "flatten_axis2", "gemm_transb", "gemm_alpha_beta", "gemm_relu", "softmax",
                              "softmax_opset11", "sub_mean", "mul_scalar_sub", "sub_const_first", "add_two",
                              "bn_folded", "bn_standalone", "pad_value", "pad_conv", "pad_opset7",
                              "identity_dropout_constant", "float_data"};

static void test_operators(void **state) {
    (void)state;
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        char *base = fixture(cases[c]);
        char *mp = bs_strfmt("%s.onnx", base), *ip = bs_strfmt("%s_in.npy", base), *op = bs_strfmt("%s_out.npy", base);
        bs_array x, y, want;
        load_npy(ip, &x);
        load_npy(op, &want);
        bs_engine *e = bs_engine_load(mp, NULL, 0);
        if (!e) fail_msg("%s: %s", cases[c], bs_error_message());
        if (bs_engine_run(e, x.data, x.ndim, x.shape)) fail_msg("%s: %s", cases[c], bs_error_message());
        assert_int_equal(bs_engine_output_array(e, "y", &y), 0);
        assert_int_equal(y.ndim, want.ndim);
        for (int i = 0; i < y.ndim; i++) assert_int_equal(y.shape[i], want.shape[i]);
        diff d = compare(y.data, want.data, (size_t)bs_array_count(&want));
        printf("  %-28s max|diff| %.2e  relL2 %.2e\n", cases[c], d.max_abs, d.rel_l2);
        if (!(d.max_abs <= 1e-4 && d.rel_l2 <= 1e-5)) fail_msg("%s: outside tolerance", cases[c]);
        /* a second run reuses the plan and gives the same bits */
        assert_int_equal(bs_engine_run(e, x.data, x.ndim, x.shape), 0);
        int nd;
        int64_t sh[BS_ONNX_MAX_DIMS];
        const float *again = bs_engine_output(e, "y", &nd, sh);
        assert_non_null(again);
        assert_memory_equal(again, y.data, (size_t)bs_array_count(&y) * sizeof(float));
        bs_engine_free(e);
        bs_array_free(&x);
        bs_array_free(&y);
        bs_array_free(&want);
        free(mp), free(ip), free(op), free(base);
    }
}

/* ---- parity with ONNX Runtime ---- */

static const char *images[] = {"astronaut", "chelsea", "coffee", "rocket"};

static void parity(const char *model) {
    char *mp = bs_strfmt("models/%s.onnx", model);
    char *path = bs_test_asset(mp);
    free(mp);
    if (!path) BS_SKIP("model %s absent", model);
    const char *outs[] = {"features", "probabilities"};
    bs_engine *e = bs_engine_load(path, outs, 2);
    if (!e) fail_msg("%s", bs_error_message());
    bs_array in[4], ref[4][2];
    for (int i = 0; i < 4; i++) {
        char *rel = bs_strfmt("reference/%s/%s_input.npy", model, images[i]);
        char *p = bs_test_asset(rel);
        assert_non_null(p);
        load_npy(p, &in[i]);
        free(rel), free(p);
        for (int k = 0; k < 2; k++) {
            rel = bs_strfmt("reference/%s/%s_%s.npy", model, images[i], outs[k]);
            p = bs_test_asset(rel);
            assert_non_null(p);
            load_npy(p, &ref[i][k]);
            free(rel), free(p);
        }
    }
    double worst[2] = {0, 0}, worst_l2[2] = {0, 0};
    for (int i = 0; i < 4; i++) {
        assert_int_equal(bs_engine_run(e, in[i].data, in[i].ndim, in[i].shape), 0);
        for (int k = 0; k < 2; k++) {
            bs_array y;
            assert_int_equal(bs_engine_output_array(e, outs[k], &y), 0);
            assert_int_equal(bs_array_count(&y), bs_array_count(&ref[i][k]));
            diff d = compare(y.data, ref[i][k].data, (size_t)bs_array_count(&y));
            printf("  %s %-9s %-13s max|diff| %.2e  relL2 %.2e\n", model, images[i], outs[k], d.max_abs, d.rel_l2);
            if (d.max_abs > worst[k]) worst[k] = d.max_abs;
            if (d.rel_l2 > worst_l2[k]) worst_l2[k] = d.rel_l2;
            bs_array_free(&y);
        }
    }
    assert_true(worst[0] <= 1e-4);     /* features */
    assert_true(worst[1] <= 1e-5);     /* probabilities */
    assert_true(worst_l2[0] <= 1e-4);
    assert_true(worst_l2[1] <= 1e-4);

    /* batch of 4 == four batches of 1 */
    int64_t shape[4] = {4, in[0].shape[1], in[0].shape[2], in[0].shape[3]};
    size_t per = (size_t)bs_array_count(&in[0]);
    float *batch = malloc(4 * per * sizeof(float));
    assert_non_null(batch);
    for (int i = 0; i < 4; i++) memcpy(batch + i * per, in[i].data, per * sizeof(float));
    assert_int_equal(bs_engine_run(e, batch, 4, shape), 0);
    double worst_batch = 0;
    for (int k = 0; k < 2; k++) {
        int nd;
        int64_t sh[BS_ONNX_MAX_DIMS];
        const float *y = bs_engine_output(e, outs[k], &nd, sh);
        assert_non_null(y);
        assert_int_equal(nd, 2);
        assert_int_equal(sh[0], 4);
        for (int i = 0; i < 4; i++) {
            /* compare with ORT, and with our own batch-1 run */
            diff d = compare(y + i * sh[1], ref[i][k].data, (size_t)sh[1]);
            assert_true(d.max_abs <= (k ? 1e-5 : 1e-4));
        }
    }
    /* batch-1 outputs of our engine, re-run to compare against the batch rows */
    float *rows[2];
    int64_t dims[2];
    for (int k = 0; k < 2; k++) {
        int nd;
        int64_t sh[BS_ONNX_MAX_DIMS];
        const float *y = bs_engine_output(e, outs[k], &nd, sh);
        dims[k] = sh[1];
        rows[k] = malloc((size_t)(4 * sh[1]) * sizeof(float));
        memcpy(rows[k], y, (size_t)(4 * sh[1]) * sizeof(float));
    }
    for (int i = 0; i < 4; i++) {
        assert_int_equal(bs_engine_run(e, in[i].data, 4, in[i].shape), 0);
        for (int k = 0; k < 2; k++) {
            int nd;
            int64_t sh[BS_ONNX_MAX_DIMS];
            const float *y = bs_engine_output(e, outs[k], &nd, sh);
            diff d = compare(rows[k] + i * dims[k], y, (size_t)dims[k]);
            if (d.max_abs > worst_batch) worst_batch = d.max_abs;
        }
    }
    printf("  %s batch 4 vs batch 1: max|diff| %.2e\n", model, worst_batch);
    assert_true(worst_batch <= 1e-5);
    for (int k = 0; k < 2; k++) free(rows[k]);
    free(batch);
    for (int i = 0; i < 4; i++) {
        bs_array_free(&in[i]);
        bs_array_free(&ref[i][0]);
        bs_array_free(&ref[i][1]);
    }
    bs_engine_free(e);
    free(path);
}

static void test_parity_googlenet(void **state) {
    (void)state;
    parity("googlenet-bvlc");
}

static void test_parity_inception(void **state) {
    (void)state;
    parity("inception-v3-nsfwjs");
}

/* ---- metadata and API ---- */

static void test_api(void **state) {
    (void)state;
    char *path = bs_test_asset("models/googlenet-bvlc.onnx");
    if (!path) BS_SKIP("googlenet absent");
    bs_engine *e = bs_engine_load(path, NULL, 0);
    assert_non_null(e);
    assert_string_equal(bs_engine_input_name(e), "image");
    assert_int_equal(bs_engine_input_size(e), 224);
    assert_string_equal(bs_engine_meta(e, "name"), "googlenet-bvlc");
    assert_string_equal(bs_engine_meta(e, "feature_output"), "features");
    assert_null(bs_engine_meta(e, "no-such-key"));
    assert_int_equal(bs_engine_output_count(e), 2);
    assert_string_equal(bs_engine_output_name(e, 0), "features");
    assert_string_equal(bs_engine_output_name(e, 1), "probabilities");
    int64_t dims[BS_ONNX_MAX_DIMS];
    assert_int_equal(bs_engine_input_dims(e, dims), 4);
    assert_int_equal(dims[1], 3);
    /* wrong input shape: a message, no crash */
    float dummy[3 * 8 * 8] = {0};
    int64_t bad[4] = {1, 3, 8, 8};
    assert_int_equal(bs_engine_run(e, dummy, 4, bad), -1);
    assert_non_null(strstr(bs_error_message(), "must be 224"));
    assert_null(bs_engine_output(e, "features", &(int){0}, dims));
    bs_engine_free(e);

    /* an intermediate tensor as the output; unknown names refused */
    const char *tap[] = {"inception_5b/output"};
    e = bs_engine_load(path, tap, 1);
    if (!e) fail_msg("%s", bs_error_message());
    char *ip = bs_test_asset("reference/googlenet-bvlc/coffee_input.npy");
    bs_array x, y, f;
    load_npy(ip, &x);
    assert_int_equal(bs_engine_run(e, x.data, x.ndim, x.shape), 0);
    assert_int_equal(bs_engine_output_array(e, "inception_5b/output", &y), 0);
    assert_int_equal(y.ndim, 4);
    assert_int_equal(y.shape[1], 1024);
    assert_int_equal(y.shape[2], 7);
    /* its 7x7 mean is the features output */
    char *fp = bs_test_asset("reference/googlenet-bvlc/coffee_features.npy");
    load_npy(fp, &f);
    double m = 0;
    for (int c = 0; c < 1024; c++) {
        double s = 0;
        for (int k = 0; k < 49; k++) s += y.data[c * 49 + k];
        double d = fabs(s / 49 - f.data[c]);
        if (d > m) m = d;
    }
    assert_true(m <= 1e-4);
    bs_array_free(&x), bs_array_free(&y), bs_array_free(&f);
    bs_engine_free(e);
    const char *nope[] = {"no_such_tensor"};
    assert_null(bs_engine_load(path, nope, 1));
    assert_non_null(strstr(bs_error_message(), "no_such_tensor"));
    free(ip), free(fp), free(path);
}

/* ---- malformed models ---- */

static void test_malformed(void **state) {
    (void)state;
    static const struct {
        const char *file, *expect;
    } bad[] = {{"bad_truncated.onnx", "not a valid ONNX model"},
               {"bad_wrong_field_type.onnx", "not a valid ONNX model"},
               {"bad_cycle.onnx", "cycle"},
               {"bad_missing_initializer.onnx", "'w'"},
               {"bad_dangling_input.onnx", "ghost"},
               {"bad_huge_dims.onnx", "too large"},
               {"bad_short_data.onnx", "raw_data"},
               {"bad_external_data.onnx", "external"},
               {"bad_unsupported_op.onnx", "Tanh"},
               {"bad_opset_too_new.onnx", "opset 18"},
               {"bad_deep_nesting.onnx", "nesting"},
               /* fuzz: a 4-input Pad was read past the end of the op's input slots */
               {"bad_pad_axes.onnx", "'axes'"}};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char *p = fixture(bad[i].file);
        bs_error_clear();
        bs_engine *e = bs_engine_load(p, NULL, 0);
        assert_null(e);
        const char *msg = bs_error_message();
        printf("  %-30s %s\n", bad[i].file, msg);
        if (!strstr(msg, bad[i].expect)) fail_msg("%s: message lacks '%s'", bad[i].file, bad[i].expect);
        assert_non_null(strstr(msg, bad[i].file));
        free(p);
    }
    /* shape errors surface at the first run */
    char *p = fixture("bad_channel_mismatch.onnx");
    bs_engine *e = bs_engine_load(p, NULL, 0);
    assert_non_null(e);
    float x[18] = {0};
    int64_t shape[4] = {1, 2, 3, 3};
    assert_int_equal(bs_engine_run(e, x, 4, shape), -1);
    assert_non_null(strstr(bs_error_message(), "channels"));
    bs_engine_free(e);
    free(p);
}

/* Every prefix of a valid model, and deterministic byte corruptions: load fails cleanly or the
 * model loads (and then runs on a zero input of its declared shape). Meant for the sanitizer build;
 * BLASTSCAN_FUZZ_ITERS raises the number of corruptions per model (default 1500). */
static void test_corruptions(void **state) {
    (void)state;
    const char *it = getenv("BLASTSCAN_FUZZ_ITERS"); /* longer runs on demand */
    int iters = it && atoi(it) > 0 ? atoi(it) : 1500;
    const char *names[] = {"concat.onnx", "bn_folded.onnx", "pad_value.onnx", "gemm_transb.onnx"};
    for (size_t f = 0; f < sizeof names / sizeof names[0]; f++) {
        char *p = fixture(names[f]);
        unsigned char *buf;
        size_t len;
        assert_int_equal(bs_read_file(p, 1 << 20, &buf, &len), 0);
        size_t loaded = 0, tried = 0;
        for (size_t cut = 0; cut < len; cut++) {
            bs_onnx_model *m;
            if (bs_onnx_parse(buf, cut, "cut", &m) == 0) {
                loaded++;
                bs_onnx_free(m);
            }
            tried++;
        }
        uint64_t s = 12345 + f;
        unsigned char *copy = malloc(len);
        for (int k = 0; k < iters; k++) {
            memcpy(copy, buf, len);
            for (int j = 0; j < 1 + k % 3; j++) {
                s = s * 6364136223846793005ULL + 1442695040888963407ULL;
                size_t at = (size_t)(s >> 33) % len;
                copy[at] = (unsigned char)(s >> 13);
            }
            bs_onnx_model *m;
            tried++;
            if (bs_onnx_parse(copy, len, "corrupt", &m)) continue;
            loaded++;
            bs_engine *e = bs_engine_create(m, NULL, 0);
            if (!e) continue;
            int64_t dims[BS_ONNX_MAX_DIMS];
            int nd = bs_engine_input_dims(e, dims);
            size_t n = 1;
            int ok = nd >= 1 && nd <= 6;
            for (int i = 0; ok && i < nd; i++) {
                if (dims[i] < 1 || dims[i] > 64) ok = 0;
                else n *= (size_t)dims[i];
            }
            if (ok) {
                float *x = calloc(n, sizeof(float));
                (void)bs_engine_run(e, x, nd, dims);
                free(x);
            }
            bs_engine_free(e);
        }
        printf("  %-20s %zu variants, %zu parsed\n", names[f], tried, loaded);
        free(copy);
        free(buf);
        free(p);
    }
}

int main(int argc, char **argv) {
    (void)argc;
    bs_threads_init_env(argv);
    bs_threads_set(2);
    const struct CMUnitTest t[] = {cmocka_unit_test(test_operators),      cmocka_unit_test(test_malformed),
                                   cmocka_unit_test(test_corruptions),    cmocka_unit_test(test_api),
                                   cmocka_unit_test(test_parity_googlenet), cmocka_unit_test(test_parity_inception)};
    return cmocka_run_group_tests(t, NULL, NULL);
}
