/* extract.h — deep features: every image (and, with augmentation, its mirrors and seeded HED
 * and scale jitter views, image.h) through every backbone, written as a feature folder
 * (featdir.h). The morphometric features (morphometry.h) are a backbone too, by name.
 *
 * Batched and streamed: rows go to disk as they are computed, so memory does not grow with
 * the dataset. A cache keyed by (model sha256, image-file sha256, view; for a jittered view
 * also its strength and seed; for morphometry also the sample's scale) keeps every computed
 * row, one small file each, written atomically: a re-run computes only what is new and an
 * interrupted run resumes where it stopped. Not for: training or evaluation. */
#ifndef BS_FEATURES_EXTRACT_H
#define BS_FEATURES_EXTRACT_H

#include <stddef.h>
#include <stdint.h>

#include "dataset/dataset.h"
#include "image/image.h"

typedef struct bs_backbone_spec {
    const char *path; /* ONNX file, or the word "morphometry" (features/morphometry.h: no network;
                         each image is decoded at its own size with its sample's scale) */
    int input_size;   /* 0: from metadata input_size (or the declared input shape) */
    const char *tap;  /* output to take; NULL: metadata feature_output, else "features" */
} bs_backbone_spec;

/* What a backbone resolved to (name, file hash, input side, tap, feature width). */
typedef struct bs_backbone_info {
    char name[256];
    char sha256[65];
    int input_size;
    char tap[256];
    int64_t dim;
} bs_backbone_info;

typedef struct bs_extract_options {
    bs_augment augment; /* views per image; zero: the original only */
    uint64_t seed;      /* --seed: each jittered view's seed is bs_view_seed(seed, the
                               image file's sha256, view) */
    int batch;          /* images per engine run (default 16) */
    const char *cache;  /* cache folder; NULL: no cache */
    int quiet;          /* no progress bar */
    /* Stain-transfer rows for the leave-one-source-out experiment's stain-shortcut test
     * (featdir.h BS_FEATDIR_TRANSFER): per source a seeded sample of at most this many images
     * (0: every image; < 0, the default: none), each image's original recoloured by Reinhard's
     * transfer from its source's colour statistics (over all its images, image/stain.h) to those
     * of every other source, where one of the two holds ALL images. Cached like the views. */
    long stain_transfer;
    bs_backbone_info *info; /* optional: one entry per backbone, filled by bs_extract */
} bs_extract_options;

typedef struct bs_extract_stats {
    size_t rows;          /* rows per feature set */
    size_t transfer_rows; /* stain-transfer rows per feature set */
    size_t computed;      /* rows computed by a network (summed over backbones) */
    size_t cached;        /* rows found in the cache */
    double seconds;
} bs_extract_stats;

void bs_extract_options_init(bs_extract_options *opt);
/* The default cache folder: $BLASTSCAN_CACHE, else $XDG_CACHE_HOME/blastscan, else
 * ~/.cache/blastscan (malloc'd; NULL if none can be named). */
char *bs_extract_default_cache(void);
int bs_extract(const bs_dataset *ds, const bs_backbone_spec *backbones, size_t nbackbones,
               const bs_extract_options *opt, const char *outdir, bs_extract_stats *stats);

#endif
