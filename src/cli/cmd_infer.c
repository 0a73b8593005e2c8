/* cmd_infer.c — `blastscan infer`: run any supported ONNX graph on a raw .npy tensor and write
 * one output. For parity checks and debugging; feature extraction over datasets is `extract`. */
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"
#include "cli_options.h"
#include "core/error.h"
#include "core/npy.h"
#include "nn/engine.h"

/* infer's own option codes, then the command: its --help, its options in --help order
 * (cli_options.h) */
enum { OPT_MODEL = BS_CLI_OWN_CODES, OPT_INPUT, OPT_OUTPUT, OPT_OUT };

static const bs_cli_command infer_command = {
    .name = "infer",
    .before = "Usage: blastscan infer --model M.onnx --input X.npy [--output NAME] --out Y.npy\n\n"
              "Run the ONNX graph M.onnx on the float32 tensor X.npy (e.g. [N,3,S,S] from\n"
              "'blastscan tensor') and write one output tensor as float32 .npy.\n\n",
    .options =
        (const bs_cli_option[]){
            {OPT_MODEL, "model", "M.onnx",
             "the model (opsets 7-17; operators: Conv, Relu, MaxPool, AveragePool,\n"
             "GlobalAveragePool, LRN, Concat, Flatten, Gemm, Softmax, Add, Sub, Mul,\n"
             "BatchNormalization, Pad, Identity, Dropout, Constant)"},
            {OPT_INPUT, "input", "X.npy", "the input tensor, fed to the model's only input"},
            {OPT_OUTPUT, "output", "NAME",
             "the tensor to write: a graph output or any intermediate tensor\n"
             "(default: the first graph output)"},
            {OPT_OUT, "out", "Y.npy", "where to write it"},
            {0},
        },
    .after = "\nThreads: the global --threads option.\n",
};

int bs_cmd_infer(int argc, char **argv, const bs_cli *cli) {
    (void)cli;
    const char *model = NULL, *input = NULL, *name = NULL, *out = NULL;
    bs_cli_parser p;
    bs_cli_parser_init(&p, &infer_command);
    int c;
    while ((c = bs_cli_next(&p, argc, argv)) >= 0) {
        switch (c) {
            case OPT_MODEL: model = p.arg; break;
            case OPT_INPUT: input = p.arg; break;
            case OPT_OUTPUT: name = p.arg; break;
            case OPT_OUT: out = p.arg; break;
            default: return bs_cli_unhandled(&p, c);
        }
    }
    if (p.exit >= 0) return p.exit;
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
