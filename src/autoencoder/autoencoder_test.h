/* autoencoder_test.h — the door for tests and benchmarks into the autoencoder's internals:
 * the model struct (sae_internal.h), mapminmax (mapminmax.h), the loss and its gradient
 * (sae_model.h) and the scaled conjugate gradient (scg.h), which they check one by one against
 * MATLAB's numbers. Not for library code: outside src/autoencoder the door is autoencoder.h. */
#ifndef BS_AUTOENCODER_AUTOENCODER_TEST_H
#define BS_AUTOENCODER_AUTOENCODER_TEST_H

#include "autoencoder.h"
#include "mapminmax.h"
#include "sae_internal.h"
#include "sae_model.h"
#include "scg.h"

#endif
