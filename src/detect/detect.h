/* detect.h — white-cell (leukocyte) detection in a stained blood-smear field.
 *
 * Finds the stained white cells (dark-violet nuclei, pale cytoplasm) in an 8-bit RGB field at
 * any magnification: the scale (a white cell's diameter in pixels) is estimated from the image
 * unless given. Touching white cells are split; red cells, platelets, debris and background
 * are not cells. Not for: cropping, classification or truth files (see the cells command).
 *
 * Coordinates are pixels of the input image; boxes are half-open: x0 <= x < x1, y0 <= y < y1. */
#ifndef BS_DETECT_H
#define BS_DETECT_H

#include <stdint.h>

typedef struct bs_cell {
    double x, y;          /* centre of the whole cell */
    int x0, y0, x1, y1;   /* bounding box of the whole cell (nucleus and cytoplasm) */
    int64_t nucleus_area; /* pixels of stained nucleus */
    int edge;             /* 1 when the cell is cut by the image border */
} bs_cell;

typedef struct bs_detect_params {
    double cell_size; /* expected white-cell diameter in pixels; <= 0: estimate from the image */
} bs_detect_params;

typedef struct bs_cells {
    bs_cell *cells; /* n records, ordered top to bottom, then left to right; owned */
    int64_t n;
    double cell_size; /* the diameter used (estimated or given) */
    /* The red cells' diameter in pixels as the scale estimate measured it (a field's ruler:
     * features/morphometry.h); 0 when unknown (no red cells resolved, or cell_size was given
     * and nothing was measured). */
    double red_cell_size;
} bs_cells;

void bs_detect_params_default(bs_detect_params *p);
/* Detect the white cells of an RGB image (height × width × 3, row-major). Zero cells is a
 * result, not an error. Returns -1 with a bs_error only for invalid arguments or no memory. */
int bs_detect_cells(const unsigned char *rgb, int width, int height, const bs_detect_params *p,
                    bs_cells *out);
void bs_detect_free(bs_cells *c);
/* The scale alone, as bs_detect_cells estimates it first: the white-cell and red-cell
 * diameters in pixels, each 0 when the field does not show it (no nuclei, no red cells). */
int bs_detect_scale(const unsigned char *rgb, int width, int height, double *cell_size,
                    double *red_cell_size);

#endif
