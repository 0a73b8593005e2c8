/* maps.c — occlusion maps of a study's most confident errors for the gallery (see maps.h):
 * the experiment's features read back, each fold's SVM refitted as the study fitted it, put
 * behind the backbones in a pipeline and explained image by image.
 * Not for: the occlusion itself (pipeline/explain.c) or the page (html.c, gallery.c). */
#include "maps.h"

#include <glib.h>
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/io.h"
#include "core/log.h"
#include "core/progress.h"
#include "thumbs.h"

void bs_report_maps_options_init(bs_report_maps_options *o) {
    memset(o, 0, sizeof *o);
    o->max_images = 8;
    bs_explain_options_init(&o->explain);
    o->explain.grid = 5;
    o->explain.patch = 0.3;
}

void bs_report_maps_free(bs_html_map *maps, size_t n) {
    for (size_t i = 0; maps && i < n; i++) free((void *)maps[i].jpeg);
    free(maps);
}

/* The experiment without an autoencoder that uses the most feature sets, or -1. */
static long pick_experiment(const bs_study *s) {
    long best = -1;
    for (size_t e = 0; e < s->nexperiments; e++)
        if (s->experiments[e].latent <= 0 && s->task == BS_TASK_BINARY &&
            (best < 0 || s->experiments[e].nfeatures > s->experiments[best].nfeatures))
            best = (long)e;
    return best;
}

/* The experiment's feature sets side by side, as the study fused them: n × *w. */
static float *load_features(const char *featdir, const bs_experiment *x, size_t n, int64_t *w) {
    bs_array *sets = bs_calloc(x->nfeatures, sizeof *sets);
    float *out = NULL;
    int rc = sets ? 0 : -1;
    *w = 0;
    for (size_t i = 0; i < x->nfeatures && rc == 0; i++) {
        rc = bs_featdir_read_set(featdir, x->features[i], n, &sets[i]);
        *w += rc ? 0 : sets[i].shape[1];
    }
    if (rc == 0 && (out = bs_calloc(n * (size_t)*w, sizeof *out)))
        for (size_t r = 0; r < n; r++)
            for (size_t i = 0, off = 0; i < x->nfeatures; off += (size_t)sets[i].shape[1], i++)
                memcpy(out + r * (size_t)*w + off, sets[i].data + r * (size_t)sets[i].shape[1],
                       sizeof(float) * (size_t)sets[i].shape[1]);
    for (size_t i = 0; sets && i < x->nfeatures; i++) bs_array_free(&sets[i]);
    free(sets);
    return out;
}

/* The recorded backbone of feature set `name` from extract.json into *b; its folder into
 * *dir (malloc'd) unless the caller gave one. */
static int recorded_backbone(json_t *list, const char *name, const char *given_dir,
                             bs_pipeline_backbone *b, char **dir) {
    size_t i;
    json_t *v;
    json_array_foreach(list, i, v) {
        const char *n = json_string_value(json_object_get(v, "name"));
        const char *path = json_string_value(json_object_get(v, "path"));
        const char *sha = json_string_value(json_object_get(v, "sha256"));
        const char *tap = json_string_value(json_object_get(v, "tap"));
        json_t *size = json_object_get(v, "input_size"), *dim = json_object_get(v, "dim");
        if (!n || strcmp(n, name) != 0) continue;
        if (!path || !sha || strlen(sha) != 64 || !tap || !json_is_integer(size) ||
            !json_is_integer(dim))
            return bs_error("extract.json: backbone '%s' is incomplete", name);
        const char *slash = strrchr(path, '/');
        char *d = given_dir ? bs_strdup(given_dir)
                  : slash   ? bs_strfmt("%.*s", (int)(slash - path), path)
                            : bs_strdup(".");
        if (!d) return -1;
        if (*dir && strcmp(*dir, d) != 0) {
            free(d);
            return bs_error("the backbones are in different folders: give one folder holding them");
        }
        if (!*dir)
            *dir = d;
        else
            free(d);
        snprintf(b->name, sizeof b->name, "%s", n);
        snprintf(b->file, sizeof b->file, "%s", slash ? slash + 1 : path);
        snprintf(b->sha256, sizeof b->sha256, "%s", sha);
        snprintf(b->tap, sizeof b->tap, "%s", tap);
        b->input_size = (int)json_integer_value(size);
        b->dim = json_integer_value(dim);
        return 0;
    }
    return bs_error("extract.json names no backbone '%s'", name);
}

