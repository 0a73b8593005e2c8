/* cmd_reproduce.c — `blastscan reproduce`: the whole study in one command — extraction (with
 * the cache), both protocols, and a report that puts them side by side. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_data.h"
#include "cli_extract.h"
#include "cli_options.h"
#include "cli_study.h"
#include "core/dist.h"
#include "core/error.h"
#include "core/io.h"
#include "core/progress.h"
#include "features/extract.h"
#include "report/html.h"
#include "report/maps.h"
#include "report/report.h"
#include "study/study.h"

/* Defaults sized to finish within 20 minutes on a 2-core machine (README). */
#define DEFAULT_SAMPLE 368 /* the paper's ALL-IDB size: 368 images -> 1104 rows with flips */
#define DEFAULT_EPOCHS 750

#define AUGMENT_DEFAULT "flip"

/* reproduce's own option codes, then the command: its --help, its options in --help order
 * (cli_options.h) */
enum { OPT_SAMPLE = BS_CLI_OWN_CODES, OPT_EXPLAIN_ERRORS, OPT_REPORT };

/* DEFAULT_SAMPLE and DEFAULT_EPOCHS as text, for --help */
#define TEXT(x) #x
#define VALUE_TEXT(x) TEXT(x)
#define SAMPLE_TEXT VALUE_TEXT(DEFAULT_SAMPLE)
#define EPOCHS_TEXT VALUE_TEXT(DEFAULT_EPOCHS)

static const bs_cli_command reproduce_command = {
    .name = "reproduce",
    .before =
        "Usage: blastscan reproduce [--data D ...] [--positive C,...] [--backbone M.onnx ...]\n"
        "                           [--protocol paper|grouped|both] [--augment VIEWS]\n"
        "                           [--sample N] [--folds K] [--latent F,...] [--epochs N]\n"
        "                           [--cache DIR | --no-cache] --report OUTDIR\n\n"
        "Extract features (cached), run Exp 1-3 under each protocol, and write OUTDIR/report.md\n"
        "with both protocols side by side and what the paper protocol leaks, and "
        "OUTDIR/report.html\n"
        "(the same, self-contained, with figures and every misclassified image); OUTDIR/paper/ "
        "and\n"
        "OUTDIR/grouped/ hold each protocol's results.json, tables and figures, OUTDIR/features/\n"
        "the feature folder.\n\n"
        "Defaults: the Aria 2021 dataset in the assets folder (Early,Pre,Pro = ALL), a stratified\n"
        "random sample of " SAMPLE_TEXT " images (the paper's dataset size; --sample 0 for all "
        "3256), the two\n"
        "shipped backbones, --augment " AUGMENT_DEFAULT ", --protocol both, " EPOCHS_TEXT
        " epochs.\n\n",
    .options =
        (const bs_cli_option[]){
            BS_DATA_OPTIONS,
            BS_EXTRACT_OPTIONS(AUGMENT_DEFAULT),
            {OPT_SAMPLE, "sample", "N", "stratified random subset of N images (seeded); 0 = all"},
            BS_STUDY_OPTIONS("0.25: Case 1, the paper's standard model"),
            {OPT_EXPLAIN_ERRORS, "explain-errors", "N",
             "occlusion maps in report.html of the grouped protocol's N most\n"
             "confident errors of its fused model (default 8; 0: none; 26\n"
             "forward passes per image; docs/report.md)"},
            {OPT_REPORT, "report", "OUTDIR", "where to write"},
            {0},
        },
};

/* A wall time as people read it: "42 s", "15 min 56 s", "2 h 3 min 4 s". */
static void format_duration(double seconds, char *buf, size_t size) {
    long s = seconds > 0 ? (long)(seconds + 0.5) : 0;
    if (s < 60)
        snprintf(buf, size, "%ld s", s);
    else if (s < 3600)
        snprintf(buf, size, "%ld min %ld s", s / 60, s % 60);
    else
        snprintf(buf, size, "%ld h %ld min %ld s", s / 3600, s % 3600 / 60, s % 60);
}

