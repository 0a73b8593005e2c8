/* unionfind.h — union–find over items 0..n-1 in a caller-owned parent array, for joining
 * samples into groups (shared names, identical pixels, near-duplicate pairs). The root of
 * every component is its smallest item, whatever the order of the unions, so group names
 * derived from roots do not depend on it. Not for: deciding what to join (dataset, eval). */
#ifndef BS_CORE_UNIONFIND_H
#define BS_CORE_UNIONFIND_H

#include <stdint.h>

/* Every item its own component: parent[i] = i. */
void bs_uf_init(int64_t *parent, int64_t n);
/* The root of x's component (halving the path on the way). */
int64_t bs_uf_find(int64_t *parent, int64_t x);
/* Joins the components of a and b; returns 1 if they were apart, 0 if already one. */
int bs_uf_union(int64_t *parent, int64_t a, int64_t b);

#endif
