/* confusion.c — K-class confusion matrix (the subtype task): per-class one-vs-rest metrics and
 * macro averages, and their JSON form. Not for: two-class reports (metrics.c). */
#include "eval/eval.h"

#include <math.h>
#include <stddef.h>
#include <stdlib.h>

#include "core/error.h"
#include "core/io.h"
#include "core/json.h"
#include "core/stats.h"

void bs_confusion_free(bs_confusion *c) {
    free(c->counts);
    free(c->per_class);
    c->counts = NULL;
    c->per_class = NULL;
}

/* Mean of the defined members (value and bounds); undefined when none is. */
static bs_metric macro(const bs_class_metrics *pc, int k, size_t offset) {
    double v = 0, lo = 0, hi = 0;
    int m = 0;
    for (int c = 0; c < k; c++) {
        const bs_metric *x = (const bs_metric *)((const char *)&pc[c] + offset);
        if (!x->defined) continue;
        v += x->value, lo += x->lo, hi += x->hi, m++;
    }
    if (!m) return (bs_metric){NAN, NAN, NAN, 0};
    return (bs_metric){v / m, lo / m, hi / m, 1};
}

int bs_confusion_build(const int32_t *labels, const int32_t *predicted, int64_t n, int k,
                       bs_confusion *o) {
    o->counts = NULL, o->per_class = NULL;
    if (k < 2) return bs_error("confusion: need at least 2 classes (k = %d)", k);
    o->k = k;
    o->n = n;
    o->counts = bs_calloc((size_t)k * (size_t)k, sizeof *o->counts);
    o->per_class = bs_calloc((size_t)k, sizeof *o->per_class);
    if (!o->counts || !o->per_class) {
        bs_confusion_free(o);
        return -1;
    }
    for (int64_t i = 0; i < n; i++) {
        if (labels[i] < 0 || labels[i] >= k || predicted[i] < 0 || predicted[i] >= k) {
            bs_confusion_free(o);
            return bs_error("confusion: row %lld has label %d / prediction %d outside 0..%d",
                            (long long)i, labels[i], predicted[i], k - 1);
        }
        o->counts[(int64_t)labels[i] * k + predicted[i]]++;
    }
    int64_t correct = 0;
    for (int c = 0; c < k; c++) {
        int64_t tp = o->counts[(int64_t)c * k + c], row = 0, col = 0;
        for (int j = 0; j < k; j++)
            row += o->counts[(int64_t)c * k + j], col += o->counts[(int64_t)j * k + c];
        correct += tp;
        bs_metrics m;
        bs_metrics_from_counts(tp, row - tp, n - row - col + tp, col - tp, &m);
        bs_class_metrics *pc = &o->per_class[c];
        pc->tp = m.tp, pc->fn = m.fn, pc->tn = m.tn, pc->fp = m.fp;
        pc->sn = m.sn, pc->sp = m.sp, pc->pr = m.pr, pc->f1 = m.f1;
    }
    if (n > 0) {
        o->accuracy = (bs_metric){(double)correct / (double)n, 0, 0, 1};
        bs_wilson95(correct, n, &o->accuracy.lo, &o->accuracy.hi);
    } else
        o->accuracy = (bs_metric){NAN, NAN, NAN, 0};
    o->macro_sn = macro(o->per_class, k, offsetof(bs_class_metrics, sn));
    o->macro_pr = macro(o->per_class, k, offsetof(bs_class_metrics, pr));
    o->macro_f1 = macro(o->per_class, k, offsetof(bs_class_metrics, f1));
    o->balanced_accuracy = o->macro_sn;
    return 0;
}

/* The classes, by name or (without names) by number; then the k × k counts. */
static void write_classes(bs_json_writer *w, const bs_confusion *c,
                          const char *const *class_names) {
    int k = c->k;
    bs_json_begin_array(w, "classes", BS_JSON_COMPACT);
    for (int i = 0; i < k; i++) {
        char number[16];
        snprintf(number, sizeof number, "%d", i);
        bs_json_put_string(w, NULL, class_names ? class_names[i] : number);
    }
    bs_json_end(w);
    bs_json_begin_array(w, "counts", BS_JSON_COMPACT);
    for (int i = 0; i < k; i++) {
        bs_json_begin_array(w, NULL, BS_JSON_COMPACT);
        for (int j = 0; j < k; j++) bs_json_put_int(w, NULL, c->counts[(int64_t)i * k + j]);
        bs_json_end(w);
    }
    bs_json_end(w);
}

void bs_confusion_write_json(bs_json_writer *w, const char *key, const bs_confusion *c,
                             const char *const *class_names) {
    bs_json_begin_object(w, key, BS_JSON_COMPACT);
    bs_json_put_int(w, "k", c->k);
    bs_json_put_int(w, "n", c->n);
    write_classes(w, c, class_names);
    bs_json_begin_array(w, "per_class", BS_JSON_COMPACT);
    for (int i = 0; i < c->k; i++) {
        const bs_class_metrics *p = &c->per_class[i];
        bs_json_begin_object(w, NULL, BS_JSON_COMPACT);
        bs_metric_write_counts(w, p->tp, p->fn, p->tn, p->fp);
        const char *nm[] = {"sn", "sp", "pr", "f1"};
        const bs_metric *v[] = {&p->sn, &p->sp, &p->pr, &p->f1};
        for (int q = 0; q < 4; q++) bs_metric_write_json(w, nm[q], v[q]);
        bs_metric_write_undefined(w, nm, v, 4);
        bs_json_end(w);
    }
    bs_json_end(w);
    const char *nm[] = {"accuracy", "macro_sn", "macro_pr", "macro_f1", "balanced_accuracy"};
    const bs_metric *v[] = {&c->accuracy, &c->macro_sn, &c->macro_pr, &c->macro_f1,
                            &c->balanced_accuracy};
    for (int q = 0; q < 5; q++) bs_metric_write_json(w, nm[q], v[q]);
    bs_json_end(w);
}
