/* dataset.c — layout detection, labels, duplicate groups (see dataset.h). */
#define _GNU_SOURCE
#include "dataset.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "core/csv.h"
#include "core/error.h"
#include "core/io.h"
#include "core/log.h"
#include "core/rng.h"
#include "core/strings.h"
#include "core/unionfind.h"
#include "dataset/neardup.h"
#include "image/image.h"

#define MAX_DEPTH 16

void bs_dataset_options_init(bs_dataset_options *opt) {
    memset(opt, 0, sizeof *opt);
    opt->decode = 1;
}

/* ---------- small growable lists ---------- */

typedef struct {
    char **items;
    size_t n, cap;
} strlist;

static int strlist_push(strlist *l, char *s) {
    if (!s) return -1;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 64;
        char **it = bs_realloc(l->items, cap * sizeof *it);
        if (!it) {
            free(s);
            return -1;
        }
        l->items = it;
        l->cap = cap;
    }
    l->items[l->n++] = s;
    return 0;
}

static void strlist_free(strlist *l) {
    for (size_t i = 0; i < l->n; i++) free(l->items[i]);
    free(l->items);
    memset(l, 0, sizeof *l);
}

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* ---------- samples under construction ---------- */

typedef struct {
    bs_sample *s;
    size_t n, cap;
    char **manifest_group; /* parallel to s: group named by a manifest, or NULL */
    char **source;         /* parallel to s: source name from the data, or NULL (the default) */
} samples;

static int samples_push(samples *v, char *path, int label, char *class_name, char *mgroup,
                        char *source) {
    if (!path || !class_name) goto fail;
    if (v->n == v->cap) {
        size_t cap = v->cap ? v->cap * 2 : 256;
        bs_sample *s = bs_realloc(v->s, cap * sizeof *s);
        if (!s) goto fail;
        v->s = s;
        char **g = bs_realloc(v->manifest_group, cap * sizeof *g);
        if (!g) goto fail;
        v->manifest_group = g;
        char **src = bs_realloc(v->source, cap * sizeof *src);
        if (!src) goto fail;
        v->source = src;
        v->cap = cap;
    }
    memset(&v->s[v->n], 0, sizeof v->s[v->n]);
    v->s[v->n].path = path;
    v->s[v->n].label = label;
    v->s[v->n].class_name = class_name;
    v->s[v->n].normalised = -1;
    v->manifest_group[v->n] = mgroup;
    v->source[v->n] = source;
    v->n++;
    return 0;
fail:
    free(path);
    free(class_name);
    free(mgroup);
    free(source);
    return -1;
}

static void samples_free_extra(samples *v) {
    for (size_t i = 0; i < v->n; i++) {
        free(v->manifest_group[i]);
        free(v->source[i]);
    }
    free(v->manifest_group);
    free(v->source);
    v->manifest_group = v->source = NULL;
}

/* ---------- directory walking ---------- */

/* The real folders one walk has entered, by device and inode, with the path it entered each
 * by: a link back to one of them (a loop, or a second way to the same folder) is not followed
 * again, so a folder's images are listed once and a loop ends. */
typedef struct {
    dev_t *dev;
    ino_t *ino;
    char **path;
    size_t n, cap;
} folder_set;

static const char *folder_set_find(const folder_set *s, const struct stat *st) {
    for (size_t i = 0; i < s->n; i++)
        if (s->dev[i] == st->st_dev && s->ino[i] == st->st_ino) return s->path[i];
    return NULL;
}

static int folder_set_add(folder_set *s, const struct stat *st, const char *path) {
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 32;
        dev_t *dev = bs_realloc(s->dev, cap * sizeof *dev);
        if (dev) s->dev = dev;
        ino_t *ino = dev ? bs_realloc(s->ino, cap * sizeof *ino) : NULL;
        if (ino) s->ino = ino;
        char **p = ino ? bs_realloc(s->path, cap * sizeof *p) : NULL;
        if (!p) return -1;
        s->path = p;
        s->cap = cap;
    }
    if (!(s->path[s->n] = bs_strdup(path))) return -1;
    s->dev[s->n] = st->st_dev;
    s->ino[s->n] = st->st_ino;
    s->n++;
    return 0;
}

static void folder_set_free(folder_set *s) {
    for (size_t i = 0; i < s->n; i++) free(s->path[i]);
    free(s->dev);
    free(s->ino);
    free(s->path);
}

/* One walk over a dataset folder. Each real folder is listed once: `tree` holds the root and
 * the folders below it reached without a link (found first, so they are listed where they
 * are), `seen` every folder entered. A link to either is skipped with a warning, so a link
 * loop ends; a link to a folder outside the root is followed (once). */
typedef struct {
    const char *root;
    const bs_dataset_options *opt;
    folder_set tree, seen;
    strlist *out;
} walker;

/* Record in w->tree every folder below `dir` reachable without a link (to MAX_DEPTH). */
static int find_tree(walker *w, const char *dir, int depth) {
    DIR *d = opendir(dir);
    if (!d) return 0; /* the walk reports it */
    struct dirent *ent;
    int rc = 0;
    while (rc == 0 && (ent = readdir(d))) {
        if (ent->d_name[0] == '.') continue;
        char *child = bs_path_join(dir, ent->d_name);
        struct stat st;
        if (!child)
            rc = -1;
        else if (lstat(child, &st) == 0 && S_ISDIR(st.st_mode) && !folder_set_find(&w->tree, &st)) {
            rc = folder_set_add(&w->tree, &st, child);
            if (rc == 0 && depth + 1 < MAX_DEPTH) rc = find_tree(w, child, depth + 1);
        }
        free(child);
    }
    closedir(d);
    return rc;
}

