/* threads.c — see threads.h. */
#define _POSIX_C_SOURCE 200809L
#include "threads.h"

#include <omp.h>
#include <stdlib.h>
#include <unistd.h>

void bs_threads_init_env(char **argv) {
    if (getenv("OMP_WAIT_POLICY") || getenv("GOMP_SPINCOUNT")) return;
    if (setenv("GOMP_SPINCOUNT", "10000", 1)) return;
    execv("/proc/self/exe", argv); /* on failure: carry on with the default policy */
}

static int thread_budget = 0;

void bs_threads_set(int n) {
    if (n <= 0) n = omp_get_num_procs();
    thread_budget = n;
    omp_set_num_threads(n);
}

int bs_threads_get(void) { return thread_budget > 0 ? thread_budget : omp_get_num_procs(); }
