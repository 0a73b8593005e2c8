/* cmd_predict.c — `blastscan predict`: apply a pipeline file to images and folders of images:
 * class, SVM decision, calibrated probability and out-of-distribution flag per image. The class
 * shown is gated: "unknown" for an out-of-distribution image, "uncertain" under --abstain. */
#define _GNU_SOURCE
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "cli_files.h"
#include "cli_options.h"
#include "core/csv.h"
#include "core/error.h"
#include "core/io.h"
#include "core/json.h"
#include "core/progress.h"
#include "image/image.h"
#include "pipeline/explain.h"
#include "pipeline/pipeline.h"

/* predict's own option codes, then the command: its --help, its options in --help order
 * (cli_options.h) */
enum {
    OPT_MODEL = BS_CLI_OWN_CODES,
    OPT_BACKBONE_DIR,
    OPT_FORMAT,
    OPT_BATCH,
    OPT_ABSTAIN,
    OPT_NO_OOD_GATE,
    OPT_EXPLAIN,
    OPT_EXPLAIN_GRID,
    OPT_EXPLAIN_PATCH,
    OPT_ADAPT
};

static const bs_cli_command predict_command = {
    .name = "predict",
    .before =
        "Usage: blastscan predict --model MODEL.blastscan [--backbone-dir DIR]\n"
        "                         [--format table|json|csv] [--batch N] [--abstain P]\n"
        "                         [--no-ood-gate] [--adapt none|prior]\n"
        "                         [--explain OUTDIR [--explain-grid G] [--explain-patch F]]\n"
        "                         IMAGE|DIR ...\n\n"
        "Classify images with a pipeline written by `blastscan train`. A folder is searched\n"
        "recursively for .jpg .jpeg .tif .tiff .png .bmp files (in name order). Per image: the\n"
        "predicted class, the SVM decision value (> 0: ALL), the calibrated probability of ALL\n"
        "(Platt scaling fitted at train time) and out_of_distribution: the autoencoder's\n"
        "reconstruction error is above the threshold set from the training images, so the\n"
        "image is unlike anything the model was trained on and its class means little.\n\n"
        "The class shown is gated: an out-of-distribution image is \"unknown\" (like an\n"
        "analyser's unidentified cell), and with --abstain P an image whose probability lies\n"
        "in [P, 1 - P] is \"uncertain\". The decision, probability and label (the SVM's own\n"
        "call, 1 = ALL) are always given.\n\n",
    .options =
        (const bs_cli_option[]){
            {OPT_MODEL, "model", "FILE", "the pipeline file"},
            {OPT_BACKBONE_DIR, "backbone-dir", "D",
             "where the pipeline's ONNX backbones are, by their recorded file\n"
             "names; each is verified by sha256 (default: the assets' models/)"},
            {OPT_FORMAT, "format", "F", "table (default), json (one object per line) or csv"},
            {OPT_BATCH, "batch", "N", "images per network run (default 8)"},
            {OPT_ABSTAIN, "abstain", "P",
             "0 < P < 0.5: class \"uncertain\" when P <= probability <= 1 - P\n"
             "(a study's report shows how many images a P sets aside)"},
            {OPT_NO_OOD_GATE, "no-ood-gate", NULL,
             "show the SVM's class for out-of-distribution images too"},
            {OPT_ADAPT, "adapt", "M",
             "none (default) or prior: re-estimate the share of ALL among the\n"
             "images given by EM from their probabilities (Saerens et al. 2002),\n"
             "starting from the model's training prior, and move every\n"
             "probability, decision and label by the change of prior odds; the\n"
             "results are printed once every image is classified. Needs a model\n"
             "trained since the prior is recorded (docs/cells.md)"},
            {OPT_EXPLAIN, "explain", "OUTDIR",
             "also write, per image, an occlusion-sensitivity map of the SVM\n"
             "decision: a patch of the image's mean colour slid over a GxG grid,\n"
             "the decision's drop at each position. OUTDIR/NAME.png overlays it\n"
             "on the image (red: the region pushed towards ALL, blue: towards\n"
             "healthy); OUTDIR/NAME.npy is the raw GxG map (docs/explain.md).\n"
             "Costs G*G+1 forward passes per image."},
            {OPT_EXPLAIN_GRID, "explain-grid", "G",
             "positions per side (default 7: 50 passes per image)"},
            {OPT_EXPLAIN_PATCH, "explain-patch", "F",
             "patch side as a fraction of the image side (default 0.25)"},
            {0},
        },
    .after = "Exit status 1 if the model cannot be loaded or any image cannot be read (the others\n"
             "are still classified).\n",
};

