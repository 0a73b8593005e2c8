/* cli_options.c — the getopt_long rows, usage errors and --help of a command's option table
 * (cli_options.h). */
#include "cli_options.h"

#include <assert.h>
#include <string.h>

#include "cli.h"

enum { HELP_CODE = 'h' }; /* --help and -h: no table has it (no command lists it) */

void bs_cli_print_options(FILE *fp, const bs_cli_option *options, int column) {
    for (const bs_cli_option *o = options; o->name; o++) {
        int w = fprintf(fp, "  --%s%s%s", o->name, o->arg ? " " : "", o->arg ? o->arg : "");
        fprintf(fp, "%*s", w < column ? column - w : 2, "");
        const char *line = o->help, *end;
        while ((end = strchr(line, '\n')) != NULL) {
            fprintf(fp, "%.*s\n%*s", (int)(end - line), line, column, "");
            line = end + 1;
        }
        fprintf(fp, "%s\n", line);
    }
}

void bs_cli_print_help(FILE *fp, const bs_cli_command *cmd) {
    if (cmd->help) {
        cmd->help(fp);
        return;
    }
    fputs(cmd->before, fp);
    bs_cli_print_options(fp, cmd->options, cmd->column ? cmd->column : BS_CLI_HELP_COLUMN);
    if (cmd->after) fputs(cmd->after, fp);
}

void bs_cli_parser_init(bs_cli_parser *p, const bs_cli_command *cmd) {
    size_t n = 0;
    while (cmd->options[n].name) n++;
    assert(n <= BS_CLI_MAX_OPTIONS);
    if (n > BS_CLI_MAX_OPTIONS) n = BS_CLI_MAX_OPTIONS; /* the test of --help finds the rest */
    memset(p, 0, sizeof *p);
    p->cmd = cmd;
    p->exit = -1;
    for (size_t i = 0; i < n; i++) {
        const bs_cli_option *o = &cmd->options[i];
        assert(o->code > 255); /* apart from HELP_CODE and getopt_long's '?' and ':' */
        p->rows[i] =
            (struct option){o->name, o->arg ? required_argument : no_argument, NULL, o->code};
    }
    p->rows[n] = (struct option){"help", no_argument, NULL, HELP_CODE};
    optind = 1;
    opterr = 0; /* the messages are ours: one line naming the command, then where help is */
}

static const char *name_of(const bs_cli_parser *p, int code) {
    for (size_t i = 0; p->rows[i].name; i++)
        if (p->rows[i].val == code) return p->rows[i].name;
    return NULL;
}

/* An option getopt_long refused without a code: unknown, or a prefix of several. */
static void refuse(const bs_cli_parser *p, const char *given) {
    const char *prefix = given + 2;
    size_t len = strcspn(prefix, "=");
    char list[2048] = "";
    size_t matches = 0, used = 0;
    for (size_t i = 0; p->rows[i].name; i++) {
        if (strncmp(p->rows[i].name, prefix, len)) continue;
        matches++;
        int w = snprintf(list + used, sizeof list - used, " '--%s'", p->rows[i].name);
        if (w > 0 && (size_t)w < sizeof list - used) used += (size_t)w;
    }
    if (matches > 1)
        bs_cli_usage(p->cmd->name, "option '%s' is ambiguous; possibilities:%s", given, list);
    else
        bs_cli_usage(p->cmd->name, "unrecognized option '%s'", given);
}

/* getopt_long's refusal ('?' or ':') said as a usage error. */
static void say_refusal(const bs_cli_parser *p, int c, char **argv) {
    const char *cmd = p->cmd->name;
    /* optopt: the row's code for a missing value or for a flag given one, 0 for a long option
     * matched by no row or by several (argv[optind - 1]), else an unknown short option */
    const char *name = optopt ? name_of(p, optopt) : NULL;
    if (c == ':')
        bs_cli_usage(cmd, "option '--%s' requires an argument", name ? name : "?");
    else if (!optopt)
        refuse(p, argv[optind - 1]);
    else if (name)
        bs_cli_usage(cmd, "option '--%s' doesn't allow an argument", name);
    else
        bs_cli_usage(cmd, "invalid option -- '%c'", optopt);
}

int bs_cli_next(bs_cli_parser *p, int argc, char **argv) {
    int c = getopt_long(argc, argv, ":h", p->rows, NULL);
    p->arg = optarg;
    if (c == HELP_CODE) {
        bs_cli_print_help(stdout, p->cmd);
        p->exit = BS_EXIT_OK;
        return -1;
    }
    if (c == '?' || c == ':') {
        say_refusal(p, c, argv);
        p->exit = BS_EXIT_USAGE;
        return -1;
    }
    return c;
}

int bs_cli_unhandled(const bs_cli_parser *p, int code) {
    const char *name = name_of(p, code);
    return bs_cli_usage(p->cmd->name, "--%s is declared but not handled (a bug)",
                        name ? name : "?");
}
