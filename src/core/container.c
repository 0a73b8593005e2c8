/* container.c — the versioned, checksummed little-endian container of the model files
 * (container.h): an in-memory writer and a bounds-checked reader. Not for: any one format's
 * fields (autoencoder/sae_file.c, pipeline/pipeline_file.c). */
#include "container.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "hash.h"
#include "io.h"

/* ---- writing ---- */

void bs_cwriter_bytes(bs_cwriter *w, const void *src, size_t n) {
    if (w->failed || n == 0) return;
    if (n > w->cap - w->len) {
        size_t cap = w->cap ? w->cap : 4096;
        while (cap - w->len < n) {
            if (cap > SIZE_MAX / 2) {
                w->failed = 1;
                bs_error("out of memory: a file of more than %zu bytes", w->len);
                return;
            }
            cap *= 2;
        }
        unsigned char *q = bs_realloc(w->p, cap);
        if (!q) {
            w->failed = 1;
            return;
        }
        w->p = q;
        w->cap = cap;
    }
    memcpy(w->p + w->len, src, n);
    w->len += n;
}

static void put_le(unsigned char *c, uint64_t v, int bytes) {
    for (int i = 0; i < bytes; i++) c[i] = (unsigned char)(v >> (8 * i));
}

void bs_cwriter_u32(bs_cwriter *w, uint32_t v) {
    unsigned char c[4];
    put_le(c, v, 4);
    bs_cwriter_bytes(w, c, 4);
}

void bs_cwriter_u64(bs_cwriter *w, uint64_t v) {
    unsigned char c[8];
    put_le(c, v, 8);
    bs_cwriter_bytes(w, c, 8);
}

void bs_cwriter_f64(bs_cwriter *w, double v) {
    uint64_t u;
    memcpy(&u, &v, 8);
    bs_cwriter_u64(w, u);
}

void bs_cwriter_f64s(bs_cwriter *w, const double *v, size_t n) {
    for (size_t i = 0; i < n; i++) bs_cwriter_f64(w, v[i]);
}

void bs_cwriter_f32s(bs_cwriter *w, const float *v, size_t n) {
    for (size_t i = 0; i < n; i++) {
        uint32_t u;
        memcpy(&u, &v[i], 4);
        bs_cwriter_u32(w, u);
    }
}

void bs_cwriter_str(bs_cwriter *w, const char *s) {
    size_t n = strlen(s);
    bs_cwriter_u32(w, (uint32_t)n);
    bs_cwriter_bytes(w, s, n);
}

void bs_cwriter_pad(bs_cwriter *w, size_t offset) {
    static const unsigned char zero[64] = {0};
    while (!w->failed && w->len < offset) {
        size_t n = offset - w->len < sizeof zero ? offset - w->len : sizeof zero;
        bs_cwriter_bytes(w, zero, n);
    }
}

void bs_cwriter_start(bs_cwriter *w, const bs_container_format *f) {
    memset(w, 0, sizeof *w);
    bs_cwriter_bytes(w, f->magic, 8);
    bs_cwriter_u32(w, f->version);
    bs_cwriter_u32(w, f->header_size);
}

void bs_cwriter_patch_u64(bs_cwriter *w, size_t offset, uint64_t v) {
    if (!w->failed && offset + 8 <= w->len) put_le(w->p + offset, v, 8);
}

size_t bs_cwriter_section(bs_cwriter *w, const char tag[4]) {
    bs_cwriter_bytes(w, tag, 4);
    bs_cwriter_u32(w, 0);
    size_t at = w->len;
    bs_cwriter_u64(w, 0);
    return at;
}

void bs_cwriter_section_end(bs_cwriter *w, size_t at) {
    bs_cwriter_patch_u64(w, at, (uint64_t)(w->len - at - 8));
}

int bs_cwriter_finish(bs_cwriter *w, const char *what, unsigned char **data, size_t *len) {
    *data = NULL;
    *len = 0;
    if (!w->failed) {
        char hex[BS_SHA256_HEX];
        bs_sha256_buffer(w->p, w->len, hex);
        unsigned char digest[BS_CONTAINER_DIGEST];
        bs_sha256_hex_to_bytes(hex, digest);
        bs_cwriter_bytes(w, digest, sizeof digest);
    }
    if (w->failed) {
        free(w->p);
        memset(w, 0, sizeof *w);
        return bs_error_prefix("%s: ", what);
    }
    *data = w->p;
    *len = w->len;
    memset(w, 0, sizeof *w);
    return 0;
}

int bs_cwriter_save(bs_cwriter *w, const char *path) {
    unsigned char *data;
    size_t len;
    if (bs_cwriter_finish(w, path, &data, &len)) return -1;
    int rc = bs_write_file_atomic(path, data, len);
    free(data);
    return rc;
}

/* ---- reading ---- */

int bs_creader_fail(bs_creader *r, const char *what) {
    if (!r->failed) bs_error("%s: corrupt %s section: %s", r->name, r->section, what);
    r->failed = 1;
    return -1;
}

const unsigned char *bs_creader_bytes(bs_creader *r, uint64_t n) {
    if (r->failed) return NULL;
    if (n > r->len - r->pos) {
        bs_creader_fail(r, "truncated");
        return NULL;
    }
    const unsigned char *at = r->p + r->pos;
    r->pos += (size_t)n;
    return at;
}

static uint64_t get_le(bs_creader *r, int bytes) {
    const unsigned char *c = bs_creader_bytes(r, (uint64_t)bytes);
    uint64_t v = 0;
    for (int i = 0; c && i < bytes; i++) v |= (uint64_t)c[i] << (8 * i);
    return v;
}

