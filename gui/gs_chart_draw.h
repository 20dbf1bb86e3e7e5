/* gs_chart_draw.h — render chart models (gs_chart_model.h) with cairo + Pango.
 *
 * No GTK and no display: the same code paints the widgets (inside
 * gtk_snapshot_append_cairo), exports figures to PNG/SVG/PDF files, and runs in the
 * benchmarks and unit tests on a cairo image surface.  Coordinates are in the
 * cairo user space of the caller (device pixels on screen, points in SVG/PDF).
 */
#ifndef GS_CHART_DRAW_H
#define GS_CHART_DRAW_H

#include <cairo.h>

#include "gs_chart_model.h"

typedef struct gs_draw_opts {
    int                 vector;       /* 1: heat-map cells as rectangles (SVG/PDF), else one
                                         nearest-neighbour scaled image (fast on screen) */
    const gs_chart_hit *hover;        /* draw this hover read-out (NULL: none) */
    long                hover_panel;  /* the panel the hover belongs to (figures) */
} gs_draw_opts;

/* Paint chart c into the rectangle (0, 0, width, height) of cr (background included).
 * opts may be NULL. */
void gs_chart_draw(cairo_t *cr, const gs_chart *c, double width, double height,
                   const gs_draw_opts *opts);

/* Paint every panel of figure f on its grid (gs_figure_panel_rect), with the title. */
void gs_figure_draw(cairo_t *cr, const gs_figure *f, double width, double height,
                    const gs_draw_opts *opts);

/* Write f at width × height (pixels for PNG, points for SVG/PDF) to path; the format
 * is the extension: .png, .svg or .pdf.  Returns 0, or -1 with a one-line message
 * ("OUT.xyz: unknown format (use .png, .svg or .pdf)", cairo's error) in err. */
int gs_figure_export(const gs_figure *f, const char *path, double width, double height,
                     char *err, size_t errsz);

/* Like gs_figure_export, for any painter: paint(cr, width, height, data) draws the page. */
typedef void (*gs_paint_fn)(cairo_t *cr, double width, double height, void *data);
int gs_export_painter(gs_paint_fn paint, void *data, const char *path, double width,
                      double height, char *err, size_t errsz);

#endif