/* The visible entries of folder `d` (closed here), sorted; its identity goes into w->seen. */
static int read_names(walker *w, DIR *d, const char *dir, strlist *names) {
    struct stat self;
    int rc = fstat(dirfd(d), &self) == 0 ? folder_set_add(&w->seen, &self, dir) : 0;
    struct dirent *ent;
    while (rc == 0 && (ent = readdir(d))) {
        if (ent->d_name[0] == '.') continue; /* hidden files, ., .. */
        rc = strlist_push(names, bs_strdup(ent->d_name));
    }
    closedir(d);
    if (names->n) qsort(names->items, names->n, sizeof *names->items, cmp_str);
    return rc;
}

/* The folder this sub-folder repeats (see walker), or NULL when it is to be entered. */
static const char *listed_already(const walker *w, const char *child, const struct stat *st) {
    const char *first = folder_set_find(&w->seen, st);
    struct stat ls;
    if (!first && lstat(child, &ls) == 0 && S_ISLNK(ls.st_mode))
        first = folder_set_find(&w->tree, st);
    return first;
}

/* Collect image files under root (relative paths, sorted). Unreadable sub-folders are
 * reported through on_error; the root itself must be readable. */
static int walk(walker *w, const char *rel, int depth) {
    char *dir = rel[0] ? bs_path_join(w->root, rel) : bs_strdup(w->root);
    if (!dir) return -1;
    DIR *d = opendir(dir);
    if (!d) {
        int e = errno;
        bs_error("%s: cannot read folder: %s", dir, strerror(e));
        free(dir);
        if (depth > 0 && w->opt->on_error == BS_ON_ERROR_SKIP) {
            bs_warn("%s", bs_error_message());
            return 0;
        }
        return -1;
    }
    strlist names = {0};
    int rc = read_names(w, d, dir, &names);
    for (size_t i = 0; i < names.n && rc == 0; i++) {
        char *child_rel = rel[0] ? bs_path_join(rel, names.items[i]) : bs_strdup(names.items[i]);
        char *child = bs_path_join(dir, names.items[i]);
        struct stat st;
        const char *first;
        if (!child_rel || !child)
            rc = -1;
        else if (stat(child, &st) != 0) {
            /* A dangling link or a file that vanished: not part of the data. */
        } else if (S_ISDIR(st.st_mode) && (first = listed_already(w, child, &st))) {
            char *msg = bs_strfmt(
                "%s: the same folder as %s (reached through a symbolic link); listed once", child,
                first);
            bs_warn("%s", msg ? msg : child);
            free(msg);
        } else if (S_ISDIR(st.st_mode)) {
            if (depth + 1 >= MAX_DEPTH)
                rc = bs_error("%s: folders nested deeper than %d", child, MAX_DEPTH);
            else
                rc = walk(w, child_rel, depth + 1);
        } else if (S_ISREG(st.st_mode) && bs_image_has_image_ext(names.items[i])) {
            rc = strlist_push(w->out, child_rel);
            child_rel = NULL;
        }
        free(child_rel);
        free(child);
    }
    strlist_free(&names);
    free(dir);
    return rc;
}

/* Walk `root` (see walker) into `files`. */
static int walk_root(const char *root, const bs_dataset_options *opt, strlist *files) {
    walker w = {root, opt, {0}, {0}, files};
    struct stat st;
    int rc = 0;
    if (stat(root, &st) == 0) rc = folder_set_add(&w.tree, &st, root);
    if (rc == 0) rc = find_tree(&w, root, 0);
    if (rc == 0) rc = walk(&w, "", 0);
    folder_set_free(&w.tree);
    folder_set_free(&w.seen);
    return rc;
}

/* ImNNN_L.ext -> L (0 or 1); -1 if the name is not ALL-IDB style. */
static int allidb_label(const char *rel) {
    const char *base = strrchr(rel, '/');
    base = base ? base + 1 : rel;
    if (strncmp(base, "Im", 2) != 0) return -1;
    const char *p = base + 2;
    if (!isdigit((unsigned char)*p)) return -1;
    while (isdigit((unsigned char)*p)) p++;
    if (p[0] != '_' || (p[1] != '0' && p[1] != '1') || p[2] != '.') return -1;
    return p[1] - '0';
}

static int is_healthy_name(const char *c) {
    static const char *const names[] = {"benign", "healthy",  "normal",
                                        "hem",    "negative", "control"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcasecmp(c, names[i]) == 0) return 1;
    return 0;
}

