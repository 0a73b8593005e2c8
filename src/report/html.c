/* html.c — report.html (see html.h): the page and its head, the run, Table 1 of both
 * protocols side by side with the paper protocol's leak, the figures inlined, and warnings
 * about groups. The body is written to memory first so the head can carry the CSS rules of
 * exactly the thumbnails the body uses.
 * Not for: the gallery (gallery.c) or results.json (audit.c). */
#define _GNU_SOURCE
#include "html.h"

#include <dirent.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/io.h"
#include "html_internal.h"
#include "html_util.h"
#include "mil.h"
#include "report_util.h"

static const char *const protocol_title[BS_PROTOCOLS] = {"paper protocol (leaky, as published)",
                                                         "grouped protocol (honest)",
                                                         "source protocol (leave one source out)"};

/* The first study that ran, in protocol order (bs_report_write_html checks there is one). */
static const bs_study *first_study(const bs_html_input *in) {
    for (int p = 0; p < BS_PROTOCOLS; p++)
        if (in->study[p]) return in->study[p];
    return NULL;
}

static const char css[] =
    "body{font-family:system-ui,'Segoe UI',Helvetica,Arial,sans-serif;max-width:1180px;"
    "margin:0 auto;padding:12px 16px;color:#222;line-height:1.4}\n"
    "h1{font-size:24px;margin:8px 0}h2{font-size:20px;border-bottom:2px solid #0072B2;"
    "padding-bottom:2px;margin-top:28px}h3{font-size:16px}h4{font-size:14px;margin:10px 0 4px}\n"
    "table{border-collapse:collapse;font-size:13px;margin:6px 0}td,th{border:1px solid #ccc;"
    "padding:3px 6px;text-align:right}th{background:#f2f2f2}td.l,th.l{text-align:left}\n"
    ".warn{background:#fff3e0;border-left:4px solid #E69F00;padding:6px 12px;margin:8px 0}\n"
    ".note{color:#555;font-size:13px}nav a{margin-right:12px}\n"
    ".figs{display:grid;grid-template-columns:1fr 1fr;gap:10px}.figs svg{max-width:100%;"
    "height:auto}\n"
    ".cards{display:flex;flex-wrap:wrap;gap:8px}.card{width:206px;border:1px solid #ddd;"
    "border-radius:4px;padding:5px;font-size:11.5px;margin:0}\n"
    ".th{width:96px;height:96px;background:#eee center/contain no-repeat;display:inline-block;"
    "margin-right:4px}.bad{color:#D55E00}.ok{color:#009E73}\n"
    "summary{cursor:pointer;font-weight:600;margin:6px 0}\n";

static void table1_cells(FILE *fp, const bs_study *s, const bs_experiment *x) {
    const bs_metric *m[7] = {&x->pooled.sn, &x->pooled.sp,  &x->pooled.pr, &x->pooled.ac,
                             &x->pooled.f1, &x->pooled.mcc, &x->pooled.auc};
    const bs_metric *c[7] = {&x->cpooled.accuracy,
                             &x->cpooled.macro_sn,
                             &x->cpooled.macro_pr,
                             &x->cpooled.macro_f1,
                             &x->cpooled.balanced_accuracy,
                             NULL,
                             NULL};
    for (int i = 0; i < 7; i++) {
        const bs_metric *v = s->task == BS_TASK_BINARY ? m[i] : c[i];
        if (!v || !v->defined) {
            fputs("<td>—</td>", fp);
            continue;
        }
        bs_putf(fp, "<td title=\"95 %% interval %.2f–%.2f\">%.2f</td>", 100 * v->lo, 100 * v->hi,
                100 * v->value);
    }
}

static const bs_experiment *find_exp(const bs_study *s, const char *name) {
    for (size_t e = 0; s && e < s->nexperiments; e++)
        if (strcmp(s->experiments[e].name, name) == 0) return &s->experiments[e];
    return NULL;
}

