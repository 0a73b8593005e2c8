/* evidence.c — calibration, abstention, shortcut audit, per-source and per-group results in
 * results.json, SVG and Markdown (see evidence.h). Not for: computing them (src/study). */
#define _GNU_SOURCE
#include "evidence.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/io.h"
#include "core/json.h"
#include "mil.h"
#include "report_util.h"
#include "svg.h"

/* ---------------- results.json ---------------- */

void bs_report_json_calibration(bs_json_writer *w, const bs_experiment *x) {
    if (x->calibrated)
        bs_calibration_write_json(w, "calibration", &x->calibration);
    else
        bs_json_put_null(w, "calibration");
}

static void json_shortcuts(bs_json_writer *w, const bs_study *s) {
    bs_json_begin_array(w, "shortcuts", BS_JSON_LINES);
    for (size_t i = 0; i < s->nshortcuts; i++) {
        const bs_shortcut *sc = &s->shortcuts[i];
        bs_json_begin_object(w, NULL, BS_JSON_INLINE);
        bs_json_put_string(w, "name", sc->name);
        bs_json_put_string(w, "features", sc->features);
        bs_json_put_int(w, "width", sc->width);
        bs_json_put_bool(w, "constant", sc->constant);
        bs_json_put_number(w, "ac", sc->pooled.ac.defined ? sc->pooled.ac.value : NAN);
        bs_json_put_number(w, "auc", sc->pooled.auc.defined ? sc->pooled.auc.value : NAN);
        bs_json_put_bool(w, "warning", sc->warning);
        bs_metrics_write_json(w, "metrics", &sc->pooled);
        bs_json_end(w);
    }
    bs_json_end(w);
    if (s->shortcuts) bs_json_put_number(w, "shortcut_reference_ac", s->best_deep_ac);
}

/* {"name": experiment, "metrics": {…}}: one experiment's metrics on a source or the groups. */
static void json_named_metrics(bs_json_writer *w, const char *name, const bs_metrics *m) {
    bs_json_begin_object(w, NULL, BS_JSON_INLINE);
    bs_json_put_string(w, "name", name);
    bs_metrics_write_json(w, "metrics", m);
    bs_json_end(w);
}

static void json_sources(bs_json_writer *w, const bs_study *s) {
    if (s->nsources < 2 || !s->source_rows) return;
    bs_json_begin_array(w, "sources", BS_JSON_LINES);
    for (int k = 0; k < s->nsources; k++) {
        bs_json_begin_object(w, NULL, BS_JSON_INLINE);
        bs_json_put_int(w, "source", k);
        bs_json_put_string(w, "name", s->source_names[k]);
        bs_json_put_int(w, "images", s->source_rows[k]);
        bs_json_put_int(w, "positives", s->source_positives[k]);
        bs_json_begin_array(w, "experiments", BS_JSON_INLINE);
        for (size_t e = 0; e < s->nexperiments; e++)
            json_named_metrics(w, s->experiments[e].name, &s->experiments[e].per_source[k]);
        bs_json_end(w);
        bs_json_end(w);
    }
    bs_json_end(w);
}

static void json_groups(bs_json_writer *w, const bs_study *s) {
    if (s->group_count <= 0) return;
    /* "groups" already holds the study's group count: the per-group results are "per_group". */
    bs_json_begin_object(w, "per_group", BS_JSON_INLINE);
    bs_json_put_string(w, "rule", BS_STUDY_GROUP_RULE);
    bs_json_put_int(w, "count", s->group_count);
    bs_json_put_int(w, "mixed_label_groups", s->group_mixed);
    bs_json_begin_array(w, "experiments", BS_JSON_LINES);
    for (size_t e = 0; e < s->nexperiments; e++)
        json_named_metrics(w, s->experiments[e].name, &s->experiments[e].groups);
    bs_json_end(w);
    bs_json_end(w);
}

void bs_report_json_evidence(bs_json_writer *w, const bs_study *s) {
    if (s->task != BS_TASK_BINARY) return;
    json_shortcuts(w, s);
    json_sources(w, s);
    json_groups(w, s);
    bs_report_json_travel(w, s);
    bs_report_json_mil(w, s);
}

/* ---------------- figures ---------------- */

/* Both figures: a unit square of side FIG_SIZE at (FIG_LEFT, FIG_TOP), a legend to its right. */
#define FIG_LEFT 60.0
#define FIG_TOP 50.0
#define FIG_SIZE 360.0

