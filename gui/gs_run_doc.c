/* gs_run_doc.c — GsRunDoc (see the header). */
#include "gs_run_doc.h"

#include <string.h>

/* HDF5 is not thread-safe: every reader call in the process goes through this lock. */
static GMutex reader_lock;

struct _GsRunDoc {
    GObject      parent_instance;
    char        *path;
    gs_run      *run;
    gs_run_data *data;          /* current snapshot (owned) */
    gboolean     live;
    gboolean     refreshing;
    gboolean     dead;          /* a refresh failed: stop following */
    /* histogram cache for one tensor */
    long         hist_p;
    int64_t     *hist[2];       /* pre, post */
    size_t       hist_rows[2];
};

G_DEFINE_TYPE(GsRunDoc, gs_run_doc, G_TYPE_OBJECT)
G_DEFINE_QUARK(gs-run-doc-error-quark, gs_run_doc_error)

enum { SIGNAL_CHANGED, N_SIGNALS };
static guint signals[N_SIGNALS];

static void drop_hist(GsRunDoc *self)
{
    for (int i = 0; i < 2; i++) {
        g_clear_pointer(&self->hist[i], free);
        self->hist_rows[i] = 0;
    }
    self->hist_p = -1;
}

static void snapshot_free(gs_run_data *d)
{
    if (d) {
        gs_run_data_free(d);
        g_free(d);
    }
}

static void gs_run_doc_finalize(GObject *object)
{
    GsRunDoc *self = GS_RUN_DOC(object);
    drop_hist(self);
    snapshot_free(self->data);
    if (self->run) {
        g_mutex_lock(&reader_lock);
        gs_run_close(self->run);
        g_mutex_unlock(&reader_lock);
    }
    g_free(self->path);
    G_OBJECT_CLASS(gs_run_doc_parent_class)->finalize(object);
}

static void gs_run_doc_class_init(GsRunDocClass *klass)
{
    G_OBJECT_CLASS(klass)->finalize = gs_run_doc_finalize;
    /* "changed": a refresh replaced the snapshot */
    signals[SIGNAL_CHANGED] = g_signal_new("changed", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0, NULL,
                                           NULL, NULL, G_TYPE_NONE, 0);
}

static void gs_run_doc_init(GsRunDoc *self)
{
    self->hist_p = -1;
}

/* ---- opening ------------------------------------------------------------------------ */

/* Worker body: open + load under the lock.  Returns a doc or NULL with error. */
static GsRunDoc *open_blocking(const char *path, gs_load_flags flags, GError **error)
{
    char err[1024] = "";
    g_mutex_lock(&reader_lock);
    gs_run *run = gs_run_open(path, err, sizeof err);
    gs_run_data *d = NULL;
    int live = 0;
    if (run) {
        d = g_new0(gs_run_data, 1);
        if (gs_run_data_load(run, d, flags, err, sizeof err) < 0) {
            g_free(d);
            d = NULL;
            gs_run_close(run);
            run = NULL;
        } else {
            live = gs_run_is_live(run);
        }
    }
    g_mutex_unlock(&reader_lock);
    if (!run) {
        g_set_error_literal(error, GS_RUN_DOC_ERROR, 0, *err ? err : "cannot open the run");
        return NULL;
    }
    GsRunDoc *doc = g_object_new(GS_TYPE_RUN_DOC, NULL);
    doc->path = g_strdup(path);
    doc->run = run;
    doc->data = d;
    doc->live = live;
    return doc;
}

static void open_thread(GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
    GError *error = NULL;
    GsRunDoc *doc = open_blocking(task_data, GS_LOAD_QUICK, &error);
    if (doc)
        g_task_return_pointer(task, doc, g_object_unref);
    else
        g_task_return_error(task, error);
}

void gs_run_doc_open_async(const char *path, GCancellable *cancellable, GAsyncReadyCallback cb,
                           gpointer user_data)
{
    GTask *task = g_task_new(NULL, cancellable, cb, user_data);
    g_task_set_task_data(task, g_strdup(path), g_free);
    g_task_run_in_thread(task, open_thread);
    g_object_unref(task);
}

