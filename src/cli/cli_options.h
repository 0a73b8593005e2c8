/* cli_options.h — a command declared once: its name, its --help text and its options, one
 * table row each (code, name, argument, help), from which the getopt_long rows, the usage
 * errors and the whole --help are made. Not for what an option does: each command (or shared
 * group: cli_data.h, cli_extract.h, cli_study.h) takes its codes in a switch.
 *
 *     enum { OPT_FORMAT = BS_CLI_OWN_CODES };
 *     static const bs_cli_command list_command = {
 *         .name = "list",
 *         .before = "Usage: blastscan list --data D ...\n\n",
 *         .options = (const bs_cli_option[]){
 *             BS_DATA_OPTIONS,
 *             {OPT_FORMAT, "format", "F", "table (default), csv or json"},
 *             {0},
 *         },
 *     };
 *
 *     bs_cli_parser p;
 *     bs_cli_parser_init(&p, &list_command);
 *     while ((c = bs_cli_next(&p, argc, argv)) >= 0)
 *         switch (c) { case OPT_FORMAT: ... }
 *     if (p.exit >= 0) return p.exit;  (--help printed, or a usage error said)
 *
 * A row's help is its lines without the indent, '\n' between them. */
#ifndef BS_CLI_OPTIONS_H
#define BS_CLI_OPTIONS_H

#include <getopt.h>
#include <stddef.h>
#include <stdio.h>

typedef struct bs_cli_option {
    int code;         /* what bs_cli_next returns for it */
    const char *name; /* long name, without "--" */
    const char *arg;  /* the value's name in --help ("N", "DIR"); NULL: a flag */
    const char *help; /* lines separated by '\n', without the indent */
} bs_cli_option;

/* A shared group's rows, to splice into a command's table: BS_CLI_ROWS({...}, {...}). */
#define BS_CLI_ROWS(...) __VA_ARGS__

/* Codes: each shared group numbers its rows from its own thousand (cli_data.h 1001,
 * cli_extract.h 2001, cli_study.h 3001), a command's own rows from BS_CLI_OWN_CODES. */
#define BS_CLI_OWN_CODES 5001
#define BS_CLI_MAX_OPTIONS 40

/* Where --help's option lines put the help, unless a command says otherwise. */
#define BS_CLI_HELP_COLUMN 19

/* A command (or subcommand) as its --help and its parser see it. */
typedef struct bs_cli_command {
    const char *name;             /* in messages: "train", "autoencoder fit" */
    const char *before;           /* --help: the usage and description, before the options */
    const bs_cli_option *options; /* in --help order; a row {0} ends them */
    const char *after;            /* --help: what follows them (NULL: nothing) */
    int column;                   /* where the option lines' help starts (0: BS_CLI_HELP_COLUMN) */
    void (*help)(FILE *fp);       /* a whole --help of its own, instead of the above (or NULL) */
} bs_cli_command;

/* Print cmd's --help. */
void bs_cli_print_help(FILE *fp, const bs_cli_command *cmd);
/* The option lines of a table ({0} ends it): "  --name ARG", padded to `column` (two spaces
 * when longer), the help's first line, its other lines indented to `column`. */
void bs_cli_print_options(FILE *fp, const bs_cli_option *options, int column);

/* One pass of getopt_long over argv with a command's table, and --help (-h). */
typedef struct bs_cli_parser {
    const bs_cli_command *cmd;
    const char *arg; /* the value of the option just returned; NULL for a flag */
    int exit;        /* once bs_cli_next has returned -1: -1 if the options were all read,
                      * else the exit code (BS_EXIT_OK: --help printed; BS_EXIT_USAGE) */
    struct option rows[BS_CLI_MAX_OPTIONS + 2];
} bs_cli_parser;

/* Make the getopt_long rows of cmd's table (at most BS_CLI_MAX_OPTIONS) and start at argv[1]. */
void bs_cli_parser_init(bs_cli_parser *p, const bs_cli_command *cmd);
/* The next option's code, its value in p->arg; -1 when the options end: read to the end (optind
 * is then the first operand; getopt_long has moved the operands behind the options), or at
 * --help (printed to stdout), or at a usage error (said: an unrecognized or ambiguous option,
 * a missing value, a value given to a flag); p->exit says which. */
int bs_cli_next(bs_cli_parser *p, int argc, char **argv);
/* For a switch's default: a code the table declares and no case takes (a bug, said so);
 * returns BS_EXIT_USAGE. */
int bs_cli_unhandled(const bs_cli_parser *p, int code);

#endif
