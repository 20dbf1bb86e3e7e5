/* gs_chart_view.c — GsChartView (see the header). */
#include "gs_chart_view.h"

#include "gs_chart_draw.h"

#include <math.h>

struct _GsChartView {
    GtkWidget    parent_instance;
    gs_figure   *fig;
    gs_chart_hit hover;
    long         hover_panel;
    double       mx, my;        /* the last pointer position (NaN: outside) */
    long         drag_panel;    /* the panel a drag pans, -1 none */
    double       drag_last;     /* the drag's x offset already applied */
};

G_DEFINE_FINAL_TYPE(GsChartView, gs_chart_view, GTK_TYPE_WIDGET)

enum { SIGNAL_HOVER, SIGNAL_ACTIVATED, SIGNAL_ZOOM_CHANGED, N_SIGNALS };
static guint signals[N_SIGNALS];

#define HOVER_DIST 24.0
#define ZOOM_STEP  1.25   /* per scroll notch or +/- key */

static void gs_chart_view_snapshot(GtkWidget *widget, GtkSnapshot *snapshot)
{
    GsChartView *self = GS_CHART_VIEW(widget);
    int w = gtk_widget_get_width(widget), h = gtk_widget_get_height(widget);
    if (w <= 0 || h <= 0 || !self->fig)
        return;
    cairo_t *cr = gtk_snapshot_append_cairo(snapshot, &GRAPHENE_RECT_INIT(0, 0, (float)w, (float)h));
    gs_draw_opts o = { 0, self->hover.kind != GS_HIT_NONE ? &self->hover : NULL, self->hover_panel };
    gs_figure_draw(cr, self->fig, w, h, &o);
    cairo_destroy(cr);
}

static long hit_at(GsChartView *self, double x, double y, gs_chart_hit *hit)
{
    memset(hit, 0, sizeof *hit);
    if (!self->fig)
        return -1;
    double w = gtk_widget_get_width(GTK_WIDGET(self)), h = gtk_widget_get_height(GTK_WIDGET(self));
    double lx, ly;
    long p = gs_figure_panel_at(self->fig, w, h, x, y, &lx, &ly);
    if (p < 0)
        return -1;
    double px, py, pw, ph;
    gs_figure_panel_rect(self->fig, (size_t)p, w, h, &px, &py, &pw, &ph);
    const gs_chart *c = self->fig->panels[p];
    if (c->kind == GS_CHART_EMPTY || !gs_chart_has_data(c))
        return -1;
    gs_chart_layout l;
    gs_chart_layout_compute(c, pw, ph, &l);
    if (gs_chart_hit_test(c, &l, lx, ly, HOVER_DIST, hit) == GS_HIT_NONE)
        return -1;
    return p;
}

static void set_hover(GsChartView *self, const gs_chart_hit *hit, long panel)
{
    gboolean same = hit->kind == self->hover.kind && panel == self->hover_panel &&
                    hit->row == self->hover.row && hit->col == self->hover.col &&
                    hit->line == self->hover.line && hit->index == self->hover.index;
    if (same)
        return;
    self->hover = *hit;
    self->hover_panel = panel;
    gtk_widget_queue_draw(GTK_WIDGET(self));
    g_signal_emit(self, signals[SIGNAL_HOVER], 0, hit->kind != GS_HIT_NONE ? hit->text : "");
}

static void on_motion(GtkEventControllerMotion *ctl, double x, double y, gpointer data)
{
    GsChartView *self = data;
    self->mx = x;
    self->my = y;
    gs_chart_hit hit;
    long p = hit_at(self, x, y, &hit);
    set_hover(self, &hit, p);
}

/* After the zoom changed: redraw, re-hit-test under the pointer, tell the window. */
static void zoom_changed(GsChartView *self)
{
    gs_chart_hit hit;
    memset(&hit, 0, sizeof hit);
    long p = -1;
    if (isfinite(self->mx))
        p = hit_at(self, self->mx, self->my, &hit);
    memset(&self->hover, 0, sizeof self->hover);   /* force the new read-out */
    self->hover.kind = (gs_hit_kind)-1;
    set_hover(self, &hit, p);
    gtk_widget_queue_draw(GTK_WIDGET(self));
    g_signal_emit(self, signals[SIGNAL_ZOOM_CHANGED], 0, gs_chart_view_is_zoomed(self));
}

static void zoom_at(GsChartView *self, double x, double y, double factor)
{
    if (!self->fig)
        return;
    double w = gtk_widget_get_width(GTK_WIDGET(self)), h = gtk_widget_get_height(GTK_WIDGET(self));
    if (gs_figure_zoom_at(self->fig, w, h, x, y, factor))
        zoom_changed(self);
}

