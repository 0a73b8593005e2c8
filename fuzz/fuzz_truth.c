/* fuzz_truth.c — libFuzzer target: the truth-file readers of `blastscan cells --truth`
 * (truth.h): the CSV table as boxes or points, the ALL-IDB .xyc reader, an image looked up in
 * what was read, and one-to-one matching of the records against a few fixed detections. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "eval/truth.h"

static const bs_cell detections[3] = {{50, 50, 0, 0, 100, 100, 10, 0},
                                      {150, 60, 100, 20, 200, 100, 10, 0},
                                      {10, 10, 5, 5, 15, 15, 1, 1}};

static void match(const bs_truth_image *img) {
    int64_t of_det[3], *of_truth = malloc((img->n + 1) * sizeof *of_truth);
    if (of_truth) (void)bs_truth_match(detections, 3, img->cells, img->n, of_det, of_truth);
    free(of_truth);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const char *text = (const char *)data;
    bs_truth t;
    if (bs_truth_parse(text, size, "truth.csv", &t) == 0) {
        bs_truth_image scratch;
        const bs_truth_image *img;
        int found;
        if (bs_truth_lookup(&t, "images/BloodImage_00000.jpg", 640, 480, &scratch, &img, &found) ==
                0 &&
            found)
            match(img);
        bs_truth_image_free(&scratch);
        if (t.n) match(&t.images[0]);
        bs_truth_free(&t);
    }
    bs_truth_image xyc;
    if (bs_truth_parse_xyc(text, size, "a.xyc", &xyc) == 0) {
        match(&xyc);
        bs_truth_image_free(&xyc);
    }
    return 0;
}
