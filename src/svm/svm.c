/* svm.c — fit and predict the cubic SVM (see svm.h): libsvm C-SVC on a precomputed kernel,
 * the fitted libsvm model copied into a dense, self-contained form (bs_svm_parts) that the
 * prediction code here evaluates with one GEMM per block of test rows.
 * Not for: fold logic or metrics (src/eval). */
#include "svm/svm.h"

#include <assert.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <svm.h> /* libsvm */

#include "core/error.h"
#include "core/io.h"
#include "core/stats.h"
#include "svm/kernel.h"

struct bs_svm {
    int64_t d;
    double *mean, *scale; /* d */
    double kernel_scale;
    int k;               /* classes in the model */
    int32_t *classes;    /* k, ascending */
    int32_t *n_sv_class; /* k */
    int64_t n_sv;
    float *sv;    /* n_sv × d */
    double *coef; /* (k−1) × n_sv */
    double *rho;  /* k(k−1)/2 */
};

void bs_svm_params_default(bs_svm_params *p) {
    p->kernel_scale = 0.0;
    p->box_constraint = 1.0;
    p->tolerance = 1e-3;
    p->cache_mb = 200.0;
    p->shrinking = 1;
    p->n_classes = 2;
    p->missing = BS_SVM_MISSING_ERROR;
}

void bs_svm_free(bs_svm *m) {
    if (!m) return;
    free(m->mean);
    free(m->scale);
    free(m->classes);
    free(m->n_sv_class);
    free(m->sv);
    free(m->coef);
    free(m->rho);
    free(m);
}

int bs_svm_n_decisions(const bs_svm *m) { return m->k == 2 ? 1 : m->k * (m->k - 1) / 2; }

/* ---- kernel scale 'auto' ------------------------------------------------------------------ */

#define AUTO_SAMPLE 100

/* Keep at most AUTO_SAMPLE of idx[0..n): a partial Fisher–Yates shuffle when n is larger. */
static int64_t subsample(int64_t *idx, int64_t n, bs_rng *rng) {
    if (n <= AUTO_SAMPLE) return n;
    for (int64_t i = 0; i < AUTO_SAMPLE; i++) {
        int64_t j = i + (int64_t)bs_rng_below(rng, (uint64_t)(n - i));
        int64_t t = idx[i];
        idx[i] = idx[j];
        idx[j] = t;
    }
    return AUTO_SAMPLE;
}

int bs_svm_auto_kernel_scale(bs_matrix zm, const uint8_t *is_pos, bs_rng *rng, double *scale) {
    assert(bs_matrix_ok(zm) && (is_pos || zm.rows == 0) && scale);
    const float *z = zm.data;
    const int64_t n_rows = zm.rows, d = zm.cols;
    int64_t *pos = bs_malloc(sizeof *pos * (size_t)(n_rows ? n_rows : 1));
    int64_t *neg = bs_malloc(sizeof *neg * (size_t)(n_rows ? n_rows : 1));
    double *dist = bs_malloc(sizeof *dist * AUTO_SAMPLE);
    if (!pos || !neg || !dist) {
        free(pos), free(neg), free(dist);
        return bs_error_prefix("kernel scale: ");
    }
    int64_t np = 0, nn = 0;
    for (int64_t i = 0; i < n_rows; i++) {
        if (is_pos[i])
            pos[np++] = i;
        else
            neg[nn++] = i;
    }
    if (np == 0 || nn == 0) {
        free(pos), free(neg), free(dist);
        return bs_error("kernel scale 'auto': needs rows of both classes (%lld positive, %lld "
                        "negative)",
                        (long long)np, (long long)nn);
    }
    if ((np > AUTO_SAMPLE || nn > AUTO_SAMPLE) && !rng) {
        free(pos), free(neg), free(dist);
        return bs_error("kernel scale 'auto': a seeded random generator is required");
    }
    np = subsample(pos, np, rng);
    nn = subsample(neg, nn, rng);
    for (int64_t a = 0; a < np; a++) {
        const float *za = z + pos[a] * d;
        double best = INFINITY;
        for (int64_t b = 0; b < nn; b++) {
            const float *zb = z + neg[b] * d;
            double s2 = 0.0;
            for (int64_t j = 0; j < d; j++) {
                double t = (double)za[j] - (double)zb[j];
                s2 += t * t;
            }
            if (s2 < best) best = s2;
        }
        dist[a] = sqrt(best);
    }
    double s = bs_median(dist, np);
    *scale = (isfinite(s) && s > 0.0) ? s : 1.0;
    free(pos), free(neg), free(dist);
    return 0;
}