static gboolean on_scroll(GtkEventControllerScroll *ctl, double dx, double dy, gpointer data)
{
    GsChartView *self = data;
    if (!self->fig)
        return FALSE;
    GdkModifierType mods = gtk_event_controller_get_current_event_state(GTK_EVENT_CONTROLLER(ctl));
    double w = gtk_widget_get_width(GTK_WIDGET(self)), h = gtk_widget_get_height(GTK_WIDGET(self));
    double x = isfinite(self->mx) ? self->mx : w / 2, y = isfinite(self->my) ? self->my : h / 2;
    if ((mods & GDK_SHIFT_MASK) && dx == 0) {   /* Shift+wheel pans */
        dx = dy;
        dy = 0;
    }
    if (dx != 0) {
        double lx, ly;
        long p = gs_figure_panel_at(self->fig, w, h, x, y, &lx, &ly);
        if (p < 0)
            p = 0;
        if (gs_figure_pan_px(self->fig, w, h, p, -dx * 40))
            zoom_changed(self);
    }
    if (dy != 0)
        zoom_at(self, x, y, pow(ZOOM_STEP, -dy));
    return TRUE;
}

static void on_drag_begin(GtkGestureDrag *g, double x, double y, gpointer data)
{
    GsChartView *self = data;
    self->drag_last = 0;
    self->drag_panel = -1;
    if (!self->fig || !gs_figure_zoomed(self->fig))
        return;
    double lx, ly;
    self->drag_panel = gs_figure_panel_at(self->fig, gtk_widget_get_width(GTK_WIDGET(self)),
                                          gtk_widget_get_height(GTK_WIDGET(self)), x, y, &lx, &ly);
}

static void on_drag_update(GtkGestureDrag *g, double ox, double oy, gpointer data)
{
    GsChartView *self = data;
    if (self->drag_panel < 0 || !self->fig)
        return;
    if (self->drag_last == 0 && fabs(ox) >= 3)
        gtk_widget_set_cursor_from_name(GTK_WIDGET(self), "grabbing");
    double d = ox - self->drag_last;
    self->drag_last = ox;
    if (gs_figure_pan_px(self->fig, gtk_widget_get_width(GTK_WIDGET(self)),
                         gtk_widget_get_height(GTK_WIDGET(self)), self->drag_panel, d))
        zoom_changed(self);
}

static void on_drag_end(GtkGestureDrag *g, double ox, double oy, gpointer data)
{
    GsChartView *self = data;
    self->drag_panel = -1;
    gtk_widget_set_cursor(GTK_WIDGET(self), NULL);
}

static void on_pressed(GtkGestureClick *g, int n_press, double x, double y, gpointer data)
{
    GsChartView *self = data;
    if (n_press == 2 && self->fig && gs_figure_zoomed(self->fig)) {
        gs_figure_zoom_reset(self->fig);
        zoom_changed(self);
    }
}

static void on_leave(GtkEventControllerMotion *ctl, gpointer data)
{
    GsChartView *self = data;
    self->mx = self->my = NAN;
    gs_chart_hit none;
    memset(&none, 0, sizeof none);
    set_hover(self, &none, -1);
}

static void on_released(GtkGestureClick *g, int n_press, double x, double y, gpointer data)
{
    GsChartView *self = data;
    gs_chart_hit hit;
    long p = hit_at(self, x, y, &hit);
    if (p < 0)
        return;
    g_signal_emit(self, signals[SIGNAL_ACTIVATED], 0, (int)p, (int)hit.kind, (glong)hit.row, (glong)hit.col,
                  hit.x);
}

static void gs_chart_view_dispose(GObject *object)
{
    GsChartView *self = GS_CHART_VIEW(object);
    g_clear_pointer(&self->fig, gs_figure_free);
    G_OBJECT_CLASS(gs_chart_view_parent_class)->dispose(object);
}

static void gs_chart_view_measure(GtkWidget *widget, GtkOrientation orientation, int for_size, int *minimum,
                                  int *natural, int *minimum_baseline, int *natural_baseline)
{
    *minimum = orientation == GTK_ORIENTATION_HORIZONTAL ? 240 : 180;
    *natural = orientation == GTK_ORIENTATION_HORIZONTAL ? 720 : 480;
}

