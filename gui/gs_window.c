/* gs_window.c — GsWindow (see the header). */
#include "gs_window.h"

#include <math.h>
#include <string.h>

#include "gs_chart_draw.h"
#include "gs_chart_view.h"
#include "gs_view_models.h"

typedef enum {
    VIEW_OVERLAP = 0,
    VIEW_NORMS,
    VIEW_DIST,
    VIEW_TRAINING,
    VIEW_SUMMARY,
    VIEW_COUNT
} view_id;

static const char *const view_names[VIEW_COUNT] = { "overlap", "norms", "distributions", "training", "summary" };

#define LIVE_PERIOD_MS 2000
#define ZOOM_KEY_STEP  1.5   /* per Ctrl+plus / Ctrl+minus */

struct _GsWindow {
    GtkApplicationWindow parent_instance;

    /* template children */
    GtkLabel       *live_label;
    GtkRevealer    *banner_revealer;
    GtkLabel       *banner_label;
    GtkButton      *banner_close;
    GtkListBox     *runs_list;
    GtkLabel       *runs_empty;
    GtkSearchEntry *filter_entry;
    GtkStack       *sel_stack;
    GtkListBox     *blocks_list;
    GtkListBox     *params_list;
    GtkLabel       *metric_label;
    GtkDropDown    *metric_dropdown;
    GtkLabel       *smooth_label;
    GtkScale       *smooth_scale;
    GtkAdjustment  *smooth_adj;
    GtkToggleButton *log_toggle;
    GtkLabel       *toolbar_hint;
    GtkWidget      *toolbar;
    GtkStack       *view_stack;
    GsChartView    *overlap_view, *norms_view, *dist_view, *training_view;
    GtkLabel       *summary_label;
    GtkLabel       *epoch_label;
    GtkScale       *epoch_scale;
    GtkAdjustment  *epoch_adj;
    GtkLabel       *hover_label;

    /* state */
    GPtrArray *docs;             /* GsRunDoc*, owned */
    GArray    *colors;           /* int palette index per doc */
    char      *sel_block, *sel_param;
    long       epoch;            /* -1: follow the last epoch */
    gs_map_metric metric;
    gboolean   log_y[VIEW_COUNT];
    double     smooth;
    gboolean   dirty[VIEW_COUNT];
    gboolean   updating;         /* guard while the UI is set from the state */
    int        pending;          /* loads in flight */
    guint      live_timer;
    guint8    *block_mask, *param_mask;   /* regex filter result per list row */
    size_t     n_block_rows, n_param_rows;
};

G_DEFINE_FINAL_TYPE(GsWindow, gs_window, GTK_TYPE_APPLICATION_WINDOW)

/* ---- view inputs ---------------------------------------------------------------------- */

typedef struct view_input {
    gs_view_run *runs;
    size_t       n;
} view_input;

static const char *run_label(GsRunDoc **docs, size_t n, size_t i)
{
    const gs_run_data *d = gs_run_doc_get_data(docs[i]);
    const char *t = *d->transform ? d->transform : "none";
    for (size_t j = 0; j < n; j++) {
        const gs_run_data *e = gs_run_doc_get_data(docs[j]);
        const char *u = *e->transform ? e->transform : "none";
        if (j != i && !strcmp(t, u))
            return d->name;   /* two runs share a transform: the file names tell them apart */
    }
    return t;
}

/* Fill vi from docs; hist for tensor `param` (by name) when want_hist. */
static void view_input_init(view_input *vi, GsRunDoc **docs, const int *colors, size_t n, const char *param,
                            gboolean want_hist)
{
    vi->n = n;
    vi->runs = g_new0(gs_view_run, n ? n : 1);
    for (size_t i = 0; i < n; i++) {
        gs_view_run *r = &vi->runs[i];
        r->d = gs_run_doc_get_data(docs[i]);
        r->label = run_label(docs, n, i);
        r->color = gs_palette_run((size_t)colors[i]);
        if (want_hist && param) {
            long p = gs_name_index(r->d->param_names, r->d->n_params, param);
            if (p >= 0) {
                size_t rows_pre = 0, rows_post = 0;
                r->hist_pre = gs_run_doc_get_hist(docs[i], "pre", (size_t)p, &rows_pre);
                r->hist_post = gs_run_doc_get_hist(docs[i], "post", (size_t)p, &rows_post);
                r->hist_rows = MIN(rows_pre, rows_post);
                if (!r->hist_pre || !r->hist_post)
                    r->hist_rows = 0;
            }
        }
    }
}

static void view_input_clear(view_input *vi)
{
    g_free(vi->runs);
    vi->runs = NULL;
    vi->n = 0;
}

static const char *default_param(const gs_run_data *d)
{
    for (size_t i = 0; i < d->n_params; i++)
        if (d->param_block[i] >= 0 && !strcmp(d->param_kinds[i], "conv_weight"))
            return d->param_names[i];
    return d->n_params ? d->param_names[0] : NULL;
}

static gs_figure *build_figure(view_id v, const view_input *vi, const gs_view_state *st)
{
    switch (v) {
    case VIEW_OVERLAP: return gs_view_overlap(vi->runs, vi->n, st);
    case VIEW_NORMS: return gs_view_norms(vi->runs, vi->n, st);
    case VIEW_DIST: return gs_view_distributions(vi->runs, vi->n, st);
    case VIEW_TRAINING: return gs_view_training(vi->runs, vi->n, st);
    default: return NULL;
    }
}

static view_id view_from_name(const char *name)
{
    for (int i = 0; i < VIEW_COUNT; i++)
        if (name && !strcmp(name, view_names[i]))
            return (view_id)i;
    return VIEW_COUNT;
}

/* ---- painting the summary (for export) ------------------------------------------------ */

static void paint_markup(cairo_t *cr, double width, double height, void *data)
{
    cairo_set_source_rgb(cr, 1, 1, 1);
    cairo_paint(cr);
    PangoLayout *layout = pango_cairo_create_layout(cr);
    PangoFontDescription *fd = pango_font_description_from_string("Sans 10");
    pango_layout_set_font_description(layout, fd);
    pango_layout_set_width(layout, (int)((width - 32) * PANGO_SCALE));
    pango_layout_set_wrap(layout, PANGO_WRAP_WORD_CHAR);
    pango_layout_set_markup(layout, data, -1);
    cairo_set_source_rgb(cr, 0.13, 0.13, 0.13);
    cairo_move_to(cr, 16, 16);
    pango_cairo_show_layout(cr, layout);
    pango_font_description_free(fd);
    g_object_unref(layout);
}

/* Export view v; the figure shows the x window [zoom_lo, zoom_hi] (NaN: all of it). */
static gboolean export_view(view_id v, GsRunDoc **docs, const int *colors, size_t n, const gs_view_state *st,
                            double zoom_lo, double zoom_hi, const char *path, int width, int height,
                            GError **error)
{
    char err[1024];
    view_input vi;
    view_input_init(&vi, docs, colors, n, st->param, v == VIEW_DIST);
    int rc;
    if (v == VIEW_SUMMARY) {
        char *markup = gs_view_summary_markup(vi.runs, vi.n);
        rc = markup ? gs_export_painter(paint_markup, markup, path, width, height, err, sizeof err) : -1;
        if (!markup)
            g_strlcpy(err, "out of memory", sizeof err);
        free(markup);
    } else {
        gs_figure *f = build_figure(v, &vi, st);
        if (f && isfinite(zoom_lo) && isfinite(zoom_hi))
            gs_figure_set_zoom(f, zoom_lo, zoom_hi);
        rc = f ? gs_figure_export(f, path, width, height, err, sizeof err) : -1;
        if (!f)
            g_strlcpy(err, "out of memory", sizeof err);
        gs_figure_free(f);
    }
    view_input_clear(&vi);
    if (rc < 0) {
        g_set_error_literal(error, G_IO_ERROR, G_IO_ERROR_FAILED, err);
        return FALSE;
    }
    return TRUE;
}

