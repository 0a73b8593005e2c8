/* cli_data.h — the dataset options every data-reading command shares
 * (--data, --positive, --on-error, --near-duplicates), parsed one way everywhere. */
#ifndef BS_CLI_DATA_H
#define BS_CLI_DATA_H

#include <stddef.h>
#include <stdint.h>

#include "cli.h"
#include "cli_options.h"
#include "dataset/dataset.h"

enum { BS_OPT_DATA = 1001, BS_OPT_POSITIVE, BS_OPT_ON_ERROR, BS_OPT_NEAR_DUP };

/* The rows of the data options, for a command's table (cli_options.h). */
#define BS_DATA_OPTIONS                                                                            \
    BS_CLI_ROWS({BS_OPT_DATA, "data", "D",                                                         \
                 "a dataset: an ALL-IDB folder (ImNNN_L.ext), a folder of class\n"                 \
                 "folders, or a CSV manifest path,label[,class][,group]; repeat to fuse"},         \
                {BS_OPT_POSITIVE, "positive", "C,..",                                              \
                 "class folders whose images are ALL (label 1); default: every class\n"            \
                 "not named benign/healthy/normal/hem/negative/control"},                          \
                {BS_OPT_ON_ERROR, "on-error", "M",                                                 \
                 "stop (default) or skip unreadable images, with a message per file"},             \
                {BS_OPT_NEAR_DUP, "near-duplicates", "T",                                          \
                 "join images whose near-duplicate score is >= T into one group\n"                 \
                 "(default 0.5, docs/near-duplicates.md; off to skip the search)"})

typedef struct bs_cli_data {
    const char **sources;
    size_t nsources;
    char **positive;
    size_t npositive;
    bs_on_error on_error;
    double near_dup; /* threshold; 0 = off */
} bs_cli_data;

void bs_cli_data_init(bs_cli_data *d);
/* Handle option code c: -1 if it is not a data option, 0 if taken, 1 on a usage error. */
int bs_cli_data_option(bs_cli_data *d, const char *cmd, int c, const char *arg);
/* Open the datasets, keep a stratified sample of `sample` images (0 = all, seeded), then
 * join near-duplicate groups. */
int bs_cli_data_open(const bs_cli_data *d, size_t sample, uint64_t seed, bs_dataset *out);
void bs_cli_data_free(bs_cli_data *d);

#endif
