/* sae_diff.c — compare two AE files for the MPI tests: prints the largest weight difference
 * relative to the largest weight, max|a − b| / max|a| over [W1 | b1 | W2 | b2], and the same
 * for the mapminmax settings; exits 1 when either exceeds the bound given (default 1e-5).
 * Usage: sae_diff A.sae B.sae [BOUND] */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "autoencoder/autoencoder.h"
#include "autoencoder/autoencoder_test.h"
#include "core/error.h"

static double rel(const double *num_den) {
    return num_den[1] > 0 ? num_den[0] / num_den[1] : num_den[0];
}

int main(int argc, char **argv) {
    if (argc < 3 || argc > 4) {
        fprintf(stderr, "usage: sae_diff A.sae B.sae [BOUND]\n");
        return 2;
    }
    double bound = argc == 4 ? atof(argv[3]) : 1e-5;
    bs_sae *a = bs_sae_load(argv[1]), *b = a ? bs_sae_load(argv[2]) : NULL;
    if (!a || !b) {
        fprintf(stderr, "sae_diff: %s\n", bs_error_message());
        return 2;
    }
    if (a->d != b->d || a->h != b->h) {
        fprintf(stderr, "sae_diff: shapes differ (%lld×%lld vs %lld×%lld)\n", (long long)a->d,
                (long long)a->h, (long long)b->d, (long long)b->h);
        return 1;
    }
    double w[2] = {0, 0}, mm[2] = {0, 0};
    for (int64_t i = 0; i < sae_nparams(a->d, a->h); i++) {
        w[0] = fmax(w[0], fabs((double)a->w[i] - (double)b->w[i]));
        w[1] = fmax(w[1], fabs((double)a->w[i]));
    }
    for (int64_t j = 0; j < a->d; j++) {
        mm[0] = fmax(mm[0], fabs(a->mm.gain[j] - b->mm.gain[j]) / fabs(a->mm.gain[j]));
        mm[0] = fmax(mm[0], fabs(a->mm.xoffset[j] - b->mm.xoffset[j]) /
                                fmax(fabs(a->mm.xoffset[j]), 1e-30));
    }
    mm[1] = 1;
    printf("weights: max|a-b|/max|a| = %.3e; mapminmax: max relative difference = %.3e; "
           "epochs %d / %d, accepted %d / %d, perf %.9g / %.9g\n",
           rel(w), rel(mm), a->info.epochs, b->info.epochs, a->info.accepted, b->info.accepted,
           a->info.perf, b->info.perf);
    int bad = !(rel(w) <= bound) || !(rel(mm) <= bound) || a->n_train != b->n_train;
    bs_sae_free(a);
    bs_sae_free(b);
    return bad;
}
