/* wilson.c — bs_wilson95 (core/stats.h) for the browser test: `review_wilson K N [K N ...]` prints
 * "K N LO HI" per pair (%.17g), so the test holds the review page's JavaScript interval against
 * the C one on the counts it produced by reclassifying cells. */
#include <stdio.h>
#include <stdlib.h>

#include "core/stats.h"

int main(int argc, char **argv) {
    if (argc < 3 || argc % 2 == 0) {
        fprintf(stderr, "usage: review_wilson K N [K N ...]\n");
        return 2;
    }
    for (int i = 1; i + 1 < argc; i += 2) {
        long long k = strtoll(argv[i], NULL, 10), n = strtoll(argv[i + 1], NULL, 10);
        double lo, hi;
        bs_wilson95(k, n, &lo, &hi);
        printf("%lld %lld %.17g %.17g\n", k, n, lo, hi);
    }
    return 0;
}
