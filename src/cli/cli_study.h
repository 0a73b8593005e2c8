/* cli_study.h — the study options `experiment` and `reproduce` share, parsed one way. */
#ifndef BS_CLI_STUDY_H
#define BS_CLI_STUDY_H

#include <getopt.h>

#include "cli.h"
#include "study/study.h"

#define BS_OPT_PROTOCOL 3001
#define BS_OPT_FOLDS 3002
#define BS_OPT_LATENT 3003
#define BS_OPT_EPOCHS 3004
#define BS_OPT_KERNEL_SCALE 3005
#define BS_OPT_TASK 3006
#define BS_OPT_AE_DATA_PARALLEL 3007

/* X(name, has_arg, code, help) for each study option, L for the last (cli.h); LATENT_DEFAULT is
 * the command's own --latent default, said once. */
#define BS_STUDY_OPTIONS(X, L, LATENT_DEFAULT)                                                     \
    X("protocol", required_argument, BS_OPT_PROTOCOL,                                              \
      "  --protocol P     paper (as published: leaky) or grouped (honest: whole groups per "       \
      "fold,\n"                                                                                    \
      "                   every step fitted on training folds only); experiment also takes\n"      \
      "                   source (leave one source out, docs/evaluation.md)\n")                    \
    X("folds", required_argument, BS_OPT_FOLDS,                                                    \
      "  --folds K        cross-validation folds (default 5)\n")                                   \
    X("latent", required_argument, BS_OPT_LATENT,                                                  \
      "  --latent F,...   autoencoder hidden sizes as fractions of the fused width\n"              \
      "                   (default " LATENT_DEFAULT "; 'none' skips Exp 3)\n")                     \
    X("epochs", required_argument, BS_OPT_EPOCHS,                                                  \
      "  --epochs N       autoencoder MaxEpochs (default 750)\n")                                  \
    X("kernel-scale", required_argument, BS_OPT_KERNEL_SCALE,                                      \
      "  --kernel-scale S auto (MATLAB's heuristic, seeded; default) or a fixed scale\n")          \
    X("task", required_argument, BS_OPT_TASK,                                                      \
      "  --task T         binary (ALL vs healthy; default) or subtype (one class per class\n"      \
      "                   folder, e.g. Benign/Early/Pre/Pro; one-vs-one SVMs)\n")                  \
    L("ae-data-parallel", no_argument, BS_OPT_AE_DATA_PARALLEL,                                    \
      "  --ae-data-parallel  under mpirun: fit the paper protocol's shared autoencoder on all\n"   \
      "                   ranks at once (float sums change: results not bit-identical)\n")

/* struct option rows (comma-separated), and the help lines with the command's --latent default */
#define BS_STUDY_LONG_OPTIONS BS_STUDY_OPTIONS(BS_CLI_LONG_OPTION, BS_CLI_LAST_OPTION, "")
#define BS_STUDY_OPTIONS_HELP(LATENT_DEFAULT)                                                      \
    BS_STUDY_OPTIONS(BS_CLI_OPTION_HELP, BS_CLI_OPTION_HELP, LATENT_DEFAULT)

typedef struct bs_cli_study {
    bs_study_options opt;
    double latent[16];
    int both; /* --protocol both (reproduce only) */
} bs_cli_study;

void bs_cli_study_init(bs_cli_study *s, const bs_cli *cli);
/* -1: not a study option; 0: taken; 1: usage error (printed). */
int bs_cli_study_option(bs_cli_study *s, const char *cmd, int c, const char *arg);

#endif