static int load_folder(const char *root, const bs_dataset_options *opt, samples *out) {
    strlist files = {0};
    if (walk_root(root, opt, &files)) {
        strlist_free(&files);
        return -1;
    }
    if (files.n == 0) {
        strlist_free(&files);
        return bs_error("%s: no images found (JPEG, TIFF, PNG or BMP)", root);
    }
    size_t allidb = 0;
    for (size_t i = 0; i < files.n; i++) allidb += allidb_label(files.items[i]) >= 0;
    int rc = 0;
    if (allidb == files.n) {
        for (size_t i = 0; i < files.n && rc == 0; i++) {
            int label = allidb_label(files.items[i]);
            rc = samples_push(out, bs_path_join(root, files.items[i]), label,
                              bs_strdup(label ? "ALL" : "healthy"), NULL, NULL);
        }
        strlist_free(&files);
        return rc;
    }
    /* Class folders: the first path component is the class. */
    strlist classes = {0};
    for (size_t i = 0; i < files.n && rc == 0; i++) {
        const char *slash = strchr(files.items[i], '/');
        if (!slash) {
            rc = bs_error(
                "%s/%s: an image at the top of a dataset folder, but not every image is named "
                "ImNNN_L (ALL-IDB); class folders expect DIR/<class>/image",
                root, files.items[i]);
            break;
        }
        size_t len = (size_t)(slash - files.items[i]);
        if (classes.n && strlen(classes.items[classes.n - 1]) == len &&
            strncmp(classes.items[classes.n - 1], files.items[i], len) == 0)
            continue;
        rc = strlist_push(&classes, strndup(files.items[i], len));
    }
    /* Which classes are positive: the user's list, or every class not named like a healthy one. */
    int *positive = rc ? NULL : bs_calloc(classes.n ? classes.n : 1, sizeof *positive);
    if (!rc && !positive) rc = -1;
    if (!rc && opt->npositive) {
        for (size_t p = 0; p < opt->npositive && rc == 0; p++) {
            int found = 0;
            for (size_t c = 0; c < classes.n; c++)
                if (strcmp(classes.items[c], opt->positive[p]) == 0) positive[c] = found = 1;
            if (!found) {
                char have[512] = "";
                for (size_t c = 0; c < classes.n; c++) {
                    if (c) strncat(have, ", ", sizeof have - strlen(have) - 1);
                    strncat(have, classes.items[c], sizeof have - strlen(have) - 1);
                }
                rc = bs_error("%s: --positive names class '%s', which is not here (classes: %s)",
                              root, opt->positive[p], have);
            }
        }
    } else if (!rc) {
        int healthy = 0;
        for (size_t c = 0; c < classes.n; c++) {
            positive[c] = !is_healthy_name(classes.items[c]);
            healthy += !positive[c];
        }
        if (!healthy)
            rc = bs_error(
                "%s: cannot tell which classes are ALL; name them with --positive CLASS,...", root);
    }
    for (size_t i = 0, c = 0; i < files.n && rc == 0; i++) {
        size_t len = (size_t)(strchr(files.items[i], '/') - files.items[i]);
        while (!(strlen(classes.items[c]) == len &&
                 strncmp(classes.items[c], files.items[i], len) == 0))
            c++;
        rc = samples_push(out, bs_path_join(root, files.items[i]), positive[c],
                          bs_strdup(classes.items[c]), NULL, NULL);
    }
    free(positive);
    strlist_free(&classes);
    strlist_free(&files);
    return rc;
}

/* A scale column's value (cell_px, red_cell_px: pixels of the image): empty is 0, unknown. */
static int parse_scale(const char *text, const char *path, size_t line, const char *column,
                       double *out) {
    *out = 0;
    if (!text[0]) return 0;
    char *end;
    double v = strtod(text, &end);
    if (*end || !isfinite(v) || v < 0 || v > 1e6)
        return bs_error(
            "%s:%zu: %s must be a number of pixels (0..1e6, empty if unknown), not '%s'", path,
            line, column, text);
    *out = v;
    return 0;
}

/* Rows of a parsed manifest (`path` names it and anchors relative paths). Frees csv. */
static int manifest_from_csv(bs_csv *csv_in, const char *path, const bs_dataset_options *opt,
                             samples *out) {
    bs_csv csv = *csv_in;
    int cpath = bs_csv_column(&csv, "path"), clabel = bs_csv_column(&csv, "label");
    int cclass = bs_csv_column(&csv, "class"), cgroup = bs_csv_column(&csv, "group");
    int csource = bs_csv_column(&csv, "source");
    int cnorm = bs_csv_column(&csv, "normalised"); /* crop manifests (cells --crops) */
    int ccell = bs_csv_column(&csv, "cell_px"), cred = bs_csv_column(&csv, "red_cell_px");
    int rc = 0;
    if (cpath < 0 || clabel < 0) {
        bs_csv_free(&csv);
        return bs_error("%s: a manifest needs the columns path,label[,class][,group][,source]",
                        path);
    }
    const char *slash = strrchr(path, '/');
    char *base = slash ? strndup(path, (size_t)(slash - path)) : bs_strdup(".");
    if (!base) rc = -1;
    for (size_t r = 0; r < csv.nrows && rc == 0; r++) {
        char **row = csv.rows[r];
        const char *lab = row[clabel];
        if (strcmp(lab, "0") != 0 && strcmp(lab, "1") != 0) {
            rc = bs_error("%s:%zu: label must be 0 (healthy) or 1 (ALL), not '%s'", path, r + 2,
                          lab);
            break;
        }
        if (!row[cpath][0]) {
            rc = bs_error("%s:%zu: empty path", path, r + 2);
            break;
        }
        char *full = row[cpath][0] == '/' ? bs_strdup(row[cpath]) : bs_path_join(base, row[cpath]);
        if (full && !bs_file_exists(full)) {
            bs_error("%s:%zu: %s: no such file", path, r + 2, full);
            free(full);
            if (opt->on_error == BS_ON_ERROR_SKIP) {
                bs_warn("%s", bs_error_message());
                continue;
            }
            rc = -1;
            break;
        }
        double cell_px = 0, red_cell_px = 0;
        if ((ccell >= 0 && parse_scale(row[ccell], path, r + 2, "cell_px", &cell_px)) ||
            (cred >= 0 && parse_scale(row[cred], path, r + 2, "red_cell_px", &red_cell_px))) {
            free(full);
            rc = -1;
            break;
        }
        int label = lab[0] - '0';
        const char *cls =
            (cclass >= 0 && row[cclass][0]) ? row[cclass] : (label ? "ALL" : "healthy");
        char *grp = (cgroup >= 0 && row[cgroup][0]) ? bs_strdup(row[cgroup]) : NULL;
        const char *norm = cnorm >= 0 ? row[cnorm] : "";
        if (norm[0] && strcmp(norm, "0") != 0 && strcmp(norm, "1") != 0) {
            free(full);
            free(grp);
            rc = bs_error("%s:%zu: normalised must be 0 (as photographed) or 1, not '%s'", path,
                          r + 2, norm);
            break;
        }
        char *src = (csource >= 0 && row[csource][0]) ? bs_strdup(row[csource]) : NULL;
        rc = samples_push(out, full, label, bs_strdup(cls), grp, src);
        if (rc == 0 && norm[0]) out->s[out->n - 1].normalised = norm[0] - '0';
        if (rc == 0)
            out->s[out->n - 1].cell_px = cell_px, out->s[out->n - 1].red_cell_px = red_cell_px;
    }
    free(base);
    bs_csv_free(&csv);
    return rc;
}