/* The SVG header and the centred title "what (protocol protocol)". */
static void figure_begin(FILE *fp, const char *what, const bs_study *s) {
    char title[128];
    snprintf(title, sizeof title, "%s (%s protocol)", what, bs_protocol_name(s->protocol));
    bs_svg_begin(fp, (int)(FIG_LEFT + FIG_SIZE + 260), (int)(FIG_TOP + FIG_SIZE + 60), title);
    bs_svg_text(fp, (FIG_LEFT + FIG_SIZE + 260) / 2, 24, "middle", 16, "#222", title);
}

/* A square unit plot at (left, top) of side size: frame, diagonal (optional), ticks. */
static void unit_axes(FILE *fp, double left, double top, double size, int diagonal,
                      const char *xlab, const char *ylab, double ylo) {
    bs_svg_rect(fp, left, top, size, size, "#fafafa", NULL);
    if (diagonal) bs_svg_line(fp, left, top + size, left + size, top, "#aaa", 1, 1);
    for (int t = 0; t <= 4; t++) {
        char lab[16];
        snprintf(lab, sizeof lab, "%.3g", ylo + t * (1 - ylo) / 4);
        bs_svg_text(fp, left - 6, top + size - t * size / 4 + 4, "end", 11, "#444", lab);
        snprintf(lab, sizeof lab, "%.2f", t * 0.25);
        bs_svg_text(fp, left + t * size / 4, top + size + 16, "middle", 11, "#444", lab);
    }
    bs_svg_text(fp, left + size / 2, top + size + 36, "middle", 12, "#222", xlab);
    bs_svg_text(fp, 14, top - 10, "start", 12, "#222", ylab);
}

static void legend(FILE *fp, double x, double y, int e, const char *text) {
    bs_svg_line(fp, x, y + 20 * e, x + 20, y + 20 * e, bs_svg_palette(e), 3, 0);
    bs_svg_text(fp, x + 25, y + 4 + 20 * e, "start", 12, "#222", text);
}

/* Reliability diagram: per experiment, fraction of ALL against mean probability in each of
 * the 10 bins that holds an image; the diagonal is perfect calibration. */
static int reliability_svg(FILE *fp, const void *study, const void *unused) {
    (void)unused;
    const bs_study *s = study;
    const double left = FIG_LEFT, top = FIG_TOP, size = FIG_SIZE;
    figure_begin(fp, "Reliability of Platt probabilities", s);
    unit_axes(fp, left, top, size, 1, "mean predicted P(ALL) in the bin", "fraction ALL", 0);
    for (size_t e = 0; e < s->nexperiments; e++) {
        const bs_experiment *x = &s->experiments[e];
        if (!x->calibrated) continue;
        bs_svg_polyline_begin(fp, bs_svg_palette((int)e), 2);
        for (int b = 0; b < BS_CALIBRATION_BINS; b++)
            if (x->calibration.bins[b].n)
                bs_svg_polyline_point(fp, left + x->calibration.bins[b].mean_probability * size,
                                      top + size - x->calibration.bins[b].fraction_positive * size);
        bs_svg_polyline_end(fp);
        for (int b = 0; b < BS_CALIBRATION_BINS; b++) {
            const bs_reliability_bin *bin = &x->calibration.bins[b];
            if (!bin->n) continue;
            char tip[160];
            snprintf(tip, sizeof tip,
                     "%s: %lld images with P in [%.1f, %.1f): mean P %.3f, ALL %.3f", x->name,
                     (long long)bin->n, bin->lo, bin->hi, bin->mean_probability,
                     bin->fraction_positive);
            bs_svg_rect(fp, left + bin->mean_probability * size - 3,
                        top + size - bin->fraction_positive * size - 3, 6, 6,
                        bs_svg_palette((int)e), tip);
        }
        char lab[128];
        snprintf(lab, sizeof lab, "%s (ECE %.3f)", x->name, x->calibration.ece);
        legend(fp, left + size + 15, top + 10, (int)e, lab);
    }
    bs_svg_end(fp);
    return 0;
}

/* The original views' probabilities, labels and predictions of experiment x (n rows). */
static int64_t originals(const bs_study *s, const bs_experiment *x, const bs_feature_index *idx,
                         double *p, int32_t *lab, int32_t *pred) {
    int64_t m = 0;
    for (size_t r = 0; r < s->n; r++)
        if (idx->rows[r].view == BS_VIEW_ORIGINAL)
            p[m] = x->probability[r], lab[m] = s->labels[r], pred[m++] = x->predicted[r];
    return m;
}

