/* cli_study.h — the study options `experiment` and `reproduce` share, parsed one way. */
#ifndef BS_CLI_STUDY_H
#define BS_CLI_STUDY_H

#include "cli.h"
#include "cli_options.h"
#include "study/study.h"

enum {
    BS_OPT_PROTOCOL = 3001,
    BS_OPT_FOLDS,
    BS_OPT_LATENT,
    BS_OPT_EPOCHS,
    BS_OPT_KERNEL_SCALE,
    BS_OPT_TASK,
    BS_OPT_AE_DATA_PARALLEL
};

/* The rows of the study options, for a command's table (cli_options.h); LATENT_DEFAULT is the
 * command's own --latent default, said once. */
#define BS_STUDY_OPTIONS(LATENT_DEFAULT)                                                           \
    BS_CLI_ROWS({BS_OPT_PROTOCOL, "protocol", "P",                                                 \
                 "paper (as published: leaky) or grouped (honest: whole groups per fold,\n"        \
                 "every step fitted on training folds only); experiment also takes\n"              \
                 "source (leave one source out, docs/evaluation.md)"},                             \
                {BS_OPT_FOLDS, "folds", "K", "cross-validation folds (default 5)"},                \
                {BS_OPT_LATENT, "latent", "F,...",                                                 \
                 "autoencoder hidden sizes as fractions of the fused width\n"                      \
                 "(default " LATENT_DEFAULT "; 'none' skips Exp 3)"},                              \
                {BS_OPT_EPOCHS, "epochs", "N", "autoencoder MaxEpochs (default 750)"},             \
                {BS_OPT_KERNEL_SCALE, "kernel-scale", "S",                                         \
                 "auto (MATLAB's heuristic, seeded; default) or a fixed scale"},                   \
                {BS_OPT_TASK, "task", "T",                                                         \
                 "binary (ALL vs healthy; default) or subtype (one class per class\n"              \
                 "folder, e.g. Benign/Early/Pre/Pro; one-vs-one SVMs)"},                           \
                {BS_OPT_AE_DATA_PARALLEL, "ae-data-parallel", NULL,                                \
                 "under mpirun: fit the paper protocol's shared autoencoder on all\n"              \
                 "ranks at once (float sums change: results not bit-identical)"})

typedef struct bs_cli_study {
    bs_study_options opt;
    double latent[16];
    int both; /* --protocol both (reproduce only) */
} bs_cli_study;

void bs_cli_study_init(bs_cli_study *s, const bs_cli *cli);
/* -1: not a study option; 0: taken; 1: usage error (printed). */
int bs_cli_study_option(bs_cli_study *s, const char *cmd, int c, const char *arg);

#endif
