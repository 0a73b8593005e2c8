/* test_nn.c — the ONNX loader and the oneDNN engine.
 *
 * - Known-answer tests: one tiny model per operator case (fixtures/generate.py wrote the model,
 *   its input and the expected output computed in numpy float64, independently of oneDNN).
 *   Tolerance: max |diff| <= 1e-4 and relative L2 <= 1e-5.
 * - Parity with ONNX Runtime 1.30 on the shipped models (../shared/reference): for all 4 images,
 *   `features` max |diff| <= 1e-4, `probabilities` max |diff| <= 1e-5, relative L2 <= 1e-4 for
 *   both; and a batch of the 4 images equals the 4 single runs (max |diff| <= 1e-5).
 * - Malformed models: every fixtures/bad_*.onnx fails with a message naming the problem;
 *   every truncation and many byte corruptions of a valid model are refused with a message that
 *   names them, or load and run (a truncation that loads computes what the intact model does).
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

static const char *cases[] = {"conv_pads",
                              "conv_group_relu",
                              "conv_chain_same",
                              "relu",
                              "maxpool_ceil",
                              "maxpool_pads",
                              "avgpool_exclude",
                              "avgpool_include",
                              "avgpool_ceil_include",
                              "avgpool_ceil_exclude",
                              "gap",
                              "lrn",
                              "concat",
                              "flatten",
                              "flatten_axis2",
                              "gemm_transb",
                              "gemm_alpha_beta",
                              "gemm_relu",
                              "softmax",
                              "softmax_opset11",
                              "sub_mean",
                              "mul_scalar_sub",
                              "sub_const_first",
                              "add_two",
                              "bn_folded",
                              "bn_standalone",
                              "pad_value",
                              "pad_conv",
                              "pad_opset7",
                              "identity_dropout_constant",
                              "float_data"};

static void test_operators(void **state) {
    (void)state;
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        char *base = fixture(cases[c]);
        char *mp = bs_strfmt("%s.onnx", base), *ip = bs_strfmt("%s_in.npy", base),
             *op = bs_strfmt("%s_out.npy", base);
        bs_array x, y, want;
        load_npy(ip, &x);
        load_npy(op, &want);
        bs_engine *e = bs_engine_load(mp, NULL, 0);
        if (!e) fail_msg("%s: %s", cases[c], bs_error_message());
        if (bs_engine_run(e, x.data, x.ndim, x.shape))
            fail_msg("%s: %s", cases[c], bs_error_message());
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
            printf("  %s %-9s %-13s max|diff| %.2e  relL2 %.2e\n", model, images[i], outs[k],
                   d.max_abs, d.rel_l2);
            if (d.max_abs > worst[k]) worst[k] = d.max_abs;
            if (d.rel_l2 > worst_l2[k]) worst_l2[k] = d.rel_l2;
            bs_array_free(&y);
        }
    }
    assert_true(worst[0] <= 1e-4); /* features */
    assert_true(worst[1] <= 1e-5); /* probabilities */
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
        if (!strstr(msg, bad[i].expect))
            fail_msg("%s: message lacks '%s'", bad[i].file, bad[i].expect);
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

/* What damage to a valid model must produce. Every prefix of it and deterministic byte
 * corruptions of it go through parse, engine and one run on a small fixed input of the declared
 * shape. Each stage either succeeds or refuses: -1 (or NULL), no half-built model, and a message
 * that starts with the name the bytes were given and says why. A prefix the parser accepts can
 * only be the model minus whole trailing fields (metadata), so it must compute exactly what the
 * intact model does. Never a crash or a leak: CI runs this under ASan+UBSan.
 * BLASTSCAN_FUZZ_ITERS raises the number of corruptions per model (default 1500). */
typedef struct {
    size_t tried, refused_parse, refused_engine, refused_run, ran;
    float *out; /* the first output of the last run that succeeded */
    size_t out_n;
} outcomes;

/* The current message is a refusal that names `name` and gives a reason. */
static void expect_refusal(const char *name, const char *stage) {
    const char *msg = bs_error_message();
    size_t n = strlen(name);
    if (strncmp(msg, name, n) || strncmp(msg + n, ": ", 2) || strlen(msg + n + 2) < 8)
        fail_msg("%s refused '%s' without a message naming it and saying why: \"%s\"", stage, name,
                 msg);
}

