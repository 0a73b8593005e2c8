/* container.h — the binary container shared by blastscan's model files: the autoencoder file
 * (docs/autoencoder-format.md) and the pipeline file (docs/pipeline-format.md).
 *
 *   offset 0   8 bytes magic (the format's; ends in CR LF ^Z to catch text-mode mangling)
 *          8   u32 format version
 *          12  u32 header size H
 *          16  the format's own header fields, zero-padded up to H
 *          H   body: the format's fields, or sections (4-byte tag, 4 zero bytes, u64 length L,
 *              L bytes), in the order the format fixes
 *          end 32 bytes SHA-256 of every byte before it
 *
 * Little-endian throughout. Writing (bs_cwriter) builds the whole file in memory and saves it
 * through a temporary file renamed into place. Reading (bs_creader) is a bounds-checked cursor
 * over untrusted bytes: a read past the end, like any check that fails, records one message
 * naming the file and the section, returns 0 and makes every later read a no-op, so a parser
 * reads a run of fields and tests `failed` once. The checksum is the only check a fuzzing build
 * (FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION, fuzz/flags.cmake) skips, in bs_container_verify.
 * Not for: what the fields mean (each format's parser), or text formats. */
#ifndef BS_CORE_CONTAINER_H
#define BS_CORE_CONTAINER_H

#include <stddef.h>
#include <stdint.h>

#define BS_CONTAINER_PREFIX 16u /* magic, version, header size */
#define BS_CONTAINER_DIGEST 32u /* SHA-256 trailer */

typedef struct bs_container_format {
    const char *magic;    /* 8 bytes */
    const char *kind;     /* "pipeline", "autoencoder": in messages */
    uint32_t version;     /* the one this build reads and writes */
    uint32_t header_size; /* H, at least BS_CONTAINER_PREFIX */
} bs_container_format;

/* ---- writing ---- */

typedef struct bs_cwriter {
    unsigned char *p;
    size_t len, cap;
    int failed; /* an allocation failed: the message is set, later writes are no-ops */
} bs_cwriter;

/* Start a file: magic, version, header size. The format then writes its header fields and
 * calls bs_cwriter_pad(w, H). */
void bs_cwriter_start(bs_cwriter *w, const bs_container_format *f);
void bs_cwriter_pad(bs_cwriter *w, size_t offset); /* zeros up to offset */
void bs_cwriter_bytes(bs_cwriter *w, const void *src, size_t n);
void bs_cwriter_u32(bs_cwriter *w, uint32_t v);
void bs_cwriter_u64(bs_cwriter *w, uint64_t v);
void bs_cwriter_f32s(bs_cwriter *w, const float *v, size_t n);
void bs_cwriter_f64(bs_cwriter *w, double v);
void bs_cwriter_f64s(bs_cwriter *w, const double *v, size_t n);
void bs_cwriter_str(bs_cwriter *w, const char *s); /* u32 length, bytes, no NUL */
/* Overwrite a u64 written earlier at `offset` (a size known only at the end). */
void bs_cwriter_patch_u64(bs_cwriter *w, size_t offset, uint64_t v);
/* A section: tag, 4 zero bytes, u64 length; returns where the length goes, for _end. */
size_t bs_cwriter_section(bs_cwriter *w, const char tag[4]);
void bs_cwriter_section_end(bs_cwriter *w, size_t at);
/* Append the SHA-256 and hand the bytes over (*data is the caller's to free). Frees w's
 * buffer on failure; `what` names the file in the message. */
int bs_cwriter_finish(bs_cwriter *w, const char *what, unsigned char **data, size_t *len);
/* Finish and write to path atomically; w's buffer is freed either way. */
int bs_cwriter_save(bs_cwriter *w, const char *path);

/* ---- reading ---- */

typedef struct bs_creader {
    const unsigned char *p;
    size_t len, pos;
    const char *name;    /* the file, in messages */
    const char *section; /* "corrupt <section> section: ..." */
    int failed;
} bs_creader;

/* Check the magic ("not a blastscan <kind> file"), the length against H + digest
 * ("truncated"), the version ("unsupported <kind> format version N") and the header size. On
 * success *header reads bytes [16, H) and *body [H, len − 32). The checksum is not checked yet:
 * a format that knows its full length from the header says "truncated" or "has trailing bytes"
 * first (bs_container_expect_length), then calls bs_container_verify. */
int bs_container_open(const bs_container_format *f, const unsigned char *buf, size_t len,
                      const char *name, bs_creader *header, bs_creader *body);
/* len == want, else "<name>: truncated (<len> bytes; <why> <want>)" or "has trailing bytes". */
int bs_container_expect_length(const char *name, size_t len, uint64_t want, const char *why);
/* The SHA-256 trailer ("checksum mismatch"). */
int bs_container_verify(const unsigned char *buf, size_t len, const char *name);

int bs_creader_fail(bs_creader *r,
                    const char *what); /* "<name>: corrupt <section> section: <what>" */
/* The next n bytes (NULL, failed, when fewer remain). */
const unsigned char *bs_creader_bytes(bs_creader *r, uint64_t n);
uint32_t bs_creader_u32(bs_creader *r);
uint64_t bs_creader_u64(bs_creader *r);
float bs_creader_f32(bs_creader *r);
double bs_creader_f64(bs_creader *r);
double bs_creader_f64_finite(bs_creader *r); /* fails on NaN and infinities */
/* A string of at most max bytes without NUL into out[max + 1]; empty refused unless allowed. */
void bs_creader_str(bs_creader *r, char *out, size_t max, int allow_empty);
/* Refuse a count of `size`-byte elements the remaining bytes cannot hold, before anything is
 * allocated for them ("count exceeds the section size"). */
int bs_creader_count_fits(bs_creader *r, uint64_t count, uint64_t size);
/* Enter section `tag` (which names it in messages): *inner reads its body, outer moves past it. */
int bs_creader_section(bs_creader *outer, const char *tag, bs_creader *inner);
/* Every byte consumed ("trailing bytes"), and nothing failed. */
int bs_creader_done(bs_creader *r);

#endif
