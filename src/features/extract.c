/* extract.c — feature extraction with a row cache (see extract.h).
 *
 * Per backbone, two passes: (1) every row missing from the cache is computed, in engine runs
 * of exactly `batch` rows (the last one padded) so the engine builds one plan per model, and
 * stored in the cache; (2) the feature set is assembled from the cache in index order and
 * streamed to NAME.npy. Only pass 1 touches images and networks, so a re-run over a grown
 * dataset computes just the new rows.
 *
 * Under an MPI job of P ranks (core/dist.h) every rank first lists the rows missing from the
 * cache (the same list on every rank: nobody writes before everyone has looked), then rank r
 * computes the engine runs r, r+P, r+2P, ... of that list — the very runs, padded the same
 * way, a single process would make — and writes their cache entries (atomic, one file per
 * row, so ranks never collide). After a barrier rank 0 alone assembles NAME.npy and the index
 * from the cache, so the folder is byte-identical to a single-process run's. The cache must
 * be on a filesystem every rank sees; --no-cache uses FEATDIR/.rows.tmp, which is. */
#define _GNU_SOURCE
#include "extract.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/dist.h"
#include "core/error.h"
#include "core/finite.h"
#include "core/hash.h"
#include "core/io.h"
#include "core/json.h"
#include "core/npy.h"
#include "core/progress.h"
#include "core/rng.h"
#include "features/featdir.h"
#include "features/morphometry.h"
#include "image/image.h"
#include "image/stain.h"
#include "nn/engine.h"
#include "onnx/onnx.h"

void bs_extract_options_init(bs_extract_options *opt) {
    memset(opt, 0, sizeof *opt);
    opt->batch = 16;
    opt->stain_transfer = -1;
}

char *bs_extract_default_cache(void) {
    const char *c = getenv("BLASTSCAN_CACHE");
    if (c && *c) return bs_strdup(c);
    c = getenv("XDG_CACHE_HOME");
    if (c && *c) return bs_path_join(c, "blastscan");
    c = getenv("HOME");
    if (c && *c) return bs_path_join(c, ".cache/blastscan");
    return NULL;
}

typedef struct {
    bs_engine *engine; /* NULL for morphometry, which runs no network */
    char *name, *tap, *path, *cache_dir;
    char sha[BS_SHA256_HEX];
    int size;
    int64_t dim;
    int morph; /* 1: the morphometric features (morphometry.h), computed from each image */
} backbone;

static void backbone_close(backbone *b) {
    bs_engine_free(b->engine);
    free(b->name);
    free(b->tap);
    free(b->path);
    free(b->cache_dir);
    memset(b, 0, sizeof *b);
}

/* A feature-set name becomes a file name: keep it to a safe alphabet. */
static int safe_name(const char *s) {
    if (!*s || *s == '.') return 0;
    for (; *s; s++)
        if (!(isalnum((unsigned char)*s) || *s == '-' || *s == '_' || *s == '.')) return 0;
    return 1;
}

/* The morphometric pseudo-backbone: named after the feature set, its version as tap and (the
 * digest of) its version as sha256, so its cache and a pipeline's record change with it. */
static int morph_open(const char *cache_root, backbone *b) {
    b->morph = 1;
    bs_morph_sha256(b->sha);
    b->name = bs_strdup(BS_MORPH_NAME);
    b->tap = bs_strdup(BS_MORPH_VERSION);
    b->path = bs_strdup(BS_MORPH_NAME);
    b->size = BS_MORPH_SIDE;
    b->dim = BS_MORPH_DIM;
    if (!b->name || !b->tap || !b->path) return -1;
    b->cache_dir = bs_strfmt("%s/%s-s%d-%s", cache_root, b->sha, b->size, b->tap);
    return b->cache_dir ? bs_mkdir_p(b->cache_dir) : -1;
}

