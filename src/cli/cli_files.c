/* cli_files.c — the image files a command is given: files as named, folders walked in name
 * order. Not a dataset reader: no labels, no groups (dataset/dataset.c). */
#define _DEFAULT_SOURCE /* scandir, alphasort */
#include "cli_files.h"

#include <dirent.h>
#include <stdlib.h>

#include "core/error.h"
#include "core/io.h"
#include "image/image.h"

int bs_cli_list_add(bs_cli_list *l, const char *s) {
    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 64;
        char **v = bs_realloc(l->v, cap * sizeof *v);
        if (!v) return -1;
        l->v = v;
        l->cap = cap;
    }
    if (!(l->v[l->n] = bs_strdup(s))) return -1;
    l->n++;
    return 0;
}

void bs_cli_list_free(bs_cli_list *l) {
    for (size_t i = 0; i < l->n; i++) free(l->v[i]);
    free(l->v);
    l->v = NULL;
    l->n = l->cap = 0;
}

static int walk(const char *dir, bs_cli_list *out, int depth) {
    if (depth > 64) return bs_error("%s: folders nested too deep", dir);
    struct dirent **ents;
    int n = scandir(dir, &ents, NULL, alphasort);
    if (n < 0) return bs_error("%s: cannot read folder", dir);
    int rc = 0;
    for (int i = 0; i < n; i++) {
        const char *name = ents[i]->d_name;
        if (rc == 0 && name[0] != '.') {
            char *p = bs_path_join(dir, name);
            if (!p)
                rc = -1;
            else if (bs_is_dir(p))
                rc = walk(p, out, depth + 1);
            else if (bs_image_has_image_ext(p))
                rc = bs_cli_list_add(out, p);
            free(p);
        }
        free(ents[i]);
    }
    free(ents);
    return rc;
}

int bs_cli_image_files(int argc, char **argv, bs_cli_list *out) {
    for (int i = 0; i < argc; i++)
        if (bs_is_dir(argv[i]) ? walk(argv[i], out, 0) : bs_cli_list_add(out, argv[i])) return -1;
    return 0;
}
