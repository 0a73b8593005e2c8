/* truth.c — reading white-cell annotations (boxes CSV, points CSV, ALL-IDB .xyc, YOLO label
 * files, Pascal VOC XML) and finding an image's records (truth.h). Files are untrusted: every
 * number is parsed whole, finite and bounded, every row, line and element counted, every
 * line and text bounded in length. Not for: matching (match.c). */
#define _GNU_SOURCE
#include "truth.h"

#include <ctype.h>
#include <errno.h>
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
    if (contains(low, "non") && contains(low, "blast")) return BS_TRUTH_NONBLAST; /* non-blast */
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
    free(img->path);
    for (size_t i = 0; img->meta && i < img->n; i++) {
        free(img->meta[i].class_name);
        free(img->meta[i].group);
        free(img->meta[i].source);
    }
    free(img->meta);
    free(img->cells);
    memset(img, 0, sizeof *img);
}

void bs_truth_free(bs_truth *t) {
    if (!t) return;
    for (size_t i = 0; i < t->n; i++) bs_truth_image_free(&t->images[i]);
    free(t->images);
    memset(t, 0, sizeof *t);
}

/* Room for one more record (and its meta when the image carries meta). */
static int grow(bs_truth_image *img) {
    if (img->n < img->cap) return 0;
    size_t cap = img->cap ? 2 * img->cap : 8;
    bs_truth_cell *v = bs_realloc(img->cells, cap * sizeof *v);
    if (!v) return -1;
    img->cells = v;
    if (img->meta) {
        bs_truth_meta *m = bs_realloc(img->meta, cap * sizeof *m);
        if (!m) return -1;
        img->meta = m;
    }
    img->cap = cap;
    return 0;
}

static int push_cell(bs_truth_image *img, const bs_truth_cell *c) {
    if (grow(img)) return -1;
    img->cells[img->n++] = *c;
    return 0;
}

/* A record with its own labels; the strings are copied. */
static int push_labelled(bs_truth_image *img, const bs_truth_cell *c, int label, const char *cls,
                         const char *group, const char *source) {
    if (!img->meta && img->n == 0) img->meta = bs_calloc(1, sizeof *img->meta);
    if (!img->meta || grow(img)) return -1;
    bs_truth_meta m = {label, bs_strdup(cls), bs_strdup(group), bs_strdup(source)};
    if (!m.class_name || !m.group || !m.source) {
        free(m.class_name), free(m.group), free(m.source);
        return -1;
    }
    img->meta[img->n] = m;
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
    char *key = joined ? bs_path_resolved(joined) : NULL;
    free(joined);
    return key;
}

/* The image file `image` (a bare name) in the folder of the table `name`, resolved; NULL when
 * it is not there. */
static char *beside_table(const char *image, const char *name) {
    const char *slash = strrchr(name, '/');
    char *path = slash ? bs_strfmt("%.*s/%s", (int)(slash - name), name, image) : bs_strdup(image);
    char *real = path ? realpath(path, NULL) : NULL;
    free(path);
    return real;
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
    if (!bare && bs_file_exists(key) && !(img->path = bs_strdup(key))) return NULL;
    if (bare) img->path = beside_table(image, name); /* a bare name there, if it is there */
    g_hash_table_insert(index, key, GSIZE_TO_POINTER(t->n - 1));
    return img;
}

typedef struct {
    int image, cls, x0, y0, x1, y1; /* column indices, -1 when absent */
    int label, group, source;       /* a corrections table's own labels */
    int boxes;
} columns;

