/* npy.c — .npy reader/writer (see npy.h). Format: numpy/lib/format.py, versions 1.0-3.0. */
#include "npy.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "io.h"

static const unsigned char npy_magic[6] = {0x93, 'N', 'U', 'M', 'P', 'Y'};

int64_t bs_array_count(const bs_array *a) {
    int64_t n = 1;
    for (int i = 0; i < a->ndim; i++) n *= a->shape[i];
    return n;
}

static int shape_count(int ndim, const int64_t *shape, int64_t *count) {
    if (ndim < 0 || ndim > BS_NPY_MAX_DIMS)
        return bs_error("%d dimensions (at most %d)", ndim, BS_NPY_MAX_DIMS);
    int64_t n = 1;
    for (int i = 0; i < ndim; i++) {
        if (shape[i] < 0) return bs_error("negative dimension %lld", (long long)shape[i]);
        if (shape[i] > 0 && n > BS_NPY_MAX_ELEMENTS / shape[i])
            return bs_error("array too large (more than %lld elements)",
                            (long long)BS_NPY_MAX_ELEMENTS);
        n *= shape[i];
    }
    *count = n;
    return 0;
}

int bs_array_alloc(bs_array *a, int ndim, const int64_t *shape) {
    int64_t n;
    memset(a, 0, sizeof *a);
    if (shape_count(ndim, shape, &n)) return -1;
    a->data = bs_calloc((size_t)n, sizeof(float));
    if (!a->data) return -1;
    a->ndim = ndim;
    memcpy(a->shape, shape, sizeof(int64_t) * (size_t)ndim);
    return 0;
}

void bs_array_free(bs_array *a) {
    free(a->data);
    memset(a, 0, sizeof *a);
}

/* ---- header parsing: a Python dict literal with exactly three keys ---- */

typedef struct {
    const char *p, *end;
} cursor;

static void skip_ws(cursor *c) {
    while (c->p < c->end && (*c->p == ' ' || *c->p == '\t')) c->p++;
}

static int expect(cursor *c, char ch) {
    skip_ws(c);
    if (c->p >= c->end || *c->p != ch) return -1;
    c->p++;
    return 0;
}

/* A quoted Python string ('x' or "x") without escapes, copied into out. */
static int parse_str(cursor *c, char *out, size_t cap) {
    skip_ws(c);
    if (c->p >= c->end || (*c->p != '\'' && *c->p != '"')) return -1;
    char q = *c->p++;
    size_t n = 0;
    while (c->p < c->end && *c->p != q) {
        if (*c->p == '\\' || n + 1 >= cap) return -1;
        out[n++] = *c->p++;
    }
    if (c->p >= c->end) return -1;
    c->p++;
    out[n] = '\0';
    return 0;
}

static int parse_shape(cursor *c, int *ndim, int64_t *shape) {
    if (expect(c, '(')) return -1;
    int n = 0;
    for (;;) {
        skip_ws(c);
        if (c->p < c->end && *c->p == ')') {
            c->p++;
            break;
        }
        if (n >= BS_NPY_MAX_DIMS) return -1;
        int64_t v = 0;
        int digits = 0;
        while (c->p < c->end && *c->p >= '0' && *c->p <= '9') {
            if (v > (INT64_MAX - 9) / 10) return -1;
            v = v * 10 + (*c->p - '0');
            c->p++;
            digits++;
        }
        if (!digits) return -1;
        skip_ws(c);
        if (c->p < c->end && *c->p == 'L') c->p++; /* Python 2 longs */
        shape[n++] = v;
        skip_ws(c);
        if (c->p < c->end && *c->p == ',') {
            c->p++;
            continue;
        }
        if (expect(c, ')')) return -1;
        break;
    }
    *ndim = n;
    return 0;
}

typedef enum { DT_F4LE, DT_F4BE, DT_F8LE, DT_F8BE } npy_dtype;

