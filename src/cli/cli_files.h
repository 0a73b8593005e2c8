/* cli_files.h — the image files a command is given (`predict`, `cells`): each argument a file,
 * or a folder walked for images; and the growable list of strings that holds them. Not for
 * datasets (labels, groups, manifests: dataset/dataset.h). */
#ifndef BS_CLI_FILES_H
#define BS_CLI_FILES_H

#include <stddef.h>

typedef struct bs_cli_list {
    char **v;
    size_t n, cap;
} bs_cli_list;

/* Append a copy of s; -1 (bs_error) when memory runs out. */
int bs_cli_list_add(bs_cli_list *l, const char *s);
void bs_cli_list_free(bs_cli_list *l);
/* Each of argv[0..argc): a folder adds every file below it with an image extension (sorted by
 * name, hidden entries skipped, at most 64 levels deep); anything else is added as given. */
int bs_cli_image_files(int argc, char **argv, bs_cli_list *out);

#endif
