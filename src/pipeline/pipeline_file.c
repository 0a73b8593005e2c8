/* pipeline_file.c — the pipeline file (docs/pipeline-format.md): little-endian, versioned,
 * sections in a fixed order, SHA-256 trailer. Built in memory and written atomically; parsed
 * from a buffer as untrusted input: every count and length is checked against the bytes that
 * remain before anything is allocated or read. Not for: fitting or running models. */
#define _GNU_SOURCE
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/error.h"
#include "core/hash.h"
#include "core/io.h"
#include "pipeline.h"

#define PIPE_MAGIC "BSPIP\r\n\x1a" /* 8 bytes; CR LF and ^Z catch text-mode mangling */
#define PIPE_VERSION 1u
#define PIPE_HEADER 32u
#define PIPE_DIGEST 32u
#define PIPE_MAX_FILE ((size_t)1 << 34)
#define PIPE_MAX_DIM ((uint64_t)1 << 24)

enum { TAG_META, TAG_BACKBONES, TAG_CLASSES, TAG_AE, TAG_SVM, TAG_PLATT, TAG_OOD, NTAGS };
static const char tags[NTAGS][5] = {"META", "BKBN", "CLAS", "AENC", "SVM ", "PLAT", "OOD "};

/* ---- writing: a growing buffer ----------------------------------------------------------------
 */

typedef struct {
    unsigned char *p;
    size_t len, cap;
    int failed;
} buf;

static void b_bytes(buf *b, const void *src, size_t n) {
    if (b->failed)
        return;
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->len + n)
            cap *= 2;
        unsigned char *q = bs_realloc(b->p, cap);
        if (!q) {
            b->failed = 1;
            return;
        }
        b->p = q;
        b->cap = cap;
    }
    memcpy(b->p + b->len, src, n);
    b->len += n;
}
static void b_u32(buf *b, uint32_t v) {
    unsigned char c[4];
    for (int i = 0; i < 4; i++)
        c[i] = (unsigned char)(v >> (8 * i));
    b_bytes(b, c, 4);
}
static void b_u64(buf *b, uint64_t v) {
    unsigned char c[8];
    for (int i = 0; i < 8; i++)
        c[i] = (unsigned char)(v >> (8 * i));
    b_bytes(b, c, 8);
}
static void b_f64(buf *b, double v) {
    uint64_t u;
    memcpy(&u, &v, 8);
    b_u64(b, u);
}
static void b_f32(buf *b, float v) {
    uint32_t u;
    memcpy(&u, &v, 4);
    b_u32(b, u);
}
static void b_str(buf *b, const char *s) {
    b_u32(b, (uint32_t)strlen(s));
    b_bytes(b, s, strlen(s));
}
/* A section: tag, 4 zero bytes, u64 length (patched by end), body. */
static size_t b_begin(buf *b, int tag) {
    b_bytes(b, tags[tag], 4);
    b_u32(b, 0);
    size_t at = b->len;
    b_u64(b, 0);
    return at;
}
static void b_end(buf *b, size_t at) {
    if (b->failed)
        return;
    uint64_t len = b->len - at - 8;
    for (int i = 0; i < 8; i++)
        b->p[at + i] = (unsigned char)(len >> (8 * i));
}

