/* neardup.h — near-duplicate images (SPEC §7): the same cell or field photographed twice with a
 * few pixels' shift. They join the same group, like exact duplicates, so no split puts one in
 * training and the other in test. Method and threshold: docs/near-duplicates.md.
 * Not for: exact duplicates (dataset.c hashes decoded pixels). */
#ifndef BS_DATASET_NEARDUP_H
#define BS_DATASET_NEARDUP_H

#include <stdint.h>

/* Near-duplicate images (SPEC §7: the same cell photographed twice, shifted by a few pixels).
 * Method (docs/near-duplicates.md): each image becomes a BS_NEARDUP_SIZE² grey thumbnail (area
 * average, aspect ratio ignored), band-passed (minus its local mean over a
 * (2·BS_NEARDUP_HP+1)² box) so the shared "cell in the middle" shape does not dominate; two
 * thumbnails are compared by Pearson correlation over their overlap at every integer shift
 * within ±BS_NEARDUP_SHIFT thumbnail pixels, and match when the best correlation reaches the
 * threshold. Exact duplicates score 1. */
#define BS_NEARDUP_SIZE 64
#define BS_NEARDUP_SHIFT 4 /* ±4 thumbnail pixels: ±16 px on a 257 px crop */
#define BS_NEARDUP_HP 3
#define BS_NEARDUP_THRESHOLD 0.50
/* Floats per thumbnail: the band-passed BS_NEARDUP_SIZE² plane, then a (BS_NEARDUP_SIZE/4)²
 * plain grey plane that a cheap first stage compares (loosely) before the full score. */
#define BS_NEARDUP_FLOATS                                                                          \
    (BS_NEARDUP_SIZE * BS_NEARDUP_SIZE + BS_NEARDUP_SIZE * BS_NEARDUP_SIZE / 16)

/* Thumbnail (BS_NEARDUP_FLOATS floats) of an 8-bit RGB image (height × width × 3). */
int bs_neardup_thumbnail(const unsigned char *rgb, int width, int height, float *thumb);
/* Best shifted correlation of two thumbnails (−1..1); *dx, *dy (may be NULL) get the shift of
 * b relative to a at the best score (b(x+dx, y+dy) ≈ a(x, y), thumbnail pixels). */
double bs_neardup_score(const float *a, const float *b, int *dx, int *dy);

typedef struct bs_neardup_pair {
    int64_t a, b; /* a < b, indices into the thumbnail array */
    double score;
    int dx, dy;
} bs_neardup_pair;

/* All pairs of n thumbnails (n × BS_NEARDUP_FLOATS floats) scoring ≥ threshold, sorted by
 * (a, b); *pairs is malloc'd (NULL when none). Parallel over pairs (OpenMP). Feed the pairs'
 * (a, b) to bs_groups_join to join their groups. */
int bs_neardup_find(const float *thumbs, int64_t n, double threshold, bs_neardup_pair **pairs,
                    int64_t *n_pairs);

#endif
