/* cmd_cells.c — `blastscan cells`: field mode. Parses the options, and per image has the field
 * stage analyse it (field.h: every white cell found, and with a pipeline file classified, the
 * blasts counted with a Wilson interval and a call), prints the result, draws overlays and
 * compares with annotations (eval/truth.h); `--review` hands each field to the review page
 * (report/review.h). `--crops` has the field stage write a cell dataset
 * (bs_field_write_crop_dataset). Not for: any of that work itself. */
#define _GNU_SOURCE
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_data.h"
#include "cli_files.h"
#include "cli_options.h"
#include "core/csv.h"
#include "core/error.h"
#include "core/io.h"
#include "core/json.h"
#include "core/log.h"
#include "dataset/dataset.h"
#include "detect/detect.h"
#include "eval/truth.h"
#include "field/field.h"
#include "image/image.h"
#include "pipeline/pipeline.h"
#include "report/review.h"

enum {
    OPT_MODEL = BS_CLI_OWN_CODES,
    OPT_BDIR,
    OPT_FORMAT,
    OPT_OVERLAY,
    OPT_TRUTH,
    OPT_EVALUATION,
    OPT_CELL_SIZE,
    OPT_BATCH,
    OPT_MIN_P,
    OPT_MIN_BLASTS,
    OPT_NO_NORM,
    OPT_CROPS,
    OPT_CROP_FORMAT,
    OPT_SAMPLE,
    OPT_BOXES,
    OPT_LABEL,
    OPT_CLASS,
    OPT_OUT,
    OPT_REVIEW,
    OPT_ADAPT
};

