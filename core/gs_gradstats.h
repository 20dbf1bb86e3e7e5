/* gs_gradstats.h — additive partial sums of gradient statistics.
 *
 * Every statistic gradscope records is kept as sums that merge by addition
 * (across threads, steps of an epoch, and later processes) and is turned into
 * means, norms, std, cosine and overlap only when it is written (DESIGN §2).
 *
 * Magnitude histograms use FIXED bins, identical for every step and every run:
 *   bin 0                      exact zeros
 *   bin 1                      underflow: 0 < |x| < 1e-12
 *   bins 2 .. 2+63             log10 |x| in [-12 + k/4, -12 + (k+1)/4), k = 0..63
 *   bin GS_HIST_BINS-1 (66)    overflow: |x| ≥ 1e4
 * Non-finite values (NaN, ±Inf) are not binned; they are counted in
 * gs_moments.nonfinite.  gs_hist_edges() gives the GS_HIST_BINS+1 edges
 * (0, 0, 1e-12, 10^-11.75, …, 1e4, +inf) as float32 values — the exact
 * thresholds the binning compares against.
 */
#ifndef GS_GRADSTATS_H
#define GS_GRADSTATS_H

#include <stddef.h>
#include <stdint.h>

#define GS_HIST_LOG10_MIN       (-12)
#define GS_HIST_LOG10_MAX       4
#define GS_HIST_BINS_PER_DECADE 4
#define GS_HIST_LOG_BINS        ((GS_HIST_LOG10_MAX - GS_HIST_LOG10_MIN) * GS_HIST_BINS_PER_DECADE)
#define GS_HIST_BINS            (GS_HIST_LOG_BINS + 3)
#define GS_HIST_ZERO_BIN        0
#define GS_HIST_UNDERFLOW_BIN   1
#define GS_HIST_OVERFLOW_BIN    (GS_HIST_BINS - 1)

/* Sums over the finite elements of a tensor; nonfinite counts the others. */
typedef struct gs_moments {
    double  count;      /* finite elements */
    double  sum;        /* Σx   */
    double  sumsq;      /* Σx²  */
    float   min, max;   /* +inf / −inf when count == 0 */
    int64_t nonfinite;
} gs_moments;

void gs_moments_clear(gs_moments *m);
void gs_moments_merge(gs_moments *into, const gs_moments *from);
/* Sums of x (n) into *m (cleared first) and, if hist != NULL, adds its magnitudes to
 * hist (GS_HIST_BINS).  Multi-threaded; the sums are deterministic in value up to
 * floating-point reassociation. */
void gs_moments_of(gs_moments *m, int64_t *hist, const float *x, size_t n);

/* Derived values (0 when count == 0). */
double gs_moments_mean(const gs_moments *m);
double gs_moments_std(const gs_moments *m);   /* population std */
double gs_moments_norm(const gs_moments *m);  /* sqrt(Σx²) */

/* The GS_HIST_BINS + 1 bin edges, see above. */
void gs_hist_edges(float edges[GS_HIST_BINS + 1]);
/* The bin of a finite value; GS_HIST_BINS (no bin) for inf and NaN. */
int  gs_hist_bin(float x);

/* Sums describing the two parts of a block's input gradient, dx = skip + residual. */
typedef struct gs_overlap_sums {
    double count;        /* elements                     */
    double skip_sq;      /* Σ skip²                      */
    double residual_sq;  /* Σ residual²                  */
    double dot;          /* Σ skip·residual              */
    double sum_sq;       /* Σ (skip + residual)², the sum taken in float as dx is */
    int64_t nonfinite;   /* elements of skip + residual that are not finite */
} gs_overlap_sums;

void gs_overlap_sums_clear(gs_overlap_sums *s);
void gs_overlap_sums_merge(gs_overlap_sums *into, const gs_overlap_sums *from);

/* dx (n) = skip + residual, and in the same pass adds to *sums and, when hist is not
 * NULL, to hist[0] (skip), hist[1] (residual), hist[2] (dx), each GS_HIST_BINS long.
 * dx may alias neither input. */
void gs_overlap_add(float *dx, const float *skip, const float *residual, size_t n,
                    gs_overlap_sums *sums, int64_t (*hist)[GS_HIST_BINS]);
/* The same, with dx written as the gradient at the input of the ReLU whose output is
 * relu_out (n): dx = (skip + residual) ⊙ [relu_out > 0] — the block's input is the
 * previous layer's ReLU output, so this is what the layer below wants, in the same
 * pass.  The sums and histograms still describe skip + residual (unmasked). */
void gs_overlap_add_relu(float *dx, const float *skip, const float *residual, const float *relu_out,
                         size_t n, gs_overlap_sums *sums, int64_t (*hist)[GS_HIST_BINS]);

/* Derived: ‖skip‖, ‖residual‖, ‖dx‖, cosine, overlap = ‖dx‖²/(‖skip‖²+‖residual‖²).
 * cosine and overlap are NaN when undefined (a zero part). */
typedef struct gs_overlap_stats {
    double skip_norm, residual_norm, sum_norm, cosine, overlap;
} gs_overlap_stats;
gs_overlap_stats gs_overlap_stats_of(const gs_overlap_sums *s);

#endif
