/* io.c — atomic writes, bounded reads, small path helpers (see io.h). */
#define _GNU_SOURCE
#include "io.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void *bs_malloc(size_t size) {
    void *p = malloc(size ? size : 1);
    if (!p) bs_error("out of memory allocating %zu bytes", size);
    return p;
}

int bs_mul_size(size_t count, size_t size, size_t *out) {
    if (size && count > SIZE_MAX / size) return bs_error("size overflow (%zu x %zu)", count, size);
    *out = count * size;
    return 0;
}

void *bs_calloc(size_t count, size_t size) {
    size_t total = 0;
    if (bs_mul_size(count, size, &total)) return NULL;
    void *p = calloc(total ? count : 1, total ? size : 1);
    if (!p) bs_error("out of memory allocating %zu bytes", total);
    return p;
}

void *bs_realloc(void *ptr, size_t size) {
    void *p = realloc(ptr, size ? size : 1);
    if (!p) bs_error("out of memory allocating %zu bytes", size);
    return p;
}

char *bs_strdup(const char *s) {
    size_t n = strlen(s) + 1;
    char *d = bs_malloc(n);
    if (d) memcpy(d, s, n);
    return d;
}

char *bs_strfmt(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    char *s = NULL;
    int n = vasprintf(&s, fmt, ap);
    va_end(ap);
    if (n < 0) {
        bs_error("out of memory formatting a string");
        return NULL;
    }
    return s;
}

void bs_putf(FILE *fp, const char *fmt, ...) {
    assert(fp != stdout && fp != stderr);
    va_list ap;
    va_start(ap, fmt);
    vfprintf(fp, fmt, ap);
    va_end(ap);
}

char *bs_path_join(const char *dir, const char *name) {
    size_t n = strlen(dir);
    if (n == 0) return bs_strdup(name);
    return bs_strfmt("%s%s%s", dir, dir[n - 1] == '/' ? "" : "/", name);
}

const char *bs_path_ext(const char *path) {
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    const char *dot = strrchr(base, '.');
    return (dot && dot != base) ? dot : path + strlen(path);
}

char *bs_path_resolved(const char *path) {
    char *real = realpath(path, NULL);
    return real ? real : bs_strdup(path);
}

char *bs_path_stem(const char *path) {
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    const char *ext = bs_path_ext(base);
    size_t n = (size_t)(ext - base);
    char *s = bs_malloc(n + 1);
    if (!s) return NULL;
    memcpy(s, base, n);
    s[n] = '\0';
    return s;
}

