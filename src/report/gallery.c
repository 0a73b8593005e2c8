/* gallery.c — the parts of report.html a reader looks at rather than reads: every
 * misclassified test image per protocol and experiment (thumbnail, true and predicted class,
 * decision, probability, fold, which views were wrong; an occlusion map when one was made),
 * grouped by confidence, most confident errors first; and the near-duplicate pairs that were
 * joined into one group, weakest first, so the grouping can be judged.
 * Not for: the page around them (html.c). */
#define _GNU_SOURCE
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/csv.h"
#include "core/error.h"
#include "core/io.h"
#include "html_internal.h"
#include "html_util.h"

typedef struct {
    size_t first, nrows; /* rows order[first .. first + nrows) are the views of one image */
    double conf;         /* largest |decision| among its wrong views (0 when undefined) */
} card;

static const bs_feature_index *g_idx; /* qsort has no context argument in C11 */

static int by_path_view(const void *a, const void *b) {
    const bs_feature_row *x = &g_idx->rows[*(const size_t *)a],
                         *y = &g_idx->rows[*(const size_t *)b];
    int c = strcmp(x->path, y->path);
    return c ? c : (int)x->view - (int)y->view;
}

static int by_conf(const void *a, const void *b) {
    const card *x = a, *y = b;
    return x->conf < y->conf ? 1 : x->conf > y->conf ? -1 : x->first < y->first ? -1 : 1;
}

/* probability[e * n + row] from dir/predictions.csv's `probability` column; NaN when absent. */
static double *read_probabilities(const char *dir, const bs_study *s) {
    double *prob =
        bs_malloc(sizeof(double) * (s->nexperiments ? s->nexperiments : 1) * (s->n ? s->n : 1));
    if (!prob) return NULL;
    for (size_t i = 0; i < s->nexperiments * s->n; i++) prob[i] = NAN;
    char *path = bs_path_join(dir, "predictions.csv");
    bs_csv csv;
    if (!path || !bs_file_exists(path) || bs_csv_read(path, &csv)) {
        free(path);
        return prob;
    }
    int ci = bs_csv_column(&csv, "id"), ce = bs_csv_column(&csv, "experiment");
    int cp = bs_csv_column(&csv, "probability");
    for (size_t r = 0; ci >= 0 && ce >= 0 && cp >= 0 && r < csv.nrows; r++) {
        char *end;
        long id = strtol(csv.rows[r][ci], &end, 10);
        if (*end || id < 0 || (size_t)id >= s->n || !csv.rows[r][cp][0]) continue;
        for (size_t e = 0; e < s->nexperiments; e++)
            if (strcmp(s->experiments[e].name, csv.rows[r][ce]) == 0)
                prob[e * s->n + (size_t)id] = strtod(csv.rows[r][cp], NULL);
    }
    bs_csv_free(&csv);
    free(path);
    return prob;
}

static const bs_html_map *find_map(const bs_html_input *in, bs_protocol p, const char *exp,
                                   const char *path) {
    for (size_t i = 0; i < in->nmaps; i++)
        if (in->maps[i].protocol == p && !strcmp(in->maps[i].experiment, exp) &&
            !strcmp(in->maps[i].path, path))
            return &in->maps[i];
    return NULL;
}

static void view_line(FILE *fp, const bs_study *s, const bs_experiment *x, const double *prob,
                      size_t r, const bs_feature_row *row) {
    const int wrong = x->predicted[r] != s->labels[r];
    bs_putf(fp, "<br><span class=\"%s\">%s</span> %s · fold %d", wrong ? "bad" : "ok",
            wrong ? "✗" : "✓", bs_view_name(row->view), s->fold[r] + 1);
    if (isfinite(x->decision[r])) bs_putf(fp, " · d %+.3f", x->decision[r]);
    if (isfinite(prob[r])) bs_putf(fp, " · P %.3f", prob[r]);
}

