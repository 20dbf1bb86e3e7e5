/* gs_app.c — GsApplication (see the header). */
#include "gs_app.h"

#include <math.h>
#include <stdio.h>

#include "gs_window.h"

#define SCREENSHOT_FRAMES  6      /* frames drawn after mapping before the capture */
#define SCREENSHOT_TIMEOUT 30     /* seconds */

struct _GsApplication {
    GtkApplication parent_instance;
    char     **files;
    char      *shot_path, *shot_view;
    int        shot_w, shot_h;
    double     shot_zoom_lo, shot_zoom_hi;   /* NaN: not zoomed */
    GPtrArray *shot_docs;
    int        frames;
    gboolean   resized;
    int        exit_code;
    gint64     t0;
    gboolean   timing, timed;
    GsWindow  *window;
};

G_DEFINE_FINAL_TYPE(GsApplication, gs_application, GTK_TYPE_APPLICATION)

static void action_quit(GSimpleAction *a, GVariant *p, gpointer data)
{
    g_application_quit(G_APPLICATION(data));
}

static void action_about(GSimpleAction *a, GVariant *p, gpointer data)
{
    GtkApplication *app = data;
    static const char *authors[] = { "The gradscope authors", NULL };
    gtk_show_about_dialog(gtk_application_get_active_window(app), "program-name", "gradscope-view",
                          "logo-icon-name", "org.gradscope.View", "version", GS_VERSION, "comments",
                          "Explore gradient-overlap run logs of deep residual networks:\n"
                          "skip vs residual gradients, ZNorm, training curves.",
                          "license-type", GTK_LICENSE_MIT_X11, "authors", authors, NULL);
}

static gboolean on_timeout(gpointer data)
{
    GsApplication *self = data;
    fprintf(stderr, "gradscope-view: %s: timed out waiting for the window to draw\n", self->shot_path);
    self->exit_code = 1;
    g_application_quit(G_APPLICATION(self));
    return G_SOURCE_REMOVE;
}

static gboolean on_shot_tick(GtkWidget *widget, GdkFrameClock *clock, gpointer data)
{
    GsApplication *self = data;
    if (!gtk_widget_get_mapped(widget) || gtk_widget_get_width(widget) <= 0)
        return G_SOURCE_CONTINUE;
    int w = gtk_widget_get_width(widget), h = gtk_widget_get_height(widget);
    if (!self->resized && (w != self->shot_w || h != self->shot_h)) {
        /* the default size counts the client-side decorations: ask for what makes the
         * window itself shot_w × shot_h */
        self->resized = TRUE;
        gtk_window_set_default_size(GTK_WINDOW(widget), 2 * self->shot_w - w, 2 * self->shot_h - h);
        self->frames = 0;
        gtk_widget_queue_resize(widget);
        return G_SOURCE_CONTINUE;
    }
    if (++self->frames < SCREENSHOT_FRAMES) {
        gtk_widget_queue_draw(widget);   /* keep frames coming */
        return G_SOURCE_CONTINUE;
    }
    GError *error = NULL;
    if (!gs_window_save_screenshot(GS_WINDOW(widget), self->shot_path, &error)) {
        fprintf(stderr, "gradscope-view: %s\n", error->message);
        g_error_free(error);
        self->exit_code = 1;
    } else {
        self->exit_code = 0;
    }
    g_application_quit(G_APPLICATION(self));
    return G_SOURCE_REMOVE;
}

static void on_after_paint(GdkFrameClock *clock, gpointer data)
{
    GsApplication *self = data;
    if (self->timed || !self->window || gs_window_pending_loads(self->window) > 0)
        return;
    self->timed = TRUE;
    fprintf(stderr, "gradscope-view: first paint with data after %.0f ms\n",
            (g_get_monotonic_time() - self->t0) / 1000.0);
    g_signal_handlers_disconnect_by_func(clock, on_after_paint, self);
    if (!g_strcmp0(g_getenv("GS_VIEW_TIMING"), "exit"))
        g_application_quit(G_APPLICATION(self));
}

static void on_realize(GtkWidget *widget, gpointer data)
{
    GdkFrameClock *clock = gtk_widget_get_frame_clock(widget);
    if (clock)
        g_signal_connect(clock, "after-paint", G_CALLBACK(on_after_paint), data);
}

static void gs_application_activate(GApplication *app)
{
    GsApplication *self = GS_APPLICATION(app);
    if (self->window) {
        gtk_window_present(GTK_WINDOW(self->window));
        return;
    }
    GsWindow *win = gs_window_new(GTK_APPLICATION(app));
    self->window = win;
    g_object_add_weak_pointer(G_OBJECT(win), (gpointer *)&self->window);
    if (self->shot_path) {
        gtk_window_set_default_size(GTK_WINDOW(win), self->shot_w, self->shot_h);
        for (guint i = 0; i < self->shot_docs->len; i++)
            gs_window_add_doc(win, g_ptr_array_index(self->shot_docs, i));
        gs_window_set_view(win, self->shot_view);
        gs_window_set_zoom(win, self->shot_zoom_lo, self->shot_zoom_hi);
        gtk_widget_add_tick_callback(GTK_WIDGET(win), on_shot_tick, self, NULL);
        g_timeout_add_seconds(SCREENSHOT_TIMEOUT, on_timeout, self);
    } else if (self->files) {
        int n = (int)g_strv_length(self->files);
        GFile **files = g_new0(GFile *, n ? n : 1);
        for (int i = 0; i < n; i++)
            files[i] = g_file_new_for_commandline_arg(self->files[i]);
        gs_window_open_files(win, files, n);
        for (int i = 0; i < n; i++)
            g_object_unref(files[i]);
        g_free(files);
    }
    if (self->timing)
        g_signal_connect(win, "realize", G_CALLBACK(on_realize), self);
    gtk_window_present(GTK_WINDOW(win));
}

