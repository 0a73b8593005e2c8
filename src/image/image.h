/* image.h — image preparation (SPEC §2): decode JPEG/TIFF/PNG/BMP with libvips, convert to
 * 8-bit RGB, antialiased bilinear resize to S×S ignoring aspect ratio, mirror, and lay out
 * as the float32 NCHW 0..255 tensor a backbone receives.
 *
 * Image files are untrusted: only the jpeg/tiff/png loaders (and ImageMagick for BMP
 * only) are allowed, the header's size is checked before any pixel is decoded (a
 * decompression bomb is refused), and a truncated or corrupt file is an error, not a
 * warning. Not for: datasets, labels or networks. */
#ifndef BS_IMAGE_H
#define BS_IMAGE_H

#include <stddef.h>
#include <stdint.h>

#define BS_SHA256_HEX_LEN 65
/* Largest decoded image accepted, in pixels (a 16k×16k slide tile). */
#define BS_IMAGE_MAX_PIXELS ((int64_t)1 << 28)

typedef struct bs_image {
    int width, height;
    unsigned char *rgb; /* height × width × 3, row-major, owned */
} bs_image;

typedef enum { BS_VIEW_ORIGINAL = 0, BS_VIEW_HMIRROR = 1, BS_VIEW_VMIRROR = 2 } bs_view;

/* Start libvips (once per process); threads <= 0 means all cores. */
int bs_image_init(const char *argv0, int threads);
void bs_image_shutdown(void);

/* Decode a file to 8-bit RGB at its own size. */
int bs_image_load(const char *path, bs_image *out);
/* Decode and resize to size×size in one streaming pipeline (what a backbone needs). */
int bs_image_load_resized(const char *path, int size, bs_image *out);
/* The same two from an in-memory file (same formats, same size check); `name` is used in
 * messages. */
int bs_image_load_buffer(const void *buf, size_t len, const char *name, bs_image *out);
int bs_image_load_buffer_resized(const void *buf, size_t len, const char *name, int size,
                                 bs_image *out);
/* Resize an RGB image to size×size (antialiased bilinear, aspect ratio ignored). */
int bs_image_resize(const bs_image *in, int size, bs_image *out);
void bs_image_free(bs_image *img);

/* Write one image as CHW float32 (3×H×W values, 0..255), mirrored as `view` says:
 * hmirror reverses columns, vmirror reverses rows. */
void bs_image_to_chw(const bs_image *img, bs_view view, float *chw);

/* SHA-256 of the decoded pixels (with the size), for exact-duplicate detection. */
void bs_image_pixel_sha256(const bs_image *img, char hex[BS_SHA256_HEX_LEN]);

const char *bs_view_name(bs_view v);
/* Accepts original|hmirror|vmirror (and none|h|v). Returns -1 if unknown. */
int bs_view_parse(const char *s, bs_view *out);

/* Write an RGB image to path atomically (temp + rename): PNG when jpeg_quality is 0, else JPEG
 * at that quality (1..100). Encoded by libvips, like every image blastscan writes. */
int bs_image_save(const bs_image *img, const char *path, int jpeg_quality);

/* True if the file name has an extension blastscan reads (.jpg .jpeg .tif .tiff .png .bmp). */
int bs_image_has_image_ext(const char *path);

#endif
