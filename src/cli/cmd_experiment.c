/* cmd_experiment.c — `blastscan experiment`: the paper's experiments on a feature folder. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "cli_options.h"
#include "cli_study.h"
#include "core/dist.h"
#include "core/error.h"
#include "core/strings.h"
#include "report/html.h"
#include "report/maps.h"
#include "report/report.h"
#include "study/study.h"

/* experiment's own option codes, then the command: its --help, its options in --help order
 * (cli_options.h) */
enum {
    OPT_FEATURES = BS_CLI_OWN_CODES,
    OPT_REPORT,
    OPT_EXPLAIN_ERRORS,
    OPT_BACKBONE_DIR,
    OPT_MIN_PROBABILITY,
    OPT_ADAPT,
    OPT_MIL,
    OPT_MIL_ROUNDS
};

static const bs_cli_command experiment_command = {
    .name = "experiment",
    .before =
        "Usage: blastscan experiment --features FEATDIR --protocol paper|grouped|source [--folds "
        "5]\n"
        "                            [--latent 0.25,0.5,0.75] [--epochs 750] [--kernel-scale "
        "auto|S]\n"
        "                            [--mil [--mil-rounds N]] --report OUTDIR\n\n"
        "Exp 1: an SVM on each feature set alone; Exp 2: on all sets concatenated; Exp 3: on "
        "the\n"
        "sparse-autoencoder latent of the concatenation, one run per --latent fraction.\n"
        "Writes OUTDIR/results.json, predictions.csv, table1.md, table1.csv, figures/*.svg and\n"
        "report.html (one self-contained page: tables, figures, misclassified images).\n\n",
    .options =
        (const bs_cli_option[]){
            {OPT_FEATURES, "features", "DIR", "a feature folder (blastscan extract)"},
            BS_STUDY_OPTIONS("0.25,0.5,0.75: the paper's Cases 1-3"),
            {OPT_REPORT, "report", "OUTDIR", "where to write"},
            {OPT_EXPLAIN_ERRORS, "explain-errors", "N",
             "occlusion maps in report.html of the N most confident errors of\n"
             "the model without autoencoder that uses every feature set (default 0:\n"
             "none); needs the backbones extract.json records (docs/report.md)"},
            {OPT_BACKBONE_DIR, "backbone-dir", "D",
             "look for them in D by file name (default: their recorded paths)"},
            {OPT_MIN_PROBABILITY, "min-probability", "P",
             "--protocol source: a field is called 'ALL suspected' when one of\n"
             "its cells is a blast with probability >= P (default 0.9, as cells)"},
            {OPT_ADAPT, "adapt", "M,...",
             "--protocol source: also read each held-out source adapted by M:\n"
             "prior (EM of its class prior), coral (its features aligned to the\n"
             "training rows'), k=N (recalibrated on N labelled cells of it), or\n"
             "none (as trained only; default prior,coral,k=10,k=25,k=50)"},
            {OPT_MIL, "mil", NULL,
             "every fold's SVM as mi-SVM: the images of a group whose label is 1\n"
             "(a field's cells) form a bag with at least one positive (docs/svm.md);\n"
             "test rows are still scored against their group's label, so their\n"
             "metrics are weak ones (report.html shows the relabelled images)"},
            {OPT_MIL_ROUNDS, "mil-rounds", "N", "with --mil: at most N SVM fits (default 20)"},
            {0},
        },
    .after = "\nThe global --seed S seeds the folds, the autoencoder and the kernel scale.\n"
             "Under mpirun -n P the folds and experiments are shared by the P ranks (results are\n"
             "identical to one process's); --ae-data-parallel makes the paper protocol's shared\n"
             "autoencoder a data-parallel fit over all ranks (faster, not bit-identical).\n",
};

/* What `experiment` was asked, as parsed. */
typedef struct {
    bs_cli_study st;
    const char *features, *report, *backbone_dir;
    long explain_errors;
    int recalibrate[16];
    int mil;
    long mil_rounds; /* 0: not given */
} experiment_args;

/* --adapt M,... (or none) into a->st.opt: prior, coral and k=N items. */
static int parse_adapt(experiment_args *a, const char *arg) {
    bs_study_options *o = &a->st.opt;
    o->adapt_given = 1, o->adapt_prior = o->adapt_coral = 0;
    o->recalibrate = a->recalibrate, o->nrecalibrate = 0;
    if (!strcmp(arg, "none")) return 0;
    char **items = NULL;
    size_t n = 0;
    int rc = bs_split_list(arg, &items, &n) || n == 0 ? -1 : 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        char *end = NULL;
        long k = !strncmp(items[i], "k=", 2) ? strtol(items[i] + 2, &end, 10) : 0;
        if (!strcmp(items[i], "prior"))
            o->adapt_prior = 1;
        else if (!strcmp(items[i], "coral"))
            o->adapt_coral = 1;
        else if (end && end != items[i] + 2 && !*end && k >= 1 && k <= 100000 &&
                 o->nrecalibrate < 16)
            a->recalibrate[o->nrecalibrate++] = (int)k;
        else
            rc = -1;
    }
    if (rc)
        bs_cli_usage("experiment",
                     "--adapt expects none or a list of prior, coral, k=N (up to "
                     "16 k), e.g. prior,k=25; got '%s'",
                     arg);
    bs_free_list(items, n);
    return rc ? BS_EXIT_USAGE : 0;
}