#define CURVE_STEPS 100 /* P = k / 200, k = 1 … 99 */

/* The lowest accuracy any curve reaches, floored to a tenth (at most 0.9): the y axis' start. */
static double curve_floor(const bs_study *s, const bs_feature_index *idx, double *p, int32_t *lab,
                          int32_t *pred) {
    double lo = 1;
    for (size_t e = 0; e < s->nexperiments; e++) {
        if (!s->experiments[e].calibrated) continue;
        int64_t m = originals(s, &s->experiments[e], idx, p, lab, pred);
        for (int k = 1; k < CURVE_STEPS; k++) {
            bs_coverage_point c;
            if (bs_coverage(p, lab, pred, m, k / 200.0, &c) == 0 && c.kept > 0 && c.accuracy < lo)
                lo = c.accuracy;
        }
    }
    lo = floor(lo * 10) / 10;
    return lo > 0.9 ? 0.9 : lo;
}

/* Accuracy on the images kept against the share kept, as the abstention threshold P goes from
 * 0.005 to 0.495; marks at P = 0.1, 0.2, 0.3. */
static int coverage_svg(FILE *fp, const void *study, const void *index) {
    const bs_study *s = study;
    const bs_feature_index *idx = index;
    const double left = FIG_LEFT, top = FIG_TOP, size = FIG_SIZE;
    figure_begin(fp, "Accuracy against coverage when abstaining", s);
    double *p = bs_malloc(sizeof *p * (s->n ? s->n : 1));
    int32_t *lab = bs_malloc(sizeof *lab * (s->n ? s->n : 1)),
            *pred = bs_malloc(sizeof *pred * (s->n ? s->n : 1));
    int rc = p && lab && pred ? 0 : -1;
    const double ylo = rc == 0 ? curve_floor(s, idx, p, lab, pred) : 0;
    unit_axes(fp, left, top, size, 0, "coverage (share of images not set aside)",
              "accuracy on the rest", ylo);
    for (size_t e = 0; e < s->nexperiments && rc == 0; e++) {
        const bs_experiment *x = &s->experiments[e];
        if (!x->calibrated) continue;
        int64_t m = originals(s, x, idx, p, lab, pred);
        bs_svg_polyline_begin(fp, bs_svg_palette((int)e), 2);
        for (int k = 1; k < CURVE_STEPS && rc == 0; k++) {
            bs_coverage_point c;
            rc = bs_coverage(p, lab, pred, m, k / 200.0, &c);
            if (rc == 0 && c.kept > 0)
                bs_svg_polyline_point(fp, left + c.coverage * size,
                                      top + size -
                                          (fmax(c.accuracy, ylo) - ylo) / (1 - ylo) * size);
        }
        bs_svg_polyline_end(fp);
        for (int k = 1; k <= 3 && rc == 0; k++) {
            bs_coverage_point c;
            rc = bs_coverage(p, lab, pred, m, k / 10.0, &c);
            if (rc || c.kept == 0) continue;
            char tip[160];
            snprintf(tip, sizeof tip,
                     "%s, P = %.1f: %lld of %lld images set aside, accuracy %.3f on the rest",
                     x->name, k / 10.0, (long long)c.set_aside, (long long)m, c.accuracy);
            bs_svg_rect(fp, left + c.coverage * size - 3,
                        top + size - (fmax(c.accuracy, ylo) - ylo) / (1 - ylo) * size - 3, 6, 6,
                        bs_svg_palette((int)e), tip);
        }
        legend(fp, left + size + 15, top + 10, (int)e, x->name);
    }
    bs_svg_text(fp, left + size + 15, top + size - 24, "start", 11, "#444",
                "squares: abstaining at");
    bs_svg_text(fp, left + size + 15, top + size - 10, "start", 11, "#444",
                "P = 0.3, 0.2, 0.1 (left to right)");
    free(p), free(lab), free(pred);
    bs_svg_end(fp);
    return rc;
}

/* ---------------- Markdown ---------------- */

