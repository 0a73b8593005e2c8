/* report.h — writing a study's results: results.json, predictions.csv, table1.md/.csv, SVG
 * figures (metric bars like the paper's Figs 7-9, confusion matrices, ROC curves), and the
 * side-by-side report.md of `reproduce`. Every file is written atomically.
 * Not for: computing anything but presentation. */
#ifndef BS_REPORT_H
#define BS_REPORT_H

#include "features/featdir.h"
#include "study/study.h"

/* Everything for one study into outdir (created if needed). */
int bs_report_write(const bs_study *s, const bs_feature_index *idx, const char *outdir);

typedef struct bs_report_context {
    const char *data;      /* what was studied, e.g. the dataset folders */
    const char *backbones; /* e.g. "googlenet-bvlc, inception-v3-nsfwjs" */
    const char *augment;   /* none | flip */
    double extract_seconds;
    double total_seconds;
    const char *version;
} bs_report_context;

/* report.md comparing the protocols that ran (either may be NULL), with what the paper
 * protocol leaks; subfolders paper/ and grouped/ hold each study's files. */
int bs_report_write_summary(const bs_study *paper, const bs_study *grouped,
                            const bs_report_context *ctx, const char *outdir);

#endif
