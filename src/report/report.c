/* report.c — results.json, predictions.csv, Table 1, figures and report.md (see report.h). */
#define _GNU_SOURCE
#include "report.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/csv.h"
#include "core/error.h"
#include "core/io.h"
#include "core/json.h"
#include "evidence.h"
#include "report_util.h"
#include "svg.h"

/* ---------------- results.json ---------------- */

/* One experiment's object: its name, features and size, its pooled and per-fold metrics. */
static void write_experiment(bs_json_writer *w, const bs_study *s, const bs_experiment *x) {
    bs_json_begin_object(w, NULL, BS_JSON_LINES);
    bs_json_put_string(w, "name", x->name);
    bs_json_begin_array(w, "features", BS_JSON_INLINE);
    for (size_t i = 0; i < x->nfeatures; i++) bs_json_put_string(w, NULL, x->features[i]);
    bs_json_end(w);
    if (x->latent > 0)
        bs_json_put_int(w, "latent", x->latent);
    else
        bs_json_put_null(w, "latent");
    /* No timings here: the same seed must give a byte-identical file. */
    const char *const *names = (const char *const *)s->class_names;
    int binary = s->task == BS_TASK_BINARY;
    bs_json_put_int(w, "width", x->width);
    if (binary) {
        bs_metrics_write_json(w, "pooled", &x->pooled);
        bs_metrics_write_json(w, "pooled_original", &x->pooled_original);
    } else {
        bs_confusion_write_json(w, "pooled", &x->cpooled, names);
        bs_confusion_write_json(w, "pooled_original", &x->cpooled_original, names);
    }
    bs_json_begin_array(w, "per_fold", BS_JSON_LINES);
    for (int f = 0; f < s->folds; f++)
        if (binary)
            bs_metrics_write_json(w, NULL, &x->per_fold[f]);
        else
            bs_confusion_write_json(w, NULL, &x->cper_fold[f], names);
    bs_json_end(w);
    if (binary) bs_report_json_calibration(w, x);
    bs_json_end(w);
}

static int write_results(FILE *fp, const void *a, const void *b) {
    const bs_study *s = a;
    (void)b;
    bs_json_writer w;
    bs_json_writer_init(&w, fp);
    bs_json_begin_object(&w, NULL, BS_JSON_LINES);
    bs_json_put_string(&w, "protocol", bs_protocol_name(s->protocol));
    bs_json_put_string(&w, "task", bs_task_name(s->task));
    bs_json_begin_array(&w, "classes", BS_JSON_INLINE);
    for (int c = 0; c < s->nclasses; c++) bs_json_put_string(&w, NULL, s->class_names[c]);
    bs_json_end(&w);
    bs_json_put_int(&w, "folds", s->folds);
    bs_json_put_uint(&w, "seed", s->seed);
    bs_json_put_int(&w, "epochs", s->epochs);
    bs_json_put_uint(&w, "rows", s->n);
    bs_json_put_int(&w, "groups", s->groups);
    bs_json_put_int(&w, "leaked_test_rows", s->leaked_test_rows);
    bs_json_begin_array(&w, "leaked_per_fold", BS_JSON_INLINE);
    for (int f = 0; f < s->folds; f++) bs_json_put_int(&w, NULL, s->leaked_per_fold[f]);
    bs_json_end(&w);
    bs_json_begin_array(&w, "experiments", BS_JSON_LINES);
    for (size_t e = 0; e < s->nexperiments; e++) write_experiment(&w, s, &s->experiments[e]);
    bs_json_end(&w);
    bs_report_json_evidence(&w, s);
    bs_json_end(&w);
    bs_json_finish(&w);
    return 0;
}

/* ---------------- predictions.csv ---------------- */

static int write_predictions(FILE *fp, const void *a, const void *b) {
    const bs_study *s = a;
    const bs_feature_index *idx = b;
    static const char *const header[] = {"id",       "experiment", "fold",       "label",
                                         "decision", "predicted",  "probability"};
    bs_csv_put_row(fp, header, 7);
    for (size_t e = 0; e < s->nexperiments; e++) {
        const bs_experiment *x = &s->experiments[e];
        for (size_t r = 0; r < s->n; r++) {
            char id[32], fold[16], label[8], dec[40], pred[8], prob[40] = "";
            snprintf(id, sizeof id, "%ld", idx->rows[r].id);
            snprintf(fold, sizeof fold, "%d", s->fold[r] + 1);
            snprintf(label, sizeof label, "%d", s->labels[r]);
            if (isfinite(x->decision[r]))
                snprintf(dec, sizeof dec, "%.9g", x->decision[r]);
            else
                dec[0] = '\0'; /* K-class: one-vs-one gives no single decision value */
            snprintf(pred, sizeof pred, "%d", x->predicted[r]);
            /* Platt P(ALL) fitted on the other folds (study/calibrate.c); empty when there is none */
            if (x->probability && isfinite(x->probability[r]))
                snprintf(prob, sizeof prob, "%.9g", x->probability[r]);
            const char *f[7] = {id, x->name, fold, label, dec, pred, prob};
            bs_csv_put_row(fp, f, 7);
        }
    }
    return 0;
}

