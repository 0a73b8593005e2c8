/* truth.c — reading white-cell annotations (boxes CSV, points CSV, ALL-IDB .xyc) and finding
 * an image's records (truth.h). Files are untrusted: every number is parsed whole, finite and
 * bounded, every row counted. Not for: matching (match.c). */
#define _GNU_SOURCE
#include "truth.h"

#include <ctype.h>
#include <glib.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/csv.h"
#include "core/error.h"
#include "core/io.h"

#define TRUTH_MAX_BYTES ((size_t)256 << 20)
#define TRUTH_MAX_COORD 1e7 /* far beyond any image side (2^28 pixels) */
#define XYC_MAX_POINTS 1000000

static int contains(const char *s, const char *word) { return strstr(s, word) != NULL; }

bs_truth_kind bs_truth_class_kind(const char *class_name) {
    char low[64];
    size_t n = 0;
    for (; class_name[n] && n + 1 < sizeof low; n++)
        low[n] = (char)tolower((unsigned char)class_name[n]);
    low[n] = '\0';
    if (n == 0)
        return BS_TRUTH_WHITE; /* a points file without classes: every point is a white cell */
    if (contains(low, "blast") || !strcmp(low, "all")) return BS_TRUTH_BLAST;
    static const char *const nonblast[] = {"lymph",   "mono",  "neutro", "eosin",  "baso",
                                           "granulo", "myelo", "band",   "segment"};
    for (size_t i = 0; i < sizeof nonblast / sizeof *nonblast; i++)
        if (contains(low, nonblast[i])) return BS_TRUTH_NONBLAST;
    static const char *const white[] = {"wbc", "white", "leuk", "leuc"};
    for (size_t i = 0; i < sizeof white / sizeof *white; i++)
        if (contains(low, white[i])) return BS_TRUTH_WHITE;
    return BS_TRUTH_OTHER;
}

void bs_truth_image_free(bs_truth_image *img) {
    if (!img) return;
    free(img->key);
    free(img->cells);
    memset(img, 0, sizeof *img);
}

void bs_truth_free(bs_truth *t) {
    if (!t) return;
    for (size_t i = 0; i < t->n; i++) bs_truth_image_free(&t->images[i]);
    free(t->images);
    memset(t, 0, sizeof *t);
}

static int push_cell(bs_truth_image *img, const bs_truth_cell *c) {
    if (img->n == img->cap) {
        size_t cap = img->cap ? 2 * img->cap : 8;
        bs_truth_cell *v = bs_realloc(img->cells, cap * sizeof *v);
        if (!v) return -1;
        img->cells = v;
        img->cap = cap;
    }
    img->cells[img->n++] = *c;
    return 0;
}

/* A whole, finite, bounded number. */
static int parse_coord(const char *s, const char *name, size_t row, const char *col, double *out) {
    char *end;
    double v = strtod(s, &end);
    while (end != s && isspace((unsigned char)*end)) end++;
    if (end == s || *end || !isfinite(v) || fabs(v) > TRUTH_MAX_COORD)
        return bs_error("%s: row %zu: %s '%.40s' is not a coordinate", name, row, col, s);
    *out = v;
    return 0;
}

/* The key an annotated image is known by: a bare name stays bare; a path is made absolute
 * (relative to the CSV's folder) and resolved when it exists. */
static char *image_key(const char *image, const char *csv_name, int *bare) {
    *bare = strchr(image, '/') == NULL;
    if (*bare) return bs_strdup(image);
    char *joined;
    if (image[0] == '/') {
        joined = bs_strdup(image);
    } else {
        char *dir = bs_strdup(csv_name);
        if (!dir) return NULL;
        char *slash = strrchr(dir, '/');
        if (slash)
            slash[1] = '\0';
        else
            strcpy(dir, ".");
        joined = bs_path_join(dir, image);
        free(dir);
    }
    if (!joined) return NULL;
    char *real = realpath(joined, NULL);
    if (real) {
        free(joined);
        return real;
    }
    return joined;
}

/* The image record of a row; index maps keys to positions (a table of many images stays
 * linear to read). */
