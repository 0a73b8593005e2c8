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

#ifndef BLASTSCAN_VERSION
#define BLASTSCAN_VERSION "unknown"
#endif

static void usage(FILE *fp) {
    fprintf(
        fp,
        "Usage: blastscan train --data D [--data ...] [--positive C,...] [--backbone M.onnx ...]\n"
        "                       [--augment none|flip] [--latent F|none] [--epochs N]\n"
        "                       [--kernel-scale auto|S] [--calibration-folds K]\n"
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
        "  --out FILE       the pipeline file to write\n");
}

enum {
    OPT_LATENT = 5001,
    OPT_EPOCHS,
    OPT_KSCALE,
    OPT_CALIB,
    OPT_OUT
};

typedef struct {
    const char *s;
    size_t i;
} str_idx;
static int cmp_str_idx(const void *a, const void *b) {
    const str_idx *x = a, *y = b;
    int c = strcmp(x->s, y->s);
    return c ? c : (x->i > y->i) - (x->i < y->i);
}

/* Per sample: dense ids of equal strings (group names or class names). Returns the count. */
static int64_t dense_ids(const bs_dataset *ds, int classes, int64_t *ids) {
    str_idx *v = bs_calloc(ds->n ? ds->n : 1, sizeof *v);
    if (!v)
        return -1;
    for (size_t i = 0; i < ds->n; i++)
        v[i] = (str_idx){classes ? ds->samples[i].class_name : ds->samples[i].group, i};
    qsort(v, ds->n, sizeof *v, cmp_str_idx);
    int64_t next = -1;
    for (size_t i = 0; i < ds->n; i++) {
        if (i == 0 || strcmp(v[i].s, v[i - 1].s) != 0)
            next++;
        ids[v[i].i] = next;
    }
    free(v);
    return next + 1;
}

static int fill_provenance(bs_pipeline *p, const bs_dataset *ds, int augment, uint64_t seed,
                           const bs_backbone_info *info, const char **paths, const size_t *order,
                           size_t nb) {
    snprintf(p->version, sizeof p->version, "%s", BLASTSCAN_VERSION);
    p->seed = seed;
    p->augment = augment;
    int nviews = augment ? 3 : 1;
    p->n_images = (int64_t)ds->n;
    p->n_rows = (int64_t)ds->n * nviews;
    snprintf(p->label_names[0], sizeof p->label_names[0], "healthy");
    snprintf(p->label_names[1], sizeof p->label_names[1], "ALL");
    for (size_t i = 0; i < ds->n; i++) {
        p->images_per_label[ds->samples[i].label ? 1 : 0]++;
        p->rows_per_label[ds->samples[i].label ? 1 : 0] += nviews;
    }
    int64_t *cls = bs_calloc(ds->n ? ds->n : 1, sizeof *cls);
    int64_t ncls = cls ? dense_ids(ds, 1, cls) : -1;
    if (ncls < 0) {
        free(cls);
        return -1;
    }
    p->classes = bs_calloc((size_t)(ncls ? ncls : 1), sizeof *p->classes);
    if (!p->classes) {
        free(cls);
        return -1;
    }
    p->n_classes = (size_t)ncls;
    for (size_t i = 0; i < ds->n; i++) {
        bs_pipeline_class *c = &p->classes[cls[i]];
        if (c->images == 0) {
            if (strlen(ds->samples[i].class_name) > BS_PIPELINE_NAME_MAX) {
                free(cls);
                return bs_error("class name '%.40s...' is too long", ds->samples[i].class_name);
            }
            snprintf(c->name, sizeof c->name, "%s", ds->samples[i].class_name);
            c->label = ds->samples[i].label;
        }
        c->images++;
    }
    free(cls);
    p->backbones = bs_calloc(nb, sizeof *p->backbones);
    if (!p->backbones)
        return -1;
    p->n_backbones = nb;
    for (size_t k = 0; k < nb; k++) {
        const bs_backbone_info *in = &info[order[k]];
        bs_pipeline_backbone *b = &p->backbones[k];
        const char *base = strrchr(paths[order[k]], '/');
        base = base ? base + 1 : paths[order[k]];
        if (strlen(base) > BS_PIPELINE_NAME_MAX)
            return bs_error("%s: file name too long", paths[order[k]]);
        snprintf(b->name, sizeof b->name, "%s", in->name);
        snprintf(b->file, sizeof b->file, "%s", base);
        memcpy(b->sha256, in->sha256, sizeof b->sha256);
        b->input_size = in->input_size;
        snprintf(b->tap, sizeof b->tap, "%s", in->tap);
        b->dim = in->dim;
    }
    return 0;
}

