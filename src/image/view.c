/* view.c — the views of an image a backbone sees (see image.h): their names, the --augment
 * list that says which to make, their seeds, and making one. */
#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/rng.h"
#include "core/strings.h"
#include "image.h"
#include "stain.h"

static const char *const view_names[BS_VIEW_END] = {
    "original",  "hmirror",   "vmirror",   "hed1",      "hed2",      "hed3",      "hed4",
    "hed5",      "hed6",      "hed7",      "hed8",      "scale1",    "scale2",    "scale3",
    "scale4",    "scale5",    "scale6",    "scale7",    "scale8",    "transfer1", "transfer2",
    "transfer3", "transfer4", "transfer5", "transfer6", "transfer7", "transfer8"};

const char *bs_view_name(bs_view v) {
    return v > BS_VIEW_ORIGINAL && v < BS_VIEW_END ? view_names[v] : view_names[0];
}

int bs_view_parse(const char *s, bs_view *out) {
    if (!strcmp(s, "original") || !strcmp(s, "none"))
        *out = BS_VIEW_ORIGINAL;
    else if (!strcmp(s, "hmirror") || !strcmp(s, "h"))
        *out = BS_VIEW_HMIRROR;
    else if (!strcmp(s, "vmirror") || !strcmp(s, "v"))
        *out = BS_VIEW_VMIRROR;
    else
        return -1;
    return 0;
}

int bs_view_from_name(const char *s, bs_view *out) {
    for (int v = 0; v < BS_VIEW_END; v++)
        if (!strcmp(s, view_names[v])) {
            *out = (bs_view)v;
            return 0;
        }
    return -1;
}

/* One list item: NAME[:N[:STRENGTH]] with N in 1..BS_VIEW_DRAWS, strength in (0, max]. */
static int parse_draws(const char *item, size_t name_len, double max, int *n, double *strength) {
    const char *p = item + name_len;
    *n = 1;
    if (!*p) return 0;
    char *end;
    long k = strtol(p + 1, &end, 10);
    if (end == p + 1 || k < 1 || k > BS_VIEW_DRAWS || (*end && *end != ':'))
        return bs_error("'%s': the number of views must be 1..%d", item, BS_VIEW_DRAWS);
    *n = (int)k;
    if (!*end) return 0;
    const char *t = end + 1;
    double v = strtod(t, &end);
    if (end == t || *end || !(v > 0 && v <= max))
        return bs_error("'%s': the strength must be a number in (0, %g]", item, max);
    *strength = v;
    return 0;
}

static int parse_item(const char *item, bs_augment *a) {
    int seen;
    if (!strcmp(item, "flip")) {
        seen = a->flip;
        a->flip = 1;
    } else if (!strncmp(item, "hed", 3) && (item[3] == ':' || !item[3])) {
        seen = a->hed > 0;
        if (parse_draws(item, 3, 1.0, &a->hed, &a->hed_sigma)) return -1;
    } else if (!strncmp(item, "scale", 5) && (item[5] == ':' || !item[5])) {
        seen = a->scale > 0;
        if (parse_draws(item, 5, 0.5, &a->scale, &a->scale_jitter)) return -1;
    } else if (!strncmp(item, "transfer", 8) && (item[8] == ':' || !item[8])) {
        seen = a->transfer > 0;
        double unused = 0;
        if (parse_draws(item, 8, 1.0, &a->transfer, &unused)) return -1;
        if (unused > 0) return bs_error("'%s': a transfer view has no strength", item);
    } else
        return bs_error("'%s' is not a view: none, or a list of flip, hed[:N[:SIGMA]], "
                        "scale[:N[:S]] and transfer[:N]",
                        item);
    if (seen) return bs_error("'%s' is given twice", item);
    return 0;
}

int bs_augment_parse(const char *text, bs_augment *out) {
    memset(out, 0, sizeof *out);
    if (!strcmp(text, "none")) return 0;
    char **items;
    size_t n;
    if (bs_split_list(text, &items, &n)) return -1;
    int rc = n ? 0 : bs_error("'%s' names no view", text);
    for (size_t i = 0; i < n && rc == 0; i++) {
        if (!strcmp(items[i], "none")) rc = bs_error("'none' cannot be combined with other views");
        if (rc == 0) rc = parse_item(items[i], out);
    }
    bs_free_list(items, n);
    if (rc) memset(out, 0, sizeof *out);
    return rc;
}

double bs_augment_strength(const bs_augment *a, bs_view v) {
    if (v >= BS_VIEW_SCALE && v < BS_VIEW_TRANSFER)
        return a->scale_jitter > 0 ? a->scale_jitter : BS_SCALE_JITTER;
    if (v >= BS_VIEW_HED && v < BS_VIEW_SCALE)
        return a->hed_sigma > 0 ? a->hed_sigma : BS_HED_SIGMA;
    return 0;
}