static int load_manifest(const char *path, const bs_dataset_options *opt, samples *out) {
    bs_csv csv;
    if (bs_csv_read(path, &csv)) return -1;
    return manifest_from_csv(&csv, path, opt, out);
}

/* ---------- sources: names from the data, defaults, dense ids ---------- */

/* The base name of a --data argument: a folder's last component, a manifest's file stem. */
static char *base_source_name(const char *arg) {
    size_t len = strlen(arg);
    while (len > 1 && arg[len - 1] == '/') len--;
    char *trimmed = strndup(arg, len);
    if (!trimmed) return NULL;
    const char *slash = strrchr(trimmed, '/');
    const char *base = slash && slash[1] ? slash + 1 : trimmed;
    char *name = strcasecmp(bs_path_ext(base), ".csv") == 0 ? bs_path_stem(base) : bs_strdup(base);
    free(trimmed);
    return name;
}

/* The default source name of --data argument i: its base name, or the argument as given when
 * another argument has the same base name (two folders named `images`). */
static char *default_source_name(const char *const *args, size_t nargs, size_t i) {
    char *mine = base_source_name(args[i]);
    for (size_t j = 0; mine && j < nargs; j++) {
        if (j == i || strcmp(args[j], args[i]) == 0) continue;
        char *other = base_source_name(args[j]);
        int clash = !other || strcmp(other, mine) == 0;
        free(other);
        if (clash) {
            free(mine);
            return bs_strdup(args[i]);
        }
    }
    return mine;
}

/* A folder's sources.csv (bs_sources_csv_open): the source of every sample v->s[first..] it
 * lists. No file: nothing to do. Samples it does not list keep the default, with one warning. */
static int read_sources_csv(const char *root, samples *v, size_t first) {
    bs_sources_csv *t;
    if (bs_sources_csv_open(root, &t)) return -1;
    if (!t) return 0;
    int rc = 0;
    size_t unlisted = 0;
    for (size_t i = first; i < v->n && rc == 0; i++) {
        const char *name = bs_sources_csv_lookup(t, v->s[i].path);
        if (!name) {
            unlisted++;
            continue;
        }
        free(v->source[i]);
        if (!(v->source[i] = bs_strdup(name))) rc = -1;
    }
    if (rc == 0 && unlisted)
        bs_warn("%s: %zu of the folder's %zu images are not listed; they keep the folder's name "
                "as their source",
                bs_sources_csv_path(t), unlisted, v->n - first);
    bs_sources_csv_free(t);
    return rc;
}

/* Samples v->s[first..] without a source name from the data get `name`. Returns 1 when some
 * of them had one, 0 when none, -1 on error. */
static int default_sources(samples *v, size_t first, const char *name) {
    int named = 0;
    for (size_t i = first; i < v->n; i++) {
        if (v->source[i]) {
            named = 1;
            continue;
        }
        if (!(v->source[i] = bs_strdup(name))) return -1;
    }
    return named;
}

/* Every sample's source id (its name's rank in order of first appearance) and the names. */
static int assign_sources(samples *v, bs_dataset *out) {
    size_t n = v->n, *first = bs_calloc(n ? n : 1, sizeof *first);
    int64_t *ids = bs_calloc(n ? n : 1, sizeof *ids);
    out->source_names = bs_calloc(n ? n : 1, sizeof *out->source_names);
    int64_t count = first && ids && out->source_names
                        ? bs_dense_ids_seen((const char *const *)v->source, n, ids, first)
                        : -1;
    int rc = count < 0 ? -1 : 0;
    for (size_t i = 0; i < n && rc == 0; i++) v->s[i].source = (int)ids[i];
    for (int64_t k = 0; k < count && rc == 0; k++, out->nsources++)
        if (!(out->source_names[k] = bs_strdup(v->source[first[k]]))) rc = -1;
    free(first);
    free(ids);
    return rc;
}

