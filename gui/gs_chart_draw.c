/* gs_chart_draw.c — cairo + Pango rendering of chart models (see the header). */
#include "gs_chart_draw.h"

#include <cairo-pdf.h>
#include <cairo-svg.h>
#include <math.h>
#include <pango/pangocairo.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define FONT_TICK  "Sans 8.5"
#define FONT_LABEL "Sans 9"
#define FONT_TITLE "Sans Bold 10"
#define FONT_FIG   "Sans Bold 11"

static const gs_rgb INK = { 0.13, 0.13, 0.13 };
static const gs_rgb MUTED = { 0.40, 0.40, 0.40 };
static const gs_rgb GRID = { 0.90, 0.90, 0.90 };
static const gs_rgb FRAME = { 0.70, 0.70, 0.70 };

static void set_rgb(cairo_t *cr, gs_rgb c, double a)
{
    cairo_set_source_rgba(cr, c.r, c.g, c.b, a);
}

/* One PangoLayout per top-level draw call, reused for every label (creating a layout
 * per label dominated the redraw time).  Drawing happens on one thread at a time. */
static PangoLayout *cached_layout;
static cairo_t *cached_cr;
static int draw_depth;

static PangoFontDescription *font_desc(const char *font)
{
    static const char *names[8];
    static PangoFontDescription *descs[8];
    for (int i = 0; i < 8; i++) {
        if (names[i] == font || (names[i] && !strcmp(names[i], font)))
            return descs[i];
        if (!names[i]) {
            names[i] = font;
            descs[i] = pango_font_description_from_string(font);
            return descs[i];
        }
    }
    return descs[7];
}

static PangoLayout *layout_for(cairo_t *cr, const char *font, const char *s)
{
    if (!cached_layout || cached_cr != cr) {
        if (cached_layout)
            g_object_unref(cached_layout);
        cached_layout = pango_cairo_create_layout(cr);
        cached_cr = cr;
    } else {
        pango_cairo_update_layout(cr, cached_layout);
    }
    pango_layout_set_font_description(cached_layout, font_desc(font));
    pango_layout_set_text(cached_layout, s, -1);
    return cached_layout;
}

static void draw_begin(void)
{
    draw_depth++;
}

static void draw_end(void)
{
    if (--draw_depth == 0 && cached_layout) {
        g_object_unref(cached_layout);
        cached_layout = NULL;
        cached_cr = NULL;
    }
}

/* Draw text with its anchor at (x, y): ax/ay = 0 left/top, 0.5 centre, 1 right/bottom.
 * Returns the text width. */
static double text(cairo_t *cr, const char *font, const char *s, double x, double y,
                   double ax, double ay, gs_rgb color)
{
    if (!s || !*s)
        return 0;
    PangoLayout *layout = layout_for(cr, font, s);
    int w, h;
    pango_layout_get_pixel_size(layout, &w, &h);
    cairo_move_to(cr, round(x - ax * w), round(y - ay * h));
    set_rgb(cr, color, 1);
    pango_cairo_show_layout(cr, layout);
    return w;
}

static void text_size(cairo_t *cr, const char *font, const char *s, int *w, int *h)
{
    pango_layout_get_pixel_size(layout_for(cr, font, s), w, h);
}

static void text_rotated(cairo_t *cr, const char *font, const char *s, double x, double y, gs_rgb color)
{
    /* vertical text centred at (x, y), reading bottom to top */
    if (!s || !*s)
        return;
    cairo_save(cr);
    cairo_translate(cr, x, y);
    cairo_rotate(cr, -M_PI / 2);
    text(cr, font, s, 0, 0, 0.5, 0.5, color);
    cairo_restore(cr);
}

static void set_dash(cairo_t *cr, gs_dash d, double width)
{
    if (d == GS_DASH_DASHED) {
        double p[2] = { 5 * width / 1.5, 3 * width / 1.5 };
        cairo_set_dash(cr, p, 2, 0);
    } else if (d == GS_DASH_DOTTED) {
        double p[2] = { 1.2 * width / 1.5, 2.6 * width / 1.5 };
        cairo_set_dash(cr, p, 2, 0);
    } else {
        cairo_set_dash(cr, NULL, 0, 0);
    }
}

static void draw_title(cairo_t *cr, const gs_chart *c, const gs_chart_layout *l)
{
    double y = 8;
    if (c->title) {
        text(cr, FONT_TITLE, c->title, l->px, y, 0, 0, INK);
        y += 20;
    }
    if (c->note)
        text(cr, FONT_TICK, c->note, l->px, y, 0, 0, MUTED);
}

