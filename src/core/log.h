/* log.h — how library code tells the user what it is doing without printing.
 *
 * Library stages never write to stderr (error.h carries failures); informational lines
 * ("autoencoder done in 12 s") and warnings go through bs_log/bs_warn to one process-wide
 * sink that the caller installs: the command-line tool prints them, an embedding program
 * may show, collect or drop them. With no sink installed nothing is printed.
 * It is also the one place in core that writes to the terminal itself: a progress bar's line
 * (progress.h draws it here) and a dying process's last message (dist.h's abort), both of
 * which must reach stderr whether or not a sink is installed.
 * Not for: errors (error.h), or deciding when a progress bar is shown (progress.h). */
#ifndef BS_CORE_LOG_H
#define BS_CORE_LOG_H

#include "core/error.h" /* BS_PRINTF */

typedef enum { BS_LOG_INFO = 0, BS_LOG_WARNING = 1 } bs_log_level;

/* Receives one complete line (no trailing newline). Called from the thread that logs;
 * the CLI's sink is serialised by the stdio lock. */
typedef void (*bs_log_sink)(bs_log_level level, const char *line, void *user);

/* Install (or, with NULL, remove) the sink. Not thread-safe: call before starting work. */
void bs_log_set_sink(bs_log_sink sink, void *user);
void bs_log(const char *fmt, ...) BS_PRINTF(1, 2);
void bs_warn(const char *fmt, ...) BS_PRINTF(1, 2);

/* Redraw the terminal's status line with text (a carriage return first, no newline);
 * done: end the line instead. Only progress.h calls it, and only on a terminal. */
void bs_log_status(const char *text, int done);

/* A process's last words on stderr ("blastscan: ..."), flushed, sink or not. */
void bs_log_fatal(const char *fmt, ...) BS_PRINTF(1, 2);
#endif