enum { FMT_TABLE, FMT_JSON, FMT_CSV };

/* --explain: occlusion maps written beside each other in one folder, one file stem per image
 * (a repeated stem gets -2, -3, ...). */
typedef struct {
    const char *dir; /* NULL: no maps */
    bs_explain_options opt;
    bs_cli_list used;
    size_t images;
    double seconds;
} explainer;

static char *unique_stem(explainer *e, const char *path) {
    char *stem = bs_path_stem(path);
    for (int k = 2; stem; k++) {
        int taken = 0;
        for (size_t i = 0; i < e->used.n && !taken; i++) taken = !strcmp(e->used.v[i], stem);
        if (!taken) return bs_cli_list_add(&e->used, stem) ? (free(stem), NULL) : stem;
        free(stem);
        char *base = bs_path_stem(path);
        stem = base ? bs_strfmt("%s-%d", base, k) : NULL;
        free(base);
    }
    return NULL;
}

static int explain_one(explainer *e, const bs_pipeline *p, bs_pipeline_runtime *rt,
                       const bs_image *img, const char *path) {
    double t0 = bs_now();
    char *stem = unique_stem(e, path);
    char *png = stem ? bs_strfmt("%s/%s.png", e->dir, stem) : NULL;
    char *npy = stem ? bs_strfmt("%s/%s.npy", e->dir, stem) : NULL;
    bs_explain_map m = {0};
    int rc = png && npy ? bs_pipeline_explain(p, rt, img, &e->opt, &m) : -1;
    if (rc == 0) rc = bs_explain_write(img, &m, png, npy);
    if (rc) bs_error_prefix("%s: occlusion map: ", path);
    bs_explain_map_free(&m);
    free(stem);
    free(png);
    free(npy);
    e->images += rc == 0;
    e->seconds += bs_now() - t0;
    return rc;
}

/* How a result's class is shown. */
typedef struct {
    double abstain; /* 0: never "uncertain" */
    int ood_gate;   /* 1: "unknown" when out of distribution */
} gate;

/* The out-of-distribution gate comes first: an image unlike the training data gets no class,
 * however confident its probability. */
static const char *shown_class(const bs_pipeline *p, const bs_pipeline_result *r, const gate *g) {
    if (g->ood_gate && p->ood.available && r->ood) return "unknown";
    if (g->abstain > 0 && r->probability >= g->abstain && r->probability <= 1 - g->abstain)
        return "uncertain";
    return p->label_names[r->label ? 1 : 0];
}

static void print_header(int fmt) {
    if (fmt == FMT_CSV)
        printf("path,class,label,decision,probability,reconstruction_error,out_of_distribution\n");
    else if (fmt == FMT_TABLE)
        printf("%-9s %10s %11s %6s  %s\n", "class", "decision", "probability", "ood", "path");
}

