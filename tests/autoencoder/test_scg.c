/* test_scg.c — the SCG trainer: known answers on quadratics (minimum within n + 2 accepted
 * steps), convergence on Rosenbrock (rejected steps, δ <= 0), and the per-epoch trace of a
 * small autoencoder fit against an independent plain-double transcription of SPEC §4
 * (mapminmax, msesparse and the trainscg pseudo-code) for 50 epochs. */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "autoencoder/autoencoder.h"
#include "autoencoder/autoencoder_test.h"
#include "core/rng.h"
#include "test_support.h"

/* ---------------------------------------------------------------- quadratic */

typedef struct {
    int n;
    double *A, *b; /* f = ½wᵀAw − bᵀw */
    int evals;
} quad;

static int quad_eval(void *ctx, const double *w, const double *p, double t, double *perf,
                     double *grad) {
    quad *q = ctx;
    int n = q->n;
    double x[64], f = 0;
    for (int i = 0; i < n; i++) x[i] = w[i] + t * p[i];
    for (int i = 0; i < n; i++) {
        double ax = 0;
        for (int j = 0; j < n; j++) ax += q->A[i * n + j] * x[j];
        f += 0.5 * x[i] * ax - q->b[i] * x[i];
        if (grad) grad[i] = ax - q->b[i];
    }
    *perf = f;
    q->evals++;
    return 0;
}

typedef struct {
    int accepted, epochs;
} counter;

static int count_epoch(void *user, const bs_sae_epoch *e) {
    counter *c = user;
    c->accepted += e->accepted;
    c->epochs = e->epoch;
    return 0;
}

/* Solve A x = b by Gaussian elimination (A SPD, small). */
static void solve(int n, const double *A, const double *b, double *x) {
    double M[64 * 65];
    for (int i = 0; i < n; i++) {
        for (int j = 0; j < n; j++) M[i * (n + 1) + j] = A[i * n + j];
        M[i * (n + 1) + n] = b[i];
    }
    for (int k = 0; k < n; k++)
        for (int i = k + 1; i < n; i++) {
            double f = M[i * (n + 1) + k] / M[k * (n + 1) + k];
            for (int j = k; j <= n; j++) M[i * (n + 1) + j] -= f * M[k * (n + 1) + j];
        }
    for (int i = n - 1; i >= 0; i--) {
        double s = M[i * (n + 1) + n];
        for (int j = i + 1; j < n; j++) s -= M[i * (n + 1) + j] * x[j];
        x[i] = s / M[i * (n + 1) + i];
    }
}

static void run_quadratic(int n, uint64_t seed) {
    quad q = {n, calloc(n * n, sizeof(double)), calloc(n, sizeof(double)), 0};
    bs_rng r;
    bs_rng_seed(&r, seed);
    double M[64 * 64];
    for (int i = 0; i < n * n; i++) M[i] = 2 * bs_rng_uniform(&r) - 1;
    for (int i = 0; i < n; i++) /* A = MᵀM/n + 0.2 I: SPD, eigenvalues spread over ~[0.2, 4] */
        for (int j = 0; j < n; j++) {
            double s = i == j ? 0.2 : 0;
            for (int k = 0; k < n; k++) s += M[k * n + i] * M[k * n + j] / n;
            q.A[i * n + j] = s;
        }
    for (int i = 0; i < n; i++) q.b[i] = 2 * bs_rng_uniform(&r) - 1;
    double w[64] = {0}, wstar[64];
    solve(n, q.A, q.b, wstar);
    bs_scg_options o;
    bs_scg_options_default(&o);
    o.max_epochs = 10 * n;
    /* "the minimum": |∇| down by 1e-7 from |∇(0)| = |b|. Much further is not reachable: SCG
     * judges a step by the decrease of perf, ~|∇|²/curvature, which is lost in rounding once
     * |∇| is ~sqrt(eps) of its start (a quadratic in 3 variables stalls at ~3e-9). */
    double nb = 0;
    for (int i = 0; i < n; i++) nb += q.b[i] * q.b[i];
    o.min_grad = 1e-7 * sqrt(nb);
    o.goal = -HUGE_VAL; /* the minimum is negative; do not stop at perf <= 0 */
    counter c = {0, 0};
    o.on_epoch = count_epoch;
    o.user = &c;
    bs_scg_objective obj = {quad_eval, NULL, &q};
    bs_sae_fit_info info;
    assert_int_equal(bs_scg_minimize(n, w, &obj, &o, &info), 0);
    double err = 0, nrm = 0;
    for (int i = 0; i < n; i++) {
        err = fmax(err, fabs(w[i] - wstar[i]));
        nrm = fmax(nrm, fabs(wstar[i]));
    }
    fprintf(stderr,
            "quadratic n=%d: %d epochs, %d accepted, |grad| %.2e, max|w − w*|/max|w*| %.2e\n", n,
            info.epochs, info.accepted, info.grad_norm, err / nrm);
    assert_int_equal(info.stop, BS_SAE_STOP_MIN_GRAD);
    assert_int_equal(info.accepted, c.accepted);
    assert_true(info.accepted <= n + 2);
    assert_true(err < 1e-6 * nrm);
    assert_true(q.evals <=
                2 * info.epochs + info.accepted + 1); /* σ-step + trial (+ gradient) per epoch */
    free(q.A);
    free(q.b);
}

