/* calibrate.c — Platt probabilities for a study's test rows, and how well calibrated they are.
 *
 * For each fold f, Platt's sigmoid is fitted on the out-of-fold decisions of the rows of the
 * other folds (each produced by the SVM that did not train on that row), clipped to Tukey's
 * far-out fences as `train` does (bs_platt_fit_clipped), and applied to the decisions of fold
 * f's rows. So a row's probability comes from a sigmoid that never saw that
 * row's label, nor any row of its fold; under the grouped protocol, nor any row of its group.
 * (Under the paper protocol a test row's mirrors sit in other folds and do inform its sigmoid:
 * the same leak as the rest of that protocol.) The calibration statistics are taken over the
 * original views only, one row per image, so "how many test images" means images.
 * Not for: the probabilities of a trained pipeline (pipeline.c fits its own, the same way). */
#include <math.h>
#include <stdlib.h>

#include "core/error.h"
#include "core/io.h"
#include "core/log.h"
#include "study_internal.h"

/* Fit on the rows outside fold f, apply to the rows of fold f. 0, or -1 when the sigmoid
 * cannot be fitted (one class only outside the fold): the rows stay NaN. */
static int calibrate_fold(const bs_study *s, bs_experiment *x, int f, double *dec, int32_t *lab) {
    int64_t m = 0;
    for (size_t r = 0; r < s->n; r++)
        if (s->fold[r] != f) dec[m] = x->decision[r], lab[m] = s->labels[r], m++;
    double a, b;
    if (bs_platt_fit_clipped(dec, lab, m, BS_PLATT_CLIP_K, &a, &b)) return -1;
    for (size_t r = 0; r < s->n; r++)
        if (s->fold[r] == f) x->probability[r] = bs_platt(a, b, x->decision[r]);
    return 0;
}

int bs_study_calibrate(const bs_study *s, bs_experiment *x, const bs_feature_index *idx) {
    x->calibrated = 0;
    if (!(x->probability = bs_malloc(sizeof *x->probability * (s->n ? s->n : 1)))) return -1;
    for (size_t r = 0; r < s->n; r++) x->probability[r] = NAN;
    if (s->task != BS_TASK_BINARY) return 0;
    double *dec = bs_malloc(sizeof *dec * (s->n ? s->n : 1));
    int32_t *lab = bs_malloc(sizeof *lab * (s->n ? s->n : 1)),
            *pred = bs_malloc(sizeof *pred * (s->n ? s->n : 1));
    if (!dec || !lab || !pred) {
        free(dec), free(lab), free(pred);
        return -1;
    }
    int ok = 1;
    /* Leave one source out: each unit's own sigmoid, fitted by grouped CV inside its training
     * rows (study/travel.c), never on decisions of models that saw the unit. */
    for (size_t r = 0; r < s->n && s->protocol == BS_PROTOCOL_SOURCE; r++)
        x->probability[r] = bs_platt(x->unit_platt[2 * s->fold[r]],
                                     x->unit_platt[2 * s->fold[r] + 1], x->decision[r]);
    for (int f = 0; f < s->folds && s->protocol != BS_PROTOCOL_SOURCE; f++)
        if (calibrate_fold(s, x, f, dec, lab)) {
            bs_warn("%s: no probabilities for fold %d: %s", x->name, f + 1, bs_error_message());
            ok = 0;
        }
    int rc = 0;
    if (ok) {
        int64_t m = 0;
        for (size_t r = 0; r < s->n; r++) {
            if (idx->rows[r].view != BS_VIEW_ORIGINAL) continue;
            dec[m] = x->probability[r], lab[m] = s->labels[r], pred[m] = x->predicted[r];
            m++;
        }
        rc = bs_calibration_compute(dec, lab, pred, m, &x->calibration);
        x->calibrated = rc == 0;
    }
    free(dec);
    free(lab);
    free(pred);
    return rc;
}
