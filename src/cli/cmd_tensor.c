/* cmd_tensor.c — `blastscan tensor`: the exact [1,3,S,S] input a backbone receives for one
 * image, for debugging and parity checks against other tools. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "core/npy.h"
#include "image/image.h"

static void usage(FILE *fp) {
    fprintf(fp,
            "Usage: blastscan tensor IMAGE --size S [--mirror none|h|v] --out X.npy\n\n"
            "Decode IMAGE (JPEG, TIFF, PNG, BMP), convert to 8-bit RGB, resize to SxS with\n"
            "antialiased bilinear interpolation (aspect ratio ignored), optionally mirror, and\n"
            "write the float32 NCHW tensor [1,3,S,S] with values 0..255.\n\n"
            "  --size S      output side in pixels (224 GoogLeNet, 299 Inception-v3)\n"
            "  --mirror M    none (default), h (columns reversed) or v (rows reversed)\n"
            "  --out X.npy   where to write the tensor\n");
}

int bs_cmd_tensor(int argc, char **argv, const bs_cli *cli) {
    (void)cli;
    static const struct option opts[] = {{"size", required_argument, 0, 's'},
                                         {"mirror", required_argument, 0, 'm'},
                                         {"out", required_argument, 0, 'o'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    long size = 0;
    const char *out = NULL;
    bs_view view = BS_VIEW_ORIGINAL;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
            case 's':
                if (bs_cli_parse_int("tensor", "--size", optarg, 1, 16384, &size))
                    return BS_EXIT_USAGE;
                break;
            case 'm':
                if (bs_view_parse(optarg, &view))
                    return bs_cli_usage("tensor", "--mirror must be none, h or v");
                break;
            case 'o': out = optarg; break;
            case 'h': usage(stdout); return BS_EXIT_OK;
            default: return bs_cli_usage("tensor", "unknown option");
        }
    }
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
