/* html_internal.h — the sections of report.html that html.c (the page, Table 1, figures,
 * group warnings) calls: gallery.c (misclassified images, near-duplicate pairs), audit.c
 * (calibration and shortcut audit from results.json) and breakdown.c (per-source and
 * per-group results from results.json). Private to the report stage.
 * Not for: the helpers the page and the sections share (html_util.h). */
#ifndef BS_REPORT_HTML_INTERNAL_H
#define BS_REPORT_HTML_INTERNAL_H

#include <stdio.h>

#include "html.h"
#include "thumbs.h"

/* <section>s of the page body. */
int bs_html_gallery(FILE *fp, const bs_html_input *in, bs_thumbs *thumbs);
int bs_html_near_duplicates(FILE *fp, const bs_html_input *in, bs_thumbs *thumbs);
int bs_html_audit(FILE *fp, const bs_html_input *in);
/* Per-source and per-group results; nothing when results.json holds neither. */
int bs_html_breakdown(FILE *fp, const bs_html_input *in);
/* travel.c: the leave-one-source-out tables and stain-shortcut tests (--protocol source). */
int bs_html_travel(FILE *fp, const bs_html_input *in);

#endif