static void print_result(int fmt, const bs_pipeline *p, const char *path,
                         const bs_pipeline_result *r, const gate *g) {
    const char *cls = shown_class(p, r, g);
    if (fmt == FMT_JSON) {
        bs_json_writer w; /* one JSON Lines record */
        bs_json_writer_init(&w, stdout);
        bs_json_begin_object(&w, NULL, BS_JSON_INLINE);
        bs_json_put_string(&w, "path", path);
        bs_json_put_string(&w, "class", cls);
        bs_json_put_int(&w, "label", r->label);
        bs_json_put_number(&w, "decision", r->decision);
        bs_json_put_number(&w, "probability", r->probability);
        bs_json_put_number(&w, "reconstruction_error", r->recon_error);
        bs_json_put_number(&w, "ood_threshold", p->ood.available ? p->ood.threshold : NAN);
        if (p->ood.available)
            bs_json_put_bool(&w, "out_of_distribution", r->ood);
        else
            bs_json_put_null(&w, "out_of_distribution");
        bs_json_end(&w);
        bs_json_finish(&w);
    } else if (fmt == FMT_CSV) {
        bs_csv_put_field(stdout, path); /* quoted when it holds , " or a newline (RFC 4180) */
        printf(",%s,%d,%.17g,%.17g,", cls, r->label, r->decision, r->probability);
        if (p->ood.available)
            printf("%.17g,%d\n", r->recon_error, r->ood);
        else
            printf(",\n");
    } else {
        printf("%-9s %10.4f %11.4f %6s  %s\n", cls, r->decision, r->probability,
               p->ood.available ? (r->ood ? "OOD" : "-") : "n/a", path);
    }
}

typedef struct {
    const char *model, *bdir;
    int fmt;
    long batch;
    gate g;
    explainer ex; /* ex.dir NULL: no occlusion maps */
    int adapt;    /* 1: --adapt prior */
} predict_options;

/* --adapt prior: every result kept until the whole batch is classified. */
typedef struct {
    char **names;
    bs_pipeline_result *res;
    size_t n, cap;
} kept_results;

static int keep_result(kept_results *k, const char *name, const bs_pipeline_result *r) {
    if (k->n == k->cap) {
        size_t cap = k->cap ? 2 * k->cap : 64;
        char **names = realloc(k->names, cap * sizeof *names);
        if (names) k->names = names;
        bs_pipeline_result *res = names ? realloc(k->res, cap * sizeof *res) : NULL;
        if (!res) return bs_error("out of memory keeping %zu results", k->n);
        k->res = res;
        k->cap = cap;
    }
    if (!(k->names[k->n] = strdup(name))) return bs_error("out of memory");
    k->res[k->n++] = *r;
    return 0;
}

static void kept_free(kept_results *k) {
    for (size_t i = 0; i < k->n; i++) free(k->names[i]);
    free(k->names);
    free(k->res);
}

/* The batch adapted by prior, said on stderr, then printed. */
static int adapt_and_print(const bs_pipeline *p, kept_results *k, const predict_options *o) {
    bs_pipeline_adaptation ad;
    if (bs_pipeline_adapt_prior(p, k->res, (int64_t)k->n, &ad)) return -1;
    fprintf(stderr,
            "predict: --adapt prior: the batch's prior of %s is %.4f (the model's training "
            "prior %.4f; %d EM rounds): decision threshold %+.4f, %lld of %lld images %s "
            "(%lld before)\n",
            p->label_names[1], ad.batch_prior, ad.train_prior, ad.rounds, ad.threshold,
            (long long)ad.positives_after, (long long)ad.n, p->label_names[1],
            (long long)ad.positives_before);
    for (size_t i = 0; i < k->n; i++) print_result(o->fmt, p, k->names[i], &k->res[i], &o->g);
    return 0;
}