/* ---------------- Table 1 ---------------- */

#define MAX_HEADLINE 8

/* The metrics a table or chart shows: SN SP PR AC F1 MCC AUC for two classes; accuracy and
 * macro averages for subtypes. */
static int headline(const bs_study *s, const bs_experiment *x, const bs_metric **m,
                    const char **names) {
    if (s->task == BS_TASK_BINARY) {
        const bs_metric *v[] = {&x->pooled.sn, &x->pooled.sp,  &x->pooled.pr, &x->pooled.ac,
                                &x->pooled.f1, &x->pooled.mcc, &x->pooled.auc};
        static const char *const n[] = {"SN", "SP", "PR", "AC", "F1", "MCC", "AUC"};
        for (int i = 0; i < 7; i++) m[i] = v[i], names[i] = n[i];
        return 7;
    }
    const bs_metric *v[] = {&x->cpooled.accuracy, &x->cpooled.macro_sn, &x->cpooled.macro_pr,
                            &x->cpooled.macro_f1, &x->cpooled.balanced_accuracy};
    static const char *const n[] = {"Accuracy", "macro SN", "macro PR", "macro F1",
                                    "balanced acc."};
    for (int i = 0; i < 5; i++) m[i] = v[i], names[i] = n[i];
    return 5;
}

static void pct(FILE *fp, const bs_metric *m) {
    if (m->defined)
        bs_putf(fp, "%.2f", 100 * m->value);
    else
        fputs("—", fp);
}

static void frac(FILE *fp, const bs_metric *m) {
    if (m->defined) bs_putf(fp, "%.6f", m->value);
}

static void features_label(FILE *fp, const bs_experiment *x) {
    for (size_t i = 0; i < x->nfeatures; i++) bs_putf(fp, "%s%s", i ? " + " : "", x->features[i]);
}

static const char *experiment_kind(const bs_experiment *x) {
    if (x->latent > 0) return "Exp 3";
    return x->nfeatures > 1 ? "Exp 2" : "Exp 1";
}

static int write_table_md(FILE *fp, const void *a, const void *b) {
    const bs_study *s = a;
    (void)b;
    bs_putf(fp, "# Table 1 — %s protocol, %s task, %d-fold cross-validation, seed %llu\n\n",
            bs_protocol_name(s->protocol), bs_task_name(s->task), s->folds,
            (unsigned long long)s->seed);
    bs_putf(fp, "Pooled over all %zu test rows (%%; 95 %% intervals in results.json).\n\n", s->n);
    const bs_metric *m[MAX_HEADLINE];
    const char *names[MAX_HEADLINE];
    int nm = s->nexperiments ? headline(s, &s->experiments[0], m, names) : 0;
    fputs("| | Model | Features", fp);
    for (int i = 0; i < nm; i++) bs_putf(fp, " | %s", names[i]);
    fputs(" |\n|---|---|---", fp);
    for (int i = 0; i < nm; i++) fputs("|---:", fp);
    fputs("|\n", fp);
    for (size_t e = 0; e < s->nexperiments; e++) {
        const bs_experiment *x = &s->experiments[e];
        bs_putf(fp, "| %s | %s", experiment_kind(x), x->name);
        if (x->latent > 0) bs_putf(fp, " (%lld)", (long long)x->latent);
        fputs(" | ", fp);
        features_label(fp, x);
        headline(s, x, m, names);
        for (int i = 0; i < nm; i++) {
            fputs(" | ", fp);
            pct(fp, m[i]);
        }
        fputs(" |\n", fp);
    }
    if (s->protocol == BS_PROTOCOL_PAPER)
        bs_putf(fp,
                "\nLeak: %lld of %zu test rows had a mirror view of the same image in training.\n",
                (long long)s->leaked_test_rows, s->n);
    return 0;
}