/* ---- fit ------------------------------------------------------------------------------------ */

static void quiet_print(const char *s) { (void)s; }

/* libsvm's print hook is a process-wide pointer: set it once, so fits may run in parallel. */
static pthread_once_t quiet_once = PTHREAD_ONCE_INIT;
static void quiet_install(void) { svm_set_print_string_function(quiet_print); }

/* Stable order of training positions by label ascending: the order scikit-learn's libsvm sees
 * (it sorts the classes), so both solvers walk the same path. */
typedef struct {
    int32_t label;
    int64_t pos;
} keyed_row;

static int cmp_keyed(const void *a, const void *b) {
    const keyed_row *x = a, *y = b;
    if (x->label != y->label) return (x->label > y->label) - (x->label < y->label);
    return (x->pos > y->pos) - (x->pos < y->pos);
}

/* Everything bs_svm_fit allocates, so one cleanup path frees it. */
typedef struct {
    int64_t *rows;    /* training rows, sorted by label (stable) */
    int32_t *y;       /* their labels */
    int32_t *present; /* the kp classes with training rows, ascending */
    int kp;
    float *z; /* the rows standardised, nr x d */
    double *kmat;
    struct svm_node *nodes;
    struct svm_node **xs;
    double *yd;
    uint8_t *is_pos;
    struct svm_model *model;
} fit_scratch;

static void fit_scratch_free(fit_scratch *s) {
    free(s->rows), free(s->y), free(s->present), free(s->z), free(s->kmat), free(s->nodes),
        free(s->xs);
    free(s->yd), free(s->is_pos);
    if (s->model) svm_free_and_destroy_model(&s->model);
}

/* The 'auto' scale for the model's classes (see svm.h for K > 2). */
static int fit_auto_scale(fit_scratch *s, int64_t nr, int64_t d, const int32_t *present, int kp,
                          bs_rng *rng, double *out) {
    s->is_pos = bs_malloc((size_t)nr);
    if (!s->is_pos) return -1;
    if (kp == 2) {
        for (int64_t i = 0; i < nr; i++) s->is_pos[i] = s->y[i] == present[1];
        return bs_svm_auto_kernel_scale(bs_matrix_of(s->z, nr, d), s->is_pos, rng, out);
    }
    double v[64];
    double *vals = kp <= 64 ? v : bs_malloc(sizeof(double) * (size_t)kp);
    if (!vals) return -1;
    for (int c = 0; c < kp; c++) {
        for (int64_t i = 0; i < nr; i++) s->is_pos[i] = s->y[i] == present[c];
        if (bs_svm_auto_kernel_scale(bs_matrix_of(s->z, nr, d), s->is_pos, rng, &vals[c])) {
            if (vals != v) free(vals);
            return -1;
        }
    }
    *out = bs_median(vals, kp);
    if (vals != v) free(vals);
    return 0;
}

static int check_fit_args(bs_matrix x, const int32_t *labels, const int64_t *rows_in, int64_t nr,
                          const bs_svm_params *p) {
    assert(bs_matrix_ok(x) && labels && (rows_in || nr == 0) && p);
    (void)labels, (void)rows_in; /* read by the asserts only */
    if (x.rows <= 0 || x.cols <= 0) return bs_error("svm fit: empty feature matrix");
    if (p->n_classes < 2)
        return bs_error("svm fit: n_classes must be at least 2 (got %d)", p->n_classes);
    if (!(p->box_constraint > 0) || !(p->tolerance > 0) || !(p->kernel_scale >= 0) ||
        !isfinite(p->kernel_scale))
        return bs_error("svm fit: invalid parameters (C %g, tolerance %g, kernel scale %g)",
                        p->box_constraint, p->tolerance, p->kernel_scale);
    /* libsvm indexes the precomputed kernel with int serial numbers. */
    if (nr < 2 || nr > INT32_MAX - 2)
        return bs_error("svm fit: %lld training rows (need at least 2, and fewer than 2^31)",
                        (long long)nr);
    return 0;
}