gboolean gs_export_docs(GsRunDoc **docs, int n, const char *view, double zoom_lo, double zoom_hi, const char *path,
                        int width, int height, GError **error)
{
    view_id v = view_from_name(view);
    if (v == VIEW_COUNT) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                    "unknown view '%s' (overlap, norms, distributions, training, summary)", view);
        return FALSE;
    }
    int *colors = g_new0(int, n > 0 ? n : 1);
    for (int i = 0; i < n; i++)
        colors[i] = i;
    const gs_run_data *d0 = n > 0 ? gs_run_doc_get_data(docs[0]) : NULL;
    gs_view_state st = { 0 };
    st.block = d0 && d0->n_blocks ? d0->block_names[0] : NULL;
    st.param = d0 ? default_param(d0) : NULL;
    st.epoch = -1;
    st.metric = GS_MAP_OVERLAP;
    st.log_y = v == VIEW_NORMS;
    st.smooth = 0.6;
    gboolean ok = export_view(v, docs, colors, (size_t)n, &st, zoom_lo, zoom_hi, path, width, height, error);
    g_free(colors);
    return ok;
}

/* ---- state → UI ----------------------------------------------------------------------- */

static view_id current_view(GsWindow *self)
{
    return view_from_name(gtk_stack_get_visible_child_name(self->view_stack));
}

static void fill_state(GsWindow *self, view_id v, gs_view_state *st)
{
    memset(st, 0, sizeof *st);
    st->block = self->sel_block;
    st->param = self->sel_param;
    st->epoch = self->epoch;
    st->metric = self->metric;
    st->log_y = self->log_y[v];
    st->smooth = self->smooth;
}

static GsChartView *chart_for(GsWindow *self, view_id v)
{
    switch (v) {
    case VIEW_OVERLAP: return self->overlap_view;
    case VIEW_NORMS: return self->norms_view;
    case VIEW_DIST: return self->dist_view;
    case VIEW_TRAINING: return self->training_view;
    default: return NULL;
    }
}

static void rebuild_view(GsWindow *self, view_id v)
{
    if (v >= VIEW_COUNT)
        return;
    gs_view_state st;
    fill_state(self, v, &st);
    view_input vi;
    view_input_init(&vi, (GsRunDoc **)self->docs->pdata, (const int *)(void *)self->colors->data, self->docs->len,
                    self->sel_param, v == VIEW_DIST);
    if (v == VIEW_SUMMARY) {
        char *markup = gs_view_summary_markup(vi.runs, vi.n);
        gtk_label_set_markup(self->summary_label, markup ? markup : "");
        free(markup);
    } else {
        gs_chart_view_set_figure(chart_for(self, v), build_figure(v, &vi, &st));
    }
    view_input_clear(&vi);
    self->dirty[v] = FALSE;
}

/* Mark every view dirty and rebuild the visible one now (the others when shown). */
static void invalidate(GsWindow *self)
{
    for (int i = 0; i < VIEW_COUNT; i++)
        self->dirty[i] = TRUE;
    rebuild_view(self, current_view(self));
}

static size_t epoch_count(GsWindow *self)
{
    view_input vi;
    view_input_init(&vi, (GsRunDoc **)self->docs->pdata, (const int *)(void *)self->colors->data, self->docs->len,
                    NULL, FALSE);
    size_t e = gs_view_epoch_count(vi.runs, vi.n);
    view_input_clear(&vi);
    return e;
}

static void sync_epoch_ui(GsWindow *self)
{
    size_t count = epoch_count(self);
    self->updating = TRUE;
    gtk_adjustment_set_upper(self->epoch_adj, count > 0 ? (double)count - 1 : 0);
    long e = self->epoch < 0 || (size_t)self->epoch >= count ? (long)count - 1 : self->epoch;
    gtk_adjustment_set_value(self->epoch_adj, e > 0 ? (double)e : 0);
    gtk_widget_set_sensitive(GTK_WIDGET(self->epoch_scale), count > 1);
    char buf[64];
    if (count == 0)
        g_snprintf(buf, sizeof buf, "epoch –");
    else
        g_snprintf(buf, sizeof buf, "epoch %ld / %zu%s", e, count - 1, self->epoch < 0 ? " (last)" : "");
    gtk_label_set_text(self->epoch_label, buf);
    self->updating = FALSE;
}

static void sync_toolbar(GsWindow *self)
{
    view_id v = current_view(self);
    self->updating = TRUE;
    gboolean map = v == VIEW_OVERLAP, curves = v == VIEW_NORMS || v == VIEW_TRAINING;
    gtk_widget_set_visible(GTK_WIDGET(self->metric_label), map);
    gtk_widget_set_visible(GTK_WIDGET(self->metric_dropdown), map);
    gtk_widget_set_visible(GTK_WIDGET(self->smooth_label), curves);
    gtk_widget_set_visible(GTK_WIDGET(self->smooth_scale), curves);
    gtk_widget_set_visible(GTK_WIDGET(self->log_toggle), map || curves);
    gtk_widget_set_sensitive(GTK_WIDGET(self->log_toggle), !map || self->metric == GS_MAP_OVERLAP);
    if (v < VIEW_COUNT)
        gtk_toggle_button_set_active(self->log_toggle, self->log_y[v]);
    const char *hint = "";
    char buf[256];
    switch (v) {
    case VIEW_OVERLAP: hint = "Click a cell to select its block and epoch · hover for values · scroll to zoom"; break;
    case VIEW_NORMS:
        g_snprintf(buf, sizeof buf, "Block %s — pick another in the sidebar or on the overlap map",
                   self->sel_block ? self->sel_block : "–");
        hint = buf;
        break;
    case VIEW_DIST:
        g_snprintf(buf, sizeof buf, "Tensor %s — pick another in the Tensors list; Left/Right scrub epochs",
                   self->sel_param ? self->sel_param : "–");
        hint = buf;
        break;
    case VIEW_TRAINING: hint = "Hover for values · click to jump to an epoch · scroll to zoom, drag to pan"; break;
    default: break;
    }
    gtk_label_set_text(self->toolbar_hint, hint);
    gtk_widget_set_visible(GTK_WIDGET(self->toolbar_hint), v != VIEW_SUMMARY);
    gtk_widget_set_visible(GTK_WIDGET(self->toolbar), v != VIEW_SUMMARY);
    /* the sidebar list that drives the view */
    if (v == VIEW_DIST)
        gtk_stack_set_visible_child_name(self->sel_stack, "params");
    else if (v == VIEW_OVERLAP || v == VIEW_NORMS)
        gtk_stack_set_visible_child_name(self->sel_stack, "blocks");
    self->updating = FALSE;
}

static void set_epoch(GsWindow *self, long e)
{
    size_t count = epoch_count(self);
    if (count == 0)
        return;
    if (e < 0) e = 0;
    if ((size_t)e >= count) e = (long)count - 1;
    self->epoch = (size_t)e == count - 1 ? -1 : e;   /* the last epoch follows a live run */
    sync_epoch_ui(self);
    invalidate(self);
}