static void draw_empty(cairo_t *cr, const gs_chart *c, double width, double height)
{
    const char *msg = c->empty_text ? c->empty_text : "No data";
    text(cr, "Sans 11", msg, width / 2, height / 2, 0.5, 0.5, MUTED);
}

/* x ticks + grid for a scale along the bottom of the plot */
static void draw_x_axis(cairo_t *cr, const gs_chart *c, const gs_chart_layout *l, int grid)
{
    double ticks[64];
    size_t max_ticks = (size_t)fmax(3, l->pw / 55);
    size_t n = gs_ticks(l->xs.dlo, l->xs.dhi, c->xlog, max_ticks, ticks, 64);
    double step = n > 1 ? ticks[1] - ticks[0] : 0;
    char buf[32];
    for (size_t i = 0; i < n; i++) {
        double x = round(gs_scale_map(&l->xs, ticks[i])) + 0.5;
        if (!isfinite(x))
            continue;
        if (grid) {
            set_rgb(cr, GRID, 1);
            cairo_set_line_width(cr, 1);
            cairo_move_to(cr, x, l->py);
            cairo_line_to(cr, x, l->py + l->ph);
            cairo_stroke(cr);
        }
        set_rgb(cr, FRAME, 1);
        cairo_move_to(cr, x, l->py + l->ph);
        cairo_line_to(cr, x, l->py + l->ph + 4);
        cairo_stroke(cr);
        text(cr, FONT_TICK, gs_format_tick(ticks[i], step, c->xlog, buf, sizeof buf), x,
             l->py + l->ph + 6, 0.5, 0, MUTED);
    }
    if (c->xlabel)
        text(cr, FONT_LABEL, c->xlabel, l->px + l->pw / 2, l->py + l->ph + 24, 0.5, 0, INK);
}

static void draw_y_label(cairo_t *cr, const gs_chart *c, const gs_chart_layout *l, double left_of)
{
    if (c->ylabel)
        text_rotated(cr, FONT_LABEL, c->ylabel, left_of, l->py + l->ph / 2, INK);
}

static void draw_frame(cairo_t *cr, const gs_chart_layout *l)
{
    set_rgb(cr, FRAME, 1);
    cairo_set_line_width(cr, 1);
    cairo_set_dash(cr, NULL, 0, 0);
    cairo_rectangle(cr, round(l->px) + 0.5, round(l->py) + 0.5, round(l->pw), round(l->ph));
    cairo_stroke(cr);
}

static void draw_readout(cairo_t *cr, const gs_chart_layout *l, const gs_chart_hit *h)
{
    if (!h || h->kind == GS_HIT_NONE)
        return;
    int tw, th;
    text_size(cr, FONT_LABEL, h->text, &tw, &th);
    double bw = tw + 12, bh = th + 8;
    double x = h->px + 12, y = h->py - bh - 10;
    if (x + bw > l->px + l->pw) x = h->px - 12 - bw;
    if (x < 2) x = 2;
    if (y < l->py) y = h->py + 12;
    cairo_set_dash(cr, NULL, 0, 0);
    cairo_set_source_rgba(cr, 1, 1, 1, 0.94);
    cairo_rectangle(cr, x, y, bw, bh);
    cairo_fill_preserve(cr);
    set_rgb(cr, FRAME, 1);
    cairo_set_line_width(cr, 1);
    cairo_stroke(cr);
    text(cr, FONT_LABEL, h->text, x + 6, y + 4, 0, 0, INK);
}

/* ---- lines -------------------------------------------------------------------------- */

/* 1 when an earlier line has the same label (ridges: one entry per run) */
static int legend_dup(const gs_chart *c, size_t i)
{
    for (size_t j = 0; j < i; j++)
        if (c->lines[j].label && !strcmp(c->lines[j].label, c->lines[i].label))
            return 1;
    return 0;
}

