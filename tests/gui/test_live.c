/* test_live.c — a run that is being written updates in the GUI's document (TAP).
 *
 * make_fixture.py --live writes epoch 0, switches to SWMR and appends one epoch per
 * "next" on its stdin.  GsRunDoc (the GUI's document: worker-thread open/refresh) must
 * see it as live, and after each refresh the new rows must reach the snapshot and the
 * overlap-map model.  Usage: test-gui-live PYTHON make_fixture.py
 */
#include <glib/gstdio.h>
#include <string.h>

#include "gs_run_doc.h"
#include "gs_test.h"
#include "gs_view_models.h"

static GSubprocess *writer;
static GDataInputStream *wout;
static GOutputStream *win;

static char *say(const char *cmd)
{
    GError *error = NULL;
    if (cmd && (!g_output_stream_write_all(win, cmd, strlen(cmd), NULL, NULL, &error) ||
                !g_output_stream_flush(win, NULL, &error))) {
        g_printerr("writer: %s\n", error->message);
        return NULL;
    }
    char *line = g_data_input_stream_read_line(wout, NULL, NULL, &error);
    return line;
}

typedef struct { GMainLoop *loop; gboolean changed; GError *error; } wait_t;

static void on_refreshed(GObject *src, GAsyncResult *res, gpointer data)
{
    wait_t *w = data;
    w->changed = gs_run_doc_refresh_finish(GS_RUN_DOC(src), res, &w->error);
    g_main_loop_quit(w->loop);
}

static gboolean refresh(GsRunDoc *doc)
{
    wait_t w = { g_main_loop_new(NULL, FALSE), FALSE, NULL };
    gs_run_doc_refresh_async(doc, on_refreshed, &w);
    g_main_loop_run(w.loop);
    g_main_loop_unref(w.loop);
    if (w.error) {
        g_printerr("# refresh: %s\n", w.error->message);
        g_error_free(w.error);
    }
    return w.changed;
}

static size_t overlap_cols(GsRunDoc *doc)
{
    gs_view_run r = { gs_run_doc_get_data(doc), "live", gs_palette_run(0), NULL, NULL, 0 };
    gs_view_state st = { 0 };
    st.epoch = -1;
    gs_figure *f = gs_view_overlap(&r, 1, &st);
    size_t cols = f && f->n == 1 && f->panels[0]->kind == GS_CHART_HEATMAP ? f->panels[0]->cols : 0;
    gs_figure_free(f);
    return cols;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: %s PYTHON make_fixture.py\n", argv[0]);
        return 2;
    }
    GError *error = NULL;
    char *dir = g_dir_make_tmp("gs-gui-live-XXXXXX", &error);
    char *path = g_build_filename(dir, "live.h5", NULL);
    writer = g_subprocess_new(G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDOUT_PIPE, &error, argv[1], argv[2],
                              path, "--live", "--epochs", "4", NULL);
    GS_CHECK(writer != NULL, "the live writer starts");
    if (!writer)
        return gs_test_finish();
    wout = g_data_input_stream_new(g_subprocess_get_stdout_pipe(writer));
    win = g_subprocess_get_stdin_pipe(writer);
    char *line = say(NULL);
    GS_CHECK(line && !strcmp(line, "ready 0"), "writer wrote epoch 0 (%s)", line ? line : "EOF");
    g_free(line);

    GsRunDoc *doc = gs_run_doc_open_sync(path, &error);
    GS_CHECK(doc != NULL, "the doc opens a run being written: %s", doc ? "ok" : error->message);
    if (!doc)
        return gs_test_finish();
    const gs_run_data *d = gs_run_doc_get_data(doc);
    size_t steps0 = d->rows[GS_AXIS_TRAIN];
    GS_CHECK(d->n_pe == 1 && overlap_cols(doc) == 1, "one epoch visible at first (%zu)", d->n_pe);
    GS_CHECK(gs_run_doc_is_live(doc), "the run is shown as live");
    GS_CHECK(!refresh(doc), "a refresh with nothing new changes nothing");

    for (int e = 1; e <= 2; e++) {
        line = say("next\n");
        GS_CHECK(line && g_str_has_prefix(line, "ready"), "writer appended epoch %d", e);
        g_free(line);
        GS_CHECK(refresh(doc), "the refresh after epoch %d replaced the snapshot", e);
        d = gs_run_doc_get_data(doc);
        GS_CHECK(d->n_pe == (size_t)e + 1 && overlap_cols(doc) == (size_t)e + 1,
                 "the overlap model has %d epochs (%zu)", e + 1, d->n_pe);
        GS_CHECK(d->rows[GS_AXIS_TRAIN] > steps0, "new training steps are visible (%zu > %zu)", d->rows[GS_AXIS_TRAIN], steps0);
    }
    line = say("finish\n");
    g_free(line);
    refresh(doc);
    d = gs_run_doc_get_data(doc);
    GS_CHECK(!strcmp(d->status, "finished") && !gs_run_doc_is_live(doc), "a finished run is no longer live (%s)", d->status);

    g_object_unref(doc);
    g_subprocess_wait(writer, NULL, NULL);
    g_object_unref(wout);
    g_object_unref(writer);
    g_unlink(path);
    g_rmdir(dir);
    g_free(path);
    g_free(dir);
    return gs_test_finish();
}