static long shown_epoch(GsWindow *self)
{
    size_t count = epoch_count(self);
    if (count == 0)
        return -1;
    return self->epoch < 0 || (size_t)self->epoch >= count ? (long)count - 1 : self->epoch;
}

/* ---- sidebar lists ---------------------------------------------------------------------- */

static GtkWidget *name_row(const char *name, const char *sub)
{
    GtkWidget *box = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 6);
    GtkWidget *l = gtk_label_new(name);
    gtk_label_set_xalign(GTK_LABEL(l), 0);
    gtk_label_set_ellipsize(GTK_LABEL(l), PANGO_ELLIPSIZE_MIDDLE);
    gtk_widget_set_hexpand(l, TRUE);
    gtk_box_append(GTK_BOX(box), l);
    if (sub) {
        GtkWidget *s = gtk_label_new(sub);
        gtk_widget_add_css_class(s, "dim-label");
        gtk_widget_add_css_class(s, "caption");
        gtk_box_append(GTK_BOX(box), s);
    }
    g_object_set_data_full(G_OBJECT(box), "gs-name", g_strdup(name), g_free);
    return box;
}

static const char *row_name(GtkListBoxRow *row)
{
    GtkWidget *child = gtk_list_box_row_get_child(row);
    return child ? g_object_get_data(G_OBJECT(child), "gs-name") : NULL;
}

static gboolean filter_blocks(GtkListBoxRow *row, gpointer data)
{
    GsWindow *self = data;
    int i = gtk_list_box_row_get_index(row);
    return !self->block_mask || i < 0 || (size_t)i >= self->n_block_rows || self->block_mask[i];
}

static gboolean filter_params(GtkListBoxRow *row, gpointer data)
{
    GsWindow *self = data;
    int i = gtk_list_box_row_get_index(row);
    return !self->param_mask || i < 0 || (size_t)i >= self->n_param_rows || self->param_mask[i];
}

static void select_by_name(GtkListBox *list, const char *name)
{
    for (int i = 0;; i++) {
        GtkListBoxRow *row = gtk_list_box_get_row_at_index(list, i);
        if (!row)
            break;
        const char *n = row_name(row);
        if (name && n && !strcmp(n, name)) {
            gtk_list_box_select_row(list, row);
            return;
        }
    }
    gtk_list_box_unselect_all(list);
}

static void clear_list(GtkListBox *list)
{
    GtkWidget *child;
    while ((child = gtk_widget_get_first_child(GTK_WIDGET(list))))
        gtk_list_box_remove(list, child);
}

static void apply_filter(GsWindow *self)
{
    const char *re = gtk_editable_get_text(GTK_EDITABLE(self->filter_entry));
    g_clear_pointer(&self->block_mask, g_free);
    g_clear_pointer(&self->param_mask, g_free);
    gtk_widget_remove_css_class(GTK_WIDGET(self->filter_entry), "error");
    gtk_widget_set_tooltip_text(GTK_WIDGET(self->filter_entry), NULL);
    if (self->docs->len > 0 && re && *re) {
        const gs_run_data *d = gs_run_doc_get_data(g_ptr_array_index(self->docs, 0));
        char err[512];
        gs_selection sb = { 0 }, sp = { 0 };
        if (gs_select_names((const char *const *)d->block_names, d->n_blocks, re, &sb, err, sizeof err) < 0 ||
            gs_select_names((const char *const *)d->param_names, d->n_params, re, &sp, err, sizeof err) < 0) {
            gtk_widget_add_css_class(GTK_WIDGET(self->filter_entry), "error");
            gtk_widget_set_tooltip_text(GTK_WIDGET(self->filter_entry), err);
        } else {
            self->block_mask = g_new0(guint8, d->n_blocks + 1);
            self->param_mask = g_new0(guint8, d->n_params + 1);
            for (size_t i = 0; i < sb.n; i++)
                self->block_mask[sb.idx[i]] = 1;
            for (size_t i = 0; i < sp.n; i++)
                self->param_mask[sp.idx[i]] = 1;
        }
        gs_selection_free(&sb);
        gs_selection_free(&sp);
    }
    gtk_list_box_invalidate_filter(self->blocks_list);
    gtk_list_box_invalidate_filter(self->params_list);
}

static void rebuild_lists(GsWindow *self)
{
    self->updating = TRUE;
    clear_list(self->blocks_list);
    clear_list(self->params_list);
    self->n_block_rows = self->n_param_rows = 0;
    if (self->docs->len > 0) {
        const gs_run_data *d = gs_run_doc_get_data(g_ptr_array_index(self->docs, 0));
        for (size_t i = 0; i < d->n_blocks; i++)
            gtk_list_box_append(self->blocks_list, name_row(d->block_names[i], NULL));
        for (size_t i = 0; i < d->n_params; i++) {
            char sub[32];
            g_snprintf(sub, sizeof sub, "%" G_GINT64_FORMAT, (gint64)d->param_numel[i]);
            gtk_list_box_append(self->params_list, name_row(d->param_names[i], sub));
        }
        self->n_block_rows = d->n_blocks;
        self->n_param_rows = d->n_params;
        if (!self->sel_block || gs_name_index(d->block_names, d->n_blocks, self->sel_block) < 0) {
            g_free(self->sel_block);
            self->sel_block = d->n_blocks ? g_strdup(d->block_names[0]) : NULL;
        }
        if (!self->sel_param || gs_name_index(d->param_names, d->n_params, self->sel_param) < 0) {
            g_free(self->sel_param);
            self->sel_param = g_strdup(default_param(d));
        }
    }
    select_by_name(self->blocks_list, self->sel_block);
    select_by_name(self->params_list, self->sel_param);
    self->updating = FALSE;
    apply_filter(self);
}

/* ---- runs list -------------------------------------------------------------------------- */

static void on_close_run(GtkButton *button, gpointer data);
static void on_refreshed(GObject *source, GAsyncResult *res, gpointer data);