static int backbone_open(const bs_backbone_spec *spec, const char *cache_root, size_t batch,
                         backbone *b) {
    memset(b, 0, sizeof *b);
    if (strcmp(spec->path, BS_MORPH_NAME) == 0) return morph_open(cache_root, b);
    if (bs_sha256_file(spec->path, b->sha)) return -1;
    bs_onnx_model *model;
    if (bs_onnx_load(spec->path, &model)) return -1;
    const char *meta_name = bs_onnx_meta(model, "name");
    const char *meta_tap = bs_onnx_meta(model, "feature_output");
    b->name = meta_name && safe_name(meta_name) ? bs_strdup(meta_name) : bs_path_stem(spec->path);
    b->tap = bs_strdup(spec->tap ? spec->tap : meta_tap ? meta_tap : "features");
    b->path = bs_strdup(spec->path);
    if (!b->name || !b->tap || !b->path) {
        bs_onnx_free(model);
        return -1;
    }
    if (!safe_name(b->name)) {
        bs_onnx_free(model);
        return bs_error("%s: cannot make a feature-set name from the file name", spec->path);
    }
    const char *outs[1] = {b->tap};
    b->engine = bs_engine_create(model, outs, 1);
    if (!b->engine) return bs_error_prefix("%s: ", spec->path);
    b->size = spec->input_size > 0 ? spec->input_size : (int)bs_engine_input_size(b->engine);
    if (b->size <= 0 || b->size > 4096)
        return bs_error("%s: input size unknown (no input_size metadata); give --input-size",
                        spec->path);
    /* One run on a blank batch tells the feature width and builds the plan used later. */
    size_t per = (size_t)3 * b->size * b->size;
    float *zeros = bs_calloc(per * batch, sizeof(float));
    if (!zeros) return -1;
    int64_t shape[4] = {(int64_t)batch, 3, b->size, b->size};
    int rc = bs_engine_run(b->engine, zeros, 4, shape);
    free(zeros);
    if (rc) return bs_error_prefix("%s: ", spec->path);
    int ndim;
    int64_t oshape[BS_ONNX_MAX_DIMS];
    if (!bs_engine_output(b->engine, b->tap, &ndim, oshape))
        return bs_error_prefix("%s: ", spec->path);
    int64_t count = 1;
    for (int i = 0; i < ndim; i++) count *= oshape[i];
    if (ndim < 1 || oshape[0] != (int64_t)batch || count / (int64_t)batch < 1)
        return bs_error("%s: output '%s' is not [N, D] (per-image features)", spec->path, b->tap);
    b->dim = count / (int64_t)batch;
    b->cache_dir = bs_strfmt("%s/%s-s%d-%s", cache_root, b->sha, b->size, b->tap);
    if (!b->cache_dir) return -1;
    return bs_mkdir_p(b->cache_dir);
}

/* The views of every image, and what makes a jittered view (image.h). */
typedef struct {
    bs_view views[BS_VIEW_END];
    int n;
    bs_augment augment;
    uint64_t seed;
    const bs_dataset *ds;
    const bs_colour_stats *stats; /* per source (--stain-transfer, transfer views), NULL: none */
    size_t nsources;
} view_plan;

/* A row to compute: a view of a sample, or (target >= 0) its original recoloured to source
 * target's colour statistics (Reinhard, from its own source's). A transfer view (target < 0)
 * is recoloured the same way to a target its view seed draws (view_target). */
typedef struct {
    size_t sample;
    bs_view view;
    int target;
} pending_row;

/* A transfer view's target: one of the other sources, drawn uniformly by the view's seed, so
 * the choice depends on the image, the view and --seed only (not on the label: the view must
 * teach that colour says nothing). */
static int view_target(const view_plan *vp, size_t sample, const char *image_sha, bs_view v) {
    bs_rng rng;
    bs_rng_seed(&rng, bs_view_seed(vp->seed, image_sha, v));
    const int from = vp->ds->samples[sample].source;
    int t = (int)(bs_rng_uniform(&rng) * (double)(vp->nsources - 1));
    if (t > (int)vp->nsources - 2) t = (int)vp->nsources - 2;
    return t >= from ? t + 1 : t;
}

/* FNV-1a over the two sources' statistics: what a recoloured row depends on beyond the image. */
static uint64_t transfer_key(const view_plan *vp, size_t sample, int target) {
    const bs_colour_stats *st[2] = {&vp->stats[vp->ds->samples[sample].source], &vp->stats[target]};
    uint64_t h = 1469598103934665603ULL;
    for (int k = 0; k < 2; k++) {
        double v[7] = {st[k]->mean[0], st[k]->mean[1], st[k]->mean[2], st[k]->sd[0],
                       st[k]->sd[1],   st[k]->sd[2],   st[k]->pixels};
        const unsigned char *b = (const unsigned char *)v;
        for (size_t i = 0; i < sizeof v; i++) h = (h ^ b[i]) * 1099511628211ULL;
    }
    return h;
}

/* cache/<model>-s<size>-<tap>/<ab>/<image sha>-<view>.npy, for a jittered view
 * <image sha>-<view>-<strength>-<seed>.npy, for a recoloured one <image sha>-transfer-<key>.npy:
 * what its row depends on beyond the image. A morphometric row depends on the image's scale too:
 * -c<cell_px>-r<red_cell_px> before .npy. */
