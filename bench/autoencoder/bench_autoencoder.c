/* bench_autoencoder.c — speed of the sparse autoencoder (driven by bench/autoencoder/run).
 *
 *   bench_autoencoder evals N D H THREADS SECONDS   loss+gradient evaluations per second,
 *                                                   GFLOP/s, and raw dnnl_sgemm GFLOP/s at
 *                                                   the five shapes one evaluation uses
 *   bench_autoencoder fit N D H THREADS EPOCHS      a whole bs_sae_fit
 *
 * Prints one line of key=value pairs. FLOPs counted: the five N·D·H products of a loss+gradient
 * (2·N·D·H each); the elementwise work is not counted. Data: random, shaped like pooled CNN
 * features (non-negative, exponential, per-feature scales from 0.05 to 5). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include <oneapi/dnnl/dnnl.h>

#include "autoencoder/autoencoder.h"
#include "autoencoder/autoencoder_test.h"
#include "core/error.h"
#include "core/progress.h"
#include "core/rng.h"
#include "core/threads.h"

static float *make_features(int64_t n, int64_t d, uint64_t seed) {
    float *x = malloc(sizeof(float) * (size_t)(n * d));
    if (!x) return NULL;
    bs_rng r;
    bs_rng_seed(&r, seed);
    for (int64_t j = 0; j < d; j++) {
        double scale = 0.05 + 4.95 * bs_rng_uniform(&r);
        for (int64_t i = 0; i < n; i++)
            x[i * d + j] = (float)(-log(1 - bs_rng_uniform(&r)) * scale);
    }
    return x;
}

static double peak_rss_mib(void) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss / 1024.0;
}

/* Raw dnnl_sgemm GFLOP/s at the five shapes of one loss+gradient, and all five together. */
static double sgemm_ceiling(int64_t n, int64_t d, int64_t h, double out[5]) {
    float *x = calloc((size_t)(n * d), 4), *y = calloc((size_t)(n * d), 4),
          *w = calloc((size_t)(d * h), 4), *a = calloc((size_t)(n * h), 4),
          *g = calloc((size_t)(d * h), 4);
    for (int64_t i = 0; i < n * d; i++) x[i] = y[i] = (float)((i % 97) * 0.01);
    for (int64_t i = 0; i < d * h; i++) w[i] = (float)((i % 89) * 0.001);
    for (int64_t i = 0; i < n * h; i++) a[i] = (float)((i % 83) * 0.01);
    struct {
        char ta, tb;
        int64_t m, nn, k;
        const float *A;
        int64_t lda;
        const float *B;
        int64_t ldb;
        float *C;
        int64_t ldc;
    } s[5] = {{'N', 'T', n, h, d, x, d, w, d, a, h},  /* A1 = Xs·W1ᵀ */
              {'N', 'T', n, d, h, a, h, w, h, y, d},  /* A2 = A1·W2ᵀ */
              {'T', 'N', d, h, n, y, d, a, h, g, h},  /* dW2 = dZ2ᵀ·A1 */
              {'N', 'N', n, h, d, y, d, w, h, a, h},  /* dA1 = dZ2·W2 */
              {'T', 'N', h, d, n, a, h, x, d, g, d}}; /* dW1 = dZ1ᵀ·Xs */
    double flops = 2.0 * n * d * h, total = 0;
    for (int k = 0; k < 5; k++) {
        dnnl_sgemm(s[k].ta, s[k].tb, s[k].m, s[k].nn, s[k].k, 1, s[k].A, s[k].lda, s[k].B, s[k].ldb,
                   0, s[k].C, s[k].ldc);
        int reps = 0;
        double t0 = bs_now(), t;
        do {
            dnnl_sgemm(s[k].ta, s[k].tb, s[k].m, s[k].nn, s[k].k, 1, s[k].A, s[k].lda, s[k].B,
                       s[k].ldb, 0, s[k].C, s[k].ldc);
            reps++;
            t = bs_now() - t0;
        } while (t < 1.0 || reps < 3);
        out[k] = flops * reps / t / 1e9;
        total += t / reps;
    }
    free(x);
    free(y);
    free(w);
    free(a);
    free(g);
    return 5 * flops / total / 1e9;
}