static void rebuild_runs(GsWindow *self)
{
    clear_list(self->runs_list);
    gboolean any_live = FALSE;
    for (guint i = 0; i < self->docs->len; i++) {
        GsRunDoc *doc = g_ptr_array_index(self->docs, i);
        const gs_run_data *d = gs_run_doc_get_data(doc);
        GtkWidget *box = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 8);
        gtk_widget_add_css_class(box, "run-row");
        char hex[16], markup[128];
        gs_rgb_hex(gs_palette_run((size_t)g_array_index(self->colors, int, i)), hex, sizeof hex);
        g_snprintf(markup, sizeof markup, "<span foreground='%s' size='x-large'>●</span>", hex);
        GtkWidget *dot = gtk_label_new(NULL);
        gtk_label_set_markup(GTK_LABEL(dot), markup);
        gtk_box_append(GTK_BOX(box), dot);
        GtkWidget *vb = gtk_box_new(GTK_ORIENTATION_VERTICAL, 0);
        gtk_widget_set_hexpand(vb, TRUE);
        GtkWidget *name = gtk_label_new(run_label((GsRunDoc **)self->docs->pdata, self->docs->len, i));
        gtk_label_set_xalign(GTK_LABEL(name), 0);
        gtk_label_set_ellipsize(GTK_LABEL(name), PANGO_ELLIPSIZE_END);
        gtk_widget_add_css_class(name, "heading");
        gtk_box_append(GTK_BOX(vb), name);
        char sub[256];
        g_snprintf(sub, sizeof sub, "%s · %s · %s · %zu ep.", d->name, *d->optimizer ? d->optimizer : "?",
                   *d->arch ? d->arch : "?", d->rows[GS_AXIS_EPOCHS]);
        GtkWidget *s = gtk_label_new(sub);
        gtk_label_set_xalign(GTK_LABEL(s), 0);
        gtk_label_set_ellipsize(GTK_LABEL(s), PANGO_ELLIPSIZE_END);
        gtk_widget_add_css_class(s, "dim-label");
        gtk_widget_add_css_class(s, "caption");
        gtk_box_append(GTK_BOX(vb), s);
        gtk_box_append(GTK_BOX(box), vb);
        gtk_widget_set_tooltip_text(box, d->path);
        if (gs_run_doc_is_live(doc)) {
            GtkWidget *live = gtk_label_new("LIVE");
            gtk_widget_add_css_class(live, "live-badge");
            gtk_widget_set_valign(live, GTK_ALIGN_CENTER);
            gtk_box_append(GTK_BOX(box), live);
            any_live = TRUE;
        }
        GtkWidget *close = gtk_button_new_from_icon_name("window-close-symbolic");
        gtk_widget_add_css_class(close, "flat");
        gtk_widget_set_valign(close, GTK_ALIGN_CENTER);
        gtk_widget_set_tooltip_text(close, "Close this run");
        g_object_set_data(G_OBJECT(close), "gs-doc", doc);
        g_signal_connect(close, "clicked", G_CALLBACK(on_close_run), self);
        gtk_box_append(GTK_BOX(box), close);
        gtk_list_box_append(self->runs_list, box);
    }
    gtk_widget_set_visible(GTK_WIDGET(self->runs_empty), self->docs->len == 0);
    gtk_widget_set_visible(GTK_WIDGET(self->runs_list), self->docs->len > 0);
    gtk_widget_set_visible(GTK_WIDGET(self->live_label), any_live);
    char title[256];
    if (self->docs->len == 1)
        g_snprintf(title, sizeof title, "%s — gradscope-view",
                   gs_run_doc_get_data(g_ptr_array_index(self->docs, 0))->name);
    else if (self->docs->len > 1)
        g_snprintf(title, sizeof title, "%u runs — gradscope-view", self->docs->len);
    else
        g_snprintf(title, sizeof title, "gradscope-view");
    gtk_window_set_title(GTK_WINDOW(self), title);
}

static void runs_changed(GsWindow *self)
{
    rebuild_runs(self);
    rebuild_lists(self);
    sync_epoch_ui(self);
    sync_toolbar(self);
    invalidate(self);
}

static void on_doc_changed(GsRunDoc *doc, gpointer data)
{
    GsWindow *self = data;
    rebuild_runs(self);
    sync_epoch_ui(self);
    invalidate(self);
}

static void remove_doc(GsWindow *self, GsRunDoc *doc)
{
    guint idx;
    if (!g_ptr_array_find(self->docs, doc, &idx))
        return;
    g_signal_handlers_disconnect_by_data(doc, self);
    g_array_remove_index(self->colors, idx);
    g_ptr_array_remove_index(self->docs, idx);
    runs_changed(self);
}

static void on_close_run(GtkButton *button, gpointer data)
{
    remove_doc(GS_WINDOW(data), g_object_get_data(G_OBJECT(button), "gs-doc"));
}

void gs_window_add_doc(GsWindow *self, GsRunDoc *doc)
{
    /* the same file twice: replace the old one */
    for (guint i = 0; i < self->docs->len; i++) {
        GsRunDoc *o = g_ptr_array_index(self->docs, i);
        if (!strcmp(gs_run_doc_get_path(o), gs_run_doc_get_path(doc))) {
            remove_doc(self, o);
            break;
        }
    }
    /* the lowest palette slot not in use */
    int c = 0;
    for (;; c++) {
        gboolean used = FALSE;
        for (guint i = 0; i < self->colors->len; i++)
            used |= g_array_index(self->colors, int, i) == c;
        if (!used)
            break;
    }
    g_ptr_array_add(self->docs, g_object_ref(doc));
    g_array_append_val(self->colors, c);
    g_signal_connect(doc, "changed", G_CALLBACK(on_doc_changed), self);
    runs_changed(self);
    if (gs_run_doc_get_data(doc)->norms_pending)   /* second pass: the per-step norms */
        gs_run_doc_refresh_async(doc, on_refreshed, g_object_ref(self));
}

/* ---- opening ------------------------------------------------------------------------------- */

void gs_window_show_error(GsWindow *self, const char *message)
{
    const char *old = gtk_label_get_text(self->banner_label);
    if (gtk_revealer_get_reveal_child(self->banner_revealer) && old && *old) {
        char *both = g_strdup_printf("%s\n%s", old, message);
        gtk_label_set_text(self->banner_label, both);
        g_free(both);
    } else {
        gtk_label_set_text(self->banner_label, message);
    }
    gtk_revealer_set_reveal_child(self->banner_revealer, TRUE);
}

static void on_banner_close(GtkButton *b, gpointer data)
{
    GsWindow *self = data;
    gtk_revealer_set_reveal_child(self->banner_revealer, FALSE);
    gtk_label_set_text(self->banner_label, "");
}

static void on_opened(GObject *source, GAsyncResult *res, gpointer data)
{
    GsWindow *self = data;
    GError *error = NULL;
    GsRunDoc *doc = gs_run_doc_open_finish(res, &error);
    self->pending--;
    if (doc) {
        gint64 t0 = g_get_monotonic_time();
        gs_window_add_doc(self, doc);
        if (g_getenv("GS_VIEW_TIMING"))
            g_printerr("gradscope-view: %s loaded in %.0f ms, shown in %.0f ms\n", gs_run_doc_get_path(doc),
                       gs_run_doc_get_data(doc)->load_ms, (g_get_monotonic_time() - t0) / 1000.0);
        g_object_unref(doc);
    } else {
        gs_window_show_error(self, error->message);
        g_error_free(error);
    }
    g_object_unref(self);
}

void gs_window_open_files(GsWindow *self, GFile **files, int n)
{
    for (int i = 0; i < n; i++) {
        char *path = g_file_get_path(files[i]);
        if (!path) {
            char *uri = g_file_get_uri(files[i]);
            char *msg = g_strdup_printf("%s: not a local file", uri);
            gs_window_show_error(self, msg);
            g_free(msg);
            g_free(uri);
            continue;
        }
        self->pending++;
        gs_run_doc_open_async(path, NULL, on_opened, g_object_ref(self));
        g_free(path);
    }
}

int gs_window_pending_loads(GsWindow *self)
{
    return self->pending;
}

static void on_open_response(GtkNativeDialog *dialog, int response, gpointer data)
{
    GsWindow *self = data;
    if (response == GTK_RESPONSE_ACCEPT) {
        GListModel *files = gtk_file_chooser_get_files(GTK_FILE_CHOOSER(dialog));
        guint n = g_list_model_get_n_items(files);
        GFile **arr = g_new0(GFile *, n ? n : 1);
        for (guint i = 0; i < n; i++)
            arr[i] = g_list_model_get_item(files, i);
        gs_window_open_files(self, arr, (int)n);
        for (guint i = 0; i < n; i++)
            g_object_unref(arr[i]);
        g_free(arr);
        g_object_unref(files);
    }
    g_object_unref(dialog);
}

