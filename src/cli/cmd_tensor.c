/* cmd_tensor.c — `blastscan tensor`: the exact [1,3,S,S] input a backbone receives for one
 * image, for debugging and parity checks against other tools. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_options.h"
#include "core/npy.h"
#include "image/image.h"

/* tensor's own option codes, then the command: its --help, its options in --help order
 * (cli_options.h) */
enum { OPT_SIZE = BS_CLI_OWN_CODES, OPT_MIRROR, OPT_OUT };

static const bs_cli_command tensor_command = {
    .name = "tensor",
    .before = "Usage: blastscan tensor IMAGE --size S [--mirror none|h|v] --out X.npy\n\n"
              "Decode IMAGE (JPEG, TIFF, PNG, BMP), convert to 8-bit RGB, resize to SxS with\n"
              "antialiased bilinear interpolation (aspect ratio ignored), optionally mirror, and\n"
              "write the float32 NCHW tensor [1,3,S,S] with values 0..255.\n\n",
    .options =
        (const bs_cli_option[]){
            {OPT_SIZE, "size", "S", "output side in pixels (224 GoogLeNet, 299 Inception-v3)"},
            {OPT_MIRROR, "mirror", "M",
             "none (default), h (columns reversed) or v (rows reversed)"},
            {OPT_OUT, "out", "X.npy", "where to write the tensor"},
            {0},
        },
    .column = 16,
};

int bs_cmd_tensor(int argc, char **argv, const bs_cli *cli) {
    (void)cli;
    long size = 0;
    const char *out = NULL;
    bs_view view = BS_VIEW_ORIGINAL;
    bs_cli_parser p;
    bs_cli_parser_init(&p, &tensor_command);
    int c;
    while ((c = bs_cli_next(&p, argc, argv)) >= 0) {
        switch (c) {
            case OPT_SIZE:
                if (bs_cli_parse_int("tensor", "--size", p.arg, 1, 16384, &size))
                    return BS_EXIT_USAGE;
                break;
            case OPT_MIRROR:
                if (bs_view_parse(p.arg, &view))
                    return bs_cli_usage("tensor", "--mirror must be none, h or v");
                break;
            case OPT_OUT: out = p.arg; break;
            default: return bs_cli_unhandled(&p, c);
        }
    }
    if (p.exit >= 0) return p.exit;
    if (optind + 1 != argc) return bs_cli_usage("tensor", "expects exactly one IMAGE");
    if (!size) return bs_cli_usage("tensor", "--size is required");
    if (!out) return bs_cli_usage("tensor", "--out is required");
    const char *path = argv[optind];
    bs_image img;
    if (bs_image_load_resized(path, (int)size, &img)) return bs_cli_fail("tensor");
    bs_array t;
    int64_t shape[4] = {1, 3, size, size};
    if (bs_array_alloc(&t, 4, shape)) {
        bs_image_free(&img);
        return bs_cli_fail("tensor");
    }
    bs_image_to_chw(&img, view, t.data);
    bs_image_free(&img);
    int rc = bs_npy_write(out, &t);
    bs_array_free(&t);
    return rc ? bs_cli_fail("tensor") : BS_EXIT_OK;
}