static void section_table1(FILE *fp, const bs_html_input *in) {
    const bs_study *any = first_study(in);
    const int binary = any->task == BS_TASK_BINARY;
    static const char *const bin[7] = {"SN", "SP", "PR", "AC", "F1", "MCC", "AUC"};
    static const char *const sub[7] = {"Acc.", "mSN", "mPR", "mF1", "bal. acc.", "", ""};
    fputs("<section id=\"table1\"><h2>Table 1, both protocols side by side</h2>\n"
          "<p class=\"note\">Pooled over every test row, in %; hover a number for its 95 % "
          "interval.</p>\n<table><tr><th class=\"l\" rowspan=\"2\">Model</th>",
          fp);
    for (int p = 0; p < BS_PROTOCOLS; p++)
        if (in->study[p]) bs_putf(fp, "<th colspan=\"7\">%s</th>", protocol_title[p]);
    fputs("</tr><tr>", fp);
    for (int p = 0; p < BS_PROTOCOLS; p++)
        for (int i = 0; in->study[p] && i < 7; i++)
            bs_putf(fp, "<th>%s</th>", binary ? bin[i] : sub[i]);
    fputs("</tr>\n", fp);
    for (size_t e = 0; e < any->nexperiments; e++) {
        fputs("<tr><td class=\"l\">", fp);
        bs_html_text(fp, any->experiments[e].name);
        fputs("</td>", fp);
        for (int p = 0; p < BS_PROTOCOLS; p++) {
            const bs_experiment *x =
                in->study[p] ? find_exp(in->study[p], any->experiments[e].name) : NULL;
            if (x)
                table1_cells(fp, in->study[p], x);
            else if (in->study[p])
                fputs("<td colspan=\"7\">—</td>", fp);
        }
        fputs("</tr>\n", fp);
    }
    fputs("</table>\n", fp);
    const bs_study *paper = in->study[BS_PROTOCOL_PAPER];
    if (paper) {
        char leak[96];
        bs_report_leak_phrase(leak, sizeof leak, paper);
        bs_putf(fp,
                "<div class=\"warn\"><b>What the paper protocol leaks.</b> It augments first and "
                "splits the views at random: <b>%s</b> had a mirror "
                "of the same image in the training folds (<code>leaked_test_rows</code>). Its "
                "autoencoder is also fitted once on every row, test folds included. The grouped "
                "protocol deals whole groups into folds and fits every step on training folds "
                "only: its numbers are the ones to quote.</div>\n",
                leak);
    }
    fputs("</section>\n", fp);
}

static int svg_filter(const struct dirent *d) {
    size_t n = strlen(d->d_name);
    return n > 4 && d->d_name[0] != '.' && strcmp(d->d_name + n - 4, ".svg") == 0;
}

/* An SVG file inline, without its XML prolog. */
static void inline_svg(FILE *fp, const char *dir, const char *name) {
    char *path = bs_strfmt("%s/figures/%s", dir, name);
    unsigned char *data = NULL;
    size_t len = 0;
    if (path && bs_file_exists(path) && bs_read_file(path, 64u << 20, &data, &len) == 0) {
        const char *s = strstr((const char *)data, "<svg");
        if (s) fputs(s, fp);
    } else {
        fputs("<p class=\"note\">—</p>", fp);
    }
    free(data);
    free(path);
}

