/* shortcuts.c — the shortcut audit: could a classifier tell ALL from healthy without looking at
 * cells? Each baseline is the study's cubic SVM (svm.h; C = 1, kernel scale √D, see cross_validate) trained on
 * the study's own folds, but on features a diagnosis must not depend on:
 *
 *   size              image width and height (pixels)
 *   bytes_per_pixel   file size / (width · height)
 *   jpeg_quality      the IJG quality of the luminance quantisation table (image/jpeg_quality.h);
 *                     0 for an image that is not a JPEG; only when some image is a JPEG
 *   mean_rgb          mean R, G, B
 *   colour_histogram  a 4 × 4 × 4 joint RGB histogram (fractions of the pixels)
 *   source            which --data the image came from (one-hot); only when several are fused
 *
 * A baseline warns when its pooled AUC reaches 0.80 or its pooled AC comes within 5 points of the
 * best deep model's: then the deep numbers may owe something to the acquisition, not the cells.
 * Features that are the same for every image (all Aria images are 224 × 224 JPEGs of quality 95)
 * carry nothing: such a baseline calls each fold its training majority and never warns.
 * Every view of an image gets the image's features (mirroring changes none of them).
 * Not for: the deep models' own evaluation (study.c). */
#define _GNU_SOURCE
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/dist.h"
#include "core/error.h"
#include "core/io.h"
#include "core/log.h"
#include "image/image.h"
#include "image/jpeg_quality.h"
#include "study_internal.h"
#include "svm/svm.h"

#define HIST 4                     /* levels per channel */
#define NHIST (HIST * HIST * HIST) /* histogram bins */
#define MAX_FILE ((size_t)1 << 30)

typedef struct {
    double width, height, bytes_per_pixel, quality, mean[3], hist[NHIST];
    int jpeg;
} image_facts;

/* Everything but the source, from the file and its decoded pixels. */
static int measure(const char *path, image_facts *f) {
    memset(f, 0, sizeof *f);
    unsigned char *buf = NULL;
    size_t len = 0;
    bs_image img = {0};
    if (bs_read_file(path, MAX_FILE, &buf, &len) || bs_image_load_buffer(buf, len, path, &img)) {
        free(buf);
        return -1;
    }
    int q = 0;
    f->jpeg = bs_jpeg_quality(buf, len, path, &q, NULL) == 0;
    f->quality = f->jpeg ? q : 0;
    f->width = img.width, f->height = img.height;
    const size_t npx = (size_t)img.width * (size_t)img.height;
    f->bytes_per_pixel = (double)len / (double)npx;
    for (size_t i = 0; i < npx; i++) {
        const unsigned char *p = img.rgb + 3 * i;
        for (int c = 0; c < 3; c++) f->mean[c] += p[c];
        f->hist[(p[0] * HIST / 256) * HIST * HIST + (p[1] * HIST / 256) * HIST +
                p[2] * HIST / 256] += 1;
    }
    for (int c = 0; c < 3; c++) f->mean[c] /= (double)npx;
    for (int b = 0; b < NHIST; b++) f->hist[b] /= (double)npx;
    bs_image_free(&img);
    free(buf);
    return 0;
}

/* facts[r] for every row: measured once per original view, copied to the other views of the
 * same path. Returns 1 (with a warning) when an image cannot be read. */
