/* log.c — the process-wide log sink (see log.h). Lines longer than the buffer are cut. */
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
