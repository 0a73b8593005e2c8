/* hash.c — SHA-256 via GLib (see hash.h). */
#include "hash.h"

#include <errno.h>
#include <glib.h>
#include <stdio.h>
#include <string.h>

#include "error.h"

struct bs_sha256 {
    GChecksum *ck;
};

bs_sha256 *bs_sha256_new(void) { return (bs_sha256 *)g_checksum_new(G_CHECKSUM_SHA256); }

void bs_sha256_update(bs_sha256 *h, const void *data, size_t len) {
    const unsigned char *p = data;
    /* g_checksum_update takes a gssize; feed huge buffers in pieces. */
    while (len) {
        size_t n = len > ((size_t)1 << 30) ? ((size_t)1 << 30) : len;
        g_checksum_update((GChecksum *)h, p, (gssize)n);
        p += n;
        len -= n;
    }
}

void bs_sha256_finish(bs_sha256 *h, char hex[BS_SHA256_HEX]) {
    const char *s = g_checksum_get_string((GChecksum *)h);
    memcpy(hex, s, BS_SHA256_HEX - 1);
    hex[BS_SHA256_HEX - 1] = '\0';
    g_checksum_free((GChecksum *)h);
}

void bs_sha256_buffer(const void *data, size_t len, char hex[BS_SHA256_HEX]) {
    bs_sha256 *h = bs_sha256_new();
    bs_sha256_update(h, data, len);
    bs_sha256_finish(h, hex);
}

int bs_sha256_file(const char *path, char hex[BS_SHA256_HEX]) {
    FILE *fp = fopen(path, "rb");
    if (!fp) {
        int e = errno;
        return bs_error("%s: cannot open: %s", path, strerror(e));
    }
    bs_sha256 *h = bs_sha256_new();
    unsigned char buf[1 << 16];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, fp)) > 0) bs_sha256_update(h, buf, n);
    int err = ferror(fp);
    fclose(fp);
    bs_sha256_finish(h, hex);
    if (err) return bs_error("%s: read failed", path);
    return 0;
}

void bs_sha256_hex_to_bytes(const char hex[BS_SHA256_HEX], unsigned char out[32]) {
    for (int i = 0; i < 32; i++) {
        unsigned v = 0;
        for (int k = 0; k < 2; k++) {
            char c = hex[2 * i + k];
            v = v * 16 + (unsigned)(c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10);
        }
        out[i] = (unsigned char)v;
    }
}