/* ---------- groups: union-find over manifest groups and identical pixels ---------- */

/* Join every set of equal keys (NULL and empty keys ignored). */
static int join_equal(int64_t *parent, size_t n, const char *const *keys) {
    int64_t *ids = bs_calloc(n ? n : 1, sizeof *ids), *first = bs_calloc(n ? n : 1, sizeof *first);
    int64_t count = ids && first ? bs_dense_ids(keys, n, ids) : -1;
    for (int64_t k = 0; k < count; k++) first[k] = -1;
    for (size_t i = 0; i < n && count >= 0; i++) {
        if (ids[i] < 0 || !keys[i][0]) continue;
        if (first[ids[i]] < 0)
            first[ids[i]] = (int64_t)i;
        else
            bs_uf_union(parent, first[ids[i]], (int64_t)i);
    }
    free(ids);
    free(first);
    return count < 0 ? -1 : 0;
}

static int assign_groups(samples *v) {
    size_t n = v->n;
    int64_t *parent = bs_calloc(n ? n : 1, sizeof *parent);
    const char **keys = bs_calloc(n ? n : 1, sizeof *keys);
    const char **named = bs_calloc(n ? n : 1, sizeof *named); /* per root: manifest group name */
    int rc = (parent && keys && named) ? 0 : -1;
    if (!rc) bs_uf_init(parent, (int64_t)n);
    for (size_t i = 0; i < n && !rc; i++) keys[i] = v->manifest_group[i];
    if (!rc) rc = join_equal(parent, n, keys);
    for (size_t i = 0; i < n && !rc; i++) keys[i] = v->s[i].pixel_sha256;
    if (!rc) rc = join_equal(parent, n, keys);
    /* Name each group: the smallest manifest group name among its members, else the path
     * of its first member. */
    for (size_t i = 0; i < n && !rc; i++) {
        int64_t r = bs_uf_find(parent, (int64_t)i);
        const char *mg = v->manifest_group[i];
        if (mg && (!named[r] || strcmp(mg, named[r]) < 0)) named[r] = mg;
    }
    for (size_t i = 0; i < n && !rc; i++) {
        int64_t r = bs_uf_find(parent, (int64_t)i);
        v->s[i].group = bs_strdup(named[r] ? named[r] : v->s[r].path);
        if (!v->s[i].group) rc = -1;
    }
    free(parent);
    free(keys);
    free(named);
    return rc;
}

/* Decode every image (in parallel): proves it is readable and gives its pixel hash.
 * Unreadable images are dropped (skip) or stop the run, as the user chose. */
static int decode_all(samples *v, const bs_dataset_options *opt) {
    size_t n = v->n;
    char **errors = bs_calloc(n ? n : 1, sizeof *errors);
    if (!errors) return -1;
    int oom = 0;
#pragma omp parallel for schedule(dynamic, 4)
    for (size_t i = 0; i < n; i++) {
        bs_image img;
        if (bs_image_load(v->s[i].path, &img) == 0) {
            bs_image_pixel_sha256(&img, v->s[i].pixel_sha256);
            bs_image_free(&img);
        } else {
            errors[i] = strdup(bs_error_message());
            if (!errors[i]) oom = 1;
        }
    }
    int rc = oom ? bs_error("out of memory") : 0;
    size_t kept = 0;
    for (size_t i = 0; i < n; i++) {
        if (errors[i] && rc == 0 && opt->on_error == BS_ON_ERROR_SKIP) {
            bs_warn("%s", errors[i]);
            free(errors[i]);
            free(v->s[i].path);
            free(v->s[i].class_name);
            free(v->manifest_group[i]);
            free(v->source[i]);
            continue;
        }
        if (errors[i] && rc == 0) rc = bs_error("%s", errors[i]);
        free(errors[i]);
        v->s[kept] = v->s[i];
        v->manifest_group[kept] = v->manifest_group[i];
        v->source[kept] = v->source[i];
        kept++;
    }
    v->n = kept;
    free(errors);
    return rc;
}

void bs_dataset_free(bs_dataset *ds) {
    for (size_t i = 0; i < ds->n; i++) {
        free(ds->samples[i].path);
        free(ds->samples[i].class_name);
        free(ds->samples[i].group);
    }
    for (size_t k = 0; k < ds->nsources; k++) free(ds->source_names[k]);
    free(ds->source_names);
    free(ds->samples);
    free(ds->pairs);
    memset(ds, 0, sizeof *ds);
}

static int finish_open(samples *vp, int rc, const bs_dataset_options *opt, bs_dataset *out);

/* Shared head of bs_dataset_open and bs_dataset_parse_manifest: the options to use (the
 * defaults in *defaults when opt is NULL) and an empty *out. */
static const bs_dataset_options *start_open(const bs_dataset_options *opt,
                                            bs_dataset_options *defaults, bs_dataset *out) {
    memset(out, 0, sizeof *out);
    if (opt) return opt;
    bs_dataset_options_init(defaults);
    return defaults;
}

