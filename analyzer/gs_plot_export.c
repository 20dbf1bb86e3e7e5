/* gs_plot_export.c — running gnuplot on a figure's script, the figure sizes and run
 * tags shared by the `plot` verb (gs_cmd_plot.c), and one figure as a library call
 * (gs_plot_export.h, for the GUI). */
#define _GNU_SOURCE 1
#include "gs_plot_export.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "gs_cli_util.h"
#include "gs_plot.h"

/* ---- shared with the plot verb ------------------------------------------------------- */

int gs_plot_check_select(const char *select, char *err, size_t errsz)
{
    gs_selection probe = { 0 };
    const char *one = "x";
    if (gs_select_names(&one, 1, select, &probe, err, errsz) != 0)
        return -1;
    gs_selection_free(&probe);
    return 0;
}

void gs_plot_figure_size(const gs_plot_opts *o, const gs_figure_def *f, double *w, double *h)
{
    switch (o->size_kind) {
    case GS_SIZE_EXPLICIT:
        *w = o->width_in;
        *h = o->height_in;
        return;
    case GS_SIZE_ONE_COLUMN:
        *w = GS_PLOT_ONE_COLUMN_IN;
        *h = *w * f->aspect1;
        return;
    case GS_SIZE_TWO_COLUMN:
        *w = GS_PLOT_TWO_COLUMN_IN;
        *h = *w * f->aspect2;
        return;
    case GS_SIZE_AUTO:
    default:
        *w = f->columns == 1 ? GS_PLOT_ONE_COLUMN_IN : GS_PLOT_TWO_COLUMN_IN;
        *h = *w * (f->columns == 1 ? f->aspect1 : f->aspect2);
        return;
    }
}

char **gs_plot_run_tags(gs_run *const *runs, size_t nruns)
{
    char **tags = calloc(nruns ? nruns : 1, sizeof *tags);
    if (!tags)
        return NULL;
    for (size_t i = 0; i < nruns; i++) {
        char tag[256];
        gs_cli_run_tag(gs_run_path(runs[i]), tag, sizeof tag);
        for (char *p = tag; *p; p++)
            if (*p == ' ' || *p == '\'' || *p == '"' || *p == '/')
                *p = '_';
        size_t len = strlen(tag);
        for (int k = 2;; k++) {
            int dup = 0;
            for (size_t j = 0; j < i; j++)
                dup |= !strcmp(tags[j], tag);
            if (!dup)
                break;
            snprintf(tag + len, sizeof tag - len, "-%d", k);
        }
        tags[i] = strdup(tag);
        if (!tags[i]) {
            gs_plot_run_tags_free(tags, i);
            return NULL;
        }
    }
    return tags;
}

void gs_plot_run_tags_free(char **tags, size_t nruns)
{
    if (!tags)
        return;
    for (size_t i = 0; i < nruns; i++)
        free(tags[i]);
    free(tags);
}

const char *gs_gnuplot_program(void)
{
    const char *g = getenv("GRADSCOPE_GNUPLOT");
    return g && g[0] ? g : "gnuplot";
}

int gs_gnuplot_start(gs_gnuplot_proc *p, const char *outdir, const char *stem, char *err, size_t errsz)
{
    char script[600];
    snprintf(script, sizeof script, "%s.gp", stem);
    const char *gnuplot = gs_gnuplot_program();
    p->pid = 0;
    p->errf = tmpfile();
    if (!p->errf) {
        snprintf(err, errsz, "cannot create a temporary file for gnuplot's messages: %s", strerror(errno));
        return -1;
    }
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        snprintf(err, errsz, "cannot start gnuplot: %s", strerror(errno));
        fclose(p->errf);
        p->errf = NULL;
        return -1;
    }
    if (pid == 0) {
        /* child: only async-signal-safe calls until exec */
        int errfd = fileno(p->errf);
        int devnull = open("/dev/null", O_RDWR);
        if (devnull >= 0) {
            dup2(devnull, STDIN_FILENO);
            dup2(devnull, STDOUT_FILENO);
        }
        dup2(errfd, STDERR_FILENO);
        if (chdir(outdir) != 0) {
            static const char msg[] = "cannot enter the output directory\n";
            ssize_t wr = write(STDERR_FILENO, msg, sizeof msg - 1);
            (void)wr;
            _exit(126);
        }
        char *args[3] = { (char *)gnuplot, script, NULL };
        execvp(gnuplot, args);
        static const char msg[] = "exec failed: ";
        ssize_t wr = write(STDERR_FILENO, msg, sizeof msg - 1);
        const char *why = strerror(errno);
        wr = write(STDERR_FILENO, why, strlen(why));
        wr = write(STDERR_FILENO, "\n", 1);
        (void)wr;
        _exit(127);
    }
    p->pid = pid;
    return 0;
}

