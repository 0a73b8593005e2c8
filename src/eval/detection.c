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

static void put_counts(bs_json_writer *w, const char *key, const bs_truth_counts *c,
                       int precision_defined) {
    double p, r, f;
    bs_truth_ratios(c, &p, &r, &f);
    bs_json_begin_object(w, key, BS_JSON_INLINE);
    bs_json_put_int(w, "tp", c->tp);
    if (precision_defined)
        bs_json_put_int(w, "fp", c->fp);
    else
        bs_json_put_null(w, "fp");
    bs_json_put_int(w, "fn", c->fn);
    bs_json_put_number(w, "precision", precision_defined ? p : NAN);
    bs_json_put_number(w, "recall", r);
    bs_json_put_number(w, "f1", precision_defined ? f : NAN);
    bs_json_end(w);
}

static void put_image(bs_json_writer *w, const bs_truth_eval *e, const bs_truth_eval_image *r) {
    bs_json_begin_object(w, NULL, BS_JSON_INLINE);
    bs_json_put_string(w, "path", r->path);
    bs_json_put_int(w, "truth_cells", r->truth_cells);
    bs_json_put_int(w, "detected", r->detected);
    put_counts(w, "detection", &r->detection, e->all_white);
    if (e->knows_blasts) {
        put_counts(w, "blasts", &r->blasts, 1);
        bs_json_put_int(w, "true_blasts", r->true_blasts);
        bs_json_put_int(w, "called_blasts", r->called_blasts);
    }
    bs_json_end(w);
}

int bs_truth_eval_write_json(const bs_truth_eval *e, const char *path) {
    bs_atomic_file af;
    if (bs_atomic_open(&af, path)) return -1;
    bs_json_writer w;
    bs_json_writer_init(&w, af.fp);
    bs_json_begin_object(&w, NULL, BS_JSON_LINES);
    put_counts(&w, "detection", &e->detection, e->all_white);
    if (e->knows_blasts)
        put_counts(&w, "blasts", &e->blasts, 1);
    else
        bs_json_put_null(&w, "blasts");
    bs_json_put_number(&w, "count_mae",
                       e->count_images ? e->abs_count_error / (double)e->count_images : NAN);
    bs_json_put_uint(&w, "images", e->n);
    bs_json_put_bool(&w, "all_white_cells_annotated", e->all_white);
    bs_json_begin_array(&w, "per_image", BS_JSON_LINES);
    for (size_t i = 0; i < e->n; i++) put_image(&w, e, &e->images[i]);
    bs_json_end(&w);
    bs_json_end(&w);
    bs_json_finish(&w);
    return bs_atomic_commit(&af);
}
