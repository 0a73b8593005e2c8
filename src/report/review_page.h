/* review_page.h — the review page's template, script and style (src/report/review_page.html,
 * review_page.js, review_page.css), compiled in as NUL-terminated bytes by embed.cmake at build
 * time, so the files stay readable in the repository and the binary needs nothing beside it.
 * Private to src/report. Not for: anything but review.c. */
#ifndef BS_REPORT_REVIEW_PAGE_H
#define BS_REPORT_REVIEW_PAGE_H

/* The frame: the page's markup with the markers @CSS@, @DATA@ and @JS@ where review.c puts the
 * style, the data blocks and the script. */
extern const unsigned char bs_review_page_html[];
extern const unsigned char bs_review_page_css[];
extern const unsigned char bs_review_page_js[];

#endif