static void section_figures(FILE *fp, const bs_html_input *in) {
    /* Up to two studies side by side, in protocol order (reproduce: paper, grouped). */
    const char *dir[2] = {NULL, NULL};
    int q = 0;
    for (int p = 0; p < BS_PROTOCOLS && q < 2; p++)
        if (in->study[p]) dir[q++] = in->study_dir[p];
    struct dirent **names[2] = {NULL, NULL};
    int n[2] = {0, 0};
    for (int p = 0; p < q; p++) {
        char *fig = bs_path_join(dir[p], "figures");
        n[p] = fig ? scandir(fig, &names[p], svg_filter, alphasort) : 0;
        n[p] = n[p] < 0 ? 0 : n[p];
        free(fig);
    }
    const int both = q == 2;
    bs_putf(fp, "<section id=\"figures\"><h2>Figures</h2>\n%s",
            both ? "<p class=\"note\">Left: paper protocol; right: grouped protocol.</p>\n"
                 : "<div class=\"figs\">");
    /* One row per figure name; a figure only one protocol has keeps its column. */
    int i[2] = {0, 0};
    while (i[0] < n[0] || i[1] < n[1]) {
        const char *a = i[0] < n[0] ? names[0][i[0]]->d_name : NULL;
        const char *b = i[1] < n[1] ? names[1][i[1]]->d_name : NULL;
        int cmp = !a ? 1 : !b ? -1 : strcmp(a, b);
        if (both) fputs("<div class=\"figs\">", fp);
        for (int p = 0; p < q; p++) {
            const char *name = p == 0 ? a : b;
            int here = p == 0 ? cmp <= 0 : cmp >= 0;
            fputs("<div>", fp);
            if (here && name) inline_svg(fp, dir[p], name);
            fputs("</div>", fp);
        }
        if (both) fputs("</div>\n", fp);
        if (cmp <= 0) i[0]++;
        if (cmp >= 0) i[1]++;
    }
    fputs(both ? "</section>\n" : "</div></section>\n", fp);
    for (int p = 0; p < q; p++) {
        for (int k = 0; k < n[p]; k++) free(names[p][k]);
        free(names[p]);
    }
}

static const bs_feature_index *g_sort_idx; /* qsort has no context argument in C11 */

static int by_group_path(const void *a, const void *b) {
    const bs_feature_row *x = &g_sort_idx->rows[*(const size_t *)a];
    const bs_feature_row *y = &g_sort_idx->rows[*(const size_t *)b];
    int c = strcmp(x->group, y->group);
    return c ? c : strcmp(x->path, y->path);
}

/* One warning line per group (index.csv) holding both labels or more than 8 images: a group
 * with both labels is almost surely a false merge, a big one unbalances the folds. */
static int section_groups(FILE *fp, const bs_html_input *in) {
    const bs_feature_index *idx = in->idx;
    size_t *order = bs_calloc(idx->n ? idx->n : 1, sizeof *order), flagged = 0;
    if (!order) return -1;
    for (size_t r = 0; r < idx->n; r++) order[r] = r;
    g_sort_idx = idx;
    qsort(order, idx->n, sizeof *order, by_group_path);
    for (size_t a = 0, b; a < idx->n; a = b) {
        size_t images = 0, per_label[2] = {0, 0};
        for (b = a; b < idx->n && !strcmp(idx->rows[order[b]].group, idx->rows[order[a]].group);
             b++)
            if (b == a || strcmp(idx->rows[order[b]].path, idx->rows[order[b - 1]].path)) {
                images++;
                per_label[idx->rows[order[b]].label ? 1 : 0]++;
            }
        if (!(per_label[0] && per_label[1]) && images <= 8) continue;
        if (!flagged++)
            fputs("<div class=\"warn\" id=\"groups\"><b>Groups to check</b> (index.csv): a group "
                  "holding both labels is almost surely a false merge; one of more than 8 images "
                  "unbalances the folds.<ul>\n",
                  fp);
        fputs("<li>group <code>", fp);
        bs_html_text(fp, idx->rows[order[a]].group);
        bs_putf(fp, "</code>: %zu images (%zu ALL, %zu healthy)%s, e.g. ", images, per_label[1],
                per_label[0], per_label[0] && per_label[1] ? " — <b>both labels</b>" : "");
        bs_html_text(fp, bs_html_basename(idx->rows[order[a]].path));
        fputs("</li>\n", fp);
    }
    if (flagged) fputs("</ul></div>\n", fp);
    free(order);
    return 0;
}

