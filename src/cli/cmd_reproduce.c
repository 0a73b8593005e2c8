/* cmd_reproduce.c — `blastscan reproduce`: the whole study in one command — extraction (with
 * the cache), both protocols, and a report that puts them side by side. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_data.h"
#include "cli_extract.h"
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

#ifndef BLASTSCAN_VERSION
#define BLASTSCAN_VERSION "unknown"
#endif

/* Defaults sized to finish within 20 minutes on a 2-core machine (README). */
#define DEFAULT_SAMPLE 368 /* the paper's ALL-IDB size: 368 images -> 1104 rows with flips */
#define DEFAULT_EPOCHS 750

static void usage(FILE *fp) {
    fprintf(
        fp,
        "Usage: blastscan reproduce [--data D ...] [--positive C,...] [--backbone M.onnx ...]\n"
        "                           [--protocol paper|grouped|both] [--augment none|flip]\n"
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
        "random sample of %d images (the paper's dataset size; --sample 0 for all 3256), the two\n"
        "shipped backbones, --augment flip, --protocol both, %d epochs.\n\n" BS_DATA_OPTIONS_HELP
            BS_EXTRACT_OPTIONS_HELP
        "  --augment A      flip (default: original + two mirrors, as the paper) or none\n"
        "  --sample N       stratified random subset of N images (seeded); 0 = "
        "all\n" BS_STUDY_OPTIONS_HELP(
            "0.25: Case 1, the paper's standard model") "  --explain-errors N  occlusion maps in "
                                                        "report.html of the grouped protocol's N "
                                                        "most\n"
                                                        "                   confident errors of "
                                                        "its fused model (default 8; 0: none; 26\n"
                                                        "                   forward passes per "
                                                        "image; docs/report.md)\n"
                                                        "  --report OUTDIR  where to write\n",
        DEFAULT_SAMPLE, DEFAULT_EPOCHS);
}

enum { OPT_SAMPLE = 4001, OPT_REPORT, OPT_EXPLAIN_ERRORS };

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

