#include "gs_probes.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int gs_probe_mode_parse(gs_probe_mode *mode, const char *name)
{
    for (int k = GS_PROBES_OFF; k <= GS_PROBES_FULL; k++)
        if (strcmp(name, gs_probe_mode_name((gs_probe_mode)k)) == 0) {
            *mode = (gs_probe_mode)k;
            return 0;
        }
    return -1;
}

const char *gs_probe_mode_name(gs_probe_mode mode)
{
    switch (mode) {
    case GS_PROBES_OFF:     return "off";
    case GS_PROBES_DEFAULT: return "default";
    case GS_PROBES_FULL:    return "full";
    }
    return "unknown";
}

static void *probes_alloc(gs_probes *p, size_t count, size_t size)
{
    void *mem = calloc(count ? count : 1, size);
    if (!mem)
        return NULL;
    void **grown = realloc(p->allocs, sizeof(void *) * (p->num_allocs + 1));
    if (!grown) {
        free(mem);
        return NULL;
    }
    p->allocs = grown;
    p->allocs[p->num_allocs++] = mem;
    return mem;
}

void gs_probes_free(gs_probes *p)
{
    if (!p)
        return;
    for (int i = 0; i < p->num_allocs; i++)
        free(p->allocs[i]);
    free(p->allocs);
    free(p);
}

gs_probes *gs_probes_create(gs_probe_mode mode, int hist_every, const gs_model *m,
                            char *err, size_t errsz)
{
    gs_probes *p = calloc(1, sizeof *p);
    if (!p) {
        snprintf(err, errsz, "probes: out of memory");
        return NULL;
    }
    p->mode = mode;
    p->hist_every = mode == GS_PROBES_FULL ? 1 : (hist_every < 1 ? 1 : hist_every);
    const size_t B = (size_t)m->num_blocks, P = (size_t)m->num_params, H = GS_HIST_BINS;
    p->num_blocks = (int)B;
    p->num_params = (int)P;
    int ok = 1;
#define ALLOC(ptr, n, type) ok = ok && ((ptr) = probes_alloc(p, (n), sizeof(type))) != NULL
    for (int s = 0; s < GS_BLOCK_STATS; s++) {
        ALLOC(p->row.block[s], B, float);
        ALLOC(p->epoch_row.block_mean[s], B, float);
        ALLOC(p->epoch_row.block_std[s], B, float);
        ALLOC(p->ep_block_sum[s], B, double);
        ALLOC(p->ep_block_sumsq[s], B, double);
        ALLOC(p->ep_block_count[s], B, int64_t);
    }
    for (int k = 0; k < GS_PARTS; k++) {
        ALLOC(p->row_hist.block[k], B * H, int64_t);
        ALLOC(p->epoch_row.block_hist[k], B * H, int64_t);
    }
    for (int ph = 0; ph < GS_PHASES; ph++) {
        for (int s = 0; s < GS_PARAM_STATS; s++)
            ALLOC(p->row.param[ph][s], P, float);
        ALLOC(p->row.nonfinite[ph], P, int64_t);
        ALLOC(p->row_hist.param[ph], P * H, int64_t);
        ALLOC(p->epoch_row.param_norm_mean[ph], P, float);
        ALLOC(p->epoch_row.param_norm_std[ph], P, float);
        ALLOC(p->epoch_row.param_std_mean[ph], P, float);
        ALLOC(p->epoch_row.param_hist[ph], P * H, int64_t);
        ALLOC(p->moments[ph], P, gs_moments);
        ALLOC(p->ep_norm_sum[ph], P, double);
        ALLOC(p->ep_norm_sumsq[ph], P, double);
        ALLOC(p->ep_std_sum[ph], P, double);
    }
    ALLOC(p->row.update_ratio, P, float);
    ALLOC(p->weights_before, m->num_param_floats, float);
#undef ALLOC
    if (!ok) {
        snprintf(err, errsz, "probes: out of memory for %zu blocks and %zu tensors", B, P);
        gs_probes_free(p);
        return NULL;
    }
    return p;
}

