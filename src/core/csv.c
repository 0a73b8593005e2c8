/* csv.c — CSV parsing and writing (see csv.h). */
#include "csv.h"

#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "io.h"

#define BS_CSV_MAX_BYTES ((size_t)1 << 30)
#define BS_CSV_MAX_COLS 4096

typedef struct {
    char **fields;
    size_t n, cap;
} field_list;

static int push_field(field_list *fl, const char *s, size_t n) {
    if (fl->n == fl->cap) {
        size_t cap = fl->cap ? fl->cap * 2 : 8;
        char **f = bs_realloc(fl->fields, cap * sizeof *f);
        if (!f) return -1;
        fl->fields = f;
        fl->cap = cap;
    }
    char *d = bs_malloc(n + 1);
    if (!d) return -1;
    memcpy(d, s, n);
    d[n] = '\0';
    fl->fields[fl->n++] = d;
    return 0;
}

static void free_fields(char **f, size_t n) {
    if (!f) return;
    for (size_t i = 0; i < n; i++) free(f[i]);
    free(f);
}

/* Parse one record starting at *pos; returns 1 if a record was read, 0 at end, -1 on error. */
static int parse_record(const char *t, size_t len, size_t *pos, field_list *fl, char *scratch,
                        size_t line, const char *name) {
    size_t p = *pos;
    if (p >= len) return 0;
    fl->n = 0;
    for (;;) {
        size_t n = 0;
        if (p < len && t[p] == '"') {
            p++;
            for (;;) {
                if (p >= len) return bs_error("%s:%zu: unterminated quoted field", name, line);
                if (t[p] == '"') {
                    if (p + 1 < len && t[p + 1] == '"') {
                        scratch[n++] = '"';
                        p += 2;
                        continue;
                    }
                    p++;
                    break;
                }
                scratch[n++] = t[p++];
            }
            if (p < len && t[p] != ',' && t[p] != '\n' && t[p] != '\r')
                return bs_error("%s:%zu: text after a closing quote", name, line);
        } else {
            while (p < len && t[p] != ',' && t[p] != '\n' && t[p] != '\r') {
                if (t[p] == '"')
                    return bs_error("%s:%zu: stray quote in unquoted field", name, line);
                if (t[p] == '\0') return bs_error("%s:%zu: NUL byte in CSV", name, line);
                scratch[n++] = t[p++];
            }
        }
        if (fl->n >= BS_CSV_MAX_COLS)
            return bs_error("%s:%zu: more than %d columns", name, line, BS_CSV_MAX_COLS);
        if (push_field(fl, scratch, n)) return -1;
        if (p < len && t[p] == ',') {
            p++;
            continue;
        }
        if (p < len && t[p] == '\r') p++;
        if (p < len && t[p] == '\n') p++;
        break;
    }
    *pos = p;
    return 1;
}

void bs_csv_free(bs_csv *csv) {
    if (csv->rows) {
        for (size_t r = 0; r < csv->nrows; r++) free_fields(csv->rows[r], csv->ncols);
        free(csv->rows);
    }
    free_fields(csv->header, csv->ncols);
    memset(csv, 0, sizeof *csv);
}

int bs_csv_parse(const char *text, size_t len, const char *name, bs_csv *out) {
    memset(out, 0, sizeof *out);
    char *scratch = bs_malloc(len + 1);
    if (!scratch) return -1;
    size_t pos = 0, line = 1, cap = 0;
    field_list fl = {0};
    /* A UTF-8 byte-order mark (Excel writes one) is not part of the first column name. */
    if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0) pos = 3;
    int rc = parse_record(text, len, &pos, &fl, scratch, line, name);
    if (rc <= 0) {
        if (rc == 0) bs_error("%s: empty CSV (no header)", name);
        goto fail;
    }
    out->header = fl.fields;
    out->ncols = fl.n;
    fl = (field_list){0};
    for (;;) {
        line++;
        /* Skip blank lines (a trailing newline at the end is common). */
        while (pos < len && (text[pos] == '\n' || text[pos] == '\r')) {
            if (text[pos] == '\n') line++;
            pos++;
        }
        rc = parse_record(text, len, &pos, &fl, scratch, line, name);
        if (rc < 0) goto fail;
        if (rc == 0) break;
        if (fl.n != out->ncols) {
            bs_error("%s:%zu: %zu fields, the header has %zu", name, line, fl.n, out->ncols);
            goto fail;
        }
        if (out->nrows == cap) {
            cap = cap ? cap * 2 : 64;
            char ***rows = bs_realloc(out->rows, cap * sizeof *rows);
            if (!rows) goto fail;
            out->rows = rows;
        }
        out->rows[out->nrows++] = fl.fields;
        fl = (field_list){0};
    }
    free(scratch);
    return 0;
fail:
    free_fields(fl.fields, fl.n);
    free(scratch);
    bs_csv_free(out);
    return -1;
}

int bs_csv_read(const char *path, bs_csv *out) {
    unsigned char *buf;
    size_t len;
    memset(out, 0, sizeof *out);
    if (bs_read_file(path, BS_CSV_MAX_BYTES, &buf, &len)) return -1;
    int rc = bs_csv_parse((const char *)buf, len, path, out);
    free(buf);
    return rc;
}

int bs_csv_column(const bs_csv *csv, const char *name) {
    for (size_t c = 0; c < csv->ncols; c++)
        if (strcmp(csv->header[c], name) == 0) return (int)c;
    return -1;
}

void bs_csv_put_field(FILE *fp, const char *field) {
    if (!strpbrk(field, ",\"\r\n")) {
        fputs(field, fp);
        return;
    }
    fputc('"', fp);
    for (const char *s = field; *s; s++) {
        if (*s == '"') fputc('"', fp);
        fputc(*s, fp);
    }
    fputc('"', fp);
}

void bs_csv_put_row(FILE *fp, const char *const *fields, size_t n) {
    for (size_t i = 0; i < n; i++) {
        if (i) fputc(',', fp);
        bs_csv_put_field(fp, fields[i]);
    }
    fputc('\n', fp);
}
