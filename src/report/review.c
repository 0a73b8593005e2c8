/* review.c — the review page of field mode (see review.h): the page's frame from the
 * compiled-in template (review_page.html with review_page.css and review_page.js), one JSON
 * block per field, written as the field is analysed, and the batch's numbers at the end.
 *
 * Every JSON block sits in a <script type="application/json"> element, which the page parses
 * itself; a path holding "</script>" would end that element early, so every '<' of the JSON
 * (it can only occur inside a string) is written as \u003c. The page's script builds
 * everything else with textContent, never from markup, so no path reaches the DOM as HTML.
 * Not for: the page's behaviour (review_page.js) or analysing a field (field.h). */
#define _GNU_SOURCE
#include "review.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <vips/vips.h>

#include "core/error.h"
#include "core/io.h"
#include "core/json.h"
#include "core/stats.h"
#include "review_page.h"
#include "thumbs.h"

struct bs_review {
    bs_atomic_file af;
    bs_review_setup setup;
    int64_t fields, cells, blasts, confident;
};

/* The template's text from `from` up to the next line holding marker (or to its end). */
static const char *put_until(FILE *fp, const char *from, const char *marker) {
    const char *at = marker ? strstr(from, marker) : NULL;
    size_t n = at ? (size_t)(at - from) : strlen(from);
    fwrite(from, 1, n, fp);
    return at ? at + strlen(marker) : from + n;
}

/* JSON text into a <script> element: '<' as \u003c (see the top comment). */
static void put_script_json(FILE *fp, const char *json, size_t len) {
    for (size_t i = 0; i < len; i++) {
        if (json[i] == '<')
            fputs("\\u003c", fp);
        else
            fputc(json[i], fp);
    }
}

/* A JSON document built by fn in memory, written as <script type="application/json">. */
typedef void (*json_builder)(bs_json_writer *w, const void *a, const void *b);
static int put_json_block(FILE *fp, const char *attrs, json_builder fn, const void *a,
                          const void *b) {
    char *buf = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&buf, &len);
    if (!mem) {
        bs_error("review page: out of memory");
        return -1;
    }
    bs_json_writer w;
    bs_json_writer_init(&w, mem);
    fn(&w, a, b);
    bs_json_finish(&w);
    int bad = ferror(mem);
    fclose(mem);
    if (!bad) {
        bs_putf(fp, "<script type=\"application/json\" %s>", attrs);
        put_script_json(fp, buf, len);
        fputs("</script>\n", fp);
    } else
        bs_error("review page: out of memory");
    free(buf);
    return bad ? -1 : 0;
}

/* The path as given, absolute: the current folder joined in front of a relative one. */
static char *absolute_path(const char *path) {
    if (path[0] == '/') return bs_strdup(path);
    char *cwd = getcwd(NULL, 0);
    if (!cwd) {
        bs_error("cannot read the current folder");
        return NULL;
    }
    while (path[0] == '.' && path[1] == '/') path += 2;
    char *abs = bs_path_join(cwd, path);
    free(cwd);
    return abs;
}

/* The name of the folder holding the file: the field's default `source`. */
static char *parent_name(const char *abs) {
    const char *end = strrchr(abs, '/');
    const char *start = end;
    while (start > abs && start[-1] != '/') start--;
    char *s = bs_malloc((size_t)(end - start) + 1);
    if (s) {
        memcpy(s, start, (size_t)(end - start));
        s[end - start] = 0;
    }
    return s;
}

static void setup_json(bs_json_writer *w, const void *a, const void *b) {
    const bs_review_setup *s = a;
    (void)b;
    const bs_pipeline *p = s->model;
    bs_json_begin_object(w, NULL, BS_JSON_INLINE);
    if (p) {
        bs_json_put_string(w, "model", s->model_path ? s->model_path : "");
        bs_json_begin_array(w, "model_classes", BS_JSON_INLINE);
        bs_json_put_string(w, NULL, p->label_names[0]);
        bs_json_put_string(w, NULL, p->label_names[1]);
        bs_json_end(w);
        /* Platt: P = 1 / (1 + exp(A·decision + B)), so the class boundary (decision 0) is at: */
        bs_json_put_number(w, "threshold", 1.0 / (1.0 + exp(p->platt_b)));
        bs_json_put_bool(w, "ood", p->ood.available);
    } else {
        bs_json_put_null(w, "model");
    }
    bs_json_put_int(w, "min_blasts", s->rule.min_blasts);
    bs_json_put_number(w, "min_probability", s->rule.min_probability);
    bs_json_put_bool(w, "normalised", s->normalise);
    bs_json_put_int(w, "thumb_px", BS_REVIEW_THUMB);
    bs_json_end(w);
}