static int find_columns(const bs_csv *csv, const char *name, columns *c) {
    c->image = bs_csv_column(csv, "image");
    c->cls = bs_csv_column(csv, "class");
    c->x0 = bs_csv_column(csv, "xmin");
    c->y0 = bs_csv_column(csv, "ymin");
    c->x1 = bs_csv_column(csv, "xmax");
    c->y1 = bs_csv_column(csv, "ymax");
    c->label = bs_csv_column(csv, "label");
    c->group = bs_csv_column(csv, "group");
    c->source = bs_csv_column(csv, "source");
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
    if (c->label < 0) return push_cell(img, &cell);
    const char *label = row[c->label];
    if (!label[0]) return 0; /* a reviewer's artefact or unsure cell: not a training record */
    if (strcmp(label, "0") && strcmp(label, "1"))
        return bs_error("%s: row %zu: label '%.40s' is not 0 or 1", name, r, label);
    cell.blast = label[0] == '1';
    t->knows_blasts = 1;
    return push_labelled(img, &cell, cell.blast, c->cls >= 0 ? row[c->cls] : "",
                         c->group >= 0 ? row[c->group] : "", c->source >= 0 ? row[c->source] : "");
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

int bs_truth_image_pixels(const bs_truth_image *in, int width, int height, bs_truth_image *out) {
    memset(out, 0, sizeof *out);
    if (in->n && !(out->cells = bs_malloc(in->n * sizeof *out->cells))) return -1;
    double sx = in->relative ? width : 1, sy = in->relative ? height : 1;
    for (size_t i = 0; i < in->n; i++) {
        bs_truth_cell c = in->cells[i];
        c.x0 *= sx, c.x1 *= sx, c.y0 *= sy, c.y1 *= sy;
        out->cells[i] = c;
    }
    out->n = out->cap = in->n;
    return 0;
}

/* Whether a truth image names the image at path (real: its resolved path, or NULL). */
static int names_image(const bs_truth_image *ti, const char *path, const char *real) {
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    if (ti->bare == 1) return !strcmp(ti->key, base);
    if (ti->bare == 2) {
        size_t stem = strlen(base) - strlen(bs_path_ext(base));
        return strlen(ti->key) == stem && !strncmp(ti->key, base, stem);
    }
    return !strcmp(ti->key, path) || (real && !strcmp(ti->key, real));
}

int bs_truth_lookup(const bs_truth *t, const char *image_path, int width, int height,
                    bs_truth_image *scratch, const bs_truth_image **img, int *found) {
    *img = NULL;
    *found = 0;
    memset(scratch, 0, sizeof *scratch);
    if (t->xyc) {
        if (lookup_xyc(image_path, scratch, found)) return -1;
        *img = *found ? scratch : NULL;
        return 0;
    }
    char *real = realpath(image_path, NULL);
    for (size_t i = 0; i < t->n && !*img; i++)
        if (names_image(&t->images[i], image_path, real)) *img = &t->images[i];
    free(real);
    *found = *img != NULL;
    if (*img && (*img)->relative) {
        if (width <= 0 || height <= 0)
            return bs_error("%s: the annotation is relative to the image size, which is unknown",
                            image_path);
        if (bs_truth_image_pixels(*img, width, height, scratch)) return -1;
        *img = scratch;
    }
    return 0;
}

/* ---- YOLO ----------------------------------------------------------------------------- */

#define LINE_MAX_CHARS 256
#define MAX_CLASSES 10000
#define LABEL_FILE_MAX_BYTES ((size_t)16 << 20)

/* The next line of text[*pos..len) into buf (NUL-terminated, '\r' dropped); 0 at the end, -1
 * when it is too long or holds a NUL. */
static int next_line(const char *text, size_t len, size_t *pos, char *buf, size_t cap) {
    if (*pos >= len) return 0;
    size_t e = *pos;
    while (e < len && text[e] != '\n') e++;
    size_t n = e - *pos;
    if (n > 0 && text[*pos + n - 1] == '\r') n--;
    int ok = n < cap && !memchr(text + *pos, '\0', n);
    if (ok) memcpy(buf, text + *pos, n), buf[n] = '\0';
    *pos = e + 1;
    return ok ? 1 : -1;
}

static char *trim(char *s) {
    while (*s && isspace((unsigned char)*s)) s++;
    size_t n = strlen(s);
    while (n > 0 && isspace((unsigned char)s[n - 1])) s[--n] = '\0';
    return s;
}

void bs_truth_classes_free(bs_truth_classes *c) {
    for (size_t i = 0; c && i < c->n; i++) free(c->names[i]);
    if (c) free(c->names), memset(c, 0, sizeof *c);
}

int bs_truth_parse_classes(const char *text, size_t len, const char *name, bs_truth_classes *out) {
    memset(out, 0, sizeof *out);
    char buf[LINE_MAX_CHARS];
    size_t pos = 0, line = 0, blank = 0;
    int r;
    while ((r = next_line(text, len, &pos, buf, sizeof buf)) != 0) {
        line++;
        char *s = r > 0 ? trim(buf) : NULL;
        if (s && !*s) {
            blank++; /* allowed at the end only: a class is its line's number */
            continue;
        }
        if (!s || blank || out->n >= MAX_CLASSES) {
            bs_truth_classes_free(out);
            return bs_error("%s: line %zu: expected one class name per line (at most %d of up "
                            "to %d characters, no blank line between)",
                            name, line, MAX_CLASSES, LINE_MAX_CHARS - 1);
        }
        char **v = bs_realloc(out->names, (out->n + 1) * sizeof *v);
        if (!v || !(v[out->n] = bs_strdup(s))) {
            if (v) out->names = v;
            bs_truth_classes_free(out);
            return -1;
        }
        out->names = v;
        out->n++;
    }
    if (out->n == 0) return bs_error("%s: no class name", name);
    return 0;
}

/* A new image of t keyed by the stem of the annotation file `name`. */
static bs_truth_image *stem_image(bs_truth *t, const char *name) {
    char *stem = bs_path_stem(name);
    bs_truth_image *v = stem ? bs_realloc(t->images, (t->n + 1) * sizeof *v) : NULL;
    if (!v) {
        free(stem);
        return NULL;
    }
    t->images = v;
    bs_truth_image *img = &t->images[t->n++];
    memset(img, 0, sizeof *img);
    img->key = stem;
    img->bare = 2;
    t->all_white = 1;
    return img;
}

/* A record of class `cls`: white cells kept (blast known when the class says), others not. */
static int add_classed(bs_truth *t, bs_truth_image *img, bs_truth_cell *cell, const char *cls) {
    bs_truth_kind kind = bs_truth_class_kind(cls);
    if (kind == BS_TRUTH_OTHER) return 0;
    if (kind != BS_TRUTH_WHITE) {
        cell->blast = kind == BS_TRUTH_BLAST;
        t->knows_blasts = 1;
    }
    return push_cell(img, cell);
}

/* "class cx cy w h": a class index and four fractions of the image (a box inside it). */
static int parse_yolo_line(char *s, size_t nclasses, long *cls, double v[4]) {
    char *end;
    errno = 0;
    *cls = strtol(s, &end, 10);
    if (end == s || errno || *cls < 0 || (size_t)*cls >= nclasses) return -1;
    for (int k = 0; k < 4; k++) {
        s = end;
        v[k] = strtod(s, &end);
        if (end == s || !isfinite(v[k]) || v[k] < -0.01 || v[k] > 1.01) return -1;
    }
    while (*end && isspace((unsigned char)*end)) end++;
    return *end || v[2] <= 0 || v[3] <= 0 ? -1 : 0;
}

int bs_truth_parse_yolo(const char *text, size_t len, const char *name,
                        const bs_truth_classes *classes, bs_truth *t) {
    bs_truth_image *img = stem_image(t, name);
    if (!img) return -1;
    img->relative = 1;
    char buf[LINE_MAX_CHARS];
    size_t pos = 0, line = 0;
    int r;
    while ((r = next_line(text, len, &pos, buf, sizeof buf)) != 0) {
        line++;
        char *s = r > 0 ? trim(buf) : NULL;
        if (s && !*s) continue;
        long cls;
        double v[4];
        if (!s || img->n >= XYC_MAX_POINTS || parse_yolo_line(s, classes->n, &cls, v))
            return bs_error("%s: line %zu: expected \"class cx cy w h\" (a class of the %zu in "
                            "classes.txt, then fractions of the image)",
                            name, line, classes->n);
        bs_truth_cell cell = {1, v[0] - v[2] / 2, v[1] - v[3] / 2, v[0] + v[2] / 2, v[1] + v[3] / 2,
                              -1};
        if (add_classed(t, img, &cell, classes->names[cls])) return -1;
    }
    return 0;
}

/* ---- Pascal VOC ----------------------------------------------------------------------- */

#define VOC_MAX_DEPTH 64
static const char *const voc_coords[4] = {"xmin", "ymin", "xmax", "ymax"};

/* What the GMarkup callbacks know: where in the tree they are and the object being read. */
typedef struct {
    bs_truth *t;
    bs_truth_image *img;
    int depth, in_object, in_bndbox;
    char leaf[16];  /* the element whose text is wanted ("" none) */
    char text[128]; /* its text so far */
    size_t text_n;
    char name[128]; /* the object's class */
    double box[4];
    int have_name, have[4], failed; /* failed: no memory */
    char *filename;
} voc_state;

static void voc_fail(GError **error, const char *what) {
    g_set_error(error, G_MARKUP_ERROR, G_MARKUP_ERROR_INVALID_CONTENT, "%s", what);
}

static void voc_start(GMarkupParseContext *ctx, const gchar *el, const gchar **an, const gchar **av,
                      gpointer data, GError **error) {
    (void)ctx, (void)an, (void)av;
    voc_state *st = data;
    st->leaf[0] = '\0';
    if (++st->depth > VOC_MAX_DEPTH) {
        voc_fail(error, "elements nested too deep");
        return;
    }
    if (st->depth == 1 && strcmp(el, "annotation")) {
        voc_fail(error, "the root element is not <annotation>");
        return;
    }
    int leaf = 0;
    if (st->depth == 2 && !strcmp(el, "object")) {
        st->in_object = 1, st->have_name = 0;
        memset(st->have, 0, sizeof st->have);
    } else if (st->depth == 2 && !strcmp(el, "filename")) {
        leaf = 1;
    } else if (st->in_object && st->depth == 3 && !strcmp(el, "bndbox")) {
        st->in_bndbox = 1;
    } else if (st->in_object && st->depth == 3 && !strcmp(el, "name")) {
        leaf = 1;
    } else if (st->in_bndbox && st->depth == 4) {
        for (int k = 0; k < 4; k++) leaf |= !strcmp(el, voc_coords[k]);
    }
    if (leaf) snprintf(st->leaf, sizeof st->leaf, "%s", el), st->text_n = 0;
}

static void voc_text(GMarkupParseContext *ctx, const gchar *text, gsize len, gpointer data,
                     GError **error) {
    (void)ctx;
    voc_state *st = data;
    if (!st->leaf[0]) return;
    if (len >= sizeof st->text - st->text_n) {
        voc_fail(error, "a value is too long");
        return;
    }
    memcpy(st->text + st->text_n, text, len);
    st->text_n += len;
    st->text[st->text_n] = '\0';
}

/* The end of a leaf: the object's class, a coordinate or the image's file name. */
static void voc_leaf(voc_state *st, GError **error) {
    st->text[st->text_n] = '\0';
    char *s = trim(st->text);
    if (!strcmp(st->leaf, "filename")) {
        free(st->filename);
        if (!(st->filename = bs_strdup(s))) st->failed = 1;
    } else if (!strcmp(st->leaf, "name")) {
        snprintf(st->name, sizeof st->name, "%s", s);
        st->have_name = 1;
    } else {
        for (int k = 0; k < 4; k++) {
            if (strcmp(st->leaf, voc_coords[k])) continue;
            char *end;
            double v = strtod(s, &end);
            if (end == s || *end || !isfinite(v) || fabs(v) > TRUTH_MAX_COORD) {
                voc_fail(error, "a bndbox coordinate is not a number");
                return;
            }
            st->box[k] = v, st->have[k] = 1;
        }
    }
    st->leaf[0] = '\0';
}

static void voc_end(GMarkupParseContext *ctx, const gchar *el, gpointer data, GError **error) {
    (void)ctx;
    voc_state *st = data;
    if (st->leaf[0]) voc_leaf(st, error);
    if (st->depth == 3 && st->in_bndbox && !strcmp(el, "bndbox")) st->in_bndbox = 0;
    if (st->depth == 2 && st->in_object && !strcmp(el, "object")) {
        st->in_object = 0;
        if (!st->have_name || !st->have[0] || !st->have[1] || !st->have[2] || !st->have[3]) {
            voc_fail(error, "an <object> without <name> or a whole <bndbox>");
            return;
        }
        if (st->box[2] < st->box[0] || st->box[3] < st->box[1]) {
            voc_fail(error, "an <object> with xmax < xmin or ymax < ymin");
            return;
        }
        if (st->img->n >= XYC_MAX_POINTS) {
            voc_fail(error, "too many objects");
            return;
        }
        bs_truth_cell cell = {1, st->box[0], st->box[1], st->box[2], st->box[3], -1};
        if (add_classed(st->t, st->img, &cell, st->name)) st->failed = 1;
    }
    if (st->failed) voc_fail(error, "out of memory");
    st->depth--;
}

int bs_truth_parse_voc(const char *text, size_t len, const char *name, bs_truth *t,
                       char **filename) {
    if (filename) *filename = NULL;
    if (len > TRUTH_MAX_BYTES || len > G_MAXSSIZE)
        return bs_error("%s: larger than %zu bytes", name, TRUTH_MAX_BYTES);
    voc_state st;
    memset(&st, 0, sizeof st);
    st.t = t;
    if (!(st.img = stem_image(t, name))) return -1;
    if (len >= 3 && !memcmp(text, "\xEF\xBB\xBF", 3)) text += 3, len -= 3; /* a UTF-8 BOM */
    static const GMarkupParser parser = {voc_start, voc_end, voc_text, NULL, NULL};
    GMarkupParseContext *ctx =
        g_markup_parse_context_new(&parser, G_MARKUP_PREFIX_ERROR_POSITION, &st, NULL);
    GError *err = NULL;
    int ok = g_markup_parse_context_parse(ctx, text, (gssize)len, &err) &&
             g_markup_parse_context_end_parse(ctx, &err);
    g_markup_parse_context_free(ctx);
    int rc = 0;
    if (st.failed)
        rc = -1;
    else if (!ok || st.depth != 0)
        rc = bs_error("%s: not a Pascal VOC annotation: %s", name,
                      err ? err->message : "no <annotation> element");
    if (err) g_error_free(err);
    if (rc == 0 && filename)
        *filename = st.filename;
    else
        free(st.filename);
    return rc;
}

/* ---- a folder of YOLO or VOC files ---------------------------------------------------- */

#define FOLDER_MAX_FILES 1000000

static char *parent_dir(const char *dir) { return bs_path_join(dir, ".."); }

/* classes.txt in the labels folder or its parent. */
static int read_classes(const char *dir, bs_truth_classes *out) {
    char *parent = parent_dir(dir);
    char *in = bs_path_join(dir, "classes.txt"),
         *up = parent ? bs_path_join(parent, "classes.txt") : NULL;
    int rc = -1;
    const char *path = in && bs_file_exists(in) ? in : up && bs_file_exists(up) ? up : NULL;
    if (!in || !up)
        rc = -1;
    else if (!path)
        rc = bs_error("%s: YOLO label files without a classes.txt here or in the folder above "
                      "(one class name per line: line k names class k)",
                      dir);
    else {
        unsigned char *buf;
        size_t len;
        rc = bs_read_file(path, LABEL_FILE_MAX_BYTES, &buf, &len);
        if (rc == 0) {
            rc = bs_truth_parse_classes((const char *)buf, len, path, out);
            free(buf);
        }
    }
    free(parent), free(in), free(up);
    return rc;
}

static const char *const image_exts[] = {".jpg", ".jpeg", ".png", ".tif", ".tiff", ".bmp",
                                         ".JPG", ".JPEG", ".PNG", ".TIF", ".TIFF", ".BMP"};

/* The image an annotation file in dir names: `filename` (VOC's, may be NULL) or STEM.EXT, in
 * dir, ../images, ../JPEGImages or ..; resolved, or NULL when none exists. */
static char *find_image(const char *dir, const char *stem, const char *filename) {
    char *parent = parent_dir(dir);
    if (!parent) return NULL;
    char *dirs[4] = {bs_strdup(dir), bs_path_join(parent, "images"),
                     bs_path_join(parent, "JPEGImages"), bs_strdup(parent)};
    char *found = NULL;
    size_t next = sizeof image_exts / sizeof *image_exts;
    for (int d = 0; d < 4 && !found; d++) {
        for (size_t e = filename ? 0 : 1; dirs[d] && e <= next && !found; e++) {
            char *name = e == 0 ? bs_strdup(filename) : bs_strfmt("%s%s", stem, image_exts[e - 1]);
            char *path = name && !strchr(name, '/') ? bs_path_join(dirs[d], name) : NULL;
            if (path && bs_file_exists(path)) found = realpath(path, NULL);
            free(name), free(path);
        }
    }
    for (int d = 0; d < 4; d++) free(dirs[d]);
    free(parent);
    return found;
}

/* One annotation file of a folder: YOLO .txt (classes read on first need) or VOC .xml. */
static int read_annotation(bs_truth *t, const char *dir, const char *file,
                           bs_truth_classes *classes) {
    int yolo = !strcmp(bs_path_ext(file), ".txt");
    if (yolo && !classes->n && read_classes(dir, classes)) return -1;
    char *path = bs_path_join(dir, file), *filename = NULL;
    unsigned char *buf = NULL;
    size_t len;
    int rc = !path || bs_read_file(path, LABEL_FILE_MAX_BYTES, &buf, &len) ? -1 : 0;
    if (rc == 0)
        rc = yolo ? bs_truth_parse_yolo((const char *)buf, len, path, classes, t)
                  : bs_truth_parse_voc((const char *)buf, len, path, t, &filename);
    if (rc == 0) {
        bs_truth_image *img = &t->images[t->n - 1];
        img->path = find_image(dir, img->key, filename);
    }
    free(filename), free(buf), free(path);
    return rc;
}

static gint by_name(gconstpointer a, gconstpointer b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every .txt (but classes.txt) and .xml file of dir, in name order. */
static int read_folder(const char *dir, bs_truth *t) {
    GError *err = NULL;
    GDir *d = g_dir_open(dir, 0, &err);
    if (!d) {
        int rc = bs_error("%s: cannot list the folder: %s", dir, err->message);
        g_error_free(err);
        return rc;
    }
    GPtrArray *names = g_ptr_array_new_with_free_func(g_free);
    const char *name;
    int rc = 0;
    while ((name = g_dir_read_name(d)) && rc == 0) {
        const char *ext = bs_path_ext(name);
        if ((strcmp(ext, ".txt") || !strcmp(name, "classes.txt")) && strcmp(ext, ".xml")) continue;
        if (names->len >= FOLDER_MAX_FILES)
            rc = bs_error("%s: more than %d annotation files", dir, FOLDER_MAX_FILES);
        else
            g_ptr_array_add(names, g_strdup(name));
    }
    g_dir_close(d);
    g_ptr_array_sort(names, by_name);
    if (rc == 0 && names->len == 0)
        rc = bs_error("%s: no YOLO label file (.txt) or Pascal VOC annotation (.xml)", dir);
    bs_truth_classes classes = {0};
    for (guint i = 0; rc == 0 && i < names->len; i++)
        rc = read_annotation(t, dir, g_ptr_array_index(names, i), &classes);
    bs_truth_classes_free(&classes);
    g_ptr_array_free(names, TRUE);
    return rc;
}

int bs_truth_read(const char *path, bs_truth *out) {
    memset(out, 0, sizeof *out);
    if (!strcmp(path, "xyc")) {
        out->xyc = 1;
        out->knows_blasts = 1;
        return 0;
    }
    int rc;
    if (bs_is_dir(path)) {
        rc = read_folder(path, out);
    } else if (!strcmp(bs_path_ext(path), ".xml")) {
        char *dir = bs_strdup(path), *slash = dir ? strrchr(dir, '/') : NULL;
        const char *file = slash ? slash + 1 : path;
        if (slash) *slash = '\0';
        bs_truth_classes none = {0};
        rc = dir ? read_annotation(out, !slash ? "." : dir[0] ? dir : "/", file, &none) : -1;
        free(dir);
    } else {
        unsigned char *buf;
        size_t len;
        if (bs_read_file(path, TRUTH_MAX_BYTES, &buf, &len)) return -1;
        rc = bs_truth_parse((const char *)buf, len, path, out);
        free(buf);
    }
    if (rc) bs_truth_free(out);
    return rc;
}