static const bs_cli_command cells_command = {
    .name = "cells",
    .before =
        "Usage: blastscan cells [options] IMAGE|DIR ...\n"
        "       blastscan cells --crops OUTDIR --data D [--data D ...] [options]\n"
        "       blastscan cells --crops OUTDIR --boxes FILE|DIR [--label L --class C]\n\n"
        "Field mode: find every white cell (leukocyte) of a blood-smear field, at any\n"
        "magnification, and with --model classify each one and count the blasts. A folder is\n"
        "searched recursively for .jpg .jpeg .tif .tiff .png .bmp files (in name order).\n"
        "Per image: white_cells, blasts (cells of the model's positive class), blast_percent\n"
        "with a 95 % Wilson interval, and a call: 'ALL suspected' when at least --min-blasts\n"
        "cells are confident blasts (positive class, probability >= --min-probability, not out\n"
        "of distribution), else 'no confident blast' ('no white cells' when none was found).\n"
        "Each cell is cut as a square of 1.25 x its box's larger side (reflected at the\n"
        "borders) from the field with its colour normalised (docs/cells.md), and resized to the\n"
        "backbone's input: a cell fills the same share of the network's view on any "
        "microscope.\n\n",
    .options =
        (const bs_cli_option[]){
            {OPT_MODEL, "model", "FILE",
             "a pipeline file (`blastscan train`, best trained on --crops output);\n"
             "without it: detection only"},
            {OPT_BDIR, "backbone-dir", "D",
             "where the pipeline's ONNX backbones are (default: assets' models/)"},
            {OPT_FORMAT, "format", "F",
             "table (default: one line per image), json (one object per image\n"
             "and line, with a \"cells\" array) or csv (one row per cell:\n"
             "path,cell,x,y,x0,y0,x1,y1,area,edge,class,decision,probability,\n"
             "out_of_distribution; boxes half-open, x0 <= x < x1), geojson\n"
             "(--out DIR: DIR/STEM.geojson per image, a FeatureCollection as\n"
             "QuPath imports it: a detection per cell, its box a Polygon, with\n"
             "class, probability and measurements) or coco (--out FILE: COCO\n"
             "detection JSON for the batch: a category per class, an annotation\n"
             "per cell with bbox and score)"},
            {OPT_OUT, "out", "PATH", "where --format geojson (a folder) or coco (a file) writes"},
            {OPT_OVERLAY, "overlay", "OUTDIR",
             "a PNG per image (OUTDIR/STEM.png) with every cell boxed: yellow\n"
             "without a model, else red blast, green other, grey out of\n"
             "distribution, labelled with the probability of a blast"},
            {OPT_TRUTH, "truth", "FILE",
             "compare with annotations and print detection precision/recall/F1\n"
             "(with a model also blast precision/recall and the blast-count\n"
             "error) on stderr. FILE: a boxes CSV image,class,xmin,ymin,xmax,ymax\n"
             "(only white-cell classes count: WBC, leukocyte, lymphocyte,\n"
             "monocyte, neutrophil, eosinophil, basophil, blast...; RBC and\n"
             "platelet rows are ignored), a points CSV image,x,y[,class], the\n"
             "word xyc for ALL-IDB's STEM.xyc blast centroids beside each image\n"
             "or in a sibling xyc/ folder (ALL-IDB1: im/STEM.jpg, xyc/STEM.xyc),\n"
             "a folder of YOLO label files STEM.txt (class cx cy w h, fractions\n"
             "of the image; class names from classes.txt there or one folder up)\n"
             "or of Pascal VOC STEM.xml files, or one VOC .xml file. A CSV's\n"
             "`image` is relative to the CSV's folder, absolute, or a bare file\n"
             "name; a YOLO or VOC file names the images of its stem. Matching is one-to-one: a "
             "detection matches a box when each\n"
             "one's centre lies inside the other, a point when it lies in the box"},
            {OPT_EVALUATION, "evaluation", "F", "write the comparison as JSON (needs --truth)"},
            {OPT_REVIEW, "review", "OUT.html",
             "one self-contained page (opens from disk, fetches nothing) to\n"
             "review every cell: thumbnails of the crops the model sees, the\n"
             "cells that most need a look first, one key per class (blast,\n"
             "non-blast, artefact, unsure), live counts; exports the corrections\n"
             "(a boxes CSV for --crops --boxes) and the counts (docs/review.md)"},
            {OPT_CELL_SIZE, "cell-size", "PX",
             "white-cell diameter in pixels (default: estimated per image)"},
            {OPT_BATCH, "batch", "N", "cells per network run (default 8)"},
            {OPT_MIN_P, "min-probability", "P",
             "a blast is confident from this probability (default 0.9)"},
            {OPT_MIN_BLASTS, "min-blasts", "N",
             "confident blasts that make a field 'ALL suspected' (default 1)"},
            {OPT_ADAPT, "adapt", "M",
             "none (default) or prior: re-estimate the share of blasts among\n"
             "all the cells of the fields given, by EM from their probabilities\n"
             "(Saerens et al. 2002), starting from the model's training prior,\n"
             "and move every cell's probability and call by the change of prior\n"
             "odds before the fields are called; the fields are printed once all\n"
             "are analysed. Give a batch from one lab and one stain (docs/cells.md)"},
            {OPT_NO_NORM, "no-normalise", NULL,
             "crop (or, with a model that does not record it, classify) the\n"
             "colours as photographed; a cell model records how its crops were\n"
             "made and is applied that way (against it: an error)"},
            {OPT_CROPS, "crops", "OUTDIR",
             "write every detected cell of the --data images (or every boxed\n"
             "white cell of --boxes) as OUTDIR/CLASS/NNNNN_STEM_cKKK.png and\n"
             "OUTDIR/manifest.csv: path,label,class,group,source,field,x0,y0,\n"
             "x1,y1,cell_px,red_cell_px,normalised (--data: label and class of\n"
             "the source image, i.e. weak labels; group = the field's; source\n"
             "from sources.csv image,source in the data's folder, else the\n"
             "folder's name; the box in the field; the field's white- and\n"
             "red-cell diameters in pixels); then `blastscan train --data\n"
             "OUTDIR/manifest.csv`"},
            {OPT_BOXES, "boxes", "FILE",
             "--crops: crop the annotated white cells instead of detected ones:\n"
             "a boxes CSV image,class,xmin,ymin,xmax,ymax, a folder of YOLO\n"
             "labels or VOC .xml files (as --truth reads them), or the review\n"
             "page's corrections CSV (each row's own label,class,group,source;\n"
             "rows with an empty label skipped)"},
            {OPT_LABEL, "label", "L",
             "--boxes: label of cells whose file gives none: 1|blast or\n"
             "0|non-blast"},
            {OPT_CLASS, "class", "C",
             "--boxes: class name of those cells (default blast/non-blast)"},
            {OPT_CROP_FORMAT, "crop-format", "F", "png (default) or jpeg (quality 95)"},
            {OPT_SAMPLE, "sample", "N",
             "--crops: a stratified sample of N source images (seeded; 0 = all)"},
            BS_DATA_OPTIONS,
            {0},
        },
    .after = "Exit status 1 if the model cannot be loaded or any image cannot be read (the others\n"
             "are still processed), 2 on bad usage.\n",
};

enum { FMT_TABLE, FMT_JSON, FMT_CSV, FMT_GEOJSON, FMT_COCO };

