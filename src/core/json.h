/* json.h — writing JSON: a streaming writer that places the commas, the keys and the line
 * breaks, so that no report spells them by hand.
 *
 * The writer keeps only a stack of open containers (no document in memory), so a 5000-cell
 * field writes in constant space. Each container chooses its layout when it opens:
 *
 *   BS_JSON_COMPACT  {"a":1,"b":[1,2]}        no spaces (the metric objects of results.json)
 *   BS_JSON_INLINE   {"a": 1, "b": [1, 2]}    one line, ", " and ": "
 *   BS_JSON_LINES    {\n  "a": 1,\n  "b": 2\n}  a member a line, indented two spaces for each
 *                    LINES container open around it (INLINE and COMPACT ones add none); an
 *                    empty LINES container is [] or {}
 *
 * Every call that writes a value takes `key`: the member's name inside an object, NULL inside
 * an array and for the top-level value. Numbers are the shortest text that reads back to the
 * same double (%.6g up to %.17g, the first that reads back equal); NaN and ±Infinity, which
 * JSON has no word for, print as null. Integers print exactly (int64, uint64). Strings are
 * escaped: quote, backslash and control characters; other bytes (UTF-8) pass through.
 * To write into memory, hand the writer a FILE * from open_memstream.
 * Not for: reading JSON (jansson's json_load*), or formats that are not JSON. */
#ifndef BS_CORE_JSON_H
#define BS_CORE_JSON_H

#include <stdint.h>
#include <stdio.h>

typedef enum bs_json_layout { BS_JSON_COMPACT, BS_JSON_INLINE, BS_JSON_LINES } bs_json_layout;

enum { BS_JSON_MAX_DEPTH = 16 };

typedef struct bs_json_container {
    unsigned char layout; /* bs_json_layout */
    unsigned char object; /* 1 object, 0 array */
    unsigned char lines;  /* LINES containers open, this one included: its indent / 2 */
    unsigned char any;    /* it holds a value already: the next one needs a comma */
} bs_json_container;

typedef struct bs_json_writer {
    FILE *fp;
    int depth; /* open containers, innermost at open[depth - 1] */
    bs_json_container open[BS_JSON_MAX_DEPTH];
} bs_json_writer;

void bs_json_writer_init(bs_json_writer *w, FILE *fp);
/* Open an object or array as the value of `key`; bs_json_end closes the innermost. */
void bs_json_begin_object(bs_json_writer *w, const char *key, bs_json_layout layout);
void bs_json_begin_array(bs_json_writer *w, const char *key, bs_json_layout layout);
void bs_json_end(bs_json_writer *w);
/* End the document: every container closed; writes the newline that ends a JSON file or a
 * JSON Lines record, and readies w for the next top-level value. */
void bs_json_finish(bs_json_writer *w);

void bs_json_put_string(bs_json_writer *w, const char *key, const char *s);
void bs_json_put_number(bs_json_writer *w, const char *key, double v);
void bs_json_put_int(bs_json_writer *w, const char *key, int64_t v);
void bs_json_put_uint(bs_json_writer *w, const char *key, uint64_t v);
void bs_json_put_bool(bs_json_writer *w, const char *key, int v);
void bs_json_put_null(bs_json_writer *w, const char *key);

#endif
