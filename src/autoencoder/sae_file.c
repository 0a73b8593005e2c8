/* sae_file.c — the AE file (docs/autoencoder-format.md) in the model-file container
 * (core/container.h): a 128-byte header of sizes and training options, then mapminmax and the
 * weights; written atomically, read as untrusted input (every size is checked before it is
 * used). Not for: training or encoding. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "autoencoder.h"
#include "core/container.h"
#include "core/error.h"
#include "core/io.h"
#include "sae_internal.h"
#include "sae_model.h"

#define SAE_MAX_DIM ((uint64_t)BS_SAE_MAX_DIM) /* per dimension: far above 3072 × 2304 */
#define SAE_MAX_FILE ((size_t)1 << 36)

/* Magic "BSSAE\r\n\x1a"; the CR LF and ^Z catch text-mode mangling. */
static const bs_container_format sae_format = {"BSSAE\r\n\x1a", "autoencoder", 1u, 128u};

/* ---- writing ---- */

static void write_header(bs_cwriter *w, const bs_sae *m) {
    bs_cwriter_u64(w, (uint64_t)m->d);
    bs_cwriter_u64(w, (uint64_t)m->h);
    bs_cwriter_u64(w, (uint64_t)m->n_train);
    bs_cwriter_u64(w, m->opt.seed);
    bs_cwriter_u32(w, (uint32_t)m->opt.max_epochs);
    bs_cwriter_u32(w, (uint32_t)m->info.epochs);
    bs_cwriter_u32(w, (uint32_t)m->info.accepted);
    bs_cwriter_u32(w, (uint32_t)m->info.stop);
    bs_cwriter_f64(w, m->opt.l2);
    bs_cwriter_f64(w, m->opt.sparsity);
    bs_cwriter_f64(w, m->opt.proportion);
    bs_cwriter_f64(w, m->opt.min_grad);
    bs_cwriter_f64(w, m->info.perf);
    bs_cwriter_f64(w, m->info.grad_norm);
    bs_cwriter_pad(w, sae_format.header_size); /* 112..127 reserved, zero */
}

static void write_model(bs_cwriter *w, const bs_sae *m) {
    bs_cwriter_start(w, &sae_format);
    write_header(w, m);
    bs_cwriter_f64s(w, m->mm.xoffset, (size_t)m->d);
    bs_cwriter_f64s(w, m->mm.gain, (size_t)m->d);
    bs_cwriter_f32s(w, m->w, (size_t)sae_nparams(m->d, m->h));
}

int bs_sae_serialize(const bs_sae *m, const char *name, unsigned char **data, size_t *len) {
    bs_cwriter w;
    write_model(&w, m);
    return bs_cwriter_finish(&w, name, data, len);
}

int bs_sae_save(const bs_sae *m, const char *path) {
    bs_cwriter w;
    write_model(&w, m);
    return bs_cwriter_save(&w, path);
}

/* ---- reading ---- */

typedef struct {
    uint64_t d, h, n_train;
    bs_sae_options o;
    uint32_t epochs, accepted, stop;
    double perf, grad_norm;
} sae_header;

/* Header fields after the container's prefix; the sizes are checked here, the rest once the
 * checksum has passed (check_options). */
static int read_header(bs_creader *r, sae_header *hd) {
    bs_sae_options_default(&hd->o);
    hd->d = bs_creader_u64(r);
    hd->h = bs_creader_u64(r);
    hd->n_train = bs_creader_u64(r);
    hd->o.seed = bs_creader_u64(r);
    uint32_t max_epochs = bs_creader_u32(r);
    hd->epochs = bs_creader_u32(r);
    hd->accepted = bs_creader_u32(r);
    hd->stop = bs_creader_u32(r);
    hd->o.l2 = bs_creader_f64(r);
    hd->o.sparsity = bs_creader_f64(r);
    hd->o.proportion = bs_creader_f64(r);
    hd->o.min_grad = bs_creader_f64(r);
    hd->perf = bs_creader_f64(r);
    hd->grad_norm = bs_creader_f64(r);
    if (r->failed) return -1;
    if (hd->d < 1 || hd->h < 1 || hd->d > SAE_MAX_DIM || hd->h > SAE_MAX_DIM)
        return bs_error("%s: corrupt header (%llu features, %llu hidden units)", r->name,
                        (unsigned long long)hd->d, (unsigned long long)hd->h);
    hd->o.hidden = (int64_t)hd->h;
    hd->o.max_epochs = max_epochs > INT32_MAX ? -1 : (int)max_epochs;
    return 0;
}

