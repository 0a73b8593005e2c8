/* html_internal.h — the pieces of report.html, shared by html.c (the page, Table 1, figures,
 * group warnings), gallery.c (misclassified images, near-duplicate pairs) and audit.c
 * (calibration and shortcut audit from results.json). Private to the report stage. */
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

#endif