void bs_augment_name(const bs_augment *a, char name[BS_AUGMENT_NAME_MAX]) {
    size_t len = 0;
    name[0] = '\0';
    if (a->flip) len += (size_t)snprintf(name, BS_AUGMENT_NAME_MAX, "flip");
    if (a->hed > 0)
        len += (size_t)snprintf(name + len, BS_AUGMENT_NAME_MAX - len, "%shed:%d:%g",
                                len ? "," : "", a->hed, bs_augment_strength(a, BS_VIEW_HED));
    if (a->scale > 0)
        len += (size_t)snprintf(name + len, BS_AUGMENT_NAME_MAX - len, "%sscale:%d:%g",
                                len ? "," : "", a->scale, bs_augment_strength(a, BS_VIEW_SCALE));
    if (a->transfer > 0)
        snprintf(name + len, BS_AUGMENT_NAME_MAX - len, "%stransfer:%d", len ? "," : "",
                 a->transfer);
    if (!name[0]) snprintf(name, BS_AUGMENT_NAME_MAX, "none");
}

int bs_augment_views(const bs_augment *a, bs_view views[BS_VIEW_END]) {
    int n = 0;
    views[n++] = BS_VIEW_ORIGINAL;
    if (a->flip) {
        views[n++] = BS_VIEW_HMIRROR;
        views[n++] = BS_VIEW_VMIRROR;
    }
    for (int k = 0; k < a->hed && k < BS_VIEW_DRAWS; k++) views[n++] = (bs_view)(BS_VIEW_HED + k);
    for (int k = 0; k < a->scale && k < BS_VIEW_DRAWS; k++)
        views[n++] = (bs_view)(BS_VIEW_SCALE + k);
    for (int k = 0; k < a->transfer && k < BS_VIEW_DRAWS; k++)
        views[n++] = (bs_view)(BS_VIEW_TRANSFER + k);
    return n;
}

uint64_t bs_view_seed(uint64_t seed, const char *image_id, bs_view v) {
    uint64_t id = 0xcbf29ce484222325ULL; /* FNV-1a */
    for (const unsigned char *p = (const unsigned char *)image_id; *p; p++)
        id = (id ^ *p) * 0x100000001b3ULL;
    return bs_rng_derive(bs_rng_derive(seed, id), (uint64_t)v);
}

/* A copy of img, mirrored as v says (to_chw's mirrors, as an image). */
static int copy_view(const bs_image *img, bs_view v, bs_image *out) {
    const int w = img->width, h = img->height;
    out->rgb = g_try_malloc((size_t)w * h * 3 + 1);
    if (!out->rgb) return bs_error("out of memory (%dx%d image)", w, h);
    out->width = w;
    out->height = h;
    for (int y = 0; y < h; y++) {
        int sy = v == BS_VIEW_VMIRROR ? h - 1 - y : y;
        for (int x = 0; x < w; x++) {
            int sx = v == BS_VIEW_HMIRROR ? w - 1 - x : x;
            memcpy(out->rgb + ((size_t)y * w + x) * 3, img->rgb + ((size_t)sy * w + sx) * 3, 3);
        }
    }
    return 0;
}

int bs_image_view(const bs_image *img, bs_view v, const bs_augment *a, uint64_t view_seed,
                  bs_image *out) {
    memset(out, 0, sizeof *out);
    if (v < BS_VIEW_ORIGINAL || v >= BS_VIEW_END) return bs_error("view %d unknown", (int)v);
    if (v >= BS_VIEW_TRANSFER)
        return bs_error("%s: a stain-transfer view is made by extraction, which knows the "
                        "sources' colours",
                        bs_view_name(v));
    bs_rng rng;
    bs_rng_seed(&rng, view_seed);
    if (v >= BS_VIEW_SCALE) {
        double s = bs_augment_strength(a, v);
        if (bs_image_rescale(img, 1.0 + s * (2.0 * bs_rng_uniform(&rng) - 1.0), out)) return -1;
    } else {
        if (copy_view(img, v, out)) return -1;
        if (v >= BS_VIEW_HED) {
            bs_hed_jitter j;
            bs_hed_jitter_draw(&rng, bs_augment_strength(a, v), &j);
            bs_hed_jitter_apply(out, &j);
        }
    }
    out->cell_px = img->cell_px; /* the same ruler, so a scale view's cell is larger or smaller */
    out->red_cell_px = img->red_cell_px;
    return 0;
}
