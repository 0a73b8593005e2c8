/* sae_file.c — the AE file (docs/autoencoder-format.md): little-endian, versioned, SHA-256
 * trailer; written through a temporary file renamed into place, read as untrusted input
 * (every size is checked before it is used). Not for: training or encoding. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "autoencoder.h"
#include "core/error.h"
#include "core/hash.h"
#include "core/io.h"
#include "sae_internal.h"
#include "sae_model.h"

#define SAE_MAGIC "BSSAE\r\n\x1a" /* 8 bytes; the CR LF and ^Z catch text-mode mangling */
#define SAE_VERSION 1u
#define SAE_HEADER 128u
#define SAE_DIGEST 32u
#define SAE_MAX_DIM ((uint64_t)BS_SAE_MAX_DIM) /* per dimension: far above 3072 × 2304 */
#define SAE_MAX_FILE ((size_t)1 << 36)

/* ---- little-endian encoding ---- */

static void put_u32(unsigned char *p, uint32_t v) {
    for (int i = 0; i < 4; i++) p[i] = (unsigned char)(v >> (8 * i));
}
static void put_u64(unsigned char *p, uint64_t v) {
    for (int i = 0; i < 8; i++) p[i] = (unsigned char)(v >> (8 * i));
}
static void put_f64(unsigned char *p, double v) {
    uint64_t u;
    memcpy(&u, &v, 8);
    put_u64(p, u);
}
static uint32_t get_u32(const unsigned char *p) {
    uint32_t v = 0;
    for (int i = 0; i < 4; i++) v |= (uint32_t)p[i] << (8 * i);
    return v;
}
static uint64_t get_u64(const unsigned char *p) {
    uint64_t v = 0;
    for (int i = 0; i < 8; i++) v |= (uint64_t)p[i] << (8 * i);
    return v;
}
static double get_f64(const unsigned char *p) {
    uint64_t u = get_u64(p);
    double v;
    memcpy(&v, &u, 8);
    return v;
}
static float get_f32(const unsigned char *p) {
    uint32_t u = get_u32(p);
    float v;
    memcpy(&v, &u, 4);
    return v;
}

/* Writer that hashes everything it writes. */
typedef struct {
    bs_atomic_file af;
    bs_sha256 *hash;
    unsigned char buf[1 << 16];
    size_t used;
    int failed;
    int err; /* errno of the first failed write */
} writer;

static void w_flush(writer *w) {
    if (w->used && !w->failed) {
        bs_sha256_update(w->hash, w->buf, w->used);
        if (fwrite(w->buf, 1, w->used, w->af.fp) != w->used) {
            w->failed = 1;
            w->err = errno;
        }
    }
    w->used = 0;
}
static void w_bytes(writer *w, const void *p, size_t n) {
    const unsigned char *s = p;
    while (n) {
        if (w->used == sizeof w->buf) w_flush(w);
        size_t k = sizeof w->buf - w->used < n ? sizeof w->buf - w->used : n;
        memcpy(w->buf + w->used, s, k);
        w->used += k;
        s += k;
        n -= k;
    }
}
static void w_f64s(writer *w, const double *v, int64_t n) {
    for (int64_t i = 0; i < n; i++) {
        unsigned char b[8];
        put_f64(b, v[i]);
        w_bytes(w, b, 8);
    }
}
static void w_f32s(writer *w, const float *v, int64_t n) {
    for (int64_t i = 0; i < n; i++) {
        uint32_t u;
        memcpy(&u, &v[i], 4);
        unsigned char b[4];
        put_u32(b, u);
        w_bytes(w, b, 4);
    }
}

int bs_sae_save(const bs_sae *m, const char *path) {
    unsigned char hdr[SAE_HEADER];
    memset(hdr, 0, sizeof hdr);
    memcpy(hdr, SAE_MAGIC, 8);
    put_u32(hdr + 8, SAE_VERSION);
    put_u32(hdr + 12, SAE_HEADER);
    put_u64(hdr + 16, (uint64_t)m->d);
    put_u64(hdr + 24, (uint64_t)m->h);
    put_u64(hdr + 32, (uint64_t)m->n_train);
    put_u64(hdr + 40, m->opt.seed);
    put_u32(hdr + 48, (uint32_t)m->opt.max_epochs);
    put_u32(hdr + 52, (uint32_t)m->info.epochs);
    put_u32(hdr + 56, (uint32_t)m->info.accepted);
    put_u32(hdr + 60, (uint32_t)m->info.stop);
    put_f64(hdr + 64, m->opt.l2);
    put_f64(hdr + 72, m->opt.sparsity);
    put_f64(hdr + 80, m->opt.proportion);
    put_f64(hdr + 88, m->opt.min_grad);
    put_f64(hdr + 96, m->info.perf);
    put_f64(hdr + 104, m->info.grad_norm);
    /* 112..127 reserved, zero */

    writer *w = bs_calloc(1, sizeof *w);
    if (!w) return -1;
    if (bs_atomic_open(&w->af, path)) {
        free(w);
        return -1;
    }
    w->hash = bs_sha256_new();
    w_bytes(w, hdr, sizeof hdr);
    w_f64s(w, m->mm.xoffset, m->d);
    w_f64s(w, m->mm.gain, m->d);
    w_f32s(w, m->w, sae_nparams(m->d, m->h));
    w_flush(w);
    char hex[BS_SHA256_HEX];
    bs_sha256_finish(w->hash, hex);
    unsigned char digest[SAE_DIGEST];
    bs_sha256_hex_to_bytes(hex, digest);
    if (!w->failed && fwrite(digest, 1, sizeof digest, w->af.fp) != sizeof digest) {
        w->failed = 1;
        w->err = errno;
    }
    int rc;
    if (w->failed) {
        bs_atomic_abort(&w->af);
        rc = bs_error("%s: write failed: %s", path, strerror(w->err ? w->err : EIO));
    } else {
        rc = bs_atomic_commit(&w->af);
    }
    free(w);
    return rc;
}

