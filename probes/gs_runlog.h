/* gs_runlog.h — the run-log writer (HDF5, SWMR), schema in docs/run-format.md.
 *
 * Life cycle:
 *   gs_runlog_create     creates the file and EVERY dataset (model tables, growing
 *                        series, histograms, requested gradient dumps), writes
 *                        /config and the attributes, then starts SWMR writing;
 *   gs_runlog_append_*   copy a row into memory buffers (no I/O);
 *   gs_runlog_flush      appends the buffered rows to the datasets and flushes the
 *                        file; gs_runlog_maybe_flush does so when flush_seconds have
 *                        passed since the last flush;
 *   gs_runlog_dump_*     write a --dump-grads step (directly, datasets exist already);
 *   gs_runlog_close      flushes, sets /status, closes.  Always call it, also on
 *                        failure paths, so that what was written stays readable.
 * Errors: every function returns 0 or −1 with a one-line message naming the file.
 */
#ifndef GS_RUNLOG_H
#define GS_RUNLOG_H

#include <stddef.h>
#include <stdint.h>

#include "gs_model.h"
#include "gs_probes.h"

typedef struct gs_runlog gs_runlog;

typedef struct gs_runlog_options {
    const char    *path;
    const char    *config_json;     /* the full resolved configuration */
    gs_probe_mode  probes;
    int            hist_every;
    double         flush_seconds;   /* ≤ 0: only at epoch ends and close */
    const int64_t *dump_steps;      /* --dump-grads, may be NULL        */
    int            num_dump_steps;
    int            dump_batch;      /* images per step (shape of dx dumps) */
} gs_runlog_options;

typedef struct gs_train_row {
    int64_t step;
    int32_t epoch;
    float   loss, accuracy, lr, grad_norm_pre, grad_norm_post;
    double  wall_s;
} gs_train_row;

typedef struct gs_epoch_row {
    int32_t epoch;
    float   train_loss, train_acc, test_loss, test_acc;
    double  wall_s, images_per_s;
} gs_epoch_row;

gs_runlog *gs_runlog_create(const gs_runlog_options *opts, const gs_model *m, char *err, size_t errsz);

int  gs_runlog_append_train(gs_runlog *rl, const gs_train_row *row, char *err, size_t errsz);
/* The current step of the probes (p->row, and p->row_hist if p->row_has_hist). */
int  gs_runlog_append_probe(gs_runlog *rl, const gs_probes *p, char *err, size_t errsz);
/* An epoch's results and (p may be NULL when probes are off) its probe aggregates. */
int  gs_runlog_append_epoch(gs_runlog *rl, const gs_epoch_row *row, const gs_probes *p,
                            char *err, size_t errsz);

/* 1 if `step` is one of the requested dump steps. */
int  gs_runlog_wants_dump(const gs_runlog *rl, int64_t step);
/* Before the transform: loss, raw gradients and both block components. */
int  gs_runlog_dump_pre(gs_runlog *rl, int64_t step, double loss, const gs_model *m,
                        char *err, size_t errsz);
/* After the transform: transformed gradients; marks the step written. */
int  gs_runlog_dump_post(gs_runlog *rl, int64_t step, const gs_model *m, char *err, size_t errsz);

int  gs_runlog_flush(gs_runlog *rl, char *err, size_t errsz);
int  gs_runlog_maybe_flush(gs_runlog *rl, char *err, size_t errsz);
/* status: "finished", "interrupted" or "failed".  Frees rl even when it fails. */
int  gs_runlog_close(gs_runlog *rl, const char *status, char *err, size_t errsz);

#endif
