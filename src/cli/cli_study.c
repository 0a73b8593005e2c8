/* cli_study.c — shared study options (see cli_study.h). */
#include "cli_study.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/dist.h"

void bs_cli_study_init(bs_cli_study *s, const bs_cli *cli) {
    memset(s, 0, sizeof *s);
    bs_study_options_init(&s->opt);
    s->opt.seed = cli->seed;
    s->latent[0] = 0.25;
    s->latent[1] = 0.5;
    s->latent[2] = 0.75;
    s->opt.latent = s->latent;
    s->opt.nlatent = 3;
    s->opt.progress = isatty(2) && bs_dist_rank() == 0;
    s->opt.verbose = bs_dist_rank() == 0;
}

static int parse_latent(bs_cli_study *s, const char *cmd, const char *arg) {
    if (!strcmp(arg, "none")) {
        s->opt.nlatent = 0;
        return 0;
    }
    size_t n = 0;
    const char *p = arg;
    while (*p) {
        char *end;
        double v = strtod(p, &end);
        if (end == p || !(v > 0 && v <= 4) || n == sizeof s->latent / sizeof s->latent[0]) {
            bs_cli_usage(cmd, "--latent expects fractions like 0.25,0.5,0.75 (or none)");
            return 1;
        }
        s->latent[n++] = v;
        p = end;
        if (*p == ',')
            p++;
        else if (*p) {
            bs_cli_usage(cmd, "--latent expects fractions like 0.25,0.5,0.75 (or none)");
            return 1;
        }
    }
    s->opt.nlatent = n;
    return 0;
}

int bs_cli_study_option(bs_cli_study *s, const char *cmd, int c, const char *arg) {
    long v;
    switch (c) {
        case BS_OPT_PROTOCOL:
            s->both = !strcmp(arg, "both");
            if (!s->both &&
                (bs_protocol_parse(arg, &s->opt.protocol) ||
                 (s->opt.protocol == BS_PROTOCOL_SOURCE && !strcmp(cmd, "reproduce")))) {
                bs_cli_usage(cmd, "--protocol must be paper, grouped%s",
                             strcmp(cmd, "reproduce") ? " or source" : " or both");
                return 1;
            }
            return 0;
        case BS_OPT_FOLDS:
            if (bs_cli_parse_int(cmd, "--folds", arg, 2, 1000, &v)) return 1;
            s->opt.folds = (int)v;
            return 0;
        case BS_OPT_LATENT: return parse_latent(s, cmd, arg);
        case BS_OPT_EPOCHS:
            if (bs_cli_parse_int(cmd, "--epochs", arg, 0, 1000000, &v)) return 1;
            s->opt.epochs = (int)v;
            return 0;
        case BS_OPT_KERNEL_SCALE:
            if (!strcmp(arg, "auto")) {
                s->opt.kernel_scale = 0;
                return 0;
            }
            if (bs_cli_parse_double(cmd, "--kernel-scale", arg, &s->opt.kernel_scale)) return 1;
            if (!(s->opt.kernel_scale > 0)) {
                bs_cli_usage(cmd, "--kernel-scale must be auto or a positive number");
                return 1;
            }
            return 0;
        case BS_OPT_AE_DATA_PARALLEL: s->opt.ae_data_parallel = 1; return 0;
        case BS_OPT_TASK:
            if (bs_task_parse(arg, &s->opt.task)) {
                bs_cli_usage(cmd, "--task must be binary or subtype");
                return 1;
            }
            return 0;
        default: return -1;
    }
}