static char *cache_path(const backbone *b, const char *image_sha, const view_plan *vp,
                        const pending_row *p) {
    const bs_view v = p->view;
    const bs_sample *smp = &vp->ds->samples[p->sample];
    char scale[64] = "";
    if (b->morph) snprintf(scale, sizeof scale, "-c%.9g-r%.9g", smp->cell_px, smp->red_cell_px);
    if (p->target >= 0)
        return bs_strfmt("%s/%.2s/%s-transfer-%016llx%s.npy", b->cache_dir, image_sha, image_sha,
                         (unsigned long long)transfer_key(vp, p->sample, p->target), scale);
    if (v >= BS_VIEW_TRANSFER)
        return bs_strfmt("%s/%.2s/%s-%s-%016llx-%016llx%s.npy", b->cache_dir, image_sha, image_sha,
                         bs_view_name(v),
                         (unsigned long long)transfer_key(vp, p->sample,
                                                          view_target(vp, p->sample, image_sha, v)),
                         (unsigned long long)bs_view_seed(vp->seed, image_sha, v), scale);
    if (v < BS_VIEW_HED)
        return bs_strfmt("%s/%.2s/%s-%s%s.npy", b->cache_dir, image_sha, image_sha, bs_view_name(v),
                         scale);
    return bs_strfmt("%s/%.2s/%s-%s-%g-%016llx%s.npy", b->cache_dir, image_sha, image_sha,
                     bs_view_name(v), bs_augment_strength(&vp->augment, v),
                     (unsigned long long)bs_view_seed(vp->seed, image_sha, v), scale);
}

/* A cache entry is used only if it is exactly [dim] finite floats; anything else is a miss. */
static int cache_get(const backbone *b, const char *image_sha, const view_plan *vp,
                     const pending_row *pr, float *row) {
    char *p = cache_path(b, image_sha, vp, pr);
    if (!p || access(p, F_OK) != 0) {
        free(p);
        return 0;
    }
    bs_array a;
    int hit = bs_npy_read(p, &a) == 0 && a.ndim == 1 && a.shape[0] == b->dim;
    for (int64_t i = 0; hit && i < b->dim; i++) hit = isfinite(a.data[i]);
    if (hit) memcpy(row, a.data, sizeof(float) * (size_t)b->dim);
    bs_array_free(&a);
    free(p);
    return hit;
}

static int cache_put(const backbone *b, const char *image_sha, const view_plan *vp,
                     const pending_row *pr, const float *row) {
    char *p = cache_path(b, image_sha, vp, pr);
    if (!p) return -1;
    char *slash = strrchr(p, '/');
    *slash = '\0';
    int rc = bs_mkdir_p(p);
    *slash = '/';
    bs_array a = {.ndim = 1, .shape = {b->dim}, .data = (float *)row};
    if (rc == 0) rc = bs_npy_write(p, &a);
    free(p);
    return rc;
}

/* The engine's messages usually name the model already: name it once. */
static int model_error(const char *path) {
    if (!strstr(bs_error_message(), path)) bs_error_prefix("%s: ", path);
    return -1;
}

/* The image a pending row sees, made from img: its jittered view, or (target >= 0, or a
 * transfer view) img recoloured by Reinhard's transfer from its source's colour statistics to
 * the target's. */
static int make_view(const bs_image *img, const char *image_sha, const view_plan *vp,
                     const pending_row *p, bs_image *made) {
    if (p->target < 0 && p->view < BS_VIEW_TRANSFER)
        return bs_image_view(img, p->view, &vp->augment, bs_view_seed(vp->seed, image_sha, p->view),
                             made);
    const int target = p->target >= 0 ? p->target : view_target(vp, p->sample, image_sha, p->view);
    *made = *img;
    made->rgb = bs_malloc((size_t)img->width * img->height * 3);
    if (!made->rgb) return -1;
    memcpy(made->rgb, img->rgb, (size_t)img->width * img->height * 3);
    if (bs_reinhard_transfer(made, &vp->stats[vp->ds->samples[p->sample].source],
                             &vp->stats[target]) == 0)
        return 0;
    bs_image_free(made);
    return -1;
}

/* One view of a decoded image into the network's input: mirrors on the way in, jittered views
 * made first. */
static int view_to_chw(const bs_image *img, const char *image_sha, const view_plan *vp,
                       const pending_row *p, float *chw) {
    const bs_view v = p->view;
    if (p->target < 0 && v < BS_VIEW_HED) {
        bs_image_to_chw(img, v, chw);
        return 0;
    }
    bs_image made;
    if (make_view(img, image_sha, vp, p, &made)) return -1;
    bs_image_to_chw(&made, BS_VIEW_ORIGINAL, chw);
    bs_image_free(&made);
    return 0;
}

/* The morphometric row of one view of a sample: decoded at its own size (its scale is in its
 * own pixels), given the sample's scale, the view made, the features measured. */
static int morph_row(const bs_sample *smp, const char *image_sha, const view_plan *vp,
                     const pending_row *p, float *row) {
    bs_image img, made;
    if (bs_image_load(smp->path, &img)) return -1;
    img.cell_px = smp->cell_px, img.red_cell_px = smp->red_cell_px;
    int rc = 0;
    if (p->target < 0 && p->view == BS_VIEW_ORIGINAL) {
        rc = bs_morph_features(&img, row, NULL);
    } else if ((rc = make_view(&img, image_sha, vp, p, &made)) == 0) {
        rc = bs_morph_features(&made, row, NULL);
        bs_image_free(&made);
    }
    bs_image_free(&img);
    if (rc) bs_error_prefix("%s: ", smp->path);
    return rc;
}

