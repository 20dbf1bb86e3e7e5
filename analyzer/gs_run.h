/* gs_run.h — read a gradscope run log (HDF5; the schema is docs/run-format.md).
 *
 * The one reader of run files in the project: the CLI verbs and the GUI use it, nothing
 * else opens run logs.  Plain C11 + POSIX + HDF5 (no GLib).  Library code never exits.
 *
 * Opening.  gs_run_open() validates the file and reads the small tables (model, edges,
 * config, status) up front; the step/epoch data are read on request, only the rows and
 * columns asked for (HDF5 hyperslabs).  A run that is still being written is read in
 * SWMR mode: gs_run_refresh() then makes newly flushed rows visible.
 *
 * Rows.  Every growing dataset lives on one of five axes (gs_axis).  The number of rows
 * of an axis is the SMALLEST first dimension among its datasets, as docs/run-format.md
 * asks (a concurrent flush may have extended one dataset and not the next), so rows
 * below gs_run_rows() are complete in every dataset of the axis.
 *
 * Errors.  Functions that take a gs_run return 0 on success and -1 on failure; the
 * failure's one-line message ("RUN.h5: cannot read /probe/blocks/overlap (truncated or
 * damaged file)") is then available from gs_run_error() until the next failing call.
 * Every message starts with the file's path as given to gs_run_open().
 *
 * Memory.  Pointers returned by gs_run_* accessors (names, infos, edges, config) are
 * owned by the run and live until gs_run_close().  Arrays and series the caller asks
 * for are filled into caller storage or malloc'd; each such function says which and
 * how to free it.
 *
 * Threads.  A gs_run is not thread-safe; use one run from one thread at a time (and
 * HDF5 itself is usually built without thread-safety).
 */
#ifndef GS_RUN_H
#define GS_RUN_H

#include <stddef.h>
#include <stdint.h>

#include "gs_json.h"
#include "gs_runlog_names.h"

typedef struct gs_run gs_run;

/* ---- model tables ------------------------------------------------------------------ */

typedef struct gs_block_info {
    const char *name;       /* "layer2.0" */
    int         stage;      /* from 1 */
    int         index;      /* block within the stage, from 0 */
    const char *shortcut;   /* "identity", "A", "B" ("" when the file has no shortcut table) */
    int         in_shape[3], out_shape[3];   /* (C, H, W) per image; 0 when absent */
} gs_block_info;

typedef struct gs_param_info {
    const char *name;       /* PyTorch state_dict name, "layer2.0.conv1.weight" */
    const char *kind;       /* "conv_weight", "bn_weight", "bn_bias", "fc_weight", "fc_bias" */
    int         shape[4];   /* PyTorch shape, unused trailing dims 0 */
    int         ndim;
    int64_t     numel;
    int         block;      /* index into the blocks, -1 for the stem and the head */
} gs_param_info;

/* ---- axes (which row counter a dataset follows) ------------------------------------- */

typedef enum gs_axis {
    GS_AXIS_TRAIN = 0,     /* datasets in /train: one row per optimizer step, x = /train/step */
    GS_AXIS_PROBE,         /* /probe/step and under /probe/blocks, /probe/params: x = /probe/step */
    GS_AXIS_HIST,          /* under /probe/hist: x = /probe/hist/step                         */
    GS_AXIS_EPOCHS,        /* under /epochs: x = /epochs/epoch                                */
    GS_AXIS_PROBE_EPOCH,   /* under /probe/epoch: x = /probe/epoch/epoch                      */
    GS_AXIS_COUNT
} gs_axis;

/* "train", "probe", "hist", "epochs", "probe-epoch". */
const char *gs_axis_name(gs_axis axis);

/* ---- opening, validating, refreshing ------------------------------------------------ */

