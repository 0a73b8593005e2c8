/* svg.c — minimal SVG writing (see svg.h). */
#include "svg.h"

#include "core/io.h"

static void escaped(FILE *fp, const char *s) {
    for (; *s; s++) {
        switch (*s) {
            case '<': fputs("&lt;", fp); break;
            case '>': fputs("&gt;", fp); break;
            case '&': fputs("&amp;", fp); break;
            case '"': fputs("&quot;", fp); break;
            default: fputc(*s, fp);
        }
    }
}

void bs_svg_begin(FILE *fp, int width, int height, const char *title) {
    bs_putf(fp,
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d "
            "%d\" "
            "font-family=\"Helvetica, Arial, sans-serif\">\n<title>",
            width, height, width, height);
    escaped(fp, title);
    bs_putf(fp, "</title>\n<rect x=\"0\" y=\"0\" width=\"%d\" height=\"%d\" fill=\"white\"/>\n",
            width, height);
}

void bs_svg_end(FILE *fp) { fputs("</svg>\n", fp); }

void bs_svg_rect(FILE *fp, double x, double y, double w, double h, const char *fill,
                 const char *tooltip) {
    bs_putf(fp, "<rect x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\" fill=\"%s\"", x, y, w,
            h, fill);
    if (tooltip) {
        fputs("><title>", fp);
        escaped(fp, tooltip);
        fputs("</title></rect>\n", fp);
    } else {
        fputs("/>\n", fp);
    }
}

void bs_svg_line(FILE *fp, double x1, double y1, double x2, double y2, const char *stroke,
                 double width, int dashed) {
    bs_putf(fp,
            "<line x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\" stroke=\"%s\" "
            "stroke-width=\"%.2f\"%s/>\n",
            x1, y1, x2, y2, stroke, width, dashed ? " stroke-dasharray=\"4 3\"" : "");
}

void bs_svg_text(FILE *fp, double x, double y, const char *anchor, int size, const char *fill,
                 const char *text) {
    bs_putf(fp, "<text x=\"%.2f\" y=\"%.2f\" text-anchor=\"%s\" font-size=\"%d\" fill=\"%s\">", x,
            y, anchor, size, fill);
    escaped(fp, text);
    fputs("</text>\n", fp);
}

void bs_svg_polyline_begin(FILE *fp, const char *stroke, double width) {
    bs_putf(fp, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"%.2f\" points=\"", stroke,
            width);
}

void bs_svg_polyline_point(FILE *fp, double x, double y) { bs_putf(fp, "%.2f,%.2f ", x, y); }

void bs_svg_polyline_end(FILE *fp) { fputs("\"/>\n", fp); }

const char *bs_svg_palette(int i) {
    /* Okabe-Ito */
    static const char *const colours[] = {"#0072B2", "#E69F00", "#009E73", "#D55E00",
                                          "#CC79A7", "#56B4E9", "#F0E442", "#000000"};
    return colours[(i % 8 + 8) % 8];
}