static void test_quadratic_small(void **s) {
    (void)s;
    run_quadratic(5, 1);
}
static void test_quadratic_10(void **s) {
    (void)s;
    run_quadratic(10, 2);
}
static void test_quadratic_40(void **s) {
    (void)s;
    run_quadratic(40, 3);
}

/* ---------------------------------------------------------------- Rosenbrock */

static int rosen_eval(void *ctx, const double *w, const double *p, double t, double *perf,
                      double *grad) {
    (void)ctx;
    double x = w[0] + t * p[0], y = w[1] + t * p[1];
    *perf = 100 * (y - x * x) * (y - x * x) + (1 - x) * (1 - x);
    if (grad) {
        grad[0] = -400 * x * (y - x * x) - 2 * (1 - x);
        grad[1] = 200 * (y - x * x);
    }
    return 0;
}

static int count_rejected(void *user, const bs_sae_epoch *e) {
    int *rej = user;
    if (e->epoch > 0 && !e->accepted) (*rej)++;
    return 0;
}

static void test_rosenbrock(void **s) {
    (void)s;
    double w[2] = {-1.2, 1};
    bs_scg_options o;
    bs_scg_options_default(&o);
    o.max_epochs = 2000;
    o.min_grad = 1e-8;
    int rejected = 0;
    o.on_epoch = count_rejected;
    o.user = &rejected;
    bs_scg_objective obj = {rosen_eval, NULL, NULL};
    bs_sae_fit_info info;
    assert_int_equal(bs_scg_minimize(2, w, &obj, &o, &info), 0);
    fprintf(stderr,
            "rosenbrock: %d epochs (%d accepted, %d rejected), w = (%.9f, %.9f), stop: %s\n",
            info.epochs, info.accepted, rejected, w[0], w[1], bs_sae_stop_name(info.stop));
    assert_true(info.stop == BS_SAE_STOP_MIN_GRAD || info.stop == BS_SAE_STOP_GOAL);
    assert_true(fabs(w[0] - 1) < 1e-6 && fabs(w[1] - 1) < 1e-6);
    assert_true(rejected > 0); /* the rejection branch was exercised */
}

/* ------------------------------------- reference autoencoder + SCG, plain double */

enum { RN = 20, RD = 12, RH = 5 };

typedef struct {
    double x[RN][RD], xoff[RD], gain[RD];
    double l2, beta, rho;
} ref_ae;

static void ref_setup(ref_ae *m, const float *x) {
    for (int i = 0; i < RN; i++)
        for (int j = 0; j < RD; j++) m->x[i][j] = x[i * RD + j];
    for (int j = 0; j < RD; j++) { /* MATLAB mapminmax to [0, 1] */
        double lo = m->x[0][j], hi = m->x[0][j];
        for (int i = 1; i < RN; i++) {
            lo = fmin(lo, m->x[i][j]);
            hi = fmax(hi, m->x[i][j]);
        }
        if (hi - lo == 0) {
            m->gain[j] = 1;
            m->xoff[j] = 0;
        } else {
            m->gain[j] = 1 / (hi - lo);
            m->xoff[j] = lo;
        }
    }
}

static double sigm(double z) { return 1 / (1 + exp(-z)); }

