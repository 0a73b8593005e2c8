/* main.c — `blastscan`: global options, dispatch to a command, exit codes.
 * Global options (--threads, --seed, --version, --help) are accepted before or after the
 * command name and removed from argv before the command parses its own options. */
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "core/dist.h"
#include "core/error.h"
#include "core/log.h"
#include "core/threads.h"
#include "image/image.h"

#ifndef BLASTSCAN_VERSION
#define BLASTSCAN_VERSION "unknown"
#endif
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

const char *bs_cli_assets(void) {
    const char *a = getenv("BLASTSCAN_ASSETS");
    return (a && *a) ? a : BLASTSCAN_DEFAULT_ASSETS;
}

static void print_help(FILE *fp) {
    fprintf(
        fp,
        "blastscan %s — acute lymphoblastic leukemia diagnosis from blood-smear images\n"
        "(deep CNN features, sparse autoencoder, cubic SVM; Atteia 2023, reimplemented in C)\n\n"
        "Usage: blastscan [--threads N] [--seed S] <command> [options]\n\nCommands:\n",
        BLASTSCAN_VERSION);
    for (size_t i = 0; i < NCOMMANDS; i++)
        fprintf(fp, "  %-12s %s\n", commands[i].name, commands[i].summary);
    fprintf(fp,
            "\nGlobal options:\n"
            "  --threads N  threads to use (default: all cores; under mpirun, per rank: the\n"
            "               cores of the machine shared by its ranks)\n"
            "  --seed S     seed for every random choice (default: 1)\n"
            "  --version    print the version\n"
            "  --help       this text; 'blastscan <command> --help' for a command\n\n"
            "Assets (models, datasets) are read from $BLASTSCAN_ASSETS, else %s.\n"
            "Exit codes: 0 success, 1 bad input or failed work, 2 bad usage.\n",
            BLASTSCAN_DEFAULT_ASSETS);
}

/* Take a global option out of argv (forms "--opt V" and "--opt=V"); returns its value or NULL. */
static const char *take_global(int *argc, char **argv, const char *opt, int *error) {
    size_t n = strlen(opt);
    for (int i = 1; i < *argc; i++) {
        if (strcmp(argv[i], "--") == 0) break;
        const char *val = NULL;
        int used = 0;
        if (strcmp(argv[i], opt) == 0) {
            if (i + 1 >= *argc) {
                *error = 1;
                return NULL;
            }
            val = argv[i + 1];
            used = 2;
        } else if (strncmp(argv[i], opt, n) == 0 && argv[i][n] == '=') {
            val = argv[i] + n + 1;
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
    int err = 0;
    const char *threads = take_global(&argc, argv, "--threads", &err);
    const char *seed = take_global(&argc, argv, "--seed", &err);
    if (err) return bs_cli_usage(NULL, "--threads and --seed need a value");
    long v;
    if (threads) {
        if (bs_cli_parse_int(NULL, "--threads", threads, 0, 4096, &v)) return BS_EXIT_USAGE;
        cli.threads = (int)v;
    }
    if (seed) {
        char *end;
        unsigned long long s = strtoull(seed, &end, 10);
        if (!*seed || *end || seed[0] == '-')
            return bs_cli_usage(NULL, "--seed expects a non-negative integer, not '%s'", seed);
        cli.seed = (uint64_t)s;
    }
    if (argc < 2) {
        print_help(stderr);
        return BS_EXIT_USAGE;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        print_help(stdout);
        return BS_EXIT_OK;
    }
    if (strcmp(argv[1], "--version") == 0) {
        printf("blastscan %s\n", BLASTSCAN_VERSION);
        return BS_EXIT_OK;
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