GsRunDoc *gs_run_doc_open_finish(GAsyncResult *res, GError **error)
{
    return g_task_propagate_pointer(G_TASK(res), error);
}

GsRunDoc *gs_run_doc_open_sync(const char *path, GError **error)
{
    return open_blocking(path, GS_LOAD_FULL, error);
}

/* ---- refreshing --------------------------------------------------------------------- */

typedef struct refresh_result {
    gs_run_data *data;   /* NULL: unchanged */
    int          live;
} refresh_result;

static void refresh_result_free(gpointer p)
{
    refresh_result *r = p;
    snapshot_free(r->data);
    g_free(r);
}

static void refresh_thread(GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
    GsRunDoc *self = source;
    char err[1024] = "";
    refresh_result *r = g_new0(refresh_result, 1);
    g_mutex_lock(&reader_lock);
    int rc = gs_run_refresh(self->run);
    if (rc < 0) {
        g_strlcpy(err, gs_run_error(self->run), sizeof err);
    } else {
        int changed = self->data->norms_pending || strcmp(gs_run_status(self->run), self->data->status) != 0;
        for (int a = 0; a < GS_AXIS_COUNT && !changed; a++)
            changed = gs_run_rows(self->run, (gs_axis)a) != self->data->rows[a];
        r->live = gs_run_is_live(self->run);
        if (changed) {
            r->data = g_new0(gs_run_data, 1);
            if (gs_run_data_load(self->run, r->data, GS_LOAD_FULL, err, sizeof err) < 0) {
                g_clear_pointer(&r->data, g_free);
                rc = -1;
            }
        }
    }
    g_mutex_unlock(&reader_lock);
    if (rc < 0) {
        refresh_result_free(r);
        g_task_return_new_error(task, GS_RUN_DOC_ERROR, 0, "%s", *err ? err : "refresh failed");
        return;
    }
    g_task_return_pointer(task, r, refresh_result_free);
}

void gs_run_doc_refresh_async(GsRunDoc *doc, GAsyncReadyCallback cb, gpointer user_data)
{
    GTask *task = g_task_new(doc, NULL, cb, user_data);
    if (doc->refreshing || doc->dead) {
        g_task_return_pointer(task, g_new0(refresh_result, 1), refresh_result_free);
        g_object_unref(task);
        return;
    }
    doc->refreshing = TRUE;
    g_task_set_task_data(task, GINT_TO_POINTER(1), NULL);   /* marks a real refresh */
    g_task_run_in_thread(task, refresh_thread);
    g_object_unref(task);
}

gboolean gs_run_doc_refresh_finish(GsRunDoc *doc, GAsyncResult *res, GError **error)
{
    GTask *task = G_TASK(res);
    if (g_task_get_task_data(task))
        doc->refreshing = FALSE;
    refresh_result *r = g_task_propagate_pointer(task, error);
    if (!r) {
        doc->dead = TRUE;
        doc->live = FALSE;
        return FALSE;
    }
    gboolean changed = FALSE;
    if (g_task_get_task_data(task))
        doc->live = r->live;
    if (r->data) {
        snapshot_free(doc->data);
        doc->data = r->data;
        r->data = NULL;
        drop_hist(doc);
        changed = TRUE;
    }
    refresh_result_free(r);
    if (changed)
        g_signal_emit(doc, signals[SIGNAL_CHANGED], 0);
    return changed;
}

/* ---- accessors ---------------------------------------------------------------------- */

const gs_run_data *gs_run_doc_get_data(GsRunDoc *doc)
{
    return doc->data;
}

const char *gs_run_doc_get_path(GsRunDoc *doc)
{
    return doc->path;
}

gboolean gs_run_doc_is_live(GsRunDoc *doc)
{
    return doc->live && !doc->dead;
}

