/* gs_plot_figures.c — the figures of `gradscope plot` (see gs_plot.h, docs/analyzer.md).
 *
 * Every figure writes <stem>.dat (plain whitespace-separated text, '#' header lines that
 * say what each column and each data block — gnuplot "index" — holds) and <stem>.gp, a
 * standalone gnuplot script in three sections: output (terminal, size, file), the shared
 * look (Okabe–Ito line colours, viridis heat-map palette, fonts), and the plot itself.
 *
 * Numbers in data files: integers exactly, other values with 9 significant digits (a
 * float32 from the run log round-trips exactly), NaN for missing values (gnuplot skips
 * them).  Per-step series longer than opts->points are reduced with
 * gs_downsample_indices (first, last, and each bucket's min and max are kept), so every
 * point in a data file is a point of the run log.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gs_cli_util.h"
#include "gs_plot.h"

#ifndef GS_VERSION
#define GS_VERSION "unknown"
#endif

/* ---- small helpers --------------------------------------------------------------------------- */

static void fig_fail(gs_fig_ctx *c, int input, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void fig_fail(gs_fig_ctx *c, int input, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->err, sizeof c->err, fmt, ap);
    va_end(ap);
    c->err_is_input = input;
}

/* A reader failure: the run's message (the file is bad: exit 2), or out of memory. */
static int fig_read_failed(gs_fig_ctx *c, gs_run *run)
{
    const char *e = gs_run_error(run);
    if (e && e[0])
        fig_fail(c, 1, "%s", e);
    else
        fig_fail(c, 0, "out of memory");
    return GS_FIG_ERROR;
}

const char *gs_plot_ext(gs_plot_format f)
{
    switch (f) {
    case GS_PLOT_PNG:        return "png";
    case GS_PLOT_SVG:        return "svg";
    case GS_PLOT_PDF:        return "pdf";
    case GS_PLOT_CAIROLATEX: return "tex";
    }
    return "out";
}

/* Open DIR/<name> for writing. */
static FILE *fig_open(gs_fig_ctx *c, const char *name)
{
    char path[4096];
    if (snprintf(path, sizeof path, "%s/%s", c->opts->outdir, name) >= (int)sizeof path) {
        fig_fail(c, 1, "--out %s: path too long", c->opts->outdir);
        return NULL;
    }
    FILE *f = fopen(path, "w");
    if (!f)
        fig_fail(c, 0, "cannot write %s: %s", path, strerror(errno));
    return f;
}

static int fig_close(gs_fig_ctx *c, FILE *f, const char *name)
{
    int bad = ferror(f);
    if (fclose(f) != 0 || bad) {
        fig_fail(c, 0, "cannot write %s/%s: %s", c->opts->outdir, name, strerror(errno));
        return GS_FIG_ERROR;
    }
    return GS_FIG_OK;
}

/* A number for a data file. */
static void dat_num(FILE *f, double v)
{
    if (isnan(v))
        fputs("NaN", f);
    else if (isinf(v))
        fputs(v > 0 ? "Inf" : "-Inf", f);
    else if (v == floor(v) && fabs(v) < 9007199254740992.0)
        fprintf(f, "%.0f", v);
    else
        fprintf(f, "%.9g", v);
}

/* Write text as a gnuplot single-quoted string; for cairolatex the text is escaped for
 * LaTeX (it is typeset by LaTeX there). */
static void gp_str(FILE *gp, const gs_fig_ctx *c, const char *text)
{
    int latex = c->opts->format == GS_PLOT_CAIROLATEX;
    fputc('\'', gp);
    for (const char *p = text; *p; p++) {
        if (*p == '\'') {
            fputs("''", gp);
            continue;
        }
        if (latex) {
            switch (*p) {
            case '\\': fputs("\\textbackslash{}", gp); continue;
            case '~':  fputs("\\textasciitilde{}", gp); continue;
            case '^':  fputs("\\textasciicircum{}", gp); continue;
            case '_': case '%': case '&': case '#': case '$': case '{': case '}':
                fputc('\\', gp);
                break;
            default:
                break;
            }
        }
        fputc(*p, gp);
    }
    fputc('\'', gp);
}

/* A label that has a better LaTeX form: plain text for the cairo terminals, latex
 * (written verbatim) for cairolatex. */
static void gp_label(FILE *gp, const gs_fig_ctx *c, const char *plain, const char *latex)
{
    if (c->opts->format == GS_PLOT_CAIROLATEX && latex) {
        fputc('\'', gp);
        for (const char *p = latex; *p; p++) {
            if (*p == '\'')
                fputc('\'', gp);
            fputc(*p, gp);
        }
        fputc('\'', gp);
    } else {
        gp_str(gp, c, plain);
    }
}

static double font_size_pt(const gs_plot_opts *o)
{
    const char *comma = o->font ? strrchr(o->font, ',') : NULL;
    double s = comma ? atof(comma + 1) : 9.0;
    return s > 0 ? s : 9.0;
}

/* The header, the output section and the shared look of every script. */
static void gp_preamble(FILE *gp, const gs_fig_ctx *c, double w, double h, const char *what)
{
    const gs_plot_opts *o = c->opts;
    const char *ext = gs_plot_ext(o->format);

    fprintf(gp, "# %s.gp — gradscope figure '%s': %s\n", c->stem, c->name, what);
    fprintf(gp, "# Written by gradscope %s (gradscope plot) from:\n", GS_VERSION);
    for (size_t i = 0; i < c->nruns; i++)
        fprintf(gp, "#   %s\n", gs_run_path(c->runs[i]));
    fprintf(gp, "# The numbers are in %s.dat (its header says what each column and block holds).\n", c->stem);
    fprintf(gp, "# Standalone: `gnuplot %s.gp` in this directory redraws %s.%s; edit anything below.\n\n",
            c->stem, c->stem, ext);

    fputs("# ---- output: terminal, size, file ------------------------------------------\n", gp);
    switch (o->format) {
    case GS_PLOT_PNG: {
        long wpx = o->width_px > 0 ? o->width_px : lround(w * o->dpi);
        long hpx = o->height_px > 0 ? o->height_px : lround(h * o->dpi);
        double dpi = o->width_px > 0 && w > 0 ? (double)wpx / w : o->dpi;
        /* pngcairo sizes fonts at 96 px per inch and lines at 1 px per unit: scale both so
         * the PNG looks like the PDF at this resolution (lines 0.5 pt). */
        fprintf(gp, "set terminal pngcairo size %ld,%ld font \"%s\" fontscale %.3f linewidth %.3f noenhanced\n",
                wpx, hpx, o->font, dpi / 96.0, dpi / 144.0);
        break;
    }
    case GS_PLOT_SVG:
        fprintf(gp, "set terminal svg size %ld,%ld font \"%s\" linewidth 0.7 noenhanced background '#ffffff'\n",
                lround(w * 72.0), lround(h * 72.0), o->font);
        break;
    case GS_PLOT_PDF:
        fprintf(gp, "set terminal pdfcairo size %.3fin,%.3fin font \"%s\" noenhanced\n", w, h, o->font);
        break;
    case GS_PLOT_CAIROLATEX:
        fprintf(gp, "# cairolatex: %s.tex holds the text (typeset by LaTeX), %s.pdf the graphics;\n", c->stem, c->stem);
        fprintf(gp, "# in the paper: \\input{%s.tex} (with \\usepackage{graphicx,color}).\n", c->stem);
        fprintf(gp, "set terminal cairolatex pdf input colortext size %.3fin,%.3fin font \",%g\"\n", w, h,
                font_size_pt(o));
        break;
    }
    fprintf(gp, "set output '%s.%s'\n\n", c->stem, ext);

    fputs("# ---- the gradscope look (the same in every figure) ---------------------------\n"
          "set encoding utf8\n"
          "set border lw 0.8\n"
          "set tics nomirror out scale 0.5\n"
          "set style line 100 lc rgb '#d0d0d0' lw 0.5 dt 3\n"
          "set grid back ls 100\n"
          "set key samplen 2 spacing 1.0 noopaque\n"
          "# Okabe & Ito (2008) colour-blind-safe line colours: linetypes 1-8\n"
          "set linetype 1 lc rgb '#0072B2' lw 1.4 pt 7 ps 0.5   # blue\n"
          "set linetype 2 lc rgb '#D55E00' lw 1.4 pt 5 ps 0.5   # vermillion\n"
          "set linetype 3 lc rgb '#009E73' lw 1.4 pt 9 ps 0.5   # bluish green\n"
          "set linetype 4 lc rgb '#E69F00' lw 1.4 pt 11 ps 0.5  # orange\n"
          "set linetype 5 lc rgb '#CC79A7' lw 1.4 pt 13 ps 0.5  # reddish purple\n"
          "set linetype 6 lc rgb '#56B4E9' lw 1.4 pt 6 ps 0.5   # sky blue\n"
          "set linetype 7 lc rgb '#000000' lw 1.4 pt 4 ps 0.5   # black\n"
          "set linetype 8 lc rgb '#F0E442' lw 1.4 pt 8 ps 0.5   # yellow\n"
          "set linetype cycle 8\n"
          "# viridis: perceptually uniform and colour-blind-safe, for heat maps and depth\n"
          "set palette defined (0 '#440154', 0.1 '#482475', 0.2 '#414487', 0.3 '#355F8D', \\\n"
          "    0.4 '#2A788E', 0.5 '#21918C', 0.6 '#22A884', 0.7 '#44BF70', 0.8 '#7AD151', \\\n"
          "    0.9 '#BDDF26', 1 '#FDE725')\n"
          "unset colorbox\n\n", gp);
    fputs("# ---- the figure ----------------------------------------------------------------\n", gp);
}