static int write_table_csv(FILE *fp, const void *a, const void *b) {
    const bs_study *s = a;
    (void)b;
    int binary = s->task == BS_TASK_BINARY;
    fputs(binary ? "model,features,latent,sn,sp,pr,ac,f1,mcc,balanced_accuracy,auc\n"
                 : "model,features,latent,accuracy,macro_sn,macro_pr,macro_f1,balanced_accuracy\n",
          fp);
    for (size_t e = 0; e < s->nexperiments; e++) {
        const bs_experiment *x = &s->experiments[e];
        bs_csv_put_field(fp, x->name);
        fputc(',', fp);
        char *feat = NULL;
        size_t len = 0;
        FILE *mem = open_memstream(&feat, &len);
        if (!mem) return bs_error("out of memory");
        features_label(mem, x);
        fclose(mem);
        bs_csv_put_field(fp, feat);
        free(feat);
        fputc(',', fp);
        if (x->latent > 0) bs_putf(fp, "%lld", (long long)x->latent);
        const bs_metric *m[8] = {&x->pooled.sn,
                                 &x->pooled.sp,
                                 &x->pooled.pr,
                                 &x->pooled.ac,
                                 &x->pooled.f1,
                                 &x->pooled.mcc,
                                 &x->pooled.balanced_accuracy,
                                 &x->pooled.auc};
        const bs_metric *c[5] = {&x->cpooled.accuracy, &x->cpooled.macro_sn, &x->cpooled.macro_pr,
                                 &x->cpooled.macro_f1, &x->cpooled.balanced_accuracy};
        for (int i = 0; i < (binary ? 8 : 5); i++) {
            fputc(',', fp);
            frac(fp, binary ? m[i] : c[i]);
        }
        fputc('\n', fp);
    }
    return 0;
}

/* ---------------- figures ---------------- */

/* The paper's Figs 7-9: the headline metrics per model, as grouped bars with 95 % whiskers
 * (MCC left out: it lives on another scale). */
static int write_metrics_svg(FILE *fp, const void *a, const void *b) {
    const bs_study *s = a;
    (void)b;
    const bs_metric *all[MAX_HEADLINE];
    const char *all_names[MAX_HEADLINE], *names[MAX_HEADLINE];
    int nall = s->nexperiments ? headline(s, &s->experiments[0], all, all_names) : 0, nm = 0;
    for (int k = 0; k < nall; k++)
        if (strcmp(all_names[k], "MCC") != 0) names[nm++] = all_names[k];
    const int ne = (int)s->nexperiments;
    const double left = 60, top = 50, plot_h = 300, group_w = 40.0 * nm + 30;
    const int width = (int)(left + group_w * ne + 20), height = (int)(top + plot_h + 90);
    char title[128];
    snprintf(title, sizeof title, "Metrics per model (%s protocol)", bs_protocol_name(s->protocol));
    bs_svg_begin(fp, width < 600 ? 600 : width, height, title);
    bs_svg_text(fp, width / 2.0, 24, "middle", 16, "#222", title);
    /* Axis from 50 % to 100 %: every model here lives near the top. */
    const double lo = 0.5;
    for (int t = 0; t <= 5; t++) {
        double v = lo + t * 0.1, y = top + plot_h * (1 - (v - lo) / (1 - lo));
        char lab[16];
        snprintf(lab, sizeof lab, "%d%%", (int)lround(v * 100));
        bs_svg_line(fp, left, y, width - 10, y, "#ddd", 1, 0);
        bs_svg_text(fp, left - 6, y + 4, "end", 11, "#444", lab);
    }
    for (int e = 0; e < ne; e++) {
        const bs_experiment *x = &s->experiments[e];
        const bs_metric *m[MAX_HEADLINE];
        headline(s, x, all, all_names);
        for (int k = 0, j = 0; k < nall; k++)
            if (strcmp(all_names[k], "MCC") != 0) m[j++] = all[k];
        double gx = left + e * group_w + 15;
        for (int k = 0; k < nm; k++) {
            if (!m[k]->defined) continue;
            double v = m[k]->value < lo ? lo : m[k]->value;
            double y = top + plot_h * (1 - (v - lo) / (1 - lo));
            char tip[128];
            snprintf(tip, sizeof tip, "%s %s = %.2f%% [%.2f, %.2f]", x->name, names[k],
                     100 * m[k]->value, 100 * m[k]->lo, 100 * m[k]->hi);
            bs_svg_rect(fp, gx + k * 40, y, 34, top + plot_h - y, bs_svg_palette(k), tip);
            if (isfinite(m[k]->lo) && isfinite(m[k]->hi)) {
                double ylo = top + plot_h * (1 - ((m[k]->lo < lo ? lo : m[k]->lo) - lo) / (1 - lo));
                double yhi = top + plot_h * (1 - (m[k]->hi - lo) / (1 - lo));
                bs_svg_line(fp, gx + k * 40 + 17, ylo, gx + k * 40 + 17, yhi, "#222", 1.2, 0);
            }
        }
        bs_svg_text(fp, gx + group_w / 2 - 15, top + plot_h + 18, "middle", 12, "#222", x->name);
    }
    for (int k = 0; k < nm; k++) {
        bs_svg_rect(fp, left + k * 100, height - 30, 12, 12, bs_svg_palette(k), NULL);
        bs_svg_text(fp, left + k * 100 + 16, height - 20, "start", 12, "#222", names[k]);
    }
    bs_svg_end(fp);
    return 0;
}

