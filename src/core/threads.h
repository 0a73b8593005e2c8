/* threads.h — the thread budget (--threads). Defaults to every core. oneDNN and the
 * project's OpenMP loops both run on the OpenMP runtime, so one setting governs them. */
#ifndef BS_CORE_THREADS_H
#define BS_CORE_THREADS_H

/* n <= 0 means all cores. */
void bs_threads_set(int n);
int bs_threads_get(void);

#endif
