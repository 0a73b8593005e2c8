/* dataset.h — finding the samples of one or more datasets: their paths, binary labels
 * (1 = ALL, 0 = healthy), class names and groups.
 *
 * Three layouts, detected per --data source:
 *   ALL-IDB        every image is named ImNNN_L.ext (L = 1 ALL, 0 healthy), at any depth;
 *                  .xyc side files are ignored;
 *   class folders  DIR/<class>/... ; classes listed as positive get label 1;
 *   manifest       a CSV file with columns path,label[,class][,group][,source] (paths
 *                  relative to it), and optionally cell_px,red_cell_px (a crop's scale:
 *                  cells --crops writes them; empty = unknown); other columns are ignored.
 * Several --data are fused into one dataset, in the order given, each sorted by path.
 *
 * Sources: the microscope, lab or dataset a sample comes from, by name: a manifest's `source`
 * column, else a folder's `sources.csv` (`image,source[,...]`, image relative to the folder, as
 * TXL-PBC ships it), else the --data argument's base name (a manifest's file stem). Two --data
 * whose base names are equal but paths differ keep apart under their paths as given. The
 * samples' source ids are dense, in order of first appearance, so one --data per source gives
 * the ids 0, 1, ... of the --data order.
 * Folders are walked following symbolic links, each real folder (device + inode) once: a link
 * back to a folder already listed (a loop, or a second way in) is skipped with a warning.
 *
 * Groups: every image is its own group unless a manifest ties it to others, and images
 * whose decoded pixels are byte-identical share a group (a leak-free split must keep them
 * together). Finding those means decoding every image, which also proves each is readable.
 * Not for: image preparation or features. */
#ifndef BS_DATASET_H
#define BS_DATASET_H

#include <stddef.h>
#include <stdint.h>

typedef struct bs_sample {
    char *path;            /* as reachable from the working directory */
    int label;             /* 1 = ALL (positive), 0 = healthy */
    char *class_name;      /* folder name, manifest class, or ALL/healthy for ALL-IDB */
    char *group;           /* samples sharing a group never straddle train and test */
    char pixel_sha256[65]; /* of the decoded RGB pixels; "" when not decoded */
    int source;            /* its source: an index into bs_dataset.source_names */
    int normalised;        /* a crop manifest's `normalised` column: 1 the field's colour was
                              normalised before cropping, 0 as photographed; -1 not given */
    /* the image's scale (image.h) from a manifest's cell_px,red_cell_px columns; 0 = unknown */
    double cell_px, red_cell_px;
} bs_sample;

/* A near-duplicate pair (bs_dataset_join_near_duplicates). */
typedef struct bs_dataset_pair {
    size_t a, b;  /* sample indices, a < b */
    double score; /* verified score (fine planes after alignment, neardup.h) */
    int joined;   /* 1 when this pair merged two groups */
} bs_dataset_pair;

typedef struct bs_dataset {
    size_t n;
    bs_sample *samples;
    bs_dataset_pair *pairs; /* near-duplicate pairs, by descending score; indices into samples */
    size_t npairs;
    char **source_names; /* nsources names, in order of first appearance */
    size_t nsources;
    int sources_named; /* 1: some name came from the data (a `source` column or sources.csv);
                          0: every source is a --data argument's base name */
} bs_dataset;

typedef enum { BS_ON_ERROR_STOP = 0, BS_ON_ERROR_SKIP = 1 } bs_on_error;

typedef struct bs_dataset_options {
    const char *const *positive; /* class names with label 1 (class-folder layout) */
    size_t npositive;
    bs_on_error on_error; /* SKIP: each file left out is a warning through core/log.h (bs_warn) */
    int decode; /* decode every image: validates it and joins exact duplicates (default on) */
} bs_dataset_options;

void bs_dataset_options_init(bs_dataset_options *opt);
int bs_dataset_open(const char *const *sources, size_t nsources, const bs_dataset_options *opt,
                    bs_dataset *out);
/* One manifest from memory (len bytes of CSV), as if it were the only source; `name` is its
 * path (messages, and the folder relative paths start from). */
int bs_dataset_parse_manifest(const char *text, size_t len, const char *name,
                              const bs_dataset_options *opt, bs_dataset *out);
void bs_dataset_free(bs_dataset *ds);

/* Keep a random subset of n samples with the dataset's class proportions (largest
 * remainder), in their original order; n = 0 or n >= size keeps everything. */
int bs_dataset_sample(bs_dataset *ds, size_t n, uint64_t seed);

/* Join the groups of near-duplicate images (neardup.h: the same field photographed again,
 * shifted or refocused): a pair must score >= threshold on the thumbnails and again on the
 * fine planes after alignment, and groups grow by average linkage (bs_neardup_link); 0.5
 * documented, <= 0 does nothing. Decodes every image again (candidates twice). Fills
 * ds->pairs with every verified pair; *joined_pairs (may be NULL) counts the pairs that merged
 * two groups. Call after bs_dataset_sample so a sample pays only for its own pairs (sampling
 * drops the pairs). */
int bs_dataset_join_near_duplicates(bs_dataset *ds, double threshold, int64_t *joined_pairs);

/* Warn (core/log.h) about every group that holds both labels, and every group of more than
 * BS_GROUP_WARN_SIZE images that duplicate or near-duplicate joins made (a group named by a
 * manifest may be large: a patient). Both are most likely false merges; a few members are
 * named. Returns the number of warnings. */
#define BS_GROUP_WARN_SIZE 8
#define BS_GROUP_WARN_SIZE_TEXT "8"
size_t bs_dataset_warn_groups(const bs_dataset *ds);

/* A folder's sources.csv (`image,source[,...]`, image relative to the folder, as TXL-PBC
 * ships it): the source each listed image comes from. Images are compared by resolved path,
 * so any spelling of a file (./a.jpg, a link) finds its row. No sources.csv: *out = NULL and
 * 0; unreadable or without the two columns: -1 with a message naming the file. */
typedef struct bs_sources_csv bs_sources_csv;
int bs_sources_csv_open(const char *folder, bs_sources_csv **out);
/* The source named for `path`; NULL when not listed (or t is NULL). */
const char *bs_sources_csv_lookup(const bs_sources_csv *t, const char *path);
const char *bs_sources_csv_path(const bs_sources_csv *t);
void bs_sources_csv_free(bs_sources_csv *t);

/* Counts for summaries. */
size_t bs_dataset_count_label(const bs_dataset *ds, int label);
size_t bs_dataset_count_groups(const bs_dataset *ds);

/* ids[i] (ds->n values): the dense id of sample i's group or class name, 0..count-1 in name
 * order (core/strings.h bs_dense_ids). Returns the count, or -1 when memory runs out. */
typedef enum { BS_SAMPLE_GROUP = 0, BS_SAMPLE_CLASS = 1 } bs_sample_key;
int64_t bs_dataset_ids(const bs_dataset *ds, bs_sample_key key, int64_t *ids);

#endif
