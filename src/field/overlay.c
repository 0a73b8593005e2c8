/* overlay.c — the picture a person looks at first: the field with every detected cell boxed,
 * coloured by its call and labelled with its probability, drawn with libvips (draw_rect,
 * text + draw_mask) and written as a PNG atomically. Not for: measuring anything, or the
 * crop files (crop_dataset.c, through image.h's bs_image_save). */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <vips/vips.h>

#include "core/error.h"
#include "core/io.h"
#include "field.h"

static int vips_fail(const char *what, const char *path) {
    char msg[512];
    snprintf(msg, sizeof msg, "%s", vips_error_buffer());
    vips_error_clear();
    size_t n = strlen(msg);
    while (n && msg[n - 1] == '\n') msg[--n] = '\0';
    return bs_error("%s: %s: %s", path, what, msg);
}

static void ink_for(const bs_field_call *call, double ink[3]) {
    static const double yellow[3] = {255, 220, 0}, red[3] = {230, 20, 20}, green[3] = {20, 190, 40},
                        grey[3] = {150, 150, 150};
    const double *c = !call ? yellow : call->ood ? grey : call->label == 1 ? red : green;
    memcpy(ink, c, sizeof(double) * 3);
}

/* A box `t` pixels thick, kept inside the image. */
static int box(VipsImage *im, const bs_cell *c, int t, double ink[3]) {
    int x0 = c->x0 < 0 ? 0 : c->x0, y0 = c->y0 < 0 ? 0 : c->y0;
    int x1 = c->x1 > im->Xsize ? im->Xsize : c->x1, y1 = c->y1 > im->Ysize ? im->Ysize : c->y1;
    for (int k = 0; k < t; k++) {
        int w = x1 - x0 - 2 * k, h = y1 - y0 - 2 * k;
        if (w < 1 || h < 1) break;
        if (vips_draw_rect(im, ink, 3, x0 + k, y0 + k, w, h, "fill", FALSE, NULL)) return -1;
    }
    return 0;
}

/* The probability above the box (inside it when the box touches the top). Returns 1 when
 * libvips cannot render text here (no fonts): labels are then left out. */
static int label(VipsImage *im, const bs_cell *c, double p, int dpi, double ink[3]) {
    char text[32];
    snprintf(text, sizeof text, "%.2f", p);
    VipsImage *mask;
    if (vips_text(&mask, text, "dpi", dpi, NULL)) {
        vips_error_clear();
        return 1;
    }
    int y = c->y0 - mask->Ysize - 1;
    if (y < 0) y = c->y0 < 0 ? 0 : c->y0 + 1;
    int x = c->x0 < 0 ? 0 : c->x0;
    int rc = vips_draw_mask(im, ink, 3, mask, x, y, NULL);
    g_object_unref(mask);
    return rc ? -1 : 0;
}

int bs_field_overlay(const bs_image *img, const bs_cell *cells, int64_t n,
                     const bs_field_call *calls, const char *png_path) {
    VipsImage *im = vips_image_new_from_memory_copy(img->rgb, (size_t)img->width * img->height * 3,
                                                    img->width, img->height, 3, VIPS_FORMAT_UCHAR);
    if (!im) return vips_fail("overlay", png_path);
    int side = img->width < img->height ? img->width : img->height;
    int rc = 0, text = calls != NULL;
    for (int64_t i = 0; i < n && rc == 0; i++) {
        double ink[3];
        ink_for(calls ? &calls[i] : NULL, ink);
        /* thickness and text size follow the cell, so every magnification reads alike */
        int cell_side = cells[i].x1 - cells[i].x0;
        int t = cell_side / 40 + 1;
        if (t > side / 50 + 1) t = side / 50 + 1;
        if (box(im, &cells[i], t, ink))
            rc = -1;
        else if (text) {
            int dpi = cell_side < 40 ? 40 : cell_side > 600 ? 600 : cell_side;
            int r = label(im, &cells[i], calls[i].probability, dpi, ink);
            rc = r < 0 ? -1 : 0;
            text = r == 0;
        }
    }
    void *buf = NULL;
    size_t len = 0;
    if (rc || vips_pngsave_buffer(im, &buf, &len, "compression", 6, NULL)) {
        g_object_unref(im);
        return vips_fail("writing the overlay", png_path);
    }
    g_object_unref(im);
    rc = bs_write_file_atomic(png_path, buf, len);
    g_free(buf);
    return rc;
}
