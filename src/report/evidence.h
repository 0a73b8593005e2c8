/* evidence.h — private to src/report: the parts of a study's report that judge its numbers
 * rather than state them — calibration and abstention (reliability diagram, accuracy–coverage
 * curve), the shortcut audit, per-source and per-group results — as results.json members, SVG
 * figures and Markdown sections. Not for: anything outside src/report. */
#ifndef BS_REPORT_EVIDENCE_H
#define BS_REPORT_EVIDENCE_H

#include <stdio.h>

#include "core/json.h"
#include "features/featdir.h"
#include "study/study.h"

/* results.json: the experiment's "calibration" member, into its open object. */
void bs_report_json_calibration(bs_json_writer *w, const bs_experiment *x);
/* results.json: the top-level "shortcuts", "sources" and "per_group" members (the latter two
 * only when present), into the open top-level object. */
void bs_report_json_evidence(bs_json_writer *w, const bs_study *s);

/* figures/reliability.svg and figures/coverage.svg (binary task with probabilities), and
 * evidence.md, into outdir. */
int bs_report_write_evidence(const bs_study *s, const bs_feature_index *idx, const char *outdir);

/* The Markdown sections (level-2 headings naming the protocol); figures are linked under
 * fig_prefix (e.g. "grouped/figures/"). */
void bs_report_evidence_md(FILE *fp, const bs_study *s, const char *fig_prefix);

/* travel.c, --protocol source: results.json's "travel" member (the per-source tables of every
 * experiment, its adaptations and the stain-shortcut tests), and its Markdown section. */
void bs_report_json_travel(bs_json_writer *w, const bs_study *s);
void bs_report_travel_md(FILE *fp, const bs_study *s);

#endif
