/* cmd_train.c — `blastscan train`: extract features (through the extraction cache), fit the
 * pipeline (mapminmax + sparse autoencoder + cubic SVM + Platt calibration + OOD statistics)
 * on all the given data, and write one pipeline file (docs/pipeline-format.md). */
#define _GNU_SOURCE
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_data.h"
#include "cli_extract.h"
#include "cli_options.h"
#include "core/error.h"
#include "core/io.h"
#include "core/progress.h"
#include "features/extract.h"
#include "features/featdir.h"
#include "field/field.h"
#include "pipeline/pipeline.h"

#define AUGMENT_DEFAULT "flip"

/* train's own option codes, then the command: its --help, its options in --help order
 * (cli_options.h) */
enum {
    OPT_LATENT = BS_CLI_OWN_CODES,
    OPT_EPOCHS,
    OPT_KSCALE,
    OPT_CALIB,
    OPT_OODK,
    OPT_OODQ,
    OPT_MIL,
    OPT_MIL_ROUNDS,
    OPT_MIL_FOLDS,
    OPT_WEIGHT_SOURCE,
    OPT_OUT
};

static const bs_cli_command train_command = {
    .name = "train",
    .before =
        "Usage: blastscan train --data D [--data ...] [--positive C,...] [--backbone M.onnx ...]\n"
        "                       [--augment VIEWS] [--latent F|none] [--epochs N]\n"
        "                       [--kernel-scale auto|S] [--calibration-folds K]\n"
        "                       [--ood-k K | --ood-quantile Q]\n"
        "                       [--mil [--mil-rounds N] [--mil-folds K]]\n"
        "                       [--weight-source NAME=W ...]\n"
        "                       [--cache DIR | --no-cache] [--batch N] --out MODEL.blastscan\n\n"
        "Fit the paper's standard model on all the given images and save it as one pipeline\n"
        "file for `blastscan predict` and the C library: features of every image (and of the\n"
        "views --augment asks for: its two mirrors by default) through every backbone, fused in\n"
        "feature-set name order (as `experiment` fuses them); mapminmax + sparse autoencoder\n"
        "with F x the fused width hidden units; cubic SVM on the latent; Platt scaling from a\n"
        "grouped K-fold cross-validation of the SVM; the out-of-distribution threshold from\n"
        "reconstruction errors of rows a validation autoencoder has not seen\n"
        "(docs/pipeline-format.md). Every random choice follows --seed. predict finds each\n"
        "backbone by file name and "
        "sha256.\n\n",
    .options =
        (const bs_cli_option[]){
            BS_DATA_OPTIONS,
            BS_EXTRACT_OPTIONS(AUGMENT_DEFAULT),
            {OPT_LATENT, "latent", "F",
             "hidden units as a fraction of the fused width (default 0.25, the\n"
             "paper's Case 1); none: the SVM on the fused features (no OOD flag)"},
            {OPT_EPOCHS, "epochs", "N", "autoencoder MaxEpochs (default 750)"},
            {OPT_KSCALE, "kernel-scale", "S",
             "auto (MATLAB's heuristic, seeded; default) or a fixed scale"},
            {OPT_CALIB, "calibration-folds", "K",
             "folds of the internal CV for Platt scaling (default 5)"},
            {OPT_OODK, "ood-k", "K",
             "out-of-distribution threshold: Tukey's far-out fence of the log\n"
             "validation errors, exp(q75 + K (q75 - q25)) (default 3; wide: it\n"
             "flags pictures that are not smears, not another microscope)"},
            {OPT_OODQ, "ood-quantile", "Q",
             "the threshold at the Q-quantile of the validation errors instead,\n"
             "Q in (0, 1]: about 1 - Q of cells like the training cells are\n"
             "flagged (0.95 for cell models, docs/cells.md)"},
            {OPT_MIL, "mil", NULL,
             "multiple-instance labels (mi-SVM): the images of a group whose\n"
             "label is 1 (a field's cells) form a bag holding at least one positive,\n"
             "not only positives; the SVM is refitted and the bag's images\n"
             "relabelled by its sign until they settle (docs/svm.md)"},
            {OPT_MIL_ROUNDS, "mil-rounds", "N", "with --mil: at most N SVM fits (default 20)"},
            {OPT_MIL_FOLDS, "mil-folds", "K",
             "with --mil: relabel each bag by the decisions of an SVM that did not\n"
             "train on it (the bags dealt into K folds, 2..100; seeded); default:\n"
             "the SVM's own decisions, which a flexible SVM fits (docs/svm.md)"},
            {OPT_WEIGHT_SOURCE, "weight-source", "NAME=W",
             "the images of source NAME (a manifest's source column, sources.csv,\n"
             "else the --data base name) count W times, W a whole number in\n"
             "1..1000, e.g. a lab's own corrected cells (repeat for several)"},
            {OPT_OUT, "out", "FILE", "the pipeline file to write"},
            {0},
        },
};