static void gs_application_startup(GApplication *app)
{
    G_APPLICATION_CLASS(gs_application_parent_class)->startup(app);
    static const GActionEntry entries[] = {
        { "quit", action_quit, NULL, NULL, NULL, { 0 } },
        { "about", action_about, NULL, NULL, NULL, { 0 } },
    };
    g_action_map_add_action_entries(G_ACTION_MAP(app), entries, G_N_ELEMENTS(entries), app);
    GtkApplication *gapp = GTK_APPLICATION(app);
    gtk_application_set_accels_for_action(gapp, "app.quit", (const char *[]){ "<Control>q", NULL });
    gtk_application_set_accels_for_action(gapp, "win.open", (const char *[]){ "<Control>o", NULL });
    gtk_application_set_accels_for_action(gapp, "win.export", (const char *[]){ "<Control>e", NULL });
    gtk_application_set_accels_for_action(gapp, "win.zoom-in",
                                          (const char *[]){ "<Control>plus", "<Control>equal", "<Control>KP_Add", NULL });
    gtk_application_set_accels_for_action(gapp, "win.zoom-out",
                                          (const char *[]){ "<Control>minus", "<Control>KP_Subtract", NULL });
    gtk_application_set_accels_for_action(gapp, "win.zoom-reset", (const char *[]){ "<Control>0", NULL });
    gtk_application_set_accels_for_action(gapp, "win.show-help-overlay",
                                          (const char *[]){ "<Control>question", "F1", NULL });
    GtkCssProvider *css = gtk_css_provider_new();
    gtk_css_provider_load_from_resource(css, "/org/gradscope/View/style.css");
    gtk_style_context_add_provider_for_display(gdk_display_get_default(), GTK_STYLE_PROVIDER(css),
                                               GTK_STYLE_PROVIDER_PRIORITY_APPLICATION);
    g_object_unref(css);
    gtk_window_set_default_icon_name("org.gradscope.View");
}

static void gs_application_finalize(GObject *object)
{
    GsApplication *self = GS_APPLICATION(object);
    g_strfreev(self->files);
    g_free(self->shot_path);
    g_free(self->shot_view);
    g_clear_pointer(&self->shot_docs, g_ptr_array_unref);
    G_OBJECT_CLASS(gs_application_parent_class)->finalize(object);
}

static void gs_application_class_init(GsApplicationClass *klass)
{
    G_OBJECT_CLASS(klass)->finalize = gs_application_finalize;
    G_APPLICATION_CLASS(klass)->activate = gs_application_activate;
    G_APPLICATION_CLASS(klass)->startup = gs_application_startup;
}

static void gs_application_init(GsApplication *self)
{
    self->t0 = g_get_monotonic_time();
    self->shot_zoom_lo = self->shot_zoom_hi = NAN;
    self->timing = g_getenv("GS_VIEW_TIMING") != NULL;
}

GsApplication *gs_application_new(void)
{
    return g_object_new(GS_TYPE_APPLICATION, "application-id", "org.gradscope.View", "flags",
                        G_APPLICATION_NON_UNIQUE, NULL);
}

void gs_application_set_files(GsApplication *self, char **paths, int n)
{
    g_strfreev(self->files);
    self->files = g_new0(char *, n + 1);
    for (int i = 0; i < n; i++)
        self->files[i] = g_strdup(paths[i]);
}

void gs_application_set_screenshot_zoom(GsApplication *self, double lo, double hi)
{
    self->shot_zoom_lo = lo;
    self->shot_zoom_hi = hi;
}

void gs_application_set_screenshot(GsApplication *self, const char *path, const char *view, int width,
                                   int height, GsRunDoc **docs, int n)
{
    g_free(self->shot_path);
    g_free(self->shot_view);
    self->shot_path = g_strdup(path);
    self->shot_view = g_strdup(view);
    self->shot_w = width;
    self->shot_h = height;
    g_clear_pointer(&self->shot_docs, g_ptr_array_unref);
    self->shot_docs = g_ptr_array_new_with_free_func(g_object_unref);
    for (int i = 0; i < n; i++)
        g_ptr_array_add(self->shot_docs, g_object_ref(docs[i]));
    self->exit_code = 1;   /* until the capture succeeds */
}

int gs_application_get_exit_code(GsApplication *self)
{
    return self->exit_code;
}
