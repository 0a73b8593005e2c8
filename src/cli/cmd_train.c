/* cmd_train.c — `blastscan train`: extract features (through the extraction cache), fit the
 * pipeline (mapminmax + sparse autoencoder + cubic SVM + Platt calibration + OOD statistics)
 * on all the given data, and write one pipeline file (docs/pipeline-format.md). */
#define _GNU_SOURCE
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_data.h"
#include "cli_extract.h"
#include "core/error.h"
#include "core/io.h"
#include "core/progress.h"
#include "features/extract.h"
#include "features/featdir.h"
#include "pipeline/pipeline.h"

static void usage(FILE *fp) {
    fprintf(
        fp,
        "Usage: blastscan train --data D [--data ...] [--positive C,...] [--backbone M.onnx ...]\n"
        "                       [--augment none|flip] [--latent F|none] [--epochs N]\n"
        "                       [--kernel-scale auto|S] [--calibration-folds K]\n"
        "                       [--ood-k K | --ood-quantile Q]\n"
        "                       [--cache DIR | --no-cache] [--batch N] --out MODEL.blastscan\n\n"
        "Fit the paper's standard model on all the given images and save it as one pipeline\n"
        "file for `blastscan predict` and the C library: features of every image (and its two\n"
        "mirrors with --augment flip) through every backbone, fused in feature-set name order\n"
        "(as `experiment` fuses them); mapminmax + sparse autoencoder with F x the fused width\n"
        "hidden units; cubic SVM on the latent; Platt scaling from a grouped K-fold\n"
        "cross-validation of the SVM; the out-of-distribution threshold from reconstruction\n"
        "errors of rows a validation autoencoder has not seen (docs/pipeline-format.md).\n"
        "Every random choice follows --seed. predict finds each backbone by file name and\n"
        "sha256.\n\n" BS_DATA_OPTIONS_HELP BS_EXTRACT_OPTIONS_HELP
        "  --augment A      flip (default: original + h/v mirrors, as the paper) or none\n"
        "  --latent F       hidden units as a fraction of the fused width (default 0.25, the\n"
        "                   paper's Case 1); none: the SVM on the fused features (no OOD flag)\n"
        "  --epochs N       autoencoder MaxEpochs (default 750)\n"
        "  --kernel-scale S auto (MATLAB's heuristic, seeded; default) or a fixed scale\n"
        "  --calibration-folds K  folds of the internal CV for Platt scaling (default 5)\n"
        "  --ood-k K        out-of-distribution threshold: Tukey's far-out fence of the log\n"
        "                   validation errors, exp(q75 + K (q75 - q25)) (default 3; wide: it\n"
        "                   flags pictures that are not smears, not another microscope)\n"
        "  --ood-quantile Q the threshold at the Q-quantile of the validation errors instead,\n"
        "                   Q in (0, 1]: about 1 - Q of cells like the training cells are\n"
        "                   flagged (0.95 for cell models, docs/cells.md)\n"
        "  --out FILE       the pipeline file to write\n");
}

enum { OPT_LATENT = 5001, OPT_EPOCHS, OPT_KSCALE, OPT_CALIB, OPT_OODK, OPT_OODQ, OPT_OUT };

typedef struct train_args {
    bs_cli_data data;
    bs_cli_extract xc;
    bs_pipeline_fit_options fo;
    double latent; /* 0: --latent none */
    int ood_set;   /* bit 0: --ood-k given, bit 1: --ood-quantile given */
    const char *out;
} train_args;

