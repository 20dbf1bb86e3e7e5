/* gs_run_data.h — what the GUI draws of one run, read through the analyzer's reader.
 *
 * A gs_run_data is an immutable snapshot: the worker thread that owns the gs_run fills
 * it (gs_run_data_load), the UI thread only reads it, and a refresh of a live run builds
 * a new snapshot and swaps it in.  Plain C11 (no GLib, no GTK), so the tests and the
 * benchmark load runs without a display.  Never exits; errors come back as messages.
 *
 * What is read up front (small compared to the file): the model names, the per-epoch
 * tables, the per-epoch block aggregates [E × B], the per-step training loss/accuracy
 * [S] and the per-step block norms [N × B] (three columns: skip, residual, sum).
 * Histograms — the bulk of a large file — are read per tensor on request
 * (gs_run_data_read_hist), one [E × H] slab at a time.
 */
#ifndef GS_RUN_DATA_H
#define GS_RUN_DATA_H

#include <stddef.h>
#include <stdint.h>

#include "gs_run.h"

/* Indices of the per-block statistics in gs_run_data.pe and .norms. */
typedef enum gs_blk_stat {
    GS_STAT_SKIP = 0,
    GS_STAT_RESIDUAL,
    GS_STAT_SUM,
    GS_STAT_COSINE,
    GS_STAT_OVERLAP,
    GS_STAT_COUNT
} gs_blk_stat;

typedef struct gs_run_data {
    /* identity, from /config ("" when absent) */
    char  *path;
    char  *name;          /* file name without directory and .h5 */
    char  *transform;     /* "znorm", "none", "clip-norm:1", … */
    char  *optimizer;     /* "adam" */
    char  *arch;          /* "resnet20" or the config's arch + depth */
    char  *dataset;       /* "fashion-mnist" */
    char  *status;        /* /status */
    char  *config_text;   /* /config (JSON) */
    int    live;          /* gs_run_is_live at load time */
    double steps_per_epoch;   /* from the config, else counted; >= 1 */
    double lr;
    long   seed;
    int64_t param_count;

    size_t  n_blocks, n_params;
    char  **block_names;  /* [n_blocks] */
    char  **param_names;  /* [n_params] */
    int    *param_block;  /* [n_params] block index or -1 */
    char  **param_kinds;  /* [n_params] */
    int64_t *param_numel; /* [n_params] */

    size_t rows[GS_AXIS_COUNT];   /* complete rows per axis when loaded */

    /* /epochs (x = epoch number) */
    gs_series ep_train_loss, ep_train_acc, ep_test_loss, ep_test_acc, ep_images_per_s, ep_wall_s;

    /* /train per step (x = step) */
    gs_series loss, acc;

    /* /probe/epoch: E rows, pe_epoch[E], pe[stat] = mean of the stat [E × B] row-major
     * (NULL when the run has no such dataset) */
    size_t  n_pe;
    double *pe_epoch;
    double *pe[GS_STAT_COUNT];

    /* /probe/blocks per probed step: N rows, probe_step[N], norms[stat] [N × B] for
     * GS_STAT_SKIP, RESIDUAL, SUM (NULL when absent) */
    size_t  n_probe;
    double *probe_step;
    double *norms[3];

    /* /probe/hist_edges: n_bins = H, edges [H + 1] (NULL when absent) */
    size_t  n_bins;
    double *edges;

    int    norms_pending; /* 1: loaded without the per-step norms (GS_LOAD_QUICK) */
    double load_ms;       /* wall time gs_run_data_load took */
} gs_run_data;

/* What gs_run_data_load reads. */
typedef enum gs_load_flags {
    GS_LOAD_FULL  = 0,
    GS_LOAD_QUICK = 1 << 0,   /* skip the per-step block norms [N × B] (the slow part of a
                                 large file): first paint first, norms in a second pass */
} gs_load_flags;

/* Fill *out from run (zeroes it first).  Returns 0, or -1 with a one-line message in
 * err (the reader's, starting with the file name).  On failure *out is freed. */
int gs_run_data_load(gs_run *run, gs_run_data *out, gs_load_flags flags, char *err, size_t errsz);

/* Free everything in d and zero it (a zeroed d is fine). */
void gs_run_data_free(gs_run_data *d);

/* Per-epoch magnitude histogram of parameter tensor p, side "pre" or "post"
 * (/probe/epoch/params/<side>/hist): a malloc'd [rows × H] array of counts (free()),
 * *rows = E.  Returns NULL with *rows = 0 when the run has none (err "" then) or on an
 * error (message in err). */
int64_t *gs_run_data_read_hist(gs_run *run, const char *side, size_t p, size_t *rows,
                               char *err, size_t errsz);

/* Index of a name in names[0..n), or -1. */
long gs_name_index(char *const *names, size_t n, const char *name);

#endif
