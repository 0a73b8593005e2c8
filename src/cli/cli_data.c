/* cli_data.c — shared dataset options (see cli_data.h). */
#include "cli_data.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "core/io.h"
#include "core/strings.h"
#include "dataset/neardup.h"

void bs_cli_data_init(bs_cli_data *d) {
    memset(d, 0, sizeof *d);
    d->near_dup = BS_NEARDUP_THRESHOLD;
}

int bs_cli_data_option(bs_cli_data *d, const char *cmd, int c, const char *arg) {
    switch (c) {
        case BS_OPT_DATA: {
            const char **s = realloc(d->sources, (d->nsources + 1) * sizeof *s);
            if (!s) {
                bs_cli_usage(cmd, "out of memory");
                return 1;
            }
            d->sources = s;
            d->sources[d->nsources++] = arg;
            return 0;
        }
        case BS_OPT_POSITIVE:
            bs_free_list(d->positive, d->npositive);
            if (bs_split_list(arg, &d->positive, &d->npositive) || d->npositive == 0) {
                bs_cli_usage(cmd, "--positive expects CLASS[,CLASS...]");
                return 1;
            }
            return 0;
        case BS_OPT_ON_ERROR:
            if (!strcmp(arg, "stop"))
                d->on_error = BS_ON_ERROR_STOP;
            else if (!strcmp(arg, "skip"))
                d->on_error = BS_ON_ERROR_SKIP;
            else {
                bs_cli_usage(cmd, "--on-error must be stop or skip");
                return 1;
            }
            return 0;
        case BS_OPT_NEAR_DUP:
            if (!strcmp(arg, "off")) {
                d->near_dup = 0;
                return 0;
            }
            if (bs_cli_parse_double(cmd, "--near-duplicates", arg, &d->near_dup) ||
                !(d->near_dup > 0 && d->near_dup <= 1)) {
                bs_cli_usage(cmd, "--near-duplicates expects a score in (0, 1] or off");
                return 1;
            }
            return 0;
        default: return -1;
    }
}

int bs_cli_data_open(const bs_cli_data *d, size_t sample, uint64_t seed, bs_dataset *out) {
    bs_dataset_options opt;
    bs_dataset_options_init(&opt);
    opt.positive = (const char *const *)d->positive;
    opt.npositive = d->npositive;
    opt.on_error = d->on_error;
    if (bs_dataset_open(d->sources, d->nsources, &opt, out)) return -1;
    int64_t joined = 0;
    if (bs_dataset_sample(out, sample, seed) ||
        bs_dataset_join_near_duplicates(out, d->near_dup, &joined)) {
        bs_dataset_free(out);
        return -1;
    }
    if (joined)
        fprintf(stderr, "blastscan: %lld near-duplicate pairs joined into shared groups\n",
                (long long)joined);
    bs_dataset_warn_groups(out);
    return 0;
}

void bs_cli_data_free(bs_cli_data *d) {
    free(d->sources);
    bs_free_list(d->positive, d->npositive);
    memset(d, 0, sizeof *d);
}
