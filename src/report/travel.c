/* travel.c — the leave-one-source-out tables (study.h bs_travel) in results.json and Markdown:
 * per held-out source and way of reading it (as trained, adapted, recalibrated), cells and
 * fields; and the stain-shortcut tests (see evidence.h); and the same in report.html
 * (html_internal.h). Not for: computing them (src/study/travel.c). */
#include <math.h>
#include <stdlib.h>

#include "core/io.h"
#include "core/json.h"
#include "evidence.h"
#include "html_internal.h"
#include "html_util.h"
#include "report_util.h"

static double ratio(int64_t a, int64_t b) { return b > 0 ? (double)a / (double)b : NAN; }

static double value(const bs_metric *m) { return m->defined ? m->value : NAN; }

/* Does some source hold cells of one class only (its AUC undefined)? */
static int one_class_sources(const bs_study *s) {
    for (int k = 0; k < s->nsources; k++)
        if (s->source_positives[k] == 0 || s->source_positives[k] == s->source_rows[k]) return 1;
    return 0;
}

/* fp / (fp + tn): non-blast cells called blasts. */
static double false_blast_rate(const bs_metrics *m) { return ratio(m->fp, m->fp + m->tn); }

static void json_sources(bs_json_writer *w, const bs_study *s) {
    bs_json_begin_array(w, "sources", BS_JSON_LINES);
    for (int k = 0; k < s->nsources; k++) {
        int units = 0;
        for (int f = 0; f < s->folds; f++) units += s->unit_source[f] == k;
        bs_json_begin_object(w, NULL, BS_JSON_INLINE);
        bs_json_put_string(w, "name", s->source_names[k]);
        bs_json_put_string(w, "tested", s->source_within[k] ? "within" : "held out");
        bs_json_put_int(w, "units", units);
        bs_json_put_int(w, "cells", s->source_rows[k]);
        bs_json_put_int(w, "blasts", s->source_positives[k]);
        bs_json_end(w);
    }
    bs_json_end(w);
}

static void json_source_result(bs_json_writer *w, const char *name, const bs_travel_source *r) {
    bs_json_begin_object(w, NULL, BS_JSON_INLINE);
    bs_json_put_string(w, "name", name);
    bs_json_put_bool(w, "defined", r->defined);
    bs_json_put_int(w, "cells", r->cells.tp + r->cells.fn + r->cells.tn + r->cells.fp);
    bs_json_put_number(w, "false_blast_rate", false_blast_rate(&r->cells));
    bs_json_put_number(w, "auc", value(&r->cells.auc));
    bs_json_put_number(w, "ac", value(&r->cells.ac));
    bs_json_put_int(w, "fields", r->fields);
    bs_json_put_int(w, "fields_called", r->fields_called);
    bs_json_put_number(w, "fraction_called", ratio(r->fields_called, r->fields));
    bs_json_put_number(w, "field_ac", value(&r->field_calls.ac));
    bs_json_put_number(w, "field_sn", value(&r->field_calls.sn));
    bs_json_put_number(w, "field_sp", value(&r->field_calls.sp));
    bs_json_put_number(w, "field_auc", value(&r->field_calls.auc));
    bs_metrics_write_json(w, "cell_metrics", &r->cells);
    bs_metrics_write_json(w, "field_metrics", &r->field_calls);
    bs_json_end(w);
}

static void json_stain(bs_json_writer *w, const bs_study *s, const bs_travel *t) {
    bs_json_begin_object(w, "stain", BS_JSON_LINES);
    bs_json_put_number(w, "kept_min", BS_TRAVEL_KEPT_MIN);
    bs_json_begin_array(w, "transfers", BS_JSON_LINES);
    for (size_t i = 0; i < t->ntransfers; i++) {
        const bs_travel_transfer *p = &t->transfers[i];
        bs_json_begin_object(w, NULL, BS_JSON_INLINE);
        bs_json_put_string(w, "from", s->source_names[p->from]);
        bs_json_put_string(w, "to", s->source_names[p->to]);
        bs_json_put_int(w, "cells", p->n);
        bs_json_put_int(w, "kept", p->kept);
        bs_json_put_number(w, "fraction_kept", ratio(p->kept, p->n));
        bs_json_put_int(w, "blasts_before", p->positive_before);
        bs_json_put_int(w, "blasts_after", p->positive_after);
        bs_json_put_bool(w, "warning", (double)p->kept < BS_TRAVEL_KEPT_MIN * (double)p->n);
        bs_json_end(w);
    }
    bs_json_end(w);
    bs_json_begin_object(w, "benign", BS_JSON_INLINE);
    bs_json_put_int(w, "within_negatives", t->within_negatives);
    bs_json_put_int(w, "within_called", t->within_called);
    bs_json_put_number(w, "within_rate", ratio(t->within_called, t->within_negatives));
    bs_json_put_int(w, "heldout_negatives", t->heldout_negatives);
    bs_json_put_int(w, "heldout_called", t->heldout_called);
    bs_json_put_number(w, "heldout_rate", ratio(t->heldout_called, t->heldout_negatives));
    bs_json_put_bool(w, "warning", t->benign_warning);
    bs_json_end(w);
    bs_json_put_bool(w, "warning", t->transfer_warning || t->benign_warning);
    bs_json_end(w);
}

