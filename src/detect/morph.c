/* morph.c — the libvips operations the detector runs on binary masks: opening and closing
 * by a disc (vips_morph) and hole filling (vips_labelregions). Masks stay plain C arrays
 * between steps because the distance transform and the watershed are C loops. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <vips/vips.h>

#include "detect_internal.h"
#include "core/error.h"

static int vips_fail(const char *what) {
    char buf[512];
    snprintf(buf, sizeof buf, "%s", vips_error_buffer());
    vips_error_clear();
    char *nl = strchr(buf, '\n');
    if (nl) *nl = '\0';
    return bs_error("cells: %s failed: %s", what, buf);
}

/* Copy a computed image into dst (exactly len bytes expected). */
static int write_into(VipsImage *im, void *dst, size_t len) {
    size_t got = 0;
    void *buf = vips_image_write_to_memory(im, &got);
    if (!buf) return -1;
    int ok = got == len;
    if (ok) memcpy(dst, buf, len);
    g_free(buf);
    if (!ok) vips_error("cells", "unexpected image size");
    return ok ? 0 : -1;
}

/* A disc structuring element for vips_morph: 255 inside, 128 (don't care) outside. */
static VipsImage *disc(int r) {
    VipsImage *m = vips_image_new_matrix(2 * r + 1, 2 * r + 1);
    if (!m) return NULL;
    for (int y = -r; y <= r; y++)
        for (int x = -r; x <= r; x++)
            *VIPS_MATRIX(m, x + r, y + r) = x * x + y * y <= r * r + r ? 255 : 128;
    return m;
}

static int morph2(unsigned char *mask, int w, int h, int r, VipsOperationMorphology first,
                  VipsOperationMorphology second) {
    if (r < 1) return 0;
    VipsImage *ctx = vips_image_new();
    VipsImage **t = (VipsImage **)vips_object_local_array(VIPS_OBJECT(ctx), 4);
    int rc = -1;
    t[0] = vips_image_new_from_memory(mask, (size_t)w * h, w, h, 1, VIPS_FORMAT_UCHAR);
    t[1] = disc(r);
    if (t[0] && t[1] && !vips_morph(t[0], &t[2], t[1], first, NULL) &&
        !vips_morph(t[2], &t[3], t[1], second, NULL) && !write_into(t[3], mask, (size_t)w * h))
        rc = 0;
    g_object_unref(ctx);
    return rc ? vips_fail("morphology") : 0;
}

int bs_detect_open(unsigned char *mask, int w, int h, int r) {
    return morph2(mask, w, h, r, VIPS_OPERATION_MORPHOLOGY_ERODE, VIPS_OPERATION_MORPHOLOGY_DILATE);
}

/* Closing by thresholds on two distance transforms: vips_morph costs r² per pixel, this
 * costs the same at any radius (the lobe-joining closing has radii of 10-20 px). */
static int close_by_edt(unsigned char *mask, int w, int h, int r) {
    size_t npx = (size_t)w * h;
    float *d = malloc(sizeof *d * npx);
    if (!d) return bs_error("cells: out of memory (closing)");
    float lim = sqrtf((float)r * r + r); /* the same disc as the vips_morph masks */
    for (size_t i = 0; i < npx; i++) mask[i] = mask[i] ? 0 : 255;
    int rc = bs_detect_edt(mask, w, h, d); /* distance to the nearest mask pixel */
    if (!rc) {
        for (size_t i = 0; i < npx; i++) mask[i] = d[i] <= lim ? 255 : 0;
        rc = bs_detect_edt(mask, w, h, d); /* depth inside the dilated mask */
    }
    if (!rc)
        for (size_t i = 0; i < npx; i++) mask[i] = d[i] > lim ? 255 : 0;
    free(d);
    return rc;
}

int bs_detect_close(unsigned char *mask, int w, int h, int r) {
    if (r > 3) return close_by_edt(mask, w, h, r);
    return morph2(mask, w, h, r, VIPS_OPERATION_MORPHOLOGY_DILATE, VIPS_OPERATION_MORPHOLOGY_ERODE);
}

int bs_detect_fill_holes(unsigned char *mask, int w, int h) {
    size_t npx = (size_t)w * h;
    VipsImage *ctx = vips_image_new();
    VipsImage **t = (VipsImage **)vips_object_local_array(VIPS_OBJECT(ctx), 3);
    int32_t *lab = malloc(sizeof *lab * npx);
    unsigned char *outer = NULL;
    int segments = 0, rc = -1;
    t[0] = vips_image_new_from_memory(mask, npx, w, h, 1, VIPS_FORMAT_UCHAR);
    if (!lab) {
        g_object_unref(ctx);
        return bs_error("cells: out of memory (hole filling)");
    }
    if (t[0] && !vips_labelregions(t[0], &t[1], "segments", &segments, NULL) &&
        !vips_cast(t[1], &t[2], VIPS_FORMAT_INT, NULL) && !write_into(t[2], lab, sizeof *lab * npx))
        rc = 0;
    g_object_unref(ctx);
    if (rc) {
        free(lab);
        return vips_fail("labelling");
    }
    outer = calloc((size_t)segments + 1, 1);
    if (!outer) {
        free(lab);
        return bs_error("cells: out of memory (hole filling)");
    }
    /* Labels are 0..segments-1; a region touching the border is not a hole. */
#define OUTER(i)                                                                                   \
    do {                                                                                           \
        if (lab[i] >= 0 && lab[i] <= segments) outer[lab[i]] = 1;                                  \
    } while (0)
    for (int x = 0; x < w; x++) {
        OUTER(x);
        OUTER((size_t)(h - 1) * w + x);
    }
    for (int y = 0; y < h; y++) {
        OUTER((size_t)y * w);
        OUTER((size_t)y * w + w - 1);
    }
#undef OUTER
    for (size_t i = 0; i < npx; i++)
        if (!mask[i] && lab[i] >= 0 && lab[i] <= segments && !outer[lab[i]]) mask[i] = 255;
    free(outer);
    free(lab);
    return 0;
}