static void section_run(FILE *fp, const bs_html_input *in) {
    const bs_study *any = first_study(in);
    fputs("<h1>blastscan — Atteia (2023), re-run and audited</h1>\n<p>", fp);
    if (in->ctx) {
        fputs("Data: ", fp);
        bs_html_text(fp, in->ctx->data);
        fputs(". Backbones: ", fp);
        bs_html_text(fp, in->ctx->backbones);
        fputs(". Augmentation: ", fp);
        bs_html_text(fp, in->ctx->augment);
        fputs(". ", fp);
    }
    bs_putf(fp,
            "%zu rows, %lld groups, %d-fold cross-validation, seed %llu, autoencoder %d "
            "epochs, %s task.",
            any->n, (long long)any->groups, any->folds, (unsigned long long)any->seed, any->epochs,
            bs_task_name(any->task));
    if (in->ctx) {
        bs_putf(fp, " Time: extraction %.0f s, total %.0f s; blastscan ", in->ctx->extract_seconds,
                in->ctx->total_seconds);
        bs_html_text(fp, in->ctx->version);
        fputc('.', fp);
    }
    const int mil =
        (in->study[0] && in->study[0]->mil_rounds) || (in->study[1] && in->study[1]->mil_rounds);
    bs_putf(fp,
            "</p>\n<nav><a href=\"#table1\">Table 1</a><a href=\"#figures\">Figures</a>"
            "<a href=\"#audit\">Calibration and shortcuts</a>%s<a href=\"#gallery\">Misclassified "
            "images</a><a href=\"#neardup\">Near duplicates</a></nav>\n",
            mil ? "<a href=\"#mil\">mi-SVM</a>" : "");
}

static int write_body(FILE *fp, const bs_html_input *in, bs_thumbs *thumbs) {
    section_run(fp, in);
    if (section_groups(fp, in)) return -1;
    section_table1(fp, in);
    section_figures(fp, in);
    if (bs_html_travel(fp, in) || bs_html_audit(fp, in) || bs_html_breakdown(fp, in) ||
        bs_html_mil(fp, in, thumbs) || bs_html_gallery(fp, in, thumbs) ||
        bs_html_near_duplicates(fp, in, thumbs))
        return -1;
    fputs("<p class=\"note\">Written by blastscan; this page fetches nothing: figures are "
          "inline SVG, thumbnails JPEG data URIs.</p>\n",
          fp);
    return 0;
}

int bs_report_write_html(const bs_html_input *in, const char *outdir) {
    if (!first_study(in)) return bs_error("report.html: no study to report");
    char *body = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&body, &len);
    bs_thumbs *thumbs = bs_thumbs_new();
    if (!mem || !thumbs) {
        if (mem) fclose(mem);
        free(body);
        bs_thumbs_free(thumbs);
        return bs_error("report.html: out of memory");
    }
    int rc = write_body(mem, in, thumbs);
    fclose(mem);
    char *path = rc ? NULL : bs_path_join(outdir, "report.html");
    bs_atomic_file af;
    if (!path || bs_atomic_open(&af, path)) rc = -1;
    if (rc == 0) {
        fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
              "<meta name=\"viewport\" content=\"width=device-width\">\n"
              "<title>blastscan report</title>\n<style>\n",
              af.fp);
        fputs(css, af.fp);
        if (bs_thumbs_write_css(thumbs, af.fp) < 0) rc = -1;
        fputs("</style></head><body>\n", af.fp);
        fwrite(body, 1, len, af.fp);
        fputs("</body></html>\n", af.fp);
        rc = rc ? (bs_atomic_abort(&af), -1) : bs_atomic_commit(&af);
    }
    free(path);
    free(body);
    bs_thumbs_free(thumbs);
    return rc;
}