/* The first non-empty line of f (rewound), into buf. */
static void first_line(FILE *f, char *buf, size_t bufsz)
{
    buf[0] = '\0';
    if (!f)
        return;
    rewind(f);
    char line[1024];
    while (fgets(line, sizeof line, f)) {
        size_t n = strlen(line);
        while (n && (line[n - 1] == '\n' || line[n - 1] == '\r' || line[n - 1] == ' '))
            line[--n] = '\0';
        if (n) {
            snprintf(buf, bufsz, "%s", line);
            return;
        }
    }
}

int gs_gnuplot_finish(gs_gnuplot_proc *p, const char *outdir, const char *stem, const char *ext, char *err,
                      size_t errsz, char *warn, size_t warnsz)
{
    int status = 0, rc = -1;
    char msg[1024], outpath[4096];
    if (warn && warnsz)
        warn[0] = '\0';
    while (waitpid(p->pid, &status, 0) < 0) {
        if (errno != EINTR) {
            snprintf(err, errsz, "waiting for gnuplot on %s/%s.gp: %s", outdir, stem, strerror(errno));
            goto done;
        }
    }
    first_line(p->errf, msg, sizeof msg);
    if (WIFEXITED(status) && WEXITSTATUS(status) == 127 && !strncmp(msg, "exec failed", 11)) {
        snprintf(err, errsz, "cannot run gnuplot ('%s': %s); install gnuplot-nox", gs_gnuplot_program(), msg + 13);
        goto done;
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        if (WIFEXITED(status))
            snprintf(err, errsz, "gnuplot failed on %s/%s.gp (exit %d): %s", outdir, stem, WEXITSTATUS(status),
                     msg[0] ? msg : "no message");
        else
            snprintf(err, errsz, "gnuplot was killed by signal %d on %s/%s.gp", WTERMSIG(status), outdir, stem);
        goto done;
    }
    snprintf(outpath, sizeof outpath, "%s/%s.%s", outdir, stem, ext);
    struct stat st;
    if (stat(outpath, &st) != 0 || st.st_size == 0) {
        snprintf(err, errsz, "gnuplot wrote no %s from %s/%s.gp%s%s", outpath, outdir, stem, msg[0] ? ": " : "", msg);
        goto done;
    }
    if (msg[0] && warn && warnsz)   /* gnuplot warnings are worth seeing */
        snprintf(warn, warnsz, "gnuplot on %s/%s.gp: %s", outdir, stem, msg);
    rc = 0;
done:
    if (p->errf)
        fclose(p->errf);
    p->errf = NULL;
    p->pid = 0;
    return rc;
}

/* ---- one figure as a library call ------------------------------------------------------ */

void gs_plot_stems_free(gs_plot_stems *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->n; i++)
        free(s->stem[i]);
    free(s->stem);
    s->stem = NULL;
    s->n = 0;
}

const char *gs_plot_export_ext(gs_plot_export_format format)
{
    switch (format) {
    case GS_PLOT_EXPORT_SVG: return "svg";
    case GS_PLOT_EXPORT_PDF: return "pdf";
    case GS_PLOT_EXPORT_PNG:
    default: return "png";
    }
}

static gs_plot_format plot_format(gs_plot_export_format f)
{
    switch (f) {
    case GS_PLOT_EXPORT_SVG: return GS_PLOT_SVG;
    case GS_PLOT_EXPORT_PDF: return GS_PLOT_PDF;
    case GS_PLOT_EXPORT_PNG:
    default: return GS_PLOT_PNG;
    }
}

