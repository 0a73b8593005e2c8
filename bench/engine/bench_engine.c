/* bench_engine.c — blastscan engine throughput: bench_engine MODEL BATCH THREADS SECONDS.
 * Loads the model (all graph outputs, like ORT and PyTorch in bench/engine/run), builds the plan
 * with one warm-up run, then runs batches of synthetic 0..255 images for at least SECONDS (and
 * 3 runs). Prints one JSON line: images_per_s, peak_rss_mb (the whole process, load included),
 * runs, load_s (file parse + first run). */
#define _POSIX_C_SOURCE 200809L /* clock_gettime under -std=c11 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <time.h>

#include "core/error.h"
#include "core/threads.h"
#include "nn/engine.h"

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

int main(int argc, char **argv) {
    bs_threads_init_env(argv);
    if (argc != 5) {
        fprintf(stderr, "usage: bench_engine MODEL BATCH THREADS SECONDS\n");
        return 2;
    }
    int batch = atoi(argv[2]), threads = atoi(argv[3]);
    double seconds = atof(argv[4]);
    bs_threads_set(threads);
    double t0 = now();
    bs_engine *e = bs_engine_load(argv[1], NULL, 0);
    if (!e) {
        fprintf(stderr, "bench_engine: %s\n", bs_error_message());
        return 1;
    }
    int64_t s = bs_engine_input_size(e);
    if (s <= 0) {
        fprintf(stderr, "bench_engine: unknown input size\n");
        return 1;
    }
    size_t n = (size_t)batch * 3 * (size_t)s * (size_t)s;
    float *x = malloc(n * sizeof(float));
    if (!x) return 1;
    uint32_t r = 12345;
    for (size_t i = 0; i < n; i++) {
        r = r * 1103515245u + 12345u;
        x[i] = (float)((r >> 16) % 256);
    }
    int64_t shape[4] = {batch, 3, s, s};
    if (bs_engine_run(e, x, 4, shape)) {
        fprintf(stderr, "bench_engine: %s\n", bs_error_message());
        return 1;
    }
    double load = now() - t0;
    int runs = 0;
    double start = now(), el = 0;
    while (runs < 3 || el < seconds) {
        if (bs_engine_run(e, x, 4, shape)) {
            fprintf(stderr, "bench_engine: %s\n", bs_error_message());
            return 1;
        }
        runs++;
        el = now() - start;
    }
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("{\"images_per_s\":%.4f,\"peak_rss_mb\":%.1f,\"runs\":%d,\"load_s\":%.3f}\n",
           runs * batch / el, (double)ru.ru_maxrss / 1024.0, runs, load);
    bs_engine_free(e);
    free(x);
    return 0;
}
