/* image.c — decoding, conversion and resizing with libvips (see image.h). */
#include "image.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <vips/vips.h>

#include "core/error.h"
#include "core/hash.h"
#include "core/io.h"
#include "core/log.h"

/* libvips logs recoverable oddities as GLib warnings on stderr. With fail_on=error every
 * problem that matters becomes an error we report with the file name, so the warnings
 * are noise unless someone is debugging; then they go to the log sink (core/log.h). */
static void quiet_log(const gchar *domain, GLogLevelFlags level, const gchar *message,
                      gpointer user) {
    (void)level, (void)user;
    if (getenv("BLASTSCAN_DEBUG")) bs_log("%s: %s", domain ? domain : "log", message);
}

int bs_image_init(const char *argv0, int threads) {
    g_log_set_handler("VIPS", G_LOG_LEVEL_WARNING | G_LOG_LEVEL_MESSAGE | G_LOG_LEVEL_INFO,
                      quiet_log, NULL);
    if (VIPS_INIT(argv0 ? argv0 : "blastscan"))
        return bs_error("cannot start libvips: %s", vips_error_buffer());
    if (threads > 0) vips_concurrency_set(threads);
    /* Every file is opened once; an operation cache would only hold memory. */
    vips_cache_set_max(0);
    /* Defence in depth behind the whitelist in open_checked*: every other loader (SVG, PDF,
     * HEIF, FITS, matrix, vips, ... which parse far more than we need) is blocked for the
     * whole process, so no path through libvips can reach one. */
    vips_operation_block_set("VipsForeignLoad", TRUE);
    static const char *const allowed[] = {"VipsForeignLoadJpeg", "VipsForeignLoadTiff",
                                          "VipsForeignLoadPng", "VipsForeignLoadMagick"};
    for (size_t i = 0; i < sizeof allowed / sizeof allowed[0]; i++)
        vips_operation_block_set(allowed[i], FALSE);
    return 0;
}

void bs_image_shutdown(void) { vips_shutdown(); }

int bs_image_has_image_ext(const char *path) {
    static const char *const exts[] = {".jpg", ".jpeg", ".jpe", ".tif", ".tiff", ".png", ".bmp"};
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    const char *dot = strrchr(base, '.');
    if (!dot || dot == base) return 0;
    for (size_t i = 0; i < sizeof exts / sizeof exts[0]; i++)
        if (strcasecmp(dot, exts[i]) == 0) return 1;
    return 0;
}

/* The libvips message, without its trailing newline, then cleared. */
static const char *vips_message(void) {
    static _Thread_local char buf[1024];
    snprintf(buf, sizeof buf, "%s", vips_error_buffer());
    vips_error_clear();
    size_t n = strlen(buf);
    while (n && (buf[n - 1] == '\n' || buf[n - 1] == ' ')) buf[--n] = '\0';
    /* Keep the first line only: libvips repeats context on later lines. */
    char *nl = strchr(buf, '\n');
    if (nl) *nl = '\0';
    return buf[0] ? buf : "unknown libvips error";
}

static int is_bmp(const char *path) {
    FILE *fp = fopen(path, "rb");
    if (!fp) return 0;
    unsigned char m[2] = {0, 0};
    size_t n = fread(m, 1, 2, fp);
    fclose(fp);
    return n == 2 && m[0] == 'B' && m[1] == 'M';
}

/* The decompression-bomb check: the header's size, before any pixel is decoded. Takes
 * ownership of `im` (unreffed on failure). */
static VipsImage *check_size(const char *name, VipsImage *im) {
    int64_t w = vips_image_get_width(im), h = vips_image_get_height(im);
    if (w <= 0 || h <= 0 || w * h > BS_IMAGE_MAX_PIXELS) {
        bs_error("%s: image is %lldx%lld pixels, more than the %lld allowed (decompression bomb?)",
                 name, (long long)w, (long long)h, (long long)BS_IMAGE_MAX_PIXELS);
        g_object_unref(im);
        return NULL;
    }
    return im;
}

/* Open lazily (header only), refuse anything but the formats we support, and check the
 * size before a single pixel is decoded. */