/* perf and dperf/dw with w = [W1 (RH×RD) | b1 | W2 (RD×RH) | b2] */
static double ref_perf(const ref_ae *m, const double *w, double *grad) {
    const double *W1 = w, *b1 = w + RH * RD, *W2 = b1 + RH, *b2 = W2 + RD * RH;
    double xs[RN][RD], a1[RN][RH], a2[RN][RD], rh[RH] = {0}, sse = 0, sw = 0, kl = 0;
    for (int i = 0; i < RN; i++) {
        for (int j = 0; j < RD; j++) xs[i][j] = (m->x[i][j] - m->xoff[j]) * m->gain[j];
        for (int k = 0; k < RH; k++) {
            double z = b1[k];
            for (int j = 0; j < RD; j++) z += W1[k * RD + j] * xs[i][j];
            a1[i][k] = sigm(z);
            rh[k] += a1[i][k] / RN;
        }
        for (int j = 0; j < RD; j++) {
            double z = b2[j];
            for (int k = 0; k < RH; k++) z += W2[j * RH + k] * a1[i][k];
            a2[i][j] = sigm(z);
            double xhat = a2[i][j] / m->gain[j] + m->xoff[j], e = m->x[i][j] - xhat;
            sse += e * e;
        }
    }
    for (int k = 0; k < RH * RD; k++) sw += W1[k] * W1[k] + W2[k] * W2[k];
    for (int k = 0; k < RH; k++) {
        double r = fmin(fmax(rh[k], DBL_EPSILON), 1 - DBL_EPSILON);
        kl += m->rho * log(m->rho / r) + (1 - m->rho) * log((1 - m->rho) / (1 - r));
    }
    if (grad) {
        const int np = 2 * RH * RD + RH + RD;
        double *gW1 = grad, *gb1 = grad + RH * RD, *gW2 = gb1 + RH, *gb2 = gW2 + RD * RH;
        memset(grad, 0, sizeof(double) * np);
        for (int i = 0; i < RN; i++) {
            double dz2[RD], da1[RH];
            for (int j = 0; j < RD; j++) {
                double xhat = a2[i][j] / m->gain[j] + m->xoff[j];
                double dxhat = -2 * (m->x[i][j] - xhat) / (RN * RD);
                dz2[j] = dxhat / m->gain[j] * a2[i][j] * (1 - a2[i][j]);
                gb2[j] += dz2[j];
                for (int k = 0; k < RH; k++) gW2[j * RH + k] += dz2[j] * a1[i][k];
            }
            for (int k = 0; k < RH; k++) {
                double s = 0;
                for (int j = 0; j < RD; j++) s += W2[j * RH + k] * dz2[j];
                s += 2 * m->beta / RD * (-m->rho / rh[k] + (1 - m->rho) / (1 - rh[k])) / RN;
                da1[k] = s * a1[i][k] * (1 - a1[i][k]);
                gb1[k] += da1[k];
                for (int j = 0; j < RD; j++) gW1[k * RD + j] += da1[k] * xs[i][j];
            }
        }
        for (int k = 0; k < RH * RD; k++) {
            gW1[k] += 2 * m->l2 / RD * W1[k];
            gW2[k] += 2 * m->l2 / RD * W2[k];
        }
    }
    return sse / (RN * RD) + m->l2 * sw / RD + 2 * m->beta * kl / RD;
}

#define RNP (2 * RH * RD + RH + RD)

static double dot(const double *a, const double *b) {
    double s = 0;
    for (int i = 0; i < RNP; i++) s += a[i] * b[i];
    return s;
}

/* A loss for ref_scg: perf at w, and ∇perf when grad != NULL. */
typedef double (*ref_loss)(void *ctx, const double *w, double *grad);

static double ref_loss_plain(void *ctx, const double *w, double *grad) {
    return ref_perf(ctx, w, grad);
}

static double ref_loss_library(void *ctx, const double *w, double *grad) {
    double f;
    assert_int_equal(bs_sae_objective_eval(ctx, w, w, 0, &f, grad), 0);
    return f;
}

