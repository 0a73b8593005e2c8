/* fuzz_sae.c — libFuzzer target: the autoencoder file (bs_sae_parse); a model that loads is
 * also used once (one all-zero row encoded) so inconsistent weights would show. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "autoencoder/autoencoder.h"
#include "core/threads.h"

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc, (void)argv;
    bs_threads_set(1);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    bs_sae *m = bs_sae_parse(data, size, "fuzz.bsae");
    if (!m) return 0;
    int64_t d = bs_sae_features(m), h = bs_sae_hidden(m);
    (void)bs_sae_options_of(m);
    (void)bs_sae_info_of(m);
    if (d > 0 && h > 0 && d <= (1 << 16) && h <= (1 << 16)) {
        float *x = calloc((size_t)d, sizeof *x), *z = calloc((size_t)h, sizeof *z);
        if (x && z)
            (void)bs_sae_encode(m, bs_matrix_of(x, 1, d), NULL, 1,
                                bs_matrix_mut_of(z, 1, bs_sae_hidden(m)));
        free(x);
        free(z);
    }
    bs_sae_free(m);
    return 0;
}