int bs_dataset_open(const char *const *sources, size_t nsources, const bs_dataset_options *opt,
                    bs_dataset *out) {
    bs_dataset_options defaults;
    opt = start_open(opt, &defaults, out);
    samples v = {0};
    int rc = nsources ? 0 : bs_error("no dataset given (--data DIR)"), named = 0;
    for (size_t i = 0; i < nsources && rc == 0; i++) {
        size_t first = v.n; /* the samples this --data adds get its default source name below */
        struct stat st;
        if (stat(sources[i], &st) != 0) {
            int e = errno;
            rc = bs_error("%s: %s", sources[i], strerror(e));
        } else if (S_ISDIR(st.st_mode)) {
            rc = load_folder(sources[i], opt, &v);
            if (rc == 0) rc = read_sources_csv(sources[i], &v, first);
        } else if (strcasecmp(bs_path_ext(sources[i]), ".csv") == 0) {
            rc = load_manifest(sources[i], opt, &v);
        } else {
            rc = bs_error("%s: a dataset is a folder or a .csv manifest", sources[i]);
        }
        char *name = rc ? NULL : default_source_name(sources, nsources, i);
        int d = name ? default_sources(&v, first, name) : -1;
        if (rc == 0) rc = d < 0 ? -1 : 0;
        named |= d > 0;
        free(name);
    }
    out->sources_named = named;
    return finish_open(&v, rc, opt, out);
}

/* Shared tail of bs_dataset_open and bs_dataset_parse_manifest: duplicate paths, decoding,
 * groups. Takes ownership of v; rc is the status so far. */
static int finish_open(samples *vp, int rc, const bs_dataset_options *opt, bs_dataset *out) {
    samples v = *vp;
    /* The same file reached twice (two --data naming one folder) would be its own leak. */
    if (rc == 0 && v.n > 1) {
        const char **paths = bs_calloc(v.n, sizeof *paths);
        if (!paths) rc = -1;
        for (size_t i = 0; i < v.n && rc == 0; i++) paths[i] = v.s[i].path;
        if (rc == 0) {
            qsort(paths, v.n, sizeof *paths, cmp_str);
            for (size_t i = 1; i < v.n && rc == 0; i++)
                if (strcmp(paths[i], paths[i - 1]) == 0)
                    rc = bs_error("%s: listed twice", paths[i]);
        }
        free(paths);
    }
    if (rc == 0 && opt->decode) rc = decode_all(&v, opt);
    if (rc == 0 && v.n == 0) rc = bs_error("no readable images in the dataset");
    if (rc == 0) rc = assign_groups(&v);
    if (rc == 0) rc = assign_sources(&v, out);
    samples_free_extra(&v);
    out->samples = v.s;
    out->n = v.n;
    if (rc) bs_dataset_free(out);
    return rc;
}

int bs_dataset_parse_manifest(const char *text, size_t len, const char *name,
                              const bs_dataset_options *opt, bs_dataset *out) {
    bs_dataset_options defaults;
    opt = start_open(opt, &defaults, out);
    samples v = {0};
    bs_csv csv;
    int rc = bs_csv_parse(text, len, name, &csv) ? -1 : manifest_from_csv(&csv, name, opt, &v);
    char *base = rc ? NULL : base_source_name(name);
    int d = base ? default_sources(&v, 0, base) : -1;
    if (rc == 0 && d < 0) rc = -1;
    out->sources_named = d > 0;
    free(base);
    return finish_open(&v, rc, opt, out);
}

size_t bs_dataset_count_label(const bs_dataset *ds, int label) {
    size_t c = 0;
    for (size_t i = 0; i < ds->n; i++) c += ds->samples[i].label == label;
    return c;
}

int64_t bs_dataset_ids(const bs_dataset *ds, bs_sample_key key, int64_t *ids) {
    const char **names = bs_calloc(ds->n ? ds->n : 1, sizeof *names);
    if (!names) return -1;
    for (size_t i = 0; i < ds->n; i++)
        names[i] = key == BS_SAMPLE_CLASS ? ds->samples[i].class_name : ds->samples[i].group;
    int64_t count = bs_dense_ids(names, ds->n, ids);
    free(names);
    return count;
}

size_t bs_dataset_count_groups(const bs_dataset *ds) {
    /* A group is named after its first member, or a manifest name: count distinct names. */
    int64_t *ids = bs_calloc(ds->n ? ds->n : 1, sizeof *ids);
    int64_t c = ids ? bs_dataset_ids(ds, BS_SAMPLE_GROUP, ids) : -1;
    free(ids);
    return c < 0 ? 0 : (size_t)c;
}

/* Largest remainder: class c gets floor(n * count_c / total) plus one for the classes with
 * the largest fractional parts, so the sample has the dataset's class proportions. */
