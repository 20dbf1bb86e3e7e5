/* gs_window.h — GsWindow: the gradscope-view main window (template gs-window.ui).
 *
 * Shows the open runs (GsRunDoc) in a sidebar with the block / tensor lists and their
 * regex filter, and the views in a GtkStack: overlap map, norms, distributions,
 * training, summary.  It owns the docs it was given and the view state (selected
 * block and tensor, current epoch, metric, smoothing, log axes), and rebuilds the
 * visible view's figure (gs_view_models.h) whenever one of those changes.
 *
 * Errors (a file that cannot be opened, a live run that vanished) appear in a banner
 * at the top; the window keeps running.
 */
#ifndef GS_WINDOW_H
#define GS_WINDOW_H

#include <gtk/gtk.h>

#include "gs_run_doc.h"

G_BEGIN_DECLS

#define GS_TYPE_WINDOW (gs_window_get_type())
G_DECLARE_FINAL_TYPE(GsWindow, gs_window, GS, WINDOW, GtkApplicationWindow)

GsWindow *gs_window_new(GtkApplication *app);

/* Open files in workers; each appears when loaded, or an error goes to the banner. */
void gs_window_open_files(GsWindow *self, GFile **files, int n);
/* Add an already opened doc (the window takes a reference). */
void gs_window_add_doc(GsWindow *self, GsRunDoc *doc);
/* Number of open loads that have not finished. */
int gs_window_pending_loads(GsWindow *self);

/* Switch the visible view by name: overlap, norms, distributions, training, summary.
 * Returns FALSE for an unknown name. */
gboolean gs_window_set_view(GsWindow *self, const char *name);

/* Show an error in the banner. */
void gs_window_show_error(GsWindow *self, const char *message);

/* Render the whole window as it is on screen to a PNG (the window must be mapped):
 * the widget paintable → GtkSnapshot → the window's GskRenderer → texture → PNG. */
gboolean gs_window_save_screenshot(GsWindow *self, const char *path, GError **error);

/* Zoom the visible chart's x axis to [lo, hi] (its x units: epochs, |g|, columns of
 * the overlap map); NaN shows all of it. */
void gs_window_set_zoom(GsWindow *self, double lo, double hi);

/* Export the visible view at width × height to path (.png, .svg or .pdf) with cairo. */
gboolean gs_window_export_view(GsWindow *self, const char *path, int width, int height, GError **error);

/* Headless export without a window: build the named view of docs, zoomed to the x
 * window [zoom_lo, zoom_hi] (NaN: all of it, see gs_window_set_zoom), and write it. */
gboolean gs_export_docs(GsRunDoc **docs, int n, const char *view, double zoom_lo, double zoom_hi, const char *path,
                        int width, int height, GError **error);

/* Headless "Export as gnuplot figure": the analyzer's figure for the named view of
 * docs (with the default selection, as gs_export_docs) written into outdir as data
 * files + a standalone .gp script, and drawn by gnuplot in format ("png", "svg",
 * "pdf").  Returns the drawn files (NULL-terminated, g_strfreev), or NULL with error
 * (code 2: the input — e.g. the summary view, which has no figure — 1: runtime). */
char **gs_export_docs_gnuplot(GsRunDoc **docs, int n, const char *view, const char *outdir, const char *format,
                              GError **error);

G_END_DECLS

#endif
