/* strings.h — small string-list helpers every stage needs: comma-separated lists from the
 * command line and dense integer ids for names (classes, groups, paths).
 * Not for: paths (io.h) or CSV fields (csv.h). */
#ifndef BS_CORE_STRINGS_H
#define BS_CORE_STRINGS_H

#include <stddef.h>
#include <stdint.h>

/* Parse "Early, Pre,Pro" into a malloc'd array of malloc'd names (blanks around each name
 * trimmed, empty names dropped); free with bs_free_list. */
int bs_split_list(const char *text, char ***items, size_t *n);
void bs_free_list(char **items, size_t n);

/* ids[i]: the rank of keys[i] among the distinct keys in strcmp order, so equal strings get
 * equal ids 0..count-1 whatever their order; a NULL key gets -1 and is not counted.
 * Returns the count of distinct keys, or -1 when memory runs out. */
int64_t bs_dense_ids(const char *const *keys, size_t n, int64_t *ids);
/* The same ids numbered in order of first appearance instead (the first key gets 0, the next
 * new key 1, ...); first[k] (count values, caller's, n suffice) gets the position of id k's
 * first key. */
int64_t bs_dense_ids_seen(const char *const *keys, size_t n, int64_t *ids, size_t *first);

#endif
