/* cli_extract.h — the extraction options `extract`, `train` and `reproduce` share
 * (--backbone, --augment, --batch, --cache/--no-cache, --input-size, --tap), parsed one way,
 * with one place that resolves the shipped backbones and the default cache. */
#ifndef BS_CLI_EXTRACT_H
#define BS_CLI_EXTRACT_H

#include <stddef.h>

#include "cli.h"
#include "cli_options.h"
#include "features/extract.h"

enum {
    BS_OPT_BACKBONE = 2001,
    BS_OPT_BATCH,
    BS_OPT_CACHE,
    BS_OPT_NO_CACHE,
    BS_OPT_INPUT_SIZE,
    BS_OPT_TAP,
    BS_OPT_AUGMENT
};

/* The rows of the extraction options, for a command's table (cli_options.h); AUGMENT_DEFAULT,
 * "none" or "flip", is the command's own --augment default, said once (also to
 * bs_cli_extract_init). */
#define BS_EXTRACT_OPTIONS(AUGMENT_DEFAULT)                                                        \
    BS_CLI_ROWS(                                                                                   \
        {BS_OPT_BACKBONE, "backbone", "M",                                                         \
         "an ONNX model with input [N,3,S,S] RGB 0..255; repeat for several\n"                     \
         "(default: the shipped googlenet-bvlc and inception-v3-nsfwjs); the word\n"               \
         "morphometry: a cell crop's morphometric features"},                                      \
        {BS_OPT_BATCH, "batch", "N", "images per network run (default 16)"},                       \
        {BS_OPT_CACHE, "cache", "DIR",                                                             \
         "row cache (default $BLASTSCAN_CACHE, $XDG_CACHE_HOME/blastscan or\n"                     \
         "~/.cache/blastscan): a re-run computes only new rows and an\n"                           \
         "interrupted run resumes"},                                                               \
        {BS_OPT_NO_CACHE, "no-cache", NULL, "keep no rows between runs"},                          \
        {BS_OPT_INPUT_SIZE, "input-size", "S",                                                     \
         "input side for models without input_size metadata"},                                     \
        {BS_OPT_TAP, "tap", "NAME", "output to take for models without feature_output metadata"},  \
        {BS_OPT_AUGMENT, "augment", "VIEWS",                                                       \
         "none or flip (original + hmirror + vmirror, as the paper; default " AUGMENT_DEFAULT      \
         "),\nor a list with hed[:N], scale[:N] and transfer[:N] (N seeded stain jitter,\n"        \
         "scale jitter or stain-transfer views: recoloured to another source's colours;\n"         \
         "docs/cells.md), e.g. flip,hed:2,scale,transfer"})

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

/* augment: the command's default, "none" or "flip" (its AUGMENT_DEFAULT). */
void bs_cli_extract_init(bs_cli_extract *x, const char *augment);
/* -1: not an extraction option; 0: taken; 1: usage error (printed). */
int bs_cli_extract_option(bs_cli_extract *x, const char *cmd, int c, const char *arg);
/* After parsing: refuse --cache with --no-cache (BS_EXIT_USAGE, printed); fill in the shipped
 * backbones and the default cache (BS_EXIT_FAIL, printed). 0 when ready. */
int bs_cli_extract_finish(bs_cli_extract *x, const char *cmd);
/* One spec per backbone (malloc'd). */
bs_backbone_spec *bs_cli_extract_specs(const bs_cli_extract *x);
void bs_cli_extract_free(bs_cli_extract *x);

#endif
