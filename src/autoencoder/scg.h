/* scg.h — MATLAB trainscg (Møller's scaled conjugate gradient) over any objective, exactly as
 * the pseudo-code of SPEC §4.
 * Private to src/autoencoder: the stage's door is autoencoder.h (tests: autoencoder_test.h).
 *
 * Vectors are double, like MATLAB; the objective decides its own arithmetic. Every reduction
 * (norms, δ, μ, β) is summed in fixed blocks in a fixed order, so a run is reproducible for a
 * given objective whatever the thread count. */
#ifndef BS_AUTOENCODER_SCG_H
#define BS_AUTOENCODER_SCG_H

#include <stdint.h>

#include "autoencoder.h"

typedef struct bs_scg_objective {
    /* perf, and ∇perf when grad != NULL, at the point w + t·p (p is never NULL; t may be 0).
     * Returns 0, or -1 with a bs_error. */
    int (*eval)(void *ctx, const double *w, const double *p, double t, double *perf, double *grad);
    /* ∇perf at the point of the last eval (which may have skipped the gradient); optional:
     * when NULL, eval is called again. Lets an objective reuse its forward pass. */
    int (*grad_last)(void *ctx, double *grad);
    void *ctx;
} bs_scg_objective;

typedef struct bs_scg_options {
    int max_epochs;
    double min_grad;          /* stop when |∇perf| <= min_grad */
    double goal;              /* stop when perf <= goal (MATLAB: 0) */
    double sigma;             /* 5e-5 */
    double lambda0;           /* 5e-7 */
    bs_sae_epoch_fn on_epoch; /* optional, epochs 0..end */
    void *user;
} bs_scg_options;

void bs_scg_options_default(bs_scg_options *o);

/* Minimise from w (n values, updated in place). info may be NULL. */
int bs_scg_minimize(int64_t n, double *w, const bs_scg_objective *obj, const bs_scg_options *o,
                    bs_sae_fit_info *info);

#endif
