/* gs_app.h — GsApplication: the gradscope-view GtkApplication.
 *
 * Interactive mode: one window, the runs given on the command line opened in workers.
 * Headless screenshot mode (gs_application_set_screenshot): the window is shown at a
 * fixed size with already opened runs, and once it is mapped and has drawn a few
 * frames it is captured to a PNG (gs_window_save_screenshot) and the app quits; the
 * exit code (gs_application_get_exit_code) is 0 on success, 1 when the capture failed.
 *
 * Timing: with GS_VIEW_TIMING=1 in the environment, the time from process start to
 * the first frame painted after every command-line run has loaded goes to stderr as
 * "gradscope-view: first paint with data after N ms"; with GS_VIEW_TIMING=exit the app
 * then quits (for benchmarks).
 */
#ifndef GS_APP_H
#define GS_APP_H

#include <gtk/gtk.h>

#include "gs_run_doc.h"

G_BEGIN_DECLS

#define GS_TYPE_APPLICATION (gs_application_get_type())
G_DECLARE_FINAL_TYPE(GsApplication, gs_application, GS, APPLICATION, GtkApplication)

GsApplication *gs_application_new(void);

/* Files to open when the window appears (copied). */
void gs_application_set_files(GsApplication *self, char **paths, int n);

/* Headless: capture view at width × height to path, showing docs (refs taken). */
/* Screenshot mode: zoom the view's x axis to [lo, hi] (gs_window_set_zoom). */
void gs_application_set_screenshot_zoom(GsApplication *self, double lo, double hi);
void gs_application_set_screenshot(GsApplication *self, const char *path, const char *view, int width,
                                   int height, GsRunDoc **docs, int n);

int gs_application_get_exit_code(GsApplication *self);

G_END_DECLS

#endif
