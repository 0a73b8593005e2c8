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
    /* The scale, when known (0 = unknown), in pixels of this image: a white cell's and a red
     * cell's diameter. Decoding leaves both 0; field mode sets them on every cell crop from the
     * detector's measurement of its field, and a crop manifest's cell_px,red_cell_px columns
     * set them on the images extraction decodes. Resizing scales them; the morphometric
     * features (features/morphometry.h) measure sizes in red-cell diameters with them. */
    double cell_px, red_cell_px;
} bs_image;

/* The views of an image a backbone sees: the original, its two mirrors, and up to
 * BS_VIEW_DRAWS seeded draws each of HED jitter (hed1..hed8), scale jitter (scale1..scale8) and
 * stain transfer (transfer1..transfer8: the image recoloured to a seeded choice of another
 * source's colour statistics; extraction makes these, as only it knows the sources).
 * The values are stable (a feature folder's index names them). */
#define BS_VIEW_DRAWS 8
typedef enum {
    BS_VIEW_ORIGINAL = 0,
    BS_VIEW_HMIRROR = 1,
    BS_VIEW_VMIRROR = 2,
    BS_VIEW_HED = 3,                                  /* hedK is BS_VIEW_HED + K - 1 */
    BS_VIEW_SCALE = BS_VIEW_HED + BS_VIEW_DRAWS,      /* scaleK is BS_VIEW_SCALE + K - 1 */
    BS_VIEW_TRANSFER = BS_VIEW_SCALE + BS_VIEW_DRAWS, /* transferK is BS_VIEW_TRANSFER + K - 1 */
    BS_VIEW_END = BS_VIEW_TRANSFER + BS_VIEW_DRAWS    /* one past the last */
} bs_view;

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
/* Resize an RGB image to size×size (antialiased bilinear, aspect ratio ignored); the scale
 * (cell_px, red_cell_px) is multiplied by the geometric mean of the two factors. */
int bs_image_resize(const bs_image *in, int size, bs_image *out);
void bs_image_free(bs_image *img);

/* Write one image as CHW float32 (3×H×W values, 0..255), mirrored as `view` says:
 * hmirror reverses columns, vmirror reverses rows; any other view is written as it is (make a
 * jittered view first with bs_image_view). */
void bs_image_to_chw(const bs_image *img, bs_view view, float *chw);

/* SHA-256 of the decoded pixels (with the size), for exact-duplicate detection. */
void bs_image_pixel_sha256(const bs_image *img, char hex[BS_SHA256_HEX_LEN]);

const char *bs_view_name(bs_view v);
/* Accepts original|hmirror|vmirror (and none|h|v). Returns -1 if unknown. */
int bs_view_parse(const char *s, bs_view *out);
/* Any view by its exact name (original, hmirror, vmirror, hed1..hed8, scale1..scale8). */
int bs_view_from_name(const char *s, bs_view *out);

/* ---- augmentation: which views to make, and making them (view.c) ---------------------- */
/* Scale jitter's default: factors in [0.9, 1.1]. A crop is cut at a fixed multiple of the
 * detected cell's box, so magnification is already normalised; the jitter only has to cover
 * how much box sizes (and so crops) of the same kind of cell vary. */
#define BS_SCALE_JITTER 0.1
#define BS_AUGMENT_NAME_MAX 96

typedef struct bs_augment {
    int flip;            /* 1: the horizontal and vertical mirrors */
    int hed, scale;      /* seeded HED-jitter and scale-jitter views, 0..BS_VIEW_DRAWS each */
    int transfer;        /* seeded stain-transfer views, 0..BS_VIEW_DRAWS (extract.h) */
    double hed_sigma;    /* HED jitter strength (stain.h); 0: BS_HED_SIGMA */
    double scale_jitter; /* scale factors in [1 - s, 1 + s]; 0: BS_SCALE_JITTER */
} bs_augment;

/* "none", or a comma list of flip, hed[:N[:SIGMA]], scale[:N[:S]] and transfer[:N] (N defaults
 * to 1; SIGMA in (0, 1], S in (0, 0.5]). -1 (bs_error) on anything else. */
int bs_augment_parse(const char *text, bs_augment *out);
/* "none", "flip", or every part spelled out, e.g. "flip,hed:2:0.05,scale:1:0.1,transfer:1". */
void bs_augment_name(const bs_augment *a, char name[BS_AUGMENT_NAME_MAX]);
/* The views to make, in row order: original, hmirror, vmirror, hed1.., scale1.., transfer1..;
 * returns their
 * count (at most BS_VIEW_END). */
int bs_augment_views(const bs_augment *a, bs_view views[BS_VIEW_END]);
/* The strength a jittered view is made with (its SIGMA or S, or the default); 0 for the
 * original and the mirrors. */
double bs_augment_strength(const bs_augment *a, bs_view v);
/* The seed of one view of one image: bs_rng_derive(bs_rng_derive(seed, id), view), where id is
 * the 64-bit FNV-1a hash of the image's identity (extraction uses the file's SHA-256 hex), so
 * a view is the same whatever dataset or order the image comes in. */
uint64_t bs_view_seed(uint64_t seed, const char *image_id, bs_view v);
/* Make view v of img into out (a new image of the same size): a mirror, or a HED-jitter or
 * scale-jitter draw from an rng seeded with view_seed, at a's strengths. A transfer view is
 * refused (-1): it needs the sources' colour statistics, which extraction has (extract.c). Every view keeps img's
 * scale (cell_px, red_cell_px) as it is, a scale view too: its cell looks that much larger or
 * smaller against the same ruler, which is the jitter. */
int bs_image_view(const bs_image *img, bs_view v, const bs_augment *a, uint64_t view_seed,
                  bs_image *out);
/* Resize img by `factor` (both sides; antialiased bilinear, like bs_image_resize), then cut
 * the centre back to img's size, or pad it there by mirroring at the borders; the scale is
 * multiplied by factor. */
int bs_image_rescale(const bs_image *img, double factor, bs_image *out);

/* Write an RGB image to path atomically (temp + rename): PNG when jpeg_quality is 0, else JPEG
 * at that quality (1..100). Encoded by libvips, like every image blastscan writes. */
int bs_image_save(const bs_image *img, const char *path, int jpeg_quality);

/* True if the file name has an extension blastscan reads (.jpg .jpeg .tif .tiff .png .bmp). */
int bs_image_has_image_ext(const char *path);

#endif