/* One option of train's own; returns -1 to go on, else the exit code. */
static int parse_option(train_args *a, int c, const char *arg) {
    long v;
    switch (c) {
        case OPT_LATENT:
            if (!strcmp(arg, "none"))
                a->latent = 0;
            else if (bs_cli_parse_double("train", "--latent", arg, &a->latent))
                return BS_EXIT_USAGE;
            else if (!(a->latent > 0 && a->latent <= 4))
                return bs_cli_usage("train", "--latent expects a fraction in (0, 4] or none");
            return -1;
        case OPT_EPOCHS:
            if (bs_cli_parse_int("train", "--epochs", arg, 0, 1000000, &v)) return BS_EXIT_USAGE;
            a->fo.ae.max_epochs = (int)v;
            return -1;
        case OPT_KSCALE:
            if (!strcmp(arg, "auto"))
                a->fo.svm.kernel_scale = 0;
            else if (bs_cli_parse_double("train", "--kernel-scale", arg, &a->fo.svm.kernel_scale))
                return BS_EXIT_USAGE;
            else if (!(a->fo.svm.kernel_scale > 0) || !isfinite(a->fo.svm.kernel_scale))
                return bs_cli_usage("train", "--kernel-scale must be auto or a positive number");
            return -1;
        case OPT_CALIB:
            if (bs_cli_parse_int("train", "--calibration-folds", arg, 2, 100, &v))
                return BS_EXIT_USAGE;
            a->fo.calibration_folds = (int)v;
            return -1;
        case OPT_OODK:
            if (bs_cli_parse_double("train", "--ood-k", arg, &a->fo.ood_k)) return BS_EXIT_USAGE;
            if (!(a->fo.ood_k >= 0 && a->fo.ood_k <= 100))
                return bs_cli_usage("train", "--ood-k expects a number in [0, 100]");
            a->ood_set |= 1;
            return -1;
        case OPT_OODQ:
            if (bs_cli_parse_double("train", "--ood-quantile", arg, &a->fo.ood_quantile))
                return BS_EXIT_USAGE;
            if (!(a->fo.ood_quantile > 0 && a->fo.ood_quantile <= 1))
                return bs_cli_usage("train", "--ood-quantile expects a number in (0, 1]");
            a->ood_set |= 2;
            return -1;
        case OPT_OUT: a->out = arg; return -1;
        case 'h': usage(stdout); return BS_EXIT_OK;
        default: return bs_cli_usage("train", "unknown option");
    }
}

/* Returns -1 when the arguments are complete and valid, else the exit code. */
static int parse_args(int argc, char **argv, train_args *a) {
    static const struct option opts[] = {BS_DATA_LONG_OPTIONS,
                                         BS_EXTRACT_LONG_OPTIONS,
                                         {"latent", required_argument, 0, OPT_LATENT},
                                         {"epochs", required_argument, 0, OPT_EPOCHS},
                                         {"kernel-scale", required_argument, 0, OPT_KSCALE},
                                         {"calibration-folds", required_argument, 0, OPT_CALIB},
                                         {"ood-k", required_argument, 0, OPT_OODK},
                                         {"ood-quantile", required_argument, 0, OPT_OODQ},
                                         {"out", required_argument, 0, OPT_OUT},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    int c, rc;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        int d = bs_cli_data_option(&a->data, "train", c, optarg);
        if (d < 0) d = bs_cli_extract_option(&a->xc, "train", c, optarg);
        if (d > 0) return BS_EXIT_USAGE;
        if (d < 0 && (rc = parse_option(a, c, optarg)) >= 0) return rc;
    }
    if (optind != argc) return bs_cli_usage("train", "unexpected argument '%s'", argv[optind]);
    if (!a->data.nsources || !a->out) return bs_cli_usage("train", "--data and --out are required");
    if ((rc = bs_cli_extract_finish(&a->xc, "train")) != 0) return rc;
    if (a->ood_set == 3)
        return bs_cli_usage("train", "--ood-k and --ood-quantile exclude each other");
    if (a->ood_set && a->latent == 0)
        return bs_cli_usage("train",
                            "--ood-k and --ood-quantile need an autoencoder (not --latent none)");
    return -1;
}

/* Everything train fits on: the dataset, each backbone's description, and the fused rows with
 * their labels and groups (rows are sample-major, views minor). */
typedef struct train_data {
    bs_dataset ds;
    int ds_open;
    bs_backbone_info *info;
    size_t *order; /* order[k]: the backbone (index into info) of the k-th block of columns */
    size_t n;      /* rows */
    int64_t width; /* fused features */
    float *x;
    int32_t *labels;
    int64_t *group;
} train_data;

static void train_data_free(train_data *t) {
    if (t->ds_open) bs_dataset_free(&t->ds);
    free(t->info);
    free(t->order);
    free(t->x);
    free(t->labels);
    free(t->group);
}

static int row_labels(train_data *t, size_t nviews) {
    int64_t *sample_group = bs_malloc(sizeof(int64_t) * (t->ds.n ? t->ds.n : 1));
    t->labels = bs_malloc(sizeof(int32_t) * (t->n ? t->n : 1));
    t->group = bs_malloc(sizeof(int64_t) * (t->n ? t->n : 1));
    int rc = !t->labels || !t->group || !sample_group ||
             bs_dataset_ids(&t->ds, BS_SAMPLE_GROUP, sample_group) < 0;
    for (size_t r = 0; r < t->n && rc == 0; r++) {
        t->labels[r] = t->ds.samples[r / nviews].label;
        t->group[r] = sample_group[r / nviews];
    }
    free(sample_group);
    return rc ? -1 : 0;
}