static int is_hex64(const char *s) {
    for (int i = 0; i < 64; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return 0;
    return s[64] == '\0';
}

/* The AE is embedded as its own file format (docs/autoencoder-format.md), written by the
 * autoencoder stage to a temporary file beside the output and read back. */
static int ae_bytes(const bs_sae *ae, const char *path, unsigned char **data, size_t *len) {
    char *tmp = bs_strfmt("%s.ae-%ld.tmp", path, (long)getpid());
    if (!tmp)
        return -1;
    int rc = bs_sae_save(ae, tmp);
    if (rc == 0)
        rc = bs_read_file(tmp, PIPE_MAX_FILE, data, len);
    unlink(tmp);
    free(tmp);
    return rc;
}

int bs_pipeline_save(const bs_pipeline *p, const char *path) {
    if (!p->svm)
        return bs_error("%s: the pipeline has no SVM", path);
    if (p->n_backbones < 1 || p->n_backbones > BS_PIPELINE_MAX_BACKBONES)
        return bs_error("%s: %zu backbones (1..%d allowed)", path, p->n_backbones,
                        BS_PIPELINE_MAX_BACKBONES);
    for (size_t i = 0; i < p->n_backbones; i++)
        if (!is_hex64(p->backbones[i].sha256))
            return bs_error("%s: backbone %zu has no valid sha256", path, i);
    buf b = {0};
    unsigned char hdr[PIPE_HEADER] = {0};
    memcpy(hdr, PIPE_MAGIC, 8);
    b_bytes(&b, hdr, sizeof hdr); /* patched below */

    size_t at = b_begin(&b, TAG_META);
    b_str(&b, p->version);
    b_u64(&b, p->seed);
    b_u32(&b, (uint32_t)p->augment);
    b_u32(&b, (uint32_t)p->epochs);
    b_f64(&b, p->latent_fraction);
    b_f64(&b, p->kernel_scale_option);
    b_u64(&b, (uint64_t)p->n_images);
    b_u64(&b, (uint64_t)p->n_rows);
    for (int c = 0; c < 2; c++) {
        b_str(&b, p->label_names[c]);
        b_u64(&b, (uint64_t)p->images_per_label[c]);
        b_u64(&b, (uint64_t)p->rows_per_label[c]);
    }
    b_end(&b, at);

    at = b_begin(&b, TAG_BACKBONES);
    b_u32(&b, (uint32_t)p->n_backbones);
    b_u64(&b, (uint64_t)p->n_features);
    for (size_t i = 0; i < p->n_backbones; i++) {
        const bs_pipeline_backbone *k = &p->backbones[i];
        b_str(&b, k->name);
        b_str(&b, k->file);
        unsigned char sha[32];
        bs_sha256_hex_to_bytes(k->sha256, sha);
        b_bytes(&b, sha, 32);
        b_u32(&b, (uint32_t)k->input_size);
        b_str(&b, k->tap);
        b_u64(&b, (uint64_t)k->dim);
    }
    b_end(&b, at);

    at = b_begin(&b, TAG_CLASSES);
    b_u32(&b, (uint32_t)p->n_classes);
    for (size_t i = 0; i < p->n_classes; i++) {
        b_str(&b, p->classes[i].name);
        b_u32(&b, (uint32_t)p->classes[i].label);
        b_u64(&b, (uint64_t)p->classes[i].images);
    }
    b_end(&b, at);

    at = b_begin(&b, TAG_AE);
    if (p->ae) {
        unsigned char *ae;
        size_t len;
        if (ae_bytes(p->ae, path, &ae, &len)) {
            free(b.p);
            return -1;
        }
        b_bytes(&b, ae, len);
        free(ae);
    }
    b_end(&b, at);

    bs_svm_parts sp;
    bs_svm_get_parts(p->svm, &sp);
    at = b_begin(&b, TAG_SVM);
    b_u64(&b, (uint64_t)sp.n_features);
    b_f64(&b, sp.kernel_scale);
    b_u32(&b, (uint32_t)sp.n_classes);
    for (int c = 0; c < sp.n_classes; c++)
        b_u32(&b, (uint32_t)sp.classes[c]);
    for (int c = 0; c < sp.n_classes; c++)
        b_u32(&b, (uint32_t)sp.n_sv_class[c]);
    b_u64(&b, (uint64_t)sp.n_sv);
    for (int64_t j = 0; j < sp.n_features; j++)
        b_f64(&b, sp.mean[j]);
    for (int64_t j = 0; j < sp.n_features; j++)
        b_f64(&b, sp.scale[j]);
    for (int64_t j = 0; j < sp.n_sv * sp.n_features; j++)
        b_f32(&b, sp.sv[j]);
    for (int64_t j = 0; j < (int64_t)(sp.n_classes - 1) * sp.n_sv; j++)
        b_f64(&b, sp.coef[j]);
    for (int j = 0; j < sp.n_classes * (sp.n_classes - 1) / 2; j++)
        b_f64(&b, sp.rho[j]);
    b_end(&b, at);

    at = b_begin(&b, TAG_PLATT);
    b_f64(&b, p->platt_a);
    b_f64(&b, p->platt_b);
    b_u32(&b, (uint32_t)p->calibration_folds);
    b_u64(&b, (uint64_t)p->calibration_rows);
    b_end(&b, at);

    at = b_begin(&b, TAG_OOD);
    const bs_pipeline_ood *o = &p->ood;
    b_u32(&b, (uint32_t)o->available);
    b_u64(&b, (uint64_t)o->n_validation);
    const double stats[] = {
        o->k,   o->threshold, o->mean, o->sd,           o->q25,       o->median,   o->q75,
        o->q95, o->q99,       o->max,  o->train_median, o->train_q99, o->train_max};
    for (size_t i = 0; i < sizeof stats / sizeof stats[0]; i++)
        b_f64(&b, stats[i]);
    b_end(&b, at);

    if (b.failed) {
        free(b.p);
        return bs_error_prefix("%s: ", path);
    }
    /* header: magic, version, header size, payload size */
    uint64_t payload = b.len - PIPE_HEADER;
    for (int i = 0; i < 4; i++)
        b.p[8 + i] = (unsigned char)(PIPE_VERSION >> (8 * i));
    for (int i = 0; i < 4; i++)
        b.p[12 + i] = (unsigned char)(PIPE_HEADER >> (8 * i));
    for (int i = 0; i < 8; i++)
        b.p[16 + i] = (unsigned char)(payload >> (8 * i));
    char hex[BS_SHA256_HEX];
    bs_sha256_buffer(b.p, b.len, hex);
    unsigned char digest[PIPE_DIGEST];
    bs_sha256_hex_to_bytes(hex, digest);
    b_bytes(&b, digest, sizeof digest);
    int rc = b.failed ? bs_error_prefix("%s: ", path) : bs_write_file_atomic(path, b.p, b.len);
    free(b.p);
    return rc;
}

/* ---- reading: a bounds-checked cursor ---------------------------------------------------------
 */

typedef struct {
    const unsigned char *p;
    size_t len, pos;
    const char *name;
    const char *section;
    int failed;
} rd;

static int r_fail(rd *r, const char *what) {
    if (!r->failed)
        bs_error("%s: corrupt %s section: %s", r->name, r->section, what);
    r->failed = 1;
    return -1;
}
static int r_need(rd *r, uint64_t n) {
    if (r->failed)
        return -1;
    if (n > r->len - r->pos)
        return r_fail(r, "truncated");
    return 0;
}
static uint32_t r_u32(rd *r) {
    if (r_need(r, 4))
        return 0;
    uint32_t v = 0;
    for (int i = 0; i < 4; i++)
        v |= (uint32_t)r->p[r->pos + i] << (8 * i);
    r->pos += 4;
    return v;
}
static uint64_t r_u64(rd *r) {
    if (r_need(r, 8))
        return 0;
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v |= (uint64_t)r->p[r->pos + i] << (8 * i);
    r->pos += 8;
    return v;
}
static double r_f64(rd *r) {
    uint64_t u = r_u64(r);
    double v;
    memcpy(&v, &u, 8);
    return v;
}
static double r_f64_finite(rd *r) {
    double v = r_f64(r);
    if (!isfinite(v))
        r_fail(r, "non-finite number");
    return v;
}
static float r_f32(rd *r) {
    uint32_t u = r_u32(r);
    float v;
    memcpy(&v, &u, 4);
    return v;
}
/* A string of at most BS_PIPELINE_NAME_MAX bytes without NUL, into out (size NAME_MAX + 1). */
static void r_str(rd *r, char *out, int allow_empty) {
    out[0] = '\0';
    uint32_t n = r_u32(r);
    if (r->failed)
        return;
    if (n > BS_PIPELINE_NAME_MAX) {
        r_fail(r, "string too long");
        return;
    }
    if (!allow_empty && n == 0) {
        r_fail(r, "empty name");
        return;
    }
    if (r_need(r, n))
        return;
    if (memchr(r->p + r->pos, '\0', n)) {
        r_fail(r, "NUL inside a string");
        return;
    }
    memcpy(out, r->p + r->pos, n);
    out[n] = '\0';
    r->pos += n;
}
/* Elements of `size` bytes that the remaining bytes can hold: refuses counts that could not
 * possibly be present before anything is allocated. */
static int r_count_fits(rd *r, uint64_t count, uint64_t size) {
    if (r->failed)
        return -1;
    if (size && count > (r->len - r->pos) / size)
        return r_fail(r, "count exceeds the section size");
    return 0;
}

/* Enter section `tag`: returns a reader over its body, and advances the outer one past it. */
static int r_section(rd *outer, int tag, rd *inner) {
    outer->section = tags[tag];
    if (r_need(outer, 16))
        return -1;
    static const unsigned char zero[4] = {0};
    if (memcmp(outer->p + outer->pos, tags[tag], 4) != 0 ||
        memcmp(outer->p + outer->pos + 4, zero, 4) != 0) {
        bs_error("%s: corrupt file: expected section '%s' at byte %zu", outer->name, tags[tag],
                 outer->pos);
        outer->failed = 1;
        return -1;
    }
    outer->pos += 8;
    uint64_t len = r_u64(outer);
    if (r_need(outer, len))
        return -1;
    *inner = (rd){outer->p + outer->pos, (size_t)len, 0, outer->name, tags[tag], 0};
    outer->pos += (size_t)len;
    return 0;
}
static int r_done(rd *r) {
    if (r->failed)
        return -1;
    if (r->pos != r->len)
        return r_fail(r, "trailing bytes");
    return 0;
}

int bs_pipeline_parse(const unsigned char *data, size_t len, const char *name, bs_pipeline *p) {
    memset(p, 0, sizeof *p);
    if (len < 8 || memcmp(data, PIPE_MAGIC, 8) != 0)
        return bs_error("%s: not a blastscan pipeline file (bad magic)", name);
    if (len < PIPE_HEADER + PIPE_DIGEST)
        return bs_error("%s: truncated (%zu bytes; a pipeline file has at least %u)", name, len,
                        PIPE_HEADER + PIPE_DIGEST);
    rd h = {data, PIPE_HEADER, 8, name, "header", 0};
    uint32_t version = r_u32(&h), hsize = r_u32(&h);
    uint64_t payload = r_u64(&h), reserved = r_u64(&h);
    if (version != PIPE_VERSION)
        return bs_error("%s: unsupported pipeline format version %u (this build reads version %u)",
                        name, version, PIPE_VERSION);
    if (hsize != PIPE_HEADER || reserved != 0)
        return bs_error("%s: corrupt header", name);
    if (payload != (uint64_t)len - PIPE_HEADER - PIPE_DIGEST)
        return bs_error("%s: %s (%zu bytes; the header announces %llu)", name,
                        payload > (uint64_t)len - PIPE_HEADER - PIPE_DIGEST ? "truncated"
                                                                            : "has trailing bytes",
                        len, (unsigned long long)(payload + PIPE_HEADER + PIPE_DIGEST));
    char hex[BS_SHA256_HEX];
    bs_sha256_buffer(data, len - PIPE_DIGEST, hex);
    unsigned char digest[PIPE_DIGEST];
    bs_sha256_hex_to_bytes(hex, digest);
    /* A fuzzing build (fuzz/flags.cmake) goes on past a wrong checksum, or mutated inputs would
     * never reach the parser below. */
#ifndef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
    if (memcmp(digest, data + len - PIPE_DIGEST, PIPE_DIGEST) != 0)
        return bs_error("%s: checksum mismatch: the file is corrupt or was modified", name);
#endif

    rd all = {data + PIPE_HEADER, (size_t)payload, 0, name, "", 0}, s;
    double *mean = NULL, *scale = NULL, *coef = NULL, *rho = NULL;
    float *sv = NULL;
    int rc = -1;

    /* META */
    if (r_section(&all, TAG_META, &s))
        goto fail;
    r_str(&s, p->version, 1);
    p->seed = r_u64(&s);
    uint32_t augment = r_u32(&s), epochs = r_u32(&s);
    p->latent_fraction = r_f64_finite(&s);
    p->kernel_scale_option = r_f64_finite(&s);
    uint64_t images = r_u64(&s), nrows = r_u64(&s), im[2] = {0, 0}, ro[2] = {0, 0};
    if (images > INT64_MAX || nrows > INT64_MAX)
        r_fail(&s, "counts out of range");
    for (int c = 0; c < 2; c++) {
        r_str(&s, p->label_names[c], 0);
        im[c] = r_u64(&s);
        ro[c] = r_u64(&s);
        if (im[c] > images || ro[c] > nrows)
            r_fail(&s, "class counts exceed the totals");
        p->images_per_label[c] = (int64_t)im[c];
        p->rows_per_label[c] = (int64_t)ro[c];
    }
    if (r_done(&s))
        goto fail;
    if (augment > 1 || epochs > INT32_MAX || !(p->latent_fraction >= 0) ||
        !(p->kernel_scale_option >= 0) || im[0] + im[1] != images || ro[0] + ro[1] != nrows) {
        r_fail(&s, "values out of range");
        goto fail;
    }
    p->augment = (int)augment;
    p->epochs = (int)epochs;
    p->n_images = (int64_t)images;
    p->n_rows = (int64_t)nrows;

    /* BKBN */
    if (r_section(&all, TAG_BACKBONES, &s))
        goto fail;
    uint32_t nb = r_u32(&s);
    uint64_t width = r_u64(&s);
    if (s.failed)
        goto fail;
    if (nb < 1 || nb > BS_PIPELINE_MAX_BACKBONES || width < 1 || width > PIPE_MAX_DIM) {
        r_fail(&s, "backbone count or feature width out of range");
        goto fail;
    }
    if (!(p->backbones = bs_calloc(nb, sizeof *p->backbones)))
        goto fail;
    p->n_backbones = nb;
    p->n_features = (int64_t)width;
    uint64_t sum = 0;
    for (uint32_t i = 0; i < nb && !s.failed; i++) {
        bs_pipeline_backbone *k = &p->backbones[i];
        r_str(&s, k->name, 0);
        r_str(&s, k->file, 0);
        if (r_need(&s, 32))
            break;
        for (int j = 0; j < 32; j++)
            snprintf(k->sha256 + 2 * j, 3, "%02x", s.p[s.pos + j]);
        s.pos += 32;
        uint32_t size = r_u32(&s);
        r_str(&s, k->tap, 0);
        uint64_t dim = r_u64(&s);
        if (s.failed)
            break;
        if (strchr(k->file, '/') || !strcmp(k->file, ".") || !strcmp(k->file, ".."))
            r_fail(&s, "a backbone file name holds a folder");
        if (size < 1 || size > 16384 || dim < 1 || dim > PIPE_MAX_DIM)
            r_fail(&s, "backbone input size or width out of range");
        k->input_size = (int)size;
        k->dim = (int64_t)dim;
        sum += dim;
    }
    if (r_done(&s))
        goto fail;
    if (sum != width) {
        r_fail(&s, "backbone widths do not add up to the feature width");
        goto fail;
    }

    /* CLAS */
    if (r_section(&all, TAG_CLASSES, &s))
        goto fail;
    uint32_t nc = r_u32(&s);
    if (s.failed || nc > BS_PIPELINE_MAX_CLASSES || r_count_fits(&s, nc, 16)) {
        r_fail(&s, "class count out of range");
        goto fail;
    }
    if (nc && !(p->classes = bs_calloc(nc, sizeof *p->classes)))
        goto fail;
    p->n_classes = nc;
    for (uint32_t i = 0; i < nc && !s.failed; i++) {
        r_str(&s, p->classes[i].name, 0);
        uint32_t label = r_u32(&s);
        uint64_t im = r_u64(&s);
        if (label > 1 || im > images)
            r_fail(&s, "class label or count out of range");
        p->classes[i].label = (int32_t)label;
        p->classes[i].images = (int64_t)im;
    }
    if (r_done(&s))
        goto fail;

    /* AENC: an embedded AE file, validated by its own parser */
    if (r_section(&all, TAG_AE, &s))
        goto fail;
    if (s.len) {
        char *ae_name = bs_strfmt("%s (autoencoder section)", name);
        p->ae = ae_name ? bs_sae_parse(s.p, s.len, ae_name) : NULL;
        free(ae_name);
        if (!p->ae)
            goto fail;
        if (bs_sae_features(p->ae) != p->n_features) {
            bs_error(
                "%s: corrupt file: the autoencoder takes %lld features, the backbones give %lld",
                name, (long long)bs_sae_features(p->ae), (long long)p->n_features);
            goto fail;
        }
    }

    /* SVM */
    if (r_section(&all, TAG_SVM, &s))
        goto fail;
    uint64_t d = r_u64(&s);
    double kscale = r_f64_finite(&s);
    uint32_t k = r_u32(&s);
    if (s.failed)
        goto fail;
    if (k != 2 || d != (uint64_t)(p->ae ? bs_sae_hidden(p->ae) : p->n_features)) {
        r_fail(&s, "class count or width does not match the model");
        goto fail;
    }
    int32_t classes[2], nsvc[2];
    for (int c = 0; c < 2; c++)
        classes[c] = (int32_t)r_u32(&s);
    uint64_t nsv_total = 0;
    for (int c = 0; c < 2; c++) {
        uint32_t v = r_u32(&s);
        if (v > INT32_MAX)
            r_fail(&s, "support-vector count out of range");
        nsvc[c] = (int32_t)v;
        nsv_total += v;
    }
    uint64_t nsv = r_u64(&s);
    if (s.failed)
        goto fail;
    if (classes[0] != 0 || classes[1] != 1 || nsv != nsv_total) {
        r_fail(&s, "classes or support-vector counts inconsistent");
        goto fail;
    }
    /* mean, scale: 16d bytes; sv: 4·nsv·d; coef: 8·nsv; rho: 8 */
    if (r_count_fits(&s, d, 16) || (nsv && r_count_fits(&s, nsv, 4 * d + 8)))
        goto fail;
    mean = bs_malloc(sizeof(double) * d);
    scale = bs_malloc(sizeof(double) * d);
    sv = bs_malloc(sizeof(float) * (nsv ? nsv : 1) * d);
    coef = bs_malloc(sizeof(double) * (nsv ? nsv : 1));
    rho = bs_malloc(sizeof(double));
    if (!mean || !scale || !sv || !coef || !rho)
        goto fail;
    for (uint64_t j = 0; j < d; j++)
        mean[j] = r_f64_finite(&s);
    for (uint64_t j = 0; j < d; j++)
        scale[j] = r_f64_finite(&s);
    for (uint64_t j = 0; j < nsv * d && !s.failed; j++) {
        sv[j] = r_f32(&s);
        if (!isfinite(sv[j]))
            r_fail(&s, "non-finite support vector");
    }
    for (uint64_t j = 0; j < nsv; j++)
        coef[j] = r_f64_finite(&s);
    rho[0] = r_f64_finite(&s);
    if (r_done(&s))
        goto fail;
    bs_svm_parts parts = {(int64_t)d, mean,         scale, kscale, 2,  classes,
                          nsvc,       (int64_t)nsv, sv,    coef,   rho};
    if (!(p->svm = bs_svm_from_parts(&parts))) {
        bs_error_prefix("%s: corrupt SVM section: ", name);
        goto fail;
    }

    /* PLAT */
    if (r_section(&all, TAG_PLATT, &s))
        goto fail;
    p->platt_a = r_f64_finite(&s);
    p->platt_b = r_f64_finite(&s);
    uint32_t folds = r_u32(&s);
    uint64_t crow = r_u64(&s);
    if (r_done(&s))
        goto fail;
    if (folds > 1000000 || crow > INT64_MAX) {
        r_fail(&s, "values out of range");
        goto fail;
    }
    p->calibration_folds = (int)folds;
    p->calibration_rows = (int64_t)crow;

    /* OOD */
    if (r_section(&all, TAG_OOD, &s))
        goto fail;
    bs_pipeline_ood *o = &p->ood;
    uint32_t avail = r_u32(&s);
    uint64_t nval = r_u64(&s);
    double *f[] = {&o->k,        &o->threshold, &o->mean, &o->sd,  &o->q25,          &o->median,
                   &o->q75,      &o->q95,       &o->q99,  &o->max, &o->train_median, &o->train_q99,
                   &o->train_max};
    for (size_t i = 0; i < sizeof f / sizeof f[0]; i++)
        *f[i] = r_f64_finite(&s);
    if (r_done(&s))
        goto fail;
    if (avail > 1 || (avail && !p->ae) || (avail && !(o->threshold > 0)) || nval > INT64_MAX) {
        r_fail(&s, "values out of range");
        goto fail;
    }
    o->available = (int)avail;
    o->n_validation = (int64_t)nval;
    all.section = "payload";
    if (r_done(&all))
        goto fail;
    rc = 0;
fail:
    free(mean);
    free(scale);
    free(sv);
    free(coef);
    free(rho);
    if (rc)
        bs_pipeline_free(p);
    return rc;
}

int bs_pipeline_load(const char *path, bs_pipeline *p) {
    memset(p, 0, sizeof *p);
    unsigned char *data;
    size_t len;
    if (bs_read_file(path, PIPE_MAX_FILE, &data, &len))
        return -1;
    int rc = bs_pipeline_parse(data, len, path, p);
    free(data);
    return rc;
}