typedef struct bs_cells_opts {
    const char *model, *backbone_dir, *overlay, *truth, *evaluation, *crops, *boxes, *out, *review;
    bs_field_box_labels box_labels; /* --label, --class */
    int format;                     /* FMT_* */
    bs_detect_params detect;
    long batch;
    int normalise; /* -1: not asked (crops normalised; a model's own setting) */
    int crop_jpeg;
    long sample; /* --crops: source images kept (0 = all) */
    bs_field_rule rule;
    bs_cli_data data;
    int adapt; /* 1: --adapt prior */
} bs_cells_opts;

/* The options the field stage reads. */
static void field_options(const bs_cells_opts *o, bs_field_options *out) {
    bs_field_options_default(out);
    out->detect = o->detect;
    out->normalise = o->normalise != 0;
    out->batch = (size_t)o->batch;
    out->rule = o->rule;
}

/* Everything one run keeps between images. */
typedef struct {
    const bs_cells_opts *o;
    bs_field_options field;
    bs_pipeline p;
    bs_pipeline_runtime *rt; /* NULL: detection only */
    bs_truth truth;
    bs_truth_eval eval;
    int have_truth;
    bs_cli_list overlays; /* overlay names written, to keep them apart */
    bs_cli_list geojsons; /* likewise the GeoJSON files */
    bs_field_coco *coco;  /* --format coco: the batch's file, open */
    bs_review *review;    /* --review: the page being written; NULL without */
    int64_t images, cells, suspected, unannotated;
} run;

/* One field's results, as the printers read them. */
typedef struct {
    const char *path;
    const bs_image *img;
    const bs_cells *cells;
    const bs_pipeline_result *res; /* NULL without a model */
    const bs_field_call *calls;
    bs_field_summary sum;
} field;

/* A count or share that is only known with a model: a number (counts print as numbers, as
 * they always have: 1e+06 from a million), else null. */
static void put_known(bs_json_writer *w, const char *key, double v, int known) {
    bs_json_put_number(w, key, known ? v : NAN);
}

static void put_cell_json(bs_json_writer *w, const run *r, const field *f, int64_t i) {
    const bs_cell *c = &f->cells->cells[i];
    bs_json_begin_object(w, NULL, BS_JSON_INLINE);
    bs_json_put_int(w, "cell", i);
    bs_json_put_number(w, "x", c->x);
    bs_json_put_number(w, "y", c->y);
    bs_json_put_int(w, "x0", c->x0);
    bs_json_put_int(w, "y0", c->y0);
    bs_json_put_int(w, "x1", c->x1);
    bs_json_put_int(w, "y1", c->y1);
    bs_json_put_int(w, "area", c->nucleus_area);
    bs_json_put_bool(w, "edge", c->edge);
    if (f->res) {
        const bs_pipeline_result *res = &f->res[i];
        bs_json_put_string(w, "class", r->p.label_names[res->label ? 1 : 0]);
        bs_json_put_int(w, "label", res->label);
        bs_json_put_number(w, "decision", res->decision);
        bs_json_put_number(w, "probability", res->probability);
        bs_json_put_number(w, "reconstruction_error", res->recon_error);
        if (r->p.ood.available)
            bs_json_put_bool(w, "out_of_distribution", res->ood);
        else
            bs_json_put_null(w, "out_of_distribution");
    }
    bs_json_end(w);
}

static void print_json(const run *r, const field *f) {
    int m = f->res != NULL, any = f->sum.white_cells > 0;
    bs_json_writer w;
    bs_json_writer_init(&w, stdout);
    bs_json_begin_object(&w, NULL, BS_JSON_INLINE);
    bs_json_put_string(&w, "path", f->path);
    bs_json_put_int(&w, "width", f->img->width);
    bs_json_put_int(&w, "height", f->img->height);
    bs_json_put_number(&w, "cell_size", f->cells->cell_size);
    bs_json_put_int(&w, "white_cells", f->sum.white_cells);
    put_known(&w, "blasts", (double)f->sum.blasts, m);
    put_known(&w, "blast_percent", f->sum.blast_percent, m && any);
    if (m && any) {
        bs_json_begin_array(&w, "blast_percent_ci95", BS_JSON_INLINE);
        bs_json_put_number(&w, NULL, f->sum.blast_percent_lo);
        bs_json_put_number(&w, NULL, f->sum.blast_percent_hi);
        bs_json_end(&w);
    } else
        bs_json_put_null(&w, "blast_percent_ci95");
    put_known(&w, "confident_blasts", (double)f->sum.confident_blasts, m);
    put_known(&w, "out_of_distribution_cells", (double)f->sum.ood_cells, m && r->p.ood.available);
    if (m)
        bs_json_put_string(&w, "call", bs_field_call_name(&f->sum));
    else
        bs_json_put_null(&w, "call");
    bs_json_begin_array(&w, "cells", BS_JSON_INLINE);
    for (int64_t i = 0; i < f->cells->n; i++) put_cell_json(&w, r, f, i);
    bs_json_end(&w);
    bs_json_end(&w);
    bs_json_finish(&w);
}

