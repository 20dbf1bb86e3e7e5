/* gs_chart_model.h — what a chart shows, independent of any toolkit or display.
 *
 * Plain C11 (no GLib, no GTK, no cairo): the GUI builds a gs_figure (one or more
 * gs_chart panels) from run data, gs_chart_draw.h renders it with cairo, and the
 * unit tests check ranges, log axes, ticks, smoothing, layout and hover hit-testing
 * here without a display.
 *
 * Three chart kinds share one struct:
 *   GS_CHART_LINES    x/y polylines (log or linear axes), legend, optional shaded band.
 *   GS_CHART_HEATMAP  rows × cols cells coloured by z (viridis) with a colour bar;
 *                     row 0 is drawn at the top, col_x[] are the column coordinates.
 *   GS_CHART_RIDGES   ridgelines: every line belongs to a ridge row (line.row), its y
 *                     values are data (e.g. fractions); ymax (autorange: the largest y)
 *                     rises 1.6 row spacings.  Row 0 is at the top, later rows overlap
 *                     the ones above.
 *   GS_CHART_EMPTY    nothing but the chart's empty_text, centred.
 *
 * Ownership.  A chart owns every string and array in it; gs_chart_free() releases it.
 * Setters copy what they are given.  A figure owns its panels.
 */
#ifndef GS_CHART_MODEL_H
#define GS_CHART_MODEL_H

#include <stddef.h>

/* ---- colours ------------------------------------------------------------------------ */

typedef struct gs_rgb { double r, g, b; } gs_rgb;

/* Okabe–Ito colour-blind-safe palette, in the order runs get them (blue, vermillion,
 * bluish green, orange, reddish purple, sky blue, yellow, black), cycling after 8. */
gs_rgb gs_palette_run(size_t i);
/* "#0072B2" style hex of a colour into buf (8 bytes at least). Returns buf. */
char *gs_rgb_hex(gs_rgb c, char *buf, size_t bufsz);
/* Viridis at t in [0, 1] (clamped; NaN gives mid grey). */
gs_rgb gs_viridis(double t);

/* ---- scales and ticks ------------------------------------------------------------- */

/* A 1-D mapping from data [dlo, dhi] to pixels [plo, phi] (phi < plo for a y axis),
 * linear or log10.  A log scale needs 0 < dlo < dhi. */
typedef struct gs_scale {
    double dlo, dhi;
    double plo, phi;
    int    log;
} gs_scale;

/* Data → pixel; NaN for a non-finite v, or v <= 0 on a log scale. */
double gs_scale_map(const gs_scale *s, double v);
/* Pixel → data (inverse of gs_scale_map). */
double gs_scale_unmap(const gs_scale *s, double p);

/* The finite range of v[0..n) — only v > 0 when log — into *lo, *hi.  Returns the number
 * of values that counted; with none, *lo = *hi = NaN. */
size_t gs_range_of(const double *v, size_t n, int log, double *lo, double *hi);

/* Widen [*lo, *hi] into a range fit for an axis: an empty or degenerate range becomes
 * a small one around the value (or [0, 1] / [0.1, 10] when NaN), a linear range gets
 * pad × width of margin on each side, a log range pad of a decade.  Log ranges stay > 0. */
void gs_range_pad(double *lo, double *hi, int log, double pad);

/* Tick positions for [lo, hi]: "nice" 1/2/5 × 10^k steps on a linear axis, decades
 * (or 1-2-5 within decades when the range is under two decades, or every k-th decade
 * when over max_ticks) on a log axis.  Writes at most cap ticks, ascending, inside
 * [lo, hi]; returns their number. */
size_t gs_ticks(double lo, double hi, int log, size_t max_ticks, double *out, size_t cap);

/* Short label of a tick value: "0", "0.25", "1200", "1e-06", "10k" are typical.
 * step is the tick spacing (for linear axes, to choose the decimals; 0 for log). */
char *gs_format_tick(double v, double step, int log, char *buf, size_t bufsz);
/* A value for read-outs: %.4g with a few cleanups. */
char *gs_format_value(double v, char *buf, size_t bufsz);

/* ---- series helpers ------------------------------------------------------------- */

/* Exponential moving average with TensorBoard-style debiasing, out[i] the smoothed
 * y[i]; weight in [0, 1) (0 = none).  NaN inputs give NaN outputs and do not update
 * the average.  out may equal y. */
void gs_ema(const double *y, size_t n, double weight, double *out);

/* ---- charts ------------------------------------------------------------------------ */

typedef enum gs_chart_kind {
    GS_CHART_EMPTY = 0,
    GS_CHART_LINES,
    GS_CHART_HEATMAP,
    GS_CHART_RIDGES,
} gs_chart_kind;

typedef enum gs_dash {
    GS_DASH_SOLID = 0,
    GS_DASH_DASHED,
    GS_DASH_DOTTED,
} gs_dash;