/* The experiment's backbones, in feature-set order, from the feature folder's extract.json. */
static int read_backbones(const char *featdir, const bs_experiment *x, const char *given_dir,
                          bs_pipeline_backbone *b, char **dir) {
    char *path = bs_path_join(featdir, "extract.json");
    unsigned char *data = NULL;
    size_t len = 0;
    json_t *root = NULL;
    int rc = path && bs_read_file(path, 1u << 20, &data, &len) == 0 ? 0 : -1;
    if (rc == 0 && !(root = json_loadb((const char *)data, len, 0, NULL)))
        rc = bs_error("%s: not valid JSON", path);
    for (size_t i = 0; rc == 0 && i < x->nfeatures; i++)
        rc = recorded_backbone(json_object_get(root, "backbones"), x->features[i], given_dir, &b[i],
                               dir);
    json_decref(root);
    free(data);
    free(path);
    return rc;
}

/* A pipeline without autoencoder whose backbones are the experiment's feature sets in order. */
static int make_pipeline(bs_pipeline *p, const bs_study *s, const bs_experiment *x, int64_t w,
                         const char *featdir, const bs_report_maps_options *o, char **dir) {
    memset(p, 0, sizeof *p);
    if (!(p->backbones = bs_calloc(x->nfeatures, sizeof *p->backbones))) return -1;
    p->n_backbones = x->nfeatures;
    if (read_backbones(featdir, x, o->backbone_dir, p->backbones, dir)) return -1;
    int64_t sum = 0;
    for (size_t i = 0; i < x->nfeatures; i++) sum += p->backbones[i].dim;
    if (sum != w)
        return bs_error("the backbones give %lld features, the feature folder %lld", (long long)sum,
                        (long long)w);
    p->n_features = w;
    for (int c = 0; c < 2; c++)
        snprintf(p->label_names[c], sizeof p->label_names[c], "%s", s->class_names[c]);
    p->platt_a = -1; /* unused: the maps explain the decision, not the probability */
    return 0;
}

static const double *g_dec; /* qsort has no context argument in C11 */

static int by_confidence(const void *a, const void *b) {
    double x = fabs(g_dec[*(const size_t *)a]), y = fabs(g_dec[*(const size_t *)b]);
    return x < y ? 1 : x > y ? -1 : *(const size_t *)a < *(const size_t *)b ? -1 : 1;
}

/* Wrong original views, most confident first, at most max. */
static size_t candidates(const bs_study *s, const bs_experiment *x, const bs_feature_index *idx,
                         size_t max, size_t *rows) {
    size_t k = 0;
    for (size_t r = 0; r < s->n; r++)
        if (idx->rows[r].view == BS_VIEW_ORIGINAL && x->predicted[r] != s->labels[r] &&
            isfinite(x->decision[r]))
            rows[k++] = r;
    g_dec = x->decision;
    qsort(rows, k, sizeof *rows, by_confidence);
    return k < max ? k : max;
}

static int explain_row(const bs_pipeline *p, bs_pipeline_runtime *rt, const char *path,
                       const bs_explain_options *eo, bs_html_map *out) {
    bs_image img, ov = {0};
    bs_explain_map m = {0};
    void *jpeg = NULL;
    size_t len = 0;
    if (bs_image_load(path, &img)) return -1;
    int rc = bs_pipeline_explain(p, rt, &img, eo, &m);
    if (rc == 0) rc = bs_explain_overlay(&img, &m, &ov);
    if (rc == 0) rc = bs_thumb_jpeg(&ov, BS_THUMB_SIZE, 80, &jpeg, &len);
    if (rc == 0 && (out->jpeg = bs_malloc(len))) {
        memcpy((void *)out->jpeg, jpeg, len);
        out->len = len;
        out->base = m.base;
    }
    rc = rc ? rc : out->jpeg ? 0 : -1;
    g_free(jpeg);
    free(ov.rgb);
    bs_explain_map_free(&m);
    bs_image_free(&img);
    return rc;
}

