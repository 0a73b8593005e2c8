/* cmd_infer.c — `blastscan infer`: run any supported ONNX graph on a raw .npy tensor and write
 * one output. For parity checks and debugging; feature extraction over datasets is `extract`. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"
#include "core/error.h"
#include "core/npy.h"
#include "nn/engine.h"

static void usage(FILE *fp) {
    fprintf(
        fp,
        "Usage: blastscan infer --model M.onnx --input X.npy [--output NAME] --out Y.npy\n\n"
        "Run the ONNX graph M.onnx on the float32 tensor X.npy (e.g. [N,3,S,S] from\n"
        "'blastscan tensor') and write one output tensor as float32 .npy.\n\n"
        "  --model M.onnx   the model (opsets 7-17; operators: Conv, Relu, MaxPool, AveragePool,\n"
        "                   GlobalAveragePool, LRN, Concat, Flatten, Gemm, Softmax, Add, Sub, "
        "Mul,\n"
        "                   BatchNormalization, Pad, Identity, Dropout, Constant)\n"
        "  --input X.npy    the input tensor, fed to the model's only input\n"
        "  --output NAME    the tensor to write: a graph output or any intermediate tensor\n"
        "                   (default: the first graph output)\n"
        "  --out Y.npy      where to write it\n\n"
        "Threads: the global --threads option.\n");
}

int bs_cmd_infer(int argc, char **argv, const bs_cli *cli) {
    (void)cli;
    static const struct option opts[] = {
        {"model", required_argument, 0, 'm'},  {"input", required_argument, 0, 'i'},
        {"output", required_argument, 0, 'n'}, {"out", required_argument, 0, 'o'},
        {"help", no_argument, 0, 'h'},         {0, 0, 0, 0}};
    const char *model = NULL, *input = NULL, *name = NULL, *out = NULL;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
            case 'm': model = optarg; break;
            case 'i': input = optarg; break;
            case 'n': name = optarg; break;
            case 'o': out = optarg; break;
            case 'h': usage(stdout); return BS_EXIT_OK;
            default: return bs_cli_usage("infer", "unknown option");
        }
    }
    if (optind != argc) return bs_cli_usage("infer", "unexpected argument '%s'", argv[optind]);
    if (!model) return bs_cli_usage("infer", "--model is required");
    if (!input) return bs_cli_usage("infer", "--input is required");
    if (!out) return bs_cli_usage("infer", "--out is required");

    bs_array x = {0}, y = {0};
    if (bs_npy_read(input, &x)) return bs_cli_fail("infer");
    bs_engine *e = bs_engine_load(model, name ? &name : NULL, name ? 1 : 0);
    int rc = BS_EXIT_FAIL;
    if (!e) goto done;
    if (bs_engine_run(e, x.data, x.ndim, x.shape)) goto done;
    if (bs_engine_output_array(e, bs_engine_output_name(e, 0), &y)) goto done;
    if (bs_npy_write(out, &y)) goto done;
    rc = BS_EXIT_OK;
done:
    if (rc != BS_EXIT_OK) bs_cli_fail("infer");
    bs_engine_free(e);
    bs_array_free(&x);
    bs_array_free(&y);
    return rc;
}
