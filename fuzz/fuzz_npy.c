/* fuzz_npy.c — libFuzzer target: the .npy reader (bs_npy_parse). */
#include <stddef.h>
#include <stdint.h>

#include "core/npy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    bs_array a;
    if (bs_npy_parse(data, size, "fuzz.npy", &a) == 0) {
        int64_t n = bs_array_count(&a);
        float sum = 0;
        for (int64_t i = 0; i < n; i++) sum += a.data[i]; /* every element must be readable */
        volatile float sink = sum;
        (void)sink;
        bs_array_free(&a);
    }
    return 0;
}
