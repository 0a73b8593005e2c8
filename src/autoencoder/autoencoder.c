/* autoencoder.c — the public API of the stage: fit (initialise, SCG on msesparse) and encode.
 * Not for: the loss itself (sae_model.c), the optimiser (scg.c) or the file (sae_file.c). */
#include "autoencoder.h"

#include <assert.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/dist.h"
#include "core/error.h"
#include "core/finite.h"
#include "core/io.h"
#include "core/progress.h"
#include "core/rng.h"
#include "sae_internal.h"
#include "sae_model.h"
#include "scg.h"

void bs_sae_options_default(bs_sae_options *o) {
    memset(o, 0, sizeof *o);
    o->hidden = 0;
    o->max_epochs = 750;
    o->l2 = 0.001;
    o->sparsity = 1;
    o->proportion = 0.05;
    o->min_grad = 1e-6;
    o->seed = 1;
    o->precision = BS_SAE_FLOAT32;
}

const char *bs_sae_stop_name(bs_sae_stop s) {
    switch (s) {
        case BS_SAE_STOP_EPOCHS: return "maximum epochs reached";
        case BS_SAE_STOP_MIN_GRAD: return "minimum gradient reached";
        case BS_SAE_STOP_GOAL: return "performance goal met";
        case BS_SAE_STOP_CALLER: return "stopped by caller";
    }
    return "unknown";
}

bs_sae *bs_sae_alloc(int64_t d, int64_t h) {
    bs_sae *m = bs_calloc(1, sizeof *m);
    if (!m) return NULL;
    m->d = d;
    m->h = h;
    size_t bytes;
    if (bs_mul_size((size_t)sae_nparams(d, h), sizeof(float), &bytes) ||
        !(m->w = bs_malloc(bytes)) || bs_mapminmax_alloc(&m->mm, d)) {
        bs_sae_free(m);
        return NULL;
    }
    return m;
}

void bs_sae_free(bs_sae *m) {
    if (!m) return;
    bs_mapminmax_free(&m->mm);
    free(m->w);
    free(m);
}

int64_t bs_sae_features(const bs_sae *m) { return m->d; }
int64_t bs_sae_hidden(const bs_sae *m) { return m->h; }
const bs_sae_options *bs_sae_options_of(const bs_sae *m) { return &m->opt; }
const bs_sae_fit_info *bs_sae_info_of(const bs_sae *m) { return &m->info; }

static int check_rows(int64_t n_total, const int64_t *rows, int64_t n_rows) {
    if (!rows) return 0;
    for (int64_t i = 0; i < n_rows; i++)
        if (rows[i] < 0 || rows[i] >= n_total)
            return bs_error("row index %lld (entry %lld of the list) is outside 0..%lld",
                            (long long)rows[i], (long long)i, (long long)n_total - 1);
    return 0;
}

static int check_options(const bs_sae_options *o) {
    if (o->hidden < 1 || o->hidden > BS_SAE_MAX_DIM)
        return bs_error("autoencoder: hidden size must be in 1..%lld, not %lld",
                        (long long)BS_SAE_MAX_DIM, (long long)o->hidden);
    if (o->max_epochs < 0) return bs_error("autoencoder: epochs must be >= 0");
    if (!(o->l2 >= 0) || !isfinite(o->l2))
        return bs_error("autoencoder: L2 regularisation must be finite and >= 0");
    if (!(o->sparsity >= 0) || !isfinite(o->sparsity))
        return bs_error("autoencoder: sparsity regularisation must be finite and >= 0");
    if (!(o->proportion > 0 && o->proportion < 1))
        return bs_error("autoencoder: sparsity proportion must be in (0, 1), not %g",
                        o->proportion);
    if (!(o->min_grad >= 0)) return bs_error("autoencoder: min_grad must be >= 0");
    if (o->precision != BS_SAE_FLOAT32 && o->precision != BS_SAE_FLOAT64)
        return bs_error("autoencoder: unknown precision %d", (int)o->precision);
    return 0;
}

typedef struct {
    const bs_sae_options *opt;
    bs_progress bar;
} fit_watch;

static int on_epoch(void *user, const bs_sae_epoch *e) {
    fit_watch *fw = user;
    if (fw->opt->progress) bs_progress_update(&fw->bar, e->epoch);
    return fw->opt->on_epoch ? fw->opt->on_epoch(fw->opt->user, e) : 0;
}

static int obj_eval(void *ctx, const double *w, const double *p, double t, double *perf,
                    double *grad) {
    return bs_sae_objective_eval(ctx, w, p, t, perf, grad);
}

static int obj_grad_last(void *ctx, double *grad) { return bs_sae_objective_grad_last(ctx, grad); }

/* Data-parallel training: every rank took the same steps, so every rank holds the same weights
 * (a weighted sum's max and min over the ranks agree); else an error. */
static int ranks_agree(const double *w, int64_t np) {
    double sum[2] = {0, 0};
    for (int64_t i = 0; i < np; i++) sum[0] += w[i] * (double)(1 + i % 7);
    sum[1] = -sum[0];
    bs_dist_max_d(sum, 2);
    if (sum[0] != -sum[1])
        return bs_error("autoencoder: the ranks' weights diverged during data-parallel training");
    return 0;
}