void bs_report_json_travel(bs_json_writer *w, const bs_study *s) {
    if (s->protocol != BS_PROTOCOL_SOURCE) return;
    bs_json_begin_object(w, "travel", BS_JSON_LINES);
    bs_json_put_number(w, "min_probability", s->min_probability);
    bs_json_put_int(w, "draws", BS_TRAVEL_DRAWS);
    json_sources(w, s);
    bs_json_begin_array(w, "experiments", BS_JSON_LINES);
    for (size_t e = 0; e < s->nexperiments; e++) {
        const bs_travel *t = s->experiments[e].travel;
        bs_json_begin_object(w, NULL, BS_JSON_LINES);
        bs_json_put_string(w, "name", s->experiments[e].name);
        bs_json_begin_array(w, "methods", BS_JSON_LINES);
        for (size_t m = 0; m < t->nmethods; m++) {
            bs_json_begin_object(w, NULL, BS_JSON_LINES);
            bs_json_put_string(w, "method", t->methods[m].name);
            bs_json_begin_array(w, "sources", BS_JSON_LINES);
            for (int k = 0; k < s->nsources; k++)
                json_source_result(w, s->source_names[k], &t->methods[m].sources[k]);
            bs_json_end(w);
            bs_json_end(w);
        }
        bs_json_end(w);
        json_stain(w, s, t);
        bs_json_end(w);
    }
    bs_json_end(w);
    bs_json_end(w);
}

/* ---------------- Markdown ---------------- */

/* " | 12.3" (a percentage), " | 0.876" (an AUC) or " | —". */
static void md_percent(FILE *fp, double v) {
    fputs(" | ", fp);
    bs_report_md_number(fp, 100 * v, "%.1f");
}

/* The numbers of one table row, as md_row and html_row print them: a count (%lld), a
 * percentage (100·v, %.1f) or an AUC (%.3f); NaN prints as a dash. */
#define TRAVEL_COLUMNS 10
static const char travel_kind[TRAVEL_COLUMNS] = {'n', '%', 'a', '%', 'n', '%', '%', '%', '%', 'a'};

static void row_values(const bs_travel_source *r, double v[TRAVEL_COLUMNS]) {
    const bs_metrics *c = &r->cells, *f = &r->field_calls;
    const double out[TRAVEL_COLUMNS] = {(double)(c->tp + c->fn + c->tn + c->fp),
                                        false_blast_rate(c),
                                        value(&c->auc),
                                        value(&c->ac),
                                        (double)r->fields,
                                        ratio(r->fields_called, r->fields),
                                        value(&f->ac),
                                        value(&f->sn),
                                        value(&f->sp),
                                        value(&f->auc)};
    for (int i = 0; i < TRAVEL_COLUMNS; i++) v[i] = r->defined ? out[i] : NAN;
}

static void put_value(FILE *fp, double v, char kind) {
    if (kind == 'n' && isfinite(v))
        bs_putf(fp, "%lld", (long long)v);
    else
        bs_report_md_number(fp, kind == '%' ? 100 * v : v, kind == 'a' ? "%.3f" : "%.1f");
}

static void md_row(FILE *fp, const char *source, const char *method, const bs_travel_source *r) {
    double v[TRAVEL_COLUMNS];
    row_values(r, v);
    bs_putf(fp, "| %s | %s", source, method);
    for (int i = 0; i < TRAVEL_COLUMNS; i++) {
        fputs(" | ", fp);
        put_value(fp, v[i], travel_kind[i]);
    }
    fputs(" |\n", fp);
}

