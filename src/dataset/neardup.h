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
 * within ±BS_NEARDUP_SHIFT thumbnail pixels, and are candidates when the best correlation
 * reaches the threshold. Exact duplicates score 1. A candidate is then verified on finer planes
 * at the shift found (bs_neardup_fine, bs_neardup_verify: thumbnails alone chain different
 * round cells of single-cell crops), and verified pairs join by average linkage
 * (bs_neardup_link). */
#define BS_NEARDUP_SIZE 64
#define BS_NEARDUP_SHIFT 4 /* ±4 thumbnail pixels: ±16 px on a 257 px crop */
#define BS_NEARDUP_HP 3
#define BS_NEARDUP_THRESHOLD 0.50
/* Floats per thumbnail: the band-passed BS_NEARDUP_SIZE² plane, then a (BS_NEARDUP_SIZE/4)²
 * plain grey plane that a cheap first stage compares (loosely) before the full score. */
#define BS_NEARDUP_FLOATS                                                                          \
    (BS_NEARDUP_SIZE * BS_NEARDUP_SIZE + BS_NEARDUP_SIZE * BS_NEARDUP_SIZE / 16)

/* Fine plane for verifying a candidate pair: BS_NEARDUP_FINE² grey, band-passed at a finer
 * scale (detail of a few pixels of the original: chromatin, granules, outlines). */
#define BS_NEARDUP_FINE 128
#define BS_NEARDUP_FINE_FLOATS (BS_NEARDUP_FINE * BS_NEARDUP_FINE)
int bs_neardup_fine(const unsigned char *rgb, int width, int height, float *fine);
/* Best correlation of two fine planes over shifts near (dx, dy) (the thumbnails' shift from
 * bs_neardup_score, scaled to the fine plane). */
double bs_neardup_verify(const float *fa, const float *fb, int dx, int dy);

/* Thumbnail (BS_NEARDUP_FLOATS floats) of an 8-bit RGB image (height × width × 3). */
int bs_neardup_thumbnail(const unsigned char *rgb, int width, int height, float *thumb);
/* Best shifted correlation of two thumbnails (−1..1); *dx, *dy (may be NULL) get the shift of
 * b relative to a at the best score (b(x+dx, y+dy) ≈ a(x, y), thumbnail pixels). */
double bs_neardup_score(const float *a, const float *b, int *dx, int *dy);

typedef struct bs_neardup_pair {
    int64_t a, b; /* a < b, indices into the thumbnail array */
    double score; /* thumbnails (bs_neardup_score) */
    int dx, dy;
    double fine; /* fine planes after alignment (bs_neardup_verify); 0 until verified */
    int linked;  /* bs_neardup_link: 1 when the pair was allowed to merge its two clusters */
} bs_neardup_pair;

/* All pairs of n thumbnails (n × BS_NEARDUP_FLOATS floats) scoring ≥ threshold, sorted by
 * (a, b); *pairs is malloc'd (NULL when none). Parallel over pairs (OpenMP). Feed the pairs'
 * (a, b) to bs_groups_join to join their groups. */
int bs_neardup_find(const float *thumbs, int64_t n, double threshold, bs_neardup_pair **pairs,
                    int64_t *n_pairs);

/* Average linkage over verified pairs, so one weak link cannot chain unrelated images: pairs are
 * taken by descending fine score, and the clusters of a and b (images 0..n-1, each alone at
 * first) merge only when at least half of the image pairs across the two clusters are in
 * `pairs`. Sets each pair's `linked` (1 also for a pair whose images were already together)
 * and reorders pairs by descending fine score. */
int bs_neardup_link(bs_neardup_pair *pairs, int64_t n_pairs, int64_t n);

#endif
