/* gs_plot.h — the figure set behind `gradscope plot` (internal to analyzer/).
 *
 * A figure is written as data file(s) plus a standalone gnuplot script FIG.gp in the
 * output directory; the script names its data by relative path, so `cd DIR && gnuplot
 * FIG.gp` redraws it without gradscope.  gs_cmd_plot.c parses options, plans the jobs
 * and runs gnuplot; gs_plot_figures.c knows each figure.
 */
#ifndef GS_PLOT_H
#define GS_PLOT_H

#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>

#include "gs_run.h"

typedef enum gs_plot_format {
    GS_PLOT_PNG = 0,
    GS_PLOT_SVG,
    GS_PLOT_PDF,
    GS_PLOT_CAIROLATEX,
} gs_plot_format;

typedef enum gs_plot_size_kind {
    GS_SIZE_AUTO = 0,     /* each figure's own choice of one or two columns */
    GS_SIZE_ONE_COLUMN,   /* 3.5 in wide */
    GS_SIZE_TWO_COLUMN,   /* 7.16 in wide */
    GS_SIZE_EXPLICIT,     /* width × height given */
} gs_plot_size_kind;

#define GS_PLOT_ONE_COLUMN_IN 3.5
#define GS_PLOT_TWO_COLUMN_IN 7.16

typedef struct gs_plot_opts {
    gs_plot_format    format;
    gs_plot_size_kind size_kind;
    double            width_in, height_in;   /* GS_SIZE_EXPLICIT */
    long              width_px, height_px;   /* GS_SIZE_EXPLICIT given in px (PNG exact), else 0 */
    double            dpi;                   /* PNG pixels per inch */
    const char       *outdir;
    const char       *select;                /* regex for blocks/tensors, NULL = default */
    size_t            points;                /* max points per per-step series */
    long              smooth;                /* moving-average window in probed steps; 0 = auto */
    const char       *font;                  /* "Helvetica,9" */
} gs_plot_opts;

/* What a figure writer gets. */
typedef struct gs_fig_ctx {
    const gs_plot_opts *opts;
    gs_run *const      *runs;    /* per-run figures: exactly one run */
    size_t              nruns;
    const char         *stem;    /* file stem in outdir: "overlap-heatmap" or "overlap-heatmap-RUN" */
    const char         *name;    /* the figure name */
    char                err[1024];
    int                 err_is_input;   /* 1: bad/missing input (exit 2), 0: runtime (exit 1) */
} gs_fig_ctx;

/* Writer return values. */
#define GS_FIG_OK    0
#define GS_FIG_SKIP  1    /* the run lacks the data for this figure: ctx->err says why */
#define GS_FIG_ERROR (-1) /* ctx->err says why; err_is_input tells the exit code */

typedef struct gs_figure_def {
    const char *name;
    const char *what;        /* one line for --list and --help */
    int         multi_run;   /* 1: one figure for all runs; 0: one per run */
    int         columns;     /* preferred width: 1 or 2 paper columns */
    double      aspect1;     /* height / width at one column */
    double      aspect2;     /* height / width at two columns */
    int (*write)(gs_fig_ctx *ctx, double width_in, double height_in);
} gs_figure_def;

/* The figure table, in the order `--all` draws them. */
extern const gs_figure_def gs_figures[];
extern const size_t gs_n_figures;

/* The definition of name, or NULL. */
const gs_figure_def *gs_figure_find(const char *name);

/* The output file's extension for a format: "png", "svg", "pdf", "tex". */
const char *gs_plot_ext(gs_plot_format f);

/* ---- shared by the verb and the library call (gs_plot_export.c) ---------------------- */

/* 0 when the --select regex compiles, else -1 with the reason in err. */
int gs_plot_check_select(const char *select, char *err, size_t errsz);

/* A figure's size in inches under the options (its own one/two-column choice for AUTO). */
void gs_plot_figure_size(const gs_plot_opts *o, const gs_figure_def *f, double *w, double *h);

/* A unique file-name tag per run ("runs/a.h5" → "a", then "a-2", …); malloc'd array of
 * nruns strings (free with gs_plot_run_tags_free), NULL when out of memory. */
char **gs_plot_run_tags(gs_run *const *runs, size_t nruns);
void gs_plot_run_tags_free(char **tags, size_t nruns);

/* gnuplot on outdir/STEM.gp: started (fork, chdir outdir, exec — never a shell) with its
 * stderr in a temporary file, then waited for.  The program is $GRADSCOPE_GNUPLOT or
 * `gnuplot` from PATH. */
typedef struct gs_gnuplot_proc {
    pid_t pid;    /* 0 when not running */
    FILE *errf;   /* gnuplot's stderr */
} gs_gnuplot_proc;

const char *gs_gnuplot_program(void);
/* 0, or -1 with a message in err. */
int gs_gnuplot_start(gs_gnuplot_proc *p, const char *outdir, const char *stem, char *err, size_t errsz);
/* Wait; 0 when gnuplot exited 0 and wrote a non-empty outdir/STEM.ext (a message it
 * printed anyway goes to warn, "" when none; warn may be NULL), else -1 with the reason
 * (gnuplot's first error line, or why it could not run) in err. */
int gs_gnuplot_finish(gs_gnuplot_proc *p, const char *outdir, const char *stem, const char *ext, char *err,
                      size_t errsz, char *warn, size_t warnsz);

#endif
