/* threads.c — see threads.h. */
#include "threads.h"

#include <omp.h>

static int thread_budget = 0;

void bs_threads_set(int n) {
    if (n <= 0) n = omp_get_num_procs();
    thread_budget = n;
    omp_set_num_threads(n);
}

int bs_threads_get(void) { return thread_budget > 0 ? thread_budget : omp_get_num_procs(); }
