/* report_util.h — helpers shared by the report stage's files (report.c, evidence.c, html.c),
 * defined in report_util.c, which calls nothing else of the report, so those files never call
 * each other in a circle. Private to src/report. Not for: anything outside it. */
#ifndef BS_REPORT_UTIL_H
#define BS_REPORT_UTIL_H

#include <stddef.h>
#include <stdio.h>

#include "study/study.h"

/* Writes one output file's contents to fp from two inputs; 0 or -1 with a bs_error. */
typedef int (*bs_report_writer)(FILE *fp, const void *a, const void *b);

/* dir/name written atomically (temp + rename) through fn(fp, a, b). */
int bs_report_write_file(const char *dir, const char *name, bs_report_writer fn, const void *a,
                         const void *b);

/* "N of M test rows (P %)": the paper protocol's test rows that had a mirror of the same image
 * in the training folds, as report.md and report.html both state it. */
void bs_report_leak_phrase(char *buf, size_t size, const bs_study *paper);

/* A number in a Markdown table through printf format fmt, or an em dash when it is not finite. */
void bs_report_md_number(FILE *fp, double v, const char *fmt);

#endif
