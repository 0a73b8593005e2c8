/* strings.c — see strings.h. */
#include "core/strings.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "core/io.h"

int bs_split_list(const char *text, char ***items, size_t *n) {
    size_t cap = 1;
    for (const char *p = text; *p; p++) cap += *p == ',';
    char **l = bs_calloc(cap, sizeof *l);
    if (!l) return -1;
    size_t m = 0;
    for (const char *p = text;;) {
        const char *e = strchr(p, ',');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        while (len && isspace((unsigned char)*p)) p++, len--;
        while (len && isspace((unsigned char)p[len - 1])) len--;
        if (len) {
            char *s = bs_malloc(len + 1);
            if (!s) {
                bs_free_list(l, m);
                return -1;
            }
            memcpy(s, p, len);
            s[len] = '\0';
            l[m++] = s;
        }
        if (!e) break;
        p = e + 1;
    }
    *items = l;
    *n = m;
    return 0;
}

void bs_free_list(char **items, size_t n) {
    for (size_t i = 0; i < n; i++) free(items[i]);
    free(items);
}

typedef struct {
    const char *s;
    size_t i;
} str_idx;

static int cmp_str_idx(const void *a, const void *b) {
    const str_idx *x = a, *y = b;
    int c = strcmp(x->s, y->s);
    return c ? c : (x->i > y->i) - (x->i < y->i);
}

int64_t bs_dense_ids(const char *const *keys, size_t n, int64_t *ids) {
    str_idx *v = bs_calloc(n ? n : 1, sizeof *v);
    if (!v) return -1;
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        ids[i] = -1;
        if (keys[i]) v[m++] = (str_idx){keys[i], i};
    }
    qsort(v, m, sizeof *v, cmp_str_idx);
    int64_t next = -1;
    for (size_t i = 0; i < m; i++) {
        if (i == 0 || strcmp(v[i].s, v[i - 1].s) != 0) next++;
        ids[v[i].i] = next;
    }
    free(v);
    return next + 1;
}

int64_t bs_dense_ids_seen(const char *const *keys, size_t n, int64_t *ids, size_t *first) {
    int64_t *remap = bs_calloc(n ? n : 1, sizeof *remap);
    int64_t count = remap ? bs_dense_ids(keys, n, ids) : -1;
    for (int64_t k = 0; k < count; k++) remap[k] = -1;
    int64_t next = 0;
    for (size_t i = 0; i < n && count > 0; i++) {
        if (ids[i] < 0) continue;
        if (remap[ids[i]] < 0) {
            first[next] = i;
            remap[ids[i]] = next++;
        }
        ids[i] = remap[ids[i]];
    }
    free(remap);
    return count;
}
