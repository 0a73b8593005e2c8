/* detection.c — detection and blast counts against annotations over many images, and the
 * evaluation JSON (truth.h). Not for: reading the annotations (truth.c) or matching (match.c). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/io.h"
#include "core/json.h"
#include "truth.h"

void bs_truth_eval_init(bs_truth_eval *e, const bs_truth *t, int with_model) {
    memset(e, 0, sizeof *e);
    e->all_white = t->all_white;
    e->knows_blasts = t->knows_blasts && with_model;
    e->with_model = with_model;
}

void bs_truth_eval_free(bs_truth_eval *e) {
    for (size_t i = 0; i < e->n; i++) free(e->images[i].path);
    free(e->images);
    memset(e, 0, sizeof *e);
}

static void add_counts(bs_truth_counts *to, const bs_truth_counts *c) {
    to->tp += c->tp;
    to->fp += c->fp;
    to->fn += c->fn;
}

/* Blast counts of one image from the matching: a true blast is found when it is matched to a
 * detection called a blast; a detection called a blast is false unless matched to a true
 * blast; records of unknown type count neither way. */
static void blast_counts(const bs_truth_image *truth, const int64_t *of_truth, size_t n,
                         const int64_t *of_det, const int *called, bs_truth_eval_image *r) {
    r->true_blasts = r->called_blasts = 0;
    for (size_t j = 0; j < truth->n; j++) {
        if (truth->cells[j].blast != 1) continue;
        r->true_blasts++;
        if (of_truth[j] >= 0 && called[of_truth[j]])
            r->blasts.tp++;
        else
            r->blasts.fn++;
    }
    for (size_t i = 0; i < n; i++) {
        if (!called[i]) continue;
        r->called_blasts++;
        if (of_det[i] < 0 || truth->cells[of_det[i]].blast == 0) r->blasts.fp++;
    }
}

int bs_truth_eval_add(bs_truth_eval *e, const char *path, const bs_cell *det, size_t n,
                      const int *called_blast, const bs_truth_image *truth) {
    if (e->n == e->cap) {
        size_t cap = e->cap ? 2 * e->cap : 64;
        bs_truth_eval_image *v = bs_realloc(e->images, cap * sizeof *v);
        if (!v) return -1;
        e->images = v;
        e->cap = cap;
    }
    bs_truth_eval_image r;
    memset(&r, 0, sizeof r);
    r.true_blasts = r.called_blasts = -1;
    int64_t *of_det = bs_calloc(n + 1, sizeof *of_det),
            *of_truth = bs_calloc(truth->n + 1, sizeof *of_truth);
    int64_t pairs =
        of_det && of_truth ? bs_truth_match(det, n, truth->cells, truth->n, of_det, of_truth) : -1;
    if (pairs < 0 || !(r.path = bs_strdup(path))) {
        free(of_det);
        free(of_truth);
        return -1;
    }
    r.truth_cells = (int64_t)truth->n;
    r.detected = (int64_t)n;
    r.detection.tp = pairs;
    r.detection.fn = (int64_t)truth->n - pairs;
    r.detection.fp = e->all_white ? (int64_t)n - pairs : 0;
    if (e->knows_blasts && called_blast) {
        blast_counts(truth, of_truth, n, of_det, called_blast, &r);
        add_counts(&e->blasts, &r.blasts);
        e->abs_count_error += fabs((double)(r.called_blasts - r.true_blasts));
        e->count_images++;
    }
    add_counts(&e->detection, &r.detection);
    e->images[e->n++] = r;
    free(of_det);
    free(of_truth);
    return 0;
}

static void put_counts(FILE *fp, const bs_truth_counts *c, int precision_defined) {
    double p, r, f;
    bs_truth_ratios(c, &p, &r, &f);
    fprintf(fp, "{\"tp\": %lld, \"fp\": ", (long long)c->tp);
    if (precision_defined)
        fprintf(fp, "%lld", (long long)c->fp);
    else
        fputs("null", fp);
    fprintf(fp, ", \"fn\": %lld, \"precision\": ", (long long)c->fn);
    bs_json_number(fp, precision_defined ? p : NAN);
    fputs(", \"recall\": ", fp);
    bs_json_number(fp, r);
    fputs(", \"f1\": ", fp);
    bs_json_number(fp, precision_defined ? f : NAN);
    fputc('}', fp);
}

static void put_image(FILE *fp, const bs_truth_eval *e, const bs_truth_eval_image *r) {
    fputs("    {\"path\": ", fp);
    bs_json_string(fp, r->path);
    fprintf(fp, ", \"truth_cells\": %lld, \"detected\": %lld, \"detection\": ",
            (long long)r->truth_cells, (long long)r->detected);
    put_counts(fp, &r->detection, e->all_white);
    if (e->knows_blasts) {
        fputs(", \"blasts\": ", fp);
        put_counts(fp, &r->blasts, 1);
        fprintf(fp, ", \"true_blasts\": %lld, \"called_blasts\": %lld", (long long)r->true_blasts,
                (long long)r->called_blasts);
    }
    fputc('}', fp);
}

int bs_truth_eval_write_json(const bs_truth_eval *e, const char *path) {
    bs_atomic_file af;
    if (bs_atomic_open(&af, path)) return -1;
    FILE *fp = af.fp;
    fputs("{\n  \"detection\": ", fp);
    put_counts(fp, &e->detection, e->all_white);
    fputs(",\n  \"blasts\": ", fp);
    if (e->knows_blasts)
        put_counts(fp, &e->blasts, 1);
    else
        fputs("null", fp);
    fputs(",\n  \"count_mae\": ", fp);
    bs_json_number(fp, e->count_images ? e->abs_count_error / (double)e->count_images : NAN);
    fprintf(fp, ",\n  \"images\": %zu,\n  \"all_white_cells_annotated\": %s,\n  \"per_image\": [",
            e->n, e->all_white ? "true" : "false");
    for (size_t i = 0; i < e->n; i++) {
        fputs(i ? ",\n" : "\n", fp);
        put_image(fp, e, &e->images[i]);
    }
    fputs(e->n ? "\n  ]\n}\n" : "]\n}\n", fp);
    return bs_atomic_commit(&af);
}