#define TRAIN_WEIGHTS_MAX 16

typedef struct train_args {
    bs_cli_data data;
    bs_cli_extract xc;
    bs_pipeline_fit_options fo;
    double latent;   /* 0: --latent none */
    int ood_set;     /* bit 0: --ood-k given, bit 1: --ood-quantile given */
    int mil;         /* --mil */
    long mil_rounds; /* --mil-rounds, 0: not given */
    long mil_folds;  /* --mil-folds, 0: not given */
    const char *weight_name[TRAIN_WEIGHTS_MAX]; /* --weight-source NAME=W, in argv */
    size_t weight_len[TRAIN_WEIGHTS_MAX];       /* NAME's length */
    int32_t weight[TRAIN_WEIGHTS_MAX];          /* W */
    int nweights;
    const char *out;
} train_args;

/* --weight-source NAME=W: the last '=' splits (a source name may hold one). */
static int parse_weight(train_args *a, const char *arg) {
    const char *eq = strrchr(arg, '=');
    long w;
    if (!eq || eq == arg)
        return bs_cli_usage("train", "--weight-source expects NAME=W (got '%s')", arg);
    if (bs_cli_parse_int("train", "--weight-source", eq + 1, 1, BS_PIPELINE_WEIGHT_MAX, &w))
        return BS_EXIT_USAGE;
    size_t len = (size_t)(eq - arg);
    for (int i = 0; i < a->nweights; i++)
        if (a->weight_len[i] == len && !strncmp(a->weight_name[i], arg, len))
            return bs_cli_usage("train", "--weight-source names '%.*s' twice", (int)len, arg);
    if (a->nweights == TRAIN_WEIGHTS_MAX)
        return bs_cli_usage("train", "--weight-source: at most %d sources", TRAIN_WEIGHTS_MAX);
    a->weight_name[a->nweights] = arg;
    a->weight_len[a->nweights] = len;
    a->weight[a->nweights++] = (int32_t)w;
    return -1;
}

/* One option of train's own; returns -1 to go on, else the exit code. */
static int parse_option(train_args *a, const bs_cli_parser *p, int c) {
    const char *arg = p->arg;
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
        case OPT_MIL: a->mil = 1; return -1;
        case OPT_MIL_ROUNDS:
            return bs_cli_parse_int("train", "--mil-rounds", arg, 1, 1000, &a->mil_rounds)
                       ? BS_EXIT_USAGE
                       : -1;
        case OPT_MIL_FOLDS:
            return bs_cli_parse_int("train", "--mil-folds", arg, 2, 100, &a->mil_folds)
                       ? BS_EXIT_USAGE
                       : -1;
        case OPT_WEIGHT_SOURCE: return parse_weight(a, arg);
        case OPT_OUT: a->out = arg; return -1;
        default: return bs_cli_unhandled(p, c);
    }
}