static int measure_rows(const bs_feature_index *idx, image_facts *facts) {
    int failed = 0;
    char *first_error = NULL;
#pragma omp parallel for schedule(dynamic, 4)
    for (size_t r = 0; r < idx->n; r++) {
        if (idx->rows[r].view != BS_VIEW_ORIGINAL) continue;
        if (measure(idx->rows[r].path, &facts[r])) {
#pragma omp critical(shortcut_error)
            if (!failed++) first_error = strdup(bs_error_message());
        }
    }
    for (size_t r = 0; r < idx->n && !failed; r++) {
        if (idx->rows[r].view == BS_VIEW_ORIGINAL) continue;
        size_t o = r; /* extraction writes an image's views together, original first */
        while (o > 0 && (idx->rows[o].view != BS_VIEW_ORIGINAL ||
                         strcmp(idx->rows[o].path, idx->rows[r].path) != 0))
            o--;
        if (strcmp(idx->rows[o].path, idx->rows[r].path) != 0 ||
            idx->rows[o].view != BS_VIEW_ORIGINAL) {
            failed = 1;
            first_error =
                bs_strfmt("%s: a mirror row without its original view", idx->rows[r].path);
        } else
            facts[r] = facts[o];
    }
    if (failed && bs_dist_rank() == 0)
        bs_warn("shortcut audit skipped: %s",
                first_error ? first_error : "an image cannot be read");
    free(first_error);
    return failed ? 1 : 0;
}

enum { B_SIZE, B_BPP, B_QUALITY, B_MEAN, B_HIST, B_SOURCE, NBASE };
static const char *const base_name[NBASE] = {"size",     "bytes_per_pixel",  "jpeg_quality",
                                             "mean_rgb", "colour_histogram", "source"};
static const char *const base_words[NBASE] = {"image width and height",
                                              "file size per pixel",
                                              "JPEG quality of the luminance table (0: not JPEG)",
                                              "mean R, G, B",
                                              "4x4x4 RGB histogram",
                                              "--data source index (one-hot)"};

static int64_t base_width(int b, int nsources) {
    static const int64_t w[NBASE] = {2, 1, 1, 3, NHIST, 0};
    return b == B_SOURCE ? nsources : w[b];
}

/* Row r's columns for baseline b into x. */
static void base_row(int b, const image_facts *f, int source, int nsources, float *x) {
    switch (b) {
        case B_SIZE: x[0] = (float)f->width, x[1] = (float)f->height; break;
        case B_BPP: x[0] = (float)f->bytes_per_pixel; break;
        case B_QUALITY: x[0] = (float)f->quality; break;
        case B_MEAN:
            for (int c = 0; c < 3; c++) x[c] = (float)f->mean[c];
            break;
        case B_HIST:
            for (int i = 0; i < NHIST; i++) x[i] = (float)f->hist[i];
            break;
        default:
            for (int k = 0; k < nsources; k++) x[k] = (float)(k == source);
    }
}

static int all_rows_alike(const float *x, size_t n, int64_t w) {
    for (size_t r = 1; r < n; r++)
        if (memcmp(x, x + r * (size_t)w, sizeof *x * (size_t)w) != 0) return 0;
    return 1;
}

/* What any classifier can do with features that are the same for every image: call each test
 * fold the majority class of its training folds (ties: ALL), one decision for all (AUC ½). An
 * SVM on such a kernel only burns libsvm's iteration limit to say the same. */
static void constant_baseline(const bs_study *s, double *dec, int32_t *pred) {
    for (int f = 0; f < s->folds; f++) {
        int64_t pos = 0, neg = 0;
        for (size_t r = 0; r < s->n; r++)
            if (s->fold[r] != f) pos += s->labels[r] == 1, neg += s->labels[r] != 1;
        for (size_t r = 0; r < s->n; r++)
            if (s->fold[r] == f) dec[r] = 0, pred[r] = pos >= neg;
    }
}

/* Cross-validate the SVM on x (n × w) over the study's folds; pooled metrics into out. The
 * kernel scale is fixed at √w: on standardised columns xᵀy/w stays of order 1. MATLAB's 'auto'
 * (a median nearest-neighbour distance) collapses on a column with few distinct values, such as
 * file sizes, and libsvm then stops at its iteration limit with a meaningless model. */