/* Counts the training rows per class (count[K]); each row and label is checked. kr gets
 * (label, position) per row, to sort by. */
static int count_classes(int64_t n, const int32_t *labels, const int64_t *rows_in, int64_t nr,
                         int K, int64_t *count, keyed_row *kr) {
    for (int64_t i = 0; i < nr; i++) {
        int64_t r = rows_in[i];
        if (r < 0 || r >= n)
            return bs_error("svm fit: training row %lld is outside 0..%lld", (long long)r,
                            (long long)(n - 1));
        int32_t c = labels[r];
        if (c < 0 || c >= K)
            return bs_error("svm fit: row %lld has label %d, outside 0..%d", (long long)r, (int)c,
                            K - 1);
        count[c]++;
        kr[i].label = c;
        kr[i].pos = i;
    }
    return 0;
}

/* The classes present (s->present, s->kp); a missing class is an error for two classes or
 * when the parameters say so. */
static int present_classes(fit_scratch *s, const int64_t *count, int64_t nr,
                           const bs_svm_params *p) {
    int K = p->n_classes, kp = 0;
    for (int c = 0; c < K; c++) {
        if (count[c] > 0) {
            kp++;
            continue;
        }
        if (p->missing == BS_SVM_MISSING_ERROR || K == 2)
            return bs_error(
                "svm fit: class %d has no training rows (of %lld); a two-class SVM needs "
                "both classes%s",
                c, (long long)nr, K > 2 ? ", and missing classes were not allowed" : "");
    }
    if (kp < 2) return bs_error("svm fit: only %d class present in the training rows", kp);
    s->present = bs_malloc(sizeof *s->present * (size_t)kp);
    if (!s->present) return -1;
    for (int c = 0, j = 0; c < K; c++)
        if (count[c] > 0) s->present[j++] = c;
    s->kp = kp;
    return 0;
}

/* s->rows and s->y: the training rows sorted by label, stable, so that libsvm meets the
 * classes in ascending order. */
static int sort_training_rows(fit_scratch *s, int64_t n, const int32_t *labels,
                              const int64_t *rows_in, int64_t nr, const bs_svm_params *p) {
    int64_t *count = bs_calloc((size_t)p->n_classes, sizeof *count);
    keyed_row *kr = bs_malloc(sizeof *kr * (size_t)nr);
    int rc = (count && kr) ? 0 : -1;
    if (rc == 0) rc = count_classes(n, labels, rows_in, nr, p->n_classes, count, kr);
    if (rc == 0) rc = present_classes(s, count, nr, p);
    if (rc == 0) {
        s->rows = bs_malloc(sizeof *s->rows * (size_t)nr);
        s->y = bs_malloc(sizeof *s->y * (size_t)nr);
        rc = (s->rows && s->y) ? 0 : -1;
    }
    if (rc == 0) {
        qsort(kr, (size_t)nr, sizeof *kr, cmp_keyed);
        for (int64_t i = 0; i < nr; i++) {
            s->rows[i] = rows_in[kr[i].pos];
            s->y[i] = kr[i].label;
        }
    }
    free(kr);
    free(count);
    return rc;
}

/* m->mean and m->scale from the training rows, and s->z: those rows standardised. */
static int standardise_rows(fit_scratch *s, bs_svm *m, const float *x, int64_t d, int64_t nr) {
    m->d = d;
    m->mean = bs_malloc(sizeof(double) * (size_t)d);
    m->scale = bs_malloc(sizeof(double) * (size_t)d);
    size_t zbytes;
    if (bs_mul_size((size_t)nr * (size_t)d, sizeof(float), &zbytes)) return -1;
    s->z = bs_malloc(zbytes);
    if (!m->mean || !m->scale || !s->z) return -1;
    if (bs_svm_standardise_fit(x, d, s->rows, nr, m->mean, m->scale)) return -1;
    return bs_svm_standardise_apply(x, d, s->rows, nr, m->mean, m->scale, s->z);
}