static VipsImage *open_checked(const char *path) {
    const char *loader = vips_foreign_find_load(path);
    if (!loader) {
        vips_error_clear();
        bs_error("%s: not a readable image (JPEG, TIFF, PNG or BMP expected)", path);
        return NULL;
    }
    int allowed = strcmp(loader, "VipsForeignLoadJpegFile") == 0 ||
                  strcmp(loader, "VipsForeignLoadTiffFile") == 0 ||
                  strcmp(loader, "VipsForeignLoadPngFile") == 0 ||
                  (strcmp(loader, "VipsForeignLoadMagickFile") == 0 && is_bmp(path));
    if (!allowed) {
        bs_error("%s: unsupported image format (JPEG, TIFF, PNG or BMP expected)", path);
        return NULL;
    }
    VipsImage *im = vips_image_new_from_file(path, "access", VIPS_ACCESS_SEQUENTIAL, "fail_on",
                                             VIPS_FAIL_ON_ERROR, NULL);
    if (!im) {
        bs_error("%s: cannot decode: %s", path, vips_message());
        return NULL;
    }
    return check_size(path, im);
}

/* The same from memory: the same whitelist (by the buffer loaders' names) and size check.
 * libvips keeps a pointer to buf: it must outlive the image. */
static VipsImage *open_checked_buffer(const void *buf, size_t len, const char *name) {
    const char *loader = len ? vips_foreign_find_load_buffer(buf, len) : NULL;
    if (!loader) {
        vips_error_clear();
        bs_error("%s: not a readable image (JPEG, TIFF, PNG or BMP expected)", name);
        return NULL;
    }
    const unsigned char *b = buf;
    int allowed = strcmp(loader, "VipsForeignLoadJpegBuffer") == 0 ||
                  strcmp(loader, "VipsForeignLoadTiffBuffer") == 0 ||
                  strcmp(loader, "VipsForeignLoadPngBuffer") == 0 ||
                  (strcmp(loader, "VipsForeignLoadMagickBuffer") == 0 && len >= 2 && b[0] == 'B' &&
                   b[1] == 'M');
    if (!allowed) {
        bs_error("%s: unsupported image format (JPEG, TIFF, PNG or BMP expected)", name);
        return NULL;
    }
    VipsImage *im = vips_image_new_from_buffer(buf, len, "", "access", VIPS_ACCESS_SEQUENTIAL,
                                               "fail_on", VIPS_FAIL_ON_ERROR, NULL);
    if (!im) {
        bs_error("%s: cannot decode: %s", name, vips_message());
        return NULL;
    }
    return check_size(name, im);
}

/* Any supported band layout and depth -> 3-band uchar sRGB. Takes ownership of `in`. */
static VipsImage *to_rgb8(const char *path, VipsImage *in) {
    VipsImage *cur = in, *next = NULL;
#define STEP(call)                                                                                 \
    do {                                                                                           \
        if (call) {                                                                                \
            bs_error("%s: cannot convert to RGB: %s", path, vips_message());                       \
            g_object_unref(cur);                                                                   \
            return NULL;                                                                           \
        }                                                                                          \
        g_object_unref(cur);                                                                       \
        cur = next;                                                                                \
    } while (0)
    VipsBandFormat fmt = vips_image_get_format(cur);
    if (fmt != VIPS_FORMAT_UCHAR && fmt != VIPS_FORMAT_USHORT) {
        bs_error("%s: unsupported sample format (8- or 16-bit unsigned expected)", path);
        g_object_unref(cur);
        return NULL;
    }
    if (vips_image_get_interpretation(cur) == VIPS_INTERPRETATION_CMYK)
        STEP(vips_colourspace(cur, &next, VIPS_INTERPRETATION_sRGB, NULL));
    fmt = vips_image_get_format(cur);
    if (fmt == VIPS_FORMAT_USHORT) {
        /* 16-bit to 8-bit like MATLAB im2uint8: round(x / 257). */
        STEP(vips_linear1(cur, &next, 1.0 / 257.0, 0.0, NULL));
        STEP(vips_round(cur, &next, VIPS_OPERATION_ROUND_RINT, NULL));
        STEP(vips_cast(cur, &next, VIPS_FORMAT_UCHAR, NULL));
    }
    int bands = vips_image_get_bands(cur);
    if (bands == 1 || bands == 2) {
        /* Grey (with or without alpha): drop alpha, replicate to three channels. */
        if (bands == 2) STEP(vips_extract_band(cur, &next, 0, NULL));
        VipsImage *three[3] = {cur, cur, cur};
        if (vips_bandjoin(three, &next, 3, NULL)) {
            bs_error("%s: cannot convert to RGB: %s", path, vips_message());
            g_object_unref(cur);
            return NULL;
        }
        g_object_unref(cur);
        cur = next;
    } else if (bands > 3) {
        STEP(vips_extract_band(cur, &next, 0, "n", 3, NULL)); /* drop alpha */
    } else if (bands != 3) {
        bs_error("%s: %d channels not supported", path, bands);
        g_object_unref(cur);
        return NULL;
    }
#undef STEP
    return cur;
}