/* The morphometric rows of `n` pending rows, each computed on its own, and cached. */
static int compute_morph_rows(const backbone *b, const bs_dataset *ds,
                              char (*image_sha)[BS_SHA256_HEX], const view_plan *vp,
                              const pending_row *rows, size_t n, float *out) {
    int failed = 0;
    char *first_error = NULL;
#pragma omp parallel for schedule(dynamic, 1)
    for (size_t i = 0; i < n; i++) {
        float *row = out + i * (size_t)b->dim;
        if (morph_row(&ds->samples[rows[i].sample], image_sha[rows[i].sample], vp, &rows[i], row)) {
#pragma omp critical(extract_error)
            {
                if (!first_error) first_error = strdup(bs_error_message());
                failed = 1;
            }
        }
    }
    for (size_t i = 0; i < n && !failed; i++)
        if (cache_put(b, image_sha[rows[i].sample], vp, &rows[i], out + i * (size_t)b->dim))
            return -1;
    if (failed) {
        bs_error("%s", first_error ? first_error : "morphometry failed");
        free(first_error);
        return -1;
    }
    return 0;
}

/* Compute `n` pending rows (n <= batch; sorted by sample) in one engine run and cache them. */
static int compute_rows(backbone *b, const bs_dataset *ds, char (*image_sha)[BS_SHA256_HEX],
                        const view_plan *vp, const pending_row *rows, size_t n, size_t batch,
                        float *tensor) {
    if (b->morph) return compute_morph_rows(b, ds, image_sha, vp, rows, n, tensor);
    size_t per = (size_t)3 * b->size * b->size;
    memset(tensor + n * per, 0, (batch - n) * per * sizeof(float));
    int failed = 0;
    char *first_error = NULL;
    /* Each image is decoded once, however many of its views are pending. */
#pragma omp parallel for schedule(dynamic, 1)
    for (size_t i = 0; i < n; i++) {
        if (i > 0 && rows[i - 1].sample == rows[i].sample) continue;
        const char *sha = image_sha[rows[i].sample];
        bs_image img;
        int rc = bs_image_load_resized(ds->samples[rows[i].sample].path, b->size, &img);
        for (size_t j = i; rc == 0 && j < n && rows[j].sample == rows[i].sample; j++)
            rc = view_to_chw(&img, sha, vp, &rows[j], tensor + j * per);
        bs_image_free(&img);
        if (rc) {
#pragma omp critical(extract_error)
            {
                if (!first_error) first_error = strdup(bs_error_message());
                failed = 1;
            }
        }
    }
    if (failed) {
        bs_error("%s", first_error ? first_error : "image decoding failed");
        free(first_error);
        return -1;
    }
    int64_t shape[4] = {(int64_t)batch, 3, b->size, b->size};
    if (bs_engine_run(b->engine, tensor, 4, shape)) return model_error(b->path);
    int ndim;
    int64_t oshape[BS_ONNX_MAX_DIMS];
    const float *out = bs_engine_output(b->engine, b->tap, &ndim, oshape);
    if (!out) return model_error(b->path);
    for (size_t i = 0; i < n; i++) {
        const float *row = out + i * (size_t)b->dim;
        if (bs_check_finite(row, b->dim, NULL, 1))
            return bs_error("%s: the network gave a non-finite feature for %s (%s)", b->path,
                            ds->samples[rows[i].sample].path,
                            rows[i].target >= 0 ? "recoloured" : bs_view_name(rows[i].view));
        if (cache_put(b, image_sha[rows[i].sample], vp, &rows[i], row)) return -1;
    }
    return 0;
}

/* Pass 1 under an MPI job: every rank lists the pending rows, then computes its share of the
 * engine runs. Counts (stats) are the job's, as a single process would report them. */