static void print_csv(const run *r, const field *f) {
    for (int64_t i = 0; i < f->cells->n; i++) {
        const bs_cell *c = &f->cells->cells[i];
        bs_csv_put_field(stdout, f->path);
        printf(",%lld,%.6g,%.6g,%d,%d,%d,%d,%lld,%d,", (long long)i, c->x, c->y, c->x0, c->y0,
               c->x1, c->y1, (long long)c->nucleus_area, c->edge);
        if (f->res) {
            const bs_pipeline_result *res = &f->res[i];
            bs_csv_put_field(stdout, r->p.label_names[res->label ? 1 : 0]);
            printf(",%.17g,%.17g,", res->decision, res->probability);
            if (r->p.ood.available) printf("%d", res->ood);
            putchar('\n');
        } else
            fputs(",,,\n", stdout);
    }
}

static void print_table(const field *f) {
    if (!f->res) {
        printf("%6lld %9.1f  %s\n", (long long)f->cells->n, f->cells->cell_size, f->path);
    } else if (f->sum.white_cells == 0) {
        printf("%6d %6d %7s %15s  %-18s  %s\n", 0, 0, "-", "-", bs_field_call_name(&f->sum),
               f->path);
    } else {
        char ci[32];
        snprintf(ci, sizeof ci, "%.1f-%.1f", f->sum.blast_percent_lo, f->sum.blast_percent_hi);
        printf("%6lld %6lld %7.1f %15s  %-18s  %s\n", (long long)f->sum.white_cells,
               (long long)f->sum.blasts, f->sum.blast_percent, ci, bs_field_call_name(&f->sum),
               f->path);
    }
}

static void print_header(const bs_cells_opts *o) {
    if (o->format == FMT_CSV)
        printf("path,cell,x,y,x0,y0,x1,y1,area,edge,class,decision,probability,"
               "out_of_distribution\n");
    else if (o->format == FMT_TABLE && !o->model)
        printf("%6s %9s  %s\n", "cells", "cell_size", "path");
    else if (o->format == FMT_TABLE)
        printf("%6s %6s %7s %15s  %-18s  %s\n", "cells", "blasts", "blast%", "95% CI", "call",
               "path");
}

/* DIR/STEM.EXT, or STEM-K.EXT when another image of this run had the same stem (names: the
 * names given so far). */
static int output_path(bs_cli_list *names, const char *dir, const char *image, const char *ext,
                       char **out) {
    char *stem = bs_path_stem(image);
    if (!stem) return -1;
    char *name = bs_strfmt("%s.%s", stem, ext);
    for (int k = 2; name; k++) {
        int taken = 0;
        for (size_t i = 0; i < names->n && !taken; i++) taken = !strcmp(names->v[i], name);
        if (!taken) break;
        free(name);
        name = bs_strfmt("%s-%d.%s", stem, k, ext);
    }
    free(stem);
    int rc = name ? bs_cli_list_add(names, name) : -1;
    *out = rc ? NULL : bs_path_join(dir, name);
    free(name);
    return *out ? 0 : -1;
}

/* The model's class names for the exports, or NULL without a model. */
static const char *const *class_names(const run *r, const char *names[2]) {
    if (!r->rt) return NULL;
    names[0] = r->p.label_names[0], names[1] = r->p.label_names[1];
    return names;
}

/* --format geojson or coco: the field into its file or the batch's. */
static int export_field(run *r, const char *path, const bs_image *img, const bs_field_analysis *a) {
    const char *names[2];
    if (r->o->format == FMT_COCO)
        return bs_field_coco_add(r->coco, path, img->width, img->height, a);
    char *out;
    if (output_path(&r->geojsons, r->o->out, path, "geojson", &out)) return -1;
    int rc = bs_field_write_geojson(out, a, class_names(r, names));
    free(out);
    return rc;
}

static int compare(run *r, const char *path, const bs_image *img, const bs_field_analysis *a) {
    int found;
    if (bs_field_compare(&r->eval, &r->truth, path, img, a, &found)) return -1;
    if (!found) {
        bs_warn("%s: not in the annotations; left out of the comparison", path);
        r->unannotated++;
    }
    return 0;
}

