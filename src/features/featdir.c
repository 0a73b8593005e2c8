/* featdir.c — feature folders (see featdir.h). */
#define _GNU_SOURCE
#include "featdir.h"

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/csv.h"
#include "core/error.h"
#include "core/finite.h"
#include "core/io.h"

/* `source` came later: an index.csv without it still loads (every row source 0). */
static const char *const index_columns[] = {"id",    "path", "label", "class",
                                            "group", "view", "source"};
#define NCOLS 7
#define NREQUIRED 6

void bs_feature_index_free(bs_feature_index *idx) {
    for (size_t i = 0; i < idx->n; i++) {
        free(idx->rows[i].path);
        free(idx->rows[i].class_name);
        free(idx->rows[i].group);
    }
    free(idx->rows);
    memset(idx, 0, sizeof *idx);
}

int bs_featdir_write_index(const char *dir, const bs_feature_index *idx) {
    if (bs_mkdir_p(dir)) return -1;
    char *path = bs_path_join(dir, "index.csv");
    if (!path) return -1;
    bs_atomic_file af;
    if (bs_atomic_open(&af, path)) {
        free(path);
        return -1;
    }
    bs_csv_put_row(af.fp, index_columns, NCOLS);
    for (size_t i = 0; i < idx->n; i++) {
        const bs_feature_row *r = &idx->rows[i];
        char id[32], label[8], source[16];
        snprintf(id, sizeof id, "%ld", r->id);
        snprintf(label, sizeof label, "%d", r->label);
        snprintf(source, sizeof source, "%d", r->source);
        const char *f[NCOLS] = {
            id, r->path, label, r->class_name, r->group, bs_view_name(r->view), source};
        bs_csv_put_row(af.fp, f, NCOLS);
    }
    int rc = bs_atomic_commit(&af);
    free(path);
    return rc;
}

int bs_featdir_write_near_duplicates(const char *dir, const bs_dataset *ds) {
    if (bs_mkdir_p(dir)) return -1;
    char *path = bs_path_join(dir, "near_duplicates.csv");
    if (!path) return -1;
    bs_atomic_file af;
    if (bs_atomic_open(&af, path)) {
        free(path);
        return -1;
    }
    static const char *const header[] = {"path_a", "path_b", "score", "joined"};
    bs_csv_put_row(af.fp, header, 4);
    for (size_t p = 0; p < ds->npairs; p++) {
        const bs_dataset_pair *q = &ds->pairs[p];
        if (q->a >= ds->n || q->b >= ds->n) {
            bs_atomic_abort(&af);
            free(path);
            return bs_error("near-duplicate pair %zu names sample %zu of %zu", p, q->b, ds->n);
        }
        char score[32];
        snprintf(score, sizeof score, "%.4f", q->score);
        const char *f[4] = {ds->samples[q->a].path, ds->samples[q->b].path, score,
                            q->joined ? "1" : "0"};
        bs_csv_put_row(af.fp, f, 4);
    }
    int rc = bs_atomic_commit(&af);
    free(path);
    return rc;
}

static int parse_source(const char *text, int *out) {
    char *end;
    long v = strtol(text, &end, 10);
    if (!text[0] || *end || v < 0 || v > 65535) return -1;
    *out = (int)v;
    return 0;
}

