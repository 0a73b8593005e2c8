/* sae_model.h — the msesparse loss and its analytic gradient on a fixed training set
 * (SPEC §4), as an SCG objective.
 * Private to src/autoencoder: the stage's door is autoencoder.h (tests and the benchmark:
 * autoencoder_test.h).
 *
 * Parameters are one double vector (the SCG's), laid out as
 *   [ W1 (h × d, row-major) | b1 (h) | W2 (d × h, row-major) | b2 (d) ]
 * and the network is, for the n × d scaled training matrix Xs (one sample per row):
 *   A1 = logsig(Xs·W1ᵀ + b1)   (n × h)        A2 = logsig(A1·W2ᵀ + b2)   (n × d)
 *   perf = Σ ((Xs − A2)/gain)² / (n·d)                      errors in original units
 *        + λ (ΣW1² + ΣW2²) / d + 2β Σ_j KL(ρ ‖ clip(mean_n A1[:, j])) / d
 * FLOAT32 does the five matrix products per loss+gradient with dnnl_sgemm and every
 * reduction in double; FLOAT64 runs the same code in double with plain loops. */
#ifndef BS_AUTOENCODER_SAE_MODEL_H
#define BS_AUTOENCODER_SAE_MODEL_H

#include <stdint.h>

#include "autoencoder.h"
#include "mapminmax.h"

/* Loss terms, for tests that check each one alone. */
enum { SAE_TERM_MSE = 1, SAE_TERM_L2 = 2, SAE_TERM_SPARSITY = 4, SAE_TERM_ALL = 7 };

typedef struct sae_hyper {
    double l2, beta, rho;
    unsigned terms; /* SAE_TERM_* mask */
} sae_hyper;

typedef struct sae_objective sae_objective;

static inline int64_t sae_nparams(int64_t d, int64_t h) { return 2 * d * h + h + d; }
/* Offsets of the four blocks in the parameter vector. */
static inline int64_t sae_off_b1(int64_t d, int64_t h) { return h * d; }
static inline int64_t sae_off_w2(int64_t d, int64_t h) { return h * d + h; }
static inline int64_t sae_off_b2(int64_t d, int64_t h) { return 2 * h * d + h; }

/* Training set: rows[0..n) of the ld = d column matrix x (rows == NULL: rows 0..n), scaled
 * with mm (which the objective does not own; it must outlive it). */
sae_objective *bs_sae_objective_new(bs_sae_precision prec, const float *x, int64_t d,
                                    const int64_t *rows, int64_t n, int64_t h,
                                    const bs_mapminmax *mm, const sae_hyper *hp);
/* Data-parallel training: this objective's rows are this rank's shard of n_global rows in an
 * MPI job (core/dist.h). Every rank must call eval/grad_last in the same order with the same
 * w, p, t; each eval then makes one allreduce of h + 1 doubles (ρ̂ sums and SSE: the KL term
 * and the sparsity gradient need the global ρ̂), and each gradient one of np doubles, so all
 * ranks see the perf and ∇perf of the whole training set. */
int bs_sae_objective_distribute(sae_objective *o, int64_t n_global);
/* perf (and ∇perf when grad != NULL) at w + t·p (p may be NULL when t == 0). */
int bs_sae_objective_eval(sae_objective *o, const double *w, const double *p, double t,
                          double *perf, double *grad);
/* ∇perf at the point of the last eval, reusing its forward pass. */
int bs_sae_objective_grad_last(sae_objective *o, double *grad);
void bs_sae_objective_free(sae_objective *o);

/* Encoder only: out (n × h) = logsig(mapminmax(x[rows]) · W1ᵀ + b1), float32 weights. */
int bs_sae_encode_f(const float *x, int64_t d, const int64_t *rows, int64_t n, int64_t h,
                    const bs_mapminmax *mm, const float *w1, const float *b1, float *out);

/* Per-row reconstruction error in original feature units: err[i] (n) = Σ_j ((xs − a2)/gain)²/d,
 * the loss's error term for one row (w: float32 weights in the parameter layout). */
int bs_sae_reconstruction_error_f(const float *x, int64_t d, const int64_t *rows, int64_t n,
                                  int64_t h, const bs_mapminmax *mm, const float *w, double *err);

#endif
