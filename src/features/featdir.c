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
#include "core/strings.h"

/* `source` came later: an index.csv without it still loads (one source, "0"). */
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
    for (size_t k = 0; k < idx->nsources; k++) free(idx->source_names[k]);
    free(idx->source_names);
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
    int rc = 0;
    for (size_t i = 0; i < idx->n && rc == 0; i++) {
        const bs_feature_row *r = &idx->rows[i];
        char id[32], label[8], source[16];
        snprintf(id, sizeof id, "%ld", r->id);
        snprintf(label, sizeof label, "%d", r->label);
        snprintf(source, sizeof source, "%d", r->source);
        if (idx->source_names && (r->source < 0 || (size_t)r->source >= idx->nsources))
            rc = bs_error("index row %zu names source %d of %zu", i, r->source, idx->nsources);
        const char *f[NCOLS] = {id,
                                r->path,
                                label,
                                r->class_name,
                                r->group,
                                bs_view_name(r->view),
                                idx->source_names && rc == 0 ? idx->source_names[r->source]
                                                             : source};
        bs_csv_put_row(af.fp, f, NCOLS);
    }
    if (rc) {
        bs_atomic_abort(&af);
        free(path);
        return rc;
    }
    rc = bs_atomic_commit(&af);
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

/* Every row's source id from the `source` column (column c, -1: absent: one source "0"), dense
 * in order of first appearance, and the names into idx. */
static int index_sources(const bs_csv *csv, int c, const char *path, bs_feature_index *idx) {
    size_t n = csv->nrows, *first = bs_calloc(n, sizeof *first);
    const char **keys = bs_calloc(n, sizeof *keys);
    int64_t *ids = bs_calloc(n, sizeof *ids);
    idx->source_names = bs_calloc(n, sizeof *idx->source_names);
    int rc = first && keys && ids && idx->source_names ? 0 : -1;
    for (size_t r = 0; r < n && rc == 0; r++) {
        keys[r] = c >= 0 ? csv->rows[r][c] : "0";
        if (!keys[r][0]) rc = bs_error("%s:%zu: empty source", path, r + 2);
    }
    int64_t count = rc == 0 ? bs_dense_ids_seen(keys, n, ids, first) : -1;
    if (count < 0) rc = -1;
    for (size_t r = 0; r < n && rc == 0; r++) idx->rows[r].source = (int)ids[r];
    for (int64_t k = 0; k < count && rc == 0; k++, idx->nsources++)
        if (!(idx->source_names[k] = bs_strdup(keys[first[k]]))) rc = -1;
    free(first);
    free(keys);
    free(ids);
    return rc;
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
            rc = bs_error("%s:%zu: view must be original, hmirror, vmirror, hed1..hed%d, "
                          "scale1..scale%d or transfer1..transfer%d, not '%s'",
                          path, r + 2, BS_VIEW_DRAWS, BS_VIEW_DRAWS, BS_VIEW_DRAWS, f[col[5]]);
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
    if (rc == 0) rc = index_sources(&csv, col[6], path, idx);
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

void bs_transfer_index_free(bs_transfer_index *t) {
    free(t->row);
    free(t->target);
    memset(t, 0, sizeof *t);
}

int bs_featdir_write_transfer_index(const char *dir, const bs_transfer_index *t,
                                    const bs_feature_index *main) {
    if (bs_mkdir_p(dir)) return -1;
    char *path = bs_path_join(dir, "index.csv");
    bs_atomic_file af;
    if (!path || bs_atomic_open(&af, path)) {
        free(path);
        return -1;
    }
    static const char *const header[] = {"id", "row", "target"};
    bs_csv_put_row(af.fp, header, 3);
    for (size_t i = 0; i < t->n; i++) {
        char id[32], row[32], target[16];
        snprintf(id, sizeof id, "%zu", i);
        snprintf(row, sizeof row, "%lld", (long long)t->row[i]);
        snprintf(target, sizeof target, "%d", t->target[i]);
        const int named =
            main->source_names && t->target[i] >= 0 && (size_t)t->target[i] < main->nsources;
        const char *f[3] = {id, row, named ? main->source_names[t->target[i]] : target};
        bs_csv_put_row(af.fp, f, 3);
    }
    int rc = bs_atomic_commit(&af);
    free(path);
    return rc;
}

/* The source id of a name in main, or -1. */
static int source_of(const bs_feature_index *main, const char *name) {
    for (size_t k = 0; k < main->nsources; k++)
        if (strcmp(main->source_names[k], name) == 0) return (int)k;
    return -1;
}

int bs_featdir_read_transfer_index(const char *dir, const bs_feature_index *main,
                                   bs_transfer_index *out) {
    memset(out, 0, sizeof *out);
    char *path = bs_path_join(dir, "index.csv");
    bs_csv csv;
    if (!path || bs_csv_read(path, &csv)) {
        free(path);
        return -1;
    }
    int cid = bs_csv_column(&csv, "id"), crow = bs_csv_column(&csv, "row"),
        ctarget = bs_csv_column(&csv, "target");
    int rc = cid < 0 || crow < 0 || ctarget < 0
                 ? bs_error("%s: needs the columns id,row,target", path)
                 : 0;
    out->row = bs_calloc(csv.nrows + 1, sizeof *out->row);
    out->target = bs_calloc(csv.nrows + 1, sizeof *out->target);
    if (rc == 0 && (!out->row || !out->target)) rc = -1;
    for (size_t r = 0; r < csv.nrows && rc == 0; r++, out->n++) {
        char **f = csv.rows[r], *end;
        long long id = strtoll(f[cid], &end, 10);
        if (!f[cid][0] || *end || id != (long long)r)
            rc = bs_error("%s:%zu: id '%s' should be %zu (rows in order)", path, r + 2, f[cid], r);
        long long row = rc ? 0 : strtoll(f[crow], &end, 10);
        if (rc == 0 && (!f[crow][0] || *end || row < 0 || (size_t)row >= main->n ||
                        main->rows[row].view != BS_VIEW_ORIGINAL))
            rc =
                bs_error("%s:%zu: row '%s' is not an original row of the folder's index (%zu rows)",
                         path, r + 2, f[crow], main->n);
        int target = rc ? -1 : source_of(main, f[ctarget]);
        if (rc == 0 && target < 0)
            rc = bs_error("%s:%zu: target '%s' is not a source of the folder's index", path, r + 2,
                          f[ctarget]);
        out->row[r] = row;
        out->target[r] = target;
    }
    bs_csv_free(&csv);
    free(path);
    if (rc) bs_transfer_index_free(out);
    return rc;
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