static int fill_cache_dist(backbone *b, const bs_dataset *ds, char (*image_sha)[BS_SHA256_HEX],
                           const view_plan *vp, size_t batch, float *row, float *tensor,
                           bs_progress *prog, int64_t *done, bs_extract_stats *stats) {
    const size_t nrows = ds->n * (size_t)vp->n;
    const int rank = bs_dist_rank(), size = bs_dist_size();
    pending_row *pend = bs_calloc(nrows ? nrows : 1, sizeof *pend);
    if (!pend) return -1;
    size_t npend = 0;
    for (size_t s = 0; s < ds->n; s++)
        for (int v = 0; v < vp->n; v++) {
            pending_row p = {s, vp->views[v], -1};
            if (!cache_get(b, image_sha[s], vp, &p, row)) pend[npend++] = p;
        }
    /* Everyone has looked before anyone writes: the lists agree. */
    bs_dist_barrier();
    stats->cached += nrows - npend;
    stats->computed += npend;
    *done += (int64_t)(nrows - npend);
    bs_progress_update(prog, *done);
    int rc = 0;
    size_t nruns = (npend + batch - 1) / batch;
    for (size_t k = (size_t)rank; k < nruns && rc == 0; k += (size_t)size) {
        size_t lo = k * batch, n = npend - lo < batch ? npend - lo : batch;
        rc = compute_rows(b, ds, image_sha, vp, pend + lo, n, batch, tensor);
        /* Rank 0's bar moves by the job's progress, estimated from its own share. */
        *done += (int64_t)(n * (size_t)size);
        bs_progress_update(prog, *done);
    }
    free(pend);
    return rc;
}

static int write_manifest(const char *outdir, const backbone *bb, size_t nb,
                          const bs_augment *augment, size_t rows) {
    char *path = bs_path_join(outdir, "extract.json");
    if (!path) return -1;
    bs_atomic_file af;
    if (bs_atomic_open(&af, path)) {
        free(path);
        return -1;
    }
    bs_json_writer w;
    bs_json_writer_init(&w, af.fp);
    bs_json_begin_object(&w, NULL, BS_JSON_LINES);
    char name[BS_AUGMENT_NAME_MAX];
    bs_augment_name(augment, name);
    bs_json_put_string(&w, "augment", name);
    bs_json_put_uint(&w, "rows", rows);
    bs_json_begin_array(&w, "backbones", BS_JSON_LINES);
    for (size_t i = 0; i < nb; i++) {
        bs_json_begin_object(&w, NULL, BS_JSON_INLINE);
        bs_json_put_string(&w, "name", bb[i].name);
        bs_json_put_string(&w, "path", bb[i].path);
        bs_json_put_string(&w, "sha256", bb[i].sha);
        bs_json_put_int(&w, "input_size", bb[i].size);
        bs_json_put_string(&w, "tap", bb[i].tap);
        bs_json_put_int(&w, "dim", bb[i].dim);
        bs_json_end(&w);
    }
    bs_json_end(&w);
    bs_json_end(&w);
    bs_json_finish(&w);
    int rc = bs_atomic_commit(&af);
    free(path);
    return rc;
}

/* One extraction run: what every backbone's passes share. */
typedef struct {
    const bs_dataset *ds;
    char (*image_sha)[BS_SHA256_HEX];
    view_plan views;
    size_t batch, nrows;
    pending_row *pending; /* batch rows waiting for an engine run */
    bs_progress prog;
    int64_t done;
    bs_extract_stats *stats;
    const char *outdir;
    pending_row *transfer; /* --stain-transfer: the recoloured rows, in their index order */
    size_t ntransfer;
    bs_colour_stats *colour; /* per source */
} extract_run;

static int open_backbones(const bs_backbone_spec *specs, size_t nb, const char *cache_root,
                          size_t batch, backbone *bb) {
    for (size_t i = 0; i < nb; i++) {
        if (backbone_open(&specs[i], cache_root, batch, &bb[i])) return -1;
        for (size_t j = 0; j < i; j++)
            if (strcmp(bb[i].name, bb[j].name) == 0)
                return bs_error("%s and %s are both named '%s'; feature sets need distinct names",
                                bb[j].path, bb[i].path, bb[i].name);
    }
    return 0;
}

/* Image identity for the cache: the file's bytes. */
static int hash_images(const bs_dataset *ds, char (*image_sha)[BS_SHA256_HEX]) {
    int hash_failed = 0;
#pragma omp parallel for schedule(dynamic, 16)
    for (size_t i = 0; i < ds->n; i++)
        if (bs_sha256_file(ds->samples[i].path, image_sha[i])) hash_failed = 1;
    if (hash_failed) return bs_error("cannot read every image of the dataset (did a file change?)");
    return 0;
}

/* Runs the pending rows through the network and counts them as computed. */
static int flush_pending(extract_run *x, backbone *b, size_t npend, float *tensor) {
    int rc = compute_rows(b, x->ds, x->image_sha, &x->views, x->pending, npend, x->batch, tensor);
    x->stats->computed += npend;
    x->done += (int64_t)npend;
    bs_progress_update(&x->prog, x->done);
    return rc;
}

