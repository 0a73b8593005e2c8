/* html.h — report.html: one self-contained page (inline SVG figures, JPEG thumbnails as data
 * URIs, no script, font or anything else fetched) that puts a study's evidence in front of
 * the reader: both protocols side by side with Table 1 and the paper protocol's leak, the
 * figures, every misclassified test image per experiment and protocol grouped by confidence,
 * the near-duplicate pairs that were joined, groups that look wrong, and the calibration and
 * shortcut audit numbers when results.json holds them. Written plainly from C (docs/report.md).
 * Not for: computing results (study.h) or the other report files (report.h). */
#ifndef BS_REPORT_HTML_H
#define BS_REPORT_HTML_H

#include <stddef.h>

#include "features/featdir.h"
#include "report.h"
#include "study/study.h"

/* An occlusion map of one misclassified image (pipeline/explain.h), shown beside its
 * thumbnail in the gallery of (protocol, experiment). */
typedef struct bs_html_map {
    bs_protocol protocol;
    const char *experiment;
    const char *path;          /* the image, as in index.csv */
    const unsigned char *jpeg; /* the overlay as a small JPEG */
    size_t len;
    double base; /* decision of the model the map explains */
} bs_html_map;

typedef struct bs_html_input {
    const bs_study *study[BS_PROTOCOLS]; /* by bs_protocol; NULL: that protocol did not run */
    const char *study_dir[BS_PROTOCOLS]; /* its folder: results.json, predictions.csv, figures/ */
    const bs_feature_index *idx;         /* the feature folder's index (paths, groups, views) */
    const char *featdir;                 /* for near_duplicates.csv; NULL: none */
    const bs_report_context *ctx;        /* the run (reproduce); NULL: not shown */
    const bs_html_map *maps;             /* occlusion maps; may be NULL */
    size_t nmaps;
    const char *maps_note; /* what the maps cover, in words; NULL: no maps section note */
} bs_html_input;

/* outdir/report.html, atomically. */
int bs_report_write_html(const bs_html_input *in, const char *outdir);

#endif
