/* cmd_autoencoder.c — `blastscan autoencoder fit|encode`: train the sparse autoencoder of
 * SPEC §4 on a feature matrix and write the AE file; encode features with a saved model. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "autoencoder/autoencoder.h"
#include "cli.h"
#include "cli_options.h"
#include "core/csv.h"
#include "core/dist.h"
#include "core/error.h"
#include "core/io.h"
#include "core/npy.h"
#include "fit/fit.h"

/* fit and encode, with one --help for both (usage) */
static void usage(FILE *fp);
enum {
    OPT_FEATURES = BS_CLI_OWN_CODES,
    OPT_HIDDEN,
    OPT_EPOCHS,
    OPT_L2,
    OPT_SPARSITY,
    OPT_PROPORTION,
    OPT_MIN_GRAD,
    OPT_TRACE,
    OPT_PRECISION,
    OPT_OUT
};
static const bs_cli_command fit_command = {
    .name = "autoencoder fit",
    .help = usage,
    .options =
        (const bs_cli_option[]){
            {OPT_FEATURES, "features", "X.npy", "training samples (N × D)"},
            {OPT_HIDDEN, "hidden", "H",
             "hidden units: an integer, or a fraction of D such as 0.25"},
            {OPT_EPOCHS, "epochs", "E", "MaxEpochs (default 750)"},
            {OPT_L2, "l2", "L", "L2WeightRegularization (default 0.001)"},
            {OPT_SPARSITY, "sparsity", "B", "SparsityRegularization (default 1)"},
            {OPT_PROPORTION, "proportion", "P", "SparsityProportion, in (0, 1) (default 0.05)"},
            {OPT_MIN_GRAD, "min-grad", "G", "stop when the gradient norm is <= G (default 1e-6)"},
            {OPT_TRACE, "trace", "T.csv",
             "per-epoch record: epoch,perf,gradient,lambda,accepted\n"
             "(gradient = |grad perf|, MATLAB's tr.gradient; docs/autoencoder.md)"},
            {OPT_PRECISION, "precision", "P",
             "float32 (default: dnnl_sgemm) or float64 (plain loops, the\n"
             "reference arithmetic: tests and small problems only)"},
            {OPT_OUT, "out", "AE.sae", "where to write the model"},
            {0},
        },
};

enum { OPT_ENCODE_MODEL = BS_CLI_OWN_CODES, OPT_ENCODE_FEATURES, OPT_ENCODE_OUT };
static const bs_cli_command encode_command = {
    .name = "autoencoder encode",
    .help = usage,
    .options =
        (const bs_cli_option[]){
            {OPT_ENCODE_MODEL, "model", "AE.sae", "a model written by fit"},
            {OPT_ENCODE_FEATURES, "features", "X.npy",
             "samples to encode (N × D, D as in training)"},
            {OPT_ENCODE_OUT, "out", "Z.npy", "latent features (N × H float32)"},
            {0},
        },
};

#define HELP_COLUMN 23

static void usage(FILE *fp) {
    fputs("Usage: blastscan autoencoder fit --features X.npy --hidden H --out AE.sae [options]\n"
          "       blastscan autoencoder encode --model AE.sae --features X.npy --out Z.npy\n\n"
          "fit trains a sparse autoencoder exactly as MATLAB trainAutoencoder (logsig encoder "
          "and\n"
          "decoder, mapminmax scaling, msesparse loss, scaled conjugate gradient, full batch) on\n"
          "X.npy, a float32 or float64 matrix with one sample per row. encode writes the hidden\n"
          "layer's activations (N × H float32) of the samples in X.npy.\n\n"
          "fit options:\n",
          fp);
    bs_cli_print_options(fp, fit_command.options, HELP_COLUMN);
    fputs("  The initial weights come from the global --seed S (default 1).\n"
          "  Under mpirun -n P the P ranks train data-parallel, each on a slice of the rows;\n"
          "  rank 0 writes the model (docs/cluster.md).\n\n"
          "encode options:\n",
          fp);
    bs_cli_print_options(fp, encode_command.options, HELP_COLUMN);
    fputs("\nExit codes: 0 success, 1 bad input or failure, 2 bad usage.\n", fp);
}