/* Pass 1 in one process: every row not in the cache is computed, a batch at a time. */
static int fill_cache(extract_run *x, backbone *b, float *row, float *tensor) {
    size_t npend = 0;
    int rc = 0;
    const size_t nview = x->ds->n * (size_t)x->views.n;
    for (size_t i = 0; i < nview + x->ntransfer && rc == 0; i++) {
        const pending_row p = i < nview ? (pending_row){i / (size_t)x->views.n,
                                                        x->views.views[i % (size_t)x->views.n], -1}
                                        : x->transfer[i - nview];
        if (cache_get(b, x->image_sha[p.sample], &x->views, &p, row)) {
            x->stats->cached++;
            bs_progress_update(&x->prog, ++x->done);
            continue;
        }
        x->pending[npend++] = p;
        if (npend == x->batch) {
            rc = flush_pending(x, b, npend, tensor);
            npend = 0;
        }
    }
    if (rc == 0 && npend) rc = flush_pending(x, b, npend, tensor);
    return rc;
}

/* Pass 2: assemble NAME.npy from the cache, in index order: the views of every sample into
 * dir, or (transfer) the recoloured rows into dir's stain-transfer folder. */
static int assemble_npy(const extract_run *x, const backbone *b, float *row, int transfer) {
    char *dir = transfer ? bs_path_join(x->outdir, BS_FEATDIR_TRANSFER) : bs_strdup(x->outdir);
    char *npy = dir && bs_mkdir_p(dir) == 0 ? bs_featdir_set_path(dir, b->name) : NULL;
    const size_t nrows = transfer ? x->ntransfer : x->nrows;
    int64_t shape[2] = {(int64_t)nrows, b->dim};
    bs_npy_writer *w = npy ? bs_npy_writer_open(npy, 2, shape) : NULL;
    int rc = w ? 0 : -1;
    for (size_t i = 0; i < nrows && rc == 0; i++) {
        const pending_row p = transfer ? x->transfer[i]
                                       : (pending_row){i / (size_t)x->views.n,
                                                       x->views.views[i % (size_t)x->views.n], -1};
        if (!cache_get(b, x->image_sha[p.sample], &x->views, &p, row))
            rc = bs_error("%s: cached row for %s vanished during the run", b->cache_dir,
                          x->ds->samples[p.sample].path);
        else
            rc = bs_npy_writer_append(w, row, (size_t)b->dim);
    }
    if (w) {
        if (rc == 0)
            rc = bs_npy_writer_close(w);
        else
            bs_npy_writer_abort(w);
    }
    free(npy);
    free(dir);
    return rc;
}

/* Both passes for one backbone. Under an MPI job the ranks share pass 1 and rank 0 alone
 * assembles. */
static int extract_backbone(extract_run *x, backbone *b) {
    size_t per = (size_t)3 * b->size * b->size;
    float *row = bs_malloc(sizeof(float) * (size_t)b->dim);
    float *tensor = bs_malloc(sizeof(float) * per * x->batch);
    int rc = (row && tensor) ? 0 : -1;
    int assemble = 1;
    if (rc == 0 && bs_dist_size() > 1) {
        int64_t before = x->done;
        rc = fill_cache_dist(b, x->ds, x->image_sha, &x->views, x->batch, row, tensor, &x->prog,
                             &x->done, x->stats);
        x->done = before + (int64_t)x->nrows;
        /* On failure main ends the job: no collective after it. Otherwise every rank's rows
         * are in the cache before rank 0 reads them. */
        if (rc == 0) bs_dist_barrier();
        assemble = bs_dist_rank() == 0;
    } else if (rc == 0) {
        rc = fill_cache(x, b, row, tensor);
    }
    if (rc == 0 && assemble) rc = assemble_npy(x, b, row, 0);
    if (rc == 0 && assemble && x->ntransfer) rc = assemble_npy(x, b, row, 1);
    free(row);
    free(tensor);
    return rc;
}

/* What the caller asked to know about each backbone (opt->info). */
static int fill_info(bs_backbone_info *info, const backbone *bb, size_t nb) {
    for (size_t i = 0; info && i < nb; i++) {
        bs_backbone_info *in = &info[i];
        if (strlen(bb[i].name) >= sizeof in->name || strlen(bb[i].tap) >= sizeof in->tap)
            return bs_error("%s: name or tap longer than %zu characters", bb[i].path,
                            sizeof in->name - 1);
        snprintf(in->name, sizeof in->name, "%s", bb[i].name);
        snprintf(in->tap, sizeof in->tap, "%s", bb[i].tap);
        memcpy(in->sha256, bb[i].sha, sizeof in->sha256);
        in->input_size = bb[i].size;
        in->dim = bb[i].dim;
    }
    return 0;
}

/* ---- stain-transfer rows (--stain-transfer) ---- */

/* x->colour: every source's colour statistics over all its images, at the size a backbone sees
 * them (each image's computed apart, in parallel, then merged in dataset order). */