static void draw_legend(cairo_t *cr, const gs_chart *c, const gs_chart_layout *l)
{
    if (!c->legend)
        return;
    size_t n = 0;
    int maxw = 0, th = 12;
    for (size_t i = 0; i < c->nlines; i++) {
        if (!c->lines[i].label || legend_dup(c, i))
            continue;
        int w, h;
        text_size(cr, FONT_TICK, c->lines[i].label, &w, &h);
        if (w > maxw) maxw = w;
        th = h;
        n++;
    }
    if (!n)
        return;
    double rowh = th + 3, bw = maxw + 40, bh = (double)n * rowh + 8;
    int right = c->legend == 1 || c->legend == 2, bottom = c->legend == 2 || c->legend == 4;
    double x = right ? l->px + l->pw - bw - 8 : l->px + 8;
    double y = bottom ? l->py + l->ph - bh - 8 : l->py + 8;
    cairo_set_source_rgba(cr, 1, 1, 1, 0.88);
    cairo_rectangle(cr, x, y, bw, bh);
    cairo_fill_preserve(cr);
    set_rgb(cr, GRID, 1);
    cairo_set_line_width(cr, 1);
    cairo_set_dash(cr, NULL, 0, 0);
    cairo_stroke(cr);
    double yy = y + 4;
    for (size_t i = 0; i < c->nlines; i++) {
        const gs_chart_line *ln = &c->lines[i];
        if (!ln->label || legend_dup(c, i))
            continue;
        double cy = yy + rowh / 2;
        set_rgb(cr, ln->color, fmax(ln->alpha, 0.6));
        cairo_set_line_width(cr, fmax(ln->width, 1.5));
        set_dash(cr, ln->dash, fmax(ln->width, 1.5));
        cairo_move_to(cr, x + 6, cy);
        cairo_line_to(cr, x + 30, cy);
        cairo_stroke(cr);
        if (ln->markers) {
            cairo_arc(cr, x + 18, cy, 2.6, 0, 2 * M_PI);
            cairo_fill(cr);
        }
        cairo_set_dash(cr, NULL, 0, 0);
        text(cr, FONT_TICK, ln->label, x + 36, cy, 0, 0.5, INK);
        yy += rowh;
    }
}

static void draw_lines(cairo_t *cr, const gs_chart *c, const gs_chart_layout *l, const gs_chart_hit *hover)
{
    /* y grid + ticks */
    double ticks[64];
    size_t max_ticks = (size_t)fmax(2, l->ph / 45);
    size_t n = gs_ticks(c->ymin, c->ymax, c->ylog, max_ticks, ticks, 64);
    double step = n > 1 ? ticks[1] - ticks[0] : 0;
    char buf[32];
    int maxw = 0;
    cairo_set_line_width(cr, 1);
    for (size_t i = 0; i < n; i++) {
        double y = round(gs_scale_map(&l->ys, ticks[i])) + 0.5;
        if (!isfinite(y))
            continue;
        set_rgb(cr, GRID, 1);
        cairo_move_to(cr, l->px, y);
        cairo_line_to(cr, l->px + l->pw, y);
        cairo_stroke(cr);
        set_rgb(cr, FRAME, 1);
        cairo_move_to(cr, l->px - 4, y);
        cairo_line_to(cr, l->px, y);
        cairo_stroke(cr);
        double w = text(cr, FONT_TICK, gs_format_tick(ticks[i], step, c->ylog, buf, sizeof buf),
                        l->px - 6, y, 1, 0.5, MUTED);
        if (w > maxw) maxw = (int)w;
    }
    draw_x_axis(cr, c, l, 1);
    draw_y_label(cr, c, l, l->px - 14 - fmax(maxw, 24));

    /* shaded band (the current epoch) */
    if (isfinite(c->band_lo) && isfinite(c->band_hi)) {
        double a = gs_scale_map(&l->xs, c->band_lo), b = gs_scale_map(&l->xs, c->band_hi);
        if (isfinite(a) && isfinite(b)) {
            a = fmax(a, l->px);
            b = fmin(b, l->px + l->pw);
            if (b > a) {
                cairo_set_source_rgba(cr, 0.2, 0.4, 0.9, 0.08);
                cairo_rectangle(cr, a, l->py, b - a, l->ph);
                cairo_fill(cr);
            }
        }
    }

    cairo_save(cr);
    cairo_rectangle(cr, l->px, l->py, l->pw, l->ph);
    cairo_clip(cr);
    cairo_set_line_join(cr, CAIRO_LINE_JOIN_ROUND);
    cairo_set_line_cap(cr, CAIRO_LINE_CAP_ROUND);
    for (size_t i = 0; i < c->nlines; i++) {
        const gs_chart_line *ln = &c->lines[i];
        int pen = 0;
        for (size_t k = 0; k < ln->n; k++) {
            double x = gs_scale_map(&l->xs, ln->x[k]), y = gs_scale_map(&l->ys, ln->y[k]);
            if (!isfinite(x) || !isfinite(y)) {
                pen = 0;
                continue;
            }
            if (pen)
                cairo_line_to(cr, x, y);
            else
                cairo_move_to(cr, x, y);
            pen = 1;
        }
        set_rgb(cr, ln->color, ln->alpha);
        cairo_set_line_width(cr, ln->width);
        set_dash(cr, ln->dash, ln->width);
        cairo_stroke(cr);
        if (ln->markers) {
            for (size_t k = 0; k < ln->n; k++) {
                double x = gs_scale_map(&l->xs, ln->x[k]), y = gs_scale_map(&l->ys, ln->y[k]);
                if (!isfinite(x) || !isfinite(y))
                    continue;
                cairo_new_sub_path(cr);
                cairo_arc(cr, x, y, 2.8, 0, 2 * M_PI);
            }
            cairo_fill(cr);
        }
    }
    cairo_set_dash(cr, NULL, 0, 0);
    if (hover && hover->kind == GS_HIT_POINT) {
        cairo_set_source_rgba(cr, 0, 0, 0, 0.35);
        cairo_set_line_width(cr, 1);
        double d[2] = { 3, 3 };
        cairo_set_dash(cr, d, 2, 0);
        cairo_move_to(cr, round(hover->px) + 0.5, l->py);
        cairo_line_to(cr, round(hover->px) + 0.5, l->py + l->ph);
        cairo_stroke(cr);
        cairo_set_dash(cr, NULL, 0, 0);
        const gs_chart_line *ln = &c->lines[hover->line];
        cairo_arc(cr, hover->px, hover->py, 4.5, 0, 2 * M_PI);
        cairo_set_source_rgb(cr, 1, 1, 1);
        cairo_fill_preserve(cr);
        set_rgb(cr, ln->color, 1);
        cairo_set_line_width(cr, 2);
        cairo_stroke(cr);
    }
    cairo_restore(cr);
    draw_frame(cr, l);
    draw_legend(cr, c, l);
}