/* The precomputed kernel in libsvm's form: row i = {0: serial i+1}, {1..nr: K(i, ·)}, {-1}. */
static int kernel_rows(fit_scratch *s, int64_t nr, int64_t d, double kernel_scale) {
    size_t kbytes, nbytes;
    if (bs_mul_size((size_t)nr * (size_t)nr, sizeof(double), &kbytes)) return -1;
    if (bs_mul_size((size_t)nr * (size_t)(nr + 2), sizeof(struct svm_node), &nbytes)) return -1;
    s->kmat = bs_malloc(kbytes);
    if (!s->kmat)
        return bs_error_prefix("svm fit: the kernel of %lld training rows: ", (long long)nr);
    if (bs_svm_cubic_kernel(s->z, nr, s->z, nr, d, kernel_scale, s->kmat)) return -1;
    s->nodes = bs_malloc(nbytes);
    s->xs = bs_malloc(sizeof *s->xs * (size_t)nr);
    s->yd = bs_malloc(sizeof *s->yd * (size_t)nr);
    if (!s->nodes || !s->xs || !s->yd)
        return bs_error_prefix("svm fit: the precomputed kernel of %lld training rows (%zu MB): ",
                               (long long)nr, nbytes >> 20);
    for (int64_t i = 0; i < nr; i++) {
        struct svm_node *row = s->nodes + i * (nr + 2);
        row[0].index = 0;
        row[0].value = (double)(i + 1);
        const double *ki = s->kmat + i * nr;
        for (int64_t j = 0; j < nr; j++) {
            row[j + 1].index = (int)(j + 1);
            row[j + 1].value = ki[j];
        }
        row[nr + 1].index = -1;
        row[nr + 1].value = 0.0;
        s->xs[i] = row;
        s->yd[i] = (double)s->y[i];
    }
    free(s->kmat), s->kmat = NULL;
    return 0;
}

/* C-SVC on the precomputed kernel; s->model is libsvm's result. */
static int train_libsvm(fit_scratch *s, int64_t nr, const bs_svm_params *p) {
    struct svm_problem prob = {.l = (int)nr, .y = s->yd, .x = s->xs};
    struct svm_parameter par = {0};
    par.svm_type = C_SVC;
    par.kernel_type = PRECOMPUTED;
    par.cache_size = p->cache_mb > 1 ? p->cache_mb : 1;
    par.eps = p->tolerance;
    par.C = p->box_constraint;
    par.shrinking = p->shrinking ? 1 : 0;
    par.probability = 0;
    const char *msg = svm_check_parameter(&prob, &par);
    if (msg) return bs_error("svm fit: libsvm refused the parameters: %s", msg);
    pthread_once(&quiet_once, quiet_install);
    s->model = svm_train(&prob, &par);
    if (!s->model) return bs_error("svm fit: libsvm failed");
    return 0;
}

/* Copies the libsvm model into dense form; support vectors are standardised rows of s->z. */
static int copy_model(bs_svm *m, const fit_scratch *s, int64_t nr, int64_t d) {
    (void)nr; /* only the asserts read it */
    const struct svm_model *lm = s->model;
    if (lm->nr_class != s->kp)
        return bs_error("svm fit: libsvm found %d classes, expected %d", lm->nr_class, s->kp);
    int k = s->kp;
    m->k = k;
    m->n_sv = lm->l;
    m->classes = bs_malloc(sizeof(int32_t) * (size_t)k);
    m->n_sv_class = bs_malloc(sizeof(int32_t) * (size_t)k);
    m->rho = bs_malloc(sizeof(double) * (size_t)(k * (k - 1) / 2));
    m->coef = bs_malloc(sizeof(double) * (size_t)(k - 1) * (size_t)(m->n_sv ? m->n_sv : 1));
    m->sv = bs_malloc(sizeof(float) * (size_t)(m->n_sv ? m->n_sv : 1) * (size_t)d);
    if (!m->classes || !m->n_sv_class || !m->rho || !m->coef || !m->sv) return -1;
    for (int c = 0; c < k; c++) {
        m->classes[c] = (int32_t)lm->label[c];
        m->n_sv_class[c] = lm->nSV[c];
        /* Rows were sorted by label, so libsvm's first-appearance order is ascending. */
        assert(m->classes[c] == s->present[c]);
    }
    for (int p2 = 0; p2 < k * (k - 1) / 2; p2++) m->rho[p2] = lm->rho[p2];
    for (int c = 0; c < k - 1; c++)
        for (int64_t t = 0; t < m->n_sv; t++) m->coef[c * m->n_sv + t] = lm->sv_coef[c][t];
    for (int64_t t = 0; t < m->n_sv; t++) {
        int64_t serial = lm->sv_indices[t] - 1; /* position in the sorted training rows */
        assert(serial >= 0 && serial < nr);
        memcpy(m->sv + t * d, s->z + serial * d, sizeof(float) * (size_t)d);
    }
    return 0;
}