static void action_open(GtkWidget *widget, const char *name, GVariant *param)
{
    GsWindow *self = GS_WINDOW(widget);
    GtkFileChooserNative *dlg = gtk_file_chooser_native_new("Open Runs", GTK_WINDOW(self),
                                                            GTK_FILE_CHOOSER_ACTION_OPEN, "_Open", "_Cancel");
    gtk_file_chooser_set_select_multiple(GTK_FILE_CHOOSER(dlg), TRUE);
    GtkFileFilter *f = gtk_file_filter_new();
    gtk_file_filter_set_name(f, "gradscope run logs (*.h5, *.hdf5)");
    gtk_file_filter_add_pattern(f, "*.h5");
    gtk_file_filter_add_pattern(f, "*.hdf5");
    gtk_file_chooser_add_filter(GTK_FILE_CHOOSER(dlg), f);
    g_object_unref(f);
    GtkFileFilter *all = gtk_file_filter_new();
    gtk_file_filter_set_name(all, "All files");
    gtk_file_filter_add_pattern(all, "*");
    gtk_file_chooser_add_filter(GTK_FILE_CHOOSER(dlg), all);
    g_object_unref(all);
    g_signal_connect(dlg, "response", G_CALLBACK(on_open_response), self);
    gtk_native_dialog_show(GTK_NATIVE_DIALOG(dlg));
}

static void action_close_all(GtkWidget *widget, const char *name, GVariant *param)
{
    GsWindow *self = GS_WINDOW(widget);
    while (self->docs->len > 0)
        remove_doc(self, g_ptr_array_index(self->docs, 0));
}

static gboolean on_drop(GtkDropTarget *target, const GValue *value, double x, double y, gpointer data)
{
    GsWindow *self = data;
    if (!G_VALUE_HOLDS(value, GDK_TYPE_FILE_LIST))
        return FALSE;
    GSList *list = g_value_get_boxed(value);
    guint n = g_slist_length(list);
    GFile **arr = g_new0(GFile *, n ? n : 1);
    guint i = 0;
    for (GSList *l = list; l; l = l->next)
        arr[i++] = l->data;
    gs_window_open_files(self, arr, (int)n);
    g_free(arr);
    return TRUE;
}

/* ---- zoom and export ------------------------------------------------------------------------ */

void gs_window_set_zoom(GsWindow *self, double lo, double hi)
{
    GsChartView *chart = chart_for(self, current_view(self));
    if (chart)
        gs_chart_view_set_zoom(chart, lo, hi);
}


gboolean gs_window_export_view(GsWindow *self, const char *path, int width, int height, GError **error)
{
    view_id v = current_view(self);
    gs_view_state st;
    fill_state(self, v, &st);
    double lo = NAN, hi = NAN;
    GsChartView *chart = chart_for(self, v);
    if (chart && !gs_chart_view_get_zoom(chart, &lo, &hi))
        lo = hi = NAN;
    return export_view(v, (GsRunDoc **)self->docs->pdata, (const int *)(void *)self->colors->data,
                       self->docs->len, &st, lo, hi, path, width, height, error);
}

static void on_export_response(GtkNativeDialog *dialog, int response, gpointer data)
{
    GsWindow *self = data;
    if (response == GTK_RESPONSE_ACCEPT) {
        GFile *file = gtk_file_chooser_get_file(GTK_FILE_CHOOSER(dialog));
        char *path = file ? g_file_get_path(file) : NULL;
        const char *size = gtk_file_chooser_get_choice(GTK_FILE_CHOOSER(dialog), "size");
        int w = 1200, h = 800;
        if (!size || !strcmp(size, "window")) {
            GtkWidget *cv = gtk_stack_get_visible_child(self->view_stack);
            w = MAX(gtk_widget_get_width(cv), 320);
            h = MAX(gtk_widget_get_height(cv), 240);
        } else if (sscanf(size, "%dx%d", &w, &h) != 2) {
            w = 1200;
            h = 800;
        }
        if (path) {
            const char *dot = strrchr(path, '.');
            char *full = NULL;
            if (!dot || strchr(dot, '/')) {   /* no extension: the chosen format's */
                const char *fmt = gtk_file_chooser_get_choice(GTK_FILE_CHOOSER(dialog), "format");
                full = g_strdup_printf("%s.%s", path, fmt ? fmt : "png");
            }
            GError *error = NULL;
            if (!gs_window_export_view(self, full ? full : path, w, h, &error)) {
                gs_window_show_error(self, error->message);
                g_error_free(error);
            } else {
                char msg[512];
                g_snprintf(msg, sizeof msg, "Exported %s (%d × %d)", full ? full : path, w, h);
                gtk_label_set_text(self->hover_label, msg);
            }
            g_free(full);
        }
        g_free(path);
        g_clear_object(&file);
    }
    g_object_unref(dialog);
}

static void action_export(GtkWidget *widget, const char *name, GVariant *param)
{
    GsWindow *self = GS_WINDOW(widget);
    GtkFileChooserNative *dlg = gtk_file_chooser_native_new("Export View", GTK_WINDOW(self),
                                                            GTK_FILE_CHOOSER_ACTION_SAVE, "_Export", "_Cancel");
    char fname[64];
    g_snprintf(fname, sizeof fname, "gradscope-%s.png", view_names[MIN(current_view(self), VIEW_COUNT - 1)]);
    gtk_file_chooser_set_current_name(GTK_FILE_CHOOSER(dlg), fname);
    static const char *size_ids[] = { "window", "1200x800", "1800x1000", "2400x1600", NULL };
    static const char *size_labels[] = { "as on screen", "1200 × 800", "1800 × 1000", "2400 × 1600", NULL };
    gtk_file_chooser_add_choice(GTK_FILE_CHOOSER(dlg), "size", "Size", size_ids, size_labels);
    gtk_file_chooser_set_choice(GTK_FILE_CHOOSER(dlg), "size", "window");
    static const char *fmt_ids[] = { "png", "svg", "pdf", NULL };
    static const char *fmt_labels[] = { "PNG", "SVG", "PDF", NULL };
    gtk_file_chooser_add_choice(GTK_FILE_CHOOSER(dlg), "format", "Format (when the name has no extension)",
                                fmt_ids, fmt_labels);
    gtk_file_chooser_set_choice(GTK_FILE_CHOOSER(dlg), "format", "png");
    g_signal_connect(dlg, "response", G_CALLBACK(on_export_response), self);
    gtk_native_dialog_show(GTK_NATIVE_DIALOG(dlg));
}

/* ---- export as gnuplot figure ----------------------------------------------------------------- */

/* An extended regex that matches exactly name (for the analyzer's --select). */
static char *regex_exact(const char *name)
{
    GString *re = g_string_new("^");
    for (const char *p = name; *p; p++) {
        if (strchr(".[]()*+?{}|^$\\", *p))
            g_string_append_c(re, '\\');
        g_string_append_c(re, *p);
    }
    g_string_append_c(re, '$');
    return g_string_free(re, FALSE);
}

/* The `gradscope plot` figure that draws view v in state st, and its --select
 * (g_free'd by the caller; NULL: the figure's default).  NULL when v has none. */
