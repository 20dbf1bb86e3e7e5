/* gs_plot_export.h — one `gradscope plot` figure as a library call (for the GUI).
 *
 * The same figure writers as the `plot` verb (gs_plot_figures.c): each figure becomes
 * a data file and a standalone gnuplot script STEM.gp in outdir, and gnuplot is run
 * there on the script exactly as the verb runs it (fork, chdir outdir, exec `gnuplot
 * STEM.gp`, never a shell), so `cd outdir && gnuplot STEM.gp` redraws it later.
 *
 * Writing the files reads the runs (gs_run: not thread-safe, hold whatever lock
 * guards them); running gnuplot does not touch them, so a caller can drop its lock in
 * between.  Library code: never exits, errors come back as one-line messages.
 */
#ifndef GS_PLOT_EXPORT_H
#define GS_PLOT_EXPORT_H

#include <stddef.h>

#include "gs_run.h"

typedef enum gs_plot_export_format {
    GS_PLOT_EXPORT_PNG = 0,
    GS_PLOT_EXPORT_SVG,
    GS_PLOT_EXPORT_PDF,
} gs_plot_export_format;

typedef struct gs_plot_export_opts {
    const char            *outdir;      /* created (with parents) if needed */
    gs_plot_export_format  format;
    const char            *select;      /* blocks / tensor regex as --select, NULL = default */
    double                 width_in, height_in;   /* both > 0: the size; else the figure's own */
    double                 dpi;         /* PNG pixels per inch (<= 0: 150) */
    long                   smooth;      /* --smooth (0 = the verb's default) */
} gs_plot_export_opts;

/* What was written: n stems (file names without extension in outdir), malloc'd. */
typedef struct gs_plot_stems {
    size_t n;
    char **stem;
} gs_plot_stems;

void gs_plot_stems_free(gs_plot_stems *s);   /* NULL and a zeroed struct are fine */

/* Write the data and .gp files of figure `name` for runs[0..nruns): a per-run figure
 * once per run (stem NAME for one run, NAME-RUNTAG for several, as the verb names
 * them), a multi-run figure once (stem NAME).  Returns 0 and fills *out (free with
 * gs_plot_stems_free), or -1 with a message in err; *input_error (may be NULL) is set
 * to 1 when the cause is the input (an unknown figure, a run without the data, a bad
 * --select), 0 for a runtime failure (cannot write). */
int gs_plot_export_write(gs_run *const *runs, size_t nruns, const char *name,
                         const gs_plot_export_opts *opts, gs_plot_stems *out,
                         int *input_error, char *err, size_t errsz);

/* Run gnuplot on outdir/STEM.gp in outdir (the program: $GRADSCOPE_GNUPLOT or
 * `gnuplot` from PATH) and check that it wrote a non-empty STEM.<ext> of format.
 * Returns 0, or -1 with a message (gnuplot's first error line, or why it could not
 * run) in err. */
int gs_plot_export_run_gnuplot(const char *outdir, const char *stem, gs_plot_export_format format,
                               char *err, size_t errsz);

/* The output file's extension: "png", "svg", "pdf". */
const char *gs_plot_export_ext(gs_plot_export_format format);

#endif
