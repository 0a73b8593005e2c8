/* pipeline_file.c — the pipeline file (docs/pipeline-format.md) in the model-file container
 * (core/container.h): a 32-byte header holding the payload size, seven sections in a fixed
 * order and two optional ones after them (mi-SVM, a cell model's crops), SHA-256 trailer. Built in memory and written atomically; parsed from a buffer as
 * untrusted input, one function per section: every count and length is checked against the
 * bytes that remain before anything is allocated or read. Not for: fitting or running models. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/container.h"
#include "core/error.h"
#include "core/hash.h"
#include "core/io.h"
#include "pipeline.h"

#define PIPE_MAX_FILE ((size_t)1 << 34)
#define PIPE_MAX_DIM ((uint64_t)1 << 24)

/* Magic "BSPIP\r\n\x1a"; CR LF and ^Z catch text-mode mangling. Header: the container's 16
 * bytes, u64 payload size, 8 reserved zero bytes. */
static const bs_container_format pipe_format = {"BSPIP\r\n\x1a", "pipeline", 1u, 32u};

/* ---- writing ---------------------------------------------------------------------------- */

static void write_meta(bs_cwriter *w, const bs_pipeline *p) {
    bs_cwriter_str(w, p->version);
    bs_cwriter_u64(w, p->seed);
    bs_cwriter_u32(w, (uint32_t)p->augment);
    bs_cwriter_u32(w, (uint32_t)p->epochs);
    bs_cwriter_f64(w, p->latent_fraction);
    bs_cwriter_f64(w, p->kernel_scale_option);
    bs_cwriter_u64(w, (uint64_t)p->n_images);
    bs_cwriter_u64(w, (uint64_t)p->n_rows);
    for (int c = 0; c < 2; c++) {
        bs_cwriter_str(w, p->label_names[c]);
        bs_cwriter_u64(w, (uint64_t)p->images_per_label[c]);
        bs_cwriter_u64(w, (uint64_t)p->rows_per_label[c]);
    }
}

static void write_backbones(bs_cwriter *w, const bs_pipeline *p) {
    bs_cwriter_u32(w, (uint32_t)p->n_backbones);
    bs_cwriter_u64(w, (uint64_t)p->n_features);
    for (size_t i = 0; i < p->n_backbones; i++) {
        const bs_pipeline_backbone *k = &p->backbones[i];
        bs_cwriter_str(w, k->name);
        bs_cwriter_str(w, k->file);
        unsigned char sha[32];
        bs_sha256_hex_to_bytes(k->sha256, sha);
        bs_cwriter_bytes(w, sha, 32);
        bs_cwriter_u32(w, (uint32_t)k->input_size);
        bs_cwriter_str(w, k->tap);
        bs_cwriter_u64(w, (uint64_t)k->dim);
    }
}

static void write_classes(bs_cwriter *w, const bs_pipeline *p) {
    bs_cwriter_u32(w, (uint32_t)p->n_classes);
    for (size_t i = 0; i < p->n_classes; i++) {
        bs_cwriter_str(w, p->classes[i].name);
        bs_cwriter_u32(w, (uint32_t)p->classes[i].label);
        bs_cwriter_u64(w, (uint64_t)p->classes[i].images);
    }
}

/* The autoencoder as its own file format (docs/autoencoder-format.md); empty without one. */
static void write_ae(bs_cwriter *w, const bs_pipeline *p) {
    if (!p->ae || w->failed) return;
    unsigned char *ae;
    size_t len;
    if (bs_sae_serialize(p->ae, "autoencoder", &ae, &len)) {
        w->failed = 1;
        return;
    }
    bs_cwriter_bytes(w, ae, len);
    free(ae);
}