static void gp_end(FILE *gp, int multiplot)
{
    if (multiplot)
        fputs("unset multiplot\n", gp);
    fputs("set output\n", gp);
}

/* Data file header. */
static void dat_header(FILE *f, const gs_fig_ctx *c, const char *what)
{
    fprintf(f, "# %s.dat — data of gradscope figure '%s' (%s.gp): %s\n", c->stem, c->name, c->stem, what);
    fprintf(f, "# gradscope %s; run log%s:", GS_VERSION, c->nruns > 1 ? "s" : "");
    for (size_t i = 0; i < c->nruns; i++)
        fprintf(f, " %s", gs_run_path(c->runs[i]));
    fputc('\n', f);
}

/* Multiplot grid for n panels: side by side on wide figures, stacked on narrow ones. */
static void panel_grid(size_t n, double w, size_t *rows, size_t *cols)
{
    size_t maxcols = w >= 5.0 ? 4 : (w >= 3.0 ? 2 : 1);
    if (n <= 3 && w >= 5.0)
        maxcols = n;
    else if (n <= 3)
        maxcols = 1;
    *cols = n < maxcols ? n : maxcols;
    if (*cols == 0)
        *cols = 1;
    *rows = (n + *cols - 1) / *cols;
}

/* Panels placed explicitly (set origin/size) above an optional legend strip that spans
 * the whole width: a legend shared by all panels never covers data or axis labels. */
typedef struct gp_layout {
    size_t rows, cols;
    double key_h;      /* screen fraction of the legend strip at the bottom (0: none) */
    size_t key_cols;   /* legend entries per row */
} gp_layout;

/* Plan n panels and a legend of `entries` entries whose longest title has maxlen
 * characters, for a w × h inch figure with a font of pt points. */
static gp_layout gp_layout_plan(size_t n, double w, double h, size_t entries, size_t maxlen, double pt)
{
    gp_layout L = { 0, 0, 0.0, 1 };
    panel_grid(n, w, &L.rows, &L.cols);
    if (entries > 0) {
        double entry_w = ((double)maxlen * 0.55 * pt + 3.5 * pt) / 72.0;   /* text + sample, inches */
        L.key_cols = (size_t)floor((w * 0.95) / entry_w);
        if (L.key_cols < 1)
            L.key_cols = 1;
        if (L.key_cols > entries)
            L.key_cols = entries;
        size_t key_rows = (entries + L.key_cols - 1) / L.key_cols;
        L.key_h = ((double)key_rows * 1.25 * pt + 0.6 * pt) / 72.0 / h;
        if (L.key_h > 0.4)
            L.key_h = 0.4;
    }
    return L;
}

static void gp_panel(FILE *gp, const gp_layout *L, size_t i)
{
    double pw = 1.0 / (double)L->cols, ph = (1.0 - L->key_h) / (double)L->rows;
    size_t r = i / L->cols, col = i % L->cols;
    fprintf(gp, "set origin %.4f, %.4f\nset size %.4f, %.4f\n", (double)col * pw,
            L->key_h + (double)(L->rows - 1 - r) * ph, pw, ph);
}

/* Begin the legend strip: the caller then writes "plot" with one NaN element per entry. */
static void gp_legend_begin(FILE *gp, const gp_layout *L)
{
    fputs("\n# ---- the legend, shared by the panels, in a strip below them\n", gp);
    fprintf(gp, "set origin 0, 0\nset size 1, %.4f\n", L->key_h);
    fputs("unset title\nunset xlabel\nunset ylabel\nunset border\nunset tics\nunset grid\nunset arrow\n"
          "unset logscale\nset xrange [0:1]\nset yrange [0:1]\n"
          "set lmargin 0\nset rmargin 0\nset tmargin 0\nset bmargin 0\n", gp);
    fprintf(gp, "set key center center horizontal maxcols %zu samplen 2 spacing 1.0 noopaque\n", L->key_cols);
}

/* The series (x[i], y[i]), reduced to at most opts->points points by
 * gs_downsample_indices, written as "x y" rows. */
static int dat_series(gs_fig_ctx *c, FILE *f, const double *x, const double *y, size_t n)
{
    size_t *keep = malloc((n > 2 ? n : 2) * sizeof *keep);
    if (!keep) {
        fig_fail(c, 0, "out of memory");
        return GS_FIG_ERROR;
    }
    size_t m = gs_downsample_indices(y, n, c->opts->points, keep);
    for (size_t i = 0; i < m; i++) {
        dat_num(f, x[keep[i]]);
        fputc(' ', f);
        dat_num(f, y[keep[i]]);
        fputc('\n', f);
    }
    free(keep);
    return GS_FIG_OK;
}

static void dat_smoothing_note(FILE *f, size_t W, size_t points)
{
    if (W > 1)
        fprintf(f, "# values: centred moving average over %zu probed steps (window clipped at the ends, NaN "
                   "skipped)\n", W);
    else
        fputs("# values: as recorded (no smoothing)\n", f);
    fprintf(f, "# at most %zu points per curve: the first, the last, and each bucket's min and max "
               "(gs_downsample_indices)\n", points);
}

/* Blocks to draw: the --select matches (which must be some), or all. */
static int select_blocks(gs_fig_ctx *c, gs_run *run, gs_selection *sel)
{
    char err[512];
    if (gs_select_names(gs_run_block_names(run), gs_run_n_blocks(run), c->opts->select, sel, err, sizeof err) != 0) {
        fig_fail(c, 1, "--select: %s", err);
        return GS_FIG_ERROR;
    }
    if (sel->n == 0) {
        fig_fail(c, 1, "--select '%s' matches no block of %s", c->opts->select ? c->opts->select : "",
                 gs_run_path(run));
        gs_selection_free(sel);
        return GS_FIG_SKIP;
    }
    return GS_FIG_OK;
}

/* ---- heat maps: block × epoch ------------------------------------------------------------------- */

typedef enum heat_kind { HEAT_OVERLAP, HEAT_COSINE, HEAT_SHARE } heat_kind;

static int fig_heatmap(gs_fig_ctx *c, double w, double h, heat_kind kind)
{
    gs_run *run = c->runs[0];
    size_t E = gs_run_rows(run, GS_AXIS_PROBE_EPOCH), B = gs_run_n_blocks(run);
    gs_selection sel = { 0 };
    double *a = NULL, *b = NULL, *epochs = NULL;
    FILE *dat = NULL, *gp = NULL;
    char path[256], name[300];
    size_t nr, nc;
    int rc = GS_FIG_ERROR;

    static const char *const what[3] = {
        "overlap ||dx||^2 / (||dx_skip||^2 + ||dx_residual||^2) per block and epoch (epoch mean)",
        "cosine(dx_skip, dx_residual) per block and epoch (epoch mean)",
        ("residual share ||dx_residual||^2 / (||dx_skip||^2 + ||dx_residual||^2) per block and epoch, "
         "from the epoch means of the two norms"),
    };
    const char *stat_a = kind == HEAT_OVERLAP ? GS_BLK_OVERLAP "_mean"
                       : kind == HEAT_COSINE  ? GS_BLK_COSINE "_mean"
                                              : GS_BLK_SKIP_NORM "_mean";
    if (E == 0) {
        fig_fail(c, 1, "%s has no epoch aggregates (/probe/epoch): no finished epoch with probes",
                 gs_run_path(run));
        return GS_FIG_SKIP;
    }
    gs_run_block_epoch_path(path, sizeof path, stat_a);
    if (!gs_run_has(run, path)) {
        fig_fail(c, 1, "%s has no %s", gs_run_path(run), path);
        return GS_FIG_SKIP;
    }
    rc = select_blocks(c, run, &sel);
    if (rc != GS_FIG_OK)
        return rc;
    rc = GS_FIG_ERROR;
    a = gs_run_read_table(run, GS_AXIS_PROBE_EPOCH, path, &nr, &nc);
    if (!a) {
        rc = fig_read_failed(c, run);
        goto done;
    }
    if (kind == HEAT_SHARE) {
        gs_run_block_epoch_path(path, sizeof path, GS_BLK_RESIDUAL_NORM "_mean");
        b = gs_run_read_table(run, GS_AXIS_PROBE_EPOCH, path, &nr, &nc);
        if (!b) {
            rc = fig_read_failed(c, run);
            goto done;
        }
    }
    epochs = malloc(E * sizeof *epochs);
    if (!epochs || gs_run_axis_x(run, GS_AXIS_PROBE_EPOCH, 0, E, epochs) != 0) {
        rc = fig_read_failed(c, run);
        goto done;
    }
    int regular = E >= 2 && sel.n >= 2;
    for (size_t e = 1; e < E; e++)
        if (epochs[e] - epochs[e - 1] != 1.0)
            regular = 0;

    /* data: epoch, row (0 = top), value, block; one blank line after each epoch */
    snprintf(name, sizeof name, "%s.dat", c->stem);
    dat = fig_open(c, name);
    if (!dat)
        goto done;
    dat_header(dat, c, what[kind]);
    fputs("# columns: epoch  row  value  block   (row = the block's position from the top of the map)\n", dat);
    for (size_t e = 0; e < E; e++) {
        for (size_t i = 0; i < sel.n; i++) {
            size_t blk = sel.idx[i];
            double v;
            if (kind == HEAT_SHARE) {
                double s = a[e * B + blk], r = b[e * B + blk];
                v = r * r / (s * s + r * r);
            } else {
                v = a[e * B + blk];
            }
            dat_num(dat, epochs[e]);
            fprintf(dat, " %zu ", i);
            dat_num(dat, v);
            fprintf(dat, " %s\n", gs_run_block(run, blk)->name);
        }
        fputc('\n', dat);
    }
    rc = fig_close(c, dat, name);
    dat = NULL;
    if (rc != GS_FIG_OK)
        goto done;

    /* script */
    rc = GS_FIG_ERROR;
    snprintf(name, sizeof name, "%s.gp", c->stem);
    gp = fig_open(c, name);
    if (!gp)
        goto done;
    gp_preamble(gp, c, w, h, what[kind]);
    fprintf(gp, "data = '%s.dat'\n", c->stem);
    fputs("set xlabel 'epoch'\nset ylabel 'block'\n", gp);
    fprintf(gp, "set xrange [%g:%g]\n", epochs[0] - 0.5, epochs[E - 1] + 0.5);
    fprintf(gp, "set yrange [%g:-0.5]   # first block at the top\n", (double)sel.n - 0.5);
    fputs("set grid noxtics noytics\nset tics front\n", gp);
    /* label every k-th block so the labels fit the height */
    double avail_pt = (h - 0.7) * 72.0;
    size_t every = 1;
    while (every < sel.n && (double)(sel.n / every) * font_size_pt(c->opts) * 1.25 > avail_pt)
        every++;
    fputs("set ytics (", gp);
    for (size_t i = 0; i < sel.n; i++) {
        if (i)
            fputs(", ", gp);
        if (i % every == 0) {
            gp_str(gp, c, gs_run_block(run, sel.idx[i])->name);
            fprintf(gp, " %zu", i);
        } else {
            fprintf(gp, "'' %zu 1", i);   /* an unlabelled minor tic */
        }
    }
    fputs(")\n", gp);
    if (E <= 12) {
        fputs("set xtics 1\n", gp);
    }
    fputs("set colorbox\n", gp);
    switch (kind) {
    case HEAT_OVERLAP:
        fputs("set cblabel ", gp);
        gp_label(gp, c, "overlap", NULL);
        fputc('\n', gp);
        break;
    case HEAT_COSINE:
        fputs("set cblabel ", gp);
        gp_label(gp, c, "cos(skip, residual)", "$\\cos(dx_{\\mathrm{skip}}, dx_{\\mathrm{res}})$");
        fputc('\n', gp);
        break;
    case HEAT_SHARE:
        fputs("set cblabel ", gp);
        gp_label(gp, c, "residual share", NULL);
        fputs("\nset cbrange [0:1]\n", gp);
        break;
    }
    if (regular)
        fputs("plot data using 1:2:3 with image notitle\n", gp);
    else
        fputs("set style fill solid 1.0 noborder\n"
              "plot data using 1:2:(0.5):(0.5):3 with boxxyerror fillcolor palette notitle\n", gp);
    gp_end(gp, 0);
    rc = fig_close(c, gp, name);
    gp = NULL;
done:
    if (dat)
        fclose(dat);
    if (gp)
        fclose(gp);
    free(a);
    free(b);
    free(epochs);
    gs_selection_free(&sel);
    return rc;
}