static bs_truth_image *image_for(bs_truth *t, GHashTable *index, const char *image,
                                 const char *name) {
    int bare;
    char *key = image_key(image, name, &bare);
    if (!key) return NULL;
    gpointer pos;
    if (g_hash_table_lookup_extended(index, key, NULL, &pos)) {
        free(key);
        return &t->images[GPOINTER_TO_SIZE(pos)];
    }
    bs_truth_image *v = bs_realloc(t->images, (t->n + 1) * sizeof *v);
    if (!v) {
        free(key);
        return NULL;
    }
    t->images = v;
    bs_truth_image *img = &t->images[t->n++];
    memset(img, 0, sizeof *img);
    img->key = key;
    img->bare = bare;
    g_hash_table_insert(index, key, GSIZE_TO_POINTER(t->n - 1));
    return img;
}

typedef struct {
    int image, cls, x0, y0, x1, y1; /* column indices, -1 when absent */
    int boxes;
} columns;

static int find_columns(const bs_csv *csv, const char *name, columns *c) {
    c->image = bs_csv_column(csv, "image");
    c->cls = bs_csv_column(csv, "class");
    c->x0 = bs_csv_column(csv, "xmin");
    c->y0 = bs_csv_column(csv, "ymin");
    c->x1 = bs_csv_column(csv, "xmax");
    c->y1 = bs_csv_column(csv, "ymax");
    c->boxes = c->x0 >= 0 && c->y0 >= 0 && c->x1 >= 0 && c->y1 >= 0;
    if (!c->boxes) {
        c->x0 = c->x1 = bs_csv_column(csv, "x");
        c->y0 = c->y1 = bs_csv_column(csv, "y");
    }
    if (c->image < 0 || c->x0 < 0 || c->y0 < 0)
        return bs_error("%s: not a truth table: expected the columns image,class,xmin,ymin,xmax,"
                        "ymax (boxes) or image,x,y[,class] (points)",
                        name);
    return 0;
}

static int parse_row(bs_truth *t, GHashTable *index, char **row, const columns *c, const char *name,
                     size_t r) {
    if (!row[c->image][0]) return bs_error("%s: row %zu: empty image name", name, r);
    bs_truth_image *img = image_for(t, index, row[c->image], name);
    if (!img) return -1;
    bs_truth_kind kind = bs_truth_class_kind(c->cls >= 0 ? row[c->cls] : "");
    bs_truth_cell cell = {c->boxes, 0, 0, 0, 0, -1};
    if (parse_coord(row[c->x0], name, r, c->boxes ? "xmin" : "x", &cell.x0) ||
        parse_coord(row[c->y0], name, r, c->boxes ? "ymin" : "y", &cell.y0) ||
        parse_coord(row[c->x1], name, r, c->boxes ? "xmax" : "x", &cell.x1) ||
        parse_coord(row[c->y1], name, r, c->boxes ? "ymax" : "y", &cell.y1))
        return -1;
    if (cell.x1 < cell.x0 || cell.y1 < cell.y0)
        return bs_error("%s: row %zu: xmax < xmin or ymax < ymin", name, r);
    if (kind == BS_TRUTH_OTHER)
        return 0; /* a red cell or platelet: the image is annotated, the record ignored */
    if (kind != BS_TRUTH_WHITE) {
        cell.blast = kind == BS_TRUTH_BLAST;
        t->knows_blasts = 1;
    }
    return push_cell(img, &cell);
}

int bs_truth_parse(const char *text, size_t len, const char *name, bs_truth *out) {
    memset(out, 0, sizeof *out);
    bs_csv csv;
    if (bs_csv_parse(text, len, name, &csv)) return -1;
    columns c;
    int rc = find_columns(&csv, name, &c);
    out->all_white = 1;
    GHashTable *index = g_hash_table_new(g_str_hash, g_str_equal); /* keys owned by images */
    for (size_t r = 0; rc == 0 && r < csv.nrows; r++)
        rc = parse_row(out, index, csv.rows[r], &c, name, r + 2); /* line numbers: header is 1 */
    g_hash_table_destroy(index);
    bs_csv_free(&csv);
    if (rc == 0 && out->n == 0) rc = bs_error("%s: no annotated image", name);
    if (rc) bs_truth_free(out);
    return rc;
}

int bs_truth_read(const char *path, bs_truth *out) {
    memset(out, 0, sizeof *out);
    if (!strcmp(path, "xyc")) {
        out->xyc = 1;
        out->knows_blasts = 1;
        return 0;
    }
    unsigned char *buf;
    size_t len;
    if (bs_read_file(path, TRUTH_MAX_BYTES, &buf, &len)) return -1;
    int rc = bs_truth_parse((const char *)buf, len, path, out);
    free(buf);
    return rc;
}