static void gs_chart_view_class_init(GsChartViewClass *klass)
{
    GObjectClass *oc = G_OBJECT_CLASS(klass);
    GtkWidgetClass *wc = GTK_WIDGET_CLASS(klass);
    oc->dispose = gs_chart_view_dispose;
    wc->snapshot = gs_chart_view_snapshot;
    wc->measure = gs_chart_view_measure;
    gtk_widget_class_set_css_name(wc, "chartview");
    signals[SIGNAL_HOVER] = g_signal_new("hover", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                                         NULL, G_TYPE_NONE, 1, G_TYPE_STRING);
    signals[SIGNAL_ACTIVATED] = g_signal_new("activated", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0, NULL,
                                             NULL, NULL, G_TYPE_NONE, 5, G_TYPE_INT, G_TYPE_INT, G_TYPE_LONG,
                                             G_TYPE_LONG, G_TYPE_DOUBLE);
    signals[SIGNAL_ZOOM_CHANGED] = g_signal_new("zoom-changed", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0,
                                                NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_BOOLEAN);
}

static void gs_chart_view_init(GsChartView *self)
{
    self->hover_panel = -1;
    self->drag_panel = -1;
    self->mx = self->my = NAN;
    GtkEventController *motion = gtk_event_controller_motion_new();
    g_signal_connect(motion, "motion", G_CALLBACK(on_motion), self);
    g_signal_connect(motion, "leave", G_CALLBACK(on_leave), self);
    gtk_widget_add_controller(GTK_WIDGET(self), motion);
    GtkGesture *click = gtk_gesture_click_new();
    g_signal_connect(click, "released", G_CALLBACK(on_released), self);
    g_signal_connect(click, "pressed", G_CALLBACK(on_pressed), self);
    gtk_widget_add_controller(GTK_WIDGET(self), GTK_EVENT_CONTROLLER(click));
    GtkGesture *drag = gtk_gesture_drag_new();
    g_signal_connect(drag, "drag-begin", G_CALLBACK(on_drag_begin), self);
    g_signal_connect(drag, "drag-update", G_CALLBACK(on_drag_update), self);
    g_signal_connect(drag, "drag-end", G_CALLBACK(on_drag_end), self);
    gtk_widget_add_controller(GTK_WIDGET(self), GTK_EVENT_CONTROLLER(drag));
    GtkEventController *scroll = gtk_event_controller_scroll_new(GTK_EVENT_CONTROLLER_SCROLL_BOTH_AXES);
    g_signal_connect(scroll, "scroll", G_CALLBACK(on_scroll), self);
    gtk_widget_add_controller(GTK_WIDGET(self), scroll);
    gtk_widget_set_hexpand(GTK_WIDGET(self), TRUE);
    gtk_widget_set_vexpand(GTK_WIDGET(self), TRUE);
}

GtkWidget *gs_chart_view_new(void)
{
    return g_object_new(GS_TYPE_CHART_VIEW, NULL);
}

void gs_chart_view_set_figure(GsChartView *self, gs_figure *fig)
{
    /* the zoom window carries over to the rebuilt figure (same x units) */
    double lo, hi;
    if (fig && self->fig && gs_figure_get_zoom(self->fig, &lo, &hi))
        gs_figure_set_zoom(fig, lo, hi);
    g_clear_pointer(&self->fig, gs_figure_free);
    self->fig = fig;
    memset(&self->hover, 0, sizeof self->hover);
    self->hover_panel = -1;
    gtk_widget_queue_draw(GTK_WIDGET(self));
}

const gs_figure *gs_chart_view_get_figure(GsChartView *self)
{
    return self->fig;
}

gboolean gs_chart_view_is_zoomed(GsChartView *self)
{
    return self->fig && gs_figure_zoomed(self->fig);
}

void gs_chart_view_reset_zoom(GsChartView *self)
{
    if (self->fig && gs_figure_zoomed(self->fig)) {
        gs_figure_zoom_reset(self->fig);
        zoom_changed(self);
    }
}

void gs_chart_view_zoom(GsChartView *self, double factor)
{
    double w = gtk_widget_get_width(GTK_WIDGET(self)), h = gtk_widget_get_height(GTK_WIDGET(self));
    double x = isfinite(self->mx) ? self->mx : w / 2, y = isfinite(self->my) ? self->my : h / 2;
    zoom_at(self, x, y, factor);
}

gboolean gs_chart_view_get_zoom(GsChartView *self, double *lo, double *hi)
{
    return self->fig && gs_figure_get_zoom(self->fig, lo, hi);
}

void gs_chart_view_set_zoom(GsChartView *self, double lo, double hi)
{
    if (!self->fig)
        return;
    gs_figure_set_zoom(self->fig, lo, hi);
    zoom_changed(self);
}
