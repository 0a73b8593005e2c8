/* cli_extract.h — the extraction options `extract`, `train` and `reproduce` share
 * (--backbone, --augment, --batch, --cache/--no-cache, --input-size, --tap), parsed one way,
 * with one place that resolves the shipped backbones and the default cache. */
#ifndef BS_CLI_EXTRACT_H
#define BS_CLI_EXTRACT_H

#include <getopt.h>
#include <stddef.h>

#include "cli.h"
#include "features/extract.h"

#define BS_OPT_BACKBONE 2001
#define BS_OPT_AUGMENT 2002
#define BS_OPT_BATCH 2003
#define BS_OPT_CACHE 2004
#define BS_OPT_NO_CACHE 2005
#define BS_OPT_INPUT_SIZE 2006
#define BS_OPT_TAP 2007

/* X(name, has_arg, code, help) for each extraction option, L for the last (cli.h); --augment's
 * help is each command's own (its default differs). */
#define BS_EXTRACT_OPTIONS(X, L)                                                                   \
    X("backbone", required_argument, BS_OPT_BACKBONE,                                              \
      "  --backbone M     an ONNX model with input [N,3,S,S] RGB 0..255; repeat for several\n"     \
      "                   (default: the shipped googlenet-bvlc and inception-v3-nsfwjs); the\n"    \
      "                   word morphometry: a cell crop's morphometric features\n")                \
    X("augment", required_argument, BS_OPT_AUGMENT, "")                                            \
    X("batch", required_argument, BS_OPT_BATCH,                                                    \
      "  --batch N        images per network run (default 16)\n")                                  \
    X("cache", required_argument, BS_OPT_CACHE,                                                    \
      "  --cache DIR      row cache (default $BLASTSCAN_CACHE, $XDG_CACHE_HOME/blastscan or\n"     \
      "                   ~/.cache/blastscan): a re-run computes only new rows and an\n"           \
      "                   interrupted run resumes\n")                                              \
    X("no-cache", no_argument, BS_OPT_NO_CACHE, "  --no-cache       keep no rows between runs\n")  \
    X("input-size", required_argument, BS_OPT_INPUT_SIZE,                                          \
      "  --input-size S   input side for models without input_size metadata\n")                    \
    L("tap", required_argument, BS_OPT_TAP,                                                        \
      "  --tap NAME       output to take for models without feature_output metadata\n")

/* struct option rows (comma-separated), and the help lines */
#define BS_EXTRACT_LONG_OPTIONS BS_EXTRACT_OPTIONS(BS_CLI_LONG_OPTION, BS_CLI_LAST_OPTION)
#define BS_EXTRACT_OPTIONS_HELP BS_EXTRACT_OPTIONS(BS_CLI_OPTION_HELP, BS_CLI_OPTION_HELP)

typedef struct bs_cli_extract {
    bs_extract_options opt; /* augment, batch, cache (resolved by _finish) */
    const char **models;
    size_t nmodels;
    int owned_models;
    const char *cache;
    int no_cache;
    char *default_cache;
    long input_size;
    const char *tap;
} bs_cli_extract;

/* augment: the command's default (1 = flip). */
void bs_cli_extract_init(bs_cli_extract *x, int augment);
/* -1: not an extraction option; 0: taken; 1: usage error (printed). */
int bs_cli_extract_option(bs_cli_extract *x, const char *cmd, int c, const char *arg);
/* After parsing: refuse --cache with --no-cache (BS_EXIT_USAGE, printed); fill in the shipped
 * backbones and the default cache (BS_EXIT_FAIL, printed). 0 when ready. */
int bs_cli_extract_finish(bs_cli_extract *x, const char *cmd);
/* One spec per backbone (malloc'd). */
bs_backbone_spec *bs_cli_extract_specs(const bs_cli_extract *x);
void bs_cli_extract_free(bs_cli_extract *x);

#endif
