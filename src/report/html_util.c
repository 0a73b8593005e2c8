/* html_util.c — HTML escaping, a path's last component, results.json read back (see
 * html_util.h). A leaf of the report stage: it calls only core. */
#include "html_util.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "core/io.h"

void bs_html_text(FILE *fp, const char *s) {
    for (; s && *s; s++) {
        switch (*s) {
            case '&': fputs("&amp;", fp); break;
            case '<': fputs("&lt;", fp); break;
            case '>': fputs("&gt;", fp); break;
            case '"': fputs("&quot;", fp); break;
            default: fputc(*s, fp);
        }
    }
}

const char *bs_html_basename(const char *path) {
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}

json_t *bs_html_load_results(const char *dir) {
    char *path = bs_path_join(dir, "results.json");
    unsigned char *data = NULL;
    size_t len = 0;
    json_t *root = NULL;
    if (path && bs_file_exists(path) && bs_read_file(path, 256u << 20, &data, &len) == 0)
        root = json_loadb((const char *)data, len, 0, NULL);
    free(data);
    free(path);
    return root;
}
