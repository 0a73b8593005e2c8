/* breakdown.c — the per-source and per-group sections of report.html, read back from each
 * protocol's results.json like the audit (audit.c): `sources` ([{source, images, positives,
 * experiments: [{name, metrics}]}], written when several --data are fused) and `per_group`
 * ({rule, count, mixed_label_groups, experiments: [{name, metrics}]}, written when groups come
 * from a manifest). The same numbers as report.md's "Per source" and "Per group" sections
 * (evidence.c). Not for: computing them (study.c). */
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "core/io.h"
#include "html_internal.h"
#include "html_util.h"

/* A metric of a metrics object ({"value": ..} or absent): a percentage, or AUC to 3 digits. */
static void metric_cell(FILE *fp, json_t *metrics, const char *key, int percent) {
    json_t *v = json_object_get(json_object_get(metrics, key), "value");
    if (!json_is_number(v))
        fputs("<td>—</td>", fp);
    else if (percent)
        bs_putf(fp, "<td>%.2f</td>", 100 * json_number_value(v));
    else
        bs_putf(fp, "<td>%.3f</td>", json_number_value(v));
}

/* The metrics of experiment `name` in a list [{name, metrics}]; NULL when absent. */
static json_t *metrics_of(json_t *list, const char *name) {
    size_t i;
    json_t *x;
    json_array_foreach(list, i, x) {
        const char *n = json_string_value(json_object_get(x, "name"));
        if (n && name && strcmp(n, name) == 0) return json_object_get(x, "metrics");
    }
    return NULL;
}

static void sources_table(FILE *fp, json_t *root, const char *protocol) {
    json_t *src = json_object_get(root, "sources");
    size_t k, i;
    json_t *s, *x;
    bs_putf(fp,
            "<h3 id=\"sources-%s\">Per source, %s protocol</h3>\n<p class=\"note\">Original "
            "images of each source (a <code>source</code> column, a sources.csv, or one per "
            "<code>--data</code>), in order of first appearance. A source holding one class "
            "only has no AUC; a source whose labels differ from the others' is itself a shortcut "
            "(see the <code>source</code> baseline).</p>\n<table><tr><th class=\"l\">model</th>",
            protocol, protocol);
    json_array_foreach(src, k, s) {
        const char *name = json_string_value(json_object_get(s, "name"));
        fputs("<th>", fp);
        if (name)
            bs_html_text(fp, name);
        else /* results.json written before sources had names */
            bs_putf(fp, "source %lld", (long long)json_integer_value(json_object_get(s, "source")));
        bs_putf(fp, " AC %%<br>%lld images (%lld ALL)</th><th>AUC</th>",
                (long long)json_integer_value(json_object_get(s, "images")),
                (long long)json_integer_value(json_object_get(s, "positives")));
    }
    fputs("</tr>\n", fp);
    json_array_foreach(json_object_get(json_array_get(src, 0), "experiments"), i, x) {
        const char *name = json_string_value(json_object_get(x, "name"));
        fputs("<tr><td class=\"l\">", fp);
        bs_html_text(fp, name ? name : "");
        fputs("</td>", fp);
        json_array_foreach(src, k, s) {
            json_t *m = metrics_of(json_object_get(s, "experiments"), name);
            metric_cell(fp, m, "ac", 1);
            metric_cell(fp, m, "auc", 0);
        }
        fputs("</tr>\n", fp);
    }
    fputs("</table>\n", fp);
}

static void groups_table(FILE *fp, json_t *pg, const char *protocol) {
    bs_putf(fp,
            "<h3 id=\"per-group-%s\">Per group, %s protocol</h3>\n<p class=\"note\">%lld groups "
            "named by the manifest (%lld hold images of both labels): the unit a clinician "
            "decides on. Rule: ",
            protocol, protocol, (long long)json_integer_value(json_object_get(pg, "count")),
            (long long)json_integer_value(json_object_get(pg, "mixed_label_groups")));
    const char *rule = json_string_value(json_object_get(pg, "rule"));
    bs_html_text(fp, rule ? rule : "—");
    fputs(".</p>\n<table><tr><th class=\"l\">model</th><th>groups</th><th>SN %</th><th>SP "
          "%</th><th>AC %</th><th>AUC</th></tr>\n",
          fp);
    size_t i;
    json_t *x;
    json_array_foreach(json_object_get(pg, "experiments"), i, x) {
        json_t *m = json_object_get(x, "metrics");
        const char *name = json_string_value(json_object_get(x, "name"));
        fputs("<tr><td class=\"l\">", fp);
        bs_html_text(fp, name ? name : "");
        long long n = 0;
        const char *cells[4] = {"tp", "fn", "tn", "fp"};
        for (int c = 0; c < 4; c++) n += json_integer_value(json_object_get(m, cells[c]));
        bs_putf(fp, "</td><td>%lld</td>", n);
        metric_cell(fp, m, "sn", 1);
        metric_cell(fp, m, "sp", 1);
        metric_cell(fp, m, "ac", 1);
        metric_cell(fp, m, "auc", 0);
        fputs("</tr>\n", fp);
    }
    fputs("</table>\n", fp);
}

int bs_html_breakdown(FILE *fp, const bs_html_input *in) {
    int opened = 0;
    for (int p = 0; p < BS_PROTOCOLS; p++) {
        if (!in->study[p]) continue;
        json_t *root = bs_html_load_results(in->study_dir[p]);
        if (!root) continue;
        json_t *src = json_object_get(root, "sources"), *pg = json_object_get(root, "per_group");
        int has_src = json_is_array(src) && json_array_size(src) > 0, has_pg = json_is_object(pg);
        if ((has_src || has_pg) && !opened++)
            fputs("<section id=\"breakdown\"><h2>Per source and per group</h2>\n", fp);
        const char *name = bs_protocol_name((bs_protocol)p);
        if (has_src) sources_table(fp, root, name);
        if (has_pg) groups_table(fp, pg, name);
        json_decref(root);
    }
    if (opened) fputs("</section>\n", fp);
    return 0;
}