typedef struct gs_chart_line {
    char   *label;     /* legend entry and hover name; NULL: not in the legend */
    gs_rgb  color;
    double  alpha;     /* 0..1 */
    double  width;     /* stroke width in px */
    gs_dash dash;
    int     markers;   /* 1: draw a dot at every point */
    int     fill;      /* RIDGES: fill under the ridge */
    int     hover;     /* 0: ignored by hit-testing (faint raw curves under smoothed ones) */
    int     row;       /* RIDGES: ridge row */
    size_t  n;
    double *x, *y;     /* owned; x ascending */
} gs_chart_line;

typedef struct gs_chart {
    gs_chart_kind kind;
    char  *title;        /* drawn above the plot */
    char  *xlabel, *ylabel, *zlabel;   /* axis titles with units; zlabel = colour bar */
    char  *empty_text;   /* EMPTY, or a chart without data */
    char  *note;         /* small text under the title (e.g. "zeros 3.1 %"), or NULL */
    int    xlog, ylog, zlog;
    double xmin, xmax, ymin, ymax, zmin, zmax;   /* set by gs_chart_autorange or by hand */
    double xscale_hover; /* hover read-out of x is x × this (1 unless set) */
    double zx0, zx1;     /* x zoom: the visible part of the x extent (gs_chart_x_extent),
                            NaN = all of it; see "zoom and pan" below */
    char  *xhover_name;  /* name of x in read-outs ("epoch", "step"); NULL = xlabel */

    gs_chart_line *lines;
    size_t nlines, lines_cap;

    /* HEATMAP: z [rows × cols] row-major; RIDGES: rows only */
    size_t  rows, cols;
    double *z;
    char  **row_labels;  /* [rows], owned */
    double *col_x;       /* [cols] HEATMAP column coordinates (e.g. epoch numbers) */
    char  *row_name;     /* "block" — read-outs */
    char  *col_name;     /* "epoch" — read-outs */
    char  *z_name;       /* "overlap" — read-outs */

    /* decorations */
    long   sel_row, sel_col;  /* HEATMAP: outlined cell; RIDGES: highlighted row; -1 none */
    double band_lo, band_hi;  /* LINES: shaded x band (current epoch); NaN = none */
    int    legend;            /* legend of labelled lines: 0 none, 1 top-right (default),
                                 2 bottom-right, 3 top-left, 4 bottom-left */
} gs_chart;

/* A new chart of a kind (all ranges NaN, selections -1, no band).  NULL if out of memory. */
gs_chart *gs_chart_new(gs_chart_kind kind);
void gs_chart_free(gs_chart *c);

/* Replace a string field (title, xlabel, …) with a copy of s (NULL clears). */
void gs_chart_set_text(char **field, const char *s);

/* Append a line with a copy of x/y[0..n).  Returns the line (owned by the chart, valid
 * until the next add) or NULL when out of memory.  Defaults: alpha 1, width 1.5, solid,
 * no markers, hover on, row 0. */
gs_chart_line *gs_chart_add_line(gs_chart *c, const char *label, gs_rgb color,
                                 const double *x, const double *y, size_t n);

/* HEATMAP: set the grid (copies z [rows × cols], labels [rows], col_x [cols]).  0 / -1. */
int gs_chart_set_grid(gs_chart *c, size_t rows, size_t cols, const double *z,
                      const char *const *row_labels, const double *col_x);
/* RIDGES: set the row labels (copies).  0 / -1. */
int gs_chart_set_rows(gs_chart *c, size_t rows, const char *const *row_labels);

/* Set xmin/xmax/ymin/ymax (LINES; RIDGES: x only) or zmin/zmax (HEATMAP) from the data,
 * padded for display.  Leaves a range alone where the caller already set a finite one. */
void gs_chart_autorange(gs_chart *c);

/* 1 when the chart has something to draw. */
int gs_chart_has_data(const gs_chart *c);

/* ---- zoom and pan (x axis) ---------------------------------------------------------- *
 *
 * A chart shows the window [zx0, zx1] of its x extent (both NaN: all of it).  The
 * extent is [xmin, xmax] for LINES and RIDGES (set by autorange or by hand) and
 * [0, cols] for a HEATMAP, whose column k spans [k, k + 1] in these units.  On a log x
 * axis zooming and panning work on log10 x.  Every operation keeps the window inside
 * the extent and at least a minimum width (a heat map: one column; lines and ridges:
 * 1e-4 of the extent), and a window that covers the whole extent is stored as NaN. */

/* The x extent and the visible window of c (the extent when not zoomed). */
void gs_chart_x_extent(const gs_chart *c, double *lo, double *hi);
void gs_chart_x_view(const gs_chart *c, double *lo, double *hi);
/* 1 when c shows less than its whole x extent. */
int gs_chart_zoomed(const gs_chart *c);
/* Show [lo, hi] (clamped as above; NaN or lo >= hi resets). */
void gs_chart_zoom_set(gs_chart *c, double lo, double hi);
/* Zoom by factor (> 1 in, < 1 out) keeping x (data units) where it is on screen. */
void gs_chart_zoom_about(gs_chart *c, double x, double factor);
/* Move the window by dx (data units; log10 units on a log axis), clamped to the extent. */
void gs_chart_pan(gs_chart *c, double dx);
void gs_chart_zoom_reset(gs_chart *c);

