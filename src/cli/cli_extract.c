/* cli_extract.c — shared extraction options (see cli_extract.h). */
#include "cli_extract.h"

#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "core/error.h"
#include "core/io.h"

int bs_cli_default_backbones(const char ***paths, size_t *n) {
    static const char *const shipped[] = {"models/googlenet-bvlc.onnx",
                                          "models/inception-v3-nsfwjs.onnx"};
    *paths = calloc(2, sizeof **paths);
    if (!*paths) return bs_error("out of memory");
    for (size_t i = 0; i < 2; i++) {
        char *p = bs_path_join(bs_cli_assets(), shipped[i]);
        if (!p || !bs_file_exists(p)) {
            bs_error("%s: shipped model not found; give --backbone M.onnx or set BLASTSCAN_ASSETS",
                     p ? p : shipped[i]);
            free(p);
            for (size_t j = 0; j < i; j++) free((char *)(*paths)[j]);
            free(*paths);
            *paths = NULL;
            return -1;
        }
        (*paths)[i] = p;
    }
    *n = 2;
    return 0;
}

void bs_cli_extract_init(bs_cli_extract *x, const char *augment) {
    memset(x, 0, sizeof *x);
    bs_extract_options_init(&x->opt);
    x->opt.augment.flip = !strcmp(augment, "flip");
}

int bs_cli_extract_option(bs_cli_extract *x, const char *cmd, int c, const char *arg) {
    long v;
    switch (c) {
        case BS_OPT_BACKBONE: {
            const char **m = realloc(x->models, (x->nmodels + 1) * sizeof *m);
            if (!m) {
                bs_cli_usage(cmd, "out of memory");
                return 1;
            }
            x->models = m;
            x->models[x->nmodels++] = arg;
            return 0;
        }
        case BS_OPT_AUGMENT:
            if (bs_augment_parse(arg, &x->opt.augment)) {
                bs_cli_usage(cmd, "--augment: %s", bs_error_message());
                return 1;
            }
            return 0;
        case BS_OPT_BATCH:
            if (bs_cli_parse_int(cmd, "--batch", arg, 1, 1024, &v)) return 1;
            x->opt.batch = (int)v;
            return 0;
        case BS_OPT_CACHE: x->cache = arg; return 0;
        case BS_OPT_NO_CACHE: x->no_cache = 1; return 0;
        case BS_OPT_INPUT_SIZE:
            return bs_cli_parse_int(cmd, "--input-size", arg, 1, 4096, &x->input_size) ? 1 : 0;
        case BS_OPT_TAP: x->tap = arg; return 0;
        default: return -1;
    }
}

int bs_cli_extract_finish(bs_cli_extract *x, const char *cmd) {
    if (x->no_cache && x->cache)
        return bs_cli_usage(cmd, "--cache and --no-cache exclude each other");
    if (!x->nmodels) {
        if (bs_cli_default_backbones(&x->models, &x->nmodels)) return bs_cli_fail(cmd);
        x->owned_models = 1;
    }
    if (!x->no_cache && !x->cache) x->default_cache = bs_extract_default_cache();
    x->opt.cache = x->no_cache ? NULL : x->cache ? x->cache : x->default_cache;
    return 0;
}

bs_backbone_spec *bs_cli_extract_specs(const bs_cli_extract *x) {
    bs_backbone_spec *specs = calloc(x->nmodels ? x->nmodels : 1, sizeof *specs);
    for (size_t i = 0; specs && i < x->nmodels; i++)
        specs[i] = (bs_backbone_spec){x->models[i], (int)x->input_size, x->tap};
    if (!specs) bs_error("out of memory");
    return specs;
}

void bs_cli_extract_free(bs_cli_extract *x) {
    if (x->owned_models)
        for (size_t i = 0; i < x->nmodels; i++) free((char *)x->models[i]);
    free(x->models);
    free(x->default_cache);
    memset(x, 0, sizeof *x);
}
