/* cmd_list.c — `blastscan list`: every sample the dataset options find, with label, class
 * and group, as a table, CSV or JSON. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_data.h"
#include "cli_options.h"
#include "core/csv.h"
#include "core/json.h"
#include "dataset/dataset.h"

/* list's own option codes, then the command: its --help, its options in --help order
 * (cli_options.h) */
enum { OPT_FORMAT = BS_CLI_OWN_CODES };

static const bs_cli_command list_command = {
    .name = "list",
    .before = "Usage: blastscan list --data DIR|MANIFEST.csv [--data ...] [--positive CLASS,...]\n"
              "                      [--on-error stop|skip] [--format table|csv|json]\n\n"
              "List every sample found: path, label (1 = ALL, 0 = healthy), class and group.\n"
              "Every image is decoded once: unreadable files are reported, and images with\n"
              "identical pixels, or that are near duplicates (the same field photographed again),\n"
              "share a group (so no split ever separates them). A group holding both labels, or\n"
              "more than 8 images joined by their pixels, is warned about on stderr.\n\n",
    .options =
        (const bs_cli_option[]){
            BS_DATA_OPTIONS,
            {OPT_FORMAT, "format", "F",
             "table (default), csv (header path,label,class,group) or json"},
            {0},
        },
};

/* header path,label,class,group; one row a sample */
static void print_csv(const bs_dataset *d) {
    static const char *const header[] = {"path", "label", "class", "group"};
    bs_csv_put_row(stdout, header, 4);
    for (size_t i = 0; i < d->n; i++) {
        const bs_sample *s = &d->samples[i];
        const char *f[4] = {s->path, s->label ? "1" : "0", s->class_name, s->group};
        bs_csv_put_row(stdout, f, 4);
    }
}

static void print_json(const bs_dataset *d) {
    bs_json_writer w;
    bs_json_writer_init(&w, stdout);
    bs_json_begin_array(&w, NULL, BS_JSON_LINES);
    for (size_t i = 0; i < d->n; i++) {
        const bs_sample *s = &d->samples[i];
        bs_json_begin_object(&w, NULL, BS_JSON_INLINE);
        bs_json_put_string(&w, "path", s->path);
        bs_json_put_int(&w, "label", s->label);
        bs_json_put_string(&w, "class", s->class_name);
        bs_json_put_string(&w, "group", s->group);
        bs_json_end(&w);
    }
    bs_json_end(&w);
    bs_json_finish(&w);
}

/* aligned columns, a group shown as "(own)" when a sample is alone in it, then the counts */
static void print_table(const bs_dataset *d) {
    int wpath = 4, wclass = 5;
    for (size_t i = 0; i < d->n; i++) {
        int lp = (int)strlen(d->samples[i].path), lc = (int)strlen(d->samples[i].class_name);
        if (lp > wpath) wpath = lp;
        if (lc > wclass) wclass = lc;
    }
    printf("%-*s  label  %-*s  group\n", wpath, "path", wclass, "class");
    for (size_t i = 0; i < d->n; i++) {
        const bs_sample *s = &d->samples[i];
        printf("%-*s  %5d  %-*s  %s\n", wpath, s->path, s->label, wclass, s->class_name,
               strcmp(s->group, s->path) ? s->group : "(own)");
    }
    printf("\n%zu samples: %zu ALL (label 1), %zu healthy (label 0); %zu groups\n", d->n,
           bs_dataset_count_label(d, 1), bs_dataset_count_label(d, 0), bs_dataset_count_groups(d));
}

int bs_cmd_list(int argc, char **argv, const bs_cli *cli) {
    bs_cli_data data;
    bs_cli_data_init(&data);
    const char *format = "table";
    bs_cli_parser p;
    bs_cli_parser_init(&p, &list_command);
    int c;
    while ((c = bs_cli_next(&p, argc, argv)) >= 0) {
        int rc = bs_cli_data_option(&data, "list", c, p.arg);
        if (rc > 0) goto usage_error;
        if (rc == 0) continue;
        switch (c) {
            case OPT_FORMAT: format = p.arg; break;
            default: bs_cli_unhandled(&p, c); goto usage_error;
        }
    }
    if (p.exit >= 0) {
        bs_cli_data_free(&data);
        return p.exit;
    }
    if (optind != argc) {
        bs_cli_usage("list", "unexpected argument '%s'", argv[optind]);
        goto usage_error;
    }
    if (strcmp(format, "table") && strcmp(format, "csv") && strcmp(format, "json")) {
        bs_cli_usage("list", "--format must be table, csv or json");
        goto usage_error;
    }
    if (!data.nsources) {
        bs_cli_usage("list", "--data is required");
        goto usage_error;
    }
    bs_dataset ds;
    if (bs_cli_data_open(&data, 0, cli->seed, &ds)) {
        bs_cli_data_free(&data);
        return bs_cli_fail("list");
    }
    if (!strcmp(format, "csv"))
        print_csv(&ds);
    else if (!strcmp(format, "json"))
        print_json(&ds);
    else
        print_table(&ds);
    int failed = fflush(stdout) != 0 || ferror(stdout);
    bs_dataset_free(&ds);
    bs_cli_data_free(&data);
    if (failed) {
        fprintf(stderr, "blastscan list: error: cannot write to standard output\n");
        return BS_EXIT_FAIL;
    }
    return BS_EXIT_OK;
usage_error:
    bs_cli_data_free(&data);
    return BS_EXIT_USAGE;
}