/* SPEC §4 trainscg, transcribed line by line (g is the NEGATIVE gradient, as in SPEC). */
static int ref_scg(ref_loss loss, void *ctx, double *w, int epochs, bs_sae_epoch *trace) {
    double g[RNP], p[RNP], gold[RNP], wt[RNP], gt[RNP], s[RNP];
    double perf = loss(ctx, w, g);
    for (int i = 0; i < RNP; i++) g[i] = -g[i], p[i] = g[i];
    double lambda = 5e-7, lambdab = 0, sigma = 5e-5, delta = 0;
    int success = 1, accepted = 0, k = 0;
    for (int epoch = 0;; epoch++) {
        trace[k++] = (bs_sae_epoch){epoch, perf, sqrt(dot(g, g)), lambda, accepted};
        if (perf <= 0 || epoch == epochs || sqrt(dot(g, g)) <= 1e-6) break;
        double pp = dot(p, p);
        if (success) {
            double sigmak = sigma / sqrt(pp);
            for (int i = 0; i < RNP; i++) wt[i] = w[i] + sigmak * p[i];
            loss(ctx, wt, gt); /* gt = ∇perf, so g(w + σk p) = −gt */
            for (int i = 0; i < RNP; i++) s[i] = g[i] - (-gt[i]);
            delta = dot(p, s) / sigmak; /* δ = pᵀs with s = (g − g(w + σk p))/σk */
        }
        delta += (lambda - lambdab) * pp;
        if (delta <= 0) {
            lambdab = 2 * (lambda - delta / pp);
            delta = -delta + lambda * pp;
            lambda = lambdab;
        }
        double mu = dot(p, g), alpha = mu / delta;
        for (int i = 0; i < RNP; i++) wt[i] = w[i] + alpha * p[i];
        double perft = loss(ctx, wt, NULL);
        double Delta = 2 * delta * (perf - perft) / (mu * mu);
        if (Delta >= 0) {
            memcpy(w, wt, sizeof wt);
            memcpy(gold, g, sizeof g);
            perf = loss(ctx, w, g);
            for (int i = 0; i < RNP; i++) g[i] = -g[i];
            lambdab = 0;
            success = 1;
            if (epoch % RNP == 0) {
                memcpy(p, g, sizeof g);
            } else {
                double beta = (dot(g, g) - dot(g, gold)) / mu;
                for (int i = 0; i < RNP; i++) p[i] = g[i] + beta * p[i];
            }
            if (Delta >= 0.75) lambda = lambda / 4;
            accepted = 1;
        } else {
            lambdab = lambda;
            success = 0;
            accepted = 0;
        }
        pp = dot(p, p);
        if (Delta < 0.25 && pp != 0) lambda += delta * (1 - Delta) / pp;
    }
    return k;
}

typedef struct {
    bs_sae_epoch e[64];
    int n;
} trace_buf;

static int record(void *user, const bs_sae_epoch *e) {
    trace_buf *t = user;
    if (t->n < 64) t->e[t->n++] = *e;
    return 0;
}

static double rel(double a, double b) { return a == b ? 0 : fabs(a - b) / fmax(fabs(a), fabs(b)); }

static void small_problem(float *x) {
    bs_rng r;
    bs_rng_seed(&r, 42);
    for (int i = 0; i < RN; i++)
        for (int j = 0; j < RD; j++)
            x[i * RD + j] = (float)((j + 1) * bs_rng_uniform(&r) - (j % 4));
    for (int i = 0; i < RN; i++) x[i * RD + 6] = 2.25f; /* a constant feature */
}

static void fit_trace(bs_sae_precision prec, const float *x, trace_buf *tb, int epochs) {
    bs_sae_options o;
    bs_sae_options_default(&o);
    o.hidden = RH;
    o.max_epochs = epochs;
    o.seed = 2023;
    o.precision = prec;
    o.on_epoch = record;
    o.user = tb;
    bs_sae *m = bs_sae_fit(bs_matrix_of(x, RN, RD), NULL, RN, &o, NULL);
    assert_non_null(m);
    bs_sae_free(m);
}

static void init_weights(double *w) {
    bs_rng r; /* the same initialisation as bs_sae_fit: U(−0.01, 0.01) in parameter order */
    bs_rng_seed(&r, 2023);
    for (int i = 0; i < RNP; i++) w[i] = -0.01 + 0.02 * bs_rng_uniform(&r);
}

static double trace_diff(const bs_sae_epoch *a, const bs_sae_epoch *b) {
    if (a->epoch != b->epoch || a->accepted != b->accepted) return INFINITY;
    return fmax(rel(a->perf, b->perf),
                fmax(rel(a->grad_norm, b->grad_norm), rel(a->lambda, b->lambda)));
}