static int fig_overlap_heatmap(gs_fig_ctx *c, double w, double h) { return fig_heatmap(c, w, h, HEAT_OVERLAP); }
static int fig_cosine_heatmap(gs_fig_ctx *c, double w, double h) { return fig_heatmap(c, w, h, HEAT_COSINE); }
static int fig_share_heatmap(gs_fig_ctx *c, double w, double h) { return fig_heatmap(c, w, h, HEAT_SHARE); }

/* ---- per-step curves: norms and cosine -------------------------------------------------------- */

/* The moving-average window for n probed steps: --smooth, or n / 100 (at least 1). */
static size_t smooth_window(const gs_plot_opts *o, size_t n)
{
    if (o->smooth > 0)
        return (size_t)o->smooth;
    return n / 100 > 1 ? n / 100 : 1;
}

/* Centred moving average in place: y[i] becomes the mean of the finite values among
 * y[i - W/2] … y[i - W/2 + W - 1] (the window clipped to the series; NaN if none).
 * W <= 1 leaves y unchanged.  tmp holds 2 (n + 1) doubles. */
static void smooth_series(double *y, size_t n, size_t W, double *tmp)
{
    if (W <= 1 || n == 0)
        return;
    double *sum = tmp, *cnt = tmp + n + 1;
    sum[0] = cnt[0] = 0;
    for (size_t i = 0; i < n; i++) {
        int ok = isfinite(y[i]);
        sum[i + 1] = sum[i] + (ok ? y[i] : 0.0);
        cnt[i + 1] = cnt[i] + (ok ? 1.0 : 0.0);
    }
    for (size_t i = 0; i < n; i++) {
        long lo = (long)i - (long)(W / 2), hi = lo + (long)W;   /* the window [lo, hi) */
        if (lo < 0)
            lo = 0;
        if (hi > (long)n)
            hi = (long)n;
        double k = cnt[hi] - cnt[lo];
        y[i] = k > 0 ? (sum[hi] - sum[lo]) / k : NAN;
    }
}

/* x tics for a step axis: a 1-2-5 step giving at most one tic per 0.7 in of panel, and
 * "20k" style labels for large steps. */
static void gp_step_xtics(FILE *gp, double xmin, double xmax, double panel_w)
{
    double range = xmax - xmin;
    size_t maxt = (size_t)floor(panel_w / 0.7);
    if (maxt < 2)
        maxt = 2;
    if (!(range > 0))
        return;
    double step = pow(10.0, floor(log10(range / (double)maxt)));
    while (range / step > (double)maxt) {
        if (range / (2 * step) <= (double)maxt) {
            step *= 2;
            break;
        }
        if (range / (5 * step) <= (double)maxt) {
            step *= 5;
            break;
        }
        step *= 10;
    }
    if (step < 1)
        step = 1;
    fprintf(gp, "set xtics %g\n", step);
    if (step >= 1000)
        fputs("set format x '%.0s%c'   # 20000 → 20k\n", gp);
}

/* A panel of the per-step figures: a title and the blocks it covers. */
typedef struct step_panel {
    char    title[128];
    size_t *blocks;
    size_t  n;
} step_panel;

static void panels_free(step_panel *p, size_t n)
{
    for (size_t i = 0; p && i < n; i++)
        free(p[i].blocks);
    free(p);
}

/* Panels: one per stage (blocks of the selection in that stage) when per_block is 0,
 * else one per selected block (at most max_panels). */
static step_panel *make_panels(gs_run *run, const gs_selection *sel, int per_block, size_t max_panels,
                               size_t *npanels)
{
    step_panel *p = calloc(sel->n ? sel->n : 1, sizeof *p);
    size_t n = 0;
    if (!p)
        return NULL;
    if (per_block) {
        for (size_t i = 0; i < sel->n && n < max_panels; i++, n++) {
            p[n].blocks = malloc(sizeof *p[n].blocks);
            if (!p[n].blocks)
                goto oom;
            p[n].blocks[0] = sel->idx[i];
            p[n].n = 1;
            snprintf(p[n].title, sizeof p[n].title, "%s", gs_run_block(run, sel->idx[i])->name);
        }
    } else {
        for (size_t i = 0; i < sel->n; i++) {
            int stage = gs_run_block(run, sel->idx[i])->stage;
            size_t k = 0;
            while (k < n && gs_run_block(run, p[k].blocks[0])->stage != stage)
                k++;
            if (k == n) {
                p[n].blocks = malloc(sel->n * sizeof *p[n].blocks);
                if (!p[n].blocks)
                    goto oom;
                n++;
            }
            p[k].blocks[p[k].n++] = sel->idx[i];
        }
        for (size_t k = 0; k < n; k++) {
            const char *first = gs_run_block(run, p[k].blocks[0])->name;
            const char *last = gs_run_block(run, p[k].blocks[p[k].n - 1])->name;
            if (p[k].n == 1)
                snprintf(p[k].title, sizeof p[k].title, "stage %d (%s)", gs_run_block(run, p[k].blocks[0])->stage,
                         first);
            else
                snprintf(p[k].title, sizeof p[k].title, "stage %d (%s … %s)",
                         gs_run_block(run, p[k].blocks[0])->stage, first, last);
        }
    }
    *npanels = n;
    return p;
oom:
    panels_free(p, n + 1);
    return NULL;
}

