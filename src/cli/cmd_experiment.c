/* cmd_experiment.c — `blastscan experiment`: the paper's experiments on a feature folder. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "cli_study.h"
#include "core/dist.h"
#include "core/error.h"
#include "report/html.h"
#include "report/maps.h"
#include "report/report.h"
#include "study/study.h"

static void usage(FILE *fp) {
    fprintf(
        fp,
        "Usage: blastscan experiment --features FEATDIR --protocol paper|grouped [--folds 5]\n"
        "                            [--latent 0.25,0.5,0.75] [--epochs 750] [--kernel-scale "
        "auto|S]\n"
        "                            --report OUTDIR\n\n"
        "Exp 1: an SVM on each feature set alone; Exp 2: on all sets concatenated; Exp 3: on the\n"
        "sparse-autoencoder latent of the concatenation, one run per --latent fraction.\n"
        "Writes OUTDIR/results.json, predictions.csv, table1.md, table1.csv, figures/*.svg and\n"
        "report.html (one self-contained page: tables, figures, misclassified images).\n\n"
        "  --features DIR   a feature folder (blastscan extract)\n" BS_STUDY_OPTIONS_HELP(
            "0.25,0.5,0.75: the paper's Cases 1-3") "  --report OUTDIR  where to write\n"
                                                    "  --explain-errors N  occlusion maps in "
                                                    "report.html of the N most confident errors "
                                                    "of\n"
                                                    "                   the model without "
                                                    "autoencoder that uses every feature set "
                                                    "(default 0:\n"
                                                    "                   none); needs the backbones "
                                                    "extract.json records (docs/report.md)\n"
                                                    "  --backbone-dir D look for them in D by file "
                                                    "name (default: their recorded paths)\n\n"
                                                    "The global --seed S seeds the folds, the "
                                                    "autoencoder and the kernel scale.\n"
                                                    "Under mpirun -n P the folds and experiments "
                                                    "are shared by the P ranks (results are\n"
                                                    "identical to one process's); "
                                                    "--ae-data-parallel makes the paper protocol's "
                                                    "shared\n"
                                                    "autoencoder a data-parallel fit over all "
                                                    "ranks (faster, not bit-identical).\n");
}

int bs_cmd_experiment(int argc, char **argv, const bs_cli *cli) {
    static const struct option opts[] = {BS_STUDY_LONG_OPTIONS,
                                         {"features", required_argument, 0, 'f'},
                                         {"report", required_argument, 0, 'r'},
                                         {"explain-errors", required_argument, 0, 'x'},
                                         {"backbone-dir", required_argument, 0, 'b'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    bs_cli_study st;
    bs_cli_study_init(&st, cli);
    const char *features = NULL, *report = NULL, *backbone_dir = NULL;
    long explain_errors = 0;
    int c, protocol_given = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        int d = bs_cli_study_option(&st, "experiment", c, optarg);
        if (d > 0) return BS_EXIT_USAGE;
        if (d == 0) {
            protocol_given |= c == BS_OPT_PROTOCOL;
            continue;
        }
        switch (c) {
            case 'f': features = optarg; break;
            case 'r': report = optarg; break;
            case 'x':
                if (bs_cli_parse_int("experiment", "--explain-errors", optarg, 0, 10000,
                                     &explain_errors))
                    return BS_EXIT_USAGE;
                break;
            case 'b': backbone_dir = optarg; break;
            case 'h': usage(stdout); return BS_EXIT_OK;
            default: return bs_cli_usage("experiment", "unknown option");
        }
    }
    if (optind != argc) return bs_cli_usage("experiment", "unexpected argument '%s'", argv[optind]);
    if (!features || !report)
        return bs_cli_usage("experiment", "--features and --report are required");
    if (!protocol_given) return bs_cli_usage("experiment", "--protocol paper|grouped is required");
    if (st.both)
        return bs_cli_usage("experiment", "--protocol both is for reproduce; run experiment twice");
    bs_feature_index idx;
    if (bs_featdir_read_index(features, &idx)) return bs_cli_fail("experiment");
    bs_study s;
    int rc = bs_study_run(features, &idx, &st.opt, &s);
    /* Under an MPI job every rank holds the whole study; rank 0 writes the report. */
    if (rc == 0 && bs_dist_rank() != 0) {
        bs_study_free(&s);
    } else if (rc == 0) {
        rc = bs_report_write(&s, &idx, report);
        bs_html_input h = {.idx = &idx, .featdir = features};
        h.study[s.protocol] = &s;
        h.study_dir[s.protocol] = report;
        bs_html_map *maps = NULL;
        char *note = NULL;
        if (rc == 0 && explain_errors > 0) {
            bs_report_maps_options o;
            bs_report_maps_options_init(&o);
            o.max_images = (size_t)explain_errors;
            o.kernel_scale = st.opt.kernel_scale;
            o.backbone_dir = backbone_dir;
            rc = bs_report_occlusion_maps(&s, &idx, features, &o, &maps, &h.nmaps, &note);
            h.maps = maps;
            h.maps_note = note;
        }
        if (rc == 0) rc = bs_report_write_html(&h, report);
        bs_report_maps_free(maps, h.nmaps);
        free(note);
        if (rc == 0)
            fprintf(stderr, "experiment: %zu experiments in %.1f s -> %s\n", s.nexperiments,
                    s.seconds, report);
        bs_study_free(&s);
    }
    bs_feature_index_free(&idx);
    return rc ? bs_cli_fail("experiment") : BS_EXIT_OK;
}