const int64_t *gs_run_doc_get_hist(GsRunDoc *doc, const char *side, size_t p, size_t *rows)
{
    int s = strcmp(side, "pre") == 0 ? 0 : 1;
    if (doc->hist_p != (long)p) {
        drop_hist(doc);
        char err[1024];
        g_mutex_lock(&reader_lock);
        for (int i = 0; i < 2; i++)
            doc->hist[i] = gs_run_data_read_hist(doc->run, i ? "post" : "pre", p, &doc->hist_rows[i], err,
                                                 sizeof err);
        g_mutex_unlock(&reader_lock);
        doc->hist_p = (long)p;
    }
    *rows = doc->hist_rows[s];
    return doc->hist[s];
}

/* ---- gnuplot figures ------------------------------------------------------------------- */

char **gs_run_docs_plot(GsRunDoc **docs, guint n, const char *figure, const gs_plot_export_opts *opts,
                        GError **error)
{
    char err[1024] = "";
    int input_error = 0;
    gs_plot_stems stems = { 0 };
    gs_run **runs = g_new0(gs_run *, n ? n : 1);
    for (guint i = 0; i < n; i++)
        runs[i] = docs[i]->run;
    g_mutex_lock(&reader_lock);
    int rc = gs_plot_export_write(runs, n, figure, opts, &stems, &input_error, err, sizeof err);
    g_mutex_unlock(&reader_lock);
    g_free(runs);
    if (rc != 0) {
        g_set_error_literal(error, GS_RUN_DOC_ERROR, input_error ? 2 : 1, err);
        return NULL;
    }
    GPtrArray *paths = g_ptr_array_new_with_free_func(g_free);
    for (size_t k = 0; k < stems.n && rc == 0; k++) {
        rc = gs_plot_export_run_gnuplot(opts->outdir, stems.stem[k], opts->format, err, sizeof err);
        if (rc == 0)
            g_ptr_array_add(paths, g_strdup_printf("%s/%s.%s", opts->outdir, stems.stem[k],
                                                   gs_plot_export_ext(opts->format)));
    }
    gs_plot_stems_free(&stems);
    if (rc != 0) {
        g_ptr_array_unref(paths);
        g_set_error_literal(error, GS_RUN_DOC_ERROR, 1, err);
        return NULL;
    }
    g_ptr_array_add(paths, NULL);
    return (char **)g_ptr_array_free(paths, FALSE);
}

typedef struct plot_task {
    GPtrArray           *docs;     /* GsRunDoc, referenced */
    char                *figure;
    char                *outdir;
    char                *select;
    gs_plot_export_opts  opts;     /* strings point into this struct */
} plot_task;

static void plot_task_free(gpointer data)
{
    plot_task *t = data;
    g_ptr_array_unref(t->docs);
    g_free(t->figure);
    g_free(t->outdir);
    g_free(t->select);
    g_free(t);
}

static void plot_worker(GTask *task, gpointer source, gpointer data, GCancellable *cancellable)
{
    plot_task *t = data;
    GError *error = NULL;
    char **paths = gs_run_docs_plot((GsRunDoc **)t->docs->pdata, t->docs->len, t->figure, &t->opts, &error);
    if (paths)
        g_task_return_pointer(task, paths, (GDestroyNotify)g_strfreev);
    else
        g_task_return_error(task, error);
}

void gs_run_docs_plot_async(GsRunDoc **docs, guint n, const char *figure, const gs_plot_export_opts *opts,
                            GAsyncReadyCallback cb, gpointer user_data)
{
    plot_task *t = g_new0(plot_task, 1);
    t->docs = g_ptr_array_new_with_free_func(g_object_unref);
    for (guint i = 0; i < n; i++)
        g_ptr_array_add(t->docs, g_object_ref(docs[i]));
    t->figure = g_strdup(figure);
    t->outdir = g_strdup(opts->outdir);
    t->select = g_strdup(opts->select);
    t->opts = *opts;
    t->opts.outdir = t->outdir;
    t->opts.select = t->select;
    GTask *task = g_task_new(NULL, NULL, cb, user_data);
    g_task_set_task_data(task, t, plot_task_free);
    g_task_run_in_thread(task, plot_worker);
    g_object_unref(task);
}

char **gs_run_docs_plot_finish(GAsyncResult *res, GError **error)
{
    return g_task_propagate_pointer(G_TASK(res), error);
}