/* Explain rows[0..k) fold by fold, each through its fold's refitted SVM. */
static int explain_all(bs_pipeline *p, bs_pipeline_runtime *rt, const bs_study *s, size_t e,
                       const float *feat, int64_t w, const bs_feature_index *idx,
                       const size_t *rows, size_t k, const bs_report_maps_options *o,
                       bs_html_map *maps) {
    int rc = 0;
    for (int f = 0; f < s->folds && rc == 0; f++) {
        size_t here = 0;
        for (size_t i = 0; i < k; i++) here += s->fold[rows[i]] == f;
        if (!here) continue;
        if (!(p->svm = bs_study_refit_svm(s, e, f, feat, w, o->kernel_scale))) return -1;
        for (size_t i = 0; i < k && rc == 0; i++) {
            if (s->fold[rows[i]] != f) continue;
            maps[i] = (bs_html_map){
                s->protocol, s->experiments[e].name, idx->rows[rows[i]].path, NULL, 0, 0};
            rc = explain_row(p, rt, idx->rows[rows[i]].path, &o->explain, &maps[i]);
        }
        bs_svm_free(p->svm);
        p->svm = NULL;
    }
    return rc;
}

int bs_report_occlusion_maps(const bs_study *s, const bs_feature_index *idx, const char *featdir,
                             const bs_report_maps_options *o, bs_html_map **maps, size_t *n,
                             char **note) {
    double t0 = bs_now();
    *maps = NULL;
    *n = 0;
    *note = NULL;
    long e = pick_experiment(s);
    if (e < 0) {
        *note = bs_strdup(s->task != BS_TASK_BINARY
                              ? "No occlusion maps: they explain one decision value, and a K-class "
                                "task has several."
                              : "No occlusion maps: every experiment has an autoencoder.");
        return *note ? 0 : -1;
    }
    const bs_experiment *x = &s->experiments[e];
    size_t *rows = bs_calloc(s->n ? s->n : 1, sizeof *rows),
           k = rows ? candidates(s, x, idx, o->max_images, rows) : 0;
    int64_t w = 0;
    float *feat = rows && k ? load_features(featdir, x, s->n, &w) : NULL;
    bs_pipeline p = {0};
    bs_pipeline_runtime *rt = NULL;
    bs_html_map *out = k ? bs_calloc(k, sizeof *out) : NULL;
    int rc = !rows || (k && (!feat || !out)) ? -1 : 0;
    char *dir = NULL;
    if (rc == 0 && k &&
        (make_pipeline(&p, s, x, w, featdir, o, &dir) || !(rt = bs_pipeline_runtime_open(&p, dir))))
        rc = -1;
    free(dir);
    if (rc == 0 && k) rc = explain_all(&p, rt, s, (size_t)e, feat, w, idx, rows, k, o, out);
    if (rc == 0 && k == 0) {
        *note = bs_strfmt(
            "No occlusion maps: the %s protocol's %s model got every original view right.",
            bs_protocol_name(s->protocol), x->name);
        rc = *note ? 0 : -1;
    } else if (rc == 0) {
        *note = bs_strfmt(
            "Occlusion maps (second picture; red: the region pushed the decision towards %s, "
            "blue: towards %s) of the %zu most confident errors on original views of the %s "
            "protocol's %s model, each through its fold's model refitted as the study fitted it; "
            "%dx%d grid, patch %g of the image side (docs/explain.md).",
            s->class_names[1], s->class_names[0], k, bs_protocol_name(s->protocol), x->name,
            o->explain.grid, o->explain.grid, o->explain.patch);
        bs_log("report: occlusion maps of %zu images (%d forward passes each) in %.1f s", k,
               o->explain.grid * o->explain.grid + 1, bs_now() - t0);
        *maps = out;
        *n = k;
        out = NULL;
        rc = *note ? 0 : -1;
    }
    bs_report_maps_free(out, k);
    bs_pipeline_runtime_free(rt);
    bs_pipeline_free(&p);
    free(feat);
    free(rows);
    return rc;
}
