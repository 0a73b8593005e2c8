/* cli.h — what every `blastscan <command>` shares: the global options, exit codes,
 * usage errors and the command table. Each command lives in its own cmd_<name>.c and
 * only talks to the stages through their public headers. */
#ifndef BS_CLI_H
#define BS_CLI_H

#include <stdint.h>
#include <stdio.h>

enum { BS_EXIT_OK = 0, BS_EXIT_FAIL = 1, BS_EXIT_USAGE = 2 };

typedef struct bs_cli {
    int threads;      /* --threads N (0 = all cores) */
    uint64_t seed;    /* --seed S */
    const char *prog; /* "blastscan" */
} bs_cli;

/* Print "blastscan CMD: message" and a hint to stderr; returns BS_EXIT_USAGE. CMD NULL (the
 * global options): "blastscan: message", "Try 'blastscan --help'." */
int bs_cli_usage(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Print the pending bs_error message ("blastscan CMD: error: ...") to stderr; returns BS_EXIT_FAIL. */
int bs_cli_fail(const char *cmd);
/* Parse a non-negative integer option value; usage error text on failure. */
int bs_cli_parse_int(const char *cmd, const char *opt, const char *text, long min, long max,
                     long *out);
int bs_cli_parse_double(const char *cmd, const char *opt, const char *text, double *out);
/* The shared assets folder: $BLASTSCAN_ASSETS, else the ../shared beside the source tree. */
const char *bs_cli_assets(void);
/* The shipped backbones (assets/models/...), malloc'd paths; error if absent (cli_extract.c). */
int bs_cli_default_backbones(const char ***paths, size_t *n);

/* Each command's options, and the groups several share, are tables (cli_options.h). */

/* The command table: X(name, summary). Each name has int bs_cmd_<name>(argc, argv, cli). */
#define BS_COMMANDS(X)                                                                             \
    X(list, "list the samples found in one or more datasets")                                      \
    X(tensor, "write the network input tensor of one image as .npy")                               \
    X(infer, "run an ONNX model on a .npy tensor and write one output")                            \
    X(extract, "deep features of a dataset through one or more backbones")                         \
    X(autoencoder, "fit a sparse autoencoder (MATLAB trainAutoencoder) or encode features")        \
    X(experiment, "the paper's experiments (Exp 1-3) on a feature folder, with reports")           \
    X(reproduce, "the whole study in one command: extract, both protocols, report")                \
    X(train, "fit the standard model on a dataset and save it as one pipeline file")               \
    X(predict, "classify images with a pipeline file: class, probability, OOD flag")               \
    X(cells, "find the white cells of smear fields; count and call blasts cell by cell")

#define BS_DECLARE_COMMAND(name, summary)                                                          \
    int bs_cmd_##name(int argc, char **argv, const bs_cli *cli);
BS_COMMANDS(BS_DECLARE_COMMAND)
#undef BS_DECLARE_COMMAND

#endif