static char *join_names(const bs_dataset *ds, const bs_cli_data *data, const char **models,
                        size_t n, char **backbones) {
    (void)ds;
    size_t cap = 1;
    for (size_t i = 0; i < data->nsources; i++) cap += strlen(data->sources[i]) + 2;
    char *d = calloc(cap, 1);
    for (size_t i = 0; d && i < data->nsources; i++) {
        if (i) strcat(d, ", ");
        strcat(d, data->sources[i]);
    }
    cap = 1;
    for (size_t i = 0; i < n; i++) cap += strlen(models[i]) + 2;
    *backbones = calloc(cap, 1);
    for (size_t i = 0; *backbones && i < n; i++) {
        char *stem = bs_path_stem(models[i]);
        if (i) strcat(*backbones, ", ");
        if (stem) strcat(*backbones, stem);
        free(stem);
    }
    return d;
}

/* Occlusion maps of the grouped study's most confident errors, through the backbones that
 * made the features. A failure only leaves the gallery without maps (a warning). */
static void gallery_maps(const bs_study *s, const bs_feature_index *idx, const char *featdir,
                         const bs_study_options *so, size_t max, bs_html_map **maps, size_t *n,
                         char **note) {
    bs_report_maps_options o;
    bs_report_maps_options_init(&o);
    o.max_images = max;
    o.kernel_scale = so->kernel_scale;
    if (bs_report_occlusion_maps(s, idx, featdir, &o, maps, n, note))
        fprintf(stderr, "blastscan reproduce: warning: no occlusion maps in report.html: %s\n",
                bs_error_message());
}

/* What `reproduce` was asked, as parsed. */
typedef struct {
    bs_cli_data data;
    bs_cli_study st;
    bs_cli_extract xc;
    long sample, explain_errors;
    const char *report;
    char *default_data; /* the assets' dataset, when no --data */
} repro_args;

static void repro_args_free(repro_args *a) {
    bs_cli_extract_free(&a->xc);
    free(a->default_data);
    bs_cli_data_free(&a->data);
}

/* One option that is reproduce's own: 0 when taken, else the exit code. */
static int repro_option(repro_args *a, const bs_cli_parser *p, int c) {
    switch (c) {
        case OPT_SAMPLE:
            return bs_cli_parse_int("reproduce", "--sample", p->arg, 0, 100000000, &a->sample)
                       ? BS_EXIT_USAGE
                       : 0;
        case OPT_REPORT: a->report = p->arg; return 0;
        case OPT_EXPLAIN_ERRORS:
            return bs_cli_parse_int("reproduce", "--explain-errors", p->arg, 0, 10000,
                                    &a->explain_errors)
                       ? BS_EXIT_USAGE
                       : 0;
        default: return bs_cli_unhandled(p, c);
    }
}

/* The command line into a (initialised here, freed by the caller either way): -1 to go on,
 * else the exit code. */
static int parse_reproduce(int argc, char **argv, const bs_cli *cli, repro_args *a) {
    bs_cli_data_init(&a->data);
    bs_cli_study_init(&a->st, cli);
    a->st.both = 1;
    a->st.latent[0] = 0.25;
    a->st.opt.nlatent = 1;
    a->st.opt.epochs = DEFAULT_EPOCHS;
    bs_cli_extract_init(&a->xc, AUGMENT_DEFAULT);
    a->sample = -1;
    a->explain_errors = 8;
    a->report = NULL;
    a->default_data = NULL;
    int c, rc;
    bs_cli_parser p;
    bs_cli_parser_init(&p, &reproduce_command);
    while ((c = bs_cli_next(&p, argc, argv)) >= 0) {
        int d = bs_cli_data_option(&a->data, "reproduce", c, p.arg);
        if (d < 0) d = bs_cli_study_option(&a->st, "reproduce", c, p.arg);
        if (d < 0) d = bs_cli_extract_option(&a->xc, "reproduce", c, p.arg);
        if (d > 0) return BS_EXIT_USAGE;
        if (d == 0) continue;
        if ((rc = repro_option(a, &p, c)) != 0) return rc;
    }
    if (p.exit >= 0) return p.exit;
    if (optind != argc) return bs_cli_usage("reproduce", "unexpected argument '%s'", argv[optind]);
    if (!a->report) return bs_cli_usage("reproduce", "--report OUTDIR is required");
    if (a->st.opt.task != BS_TASK_BINARY)
        return bs_cli_usage(
            "reproduce", "reproduce runs the paper's binary task; use experiment --task subtype");
    if ((rc = bs_cli_extract_finish(&a->xc, "reproduce")) != 0) return rc;
    a->xc.opt.seed = cli->seed;
    return -1;
}