/* The command line into a: -1 to go on, else the exit code. */
static int parse_experiment(int argc, char **argv, const bs_cli *cli, experiment_args *a) {
    bs_cli_study_init(&a->st, cli);
    a->features = a->report = a->backbone_dir = NULL;
    a->explain_errors = 0;
    a->mil = 0;
    a->mil_rounds = 0;
    int c, protocol_given = 0;
    bs_cli_parser p;
    bs_cli_parser_init(&p, &experiment_command);
    while ((c = bs_cli_next(&p, argc, argv)) >= 0) {
        int d = bs_cli_study_option(&a->st, "experiment", c, p.arg);
        if (d > 0) return BS_EXIT_USAGE;
        if (d == 0) {
            protocol_given |= c == BS_OPT_PROTOCOL;
            continue;
        }
        switch (c) {
            case OPT_FEATURES: a->features = p.arg; break;
            case OPT_REPORT: a->report = p.arg; break;
            case OPT_EXPLAIN_ERRORS:
                if (bs_cli_parse_int("experiment", "--explain-errors", p.arg, 0, 10000,
                                     &a->explain_errors))
                    return BS_EXIT_USAGE;
                break;
            case OPT_BACKBONE_DIR: a->backbone_dir = p.arg; break;
            case OPT_MIN_PROBABILITY:
                if (bs_cli_parse_double("experiment", "--min-probability", p.arg,
                                        &a->st.opt.min_probability) ||
                    !(a->st.opt.min_probability >= 0 && a->st.opt.min_probability <= 1))
                    return bs_cli_usage("experiment", "--min-probability must be in [0, 1]");
                break;
            case OPT_ADAPT:
                if (parse_adapt(a, p.arg)) return BS_EXIT_USAGE;
                break;
            case OPT_MIL: a->mil = 1; break;
            case OPT_MIL_ROUNDS:
                if (bs_cli_parse_int("experiment", "--mil-rounds", p.arg, 1, 1000, &a->mil_rounds))
                    return BS_EXIT_USAGE;
                break;
            default: return bs_cli_unhandled(&p, c);
        }
    }
    if (p.exit >= 0) return p.exit;
    if (optind != argc) return bs_cli_usage("experiment", "unexpected argument '%s'", argv[optind]);
    if (!a->features || !a->report)
        return bs_cli_usage("experiment", "--features and --report are required");
    if (!protocol_given)
        return bs_cli_usage("experiment", "--protocol paper|grouped|source is required");
    if (a->st.both)
        return bs_cli_usage("experiment", "--protocol both is for reproduce; run experiment twice");
    if (a->mil_rounds && !a->mil) return bs_cli_usage("experiment", "--mil-rounds needs --mil");
    if (a->mil && a->explain_errors)
        return bs_cli_usage("experiment", "--explain-errors cannot refit mi-SVM models (--mil)");
    a->st.opt.mil_rounds = a->mil ? (a->mil_rounds ? (int)a->mil_rounds : BS_FIT_MIL_ROUNDS) : 0;
    return -1;
}

/* The study's report: results, tables and figures, then report.html with occlusion maps of the
 * most confident errors when asked. */
static int write_reports(const experiment_args *a, const bs_study *s, const bs_feature_index *idx) {
    int rc = bs_report_write(s, idx, a->report);
    bs_html_input h = {.idx = idx, .featdir = a->features};
    h.study[s->protocol] = s;
    h.study_dir[s->protocol] = a->report;
    bs_html_map *maps = NULL;
    char *note = NULL;
    if (rc == 0 && a->explain_errors > 0) {
        bs_report_maps_options o;
        bs_report_maps_options_init(&o);
        o.max_images = (size_t)a->explain_errors;
        o.kernel_scale = a->st.opt.kernel_scale;
        o.backbone_dir = a->backbone_dir;
        rc = bs_report_occlusion_maps(s, idx, a->features, &o, &maps, &h.nmaps, &note);
        h.maps = maps;
        h.maps_note = note;
    }
    if (rc == 0) rc = bs_report_write_html(&h, a->report);
    bs_report_maps_free(maps, h.nmaps);
    free(note);
    return rc;
}

int bs_cmd_experiment(int argc, char **argv, const bs_cli *cli) {
    experiment_args a;
    int rc = parse_experiment(argc, argv, cli, &a);
    if (rc >= 0) return rc;
    bs_feature_index idx;
    if (bs_featdir_read_index(a.features, &idx)) return bs_cli_fail("experiment");
    bs_study s;
    rc = bs_study_run(a.features, &idx, &a.st.opt, &s);
    const int ran = rc == 0;
    /* Under an MPI job every rank holds the whole study; rank 0 writes the report. */
    if (ran && bs_dist_rank() == 0) {
        rc = write_reports(&a, &s, &idx);
        if (rc == 0)
            fprintf(stderr, "experiment: %zu experiments in %.1f s -> %s\n", s.nexperiments,
                    s.seconds, a.report);
    }
    if (ran) bs_study_free(&s);
    bs_feature_index_free(&idx);
    return rc ? bs_cli_fail("experiment") : BS_EXIT_OK;
}