static void write_svm(bs_cwriter *w, const bs_pipeline *p) {
    bs_svm_parts sp;
    bs_svm_get_parts(p->svm, &sp);
    bs_cwriter_u64(w, (uint64_t)sp.n_features);
    bs_cwriter_f64(w, sp.kernel_scale);
    bs_cwriter_u32(w, (uint32_t)sp.n_classes);
    for (int c = 0; c < sp.n_classes; c++) bs_cwriter_u32(w, (uint32_t)sp.classes[c]);
    for (int c = 0; c < sp.n_classes; c++) bs_cwriter_u32(w, (uint32_t)sp.n_sv_class[c]);
    bs_cwriter_u64(w, (uint64_t)sp.n_sv);
    bs_cwriter_f64s(w, sp.mean, (size_t)sp.n_features);
    bs_cwriter_f64s(w, sp.scale, (size_t)sp.n_features);
    bs_cwriter_f32s(w, sp.sv, (size_t)(sp.n_sv * sp.n_features));
    bs_cwriter_f64s(w, sp.coef, (size_t)((sp.n_classes - 1) * sp.n_sv));
    bs_cwriter_f64s(w, sp.rho, (size_t)(sp.n_classes * (sp.n_classes - 1) / 2));
}

static void write_platt(bs_cwriter *w, const bs_pipeline *p) {
    bs_cwriter_f64(w, p->platt_a);
    bs_cwriter_f64(w, p->platt_b);
    bs_cwriter_u32(w, (uint32_t)p->calibration_folds);
    bs_cwriter_u64(w, (uint64_t)p->calibration_rows);
}

static void write_ood(bs_cwriter *w, const bs_pipeline *p) {
    const bs_pipeline_ood *o = &p->ood;
    bs_cwriter_u32(w, (uint32_t)o->available);
    bs_cwriter_u64(w, (uint64_t)o->n_validation);
    const double stats[] = {
        o->k,   o->threshold, o->mean, o->sd,           o->q25,       o->median,   o->q75,
        o->q95, o->q99,       o->max,  o->train_median, o->train_q99, o->train_max};
    bs_cwriter_f64s(w, stats, sizeof stats / sizeof stats[0]);
}

/* Optional: what mi-SVM did (train --mil). */
static void write_mil(bs_cwriter *w, const bs_pipeline *p) {
    const bs_fit_mil *m = &p->mil;
    bs_cwriter_u32(w, (uint32_t)m->rounds);
    bs_cwriter_u32(w, (uint32_t)m->max_rounds);
    bs_cwriter_u32(w, (uint32_t)m->converged);
    const int64_t counts[] = {m->changed_last, m->bags,    m->instances,
                              m->positives,    m->bag_min, m->bag_max};
    for (size_t i = 0; i < sizeof counts / sizeof counts[0]; i++)
        bs_cwriter_u64(w, (uint64_t)counts[i]);
    bs_cwriter_f64(w, m->bag_median);
}

/* Optional: how a cell model's crops were made. */
static void write_cells(bs_cwriter *w, const bs_pipeline *p) {
    bs_cwriter_u32(w, (uint32_t)p->cells.normalised);
    bs_cwriter_f64(w, p->cells.crop_scale);
}

/* Optional: the class prior the calibrated probabilities assume (prior adaptation). */
static void write_prior(bs_cwriter *w, const bs_pipeline *p) { bs_cwriter_f64(w, p->train_prior); }

static int has_mil(const bs_pipeline *p) { return p->mil.rounds > 0; }
static int has_cells(const bs_pipeline *p) { return p->cells.present; }
/* 0 (an older file, or a model built without it) writes nothing: the file stays byte for
 * byte what it was. */
static int has_prior(const bs_pipeline *p) { return p->train_prior > 0; }

/* The sections in file order; `present` NULL: always written and required. */
static const struct {
    const char *tag;
    void (*write)(bs_cwriter *w, const bs_pipeline *p);
    int (*present)(const bs_pipeline *p);
} writers[] = {{"META", write_meta, NULL},       {"BKBN", write_backbones, NULL},
               {"CLAS", write_classes, NULL},    {"AENC", write_ae, NULL},
               {"SVM ", write_svm, NULL},        {"PLAT", write_platt, NULL},
               {"OOD ", write_ood, NULL},        {"MIL ", write_mil, has_mil},
               {"CELL", write_cells, has_cells}, {"PRIO", write_prior, has_prior}};