static int parse_header(const char *h, size_t len, const char *name, npy_dtype *dt, int *ndim,
                        int64_t *shape) {
    cursor c = {h, h + len};
    int have_descr = 0, have_order = 0, have_shape = 0;
    if (expect(&c, '{')) return bs_error("%s: .npy header is not a dict", name);
    for (;;) {
        skip_ws(&c);
        if (c.p < c.end && *c.p == '}') {
            c.p++;
            break;
        }
        char key[32];
        if (parse_str(&c, key, sizeof key) || expect(&c, ':'))
            return bs_error("%s: malformed .npy header", name);
        if (strcmp(key, "descr") == 0 && !have_descr) {
            char d[16];
            if (parse_str(&c, d, sizeof d))
                return bs_error("%s: malformed descr in .npy header", name);
            if (strcmp(d, "<f4") == 0)
                *dt = DT_F4LE;
            else if (strcmp(d, ">f4") == 0)
                *dt = DT_F4BE;
            else if (strcmp(d, "<f8") == 0)
                *dt = DT_F8LE;
            else if (strcmp(d, ">f8") == 0)
                *dt = DT_F8BE;
            else
                return bs_error("%s: dtype '%s' not supported (float32 or float64 only)", name, d);
            have_descr = 1;
        } else if (strcmp(key, "fortran_order") == 0 && !have_order) {
            skip_ws(&c);
            if ((size_t)(c.end - c.p) >= 5 && memcmp(c.p, "False", 5) == 0)
                c.p += 5;
            else if ((size_t)(c.end - c.p) >= 4 && memcmp(c.p, "True", 4) == 0)
                return bs_error("%s: Fortran-order arrays are not supported; save with C order",
                                name);
            else
                return bs_error("%s: malformed fortran_order in .npy header", name);
            have_order = 1;
        } else if (strcmp(key, "shape") == 0 && !have_shape) {
            if (parse_shape(&c, ndim, shape))
                return bs_error("%s: malformed shape in .npy header", name);
            have_shape = 1;
        } else {
            return bs_error("%s: unexpected or repeated key '%s' in .npy header", name, key);
        }
        skip_ws(&c);
        if (c.p < c.end && *c.p == ',') c.p++;
    }
    if (!have_descr || !have_order || !have_shape)
        return bs_error("%s: .npy header lacks descr, fortran_order or shape", name);
    while (c.p < c.end && (*c.p == ' ' || *c.p == '\n' || *c.p == '\t')) c.p++;
    if (c.p != c.end) return bs_error("%s: trailing bytes in .npy header", name);
    return 0;
}

static uint64_t load_u64(const unsigned char *p, int big) {
    uint64_t v = 0;
    for (int i = 0; i < 8; i++) v |= (uint64_t)p[big ? 7 - i : i] << (8 * i);
    return v;
}

static uint32_t load_u32(const unsigned char *p, int big) {
    uint32_t v = 0;
    for (int i = 0; i < 4; i++) v |= (uint32_t)p[big ? 3 - i : i] << (8 * i);
    return v;
}

int bs_npy_parse(const unsigned char *buf, size_t len, const char *name, bs_array *out) {
    memset(out, 0, sizeof *out);
    if (len < 10 || memcmp(buf, npy_magic, 6) != 0)
        return bs_error("%s: not a .npy file (bad magic)", name);
    unsigned major = buf[6], minor = buf[7];
    size_t hlen, hstart;
    if (major == 1) {
        hlen = (size_t)buf[8] | ((size_t)buf[9] << 8);
        hstart = 10;
    } else if (major == 2 || major == 3) {
        if (len < 12) return bs_error("%s: truncated .npy header", name);
        hlen = load_u32(buf + 8, 0);
        hstart = 12;
    } else {
        return bs_error("%s: .npy version %u.%u not supported", name, major, minor);
    }
    if (minor != 0) return bs_error("%s: .npy version %u.%u not supported", name, major, minor);
    if (hlen > len - hstart)
        return bs_error("%s: truncated .npy header (%zu bytes announced)", name, hlen);
    npy_dtype dt = DT_F4LE;
    int ndim = 0;
    int64_t shape[BS_NPY_MAX_DIMS];
    if (parse_header((const char *)buf + hstart, hlen, name, &dt, &ndim, shape)) return -1;
    int64_t count;
    if (shape_count(ndim, shape, &count)) return bs_error_prefix("%s: ", name);
    size_t esize = (dt == DT_F4LE || dt == DT_F4BE) ? 4 : 8;
    size_t data_off = hstart + hlen;
    size_t have = len - data_off;
    if ((uint64_t)count > (uint64_t)(SIZE_MAX / esize) || (size_t)count * esize != have)
        return bs_error("%s: .npy data is %zu bytes, header shape needs %lld", name, have,
                        (long long)count * (long long)esize);
    if (bs_array_alloc(out, ndim, shape)) return bs_error_prefix("%s: ", name);
    const unsigned char *src = buf + data_off;
    for (int64_t i = 0; i < count; i++) {
        switch (dt) {
            case DT_F4LE:
            case DT_F4BE: {
                uint32_t u = load_u32(src + 4 * i, dt == DT_F4BE);
                memcpy(&out->data[i], &u, 4);
                break;
            }
            default: {
                uint64_t u = load_u64(src + 8 * i, dt == DT_F8BE);
                double d;
                memcpy(&d, &u, 8);
                out->data[i] = (float)d;
                break;
            }
        }
    }
    return 0;
}

