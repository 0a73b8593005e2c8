/* main.c — `blastscan`: global options, dispatch to a command, exit codes.
 * Global options (--threads, --seed, --version, --help) are accepted before or after the
 * command name and removed from argv before the command parses its own options. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_options.h"
#include "core/dist.h"
#include "core/error.h"
#include "core/log.h"
#include "core/threads.h"
#include "image/image.h"

#ifndef BLASTSCAN_DEFAULT_ASSETS
#define BLASTSCAN_DEFAULT_ASSETS "../shared"
#endif

typedef struct {
    const char *name, *summary;
    int (*run)(int, char **, const bs_cli *);
} command;

#define BS_TABLE_ENTRY(n, s) {#n, s, bs_cmd_##n},
static const command commands[] = {BS_COMMANDS(BS_TABLE_ENTRY)};
#undef BS_TABLE_ENTRY
#define NCOMMANDS (sizeof commands / sizeof commands[0])

const char *bs_cli_assets(void) {
    const char *a = getenv("BLASTSCAN_ASSETS");
    return (a && *a) ? a : BLASTSCAN_DEFAULT_ASSETS;
}

/* The global options, in --help order (cli_options.h). The ones with a value are taken out of
 * argv wherever they stand; --version and --help only as the first word. */
enum { OPT_THREADS = BS_CLI_OWN_CODES, OPT_SEED, OPT_VERSION, OPT_HELP };
static const bs_cli_option global_options[] = {
    {OPT_THREADS, "threads", "N",
     "threads to use (default: all cores; under mpirun, per rank: the\n"
     "cores of the machine shared by its ranks)"},
    {OPT_SEED, "seed", "S", "seed for every random choice (default: 1)"},
    {OPT_VERSION, "version", NULL, "print the version"},
    {OPT_HELP, "help", NULL, "this text; 'blastscan <command> --help' for a command"},
    {0},
};

static void print_help(FILE *fp) {
    fprintf(
        fp,
        "blastscan %s — acute lymphoblastic leukemia diagnosis from blood-smear images\n"
        "(deep CNN features, sparse autoencoder, cubic SVM; Atteia 2023, reimplemented in C)\n\n"
        "Usage: blastscan [--threads N] [--seed S] <command> [options]\n\nCommands:\n",
        BLASTSCAN_VERSION);
    for (size_t i = 0; i < NCOMMANDS; i++)
        fprintf(fp, "  %-12s %s\n", commands[i].name, commands[i].summary);
    fputs("\nGlobal options:\n", fp);
    bs_cli_print_options(fp, global_options, 15);
    fprintf(fp,
            "\nAssets (models, datasets) are read from $BLASTSCAN_ASSETS, else %s.\n"
            "Exit codes: 0 success, 1 bad input or failed work, 2 bad usage.\n",
            BLASTSCAN_DEFAULT_ASSETS);
}

/* Take global option --NAME out of argv (forms "--NAME V" and "--NAME=V"); returns its value
 * or NULL. */
static const char *take_global(int *argc, char **argv, const char *name, int *error) {
    size_t n = strlen(name);
    for (int i = 1; i < *argc; i++) {
        if (strcmp(argv[i], "--") == 0) break;
        if (strncmp(argv[i], "--", 2) || strncmp(argv[i] + 2, name, n)) continue;
        const char *rest = argv[i] + 2 + n, *val = NULL;
        int used = 0;
        if (*rest == '\0') {
            if (i + 1 >= *argc) {
                *error = 1;
                return NULL;
            }
            val = argv[i + 1];
            used = 2;
        } else if (*rest == '=') {
            val = rest + 1;
            used = 1;
        }
        if (used) {
            memmove(&argv[i], &argv[i + used], sizeof(char *) * (size_t)(*argc - i - used + 1));
            *argc -= used;
            return val;
        }
    }
    return NULL;
}

/* A global option's value into cli: 0, or BS_EXIT_USAGE (printed) when it is not one. */
static int global_value(bs_cli *cli, int code, const char *val) {
    long v;
    switch (code) {
        case OPT_THREADS:
            if (bs_cli_parse_int(NULL, "--threads", val, 0, 4096, &v)) return BS_EXIT_USAGE;
            cli->threads = (int)v;
            return 0;
        case OPT_SEED: {
            char *end;
            unsigned long long s = strtoull(val, &end, 10);
            if (!*val || *end || val[0] == '-')
                return bs_cli_usage(NULL, "--seed expects a non-negative integer, not '%s'", val);
            cli->seed = (uint64_t)s;
            return 0;
        }
        default: return bs_cli_usage(NULL, "global option %d is declared but not handled", code);
    }
}

