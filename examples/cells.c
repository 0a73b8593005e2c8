/* cells.c — embedding blastscan's field mode: load a cell model, find and classify every white
 * cell of each field, print one line per cell and a summary per field.
 *
 *     cells MODEL.blastscan BACKBONE_DIR IMAGE ...
 *
 * The model should be trained on cell crops (`blastscan cells --crops`, then `blastscan
 * train --data CROPS/manifest.csv`). blastscan_cells_file decodes the image; a scanner would
 * hand its own RGB pixels to blastscan_cells_rgb. */
#include <stdio.h>

#include "blastscan/blastscan.h"

int main(int argc, char **argv) {
    if (argc < 4) {
        fprintf(stderr, "usage: %s MODEL.blastscan BACKBONE_DIR IMAGE ...\n", argv[0]);
        return 2;
    }
    blastscan *bs = blastscan_open(argv[1], argv[2]);
    if (!bs) {
        fprintf(stderr, "cells: %s\n", blastscan_error());
        return 1;
    }
    blastscan_cells_options opt;
    blastscan_cells_options_default(
        &opt); /* estimated cell size, p >= 0.9, colour as the model's crops */
    int status = 0;
    for (int i = 3; i < argc; i++) {
        blastscan_field f;
        if (blastscan_cells_file(bs, argv[i], &opt, &f)) {
            fprintf(stderr, "cells: %s\n", blastscan_error());
            status = 1;
            continue;
        }
        for (size_t k = 0; k < f.n_cells; k++) {
            const blastscan_cell *c = &f.cells[k];
            printf("%s cell %zu at (%.0f, %.0f) box %d,%d-%d,%d: %s p=%.4f%s\n", argv[i], k, c->x,
                   c->y, c->x0, c->y0, c->x1, c->y1, c->result.class_name, c->result.probability,
                   c->result.out_of_distribution ? " (OOD)" : "");
        }
        if (f.n_cells)
            printf("%s: %zu white cells, %zu blasts (%.1f %%, 95 %% CI %.1f-%.1f): %s\n", argv[i],
                   f.n_cells, f.blasts, f.blast_percent, f.blast_percent_lo, f.blast_percent_hi,
                   f.all_suspected ? "ALL suspected" : "no confident blast");
        else
            printf("%s: no white cells\n", argv[i]);
        blastscan_field_free(&f);
    }
    blastscan_close(bs);
    return status;
}
