/* cmd_extract.c — `blastscan extract`: deep features of a dataset into a feature folder. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_data.h"
#include "core/dist.h"
#include "core/error.h"
#include "core/io.h"
#include "features/extract.h"

static void usage(FILE *fp) {
    fprintf(fp,
            "Usage: blastscan extract [--backbone M.onnx ...] --data D [--data ...] [--positive C,...]\n"
            "                         [--augment none|flip] [--batch N] [--cache DIR | --no-cache]\n"
            "                         [--input-size S] [--tap OUTPUT] --out FEATDIR\n\n"
            "Run every image (with --augment flip also its horizontal and vertical mirror)\n"
            "through every backbone and write FEATDIR/index.csv and one NAME.npy per backbone\n"
            "(NAME from the model's metadata 'name', else the file name).\n\n" BS_DATA_OPTIONS_HELP
            "  --backbone M     an ONNX model with input [N,3,S,S] RGB 0..255; repeat for several\n"
            "                   (default: the shipped googlenet-bvlc and inception-v3-nsfwjs)\n"
            "  --augment A      none (default) or flip (original + hmirror + vmirror, the paper)\n"
            "  --batch N        images per network run (default 16)\n"
            "  --cache DIR      row cache (default $BLASTSCAN_CACHE, $XDG_CACHE_HOME/blastscan or\n"
            "                   ~/.cache/blastscan): a re-run computes only new rows and an\n"
            "                   interrupted run resumes\n"
            "  --no-cache       keep no rows between runs\n"
            "  --input-size S   input side for models without input_size metadata\n"
            "  --tap NAME       output to take for models without feature_output metadata\n"
            "  --out FEATDIR    the feature folder to write\n");
}

int bs_cli_default_backbones(const char ***paths, size_t *n) {
    static const char *const shipped[] = {"models/googlenet-bvlc.onnx", "models/inception-v3-nsfwjs.onnx"};
    *paths = calloc(2, sizeof **paths);
    if (!*paths) return -1;
    for (size_t i = 0; i < 2; i++) {
        char *p = bs_path_join(bs_cli_assets(), shipped[i]);
        if (!p || !bs_file_exists(p)) {
            bs_error("%s: shipped model not found; give --backbone M.onnx or set BLASTSCAN_ASSETS", p ? p : shipped[i]);
            free(p);
            for (size_t j = 0; j < i; j++) free((char *)(*paths)[j]);
            free(*paths);
            return -1;
        }
        (*paths)[i] = p;
    }
    *n = 2;
    return 0;
}

enum { OPT_BACKBONE = 2001, OPT_AUGMENT, OPT_BATCH, OPT_CACHE, OPT_NO_CACHE, OPT_INPUT_SIZE, OPT_TAP, OPT_OUT };

int bs_cmd_extract(int argc, char **argv, const bs_cli *cli) {
    static const struct option opts[] = {BS_DATA_LONG_OPTIONS,
                                         {"backbone", required_argument, 0, OPT_BACKBONE},
                                         {"augment", required_argument, 0, OPT_AUGMENT},
                                         {"batch", required_argument, 0, OPT_BATCH},
                                         {"cache", required_argument, 0, OPT_CACHE},
                                         {"no-cache", no_argument, 0, OPT_NO_CACHE},
                                         {"input-size", required_argument, 0, OPT_INPUT_SIZE},
                                         {"tap", required_argument, 0, OPT_TAP},
                                         {"out", required_argument, 0, OPT_OUT},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    bs_cli_data data;
    bs_cli_data_init(&data);
    bs_extract_options opt;
    bs_extract_options_init(&opt);
    const char **models = NULL;
    size_t nmodels = 0;
    int owned_models = 0, no_cache = 0, c, rc = BS_EXIT_USAGE;
    long input_size = 0, v;
    const char *tap = NULL, *out = NULL, *cache = NULL;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        int d = bs_cli_data_option(&data, "extract", c, optarg);
        if (d > 0) goto done;
        if (d == 0) continue;
        switch (c) {
        case OPT_BACKBONE: {
            const char **m = realloc(models, (nmodels + 1) * sizeof *m);
            if (!m) goto done;
            models = m;
            models[nmodels++] = optarg;
            break;
        }
        case OPT_AUGMENT:
            if (!strcmp(optarg, "none")) opt.augment = 0;
            else if (!strcmp(optarg, "flip")) opt.augment = 1;
            else {
                bs_cli_usage("extract", "--augment must be none or flip");
                goto done;
            }
            break;
        case OPT_BATCH:
            if (bs_cli_parse_int("extract", "--batch", optarg, 1, 1024, &v)) goto done;
            opt.batch = (int)v;
            break;
        case OPT_CACHE: cache = optarg; break;
        case OPT_NO_CACHE: no_cache = 1; break;
        case OPT_INPUT_SIZE:
            if (bs_cli_parse_int("extract", "--input-size", optarg, 1, 4096, &input_size)) goto done;
            break;
        case OPT_TAP: tap = optarg; break;
        case OPT_OUT: out = optarg; break;
        case 'h': usage(stdout); rc = BS_EXIT_OK; goto done;
        default: bs_cli_usage("extract", "unknown option"); goto done;
        }
    }
    if (optind != argc) {
        bs_cli_usage("extract", "unexpected argument '%s'", argv[optind]);
        goto done;
    }
    if (!data.nsources || !out) {
        bs_cli_usage("extract", "--data and --out are required");
        goto done;
    }
    if (no_cache && cache) {
        bs_cli_usage("extract", "--cache and --no-cache exclude each other");
        goto done;
    }
    rc = BS_EXIT_FAIL;
    if (!nmodels) {
        if (bs_cli_default_backbones(&models, &nmodels)) {
            rc = bs_cli_fail("extract");
            goto done;
        }
        owned_models = 1;
    }
    char *default_cache = (!no_cache && !cache) ? bs_extract_default_cache() : NULL;
    opt.cache = no_cache ? NULL : cache ? cache : default_cache;
    bs_backbone_spec *specs = calloc(nmodels, sizeof *specs);
    bs_dataset ds;
    if (!specs || bs_cli_data_open(&data, 0, cli->seed, &ds)) {
        rc = bs_cli_fail("extract");
    } else {
        for (size_t i = 0; i < nmodels; i++) specs[i] = (bs_backbone_spec){models[i], (int)input_size, tap};
        bs_extract_stats st;
        if (bs_extract(&ds, specs, nmodels, &opt, out, &st)) {
            rc = bs_cli_fail("extract");
        } else {
            if (bs_dist_rank() == 0)
                fprintf(stderr, "extract: %zu rows x %zu backbones in %.1f s (%zu computed, %zu from cache) -> %s\n",
                        st.rows, nmodels, st.seconds, st.computed, st.cached, out);
            rc = BS_EXIT_OK;
        }
        bs_dataset_free(&ds);
    }
    free(specs);
    free(default_cache);
done:
    if (owned_models)
        for (size_t i = 0; i < nmodels; i++) free((char *)models[i]);
    free(models);
    bs_cli_data_free(&data);
    return rc;
}