static const char *plot_figure_for(view_id v, const gs_view_state *st, char **select)
{
    *select = NULL;
    switch (v) {
    case VIEW_OVERLAP:
        return st->metric == GS_MAP_COSINE ? "cosine-heatmap"
             : st->metric == GS_MAP_SHARE  ? "residual-share-heatmap"
                                           : "overlap-heatmap";
    case VIEW_NORMS:
        if (st->block)
            *select = regex_exact(st->block);
        return "norms";
    case VIEW_DIST:
        if (st->param)
            *select = regex_exact(st->param);
        return "ridgelines";
    case VIEW_TRAINING: return "training";
    default: return NULL;
    }
}

/* "png", "svg" or "pdf" (the formats' file extensions) as a format. */
static gboolean plot_format_from(const char *format, gs_plot_export_format *out)
{
    const gs_plot_export_format all[] = { GS_PLOT_EXPORT_PNG, GS_PLOT_EXPORT_SVG, GS_PLOT_EXPORT_PDF };
    for (size_t i = 0; i < G_N_ELEMENTS(all); i++)
        if (format && !strcmp(format, gs_plot_export_ext(all[i]))) {
            *out = all[i];
            return TRUE;
        }
    return FALSE;
}

char **gs_export_docs_gnuplot(GsRunDoc **docs, int n, const char *view, const char *outdir, const char *format,
                              GError **error)
{
    view_id v = view_from_name(view);
    gs_plot_export_opts opts = { .outdir = outdir };
    if (v == VIEW_COUNT || !plot_format_from(format, &opts.format)) {
        g_set_error(error, GS_RUN_DOC_ERROR, 2, v == VIEW_COUNT ? "unknown view '%s'" : "unknown format '%s' (png, svg, pdf)",
                    v == VIEW_COUNT ? view : format);
        return NULL;
    }
    const gs_run_data *d0 = n > 0 ? gs_run_doc_get_data(docs[0]) : NULL;
    gs_view_state st = { 0 };
    st.block = d0 && d0->n_blocks ? d0->block_names[0] : NULL;
    st.param = d0 ? default_param(d0) : NULL;
    st.metric = GS_MAP_OVERLAP;
    char *select = NULL;
    const char *figure = plot_figure_for(v, &st, &select);
    if (!figure) {
        g_set_error(error, GS_RUN_DOC_ERROR, 2, "the %s view has no gnuplot figure (overlap, norms, distributions, training)",
                    view);
        return NULL;
    }
    opts.select = select;
    char **paths = gs_run_docs_plot(docs, (guint)n, figure, &opts, error);
    g_free(select);
    return paths;
}

static void on_plotted(GObject *source, GAsyncResult *res, gpointer data)
{
    GsWindow *self = data;
    GError *error = NULL;
    char **paths = gs_run_docs_plot_finish(res, &error);
    if (!paths) {
        char *msg = g_strdup_printf("gnuplot figure: %s", error->message);
        gs_window_show_error(self, msg);
        g_free(msg);
        g_error_free(error);
    } else {
        char *list = g_strjoinv(", ", paths);
        char *msg = g_strdup_printf("Wrote %s (data and .gp script beside it: cd there and run gnuplot to redraw)",
                                    list);
        gtk_label_set_text(self->hover_label, msg);
        g_free(msg);
        g_free(list);
        g_strfreev(paths);
    }
    g_object_unref(self);
}

static void on_gnuplot_response(GtkNativeDialog *dialog, int response, gpointer data)
{
    GsWindow *self = data;
    if (response == GTK_RESPONSE_ACCEPT) {
        GFile *dir = gtk_file_chooser_get_file(GTK_FILE_CHOOSER(dialog));
        char *outdir = dir ? g_file_get_path(dir) : NULL;
        view_id v = current_view(self);
        gs_view_state st;
        fill_state(self, v, &st);
        char *select = NULL;
        const char *figure = plot_figure_for(v, &st, &select);
        gs_plot_export_opts opts = { .outdir = outdir, .select = select };
        if (!plot_format_from(gtk_file_chooser_get_choice(GTK_FILE_CHOOSER(dialog), "format"), &opts.format))
            opts.format = GS_PLOT_EXPORT_PDF;
        if (outdir && figure && self->docs->len > 0) {
            gtk_label_set_text(self->hover_label, "Writing the gnuplot figure…");
            gs_run_docs_plot_async((GsRunDoc **)self->docs->pdata, self->docs->len, figure, &opts, on_plotted,
                                   g_object_ref(self));
        }
        g_free(select);
        g_free(outdir);
        g_clear_object(&dir);
    }
    g_object_unref(dialog);
}

static void action_export_gnuplot(GtkWidget *widget, const char *name, GVariant *param)
{
    GsWindow *self = GS_WINDOW(widget);
    gs_view_state st;
    view_id v = current_view(self);
    fill_state(self, v, &st);
    char *select = NULL;
    const char *figure = plot_figure_for(v, &st, &select);
    g_free(select);
    if (!figure || self->docs->len == 0) {
        gs_window_show_error(self, self->docs->len == 0 ? "Open a run first"
                                                        : "The Summary view has no gnuplot figure; use gradscope report");
        return;
    }
    GtkFileChooserNative *dlg = gtk_file_chooser_native_new("Export as gnuplot Figure — choose a folder",
                                                            GTK_WINDOW(self), GTK_FILE_CHOOSER_ACTION_SELECT_FOLDER,
                                                            "_Write Here", "_Cancel");
    static const char *fmt_ids[] = { "pdf", "svg", "png", NULL };
    static const char *fmt_labels[] = { "PDF", "SVG", "PNG", NULL };
    gtk_file_chooser_add_choice(GTK_FILE_CHOOSER(dlg), "format", "Format", fmt_ids, fmt_labels);
    gtk_file_chooser_set_choice(GTK_FILE_CHOOSER(dlg), "format", "pdf");
    g_signal_connect(dlg, "response", G_CALLBACK(on_gnuplot_response), self);
    gtk_native_dialog_show(GTK_NATIVE_DIALOG(dlg));
}

/* ---- screenshot ---------------------------------------------------------------------------- */

gboolean gs_window_save_screenshot(GsWindow *self, const char *path, GError **error)
{
    GtkWidget *w = GTK_WIDGET(self);
    int width = gtk_widget_get_width(w), height = gtk_widget_get_height(w);
    GskRenderer *renderer = gtk_native_get_renderer(GTK_NATIVE(self));
    if (width <= 0 || height <= 0 || !renderer) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "%s: the window is not realized yet", path);
        return FALSE;
    }
    GdkPaintable *paintable = gtk_widget_paintable_new(w);
    GtkSnapshot *snap = gtk_snapshot_new();
    gdk_paintable_snapshot(paintable, GDK_SNAPSHOT(snap), width, height);
    GskRenderNode *node = gtk_snapshot_free_to_node(snap);
    gboolean ok = FALSE;
    if (node) {
        GdkTexture *tex = gsk_renderer_render_texture(renderer, node,
                                                      &GRAPHENE_RECT_INIT(0, 0, (float)width, (float)height));
        if (tex) {
            ok = gdk_texture_save_to_png(tex, path);
            g_object_unref(tex);
        }
        gsk_render_node_unref(node);
    }
    g_object_unref(paintable);
    if (!ok)
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "%s: cannot write the screenshot", path);
    return ok;
}

/* ---- signals from the UI ------------------------------------------------------------------ */