/* The stain-shortcut warnings in words, each between open and close (Markdown or HTML). */
static void put_warnings(FILE *fp, const bs_travel *t, const char *open, const char *close) {
    if (t->transfer_warning)
        bs_putf(fp,
                "%sRecoloured to another source's colours, some cells change their call more "
                "than %.0f %% of the time: the model reads the stain.%s\n",
                open, 100 * (1 - BS_TRAVEL_KEPT_MIN), close);
    if (t->benign_warning)
        bs_putf(fp,
                "%sNon-blast cells of the sources tested within (their blasts' microscope) are "
                "called blasts more often than the held-out sources' non-blast cells: looking "
                "like that microscope counts as blast.%s\n",
                open, close);
}

static void md_stain(FILE *fp, const bs_study *s, const bs_experiment *x) {
    const bs_travel *t = x->travel;
    bs_putf(fp,
            "\nStain shortcut, %s:\n\n| test | cells | calls kept / rate | blasts before | "
            "after | |\n|---|---:|---:|---:|---:|---|\n",
            x->name);
    for (size_t i = 0; i < t->ntransfers; i++) {
        const bs_travel_transfer *p = &t->transfers[i];
        bs_putf(fp, "| %s recoloured to %s | %lld", s->source_names[p->from],
                s->source_names[p->to], (long long)p->n);
        md_percent(fp, ratio(p->kept, p->n));
        bs_putf(fp, " | %lld | %lld | %s |\n", (long long)p->positive_before,
                (long long)p->positive_after,
                (double)p->kept < BS_TRAVEL_KEPT_MIN * (double)p->n ? "**warning**" : "");
    }
    if (!t->ntransfers)
        fputs(
            "| stain transfer | — | — | — | — | no stain-transfer rows (extract --stain-transfer) "
            "|\n",
            fp);
    bs_putf(fp, "| non-blast cells called blasts, sources tested within | %lld",
            (long long)t->within_negatives);
    md_percent(fp, ratio(t->within_called, t->within_negatives));
    bs_putf(fp, " | | | %s |\n| non-blast cells called blasts, sources held out | %lld",
            t->benign_warning ? "**warning**" : "", (long long)t->heldout_negatives);
    md_percent(fp, ratio(t->heldout_called, t->heldout_negatives));
    fputs(" | | | |\n", fp);
    put_warnings(fp, t, "\n**Warning:** ", "");
}

void bs_report_travel_md(FILE *fp, const bs_study *s) {
    if (s->protocol != BS_PROTOCOL_SOURCE) return;
    fputs("## Leave one source out (source protocol)\n\nEach source is tested by a model that "
          "never saw it (sources tested *within*, which alone hold a class, by grouped folds "
          "inside them instead). Cells: original views; false-blast rate = non-blast cells called "
          "blasts. Fields: cells grouped by `group`; ",
          fp);
    bs_putf(fp,
            "'ALL suspected' = a cell called blast with probability >= %.2f (no "
            "out-of-distribution flag here); a field's label is its cells' majority. Methods: "
            "`none` as trained; `prior` and `coral` adapted to the held-out batch (eval/adapt.h); "
            "`k=K` recalibrated on K labelled cells of it, %d draws pooled.\n\n",
            s->min_probability, BS_TRAVEL_DRAWS);
    for (int k = 0; k < s->nsources; k++)
        bs_putf(fp, "%s- %s: %lld cells, %lld blasts, tested %s\n", k ? "" : "Sources:\n\n",
                s->source_names[k], (long long)s->source_rows[k], (long long)s->source_positives[k],
                s->source_within[k] ? "within" : "held out");
    for (size_t e = 0; e < s->nexperiments; e++) {
        const bs_experiment *x = &s->experiments[e];
        bs_putf(fp,
                "\n### %s\n\n| source | method | cells | false blasts %% | AUC | AC %% | "
                "fields | 'ALL suspected' %% | field AC %% | SN %% | SP %% | field AUC |\n"
                "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n",
                x->name);
        for (int k = 0; k < s->nsources; k++)
            for (size_t m = 0; m < x->travel->nmethods; m++)
                md_row(fp, s->source_names[k], x->travel->methods[m].name,
                       &x->travel->methods[m].sources[k]);
        md_stain(fp, s, x);
    }
    if (one_class_sources(s))
        fputs("\nA source whose cells are all of one class has no AUC (—): there is nothing to "
              "rank; its accuracy and false-blast rate stand.\n",
              fp);
    fputs("\n", fp);
}

/* ---------------- report.html ---------------- */

