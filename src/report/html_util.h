/* html_util.h — the small helpers every part of report.html uses: HTML escaping, a path's
 * last component, and a protocol's results.json read back. Defined in html_util.c, which calls
 * nothing else of the report, so the page (html.c) and its sections (gallery.c, audit.c,
 * breakdown.c) both sit above it and never call each other in a circle.
 * Private to src/report. Not for: the sections themselves (html_internal.h). */
#ifndef BS_REPORT_HTML_UTIL_H
#define BS_REPORT_HTML_UTIL_H

#include <stdio.h>

/* Text with & < > " escaped. */
void bs_html_text(FILE *fp, const char *s);
/* The last path component of a path (a pointer into it). */
const char *bs_html_basename(const char *path);

/* dir/results.json parsed (jansson); NULL when absent or unreadable. */
struct json_t *bs_html_load_results(const char *dir);

#endif
