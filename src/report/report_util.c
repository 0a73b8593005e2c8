/* report_util.c — a report file written atomically through a writer, the paper protocol's leak
 * in words, and a number in a Markdown table (see report_util.h). A leaf of the report stage: it
 * calls only core. */
#include "report_util.h"

#include <math.h>
#include <stdlib.h>

#include "core/io.h"

int bs_report_write_file(const char *dir, const char *name, bs_report_writer fn, const void *a,
                         const void *b) {
    char *path = bs_path_join(dir, name);
    if (!path) return -1;
    bs_atomic_file af;
    int rc = bs_atomic_open(&af, path);
    if (rc == 0) {
        rc = fn(af.fp, a, b);
        if (rc == 0)
            rc = bs_atomic_commit(&af);
        else
            bs_atomic_abort(&af);
    }
    free(path);
    return rc;
}

void bs_report_leak_phrase(char *buf, size_t size, const bs_study *paper) {
    snprintf(buf, size, "%lld of %zu test rows (%.1f %%)", (long long)paper->leaked_test_rows,
             paper->n, paper->n ? 100.0 * (double)paper->leaked_test_rows / (double)paper->n : 0.0);
}

void bs_report_md_number(FILE *fp, double v, const char *fmt) {
    if (isfinite(v))
        bs_putf(fp, fmt, v);
    else
        fputs("—", fp);
}