static void select_block(GsWindow *self, const char *name, gboolean sync_param)
{
    if (!name || (self->sel_block && !strcmp(self->sel_block, name)))
        return;
    g_free(self->sel_block);
    self->sel_block = g_strdup(name);
    self->updating = TRUE;
    select_by_name(self->blocks_list, name);
    if (sync_param && self->docs->len) {
        /* keep the tensor in the selected block: its first conv weight */
        const gs_run_data *d = gs_run_doc_get_data(g_ptr_array_index(self->docs, 0));
        long b = gs_name_index(d->block_names, d->n_blocks, name);
        long p = self->sel_param ? gs_name_index(d->param_names, d->n_params, self->sel_param) : -1;
        if (b >= 0 && (p < 0 || d->param_block[p] != b)) {
            for (size_t i = 0; i < d->n_params; i++)
                if (d->param_block[i] == b) {
                    g_free(self->sel_param);
                    self->sel_param = g_strdup(d->param_names[i]);
                    select_by_name(self->params_list, self->sel_param);
                    break;
                }
        }
    }
    self->updating = FALSE;
    sync_toolbar(self);
    invalidate(self);
}

static void on_block_selected(GtkListBox *list, GtkListBoxRow *row, gpointer data)
{
    GsWindow *self = data;
    if (self->updating || !row)
        return;
    select_block(self, row_name(row), TRUE);
}

static void on_param_selected(GtkListBox *list, GtkListBoxRow *row, gpointer data)
{
    GsWindow *self = data;
    if (self->updating || !row)
        return;
    const char *name = row_name(row);
    if (!name || (self->sel_param && !strcmp(self->sel_param, name)))
        return;
    g_free(self->sel_param);
    self->sel_param = g_strdup(name);
    if (self->docs->len) {   /* and its block */
        const gs_run_data *d = gs_run_doc_get_data(g_ptr_array_index(self->docs, 0));
        long p = gs_name_index(d->param_names, d->n_params, name);
        if (p >= 0 && d->param_block[p] >= 0) {
            select_block(self, d->block_names[d->param_block[p]], FALSE);
        }
    }
    sync_toolbar(self);
    invalidate(self);
}

static void on_filter_changed(GtkSearchEntry *entry, gpointer data)
{
    apply_filter(GS_WINDOW(data));
}

static void on_view_changed(GObject *stack, GParamSpec *pspec, gpointer data)
{
    GsWindow *self = data;
    sync_toolbar(self);
    view_id v = current_view(self);
    if (v < VIEW_COUNT && self->dirty[v])
        rebuild_view(self, v);
    GsChartView *chart = chart_for(self, v);
    gtk_widget_action_set_enabled(GTK_WIDGET(self), "win.zoom-reset", chart && gs_chart_view_is_zoomed(chart));
    gtk_label_set_text(self->hover_label, "");
}

static void on_metric_changed(GObject *dd, GParamSpec *pspec, gpointer data)
{
    GsWindow *self = data;
    if (self->updating)
        return;
    guint m = gtk_drop_down_get_selected(self->metric_dropdown);
    self->metric = m < GS_MAP_COUNT ? (gs_map_metric)m : GS_MAP_OVERLAP;
    sync_toolbar(self);
    invalidate(self);
}

static void on_smooth_changed(GtkAdjustment *adj, gpointer data)
{
    GsWindow *self = data;
    if (self->updating)
        return;
    self->smooth = gtk_adjustment_get_value(adj);
    invalidate(self);
}

static void on_log_toggled(GtkToggleButton *b, gpointer data)
{
    GsWindow *self = data;
    if (self->updating)
        return;
    view_id v = current_view(self);
    if (v < VIEW_COUNT) {
        self->log_y[v] = gtk_toggle_button_get_active(b);
        rebuild_view(self, v);
    }
}

static void on_epoch_changed(GtkAdjustment *adj, gpointer data)
{
    GsWindow *self = data;
    if (self->updating)
        return;
    set_epoch(self, (long)lround(gtk_adjustment_get_value(adj)));
}

static void on_hover(GsChartView *view, const char *text, gpointer data)
{
    GsWindow *self = data;
    gtk_label_set_text(self->hover_label, text);
}

static void on_chart_activated(GsChartView *view, int panel, int kind, glong row, glong col, double x, gpointer data)
{
    GsWindow *self = data;
    const gs_figure *f = gs_chart_view_get_figure(view);
    if (kind == GS_HIT_CELL && f && panel >= 0 && (size_t)panel < f->n) {
        const gs_chart *c = f->panels[panel];
        if (row >= 0 && (size_t)row < c->rows)
            select_block(self, c->row_labels[row], TRUE);
        if (col >= 0 && (size_t)col < c->cols)
            set_epoch(self, (long)lround(c->col_x[col]));
    } else if (kind == GS_HIT_RIDGE) {
        set_epoch(self, row);
    } else if (kind == GS_HIT_POINT && isfinite(x)) {
        set_epoch(self, (long)floor(x));
    }
}

static void action_epoch(GtkWidget *widget, const char *name, GVariant *param)
{
    GsWindow *self = GS_WINDOW(widget);
    long e = shown_epoch(self);
    if (e < 0)
        return;
    set_epoch(self, e + (strcmp(name, "win.epoch-next") == 0 ? 1 : -1));
}

/* win.zoom-in / win.zoom-out / win.zoom-reset: the x axis of the visible chart */
static void action_zoom(GtkWidget *widget, const char *name, GVariant *param)
{
    GsWindow *self = GS_WINDOW(widget);
    GsChartView *chart = chart_for(self, current_view(self));
    if (!chart)
        return;
    if (strcmp(name, "win.zoom-reset") == 0)
        gs_chart_view_reset_zoom(chart);
    else
        gs_chart_view_zoom(chart, strcmp(name, "win.zoom-in") == 0 ? ZOOM_KEY_STEP : 1 / ZOOM_KEY_STEP);
}

static void on_zoom_changed(GsChartView *view, gboolean zoomed, gpointer data)
{
    GsWindow *self = data;
    if (view == chart_for(self, current_view(self)))
        gtk_widget_action_set_enabled(GTK_WIDGET(self), "win.zoom-reset", zoomed);
}

static gboolean on_key(GtkEventControllerKey *ctl, guint keyval, guint keycode, GdkModifierType state,
                       gpointer data)
{
    GsWindow *self = data;
    if (state & (GDK_CONTROL_MASK | GDK_ALT_MASK | GDK_SHIFT_MASK))
        return FALSE;
    GtkWidget *focus = gtk_root_get_focus(GTK_ROOT(self));
    if (focus && (GTK_IS_EDITABLE(focus) || GTK_IS_TEXT(focus)))
        return FALSE;   /* arrows move the cursor in the filter entry */
    if (keyval == GDK_KEY_Left || keyval == GDK_KEY_KP_Left) {
        gtk_widget_activate_action(GTK_WIDGET(self), "win.epoch-prev", NULL);
        return TRUE;
    }
    if (keyval == GDK_KEY_Right || keyval == GDK_KEY_KP_Right) {
        gtk_widget_activate_action(GTK_WIDGET(self), "win.epoch-next", NULL);
        return TRUE;
    }
    return FALSE;
}

/* ---- live refresh --------------------------------------------------------------------------- */

