/* mil.c — mi-SVM in a study's report (see mil.h): per experiment and fold the rounds, whether
 * the labels settled, and how many images of the positive bags (the groups labelled ALL: a
 * field's cells) ended positive, with the per-bag spread; per image, whether every fold that
 * trained on it kept it positive or relabelled it negative; and, in report.html, a sample of
 * both kinds. Not for: the relabelling (fit/mil.c) or the study's bookkeeping (study/mil.c). */
#include "mil.h"

#include <string.h>

#include "core/io.h"
#include "html_util.h"

#define MIL_BAGS                                                                                   \
    "the groups whose label is 1 (a field's cells); instances: images, views share a label"
#define MIL_WEAK                                                                                   \
    "test rows are scored against their own group's label, not instance labels: a weak measure"

static int64_t converged_folds(const bs_study *s, const bs_experiment *x, int *lo, int *hi) {
    int64_t c = 0;
    for (int f = 0; f < s->folds; f++) {
        c += x->mil[f].converged;
        if (f == 0 || x->mil[f].rounds < *lo) *lo = x->mil[f].rounds;
        if (f == 0 || x->mil[f].rounds > *hi) *hi = x->mil[f].rounds;
    }
    return c;
}

void bs_report_json_mil(bs_json_writer *w, const bs_study *s) {
    if (!s->mil_rounds) return;
    bs_json_begin_object(w, "mil", BS_JSON_LINES);
    bs_json_put_int(w, "max_rounds", s->mil_rounds);
    bs_json_put_string(w, "bags", MIL_BAGS);
    bs_json_put_string(w, "test_metrics", MIL_WEAK);
    bs_json_begin_array(w, "experiments", BS_JSON_LINES);
    for (size_t e = 0; e < s->nexperiments; e++) {
        const bs_experiment *x = &s->experiments[e];
        bs_json_begin_object(w, NULL, BS_JSON_LINES);
        bs_json_put_string(w, "name", x->name);
        bs_json_begin_object(w, "images", BS_JSON_INLINE);
        bs_json_put_int(w, "positive_in_every_fold", x->mil_images[0]);
        bs_json_put_int(w, "negative_in_every_fold", x->mil_images[1]);
        bs_json_put_int(w, "mixed", x->mil_images[2]);
        bs_json_end(w);
        bs_json_begin_array(w, "per_fold", BS_JSON_LINES);
        for (int f = 0; f < s->folds; f++) {
            const bs_fit_mil *m = &x->mil[f];
            bs_json_begin_object(w, NULL, BS_JSON_INLINE);
            bs_json_put_int(w, "rounds", m->rounds);
            bs_json_put_bool(w, "converged", m->converged);
            bs_json_put_int(w, "changed_last", m->changed_last);
            bs_json_put_int(w, "bags", m->bags);
            bs_json_put_int(w, "instances", m->instances);
            bs_json_put_int(w, "positives", m->positives);
            bs_json_put_int(w, "per_bag_min", m->bag_min);
            bs_json_put_number(w, "per_bag_median", m->bag_median);
            bs_json_put_int(w, "per_bag_max", m->bag_max);
            bs_json_end(w);
        }
        bs_json_end(w);
        bs_json_end(w);
    }
    bs_json_end(w);
    bs_json_end(w);
}

void bs_report_mil_md(FILE *fp, const bs_study *s) {
    if (!s->mil_rounds) return;
    bs_putf(fp,
            "\n## Multiple-instance labels (mi-SVM), %s protocol\n\n"
            "Every fold's SVM was fitted as mi-SVM (at most %d fits): bags are " MIL_BAGS
            ". Positive-bag images of each fold's training rows that ended positive, over all "
            "folds (an image is in the training rows of k - 1 folds); the images columns count "
            "each ALL-group image once (original views). Caution: " MIL_WEAK ".\n\n"
            "| model | folds converged | rounds | ended positive | per bag min / median / max "
            "(fold 1) | images kept positive | relabelled negative | mixed |\n"
            "|---|---:|---:|---:|---:|---:|---:|---:|\n",
            bs_protocol_name(s->protocol), s->mil_rounds);
    for (size_t e = 0; e < s->nexperiments; e++) {
        const bs_experiment *x = &s->experiments[e];
        int lo = 0, hi = 0;
        int64_t conv = converged_folds(s, x, &lo, &hi), pos = 0, inst = 0;
        for (int f = 0; f < s->folds; f++) pos += x->mil[f].positives, inst += x->mil[f].instances;
        bs_putf(fp,
                "| %s | %lld of %d | %d-%d | %lld of %lld (%.1f %%) | %lld / %g / %lld | %lld | "
                "%lld | %lld |\n",
                x->name, (long long)conv, s->folds, lo, hi, (long long)pos, (long long)inst,
                inst ? 100.0 * (double)pos / (double)inst : 0.0, (long long)x->mil[0].bag_min,
                x->mil[0].bag_median, (long long)x->mil[0].bag_max, (long long)x->mil_images[0],
                (long long)x->mil_images[1], (long long)x->mil_images[2]);
    }
}

