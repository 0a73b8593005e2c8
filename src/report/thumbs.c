/* thumbs.c — JPEG thumbnails (libvips) as base64 CSS data URIs (see thumbs.h).
 * Not for: decoding rules (image.c checks every file before libvips shrinks it). */
#include "thumbs.h"

#include <stdlib.h>
#include <string.h>
#include <vips/vips.h>

#include "core/error.h"
#include "core/io.h"
#include "core/log.h"

int bs_thumb_jpeg(const bs_image *img, int size, int quality, void **jpeg, size_t *len) {
    *jpeg = NULL;
    *len = 0;
    VipsImage *im = vips_image_new_from_memory(img->rgb, (size_t)img->width * img->height * 3,
                                               img->width, img->height, 3, VIPS_FORMAT_UCHAR);
    VipsImage *small = NULL;
    int failed = !im || vips_thumbnail_image(im, &small, size, "height", size, NULL) ||
                 vips_jpegsave_buffer(small, jpeg, len, "Q", quality, "strip", TRUE, NULL);
    if (small) g_object_unref(small);
    if (im) g_object_unref(im);
    if (failed) {
        bs_error("cannot make a thumbnail: %s", vips_error_buffer());
        vips_error_clear();
        return -1;
    }
    return 0;
}

void bs_base64(FILE *fp, const unsigned char *d, size_t len) {
    static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t i = 0;
    for (; i + 3 <= len; i += 3) {
        unsigned v = (unsigned)d[i] << 16 | (unsigned)d[i + 1] << 8 | d[i + 2];
        fputc(a[v >> 18], fp), fputc(a[(v >> 12) & 63], fp), fputc(a[(v >> 6) & 63], fp);
        fputc(a[v & 63], fp);
    }
    if (len - i == 1) {
        unsigned v = (unsigned)d[i] << 16;
        fputc(a[v >> 18], fp), fputc(a[(v >> 12) & 63], fp), fputs("==", fp);
    } else if (len - i == 2) {
        unsigned v = (unsigned)d[i] << 16 | (unsigned)d[i + 1] << 8;
        fputc(a[v >> 18], fp), fputc(a[(v >> 12) & 63], fp), fputc(a[(v >> 6) & 63], fp);
        fputc('=', fp);
    }
}

typedef struct {
    char *path;          /* NULL for ready-made bytes */
    unsigned char *jpeg; /* ready-made bytes, or NULL */
    size_t len;
} entry;

struct bs_thumbs {
    entry *v;
    size_t n, cap;
};

bs_thumbs *bs_thumbs_new(void) { return bs_calloc(1, sizeof(bs_thumbs)); }

void bs_thumbs_free(bs_thumbs *t) {
    if (!t) return;
    for (size_t i = 0; i < t->n; i++) {
        free(t->v[i].path);
        free(t->v[i].jpeg);
    }
    free(t->v);
    free(t);
}

size_t bs_thumbs_count(const bs_thumbs *t) { return t->n; }

static entry *push(bs_thumbs *t) {
    if (t->n == t->cap) {
        size_t cap = t->cap ? 2 * t->cap : 64;
        entry *v = bs_realloc(t->v, cap * sizeof *v);
        if (!v) return NULL;
        t->v = v;
        t->cap = cap;
    }
    memset(&t->v[t->n], 0, sizeof t->v[t->n]);
    return &t->v[t->n++];
}

int bs_thumbs_file(bs_thumbs *t, const char *path) {
    for (size_t i = 0; i < t->n; i++)
        if (t->v[i].path && strcmp(t->v[i].path, path) == 0) return (int)i;
    entry *e = push(t);
    if (!e || !(e->path = bs_strdup(path))) {
        if (e) t->n--;
        return -1;
    }
    return (int)(t->n - 1);
}

int bs_thumbs_jpeg(bs_thumbs *t, const void *jpeg, size_t len) {
    entry *e = push(t);
    if (!e || !(e->jpeg = bs_malloc(len ? len : 1))) {
        if (e) t->n--;
        return -1;
    }
    memcpy(e->jpeg, jpeg, len);
    e->len = len;
    return (int)(t->n - 1);
}

static void css_rule(FILE *fp, size_t id, const unsigned char *jpeg, size_t len) {
    bs_putf(fp, ".t%zu{background-image:url(data:image/jpeg;base64,", id);
    bs_base64(fp, jpeg, len);
    fputs(")}\n", fp);
}

long bs_thumbs_write_css(bs_thumbs *t, FILE *fp) {
    long missing = 0;
    for (size_t i = 0; i < t->n; i++) {
        if (t->v[i].jpeg) {
            css_rule(fp, i, t->v[i].jpeg, t->v[i].len);
            continue;
        }
        bs_image img;
        void *jpeg = NULL;
        size_t len = 0;
        if (bs_image_load(t->v[i].path, &img) == 0) {
            int rc = bs_thumb_jpeg(&img, BS_THUMB_SIZE, 75, &jpeg, &len);
            bs_image_free(&img);
            if (rc == 0) css_rule(fp, i, jpeg, len);
            g_free(jpeg);
            if (rc == 0) continue;
        }
        bs_warn("report.html: no thumbnail of %s: %s", t->v[i].path, bs_error_message());
        missing++;
    }
    return missing;
}