int bs_is_dir(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

int bs_file_exists(const char *path) {
    struct stat st;
    return stat(path, &st) == 0;
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
    (void)st, (void)flag, (void)ftw;
    remove(path);
    return 0;
}

void bs_rmtree(const char *path) { nftw(path, remove_entry, 16, FTW_DEPTH | FTW_PHYS); }

int bs_mkdir_p(const char *path) {
    char *p = bs_strdup(path);
    if (!p) return -1;
    for (char *s = p + 1; *s; s++) {
        if (*s != '/') continue;
        *s = '\0';
        if (mkdir(p, 0777) != 0 && errno != EEXIST) {
            int e = errno;
            bs_error("%s: cannot create directory: %s", p, strerror(e));
            free(p);
            return -1;
        }
        *s = '/';
    }
    if (mkdir(p, 0777) != 0 && errno != EEXIST) {
        int e = errno;
        bs_error("%s: cannot create directory: %s", p, strerror(e));
        free(p);
        return -1;
    }
    free(p);
    if (!bs_is_dir(path)) return bs_error("%s: exists and is not a directory", path);
    return 0;
}

int bs_atomic_open(bs_atomic_file *af, const char *path) {
    memset(af, 0, sizeof *af);
    const char *slash = strrchr(path, '/');
    char *dir = slash ? strndup(path, (size_t)(slash - path) + 1) : bs_strdup("");
    const char *base = slash ? slash + 1 : path;
    if (!dir) return bs_error("out of memory");
    af->tmp_path = bs_strfmt("%s.%s.tmp.XXXXXX", dir, base);
    free(dir);
    af->path = bs_strdup(path);
    if (!af->tmp_path || !af->path) {
        bs_atomic_abort(af);
        return -1;
    }
    int fd = mkstemp(af->tmp_path);
    if (fd < 0) {
        int e = errno;
        bs_error("%s: cannot write: %s", path, strerror(e));
        free(af->tmp_path);
        af->tmp_path = NULL;
        bs_atomic_abort(af);
        return -1;
    }
    /* mkstemp makes 0600; outputs are ordinary files, so honour the umask like fopen. */
    mode_t mask = umask(0);
    umask(mask);
    fchmod(fd, 0666 & ~mask);
    af->fp = fdopen(fd, "wb");
    if (!af->fp) {
        int e = errno;
        close(fd);
        bs_atomic_abort(af);
        return bs_error("%s: cannot write: %s", path, strerror(e));
    }
    return 0;
}

void bs_atomic_abort(bs_atomic_file *af) {
    if (af->fp) fclose(af->fp);
    if (af->tmp_path) unlink(af->tmp_path);
    free(af->tmp_path);
    free(af->path);
    memset(af, 0, sizeof *af);
}

int bs_atomic_commit(bs_atomic_file *af) {
    int failed = ferror(af->fp) || fflush(af->fp) != 0 || fsync(fileno(af->fp)) != 0;
    int e = errno;
    if (fclose(af->fp) != 0 && !failed) {
        failed = 1;
        e = errno;
    }
    af->fp = NULL;
    if (failed) {
        bs_error("%s: write failed: %s", af->path, strerror(e ? e : EIO));
        bs_atomic_abort(af);
        return -1;
    }
    if (rename(af->tmp_path, af->path) != 0) {
        e = errno;
        bs_error("%s: cannot move into place: %s", af->path, strerror(e));
        bs_atomic_abort(af);
        return -1;
    }
    free(af->tmp_path);
    af->tmp_path = NULL;
    free(af->path);
    af->path = NULL;
    return 0;
}

int bs_write_file_atomic(const char *path, const void *data, size_t len) {
    bs_atomic_file af;
    if (bs_atomic_open(&af, path)) return -1;
    if (len && fwrite(data, 1, len, af.fp) != len) {
        int e = errno;
        bs_error("%s: write failed: %s", path, strerror(e));
        bs_atomic_abort(&af);
        return -1;
    }
    return bs_atomic_commit(&af);
}

int bs_read_file(const char *path, size_t max_len, unsigned char **data, size_t *len) {
    *data = NULL;
    *len = 0;
    FILE *fp = fopen(path, "rb");
    if (!fp) {
        int e = errno;
        return bs_error("%s: cannot open: %s", path, strerror(e));
    }
    struct stat st;
    if (fstat(fileno(fp), &st) != 0 || !S_ISREG(st.st_mode)) {
        fclose(fp);
        return bs_error("%s: not a regular file", path);
    }
    if ((uint64_t)st.st_size > (uint64_t)max_len) {
        fclose(fp);
        return bs_error("%s: file is %lld bytes, more than the %zu allowed", path,
                        (long long)st.st_size, max_len);
    }
    size_t n = (size_t)st.st_size;
    unsigned char *buf = bs_malloc(n + 1);
    if (!buf) {
        fclose(fp);
        return bs_error_prefix("%s: ", path);
    }
    size_t got = fread(buf, 1, n, fp);
    int err = ferror(fp);
    fclose(fp);
    if (err || got != n) {
        free(buf);
        return bs_error("%s: read failed (%zu of %zu bytes)", path, got, n);
    }
    buf[n] = '\0';
    *data = buf;
    *len = n;
    return 0;
}