/* bs_sae_fit's per-epoch trace (float64 path) against the line-by-line transcription of the
 * SPEC §4 pseudo-code above, both on the library's float64 loss (which the next test and
 * test_sae_model check against independent transcriptions): 50 epochs to 1e-6. */
static void test_trace_matches_reference(void **s) {
    (void)s;
    float x[RN * RD];
    small_problem(x);
    bs_mapminmax mm;
    assert_int_equal(bs_mapminmax_fit(&mm, x, RD, NULL, RN), 0);
    sae_hyper hp = {0.001, 1, 0.05, SAE_TERM_ALL};
    sae_objective *obj = bs_sae_objective_new(BS_SAE_FLOAT64, x, RD, NULL, RN, RH, &mm, &hp);
    assert_non_null(obj);
    double w[RNP];
    init_weights(w);
    bs_sae_epoch ref[64];
    int nref = ref_scg(ref_loss_library, obj, w, 50, ref);
    trace_buf tb = {.n = 0};
    fit_trace(BS_SAE_FLOAT64, x, &tb, 50);
    assert_int_equal(nref, 51);
    assert_int_equal(tb.n, 51);
    double worst = 0;
    int rejected = 0;
    for (int k = 0; k < 51; k++) {
        double e = trace_diff(&tb.e[k], &ref[k]);
        if (e >= 1e-6)
            fprintf(stderr,
                    "epoch %d: perf %.17g vs %.17g, |g| %.17g vs %.17g, lambda %.17g vs %.17g\n", k,
                    tb.e[k].perf, ref[k].perf, tb.e[k].grad_norm, ref[k].grad_norm, tb.e[k].lambda,
                    ref[k].lambda);
        assert_true(e < 1e-6);
        worst = fmax(worst, e);
        rejected += k > 0 && !ref[k].accepted;
    }
    fprintf(stderr,
            "trace vs SPEC transcription, 50 epochs: worst relative difference %.2e; perf %.6g -> "
            "%.6g, %d rejected\n",
            worst, ref[0].perf, ref[50].perf, rejected);
    assert_true(ref[50].perf < 0.5 * ref[0].perf); /* it trained */
    assert_true(rejected > 0);                     /* and went through the rejection branch */
    bs_sae_objective_free(obj);
    bs_mapminmax_free(&mm);
}

/* A fully independent reference: plain-double loss (errors after mapping the output back to
 * original units, as MATLAB does) + the SPEC transcription. The loss agrees to ~1e-15 along the
 * whole trajectory, but SCG's finite-difference curvature (σ = 5e-5) turns such differences into
 * ~1e-13 after one epoch, and they then grow ~1.5x per epoch (measured on this problem: 2e-9 at
 * epoch 20, ~1e-6 around epoch 40). So: 1e-6 for 25 epochs, identical accept/reject decisions
 * and 1e-3 for all 50. */
static void test_trace_independent_reference(void **s) {
    (void)s;
    float x[RN * RD];
    small_problem(x);
    ref_ae m;
    ref_setup(&m, x);
    m.l2 = 0.001;
    m.beta = 1;
    m.rho = 0.05;
    double w[RNP];
    init_weights(w);
    bs_sae_epoch ref[64];
    assert_int_equal(ref_scg(ref_loss_plain, &m, w, 50, ref), 51);
    trace_buf tb = {.n = 0};
    fit_trace(BS_SAE_FLOAT64, x, &tb, 50);
    double worst25 = 0, worst50 = 0;
    for (int k = 0; k < 51; k++) {
        double e = trace_diff(&tb.e[k], &ref[k]);
        if (k <= 25) worst25 = fmax(worst25, e);
        worst50 = fmax(worst50, e);
    }
    fprintf(stderr, "trace vs independent reference: worst %.2e over 25 epochs, %.2e over 50\n",
            worst25, worst50);
    assert_true(worst25 < 1e-6);
    assert_true(worst50 < 1e-3);

    /* the loss and gradient themselves, at weights along the reference trajectory */
    bs_mapminmax mm;
    assert_int_equal(bs_mapminmax_fit(&mm, x, RD, NULL, RN), 0);
    sae_hyper hp = {0.001, 1, 0.05, SAE_TERM_ALL};
    sae_objective *obj = bs_sae_objective_new(BS_SAE_FLOAT64, x, RD, NULL, RN, RH, &mm, &hp);
    double g1[RNP], g2[RNP], f1, f2, gerr = 0, gmax = 0;
    f1 = ref_perf(&m, w, g1); /* w is the reference's weights after 50 epochs */
    assert_int_equal(bs_sae_objective_eval(obj, w, w, 0, &f2, g2), 0);
    for (int i = 0; i < RNP; i++) {
        gerr = fmax(gerr, fabs(g1[i] - g2[i]));
        gmax = fmax(gmax, fabs(g1[i]));
    }
    fprintf(stderr, "loss at epoch 50: %.17g vs %.17g, gradient max difference %.2e of %.2e\n", f1,
            f2, gerr, gmax);
    assert_true(rel(f1, f2) < 1e-13);
    assert_true(gerr < 1e-12 * gmax);
    bs_sae_objective_free(obj);
    bs_mapminmax_free(&mm);
}