/* Load a 2-D feature matrix. */
static int load_matrix(const char *path, bs_array *a) {
    if (bs_npy_read(path, a)) return -1;
    if (a->ndim != 2 || a->shape[0] < 1 || a->shape[1] < 1) {
        int nd = a->ndim;
        bs_array_free(a);
        return bs_error("%s: expected a 2-D matrix (samples × features), got %d dimension(s)", path,
                        nd);
    }
    return 0;
}

typedef struct {
    FILE *fp;
} trace_sink;

static int write_trace(void *user, const bs_sae_epoch *e) {
    trace_sink *t = user;
    fprintf(t->fp, "%d,%.17g,%.17g,%.17g,%d\n", e->epoch, e->perf, e->grad_norm, e->lambda,
            e->accepted);
    return 0;
}

/* What `autoencoder fit` was asked: the files, and the training options as parsed. */
typedef struct {
    const char *features, *hidden, *trace, *out;
    bs_sae_options o;
    double hfrac;    /* --hidden as a fraction of D, when is_fraction */
    int is_fraction; /* --hidden held a '.': resolved once D is known */
} fit_args;

/* A real-valued option that must be >= 0 and finite (--l2, --sparsity). */
static int parse_nonnegative(const char *opt, const char *arg, double *out) {
    if (bs_cli_parse_double("autoencoder fit", opt, arg, out)) return BS_EXIT_USAGE;
    if (!(*out >= 0) || !isfinite(*out))
        return bs_cli_usage("autoencoder fit", "%s must be >= 0", opt);
    return 0;
}

/* One option of fit into a: 0 when taken, else the exit code (a usage error). */
static int fit_option(fit_args *a, const bs_cli_parser *p, int c) {
    const char *arg = p->arg;
    bs_sae_options *o = &a->o;
    long v;
    switch (c) {
        case OPT_FEATURES: a->features = arg; return 0;
        case OPT_HIDDEN: a->hidden = arg; return 0;
        case OPT_EPOCHS:
            if (bs_cli_parse_int("autoencoder fit", "--epochs", arg, 0, 1000000000, &v))
                return BS_EXIT_USAGE;
            o->max_epochs = (int)v;
            return 0;
        case OPT_L2: return parse_nonnegative("--l2", arg, &o->l2);
        case OPT_SPARSITY: return parse_nonnegative("--sparsity", arg, &o->sparsity);
        case OPT_PROPORTION:
            if (bs_cli_parse_double("autoencoder fit", "--proportion", arg, &o->proportion))
                return BS_EXIT_USAGE;
            if (!(o->proportion > 0 && o->proportion < 1))
                return bs_cli_usage("autoencoder fit", "--proportion must be in (0, 1)");
            return 0;
        case OPT_MIN_GRAD:
            if (bs_cli_parse_double("autoencoder fit", "--min-grad", arg, &o->min_grad))
                return BS_EXIT_USAGE;
            if (!(o->min_grad >= 0))
                return bs_cli_usage("autoencoder fit", "--min-grad must be >= 0");
            return 0;
        case OPT_TRACE: a->trace = arg; return 0;
        case OPT_PRECISION:
            if (!strcmp(arg, "float32"))
                o->precision = BS_SAE_FLOAT32;
            else if (!strcmp(arg, "float64"))
                o->precision = BS_SAE_FLOAT64;
            else
                return bs_cli_usage("autoencoder fit", "--precision must be float32 or float64");
            return 0;
        case OPT_OUT: a->out = arg; return 0;
        default: return bs_cli_unhandled(p, c);
    }
}

