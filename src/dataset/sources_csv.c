/* sources_csv.c — a folder's sources.csv (dataset.h): the one reader of it, for the dataset
 * stage's folders and for the crop datasets cut from annotated boxes (field/crop_dataset.c).
 * Rows are kept sorted by the image's resolved path so a lookup is a binary search and any
 * spelling of the same file finds its row. Not for: naming sources that no file names (the
 * callers' fallbacks differ: the --data base name, the boxes' folder). */
#include <stdlib.h>
#include <string.h>

#include "core/csv.h"
#include "core/error.h"
#include "core/io.h"
#include "dataset.h"

typedef struct {
    char *key; /* the image's resolved path, else the joined one */
    char *source;
} source_row;

struct bs_sources_csv {
    char *path;
    source_row *rows;
    size_t n;
};

static int cmp_row(const void *a, const void *b) {
    return strcmp(((const source_row *)a)->key, ((const source_row *)b)->key);
}

static int add_rows(bs_sources_csv *t, const char *folder, const bs_csv *csv) {
    int ci = bs_csv_column(csv, "image"), cs = bs_csv_column(csv, "source");
    if (ci < 0 || cs < 0) return bs_error("%s: needs the columns image,source", t->path);
    t->rows = bs_calloc(csv->nrows ? csv->nrows : 1, sizeof *t->rows);
    if (!t->rows) return -1;
    for (size_t r = 0; r < csv->nrows; r++) {
        const char *img = csv->rows[r][ci];
        while (img[0] == '.' && img[1] == '/') img += 2;
        if (!img[0] || !csv->rows[r][cs][0]) continue; /* nothing to look up, or no name */
        char *joined = bs_path_join(folder, img);
        source_row *row = &t->rows[t->n];
        row->key = joined ? bs_path_resolved(joined) : NULL;
        row->source = bs_strdup(csv->rows[r][cs]);
        free(joined);
        t->n++;
        if (!row->key || !row->source) return -1;
    }
    qsort(t->rows, t->n, sizeof *t->rows, cmp_row);
    return 0;
}

int bs_sources_csv_open(const char *folder, bs_sources_csv **out) {
    *out = NULL;
    char *path = bs_path_join(folder, "sources.csv");
    if (!path) return -1;
    if (!bs_file_exists(path)) {
        free(path);
        return 0;
    }
    bs_sources_csv *t = bs_calloc(1, sizeof *t);
    if (!t) {
        free(path);
        return -1;
    }
    t->path = path;
    bs_csv csv;
    int rc = bs_csv_read(path, &csv);
    if (rc == 0) {
        rc = add_rows(t, folder, &csv);
        bs_csv_free(&csv);
    }
    if (rc) {
        bs_sources_csv_free(t);
        return -1;
    }
    *out = t;
    return 0;
}

const char *bs_sources_csv_lookup(const bs_sources_csv *t, const char *path) {
    if (!t || !t->n) return NULL;
    source_row key = {bs_path_resolved(path), NULL};
    if (!key.key) return NULL;
    const source_row *hit = bsearch(&key, t->rows, t->n, sizeof *t->rows, cmp_row);
    free(key.key);
    return hit ? hit->source : NULL;
}

const char *bs_sources_csv_path(const bs_sources_csv *t) { return t ? t->path : NULL; }

void bs_sources_csv_free(bs_sources_csv *t) {
    if (!t) return;
    for (size_t r = 0; r < t->n; r++) free(t->rows[r].key), free(t->rows[r].source);
    free(t->rows);
    free(t->path);
    free(t);
}
