/* gs_view_models.h — build the figure of each GUI view from run snapshots.
 *
 * Plain C11 (no GLib/GTK): the window calls these whenever the runs, the selection or
 * a view option changes, then hands the figure to a GsChartView; the tests and the
 * redraw benchmark call them directly.  Every function returns a new figure the
 * caller frees with gs_figure_free() (NULL only when out of memory); a view with
 * nothing to show returns a figure with one GS_CHART_EMPTY panel saying why.
 *
 * Time axes are in epochs: a per-step value of step s sits at x = s / steps_per_epoch
 * (so epoch e spans [e, e + 1)), a per-epoch result (test accuracy) at x = e + 1, the
 * end of the epoch it was measured after.
 */
#ifndef GS_VIEW_MODELS_H
#define GS_VIEW_MODELS_H

#include <stddef.h>
#include <stdint.h>

#include "gs_chart_model.h"
#include "gs_run_data.h"

typedef struct gs_view_run {
    const gs_run_data *d;
    const char        *label;      /* legend name, e.g. "znorm" */
    gs_rgb             color;      /* gs_palette_run(i) */
    /* Distributions: the selected tensor's per-epoch histograms [hist_rows × d->n_bins]
     * before and after the transform (NULL when not read / absent) */
    const int64_t     *hist_pre, *hist_post;
    size_t             hist_rows;
} gs_view_run;

typedef enum gs_map_metric {
    GS_MAP_OVERLAP = 0,   /* overlap_mean */
    GS_MAP_COSINE,        /* cosine_mean */
    GS_MAP_SHARE,         /* residual share: residual_mean² / (skip_mean² + residual_mean²) */
    GS_MAP_COUNT
} gs_map_metric;

typedef struct gs_view_state {
    const char   *block;       /* selected block name (NULL: the first block) */
    const char   *param;       /* selected tensor name (NULL: none) */
    long          epoch;       /* current epoch (scrubbed); < 0: the last one */
    gs_map_metric metric;
    int           log_y;       /* Norms and Training-loss y axis / overlap colours: log10 */
    double        smooth;      /* EMA weight in [0, 0.99] */
    size_t        max_points;  /* per drawn line after downsampling (>= 4; 0 = 2000) */
} gs_view_state;

/* Overlap map: one block × epoch heat map per run (shared colour range). */
gs_figure *gs_view_overlap(const gs_view_run *runs, size_t n, const gs_view_state *st);
/* Norms: skip / residual / sum panels for the selected block, runs overlaid. */
gs_figure *gs_view_norms(const gs_view_run *runs, size_t n, const gs_view_state *st);
/* Distributions: raw and post-transform ridgelines of the selected tensor. */
gs_figure *gs_view_distributions(const gs_view_run *runs, size_t n, const gs_view_state *st);
/* Training: loss and accuracy of every run. */
gs_figure *gs_view_training(const gs_view_run *runs, size_t n, const gs_view_state *st);

/* Summary: a Pango-markup text (a table of key numbers per run, then each run's
 * configuration) — malloc'd, the caller frees it.  NULL when out of memory. */
char *gs_view_summary_markup(const gs_view_run *runs, size_t n);

/* Display name of a metric and its long description (for titles). */
const char *gs_map_metric_name(gs_map_metric m);

/* The number of epochs the views can scrub (the largest over the runs; 0 when none). */
size_t gs_view_epoch_count(const gs_view_run *runs, size_t n);

/* Residual share of skip and residual norms: r² / (s² + r²) (NaN when both are 0). */
double gs_residual_share(double skip, double residual);

#endif