static int cross_validate(const bs_study *s, const float *x, int64_t w, int constant, bs_rng *rng,
                          bs_metrics *out) {
    bs_svm_params sp;
    bs_svm_params_default(&sp);
    sp.n_classes = 2;
    sp.kernel_scale = sqrt((double)w);
    double *dec = bs_calloc(s->n, sizeof *dec);
    int32_t *pred = bs_calloc(s->n, sizeof *pred);
    int rc = dec && pred ? 0 : -1;
    if (rc == 0 && constant)
        constant_baseline(s, dec, pred);
    else if (rc == 0)
        rc = bs_svm_cross_validate(bs_matrix_of(x, (int64_t)s->n, w), s->labels, s->fold, s->folds,
                                   &sp, rng, dec, pred);
    if (rc == 0) rc = bs_metrics_binary(s->labels, pred, dec, (int64_t)s->n, out);
    free(dec);
    free(pred);
    return rc;
}

static int run_baseline(bs_study *s, const bs_feature_index *idx, const image_facts *facts, int b,
                        bs_rng *rng) {
    const int64_t w = base_width(b, s->nsources);
    float *x = bs_malloc(sizeof *x * s->n * (size_t)w);
    if (!x) return -1;
    for (size_t r = 0; r < s->n; r++)
        base_row(b, &facts[r], idx->rows[r].source, s->nsources, x + r * (size_t)w);
    bs_shortcut *sc = &s->shortcuts[s->nshortcuts];
    memset(sc, 0, sizeof *sc);
    snprintf(sc->name, sizeof sc->name, "%s", base_name[b]);
    snprintf(sc->features, sizeof sc->features, "%s", base_words[b]);
    sc->width = w;
    sc->constant = all_rows_alike(x, s->n, w);
    int rc = cross_validate(s, x, w, sc->constant, rng, &sc->pooled);
    free(x);
    if (rc) return bs_error_prefix("shortcut baseline %s: ", base_name[b]), -1;
    const bs_metrics *m = &sc->pooled;
    sc->warning =
        !sc->constant &&
        ((m->auc.defined && m->auc.value >= 0.80) ||
         (m->ac.defined && isfinite(s->best_deep_ac) && m->ac.value >= s->best_deep_ac - 0.05));
    s->nshortcuts++;
    return 0;
}

int bs_study_shortcuts(bs_study *s, const bs_feature_index *idx, uint64_t seed) {
    s->best_deep_ac = NAN;
    for (size_t e = 0; e < s->nexperiments; e++) {
        const bs_metric *ac = &s->experiments[e].pooled.ac;
        if (ac->defined && !(ac->value <= s->best_deep_ac)) s->best_deep_ac = ac->value;
    }
    image_facts *facts = bs_calloc(s->n ? s->n : 1, sizeof *facts);
    if (!facts) return -1;
    int rc = measure_rows(idx, facts);
    if (rc) {
        free(facts);
        return rc < 0 ? -1 : 0;
    }
    int any_jpeg = 0;
    for (size_t r = 0; r < s->n; r++) any_jpeg |= facts[r].jpeg;
    s->shortcuts = bs_calloc(NBASE, sizeof *s->shortcuts);
    rc = s->shortcuts ? 0 : -1;
    for (int b = 0; b < NBASE && rc == 0; b++) {
        if ((b == B_QUALITY && !any_jpeg) || (b == B_SOURCE && s->nsources < 2)) continue;
        /* one stream per baseline: its numbers do not depend on which others ran */
        bs_rng rng;
        bs_rng_seed(&rng, seed + 0x9e3779b97f4a7c15ULL * (uint64_t)(b + 1));
        rc = run_baseline(s, idx, facts, b, &rng);
    }
    free(facts);
    for (size_t i = 0; i < s->nshortcuts && rc == 0 && bs_dist_rank() == 0; i++) {
        const bs_shortcut *sc = &s->shortcuts[i];
        if (sc->warning)
            bs_warn("shortcut audit (%s protocol): %s (%s) alone reaches AC %.1f %%, AUC %.3f; the "
                    "best deep model's "
                    "AC is %.1f %%",
                    bs_protocol_name(s->protocol), sc->name, sc->features,
                    100 * sc->pooled.ac.value, sc->pooled.auc.value, 100 * s->best_deep_ac);
    }
    return rc;
}