int bs_dataset_sample(bs_dataset *ds, size_t n, uint64_t seed) {
    if (n == 0 || n >= ds->n) return 0;
    size_t total = ds->n;
    /* Classes in first-appearance order. */
    const char **cls = bs_calloc(total, sizeof *cls);
    size_t *count = bs_calloc(total, sizeof *count), *quota = bs_calloc(total, sizeof *quota);
    size_t *of = bs_calloc(total, sizeof *of), *order = bs_calloc(total, sizeof *order);
    double *rem = bs_calloc(total, sizeof *rem);
    unsigned char *keep = bs_calloc(total, 1);
    int rc = (cls && count && quota && of && order && rem && keep) ? 0 : -1;
    size_t ncls = 0;
    for (size_t i = 0; i < total && rc == 0; i++) {
        size_t c = 0;
        while (c < ncls && strcmp(cls[c], ds->samples[i].class_name) != 0) c++;
        if (c == ncls) cls[ncls++] = ds->samples[i].class_name;
        of[i] = c;
        count[c]++;
    }
    size_t given = 0;
    for (size_t c = 0; c < ncls && rc == 0; c++) {
        double exact = (double)n * (double)count[c] / (double)total;
        quota[c] = (size_t)exact;
        rem[c] = exact - (double)quota[c];
        given += quota[c];
    }
    while (rc == 0 && given < n) {
        size_t best = 0;
        for (size_t c = 1; c < ncls; c++)
            if (rem[c] > rem[best]) best = c;
        quota[best]++;
        rem[best] = -1;
        given++;
    }
    bs_rng rng;
    bs_rng_seed(&rng, seed);
    for (size_t c = 0; c < ncls && rc == 0; c++) {
        size_t m = 0;
        for (size_t i = 0; i < total; i++)
            if (of[i] == c) order[m++] = i;
        bs_rng_shuffle(&rng, order, m);
        for (size_t j = 0; j < quota[c]; j++) keep[order[j]] = 1;
    }
    size_t kept = 0;
    for (size_t i = 0; i < total && rc == 0; i++) {
        if (keep[i]) {
            ds->samples[kept++] = ds->samples[i];
        } else {
            free(ds->samples[i].path);
            free(ds->samples[i].class_name);
            free(ds->samples[i].group);
        }
    }
    if (rc == 0) {
        ds->n = kept;
        free(ds->pairs); /* their indices named the samples before the cut */
        ds->pairs = NULL;
        ds->npairs = 0;
    }
    free(cls);
    free(count);
    free(quota);
    free(of);
    free(order);
    free(rem);
    free(keep);
    return rc;
}

/* Decode images `which[0..m)` again (in parallel) and give each to `plane` (thumbnail or fine
 * plane, `floats` values each) into out[k * floats]. */
static int near_planes(const bs_dataset *ds, const size_t *which, size_t m, size_t floats,
                       int (*plane)(const unsigned char *, int, int, float *), float *out) {
    int failed = 0;
    char *first_error = NULL;
#pragma omp parallel for schedule(dynamic, 8)
    for (size_t k = 0; k < m; k++) {
        bs_image img;
        int bad = bs_image_load(ds->samples[which[k]].path, &img) ||
                  plane(img.rgb, img.width, img.height, out + k * floats);
        if (img.rgb) bs_image_free(&img);
        if (bad) {
#pragma omp critical(bs_dataset_neardup_error)
            if (!failed) {
                failed = 1;
                first_error = strdup(bs_error_message());
            }
        }
    }
    int rc = failed ? bs_error("%s", first_error ? first_error : "cannot decode an image") : 0;
    free(first_error);
    return rc;
}

/* Candidate pairs (thumbnail score >= threshold) of every sample. */
static int near_candidates(const bs_dataset *ds, double threshold, bs_neardup_pair **pairs,
                           int64_t *np) {
    size_t n = ds->n;
    float *thumbs = bs_calloc(n, sizeof(float) * BS_NEARDUP_FLOATS);
    size_t *all = bs_calloc(n, sizeof *all);
    int rc = thumbs && all ? 0 : -1;
    for (size_t i = 0; i < n && rc == 0; i++) all[i] = i;
    if (rc == 0) rc = near_planes(ds, all, n, BS_NEARDUP_FLOATS, bs_neardup_thumbnail, thumbs);
    if (rc == 0) rc = bs_neardup_find(thumbs, (int64_t)n, threshold, pairs, np);
    free(thumbs);
    free(all);
    return rc;
}

/* Verify candidates on fine planes (decoding only their images) and keep those whose fine
 * score reaches threshold, compacting pairs in place. */
static int near_verify(const bs_dataset *ds, double threshold, bs_neardup_pair *pairs,
                       int64_t *np) {
    size_t n = ds->n, m = 0;
    size_t *slot = bs_malloc(sizeof *slot * n), *which = bs_malloc(sizeof *which * n);
    int rc = slot && which ? 0 : -1;
    for (size_t i = 0; i < n && rc == 0; i++) slot[i] = SIZE_MAX;
    for (int64_t p = 0; p < *np && rc == 0; p++)
        for (int e = 0; e < 2; e++) {
            size_t i = (size_t)(e ? pairs[p].b : pairs[p].a);
            if (slot[i] == SIZE_MAX) slot[i] = m, which[m++] = i;
        }
    float *fine = rc == 0 && m ? bs_calloc(m, sizeof(float) * BS_NEARDUP_FINE_FLOATS) : NULL;
    if (rc == 0 && m && !fine) rc = -1;
    if (rc == 0 && m) rc = near_planes(ds, which, m, BS_NEARDUP_FINE_FLOATS, bs_neardup_fine, fine);
    if (rc == 0) {
        int64_t count = *np;
#pragma omp parallel for schedule(dynamic, 4)
        for (int64_t p = 0; p < count; p++)
            pairs[p].fine = bs_neardup_verify(fine + slot[pairs[p].a] * BS_NEARDUP_FINE_FLOATS,
                                              fine + slot[pairs[p].b] * BS_NEARDUP_FINE_FLOATS,
                                              pairs[p].dx, pairs[p].dy);
    }
    int64_t kept = 0;
    for (int64_t p = 0; p < *np && rc == 0; p++)
        if (pairs[p].fine >= threshold) pairs[kept++] = pairs[p];
    if (rc == 0) *np = kept;
    free(fine);
    free(slot);
    free(which);
    return rc;
}

