/* cli_cells.h — what the two halves of `blastscan cells` share: the options, and the crops
 * mode (cli_cells_crops.c) that cmd_cells.c hands over to. */
#ifndef BS_CLI_CELLS_H
#define BS_CLI_CELLS_H

#include "detect/detect.h"
#include "cli.h"
#include "cli_data.h"
#include "field/field.h"

typedef struct bs_cells_opts {
    const char *model, *backbone_dir, *overlay, *truth, *evaluation, *crops;
    int format; /* 0 table, 1 json, 2 csv */
    bs_detect_params detect;
    long batch;
    int normalise;
    int crop_jpeg;
    long sample; /* --crops: source images kept (0 = all) */
    bs_field_rule rule;
    bs_cli_data data;
} bs_cells_opts;

/* `blastscan cells --crops OUTDIR --data D ...`: every detected cell of every source image as
 * an image file, plus OUTDIR/manifest.csv (path,label,class,group). */
int bs_cells_crops(const bs_cells_opts *o, const bs_cli *cli);

#endif