/* The float32 (dnnl_sgemm) fit starts on the same path to float precision and trains as well;
 * its later epochs drift from the float64 ones for the reason given above. */
static void test_float_trace_close(void **s) {
    (void)s;
    float x[RN * RD];
    small_problem(x);
    trace_buf tf = {.n = 0}, td = {.n = 0};
    fit_trace(BS_SAE_FLOAT32, x, &tf, 50);
    fit_trace(BS_SAE_FLOAT64, x, &td, 50);
    assert_int_equal(tf.n, 51);
    fprintf(stderr,
            "float32 vs float64: epoch 0 perf %.9g vs %.9g; epoch 1 %.9g vs %.9g; epoch 50 %.9g vs "
            "%.9g\n",
            tf.e[0].perf, td.e[0].perf, tf.e[1].perf, td.e[1].perf, tf.e[50].perf, td.e[50].perf);
    assert_true(rel(tf.e[0].perf, td.e[0].perf) < 1e-6);
    assert_true(rel(tf.e[0].grad_norm, td.e[0].grad_norm) < 1e-5);
    assert_true(rel(tf.e[1].perf, td.e[1].perf) < 1e-4);
    assert_true(tf.e[50].perf < 0.5 * tf.e[0].perf);
    assert_true(rel(tf.e[50].perf, td.e[50].perf) < 0.2);
}

/* The callback can stop training; max_epochs = 0 returns the initial state. */
static int stop_at_3(void *user, const bs_sae_epoch *e) {
    (void)user;
    return e->epoch == 3;
}

static void test_stops(void **s) {
    (void)s;
    float x[RN * RD];
    small_problem(x);
    bs_sae_options o;
    bs_sae_options_default(&o);
    o.hidden = 3;
    o.on_epoch = stop_at_3;
    bs_sae_fit_info info;
    bs_sae *m = bs_sae_fit(bs_matrix_of(x, RN, RD), NULL, RN, &o, &info);
    assert_non_null(m);
    assert_int_equal(info.stop, BS_SAE_STOP_CALLER);
    assert_int_equal(info.epochs, 3);
    bs_sae_free(m);
    o.on_epoch = NULL;
    o.max_epochs = 0;
    m = bs_sae_fit(bs_matrix_of(x, RN, RD), NULL, RN, &o, &info);
    assert_non_null(m);
    assert_int_equal(info.stop, BS_SAE_STOP_EPOCHS);
    assert_int_equal(info.epochs, 0);
    bs_sae_free(m);
    o.max_epochs = 100000; /* a huge min_grad stops at once */
    o.min_grad = 1e3;
    m = bs_sae_fit(bs_matrix_of(x, RN, RD), NULL, RN, &o, &info);
    assert_non_null(m);
    assert_int_equal(info.stop, BS_SAE_STOP_MIN_GRAD);
    assert_int_equal(info.epochs, 0);
    bs_sae_free(m);
}

int main(void) {
    const struct CMUnitTest t[] = {
        cmocka_unit_test(test_quadratic_small),
        cmocka_unit_test(test_quadratic_10),
        cmocka_unit_test(test_quadratic_40),
        cmocka_unit_test(test_rosenbrock),
        cmocka_unit_test(test_trace_matches_reference),
        cmocka_unit_test(test_trace_independent_reference),
        cmocka_unit_test(test_float_trace_close),
        cmocka_unit_test(test_stops),
    };
    return cmocka_run_group_tests(t, NULL, NULL);
}
