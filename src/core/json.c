/* json.c — see json.h. */
#include "json.h"

#include <assert.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>

static void put_string(FILE *fp, const char *s) {
    fputc('"', fp);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        switch (*p) {
            case '"': fputs("\\\"", fp); break;
            case '\\': fputs("\\\\", fp); break;
            case '\n': fputs("\\n", fp); break;
            case '\r': fputs("\\r", fp); break;
            case '\t': fputs("\\t", fp); break;
            default:
                if (*p < 0x20) {
                    char u[8];
                    snprintf(u, sizeof u, "\\u%04x", *p);
                    fputs(u, fp);
                } else
                    fputc(*p, fp);
        }
    }
    fputc('"', fp);
}

/* The shortest form that reads back to v; non-finite values print as null. */
static void put_number(FILE *fp, double v) {
    if (!isfinite(v)) {
        fputs("null", fp);
        return;
    }
    char buf[40];
    for (int prec = 6; prec <= 17; prec++) {
        snprintf(buf, sizeof buf, "%.*g", prec, v);
        if (strtod(buf, NULL) == v) break;
    }
    fputs(buf, fp);
}

/* ---------------- the writer ---------------- */

void bs_json_writer_init(bs_json_writer *w, FILE *fp) { *w = (bs_json_writer){.fp = fp}; }

static void newline(FILE *fp, int lines) {
    fputc('\n', fp);
    for (int i = 0; i < lines; i++) fputs("  ", fp);
}

/* Everything before a value: the comma and break its container wants, then the key. */
static void before_value(bs_json_writer *w, const char *key) {
    if (w->depth == 0) {
        assert(!key); /* the top-level value has no name */
        return;
    }
    bs_json_container *c = &w->open[w->depth - 1];
    assert(c->object ? key != NULL : key == NULL);
    if (c->any) fputc(',', w->fp);
    if (c->layout == BS_JSON_LINES)
        newline(w->fp, c->lines);
    else if (c->any && c->layout == BS_JSON_INLINE)
        fputc(' ', w->fp);
    c->any = 1;
    if (!key) return;
    put_string(w->fp, key);
    fputs(c->layout == BS_JSON_COMPACT ? ":" : ": ", w->fp);
}

static void begin(bs_json_writer *w, const char *key, bs_json_layout layout, int object) {
    before_value(w, key);
    fputc(object ? '{' : '[', w->fp);
    /* The nesting is fixed by the code that writes, never by the data: a program error. */
    assert(w->depth < BS_JSON_MAX_DEPTH);
    if (w->depth == BS_JSON_MAX_DEPTH) return;
    int outer = w->depth ? w->open[w->depth - 1].lines : 0;
    w->open[w->depth++] =
        (bs_json_container){(unsigned char)layout, (unsigned char)object,
                            (unsigned char)(outer + (layout == BS_JSON_LINES)), 0};
}

void bs_json_begin_object(bs_json_writer *w, const char *key, bs_json_layout layout) {
    begin(w, key, layout, 1);
}

void bs_json_begin_array(bs_json_writer *w, const char *key, bs_json_layout layout) {
    begin(w, key, layout, 0);
}

void bs_json_end(bs_json_writer *w) {
    assert(w->depth > 0);
    if (w->depth == 0) return;
    const bs_json_container *c = &w->open[--w->depth];
    if (c->layout == BS_JSON_LINES && c->any) newline(w->fp, c->lines - 1);
    fputc(c->object ? '}' : ']', w->fp);
}

void bs_json_finish(bs_json_writer *w) {
    assert(w->depth == 0);
    fputc('\n', w->fp);
    bs_json_writer_init(w, w->fp);
}

void bs_json_put_string(bs_json_writer *w, const char *key, const char *s) {
    before_value(w, key);
    put_string(w->fp, s);
}

void bs_json_put_number(bs_json_writer *w, const char *key, double v) {
    before_value(w, key);
    put_number(w->fp, v);
}

void bs_json_put_int(bs_json_writer *w, const char *key, int64_t v) {
    char text[24];
    snprintf(text, sizeof text, "%" PRId64, v);
    before_value(w, key);
    fputs(text, w->fp);
}

void bs_json_put_uint(bs_json_writer *w, const char *key, uint64_t v) {
    char text[24];
    snprintf(text, sizeof text, "%" PRIu64, v);
    before_value(w, key);
    fputs(text, w->fp);
}

void bs_json_put_bool(bs_json_writer *w, const char *key, int v) {
    before_value(w, key);
    fputs(v ? "true" : "false", w->fp);
}

void bs_json_put_null(bs_json_writer *w, const char *key) {
    before_value(w, key);
    fputs("null", w->fp);
}
