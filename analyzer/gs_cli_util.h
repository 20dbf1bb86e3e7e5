/* gs_cli_util.h — helpers shared by the analyzer's CLI verbs (internal to analyzer/).
 *
 * Tables printed as aligned text, Markdown or CSV; facts about a run derived from its
 * config and tables (labels, the seed-free grouping key, final/best accuracies, mean
 * overlap); small statistics.  Everything returned as a pointer is owned by the caller
 * unless said otherwise.
 */
#ifndef GS_CLI_UTIL_H
#define GS_CLI_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "gs_run.h"

/* ---- one-line errors -------------------------------------------------------------- */

/* Print "gradscope VERB: message\n" on stderr. */
void gs_cli_error(const char *verb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Print the one-line error for bad usage and return 2. */
int gs_cli_usage_error(const char *verb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ---- output formats ----------------------------------------------------------------- */

typedef enum gs_out_format {
    GS_OUT_TEXT = 0,
    GS_OUT_MARKDOWN,
    GS_OUT_CSV,
} gs_out_format;

/* Parse "text", "markdown" (or "md"), "csv"; -1 on anything else. */
int gs_out_format_parse(const char *s, gs_out_format *out);

/* ---- tables -------------------------------------------------------------------------- */

typedef enum gs_cell_kind {
    GS_CELL_EMPTY = 0,
    GS_CELL_TEXT,
    GS_CELL_NUM,     /* a number: %.*g in text/markdown, %.9g in CSV, NaN as "nan"/"-"  */
    GS_CELL_INT,
    GS_CELL_PM,      /* mean ± std (n): text "0.8812 ± 0.0031"; CSV two columns */
} gs_cell_kind;

typedef struct gs_cell {
    gs_cell_kind kind;
    char        *text;
    double       v, sd;
    int64_t      i;
} gs_cell;

typedef struct gs_table {
    char    *title;
    size_t   ncols;
    char   **headers;
    int     *prec;      /* significant digits per column in text/markdown (default 4) */
    size_t   nrows, caprows;
    gs_cell *cells;     /* [nrows × ncols] */
} gs_table;

/* A table with ncols columns named by headers; NULL when out of memory.  Free with
 * gs_table_free. */
gs_table *gs_table_new(const char *title, size_t ncols, const char *const *headers);
void gs_table_free(gs_table *t);

/* Append an empty row and return its index, or (size_t)-1 when out of memory. */
size_t gs_table_add_row(gs_table *t);
void gs_table_text(gs_table *t, size_t row, size_t col, const char *text);
void gs_table_num(gs_table *t, size_t row, size_t col, double v);
void gs_table_int(gs_table *t, size_t row, size_t col, int64_t v);
void gs_table_pm(gs_table *t, size_t row, size_t col, double mean, double sd);

/* Print in the format; with csv_title != 0 a CSV table is preceded by "# title".
 * Returns 0, or -1 when writing failed (errno set). */
int gs_table_print(const gs_table *t, FILE *out, gs_out_format fmt, int csv_title);

/* ---- facts about a run ---------------------------------------------------------------- */

/* The file name without directory and ".h5" into buf ("runs/a.h5" → "a"). */
char *gs_cli_run_tag(const char *path, char *buf, size_t bufsz);

/* A config field as short text ("" when absent): objects with a "name" give the name. */
char *gs_cli_config_field(const gs_run *run, const char *dotted, char *buf, size_t bufsz);

/* "resnet20" from arch and depth. */
char *gs_cli_arch_label(const gs_run *run, char *buf, size_t bufsz);

/* The method of a run: the transform's name ("znorm", "none", …; "?" if unknown). */
char *gs_cli_method(const gs_run *run, char *buf, size_t bufsz);

/* A short description of the configuration without the seed:
 * "resnet20 fashion-mnist adam lr=0.001 znorm, 30 epochs". */
char *gs_cli_config_label(const gs_run *run, char *buf, size_t bufsz);

/* The key that groups runs sharing a configuration except the seed: the canonical JSON
 * of the experiment-defining config fields (arch, shortcut, width, depth, data, dataset
 * {name, train_size, test_size, shape, num_classes}, epochs, steps, steps_per_epoch,
 * batch_size, optimizer, schedule, warmup, transform, augment, shuffle).  Host, times,
 * versions, command line, seed, threads, probes, dumps and paths are not part of it.  malloc'd; NULL when out of memory.  A run without a
 * parsable config gets a key unique to its path. */
char *gs_cli_group_key(const gs_run *run);

/* Group n runs by gs_cli_group_key: group_of[i] = group of run i, groups numbered in
 * order of first appearance; returns the number of groups or -1 (out of memory). */
long gs_cli_group_runs(gs_run *const *runs, size_t n, size_t *group_of);

typedef struct gs_run_summary {
    size_t epochs;                 /* rows of /epochs */
    size_t steps;                  /* rows of /train */
    double final_test_acc, best_test_acc, final_test_loss;
    double final_train_loss, final_train_acc;
    long   best_epoch;             /* epoch number of best_test_acc, -1 if none */
    double last_step_loss;         /* /train/loss of the last step */
    double wall_s;                 /* /epochs/wall_s of the last epoch (NaN if none) */
    double images_per_s;           /* mean over epochs */
    long   probe_epoch;            /* epoch of the last probe-epoch row, -1 if none */
    double mean_overlap, mean_cosine;  /* over blocks, last probe epoch (NaN if none) */
    long long seed;                /* config seed, -1 if absent */
} gs_run_summary;

/* Fill s from the run (reads /epochs, the last /train row, the last probe-epoch row).
 * Missing data give NaN / -1, not an error; read failures return -1 (gs_run_error). */
int gs_cli_summarize(gs_run *run, gs_run_summary *s);

/* ---- statistics ------------------------------------------------------------------------ */

/* Mean of the finite values (NaN if none); *count gets their number (may be NULL). */
double gs_stat_mean(const double *v, size_t n, size_t *count);

/* Sample standard deviation (divide by n - 1) of the finite values; NaN when fewer
 * than 2. */
double gs_stat_sample_std(const double *v, size_t n);

/* ---- files ----------------------------------------------------------------------------- */

/* mkdir -p; 0 or -1 (errno set). */
int gs_cli_mkdirs(const char *path);

/* ---- option parsing ---------------------------------------------------------------------- */

/* After getopt_long returned '?' or ':' (optstring starting with ':' and opterr = 0),
 * print the one-line error naming the option and return 2. */
int gs_cli_getopt_error(const char *verb, char **argv, int c);

/* Parse a positive integer option value; -1 when it is not one. */
long gs_cli_parse_count(const char *s);

#endif