static int write_card(FILE *fp, const bs_html_input *in, bs_protocol p, size_t e,
                      const double *prob, const size_t *order, const card *c, bs_thumbs *thumbs) {
    const bs_study *s = in->study[p];
    const bs_experiment *x = &s->experiments[e];
    const bs_feature_row *row = &in->idx->rows[order[c->first]];
    size_t wrong_row = order[c->first];
    for (size_t k = c->nrows; k-- > 0;)
        if (x->predicted[order[c->first + k]] != s->labels[order[c->first + k]])
            wrong_row = order[c->first + k]; /* the first wrong view, in view order */
    int id = bs_thumbs_file(thumbs, row->path);
    const bs_html_map *map = find_map(in, p, x->name, row->path);
    int mid = map ? bs_thumbs_jpeg(thumbs, map->jpeg, map->len) : -2;
    if (id < 0 || mid == -1) return -1;
    bs_putf(fp,
            "<figure class=\"card\"><div class=\"th t%d\" role=\"img\" aria-label=\"image\"></div>",
            id);
    if (map)
        bs_putf(
            fp,
            "<div class=\"th t%d\" role=\"img\" aria-label=\"occlusion map\" title=\"occlusion "
            "map: red regions pushed towards ALL, blue towards healthy (decision %+.3f)\"></div>",
            mid, map->base);
    fputs("<figcaption><b title=\"", fp);
    bs_html_text(fp, row->path);
    fputs("\">", fp);
    bs_html_text(fp, bs_html_basename(row->path));
    fputs("</b><br>true ", fp);
    bs_html_text(fp, s->class_names[s->labels[wrong_row]]);
    fputs(" (", fp);
    bs_html_text(fp, row->class_name);
    fputs(") → <b class=\"bad\">", fp);
    bs_html_text(fp, s->class_names[x->predicted[wrong_row]]);
    fputs("</b>", fp);
    for (size_t k = 0; k < c->nrows; k++)
        view_line(fp, s, x, prob, order[c->first + k], &in->idx->rows[order[c->first + k]]);
    fputs("</figcaption></figure>\n", fp);
    return 0;
}

/* The wrong images of one experiment, as cards sorted by confidence. */
static card *wrong_images(const bs_study *s, const bs_experiment *x, const bs_feature_index *idx,
                          const size_t *order, size_t *ncards, size_t *nrows_wrong) {
    card *cards = bs_calloc(s->n ? s->n : 1, sizeof *cards);
    *ncards = *nrows_wrong = 0;
    for (size_t a = 0, b; cards && a < s->n; a = b) {
        card c = {a, 0, 0};
        int wrong = 0;
        for (b = a; b < s->n && !strcmp(idx->rows[order[b]].path, idx->rows[order[a]].path); b++) {
            size_t r = order[b];
            if (x->predicted[r] == s->labels[r]) continue;
            wrong = 1;
            (*nrows_wrong)++;
            if (isfinite(x->decision[r]) && fabs(x->decision[r]) > c.conf)
                c.conf = fabs(x->decision[r]);
        }
        c.nrows = b - a;
        if (wrong) cards[(*ncards)++] = c;
    }
    if (cards) qsort(cards, *ncards, sizeof *cards, by_conf);
    return cards;
}

static int experiment_gallery(FILE *fp, const bs_html_input *in, bs_protocol p, size_t e,
                              const size_t *order, bs_thumbs *thumbs, int open) {
    const bs_study *s = in->study[p];
    const bs_experiment *x = &s->experiments[e];
    double *prob = read_probabilities(in->study_dir[p], s);
    size_t nc, nw;
    card *cards = prob ? wrong_images(s, x, in->idx, order, &nc, &nw) : NULL;
    if (!cards) {
        free(prob);
        return -1;
    }
    bs_putf(fp, "<details%s><summary>", open ? " open" : "");
    bs_html_text(fp, x->name);
    bs_putf(fp, " — %zu image%s with a wrong view (%zu of %zu test rows wrong)</summary>\n", nc,
            nc == 1 ? "" : "s", nw, s->n);
    static const double lo[3] = {1.0, 0.5, 0.0};
    static const char *const band[3] = {"|decision| ≥ 1: beyond the margin, confidently wrong",
                                        "0.5 ≤ |decision| < 1",
                                        "|decision| < 0.5: near the boundary"};
    int rc = 0;
    for (size_t k = 0, b = 0; b < 3 && rc == 0; b++) {
        size_t k0 = k;
        while (k < nc && (cards[k].conf >= lo[b] || b == 2 || s->task != BS_TASK_BINARY)) k++;
        if (k == k0) continue;
        bs_putf(fp, "<h4>%s (%zu)</h4><div class=\"cards\">\n",
                s->task == BS_TASK_BINARY ? band[b] : "every wrong image", k - k0);
        for (size_t j = k0; j < k && rc == 0; j++)
            rc = write_card(fp, in, p, e, prob + e * s->n, order, &cards[j], thumbs);
        fputs("</div>\n", fp);
    }
    fputs("</details>\n", fp);
    free(cards);
    free(prob);
    return rc;
}

/* The gallery shown open: the one with occlusion maps, else the last model of the grouped
 * protocol (of the paper protocol when it ran alone). */
static int open_first(const bs_html_input *in, bs_protocol p, size_t e) {
    const bs_study *s = in->study[p];
    if (in->nmaps)
        return in->maps[0].protocol == p && !strcmp(in->maps[0].experiment, s->experiments[e].name);
    return (p == BS_PROTOCOL_GROUPED || !in->study[BS_PROTOCOL_GROUPED]) &&
           e + 1 == s->nexperiments;
}