int bs_truth_parse_xyc(const char *text, size_t len, const char *name, bs_truth_image *out) {
    memset(out, 0, sizeof *out);
    size_t line = 0;
    for (size_t p = 0; p < len;) {
        size_t e = p;
        while (e < len && text[e] != '\n') e++;
        line++;
        char buf[128];
        size_t linelen = e - p;
        size_t n = linelen < sizeof buf - 1 ? linelen : sizeof buf - 1;
        int has_nul = memchr(text + p, '\0', n) != NULL;
        memcpy(buf, text + p, n);
        buf[n] = '\0';
        p = e + 1;
        if (linelen >= sizeof buf - 1 || has_nul) goto bad;
        char *s = buf;
        while (*s && isspace((unsigned char)*s)) s++;
        if (!*s) continue;
        if (out->n >= XYC_MAX_POINTS) goto bad;
        char *end;
        double x = strtod(s, &end);
        if (end == s) goto bad;
        s = end;
        double y = strtod(s, &end);
        if (end == s) goto bad;
        while (*end && isspace((unsigned char)*end)) end++;
        if (*end || !isfinite(x) || !isfinite(y) || fabs(x) > TRUTH_MAX_COORD ||
            fabs(y) > TRUTH_MAX_COORD)
            goto bad;
        bs_truth_cell c = {0, x, y, x, y, 1};
        if (push_cell(out, &c)) {
            bs_truth_image_free(out);
            return -1;
        }
        continue;
    bad:
        bs_truth_image_free(out);
        return bs_error("%s: line %zu: expected \"x y\" (a blast centroid)", name, line);
    }
    return 0;
}

/* STEM.xyc beside the image, else in a sibling xyc/ folder of the image's folder (ALL-IDB1 is
 * published as im/ImNNN_L.jpg and xyc/ImNNN_L.xyc): DIR/../xyc/STEM.xyc. NULL when neither
 * exists (*err = 1 when out of memory). */
static char *find_xyc(const char *image_path, int *err) {
    const char *slash = strrchr(image_path, '/'), *name = slash ? slash + 1 : image_path;
    int dir = (int)(name - image_path), stem = (int)(bs_path_ext(name) - name);
    char *paths[2] = {bs_strfmt("%.*s%.*s.xyc", dir, image_path, stem, name),
                      bs_strfmt("%.*s../xyc/%.*s.xyc", dir, image_path, stem, name)};
    char *found = NULL;
    *err = !paths[0] || !paths[1];
    for (int k = 0; k < 2 && !*err && !found; k++)
        if (bs_file_exists(paths[k])) found = paths[k], paths[k] = NULL;
    free(paths[0]), free(paths[1]);
    return found;
}

static int lookup_xyc(const char *image_path, bs_truth_image *scratch, int *found) {
    memset(scratch, 0, sizeof *scratch);
    int err = 0;
    char *path = find_xyc(image_path, &err);
    if (err) return -1;
    if (!path) {
        *found = 0;
        return 0;
    }
    unsigned char *buf;
    size_t len;
    int rc = bs_read_file(path, TRUTH_MAX_BYTES, &buf, &len);
    if (rc == 0) {
        rc = bs_truth_parse_xyc((const char *)buf, len, path, scratch);
        free(buf);
    }
    free(path);
    *found = rc == 0;
    return rc;
}

int bs_truth_lookup(const bs_truth *t, const char *image_path, bs_truth_image *scratch,
                    const bs_truth_image **img, int *found) {
    *img = NULL;
    *found = 0;
    if (t->xyc) {
        if (lookup_xyc(image_path, scratch, found)) return -1;
        *img = *found ? scratch : NULL;
        return 0;
    }
    char *real = realpath(image_path, NULL);
    const char *base = strrchr(image_path, '/');
    base = base ? base + 1 : image_path;
    for (size_t i = 0; i < t->n && !*img; i++) {
        const bs_truth_image *ti = &t->images[i];
        if (ti->bare ? !strcmp(ti->key, base)
                     : (!strcmp(ti->key, image_path) || (real && !strcmp(ti->key, real))))
            *img = ti;
    }
    free(real);
    *found = *img != NULL;
    return 0;
}