bs_svm *bs_svm_fit(bs_matrix x, const int32_t *labels, const int64_t *rows_in, int64_t nr,
                   const bs_svm_params *p, bs_rng *rng) {
    if (check_fit_args(x, labels, rows_in, nr, p)) return NULL;
    const int64_t n = x.rows, d = x.cols;
    fit_scratch s = {0};
    bs_svm *m = NULL;
    int rc = sort_training_rows(&s, n, labels, rows_in, nr, p);
    if (rc == 0) rc = (m = bs_calloc(1, sizeof *m)) ? 0 : -1;
    if (rc == 0) rc = standardise_rows(&s, m, x.data, d, nr);
    if (rc == 0) {
        if (p->kernel_scale > 0)
            m->kernel_scale = p->kernel_scale;
        else
            rc = fit_auto_scale(&s, nr, d, s.present, s.kp, rng, &m->kernel_scale);
    }
    if (rc == 0) rc = kernel_rows(&s, nr, d, m->kernel_scale);
    if (rc == 0) rc = train_libsvm(&s, nr, p);
    if (rc == 0) rc = copy_model(m, &s, nr, d);
    fit_scratch_free(&s);
    if (rc) {
        bs_svm_free(m);
        return NULL;
    }
    return m;
}

/* ---- predict -------------------------------------------------------------------------------- */

#define PREDICT_BLOCK 256