static int fig_norms(gs_fig_ctx *c, double w, double h)
{
    static const char *const stats[3] = { GS_BLK_SKIP_NORM, GS_BLK_RESIDUAL_NORM, GS_BLK_SUM_NORM };
    static const char *const labels[3] = { "skip", "residual", "sum" };
    gs_run *run = c->runs[0];
    size_t N = gs_run_rows(run, GS_AXIS_PROBE), B = gs_run_n_blocks(run);
    gs_selection sel = { 0 };
    step_panel *panels = NULL;
    size_t npanels = 0, nr, nc;
    double *tab[3] = { NULL, NULL, NULL }, *x = NULL, *y = NULL, *tmp = NULL;
    FILE *dat = NULL, *gp = NULL;
    char path[256], name[300];
    size_t W = smooth_window(c->opts, N), rows, cols;
    int rc;

    for (int k = 0; k < 3; k++)
        if (!gs_run_has(run, gs_run_block_path(path, sizeof path, stats[k]))) {
            fig_fail(c, 1, "%s has no per-step block statistics (%s)", gs_run_path(run), path);
            return GS_FIG_SKIP;
        }
    if (N == 0) {
        fig_fail(c, 1, "%s has no probed steps yet", gs_run_path(run));
        return GS_FIG_SKIP;
    }
    rc = select_blocks(c, run, &sel);
    if (rc != GS_FIG_OK)
        return rc;
    rc = GS_FIG_ERROR;
    int per_block = c->opts->select != NULL;
    panels = make_panels(run, &sel, per_block, 12, &npanels);
    panel_grid(npanels, w, &rows, &cols);
    x = malloc(N * sizeof *x);
    y = malloc(N * sizeof *y);
    tmp = malloc(2 * (N + 1) * sizeof *tmp);
    if (!panels || !x || !y || !tmp) {
        fig_fail(c, 0, "out of memory");
        goto done;
    }
    if (gs_run_axis_x(run, GS_AXIS_PROBE, 0, N, x) != 0) {
        rc = fig_read_failed(c, run);
        goto done;
    }
    for (int k = 0; k < 3; k++) {
        tab[k] = gs_run_read_table(run, GS_AXIS_PROBE, gs_run_block_path(path, sizeof path, stats[k]), &nr, &nc);
        if (!tab[k]) {
            rc = fig_read_failed(c, run);
            goto done;
        }
    }

    snprintf(name, sizeof name, "%s.dat", c->stem);
    dat = fig_open(c, name);
    if (!dat)
        goto done;
    dat_header(dat, c, per_block ? "gradient norms of the skip and residual parts and their sum, per selected block"
                                 : "gradient norms of the skip and residual parts and their sum, mean over the "
                                   "blocks of each stage");
    fprintf(dat, "# blocks separated by two blank lines (gnuplot index i = 3 * panel + part, part 0 skip, "
                 "1 residual, 2 sum)\n# columns: step  norm\n");
    dat_smoothing_note(dat, W, c->opts->points);
    for (size_t p = 0; p < npanels; p++) {
        for (int k = 0; k < 3; k++) {
            fprintf(dat, "%s# index %zu: %s, %s norm", (p || k) ? "\n\n" : "", 3 * p + (size_t)k, panels[p].title,
                    labels[k]);
            if (!per_block) {
                fputs(" — mean over", dat);
                for (size_t i = 0; i < panels[p].n; i++)
                    fprintf(dat, " %s", gs_run_block(run, panels[p].blocks[i])->name);
            }
            fputc('\n', dat);
            for (size_t i = 0; i < N; i++) {
                double sum = 0;
                size_t cnt = 0;
                for (size_t j = 0; j < panels[p].n; j++) {
                    double t = tab[k][i * B + panels[p].blocks[j]];
                    if (isfinite(t)) {
                        sum += t;
                        cnt++;
                    }
                }
                y[i] = cnt ? sum / (double)cnt : NAN;
            }
            smooth_series(y, N, W, tmp);
            if (dat_series(c, dat, x, y, N) != GS_FIG_OK)
                goto done;
        }
    }
    rc = fig_close(c, dat, name);
    dat = NULL;
    if (rc != GS_FIG_OK)
        goto done;

    rc = GS_FIG_ERROR;
    snprintf(name, sizeof name, "%s.gp", c->stem);
    gp = fig_open(c, name);
    if (!gp)
        goto done;
    gp_preamble(gp, c, w, h, "gradient norms of skip, residual and sum along training (log y)");
    fprintf(gp, "data = '%s.dat'\n", c->stem);
    fputs("set logscale y\nset format y '%g'\nset xlabel 'step'\n", gp);
    gp_step_xtics(gp, x[0], x[N - 1], w / (double)cols);
    fputs("ylab = ", gp);
    gp_label(gp, c, "gradient norm ||dx||", "gradient norm $\\|dx\\|_2$");
    fputc('\n', gp);
    fputs("set key top right opaque\n", gp);
    fprintf(gp, "set multiplot layout %zu,%zu\n", rows, cols);
    for (size_t p = 0; p < npanels; p++) {
        fputs("set title ", gp);
        gp_str(gp, c, panels[p].title);
        fputc('\n', gp);
        if (p == 1)
            fputs("unset key\n", gp);
        /* the y label on the first panel of each row only */
        fputs(p % cols == 0 ? "set ylabel ylab\n" : "unset ylabel\n", gp);
        fprintf(gp, "plot data index %zu using 1:2 with lines lt 1 title 'skip', \\\n"
                    "     data index %zu using 1:2 with lines lt 2 title 'residual', \\\n"
                    "     data index %zu using 1:2 with lines lt 3 title 'sum'\n",
                3 * p, 3 * p + 1, 3 * p + 2);
    }
    gp_end(gp, 1);
    rc = fig_close(c, gp, name);
    gp = NULL;
done:
    if (dat)
        fclose(dat);
    if (gp)
        fclose(gp);
    for (int k = 0; k < 3; k++)
        free(tab[k]);
    free(x);
    free(y);
    free(tmp);
    panels_free(panels, npanels);
    gs_selection_free(&sel);
    return rc;
}

static int fig_cosine(gs_fig_ctx *c, double w, double h)
{
    gs_run *run = c->runs[0];
    size_t N = gs_run_rows(run, GS_AXIS_PROBE), B = gs_run_n_blocks(run);
    gs_selection sel = { 0 };
    step_panel *panels = NULL;
    size_t npanels = 0, nr, nc;
    double *tab = NULL, *x = NULL, *y = NULL, *tmp = NULL;
    FILE *dat = NULL, *gp = NULL;
    char path[256], name[300];
    size_t W = smooth_window(c->opts, N), rows, cols;
    int rc;

    if (!gs_run_has(run, gs_run_block_path(path, sizeof path, GS_BLK_COSINE))) {
        fig_fail(c, 1, "%s has no per-step block statistics (%s)", gs_run_path(run), path);
        return GS_FIG_SKIP;
    }
    if (N == 0) {
        fig_fail(c, 1, "%s has no probed steps yet", gs_run_path(run));
        return GS_FIG_SKIP;
    }
    rc = select_blocks(c, run, &sel);
    if (rc != GS_FIG_OK)
        return rc;
    rc = GS_FIG_ERROR;
    panels = make_panels(run, &sel, 0, 0, &npanels);
    panel_grid(npanels, w, &rows, &cols);
    x = malloc(N * sizeof *x);
    y = malloc(N * sizeof *y);
    tmp = malloc(2 * (N + 1) * sizeof *tmp);
    if (!panels || !x || !y || !tmp) {
        fig_fail(c, 0, "out of memory");
        goto done;
    }
    if (gs_run_axis_x(run, GS_AXIS_PROBE, 0, N, x) != 0) {
        rc = fig_read_failed(c, run);
        goto done;
    }
    tab = gs_run_read_table(run, GS_AXIS_PROBE, path, &nr, &nc);
    if (!tab) {
        rc = fig_read_failed(c, run);
        goto done;
    }

    snprintf(name, sizeof name, "%s.dat", c->stem);
    dat = fig_open(c, name);
    if (!dat)
        goto done;
    dat_header(dat, c, "cosine between the skip and residual parts of the gradient, per block, along training");
    fprintf(dat, "# one block of rows per block (gnuplot index = position in the selection), two blank lines "
                 "between\n# columns: step  cosine\n");
    dat_smoothing_note(dat, W, c->opts->points);
    for (size_t i = 0; i < sel.n; i++) {
        fprintf(dat, "%s# index %zu: %s\n", i ? "\n\n" : "", i, gs_run_block(run, sel.idx[i])->name);
        for (size_t r = 0; r < N; r++)
            y[r] = tab[r * B + sel.idx[i]];
        smooth_series(y, N, W, tmp);
        if (dat_series(c, dat, x, y, N) != GS_FIG_OK)
            goto done;
    }
    rc = fig_close(c, dat, name);
    dat = NULL;
    if (rc != GS_FIG_OK)
        goto done;

    rc = GS_FIG_ERROR;
    snprintf(name, sizeof name, "%s.gp", c->stem);
    gp = fig_open(c, name);
    if (!gp)
        goto done;
    gp_preamble(gp, c, w, h, "cosine of the skip and residual gradient parts along training, per block");
    fprintf(gp, "data = '%s.dat'\n", c->stem);
    fputs("set xlabel 'step'\n", gp);
    gp_step_xtics(gp, x[0], x[N - 1], w / (double)cols);
    fputs("ylab = ", gp);
    gp_label(gp, c, "cos(dx_skip, dx_residual)", "$\\cos(dx_{\\mathrm{skip}}, dx_{\\mathrm{res}})$");
    fputs("\nset key bottom right opaque font ',7' samplen 1 spacing 0.8\n", gp);
    fputs("set arrow 1 from graph 0, first 0 to graph 1, first 0 nohead dt 2 lc rgb '#808080' back\n", gp);
    fprintf(gp, "set multiplot layout %zu,%zu\n", rows, cols);
    size_t pos = 0;   /* index of the block within the selection = data index */
    for (size_t p = 0; p < npanels; p++) {
        fputs("set title ", gp);
        gp_str(gp, c, panels[p].title);
        fputc('\n', gp);
        fputs(p % cols == 0 ? "set ylabel ylab\n" : "unset ylabel\n", gp);
        fputs("plot ", gp);
        for (size_t j = 0; j < panels[p].n; j++, pos++) {
            if (j)
                fputs(", \\\n     ", gp);
            if (panels[p].n <= 8)
                fprintf(gp, "data index %zu using 1:2 with lines lt %zu lw 0.8 title ", pos, j + 1);
            else
                fprintf(gp, "data index %zu using 1:2 with lines lc palette frac %.3f lw 0.8 title ", pos,
                        (double)j / (double)(panels[p].n - 1));
            gp_str(gp, c, gs_run_block(run, panels[p].blocks[j])->name);
        }
        fputc('\n', gp);
    }
    gp_end(gp, 1);
    rc = fig_close(c, gp, name);
    gp = NULL;
done:
    if (dat)
        fclose(dat);
    if (gp)
        fclose(gp);
    free(tab);
    free(x);
    free(y);
    free(tmp);
    panels_free(panels, npanels);
    gs_selection_free(&sel);
    return rc;
}

/* ---- ridgelines: a tensor's gradient magnitude distribution across epochs -------------------------- */