/* Print, draw and compare one analysed image; frees the analysis. */
static int emit(run *r, const char *path, const bs_image *img, bs_field_analysis a) {
    const bs_cells_opts *o = r->o;
    char *png = NULL;
    field f = {path, img, &a.cells, a.results, a.calls, a.summary};
    if (o->format == FMT_JSON)
        print_json(r, &f);
    else if (o->format == FMT_CSV)
        print_csv(r, &f);
    else if (o->format == FMT_TABLE)
        print_table(&f);
    else if (export_field(r, path, img, &a)) {
        bs_field_analysis_free(&a);
        return -1;
    }
    fflush(stdout);
    r->images++;
    r->cells += a.cells.n;
    r->suspected += r->rt && f.sum.all_suspected;
    int rc = -1;
    if (o->overlay &&
        (output_path(&r->overlays, o->overlay, path, "png", &png) ||
         bs_field_overlay(img, a.cells.cells, a.cells.n, r->rt ? a.calls : NULL, png)))
        goto out;
    if (r->review && bs_review_add_field(r->review, path, img, &a)) goto out;
    rc = r->have_truth ? compare(r, path, img, &a) : 0;
out:
    free(png);
    bs_field_analysis_free(&a);
    return rc;
}

/* Analyse, print, draw and compare one image. */
static int process(run *r, const char *path, const bs_image *img) {
    bs_field_analysis a;
    if (bs_field_analyse(img, &r->field, r->rt, &r->p, &a)) return -1;
    return emit(r, path, img, a);
}

static void report_counts(const char *what, const bs_truth_counts *c, int precision_defined) {
    double p, rc, f1;
    bs_truth_ratios(c, &p, &rc, &f1);
    if (precision_defined)
        fprintf(stderr,
                "cells: %s: tp %lld, fp %lld, fn %lld; precision %.4f, recall %.4f, F1 %.4f\n",
                what, (long long)c->tp, (long long)c->fp, (long long)c->fn, p, rc, f1);
    else
        fprintf(stderr,
                "cells: %s: tp %lld, fn %lld; recall %.4f (precision undefined: only "
                "blasts are annotated)\n",
                what, (long long)c->tp, (long long)c->fn, rc);
}

static int finish_truth(run *r) {
    const bs_truth_eval *e = &r->eval;
    fprintf(stderr, "cells: compared %zu annotated images (%lld not annotated)\n", e->n,
            (long long)r->unannotated);
    report_counts("detection", &e->detection, e->all_white);
    if (e->knows_blasts) {
        report_counts("blasts", &e->blasts, 1);
        fprintf(stderr, "cells: blast-count mean absolute error %.3f per image\n",
                e->count_images ? e->abs_count_error / (double)e->count_images : NAN);
    }
    return r->o->evaluation ? bs_truth_eval_write_json(e, r->o->evaluation) : 0;
}

static int open_run(run *r, const bs_cells_opts *o, char **default_dir) {
    memset(r, 0, sizeof *r);
    r->o = o;
    field_options(o, &r->field);
    if (o->truth) {
        if (bs_truth_read(o->truth, &r->truth)) return -1;
        r->have_truth = 1;
        bs_truth_eval_init(&r->eval, &r->truth, o->model != NULL);
    }
    if (o->overlay && bs_mkdir_p(o->overlay)) return -1;
    if (o->format == FMT_GEOJSON && bs_mkdir_p(o->out)) return -1;
    if (o->model) {
        if (bs_pipeline_load(o->model, &r->p)) return -1;
        if (o->adapt && !(r->p.train_prior > 0))
            return bs_error("%s: the model records no training class prior (trained before "
                            "prior adaptation): retrain it to use --adapt prior",
                            o->model);
        /* a cell model says how its crops were made: crop the same way (docs/cells.md) */
        if (bs_field_resolve_normalise(&r->p, o->normalise, &r->field.normalise))
            return bs_error_prefix("%s: ", o->model);
        if (r->p.cells.present)
            fprintf(stderr, "cells: %s: cells cropped with %s colours, as the model was trained\n",
                    o->model, r->field.normalise ? "normalised" : "photographed");
        *default_dir = o->backbone_dir ? NULL : bs_path_join(bs_cli_assets(), "models");
        r->rt = bs_pipeline_runtime_open(&r->p, o->backbone_dir ? o->backbone_dir : *default_dir);
        if (!r->rt) return -1;
    }
    const char *names[2];
    if (o->format == FMT_COCO && bs_field_coco_open(&r->coco, o->out, class_names(r, names)))
        return -1;
    bs_review_setup rs = {o->model ? &r->p : NULL, o->model, o->rule, r->field.normalise};
    return o->review ? bs_review_open(o->review, &rs, &r->review) : 0;
}

