/* error.c — thread-local error message buffer (see error.h). */
#include "error.h"

#include <stdio.h>
#include <string.h>

#define BS_ERROR_MAX 2048

static _Thread_local char error_text[BS_ERROR_MAX];

int bs_error(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(error_text, sizeof error_text, fmt, ap);
    va_end(ap);
    return -1;
}

int bs_error_prefix(const char *fmt, ...) {
    char prefix[BS_ERROR_MAX];
    char old[BS_ERROR_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    memcpy(old, error_text, sizeof old);
    size_t n = strlen(prefix);
    memcpy(error_text, prefix, n + 1);
    /* Truncate silently: a long message is still better than none. */
    strncat(error_text, old, sizeof error_text - n - 1);
    return -1;
}

const char *bs_error_message(void) { return error_text; }

void bs_error_clear(void) { error_text[0] = '\0'; }
