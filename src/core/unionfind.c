/* unionfind.c — see unionfind.h. */
#include "core/unionfind.h"

void bs_uf_init(int64_t *parent, int64_t n) {
    for (int64_t i = 0; i < n; i++) parent[i] = i;
}

int64_t bs_uf_find(int64_t *parent, int64_t x) {
    while (parent[x] != x) {
        parent[x] = parent[parent[x]]; /* path halving */
        x = parent[x];
    }
    return x;
}

/* Union by smaller index, so every root is its component's smallest item. */
int bs_uf_union(int64_t *parent, int64_t a, int64_t b) {
    a = bs_uf_find(parent, a), b = bs_uf_find(parent, b);
    if (a == b) return 0;
    if (a < b)
        parent[b] = a;
    else
        parent[a] = b;
    return 1;
}
