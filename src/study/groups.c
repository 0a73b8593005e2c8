/* groups.c — results per group (a manifest's patients or slides: the unit a clinician decides
 * on) and per --data source (when several are fused), both over original views (one row per
 * image). The rule that turns a group's images into one call is in study.h (BS_STUDY_GROUP_RULE).
 * Not for: making groups (dataset.c) or keeping them in one fold (eval/folds.c). */
#define _GNU_SOURCE
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/io.h"
#include "image/image.h"
#include "study_internal.h"

typedef struct {
    const char *s;
    size_t row;
} named_row;

static int cmp_named(const void *a, const void *b) {
    const named_row *x = a, *y = b;
    int c = strcmp(x->s, y->s);
    return c ? c : (x->row > y->row) - (x->row < y->row);
}

static int cmp_cstr(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* A manifest names its groups; blastscan names the groups it makes after a member's path. */
static int manifest_named(const char *group, char **paths, size_t npaths) {
    if (bs_image_has_image_ext(group)) return 0;
    return bsearch(&group, paths, npaths, sizeof *paths, cmp_cstr) == NULL;
}

/* The original-view rows of manifest groups, sorted by group name: *rows (malloc'd), *m. */
static int manifest_rows(const bs_feature_index *idx, named_row **rows, size_t *m) {
    char **paths = bs_calloc(idx->n ? idx->n : 1, sizeof *paths);
    named_row *v = bs_calloc(idx->n ? idx->n : 1, sizeof *v);
    if (!paths || !v) {
        free(paths), free(v);
        return -1;
    }
    for (size_t r = 0; r < idx->n; r++) paths[r] = idx->rows[r].path;
    qsort(paths, idx->n, sizeof *paths, cmp_cstr);
    size_t k = 0;
    for (size_t r = 0; r < idx->n; r++)
        if (idx->rows[r].view == BS_VIEW_ORIGINAL &&
            manifest_named(idx->rows[r].group, paths, idx->n))
            v[k++] = (named_row){idx->rows[r].group, r};
    qsort(v, k, sizeof *v, cmp_named);
    free(paths);
    *rows = v;
    *m = k;
    return 0;
}

/* One experiment's group-level metrics over the sorted rows v[0..m) (g groups). */
static int group_metrics(const bs_study *s, bs_experiment *x, const named_row *v, size_t m,
                         int64_t g, int32_t *glab, int32_t *gpred, double *gscore) {
    int64_t gi = 0;
    for (size_t i = 0, j; i < m; i = j, gi++) { /* v[i..j) is group gi */
        int64_t n = 0, pos = 0, called = 0;
        double sum = 0;
        for (j = i; j < m && strcmp(v[j].s, v[i].s) == 0; j++) {
            size_t r = v[j].row;
            n++;
            pos += s->labels[r] == 1;
            called += x->predicted[r] == 1;
            sum += x->calibrated ? x->probability[r] : x->decision[r];
        }
        glab[gi] = 2 * pos >= n; /* majority both ways; a tie counts as ALL */
        gpred[gi] = 2 * called >= n;
        gscore[gi] = sum / (double)n;
    }
    return bs_metrics_binary(glab, gpred, gscore, g, &x->groups);
}

int bs_study_groups(bs_study *s, const bs_feature_index *idx) {
    s->group_count = s->group_mixed = 0;
    if (s->task != BS_TASK_BINARY) return 0;
    named_row *v;
    size_t m;
    if (manifest_rows(idx, &v, &m)) return -1;
    int64_t g = 0;
    for (size_t i = 0, j; i < m; i = j) { /* v[i..j) is one group */
        int has[2] = {0, 0};
        for (j = i; j < m && strcmp(v[j].s, v[i].s) == 0; j++) has[s->labels[v[j].row] == 1] = 1;
        g++;
        s->group_mixed += has[0] && has[1];
    }
    int32_t *glab = bs_calloc((size_t)(g ? g : 1), sizeof *glab),
            *gpred = bs_calloc((size_t)(g ? g : 1), sizeof *gpred);
    double *gscore = bs_calloc((size_t)(g ? g : 1), sizeof *gscore);
    int rc = glab && gpred && gscore ? 0 : -1;
    for (size_t e = 0; e < s->nexperiments && rc == 0 && g > 0; e++)
        rc = group_metrics(s, &s->experiments[e], v, m, g, glab, gpred, gscore);
    if (rc == 0) s->group_count = g;
    free(v), free(glab), free(gpred), free(gscore);
    return rc;
}

/* Metrics of the original views of source k for experiment x. */
static int source_metrics(const bs_study *s, const bs_experiment *x, const bs_feature_index *idx,
                          int k, int32_t *lab, int32_t *pred, double *dec, bs_metrics *out) {
    int64_t m = 0;
    for (size_t r = 0; r < s->n; r++) {
        if (idx->rows[r].source != k || idx->rows[r].view != BS_VIEW_ORIGINAL) continue;
        lab[m] = s->labels[r], pred[m] = x->predicted[r], dec[m] = x->decision[r];
        m++;
    }
    return bs_metrics_binary(lab, pred, dec, m, out);
}

int bs_study_sources(bs_study *s, const bs_feature_index *idx) {
    int k = 0;
    for (size_t r = 0; r < idx->n; r++)
        if (idx->rows[r].source + 1 > k) k = idx->rows[r].source + 1;
    s->nsources = k;
    s->source_names = bs_calloc((size_t)(k ? k : 1), sizeof *s->source_names);
    if (!s->source_names) return -1;
    for (int j = 0; j < k; j++) {
        const char *name = (size_t)j < idx->nsources ? idx->source_names[j] : NULL;
        s->source_names[j] = name ? bs_strdup(name) : bs_strfmt("%d", j);
        if (!s->source_names[j]) return -1;
    }
    if (k < 2 || s->task != BS_TASK_BINARY) return 0;
    s->source_rows = bs_calloc((size_t)k, sizeof *s->source_rows);
    s->source_positives = bs_calloc((size_t)k, sizeof *s->source_positives);
    int32_t *lab = bs_calloc(s->n, sizeof *lab), *pred = bs_calloc(s->n, sizeof *pred);
    double *dec = bs_calloc(s->n, sizeof *dec);
    int rc = s->source_rows && s->source_positives && lab && pred && dec ? 0 : -1;
    for (size_t r = 0; r < idx->n && rc == 0; r++)
        if (idx->rows[r].view == BS_VIEW_ORIGINAL) {
            s->source_rows[idx->rows[r].source]++;
            s->source_positives[idx->rows[r].source] += s->labels[r] == 1;
        }
    for (size_t e = 0; e < s->nexperiments && rc == 0; e++) {
        bs_experiment *x = &s->experiments[e];
        if (!(x->per_source = bs_calloc((size_t)k, sizeof *x->per_source))) rc = -1;
        for (int j = 0; j < k && rc == 0; j++)
            rc = source_metrics(s, x, idx, j, lab, pred, dec, &x->per_source[j]);
    }
    free(lab), free(pred), free(dec);
    return rc;
}