/* One K×K (2×2 for the binary task) confusion matrix per model: rows true, columns predicted,
 * blue on the diagonal and red off it, shaded by the share of the row. */
static int write_confusion_svg(FILE *fp, const void *a, const void *b) {
    const bs_study *s = a;
    (void)b;
    const int k = s->nclasses, ne = (int)s->nexperiments, cell = k > 2 ? 50 : 70;
    const int panel = k * cell + 100, per_row = k > 2 ? 3 : 4;
    const int width = panel * (ne < per_row ? ne : per_row) + 20,
              rows = (ne + per_row - 1) / per_row;
    const int height = rows * (panel + 20) + 50;
    char title[128];
    snprintf(title, sizeof title, "Confusion matrices, pooled (%s protocol)",
             bs_protocol_name(s->protocol));
    bs_svg_begin(fp, width < 500 ? 500 : width, height, title);
    bs_svg_text(fp, width / 2.0, 24, "middle", 16, "#222", title);
    int64_t *cnt = bs_calloc((size_t)k * (size_t)k, sizeof *cnt);
    if (!cnt) return -1;
    for (int e = 0; e < ne; e++) {
        const bs_experiment *x = &s->experiments[e];
        if (s->task == BS_TASK_BINARY) {
            cnt[0] = x->pooled.tn, cnt[1] = x->pooled.fp, cnt[2] = x->pooled.fn,
            cnt[3] = x->pooled.tp;
        } else {
            memcpy(cnt, x->cpooled.counts, sizeof *cnt * (size_t)k * (size_t)k);
        }
        double ox = 10 + (e % per_row) * panel + 80, oy = 60 + (e / per_row) * (panel + 20) + 20;
        bs_svg_text(fp, ox + k * cell / 2.0, oy - 12, "middle", 13, "#222", x->name);
        for (int t = 0; t < k; t++) {
            int64_t rowsum = 0;
            for (int p = 0; p < k; p++) rowsum += cnt[t * k + p];
            for (int p = 0; p < k; p++) {
                double share = rowsum ? (double)cnt[t * k + p] / (double)rowsum : 0;
                char fill[16], txt[32];
                int shade = (int)lround(255 - share * 200);
                snprintf(fill, sizeof fill, t == p ? "#%02x%02xff" : "#ff%02x%02x", shade, shade);
                snprintf(txt, sizeof txt, "%lld", (long long)cnt[t * k + p]);
                bs_svg_rect(fp, ox + p * cell, oy + t * cell, cell - 2, cell - 2, fill, NULL);
                bs_svg_text(fp, ox + p * cell + cell / 2.0, oy + t * cell + cell / 2.0 + 5,
                            "middle", k > 2 ? 12 : 15, "#111", txt);
            }
            bs_svg_text(fp, ox - 6, oy + t * cell + cell / 2.0 + 4, "end", 11, "#444",
                        s->class_names[t]);
            bs_svg_text(fp, ox + t * cell + cell / 2.0, oy + k * cell + 14, "middle", 10, "#444",
                        s->class_names[t]);
        }
    }
    free(cnt);
    bs_svg_end(fp);
    return 0;
}

