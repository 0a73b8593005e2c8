/* featdir.h — a feature folder: index.csv (id,path,label,class,group,view,source) plus one
 * NAME.npy per feature set ([rows, dim] float32), rows in index order, and
 * near_duplicates.csv (path_a,path_b,score,joined: the pairs that decided the groups).
 *
 * This is the hand-over between extraction and the study: extraction writes it, the
 * experiment runner and users (numpy, pandas) read it. Every file is written atomically.
 * Reading validates the index and that every feature set has one row per index row.
 * Not for: computing features. */
#ifndef BS_FEATURES_FEATDIR_H
#define BS_FEATURES_FEATDIR_H

#include <stddef.h>
#include <stdint.h>

#include "core/npy.h"
#include "dataset/dataset.h"
#include "image/image.h"

typedef struct bs_feature_row {
    long id;    /* row number, 0-based, equal to the row's position */
    char *path; /* source image */
    int label;  /* 1 = ALL, 0 = healthy */
    char *class_name;
    char *group;
    bs_view view; /* original | hmirror | vmirror | hedK | scaleK */
    int source;   /* its source: an index into bs_feature_index.source_names */
} bs_feature_row;

/* index.csv's `source` column holds each row's source name (dataset.h: a manifest's `source`
 * column, a folder's sources.csv, or the --data base name). A folder made from one --data
 * without named sources writes the id 0 instead, as before names existed; an index without
 * the column reads as one source named "0". */
typedef struct bs_feature_index {
    size_t n;
    bs_feature_row *rows;
    char **source_names; /* nsources names, ids in order of first appearance; on writing, NULL
                            writes the ids themselves */
    size_t nsources;
} bs_feature_index;

int bs_featdir_write_index(const char *dir, const bs_feature_index *idx);
/* near_duplicates.csv: one row per verified near-duplicate pair of ds (by descending score),
 * path_a,path_b,score,joined (joined = 1 when the pair merged two groups); a header alone when
 * none (or the search was off). */
int bs_featdir_write_near_duplicates(const char *dir, const bs_dataset *ds);
int bs_featdir_read_index(const char *dir, bs_feature_index *idx);
/* Validate an in-memory index.csv (len bytes); `name` is used in messages. */
int bs_featdir_parse_index(const char *text, size_t len, const char *name, bs_feature_index *idx);
void bs_feature_index_free(bs_feature_index *idx);

/* Stain-transfer rows (extract --stain-transfer): original rows of the folder recoloured to
 * another source's colour statistics, in the sub-folder BS_FEATDIR_TRANSFER: index.csv
 * `id,row,target` (row: the id of the recoloured row in the folder's index.csv, an original
 * view; target: the name of the source whose statistics it was given) and one NAME.npy per
 * feature set of the folder, a row per index row. Read only with its folder's index. */
#define BS_FEATDIR_TRANSFER "stain-transfer"
typedef struct bs_transfer_index {
    size_t n;
    int64_t *row; /* the recoloured row of the main index */
    int *target;  /* a source of the main index */
} bs_transfer_index;

int bs_featdir_write_transfer_index(const char *dir, const bs_transfer_index *t,
                                    const bs_feature_index *main);
/* dir is the folder's BS_FEATDIR_TRANSFER sub-folder; every row must name an original row of
 * main and one of its sources. */
int bs_featdir_read_transfer_index(const char *dir, const bs_feature_index *main,
                                   bs_transfer_index *out);
void bs_transfer_index_free(bs_transfer_index *t);

/* Names (without .npy) of the feature sets in dir, sorted. */
int bs_featdir_list_sets(const char *dir, char ***names, size_t *n);
/* Read NAME.npy and check it is [expected_rows, D] with finite values. */
int bs_featdir_read_set(const char *dir, const char *name, size_t expected_rows, bs_array *out);
/* Path of NAME.npy in dir (malloc'd). */
char *bs_featdir_set_path(const char *dir, const char *name);
/* Every feature set of dir (name order, as bs_featdir_list_sets), each [rows, d_k], joined
 * column-wise into one row-major rows × width matrix *x (width = Σ d_k): the fused rows
 * [GSet | ISet | …] of `experiment`'s Exp 2 and of `train`. With names non-NULL, the sets'
 * names in that order go to *names / *nsets (the caller frees each and the array). */
int bs_featdir_read_joined(const char *dir, size_t rows, float **x, int64_t *width, char ***names,
                           size_t *nsets);

#endif