static void html_header(FILE *fp) {
    static const char *const head[] = {"Source",     "Method", "Cells",  "False blasts %",
                                       "AUC",        "AC %",   "Fields", "'ALL suspected' %",
                                       "Field AC %", "SN %",   "SP %",   "Field AUC"};
    fputs("<table><tr>", fp);
    for (size_t i = 0; i < sizeof head / sizeof *head; i++)
        bs_putf(fp, "<th%s>%s</th>", i < 2 ? " class=\"l\"" : "", head[i]);
    fputs("</tr>\n", fp);
}

static void html_row(FILE *fp, const char *source, const char *method, const bs_travel_source *r) {
    double v[TRAVEL_COLUMNS];
    row_values(r, v);
    fputs("<tr><td class=\"l\">", fp);
    bs_html_text(fp, source);
    fputs("</td><td class=\"l\">", fp);
    bs_html_text(fp, method);
    fputs("</td>", fp);
    for (int i = 0; i < TRAVEL_COLUMNS; i++) {
        fputs("<td>", fp);
        put_value(fp, v[i], travel_kind[i]);
        fputs("</td>", fp);
    }
    fputs("</tr>\n", fp);
}

static void html_stain(FILE *fp, const bs_study *s, const bs_travel *t) {
    fputs("<table><tr><th class=\"l\">Stain-shortcut test</th><th>Cells</th><th>Calls kept "
          "% / rate %</th><th>Blasts before</th><th>After</th><th></th></tr>\n",
          fp);
    for (size_t i = 0; i < t->ntransfers; i++) {
        const bs_travel_transfer *p = &t->transfers[i];
        fputs("<tr><td class=\"l\">", fp);
        bs_html_text(fp, s->source_names[p->from]);
        fputs(" recoloured to ", fp);
        bs_html_text(fp, s->source_names[p->to]);
        bs_putf(fp, "</td><td>%lld</td><td>", (long long)p->n);
        put_value(fp, ratio(p->kept, p->n), '%');
        bs_putf(fp, "</td><td>%lld</td><td>%lld</td><td>%s</td></tr>\n",
                (long long)p->positive_before, (long long)p->positive_after,
                (double)p->kept < BS_TRAVEL_KEPT_MIN * (double)p->n ? "<b>warning</b>" : "");
    }
    bs_putf(fp,
            "<tr><td class=\"l\">non-blast cells called blasts: sources tested within</td>"
            "<td>%lld</td><td>",
            (long long)t->within_negatives);
    put_value(fp, ratio(t->within_called, t->within_negatives), '%');
    bs_putf(fp,
            "</td><td></td><td></td><td>%s</td></tr>\n<tr><td class=\"l\">non-blast cells "
            "called blasts: sources held out</td><td>%lld</td><td>",
            t->benign_warning ? "<b>warning</b>" : "", (long long)t->heldout_negatives);
    put_value(fp, ratio(t->heldout_called, t->heldout_negatives), '%');
    fputs("</td><td></td><td></td><td></td></tr></table>\n", fp);
    if (!t->ntransfers)
        fputs("<p class=\"note\">No stain-transfer rows: extract with --stain-transfer N.</p>\n",
              fp);
    put_warnings(fp, t, "<p class=\"warn\">", "</p>");
}

int bs_html_travel(FILE *fp, const bs_html_input *in) {
    const bs_study *s = in->study[BS_PROTOCOL_SOURCE];
    if (!s) return 0;
    bs_putf(fp,
            "<section id=\"travel\"><h2>Does the model travel? Leave one source out</h2>\n"
            "<p class=\"note\">Each source tested by a model that never saw it (a source "
            "that alone holds a class: by grouped folds within it). False blasts: non-blast "
            "cells called blasts. A field is 'ALL suspected' when a cell is a blast with "
            "P &ge; %.2f. Methods: none (as trained), prior and coral (adapted to the held-out "
            "batch), k=K (recalibrated on K labelled cells, %d draws pooled). A dash: "
            "undefined (e.g. no AUC for a source of one class).</p>\n",
            s->min_probability, BS_TRAVEL_DRAWS);
    for (size_t e = 0; e < s->nexperiments; e++) {
        const bs_experiment *x = &s->experiments[e];
        fputs("<h3>", fp);
        bs_html_text(fp, x->name);
        fputs("</h3>\n", fp);
        html_header(fp);
        for (int k = 0; k < s->nsources; k++)
            for (size_t m = 0; m < x->travel->nmethods; m++)
                html_row(fp, s->source_names[k], x->travel->methods[m].name,
                         &x->travel->methods[m].sources[k]);
        fputs("</table>\n", fp);
        html_stain(fp, s, x->travel);
    }
    fputs("</section>\n", fp);
    return 0;
}
