/* gs_run_doc.h — GsRunDoc: one open run log in the GUI.
 *
 * Owns the analyzer's gs_run and the current gs_run_data snapshot.  Opening reads a
 * quick snapshot (no per-step block norms: GS_LOAD_QUICK) so the first paint comes
 * early; the first refresh (the window asks for it at once) completes it.  Opening and
 * refreshing run in a GTask worker; the result is handed back on the main thread, so
 * the UI never waits on HDF5 for them.  Every call into the reader (from any thread,
 * for any document) holds one process-wide lock, because HDF5 is built without
 * thread-safety.
 *
 * Threads: every gs_run_doc_* function except the _async worker bodies is for the
 * main thread.  The snapshot returned by gs_run_doc_get_data() stays valid until the
 * next successful refresh finishes (the "changed" signal) or the doc is finalized.
 */
#ifndef GS_RUN_DOC_H
#define GS_RUN_DOC_H

#include <gio/gio.h>
#include <stdint.h>

#include "gs_plot_export.h"
#include "gs_run_data.h"

G_BEGIN_DECLS

#define GS_TYPE_RUN_DOC (gs_run_doc_get_type())
G_DECLARE_FINAL_TYPE(GsRunDoc, gs_run_doc, GS, RUN_DOC, GObject)

#define GS_RUN_DOC_ERROR (gs_run_doc_error_quark())
GQuark gs_run_doc_error_quark(void);

/* Open path and load its snapshot in a worker; finish with gs_run_doc_open_finish
 * (a new doc, or NULL with the reader's one-line message in error). */
void gs_run_doc_open_async(const char *path, GCancellable *cancellable, GAsyncReadyCallback cb,
                           gpointer user_data);
GsRunDoc *gs_run_doc_open_finish(GAsyncResult *res, GError **error);

/* The same, blocking, with the full snapshot at once (headless modes and tests). */
GsRunDoc *gs_run_doc_open_sync(const char *path, GError **error);

/* Make rows flushed by a live writer visible (gs_run_refresh) and, when anything
 * changed, load a new snapshot — in a worker.  The finish returns TRUE when the
 * snapshot was replaced (and "changed" was emitted), FALSE when nothing changed or on
 * error (error set: e.g. the file was deleted).  At most one refresh runs at a time:
 * a call while one is pending completes with FALSE at once. */
void gs_run_doc_refresh_async(GsRunDoc *doc, GAsyncReadyCallback cb, gpointer user_data);
gboolean gs_run_doc_refresh_finish(GsRunDoc *doc, GAsyncResult *res, GError **error);

const gs_run_data *gs_run_doc_get_data(GsRunDoc *doc);
const char *gs_run_doc_get_path(GsRunDoc *doc);

/* TRUE while the run looks like it is being written (SWMR, status "running", recent
 * changes) — the live indicator; FALSE after a refresh error. */
gboolean gs_run_doc_is_live(GsRunDoc *doc);

/* The per-epoch histogram of tensor p before ("pre") or after ("post") the transform:
 * [*rows × H] counts owned by the doc (cached per tensor, dropped on refresh), or NULL
 * with *rows = 0 when absent.  Reads synchronously (one small slab). */
const int64_t *gs_run_doc_get_hist(GsRunDoc *doc, const char *side, size_t p, size_t *rows);

/* Write the analyzer's gnuplot figure `figure` (`gradscope plot --figure`) for docs
 * into opts->outdir — data files and a standalone FIG.gp per figure — and run gnuplot
 * there, as the plot verb does.  Blocking (the reader under the process-wide lock,
 * gnuplot outside it): call from a worker.  Returns the paths of the drawn figures
 * (a NULL-terminated array, free with g_strfreev), or NULL with error set. */
char **gs_run_docs_plot(GsRunDoc **docs, guint n, const char *figure, const gs_plot_export_opts *opts,
                        GError **error);

/* The same in a GTask worker (docs are referenced until it finishes). */
void gs_run_docs_plot_async(GsRunDoc **docs, guint n, const char *figure, const gs_plot_export_opts *opts,
                            GAsyncReadyCallback cb, gpointer user_data);
char **gs_run_docs_plot_finish(GAsyncResult *res, GError **error);

G_END_DECLS

#endif
