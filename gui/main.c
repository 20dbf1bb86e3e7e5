/* main.c — gradscope-view: parse the command line, then run the app or a headless mode.
 *
 *   gradscope-view [RUN.h5 …]                                  the interactive app
 *   gradscope-view --screenshot OUT.png --view NAME [--size WxH] RUN.h5 …
 *                                    a real window, captured to a PNG (needs a display;
 *                                    use xvfb-run -a when there is none)
 *   gradscope-view --export OUT.{png,svg,pdf} --view NAME [--size WxH] RUN.h5 …
 *                                    the view's figure drawn with cairo (no display)
 *   both take --zoom LO:HI, the x window to show (epochs; |g| on Distributions)
 *   gradscope-view --gnuplot DIR --view NAME [--format pdf|svg|png] RUN.h5 …
 *                                    the analyzer's gnuplot figure for the view: data
 *                                    files + a standalone .gp script in DIR, drawn
 *
 * Exit codes: 0 ok, 1 runtime failure (cannot write the output), 2 bad usage or a run
 * that cannot be read — with one line on stderr naming the file or flag and the problem.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "gs_app.h"
#include "gs_window.h"

static const char *const views[] = { "overlap", "norms", "distributions", "training", "summary", NULL };

static int usage_error(const char *msg)
{
    fprintf(stderr, "gradscope-view: %s (see --help)\n", msg);
    return 2;
}

int main(int argc, char **argv)
{
    char *screenshot = NULL, *export_path = NULL, *view = NULL, *size = NULL, *zoom = NULL, *gnuplot_dir = NULL,
         *format = NULL;
    gboolean version = FALSE;
    GOptionEntry entries[] = {
        { "screenshot", 0, 0, G_OPTION_ARG_FILENAME, &screenshot, "Show the view in a real window, save it as a PNG and exit", "OUT.png" },
        { "export", 0, 0, G_OPTION_ARG_FILENAME, &export_path, "Draw the view's figure to a PNG, SVG or PDF file and exit (no display needed)", "OUT.{png,svg,pdf}" },
        { "view", 0, 0, G_OPTION_ARG_STRING, &view, "overlap, norms, distributions, training or summary [overlap]", "NAME" },
        { "size", 0, 0, G_OPTION_ARG_STRING, &size, "Window or figure size [1280x800]", "WxH" },
        { "gnuplot", 0, 0, G_OPTION_ARG_FILENAME, &gnuplot_dir, "Write the view as a gnuplot figure (data + .gp script) into DIR, draw it and exit", "DIR" },
        { "format", 0, 0, G_OPTION_ARG_STRING, &format, "With --gnuplot: pdf, svg or png [pdf]", "FMT" },
        { "zoom", 0, 0, G_OPTION_ARG_STRING, &zoom, "Headless: show only this x range (epochs; |g| on distributions)", "LO:HI" },
        { "version", 0, 0, G_OPTION_ARG_NONE, &version, "Print the version and exit", NULL },
        { NULL, 0, 0, 0, NULL, NULL, NULL },
    };
    GOptionContext *ctx = g_option_context_new("[RUN.h5 …] — explore gradscope run logs");
    g_option_context_add_main_entries(ctx, entries, NULL);
    g_option_context_set_summary(ctx, "Headless: --screenshot OUT.png or --export OUT.pdf with --view NAME and the runs.\n"
                                      "Exit codes: 0 ok, 1 runtime failure, 2 bad usage or unreadable run.");
    GError *error = NULL;
    if (!g_option_context_parse(ctx, &argc, &argv, &error)) {
        int rc = usage_error(error->message);
        g_error_free(error);
        g_option_context_free(ctx);
        return rc;
    }
    g_option_context_free(ctx);
    if (version) {
        printf("gradscope-view %s\n", GS_VERSION);
        return 0;
    }
    int w = 1280, h = 800;
    if (size) {
        char tail;
        if (sscanf(size, "%dx%d%c", &w, &h, &tail) != 2 || w < 200 || h < 150 || w > 8000 || h > 8000)
            return usage_error("--size: expected WxH, e.g. 1280x800 (200x150 … 8000x8000)");
    }
    double zoom_lo = NAN, zoom_hi = NAN;
    if (zoom) {
        char tail;
        if (sscanf(zoom, "%lf:%lf%c", &zoom_lo, &zoom_hi, &tail) != 2 || !isfinite(zoom_lo) || !isfinite(zoom_hi) ||
            !(zoom_hi > zoom_lo))
            return usage_error("--zoom: expected LO:HI with LO < HI, e.g. 2:5");
        if (!screenshot && !export_path)
            return usage_error("--zoom goes with --screenshot or --export");
    }
    if (!view)
        view = g_strdup("overlap");
    gboolean known = FALSE;
    for (int i = 0; views[i]; i++)
        known |= !strcmp(view, views[i]);
    if (!known) {
        char msg[256];
        snprintf(msg, sizeof msg, "--view: unknown view '%s' (overlap, norms, distributions, training, summary)", view);
        return usage_error(msg);
    }
    if ((screenshot != NULL) + (export_path != NULL) + (gnuplot_dir != NULL) > 1)
        return usage_error("--screenshot, --export and --gnuplot do not go together");
    if (format && !gnuplot_dir)
        return usage_error("--format goes with --gnuplot");
    if (format && strcmp(format, "pdf") && strcmp(format, "svg") && strcmp(format, "png"))
        return usage_error("--format: expected pdf, svg or png");

    int nfiles = argc - 1;
    for (int i = 1; i < argc; i++)
        if (argv[i][0] == '-' && argv[i][1]) {
            char msg[256];
            snprintf(msg, sizeof msg, "unknown option '%s'", argv[i]);
            return usage_error(msg);
        }

    if (screenshot || export_path || gnuplot_dir) {
        /* headless: every run must open, else exit 2 with the reader's message */
        GsRunDoc **docs = g_new0(GsRunDoc *, nfiles > 0 ? nfiles : 1);
        for (int i = 0; i < nfiles; i++) {
            docs[i] = gs_run_doc_open_sync(argv[i + 1], &error);
            if (!docs[i]) {
                fprintf(stderr, "gradscope-view: %s\n", error->message);
                g_error_free(error);
                for (int j = 0; j < i; j++)
                    g_object_unref(docs[j]);
                g_free(docs);
                return 2;
            }
        }
        int rc;
        if (gnuplot_dir) {
            char **paths = gs_export_docs_gnuplot(docs, nfiles, view, gnuplot_dir, format ? format : "pdf", &error);
            rc = paths ? 0 : error->code == 2 ? 2 : 1;
            if (paths)
                for (int i = 0; paths[i]; i++)
                    printf("%s\n", paths[i]);
            else {
                fprintf(stderr, "gradscope-view: %s\n", error->message);
                g_error_free(error);
            }
            g_strfreev(paths);
        } else if (export_path) {
            rc = gs_export_docs(docs, nfiles, view, zoom_lo, zoom_hi, export_path, w, h, &error) ? 0 : 1;
            if (rc) {
                fprintf(stderr, "gradscope-view: %s\n", error->message);
                g_error_free(error);
            }
        } else {
            GsApplication *app = gs_application_new();
            gs_application_set_screenshot(app, screenshot, view, w, h, docs, nfiles);
            gs_application_set_screenshot_zoom(app, zoom_lo, zoom_hi);
            char *args[] = { argv[0], NULL };
            int st = g_application_run(G_APPLICATION(app), 1, args);
            rc = st ? st : gs_application_get_exit_code(app);
            g_object_unref(app);
        }
        for (int i = 0; i < nfiles; i++)
            g_object_unref(docs[i]);
        g_free(docs);
        return rc;
    }

    GsApplication *app = gs_application_new();
    gs_application_set_files(app, argv + 1, nfiles);
    char *args[] = { argv[0], NULL };
    int rc = g_application_run(G_APPLICATION(app), 1, args);
    g_object_unref(app);
    return rc;
}