/* ---- heat map ----------------------------------------------------------------------- */

static double z_unit(const gs_chart *c, double z)
{
    if (!isfinite(z) || (c->zlog && z <= 0))
        return NAN;
    double a = c->zmin, b = c->zmax;
    if (c->zlog) {
        a = log10(a);
        b = log10(b);
        z = log10(z);
    }
    return b > a ? (z - a) / (b - a) : 0.5;
}

static void draw_heatmap(cairo_t *cr, const gs_chart *c, const gs_chart_layout *l,
                         const gs_draw_opts *o)
{
    size_t R = c->rows, C = c->cols;
    /* the visible columns [k0, k1) of the zoom window (xs: column units → pixels) */
    size_t k0 = (size_t)fmax(0, floor(l->xs.dlo)), k1 = (size_t)fmin((double)C, ceil(l->xs.dhi));
    double x0 = l->px - l->xs.dlo * l->col_w;   /* the pixel of column 0's left edge */
    cairo_save(cr);
    cairo_rectangle(cr, l->px, l->py, l->pw, l->ph);
    cairo_clip(cr);
    if (o && o->vector) {
        for (size_t r = 0; r < R; r++)
            for (size_t k = k0; k < k1; k++) {
                gs_rgb col = gs_viridis(z_unit(c, c->z[r * C + k]));
                set_rgb(cr, col, 1);
                /* overlap neighbours by a hair so viewers show no seams */
                cairo_rectangle(cr, x0 + (double)k * l->col_w, l->py + (double)r * l->row_h,
                                l->col_w + 0.3, l->row_h + 0.3);
                cairo_fill(cr);
            }
    } else {
        cairo_surface_t *img = cairo_image_surface_create(CAIRO_FORMAT_RGB24, (int)C, (int)R);
        unsigned char *data = cairo_image_surface_get_data(img);
        int stride = cairo_image_surface_get_stride(img);
        cairo_surface_flush(img);
        for (size_t r = 0; r < R; r++) {
            uint32_t *row = (uint32_t *)(void *)(data + (size_t)stride * r);
            for (size_t k = 0; k < C; k++) {
                gs_rgb col = gs_viridis(z_unit(c, c->z[r * C + k]));
                row[k] = ((uint32_t)lround(col.r * 255) << 16) | ((uint32_t)lround(col.g * 255) << 8) |
                         (uint32_t)lround(col.b * 255);
            }
        }
        cairo_surface_mark_dirty(img);
        cairo_save(cr);
        cairo_translate(cr, x0, l->py);
        cairo_scale(cr, l->col_w, l->row_h);
        cairo_set_source_surface(cr, img, 0, 0);
        cairo_pattern_set_filter(cairo_get_source(cr), CAIRO_FILTER_NEAREST);
        cairo_paint(cr);
        cairo_restore(cr);
        cairo_surface_destroy(img);
    }

    /* the selected column (epoch) and cell */
    cairo_set_dash(cr, NULL, 0, 0);
    if (c->sel_col >= 0 && (size_t)c->sel_col < C) {
        double x = x0 + (double)c->sel_col * l->col_w;
        cairo_set_source_rgba(cr, 1, 1, 1, 0.9);
        cairo_set_line_width(cr, 1.5);
        cairo_rectangle(cr, x + 0.75, l->py + 0.75, l->col_w - 1.5, l->ph - 1.5);
        cairo_stroke(cr);
        if (c->sel_row >= 0 && (size_t)c->sel_row < R) {
            double y = l->py + (double)c->sel_row * l->row_h;
            cairo_set_source_rgb(cr, 0, 0, 0);
            cairo_set_line_width(cr, 3);
            cairo_rectangle(cr, x, y, l->col_w, l->row_h);
            cairo_stroke(cr);
            cairo_set_source_rgb(cr, 1, 1, 1);
            cairo_set_line_width(cr, 1.5);
            cairo_rectangle(cr, x, y, l->col_w, l->row_h);
            cairo_stroke(cr);
        }
    } else if (c->sel_row >= 0 && (size_t)c->sel_row < R) {
        double y = l->py + (double)c->sel_row * l->row_h;
        cairo_set_source_rgba(cr, 1, 1, 1, 0.9);
        cairo_set_line_width(cr, 1.5);
        cairo_rectangle(cr, l->px + 0.75, y + 0.75, l->pw - 1.5, l->row_h - 1.5);
        cairo_stroke(cr);
    }
    cairo_restore(cr);
    /* selected row marker on the left */
    if (c->sel_row >= 0 && (size_t)c->sel_row < R) {
        double y = l->py + ((double)c->sel_row + 0.5) * l->row_h;
        cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
        cairo_move_to(cr, l->px - 1, y);
        cairo_line_to(cr, l->px - 6, y - 4);
        cairo_line_to(cr, l->px - 6, y + 4);
        cairo_close_path(cr);
        cairo_fill(cr);
    }
    draw_frame(cr, l);

    /* row labels: as many as fit */
    int th, tw;
    text_size(cr, FONT_TICK, "layer0.0", &tw, &th);
    size_t every = 1;
    while (l->row_h * (double)every < th + 1)
        every++;
    int maxw = 0;
    for (size_t r = 0; r < R; r += every) {
        int bold = (long)r == c->sel_row;
        double w = text(cr, bold ? "Sans Bold 8.5" : FONT_TICK, c->row_labels[r], l->px - 8,
                        l->py + ((double)r + 0.5) * l->row_h, 1, 0.5, bold ? INK : MUTED);
        if (w > maxw) maxw = (int)w;
    }
    if (every > 1 && c->sel_row >= 0 && (size_t)c->sel_row % every) {
        /* the selected row's label even when it falls between the shown ones */
        double y = l->py + ((double)c->sel_row + 0.5) * l->row_h;
        int w2, h2;
        text_size(cr, "Sans Bold 8.5", c->row_labels[c->sel_row], &w2, &h2);
        cairo_set_source_rgb(cr, 1, 1, 1);
        cairo_rectangle(cr, l->px - 10 - w2, y - h2 / 2.0, w2 + 3, h2);
        cairo_fill(cr);
        text(cr, "Sans Bold 8.5", c->row_labels[c->sel_row], l->px - 8, y, 1, 0.5, INK);
    }
    draw_y_label(cr, c, l, l->px - 16 - maxw);

    /* column labels: nice steps of the column coordinate over the visible columns,
     * placed by interpolating between column centres (col_x ascending) */
    if (k1 > k0) {
        double lo = c->col_x[k0], hi = c->col_x[k1 - 1];
        size_t max_ticks = (size_t)fmax(2, l->pw / 60);
        double ticks[64];
        size_t n = gs_ticks(lo, hi, 0, max_ticks, ticks, 64);
        double step = n > 1 ? ticks[1] - ticks[0] : 0;
        if (step > 0 && step < 1)   /* integer coordinates (epochs): no fractional ticks */
            n = gs_ticks(lo, hi, 0, (size_t)fmax(2, hi - lo + 1), ticks, 64);
        char buf[32];
        set_rgb(cr, FRAME, 1);
        cairo_set_line_width(cr, 1);
        size_t j = k0;
        for (size_t i = 0; i < n; i++) {
            double t = ticks[i], pos;
            while (j + 1 < k1 && c->col_x[j + 1] <= t)
                j++;
            if (k1 - k0 == 1 || c->col_x[j] == t)
                pos = (double)j + 0.5;
            else if (j + 1 < k1 && c->col_x[j + 1] > c->col_x[j])
                pos = (double)j + 0.5 + (t - c->col_x[j]) / (c->col_x[j + 1] - c->col_x[j]);
            else
                continue;
            if (fabs(t - round(t)) > 1e-9 && step >= 1)
                continue;
            double x = gs_scale_map(&l->xs, pos);
            if (!isfinite(x) || x < l->px - 0.5 || x > l->px + l->pw + 0.5)
                continue;
            x = round(x) + 0.5;
            set_rgb(cr, FRAME, 1);
            cairo_move_to(cr, x, l->py + l->ph);
            cairo_line_to(cr, x, l->py + l->ph + 4);
            cairo_stroke(cr);
            text(cr, FONT_TICK, gs_format_tick(t, step < 1 ? 1 : step, 0, buf, sizeof buf), x,
                 l->py + l->ph + 6, 0.5, 0, MUTED);
        }
    }
    if (c->xlabel)
        text(cr, FONT_LABEL, c->xlabel, l->px + l->pw / 2, l->py + l->ph + 24, 0.5, 0, INK);

    /* colour bar: a gradient through viridis (fast on screen, vector in SVG/PDF) */
    cairo_pattern_t *grad = cairo_pattern_create_linear(0, l->cby + l->cbh, 0, l->cby);
    for (int i = 0; i <= 32; i++) {
        gs_rgb col = gs_viridis(i / 32.0);
        cairo_pattern_add_color_stop_rgb(grad, i / 32.0, col.r, col.g, col.b);
    }
    cairo_set_source(cr, grad);
    cairo_rectangle(cr, l->cbx, l->cby, l->cbw, l->cbh);
    cairo_fill(cr);
    cairo_pattern_destroy(grad);
    set_rgb(cr, FRAME, 1);
    cairo_set_line_width(cr, 1);
    cairo_rectangle(cr, round(l->cbx) + 0.5, round(l->cby) + 0.5, round(l->cbw), round(l->cbh));
    cairo_stroke(cr);
    gs_scale zs = { c->zmin, c->zmax, l->cby + l->cbh, l->cby, c->zlog };
    double ticks[64];
    size_t n = gs_ticks(c->zmin, c->zmax, c->zlog, (size_t)fmax(2, l->cbh / 40), ticks, 64);
    double step = n > 1 ? ticks[1] - ticks[0] : 0;
    char buf[32];
    int zw = 0;
    for (size_t i = 0; i < n; i++) {
        double y = round(gs_scale_map(&zs, ticks[i])) + 0.5;
        if (!isfinite(y))
            continue;
        set_rgb(cr, FRAME, 1);
        cairo_move_to(cr, l->cbx + l->cbw, y);
        cairo_line_to(cr, l->cbx + l->cbw + 4, y);
        cairo_stroke(cr);
        double w = text(cr, FONT_TICK, gs_format_tick(ticks[i], step, c->zlog, buf, sizeof buf),
                        l->cbx + l->cbw + 6, y, 0, 0.5, MUTED);
        if (w > zw) zw = (int)w;
    }
    if (c->zlabel)
        text_rotated(cr, FONT_LABEL, c->zlabel, l->cbx + l->cbw + 16 + zw, l->cby + l->cbh / 2, INK);
}