/* Features of every image through every backbone (the extraction cache serves repeats), in a
 * temporary feature folder removed afterwards, fused and labelled. */
static int load_training_data(train_args *a, const bs_cli *cli, train_data *t) {
    size_t nb = a->xc.nmodels;
    bs_extract_options xo = a->xc.opt;
    bs_backbone_spec *specs = bs_cli_extract_specs(&a->xc);
    t->info = bs_calloc(nb, sizeof *t->info);
    t->order = bs_calloc(nb, sizeof *t->order);
    xo.info = t->info;
    if (!specs || !t->info || !t->order || bs_cli_data_open(&a->data, 0, cli->seed, &t->ds)) {
        free(specs);
        return -1;
    }
    t->ds_open = 1;
    fprintf(stderr, "train: %zu images (%zu ALL, %zu healthy), %zu backbone%s, augment %s\n",
            t->ds.n, bs_dataset_count_label(&t->ds, 1), bs_dataset_count_label(&t->ds, 0), nb,
            nb > 1 ? "s" : "", xo.augment ? "flip" : "none");
    char tmpl[4096];
    const char *tmp = getenv("TMPDIR");
    snprintf(tmpl, sizeof tmpl, "%s/blastscan-train-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    char *featdir = mkdtemp(tmpl);
    bs_extract_stats st;
    int rc = featdir ? 0 : bs_error("cannot create a temporary folder %s", tmpl);
    if (rc == 0) rc = bs_extract(&t->ds, specs, nb, &xo, featdir, &st);
    if (rc == 0) {
        fprintf(stderr, "train: features of %zu rows in %.1f s (%zu computed, %zu from cache)\n",
                st.rows, st.seconds, st.computed, st.cached);
        t->n = st.rows;
        rc = bs_pipeline_read_features(featdir, t->info, nb, st.rows, t->order, &t->x, &t->width);
    }
    if (rc == 0) rc = row_labels(t, xo.augment ? 3 : 1);
    if (featdir) bs_rmtree(featdir);
    free(specs);
    return rc;
}

static int fit_and_save(train_args *a, const bs_cli *cli, train_data *t, double t0) {
    bs_pipeline p;
    memset(&p, 0, sizeof p);
    bs_pipeline_fit_options fo = a->fo;
    fo.latent_fraction = a->latent;
    bs_pipeline_fit_options_seed(&fo, cli->seed);
    fo.ae.progress = 1;
    fo.verbose = 1;
    int rc = bs_pipeline_set_provenance(&p, &t->ds, a->xc.opt.augment, cli->seed, t->info,
                                        a->xc.models, t->order, a->xc.nmodels);
    if (rc == 0)
        rc = bs_pipeline_fit(&p, bs_matrix_of(t->x, (int64_t)t->n, t->width), t->labels, t->group,
                             NULL, (int64_t)t->n, &fo);
    if (rc == 0) rc = bs_pipeline_save(&p, a->out);
    if (rc == 0) {
        bs_svm_parts parts;
        bs_svm_get_parts(p.svm, &parts);
        fprintf(stderr,
                "train: %lld rows x %lld features -> %s -> SVM (%lld support vectors, kernel "
                "scale %.4g) in %.1f s -> %s\n",
                (long long)t->n, (long long)t->width, p.ae ? "autoencoder" : "no autoencoder",
                (long long)parts.n_sv, parts.kernel_scale, bs_now() - t0, a->out);
    }
    bs_pipeline_free(&p);
    return rc;
}

int bs_cmd_train(int argc, char **argv, const bs_cli *cli) {
    double t0 = bs_now();
    train_args a = {.latent = 0.25};
    bs_cli_data_init(&a.data);
    bs_cli_extract_init(&a.xc, 1);
    bs_pipeline_fit_options_init(&a.fo);
    int rc = parse_args(argc, argv, &a);
    if (rc < 0) {
        train_data t;
        memset(&t, 0, sizeof t);
        if (load_training_data(&a, cli, &t) || fit_and_save(&a, cli, &t, t0))
            rc = bs_cli_fail("train");
        else
            rc = BS_EXIT_OK;
        train_data_free(&t);
    }
    bs_cli_extract_free(&a.xc);
    bs_cli_data_free(&a.data);
    return rc;
}