/* Open and validate the run log at path.  Returns a run the caller closes with
 * gs_run_close(), or NULL with a one-line message in err (always NUL-terminated;
 * err may be NULL), for example:
 *   "RUN.h5: No such file or directory"
 *   "RUN.h5: not an HDF5 file"
 *   "RUN.h5: truncated or damaged HDF5 file (truncated file: eof = 4096, …)"
 *   "RUN.h5: not a gradscope run (no format attribute)"
 *   "RUN.h5: format_version 7 is newer than this gradscope reads (1)"
 *   "RUN.h5: /probe/blocks/overlap has 8 columns, expected 9 (one per block)"
 * The file is first opened read-only (this also checks the file is not truncated);
 * if HDF5 refuses because a SWMR writer has it open (or was killed with it open), it
 * is opened read-only in SWMR-read mode, and gs_run_refresh() follows the writer. */
gs_run *gs_run_open(const char *path, char *err, size_t errsz);

/* Close the file and free everything the run owns (NULL is fine). */
void gs_run_close(gs_run *run);

/* See rows flushed since opening (SWMR) and re-read /status.  Pointers previously
 * returned by accessors stay valid.  Cheap: one metadata refresh per open dataset. */
int gs_run_refresh(gs_run *run);

/* The last error message (never NULL; "" when none). */
const char *gs_run_error(const gs_run *run);

const char *gs_run_path(const gs_run *run);         /* as given to gs_run_open */
int         gs_run_format_version(const gs_run *run);
int         gs_run_is_swmr(const gs_run *run);      /* 1 when opened in SWMR-read mode */

/* /status as written: "running", "finished", "interrupted", "failed", or "" if absent. */
const char *gs_run_status(const gs_run *run);

/* Seconds between the file's last modification and the last open/refresh. */
double gs_run_idle_seconds(const gs_run *run);

/* 1 when the run is most likely still being written: opened in SWMR mode, /status
 * says "running", and the file changed within the last max(30 s, 3 × the config's
 * flush_seconds) — a writer flushes at least that often, so an older file whose status
 * still says "running" was left by a writer that died (kill -9). */
int gs_run_is_live(const gs_run *run);

/* /config as text ("" when absent), and parsed (NULL when absent or not valid JSON). */
const char    *gs_run_config_text(const gs_run *run);
const gs_json *gs_run_config(const gs_run *run);

/* ---- model ------------------------------------------------------------------------- */

size_t gs_run_n_blocks(const gs_run *run);
size_t gs_run_n_params(const gs_run *run);
const gs_block_info *gs_run_block(const gs_run *run, size_t i);   /* NULL if i out of range */
const gs_param_info *gs_run_param(const gs_run *run, size_t i);   /* NULL if i out of range */
const char *const *gs_run_block_names(const gs_run *run);          /* [n_blocks] */
const char *const *gs_run_param_names(const gs_run *run);          /* [n_params] */
int64_t gs_run_param_count(const gs_run *run);                      /* Σ numel */

/* ---- what is recorded -------------------------------------------------------------- */

/* Complete rows on an axis (0 when the axis has no datasets). */
size_t gs_run_rows(const gs_run *run, gs_axis axis);

/* 1 when the dataset at path (e.g. "/probe/blocks/overlap") exists, else 0. */
int gs_run_has(gs_run *run, const char *path);

/* The histogram bin edges /probe/hist_edges: returns the H + 1 edges and stores H in
 * *nbins, or returns NULL (and *nbins = 0) when the run has no edges. */
const double *gs_run_hist_edges(const gs_run *run, size_t *nbins);

typedef struct gs_dump_info {
    int64_t step;      /* the N of /dump/step_<N> */
    int     written;   /* /dump/step_<N>/written: 1 once the writer has filled it */
} gs_dump_info;

/* The requested gradient dumps in ascending step order: *out is malloc'd (free() it;
 * NULL when there are none) and *n their number. */
int gs_run_list_dumps(gs_run *run, gs_dump_info **out, size_t *n);

/* ---- selection by POSIX extended regular expression --------------------------------- */