int bs_cmd_reproduce(int argc, char **argv, const bs_cli *cli) {
    static const struct option opts[] = {
        BS_DATA_LONG_OPTIONS,
        BS_STUDY_LONG_OPTIONS,
        BS_EXTRACT_LONG_OPTIONS,
        {"sample", required_argument, 0, OPT_SAMPLE},
        {"report", required_argument, 0, OPT_REPORT},
        {"explain-errors", required_argument, 0, OPT_EXPLAIN_ERRORS},
        {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0}};
    double t0 = bs_now();
    bs_cli_data data;
    bs_cli_data_init(&data);
    bs_cli_study st;
    bs_cli_study_init(&st, cli);
    st.both = 1;
    st.latent[0] = 0.25;
    st.opt.nlatent = 1;
    st.opt.epochs = DEFAULT_EPOCHS;
    bs_cli_extract xc;
    bs_cli_extract_init(&xc, 1);
    const bs_extract_options *xo = &xc.opt;
    long sample = -1, explain_errors = 8;
    int c, rc = BS_EXIT_USAGE;
    const char *report = NULL;
    char *default_data = NULL, *featdir = NULL, *sub = NULL;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        int d = bs_cli_data_option(&data, "reproduce", c, optarg);
        if (d < 0) d = bs_cli_study_option(&st, "reproduce", c, optarg);
        if (d < 0) d = bs_cli_extract_option(&xc, "reproduce", c, optarg);
        if (d > 0) goto done;
        if (d == 0) continue;
        switch (c) {
            case OPT_SAMPLE:
                if (bs_cli_parse_int("reproduce", "--sample", optarg, 0, 100000000, &sample))
                    goto done;
                break;
            case OPT_REPORT: report = optarg; break;
            case OPT_EXPLAIN_ERRORS:
                if (bs_cli_parse_int("reproduce", "--explain-errors", optarg, 0, 10000,
                                     &explain_errors))
                    goto done;
                break;
            case 'h':
                usage(stdout);
                rc = BS_EXIT_OK;
                goto done;
            default: bs_cli_usage("reproduce", "unknown option"); goto done;
        }
    }
    if (optind != argc) {
        bs_cli_usage("reproduce", "unexpected argument '%s'", argv[optind]);
        goto done;
    }
    if (!report) {
        bs_cli_usage("reproduce", "--report OUTDIR is required");
        goto done;
    }
    if (st.opt.task != BS_TASK_BINARY) {
        bs_cli_usage("reproduce",
                     "reproduce runs the paper's binary task; use experiment --task subtype");
        goto done;
    }
    if ((rc = bs_cli_extract_finish(&xc, "reproduce")) != 0) goto done;
    rc = BS_EXIT_FAIL;
    if (!data.nsources) {
        default_data = bs_path_join(bs_cli_assets(), "data/aria2021");
        if (!default_data || !bs_is_dir(default_data)) {
            fprintf(stderr,
                    "blastscan reproduce: error: %s: default dataset not found; give --data or set "
                    "BLASTSCAN_ASSETS\n",
                    default_data ? default_data : "data/aria2021");
            goto done;
        }
        bs_cli_data_option(&data, "reproduce", BS_OPT_DATA, default_data);
        if (!data.npositive)
            bs_cli_data_option(&data, "reproduce", BS_OPT_POSITIVE, "Early,Pre,Pro");
        if (sample < 0) sample = DEFAULT_SAMPLE;
    }
    if (sample < 0) sample = 0;

    bs_dataset ds;
    if (bs_cli_data_open(&data, (size_t)sample, cli->seed, &ds)) {
        rc = bs_cli_fail("reproduce");
        goto done;
    }
    /* Under an MPI job every rank extracts and studies its share; rank 0 alone talks and writes. */
    const int root = bs_dist_rank() == 0;
    if (root)
        fprintf(stderr, "reproduce: %zu images (%zu ALL, %zu healthy), %zu backbones, augment %s\n",
                ds.n, bs_dataset_count_label(&ds, 1), bs_dataset_count_label(&ds, 0), xc.nmodels,
                xo->augment ? "flip" : "none");
    featdir = bs_path_join(report, "features");
    bs_backbone_spec *specs = bs_cli_extract_specs(&xc);
    bs_extract_stats xs = {0};
    int failed = !featdir || !specs || bs_extract(&ds, specs, xc.nmodels, xo, featdir, &xs);
    free(specs);
    if (!failed && root)
        fprintf(stderr, "reproduce: features in %.1f s (%zu computed, %zu from cache)\n",
                xs.seconds, xs.computed, xs.cached);
    char *backbones = NULL;
    char *datadesc = failed ? NULL : join_names(&ds, &data, xc.models, xc.nmodels, &backbones);
    bs_dataset_free(&ds);
    bs_feature_index idx;
    if (failed || bs_featdir_read_index(featdir, &idx)) {
        free(datadesc);
        free(backbones);
        rc = bs_cli_fail("reproduce");
        goto done;
    }
    bs_study studies[2];
    int ran[2] = {0, 0};
    static const bs_protocol order[2] = {BS_PROTOCOL_PAPER, BS_PROTOCOL_GROUPED};
    failed = 0;
    for (int p = 0; p < 2 && !failed; p++) {
        if (!st.both && st.opt.protocol != order[p]) continue;
        bs_study_options o = st.opt;
        o.protocol = order[p];
        free(sub);
        sub = bs_path_join(report, bs_protocol_name(order[p]));
        if (!sub || bs_study_run(featdir, &idx, &o, &studies[p]) ||
            (root && bs_report_write(&studies[p], &idx, sub))) {
            failed = 1;
            break;
        }
        ran[p] = 1;
    }
    if (!failed && root) {
        char sample_note[256];
        snprintf(sample_note, sizeof sample_note, "%s%s", datadesc ? datadesc : "?",
                 sample > 0 ? " (stratified random sample)" : "");
        bs_report_context ctx = {sample_note,
                                 backbones ? backbones : "?",
                                 xo->augment ? "flip (original + hmirror + vmirror)" : "none",
                                 xs.seconds,
                                 bs_now() - t0,
                                 BLASTSCAN_VERSION};
        failed = bs_report_write_summary(ran[0] ? &studies[0] : NULL, ran[1] ? &studies[1] : NULL,
                                         &ctx, report);
        char *dirs[2] = {bs_path_join(report, "paper"), bs_path_join(report, "grouped")};
        bs_html_input h = {.idx = &idx, .featdir = featdir, .ctx = &ctx};
        bs_html_map *maps = NULL;
        char *maps_note = NULL;
        if (!failed && ran[1] && explain_errors > 0)
            gallery_maps(&studies[1], &idx, featdir, &st.opt, (size_t)explain_errors, &maps,
                         &h.nmaps, &maps_note);
        h.maps = maps;
        h.maps_note = maps_note;
        for (int p = 0; p < 2; p++) {
            h.study[p] = ran[p] ? &studies[p] : NULL;
            h.study_dir[p] = dirs[p];
        }
        if (!failed) failed = !dirs[0] || !dirs[1] || bs_report_write_html(&h, report);
        free(dirs[0]);
        free(dirs[1]);
        bs_report_maps_free(maps, h.nmaps);
        free(maps_note);
    }
    for (int p = 0; p < 2; p++)
        if (ran[p]) bs_study_free(&studies[p]);
    bs_feature_index_free(&idx);
    free(datadesc);
    free(backbones);
    rc = failed ? bs_cli_fail("reproduce") : BS_EXIT_OK;
    if (root) {
        char took[64];
        format_duration(bs_now() - t0, took, sizeof took);
        if (failed)
            fprintf(stderr, "reproduce: failed after %s\n", took);
        else
            fprintf(stderr, "reproduce: done in %s -> %s/report.md\n", took, report);
    }
done:
    bs_cli_extract_free(&xc);
    free(default_data);
    free(featdir);
    free(sub);
    bs_cli_data_free(&data);
    return rc;
}