void gs_probes_begin_step(gs_probes *p, gs_model *m, int64_t step)
{
    p->row.step = step;
    p->row_hist.step = step;
    p->hist_this_step = p->mode != GS_PROBES_OFF && step % p->hist_every == 0;
    p->row_has_hist = 0;
    m->hist_enabled = p->hist_this_step;
}

static float finite_or_nan(double v)
{
    return isfinite(v) ? (float)v : NAN;
}

/* Moments (and histograms) of every tensor's gradient into phase ph. */
static void record_params(gs_probes *p, const gs_model *m, int ph)
{
    const size_t H = GS_HIST_BINS;
    double total_sq = 0.0;
    int64_t total_nonfinite = 0;
    if (p->hist_this_step)
        memset(p->row_hist.param[ph], 0, sizeof(int64_t) * p->num_params * H);
    for (int i = 0; i < m->num_params; i++) {
        const gs_param *prm = &m->params[i];
        gs_moments *mo = &p->moments[ph][i];
        gs_moments_of(mo, p->hist_this_step ? p->row_hist.param[ph] + i * H : NULL, prm->grad, prm->numel);
        double mean = gs_moments_mean(mo), std = gs_moments_std(mo), norm = gs_moments_norm(mo);
        p->row.param[ph][GS_PARAM_STAT_MEAN][i] = (float)mean;
        p->row.param[ph][GS_PARAM_STAT_STD][i] = (float)std;
        p->row.param[ph][GS_PARAM_STAT_NORM][i] = (float)norm;
        p->row.param[ph][GS_PARAM_STAT_MIN][i] = mo->count > 0 ? mo->min : NAN;
        p->row.param[ph][GS_PARAM_STAT_MAX][i] = mo->count > 0 ? mo->max : NAN;
        p->row.nonfinite[ph][i] = mo->nonfinite;
        total_sq += mo->sumsq;
        total_nonfinite += mo->nonfinite;
        p->ep_norm_sum[ph][i] += norm;
        p->ep_norm_sumsq[ph][i] += norm * norm;
        p->ep_std_sum[ph][i] += std;
    }
    p->row.grad_norm[ph] = sqrt(total_sq);
    p->row.nonfinite_total[ph] = total_nonfinite;
    if (p->hist_this_step) {
        int64_t *ep = p->epoch_row.param_hist[ph];
        const int64_t *cur = p->row_hist.param[ph];
        for (size_t k = 0; k < (size_t)p->num_params * H; k++)
            ep[k] += cur[k];
    }
}

void gs_probes_record_pre(gs_probes *p, const gs_model *m)
{
    if (p->mode == GS_PROBES_OFF)
        return;
    const size_t H = GS_HIST_BINS;
    for (int b = 0; b < m->num_blocks; b++) {
        gs_overlap_stats o = gs_overlap_stats_of(&m->blocks[b].overlap);
        double v[GS_BLOCK_STATS] = {o.skip_norm, o.residual_norm, o.sum_norm, o.cosine, o.overlap};
        for (int s = 0; s < GS_BLOCK_STATS; s++) {
            p->row.block[s][b] = finite_or_nan(v[s]);
            if (isfinite(v[s])) {
                p->ep_block_sum[s][b] += v[s];
                p->ep_block_sumsq[s][b] += v[s] * v[s];
                p->ep_block_count[s][b]++;
            }
        }
        if (p->hist_this_step)
            for (int k = 0; k < GS_PARTS; k++) {
                memcpy(p->row_hist.block[k] + b * H, m->blocks[b].hist[k], sizeof(int64_t) * H);
                int64_t *ep = p->epoch_row.block_hist[k] + b * H;
                for (size_t j = 0; j < H; j++)
                    ep[j] += m->blocks[b].hist[k][j];
            }
    }
    record_params(p, m, GS_PRE);
}

void gs_probes_record_post(gs_probes *p, const gs_model *m)
{
    if (p->mode == GS_PROBES_OFF)
        return;
    record_params(p, m, GS_POST);
    memcpy(p->weights_before, m->param_data, sizeof(float) * m->num_param_floats);
}

