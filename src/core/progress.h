/* progress.h — a progress bar with rate and ETA on stderr, only when stderr is a
 * terminal (quiet in pipes, logs and CI). Not thread-safe: update from one thread. */
#ifndef BS_CORE_PROGRESS_H
#define BS_CORE_PROGRESS_H

#include <stdint.h>

typedef struct bs_progress {
    const char *label;
    int64_t total, done;
    double start, last_draw;
    int enabled;
} bs_progress;

void bs_progress_start(bs_progress *p, const char *label, int64_t total);
void bs_progress_update(bs_progress *p, int64_t done);
void bs_progress_finish(bs_progress *p);
/* Force the bar off (tests) or on (never shown when stderr is not a TTY anyway). */
void bs_progress_set_enabled(int enabled);
/* Monotonic seconds. */
double bs_now(void);

#endif
