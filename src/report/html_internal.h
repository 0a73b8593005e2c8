/* html_internal.h — the pieces of report.html, shared by html.c (the page, Table 1, figures,
 * group warnings), gallery.c (misclassified images, near-duplicate pairs), audit.c
 * (calibration and shortcut audit from results.json) and breakdown.c (per-source and
 * per-group results from results.json). Private to the report stage. */
#ifndef BS_REPORT_HTML_INTERNAL_H
#define BS_REPORT_HTML_INTERNAL_H

#include <stdio.h>

#include "html.h"
#include "thumbs.h"

/* Text with & < > " escaped. */
void bs_html_text(FILE *fp, const char *s);
/* The last path component of a path (a pointer into it). */
const char *bs_html_basename(const char *path);

/* <section>s of the page body. */
int bs_html_gallery(FILE *fp, const bs_html_input *in, bs_thumbs *thumbs);
int bs_html_near_duplicates(FILE *fp, const bs_html_input *in, bs_thumbs *thumbs);
int bs_html_audit(FILE *fp, const bs_html_input *in);
/* Per-source and per-group results; nothing when results.json holds neither. */
int bs_html_breakdown(FILE *fp, const bs_html_input *in);

/* dir/results.json parsed (jansson); NULL when absent or unreadable. */
struct json_t *bs_html_load_results(const char *dir);

#endif