static int source_colours(extract_run *x, size_t nsources, int size) {
    const bs_dataset *ds = x->ds;
    bs_colour_stats *one = bs_calloc(ds->n ? ds->n : 1, sizeof *one);
    x->colour = bs_calloc(nsources, sizeof *x->colour);
    if (!one || !x->colour) {
        free(one);
        return -1;
    }
    char *first_error = NULL;
#pragma omp parallel for schedule(dynamic, 8)
    for (size_t i = 0; i < ds->n; i++) {
        bs_image img;
        if (bs_image_load_resized(ds->samples[i].path, size, &img) == 0) {
            bs_colour_stats_add(&one[i], &img);
            bs_image_free(&img);
        } else {
#pragma omp critical(extract_colour_error)
            if (!first_error) first_error = bs_strdup(bs_error_message());
        }
    }
    int rc = first_error ? bs_error("%s", first_error) : 0;
    for (size_t i = 0; i < ds->n && rc == 0; i++)
        bs_colour_stats_merge(&x->colour[ds->samples[i].source], &one[i]);
    free(first_error);
    free(one);
    return rc;
}

/* x->transfer: per source, a seeded sample of at most `max` images (every image when max is 0),
 * each recoloured to every other source where one of the two holds ALL images (the stain a
 * shortcut would read), in dataset order, targets ascending. */
static int plan_transfer(extract_run *x, size_t nsources, long max, uint64_t seed) {
    const bs_dataset *ds = x->ds;
    int *has_all = bs_calloc(nsources, sizeof *has_all);
    size_t *order = bs_calloc(ds->n + 1, sizeof *order);
    unsigned char *chosen = bs_calloc(ds->n + 1, 1);
    x->transfer = bs_calloc(ds->n * nsources + 1, sizeof *x->transfer);
    int rc = has_all && order && chosen && x->transfer ? 0 : -1;
    for (size_t i = 0; i < ds->n && rc == 0; i++)
        has_all[ds->samples[i].source] |= ds->samples[i].label;
    for (size_t k = 0; k < nsources && rc == 0; k++) {
        size_t m = 0;
        for (size_t i = 0; i < ds->n; i++)
            if ((size_t)ds->samples[i].source == k) order[m++] = i;
        bs_rng rng;
        bs_rng_seed(&rng, bs_rng_derive_at(seed, 0x5354524eULL, k, 0));
        bs_rng_shuffle(&rng, order, m);
        for (size_t i = 0; i < m && (max == 0 || i < (size_t)max); i++) chosen[order[i]] = 1;
    }
    for (size_t i = 0; i < ds->n && rc == 0; i++) {
        const int from = ds->samples[i].source;
        for (size_t t = 0; chosen[i] && t < nsources; t++)
            if ((int)t != from && (has_all[from] || has_all[t]))
                x->transfer[x->ntransfer++] = (pending_row){i, BS_VIEW_ORIGINAL, (int)t};
    }
    free(has_all), free(order), free(chosen);
    return rc;
}

/* The sources' colours, when stain-transfer rows or transfer views need them. */
static int prepare_transfer(extract_run *x, const bs_extract_options *opt, int size) {
    const int views = opt->augment.transfer > 0;
    if (opt->stain_transfer < 0 && !views) return 0;
    const char *what = opt->stain_transfer >= 0 ? "--stain-transfer" : "the transfer views";
    const size_t nsources = x->ds->nsources ? x->ds->nsources : 1;
    if (nsources < 2)
        return bs_error("%s need%s at least two sources (a source column, sources.csv, or one "
                        "--data per source)",
                        what, views && opt->stain_transfer < 0 ? "" : "s");
    if (bs_dist_size() > 1) return bs_error("%s run in one process, not under mpirun", what);
    int rc = source_colours(x, nsources, size);
    if (rc == 0 && opt->stain_transfer >= 0)
        rc = plan_transfer(x, nsources, opt->stain_transfer, opt->seed);
    x->views.stats = x->colour;
    x->views.nsources = nsources;
    return rc;
}

/* FEATDIR/stain-transfer/index.csv: each recoloured row's original row and target source. */
static int write_transfer_index(const extract_run *x, const bs_feature_index *idx) {
    bs_transfer_index t = {x->ntransfer, bs_calloc(x->ntransfer + 1, sizeof(int64_t)),
                           bs_calloc(x->ntransfer + 1, sizeof(int))};
    char *dir = bs_path_join(x->outdir, BS_FEATDIR_TRANSFER);
    int rc = t.row && t.target && dir ? 0 : -1;
    for (size_t i = 0; i < x->ntransfer && rc == 0; i++) {
        t.row[i] = (int64_t)(x->transfer[i].sample * (size_t)x->views.n); /* the original view */
        t.target[i] = x->transfer[i].target;
    }
    if (rc == 0) rc = bs_featdir_write_transfer_index(dir, &t, idx);
    bs_transfer_index_free(&t);
    free(dir);
    return rc;
}

/* extract.json, near_duplicates.csv, then index.csv: the index goes last, so a folder with an
 * index is a complete folder. */
