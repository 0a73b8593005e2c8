/* cmd_extract.c — `blastscan extract`: deep features of a dataset into a feature folder. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_data.h"
#include "cli_extract.h"
#include "cli_options.h"
#include "core/dist.h"
#include "core/error.h"
#include "features/extract.h"
#include "features/featdir.h"

#define AUGMENT_DEFAULT "none"

/* extract's own option codes, then the command: its --help, its options in --help order
 * (cli_options.h) */
enum { OPT_OUT = BS_CLI_OWN_CODES, OPT_STAIN_TRANSFER };

static const bs_cli_command extract_command = {
    .name = "extract",
    .before =
        "Usage: blastscan extract [--backbone M.onnx ...] --data D [--data ...] [--positive "
        "C,...]\n"
        "                         [--augment VIEWS] [--batch N] [--cache DIR | --no-cache]\n"
        "                         [--input-size S] [--tap OUTPUT] [--stain-transfer N]\n"
        "                         --out FEATDIR\n\n"
        "Run every image (and the views --augment asks for: mirrors, stain and scale jitter)\n"
        "through every backbone and write FEATDIR/index.csv and one NAME.npy per backbone\n"
        "(NAME from the model's metadata 'name', else the file name).\n\n",
    .options =
        (const bs_cli_option[]){
            BS_DATA_OPTIONS,
            BS_EXTRACT_OPTIONS(AUGMENT_DEFAULT),
            {OPT_STAIN_TRANSFER, "stain-transfer", "N",
             "also FEATDIR/stain-transfer: per source N images (0: all)\n"
             "recoloured to each other source's colours, for the stain-shortcut\n"
             "test of leave-one-source-out experiments (docs/evaluation.md)"},
            {OPT_OUT, "out", "FEATDIR", "the feature folder to write"},
            {0},
        },
};

int bs_cmd_extract(int argc, char **argv, const bs_cli *cli) {
    bs_cli_data data;
    bs_cli_data_init(&data);
    bs_cli_extract xo;
    bs_cli_extract_init(&xo, AUGMENT_DEFAULT);
    const char *out = NULL;
    long transfer = -1;
    int c, rc = BS_EXIT_USAGE;
    bs_cli_parser p;
    bs_cli_parser_init(&p, &extract_command);
    while ((c = bs_cli_next(&p, argc, argv)) >= 0) {
        int d = bs_cli_data_option(&data, "extract", c, p.arg);
        if (d < 0) d = bs_cli_extract_option(&xo, "extract", c, p.arg);
        if (d > 0) goto done;
        if (d == 0) continue;
        switch (c) {
            case OPT_OUT: out = p.arg; break;
            case OPT_STAIN_TRANSFER:
                if (bs_cli_parse_int("extract", "--stain-transfer", p.arg, 0, 1000000000,
                                     &transfer))
                    goto done;
                break;
            default: bs_cli_unhandled(&p, c); goto done;
        }
    }
    if (p.exit >= 0) {
        rc = p.exit;
        goto done;
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
