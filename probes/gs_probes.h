/* gs_probes.h — the instrumentation: what is measured at each training step.
 *
 * A gs_probes collects, per step:
 *   - per block: ‖dx_skip‖, ‖dx_residual‖, ‖dx‖, cosine and overlap, from the
 *     gs_overlap_sums that gs_model_backward fills in the same pass as the add;
 *   - per parameter tensor, before and after the gradient transform: mean, std,
 *     L2 norm, min, max and non-finite count (gs_moments);
 *   - per tensor the update-to-weight ratio ‖Δw‖/‖w‖ of the optimizer step;
 *   - at sampled steps (every hist_every) magnitude histograms of all of the above
 *     on the fixed bins of gs_gradstats.h;
 * and keeps per-epoch aggregates over every probed step (means and population std
 * over steps by streaming sums; histograms summed over the sampled steps).
 *
 * Call order within one step (see cli/train.c):
 *   gs_probes_begin_step(p, m, step)    before forward: switches block histograms on/off
 *   ... forward, backward ...
 *   gs_probes_record_pre(p, m)          raw gradients and the block statistics
 *   ... gradient transform ...
 *   gs_probes_record_post(p, m)         transformed gradients; snapshots the weights
 *   ... optimizer step ...
 *   gs_probes_record_update(p, m)       ‖Δw‖/‖w‖; the step's row is complete
 * then the run log appends p->row (and p->row_hist when p->row_has_hist), and at the
 * end of an epoch gs_probes_end_epoch fills p->epoch_row and resets the sums.
 *
 * Memory: gs_probes_create allocates everything up front; nothing is allocated per
 * step.  Free with gs_probes_free.  Library code: returns errors, never exits.
 */
#ifndef GS_PROBES_H
#define GS_PROBES_H

#include <stddef.h>
#include <stdint.h>

#include "gs_gradstats.h"
#include "gs_model.h"

typedef enum gs_probe_mode {
    GS_PROBES_OFF,       /* nothing per step (training scalars only)            */
    GS_PROBES_DEFAULT,   /* statistics every step, histograms every hist_every   */
    GS_PROBES_FULL,      /* statistics and histograms every step                */
} gs_probe_mode;

int         gs_probe_mode_parse(gs_probe_mode *mode, const char *name);
const char *gs_probe_mode_name(gs_probe_mode mode);

enum { GS_BLOCK_STAT_SKIP_NORM, GS_BLOCK_STAT_RESIDUAL_NORM, GS_BLOCK_STAT_SUM_NORM,
       GS_BLOCK_STAT_COSINE, GS_BLOCK_STAT_OVERLAP, GS_BLOCK_STATS };
enum { GS_PARAM_STAT_MEAN, GS_PARAM_STAT_STD, GS_PARAM_STAT_NORM, GS_PARAM_STAT_MIN,
       GS_PARAM_STAT_MAX, GS_PARAM_STATS };
enum { GS_PRE, GS_POST, GS_PHASES };
enum { GS_PART_SKIP, GS_PART_RESIDUAL, GS_PART_SUM, GS_PARTS };

/* One probed step, as it will be written. */
typedef struct gs_probe_row {
    int64_t  step;
    float   *block[GS_BLOCK_STATS];              /* each [B] */
    float   *param[GS_PHASES][GS_PARAM_STATS];   /* each [P] */
    int64_t *nonfinite[GS_PHASES];               /* each [P] */
    float   *update_ratio;                       /* [P]      */
    double   grad_norm[GS_PHASES];               /* global L2 norm of all gradients */
    int64_t  nonfinite_total[GS_PHASES];
} gs_probe_row;

typedef struct gs_probe_hist_row {
    int64_t  step;
    int64_t *block[GS_PARTS];                    /* each [B, H] */
    int64_t *param[GS_PHASES];                   /* each [P, H] */
} gs_probe_hist_row;

/* Aggregates of one epoch. */
typedef struct gs_probe_epoch_row {
    int32_t  epoch;
    int64_t  steps, hist_steps;
    float   *block_mean[GS_BLOCK_STATS];         /* each [B] */
    float   *block_std[GS_BLOCK_STATS];          /* each [B] */
    int64_t *block_hist[GS_PARTS];               /* each [B, H] */
    float   *param_norm_mean[GS_PHASES];         /* each [P] */
    float   *param_norm_std[GS_PHASES];
    float   *param_std_mean[GS_PHASES];
    int64_t *param_hist[GS_PHASES];              /* each [P, H] */
} gs_probe_epoch_row;

typedef struct gs_probes {
    gs_probe_mode mode;
    int           hist_every;        /* histograms when step % hist_every == 0 */
    int           num_blocks, num_params;
    int           hist_this_step;

    gs_probe_row       row;          /* the current step */
    int                row_has_hist;
    gs_probe_hist_row  row_hist;
    gs_probe_epoch_row epoch_row;    /* filled by gs_probes_end_epoch */

    /* private */
    gs_moments *moments[GS_PHASES];              /* [P] */
    double     *ep_block_sum[GS_BLOCK_STATS];    /* [B] Σ over steps      */
    double     *ep_block_sumsq[GS_BLOCK_STATS];  /* [B] Σ² over steps     */
    int64_t    *ep_block_count[GS_BLOCK_STATS];  /* [B] finite values     */
    double     *ep_norm_sum[GS_PHASES], *ep_norm_sumsq[GS_PHASES], *ep_std_sum[GS_PHASES];  /* [P] */
    int64_t     ep_steps, ep_hist_steps;
    float      *weights_before;                  /* snapshot for ‖Δw‖ */
    void      **allocs;
    int         num_allocs;
} gs_probes;

/* hist_every ≥ 1 (ignored for OFF and FULL).  Returns NULL with err set on failure. */
gs_probes *gs_probes_create(gs_probe_mode mode, int hist_every, const gs_model *m,
                            char *err, size_t errsz);
void       gs_probes_free(gs_probes *p);

void gs_probes_begin_step(gs_probes *p, gs_model *m, int64_t step);
void gs_probes_record_pre(gs_probes *p, const gs_model *m);
void gs_probes_record_post(gs_probes *p, const gs_model *m);
void gs_probes_record_update(gs_probes *p, const gs_model *m);
/* Computes epoch_row for `epoch` from the sums (they are kept until cleared). */
void gs_probes_end_epoch(gs_probes *p, int32_t epoch);
/* Clears the epoch's sums and summed histograms; call after epoch_row was written. */
void gs_probes_clear_epoch(gs_probes *p);

/* Global gradient L2 norm and non-finite count, for runs with probes off. */
double gs_grad_global_norm(const gs_model *m, int64_t *nonfinite);

#endif