static void close_run(run *r) {
    bs_review_abort(r->review); /* committed (and NULL) unless the run failed */
    bs_pipeline_runtime_free(r->rt);
    if (r->o->model) bs_pipeline_free(&r->p);
    bs_truth_eval_free(&r->eval);
    bs_truth_free(&r->truth);
    bs_cli_list_free(&r->overlays);
    bs_cli_list_free(&r->geojsons);
    bs_field_coco_abort(r->coco); /* when the run stopped before committing it */
}

/* --adapt prior: every field analysed first (its image not kept), the cells of the whole
 * batch adapted together (bs_field_adapt_prior), then each image read again to print, draw
 * and compare as without adaptation. */
static void say_adaptation(const bs_pipeline_adaptation *ad) {
    fprintf(stderr,
            "cells: --adapt prior: the batch's share of blasts is %.4f (the model's training "
            "prior %.4f; %d EM rounds): decision threshold %+.4f, %lld of %lld cells called "
            "blasts (%lld before)\n",
            ad->batch_prior, ad->train_prior, ad->rounds, ad->threshold,
            (long long)ad->positives_after, (long long)ad->n, (long long)ad->positives_before);
}

/* Both passes of --adapt prior over the files; *unreadable set as run_images does. */
static int adapt_images(run *r, const bs_cli_list *files, int *unreadable) {
    bs_field_analysis *fields = bs_calloc(files->n + 1, sizeof *fields);
    const char **paths = bs_calloc(files->n + 1, sizeof *paths);
    size_t n = 0;
    int rc = fields && paths ? 0 : -1;
    for (size_t i = 0; i < files->n && rc == 0; i++) {
        bs_image img;
        if (bs_image_load(files->v[i], &img)) {
            fprintf(stderr, "blastscan cells: error: %s\n", bs_error_message());
            *unreadable = 1;
            continue;
        }
        rc = bs_field_analyse(&img, &r->field, r->rt, &r->p, &fields[n]);
        if (rc)
            bs_error_prefix("%s: ", files->v[i]);
        else
            paths[n++] = files->v[i];
        bs_image_free(&img);
    }
    bs_pipeline_adaptation ad;
    if (rc == 0) rc = bs_field_adapt_prior(fields, n, &r->p, &r->field.rule, &ad);
    if (rc == 0) say_adaptation(&ad);
    size_t i = 0;
    for (; i < n && rc == 0; i++) {
        bs_image img;
        rc = bs_image_load(paths[i], &img);
        if (rc == 0)
            rc = emit(r, paths[i], &img, fields[i]); /* frees the analysis */
        else
            bs_field_analysis_free(&fields[i]);
        if (rc) bs_error_prefix("%s: ", paths[i]);
        bs_image_free(&img);
    }
    for (; i < n; i++) bs_field_analysis_free(&fields[i]);
    free(fields);
    free(paths);
    return rc;
}

static int run_images(const bs_cells_opts *o, int argc, char **argv) {
    bs_cli_list files = {0};
    if (bs_cli_image_files(argc, argv, &files)) {
        bs_cli_list_free(&files);
        return bs_cli_fail("cells");
    }
    run r;
    char *default_dir = NULL;
    int rc = BS_EXIT_OK, unreadable = 0;
    if (open_run(&r, o, &default_dir)) {
        rc = bs_cli_fail("cells");
        goto out;
    }
    print_header(o);
    if (o->adapt && adapt_images(&r, &files, &unreadable)) rc = bs_cli_fail("cells");
    for (size_t i = 0; i < files.n && rc == BS_EXIT_OK && !o->adapt; i++) {
        bs_image img;
        if (bs_image_load(files.v[i], &img)) {
            fprintf(stderr, "blastscan cells: error: %s\n", bs_error_message());
            unreadable = 1; /* the others are still processed */
            continue;
        }
        if (process(&r, files.v[i], &img)) {
            bs_error_prefix("%s: ", files.v[i]);
            rc = bs_cli_fail("cells");
        }
        bs_image_free(&img);
    }
    if (rc == BS_EXIT_OK && r.rt)
        fprintf(stderr, "cells: %lld images, %lld white cells, %lld called 'ALL suspected'\n",
                (long long)r.images, (long long)r.cells, (long long)r.suspected);
    if (rc == BS_EXIT_OK && r.have_truth && finish_truth(&r)) rc = bs_cli_fail("cells");
    if (rc == BS_EXIT_OK && r.coco) {
        int failed = bs_field_coco_commit(r.coco);
        r.coco = NULL;
        if (failed) rc = bs_cli_fail("cells");
    }
    if (rc == BS_EXIT_OK && (fflush(stdout) || ferror(stdout))) {
        fprintf(stderr, "blastscan cells: error: cannot write to standard output\n");
        rc = BS_EXIT_FAIL;
    }
    if (rc == BS_EXIT_OK && r.review) {
        int failed = bs_review_commit(r.review);
        r.review = NULL;
        if (failed) rc = bs_cli_fail("cells");
    }
    if (rc == BS_EXIT_OK && unreadable) rc = BS_EXIT_FAIL;
out:
    close_run(&r);
    free(default_dir);
    bs_cli_list_free(&files);
    return rc;
}

