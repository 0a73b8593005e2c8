/* jpeg_quality.h — the quality setting a JPEG file was saved with, estimated from its luminance
 * quantisation table (DQT marker, table 0). libvips does not expose the tables, so the markers
 * are parsed here, every length and offset checked against the buffer: the file is untrusted.
 *
 * The estimate is the IJG quality q in 1..100 whose table — IJG's standard luminance table
 * scaled by jpeg_quality_scaling(q) (5000/q below 50, 200 − 2q from 50), rounded and clamped to
 * 1..255 as libjpeg's jpeg_set_quality does — is nearest to the file's table (sum of absolute
 * differences; ties to the lower q). For files written by libjpeg (libvips, ImageMagick,
 * Pillow, GIMP) it is the exact setting; for cameras with their own tables it is the nearest
 * IJG equivalent, like ImageMagick's `identify -format %Q`.
 * Not for: decoding pixels (image.h). */
#ifndef BS_IMAGE_JPEG_QUALITY_H
#define BS_IMAGE_JPEG_QUALITY_H

#include <stddef.h>

/* 0: *quality set; 1: not a JPEG, or no luminance table before the first scan (nothing set);
 * -1: a JPEG whose markers run past the buffer or are malformed (bs_error names `name`).
 * *distance (may be NULL) gets the sum of absolute differences to the chosen IJG table:
 * 0 for a table libjpeg made. */
int bs_jpeg_quality(const unsigned char *buf, size_t len, const char *name, int *quality,
                    int *distance);

#endif