/* --hidden: an integer count, or (with a '.') a fraction of D resolved after loading. */
static int parse_hidden(fit_args *a) {
    long v;
    a->is_fraction = strchr(a->hidden, '.') != NULL;
    if (a->is_fraction) {
        if (bs_cli_parse_double("autoencoder fit", "--hidden", a->hidden, &a->hfrac))
            return BS_EXIT_USAGE;
        if (!(a->hfrac > 0 && a->hfrac <= 1))
            return bs_cli_usage("autoencoder fit", "--hidden as a fraction must be in (0, 1]");
        return 0;
    }
    if (bs_cli_parse_int("autoencoder fit", "--hidden", a->hidden, 1, 1L << 24, &v))
        return BS_EXIT_USAGE;
    a->o.hidden = v;
    return 0;
}

/* The command line of fit into a: -1 to go on and train, else the exit code. */
static int parse_fit(int argc, char **argv, const bs_cli *cli, fit_args *a) {
    memset(a, 0, sizeof *a);
    bs_sae_options_default(&a->o);
    a->o.seed = cli->seed;
    int c, rc;
    bs_cli_parser p;
    bs_cli_parser_init(&p, &fit_command);
    while ((c = bs_cli_next(&p, argc, argv)) >= 0)
        if ((rc = fit_option(a, &p, c)) != 0) return rc;
    if (p.exit >= 0) return p.exit;
    if (optind != argc)
        return bs_cli_usage("autoencoder fit", "unexpected argument '%s'", argv[optind]);
    if (!a->features) return bs_cli_usage("autoencoder fit", "--features is required");
    if (!a->hidden) return bs_cli_usage("autoencoder fit", "--hidden is required");
    if (!a->out) return bs_cli_usage("autoencoder fit", "--out is required");
    return (rc = parse_hidden(a)) != 0 ? rc : -1;
}

/* Under an MPI job of P ranks: data-parallel training, each rank on a contiguous shard of the
 * rows (*shard NULL and *nshard = n alone). */
static int shard_rows(const char *features, int64_t n, bs_sae_options *o, int64_t **shard,
                      int64_t *nshard) {
    const int rank = bs_dist_rank(), size = bs_dist_size();
    *shard = NULL;
    *nshard = n;
    if (size <= 1) return 0;
    if (n < size)
        return bs_error("%s: %lld samples cannot be shared by %d ranks (at least one each)",
                        features, (long long)n, size);
    int64_t lo = n * rank / size, hi = n * (rank + 1) / size;
    *nshard = hi - lo;
    if (!(*shard = bs_calloc((size_t)*nshard, sizeof **shard))) return -1;
    for (int64_t i = 0; i < *nshard; i++) (*shard)[i] = lo + i;
    o->distributed = 1;
    return 0;
}

/* Open the per-epoch trace (atomically) and hook it into o's epoch callback. */
static int open_trace(const char *trace, bs_atomic_file *taf, trace_sink *sink, bs_sae_options *o) {
    if (bs_atomic_open(taf, trace)) return -1;
    sink->fp = taf->fp;
    /* "gradient" as in MATLAB's tr and docs/autoencoder.md (earlier builds wrote grad_norm) */
    fputs("epoch,perf,gradient,lambda,accepted\n", sink->fp);
    o->on_epoch = write_trace;
    o->user = sink;
    return 0;
}

