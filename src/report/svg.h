/* svg.h — the few SVG primitives the report figures need (no plotting library).
 * Private to src/report: the stage's door is report.h. */
#ifndef BS_REPORT_SVG_H
#define BS_REPORT_SVG_H

#include <stdio.h>

void bs_svg_begin(FILE *fp, int width, int height, const char *title);
void bs_svg_end(FILE *fp);
void bs_svg_rect(FILE *fp, double x, double y, double w, double h, const char *fill,
                 const char *tooltip);
void bs_svg_line(FILE *fp, double x1, double y1, double x2, double y2, const char *stroke,
                 double width, int dashed);
/* anchor: "start", "middle" or "end"; text is XML-escaped. */
void bs_svg_text(FILE *fp, double x, double y, const char *anchor, int size, const char *fill,
                 const char *text);
void bs_svg_polyline_begin(FILE *fp, const char *stroke, double width);
void bs_svg_polyline_point(FILE *fp, double x, double y);
void bs_svg_polyline_end(FILE *fp);
/* A colour from a fixed, colour-blind-friendly palette. */
const char *bs_svg_palette(int i);

#endif
