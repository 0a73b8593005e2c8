/* log.c — the process-wide log sink, the status line and last words (see log.h). Lines longer
 * than the buffer are cut. */
#include "core/log.h"

#include <stdarg.h>
#include <stdio.h>

static bs_log_sink log_sink;
static void *log_user;

void bs_log_set_sink(bs_log_sink sink, void *user) {
    log_sink = sink;
    log_user = user;
}

static void log_emit(bs_log_level level, const char *fmt, va_list ap) {
    if (!log_sink) return;
    char line[1024];
    vsnprintf(line, sizeof line, fmt, ap);
    log_sink(level, line, log_user);
}

void bs_log(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    log_emit(BS_LOG_INFO, fmt, ap);
    va_end(ap);
}

void bs_warn(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    log_emit(BS_LOG_WARNING, fmt, ap);
    va_end(ap);
}

void bs_log_status(const char *text, int done) {
    if (done)
        fputc('\n', stderr);
    else
        fprintf(stderr, "\r%s", text);
    fflush(stderr);
}

void bs_log_fatal(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fputs("blastscan: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    fflush(stderr);
    va_end(ap);
}