int bs_html_gallery(FILE *fp, const bs_html_input *in, bs_thumbs *thumbs) {
    const bs_feature_index *idx = in->idx;
    size_t *order = bs_calloc(idx->n ? idx->n : 1, sizeof *order);
    if (!order) return -1;
    for (size_t r = 0; r < idx->n; r++) order[r] = r;
    g_idx = idx;
    qsort(order, idx->n, sizeof *order, by_path_view);
    fputs("<section id=\"gallery\"><h2>Misclassified test images</h2>\n<p class=\"note\">Every "
          "image with at least one wrong test view, per protocol and model, most confident errors "
          "first. Per view: ✗ wrong / ✓ right, the fold it was tested in, the SVM decision d (&gt; "
          "0: "
          "ALL) and, when predictions.csv has it, the calibrated probability P of ALL.",
          fp);
    if (in->maps_note) {
        fputs(" ", fp);
        bs_html_text(fp, in->maps_note);
    }
    fputs("</p>\n", fp);
    int rc = 0;
    for (int p = 0; p < BS_PROTOCOLS && rc == 0; p++) {
        const bs_study *s = in->study[p];
        if (!s) continue;
        bs_putf(fp, "<h3>%s protocol</h3>\n", bs_protocol_name((bs_protocol)p));
        for (size_t e = 0; e < s->nexperiments && rc == 0; e++)
            rc = experiment_gallery(fp, in, (bs_protocol)p, e, order, thumbs,
                                    open_first(in, (bs_protocol)p, e));
    }
    fputs("</section>\n", fp);
    free(order);
    return rc;
}

typedef struct {
    size_t row;
    double score;
} pair;

static int by_score(const void *a, const void *b) {
    const pair *x = a, *y = b;
    return x->score < y->score ? -1 : x->score > y->score ? 1 : x->row < y->row ? -1 : 1;
}

static int truthy(const char *s) {
    return !strcmp(s, "1") || !strcasecmp(s, "true") || !strcasecmp(s, "yes");
}

static int pair_cards(FILE *fp, const bs_csv *csv, const pair *v, size_t n, int ca, int cb,
                      bs_thumbs *thumbs) {
    fputs("<div class=\"cards\">\n", fp);
    for (size_t i = 0; i < n; i++) {
        const char *a = csv->rows[v[i].row][ca], *b = csv->rows[v[i].row][cb];
        int ia = bs_thumbs_file(thumbs, a), ib = bs_thumbs_file(thumbs, b);
        if (ia < 0 || ib < 0) return -1;
        bs_putf(fp,
                "<figure class=\"card\"><div class=\"th t%d\"></div><div class=\"th t%d\"></div>"
                "<figcaption>score <b>%.3f</b><br>",
                ia, ib, v[i].score);
        bs_html_text(fp, bs_html_basename(a));
        fputs("<br>", fp);
        bs_html_text(fp, bs_html_basename(b));
        fputs("</figcaption></figure>\n", fp);
    }
    fputs("</div>\n", fp);
    return 0;
}

int bs_html_near_duplicates(FILE *fp, const bs_html_input *in, bs_thumbs *thumbs) {
    fputs("<section id=\"neardup\"><h2>Near-duplicate pairs joined into one group</h2>\n", fp);
    char *path = in->featdir ? bs_path_join(in->featdir, "near_duplicates.csv") : NULL;
    bs_csv csv;
    if (!path || !bs_file_exists(path) || bs_csv_read(path, &csv)) {
        fputs("<p class=\"note\">No near_duplicates.csv in the feature folder.</p></section>\n",
              fp);
        free(path);
        return 0;
    }
    free(path);
    int ca = bs_csv_column(&csv, "path_a"), cb = bs_csv_column(&csv, "path_b");
    int cs = bs_csv_column(&csv, "score"), cj = bs_csv_column(&csv, "joined");
    pair *v = bs_calloc(csv.nrows ? csv.nrows : 1, sizeof *v);
    size_t n = 0;
    for (size_t r = 0; v && ca >= 0 && cb >= 0 && cs >= 0 && r < csv.nrows; r++)
        if (cj < 0 || truthy(csv.rows[r][cj])) v[n++] = (pair){r, strtod(csv.rows[r][cs], NULL)};
    int rc = v ? 0 : -1;
    if (v) {
        qsort(v, n, sizeof *v, by_score);
        bs_putf(fp,
                "<p class=\"note\">%zu pairs, weakest first: each pair was put in one group so no "
                "split separates them. Judge whether they show the same field or cell.</p>\n",
                n);
        rc = pair_cards(fp, &csv, v, n, ca, cb, thumbs);
    }
    fputs("</section>\n", fp);
    free(v);
    bs_csv_free(&csv);
    return rc;
}