/* ---- ridges ------------------------------------------------------------------------- */

static void draw_ridges(cairo_t *cr, const gs_chart *c, const gs_chart_layout *l,
                        const gs_chart_hit *hover)
{
    draw_x_axis(cr, c, l, 1);
    /* row labels */
    int tw, th;
    text_size(cr, FONT_TICK, "epoch 00", &tw, &th);
    size_t every = 1;
    while (l->row_h * (double)every < th + 1)
        every++;
    int maxw = 0;
    for (size_t r = 0; r < c->rows; r++) {
        int sel = (long)r == c->sel_row;
        if (r % every && !sel)
            continue;
        double y = gs_chart_ridge_baseline(l, (long)r);
        double w = text(cr, sel ? "Sans Bold 8.5" : FONT_TICK, c->row_labels[r], l->px - 8, y, 1, 1,
                        sel ? INK : MUTED);
        if (w > maxw) maxw = (int)w;
    }
    draw_y_label(cr, c, l, l->px - 16 - maxw);

    cairo_save(cr);
    cairo_rectangle(cr, l->px, l->py - 2, l->pw, l->ph + 2);
    cairo_clip(cr);
    cairo_set_line_join(cr, CAIRO_LINE_JOIN_ROUND);
    for (size_t r = 0; r < c->rows; r++) {
        double base = gs_chart_ridge_baseline(l, (long)r);
        int sel = c->sel_row < 0 || (long)r == c->sel_row;
        /* baseline */
        set_rgb(cr, GRID, 1);
        cairo_set_line_width(cr, 1);
        cairo_move_to(cr, l->px, round(base) + 0.5);
        cairo_line_to(cr, l->px + l->pw, round(base) + 0.5);
        cairo_stroke(cr);
        for (int pass = 0; pass < 2; pass++)
        for (size_t i = 0; i < c->nlines; i++) {
            const gs_chart_line *ln = &c->lines[i];
            if (ln->row != (int)r || ln->n == 0)
                continue;
            double x0 = NAN, xl = NAN;
            int pen = 0;
            for (size_t k = 0; k < ln->n; k++) {
                double x = gs_scale_map(&l->xs, ln->x[k]);
                if (!isfinite(x))
                    continue;
                double y = base - gs_chart_ridge_height(c, l, ln->y[k]);
                if (!pen) {
                    cairo_move_to(cr, x, base);
                    x0 = x;
                    pen = 1;
                }
                cairo_line_to(cr, x, y);
                xl = x;
            }
            if (!pen)
                continue;
            cairo_line_to(cr, xl, base);
            cairo_close_path(cr);
            (void)x0;
            if (pass == 0) {
                /* opaque white under the row's ridges so they hide the rows above */
                cairo_set_source_rgb(cr, 1, 1, 1);
                cairo_fill(cr);
                continue;
            }
            if (ln->fill) {
                set_rgb(cr, ln->color, sel ? 0.45 : 0.16);
                cairo_fill_preserve(cr);
            }
            set_rgb(cr, ln->color, sel ? 1.0 : 0.55);
            cairo_set_line_width(cr, (long)r == c->sel_row ? 2.2 : ln->width);
            set_dash(cr, ln->dash, ln->width);
            cairo_stroke(cr);
            cairo_set_dash(cr, NULL, 0, 0);
        }
    }
    if (hover && hover->kind == GS_HIT_RIDGE) {
        const gs_chart_line *ln = &c->lines[hover->line];
        cairo_arc(cr, hover->px, hover->py, 4, 0, 2 * M_PI);
        cairo_set_source_rgb(cr, 1, 1, 1);
        cairo_fill_preserve(cr);
        set_rgb(cr, ln->color, 1);
        cairo_set_line_width(cr, 2);
        cairo_stroke(cr);
    }
    cairo_restore(cr);
    draw_legend(cr, c, l);
}