/* Returns -1 when the arguments are complete and valid, else the exit code. */
static int parse_args(int argc, char **argv, train_args *a) {
    int c, rc;
    bs_cli_parser p;
    bs_cli_parser_init(&p, &train_command);
    while ((c = bs_cli_next(&p, argc, argv)) >= 0) {
        int d = bs_cli_data_option(&a->data, "train", c, p.arg);
        if (d < 0) d = bs_cli_extract_option(&a->xc, "train", c, p.arg);
        if (d > 0) return BS_EXIT_USAGE;
        if (d < 0 && (rc = parse_option(a, &p, c)) >= 0) return rc;
    }
    if (p.exit >= 0) return p.exit;
    if (optind != argc) return bs_cli_usage("train", "unexpected argument '%s'", argv[optind]);
    if (!a->data.nsources || !a->out) return bs_cli_usage("train", "--data and --out are required");
    if ((rc = bs_cli_extract_finish(&a->xc, "train")) != 0) return rc;
    if (a->ood_set == 3)
        return bs_cli_usage("train", "--ood-k and --ood-quantile exclude each other");
    if (a->ood_set && a->latent == 0)
        return bs_cli_usage("train",
                            "--ood-k and --ood-quantile need an autoencoder (not --latent none)");
    if (a->mil_rounds && !a->mil) return bs_cli_usage("train", "--mil-rounds needs --mil");
    if (a->mil_folds && !a->mil) return bs_cli_usage("train", "--mil-folds needs --mil");
    a->fo.mil_folds = (int)a->mil_folds;
    a->fo.mil_rounds = a->mil ? (a->mil_rounds ? (int)a->mil_rounds : BS_FIT_MIL_ROUNDS) : 0;
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
    int64_t *image;          /* per row: its sample (an image and its views share one) */
    bs_pipeline_cells cells; /* how the crops were made, when the manifests say */
} train_data;

static void train_data_free(train_data *t) {
    if (t->ds_open) bs_dataset_free(&t->ds);
    free(t->info);
    free(t->order);
    free(t->x);
    free(t->labels);
    free(t->group);
    free(t->image);
}