/* Decode the pipeline into our own buffer. Takes ownership of `im`. */
static int materialise(const char *path, VipsImage *im, bs_image *out) {
    size_t len = 0;
    void *mem = vips_image_write_to_memory(im, &len);
    int w = vips_image_get_width(im), h = vips_image_get_height(im);
    g_object_unref(im);
    if (!mem) return bs_error("%s: cannot decode: %s", path, vips_message());
    if (len != (size_t)w * (size_t)h * 3) {
        g_free(mem);
        return bs_error("%s: decoder returned %zu bytes for %dx%d RGB", path, len, w, h);
    }
    out->width = w;
    out->height = h;
    out->rgb = mem;
    return 0;
}

int bs_image_load(const char *path, bs_image *out) {
    memset(out, 0, sizeof *out);
    VipsImage *im = open_checked(path);
    if (!im || !(im = to_rgb8(path, im))) return -1;
    return materialise(path, im, out);
}

/* Antialiased bilinear to size×size: vips_reduce's linear kernel widens with the shrink
 * factor (like MATLAB imresize 'bilinear' and Pillow BILINEAR); gap 0 turns off the
 * box pre-shrink so the kernel alone decides every output pixel. */
static int resize_vips(const char *name, VipsImage *in, int size, VipsImage **out) {
    double hs = (double)size / vips_image_get_width(in);
    double vs = (double)size / vips_image_get_height(in);
    if (vips_resize(in, out, hs, "vscale", vs, "kernel", VIPS_KERNEL_LINEAR, "gap", 0.0, NULL))
        return bs_error("%s: cannot resize: %s", name, vips_message());
    if (vips_image_get_width(*out) != size || vips_image_get_height(*out) != size) {
        /* Rounding in the scale can leave a pixel too many or too few; pin it exactly. */
        VipsImage *fixed;
        if (vips_gravity(*out, &fixed, VIPS_COMPASS_DIRECTION_NORTH_WEST, size, size, "extend",
                         VIPS_EXTEND_COPY, NULL)) {
            g_object_unref(*out);
            return bs_error("%s: cannot resize: %s", name, vips_message());
        }
        g_object_unref(*out);
        *out = fixed;
    }
    return 0;
}

int bs_image_load_resized(const char *path, int size, bs_image *out) {
    memset(out, 0, sizeof *out);
    if (size <= 0 || size > 16384) return bs_error("%s: resize target %d out of range", path, size);
    VipsImage *im = open_checked(path);
    if (!im || !(im = to_rgb8(path, im))) return -1;
    VipsImage *small;
    int rc = resize_vips(path, im, size, &small);
    g_object_unref(im);
    if (rc) return -1;
    return materialise(path, small, out);
}

int bs_image_resize(const bs_image *in, int size, bs_image *out) {
    memset(out, 0, sizeof *out);
    if (size <= 0 || size > 16384) return bs_error("resize target %d out of range", size);
    VipsImage *im = vips_image_new_from_memory(in->rgb, (size_t)in->width * in->height * 3,
                                               in->width, in->height, 3, VIPS_FORMAT_UCHAR);
    if (!im) return bs_error("cannot wrap image: %s", vips_message());
    VipsImage *small;
    int rc = resize_vips("image", im, size, &small);
    g_object_unref(im);
    if (rc || materialise("image", small, out)) return -1;
    double f = sqrt((double)size / in->width * size / in->height);
    out->cell_px = in->cell_px * f;
    out->red_cell_px = in->red_cell_px * f;
    return 0;
}