static int is_hex64(const char *s) {
    for (int i = 0; i < 64; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f'))) return 0;
    return s[64] == '\0';
}

int bs_pipeline_save(const bs_pipeline *p, const char *path) {
    if (!p->svm) return bs_error("%s: the pipeline has no SVM", path);
    if (p->n_backbones < 1 || p->n_backbones > BS_PIPELINE_MAX_BACKBONES)
        return bs_error("%s: %zu backbones (1..%d allowed)", path, p->n_backbones,
                        BS_PIPELINE_MAX_BACKBONES);
    for (size_t i = 0; i < p->n_backbones; i++)
        if (!is_hex64(p->backbones[i].sha256))
            return bs_error("%s: backbone %zu has no valid sha256", path, i);
    bs_cwriter w;
    bs_cwriter_start(&w, &pipe_format);
    bs_cwriter_u64(&w, 0); /* payload size, patched below */
    bs_cwriter_pad(&w, pipe_format.header_size);
    for (size_t i = 0; i < sizeof writers / sizeof writers[0]; i++) {
        if (writers[i].present && !writers[i].present(p)) continue;
        size_t at = bs_cwriter_section(&w, writers[i].tag);
        writers[i].write(&w, p);
        bs_cwriter_section_end(&w, at);
    }
    bs_cwriter_patch_u64(&w, BS_CONTAINER_PREFIX, (uint64_t)(w.len - pipe_format.header_size));
    return bs_cwriter_save(&w, path);
}

/* ---- reading: one function per section ------------------------------------------------ */

static int read_meta(bs_creader *s, bs_pipeline *p) {
    bs_creader_str(s, p->version, BS_PIPELINE_NAME_MAX, 1);
    p->seed = bs_creader_u64(s);
    uint32_t augment = bs_creader_u32(s), epochs = bs_creader_u32(s);
    p->latent_fraction = bs_creader_f64_finite(s);
    p->kernel_scale_option = bs_creader_f64_finite(s);
    uint64_t images = bs_creader_u64(s), nrows = bs_creader_u64(s), im[2], ro[2];
    if (images > INT64_MAX || nrows > INT64_MAX) bs_creader_fail(s, "counts out of range");
    for (int c = 0; c < 2; c++) {
        bs_creader_str(s, p->label_names[c], BS_PIPELINE_NAME_MAX, 0);
        im[c] = bs_creader_u64(s);
        ro[c] = bs_creader_u64(s);
        if (im[c] > images || ro[c] > nrows) bs_creader_fail(s, "class counts exceed the totals");
        p->images_per_label[c] = (int64_t)im[c];
        p->rows_per_label[c] = (int64_t)ro[c];
    }
    if (bs_creader_done(s)) return -1;
    /* augment: bit 0 mirrors, bits 8-15 HED views, 16-23 scale views, 24-31 transfer views */
    if ((augment & ~0xffffff01u) || ((augment >> 8) & 0xff) > 8 || ((augment >> 16) & 0xff) > 8 ||
        (augment >> 24) > 8 || epochs > INT32_MAX || !(p->latent_fraction >= 0) ||
        !(p->kernel_scale_option >= 0) || im[0] + im[1] != images || ro[0] + ro[1] != nrows)
        return bs_creader_fail(s, "values out of range");
    p->augment = (int)augment;
    p->epochs = (int)epochs;
    p->n_images = (int64_t)images;
    p->n_rows = (int64_t)nrows;
    return 0;
}

static void read_backbone(bs_creader *s, bs_pipeline_backbone *k) {
    bs_creader_str(s, k->name, BS_PIPELINE_NAME_MAX, 0);
    bs_creader_str(s, k->file, BS_PIPELINE_NAME_MAX, 0);
    const unsigned char *sha = bs_creader_bytes(s, 32);
    for (int j = 0; sha && j < 32; j++) snprintf(k->sha256 + 2 * j, 3, "%02x", sha[j]);
    uint32_t size = bs_creader_u32(s);
    bs_creader_str(s, k->tap, BS_PIPELINE_NAME_MAX, 0);
    uint64_t dim = bs_creader_u64(s);
    if (s->failed) return;
    if (strchr(k->file, '/') || !strcmp(k->file, ".") || !strcmp(k->file, ".."))
        bs_creader_fail(s, "a backbone file name holds a folder");
    if (size < 1 || size > 16384 || dim < 1 || dim > PIPE_MAX_DIM)
        bs_creader_fail(s, "backbone input size or width out of range");
    k->input_size = (int)size;
    k->dim = (int64_t)dim;
}

static int read_backbones(bs_creader *s, bs_pipeline *p) {
    uint32_t nb = bs_creader_u32(s);
    uint64_t width = bs_creader_u64(s);
    if (s->failed) return -1;
    if (nb < 1 || nb > BS_PIPELINE_MAX_BACKBONES || width < 1 || width > PIPE_MAX_DIM)
        return bs_creader_fail(s, "backbone count or feature width out of range");
    if (!(p->backbones = bs_calloc(nb, sizeof *p->backbones))) return -1;
    p->n_backbones = nb;
    p->n_features = (int64_t)width;
    uint64_t sum = 0;
    for (uint32_t i = 0; i < nb && !s->failed; i++) {
        read_backbone(s, &p->backbones[i]);
        sum += (uint64_t)p->backbones[i].dim;
    }
    if (bs_creader_done(s)) return -1;
    if (sum != width)
        return bs_creader_fail(s, "backbone widths do not add up to the feature width");
    return 0;
}

static int read_classes(bs_creader *s, bs_pipeline *p) {
    uint32_t nc = bs_creader_u32(s);
    if (s->failed || nc > BS_PIPELINE_MAX_CLASSES || bs_creader_count_fits(s, nc, 16))
        return bs_creader_fail(s, "class count out of range");
    if (nc && !(p->classes = bs_calloc(nc, sizeof *p->classes))) return -1;
    p->n_classes = nc;
    for (uint32_t i = 0; i < nc && !s->failed; i++) {
        bs_creader_str(s, p->classes[i].name, BS_PIPELINE_NAME_MAX, 0);
        uint32_t label = bs_creader_u32(s);
        uint64_t im = bs_creader_u64(s);
        if (label > 1 || im > (uint64_t)p->n_images)
            bs_creader_fail(s, "class label or count out of range");
        p->classes[i].label = (int32_t)label;
        p->classes[i].images = (int64_t)im;
    }
    return bs_creader_done(s);
}

/* An embedded AE file, validated by its own parser; empty without autoencoder. */
static int read_ae(bs_creader *s, bs_pipeline *p) {
    if (s->len == 0) return 0;
    char *ae_name = bs_strfmt("%s (autoencoder section)", s->name);
    p->ae = ae_name ? bs_sae_parse(s->p, s->len, ae_name) : NULL;
    free(ae_name);
    if (!p->ae) return -1;
    if (bs_sae_features(p->ae) != p->n_features)
        return bs_error(
            "%s: corrupt file: the autoencoder takes %lld features, the backbones give %lld",
            s->name, (long long)bs_sae_features(p->ae), (long long)p->n_features);
    return 0;
}

/* The dense libsvm model (bs_svm_parts): width W, kernel scale, 2 classes, then mean and scale
 * (16·W bytes), support vectors (4·V·W), coefficients (8·V) and rho (8). */
static int read_svm(bs_creader *s, bs_pipeline *p) {
    uint64_t d = bs_creader_u64(s), nsv_total = 0;
    double kscale = bs_creader_f64_finite(s);
    uint32_t k = bs_creader_u32(s);
    if (s->failed) return -1;
    if (k != 2 || d != (uint64_t)(p->ae ? bs_sae_hidden(p->ae) : p->n_features))
        return bs_creader_fail(s, "class count or width does not match the model");
    int32_t classes[2], nsvc[2];
    for (int c = 0; c < 2; c++) classes[c] = (int32_t)bs_creader_u32(s);
    for (int c = 0; c < 2; c++) {
        uint32_t v = bs_creader_u32(s);
        if (v > INT32_MAX) bs_creader_fail(s, "support-vector count out of range");
        nsvc[c] = (int32_t)v;
        nsv_total += v;
    }
    uint64_t nsv = bs_creader_u64(s);
    if (s->failed) return -1;
    if (classes[0] != 0 || classes[1] != 1 || nsv != nsv_total)
        return bs_creader_fail(s, "classes or support-vector counts inconsistent");
    if (bs_creader_count_fits(s, d, 16) || (nsv && bs_creader_count_fits(s, nsv, 4 * d + 8)))
        return -1;
    double *mean = bs_malloc(sizeof(double) * d), *scale = bs_malloc(sizeof(double) * d),
           *coef = bs_malloc(sizeof(double) * (nsv ? nsv : 1)), rho[1];
    float *sv = bs_malloc(sizeof(float) * (nsv ? nsv : 1) * d);
    int rc = mean && scale && coef && sv ? 0 : -1;
    for (uint64_t j = 0; j < d && rc == 0; j++) mean[j] = bs_creader_f64_finite(s);
    for (uint64_t j = 0; j < d && rc == 0; j++) scale[j] = bs_creader_f64_finite(s);
    for (uint64_t j = 0; j < nsv * d && rc == 0 && !s->failed; j++)
        if (!isfinite(sv[j] = bs_creader_f32(s))) bs_creader_fail(s, "non-finite support vector");
    for (uint64_t j = 0; j < nsv && rc == 0; j++) coef[j] = bs_creader_f64_finite(s);
    rho[0] = bs_creader_f64_finite(s);
    if (rc == 0) rc = bs_creader_done(s);
    bs_svm_parts parts = {(int64_t)d, mean,         scale, kscale, 2,  classes,
                          nsvc,       (int64_t)nsv, sv,    coef,   rho};
    if (rc == 0 && !(p->svm = bs_svm_from_parts(&parts)))
        rc = bs_error_prefix("%s: corrupt SVM section: ", s->name);
    free(mean);
    free(scale);
    free(sv);
    free(coef);
    return rc;
}

static int read_platt(bs_creader *s, bs_pipeline *p) {
    p->platt_a = bs_creader_f64_finite(s);
    p->platt_b = bs_creader_f64_finite(s);
    uint32_t folds = bs_creader_u32(s);
    uint64_t crow = bs_creader_u64(s);
    if (bs_creader_done(s)) return -1;
    if (folds > 1000000 || crow > INT64_MAX) return bs_creader_fail(s, "values out of range");
    p->calibration_folds = (int)folds;
    p->calibration_rows = (int64_t)crow;
    return 0;
}

static int read_ood(bs_creader *s, bs_pipeline *p) {
    bs_pipeline_ood *o = &p->ood;
    uint32_t avail = bs_creader_u32(s);
    uint64_t nval = bs_creader_u64(s);
    double *f[] = {&o->k,        &o->threshold, &o->mean, &o->sd,  &o->q25,          &o->median,
                   &o->q75,      &o->q95,       &o->q99,  &o->max, &o->train_median, &o->train_q99,
                   &o->train_max};
    for (size_t i = 0; i < sizeof f / sizeof f[0]; i++) *f[i] = bs_creader_f64_finite(s);
    if (bs_creader_done(s)) return -1;
    if (avail > 1 || (avail && !p->ae) || (avail && !(o->threshold > 0)) || nval > INT64_MAX)
        return bs_creader_fail(s, "values out of range");
    o->available = (int)avail;
    o->n_validation = (int64_t)nval;
    return 0;
}

static int read_mil(bs_creader *s, bs_pipeline *p) {
    bs_fit_mil *m = &p->mil;
    uint32_t rounds = bs_creader_u32(s), cap = bs_creader_u32(s), conv = bs_creader_u32(s);
    uint64_t c[6];
    for (size_t i = 0; i < 6; i++) c[i] = bs_creader_u64(s);
    double median = bs_creader_f64_finite(s);
    if (bs_creader_done(s)) return -1;
    /* changed_last, bags, instances, positives, per bag min and max */
    int ok = rounds >= 1 && rounds <= cap && cap <= 1000000 && conv <= 1 && (!conv || !c[0]) &&
             c[2] <= INT64_MAX && c[0] <= c[2] && c[1] >= 1 && c[1] <= c[3] && c[3] <= c[2] &&
             c[4] >= 1 && c[4] <= c[5] && c[5] <= c[3] && median >= (double)c[4] &&
             median <= (double)c[5];
    if (!ok) return bs_creader_fail(s, "values out of range");
    *m = (bs_fit_mil){(int)rounds,   (int)cap,      (int)conv,     (int64_t)c[0], (int64_t)c[1],
                      (int64_t)c[2], (int64_t)c[3], (int64_t)c[4], (int64_t)c[5], median};
    return 0;
}

static int read_cells(bs_creader *s, bs_pipeline *p) {
    uint32_t normalised = bs_creader_u32(s);
    double scale = bs_creader_f64_finite(s);
    if (bs_creader_done(s)) return -1;
    if (normalised > 1 || !(scale >= 1 && scale <= 16))
        return bs_creader_fail(s, "values out of range");
    p->cells = (bs_pipeline_cells){1, (int)normalised, scale};
    return 0;
}

static int read_prior(bs_creader *s, bs_pipeline *p) {
    double prior = bs_creader_f64_finite(s);
    if (bs_creader_done(s)) return -1;
    if (!(prior > 0 && prior < 1)) return bs_creader_fail(s, "values out of range");
    p->train_prior = prior;
    return 0;
}

/* The sections in file order; optional ones may be absent (older files, or not used). */
static const struct {
    const char *tag;
    int (*read)(bs_creader *s, bs_pipeline *p);
    int optional;
} readers[] = {{"META", read_meta, 0}, {"BKBN", read_backbones, 0}, {"CLAS", read_classes, 0},
               {"AENC", read_ae, 0},   {"SVM ", read_svm, 0},       {"PLAT", read_platt, 0},
               {"OOD ", read_ood, 0},  {"MIL ", read_mil, 1},       {"CELL", read_cells, 1},
               {"PRIO", read_prior, 1}};

/* Four printable ASCII bytes: something that looks like a section's tag. */
static int is_tag(const unsigned char *t) {
    for (int i = 0; i < 4; i++)
        if (t[i] < 0x20 || t[i] > 0x7e) return 0;
    return 1;
}

/* 1 when the next section of r is `tag` (an optional section is there). */
static int next_is(const bs_creader *r, const char *tag) {
    return !r->failed && r->len - r->pos >= 16 && memcmp(r->p + r->pos, tag, 4) == 0;
}

/* Container, header (payload size, reserved zero), length, checksum, then each section. */
int bs_pipeline_parse(const unsigned char *data, size_t len, const char *name, bs_pipeline *p) {
    memset(p, 0, sizeof *p);
    bs_creader hr, body, s;
    if (bs_container_open(&pipe_format, data, len, name, &hr, &body)) return -1;
    uint64_t payload = bs_creader_u64(&hr), reserved = bs_creader_u64(&hr);
    if (reserved != 0) return bs_error("%s: corrupt header", name);
    uint64_t extra = pipe_format.header_size + BS_CONTAINER_DIGEST;
    uint64_t want = payload <= UINT64_MAX - extra ? payload + extra : UINT64_MAX;
    if (bs_container_expect_length(name, len, want, "the header announces") ||
        bs_container_verify(data, len, name))
        return -1;
    for (size_t i = 0; i < sizeof readers / sizeof readers[0]; i++) {
        if (readers[i].optional && !next_is(&body, readers[i].tag)) continue;
        if (bs_creader_section(&body, readers[i].tag, &s) || readers[i].read(&s, p)) {
            bs_pipeline_free(p);
            return -1;
        }
    }
    body.section = "payload";
    if (body.len - body.pos >= 16 && is_tag(body.p + body.pos)) {
        bs_error("%s: unknown section '%.4s' at byte %zu (a newer blastscan wrote it, or the file "
                 "is corrupt)",
                 name, (const char *)body.p + body.pos, body.pos);
        bs_pipeline_free(p);
        return -1;
    }
    if (bs_creader_done(&body)) {
        bs_pipeline_free(p);
        return -1;
    }
    return 0;
}

int bs_pipeline_load(const char *path, bs_pipeline *p) {
    memset(p, 0, sizeof *p);
    unsigned char *data;
    size_t len;
    if (bs_read_file(path, PIPE_MAX_FILE, &data, &len)) return -1;
    int rc = bs_pipeline_parse(data, len, path, p);
    free(data);
    return rc;
}
