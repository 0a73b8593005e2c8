/* npy.h — NumPy .npy files of float32 arrays, C order.
 *
 * Reading validates every header field (magic, version, header length, descr,
 * fortran_order, shape, data size) because .npy files come from users. float64 and
 * big-endian float files are converted to float32 on read; anything else is refused.
 * Writing emits version 1.0 (2.0 when the header needs it), header padded to 64 bytes,
 * through a temporary file renamed into place. */
#ifndef BS_CORE_NPY_H
#define BS_CORE_NPY_H

#include <stddef.h>
#include <stdint.h>

#define BS_NPY_MAX_DIMS 8
/* Largest .npy we will read (elements); 2^33 floats = 32 GiB, far above any feature set. */
#define BS_NPY_MAX_ELEMENTS ((int64_t)1 << 33)

typedef struct bs_array {
    int ndim;
    int64_t shape[BS_NPY_MAX_DIMS];
    float *data; /* C order, owned */
} bs_array;

int64_t bs_array_count(const bs_array *a);
/* Allocate a zeroed array of the given shape. */
int bs_array_alloc(bs_array *a, int ndim, const int64_t *shape);
void bs_array_free(bs_array *a);

/* Parse an in-memory .npy image; `name` is used in messages. */
int bs_npy_parse(const unsigned char *buf, size_t len, const char *name, bs_array *out);
int bs_npy_read(const char *path, bs_array *out);
int bs_npy_write(const char *path, const bs_array *a);

/* Streaming writer: the shape is fixed up front, rows are appended, close() checks
 * that exactly shape-many elements arrived and renames the file into place. */
typedef struct bs_npy_writer bs_npy_writer;
bs_npy_writer *bs_npy_writer_open(const char *path, int ndim, const int64_t *shape);
int bs_npy_writer_append(bs_npy_writer *w, const float *data, size_t count);
int bs_npy_writer_close(bs_npy_writer *w);
void bs_npy_writer_abort(bs_npy_writer *w);

#endif
