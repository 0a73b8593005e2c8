/* fuzz_voc.c — libFuzzer target: the Pascal VOC reader of `blastscan cells --truth` (truth.h,
 * glib's GMarkup under a bounded tree walk), its records matched against a fixed detection. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "eval/truth.h"

static const bs_cell detections[1] = {{50, 50, 0, 0, 100, 100, 10, 0}};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    bs_truth t = {0};
    char *filename = NULL;
    if (bs_truth_parse_voc((const char *)data, size, "Annotations/f.xml", &t, &filename) == 0) {
        const bs_truth_image *img = &t.images[0];
        int64_t of_det[1], *of_truth = malloc((img->n + 1) * sizeof *of_truth);
        if (of_truth) (void)bs_truth_match(detections, 1, img->cells, img->n, of_det, of_truth);
        free(of_truth);
        free(filename);
    }
    bs_truth_free(&t);
    return 0;
}