int bs_svm_predict(const bs_svm *m, bs_matrix xm, const int64_t *rows, int64_t nr, double *decision,
                   int32_t *predicted) {
    assert(m && bs_matrix_ok(xm) && (rows || nr == 0) && nr >= 0);
    assert(m->k >= 2 && m->d >= 1 && m->n_sv >= 0);
    const float *x = xm.data;
    const int64_t n = xm.rows, d = xm.cols;
    if (d != m->d)
        return bs_error("svm predict: the features have %lld columns, the model expects %lld",
                        (long long)d, (long long)m->d);
    for (int64_t i = 0; i < nr; i++)
        if (rows[i] < 0 || rows[i] >= n)
            return bs_error("svm predict: row %lld is outside 0..%lld", (long long)rows[i],
                            (long long)(n - 1));
    int k = m->k, npair = k * (k - 1) / 2, nd = bs_svm_n_decisions(m);
    int64_t nsv = m->n_sv;
    int64_t block = nr < PREDICT_BLOCK ? (nr > 0 ? nr : 1) : PREDICT_BLOCK;
    int64_t *start = bs_malloc(sizeof *start * (size_t)k);
    float *z = bs_malloc(sizeof(float) * (size_t)block * (size_t)d);
    double *kv = bs_malloc(sizeof(double) * (size_t)block * (size_t)(nsv ? nsv : 1));
    double *dec = bs_malloc(sizeof(double) * (size_t)npair);
    int *votes = bs_malloc(sizeof(int) * (size_t)k);
    int rc = -1;
    if (!start || !z || !kv || !dec || !votes) goto done;
    start[0] = 0;
    for (int c = 1; c < k; c++) start[c] = start[c - 1] + m->n_sv_class[c - 1];
    for (int64_t i0 = 0; i0 < nr; i0 += block) {
        int64_t mb = nr - i0 < block ? nr - i0 : block;
        if (bs_svm_standardise_apply(x, d, rows + i0, mb, m->mean, m->scale, z)) {
            bs_error_prefix("svm predict: ");
            goto done;
        }
        if (bs_svm_cubic_kernel(z, mb, m->sv, nsv, d, m->kernel_scale, kv)) goto done;
        for (int64_t i = 0; i < mb; i++) {
            const double *kr = kv + i * nsv;
            /* libsvm's svm_predict_values, one-vs-one. */
            for (int c = 0; c < k; c++) votes[c] = 0;
            int pp = 0;
            for (int a = 0; a < k; a++)
                for (int b = a + 1; b < k; b++, pp++) {
                    double sum = 0.0;
                    const double *ca = m->coef + (int64_t)(b - 1) * nsv;
                    const double *cb = m->coef + (int64_t)a * nsv;
                    for (int64_t t = start[a]; t < start[a] + m->n_sv_class[a]; t++)
                        sum += ca[t] * kr[t];
                    for (int64_t t = start[b]; t < start[b] + m->n_sv_class[b]; t++)
                        sum += cb[t] * kr[t];
                    sum -= m->rho[pp];
                    dec[pp] = sum;
                    votes[sum > 0 ? a : b]++;
                }
            int best = 0;
            for (int c = 1; c < k; c++)
                if (votes[c] > votes[best]) best = c;
            int64_t o = i0 + i;
            if (decision) {
                if (k == 2)
                    decision[o] = -dec[0]; /* classes[1] (larger label) is positive */
                else
                    for (int q = 0; q < nd; q++) decision[o * nd + q] = dec[q];
            }
            if (predicted) predicted[o] = m->classes[best];
        }
    }
    rc = 0;
done:
    free(start), free(z), free(kv), free(dec), free(votes);
    return rc;
}

int bs_svm_cross_validate(bs_matrix x, const int32_t *labels, const int32_t *fold, int k,
                          const bs_svm_params *p, bs_rng *rng, double *decision,
                          int32_t *predicted) {
    assert(bs_matrix_ok(x) && labels && (fold || x.rows == 0) && p);
    const int64_t n = x.rows;
    if (k < 2) return bs_error("cross-validation: need at least 2 folds (k = %d)", k);
    for (int64_t i = 0; i < n; i++)
        if (fold[i] < 0 || fold[i] >= k)
            return bs_error("cross-validation: row %lld has fold %d, outside 0..%d", (long long)i,
                            fold[i], k - 1);
    int nd = p->n_classes == 2 ? 1 : p->n_classes * (p->n_classes - 1) / 2;
    int64_t *train = bs_malloc(sizeof *train * (size_t)n),
            *test = bs_malloc(sizeof *test * (size_t)n);
    double *dec = bs_malloc(sizeof *dec * (size_t)n * (size_t)nd);
    int32_t *pred = bs_malloc(sizeof *pred * (size_t)n);
    int rc = -1;
    if (!train || !test || !dec || !pred) goto done;
    for (int f = 0; f < k; f++) {
        int64_t ntr = 0, nte = 0;
        for (int64_t i = 0; i < n; i++) {
            if (fold[i] == f)
                test[nte++] = i;
            else
                train[ntr++] = i;
        }
        if (nte == 0) continue;
        bs_svm *m = bs_svm_fit(x, labels, train, ntr, p, rng);
        if (!m) {
            bs_error_prefix("fold %d: ", f);
            goto done;
        }
        if (m->k != p->n_classes) {
            /* a class skipped in this fold (BS_SVM_MISSING_SKIP) changes the pair layout */
            bs_error("fold %d: the model has %d classes, not %d; cross-validate K-class tasks "
                     "with every class in every training set",
                     f, m->k, p->n_classes);
            bs_svm_free(m);
            goto done;
        }
        int r = bs_svm_predict(m, x, test, nte, dec, pred);
        bs_svm_free(m);
        if (r) {
            bs_error_prefix("fold %d: ", f);
            goto done;
        }
        for (int64_t i = 0; i < nte; i++) {
            if (decision)
                for (int q = 0; q < nd; q++) decision[test[i] * nd + q] = dec[i * nd + q];
            if (predicted) predicted[test[i]] = pred[i];
        }
    }
    rc = 0;
done:
    free(train), free(test), free(dec), free(pred);
    return rc;
}