static int write_roc_svg(FILE *fp, const void *a, const void *b) {
    const bs_study *s = a;
    (void)b;
    const double left = 60, top = 50, size = 360;
    const int width = (int)(left + size + 230), height = (int)(top + size + 60);
    char title[128];
    snprintf(title, sizeof title, "ROC curves, pooled (%s protocol)",
             bs_protocol_name(s->protocol));
    bs_svg_begin(fp, width, height, title);
    bs_svg_text(fp, width / 2.0, 24, "middle", 16, "#222", title);
    bs_svg_rect(fp, left, top, size, size, "#fafafa", NULL);
    bs_svg_line(fp, left, top + size, left + size, top, "#aaa", 1, 1);
    for (int t = 0; t <= 4; t++) {
        char lab[8];
        snprintf(lab, sizeof lab, "%.2f", t * 0.25);
        bs_svg_text(fp, left - 6, top + size - t * size / 4 + 4, "end", 11, "#444", lab);
        bs_svg_text(fp, left + t * size / 4, top + size + 16, "middle", 11, "#444", lab);
    }
    bs_svg_text(fp, left + size / 2, top + size + 36, "middle", 12, "#222",
                "false positive rate (1 - SP)");
    bs_svg_text(fp, 16, top + size / 2, "middle", 12, "#222", "TPR");
    for (size_t e = 0; e < s->nexperiments; e++) {
        const bs_experiment *x = &s->experiments[e];
        bs_roc_point *pts = NULL;
        int64_t np = 0;
        if (bs_metrics_roc(s->labels, x->decision, (int64_t)s->n, &pts, &np)) return -1;
        bs_svg_polyline_begin(fp, bs_svg_palette((int)e), 2);
        for (int64_t i = 0; i < np; i++)
            bs_svg_polyline_point(fp, left + pts[i].fpr * size, top + size - pts[i].tpr * size);
        bs_svg_polyline_point(fp, left + size, top);
        bs_svg_polyline_end(fp);
        free(pts);
        char lab[128];
        if (x->pooled.auc.defined)
            snprintf(lab, sizeof lab, "%s (AUC %.4f)", x->name, x->pooled.auc.value);
        else
            snprintf(lab, sizeof lab, "%s", x->name);
        bs_svg_line(fp, left + size + 15, top + 10 + 20 * (double)e, left + size + 35,
                    top + 10 + 20 * (double)e, bs_svg_palette((int)e), 3, 0);
        bs_svg_text(fp, left + size + 40, top + 14 + 20 * (double)e, "start", 12, "#222", lab);
    }
    bs_svg_end(fp);
    return 0;
}

int bs_report_write(const bs_study *s, const bs_feature_index *idx, const char *outdir) {
    char *fig = bs_path_join(outdir, "figures");
    int rc = fig ? bs_mkdir_p(fig) : -1;
    if (rc == 0) rc = bs_report_write_file(outdir, "results.json", write_results, s, NULL);
    if (rc == 0) rc = bs_report_write_file(outdir, "predictions.csv", write_predictions, s, idx);
    if (rc == 0) rc = bs_report_write_file(outdir, "table1.md", write_table_md, s, NULL);
    if (rc == 0) rc = bs_report_write_file(outdir, "table1.csv", write_table_csv, s, NULL);
    if (rc == 0) rc = bs_report_write_file(fig, "metrics.svg", write_metrics_svg, s, NULL);
    if (rc == 0) rc = bs_report_write_file(fig, "confusion.svg", write_confusion_svg, s, NULL);
    /* ROC curves need one decision value per row: two classes only. */
    if (rc == 0 && s->task == BS_TASK_BINARY)
        rc = bs_report_write_file(fig, "roc.svg", write_roc_svg, s, NULL);
    if (rc == 0) rc = bs_report_write_evidence(s, idx, outdir);
    free(fig);
    return rc;
}

/* ---------------- report.md ---------------- */

static const bs_experiment *find_experiment(const bs_study *s, const char *name) {
    for (size_t e = 0; s && e < s->nexperiments; e++)
        if (strcmp(s->experiments[e].name, name) == 0) return &s->experiments[e];
    return NULL;
}

static void cell(FILE *fp, const bs_experiment *x) {
    if (!x) {
        fputs(" | — | — | — | — | —", fp);
        return;
    }
    const bs_metric *m[5] = {&x->pooled.sn, &x->pooled.sp, &x->pooled.pr, &x->pooled.ac,
                             &x->pooled.auc};
    for (int i = 0; i < 5; i++) {
        fputs(" | ", fp);
        pct(fp, m[i]);
    }
}