static void crops_done(const bs_cells_opts *o, const bs_field_crop_counts *counts, size_t images) {
    char *manifest = bs_path_join(o->crops, "manifest.csv");
    fprintf(stderr, "cells: %lld cells from %zu images (%lld without a white cell",
            (long long)counts->cells, images, (long long)counts->images_without_cells);
    if (counts->boxes_outside)
        fprintf(stderr, ", %lld boxes outside their image", (long long)counts->boxes_outside);
    fprintf(stderr, "), colour %s; wrote %s\n", o->normalise ? "normalised" : "as photographed",
            manifest ? manifest : o->crops);
    free(manifest);
}

/* `--crops OUTDIR --data D ...`: the source images (sampled as asked) cut into a cell dataset;
 * `--crops OUTDIR --boxes FILE`: the annotated white cells. */
static int run_crops(const bs_cells_opts *o, const bs_cli *cli) {
    bs_field_options fo;
    field_options(o, &fo);
    bs_field_crop_counts counts;
    int rc = BS_EXIT_OK;
    if (o->boxes) {
        bs_truth t;
        if (bs_truth_read(o->boxes, &t)) return bs_cli_fail("cells");
        if (bs_field_write_box_crops(&t, o->boxes, &o->box_labels, &fo, o->crops, o->crop_jpeg,
                                     &counts))
            rc = bs_cli_fail("cells");
        else
            crops_done(o, &counts, t.n);
        bs_truth_free(&t);
        return rc;
    }
    bs_dataset ds;
    if (bs_cli_data_open(&o->data, (size_t)o->sample, cli->seed, &ds)) return bs_cli_fail("cells");
    if (bs_field_write_crop_dataset(&ds, &fo, o->crops, o->crop_jpeg, &counts))
        rc = bs_cli_fail("cells");
    else
        crops_done(o, &counts, ds.n);
    bs_dataset_free(&ds);
    return rc;
}

/* Options other than the dataset's; 1 on a usage error, -1 if unknown. */
static int take_option(bs_cells_opts *o, int c, const char *arg) {
    long v;
    double d;
    switch (c) {
        case OPT_MODEL: o->model = arg; return 0;
        case OPT_BDIR: o->backbone_dir = arg; return 0;
        case OPT_OVERLAY: o->overlay = arg; return 0;
        case OPT_TRUTH: o->truth = arg; return 0;
        case OPT_EVALUATION: o->evaluation = arg; return 0;
        case OPT_CROPS: o->crops = arg; return 0;
        case OPT_BOXES: o->boxes = arg; return 0;
        case OPT_CLASS:
            if (!arg[0]) return bs_cli_usage("cells", "--class must not be empty") != 0;
            o->box_labels.class_name = arg;
            return 0;
        case OPT_LABEL:
            o->box_labels.label = !strcmp(arg, "1") || !strcmp(arg, "blast")       ? 1
                                  : !strcmp(arg, "0") || !strcmp(arg, "non-blast") ? 0
                                                                                   : -1;
            return o->box_labels.label < 0
                       ? bs_cli_usage("cells", "--label must be 1, blast, 0 or non-blast") != 0
                       : 0;
        case OPT_REVIEW: o->review = arg; return 0;
        case OPT_ADAPT:
            if (strcmp(arg, "none") && strcmp(arg, "prior"))
                return bs_cli_usage("cells", "--adapt must be none or prior (CORAL is not "
                                             "offered: it pulls a one-class batch towards the "
                                             "training mix, docs/cells.md)") != 0;
            o->adapt = !strcmp(arg, "prior");
            return 0;
        case OPT_NO_NORM: o->normalise = 0; return 0;
        case OPT_FORMAT:
            o->format = !strcmp(arg, "table")     ? FMT_TABLE
                        : !strcmp(arg, "json")    ? FMT_JSON
                        : !strcmp(arg, "csv")     ? FMT_CSV
                        : !strcmp(arg, "geojson") ? FMT_GEOJSON
                        : !strcmp(arg, "coco")    ? FMT_COCO
                                                  : -1;
            return o->format < 0 ? bs_cli_usage("cells", "--format must be table, json, csv, "
                                                         "geojson or coco") != 0
                                 : 0;
        case OPT_OUT: o->out = arg; return 0;
        case OPT_CROP_FORMAT:
            if (strcmp(arg, "png") && strcmp(arg, "jpeg") && strcmp(arg, "jpg"))
                return bs_cli_usage("cells", "--crop-format must be png or jpeg") != 0;
            o->crop_jpeg = strcmp(arg, "png") != 0;
            return 0;
        case OPT_BATCH: return bs_cli_parse_int("cells", "--batch", arg, 1, 256, &o->batch) != 0;
        case OPT_SAMPLE:
            return bs_cli_parse_int("cells", "--sample", arg, 0, 1L << 40, &o->sample) != 0;
        case OPT_MIN_BLASTS:
            if (bs_cli_parse_int("cells", "--min-blasts", arg, 1, 1L << 40, &v)) return 1;
            o->rule.min_blasts = v;
            return 0;
        case OPT_CELL_SIZE:
            if (bs_cli_parse_double("cells", "--cell-size", arg, &d)) return 1;
            if (!(d >= 2 && d <= 10000))
                return bs_cli_usage("cells", "--cell-size must be 2 to 10000 pixels") != 0;
            o->detect.cell_size = d;
            return 0;
        case OPT_MIN_P:
            if (bs_cli_parse_double("cells", "--min-probability", arg, &d)) return 1;
            if (!(d >= 0 && d <= 1))
                return bs_cli_usage("cells", "--min-probability must be 0 to 1") != 0;
            o->rule.min_probability = d;
            return 0;
        default: return -1;
    }
}

