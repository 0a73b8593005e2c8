/* threads.h — the thread budget (--threads). Defaults to every core. oneDNN and the
 * project's OpenMP loops both run on the OpenMP runtime, so one setting governs them. */
#ifndef BS_CORE_THREADS_H
#define BS_CORE_THREADS_H

/* Call first in main(). Unless the user chose an OpenMP wait policy (OMP_WAIT_POLICY or
 * GOMP_SPINCOUNT), re-executes the program once with GOMP_SPINCOUNT=10000: idle OpenMP threads
 * then sleep after ~10 us instead of spinning ~1 ms. On a machine shared with other work a
 * spinning thread steals the core its lagging sibling needs, and oneDNN's statically partitioned
 * parallel regions then run at half speed or worse (measured: Inception-v3, batch 16, 2 threads,
 * one core busy elsewhere: 11.7 -> 20.5 images/s). libgomp reads these variables only at start,
 * hence the re-exec. Returns only if no re-exec happened. */
void bs_threads_init_env(char **argv);
/* n <= 0 means all cores. */
void bs_threads_set(int n);
int bs_threads_get(void);

#endif