typedef struct gs_selection {
    size_t  n;      /* number of selected items */
    size_t *idx;    /* their indices, ascending; malloc'd, free with gs_selection_free */
} gs_selection;

/* Select the names that match regex (regcomp with REG_EXTENDED | REG_NOSUB, unanchored:
 * "layer2" matches "layer2.0.conv1.weight"; anchor with ^…$).  NULL or "" selects all.
 * A selection with n = 0 is not an error.  On a bad regex returns -1 with
 * "bad regular expression 'x(': <regerror text>" in err. */
int gs_select_names(const char *const *names, size_t n, const char *regex,
                    gs_selection *out, char *err, size_t errsz);
int gs_run_select_blocks(gs_run *run, const char *regex, gs_selection *out);
int gs_run_select_params(gs_run *run, const char *regex, gs_selection *out);
void gs_selection_free(gs_selection *sel);   /* frees idx and zeroes; NULL fine */

/* ---- reading numbers --------------------------------------------------------------- */

/* Columns of a 1-D ([rows]) or 2-D ([rows, cols]) dataset: 1 for 1-D, 0 if absent. */
size_t gs_run_columns(gs_run *run, const char *path);

/* Read rows [row0, row0 + nrows) of the 1-D or 2-D dataset at path, which lies on
 * axis, converted to double, into out (caller storage of nrows × columns doubles,
 * row-major).  Fails when the dataset is absent, has another rank, or
 * row0 + nrows > gs_run_rows(run, axis). */
int gs_run_read_rows(gs_run *run, gs_axis axis, const char *path,
                     size_t row0, size_t nrows, double *out);

/* Like gs_run_read_rows for the whole axis, into a malloc'd array (free() it) of
 * *nrows × *ncols doubles.  Returns NULL on error — or on an empty axis, in which
 * case *nrows = 0 and gs_run_error() is "" (check *nrows, not the pointer). */
double *gs_run_read_table(gs_run *run, gs_axis axis, const char *path,
                          size_t *nrows, size_t *ncols);

/* Read column col of rows [row0, row0 + nrows) of a 2-D dataset (col 0 of a 1-D one)
 * into out[nrows].  Reads one hyperslab, not the dataset. */
int gs_run_read_column(gs_run *run, gs_axis axis, const char *path, size_t col,
                       size_t row0, size_t nrows, double *out);

/* The x values of an axis for rows [row0, row0 + nrows): step numbers (TRAIN, PROBE,
 * HIST) or epoch numbers (EPOCHS, PROBE_EPOCH), into out[nrows]. */
int gs_run_axis_x(gs_run *run, gs_axis axis, size_t row0, size_t nrows, double *out);

/* First row whose x value is >= x (binary search; gs_run_rows() if none). */
int gs_run_find_row(gs_run *run, gs_axis axis, double x, size_t *row);

/* ---- series: y by step or epoch ----------------------------------------------------- */

typedef struct gs_series {
    size_t  n;   /* points */
    double *x;   /* step or epoch numbers, malloc'd */
    double *y;   /* values (NaN where the file has NaN), malloc'd */
} gs_series;

/* Free x and y and zero the series (NULL fine; a zeroed series is fine). */
void gs_series_free(gs_series *s);

/* The series (x from the axis, y = column col of path) for rows [row0, row0 + nrows);
 * nrows = SIZE_MAX means "to the last complete row".  *out is overwritten (free an old
 * series first) and owned by the caller: gs_series_free().  An empty range gives n = 0. */
int gs_run_read_series(gs_run *run, gs_axis axis, const char *path, size_t col,
                       size_t row0, size_t nrows, gs_series *out);

