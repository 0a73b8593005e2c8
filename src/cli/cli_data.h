/* cli_data.h — the dataset options every data-reading command shares
 * (--data, --positive, --on-error), parsed one way everywhere. */
#ifndef BS_CLI_DATA_H
#define BS_CLI_DATA_H

#include <getopt.h>
#include <stddef.h>

#include "dataset/dataset.h"

#define BS_OPT_DATA 1001
#define BS_OPT_POSITIVE 1002
#define BS_OPT_ON_ERROR 1003

#define BS_DATA_LONG_OPTIONS                                                                       \
    {"data", required_argument, 0, BS_OPT_DATA}, {"positive", required_argument, 0, BS_OPT_POSITIVE}, \
        {"on-error", required_argument, 0, BS_OPT_ON_ERROR}

#define BS_DATA_OPTIONS_HELP                                                                       \
    "  --data D         a dataset: an ALL-IDB folder (ImNNN_L.ext), a folder of class\n"          \
    "                   folders, or a CSV manifest path,label[,class][,group]; repeat to fuse\n" \
    "  --positive C,..  class folders whose images are ALL (label 1); default: every class\n"    \
    "                   not named benign/healthy/normal/hem/negative/control\n"                  \
    "  --on-error M     stop (default) or skip unreadable images, with a message per file\n"

typedef struct bs_cli_data {
    const char **sources;
    size_t nsources;
    char **positive;
    size_t npositive;
    bs_on_error on_error;
} bs_cli_data;

void bs_cli_data_init(bs_cli_data *d);
/* Handle option code c: -1 if it is not a data option, 0 if taken, 1 on a usage error. */
int bs_cli_data_option(bs_cli_data *d, const char *cmd, int c, const char *arg);
int bs_cli_data_open(const bs_cli_data *d, bs_dataset *out);
void bs_cli_data_free(bs_cli_data *d);

#endif