/* No --data: the Aria 2021 dataset of the assets, its ALL classes, the paper's sample size.
 * Then the sample: -1 (not given) means all. */
static int resolve_dataset(repro_args *a) {
    if (!a->data.nsources) {
        a->default_data = bs_path_join(bs_cli_assets(), "data/aria2021");
        if (!a->default_data || !bs_is_dir(a->default_data)) {
            fprintf(stderr,
                    "blastscan reproduce: error: %s: default dataset not found; give --data or set "
                    "BLASTSCAN_ASSETS\n",
                    a->default_data ? a->default_data : "data/aria2021");
            return -1;
        }
        bs_cli_data_option(&a->data, "reproduce", BS_OPT_DATA, a->default_data);
        if (!a->data.npositive)
            bs_cli_data_option(&a->data, "reproduce", BS_OPT_POSITIVE, "Early,Pre,Pro");
        if (a->sample < 0) a->sample = DEFAULT_SAMPLE;
    }
    if (a->sample < 0) a->sample = 0;
    return 0;
}

/* Open the datasets and extract (with the cache) into featdir; the names of the datasets and
 * backbones for the report. Under an MPI job every rank extracts its share; root alone talks. */
static int extract_features(const repro_args *a, const bs_cli *cli, int root, const char *featdir,
                            bs_extract_stats *xs, char **datadesc, char **backbones) {
    const bs_cli_extract *xc = &a->xc;
    bs_dataset ds;
    if (bs_cli_data_open(&a->data, (size_t)a->sample, cli->seed, &ds)) return -1;
    char augment[BS_AUGMENT_NAME_MAX];
    bs_augment_name(&xc->opt.augment, augment);
    if (root)
        fprintf(stderr, "reproduce: %zu images (%zu ALL, %zu healthy), %zu backbones, augment %s\n",
                ds.n, bs_dataset_count_label(&ds, 1), bs_dataset_count_label(&ds, 0), xc->nmodels,
                augment);
    bs_backbone_spec *specs = bs_cli_extract_specs(xc);
    int failed = !featdir || !specs || bs_extract(&ds, specs, xc->nmodels, &xc->opt, featdir, xs);
    free(specs);
    if (!failed && root)
        fprintf(stderr, "reproduce: features in %.1f s (%zu computed, %zu from cache)\n",
                xs->seconds, xs->computed, xs->cached);
    if (!failed) *datadesc = join_names(&ds, &a->data, xc->models, xc->nmodels, backbones);
    bs_dataset_free(&ds);
    return failed ? -1 : 0;
}

/* The study under each protocol asked for (paper first), each with its report in
 * REPORT/<protocol>/ (root writes). ran[p] says which studies hold results to free. */
static int run_protocols(const repro_args *a, const char *featdir, const bs_feature_index *idx,
                         int root, bs_study studies[2], int ran[2]) {
    static const bs_protocol order[2] = {BS_PROTOCOL_PAPER, BS_PROTOCOL_GROUPED};
    for (int p = 0; p < 2; p++) {
        if (!a->st.both && a->st.opt.protocol != order[p]) continue;
        bs_study_options o = a->st.opt;
        o.protocol = order[p];
        char *sub = bs_path_join(a->report, bs_protocol_name(order[p]));
        int failed = !sub || bs_study_run(featdir, idx, &o, &studies[p]);
        if (!failed) {
            ran[p] = 1;
            failed = root && bs_report_write(&studies[p], idx, sub);
        }
        free(sub);
        if (failed) return -1;
    }
    return 0;
}

/* REPORT/report.md with both protocols side by side, and report.html with figures and the
 * grouped protocol's most confident errors (occlusion maps). */