/* ---- entry points ------------------------------------------------------------------ */

static void chart_draw(cairo_t *cr, const gs_chart *c, double width, double height,
                       const gs_draw_opts *opts);

void gs_chart_draw(cairo_t *cr, const gs_chart *c, double width, double height,
                   const gs_draw_opts *opts)
{
    draw_begin();
    chart_draw(cr, c, width, height, opts);
    draw_end();
}

static void chart_draw(cairo_t *cr, const gs_chart *c, double width, double height,
                       const gs_draw_opts *opts)
{
    cairo_save(cr);
    cairo_set_source_rgb(cr, 1, 1, 1);
    cairo_rectangle(cr, 0, 0, width, height);
    cairo_fill(cr);
    cairo_set_line_width(cr, 1);
    const gs_chart_hit *hover = opts ? opts->hover : NULL;
    gs_chart_layout l;
    gs_chart_layout_compute(c, width, height, &l);
    if (c->kind == GS_CHART_EMPTY || !gs_chart_has_data(c)) {
        draw_title(cr, c, &l);
        draw_empty(cr, c, width, height);
        cairo_restore(cr);
        return;
    }
    draw_title(cr, c, &l);
    switch (c->kind) {
    case GS_CHART_LINES:
        draw_lines(cr, c, &l, hover);
        break;
    case GS_CHART_HEATMAP:
        draw_heatmap(cr, c, &l, opts);
        break;
    case GS_CHART_RIDGES:
        draw_ridges(cr, c, &l, hover);
        break;
    default:
        break;
    }
    draw_readout(cr, &l, hover);
    cairo_restore(cr);
}

