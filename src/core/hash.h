/* hash.h — SHA-256 of files and buffers (GLib's GChecksum, already a libvips dependency).
 * Used for cache keys (model and image identity) and exact-duplicate detection. */
#ifndef BS_CORE_HASH_H
#define BS_CORE_HASH_H

#include <stddef.h>

#define BS_SHA256_HEX 65 /* 64 hex digits + NUL */

void bs_sha256_buffer(const void *data, size_t len, char hex[BS_SHA256_HEX]);
int bs_sha256_file(const char *path, char hex[BS_SHA256_HEX]);

/* The 32 bytes a 64-digit hex digest (as written by these functions) stands for. */
void bs_sha256_hex_to_bytes(const char hex[BS_SHA256_HEX], unsigned char out[32]);

/* Incremental hashing for data that arrives in pieces. */
typedef struct bs_sha256 bs_sha256;
bs_sha256 *bs_sha256_new(void);
void bs_sha256_update(bs_sha256 *h, const void *data, size_t len);
/* Writes the digest and frees h. */
void bs_sha256_finish(bs_sha256 *h, char hex[BS_SHA256_HEX]);

#endif