void gs_probes_record_update(gs_probes *p, const gs_model *m)
{
    if (p->mode == GS_PROBES_OFF)
        return;
    for (int i = 0; i < m->num_params; i++) {
        const gs_param *prm = &m->params[i];
        const float *before = p->weights_before + prm->offset;
        double dsq = 0.0, wsq = 0.0;
        for (size_t j = 0; j < prm->numel; j++) {
            double d = (double)prm->data[j] - before[j];
            dsq += d * d;
            wsq += (double)before[j] * before[j];
        }
        p->row.update_ratio[i] = wsq > 0 ? (float)sqrt(dsq / wsq) : NAN;
    }
    p->ep_steps++;
    if (p->hist_this_step) {
        p->ep_hist_steps++;
        p->row_has_hist = 1;
    }
}

static float mean_of(double sum, double n)
{
    return n > 0 ? (float)(sum / n) : NAN;
}

static float std_of(double sum, double sumsq, double n)
{
    if (n <= 0)
        return NAN;
    double mean = sum / n, var = sumsq / n - mean * mean;
    return var > 0 ? (float)sqrt(var) : 0.0f;
}

void gs_probes_end_epoch(gs_probes *p, int32_t epoch)
{
    gs_probe_epoch_row *e = &p->epoch_row;
    e->epoch = epoch;
    e->steps = p->ep_steps;
    e->hist_steps = p->ep_hist_steps;
    for (int s = 0; s < GS_BLOCK_STATS; s++)
        for (int b = 0; b < p->num_blocks; b++) {
            double n = (double)p->ep_block_count[s][b];
            e->block_mean[s][b] = mean_of(p->ep_block_sum[s][b], n);
            e->block_std[s][b] = std_of(p->ep_block_sum[s][b], p->ep_block_sumsq[s][b], n);
        }
    for (int ph = 0; ph < GS_PHASES; ph++)
        for (int i = 0; i < p->num_params; i++) {
            double n = (double)p->ep_steps;
            e->param_norm_mean[ph][i] = mean_of(p->ep_norm_sum[ph][i], n);
            e->param_norm_std[ph][i] = std_of(p->ep_norm_sum[ph][i], p->ep_norm_sumsq[ph][i], n);
            e->param_std_mean[ph][i] = mean_of(p->ep_std_sum[ph][i], n);
        }
}

void gs_probes_clear_epoch(gs_probes *p)
{
    const size_t B = (size_t)p->num_blocks, P = (size_t)p->num_params, H = GS_HIST_BINS;
    for (int s = 0; s < GS_BLOCK_STATS; s++) {
        memset(p->ep_block_sum[s], 0, sizeof(double) * B);
        memset(p->ep_block_sumsq[s], 0, sizeof(double) * B);
        memset(p->ep_block_count[s], 0, sizeof(int64_t) * B);
    }
    for (int k = 0; k < GS_PARTS; k++)
        memset(p->epoch_row.block_hist[k], 0, sizeof(int64_t) * B * H);
    for (int ph = 0; ph < GS_PHASES; ph++) {
        memset(p->ep_norm_sum[ph], 0, sizeof(double) * P);
        memset(p->ep_norm_sumsq[ph], 0, sizeof(double) * P);
        memset(p->ep_std_sum[ph], 0, sizeof(double) * P);
        memset(p->epoch_row.param_hist[ph], 0, sizeof(int64_t) * P * H);
    }
    p->ep_steps = p->ep_hist_steps = 0;
}

double gs_grad_global_norm(const gs_model *m, int64_t *nonfinite)
{
    double sq = 0.0;
    int64_t bad = 0;
    const float *g = m->grad_data;
#pragma omp parallel for reduction(+ : sq, bad) schedule(static)
    for (size_t i = 0; i < m->num_param_floats; i++) {
        if (isfinite(g[i]))
            sq += (double)g[i] * g[i];
        else
            bad++;
    }
    if (nonfinite)
        *nonfinite = bad;
    return sqrt(sq);
}