/* Take every global option that has a value out of argv, into cli: 0 or BS_EXIT_USAGE. */
static int take_globals(int *argc, char **argv, bs_cli *cli) {
    for (const bs_cli_option *o = global_options; o->name; o++) {
        int err = 0;
        const char *val = o->arg ? take_global(argc, argv, o->name, &err) : NULL;
        if (err) return bs_cli_usage(NULL, "option '--%s' requires an argument", o->name);
        if (val && global_value(cli, o->code, val)) return BS_EXIT_USAGE;
    }
    return 0;
}

/* The global flag a word is (--version; --help, also as -h or help), or 0. */
static int global_flag(const char *word) {
    if (!strcmp(word, "-h") || !strcmp(word, "help")) return OPT_HELP;
    for (const bs_cli_option *o = global_options; o->name; o++)
        if (!o->arg && !strncmp(word, "--", 2) && !strcmp(word + 2, o->name)) return o->code;
    return 0;
}

static int blastscan_main(int argc, char **argv);

/* Commands that share their work over MPI ranks; under a job the others run on rank 0 only. */
static int distributed_command(const char *name) {
    return !strcmp(name, "extract") || !strcmp(name, "autoencoder") ||
           !strcmp(name, "experiment") || !strcmp(name, "reproduce");
}

/* One command on this rank. Under a job of several ranks, a rank that fails ends the whole
 * job (MPI_Abort) so its peers do not wait forever; rank 0 writes every output atomically,
 * so nothing half-written is left in place. */
static int run_command(const command *cmd, int argc, char **argv, const bs_cli *cli) {
    int rc = cmd->run(argc, argv, cli);
    if (rc != BS_EXIT_OK && bs_dist_size() > 1) {
        char msg[128];
        snprintf(msg, sizeof msg, "'%s' failed on this rank (exit %d); ending the job", cmd->name,
                 rc);
        bs_dist_abort(rc, msg);
    }
    return rc;
}

/* The library's log lines (core/log.h) go to stderr, warnings marked as such. */
static void log_to_stderr(bs_log_level level, const char *line, void *user) {
    (void)user;
    fprintf(stderr, "%s%s\n", level == BS_LOG_WARNING ? "blastscan: warning: " : "", line);
}

int main(int argc, char **argv) {
    /* The OpenMP re-exec (if any) comes before MPI_Init: the process image is replaced, its
     * launcher environment kept. */
    bs_threads_init_env(argv);
    bs_log_set_sink(log_to_stderr, NULL);
    if (bs_dist_init(&argc, &argv)) {
        fprintf(stderr, "blastscan: error: %s\n", bs_error_message());
        return BS_EXIT_FAIL;
    }
    int rc = blastscan_main(argc, argv);
    bs_dist_finalize();
    return rc;
}

static int blastscan_main(int argc, char **argv) {
    bs_cli cli = {.threads = 0, .seed = 1, .prog = "blastscan"};
    if (take_globals(&argc, argv, &cli)) return BS_EXIT_USAGE;
    if (argc < 2) {
        print_help(stderr);
        return BS_EXIT_USAGE;
    }
    switch (global_flag(argv[1])) {
        case OPT_HELP: print_help(stdout); return BS_EXIT_OK;
        case OPT_VERSION: printf("blastscan %s\n", BLASTSCAN_VERSION); return BS_EXIT_OK;
        default: break;
    }
    for (size_t i = 0; i < NCOMMANDS; i++) {
        if (strcmp(argv[1], commands[i].name) != 0) continue;
        if (bs_dist_size() > 1 && !distributed_command(commands[i].name)) {
            if (bs_dist_rank() != 0) return BS_EXIT_OK;
            bs_dist_solo(); /* rank 0 alone: every stage it calls behaves as in one process */
        }
        /* Several ranks on one machine share its cores: by default each takes its share. */
        if (cli.threads == 0 && bs_dist_local_size() > 1) {
            int share = bs_threads_get() / bs_dist_local_size();
            cli.threads = share > 0 ? share : 1;
        }
        bs_threads_set(cli.threads);
        if (bs_image_init(argv[0], cli.threads)) return bs_cli_fail(commands[i].name);
        int rc = run_command(&commands[i], argc - 1, argv + 1, &cli);
        bs_image_shutdown();
        return rc;
    }
    fprintf(stderr, "blastscan: unknown command '%s'\nTry 'blastscan --help'.\n", argv[1]);
    return BS_EXIT_USAGE;
}