int gs_plot_export_write(gs_run *const *runs, size_t nruns, const char *name, const gs_plot_export_opts *opts,
                         gs_plot_stems *out, int *input_error, char *err, size_t errsz)
{
    int dummy;
    if (!input_error)
        input_error = &dummy;
    *input_error = 0;
    memset(out, 0, sizeof *out);
    const gs_figure_def *fig = gs_figure_find(name ? name : "");
    if (!fig) {
        snprintf(err, errsz, "unknown figure '%s'", name ? name : "");
        *input_error = 1;
        return -1;
    }
    if (nruns == 0) {
        snprintf(err, errsz, "%s: no run to draw", name);
        *input_error = 1;
        return -1;
    }
    if (!opts->outdir || !opts->outdir[0]) {
        snprintf(err, errsz, "%s: no output directory", name);
        *input_error = 1;
        return -1;
    }
    gs_plot_opts o = { .format = plot_format(opts->format), .size_kind = GS_SIZE_AUTO,
                       .dpi = opts->dpi > 0 ? opts->dpi : 150, .outdir = opts->outdir,
                       .select = opts->select && opts->select[0] ? opts->select : NULL, .points = 2000,
                       .smooth = opts->smooth, .font = "Helvetica,9" };
    if (opts->width_in > 0 && opts->height_in > 0) {
        o.size_kind = GS_SIZE_EXPLICIT;
        o.width_in = opts->width_in;
        o.height_in = opts->height_in;
    }
    char why[512];
    if (o.select && gs_plot_check_select(o.select, why, sizeof why) != 0) {
        snprintf(err, errsz, "selection '%s': %s", o.select, why);
        *input_error = 1;
        return -1;
    }
    if (gs_cli_mkdirs(o.outdir) != 0) {
        snprintf(err, errsz, "%s: cannot create the directory: %s", o.outdir, strerror(errno));
        return -1;
    }
    size_t njobs = fig->multi_run ? 1 : nruns;
    char **tags = gs_plot_run_tags(runs, nruns);
    out->stem = calloc(njobs, sizeof *out->stem);
    if (!tags || !out->stem) {
        gs_plot_run_tags_free(tags, nruns);
        gs_plot_stems_free(out);
        snprintf(err, errsz, "out of memory");
        return -1;
    }
    double w, h;
    gs_plot_figure_size(&o, fig, &w, &h);
    int rc = 0;
    for (size_t k = 0; k < njobs && rc == 0; k++) {
        char stem[512];
        if (fig->multi_run || nruns == 1)
            snprintf(stem, sizeof stem, "%s", fig->name);
        else
            snprintf(stem, sizeof stem, "%s-%s", fig->name, tags[k]);
        gs_fig_ctx ctx = { .opts = &o, .runs = fig->multi_run ? runs : &runs[k], .nruns = fig->multi_run ? nruns : 1,
                           .stem = stem, .name = fig->name };
        int wr = fig->write(&ctx, w, h);
        if (wr != GS_FIG_OK) {
            snprintf(err, errsz, "%s: %s", stem, ctx.err);
            *input_error = wr == GS_FIG_SKIP || ctx.err_is_input;
            rc = -1;
            break;
        }
        out->stem[out->n] = strdup(stem);
        if (!out->stem[out->n]) {
            snprintf(err, errsz, "out of memory");
            rc = -1;
            break;
        }
        out->n++;
    }
    gs_plot_run_tags_free(tags, nruns);
    if (rc != 0)
        gs_plot_stems_free(out);
    return rc;
}

int gs_plot_export_run_gnuplot(const char *outdir, const char *stem, gs_plot_export_format format, char *err,
                               size_t errsz)
{
    gs_gnuplot_proc p;
    if (gs_gnuplot_start(&p, outdir, stem, err, errsz) != 0)
        return -1;
    return gs_gnuplot_finish(&p, outdir, stem, gs_plot_export_ext(format), err, errsz, NULL, 0);
}
