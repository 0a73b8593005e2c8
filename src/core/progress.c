/* progress.c — terminal progress bar (see progress.h). */
#define _POSIX_C_SOURCE 200809L
#include "progress.h"

#include "log.h"

#include <stdio.h>
#include <time.h>
#include <unistd.h>

static int progress_allowed = 1;

void bs_progress_set_enabled(int enabled) { progress_allowed = enabled; }

double bs_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void format_duration(double s, char *out, size_t cap) {
    if (s < 0 || s > 1e7) {
        snprintf(out, cap, "--:--");
        return;
    }
    long t = (long)(s + 0.5);
    if (t >= 3600)
        snprintf(out, cap, "%ld:%02ld:%02ld", t / 3600, t / 60 % 60, t % 60);
    else
        snprintf(out, cap, "%02ld:%02ld", t / 60, t % 60);
}

static void draw(bs_progress *p) {
    double el = bs_now() - p->start;
    double frac = p->total > 0 ? (double)p->done / (double)p->total : 0.0;
    int width = 30, fill = (int)(frac * width);
    char bar[64];
    for (int i = 0; i < width; i++) bar[i] = i < fill ? '#' : '.';
    bar[width] = '\0';
    double rate = el > 0 ? (double)p->done / el : 0;
    char eta[32];
    format_duration(rate > 0 ? (double)(p->total - p->done) / rate : -1, eta, sizeof eta);
    char line[256];
    snprintf(line, sizeof line, "%s [%s] %lld/%lld %.1f/s ETA %s ", p->label, bar,
             (long long)p->done, (long long)p->total, rate, eta);
    bs_log_status(line, 0);
}

void bs_progress_start(bs_progress *p, const char *label, int64_t total) {
    p->label = label;
    p->total = total;
    p->done = 0;
    p->start = bs_now();
    p->last_draw = 0;
    p->enabled = progress_allowed && isatty(STDERR_FILENO);
    if (p->enabled) draw(p);
}

void bs_progress_update(bs_progress *p, int64_t done) {
    p->done = done;
    if (!p->enabled) return;
    double t = bs_now();
    if (t - p->last_draw < 0.1 && done < p->total) return;
    p->last_draw = t;
    draw(p);
}

void bs_progress_finish(bs_progress *p) {
    if (!p->enabled) return;
    draw(p);
    bs_log_status(NULL, 1);
    p->enabled = 0;
}