void gs_figure_draw(cairo_t *cr, const gs_figure *f, double width, double height,
                    const gs_draw_opts *opts)
{
    draw_begin();
    cairo_save(cr);
    cairo_set_source_rgb(cr, 1, 1, 1);
    cairo_rectangle(cr, 0, 0, width, height);
    cairo_fill(cr);
    if (f->title)
        text(cr, FONT_FIG, f->title, 14, 8, 0, 0, INK);
    if (f->subtitle)
        text(cr, FONT_TICK, f->subtitle, 14, f->title ? 30 : 8, 0, 0, MUTED);
    for (size_t i = 0; i < f->n; i++) {
        double x, y, w, h;
        gs_figure_panel_rect(f, i, width, height, &x, &y, &w, &h);
        gs_draw_opts o = { 0, NULL, -1 };
        if (opts) {
            o.vector = opts->vector;
            if (opts->hover_panel == (long)i)
                o.hover = opts->hover;
        }
        cairo_save(cr);
        cairo_translate(cr, x, y);
        cairo_rectangle(cr, 0, 0, w, h);
        cairo_clip(cr);
        chart_draw(cr, f->panels[i], w, h, &o);
        cairo_restore(cr);
    }
    cairo_restore(cr);
    draw_end();
}

typedef struct fig_paint { const gs_figure *f; } fig_paint;