int bs_image_rescale(const bs_image *img, double factor, bs_image *out) {
    memset(out, 0, sizeof *out);
    const int w = img->width, h = img->height;
    if (!(factor >= 0.25 && factor <= 4))
        return bs_error("scale factor %g out of range (0.25..4)", factor);
    VipsImage *im =
        vips_image_new_from_memory(img->rgb, (size_t)w * h * 3, w, h, 3, VIPS_FORMAT_UCHAR);
    if (!im) return bs_error("cannot wrap image: %s", vips_message());
    VipsImage *scaled = NULL, *fitted = NULL;
    /* Centred in a canvas of the original size: larger images lose their border, smaller
     * ones get it back mirrored. */
    int rc = vips_resize(im, &scaled, factor, "kernel", VIPS_KERNEL_LINEAR, "gap", 0.0, NULL) ||
             vips_gravity(scaled, &fitted, VIPS_COMPASS_DIRECTION_CENTRE, w, h, "extend",
                          VIPS_EXTEND_MIRROR, NULL);
    g_object_unref(im);
    if (scaled) g_object_unref(scaled);
    if (rc) {
        if (fitted) g_object_unref(fitted);
        return bs_error("cannot rescale: %s", vips_message());
    }
    if (materialise("image", fitted, out)) return -1;
    out->cell_px = img->cell_px * factor;
    out->red_cell_px = img->red_cell_px * factor;
    return 0;
}

int bs_image_load_buffer(const void *buf, size_t len, const char *name, bs_image *out) {
    memset(out, 0, sizeof *out);
    VipsImage *im = open_checked_buffer(buf, len, name);
    if (!im || !(im = to_rgb8(name, im))) return -1;
    return materialise(name, im, out);
}

int bs_image_load_buffer_resized(const void *buf, size_t len, const char *name, int size,
                                 bs_image *out) {
    memset(out, 0, sizeof *out);
    if (size <= 0 || size > 16384) return bs_error("%s: resize target %d out of range", name, size);
    VipsImage *im = open_checked_buffer(buf, len, name);
    if (!im || !(im = to_rgb8(name, im))) return -1;
    VipsImage *small;
    int rc = resize_vips(name, im, size, &small);
    g_object_unref(im);
    if (rc) return -1;
    return materialise(name, small, out);
}

void bs_image_free(bs_image *img) {
    g_free(img->rgb);
    memset(img, 0, sizeof *img);
}

void bs_image_to_chw(const bs_image *img, bs_view view, float *chw) {
    const int w = img->width, h = img->height;
    const size_t plane = (size_t)w * h;
    for (int y = 0; y < h; y++) {
        int sy = view == BS_VIEW_VMIRROR ? h - 1 - y : y;
        const unsigned char *row = img->rgb + (size_t)sy * w * 3;
        for (int x = 0; x < w; x++) {
            int sx = view == BS_VIEW_HMIRROR ? w - 1 - x : x;
            const unsigned char *px = row + (size_t)sx * 3;
            size_t o = (size_t)y * w + x;
            chw[o] = px[0];
            chw[plane + o] = px[1];
            chw[2 * plane + o] = px[2];
        }
    }
}

void bs_image_pixel_sha256(const bs_image *img, char hex[BS_SHA256_HEX_LEN]) {
    bs_sha256 *h = bs_sha256_new();
    uint32_t dims[2] = {(uint32_t)img->width, (uint32_t)img->height};
    bs_sha256_update(h, dims, sizeof dims);
    bs_sha256_update(h, img->rgb, (size_t)img->width * img->height * 3);
    bs_sha256_finish(h, hex);
}

int bs_image_save(const bs_image *img, const char *path, int jpeg_quality) {
    if (jpeg_quality < 0 || jpeg_quality > 100)
        return bs_error("%s: JPEG quality %d is outside 1..100", path, jpeg_quality);
    VipsImage *im = vips_image_new_from_memory(img->rgb, (size_t)img->width * img->height * 3,
                                               img->width, img->height, 3, VIPS_FORMAT_UCHAR);
    void *buf = NULL;
    size_t len = 0;
    int failed =
        !im || (jpeg_quality ? vips_jpegsave_buffer(im, &buf, &len, "Q", jpeg_quality, NULL)
                             : vips_pngsave_buffer(im, &buf, &len, NULL));
    if (im) g_object_unref(im);
    if (failed) {
        bs_error("%s: cannot encode %s: %s", path, jpeg_quality ? "JPEG" : "PNG",
                 vips_error_buffer());
        vips_error_clear();
        return -1;
    }
    int rc = bs_write_file_atomic(path, buf, len);
    g_free(buf);
    return rc;
}