static int bench_evals(int64_t n, int64_t d, int64_t h, double seconds) {
    float *x = make_features(n, d, 1);
    bs_mapminmax mm;
    if (!x || bs_mapminmax_fit(&mm, x, d, NULL, n)) return 1;
    sae_hyper hp = {0.001, 1, 0.05, SAE_TERM_ALL};
    sae_objective *o = bs_sae_objective_new(BS_SAE_FLOAT32, x, d, NULL, n, h, &mm, &hp);
    const int64_t np = sae_nparams(d, h);
    double *w = malloc(sizeof(double) * (size_t)np), *g = malloc(sizeof(double) * (size_t)np);
    if (!o || !w || !g) return 1;
    bs_rng r;
    bs_rng_seed(&r, 2);
    for (int64_t i = 0; i < np; i++) w[i] = -0.01 + 0.02 * bs_rng_uniform(&r);
    double perf;
    if (bs_sae_objective_eval(o, w, w, 0, &perf, g)) return 1; /* warm-up */
    int evals = 0;
    double t0 = bs_now(), t;
    do {
        if (bs_sae_objective_eval(o, w, w, 0, &perf, g)) return 1;
        evals++;
        t = bs_now() - t0;
    } while (t < seconds || evals < 3);
    double eps = evals / t, gflops = eps * 10.0 * n * d * h / 1e9, rss = peak_rss_mib();
    /* the machine is shared: measure the sgemm ceiling before and after, keep the better */
    double shapes[5], shapes2[5], ceiling = sgemm_ceiling(n, d, h, shapes),
                                  c2 = sgemm_ceiling(n, d, h, shapes2);
    if (c2 > ceiling) {
        ceiling = c2;
        memcpy(shapes, shapes2, sizeof shapes);
    }
    printf("impl=blastscan n=%lld d=%lld h=%lld threads=%d evals=%d evals_per_s=%.3f gflops=%.1f "
           "peak_rss_mib=%.0f "
           "sgemm_gflops=%.1f sgemm_shapes=%.0f/%.0f/%.0f/%.0f/%.0f perf=%.9g\n",
           (long long)n, (long long)d, (long long)h, bs_threads_get(), evals, eps, gflops, rss,
           ceiling, shapes[0], shapes[1], shapes[2], shapes[3], shapes[4], perf);
    bs_sae_objective_free(o);
    bs_mapminmax_free(&mm);
    free(w);
    free(g);
    free(x);
    return 0;
}

static int bench_fit(int64_t n, int64_t d, int64_t h, int epochs) {
    float *x = make_features(n, d, 1);
    if (!x) return 1;
    bs_sae_options o;
    bs_sae_options_default(&o);
    o.hidden = h;
    o.max_epochs = epochs;
    o.progress = 1;
    bs_sae_fit_info info;
    bs_sae *m = bs_sae_fit(bs_matrix_of(x, n, d), NULL, n, &o, &info);
    if (!m) {
        fprintf(stderr, "fit failed: %s\n", bs_error_message());
        return 1;
    }
    printf("impl=blastscan-fit n=%lld d=%lld h=%lld threads=%d epochs=%d accepted=%d seconds=%.1f "
           "s_per_epoch=%.3f perf=%.6g grad_norm=%.3g stop=\"%s\" peak_rss_mib=%.0f\n",
           (long long)n, (long long)d, (long long)h, bs_threads_get(), info.epochs, info.accepted,
           info.seconds, info.seconds / (info.epochs ? info.epochs : 1), info.perf, info.grad_norm,
           bs_sae_stop_name(info.stop), peak_rss_mib());
    bs_sae_free(m);
    free(x);
    return 0;
}

int main(int argc, char **argv) {
    if (argc != 7 || (strcmp(argv[1], "evals") && strcmp(argv[1], "fit"))) {
        fprintf(
            stderr,
            "usage: bench_autoencoder evals N D H THREADS SECONDS | fit N D H THREADS EPOCHS\n");
        return 2;
    }
    int64_t n = atoll(argv[2]), d = atoll(argv[3]), h = atoll(argv[4]);
    bs_threads_set(atoi(argv[5]));
    if (n < 1 || d < 1 || h < 1) return 2;
    return strcmp(argv[1], "evals") == 0 ? bench_evals(n, d, h, atof(argv[6]))
                                         : bench_fit(n, d, h, atoi(argv[6]));
}