int bs_review_open(const char *html_path, const bs_review_setup *setup, bs_review **out) {
    *out = NULL;
    bs_review *r = bs_calloc(1, sizeof *r);
    if (!r) return -1;
    r->setup = *setup;
    if (bs_atomic_open(&r->af, html_path)) {
        bs_error_prefix("review page: ");
        free(r);
        return -1;
    }
    FILE *fp = r->af.fp;
    const char *t = put_until(fp, (const char *)bs_review_page_html, "@CSS@");
    fputs((const char *)bs_review_page_css, fp);
    t = put_until(fp, t, "@DATA@");
    if (put_json_block(fp, "id=\"bs-setup\"", setup_json, setup, NULL)) {
        bs_review_abort(r);
        return -1;
    }
    *out = r;
    return 0;
}

/* A string of base64 JPEG bytes of img shrunk to fit size × size. */
static char *jpeg_base64(const bs_image *img, int size, int quality) {
    void *jpeg = NULL;
    size_t len = 0, blen = 0;
    char *b64 = NULL;
    if (bs_thumb_jpeg(img, size, quality, &jpeg, &len)) return NULL;
    FILE *mem = open_memstream(&b64, &blen);
    if (mem) {
        bs_base64(mem, jpeg, len);
        if (fclose(mem)) {
            free(b64);
            b64 = NULL;
        }
    }
    g_free(jpeg);
    if (!b64) bs_error("review page: out of memory");
    return b64;
}

/* What the page needs of one field, besides its cells. */
typedef struct {
    const char *given, *abs, *source, *picture; /* picture: base64 JPEG */
    const bs_image *img;
    const bs_field_analysis *a;
    const bs_review_setup *setup;
    char **thumbs; /* base64 JPEG of each cell's crop */
} field_data;

static void summary_json(bs_json_writer *w, const field_data *f) {
    const bs_field_summary *s = &f->a->summary;
    int m = f->setup->model != NULL;
    bs_json_begin_object(w, "summary", BS_JSON_INLINE);
    bs_json_put_int(w, "white_cells", s->white_cells);
    if (m) {
        bs_json_put_int(w, "blasts", s->blasts);
        bs_json_put_int(w, "confident_blasts", s->confident_blasts);
        bs_json_put_number(w, "blast_percent", s->blast_percent);
        bs_json_put_number(w, "ci95_lo", s->blast_percent_lo);
        bs_json_put_number(w, "ci95_hi", s->blast_percent_hi);
        bs_json_put_string(w, "call", bs_field_call_name(s));
    }
    bs_json_end(w);
}

static void cell_json(bs_json_writer *w, const field_data *f, int64_t i) {
    const bs_cell *c = &f->a->cells.cells[i];
    bs_json_begin_object(w, NULL, BS_JSON_COMPACT);
    bs_json_put_int(w, "x0", c->x0);
    bs_json_put_int(w, "y0", c->y0);
    bs_json_put_int(w, "x1", c->x1);
    bs_json_put_int(w, "y1", c->y1);
    bs_json_put_bool(w, "edge", c->edge);
    if (f->setup->model) {
        const bs_pipeline_result *res = &f->a->results[i];
        bs_json_put_int(w, "label", res->label);
        bs_json_put_number(w, "p", res->probability);
        bs_json_put_number(w, "decision", res->decision);
        if (f->setup->model->ood.available) bs_json_put_bool(w, "ood", res->ood);
    }
    bs_json_put_string(w, "thumb", f->thumbs[i]);
    bs_json_end(w);
}

static void field_json(bs_json_writer *w, const void *a, const void *b) {
    const field_data *f = a;
    (void)b;
    bs_json_begin_object(w, NULL, BS_JSON_LINES);
    bs_json_put_string(w, "path", f->abs);
    bs_json_put_string(w, "given", f->given);
    bs_json_put_string(w, "source", f->source);
    bs_json_put_int(w, "width", f->img->width);
    bs_json_put_int(w, "height", f->img->height);
    bs_json_put_string(w, "picture", f->picture);
    summary_json(w, f);
    bs_json_begin_array(w, "cells", BS_JSON_LINES);
    for (int64_t i = 0; i < f->a->cells.n; i++) cell_json(w, f, i);
    bs_json_end(w);
    bs_json_end(w);
}

