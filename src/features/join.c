/* join.c — the fused feature matrix of a feature folder: every feature set, in name order,
 * joined column-wise ([GSet | ISet | …] per row), as `experiment` fuses them (Exp 2) and `train`
 * feeds its pipeline. Not for: choosing sets or reading the index (featdir.c). */
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/io.h"
#include "featdir.h"

static void free_names(char **names, size_t n) {
    for (size_t i = 0; names && i < n; i++) free(names[i]);
    free(names);
}

/* Copy each set's rows into its block of columns of x (rows × width). */
static void join_sets(const bs_array *sets, size_t nsets, size_t rows, int64_t width, float *x) {
    for (size_t r = 0; r < rows; r++) {
        int64_t off = 0;
        for (size_t k = 0; k < nsets; k++) {
            size_t d = (size_t)sets[k].shape[1];
            memcpy(x + r * (size_t)width + off, sets[k].data + r * d, sizeof(float) * d);
            off += sets[k].shape[1];
        }
    }
}

int bs_featdir_read_joined(const char *dir, size_t rows, float **x, int64_t *width,
                           char ***names_out, size_t *nsets_out) {
    char **names = NULL;
    size_t nsets = 0;
    bs_array *sets = NULL;
    *x = NULL;
    *width = 0;
    int rc = bs_featdir_list_sets(dir, &names, &nsets);
    if (rc == 0 && nsets == 0) rc = bs_error("%s: no feature sets (NAME.npy) in the folder", dir);
    if (rc == 0 && !(sets = bs_calloc(nsets, sizeof *sets))) rc = -1;
    for (size_t k = 0; k < nsets && rc == 0; k++) {
        rc = bs_featdir_read_set(dir, names[k], rows, &sets[k]);
        *width += rc == 0 ? sets[k].shape[1] : 0;
    }
    size_t bytes = 0;
    if (rc == 0 && bs_mul_size(rows ? rows : 1, sizeof(float) * (size_t)*width, &bytes))
        rc = bs_error("%s: %zu rows x %lld features is too large", dir, rows, (long long)*width);
    if (rc == 0 && !(*x = bs_malloc(bytes))) rc = -1;
    if (rc == 0) join_sets(sets, nsets, rows, *width, *x);
    for (size_t k = 0; sets && k < nsets; k++) bs_array_free(&sets[k]);
    free(sets);
    if (rc == 0 && names_out) {
        *names_out = names;
        *nsets_out = nsets;
    } else {
        free_names(names, nsets);
    }
    if (rc) {
        free(*x);
        *x = NULL;
    }
    return rc;
}