static int write_summary(const repro_args *a, const bs_study studies[2], const int ran[2],
                         const bs_feature_index *idx, const char *featdir,
                         const bs_report_context *ctx) {
    if (bs_report_write_summary(ran[0] ? &studies[0] : NULL, ran[1] ? &studies[1] : NULL, ctx,
                                a->report))
        return -1;
    char *dirs[2] = {bs_path_join(a->report, "paper"), bs_path_join(a->report, "grouped")};
    bs_html_input h = {.idx = idx, .featdir = featdir, .ctx = ctx};
    bs_html_map *maps = NULL;
    char *maps_note = NULL;
    if (ran[1] && a->explain_errors > 0)
        gallery_maps(&studies[1], idx, featdir, &a->st.opt, (size_t)a->explain_errors, &maps,
                     &h.nmaps, &maps_note);
    h.maps = maps;
    h.maps_note = maps_note;
    for (int p = 0; p < 2; p++) {
        h.study[p] = ran[p] ? &studies[p] : NULL;
        h.study_dir[p] = dirs[p];
    }
    int failed = !dirs[0] || !dirs[1] || bs_report_write_html(&h, a->report);
    free(dirs[0]);
    free(dirs[1]);
    bs_report_maps_free(maps, h.nmaps);
    free(maps_note);
    return failed ? -1 : 0;
}

/* Everything after parsing: extract, both protocols, the reports. 0; 1 (bs_error) when the
 * features could not be had; 2 (bs_error) when a study or a report failed. */
static int reproduce(const repro_args *a, const bs_cli *cli, double t0) {
    /* Under an MPI job every rank extracts and studies its share; rank 0 alone talks and writes. */
    const int root = bs_dist_rank() == 0;
    char *featdir = bs_path_join(a->report, "features");
    char *datadesc = NULL, *backbones = NULL;
    bs_extract_stats xs = {0};
    bs_feature_index idx;
    if (extract_features(a, cli, root, featdir, &xs, &datadesc, &backbones) ||
        bs_featdir_read_index(featdir, &idx)) {
        free(featdir);
        free(datadesc);
        free(backbones);
        return 1;
    }
    bs_study studies[2];
    int ran[2] = {0, 0};
    int failed = run_protocols(a, featdir, &idx, root, studies, ran);
    if (!failed && root) {
        char sample_note[256];
        snprintf(sample_note, sizeof sample_note, "%s%s", datadesc ? datadesc : "?",
                 a->sample > 0 ? " (stratified random sample)" : "");
        char augment[BS_AUGMENT_NAME_MAX];
        bs_augment_name(&a->xc.opt.augment, augment);
        if (!strcmp(augment, "flip"))
            snprintf(augment, sizeof augment, "flip (original + hmirror + vmirror)");
        bs_report_context ctx = {sample_note,   backbones ? backbones : "?",
                                 augment,       xs.seconds,
                                 bs_now() - t0, BLASTSCAN_VERSION};
        failed = write_summary(a, studies, ran, &idx, featdir, &ctx);
    }
    for (int p = 0; p < 2; p++)
        if (ran[p]) bs_study_free(&studies[p]);
    bs_feature_index_free(&idx);
    free(featdir);
    free(datadesc);
    free(backbones);
    return failed ? 2 : 0;
}

int bs_cmd_reproduce(int argc, char **argv, const bs_cli *cli) {
    double t0 = bs_now();
    repro_args a;
    int rc = parse_reproduce(argc, argv, cli, &a);
    if (rc < 0) rc = resolve_dataset(&a) ? BS_EXIT_FAIL : -1;
    if (rc >= 0) {
        repro_args_free(&a);
        return rc;
    }
    int failed = reproduce(&a, cli, t0);
    rc = failed ? bs_cli_fail("reproduce") : BS_EXIT_OK;
    if (failed != 1 && bs_dist_rank() == 0) { /* the wall time, once the studies have run */
        char took[64];
        format_duration(bs_now() - t0, took, sizeof took);
        if (failed)
            fprintf(stderr, "reproduce: failed after %s\n", took);
        else
            fprintf(stderr, "reproduce: done in %s -> %s/report.md\n", took, a.report);
    }
    repro_args_free(&a);
    return rc;
}
