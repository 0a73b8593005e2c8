/* error.h — the one error mechanism every stage uses.
 *
 * Functions return 0 on success and -1 on failure (or NULL for constructors) and
 * leave a message here that names the file and the reason, libvips-style. The
 * buffer is thread-local so worker threads never overwrite each other's message.
 * Not for: printing or exiting; the command-line layer decides that. */
#ifndef BS_CORE_ERROR_H
#define BS_CORE_ERROR_H

#include <stdarg.h>

#if defined(__GNUC__)
#define BS_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define BS_PRINTF(a, b)
#endif

/* Replace the current message; always returns -1 so callers can `return bs_error(...)`. */
int bs_error(const char *fmt, ...) BS_PRINTF(1, 2);
/* Put context in front of the current message ("reading X: " + old); returns -1. */
int bs_error_prefix(const char *fmt, ...) BS_PRINTF(1, 2);
/* The last message, "" when none. */
const char *bs_error_message(void);
void bs_error_clear(void);

#endif
