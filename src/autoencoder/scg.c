/* scg.c — scaled conjugate gradient (MATLAB trainscg, SPEC §4), generic over an objective.
 *
 * The pseudo-code of SPEC §4 is written with g = −∇perf; here the buffers hold r = ∇perf, so
 * g = −r throughout: s = (g − g(w+σk p))/σk = (r(w+σk p) − r)/σk, μ = pᵀg = −pᵀr,
 * p ← g + βp = −r + βp. Only four n-vectors live: w, p, r and a scratch gradient rt; the
 * trial points w + t·p are never materialised (the objective reads w and p), and w moves
 * only when a step is accepted. Not for: anything autoencoder-specific. */
#include "scg.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/io.h"

/* Reductions are summed per block of BLOCK elements (in parallel), then over blocks in order,
 * so the result does not depend on the number of threads. */
#define BLOCK 8192
/* Below this many blocks a pass runs on one thread: waking a team costs more than it saves. */
#define PAR_BLOCKS 8

void bs_scg_options_default(bs_scg_options *o) {
    memset(o, 0, sizeof *o);
    o->max_epochs = 750;
    o->min_grad = 1e-6;
    o->goal = 0;
    o->sigma = 5e-5;
    o->lambda0 = 5e-7;
}

typedef struct {
    int64_t n, nb;
    double *part; /* nb × 3 block partial sums */
} reducer;

static void sum_parts(const reducer *rd, double out[3]) {
    out[0] = out[1] = out[2] = 0;
    for (int64_t b = 0; b < rd->nb; b++)
        for (int k = 0; k < 3; k++) out[k] += rd->part[3 * b + k];
}

/* out = [Σ p(rt − r), Σ p·r, Σ p²] */
static void pass_curvature(const reducer *rd, const double *p, const double *r, const double *rt,
                           double out[3]) {
    const int64_t n = rd->n;
#pragma omp parallel for schedule(static) if (rd->nb >= PAR_BLOCKS)
    for (int64_t b = 0; b < rd->nb; b++) {
        int64_t lo = b * BLOCK, hi = lo + BLOCK < n ? lo + BLOCK : n;
        double s0 = 0, s1 = 0, s2 = 0;
        for (int64_t i = lo; i < hi; i++) {
            double pi = p[i];
            s0 += pi * (rt[i] - r[i]);
            s1 += pi * r[i];
            s2 += pi * pi;
        }
        rd->part[3 * b] = s0;
        rd->part[3 * b + 1] = s1;
        rd->part[3 * b + 2] = s2;
    }
    sum_parts(rd, out);
}

/* w += alpha·p; out = [Σ rt², Σ rt·r, 0] */
static void pass_step(const reducer *rd, double *w, const double *p, double alpha, const double *r,
                      const double *rt, double out[3]) {
    const int64_t n = rd->n;
#pragma omp parallel for schedule(static) if (rd->nb >= PAR_BLOCKS)
    for (int64_t b = 0; b < rd->nb; b++) {
        int64_t lo = b * BLOCK, hi = lo + BLOCK < n ? lo + BLOCK : n;
        double s0 = 0, s1 = 0;
        for (int64_t i = lo; i < hi; i++) {
            w[i] = w[i] + alpha * p[i];
            s0 += rt[i] * rt[i];
            s1 += rt[i] * r[i];
        }
        rd->part[3 * b] = s0;
        rd->part[3 * b + 1] = s1;
        rd->part[3 * b + 2] = 0;
    }
    sum_parts(rd, out);
}

/* p = −r + beta·p; returns Σ p² */
static double pass_direction(const reducer *rd, double *p, const double *r, double beta) {
    const int64_t n = rd->n;
#pragma omp parallel for schedule(static) if (rd->nb >= PAR_BLOCKS)
    for (int64_t b = 0; b < rd->nb; b++) {
        int64_t lo = b * BLOCK, hi = lo + BLOCK < n ? lo + BLOCK : n;
        double s = 0;
        for (int64_t i = lo; i < hi; i++) {
            double v = beta == 0 ? -r[i] : -r[i] + beta * p[i];
            p[i] = v;
            s += v * v;
        }
        rd->part[3 * b] = s;
        rd->part[3 * b + 1] = rd->part[3 * b + 2] = 0;
    }
    double out[3];
    sum_parts(rd, out);
    return out[0];
}

