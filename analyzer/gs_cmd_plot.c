/* gs_cmd_plot.c — `gradscope plot`: data files + standalone gnuplot scripts, then gnuplot.
 *
 * Plan: one job per (figure, run) for per-run figures and one per figure for multi-run
 * figures.  Each job writes its files (gs_plot_figures.c), then gnuplot runs on the
 * script in the output directory (fork + chdir + execvp of `gnuplot FIG.gp`, never a
 * shell), up to --jobs gnuplots at a time.  gnuplot's stderr goes to a temporary file
 * that is reported when it fails.  Progress lines go to stderr for batches.
 */
#define _GNU_SOURCE 1
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "gs_analyzer_cli.h"
#include "gs_cli_util.h"
#include "gs_plot.h"

static void plot_usage(FILE *out)
{
    fputs("usage: gradscope plot RUN.h5 [RUN.h5 …] (--figure NAME | --all) [options]\n"
          "\n"
          "For each figure, writes its data file FIG.dat and a standalone, editable gnuplot script\n"
          "FIG.gp into the output directory, then runs gnuplot on it there: `cd DIR && gnuplot\n"
          "FIG.gp` redraws the figure without gradscope.  Per-run figures are drawn for every run\n"
          "(named FIG-RUN when there are several runs); training and methods use all runs.\n"
          "\n"
          "Figures:\n", out);
    for (size_t i = 0; i < gs_n_figures; i++)
        fprintf(out, "  %-23s %s%s\n", gs_figures[i].name, gs_figures[i].what,
                gs_figures[i].multi_run ? " [all runs]" : "");
    fputs("\n"
          "  -F, --figure NAME     a figure (repeat, or a comma-separated list)\n"
          "  -a, --all             every figure\n"
          "  -f, --format FMT      png (default), svg, pdf, cairolatex (FIG.tex + FIG.pdf for LaTeX)\n"
          "  -o, --out DIR         output directory, created if needed (default: figures)\n"
          "  -S, --size SIZE       one-column (3.5 in wide), two-column (7.16 in), or WxH with a unit\n"
          "                        in (default), cm or px, e.g. 5x3.5in, 12x8cm, 1200x800px.\n"
          "                        Default: each figure's own choice of one or two columns\n"
          "  -s, --select REGEX    blocks (heat maps, norms, cosine) and tensors (ridgelines: the\n"
          "                        first match; param-stats) whose name matches (POSIX extended)\n"
          "      --dpi N           PNG resolution in pixels per inch (default 150)\n"
          "      --points N        at most N points per per-step curve (default 2000; first, last\n"
          "                        and each bucket's min and max are kept)\n"
          "      --smooth N        norms and cosine: centred moving average over N probed steps\n"
          "                        (default: steps / 100, so none below 200 steps; 1 = raw values)\n"
          "      --font SPEC       gnuplot font (default \"Helvetica,9\")\n"
          "      --no-run          write the data and scripts only, do not run gnuplot\n"
          "  -j, --jobs N          gnuplot processes at a time (default 2)\n"
          "  -q, --quiet           no progress lines\n"
          "      --list            print the figure names and exit\n"
          "  -h, --help            this text\n"
          "\n"
          "The gnuplot program is `gnuplot` from PATH, or $GRADSCOPE_GNUPLOT.\n"
          "Exit: 0 ok; 1 cannot write DIR or gnuplot failed; 2 bad usage, an unknown figure, a\n"
          "bad/missing run file, or a requested figure whose data the run does not have.\n", out);
}

/* ---- options ------------------------------------------------------------------------------------ */

static int parse_size(const char *s, gs_plot_opts *o)
{
    if (!strcmp(s, "one-column")) {
        o->size_kind = GS_SIZE_ONE_COLUMN;
        return 0;
    }
    if (!strcmp(s, "two-column")) {
        o->size_kind = GS_SIZE_TWO_COLUMN;
        return 0;
    }
    char *end = NULL;
    errno = 0;
    double w = strtod(s, &end);
    if (errno || end == s || (*end != 'x' && *end != 'X'))
        return -1;
    const char *hs = end + 1;
    double h = strtod(hs, &end);
    if (errno || end == hs || !(w > 0) || !(h > 0))
        return -1;
    double per_in = 1.0;
    if (*end == '\0' || !strcmp(end, "in")) {
        per_in = 1.0;
    } else if (!strcmp(end, "cm")) {
        per_in = 2.54;
    } else if (!strcmp(end, "px")) {
        if (w != floor(w) || h != floor(h) || w > 20000 || h > 20000)
            return -1;
        o->width_px = (long)w;
        o->height_px = (long)h;
        per_in = 0;   /* converted with the dpi once it is known */
    } else {
        return -1;
    }
    if (per_in > 0) {
        o->width_in = w / per_in;
        o->height_in = h / per_in;
        if (o->width_in > 100 || o->height_in > 100)
            return -1;
    }
    o->size_kind = GS_SIZE_EXPLICIT;
    return 0;
}

