/* sae_internal.h — the bs_sae struct, shared by autoencoder.c (fit, encode) and sae_file.c
 * (save, load).
 * Private to src/autoencoder: the stage's door is autoencoder.h (tests: autoencoder_test.h). */
#ifndef BS_AUTOENCODER_SAE_INTERNAL_H
#define BS_AUTOENCODER_SAE_INTERNAL_H

#include "autoencoder.h"
#include "mapminmax.h"

struct bs_sae {
    int64_t d, h, n_train;
    bs_sae_options opt; /* as trained; callbacks cleared */
    bs_sae_fit_info info;
    bs_mapminmax mm; /* scaling of the training rows */
    float *w;        /* sae_nparams(d, h) floats: [W1 | b1 | W2 | b2] */
};

/* An empty model with storage for d features and h hidden units. */
bs_sae *bs_sae_alloc(int64_t d, int64_t h);

#endif