static int check_options(const sae_header *hd, const char *name) {
    const bs_sae_options *o = &hd->o;
    if (o->max_epochs < 0 || hd->epochs > (uint32_t)o->max_epochs || hd->accepted > hd->epochs ||
        hd->stop > BS_SAE_STOP_CALLER || !(o->l2 >= 0) || !isfinite(o->l2) || !(o->sparsity >= 0) ||
        !isfinite(o->sparsity) || !(o->proportion > 0 && o->proportion < 1) ||
        !(o->min_grad >= 0) || hd->n_train < 1 || hd->n_train > INT64_MAX)
        return bs_error("%s: corrupt header (training parameters out of range)", name);
    return 0;
}

/* mapminmax: d offsets, then d gains (finite, gain > 0). */
static int read_scaling(bs_creader *r, bs_sae *m) {
    for (int64_t j = 0; j < m->d; j++) m->mm.xoffset[j] = bs_creader_f64(r);
    for (int64_t j = 0; j < m->d; j++) m->mm.gain[j] = bs_creader_f64(r);
    if (r->failed) return -1;
    for (int64_t j = 0; j < m->d; j++)
        if (!isfinite(m->mm.xoffset[j]) || !isfinite(m->mm.gain[j]) || !(m->mm.gain[j] > 0))
            return bs_error("%s: corrupt scaling for feature %lld", r->name, (long long)j);
    return 0;
}

static int read_weights(bs_creader *r, bs_sae *m) {
    int64_t np = sae_nparams(m->d, m->h);
    for (int64_t i = 0; i < np; i++) {
        float v = bs_creader_f32(r);
        if (r->failed) return -1;
        if (!isfinite(v))
            return bs_error("%s: non-finite weight at parameter %lld", r->name, (long long)i);
        m->w[i] = v;
    }
    return bs_creader_done(r);
}

bs_sae *bs_sae_parse(const unsigned char *buf, size_t len, const char *name) {
    bs_creader hr, body;
    sae_header hd;
    if (bs_container_open(&sae_format, buf, len, name, &hr, &body) || read_header(&hr, &hd))
        return NULL;
    /* d, h < 2^24, so 2dh + d + h < 2^50 and the byte count below cannot overflow 64 bits. */
    uint64_t want = sae_format.header_size + 16 * hd.d + 4 * (2 * hd.d * hd.h + hd.d + hd.h) +
                    BS_CONTAINER_DIGEST;
    char *why = bs_strfmt("%llu features and %llu hidden units need", (unsigned long long)hd.d,
                          (unsigned long long)hd.h);
    int rc = why ? bs_container_expect_length(name, len, want, why) : -1;
    free(why);
    if (rc || bs_container_verify(buf, len, name) || check_options(&hd, name)) return NULL;
    bs_sae *m = bs_sae_alloc((int64_t)hd.d, (int64_t)hd.h);
    if (!m) {
        bs_error_prefix("%s: ", name);
        return NULL;
    }
    m->opt = hd.o;
    m->n_train = (int64_t)hd.n_train;
    m->info.epochs = (int)hd.epochs;
    m->info.accepted = (int)hd.accepted;
    m->info.stop = (bs_sae_stop)hd.stop;
    m->info.perf = hd.perf;
    m->info.grad_norm = hd.grad_norm;
    if (read_scaling(&body, m) || read_weights(&body, m)) {
        bs_sae_free(m);
        return NULL;
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
