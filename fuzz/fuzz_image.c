/* fuzz_image.c — libFuzzer target: the image path, decode + resize from memory, through the
 * same loader whitelist and decompression-bomb check as files (bs_image_load_buffer*). Both
 * ways the program decodes: streamed straight to a backbone's size (extract) and full size
 * then resized (dataset decoding, near-duplicates). libvips runs on one thread, with no cache,
 * and every loader but the four allowed is blocked (bs_image_init). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <vips/vips.h>

#include "image/image.h"

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc;
    if (bs_image_init((*argv)[0], 1)) abort(); /* one thread, no operation cache, loaders blocked */
    vips_cache_set_max_mem(0);
    vips_cache_set_max_files(0);
    return 0;
}

static void use(const bs_image *img) {
    float *chw = malloc((size_t)img->width * img->height * 3 * sizeof *chw);
    if (chw) bs_image_to_chw(img, BS_VIEW_HMIRROR, chw);
    free(chw);
    char hex[BS_SHA256_HEX_LEN];
    bs_image_pixel_sha256(img, hex);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    bs_image img, small;
    if (bs_image_load_buffer_resized(data, size, "fuzz-image", 29, &img) == 0) {
        use(&img);
        bs_image_free(&img);
    }
    if (bs_image_load_buffer(data, size, "fuzz-image", &img) == 0) {
        if (bs_image_resize(&img, 23, &small) == 0) {
            use(&small);
            bs_image_free(&small);
        }
        bs_image_free(&img);
    }
    return 0;
}