static void md_calibration(FILE *fp, const bs_study *s, const char *fig_prefix) {
    bs_putf(fp, "## Calibration and abstention (%s protocol)\n\n", bs_protocol_name(s->protocol));
    fputs("P(ALL) of a test image comes from Platt's sigmoid fitted, for each fold, on the "
          "out-of-fold SVM "
          "decisions of the other folds (clipped to Tukey's far-out fences): it never saw the "
          "image's label nor its "
          "fold. Brier score and expected "
          "calibration error (10 equal-width bins) over the original images; abstaining at P sets "
          "aside the "
          "images whose probability lies in [P, 1 − P] (`predict --abstain P`).\n\n",
          fp);
    fputs("| Model | Brier | ECE | P = 0.1: set aside | accuracy on the rest | P = 0.2: set aside "
          "| accuracy | "
          "P = 0.3: set aside | accuracy |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|\n",
          fp);
    for (size_t e = 0; e < s->nexperiments; e++) {
        const bs_experiment *x = &s->experiments[e];
        if (!x->calibrated) {
            bs_putf(fp, "| %s | — | — | — | — | — | — | — | — |\n", x->name);
            continue;
        }
        bs_putf(fp, "| %s | %.4f | %.4f", x->name, x->calibration.brier, x->calibration.ece);
        for (int k = 1; k <= 5; k += 2) { /* coverage[1], [3], [5]: P = 0.1, 0.2, 0.3 */
            const bs_coverage_point *c = &x->calibration.coverage[k];
            bs_putf(fp, " | %lld of %lld | ", (long long)c->set_aside, (long long)x->calibration.n);
            bs_report_md_number(fp, 100 * c->accuracy, "%.2f %%");
        }
        fputs(" |\n", fp);
    }
    bs_putf(fp, "\n![reliability](%sreliability.svg) ![accuracy-coverage](%scoverage.svg)\n\n",
            fig_prefix, fig_prefix);
}

static void md_shortcuts(FILE *fp, const bs_study *s) {
    bs_putf(fp, "## Shortcut audit (%s protocol)\n\n", bs_protocol_name(s->protocol));
    if (!s->shortcuts) {
        fputs("Not run: the images could not be read again (see the warning of the run).\n\n", fp);
        return;
    }
    fputs("The same cubic SVM on the same folds, but fed only features a diagnosis must not depend "
          "on. "
          "A baseline is flagged when its AUC reaches 0.80 or its AC comes within 5 points of the "
          "best deep "
          "model's.\n\n| Baseline | Features | AC | AUC | |\n|---|---|---:|---:|---|\n",
          fp);
    int warned = 0;
    for (size_t i = 0; i < s->nshortcuts; i++) {
        const bs_shortcut *sc = &s->shortcuts[i];
        bs_putf(fp, "| %s | %s | ", sc->name, sc->features);
        bs_report_md_number(fp, sc->pooled.ac.defined ? 100 * sc->pooled.ac.value : NAN, "%.2f");
        fputs(" | ", fp);
        bs_report_md_number(fp, sc->pooled.auc.defined ? sc->pooled.auc.value : NAN, "%.3f");
        bs_putf(fp, " | %s%s |\n", sc->warning ? "**warning**" : "",
                sc->constant ? "the same for every image" : "");
        warned += sc->warning;
    }
    int64_t pos = 0;
    for (size_t r = 0; r < s->n; r++) pos += s->labels[r] == 1;
    bs_putf(fp, "\nFor scale: calling every row %s scores %.1f %%.\n\n",
            2 * pos >= (int64_t)s->n ? "ALL" : "healthy",
            s->n ? 100.0 * (double)(2 * pos >= (int64_t)s->n ? pos : (int64_t)s->n - pos) /
                       (double)s->n
                 : 0.0);
    for (size_t i = 0; i < s->nshortcuts; i++) {
        const bs_shortcut *sc = &s->shortcuts[i];
        if (!sc->warning) continue;
        bs_putf(fp,
                "**Warning: possible shortcut.** A classifier that sees only the %s reaches AC "
                "%.1f %% and AUC ",
                sc->features, 100 * sc->pooled.ac.value);
        bs_report_md_number(fp, sc->pooled.auc.defined ? sc->pooled.auc.value : NAN, "%.3f");
        bs_putf(fp,
                ", against %.1f %% for the best deep model. Part of what the deep models score may "
                "come from how "
                "the images were acquired, stained or stored rather than from the cells' "
                "morphology: check that "
                "both classes share microscopes, cameras, stains, file formats and sources before "
                "trusting the "
                "numbers above.\n\n",
                100 * s->best_deep_ac);
    }
    if (!warned)
        bs_putf(fp,
                "No baseline reaches AUC 0.80 or comes within 5 points of the best deep model's AC "
                "(%.1f %%).\n\n",
                100 * s->best_deep_ac);
}