static int report(const bs_scg_options *o, int epoch, double perf, double gnorm, double lambda,
                  int accepted) {
    if (!o->on_epoch) return 0;
    bs_sae_epoch e = {epoch, perf, gnorm, lambda, accepted};
    return o->on_epoch(o->user, &e);
}

int bs_scg_minimize(int64_t n, double *w, const bs_scg_objective *obj, const bs_scg_options *o,
                    bs_sae_fit_info *info) {
    if (n <= 0) return bs_error("scg: no parameters");
    if (o->max_epochs < 0) return bs_error("scg: negative max_epochs");
    reducer rd = {n, (n + BLOCK - 1) / BLOCK, NULL};
    double *p = bs_calloc((size_t)n, sizeof(double));
    double *r = bs_malloc((size_t)n * sizeof(double));
    double *rt = bs_malloc((size_t)n * sizeof(double));
    rd.part = bs_malloc((size_t)rd.nb * 3 * sizeof(double));
    int rc = -1;
    if (!p || !r || !rt || !rd.part) goto done;

    double perf, sums[3];
    if (obj->eval(obj->ctx, w, p, 0.0, &perf, r)) goto done;
    double pp = pass_direction(&rd, p, r, 0.0); /* p = g = −∇perf */
    double gnorm = sqrt(pp);
    double lambda = o->lambda0, lambdab = 0, delta = 0, mu = 0;
    int success = 1, accepted = 0, n_accepted = 0, epoch = 0;
    bs_sae_stop stop;
    for (epoch = 0;; epoch++) {
        if (report(o, epoch, perf, gnorm, lambda, accepted)) {
            stop = BS_SAE_STOP_CALLER;
            break;
        }
        if (perf <= o->goal) {
            stop = BS_SAE_STOP_GOAL;
            break;
        }
        if (epoch >= o->max_epochs) {
            stop = BS_SAE_STOP_EPOCHS;
            break;
        }
        if (gnorm <= o->min_grad || pp == 0) {
            stop = BS_SAE_STOP_MIN_GRAD;
            break;
        }
        if (success) { /* second-order information along p */
            double sigmak = o->sigma / sqrt(pp), perf_s;
            if (obj->eval(obj->ctx, w, p, sigmak, &perf_s, rt)) goto done;
            pass_curvature(&rd, p, r, rt, sums);
            delta = sums[0] / sigmak;
            mu = -sums[1];
        }
        delta += (lambda - lambdab) * pp; /* scale δ */
        if (delta <= 0) {                 /* make the Hessian positive definite */
            lambdab = 2 * (lambda - delta / pp);
            delta = -delta + lambda * pp;
            lambda = lambdab;
        }
        double alpha = mu / delta, perf_t;
        if (obj->eval(obj->ctx, w, p, alpha, &perf_t, NULL)) goto done;
        double cmp = 2 * delta * (perf - perf_t) / (mu * mu); /* Δ */
        if (cmp >= 0) {
            if (obj->grad_last ? obj->grad_last(obj->ctx, rt)
                               : obj->eval(obj->ctx, w, p, alpha, &perf_t, rt))
                goto done;
            pass_step(&rd, w, p, alpha, r, rt, sums); /* w = w'; sums = [gᵀg, gᵀg_old] */
            double beta = (epoch % n == 0) ? 0.0 : (sums[0] - sums[1]) / mu;
            pp = pass_direction(&rd, p, rt, beta);
            double *tmp = r;
            r = rt;
            rt = tmp;
            gnorm = sqrt(sums[0]);
            perf = perf_t;
            lambdab = 0;
            success = 1;
            accepted = 1;
            n_accepted++;
            if (cmp >= 0.75) lambda = lambda / 4;
        } else {
            lambdab = lambda;
            success = 0;
            accepted = 0;
        }
        if (cmp < 0.25 && pp != 0) lambda += delta * (1 - cmp) / pp;
    }
    if (info) {
        info->epochs = epoch;
        info->accepted = n_accepted;
        info->perf = perf;
        info->grad_norm = gnorm;
        info->stop = stop;
        info->seconds = 0;
    }
    rc = 0;
done:
    free(p);
    free(r);
    free(rt);
    free(rd.part);
    return rc;
}