/* Run on a few thousand values at most; 0 when it ran, -1 when refused, 1 when not tried. */
static int run_small(bs_engine *e, outcomes *o) {
    int64_t dims[BS_ONNX_MAX_DIMS];
    int nd = bs_engine_input_dims(e, dims);
    size_t n = 1;
    if (nd < 1 || nd > 6) return 1;
    for (int i = 0; i < nd; i++) {
        if (dims[i] < 1 || dims[i] > 64) return 1;
        n *= (size_t)dims[i];
    }
    float *x = malloc(n * sizeof(float));
    assert_non_null(x);
    for (size_t i = 0; i < n; i++) x[i] = (float)(i % 7) - 3.0f;
    int rc = bs_engine_run(e, x, nd, dims);
    free(x);
    if (rc) return -1;
    int ond;
    int64_t osh[BS_ONNX_MAX_DIMS];
    const float *y = bs_engine_output(e, bs_engine_output_name(e, 0), &ond, osh);
    assert_non_null(y);
    size_t yn = 1;
    for (int i = 0; i < ond; i++) yn *= (size_t)osh[i];
    free(o->out);
    o->out = malloc(yn * sizeof(float));
    assert_non_null(o->out);
    memcpy(o->out, y, yn * sizeof(float));
    o->out_n = yn;
    return 0;
}

static void damaged_model(const unsigned char *buf, size_t len, const char *name, outcomes *o) {
    o->tried++;
    bs_error_clear();
    bs_onnx_model *m = NULL;
    if (bs_onnx_parse(buf, len, name, &m)) {
        assert_null(m);
        expect_refusal(name, "the parser");
        o->refused_parse++;
        return;
    }
    assert_non_null(m);
    bs_engine *e = bs_engine_create(m, NULL, 0);
    if (!e) {
        expect_refusal(name, "the engine");
        o->refused_engine++;
        return;
    }
    int rc = run_small(e, o);
    if (rc < 0) {
        expect_refusal(name, "a run");
        o->refused_run++;
    }
    if (rc == 0) o->ran++;
    bs_engine_free(e);
}

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
        /* the intact bytes run, so every refusal below is the damage's doing */
        outcomes whole = {0};
        damaged_model(buf, len, "whole", &whole);
        assert_int_equal(whole.ran, 1);

        outcomes cut = {0};
        for (size_t at = 0; at < len; at++) {
            size_t ran = cut.ran;
            damaged_model(buf, at, "cut", &cut);
            if (cut.ran == ran) continue;
            if (cut.out_n != whole.out_n || memcmp(cut.out, whole.out, whole.out_n * sizeof(float)))
                fail_msg("%s cut to %zu of %zu bytes loads but computes something else", names[f],
                         at, len);
        }
        /* a prefix is refused by the parser or is a whole model that runs as above */
        assert_int_equal(cut.refused_parse + cut.ran, len);
        assert_true(cut.refused_parse > len / 2);

        outcomes bad = {0};
        uint64_t s = 12345 + f;
        unsigned char *copy = malloc(len);
        assert_non_null(copy);
        for (int k = 0; k < iters; k++) {
            memcpy(copy, buf, len);
            for (int j = 0; j < 1 + k % 3; j++) {
                s = s * 6364136223846793005ULL + 1442695040888963407ULL;
                size_t at = (size_t)(s >> 33) % len;
                copy[at] = (unsigned char)(s >> 13);
            }
            damaged_model(copy, len, "corrupt", &bad);
        }
        /* every corruption was accounted for, and the checks noticed some of them */
        size_t refused = bad.refused_parse + bad.refused_engine + bad.refused_run;
        assert_int_equal(bad.tried, (size_t)iters);
        assert_true(refused > 0 && refused + bad.ran <= bad.tried);
        printf("  %-20s %zu cuts: %zu refused, %zu whole; %d corruptions: %zu refused (parse %zu, "
               "engine "
               "%zu, run %zu), %zu ran\n",
               names[f], len, cut.refused_parse, cut.ran, iters, refused, bad.refused_parse,
               bad.refused_engine, bad.refused_run, bad.ran);
        free(whole.out), free(cut.out), free(bad.out);
        free(copy);
        free(buf);
        free(p);
    }
}

int main(int argc, char **argv) {
    (void)argc;
    bs_threads_init_env(argv);
    bs_threads_set(2);
    const struct CMUnitTest t[] = {
        cmocka_unit_test(test_operators),        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_corruptions),      cmocka_unit_test(test_api),
        cmocka_unit_test(test_parity_googlenet), cmocka_unit_test(test_parity_inception)};
    return cmocka_run_group_tests(t, NULL, NULL);
}