static void md_sources(FILE *fp, const bs_study *s) {
    if (s->nsources < 2 || !s->source_rows) return;
    bs_putf(fp,
            "## Per source (%s protocol)\n\nOriginal images of each source (a `source` column, "
            "a sources.csv, or one per `--data`), in order of first appearance.\n\n| Model",
            bs_protocol_name(s->protocol));
    for (int k = 0; k < s->nsources; k++) bs_putf(fp, " | %s AC | AUC", s->source_names[k]);
    fputs(" |\n|---", fp);
    for (int k = 0; k < s->nsources; k++) fputs("|---:|---:", fp);
    fputs("|\n| images (ALL)", fp);
    for (int k = 0; k < s->nsources; k++)
        bs_putf(fp, " | %lld (%lld) | ", (long long)s->source_rows[k],
                (long long)s->source_positives[k]);
    fputs(" |\n", fp);
    for (size_t e = 0; e < s->nexperiments; e++) {
        const bs_experiment *x = &s->experiments[e];
        bs_putf(fp, "| %s", x->name);
        for (int k = 0; k < s->nsources; k++) {
            fputs(" | ", fp);
            bs_report_md_number(
                fp, x->per_source[k].ac.defined ? 100 * x->per_source[k].ac.value : NAN, "%.2f");
            fputs(" | ", fp);
            bs_report_md_number(fp, x->per_source[k].auc.defined ? x->per_source[k].auc.value : NAN,
                                "%.3f");
        }
        fputs(" |\n", fp);
    }
    fputs("\nA source holding one class only has no AUC; a source whose labels differ from the "
          "others' is itself "
          "a shortcut (see the `source` baseline).\n\n",
          fp);
}

static void md_groups(FILE *fp, const bs_study *s) {
    if (s->group_count <= 0) return;
    bs_putf(
        fp,
        "## Per group (%s protocol)\n\n%lld groups named by the manifest (%lld hold images of both "
        "labels). "
        "Rule: %s.\n\n| Model | groups | SN | SP | AC | AUC |\n|---|---:|---:|---:|---:|---:|\n",
        bs_protocol_name(s->protocol), (long long)s->group_count, (long long)s->group_mixed,
        BS_STUDY_GROUP_RULE);
    for (size_t e = 0; e < s->nexperiments; e++) {
        const bs_metrics *m = &s->experiments[e].groups;
        bs_putf(fp, "| %s | %lld", s->experiments[e].name,
                (long long)(m->tp + m->fn + m->tn + m->fp));
        const bs_metric *v[4] = {&m->sn, &m->sp, &m->ac, &m->auc};
        for (int i = 0; i < 4; i++) {
            fputs(" | ", fp);
            bs_report_md_number(fp, v[i]->defined ? (i < 3 ? 100 * v[i]->value : v[i]->value) : NAN,
                                i < 3 ? "%.2f" : "%.3f");
        }
        fputs(" |\n", fp);
    }
    fputs("\n", fp);
}

void bs_report_evidence_md(FILE *fp, const bs_study *s, const char *fig_prefix) {
    if (s->task != BS_TASK_BINARY) return;
    md_calibration(fp, s, fig_prefix);
    md_shortcuts(fp, s);
    md_sources(fp, s);
    md_groups(fp, s);
    bs_report_travel_md(fp, s);
    bs_report_mil_md(fp, s);
}

static int evidence_md(FILE *fp, const void *study, const void *unused) {
    (void)unused;
    const bs_study *s = study;
    bs_putf(fp, "# Evidence — %s protocol\n\n", bs_protocol_name(s->protocol));
    bs_report_evidence_md(fp, s, "figures/");
    return 0;
}

int bs_report_write_evidence(const bs_study *s, const bs_feature_index *idx, const char *outdir) {
    if (s->task != BS_TASK_BINARY) return 0;
    char *fig = bs_path_join(outdir, "figures");
    int rc = fig ? 0 : -1;
    if (rc == 0) rc = bs_report_write_file(fig, "reliability.svg", reliability_svg, s, idx);
    if (rc == 0) rc = bs_report_write_file(fig, "coverage.svg", coverage_svg, s, idx);
    if (rc == 0) rc = bs_report_write_file(outdir, "evidence.md", evidence_md, s, idx);
    free(fig);
    return rc;
}