/* Convenience forms over all rows.  Names are the schema's (gs_runlog_names.h):
 *   train:   GS_TRAIN_LOSS, GS_TRAIN_ACCURACY, GS_TRAIN_LR, … (x = step)
 *   epochs:  GS_EPOCHS_TEST_ACC, … (x = epoch)
 *   block:   GS_BLK_SKIP_NORM … GS_BLK_OVERLAP, block index b (x = probed step)
 *   param:   side "pre" or "post" with GS_PRM_MEAN … GS_PRM_NONFINITE, or side NULL with
 *            "update_ratio"; param index p (x = probed step)
 *   block epoch aggregate:  "<stat>_mean" / "<stat>_std" (x = epoch)
 *   param epoch aggregate:  side "pre"/"post", "norm_mean", "norm_std", "std_mean" (x = epoch) */
int gs_run_train_series(gs_run *run, const char *name, gs_series *out);
int gs_run_epochs_series(gs_run *run, const char *name, gs_series *out);
int gs_run_block_series(gs_run *run, const char *stat, size_t b, gs_series *out);
int gs_run_param_series(gs_run *run, const char *side, const char *stat, size_t p, gs_series *out);
int gs_run_block_epoch_series(gs_run *run, const char *stat, size_t b, gs_series *out);
int gs_run_param_epoch_series(gs_run *run, const char *side, const char *stat, size_t p,
                              gs_series *out);

/* Dataset paths of the forms above, into buf (returns buf, "" if it does not fit). */
char *gs_run_block_path(char *buf, size_t bufsz, const char *stat);             /* /probe/blocks/<stat> */
char *gs_run_param_path(char *buf, size_t bufsz, const char *side, const char *stat);
char *gs_run_block_epoch_path(char *buf, size_t bufsz, const char *stat);       /* /probe/epoch/blocks/<stat> */
char *gs_run_param_epoch_path(char *buf, size_t bufsz, const char *side, const char *stat);

/* ---- histograms -------------------------------------------------------------------- */

/* Counts of one block part or one parameter tensor for rows [row0, row0 + nrows):
 *   axis GS_AXIS_HIST         → sampled steps, /probe/hist/<part>
 *   axis GS_AXIS_PROBE_EPOCH  → epoch sums, /probe/epoch/blocks/hist_<part> or
 *                                /probe/epoch/params/<part>/hist
 * part is GS_HIST_SKIP, GS_HIST_RESIDUAL, GS_HIST_SUM (index = block) or GS_HIST_PRE,
 * GS_HIST_POST (index = parameter).  out is caller storage of nrows × H int64 counts
 * (H from gs_run_hist_edges), row-major. */
int gs_run_read_hist(gs_run *run, gs_axis axis, const char *part, size_t index,
                     size_t row0, size_t nrows, int64_t *out);

/* ---- downsampling ------------------------------------------------------------------- */

/* Choose at most max_points of the n points of y to draw, deterministically, so that
 * the shape survives: writes ascending indices into keep (caller storage of
 * max(2, min(n, max_points)) entries) and returns their number.
 *
 * The algorithm, exactly:
 *   - n <= max(max_points, 2): every index 0 … n-1.
 *   - otherwise, with max_points < 4 treated as 2: the first (0) and last (n-1) points,
 *     and the n-2 interior points 1 … n-2 are cut into nb = (max_points - 2) / 2
 *     consecutive buckets, bucket k covering indices
 *         [1 + floor(k (n-2) / nb), 1 + floor((k+1) (n-2) / nb)),
 *     every bucket non-empty.  From each bucket keep the index of its smallest and of
 *     its largest finite y (the first one on ties), in index order, once if they are
 *     the same point; a bucket with no finite y keeps its first index (so a gap of
 *     NaNs still shows as a gap).
 *   So at most 2 + 2 nb <= max(max_points, 2) points are kept, the first and last points
 *   are always kept, and with max_points >= 4 so are the global minimum and maximum of
 *   the finite values (each is its bucket's, or the first or last point). */
size_t gs_downsample_indices(const double *y, size_t n, size_t max_points, size_t *keep);

/* The series in reduced to at most max_points points by gs_downsample_indices on y.
 * *out is overwritten and owned by the caller (gs_series_free); in is unchanged. */
int gs_series_downsample(const gs_series *in, size_t max_points, gs_series *out);

#endif