/* ---- layout and hit-testing ------------------------------------------------------- */

typedef struct gs_chart_layout {
    double width, height;            /* the whole chart */
    double px, py, pw, ph;           /* the plot area */
    double cbx, cby, cbw, cbh;       /* HEATMAP colour bar (0 size otherwise) */
    gs_scale xs, ys;                 /* data → pixel: x of LINES / RIDGES (the zoom
                                        window), y of LINES; HEATMAP xs maps column
                                        units (column k spans [k, k + 1]) */
    double row_h;                    /* HEATMAP cell / RIDGES row height */
    double col_w;                    /* HEATMAP cell width (zoomed) */
} gs_chart_layout;

/* Lay the chart out in a width × height box (pixels or points). */
void gs_chart_layout_compute(const gs_chart *c, double width, double height, gs_chart_layout *out);

/* RIDGES: the baseline pixel of ridge row r, and the pixel height of a value v (the
 * chart's ymax rises RIDGE_PEAK = 1.6 row spacings). */
double gs_chart_ridge_baseline(const gs_chart_layout *l, long r);
double gs_chart_ridge_height(const gs_chart *c, const gs_chart_layout *l, double v);

typedef enum gs_hit_kind {
    GS_HIT_NONE = 0,
    GS_HIT_CELL,     /* HEATMAP cell: row, col, z */
    GS_HIT_POINT,    /* LINES point: line, index, x, y */
    GS_HIT_RIDGE,    /* RIDGES: row, line, index (bin), x, y */
} gs_hit_kind;

typedef struct gs_chart_hit {
    gs_hit_kind kind;
    long   row, col;
    size_t line, index;
    double x, y, z;
    double px, py;       /* the pixel of the hit point (for drawing the marker) */
    char   text[256];    /* the read-out, e.g. "layer2.3 · epoch 5 · overlap 0.8734" */
} gs_chart_hit;

/* What is under (x, y) in chart coordinates: a heat-map cell, the nearest line point
 * within max_dist pixels (nearest in x first, then in distance), or a ridge bin.
 * Returns the kind (GS_HIT_NONE when nothing, e.g. outside the plot area). */
gs_hit_kind gs_chart_hit_test(const gs_chart *c, const gs_chart_layout *l, double x, double y,
                              double max_dist, gs_chart_hit *out);

/* ---- figures: panels on a grid ------------------------------------------------------ */

typedef struct gs_figure {
    gs_chart **panels;   /* owned */
    size_t     n, cap;
    int        cols;     /* panels per row (>= 1) */
    char      *title;    /* figure title (NULL: none) */
    char      *subtitle; /* a line under the title (NULL: none) */
} gs_figure;

gs_figure *gs_figure_new(int cols);
void gs_figure_free(gs_figure *f);
/* Add a panel; the figure takes ownership of c (freed on failure).  0 / -1. */
int gs_figure_add(gs_figure *f, gs_chart *c);

/* The rectangle of panel i in a width × height figure. */
void gs_figure_panel_rect(const gs_figure *f, size_t i, double width, double height,
                          double *x, double *y, double *w, double *h);
/* The panel under (x, y) and the point in its coordinates: returns the index or -1. */
long gs_figure_panel_at(const gs_figure *f, double width, double height, double x, double y,
                        double *lx, double *ly);

/* Zoom and pan a figure: the panels share their x axis (norms, training, raw/post
 * ridgelines, one overlap map per run), so the window computed for the panel under
 * the pointer is given to every panel (each clamped to its own extent).
 *   gs_figure_zoom_at: zoom by factor about the x under figure point (x, y) of a
 *     width × height figure (about the centre of the first panel when no panel with
 *     data is there).  Returns 1 when the window changed.
 *   gs_figure_pan_px: move the window by dpx pixels of panel `panel` (positive: the
 *     content follows the pointer to the right, i.e. the window moves left).
 *   gs_figure_get_zoom: the window of the first zoomed panel; 0 when none is zoomed.
 *   gs_figure_set_zoom: give every panel the window [lo, hi] (NaN resets). */
int  gs_figure_zoom_at(gs_figure *f, double width, double height, double x, double y, double factor);
int  gs_figure_pan_px(gs_figure *f, double width, double height, long panel, double dpx);
void gs_figure_zoom_reset(gs_figure *f);
int  gs_figure_zoomed(const gs_figure *f);
int  gs_figure_get_zoom(const gs_figure *f, double *lo, double *hi);
void gs_figure_set_zoom(gs_figure *f, double lo, double hi);

#endif