/* thumbs[i]: the crop of cell i as bs_field_crops cuts it (the network's view), shrunk. */
static int make_thumbs(const bs_review *r, const bs_image *img, const bs_cells *cells,
                       char **thumbs) {
    int64_t n = cells->n;
    bs_image *crops = bs_calloc((size_t)n + 1, sizeof *crops);
    if (!crops) return -1;
    if (bs_field_crops(img, cells->cells, n, r->setup.normalise, crops)) {
        free(crops); /* bs_field_crops freed the crops it made */
        return -1;
    }
    int rc = 0;
    for (int64_t i = 0; rc == 0 && i < n; i++)
        if (!(thumbs[i] = jpeg_base64(&crops[i], BS_REVIEW_THUMB, 80))) rc = -1;
    for (int64_t i = 0; i < n; i++) bs_image_free(&crops[i]);
    free(crops);
    return rc;
}

static void count_batch(bs_review *r, const bs_field_analysis *a) {
    r->fields++;
    r->cells += a->cells.n;
    r->blasts += a->summary.blasts;
    r->confident += a->summary.confident_blasts;
}

int bs_review_add_field(bs_review *r, const char *path, const bs_image *img,
                        const bs_field_analysis *a) {
    int64_t n = a->cells.n;
    field_data f = {.given = path, .img = img, .a = a, .setup = &r->setup};
    char *abs = absolute_path(path), *source = abs ? parent_name(abs) : NULL;
    char *picture = source ? jpeg_base64(img, BS_REVIEW_FIELD, 65) : NULL;
    f.thumbs = picture ? bs_calloc((size_t)n + 1, sizeof *f.thumbs) : NULL;
    int rc = -1;
    if (f.thumbs && make_thumbs(r, img, &a->cells, f.thumbs) == 0) {
        f.abs = abs, f.source = source, f.picture = picture;
        rc = put_json_block(r->af.fp, "class=\"bs-field\"", field_json, &f, NULL);
    }
    if (rc == 0) count_batch(r, a);
    for (int64_t i = 0; f.thumbs && i < n; i++) free(f.thumbs[i]);
    free(f.thumbs);
    free(picture);
    free(source);
    free(abs);
    return rc;
}

/* The batch as the cells command counts it (all fields' cells pooled, the same rule), so the
 * page can show, and its test check, that its own arithmetic agrees. */
static void batch_json(bs_json_writer *w, const void *a, const void *b) {
    const bs_review *r = a;
    (void)b;
    bs_json_begin_object(w, NULL, BS_JSON_INLINE);
    bs_json_put_int(w, "fields", r->fields);
    bs_json_put_int(w, "white_cells", r->cells);
    if (r->setup.model) {
        double lo, hi;
        bs_wilson95(r->blasts, r->cells, &lo, &hi);
        bs_json_put_int(w, "blasts", r->blasts);
        bs_json_put_int(w, "confident_blasts", r->confident);
        bs_json_put_number(w, "blast_percent",
                           r->cells ? 100.0 * (double)r->blasts / (double)r->cells : NAN);
        bs_json_put_number(w, "ci95_lo", 100 * lo);
        bs_json_put_number(w, "ci95_hi", 100 * hi);
    }
    bs_json_end(w);
}

int bs_review_commit(bs_review *r) {
    FILE *fp = r->af.fp;
    if (put_json_block(fp, "id=\"bs-batch\"", batch_json, r, NULL)) {
        bs_review_abort(r);
        return -1;
    }
    const char *t = strstr((const char *)bs_review_page_html, "@DATA@") + strlen("@DATA@");
    t = put_until(fp, t, "@JS@");
    fputs((const char *)bs_review_page_js, fp);
    put_until(fp, t, NULL);
    int rc = bs_atomic_commit(&r->af);
    if (rc) bs_error_prefix("review page: ");
    free(r);
    return rc;
}

void bs_review_abort(bs_review *r) {
    if (!r) return;
    bs_atomic_abort(&r->af);
    free(r);
}