static void paint_figure(cairo_t *cr, double width, double height, void *data)
{
    fig_paint *p = data;
    gs_draw_opts o = { 1, NULL, -1 };
    gs_figure_draw(cr, p->f, width, height, &o);
}

int gs_export_painter(gs_paint_fn paint, void *data, const char *path, double width,
                      double height, char *err, size_t errsz)
{
    const char *dot = strrchr(path, '.');
    const char *ext = dot ? dot + 1 : "";
    cairo_surface_t *s = NULL;
    int png = 0;
    if (!strcasecmp(ext, "png")) {
        s = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, (int)lround(width), (int)lround(height));
        png = 1;
    } else if (!strcasecmp(ext, "svg")) {
        s = cairo_svg_surface_create(path, width, height);
    } else if (!strcasecmp(ext, "pdf")) {
        s = cairo_pdf_surface_create(path, width, height);
    } else {
        snprintf(err, errsz, "%s: unknown format (use .png, .svg or .pdf)", path);
        return -1;
    }
    if (cairo_surface_status(s) != CAIRO_STATUS_SUCCESS) {
        snprintf(err, errsz, "%s: %s", path, cairo_status_to_string(cairo_surface_status(s)));
        cairo_surface_destroy(s);
        return -1;
    }
    cairo_t *cr = cairo_create(s);
    paint(cr, width, height, data);
    cairo_status_t st = cairo_status(cr);
    cairo_destroy(cr);
    if (st == CAIRO_STATUS_SUCCESS && png) {
        /* PNG export of a figure draws heat maps as images too (vector = 1 is fine) */
        st = cairo_surface_write_to_png(s, path);
    }
    cairo_surface_finish(s);
    if (st == CAIRO_STATUS_SUCCESS)
        st = cairo_surface_status(s);
    cairo_surface_destroy(s);
    if (st != CAIRO_STATUS_SUCCESS) {
        snprintf(err, errsz, "%s: cannot write (%s)", path, cairo_status_to_string(st));
        return -1;
    }
    return 0;
}

int gs_figure_export(const gs_figure *f, const char *path, double width, double height,
                     char *err, size_t errsz)
{
    fig_paint p = { f };
    return gs_export_painter(paint_figure, &p, path, width, height, err, errsz);
}
