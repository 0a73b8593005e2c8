/* mil.h — private to src/report: what mi-SVM did in a study's folds (study.h mil_rounds), as
 * results.json's "mil" member, a Markdown section, and a section of report.html that shows a
 * sample of the images kept positive and of those relabelled negative, so a person can judge
 * the relabelling. Each writes nothing for a study without mi-SVM.
 * Not for: anything outside src/report. */
#ifndef BS_REPORT_MIL_H
#define BS_REPORT_MIL_H

#include <stdio.h>

#include "core/json.h"
#include "html.h"
#include "study/study.h"
#include "thumbs.h"

#define BS_REPORT_MIL_SAMPLE 8 /* images shown of each kind, per experiment */

/* The top-level "mil" member, into the open top-level object. */
void bs_report_json_mil(bs_json_writer *w, const bs_study *s);
/* The Markdown section (a level-2 heading naming the protocol). */
void bs_report_mil_md(FILE *fp, const bs_study *s);
/* report.html's <section id="mil">, with thumbnails of both kinds per experiment. */
int bs_html_mil(FILE *fp, const bs_html_input *in, bs_thumbs *thumbs);

#endif
