/* featdir.h — a feature folder: index.csv (id,path,label,class,group,view,source) plus one
 * NAME.npy per feature set ([rows, dim] float32), rows in index order.
 *
 * This is the hand-over between extraction and the study: extraction writes it, the
 * experiment runner and users (numpy, pandas) read it. Every file is written atomically.
 * Reading validates the index and that every feature set has one row per index row.
 * Not for: computing features. */
#ifndef BS_FEATURES_FEATDIR_H
#define BS_FEATURES_FEATDIR_H

#include <stddef.h>

#include "core/npy.h"
#include "image/image.h"

typedef struct bs_feature_row {
    long id;          /* row number, 0-based, equal to the row's position */
    char *path;       /* source image */
    int label;        /* 1 = ALL, 0 = healthy */
    char *class_name;
    char *group;
    bs_view view;     /* original | hmirror | vmirror */
    int source;       /* index of the --data it came from (0 when index.csv has no source column) */
} bs_feature_row;

typedef struct bs_feature_index {
    size_t n;
    bs_feature_row *rows;
} bs_feature_index;

int bs_featdir_write_index(const char *dir, const bs_feature_index *idx);
int bs_featdir_read_index(const char *dir, bs_feature_index *idx);
/* Validate an in-memory index.csv (len bytes); `name` is used in messages. */
int bs_featdir_parse_index(const char *text, size_t len, const char *name, bs_feature_index *idx);
void bs_feature_index_free(bs_feature_index *idx);

/* Names (without .npy) of the feature sets in dir, sorted. */
int bs_featdir_list_sets(const char *dir, char ***names, size_t *n);
/* Read NAME.npy and check it is [expected_rows, D] with finite values. */
int bs_featdir_read_set(const char *dir, const char *name, size_t expected_rows, bs_array *out);
/* Path of NAME.npy in dir (malloc'd). */
char *bs_featdir_set_path(const char *dir, const char *name);

#endif