/* The tensor to draw: the first --select match, else the middle conv weight. */
static int pick_tensor(gs_fig_ctx *c, gs_run *run, size_t *out)
{
    size_t np = gs_run_n_params(run);
    if (c->opts->select) {
        gs_selection sel = { 0 };
        char err[512];
        if (gs_select_names(gs_run_param_names(run), np, c->opts->select, &sel, err, sizeof err) != 0) {
            fig_fail(c, 1, "--select: %s", err);
            return GS_FIG_ERROR;
        }
        if (sel.n == 0) {
            fig_fail(c, 1, "--select '%s' matches no tensor of %s", c->opts->select, gs_run_path(run));
            gs_selection_free(&sel);
            return GS_FIG_SKIP;
        }
        *out = sel.idx[0];
        gs_selection_free(&sel);
        return GS_FIG_OK;
    }
    size_t nconv = 0;
    for (size_t p = 0; p < np; p++)
        if (!strcmp(gs_run_param(run, p)->kind, "conv_weight"))
            nconv++;
    if (np == 0) {
        fig_fail(c, 1, "%s has no parameter tensors", gs_run_path(run));
        return GS_FIG_SKIP;
    }
    *out = np / 2;
    for (size_t p = 0, k = 0; p < np && nconv; p++)
        if (!strcmp(gs_run_param(run, p)->kind, "conv_weight") && k++ == nconv / 2) {
            *out = p;
            break;
        }
    return GS_FIG_OK;
}

#define RIDGE_MAX 16

static int fig_ridgelines(gs_fig_ctx *c, double w, double h)
{
    gs_run *run = c->runs[0];
    size_t E = gs_run_rows(run, GS_AXIS_PROBE_EPOCH), H = 0;
    const double *edges = gs_run_hist_edges(run, &H);
    int64_t *counts[2] = { NULL, NULL };
    double *epochs = NULL;
    FILE *dat = NULL, *gp = NULL;
    char name[300], method[64];
    size_t tensor = 0, rows[RIDGE_MAX], J = 0;
    int rc;

    if (E == 0 || !edges || !gs_run_has(run, "/probe/epoch/params/pre/hist") ||
        !gs_run_has(run, "/probe/epoch/params/post/hist")) {
        fig_fail(c, 1, "%s has no per-epoch tensor histograms (/probe/epoch/params/*/hist)", gs_run_path(run));
        return GS_FIG_SKIP;
    }
    rc = pick_tensor(c, run, &tensor);
    if (rc != GS_FIG_OK)
        return rc;
    rc = GS_FIG_ERROR;
    /* the epochs drawn: all, or RIDGE_MAX evenly spaced including the first and last */
    J = E <= RIDGE_MAX ? E : RIDGE_MAX;
    for (size_t j = 0; j < J; j++)
        rows[j] = J == 1 ? 0 : (size_t)llround((double)j * (double)(E - 1) / (double)(J - 1));
    epochs = malloc(E * sizeof *epochs);
    counts[0] = malloc(E * H * sizeof *counts[0]);
    counts[1] = malloc(E * H * sizeof *counts[1]);
    if (!epochs || !counts[0] || !counts[1]) {
        fig_fail(c, 0, "out of memory");
        goto done;
    }
    if (gs_run_axis_x(run, GS_AXIS_PROBE_EPOCH, 0, E, epochs) != 0 ||
        gs_run_read_hist(run, GS_AXIS_PROBE_EPOCH, GS_HIST_PRE, tensor, 0, E, counts[0]) != 0 ||
        gs_run_read_hist(run, GS_AXIS_PROBE_EPOCH, GS_HIST_POST, tensor, 0, E, counts[1]) != 0) {
        rc = fig_read_failed(c, run);
        goto done;
    }

    /* regular bins: finite positive edges; the x range covers the non-empty ones */
    double xmin = INFINITY, xmax = -INFINITY, fmax = 0;
    for (int s = 0; s < 2; s++)
        for (size_t j = 0; j < J; j++) {
            const int64_t *row = counts[s] + rows[j] * H;
            double total = 0;
            for (size_t k = 0; k < H; k++)
                total += (double)row[k];
            for (size_t k = 0; k < H; k++) {
                if (!(edges[k] > 0) || !isfinite(edges[k + 1]) || row[k] == 0 || total <= 0)
                    continue;
                double xc = 0.5 * (log10(edges[k]) + log10(edges[k + 1]));
                double f = (double)row[k] / total;
                if (xc < xmin)
                    xmin = xc;
                if (xc > xmax)
                    xmax = xc;
                if (f > fmax)
                    fmax = f;
            }
        }
    if (!(xmax >= xmin) || fmax <= 0) {
        fig_fail(c, 1, "%s: the histograms of %s are empty", gs_run_path(run), gs_run_param(run, tensor)->name);
        rc = GS_FIG_SKIP;
        goto done;
    }

    snprintf(name, sizeof name, "%s.dat", c->stem);
    dat = fig_open(c, name);
    if (!dat)
        goto done;
    dat_header(dat, c, "gradient magnitude distribution of one tensor across epochs, raw and after the transform");
    fprintf(dat, "# tensor %s (%s, %lld elements); from /probe/epoch/params/{pre,post}/hist (sums over each "
                 "epoch's sampled steps)\n",
            gs_run_param(run, tensor)->name, gs_run_param(run, tensor)->kind,
            (long long)gs_run_param(run, tensor)->numel);
    fprintf(dat, "# index j (0..%zu) = raw gradient at the j-th epoch drawn, index %zu + j = after the transform\n",
            J - 1, J);
    fputs("# columns: log10|g| (bin centre)  fraction of the elements in the bin\n"
          "# zeros, |g| below the first and above the last finite edge are counted in the fractions but not "
          "drawn:\n# their shares are listed per block\n", dat);
    for (int s = 0; s < 2; s++)
        for (size_t j = 0; j < J; j++) {
            const int64_t *row = counts[s] + rows[j] * H;
            double total = 0, zero = 0, under = 0, over = 0;
            for (size_t k = 0; k < H; k++) {
                total += (double)row[k];
                if (edges[k + 1] == 0)
                    zero += (double)row[k];
                else if (edges[k] == 0)
                    under += (double)row[k];
                else if (!isfinite(edges[k + 1]))
                    over += (double)row[k];
            }
            double t = total > 0 ? total : 1;
            fprintf(dat, "%s# index %zu: %s, epoch ", (s || j) ? "\n\n" : "", (size_t)s * J + j,
                    s ? "after the transform" : "raw");
            dat_num(dat, epochs[rows[j]]);
            fprintf(dat, ", %.0f elements; zeros %.4g, underflow %.4g, overflow %.4g\n", total, zero / t, under / t,
                    over / t);
            for (size_t k = 0; k < H; k++) {
                if (!(edges[k] > 0) || !isfinite(edges[k + 1]))
                    continue;
                double xc = 0.5 * (log10(edges[k]) + log10(edges[k + 1]));
                if (xc < xmin - 0.5 || xc > xmax + 0.5)
                    continue;
                dat_num(dat, xc);
                fputc(' ', dat);
                dat_num(dat, (double)row[k] / t);
                fputc('\n', dat);
            }
        }
    rc = fig_close(c, dat, name);
    dat = NULL;
    if (rc != GS_FIG_OK)
        goto done;

    rc = GS_FIG_ERROR;
    snprintf(name, sizeof name, "%s.gp", c->stem);
    gp = fig_open(c, name);
    if (!gp)
        goto done;
    gp_preamble(gp, c, w, h, "gradient magnitude distribution of a tensor across epochs, raw vs transformed");
    gs_cli_method(run, method, sizeof method);
    fprintf(gp, "data = '%s.dat'\n", c->stem);
    fprintf(gp, "J = %zu                # ridges (epochs) per panel\n", J);
    fprintf(gp, "scale = %.6g        # ridge height per unit fraction: the tallest ridge is 1.8 rows\n", 1.8 / fmax);
    fputs("set xlabel ", gp);
    gp_label(gp, c, "log10 |g|", "$\\log_{10}|g|$");
    fputs("\nset ylabel 'epoch'\n", gp);
    fprintf(gp, "set xrange [%g:%g]\n", floor(xmin - 0.5), ceil(xmax + 0.5));
    fprintf(gp, "set yrange [-0.3:%g]\n", (double)J - 1 + 2.2);
    fputs("set ytics (", gp);
    size_t every = J > 8 ? 3 : 1;
    for (size_t j = 0; j < J; j++) {
        if (j % every != 0 && j != J - 1)
            continue;
        fprintf(gp, "%s'%.0f' %zu", j ? ", " : "", epochs[rows[j]], j);
    }
    fputs(")\nset grid noytics\nset style fill transparent solid 0.65 noborder\n", gp);
    fputs("set multiplot layout 1,2 title ", gp);
    gp_str(gp, c, gs_run_param(run, tensor)->name);
    fputc('\n', gp);
    for (int s = 0; s < 2; s++) {
        char title[128];
        if (s == 0)
            snprintf(title, sizeof title, "raw gradient");
        else
            snprintf(title, sizeof title, "after %s", method);
        fputs("set title ", gp);
        gp_str(gp, c, title);
        fputc('\n', gp);
        if (s == 1)
            fputs("unset ylabel\n", gp);
        fprintf(gp, "plot for [j=J-1:0:-1] data index (%d*J + j) using 1:(j):(j + $2*scale) with filledcurves "
                    "fillcolor palette frac (J > 1 ? j/(J-1.0) : 0) notitle, \\\n"
                    "     for [j=J-1:0:-1] data index (%d*J + j) using 1:(j + $2*scale) with lines lc rgb '#202020' "
                    "lw 0.6 notitle\n", s, s);
    }
    gp_end(gp, 1);
    rc = fig_close(c, gp, name);
    gp = NULL;
done:
    if (dat)
        fclose(dat);
    if (gp)
        fclose(gp);
    free(epochs);
    free(counts[0]);
    free(counts[1]);
    return rc;
}