static int write_index(const extract_run *x, const backbone *bb, size_t nb) {
    const bs_dataset *ds = x->ds;
    bs_feature_index idx = {x->nrows, bs_calloc(x->nrows ? x->nrows : 1, sizeof(bs_feature_row)),
                            NULL, 0};
    if (!idx.rows) return -1;
    /* Names when there are several sources or the data named them; one --data alone keeps
     * writing the id 0, as before sources had names. */
    if (ds->source_names && (ds->sources_named || ds->nsources > 1)) {
        idx.source_names = ds->source_names;
        idx.nsources = ds->nsources;
    }
    for (size_t s = 0, r = 0; s < ds->n; s++)
        for (int v = 0; v < x->views.n; v++, r++)
            idx.rows[r] = (bs_feature_row){(long)r,
                                           ds->samples[s].path,
                                           ds->samples[s].label,
                                           ds->samples[s].class_name,
                                           ds->samples[s].group,
                                           x->views.views[v],
                                           ds->samples[s].source};
    int rc = write_manifest(x->outdir, bb, nb, &x->views.augment, x->nrows);
    if (rc == 0) rc = bs_featdir_write_near_duplicates(x->outdir, ds);
    if (rc == 0 && x->ntransfer) rc = write_transfer_index(x, &idx);
    if (rc == 0) rc = bs_featdir_write_index(x->outdir, &idx);
    free(idx.rows);
    return rc;
}

int bs_extract(const bs_dataset *ds, const bs_backbone_spec *specs, size_t nb,
               const bs_extract_options *opt, const char *outdir, bs_extract_stats *stats) {
    double t0 = bs_now();
    memset(stats, 0, sizeof *stats);
    if (nb == 0) return bs_error("no backbone given (--backbone M.onnx)");
    if (opt->batch < 1 || opt->batch > 1024)
        return bs_error("batch size %d out of range", opt->batch);
    const bs_augment *aug = &opt->augment;
    if (aug->hed < 0 || aug->hed > BS_VIEW_DRAWS || aug->scale < 0 || aug->scale > BS_VIEW_DRAWS ||
        aug->transfer < 0 || aug->transfer > BS_VIEW_DRAWS)
        return bs_error("augmentation asks for %d HED, %d scale and %d transfer views; at most %d "
                        "each",
                        aug->hed, aug->scale, aug->transfer, BS_VIEW_DRAWS);
    extract_run x = {.ds = ds,
                     .views = {.augment = opt->augment, .seed = opt->seed, .ds = ds},
                     .batch = (size_t)opt->batch,
                     .stats = stats,
                     .outdir = outdir};
    x.views.n = bs_augment_views(&opt->augment, x.views.views);
    x.nrows = ds->n * (size_t)x.views.n;
    int rc = bs_mkdir_p(outdir);
    /* Without a cache folder the rows still pass through one, private to this run. */
    char *cache_root = opt->cache ? bs_strdup(opt->cache) : bs_path_join(outdir, ".rows.tmp");
    backbone *bb = bs_calloc(nb, sizeof *bb);
    x.image_sha = bs_calloc(ds->n ? ds->n : 1, BS_SHA256_HEX);
    x.pending = bs_calloc(x.batch, sizeof *x.pending);
    if (!cache_root || !bb || !x.image_sha || !x.pending) rc = -1;
    if (rc == 0) rc = bs_mkdir_p(cache_root);
    if (rc == 0) rc = open_backbones(specs, nb, cache_root, x.batch, bb);
    if (rc == 0) rc = hash_images(ds, x.image_sha);
    if (rc == 0) rc = prepare_transfer(&x, opt, bb[0].size);
    if (rc == 0) bs_progress_start(&x.prog, "extract", (int64_t)((x.nrows + x.ntransfer) * nb));
    if (opt->quiet || bs_dist_rank() != 0) x.prog.enabled = 0;
    for (size_t bi = 0; bi < nb && rc == 0; bi++) rc = extract_backbone(&x, &bb[bi]);
    if (rc == 0) bs_progress_finish(&x.prog);
    if (rc == 0) rc = fill_info(opt->info, bb, nb);
    /* Under a job, rank 0 writes the index (and every other output). */
    if (rc == 0 && bs_dist_rank() == 0) rc = write_index(&x, bb, nb);
    if (!opt->cache && cache_root && bs_dist_rank() == 0) bs_rmtree(cache_root);
    for (size_t i = 0; bb && i < nb; i++) backbone_close(&bb[i]);
    free(bb);
    free(x.image_sha);
    free(x.pending);
    free(x.transfer);
    free(x.colour);
    free(cache_root);
    stats->rows = x.nrows;
    stats->transfer_rows = x.ntransfer;
    /* Under a job, return when the folder is complete, so any rank may read it next. */
    if (rc == 0) bs_dist_barrier();
    stats->seconds = bs_now() - t0;
    return rc;
}