int bs_cmd_train(int argc, char **argv, const bs_cli *cli) {
    static const struct option opts[] = {BS_DATA_LONG_OPTIONS,
                                         BS_EXTRACT_LONG_OPTIONS,
                                         {"latent", required_argument, 0, OPT_LATENT},
                                         {"epochs", required_argument, 0, OPT_EPOCHS},
                                         {"kernel-scale", required_argument, 0, OPT_KSCALE},
                                         {"calibration-folds", required_argument, 0, OPT_CALIB},
                                         {"out", required_argument, 0, OPT_OUT},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    double t0 = bs_now();
    bs_cli_data data;
    bs_cli_data_init(&data);
    bs_cli_extract xc;
    bs_cli_extract_init(&xc, 1);
    bs_extract_options xo;
    bs_pipeline_fit_options fo;
    bs_pipeline_fit_options_init(&fo);
    int c, rc = BS_EXIT_USAGE;
    double latent = 0.25;
    long v;
    const char *out = NULL;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        int d = bs_cli_data_option(&data, "train", c, optarg);
        if (d < 0)
            d = bs_cli_extract_option(&xc, "train", c, optarg);
        if (d > 0)
            goto done;
        if (d == 0)
            continue;
        switch (c) {
        case OPT_LATENT:
            if (!strcmp(optarg, "none"))
                latent = 0;
            else if (bs_cli_parse_double("train", "--latent", optarg, &latent))
                goto done;
            else if (!(latent > 0 && latent <= 4)) {
                bs_cli_usage("train", "--latent expects a fraction in (0, 4] or none");
                goto done;
            }
            break;
        case OPT_EPOCHS:
            if (bs_cli_parse_int("train", "--epochs", optarg, 0, 1000000, &v))
                goto done;
            fo.ae.max_epochs = (int)v;
            break;
        case OPT_KSCALE:
            if (!strcmp(optarg, "auto"))
                fo.svm.kernel_scale = 0;
            else if (bs_cli_parse_double("train", "--kernel-scale", optarg, &fo.svm.kernel_scale))
                goto done;
            else if (!(fo.svm.kernel_scale > 0) || !isfinite(fo.svm.kernel_scale)) {
                bs_cli_usage("train", "--kernel-scale must be auto or a positive number");
                goto done;
            }
            break;
        case OPT_CALIB:
            if (bs_cli_parse_int("train", "--calibration-folds", optarg, 2, 100, &v))
                goto done;
            fo.calibration_folds = (int)v;
            break;
        case OPT_OUT:
            out = optarg;
            break;
        case 'h':
            usage(stdout);
            rc = BS_EXIT_OK;
            goto done;
        default:
            bs_cli_usage("train", "unknown option");
            goto done;
        }
    }
    if (optind != argc) {
        bs_cli_usage("train", "unexpected argument '%s'", argv[optind]);
        goto done;
    }
    if (!data.nsources || !out) {
        bs_cli_usage("train", "--data and --out are required");
        goto done;
    }
    if ((rc = bs_cli_extract_finish(&xc, "train")) != 0)
        goto done;
    rc = BS_EXIT_FAIL;
    xo = xc.opt;
    const char **models = xc.models;
    size_t nmodels = xc.nmodels;
    bs_backbone_spec *specs = bs_cli_extract_specs(&xc);
    bs_backbone_info *info = bs_calloc(nmodels, sizeof *info);
    size_t *order = bs_calloc(nmodels, sizeof *order);
    char tmpl[4096];
    const char *tmp = getenv("TMPDIR");
    snprintf(tmpl, sizeof tmpl, "%s/blastscan-train-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    char *featdir = NULL;
    float *x = NULL;
    int32_t *labels = NULL;
    int64_t *group = NULL, *sample_group = NULL;
    bs_pipeline p;
    memset(&p, 0, sizeof p);
    bs_dataset ds = {0};
    int ds_open = 0, ok = 0;
    xo.info = info;
    if (!specs || !info || !order)
        goto fail;
    if (bs_cli_data_open(&data, 0, cli->seed, &ds))
        goto fail;
    ds_open = 1;
    fprintf(stderr, "train: %zu images (%zu ALL, %zu healthy), %zu backbone%s, augment %s\n", ds.n,
            bs_dataset_count_label(&ds, 1), bs_dataset_count_label(&ds, 0), nmodels,
            nmodels > 1 ? "s" : "", xo.augment ? "flip" : "none");
    if (!(featdir = mkdtemp(tmpl))) {
        bs_error("cannot create a temporary folder %s", tmpl);
        goto fail;
    }
    bs_extract_stats st;
    if (bs_extract(&ds, specs, nmodels, &xo, featdir, &st))
        goto fail;
    fprintf(stderr, "train: features of %zu rows in %.1f s (%zu computed, %zu from cache)\n",
            st.rows, st.seconds, st.computed, st.cached);
    /* Fused in feature-set name order, as the study does. */
    int64_t width = 0;
    if (bs_pipeline_read_features(featdir, info, nmodels, st.rows, order, &x, &width))
        goto fail;
    const size_t n = st.rows, nviews = xo.augment ? 3 : 1;
    labels = bs_malloc(sizeof(int32_t) * (n ? n : 1));
    group = bs_malloc(sizeof(int64_t) * (n ? n : 1));
    sample_group = bs_malloc(sizeof(int64_t) * (ds.n ? ds.n : 1));
    if (!labels || !group || !sample_group || dense_ids(&ds, 0, sample_group) < 0)
        goto fail;
    for (size_t r = 0; r < n; r++) {
        labels[r] = ds.samples[r / nviews].label; /* rows are sample-major, views minor */
        group[r] = sample_group[r / nviews];
    }
    bs_rmtree(featdir);
    featdir = NULL;

    fo.hidden = latent > 0 ? (int64_t)llround(latent * (double)width) : 0;
    if (latent > 0 && fo.hidden < 1)
        fo.hidden = 1;
    bs_pipeline_fit_options_seed(&fo, cli->seed);
    fo.ae.progress = 1;
    fo.verbose = 1;
    p.latent_fraction = latent;
    p.epochs = latent > 0 ? fo.ae.max_epochs : 0;
    p.kernel_scale_option = fo.svm.kernel_scale;
    if (fill_provenance(&p, &ds, xo.augment, cli->seed, info, models, order, nmodels))
        goto fail;
    p.n_features = width;
    if (bs_pipeline_fit(&p, x, (int64_t)n, width, labels, group, NULL, (int64_t)n, &fo))
        goto fail;
    if (bs_pipeline_save(&p, out))
        goto fail;
    bs_svm_parts parts;
    bs_svm_get_parts(p.svm, &parts);
    fprintf(stderr,
            "train: %lld rows x %lld features -> %s -> SVM (%lld support vectors, kernel scale "
            "%.4g) in %.1f s -> %s\n",
            (long long)n, (long long)width, p.ae ? "autoencoder" : "no autoencoder",
            (long long)parts.n_sv, parts.kernel_scale, bs_now() - t0, out);
    ok = 1;
fail:
    if (!ok)
        rc = bs_cli_fail("train");
    else
        rc = BS_EXIT_OK;
    if (featdir)
        bs_rmtree(featdir);
    free(order);
    free(info);
    free(specs);
    free(x);
    free(labels);
    free(group);
    free(sample_group);
    bs_pipeline_free(&p);
    if (ds_open)
        bs_dataset_free(&ds);
done:
    bs_cli_extract_free(&xc);
    bs_cli_data_free(&data);
    return rc;
}
