/* gs_chart_view.h — GsChartView: a widget that draws a gs_figure.
 *
 * snapshot() paints the figure with cairo (gtk_snapshot_append_cairo →
 * gs_figure_draw); the widget keeps no data of its own beyond the figure it was given.
 * Pointer motion hit-tests the panel under the pointer (gs_chart_hit_test) and draws
 * the exact value there; a click reports what was clicked.
 *
 * Signals:
 *   "hover"     (const char *text)  the read-out under the pointer, "" when none
 *   "activated" (int panel, int kind, long row, long col, double x)
 *               a click on a heat-map cell (kind GS_HIT_CELL: row, col), a ridge
 *               (GS_HIT_RIDGE: row) or a line point (GS_HIT_POINT: x)
 *   "zoom-changed" (gboolean zoomed)  the x zoom window changed
 *
 * Zoom and pan (the window lives in the figure's charts, gs_chart_model.h; the widget
 * only translates events): the scroll wheel (with or without Ctrl) zooms the x axis
 * about the pointer, a horizontal scroll or Shift+wheel pans, dragging a zoomed
 * chart pans it, a double-click resets.  All panels of the figure share the window,
 * and a new figure (set_figure) keeps the window of the one it replaces.
 */
#ifndef GS_CHART_VIEW_H
#define GS_CHART_VIEW_H

#include <gtk/gtk.h>

#include "gs_chart_model.h"

G_BEGIN_DECLS

#define GS_TYPE_CHART_VIEW (gs_chart_view_get_type())
G_DECLARE_FINAL_TYPE(GsChartView, gs_chart_view, GS, CHART_VIEW, GtkWidget)

GtkWidget *gs_chart_view_new(void);

/* Show fig (the view takes ownership; NULL clears).  Redraws. */
void gs_chart_view_set_figure(GsChartView *self, gs_figure *fig);

/* The figure shown (owned by the view; NULL when none). */
const gs_figure *gs_chart_view_get_figure(GsChartView *self);

/* Zoom: is the figure zoomed; reset it; zoom by factor (> 1 in) about the pointer (or
 * the centre); the current window in the first panel's x units (FALSE when none). */
gboolean gs_chart_view_is_zoomed(GsChartView *self);
void gs_chart_view_reset_zoom(GsChartView *self);
void gs_chart_view_zoom(GsChartView *self, double factor);
gboolean gs_chart_view_get_zoom(GsChartView *self, double *lo, double *hi);
/* Show the x window [lo, hi] of the figure's first panel's units in every panel (NaN:
 * all of it); kept across set_figure. */
void gs_chart_view_set_zoom(GsChartView *self, double lo, double hi);

G_END_DECLS

#endif