bs_sae *bs_sae_parse(const unsigned char *buf, size_t len, const char *name) {
    if (len < SAE_HEADER + SAE_DIGEST) {
        bs_error("%s: truncated (%zu bytes; an autoencoder file has at least %u)", name, len,
                 SAE_HEADER + SAE_DIGEST);
        return NULL;
    }
    if (memcmp(buf, SAE_MAGIC, 8) != 0) {
        bs_error("%s: not a blastscan autoencoder file (bad magic)", name);
        return NULL;
    }
    uint32_t version = get_u32(buf + 8);
    if (version != SAE_VERSION) {
        bs_error("%s: unsupported autoencoder format version %u (this build reads version %u)", name, version,
                 SAE_VERSION);
        return NULL;
    }
    if (get_u32(buf + 12) != SAE_HEADER) {
        bs_error("%s: corrupt header (header size %u, expected %u)", name, get_u32(buf + 12), SAE_HEADER);
        return NULL;
    }
    uint64_t d = get_u64(buf + 16), h = get_u64(buf + 24);
    if (d < 1 || h < 1 || d > SAE_MAX_DIM || h > SAE_MAX_DIM) {
        bs_error("%s: corrupt header (%llu features, %llu hidden units)", name, (unsigned long long)d,
                 (unsigned long long)h);
        return NULL;
    }
    /* d, h < 2^24, so 2dh + d + h < 2^50 and the byte count below cannot overflow 64 bits. */
    uint64_t np = 2 * d * h + d + h;
    uint64_t want = SAE_HEADER + 16 * d + 4 * np + SAE_DIGEST;
    if ((uint64_t)len != want) {
        bs_error("%s: %s (%zu bytes; %llu features and %llu hidden units need %llu)", name,
                 (uint64_t)len < want ? "truncated" : "has trailing bytes", len, (unsigned long long)d,
                 (unsigned long long)h, (unsigned long long)want);
        return NULL;
    }
    char hex[BS_SHA256_HEX];
    bs_sha256_buffer(buf, len - SAE_DIGEST, hex);
    unsigned char digest[SAE_DIGEST];
    bs_sha256_hex_to_bytes(hex, digest);
    /* A fuzzing build (fuzz/flags.cmake) goes on past a wrong checksum, or mutated inputs would
     * never reach the parser below. */
#ifndef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
    if (memcmp(digest, buf + len - SAE_DIGEST, SAE_DIGEST) != 0) {
        bs_error("%s: checksum mismatch: the file is corrupt or was modified", name);
        return NULL;
    }
#endif

    bs_sae_options o;
    bs_sae_options_default(&o);
    o.hidden = (int64_t)h;
    o.seed = get_u64(buf + 40);
    uint32_t max_epochs = get_u32(buf + 48), epochs = get_u32(buf + 52), accepted = get_u32(buf + 56),
             stop = get_u32(buf + 60);
    o.l2 = get_f64(buf + 64);
    o.sparsity = get_f64(buf + 72);
    o.proportion = get_f64(buf + 80);
    o.min_grad = get_f64(buf + 88);
    double perf = get_f64(buf + 96), gnorm = get_f64(buf + 104);
    uint64_t n_train = get_u64(buf + 32);
    if (max_epochs > INT32_MAX || epochs > max_epochs || accepted > epochs || stop > BS_SAE_STOP_CALLER ||
        !(o.l2 >= 0) || !isfinite(o.l2) || !(o.sparsity >= 0) || !isfinite(o.sparsity) ||
        !(o.proportion > 0 && o.proportion < 1) || !(o.min_grad >= 0) || n_train < 1 || n_train > INT64_MAX) {
        bs_error("%s: corrupt header (training parameters out of range)", name);
        return NULL;
    }
    o.max_epochs = (int)max_epochs;
    bs_sae *m = bs_sae_alloc((int64_t)d, (int64_t)h);
    if (!m) {
        bs_error_prefix("%s: ", name);
        return NULL;
    }
    m->opt = o;
    m->n_train = (int64_t)n_train;
    m->info.epochs = (int)epochs;
    m->info.accepted = (int)accepted;
    m->info.stop = (bs_sae_stop)stop;
    m->info.perf = perf;
    m->info.grad_norm = gnorm;
    const unsigned char *p = buf + SAE_HEADER;
    for (uint64_t j = 0; j < d; j++) m->mm.xoffset[j] = get_f64(p + 8 * j);
    p += 8 * d;
    for (uint64_t j = 0; j < d; j++) m->mm.gain[j] = get_f64(p + 8 * j);
    p += 8 * d;
    for (uint64_t j = 0; j < d; j++)
        if (!isfinite(m->mm.xoffset[j]) || !isfinite(m->mm.gain[j]) || !(m->mm.gain[j] > 0)) {
            bs_error("%s: corrupt scaling for feature %llu", name, (unsigned long long)j);
            bs_sae_free(m);
            return NULL;
        }
    for (uint64_t i = 0; i < np; i++) {
        float v = get_f32(p + 4 * i);
        if (!isfinite(v)) {
            bs_error("%s: non-finite weight at parameter %llu", name, (unsigned long long)i);
            bs_sae_free(m);
            return NULL;
        }
        m->w[i] = v;
    }
    return m;
}

bs_sae *bs_sae_load(const char *path) {
    unsigned char *buf;
    size_t len;
    if (bs_read_file(path, SAE_MAX_FILE, &buf, &len)) return NULL;
    bs_sae *m = bs_sae_parse(buf, len, path);
    free(buf);
    return m;
}