int bs_dataset_join_near_duplicates(bs_dataset *ds, double threshold, int64_t *joined_pairs) {
    if (joined_pairs) *joined_pairs = 0;
    free(ds->pairs);
    ds->pairs = NULL;
    ds->npairs = 0;
    size_t n = ds->n;
    if (n < 2 || threshold <= 0) return 0;
    bs_neardup_pair *pairs = NULL;
    int64_t npairs = 0;
    int rc = near_candidates(ds, threshold, &pairs, &npairs);
    if (rc == 0) rc = near_verify(ds, threshold, pairs, &npairs);
    if (rc == 0) rc = bs_neardup_link(pairs, npairs, (int64_t)n); /* also sorts by fine score */
    /* Union the existing groups (equal names) with the linked pairs; a joined group takes the
     * name of its first member's group. */
    int64_t *parent = rc == 0 ? bs_calloc(n, sizeof *parent) : NULL;
    const char **keys = rc == 0 ? bs_calloc(n, sizeof *keys) : NULL;
    ds->pairs = rc == 0 && npairs ? bs_calloc((size_t)npairs, sizeof *ds->pairs) : NULL;
    if (rc == 0 && (!parent || !keys || (npairs && !ds->pairs))) rc = -1;
    for (size_t i = 0; i < n && rc == 0; i++) keys[i] = ds->samples[i].group;
    if (rc == 0) bs_uf_init(parent, (int64_t)n);
    if (rc == 0) rc = join_equal(parent, n, keys);
    int64_t joined = 0;
    for (int64_t p = 0; p < npairs && rc == 0; p++) {
        /* Only linked pairs merge groups (bs_neardup_link: no chaining through one weak link). */
        int merge = pairs[p].linked && bs_uf_union(parent, pairs[p].a, pairs[p].b);
        joined += merge;
        ds->pairs[p] =
            (bs_dataset_pair){(size_t)pairs[p].a, (size_t)pairs[p].b, pairs[p].fine, merge};
    }
    if (rc == 0) ds->npairs = (size_t)npairs;
    for (size_t i = 0; i < n && rc == 0; i++) {
        size_t r = (size_t)bs_uf_find(parent, (int64_t)i);
        if (r == i || strcmp(ds->samples[i].group, ds->samples[r].group) == 0) continue;
        char *g = bs_strdup(ds->samples[r].group);
        if (!g) {
            rc = -1;
            break;
        }
        free(ds->samples[i].group);
        ds->samples[i].group = g;
    }
    if (joined_pairs) *joined_pairs = joined;
    free(keys);
    free(pairs);
    free(parent);
    return rc;
}

typedef struct {
    const char *group;
    size_t idx;
} grouped;

static int cmp_grouped(const void *a, const void *b) {
    const grouped *x = a, *y = b;
    int c = strcmp(x->group, y->group);
    return c ? c : (x->idx > y->idx) - (x->idx < y->idx);
}

/* One warning for the run g[0..m) of one group, when it holds both labels or is large and
 * was made by pixel joins (its name is a member's path, not a manifest's). */
static int warn_group(const bs_dataset *ds, const grouped *g, size_t m) {
    size_t all = 0, by_pixels = 0;
    for (size_t k = 0; k < m; k++) {
        all += ds->samples[g[k].idx].label == 1;
        by_pixels |= strcmp(ds->samples[g[k].idx].path, g[0].group) == 0;
    }
    int mixed = all && all < m, large = by_pixels && m > BS_GROUP_WARN_SIZE;
    if (!mixed && !large) return 0;
    char some[1024] = "";
    for (size_t k = 0; k < m && k < 3; k++)
        snprintf(some + strlen(some), sizeof some - strlen(some), "%s%s", k ? ", " : "",
                 ds->samples[g[k].idx].path);
    char why[64];
    snprintf(why, sizeof why, "%s%s%s", mixed ? "both labels" : "", mixed && large ? " and " : "",
             large ? "more than " BS_GROUP_WARN_SIZE_TEXT " images" : "");
    bs_warn("group %s holds %zu images (%zu ALL, %zu healthy: %s), e.g. %s%s; a false merge or a "
            "labelling "
            "error: check its pairs (near_duplicates.csv of extract) or raise --near-duplicates",
            g[0].group, m, all, m - all, why, some, m > 3 ? ", ..." : "");
    return 1;
}

size_t bs_dataset_warn_groups(const bs_dataset *ds) {
    if (ds->n == 0) return 0;
    grouped *g = bs_calloc(ds->n, sizeof *g);
    if (!g) return 0;
    for (size_t i = 0; i < ds->n; i++) g[i] = (grouped){ds->samples[i].group, i};
    qsort(g, ds->n, sizeof *g, cmp_grouped);
    size_t warned = 0;
    for (size_t i = 0, j; i < ds->n; i = j) {
        for (j = i + 1; j < ds->n && strcmp(g[j].group, g[i].group) == 0;) j++;
        warned += (size_t)warn_group(ds, g + i, j - i);
    }
    free(g);
    return warned;
}
