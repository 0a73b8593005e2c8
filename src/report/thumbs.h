/* thumbs.h — small JPEG thumbnails for report.html, each embedded once as a base64 data URI
 * in a CSS class (`.tN`) that every card showing the image uses: a misclassified image that
 * appears in eight galleries costs its bytes once. Private to the report stage.
 * Not for: anything the networks see (image.h). */
#ifndef BS_REPORT_THUMBS_H
#define BS_REPORT_THUMBS_H

#include <stddef.h>
#include <stdio.h>

#include "image/image.h"

#define BS_THUMB_SIZE 96 /* longest side, pixels */

/* JPEG bytes (g_free them) of img shrunk to fit size × size, by libvips. */
int bs_thumb_jpeg(const bs_image *img, int size, int quality, void **jpeg, size_t *len);
/* base64 (RFC 4648, no line breaks) of len bytes. */
void bs_base64(FILE *fp, const unsigned char *data, size_t len);

/* The thumbnails a document uses: register paths (or ready-made JPEG bytes) while writing
 * the body, then write their CSS rules into the head. */
typedef struct bs_thumbs bs_thumbs;
bs_thumbs *bs_thumbs_new(void);
void bs_thumbs_free(bs_thumbs *t);
/* The CSS class number of an image file's thumbnail (registered on first use), -1 on OOM. */
int bs_thumbs_file(bs_thumbs *t, const char *path);
/* The same for JPEG bytes already made (copied), e.g. an occlusion overlay. */
int bs_thumbs_jpeg(bs_thumbs *t, const void *jpeg, size_t len);
/* One `.tN{background-image:url(data:image/jpeg;base64,...)}` per registered image; an
 * unreadable file gets no rule (its card shows an empty box) and a warning. Returns the
 * number of images that could not be read, or -1 on OOM. */
long bs_thumbs_write_css(bs_thumbs *t, FILE *fp);
size_t bs_thumbs_count(const bs_thumbs *t);

#endif