/* -1: go on; otherwise the exit status (help printed or usage error). */
static int parse_options(int argc, char **argv, predict_options *o) {
    *o = (predict_options){NULL, NULL, FMT_TABLE, 8, {0, 1}, {0}, 0};
    bs_explain_options_init(&o->ex.opt);
    long grid = 0;
    int c;
    bs_cli_parser p;
    bs_cli_parser_init(&p, &predict_command);
    while ((c = bs_cli_next(&p, argc, argv)) >= 0) {
        const char *arg = p.arg;
        switch (c) {
            case OPT_MODEL: o->model = arg; break;
            case OPT_BACKBONE_DIR: o->bdir = arg; break;
            case OPT_FORMAT:
                if (!strcmp(arg, "table"))
                    o->fmt = FMT_TABLE;
                else if (!strcmp(arg, "json"))
                    o->fmt = FMT_JSON;
                else if (!strcmp(arg, "csv"))
                    o->fmt = FMT_CSV;
                else
                    return bs_cli_usage("predict", "--format must be table, json or csv");
                break;
            case OPT_BATCH:
                if (bs_cli_parse_int("predict", "--batch", arg, 1, 256, &o->batch))
                    return BS_EXIT_USAGE;
                break;
            case OPT_ABSTAIN:
                if (bs_cli_parse_double("predict", "--abstain", arg, &o->g.abstain))
                    return BS_EXIT_USAGE;
                if (!(o->g.abstain > 0 && o->g.abstain < 0.5))
                    return bs_cli_usage("predict", "--abstain must lie strictly between 0 and 0.5");
                break;
            case OPT_NO_OOD_GATE: o->g.ood_gate = 0; break;
            case OPT_ADAPT:
                if (strcmp(arg, "none") && strcmp(arg, "prior"))
                    return bs_cli_usage("predict", "--adapt must be none or prior (CORAL is "
                                                   "not offered: it pulls a one-class batch "
                                                   "towards the training mix, docs/cells.md)");
                o->adapt = !strcmp(arg, "prior");
                break;
            case OPT_EXPLAIN: o->ex.dir = arg; break;
            case OPT_EXPLAIN_GRID:
                if (bs_cli_parse_int("predict", "--explain-grid", arg, 1, BS_EXPLAIN_MAX_GRID,
                                     &grid))
                    return BS_EXIT_USAGE;
                o->ex.opt.grid = (int)grid;
                break;
            case OPT_EXPLAIN_PATCH:
                if (bs_cli_parse_double("predict", "--explain-patch", arg, &o->ex.opt.patch))
                    return BS_EXIT_USAGE;
                if (!(o->ex.opt.patch > 0 && o->ex.opt.patch <= 1))
                    return bs_cli_usage("predict", "--explain-patch must be a fraction in (0, 1]");
                break;
            default: return bs_cli_unhandled(&p, c);
        }
    }
    if (p.exit >= 0) return p.exit;
    if (!o->model) return bs_cli_usage("predict", "--model is required");
    if (optind == argc) return bs_cli_usage("predict", "no image or folder given");
    o->ex.opt.batch = (size_t)o->batch;
    return -1;
}

/* Classify every file, batch by batch, printing as it goes. An unreadable image is reported
 * and skipped (the status becomes BS_EXIT_FAIL at the end); a failure of the model stops. */
