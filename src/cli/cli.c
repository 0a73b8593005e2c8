/* cli.c — what every command shares from cli.h: usage and failure messages (with the
 * program and command named) and number parsing of option values. A leaf of src/cli: the
 * option tables (cli_options.c) and every command call into it, it calls none of them. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"
#include "core/error.h"

/* "blastscan CMD" for a command, "blastscan" for the global options (cmd NULL or ""). */
static void print_prog(const char *cmd) {
    fprintf(stderr, "blastscan%s%s", cmd && *cmd ? " " : "", cmd ? cmd : "");
}

int bs_cli_usage(const char *cmd, const char *fmt, ...) {
    va_list ap;
    print_prog(cmd);
    fputs(": ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputs("\nTry '", stderr);
    print_prog(cmd);
    fputs(" --help'.\n", stderr);
    return BS_EXIT_USAGE;
}

int bs_cli_fail(const char *cmd) {
    const char *msg = bs_error_message();
    print_prog(cmd);
    fprintf(stderr, ": error: %s\n", *msg ? msg : "failed");
    return BS_EXIT_FAIL;
}

int bs_cli_parse_int(const char *cmd, const char *opt, const char *text, long min, long max,
                     long *out) {
    char *end;
    long v = strtol(text, &end, 10);
    if (!*text || *end || v < min || v > max) {
        bs_cli_usage(cmd, "%s expects an integer in [%ld, %ld], not '%s'", opt, min, max, text);
        return -1;
    }
    *out = v;
    return 0;
}

int bs_cli_parse_double(const char *cmd, const char *opt, const char *text, double *out) {
    char *end;
    double v = strtod(text, &end);
    if (!*text || *end || v != v) {
        bs_cli_usage(cmd, "%s expects a number, not '%s'", opt, text);
        return -1;
    }
    *out = v;
    return 0;
}
