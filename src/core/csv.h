/* csv.h — RFC 4180 CSV tables (quoted fields, "" escapes, CRLF or LF).
 * Used for index.csv, manifests and every CSV report. Parsing is bounded and
 * untrusted-safe; writing quotes a field only when it needs it. */
#ifndef BS_CORE_CSV_H
#define BS_CORE_CSV_H

#include <stddef.h>
#include <stdio.h>

typedef struct bs_csv {
    size_t nrows; /* rows after the header */
    size_t ncols; /* columns of the header; every row has exactly this many */
    char **header;
    char ***rows; /* rows[r][c], NUL-terminated */
} bs_csv;

/* Parse text (len bytes). Every row must have the header's column count. */
int bs_csv_parse(const char *text, size_t len, const char *name, bs_csv *out);
int bs_csv_read(const char *path, bs_csv *out);
/* Column index of a header name, or -1. */
int bs_csv_column(const bs_csv *csv, const char *name);
void bs_csv_free(bs_csv *csv);

/* Write one field, quoted when it holds a comma, quote, CR or LF. */
void bs_csv_put_field(FILE *fp, const char *field);
/* Write a row of n fields and a newline. */
void bs_csv_put_row(FILE *fp, const char *const *fields, size_t n);

#endif