/* ---------------- report.html ---------------- */

/* Up to BS_REPORT_MIL_SAMPLE original-view rows of one kind (0: positive in every fold that
 * trained on them, 1: negative in every one), evenly spaced in index order: deterministic. */
static size_t sample_rows(const bs_study *s, const bs_experiment *x, const bs_feature_index *idx,
                          int kind, size_t *out) {
    size_t total = 0, n = 0;
    for (int pass = 0; pass < 2; pass++) {
        size_t k = 0;
        for (size_t r = 0; r < s->n; r++) {
            if (idx->rows[r].view != BS_VIEW_ORIGINAL || !x->mil_bagged[r]) continue;
            int positive = x->mil_positive[r] == x->mil_bagged[r], negative = !x->mil_positive[r];
            if (!(kind == 0 ? positive : negative)) continue;
            if (pass == 0) {
                total++;
            } else if (n < BS_REPORT_MIL_SAMPLE &&
                       k++ == n * total /
                                  (total < BS_REPORT_MIL_SAMPLE ? total : BS_REPORT_MIL_SAMPLE)) {
                out[n++] = r;
            }
        }
    }
    return n;
}

static int cards(FILE *fp, const bs_study *s, const bs_experiment *x, const bs_feature_index *idx,
                 int kind, bs_thumbs *thumbs) {
    size_t rows[BS_REPORT_MIL_SAMPLE], n = sample_rows(s, x, idx, kind, rows);
    bs_putf(fp, "<h4>%s: %lld image%s%s</h4>\n<div class=\"cards\">\n",
            kind == 0 ? "Kept positive (a blast, by the model's sign in every fold)"
                      : "Relabelled negative (in every fold)",
            (long long)x->mil_images[kind], x->mil_images[kind] == 1 ? "" : "s",
            n < (size_t)x->mil_images[kind] ? ", a sample" : "");
    for (size_t i = 0; i < n; i++) {
        const bs_feature_row *row = &idx->rows[rows[i]];
        int id = bs_thumbs_file(thumbs, row->path);
        if (id < 0) return -1;
        bs_putf(fp,
                "<figure class=\"card\"><div class=\"th t%d\" role=\"img\" aria-label=\"cell\">"
                "</div><figcaption>",
                id);
        bs_html_text(fp, bs_html_basename(row->path));
        fputs("<br>group ", fp);
        bs_html_text(fp, bs_html_basename(row->group));
        bs_putf(fp, "<br>positive in %d of %d folds<br>test decision %+.3f</figcaption></figure>\n",
                x->mil_positive[rows[i]], x->mil_bagged[rows[i]], x->decision[rows[i]]);
    }
    fputs("</div>\n", fp);
    return 0;
}

int bs_html_mil(FILE *fp, const bs_html_input *in, bs_thumbs *thumbs) {
    int any = 0;
    for (int p = 0; p < 2; p++) any |= in->study[p] && in->study[p]->mil_rounds;
    if (!any) return 0;
    fputs("<section id=\"mil\"><h2>Multiple-instance labels (mi-SVM)</h2>\n<p class=\"note\">"
          "Bags are " MIL_BAGS ". Each fold's SVM started from the bag labels and relabelled a "
          "bag's images by its sign, keeping the highest-scoring one positive. Below, per model, "
          "the ALL-group images every fold kept positive and those every fold relabelled "
          "negative: judge whether the first look like blasts and the second like normal "
          "cells. Caution: " MIL_WEAK ".</p>\n",
          fp);
    for (int p = 0; p < 2; p++) {
        const bs_study *s = in->study[p];
        if (!s || !s->mil_rounds) continue;
        for (size_t e = 0; e < s->nexperiments; e++) {
            const bs_experiment *x = &s->experiments[e];
            int lo = 0, hi = 0;
            int64_t conv = converged_folds(s, x, &lo, &hi);
            bs_putf(fp, "<h3>");
            bs_html_text(fp, x->name);
            bs_putf(fp,
                    ", %s protocol</h3>\n<p>%lld of %d folds converged (%d-%d rounds, cap %d); "
                    "%lld images kept positive, %lld relabelled negative, %lld mixed.</p>\n",
                    bs_protocol_name(s->protocol), (long long)conv, s->folds, lo, hi, s->mil_rounds,
                    (long long)x->mil_images[0], (long long)x->mil_images[1],
                    (long long)x->mil_images[2]);
            if (cards(fp, s, x, in->idx, 0, thumbs) || cards(fp, s, x, in->idx, 1, thumbs))
                return -1;
        }
    }
    fputs("</section>\n", fp);
    return 0;
}