/* ---- parts ---------------------------------------------------------------------------------- */

void bs_svm_get_parts(const bs_svm *m, bs_svm_parts *o) {
    o->n_features = m->d;
    o->mean = m->mean;
    o->scale = m->scale;
    o->kernel_scale = m->kernel_scale;
    o->n_classes = m->k;
    o->classes = m->classes;
    o->n_sv_class = m->n_sv_class;
    o->n_sv = m->n_sv;
    o->sv = m->sv;
    o->coef = m->coef;
    o->rho = m->rho;
}

bs_svm *bs_svm_from_parts(const bs_svm_parts *p) {
    if (!p || p->n_features <= 0 || p->n_classes < 2 || p->n_sv < 0 || !p->mean || !p->scale ||
        !p->classes || !p->n_sv_class || !p->rho || (p->n_sv > 0 && (!p->sv || !p->coef)) ||
        !(p->kernel_scale > 0) || !isfinite(p->kernel_scale)) {
        bs_error("svm model: incomplete or invalid parts");
        return NULL;
    }
    int k = p->n_classes;
    int64_t d = p->n_features, total = 0;
    for (int c = 0; c < k; c++) {
        if (p->n_sv_class[c] < 0) {
            bs_error("svm model: class %d has a negative support-vector count", c);
            return NULL;
        }
        if (c > 0 && p->classes[c] <= p->classes[c - 1]) {
            bs_error("svm model: class labels must be strictly ascending");
            return NULL;
        }
        total += p->n_sv_class[c];
    }
    if (total != p->n_sv) {
        bs_error("svm model: per-class support vectors sum to %lld, expected %lld",
                 (long long)total, (long long)p->n_sv);
        return NULL;
    }
    for (int64_t j = 0; j < d; j++)
        if (!isfinite(p->mean[j]) || !(p->scale[j] > 0) || !isfinite(p->scale[j])) {
            bs_error("svm model: invalid standardisation for feature %lld", (long long)j);
            return NULL;
        }
    bs_svm *m = bs_calloc(1, sizeof *m);
    if (!m) return NULL;
    size_t nsv = (size_t)(p->n_sv ? p->n_sv : 1);
    m->d = d;
    m->k = k;
    m->n_sv = p->n_sv;
    m->kernel_scale = p->kernel_scale;
    m->mean = bs_malloc(sizeof(double) * (size_t)d);
    m->scale = bs_malloc(sizeof(double) * (size_t)d);
    m->classes = bs_malloc(sizeof(int32_t) * (size_t)k);
    m->n_sv_class = bs_malloc(sizeof(int32_t) * (size_t)k);
    m->rho = bs_malloc(sizeof(double) * (size_t)(k * (k - 1) / 2));
    m->coef = bs_malloc(sizeof(double) * (size_t)(k - 1) * nsv);
    m->sv = bs_malloc(sizeof(float) * nsv * (size_t)d);
    if (!m->mean || !m->scale || !m->classes || !m->n_sv_class || !m->rho || !m->coef || !m->sv) {
        bs_svm_free(m);
        return NULL;
    }
    memcpy(m->mean, p->mean, sizeof(double) * (size_t)d);
    memcpy(m->scale, p->scale, sizeof(double) * (size_t)d);
    memcpy(m->classes, p->classes, sizeof(int32_t) * (size_t)k);
    memcpy(m->n_sv_class, p->n_sv_class, sizeof(int32_t) * (size_t)k);
    memcpy(m->rho, p->rho, sizeof(double) * (size_t)(k * (k - 1) / 2));
    if (p->n_sv > 0) {
        memcpy(m->coef, p->coef, sizeof(double) * (size_t)(k - 1) * (size_t)p->n_sv);
        memcpy(m->sv, p->sv, sizeof(float) * (size_t)p->n_sv * (size_t)d);
    }
    return m;
}
