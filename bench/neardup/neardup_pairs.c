/* neardup_pairs.c — measuring tool for docs/near-duplicates.md: every candidate pair of a list
 * of images (thumbnail score >= a threshold) with its verified (fine) score, as TSV on stdout:
 * score fine a b dx dy. Usage: neardup_pairs LIST.txt [THRESHOLD [PAIRS.tsv]] (LIST: one image
 * path a line; with PAIRS.tsv, an earlier output, only its pairs are verified again).
 * Not for: grouping (bs_dataset_join_near_duplicates does that). */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/progress.h"
#include "dataset/neardup.h"
#include "image/image.h"

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: neardup_pairs LIST.txt [THRESHOLD [PAIRS.tsv]]\n");
        return 2;
    }
    double thr = argc > 2 ? atof(argv[2]) : 0.3;
    FILE *fp = fopen(argv[1], "r");
    if (!fp || bs_image_init(argv[0], 1)) return 1;
    char **paths = NULL, line[4096];
    size_t n = 0;
    while (fgets(line, sizeof line, fp)) {
        line[strcspn(line, "\r\n")] = 0;
        if (!line[0]) continue;
        char **grown = realloc(paths, (n + 1) * sizeof *paths);
        if (!grown || !(grown[n] = strdup(line))) return 1;
        paths = grown;
        n++;
    }
    fclose(fp);
    float *th = malloc(sizeof(float) * BS_NEARDUP_FLOATS * (n ? n : 1));
    float *fine = malloc(sizeof(float) * BS_NEARDUP_FINE_FLOATS * (n ? n : 1));
    if (!th || !fine) return 1;
    double t0 = bs_now();
#pragma omp parallel for schedule(dynamic, 8)
    for (size_t i = 0; i < n; i++) {
        bs_image img;
        if (bs_image_load(paths[i], &img) ||
            bs_neardup_thumbnail(img.rgb, img.width, img.height, th + i * BS_NEARDUP_FLOATS) ||
            bs_neardup_fine(img.rgb, img.width, img.height, fine + i * BS_NEARDUP_FINE_FLOATS)) {
            fprintf(stderr, "%s: %s\n", paths[i], bs_error_message());
            exit(1);
        }
        bs_image_free(&img);
    }
    double t1 = bs_now();
    bs_neardup_pair *pairs;
    int64_t np;
    if (argc > 3) {
        FILE *pf = fopen(argv[3], "r");
        if (!pf) return 1;
        pairs = malloc(sizeof *pairs * 1000000);
        if (!pairs) return 1;
        np = 0;
        char a[4096], b[4096];
        double sc, fi;
        int dx, dy;
        if (!fgets(line, sizeof line, pf)) return 1;
        while (fscanf(pf, "%lf %lf %4095s %4095s %d %d", &sc, &fi, a, b, &dx, &dy) == 6 &&
               np < 1000000) {
            int64_t ia = -1, ib = -1;
            for (size_t i = 0; i < n; i++) {
                if (!strcmp(paths[i], a)) ia = (int64_t)i;
                if (!strcmp(paths[i], b)) ib = (int64_t)i;
            }
            if (ia >= 0 && ib >= 0)
                pairs[np++] = (bs_neardup_pair){.a = ia, .b = ib, .score = sc, .dx = dx, .dy = dy};
        }
        fclose(pf);
    } else if (bs_neardup_find(th, (int64_t)n, thr, &pairs, &np))
        return 1;
    double t2 = bs_now();
    printf("score\tfine\ta\tb\tdx\tdy\n");
    for (int64_t p = 0; p < np; p++) {
        double f =
            bs_neardup_verify(fine + pairs[p].a * BS_NEARDUP_FINE_FLOATS,
                              fine + pairs[p].b * BS_NEARDUP_FINE_FLOATS, pairs[p].dx, pairs[p].dy);
        printf("%.4f\t%.4f\t%s\t%s\t%d\t%d\n", pairs[p].score, f, paths[pairs[p].a],
               paths[pairs[p].b], pairs[p].dx, pairs[p].dy);
    }
    fprintf(stderr, "%zu images: thumbnails %.1f s, search %.1f s, verify %.1f s, %lld pairs\n", n,
            t1 - t0, t2 - t1, bs_now() - t2, (long long)np);
    return 0;
}
