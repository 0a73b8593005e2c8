/* finite.c — see finite.h. */
#include "core/finite.h"

#include <math.h>

#include "core/error.h"

int bs_check_finite(const float *x, int64_t ld, const int64_t *rows, int64_t n) {
    for (int64_t i = 0; i < n; i++) {
        int64_t r = rows ? rows[i] : i;
        const float *row = x + r * ld;
        for (int64_t j = 0; j < ld; j++)
            if (!isfinite(row[j]))
                return bs_error(
                    "%s value at row %lld, column %lld (0-based): features must be finite",
                    isnan(row[j]) ? "NaN" : "infinite", (long long)r, (long long)j);
    }
    return 0;
}