/* ---- param-stats: pre/post norm and std per tensor over depth -------------------------------------- */

#define PARAM_STAGE_HEAD 99

/* The stage a tensor belongs to for the depth axis: its block's stage, 0 for the stem
 * (tensors before the first block) and PARAM_STAGE_HEAD after the blocks. */
static int param_stage(gs_run *run, size_t p)
{
    const gs_param_info *pi = gs_run_param(run, p);
    if (pi->block >= 0)
        return gs_run_block(run, (size_t)pi->block)->stage;
    /* a block-less tensor before every block-owned tensor is the stem */
    for (size_t q = 0; q < p; q++)
        if (gs_run_param(run, q)->block >= 0)
            return PARAM_STAGE_HEAD;
    return 0;
}

static int fig_param_stats(gs_fig_ctx *c, double w, double h)
{
    static const char *const sides[2] = { "pre", "post" };
    static const char *const stats[2] = { "norm_mean", "std_mean" };
    gs_run *run = c->runs[0];
    size_t E = gs_run_rows(run, GS_AXIS_PROBE_EPOCH), P = gs_run_n_params(run);
    gs_selection sel = { 0 };
    double *vals = NULL, epochs[3];
    size_t erows[3], ne = 0;
    FILE *dat = NULL, *gp = NULL;
    char path[256], name[300], err[512], method[64];
    int rc = GS_FIG_ERROR;

    for (int s = 0; s < 2; s++)
        for (int k = 0; k < 2; k++)
            if (!gs_run_has(run, gs_run_param_epoch_path(path, sizeof path, sides[s], stats[k]))) {
                fig_fail(c, 1, "%s has no per-epoch tensor statistics (%s)", gs_run_path(run), path);
                return GS_FIG_SKIP;
            }
    if (E == 0) {
        fig_fail(c, 1, "%s has no epoch aggregates (/probe/epoch): no finished epoch with probes", gs_run_path(run));
        return GS_FIG_SKIP;
    }
    if (c->opts->select) {
        if (gs_select_names(gs_run_param_names(run), P, c->opts->select, &sel, err, sizeof err) != 0) {
            fig_fail(c, 1, "--select: %s", err);
            return GS_FIG_ERROR;
        }
    } else {
        /* layers: conv and fc weights (BN parameters would crowd the depth axis) */
        if (gs_select_names(gs_run_param_names(run), P, NULL, &sel, err, sizeof err) != 0) {
            fig_fail(c, 0, "out of memory");
            return GS_FIG_ERROR;
        }
        size_t m = 0;
        for (size_t i = 0; i < sel.n; i++) {
            const char *kind = gs_run_param(run, sel.idx[i])->kind;
            if (!strcmp(kind, "conv_weight") || !strcmp(kind, "fc_weight"))
                sel.idx[m++] = sel.idx[i];
        }
        if (m > 0)
            sel.n = m;
    }
    if (sel.n == 0) {
        fig_fail(c, 1, "--select '%s' matches no tensor of %s", c->opts->select, gs_run_path(run));
        gs_selection_free(&sel);
        return GS_FIG_SKIP;
    }
    /* first, middle and last epoch aggregate (distinct rows) */
    size_t cand[3] = { 0, (E - 1) / 2, E - 1 };
    for (int i = 0; i < 3; i++) {
        int dup = 0;
        for (size_t j = 0; j < ne; j++)
            dup |= erows[j] == cand[i];
        if (!dup)
            erows[ne++] = cand[i];
    }
    vals = malloc(ne * 4 * P * sizeof *vals);   /* [epoch][side*2+stat][P] */
    if (!vals) {
        fig_fail(c, 0, "out of memory");
        goto done;
    }
    for (size_t j = 0; j < ne; j++) {
        if (gs_run_axis_x(run, GS_AXIS_PROBE_EPOCH, erows[j], 1, &epochs[j]) != 0) {
            rc = fig_read_failed(c, run);
            goto done;
        }
        for (int s = 0; s < 2; s++)
            for (int k = 0; k < 2; k++) {
                gs_run_param_epoch_path(path, sizeof path, sides[s], stats[k]);
                if (gs_run_read_rows(run, GS_AXIS_PROBE_EPOCH, path, erows[j], 1,
                                     vals + (j * 4 + (size_t)(k * 2 + s)) * P) != 0) {
                    rc = fig_read_failed(c, run);
                    goto done;
                }
            }
    }

    snprintf(name, sizeof name, "%s.dat", c->stem);
    dat = fig_open(c, name);
    if (!dat)
        goto done;
    dat_header(dat, c, "gradient norm and std of each tensor before (pre) and after (post) the transform, over depth");
    fputs("# from /probe/epoch/params/{pre,post}/{norm_mean,std_mean} (means over each epoch's probed steps)\n", dat);
    fputs("# columns: position  then for each epoch e in", dat);
    for (size_t j = 0; j < ne; j++)
        fprintf(dat, " %.0f", epochs[j]);
    fputs(": pre_norm post_norm pre_std post_std;  last column: tensor\n", dat);
    fputs("# (epoch j's four columns start at column 2 + 4 j)\n", dat);
    for (size_t i = 0; i < sel.n; i++) {
        size_t p = sel.idx[i];
        fprintf(dat, "%zu", i);
        for (size_t j = 0; j < ne; j++)
            for (int q = 0; q < 4; q++) {
                /* q: 0 pre norm, 1 post norm, 2 pre std, 3 post std = vals slot k*2+s */
                fputc(' ', dat);
                dat_num(dat, vals[(j * 4 + (size_t)q) * P + p]);
            }
        fprintf(dat, " %s\n", gs_run_param(run, p)->name);
    }
    rc = fig_close(c, dat, name);
    dat = NULL;
    if (rc != GS_FIG_OK)
        goto done;

    rc = GS_FIG_ERROR;
    snprintf(name, sizeof name, "%s.gp", c->stem);
    gp = fig_open(c, name);
    if (!gp)
        goto done;
    gp_preamble(gp, c, w, h, "gradient norm and std per tensor over depth, before and after the transform");
    gs_cli_method(run, method, sizeof method);
    fprintf(gp, "data = '%s.dat'\n", c->stem);
    fputs("set logscale y\nset format y '%g'\nset xlabel 'tensor (network order)'\n", gp);
    fprintf(gp, "set xrange [-0.5:%g]\n", (double)sel.n - 0.5);
    /* x tics: one label per stage at the middle of its tensors; dotted lines between stages */
    fputs("set xtics scale 0 (", gp);
    for (size_t i = 0; i < sel.n;) {
        int stage = param_stage(run, sel.idx[i]);
        size_t end = i + 1;
        while (end < sel.n && param_stage(run, sel.idx[end]) == stage)
            end++;
        if (stage == 0)
            fputs(i ? ", 'stem'" : "'stem'", gp);
        else if (stage == PARAM_STAGE_HEAD)
            fputs(i ? ", 'head'" : "'head'", gp);
        else
            fprintf(gp, "%s'layer%d'", i ? ", " : "", stage);
        fprintf(gp, " %g", 0.5 * (double)(i + end - 1));
        i = end;
    }
    fputs(")\n", gp);
    for (size_t i = 1; i < sel.n; i++)
        if (param_stage(run, sel.idx[i]) != param_stage(run, sel.idx[i - 1]))
            fprintf(gp, "set arrow from %g, graph 0 to %g, graph 1 nohead dt 3 lc rgb '#a0a0a0' back\n",
                    (double)i - 0.5, (double)i - 0.5);
    size_t maxlen = strlen(method) + 10;
    gp_layout L = gp_layout_plan(2, w, h, 2 * ne, maxlen, font_size_pt(c->opts));
    fputs("set key off\nset multiplot\n", gp);
    for (int k = 0; k < 2; k++) {
        gp_panel(gp, &L, (size_t)k);
        fputs("set title ", gp);
        gp_str(gp, c, k == 0 ? "gradient norm" : "gradient std");
        fputs("\nset ylabel ", gp);
        gp_str(gp, c, k == 0 ? "L2 norm" : "std");
        fputs("\nplot ", gp);
        for (size_t j = 0; j < ne; j++)
            for (int s = 0; s < 2; s++) {
                if (j || s)
                    fputs(", \\\n     ", gp);
                fprintf(gp, "data using 1:%zu with linespoints lt %zu dt %d notitle", 2 + 4 * j + (size_t)(k * 2 + s),
                        j + 1, s ? 2 : 1);
            }
        fputc('\n', gp);
    }
    gp_legend_begin(gp, &L);
    fputs("plot ", gp);
    for (size_t j = 0; j < ne; j++)
        for (int s = 0; s < 2; s++) {
            char title[96];
            snprintf(title, sizeof title, "epoch %.0f %s", epochs[j], s ? method : "raw");
            if (j || s)
                fputs(", \\\n     ", gp);
            fprintf(gp, "NaN with linespoints lt %zu dt %d title ", j + 1, s ? 2 : 1);
            gp_str(gp, c, title);
        }
    fputc('\n', gp);
    gp_end(gp, 1);
    rc = fig_close(c, gp, name);
    gp = NULL;
done:
    if (dat)
        fclose(dat);
    if (gp)
        fclose(gp);
    free(vals);
    gs_selection_free(&sel);
    return rc;
}

/* ---- multi-run figures: groups of runs sharing a configuration except the seed ---------------------- */

typedef struct run_groups {
    size_t  *group_of;   /* [nruns] */
    size_t   n;          /* groups */
    char   **label;      /* [n] legend label */
    size_t  *size;       /* [n] runs per group */
} run_groups;

static void groups_free(run_groups *g)
{
    if (g->label)
        for (size_t i = 0; i < g->n; i++)
            free(g->label[i]);
    free(g->label);
    free(g->group_of);
    free(g->size);
    memset(g, 0, sizeof *g);
}