bs_sae *bs_sae_fit(bs_matrix xm, const int64_t *rows, int64_t n_rows, const bs_sae_options *opt,
                   bs_sae_fit_info *info) {
    assert(bs_matrix_ok(xm) && opt);
    double t0 = bs_now();
    const float *x = xm.data;
    int64_t n = rows ? n_rows : xm.rows, d = xm.cols;
    if (check_options(opt)) return NULL;
    if (n < 1 || d < 1) {
        bs_error("autoencoder: nothing to fit (%lld samples × %lld features)", (long long)n,
                 (long long)d);
        return NULL;
    }
    if (d > BS_SAE_MAX_DIM) {
        bs_error("autoencoder: %lld features is more than the %lld supported", (long long)d,
                 (long long)BS_SAE_MAX_DIM);
        return NULL;
    }
    if (check_rows(xm.rows, rows, n_rows)) return NULL;
    /* Data-parallel: n is this rank's shard, n_global the job's training rows. */
    const int dist = opt->distributed && bs_dist_size() > 1;
    int64_t n_global = n;
    if (dist) {
        double cnt = (double)n;
        bs_dist_sum_d(&cnt, 1);
        n_global = (int64_t)cnt;
    }
    const int64_t h = opt->hidden, np = sae_nparams(d, h);
    bs_sae *m = bs_sae_alloc(d, h);
    if (!m) return NULL;
    bs_mapminmax_free(&m->mm);
    sae_objective *obj = NULL;
    double *w = NULL;
    if (dist ? bs_mapminmax_fit_dist(&m->mm, x, d, rows, n)
             : bs_mapminmax_fit(&m->mm, x, d, rows, n))
        goto fail;
    sae_hyper hp = {opt->l2, opt->sparsity, opt->proportion, SAE_TERM_ALL};
    if (!(obj = bs_sae_objective_new(opt->precision, x, d, rows, n, h, &m->mm, &hp))) goto fail;
    if (dist && bs_sae_objective_distribute(obj, n_global)) goto fail;
    if (!(w = bs_malloc((size_t)np * sizeof(double)))) goto fail;

    bs_rng rng; /* every weight and bias U(−0.01, 0.01), in parameter order */
    bs_rng_seed(&rng, opt->seed);
    for (int64_t i = 0; i < np; i++) w[i] = -0.01 + 0.02 * bs_rng_uniform(&rng);

    bs_scg_options so;
    bs_scg_options_default(&so);
    so.max_epochs = opt->max_epochs;
    so.min_grad = opt->min_grad;
    fit_watch fw = {opt, {0}};
    so.on_epoch = on_epoch;
    so.user = &fw;
    bs_scg_objective o = {obj_eval, obj_grad_last, obj};
    if (opt->progress) bs_progress_start(&fw.bar, "autoencoder", opt->max_epochs);
    int rc = bs_scg_minimize(np, w, &o, &so, &m->info);
    if (opt->progress) bs_progress_finish(&fw.bar);
    if (rc) goto fail;
    if (dist && ranks_agree(w, np)) goto fail;
    for (int64_t i = 0; i < np; i++) m->w[i] = (float)w[i];
    m->info.seconds = bs_now() - t0;
    m->n_train = n_global;
    m->opt = *opt;
    m->opt.on_epoch = NULL;
    m->opt.user = NULL;
    m->opt.progress = 0;
    m->opt.distributed = 0;
    if (info) *info = m->info;
    free(w);
    bs_sae_objective_free(obj);
    return m;
fail:
    free(w);
    bs_sae_objective_free(obj);
    bs_sae_free(m);
    return NULL;
}

/* Shared checks of encode and reconstruction_error: width, row list, finite values. Sets *n
 * to the row count; returns -1 on a bad input, 0 to go on. */
static int check_input(const bs_sae *m, bs_matrix x, const int64_t *rows, int64_t n_rows,
                       int64_t *n) {
    assert(m && bs_matrix_ok(x));
    assert(m->d >= 1 && m->h >= 1 && m->mm.d == m->d);
    *n = 0;
    if (x.cols != m->d)
        return bs_error("autoencoder: the model expects %lld features, the data has %lld",
                        (long long)m->d, (long long)x.cols);
    *n = rows ? n_rows : x.rows;
    if (*n < 0) return bs_error("autoencoder: negative row count");
    if (*n == 0) return 0;
    if (check_rows(x.rows, rows, n_rows) || bs_check_finite(x.data, m->d, rows, *n)) return -1;
    return 0;
}

int bs_sae_encode(const bs_sae *m, bs_matrix x, const int64_t *rows, int64_t n_rows,
                  bs_matrix_mut out) {
    int64_t n;
    if (check_input(m, x, rows, n_rows, &n)) return -1;
    assert(bs_matrix_ok(bs_matrix_view(out)) && out.rows == n && out.cols == m->h);
    if (n == 0) return 0;
    return bs_sae_encode_f(x.data, m->d, rows, n, m->h, &m->mm, m->w, m->w + sae_off_b1(m->d, m->h),
                           out.data);
}

int bs_sae_reconstruction_error(const bs_sae *m, bs_matrix x, const int64_t *rows, int64_t n_rows,
                                double *err) {
    int64_t n;
    if (check_input(m, x, rows, n_rows, &n)) return -1;
    assert(err || n == 0);
    if (n == 0) return 0;
    return bs_sae_reconstruction_error_f(x.data, m->d, rows, n, m->h, &m->mm, m->w, err);
}
