/* io.h — checked file I/O shared by every stage.
 *
 * Outputs are written to a temporary file beside the target and renamed into place
 * on commit, so an interrupted or failed run never leaves a half-written result.
 * Inputs are read with an explicit size limit because they come from users.
 * Not for: parsing any particular format. */
#ifndef BS_CORE_IO_H
#define BS_CORE_IO_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "error.h"

typedef struct bs_atomic_file {
    FILE *fp;
    char *path;     /* final destination */
    char *tmp_path; /* DIR/.NAME.tmp.XXXXXX, renamed onto path by commit */
} bs_atomic_file;

/* Open a temporary file beside `path` for writing. */
int bs_atomic_open(bs_atomic_file *af, const char *path);
/* Flush, fsync, close and rename into place; on any error the temp file is removed. */
int bs_atomic_commit(bs_atomic_file *af);
/* Close and delete the temp file; the destination is untouched. Safe to call twice. */
void bs_atomic_abort(bs_atomic_file *af);
/* Write a whole buffer atomically. */
int bs_write_file_atomic(const char *path, const void *data, size_t len);
/* Formatted text (printf's formats) into an output file being written: an atomic file's fp, or
 * the memory stream it is assembled in. How stages write Markdown, SVG, HTML and CSV; telling
 * the user goes through core/log.h, and only the command line prints. A failed write is not
 * returned: it stays on the stream, where bs_atomic_commit finds it (ferror) and refuses the
 * file. Never stdout or stderr. */
void bs_putf(FILE *fp, const char *fmt, ...) BS_PRINTF(2, 3);

/* Read a whole file (at most max_len bytes, else an error). *data is NUL-terminated. */
int bs_read_file(const char *path, size_t max_len, unsigned char **data, size_t *len);

/* mkdir -p; an existing directory is fine. */
int bs_mkdir_p(const char *path);
int bs_is_dir(const char *path);
/* rm -rf (best effort; symlinks are removed, not followed). */
void bs_rmtree(const char *path);
int bs_file_exists(const char *path);

/* malloc/calloc/realloc that set a bs_error on failure (and on size overflow). */
void *bs_malloc(size_t size);
void *bs_calloc(size_t count, size_t size);
void *bs_realloc(void *ptr, size_t size);
/* count*size with overflow check; returns 0 and sets *out on success. */
int bs_mul_size(size_t count, size_t size, size_t *out);

char *bs_strdup(const char *s);
/* malloc'd printf. */
char *bs_strfmt(const char *fmt, ...) BS_PRINTF(1, 2);
/* "dir/name", with no doubled slash. */
char *bs_path_join(const char *dir, const char *name);
/* malloc'd: the resolved path (realpath) when the file exists, else a copy of path: one
 * spelling per existing file, to compare or look up paths by. */
char *bs_path_resolved(const char *path);
/* Last path component without its extension ("a/b/c.onnx" -> "c"). */
char *bs_path_stem(const char *path);
/* Pointer into path at the extension including the dot, or "" when none. */
const char *bs_path_ext(const char *path);

#endif