uint32_t bs_creader_u32(bs_creader *r) { return (uint32_t)get_le(r, 4); }

uint64_t bs_creader_u64(bs_creader *r) { return get_le(r, 8); }

float bs_creader_f32(bs_creader *r) {
    uint32_t u = bs_creader_u32(r);
    float v;
    memcpy(&v, &u, 4);
    return v;
}

double bs_creader_f64(bs_creader *r) {
    uint64_t u = bs_creader_u64(r);
    double v;
    memcpy(&v, &u, 8);
    return v;
}

double bs_creader_f64_finite(bs_creader *r) {
    double v = bs_creader_f64(r);
    if (!isfinite(v)) bs_creader_fail(r, "non-finite number");
    return v;
}

void bs_creader_str(bs_creader *r, char *out, size_t max, int allow_empty) {
    out[0] = '\0';
    uint32_t n = bs_creader_u32(r);
    if (r->failed) return;
    if (n > max) {
        bs_creader_fail(r, "string too long");
        return;
    }
    if (!allow_empty && n == 0) {
        bs_creader_fail(r, "empty name");
        return;
    }
    const unsigned char *s = bs_creader_bytes(r, n);
    if (!s) return;
    if (memchr(s, '\0', n)) {
        bs_creader_fail(r, "NUL inside a string");
        return;
    }
    memcpy(out, s, n);
    out[n] = '\0';
}

int bs_creader_count_fits(bs_creader *r, uint64_t count, uint64_t size) {
    if (r->failed) return -1;
    if (size && count > (r->len - r->pos) / size)
        return bs_creader_fail(r, "count exceeds the section size");
    return 0;
}

int bs_creader_section(bs_creader *outer, const char *tag, bs_creader *inner) {
    outer->section = tag;
    if (outer->failed) return -1;
    static const unsigned char zero[4] = {0};
    if (outer->len - outer->pos < 16 || memcmp(outer->p + outer->pos, tag, 4) != 0 ||
        memcmp(outer->p + outer->pos + 4, zero, 4) != 0) {
        if (outer->len - outer->pos < 16) return bs_creader_fail(outer, "truncated");
        bs_error("%s: corrupt file: expected section '%s' at byte %zu", outer->name, tag,
                 outer->pos);
        outer->failed = 1;
        return -1;
    }
    outer->pos += 8;
    uint64_t len = bs_creader_u64(outer);
    const unsigned char *body = bs_creader_bytes(outer, len);
    if (!body) return -1;
    *inner = (bs_creader){body, (size_t)len, 0, outer->name, tag, 0};
    return 0;
}

int bs_creader_done(bs_creader *r) {
    if (r->failed) return -1;
    if (r->pos != r->len) return bs_creader_fail(r, "trailing bytes");
    return 0;
}

/* ---- opening a file ---- */

int bs_container_open(const bs_container_format *f, const unsigned char *buf, size_t len,
                      const char *name, bs_creader *header, bs_creader *body) {
    size_t least = (size_t)f->header_size + BS_CONTAINER_DIGEST;
    if (len == 0)
        return bs_error("%s: not a blastscan %s file: empty (truncated to 0 bytes)", name, f->kind);
    if (memcmp(buf, f->magic, len < 8 ? len : 8) != 0)
        return bs_error("%s: not a blastscan %s file (bad magic)", name, f->kind);
    if (len < least)
        return bs_error("%s: truncated (%zu bytes; %s %s file has at least %zu)", name, len,
                        f->kind[0] == 'a' ? "an" : "a", f->kind, least);
    bs_creader r = {buf, len, 8, name, "header", 0};
    uint32_t version = bs_creader_u32(&r), hsize = bs_creader_u32(&r);
    if (version != f->version)
        return bs_error("%s: unsupported %s format version %u (this build reads version %u)", name,
                        f->kind, version, f->version);
    if (hsize != f->header_size)
        return bs_error("%s: corrupt header (header size %u, expected %u)", name, hsize,
                        f->header_size);
    *header = (bs_creader){buf, f->header_size, BS_CONTAINER_PREFIX, name, "header", 0};
    *body = (bs_creader){buf + f->header_size, len - least, 0, name, "", 0};
    return 0;
}

int bs_container_expect_length(const char *name, size_t len, uint64_t want, const char *why) {
    if ((uint64_t)len == want) return 0;
    return bs_error("%s: %s (%zu bytes; %s %llu)", name,
                    (uint64_t)len < want ? "truncated" : "has trailing bytes", len, why,
                    (unsigned long long)want);
}

int bs_container_verify(const unsigned char *buf, size_t len, const char *name) {
    if (len < BS_CONTAINER_DIGEST) return bs_error("%s: truncated (%zu bytes)", name, len);
    char hex[BS_SHA256_HEX];
    bs_sha256_buffer(buf, len - BS_CONTAINER_DIGEST, hex);
    unsigned char digest[BS_CONTAINER_DIGEST];
    bs_sha256_hex_to_bytes(hex, digest);
    /* The usual libFuzzer convention (fuzz/flags.cmake, never defined elsewhere): a fuzzing
     * build goes on past a wrong checksum, or mutated inputs would never reach the parsers. */
#ifndef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
    if (memcmp(digest, buf + len - BS_CONTAINER_DIGEST, BS_CONTAINER_DIGEST) != 0)
        return bs_error("%s: checksum mismatch: the file is corrupt or was modified", name);
#endif
    return 0;
}