static int write_summary(FILE *fp, const void *a, const void *b) {
    const bs_study *const *st = a;
    const bs_study *paper = st[0], *grouped = st[1];
    const bs_report_context *ctx = b;
    const bs_study *any = paper ? paper : grouped;
    fputs("# blastscan reproduce — Atteia (2023), re-run and audited\n\n", fp);
    bs_putf(fp, "- data: %s\n- backbones: %s\n- augmentation: %s\n- rows: %zu, groups: %lld\n",
            ctx->data, ctx->backbones, ctx->augment, any->n, (long long)any->groups);
    bs_putf(fp, "- %d-fold cross-validation, seed %llu, autoencoder %d epochs\n", any->folds,
            (unsigned long long)any->seed, any->epochs);
    bs_putf(fp, "- time: extraction %.0f s, total %.0f s; blastscan %s\n\n", ctx->extract_seconds,
            ctx->total_seconds, ctx->version);
    fputs("## Table 1, both protocols side by side\n\nPooled over all test rows, in %.\n\n", fp);
    fputs("| Model | paper SN | SP | PR | AC | AUC | grouped SN | SP | PR | AC | AUC |\n"
          "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n",
          fp);
    for (size_t e = 0; e < any->nexperiments; e++) {
        const char *name = any->experiments[e].name;
        bs_putf(fp, "| %s", name);
        cell(fp, find_experiment(paper, name));
        cell(fp, find_experiment(grouped, name));
        fputs(" |\n", fp);
    }
    fputs("\nThe paper reports (ALL-IDB1+2, its own protocol): ESet AC 99.8, SP 99.6, PR 99.8, SN "
          "100; "
          "Case 1 (latent 25 %) 100 on all four; GSet lowest.\n\n",
          fp);
    fputs("## What the paper protocol leaks\n\n", fp);
    if (paper) {
        char leak[96];
        bs_report_leak_phrase(leak, sizeof leak, paper);
        bs_putf(fp,
                "- **Mirrors across folds.** The paper augments first and splits the views at "
                "random, so an "
                "image's horizontal or vertical mirror is in training while the image itself is "
                "tested. Here "
                "%s had such a sibling in the training folds.\n",
                leak);
    } else {
        fputs("- (the paper protocol did not run)\n", fp);
    }
    fputs(
        "- **The autoencoder sees the test rows.** It is fitted once on every row, test folds "
        "included, "
        "before cross-validation; so are its mapminmax scaling limits.\n"
        "- **Duplicates.** Byte-identical images (and, in ALL-IDB2, the same cell photographed "
        "twice) "
        "can fall on both sides of a split.\n\n"
        "The grouped protocol deals whole groups (an image, its mirrors, its exact duplicates, the "
        "manifest's patients or slides) into folds and fits every step — scaling, autoencoder, "
        "standardisation, kernel scale, SVM — on training folds only. Its numbers are the ones to "
        "quote.\n\n",
        fp);
    if (paper && grouped) {
        fputs("| Model | AC paper − grouped (points) |\n|---|---:|\n", fp);
        for (size_t e = 0; e < paper->nexperiments; e++) {
            const bs_experiment *p = &paper->experiments[e], *g = find_experiment(grouped, p->name);
            if (g && p->pooled.ac.defined && g->pooled.ac.defined)
                bs_putf(fp, "| %s | %+.2f |\n", p->name,
                        100 * (p->pooled.ac.value - g->pooled.ac.value));
        }
        fputs("\n", fp);
    }
    if (paper) bs_report_evidence_md(fp, paper, "paper/figures/");
    if (grouped) bs_report_evidence_md(fp, grouped, "grouped/figures/");
    fputs("## Files\n\n- `report.html`: this report on one self-contained page, with the figures, "
          "every "
          "misclassified image and the near-duplicate pairs that were joined\n",
          fp);
    if (paper)
        fputs("- `paper/`: results.json, predictions.csv, table1.md/.csv, evidence.md, "
              "figures/*.svg\n",
              fp);
    if (grouped) fputs("- `grouped/`: the same for the grouped protocol\n", fp);
    fputs("\nFigures: ", fp);
    if (paper) fputs("![paper](paper/figures/metrics.svg) ", fp);
    if (grouped) fputs("![grouped](grouped/figures/metrics.svg)", fp);
    fputs("\n", fp);
    return 0;
}

int bs_report_write_summary(const bs_study *paper, const bs_study *grouped,
                            const bs_report_context *ctx, const char *outdir) {
    if (!paper && !grouped) return bs_error("no study to report");
    if (bs_mkdir_p(outdir)) return -1;
    const bs_study *st[2] = {paper, grouped};
    return bs_report_write_file(outdir, "report.md", write_summary, st, ctx);
}