/* Group the runs; labels are the method, or "method (config)" where methods repeat. */
static int make_groups(gs_fig_ctx *c, run_groups *g)
{
    memset(g, 0, sizeof *g);
    g->group_of = calloc(c->nruns, sizeof *g->group_of);
    if (!g->group_of)
        goto oom;
    long n = gs_cli_group_runs(c->runs, c->nruns, g->group_of);
    if (n < 0)
        goto oom;
    g->n = (size_t)n;
    g->label = calloc(g->n ? g->n : 1, sizeof *g->label);
    g->size = calloc(g->n ? g->n : 1, sizeof *g->size);
    if (!g->label || !g->size)
        goto oom;
    for (size_t i = 0; i < c->nruns; i++)
        g->size[g->group_of[i]]++;
    /* Labels: the method, then what tells groups of the same method apart — the
     * architecture and the optimizer where those vary across the groups, and the whole
     * configuration where that is still not enough. */
    size_t *first = calloc(g->n ? g->n : 1, sizeof *first);
    if (!first)
        goto oom;
    for (size_t k = 0; k < g->n; k++)
        while (g->group_of[first[k]] != k)
            first[k]++;
    int vary_arch = 0, vary_opt = 0;
    char a0[64], o0[64], ak[64], ok[64];
    if (g->n > 0) {
        gs_cli_arch_label(c->runs[first[0]], a0, sizeof a0);
        gs_cli_config_field(c->runs[first[0]], "optimizer", o0, sizeof o0);
    }
    for (size_t k = 1; k < g->n; k++) {
        vary_arch |= strcmp(gs_cli_arch_label(c->runs[first[k]], ak, sizeof ak), a0) != 0;
        vary_opt |= strcmp(gs_cli_config_field(c->runs[first[k]], "optimizer", ok, sizeof ok), o0) != 0;
    }
    for (size_t k = 0; k < g->n; k++) {
        const gs_run *run = c->runs[first[k]];
        char method[64], buf[400];
        snprintf(buf, sizeof buf, "%s", gs_cli_method(run, method, sizeof method));
        size_t len = strlen(buf);
        if (vary_arch)
            len += (size_t)snprintf(buf + len, sizeof buf - len, " · %s", gs_cli_arch_label(run, ak, sizeof ak));
        if (vary_opt && len < sizeof buf)
            snprintf(buf + len, sizeof buf - len, " · %s", gs_cli_config_field(run, "optimizer", ok, sizeof ok));
        g->label[k] = strdup(buf);
        if (!g->label[k]) {
            free(first);
            goto oom;
        }
    }
    /* still the same label for two groups: those get the whole configuration */
    unsigned char *clash = calloc(g->n ? g->n : 1, 1);
    if (!clash) {
        free(first);
        goto oom;
    }
    for (size_t k = 0; k < g->n; k++)
        for (size_t j = 0; j < g->n; j++)
            clash[k] |= j != k && !strcmp(g->label[j], g->label[k]);
    for (size_t k = 0; k < g->n; k++) {
        char method[64], cfg[256], buf[400];
        if (clash[k]) {
            const gs_run *run = c->runs[first[k]];
            snprintf(buf, sizeof buf, "%s (%s)", gs_cli_method(run, method, sizeof method),
                     gs_cli_config_label(run, cfg, sizeof cfg));
        } else {
            snprintf(buf, sizeof buf, "%s", g->label[k]);
        }
        size_t len = strlen(buf);
        if (g->size[k] > 1)
            snprintf(buf + len, sizeof buf - len, ", n=%zu", g->size[k]);
        char *label = strdup(buf);
        if (!label) {
            free(clash);
            free(first);
            goto oom;
        }
        free(g->label[k]);
        g->label[k] = label;
    }
    free(clash);
    free(first);
    return GS_FIG_OK;
oom:
    fig_fail(c, 0, "out of memory");
    groups_free(g);
    return GS_FIG_ERROR;
}

#define N_TRAIN_Q 4

static int fig_training(gs_fig_ctx *c, double w, double h)
{
    static const char *const q_names[N_TRAIN_Q] = { GS_EPOCHS_TRAIN_LOSS, GS_EPOCHS_TEST_LOSS, GS_EPOCHS_TRAIN_ACC,
                                                    GS_EPOCHS_TEST_ACC };
    run_groups g;
    gs_series *ser = NULL;   /* [nruns × N_TRAIN_Q] */
    double *vals = NULL;
    FILE *dat = NULL, *gp = NULL;
    char name[300];
    int rc = make_groups(c, &g);
    if (rc != GS_FIG_OK)
        return rc;
    rc = GS_FIG_ERROR;
    ser = calloc(c->nruns * N_TRAIN_Q, sizeof *ser);
    vals = malloc((c->nruns + 1) * sizeof *vals);
    if (!ser || !vals) {
        fig_fail(c, 0, "out of memory");
        goto done;
    }
    size_t any = 0;
    for (size_t i = 0; i < c->nruns; i++)
        for (int q = 0; q < N_TRAIN_Q; q++) {
            char path[128];
            snprintf(path, sizeof path, "%s/%s", GS_GRP_EPOCHS, q_names[q]);
            if (!gs_run_has(c->runs[i], path))
                continue;
            if (gs_run_epochs_series(c->runs[i], q_names[q], &ser[i * N_TRAIN_Q + (size_t)q]) != 0) {
                rc = fig_read_failed(c, c->runs[i]);
                goto done;
            }
            any += ser[i * N_TRAIN_Q + (size_t)q].n;
        }
    if (any == 0) {
        fig_fail(c, 1, "no finished epoch in %s%s", gs_run_path(c->runs[0]), c->nruns > 1 ? " or the other runs" : "");
        rc = GS_FIG_SKIP;
        goto done;
    }

    snprintf(name, sizeof name, "%s.dat", c->stem);
    dat = fig_open(c, name);
    if (!dat)
        goto done;
    dat_header(dat, c, "loss and accuracy per epoch, train and test; runs sharing a configuration except the "
                       "seed are averaged");
    fputs("# one block per group (gnuplot index = group), two blank lines between\n"
          "# columns: epoch n train_loss train_loss_std test_loss test_loss_std train_acc train_acc_std "
          "test_acc test_acc_std\n"
          "# (mean over the n runs that reached the epoch; std = sample std, n - 1, NaN when n < 2)\n", dat);
    for (size_t k = 0; k < g.n; k++) {
        fprintf(dat, "%s# index %zu: %s — runs:", k ? "\n\n" : "", k, g.label[k]);
        size_t emax = 0;
        for (size_t i = 0; i < c->nruns; i++)
            if (g.group_of[i] == k) {
                fprintf(dat, " %s", gs_run_path(c->runs[i]));
                for (int q = 0; q < N_TRAIN_Q; q++)
                    if (ser[i * N_TRAIN_Q + (size_t)q].n > emax)
                        emax = ser[i * N_TRAIN_Q + (size_t)q].n;
            }
        fputc('\n', dat);
        for (size_t e = 0; e < emax; e++) {
            double epoch = NAN;
            size_t n_e = 0;
            for (size_t i = 0; i < c->nruns; i++)
                if (g.group_of[i] == k) {
                    size_t best = 0;
                    for (int q = 0; q < N_TRAIN_Q; q++) {
                        const gs_series *s = &ser[i * N_TRAIN_Q + (size_t)q];
                        if (s->n > e) {
                            epoch = s->x[e];
                            best = 1;
                        }
                    }
                    n_e += best;
                }
            dat_num(dat, epoch);
            fprintf(dat, " %zu", n_e);
            for (int q = 0; q < N_TRAIN_Q; q++) {
                size_t m = 0;
                for (size_t i = 0; i < c->nruns; i++) {
                    const gs_series *s = &ser[i * N_TRAIN_Q + (size_t)q];
                    if (g.group_of[i] == k && s->n > e)
                        vals[m++] = s->y[e];
                }
                fputc(' ', dat);
                dat_num(dat, gs_stat_mean(vals, m, NULL));
                fputc(' ', dat);
                dat_num(dat, gs_stat_sample_std(vals, m));
            }
            fputc('\n', dat);
        }
    }
    rc = fig_close(c, dat, name);
    dat = NULL;
    if (rc != GS_FIG_OK)
        goto done;

    rc = GS_FIG_ERROR;
    snprintf(name, sizeof name, "%s.gp", c->stem);
    gp = fig_open(c, name);
    if (!gp)
        goto done;
    gp_preamble(gp, c, w, h, "training curves: loss and accuracy per epoch, train (dashed) and test (solid)");
    fprintf(gp, "data = '%s.dat'\n", c->stem);
    fputs("set xlabel 'epoch'\nset style fill transparent solid 0.2 noborder\n"
          "# bands: mean ± sample std over the seeds of a group (absent for single runs)\n", gp);
    size_t emax_all = 0;
    for (size_t i = 0; i < c->nruns * N_TRAIN_Q; i++)
        if (ser[i].n > emax_all)
            emax_all = ser[i].n;
    if (emax_all <= 12)
        fputs("set xtics 1\n", gp);
    if (emax_all == 1)   /* one epoch: a range around it (gnuplot cannot autoscale a point) */
        for (size_t i = 0; i < c->nruns * N_TRAIN_Q; i++)
            if (ser[i].n == 1 && isfinite(ser[i].x[0])) {
                fprintf(gp, "set xrange [%g:%g]\n", ser[i].x[0] - 0.5, ser[i].x[0] + 0.5);
                break;
            }
    size_t maxlen = 5;
    for (size_t k = 0; k < g.n; k++)
        if (strlen(g.label[k]) > maxlen)
            maxlen = strlen(g.label[k]);
    gp_layout L = gp_layout_plan(2, w, h, g.n + 2, maxlen, font_size_pt(c->opts));
    fputs("set key off\nset multiplot\n", gp);
    for (int panel = 0; panel < 2; panel++) {
        int col_train = panel == 0 ? 3 : 7, col_test = panel == 0 ? 5 : 9;
        gp_panel(gp, &L, (size_t)panel);
        fprintf(gp, "set title '%s'\nset ylabel '%s'\n", panel == 0 ? "loss" : "accuracy",
                panel == 0 ? "cross-entropy" : "accuracy");
        fputs("plot ", gp);
        for (size_t k = 0; k < g.n; k++) {
            if (k)
                fputs(", \\\n     ", gp);
            if (g.size[k] > 1)
                fprintf(gp, "data index %zu using 1:($%d-$%d):($%d+$%d) with filledcurves fillcolor lt %zu notitle, \\\n"
                            "     data index %zu using 1:($%d-$%d):($%d+$%d) with filledcurves fillcolor lt %zu notitle, \\\n     ",
                        k, col_test, col_test + 1, col_test, col_test + 1, k + 1,
                        k, col_train, col_train + 1, col_train, col_train + 1, k + 1);
            /* points too: every epoch is a measurement, and a one-epoch run is only points */
            fprintf(gp, "data index %zu using 1:%d with linespoints lt %zu notitle, \\\n"
                        "     data index %zu using 1:%d with linespoints lt %zu dt 2 notitle",
                    k, col_test, k + 1, k, col_train, k + 1);
        }
        fputc('\n', gp);
    }
    gp_legend_begin(gp, &L);
    fputs("plot ", gp);
    for (size_t k = 0; k < g.n; k++) {
        fprintf(gp, "NaN with lines lt %zu lw 2 title ", k + 1);
        gp_str(gp, c, g.label[k]);
        fputs(", \\\n     ", gp);
    }
    fputs("NaN with lines lc rgb '#000000' dt 1 title 'test', \\\n"
          "     NaN with lines lc rgb '#000000' dt 2 title 'train'\n", gp);
    gp_end(gp, 1);
    rc = fig_close(c, gp, name);
    gp = NULL;
done:
    if (dat)
        fclose(dat);
    if (gp)
        fclose(gp);
    if (ser)
        for (size_t i = 0; i < c->nruns * N_TRAIN_Q; i++)
            gs_series_free(&ser[i]);
    free(ser);
    free(vals);
    groups_free(&g);
    return rc;
}