static int classify_files(const bs_pipeline *p, bs_pipeline_runtime *rt, const bs_cli_list *files,
                          predict_options *o) {
    kept_results kept_all = {0}, *kept = &kept_all;
    size_t b = (size_t)o->batch;
    bs_image *imgs = bs_calloc(b, sizeof *imgs);
    char **errors = bs_calloc(b, sizeof *errors);
    const char **names = bs_calloc(b, sizeof *names);
    float *rows = bs_malloc(sizeof(float) * b * (size_t)p->n_features);
    bs_pipeline_result *res = bs_calloc(b, sizeof *res);
    int rc = BS_EXIT_OK;
    if (!imgs || !errors || !names || !rows || !res)
        rc = bs_cli_fail("predict");
    else
        print_header(o->fmt);
    for (size_t i0 = 0; i0 < files->n && rc != BS_EXIT_FAIL; i0 += b) {
        size_t m = files->n - i0 < b ? files->n - i0 : b;
#pragma omp parallel for schedule(dynamic, 1)
        for (size_t i = 0; i < m; i++) {
            if (bs_image_load(files->v[i0 + i], &imgs[i])) errors[i] = strdup(bs_error_message());
        }
        /* the readable images of this chunk, packed */
        size_t k = 0;
        for (size_t i = 0; i < m; i++) {
            if (errors[i]) {
                fprintf(stderr, "blastscan predict: error: %s\n", errors[i]);
                free(errors[i]);
                errors[i] = NULL;
                rc = 2; /* remembered; reported as 1 at the end */
                continue;
            }
            if (k != i) {
                imgs[k] = imgs[i];
                memset(&imgs[i], 0, sizeof imgs[i]);
            }
            names[k++] = files->v[i0 + i];
        }
        if (k && bs_pipeline_runtime_classify(rt, imgs, k, b, rows, res)) {
            rc = bs_cli_fail("predict");
        }
        for (size_t i = 0; i < k && rc != BS_EXIT_FAIL; i++) {
            if (!o->adapt)
                print_result(o->fmt, p, names[i], &res[i], &o->g);
            else if (keep_result(kept, names[i], &res[i]))
                rc = bs_cli_fail("predict");
        }
        fflush(stdout);
        for (size_t i = 0; o->ex.dir && i < k && rc != BS_EXIT_FAIL; i++)
            if (explain_one(&o->ex, p, rt, &imgs[i], names[i])) {
                fprintf(stderr, "blastscan predict: error: %s\n", bs_error_message());
                rc = 2;
            }
        for (size_t i = 0; i < b; i++) bs_image_free(&imgs[i]);
    }
    /* --adapt prior: an unreadable image (rc 2) leaves the others to adapt and print */
    if (o->adapt && rc != BS_EXIT_FAIL && adapt_and_print(p, kept, o)) rc = bs_cli_fail("predict");
    kept_free(kept);
    if (o->ex.images)
        fprintf(stderr,
                "predict: occlusion maps of %zu images in %s (%dx%d grid, patch %g, %d forward "
                "passes per image, %.1f s per image)\n",
                o->ex.images, o->ex.dir, o->ex.opt.grid, o->ex.opt.grid, o->ex.opt.patch,
                o->ex.opt.grid * o->ex.opt.grid + 1, o->ex.seconds / (double)o->ex.images);
    free(imgs);
    free(errors);
    free(names);
    free(rows);
    free(res);
    return rc == 2 ? BS_EXIT_FAIL : rc;
}

int bs_cmd_predict(int argc, char **argv, const bs_cli *cli) {
    (void)cli;
    predict_options o;
    int rc = parse_options(argc, argv, &o);
    if (rc >= 0) return rc;
    bs_cli_list files = {0};
    rc = BS_EXIT_OK;
    if (o.ex.dir && bs_mkdir_p(o.ex.dir)) rc = bs_cli_fail("predict");
    if (rc == BS_EXIT_OK && bs_cli_image_files(argc - optind, argv + optind, &files))
        rc = bs_cli_fail("predict");
    bs_pipeline p;
    char *default_dir = o.bdir ? NULL : bs_path_join(bs_cli_assets(), "models");
    bs_pipeline_runtime *rt = NULL;
    if (rc == BS_EXIT_OK && bs_pipeline_load(o.model, &p)) {
        rc = bs_cli_fail("predict");
    } else if (rc == BS_EXIT_OK && o.adapt && !(p.train_prior > 0)) {
        bs_error("%s: the model records no training class prior (trained before prior "
                 "adaptation): retrain it to use --adapt prior",
                 o.model);
        rc = bs_cli_fail("predict");
        bs_pipeline_free(&p);
    } else if (rc == BS_EXIT_OK) {
        if (p.cells.present) /* a smear field given to a cell model gets a meaningless call */
            fprintf(stderr,
                    "predict: %s is a cell model (trained on crops of single white cells, "
                    "colours %s): it classifies each image as one cell; for smear fields use "
                    "`blastscan cells --model`\n",
                    o.model, p.cells.normalised ? "normalised per field" : "as photographed");
        if (!(rt = bs_pipeline_runtime_open(&p, o.bdir ? o.bdir : default_dir)))
            rc = bs_cli_fail("predict");
        else
            rc = classify_files(&p, rt, &files, &o);
        bs_pipeline_runtime_free(rt);
        bs_pipeline_free(&p);
    }
    free(default_dir);
    bs_cli_list_free(&files);
    bs_cli_list_free(&o.ex.used);
    return rc;
}