int bs_npy_read(const char *path, bs_array *out) {
    unsigned char *buf;
    size_t len;
    memset(out, 0, sizeof *out);
    if (bs_read_file(path, (size_t)BS_NPY_MAX_ELEMENTS * 8 + 65536, &buf, &len)) return -1;
    int rc = bs_npy_parse(buf, len, path, out);
    free(buf);
    return rc;
}

/* Header text padded with spaces and a newline so the data starts at a multiple of 64. */
static size_t make_header(int ndim, const int64_t *shape, unsigned char *out, size_t cap) {
    char dict[512];
    int n = snprintf(dict, sizeof dict, "{'descr': '<f4', 'fortran_order': False, 'shape': (");
    for (int i = 0; i < ndim; i++)
        n += snprintf(dict + n, sizeof dict - (size_t)n, "%lld,%s", (long long)shape[i],
                      (i + 1 < ndim) ? " " : "");
    if (ndim > 1) n--; /* numpy writes (3, 4) but (3,) */
    n += snprintf(dict + n, sizeof dict - (size_t)n, "), }");
    size_t pre = 10;
    size_t total = pre + (size_t)n + 1;
    total = (total + 63) / 64 * 64;
    if (total - pre > 65535) return 0;
    if (total > cap) return 0;
    memcpy(out, npy_magic, 6);
    out[6] = 1;
    out[7] = 0;
    size_t hlen = total - pre;
    out[8] = (unsigned char)(hlen & 0xff);
    out[9] = (unsigned char)(hlen >> 8);
    memcpy(out + pre, dict, (size_t)n);
    memset(out + pre + n, ' ', total - pre - (size_t)n - 1);
    out[total - 1] = '\n';
    return total;
}

struct bs_npy_writer {
    bs_atomic_file af;
    int64_t expected, written;
};

bs_npy_writer *bs_npy_writer_open(const char *path, int ndim, const int64_t *shape) {
    int64_t count;
    if (shape_count(ndim, shape, &count)) {
        bs_error_prefix("%s: ", path);
        return NULL;
    }
    unsigned char header[640];
    size_t hlen = make_header(ndim, shape, header, sizeof header);
    if (!hlen) {
        bs_error("%s: .npy header too long", path);
        return NULL;
    }
    bs_npy_writer *w = bs_calloc(1, sizeof *w);
    if (!w) return NULL;
    if (bs_atomic_open(&w->af, path)) {
        free(w);
        return NULL;
    }
    w->expected = count;
    if (fwrite(header, 1, hlen, w->af.fp) != hlen) {
        int e = errno;
        bs_error("%s: write failed: %s", path, strerror(e));
        bs_npy_writer_abort(w);
        return NULL;
    }
    return w;
}

int bs_npy_writer_append(bs_npy_writer *w, const float *data, size_t count) {
    if ((int64_t)count > w->expected - w->written)
        return bs_error("%s: more data than the declared shape", w->af.path);
    /* The format is little-endian; every platform we build for is too. */
    if (count && fwrite(data, sizeof(float), count, w->af.fp) != count) {
        int e = errno;
        return bs_error("%s: write failed: %s", w->af.path, strerror(e));
    }
    w->written += (int64_t)count;
    return 0;
}

int bs_npy_writer_close(bs_npy_writer *w) {
    if (w->written != w->expected) {
        bs_error("%s: %lld of %lld values written", w->af.path, (long long)w->written,
                 (long long)w->expected);
        bs_npy_writer_abort(w);
        return -1;
    }
    int rc = bs_atomic_commit(&w->af);
    free(w);
    return rc;
}

void bs_npy_writer_abort(bs_npy_writer *w) {
    if (!w) return;
    bs_atomic_abort(&w->af);
    free(w);
}

int bs_npy_write(const char *path, const bs_array *a) {
    bs_npy_writer *w = bs_npy_writer_open(path, a->ndim, a->shape);
    if (!w) return -1;
    if (bs_npy_writer_append(w, a->data, (size_t)bs_array_count(a))) {
        bs_npy_writer_abort(w);
        return -1;
    }
    return bs_npy_writer_close(w);
}
