/* review.h — the review page of field mode (`blastscan cells --review OUT.html`): one
 * self-contained HTML file (no network, no server) in which a person looks at every detected
 * cell, the cells that most need a look first, and reclassifies each with one key; the page
 * counts the field's and the batch's blasts live and exports the corrections (a boxes CSV that
 * `cells --crops --boxes` cuts into training crops) and the counts before and after review.
 *
 * The page is written while the fields are analysed, a field at a time: each field's data (a
 * downscaled JPEG of the field, every cell's box, the model's call and the cell's crop as
 * bs_field_crops makes it, i.e. what the network sees, as a small JPEG) goes into the file as
 * one JSON block, so memory does not grow with the batch. The page's script and style are
 * compiled in from src/report/review_page.{html,css,js}. The file is written atomically: an
 * aborted run leaves nothing behind. docs/review.md says how the page is used.
 * Not for: analysing a field (field.h) or the study's report (html.h). */
#ifndef BS_REPORT_REVIEW_H
#define BS_REPORT_REVIEW_H

#include "field/field.h"
#include "image/image.h"
#include "pipeline/pipeline.h"

#define BS_REVIEW_THUMB 80  /* longest side of a cell's thumbnail, pixels */
#define BS_REVIEW_FIELD 512 /* longest side of the field's picture, pixels */

/* What the page states about the run. */
typedef struct bs_review_setup {
    const bs_pipeline *model; /* NULL: detection only (every cell unreviewed, no suggestion) */
    const char *model_path;   /* shown on the page; may be NULL */
    bs_field_rule rule;       /* the call's rule, applied again live after review */
    int normalise;            /* crops cut from the normalised field (as the model sees them) */
} bs_review_setup;

typedef struct bs_review bs_review;

/* Start OUT.html: a temporary file beside it (so an unwritable place fails here, before any
 * field is analysed) holding the page's head. */
int bs_review_open(const char *html_path, const bs_review_setup *setup, bs_review **out);

/* One field: img as decoded, path as given on the command line (the page and its exports
 * name the field by this path made absolute), and its analysis (cells; results and calls when
 * the setup has a model). */
int bs_review_add_field(bs_review *r, const char *path, const bs_image *img,
                        const bs_field_analysis *a);

/* Finish the page and rename it into place; frees r (also on failure, after which nothing is
 * left behind). */
int bs_review_commit(bs_review *r);
/* Drop the page (the temporary file is removed); frees r. NULL is fine. */
void bs_review_abort(bs_review *r);

#endif
