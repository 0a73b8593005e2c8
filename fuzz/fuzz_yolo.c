/* fuzz_yolo.c — libFuzzer target: the YOLO readers of `blastscan cells --truth labels/`
 * (truth.h): a classes.txt, a label file against fixed classes, the image looked up in pixels
 * and its records matched against a few fixed detections. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "eval/truth.h"

static const bs_cell detections[2] = {{50, 50, 0, 0, 100, 100, 10, 0},
                                      {150, 60, 100, 20, 200, 100, 10, 0}};
static char *names[] = {"WBC", "RBC", "Platelet", "lymphoblast"};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const char *text = (const char *)data;
    bs_truth_classes parsed;
    if (bs_truth_parse_classes(text, size, "classes.txt", &parsed) == 0)
        bs_truth_classes_free(&parsed);
    bs_truth_classes classes = {names, 4};
    bs_truth t = {0};
    if (bs_truth_parse_yolo(text, size, "labels/f.txt", &classes, &t) == 0) {
        bs_truth_image scratch;
        const bs_truth_image *img;
        int found;
        if (bs_truth_lookup(&t, "images/f.jpg", 640, 480, &scratch, &img, &found) == 0 && found) {
            int64_t of_det[2], *of_truth = malloc((img->n + 1) * sizeof *of_truth);
            if (of_truth) (void)bs_truth_match(detections, 2, img->cells, img->n, of_det, of_truth);
            free(of_truth);
        }
        bs_truth_image_free(&scratch);
    }
    bs_truth_free(&t);
    return 0;
}
