/* audit.c — the calibration and shortcut-audit sections of report.html, read back from each
 * protocol's results.json (jansson) when it holds them: `shortcuts` at the top level
 * ([{name, features, ac, auc, warning}]) and `calibration` per experiment ({brier, ece, bins,
 * coverage: [{abstain, set_aside, coverage, accuracy}]}). results.json is the contract
 * between the study that computes these numbers and this page; a file without them gives a
 * one-line note. Not for: computing them. */
#define _GNU_SOURCE
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/io.h"
#include "html_internal.h"
#include "html_util.h"

/* A fraction as a percentage; a value above 1 is taken as a percentage already. Objects
 * with a "value" (our metric form) are unwrapped. */
static void pct_cell(FILE *fp, json_t *v) {
    if (json_is_object(v)) v = json_object_get(v, "value");
    if (!json_is_number(v)) {
        fputs("<td>—</td>", fp);
        return;
    }
    double x = json_number_value(v);
    bs_putf(fp, "<td>%.2f</td>", x <= 1 ? 100 * x : x);
}

static void num_cell(FILE *fp, json_t *v, const char *fmt) {
    if (json_is_number(v))
        bs_putf(fp, fmt, json_number_value(v));
    else
        fputs("<td>—</td>", fp);
}

static void text_of(FILE *fp, json_t *v) {
    if (json_is_string(v))
        bs_html_text(fp, json_string_value(v));
    else if (json_is_array(v)) {
        size_t i;
        json_t *x;
        json_array_foreach(v, i, x) {
            if (i) fputs(", ", fp);
            text_of(fp, x);
        }
    } else if (json_is_true(v))
        fputs("yes", fp);
    else if (json_is_number(v))
        bs_putf(fp, "%g", json_number_value(v));
}

static void shortcuts_table(FILE *fp, json_t *list, const char *protocol) {
    bs_putf(
        fp,
        "<h3>Shortcut audit, %s protocol</h3>\n<p class=\"note\">Baselines on features a "
        "diagnosis must not depend on, on the same folds; a high AC or AUC means the labels can "
        "be read off the acquisition, not the cells.</p>\n<table><tr><th class=\"l\">baseline</th>"
        "<th class=\"l\">features</th><th>AC %%</th><th>AUC %%</th><th "
        "class=\"l\">warning</th></tr>\n",
        protocol);
    size_t i;
    json_t *s;
    json_array_foreach(list, i, s) {
        fputs("<tr><td class=\"l\">", fp);
        text_of(fp, json_object_get(s, "name"));
        fputs("</td><td class=\"l\">", fp);
        text_of(fp, json_object_get(s, "features"));
        fputs("</td>", fp);
        pct_cell(fp, json_object_get(s, "ac"));
        pct_cell(fp, json_object_get(s, "auc"));
        json_t *w = json_object_get(s, "warning");
        bs_putf(fp, "<td class=\"l\"%s>",
                json_is_string(w) || json_is_true(w) ? " style=\"color:#D55E00\"" : "");
        text_of(fp, w);
        fputs("</td></tr>\n", fp);
    }
    fputs("</table>\n", fp);
}

static void coverage_text(FILE *fp, json_t *cov) {
    size_t i;
    json_t *c;
    json_array_foreach(cov, i, c) {
        json_t *p = json_object_get(c, "abstain"), *n = json_object_get(c, "set_aside");
        json_t *cv = json_object_get(c, "coverage"), *a = json_object_get(c, "accuracy");
        if (!json_is_number(p)) continue;
        bs_putf(fp, "%sP %.2f: ", i ? "; " : "", json_number_value(p));
        if (json_is_number(n)) bs_putf(fp, "%g set aside", json_number_value(n));
        if (json_is_number(cv)) bs_putf(fp, ", coverage %.1f %%", 100 * json_number_value(cv));
        if (json_is_number(a)) bs_putf(fp, ", accuracy %.2f %%", 100 * json_number_value(a));
    }
}

/* Rows of the calibration table; 0 when no experiment carries calibration. */
static int calibration_rows(FILE *fp, json_t *root) {
    int rows = 0;
    size_t i;
    json_t *x;
    json_array_foreach(json_object_get(root, "experiments"), i, x) {
        json_t *c = json_object_get(x, "calibration");
        if (!json_is_object(c)) continue;
        rows++;
        fputs("<tr><td class=\"l\">", fp);
        text_of(fp, json_object_get(x, "name"));
        fputs("</td>", fp);
        num_cell(fp, json_object_get(c, "brier"), "<td>%.4f</td>");
        num_cell(fp, json_object_get(c, "ece"), "<td>%.4f</td>");
        fputs("<td class=\"l\">", fp);
        coverage_text(fp, json_object_get(c, "coverage"));
        fputs("</td></tr>\n", fp);
    }
    return rows;
}

static int calibration_table(FILE *fp, json_t *root, const char *protocol) {
    char *buf = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&buf, &len);
    if (!mem) return bs_error("out of memory");
    int rows = calibration_rows(mem, root);
    fclose(mem);
    if (rows) {
        bs_putf(
            fp,
            "<h3>Calibration, %s protocol</h3>\n<p class=\"note\">Platt probabilities fitted on "
            "out-of-fold decisions: Brier score and expected calibration error (10 bins), lower is "
            "better; abstaining when the probability lies in [P, 1 − P] sets images aside and "
            "leaves this accuracy on the rest. The reliability and coverage figures are "
            "above.</p>\n"
            "<table><tr><th class=\"l\">model</th><th>Brier</th><th>ECE</th>"
            "<th class=\"l\">abstention</th></tr>\n",
            protocol);
        fwrite(buf, 1, len, fp);
        fputs("</table>\n", fp);
    }
    free(buf);
    return rows;
}

int bs_html_audit(FILE *fp, const bs_html_input *in) {
    fputs("<section id=\"audit\"><h2>Calibration and shortcut audit</h2>\n", fp);
    int shown = 0;
    for (int p = 0; p < BS_PROTOCOLS; p++) {
        if (!in->study[p]) continue;
        json_t *root = bs_html_load_results(in->study_dir[p]);
        if (!root) continue;
        const char *name = bs_protocol_name((bs_protocol)p);
        int rows = calibration_table(fp, root, name);
        if (rows < 0) {
            json_decref(root);
            return -1;
        }
        shown += rows;
        json_t *sc = json_object_get(root, "shortcuts");
        if (json_is_array(sc) && json_array_size(sc)) {
            shortcuts_table(fp, sc, name);
            shown++;
        }
        json_decref(root);
    }
    if (!shown)
        fputs(
            "<p class=\"note\">results.json holds no calibration or shortcut-audit numbers.</p>\n",
            fp);
    fputs("</section>\n", fp);
    return 0;
}