/* ---- jobs --------------------------------------------------------------------------------------- */

typedef struct plot_job {
    const gs_figure_def *fig;
    gs_run             **runs;
    size_t               nruns;
    char                 stem[512];
    gs_gnuplot_proc      proc;      /* running gnuplot (pid 0: none) */
    int                  state;     /* 0 planned, 1 files written, 2 drawn, 3 skipped, -1 failed */
} plot_job;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Wait for job j's gnuplot; returns 0 when the figure was drawn (messages to stderr). */
static int gnuplot_wait(plot_job *j, const char *outdir, const gs_plot_opts *o)
{
    char err[1024], warn[1024];
    int rc = gs_gnuplot_finish(&j->proc, outdir, j->stem, gs_plot_ext(o->format), err, sizeof err, warn, sizeof warn);
    if (rc != 0)
        gs_cli_error("plot", "%s", err);
    else if (warn[0])
        gs_cli_error("plot", "%s", warn);
    return rc;
}

int gs_cmd_plot(int argc, char **argv)
{
    enum { OPT_DPI = 1000, OPT_POINTS, OPT_SMOOTH, OPT_FONT, OPT_NO_RUN, OPT_LIST };
    static const struct option longopts[] = {
        { "figure", required_argument, NULL, 'F' },
        { "all", no_argument, NULL, 'a' },
        { "format", required_argument, NULL, 'f' },
        { "out", required_argument, NULL, 'o' },
        { "size", required_argument, NULL, 'S' },
        { "select", required_argument, NULL, 's' },
        { "dpi", required_argument, NULL, OPT_DPI },
        { "points", required_argument, NULL, OPT_POINTS },
        { "smooth", required_argument, NULL, OPT_SMOOTH },
        { "font", required_argument, NULL, OPT_FONT },
        { "no-run", no_argument, NULL, OPT_NO_RUN },
        { "jobs", required_argument, NULL, 'j' },
        { "quiet", no_argument, NULL, 'q' },
        { "list", no_argument, NULL, OPT_LIST },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    const char *verb = "plot";
    gs_plot_opts o = { .format = GS_PLOT_PNG, .size_kind = GS_SIZE_AUTO, .dpi = 150, .outdir = "figures",
                       .points = 2000, .font = "Helvetica,9" };
    int want[64] = { 0 }, all = 0, run_gnuplot = 1, quiet = 0, c;
    char err[1024];
    long jobs_max = 2;

    optind = 0;   /* GNU getopt: full re-initialisation */
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":F:af:o:S:s:j:qh", longopts, NULL)) != -1) {
        switch (c) {
        case 'F': {
            char list[1024];
            snprintf(list, sizeof list, "%s", optarg);
            for (char *save = NULL, *name = strtok_r(list, ",", &save); name; name = strtok_r(NULL, ",", &save)) {
                const gs_figure_def *f = gs_figure_find(name);
                if (!f) {
                    char names[1024] = "";
                    for (size_t i = 0; i < gs_n_figures; i++) {
                        size_t len = strlen(names);
                        snprintf(names + len, sizeof names - len, "%s%s", i ? ", " : "", gs_figures[i].name);
                    }
                    return gs_cli_usage_error(verb, "--figure: unknown figure '%s' (figures: %s)", name, names);
                }
                want[f - gs_figures] = 1;
            }
            break;
        }
        case 'a':
            all = 1;
            break;
        case 'f':
            if (!strcmp(optarg, "png"))
                o.format = GS_PLOT_PNG;
            else if (!strcmp(optarg, "svg"))
                o.format = GS_PLOT_SVG;
            else if (!strcmp(optarg, "pdf"))
                o.format = GS_PLOT_PDF;
            else if (!strcmp(optarg, "cairolatex") || !strcmp(optarg, "latex"))
                o.format = GS_PLOT_CAIROLATEX;
            else
                return gs_cli_usage_error(verb, "--format '%s': expected png, svg, pdf or cairolatex", optarg);
            break;
        case 'o':
            o.outdir = optarg;
            break;
        case 'S':
            if (parse_size(optarg, &o) != 0)
                return gs_cli_usage_error(verb, "--size '%s': expected one-column, two-column or WxH "
                                                "(e.g. 5x3.5in, 12x8cm, 1200x800px)", optarg);
            break;
        case 's':
            o.select = optarg[0] ? optarg : NULL;
            break;
        case OPT_DPI: {
            long d = gs_cli_parse_count(optarg);
            if (d < 10 || d > 2400)
                return gs_cli_usage_error(verb, "--dpi '%s': expected a number from 10 to 2400", optarg);
            o.dpi = (double)d;
            break;
        }
        case OPT_POINTS: {
            long p = gs_cli_parse_count(optarg);
            if (p < 4)
                return gs_cli_usage_error(verb, "--points '%s': expected a number of at least 4", optarg);
            o.points = (size_t)p;
            break;
        }
        case OPT_SMOOTH:
            o.smooth = gs_cli_parse_count(optarg);
            if (o.smooth < 1)
                return gs_cli_usage_error(verb, "--smooth '%s': expected a window of at least 1 step (1 = raw)", optarg);
            break;
        case OPT_FONT:
            if (!optarg[0] || strchr(optarg, '"') || strchr(optarg, '\n'))
                return gs_cli_usage_error(verb, "--font '%s': expected a font like \"Helvetica,9\"", optarg);
            o.font = optarg;
            break;
        case OPT_NO_RUN:
            run_gnuplot = 0;
            break;
        case 'j':
            jobs_max = gs_cli_parse_count(optarg);
            if (jobs_max < 1 || jobs_max > 64)
                return gs_cli_usage_error(verb, "--jobs '%s': expected a number from 1 to 64", optarg);
            break;
        case 'q':
            quiet = 1;
            break;
        case OPT_LIST:
            for (size_t i = 0; i < gs_n_figures; i++)
                printf("%s\n", gs_figures[i].name);
            return 0;
        case 'h':
            plot_usage(stdout);
            return 0;
        default:
            return gs_cli_getopt_error(verb, argv, c);
        }
    }
    size_t nruns = (size_t)(argc - optind);
    if (nruns == 0)
        return gs_cli_usage_error(verb, "no RUN.h5 given");
    int any = all;
    for (size_t i = 0; i < gs_n_figures; i++)
        any |= want[i];
    if (!any)
        return gs_cli_usage_error(verb, "say which figures: --figure NAME or --all");
    if (o.select) {
        /* a bad regex is bad usage: say so once, before any figure */
        if (gs_plot_check_select(o.select, err, sizeof err) != 0)
            return gs_cli_usage_error(verb, "--select: %s", err);
    }
    if (o.size_kind == GS_SIZE_EXPLICIT && o.width_px > 0) {
        o.width_in = (double)o.width_px / o.dpi;
        o.height_in = (double)o.height_px / o.dpi;
    }

    gs_run **runs = calloc(nruns, sizeof *runs);
    plot_job *jobs = calloc(gs_n_figures * (nruns + 1), sizeof *jobs);
    char **tags = NULL;
    size_t njobs = 0;
    int rc = 1, input_error = 0, runtime_error = 0;
    double t0 = now_s();

    if (!runs || !jobs) {
        gs_cli_error(verb, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < nruns; i++) {
        runs[i] = gs_run_open(argv[optind + (int)i], err, sizeof err);
        if (!runs[i]) {
            gs_cli_error(verb, "%s", err);
            rc = 2;
            goto done;
        }
    }
    tags = gs_plot_run_tags(runs, nruns);
    if (!tags) {
        gs_cli_error(verb, "out of memory");
        goto done;
    }
    if (gs_cli_mkdirs(o.outdir) != 0) {
        gs_cli_error(verb, "--out %s: cannot create the directory: %s", o.outdir, strerror(errno));
        goto done;
    }

    /* plan */
    for (size_t f = 0; f < gs_n_figures; f++) {
        if (!all && !want[f])
            continue;
        const gs_figure_def *fig = &gs_figures[f];
        if (fig->multi_run) {
            plot_job *j = &jobs[njobs++];
            j->fig = fig;
            j->runs = runs;
            j->nruns = nruns;
            snprintf(j->stem, sizeof j->stem, "%s", fig->name);
        } else {
            for (size_t i = 0; i < nruns; i++) {
                plot_job *j = &jobs[njobs++];
                j->fig = fig;
                j->runs = &runs[i];
                j->nruns = 1;
                if (nruns == 1)
                    snprintf(j->stem, sizeof j->stem, "%s", fig->name);
                else
                    snprintf(j->stem, sizeof j->stem, "%s-%s", fig->name, tags[i]);
            }
        }
    }

    /* run: write each job's files, start gnuplot, keep at most jobs_max running */
    size_t running_from = 0;   /* jobs before this index have been waited for */
    int show_progress = !quiet && njobs > 1;
    for (size_t k = 0; k < njobs; k++) {
        plot_job *j = &jobs[k];
        if (show_progress) {
            double el = now_s() - t0;
            if (k > 0 && el > 1.0)
                fprintf(stderr, "[%zu/%zu] %s … (%.1f s, about %.0f s left)\n", k + 1, njobs, j->stem, el,
                        el / (double)k * (double)(njobs - k));
            else
                fprintf(stderr, "[%zu/%zu] %s …\n", k + 1, njobs, j->stem);
        }
        double w, h;
        gs_plot_figure_size(&o, j->fig, &w, &h);
        gs_fig_ctx ctx = { .opts = &o, .runs = j->runs, .nruns = j->nruns, .stem = j->stem, .name = j->fig->name };
        int wr = j->fig->write(&ctx, w, h);
        if (wr == GS_FIG_SKIP) {
            j->state = 3;
            gs_cli_error(verb, "%s: %s%s", j->stem, ctx.err, all ? " — skipped" : "");
            if (!all)
                input_error = 1;
            continue;
        }
        if (wr != GS_FIG_OK) {
            j->state = -1;
            gs_cli_error(verb, "%s: %s", j->stem, ctx.err);
            if (ctx.err_is_input)
                input_error = 1;
            else
                runtime_error = 1;
            continue;
        }
        j->state = 1;
        if (!run_gnuplot)
            continue;
        /* keep at most jobs_max gnuplots running: wait for the oldest */
        size_t nrun = 0;
        for (size_t q = running_from; q < k; q++)
            nrun += jobs[q].proc.pid != 0;
        while (nrun >= (size_t)jobs_max) {
            while (jobs[running_from].proc.pid == 0)
                running_from++;
            if (gnuplot_wait(&jobs[running_from], o.outdir, &o) == 0) {
                jobs[running_from].state = 2;
            } else {
                jobs[running_from].state = -1;
                runtime_error = 1;
            }
            running_from++;
            nrun--;
        }
        if (gs_gnuplot_start(&j->proc, o.outdir, j->stem, err, sizeof err) != 0) {
            gs_cli_error(verb, "%s", err);
            runtime_error = 1;
            j->state = -1;
        }
    }
    for (size_t q = 0; q < njobs; q++) {
        if (jobs[q].proc.pid == 0)
            continue;
        if (gnuplot_wait(&jobs[q], o.outdir, &o) == 0) {
            jobs[q].state = 2;
        } else {
            jobs[q].state = -1;
            runtime_error = 1;
        }
    }

    size_t drawn = 0, written = 0;
    for (size_t q = 0; q < njobs; q++) {
        if (jobs[q].state == 2 || (jobs[q].state == 1 && !run_gnuplot)) {
            written++;
            if (run_gnuplot)
                printf("%s/%s.%s\n", o.outdir, jobs[q].stem, gs_plot_ext(o.format));
            else
                printf("%s/%s.gp\n", o.outdir, jobs[q].stem);
        }
        drawn += jobs[q].state == 2;
    }
    fflush(stdout);
    if (!quiet && njobs > 1)
        fprintf(stderr, "gradscope plot: %zu of %zu figures %s in %s (%.1f s)\n", run_gnuplot ? drawn : written,
                njobs, run_gnuplot ? "drawn" : "written", o.outdir, now_s() - t0);
    if (runtime_error)
        rc = 1;
    else if (input_error || written == 0)
        rc = 2;
    else
        rc = 0;
done:
    if (jobs)
        for (size_t q = 0; q < njobs; q++)
            if (jobs[q].proc.pid != 0) {
                int st;
                waitpid(jobs[q].proc.pid, &st, 0);
                if (jobs[q].proc.errf)
                    fclose(jobs[q].proc.errf);
            }
    if (runs)
        for (size_t i = 0; i < nruns; i++)
            gs_run_close(runs[i]);
    gs_plot_run_tags_free(tags, nruns);
    free(runs);
    free(jobs);
    return rc;
}
