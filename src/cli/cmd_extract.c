/* cmd_extract.c — `blastscan extract`: deep features of a dataset into a feature folder. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_data.h"
#include "cli_extract.h"
#include "core/dist.h"
#include "core/error.h"
#include "features/extract.h"
#include "features/featdir.h"

static void usage(FILE *fp) {
    fprintf(
        fp,
        "Usage: blastscan extract [--backbone M.onnx ...] --data D [--data ...] [--positive "
        "C,...]\n"
        "                         [--augment VIEWS] [--batch N] [--cache DIR | --no-cache]\n"
        "                         [--input-size S] [--tap OUTPUT] --out FEATDIR\n\n"
        "Run every image (and the views --augment asks for: mirrors, stain and scale jitter)\n"
        "through every backbone and write FEATDIR/index.csv and one NAME.npy per backbone\n"
        "(NAME from the model's metadata 'name', else the file name).\n\n" BS_DATA_OPTIONS_HELP
            BS_EXTRACT_OPTIONS_HELP
        "  --augment VIEWS  none (default), flip (original + hmirror + vmirror, the paper), or a\n"
        "                   list with hed[:N] and scale[:N] (N seeded stain or scale jitter\n"
        "                   views; docs/cells.md), e.g. flip,hed:2,scale\n"
        "  --stain-transfer N  also FEATDIR/stain-transfer: per source N images (0: all)\n"
        "                   recoloured to each other source's colours, for the stain-shortcut\n"
        "                   test of experiment --protocol source (docs/evaluation.md)\n"
        "  --out FEATDIR    the feature folder to write\n");
}

int bs_cmd_extract(int argc, char **argv, const bs_cli *cli) {
    static const struct option opts[] = {BS_DATA_LONG_OPTIONS,
                                         BS_EXTRACT_LONG_OPTIONS,
                                         {"out", required_argument, 0, 'o'},
                                         {"stain-transfer", required_argument, 0, 't'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    bs_cli_data data;
    bs_cli_data_init(&data);
    bs_cli_extract xo;
    bs_cli_extract_init(&xo, 0);
    const char *out = NULL;
    long transfer = -1;
    int c, rc = BS_EXIT_USAGE;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        int d = bs_cli_data_option(&data, "extract", c, optarg);
        if (d < 0) d = bs_cli_extract_option(&xo, "extract", c, optarg);
        if (d > 0) goto done;
        if (d == 0) continue;
        switch (c) {
            case 'o': out = optarg; break;
            case 't':
                if (bs_cli_parse_int("extract", "--stain-transfer", optarg, 0, 1000000000,
                                     &transfer))
                    goto done;
                break;
            case 'h':
                usage(stdout);
                rc = BS_EXIT_OK;
                goto done;
            default: bs_cli_usage("extract", "unknown option"); goto done;
        }
    }
    if (optind != argc) {
        bs_cli_usage("extract", "unexpected argument '%s'", argv[optind]);
        goto done;
    }
    if (!data.nsources || !out) {
        bs_cli_usage("extract", "--data and --out are required");
        goto done;
    }
    if ((rc = bs_cli_extract_finish(&xo, "extract")) != 0) goto done;
    xo.opt.seed = cli->seed;
    xo.opt.stain_transfer = transfer;
    bs_backbone_spec *specs = bs_cli_extract_specs(&xo);
    bs_dataset ds;
    if (!specs || bs_cli_data_open(&data, 0, cli->seed, &ds)) {
        rc = bs_cli_fail("extract");
    } else {
        bs_extract_stats st;
        if (bs_extract(&ds, specs, xo.nmodels, &xo.opt, out, &st)) {
            rc = bs_cli_fail("extract");
        } else {
            if (bs_dist_rank() == 0)
                fprintf(stderr,
                        "extract: %zu rows x %zu backbones in %.1f s (%zu computed, %zu from "
                        "cache) -> %s\n",
                        st.rows, xo.nmodels, st.seconds, st.computed, st.cached, out);
            if (bs_dist_rank() == 0 && st.transfer_rows)
                fprintf(stderr, "extract: %zu stain-transfer rows (counted above) -> %s/%s\n",
                        st.transfer_rows, out, BS_FEATDIR_TRANSFER);
            rc = BS_EXIT_OK;
        }
        bs_dataset_free(&ds);
    }
    free(specs);
done:
    bs_cli_extract_free(&xo);
    bs_cli_data_free(&data);
    return rc;
}