static int cmd_fit(int argc, char **argv, const bs_cli *cli) {
    fit_args a;
    int rc = parse_fit(argc, argv, cli, &a);
    if (rc >= 0) return rc;
    bs_sae_options *o = &a.o;
    bs_array x;
    if (load_matrix(a.features, &x)) return bs_cli_fail("autoencoder fit");
    int64_t n = x.shape[0], d = x.shape[1];
    if (a.is_fraction) o->hidden = bs_fit_hidden_units(a.hfrac, d);
    /* rank 0 alone writes the model and the trace */
    const int rank = bs_dist_rank();
    int64_t *shard = NULL, nshard = n;
    const char *trace = rank == 0 ? a.trace : NULL;
    trace_sink sink = {NULL};
    bs_atomic_file taf = {0};
    if (shard_rows(a.features, n, o, &shard, &nshard) ||
        (trace && open_trace(trace, &taf, &sink, o))) {
        bs_array_free(&x);
        free(shard);
        return bs_cli_fail("autoencoder fit");
    }
    o->progress = rank == 0;
    bs_sae_fit_info info;
    bs_sae *m = bs_sae_fit(bs_matrix_of(x.data, n, d), shard, nshard, o, &info);
    bs_array_free(&x);
    free(shard);
    if (!m) {
        bs_error_prefix("%s: ", a.features);
        if (trace) bs_atomic_abort(&taf);
        return bs_cli_fail("autoencoder fit");
    }
    rc = rank == 0 ? bs_sae_save(m, a.out) : 0;
    if (!rc && trace)
        rc = bs_atomic_commit(&taf);
    else if (trace)
        bs_atomic_abort(&taf);
    bs_sae_free(m);
    if (rc) return bs_cli_fail("autoencoder fit");
    if (rank != 0) return BS_EXIT_OK;
    printf("autoencoder: %lld samples x %lld features -> %lld hidden; %d epochs (%d accepted), "
           "perf %.6g, "
           "|grad| %.3g, %s, %.1f s\n",
           (long long)n, (long long)d, (long long)o->hidden, info.epochs, info.accepted, info.perf,
           info.grad_norm, bs_sae_stop_name(info.stop), info.seconds);
    return BS_EXIT_OK;
}

static int cmd_encode(int argc, char **argv, const bs_cli *cli) {
    (void)cli;
    if (bs_dist_rank() != 0) return BS_EXIT_OK; /* one process's work: rank 0 does it */
    const char *model = NULL, *features = NULL, *out = NULL;
    bs_cli_parser p;
    bs_cli_parser_init(&p, &encode_command);
    int c;
    while ((c = bs_cli_next(&p, argc, argv)) >= 0) {
        switch (c) {
            case OPT_ENCODE_MODEL: model = p.arg; break;
            case OPT_ENCODE_FEATURES: features = p.arg; break;
            case OPT_ENCODE_OUT: out = p.arg; break;
            default: return bs_cli_unhandled(&p, c);
        }
    }
    if (p.exit >= 0) return p.exit;
    if (optind != argc)
        return bs_cli_usage("autoencoder encode", "unexpected argument '%s'", argv[optind]);
    if (!model || !features || !out)
        return bs_cli_usage("autoencoder encode", "--model, --features and --out are required");
    bs_sae *m = bs_sae_load(model);
    if (!m) return bs_cli_fail("autoencoder encode");
    bs_array x, z;
    if (load_matrix(features, &x)) {
        bs_sae_free(m);
        return bs_cli_fail("autoencoder encode");
    }
    int64_t shape[2] = {x.shape[0], bs_sae_hidden(m)};
    int rc = bs_array_alloc(&z, 2, shape);
    if (!rc) {
        rc = bs_sae_encode(m, bs_matrix_of(x.data, x.shape[0], x.shape[1]), NULL, x.shape[0],
                           bs_matrix_mut_of(z.data, x.shape[0], bs_sae_hidden(m)));
        if (rc) bs_error_prefix("%s: ", features);
        if (!rc) rc = bs_npy_write(out, &z);
        bs_array_free(&z);
    }
    bs_array_free(&x);
    bs_sae_free(m);
    return rc ? bs_cli_fail("autoencoder encode") : BS_EXIT_OK;
}

int bs_cmd_autoencoder(int argc, char **argv, const bs_cli *cli) {
    if (argc < 2) {
        usage(stderr);
        return BS_EXIT_USAGE;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        usage(stdout);
        return BS_EXIT_OK;
    }
    if (strcmp(argv[1], "fit") == 0) return cmd_fit(argc - 1, argv + 1, cli);
    if (strcmp(argv[1], "encode") == 0) return cmd_encode(argc - 1, argv + 1, cli);
    return bs_cli_usage("autoencoder", "unknown subcommand '%s' (fit or encode)", argv[1]);
}