/* Validate a parsed index.csv into idx; `path` names it in messages. Frees csv. */
static int index_from_csv(bs_csv *csv_in, const char *path, bs_feature_index *idx) {
    bs_csv csv = *csv_in;
    int col[NCOLS];
    int rc = 0;
    for (int c = 0; c < NCOLS && rc == 0; c++) {
        col[c] = bs_csv_column(&csv, index_columns[c]);
        if (col[c] < 0 && c < NREQUIRED)
            rc = bs_error("%s: missing column '%s' (need id,path,label,class,group,view)", path,
                          index_columns[c]);
    }
    if (rc == 0 && csv.nrows == 0) rc = bs_error("%s: no rows", path);
    if (rc == 0) {
        idx->rows = bs_calloc(csv.nrows, sizeof *idx->rows);
        if (!idx->rows) rc = -1;
    }
    for (size_t r = 0; r < csv.nrows && rc == 0; r++) {
        char **f = csv.rows[r];
        bs_feature_row *row = &idx->rows[r];
        char *end;
        long id = strtol(f[col[0]], &end, 10);
        if (!f[col[0]][0] || *end || id != (long)r) {
            rc = bs_error("%s:%zu: id '%s' should be %zu (rows in order)", path, r + 2, f[col[0]],
                          r);
            break;
        }
        const char *lab = f[col[2]];
        if (strcmp(lab, "0") != 0 && strcmp(lab, "1") != 0) {
            rc = bs_error("%s:%zu: label must be 0 or 1, not '%s'", path, r + 2, lab);
            break;
        }
        if (bs_view_from_name(f[col[5]], &row->view)) {
            rc = bs_error("%s:%zu: view must be original, hmirror, vmirror, hed1..hed%d or "
                          "scale1..scale%d, not '%s'",
                          path, r + 2, BS_VIEW_DRAWS, BS_VIEW_DRAWS, f[col[5]]);
            break;
        }
        if (col[6] >= 0 && parse_source(f[col[6]], &row->source)) {
            rc = bs_error("%s:%zu: source must be an integer 0..65535, not '%s'", path, r + 2,
                          f[col[6]]);
            break;
        }
        row->id = id;
        row->label = lab[0] - '0';
        row->path = bs_strdup(f[col[1]]);
        row->class_name = bs_strdup(f[col[3]]);
        row->group = bs_strdup(f[col[4]]);
        idx->n = r + 1;
        if (!row->path || !row->class_name || !row->group) rc = -1;
    }
    bs_csv_free(&csv);
    if (rc) bs_feature_index_free(idx);
    return rc;
}

int bs_featdir_read_index(const char *dir, bs_feature_index *idx) {
    memset(idx, 0, sizeof *idx);
    char *path = bs_path_join(dir, "index.csv");
    if (!path) return -1;
    bs_csv csv;
    int rc = bs_csv_read(path, &csv) ? -1 : index_from_csv(&csv, path, idx);
    free(path);
    return rc;
}

int bs_featdir_parse_index(const char *text, size_t len, const char *name, bs_feature_index *idx) {
    memset(idx, 0, sizeof *idx);
    bs_csv csv;
    if (bs_csv_parse(text, len, name, &csv)) return -1;
    return index_from_csv(&csv, name, idx);
}

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int bs_featdir_list_sets(const char *dir, char ***names, size_t *n) {
    *names = NULL;
    *n = 0;
    DIR *d = opendir(dir);
    if (!d) {
        int e = errno;
        return bs_error("%s: cannot read folder: %s", dir, strerror(e));
    }
    size_t cap = 0;
    struct dirent *ent;
    int rc = 0;
    while ((ent = readdir(d)) && rc == 0) {
        size_t len = strlen(ent->d_name);
        if (ent->d_name[0] == '.' || len <= 4 || strcmp(ent->d_name + len - 4, ".npy") != 0)
            continue;
        if (*n == cap) {
            cap = cap ? cap * 2 : 8;
            char **nn = bs_realloc(*names, cap * sizeof *nn);
            if (!nn) {
                rc = -1;
                break;
            }
            *names = nn;
        }
        (*names)[*n] = strndup(ent->d_name, len - 4);
        if (!(*names)[*n])
            rc = bs_error("out of memory");
        else
            (*n)++;
    }
    closedir(d);
    if (rc == 0 && *n) qsort(*names, *n, sizeof **names, cmp_str);
    return rc;
}

char *bs_featdir_set_path(const char *dir, const char *name) {
    char *file = bs_strfmt("%s.npy", name);
    if (!file) return NULL;
    char *p = bs_path_join(dir, file);
    free(file);
    return p;
}

int bs_featdir_read_set(const char *dir, const char *name, size_t expected_rows, bs_array *out) {
    char *path = bs_featdir_set_path(dir, name);
    if (!path) return -1;
    int rc = bs_npy_read(path, out);
    if (rc == 0 && (out->ndim != 2 || out->shape[0] != (int64_t)expected_rows || out->shape[1] < 1))
        rc = bs_error("%s: shape must be [%zu, D] to match index.csv", path, expected_rows);
    if (rc == 0 && bs_check_finite(out->data, out->shape[1], NULL, out->shape[0]))
        rc = bs_error_prefix("%s: ", path);
    if (rc) bs_array_free(out);
    free(path);
    return rc;
}
