/* autoencoder.h — the sparse autoencoder stage: MATLAB trainAutoencoder semantics (SPEC §4).
 *
 * A model maps D features to H latent units: latent = logsig(W1 · mapminmax(x) + b1).
 * Training minimises msesparse (SSE/(N·D) + λ·Σw²/D + 2β·ΣKL(ρ‖ρ̂)/D, errors in original
 * feature units) with MATLAB's scaled conjugate gradient (trainscg), full batch.
 * Feature matrices are float32 views (core/matrix.h), one sample per row (N × D), and may be
 * used through a row index list so callers can fit on one fold and encode another without
 * copies. A malformed view or an output of the wrong shape is a programming error (asserted).
 *
 * This header is the only door into the stage. Not for: reading feature files or choosing
 * folds; the caller does that. Every function returns 0 / -1 (or NULL) and leaves a bs_error. */
#ifndef BS_AUTOENCODER_H
#define BS_AUTOENCODER_H

#include <stddef.h>
#include <stdint.h>

#include "core/matrix.h"

typedef struct bs_sae bs_sae; /* a trained model: scaling + encoder + decoder weights */

/* Largest number of features or hidden units (also the AE file's limit). */
#define BS_SAE_MAX_DIM ((int64_t)1 << 24)

/* Arithmetic of the loss and gradient. FLOAT32 is the real thing (dnnl_sgemm, reductions in
 * double); FLOAT64 runs the same code in double with plain loops: a reference for tests and
 * small problems only (it is orders of magnitude slower). */
typedef enum { BS_SAE_FLOAT32 = 0, BS_SAE_FLOAT64 = 1 } bs_sae_precision;

/* Why training ended. */
typedef enum {
    BS_SAE_STOP_EPOCHS = 0,   /* MaxEpochs reached */
    BS_SAE_STOP_MIN_GRAD = 1, /* |∇perf| <= min_grad */
    BS_SAE_STOP_GOAL = 2,     /* perf <= 0 */
    BS_SAE_STOP_CALLER = 3,   /* the epoch callback asked to stop */
} bs_sae_stop;

/* One row of the training record. Epoch 0 is the starting point (accepted = 0); epoch k >= 1
 * describes the state after the k-th SCG iteration: perf and |∇perf| at the current weights,
 * the scale parameter λ after its update, and whether the step was taken. */
typedef struct bs_sae_epoch {
    int epoch;
    double perf, grad_norm, lambda;
    int accepted;
} bs_sae_epoch;

/* Called once per epoch (including epoch 0); return nonzero to stop training early. */
typedef int (*bs_sae_epoch_fn)(void *user, const bs_sae_epoch *e);

typedef struct bs_sae_options {
    int64_t hidden;             /* H, hidden units (required, >= 1) */
    int max_epochs;             /* MaxEpochs, default 750 */
    double l2;                  /* L2WeightRegularization λ, default 0.001 */
    double sparsity;            /* SparsityRegularization β, default 1 */
    double proportion;          /* SparsityProportion ρ in (0, 1), default 0.05 */
    double min_grad;            /* stop when |∇perf| <= min_grad, default 1e-6 */
    uint64_t seed;              /* seeds the U(-0.01, 0.01) initialisation */
    bs_sae_precision precision; /* default BS_SAE_FLOAT32 */
    int progress;               /* nonzero: progress bar on stderr (only when it is a terminal) */
    bs_sae_epoch_fn on_epoch;   /* optional per-epoch trace */
    void *user;
    /* Data-parallel training under an MPI job (core/dist.h): the rows given to bs_sae_fit are
     * this rank's shard (at least one row per rank), every rank calls bs_sae_fit together,
     * and all get the model of the union of the shards: mapminmax from the global min/max,
     * loss and gradient summed over every rank's rows, the same SCG steps everywhere. The
     * weights equal a single-process fit's up to float rounding of the partial sums.
     * Ignored (a plain fit) when the job has one rank. */
    int distributed;
} bs_sae_options;

/* What training did (optional output of bs_sae_fit). */
typedef struct bs_sae_fit_info {
    int epochs;   /* iterations run */
    int accepted; /* of which accepted steps */
    double perf, grad_norm;
    bs_sae_stop stop;
    double seconds;
} bs_sae_fit_info;

/* Defaults of SPEC §4 (hidden = 0: the caller must set it). */
void bs_sae_options_default(bs_sae_options *o);

/* Fit on rows `rows[0..n_rows)` of x (rows == NULL: all x.rows rows, n_rows ignored). Refuses
 * NaN/Inf naming the row and column. */
bs_sae *bs_sae_fit(bs_matrix x, const int64_t *rows, int64_t n_rows, const bs_sae_options *opt,
                   bs_sae_fit_info *info);

/* Latent features of rows `rows[0..n_rows)` of x (rows == NULL: all x.rows rows) into out,
 * which must be (rows encoded) × hidden. x.cols must equal the model's features. */
int bs_sae_encode(const bs_sae *m, bs_matrix x, const int64_t *rows, int64_t n_rows,
                  bs_matrix_mut out);

/* Reconstruction error of rows `rows[0..n_rows)` of x (rows == NULL: all x.rows rows) into
 * err (n_rows values): the mean over features of the squared difference between a row and its
 * reconstruction (decoder output mapped back through mapminmax), in original feature units —
 * the error term of the loss for that row alone. Used to flag inputs unlike the training data. */
int bs_sae_reconstruction_error(const bs_sae *m, bs_matrix x, const int64_t *rows, int64_t n_rows,
                                double *err);

/* The AE file (docs/autoencoder-format.md): written atomically, validated on load. */
int bs_sae_save(const bs_sae *m, const char *path);
/* The same bytes in memory (*data is the caller's to free), e.g. to embed in a pipeline file;
 * `name` is used in messages. */
int bs_sae_serialize(const bs_sae *m, const char *name, unsigned char **data, size_t *len);
bs_sae *bs_sae_load(const char *path);
/* Parse an in-memory AE file image; `name` is used in messages. */
bs_sae *bs_sae_parse(const unsigned char *buf, size_t len, const char *name);

int64_t bs_sae_features(const bs_sae *m);
int64_t bs_sae_hidden(const bs_sae *m);
/* The options the model was trained with (hidden, epochs, λ, β, ρ, min_grad, seed). */
const bs_sae_options *bs_sae_options_of(const bs_sae *m);
/* What its training did (as recorded in the file). */
const bs_sae_fit_info *bs_sae_info_of(const bs_sae *m);
const char *bs_sae_stop_name(bs_sae_stop s);

void bs_sae_free(bs_sae *m);

#endif