static int fig_methods(gs_fig_ctx *c, double w, double h)
{
    run_groups g;
    gs_run_summary *sum = NULL;
    double *vals = NULL;
    FILE *dat = NULL, *gp = NULL;
    char name[300], tag[256];
    int rc = make_groups(c, &g);
    if (rc != GS_FIG_OK)
        return rc;
    rc = GS_FIG_ERROR;
    sum = calloc(c->nruns, sizeof *sum);
    vals = malloc((c->nruns + 1) * sizeof *vals);
    if (!sum || !vals) {
        fig_fail(c, 0, "out of memory");
        goto done;
    }
    size_t finished = 0;
    for (size_t i = 0; i < c->nruns; i++) {
        if (gs_cli_summarize(c->runs[i], &sum[i]) != 0) {
            rc = fig_read_failed(c, c->runs[i]);
            goto done;
        }
        finished += !isnan(sum[i].final_test_acc);
    }
    if (finished == 0) {
        fig_fail(c, 1, "no run has a finished epoch with a test accuracy");
        rc = GS_FIG_SKIP;
        goto done;
    }

    snprintf(name, sizeof name, "%s.dat", c->stem);
    dat = fig_open(c, name);
    if (!dat)
        goto done;
    dat_header(dat, c, "final test accuracy per method (transform), mean and sample std over seeds");
    fputs("# index 0, one row per group: position mean std n label   (std: sample std, n - 1; NaN when n < 2)\n"
          "# index 1, one row per run:   position final_test_acc run\n", dat);
    fputs("# index 0\n", dat);
    for (size_t k = 0; k < g.n; k++) {
        size_t m = 0;
        for (size_t i = 0; i < c->nruns; i++)
            if (g.group_of[i] == k)
                vals[m++] = sum[i].final_test_acc;
        size_t n_ok = 0;
        double mean = gs_stat_mean(vals, m, &n_ok);
        fprintf(dat, "%zu ", k + 1);
        dat_num(dat, mean);
        fputc(' ', dat);
        dat_num(dat, gs_stat_sample_std(vals, m));
        fprintf(dat, " %zu \"", n_ok);
        for (const char *p = g.label[k]; *p; p++)
            fputc(*p == '"' ? '\'' : *p, dat);
        fputs("\"\n", dat);
    }
    fputs("\n\n# index 1\n", dat);
    for (size_t i = 0; i < c->nruns; i++) {
        fprintf(dat, "%zu ", g.group_of[i] + 1);
        dat_num(dat, sum[i].final_test_acc);
        fprintf(dat, " %s\n", gs_cli_run_tag(gs_run_path(c->runs[i]), tag, sizeof tag));
    }
    rc = fig_close(c, dat, name);
    dat = NULL;
    if (rc != GS_FIG_OK)
        goto done;

    rc = GS_FIG_ERROR;
    snprintf(name, sizeof name, "%s.gp", c->stem);
    gp = fig_open(c, name);
    if (!gp)
        goto done;
    gp_preamble(gp, c, w, h, "final test accuracy per method: mean ± sample std over seeds, and each run");
    fprintf(gp, "data = '%s.dat'\n", c->stem);
    fprintf(gp, "set xrange [0.4:%g]\n", (double)g.n + 0.6);
    /* y range: every run and every mean ± std, padded (also when all values are equal) */
    double lo = INFINITY, hi = -INFINITY;
    for (size_t i = 0; i < c->nruns; i++)
        if (isfinite(sum[i].final_test_acc)) {
            lo = fmin(lo, sum[i].final_test_acc);
            hi = fmax(hi, sum[i].final_test_acc);
        }
    for (size_t k = 0; k < g.n; k++) {
        size_t m = 0;
        for (size_t i = 0; i < c->nruns; i++)
            if (g.group_of[i] == k)
                vals[m++] = sum[i].final_test_acc;
        double mean = gs_stat_mean(vals, m, NULL), sd = gs_stat_sample_std(vals, m);
        if (isfinite(mean) && isfinite(sd)) {
            lo = fmin(lo, mean - sd);
            hi = fmax(hi, mean + sd);
        }
    }
    double pad = fmax(0.1 * (hi - lo), 0.005);
    fprintf(gp, "set yrange [%.4g:%.4g]\n", lo - pad, hi + pad);
    fputs("set ylabel 'final test accuracy'\nset grid noxtics\n", gp);
    if (g.n > 3 || w < 4.0)
    {
        /* labels end at their tick; the left margin makes room for the first one */
        size_t longest = 0;
        for (size_t k = 0; k < g.n; k++)
            longest = strlen(g.label[k]) > longest ? strlen(g.label[k]) : longest;
        fprintf(gp, "set xtics rotate by 45 right\nset lmargin %d\nset rmargin 2\n", (int)fmax(10, 0.6 * (double)longest));
    }
    fputs("set key outside top center horizontal font ',7'\n"
          "plot data index 1 using ($1+0.12):2 with points pt 6 ps 0.6 lc rgb '#808080' title 'single runs', \\\n"
          "     data index 0 using 1:2:($3 == $3 ? $3 : 0):xtic(5) with yerrorbars lt 1 pt 7 ps 0.9 lw 1.2 "
          "title 'mean ± std'\n", gp);
    gp_end(gp, 0);
    rc = fig_close(c, gp, name);
    gp = NULL;
done:
    if (dat)
        fclose(dat);
    if (gp)
        fclose(gp);
    free(sum);
    free(vals);
    groups_free(&g);
    return rc;
}

/* ---- the table ------------------------------------------------------------------------------------ */

const gs_figure_def gs_figures[] = {
    { "overlap-heatmap", "block × epoch heat map of the overlap ||dx||²/(||skip||²+||residual||²)", 0, 1, 0.78, 0.42,
      fig_overlap_heatmap },
    { "cosine-heatmap", "block × epoch heat map of cos(dx_skip, dx_residual)", 0, 1, 0.78, 0.42, fig_cosine_heatmap },
    { "residual-share-heatmap", "block × epoch heat map of residual²/(skip²+residual²)", 0, 1, 0.78, 0.42,
      fig_share_heatmap },
    { "norms", "skip, residual and sum gradient norms along training, per stage (or selected blocks), log y", 0, 2,
      1.9, 0.36, fig_norms },
    { "cosine", "cosine of skip and residual gradients along training, per block, panels per stage", 0, 2, 1.9, 0.36,
      fig_cosine },
    { "ridgelines", "magnitude distribution of a tensor's gradient across epochs, raw vs after the transform", 0, 2,
      1.1, 0.5, fig_ridgelines },
    { "param-stats", "gradient norm and std per tensor over depth, pre/post transform, first/middle/last epoch", 0, 2,
      1.35, 0.36, fig_param_stats },
    { "training", "loss and accuracy per epoch, train and test, for all runs; seed bands per configuration", 1, 2, 1.35,
      0.36, fig_training },
    { "methods", "final test accuracy per method (transform): mean ± sample std over seeds", 1, 1, 0.75, 0.4,
      fig_methods },
};

const size_t gs_n_figures = sizeof gs_figures / sizeof gs_figures[0];

const gs_figure_def *gs_figure_find(const char *name)
{
    for (size_t i = 0; i < gs_n_figures; i++)
        if (!strcmp(gs_figures[i].name, name))
            return &gs_figures[i];
    return NULL;
}