static void on_refreshed(GObject *source, GAsyncResult *res, gpointer data)
{
    GsWindow *self = data;
    GsRunDoc *doc = GS_RUN_DOC(source);
    GError *error = NULL;
    gboolean was_live = gs_run_doc_is_live(doc);
    gs_run_doc_refresh_finish(doc, res, &error);
    if (error) {
        char *msg = g_strdup_printf("%s — stopped following this run; the last data read stay on screen",
                                    error->message);
        gs_window_show_error(self, msg);
        g_free(msg);
        g_error_free(error);
    }
    if (was_live != gs_run_doc_is_live(doc) || error)
        rebuild_runs(self);
    g_object_unref(self);
}

static gboolean on_live_tick(gpointer data)
{
    GsWindow *self = data;
    for (guint i = 0; i < self->docs->len; i++) {
        GsRunDoc *doc = g_ptr_array_index(self->docs, i);
        if (gs_run_doc_is_live(doc))
            gs_run_doc_refresh_async(doc, on_refreshed, g_object_ref(self));
    }
    return G_SOURCE_CONTINUE;
}

/* ---- GObject ---------------------------------------------------------------------------------- */

gboolean gs_window_set_view(GsWindow *self, const char *name)
{
    if (view_from_name(name) == VIEW_COUNT)
        return FALSE;
    gtk_stack_set_visible_child_name(self->view_stack, name);
    return TRUE;
}

static void gs_window_dispose(GObject *object)
{
    GsWindow *self = GS_WINDOW(object);
    if (self->live_timer) {
        g_source_remove(self->live_timer);
        self->live_timer = 0;
    }
    if (self->docs) {
        for (guint i = 0; i < self->docs->len; i++)
            g_signal_handlers_disconnect_by_data(g_ptr_array_index(self->docs, i), self);
        g_clear_pointer(&self->docs, g_ptr_array_unref);
    }
    g_clear_pointer(&self->colors, g_array_unref);
    g_clear_pointer(&self->sel_block, g_free);
    g_clear_pointer(&self->sel_param, g_free);
    g_clear_pointer(&self->block_mask, g_free);
    g_clear_pointer(&self->param_mask, g_free);
    gtk_widget_dispose_template(GTK_WIDGET(self), GS_TYPE_WINDOW);
    G_OBJECT_CLASS(gs_window_parent_class)->dispose(object);
}

static void gs_window_class_init(GsWindowClass *klass)
{
    GObjectClass *oc = G_OBJECT_CLASS(klass);
    GtkWidgetClass *wc = GTK_WIDGET_CLASS(klass);
    oc->dispose = gs_window_dispose;
    g_type_ensure(GS_TYPE_CHART_VIEW);
    gtk_widget_class_set_template_from_resource(wc, "/org/gradscope/View/gs-window.ui");
#define CHILD(name) gtk_widget_class_bind_template_child(wc, GsWindow, name)
    CHILD(live_label);
    CHILD(banner_revealer);
    CHILD(banner_label);
    CHILD(banner_close);
    CHILD(runs_list);
    CHILD(runs_empty);
    CHILD(filter_entry);
    CHILD(sel_stack);
    CHILD(blocks_list);
    CHILD(params_list);
    CHILD(metric_label);
    CHILD(metric_dropdown);
    CHILD(smooth_label);
    CHILD(smooth_scale);
    CHILD(smooth_adj);
    CHILD(log_toggle);
    CHILD(toolbar_hint);
    CHILD(toolbar);
    CHILD(view_stack);
    CHILD(overlap_view);
    CHILD(norms_view);
    CHILD(dist_view);
    CHILD(training_view);
    CHILD(summary_label);
    CHILD(epoch_label);
    CHILD(epoch_scale);
    CHILD(epoch_adj);
    CHILD(hover_label);
#undef CHILD
    gtk_widget_class_install_action(wc, "win.open", NULL, action_open);
    gtk_widget_class_install_action(wc, "win.export", NULL, action_export);
    gtk_widget_class_install_action(wc, "win.export-gnuplot", NULL, action_export_gnuplot);
    gtk_widget_class_install_action(wc, "win.close-all", NULL, action_close_all);
    gtk_widget_class_install_action(wc, "win.epoch-prev", NULL, action_epoch);
    gtk_widget_class_install_action(wc, "win.epoch-next", NULL, action_epoch);
    gtk_widget_class_install_action(wc, "win.zoom-in", NULL, action_zoom);
    gtk_widget_class_install_action(wc, "win.zoom-out", NULL, action_zoom);
    gtk_widget_class_install_action(wc, "win.zoom-reset", NULL, action_zoom);
}

static void gs_window_init(GsWindow *self)
{
    gtk_widget_init_template(GTK_WIDGET(self));
    self->docs = g_ptr_array_new_with_free_func(g_object_unref);
    self->colors = g_array_new(FALSE, TRUE, sizeof(int));
    self->epoch = -1;
    self->metric = GS_MAP_OVERLAP;
    self->log_y[VIEW_NORMS] = TRUE;
    self->smooth = gtk_adjustment_get_value(self->smooth_adj);

    gtk_list_box_set_filter_func(self->blocks_list, filter_blocks, self, NULL);
    gtk_list_box_set_filter_func(self->params_list, filter_params, self, NULL);
    g_signal_connect(self->blocks_list, "row-selected", G_CALLBACK(on_block_selected), self);
    g_signal_connect(self->params_list, "row-selected", G_CALLBACK(on_param_selected), self);
    g_signal_connect(self->filter_entry, "search-changed", G_CALLBACK(on_filter_changed), self);
    g_signal_connect(self->view_stack, "notify::visible-child", G_CALLBACK(on_view_changed), self);
    g_signal_connect(self->metric_dropdown, "notify::selected", G_CALLBACK(on_metric_changed), self);
    g_signal_connect(self->smooth_adj, "value-changed", G_CALLBACK(on_smooth_changed), self);
    g_signal_connect(self->log_toggle, "toggled", G_CALLBACK(on_log_toggled), self);
    g_signal_connect(self->epoch_adj, "value-changed", G_CALLBACK(on_epoch_changed), self);
    g_signal_connect(self->banner_close, "clicked", G_CALLBACK(on_banner_close), self);
    GsChartView *charts[4] = { self->overlap_view, self->norms_view, self->dist_view, self->training_view };
    for (int i = 0; i < 4; i++) {
        g_signal_connect(charts[i], "hover", G_CALLBACK(on_hover), self);
        g_signal_connect(charts[i], "activated", G_CALLBACK(on_chart_activated), self);
        g_signal_connect(charts[i], "zoom-changed", G_CALLBACK(on_zoom_changed), self);
    }
    gtk_widget_action_set_enabled(GTK_WIDGET(self), "win.zoom-reset", FALSE);

    GtkEventController *keys = gtk_event_controller_key_new();
    g_signal_connect(keys, "key-pressed", G_CALLBACK(on_key), self);
    gtk_widget_add_controller(GTK_WIDGET(self), keys);

    GtkDropTarget *drop = gtk_drop_target_new(GDK_TYPE_FILE_LIST, GDK_ACTION_COPY);
    g_signal_connect(drop, "drop", G_CALLBACK(on_drop), self);
    gtk_widget_add_controller(GTK_WIDGET(self), GTK_EVENT_CONTROLLER(drop));

    self->live_timer = g_timeout_add(LIVE_PERIOD_MS, on_live_tick, self);
    runs_changed(self);
}

GsWindow *gs_window_new(GtkApplication *app)
{
    return g_object_new(GS_TYPE_WINDOW, "application", app, NULL);
}