static int row_labels(train_data *t, size_t nviews) {
    int64_t *sample_group = bs_malloc(sizeof(int64_t) * (t->ds.n ? t->ds.n : 1));
    t->labels = bs_malloc(sizeof(int32_t) * (t->n ? t->n : 1));
    t->group = bs_malloc(sizeof(int64_t) * (t->n ? t->n : 1));
    t->image = bs_malloc(sizeof(int64_t) * (t->n ? t->n : 1));
    int rc = !t->labels || !t->group || !t->image || !sample_group ||
             bs_dataset_ids(&t->ds, BS_SAMPLE_GROUP, sample_group) < 0;
    for (size_t r = 0; r < t->n && rc == 0; r++) {
        t->labels[r] = t->ds.samples[r / nviews].label;
        t->group[r] = sample_group[r / nviews];
        t->image[r] = (int64_t)(r / nviews);
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
    if (bs_field_crop_settings(&t->ds, &t->cells)) { /* before the long extraction */
        free(specs);
        return -1;
    }
    if (t->cells.present)
        fprintf(stderr, "train: cell crops made with %s colours (recorded in the model)\n",
                t->cells.normalised ? "normalised" : "photographed");
    char augment[BS_AUGMENT_NAME_MAX];
    bs_augment_name(&xo.augment, augment);
    fprintf(stderr, "train: %zu images (%zu ALL, %zu healthy), %zu backbone%s, augment %s\n",
            t->ds.n, bs_dataset_count_label(&t->ds, 1), bs_dataset_count_label(&t->ds, 0), nb,
            nb > 1 ? "s" : "", augment);
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
    bs_view views[BS_VIEW_END];
    if (rc == 0) rc = row_labels(t, bs_augment_views(&xo.augment, views));
    if (featdir) bs_rmtree(featdir);
    free(specs);
    return rc;
}

/* The mi-SVM line: what the relabelling did, for a person to judge (docs/cells.md). */
static void log_mil(const bs_fit_mil *m) {
    if (m->rounds == 0) return;
    fprintf(stderr,
            "train: mi-SVM: %lld of %lld images of %lld positive groups (bags) end positive "
            "(%.1f %%; per bag min %lld, median %g, max %lld) after %d round%s, %s\n",
            (long long)m->positives, (long long)m->instances, (long long)m->bags,
            m->instances ? 100.0 * (double)m->positives / (double)m->instances : 0.0,
            (long long)m->bag_min, m->bag_median, (long long)m->bag_max, m->rounds,
            m->rounds == 1 ? "" : "s",
            m->converged ? "converged" : "stopped at the cap (labels still changing)");
}

/* The source id --weight-source's i-th name refers to, or a bs_error naming the sources. */
static int weight_source(const train_args *a, const bs_dataset *ds, int i) {
    for (size_t s = 0; s < ds->nsources; s++)
        if (strlen(ds->source_names[s]) == a->weight_len[i] &&
            !strncmp(ds->source_names[s], a->weight_name[i], a->weight_len[i]))
            return (int)s;
    char names[512] = "";
    size_t used = 0;
    for (size_t s = 0; s < ds->nsources && used < sizeof names; s++)
        used += (size_t)snprintf(names + used, sizeof names - used, "%s%s", s ? ", " : "",
                                 ds->source_names[s]);
    return bs_error("--weight-source %.*s: no source of that name in the data (its sources: %s)",
                    (int)a->weight_len[i], a->weight_name[i], names);
}

/* The training rows: NULL (every row once) without --weight-source, else each row repeated
 * its source's weight (bs_pipeline_weighted_rows says why repeats). */
static int weighted_rows(const train_args *a, const train_data *t, int64_t **rows, int64_t *m) {
    *rows = NULL;
    *m = (int64_t)t->n;
    if (a->nweights == 0) return 0;
    int32_t *per_source = bs_malloc(sizeof(int32_t) * (t->ds.nsources ? t->ds.nsources : 1));
    int32_t *w = bs_malloc(sizeof(int32_t) * (t->n ? t->n : 1));
    int rc = per_source && w ? 0 : -1;
    for (size_t s = 0; s < t->ds.nsources && rc == 0; s++) per_source[s] = 1;
    for (int i = 0; i < a->nweights && rc == 0; i++) {
        int s = weight_source(a, &t->ds, i);
        if (s < 0)
            rc = -1;
        else {
            per_source[s] = a->weight[i];
            size_t images = 0;
            for (size_t k = 0; k < t->ds.n; k++) images += t->ds.samples[k].source == s;
            fprintf(stderr, "train: %zu images of source %s count %d times\n", images,
                    t->ds.source_names[s], (int)a->weight[i]);
        }
    }
    for (size_t r = 0; r < t->n && rc == 0; r++)
        w[r] = per_source[t->ds.samples[t->image[r]].source];
    if (rc == 0) rc = bs_pipeline_weighted_rows(w, (int64_t)t->n, rows, m);
    free(per_source);
    free(w);
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
    fo.instance = t->image;
    int rc = bs_pipeline_set_provenance(&p, &t->ds, &a->xc.opt.augment, cli->seed, t->info,
                                        a->xc.models, t->order, a->xc.nmodels);
    p.cells = t->cells;
    int64_t *rows = NULL, m = 0;
    if (rc == 0) rc = weighted_rows(a, t, &rows, &m);
    if (rc == 0)
        rc = bs_pipeline_fit(&p, bs_matrix_of(t->x, (int64_t)t->n, t->width), t->labels, t->group,
                             rows, m, &fo);
    free(rows);
    if (rc == 0) rc = bs_pipeline_save(&p, a->out);
    if (rc == 0) {
        bs_svm_parts parts;
        bs_svm_get_parts(p.svm, &parts);
        fprintf(stderr,
                "train: %lld rows x %lld features -> %s -> SVM (%lld support vectors, kernel "
                "scale %.4g) in %.1f s -> %s\n",
                (long long)m, (long long)t->width, p.ae ? "autoencoder" : "no autoencoder",
                (long long)parts.n_sv, parts.kernel_scale, bs_now() - t0, a->out);
        log_mil(&p.mil);
    }
    bs_pipeline_free(&p);
    return rc;
}

int bs_cmd_train(int argc, char **argv, const bs_cli *cli) {
    double t0 = bs_now();
    train_args a = {.latent = 0.25};
    bs_cli_data_init(&a.data);
    bs_cli_extract_init(&a.xc, AUGMENT_DEFAULT);
    bs_pipeline_fit_options_init(&a.fo);
    int rc = parse_args(argc, argv, &a);
    a.xc.opt.seed = cli->seed;
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