/* Combinations that make no sense; 0 when fine. */
static int check_usage(const bs_cells_opts *o, int positional) {
    if ((o->box_labels.label >= 0 || o->box_labels.class_name) && !o->boxes)
        return bs_cli_usage("cells", "--label and --class are for --boxes");
    if (o->boxes && !o->crops) return bs_cli_usage("cells", "--boxes is for --crops");
    if (o->crops) {
        if (o->boxes && (o->data.nsources || o->sample))
            return bs_cli_usage("cells", "--boxes names the fields: no --data or --sample");
        if (!o->data.nsources && !o->boxes)
            return bs_cli_usage("cells", "--crops needs --data or --boxes");
        if (positional)
            return bs_cli_usage("cells", "--crops takes its images from --data, not arguments");
        if (o->model || o->truth || o->overlay || o->out || o->review || o->adapt)
            return bs_cli_usage("cells", "--crops cannot be combined with --model, --truth, "
                                         "--overlay, --out, --review or --adapt");
        return 0;
    }
    if (o->data.nsources)
        return bs_cli_usage("cells", "--data is for --crops; give images or folders as arguments");
    if (!positional) return bs_cli_usage("cells", "no image or folder given");
    if (o->evaluation && !o->truth) return bs_cli_usage("cells", "--evaluation needs --truth");
    if (o->adapt && !o->model) return bs_cli_usage("cells", "--adapt needs --model");
    int exported = o->format == FMT_GEOJSON || o->format == FMT_COCO;
    if (exported && !o->out) return bs_cli_usage("cells", "--format geojson and coco need --out");
    if (!exported && o->out) return bs_cli_usage("cells", "--out is for --format geojson or coco");
    return 0;
}

int bs_cmd_cells(int argc, char **argv, const bs_cli *cli) {
    bs_cells_opts o;
    memset(&o, 0, sizeof o);
    bs_detect_params_default(&o.detect);
    bs_field_rule_default(&o.rule);
    bs_cli_data_init(&o.data);
    o.batch = 8;
    o.normalise = -1;
    o.box_labels.label = -1;
    int c, rc = BS_EXIT_USAGE, r;
    bs_cli_parser p;
    bs_cli_parser_init(&p, &cells_command);
    while ((c = bs_cli_next(&p, argc, argv)) >= 0) {
        r = bs_cli_data_option(&o.data, "cells", c, p.arg);
        if (r < 0) r = take_option(&o, c, p.arg);
        if (r < 0) r = bs_cli_unhandled(&p, c) != 0;
        if (r) goto out;
    }
    if (p.exit >= 0) {
        rc = p.exit;
        goto out;
    }
    if (check_usage(&o, optind < argc)) goto out;
    rc = o.crops ? run_crops(&o, cli) : run_images(&o, argc - optind, argv + optind);
out:
    bs_cli_data_free(&o.data);
    return rc;
}
