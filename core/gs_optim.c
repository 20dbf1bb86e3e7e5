#include "gs_optim.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- optimizers ---------------------------------------------------------------------- */

const char *gs_optim_kind_name(gs_optim_kind kind)
{
    switch (kind) {
    case GS_OPTIM_SGD:   return "sgd";
    case GS_OPTIM_ADAM:  return "adam";
    case GS_OPTIM_ADAMW: return "adamw";
    }
    return "unknown";
}

int gs_optim_kind_parse(gs_optim_kind *kind, const char *name)
{
    for (int k = GS_OPTIM_SGD; k <= GS_OPTIM_ADAMW; k++)
        if (strcmp(name, gs_optim_kind_name((gs_optim_kind)k)) == 0) {
            *kind = (gs_optim_kind)k;
            return 0;
        }
    return -1;
}

int gs_optim_init(gs_optim *opt, const gs_optim_config *cfg, size_t n)
{
    memset(opt, 0, sizeof *opt);
    opt->cfg = *cfg;
    opt->n = n;
    int need1 = cfg->kind != GS_OPTIM_SGD || cfg->momentum != 0.0f;
    int need2 = cfg->kind != GS_OPTIM_SGD;
    if (need1 && !(opt->buf1 = calloc(n, sizeof(float))))
        return -1;
    if (need2 && !(opt->buf2 = calloc(n, sizeof(float)))) {
        free(opt->buf1);
        opt->buf1 = NULL;
        return -1;
    }
    return 0;
}

void gs_optim_free(gs_optim *opt)
{
    free(opt->buf1);
    free(opt->buf2);
    opt->buf1 = opt->buf2 = NULL;
}

const char *gs_optim_buf1_name(const gs_optim *opt)
{
    if (!opt->buf1)
        return NULL;
    return opt->cfg.kind == GS_OPTIM_SGD ? "momentum_buffer" : "exp_avg";
}

const char *gs_optim_buf2_name(const gs_optim *opt)
{
    return opt->buf2 ? "exp_avg_sq" : NULL;
}

static void sgd_step(gs_optim *opt, float *w, const float *g, float lr)
{
    const float wd = opt->cfg.weight_decay, mu = opt->cfg.momentum;
    const int first = opt->step == 0, nesterov = opt->cfg.nesterov;
    float *buf = opt->buf1;
#pragma omp parallel for schedule(static)
    for (size_t i = 0; i < opt->n; i++) {
        float d = g[i];
        if (wd != 0.0f)
            d += wd * w[i];
        if (buf) {
            buf[i] = first ? d : mu * buf[i] + d;
            d = nesterov ? d + mu * buf[i] : buf[i];
        }
        w[i] -= lr * d;
    }
}

static void adam_step(gs_optim *opt, float *w, const float *g, float lr, int decoupled)
{
    const gs_optim_config *c = &opt->cfg;
    const double t = (double)(opt->step + 1);
    const float bias1 = (float)(1.0 - pow(c->beta1, t));
    const float bias2 = (float)(1.0 - pow(c->beta2, t));
    const float step_size = lr / bias1;
    const float bias2_sqrt = sqrtf(bias2);
    const float b1 = c->beta1, b2 = c->beta2, eps = c->eps, wd = c->weight_decay;
    float *m = opt->buf1, *v = opt->buf2;
#pragma omp parallel for schedule(static)
    for (size_t i = 0; i < opt->n; i++) {
        float d = g[i];
        if (decoupled)
            w[i] *= 1.0f - lr * wd;
        else if (wd != 0.0f)
            d += wd * w[i];
        m[i] = b1 * m[i] + (1.0f - b1) * d;
        v[i] = b2 * v[i] + (1.0f - b2) * d * d;
        float denom = sqrtf(v[i]) / bias2_sqrt + eps;
        w[i] -= step_size * (m[i] / denom);
    }
}

void gs_optim_step(gs_optim *opt, float *w, const float *g, float lr)
{
    switch (opt->cfg.kind) {
    case GS_OPTIM_SGD:
        sgd_step(opt, w, g, lr);
        break;
    case GS_OPTIM_ADAM:
        adam_step(opt, w, g, lr, 0);
        break;
    case GS_OPTIM_ADAMW:
        adam_step(opt, w, g, lr, 1);
        break;
    }
    opt->step++;
}

/* ---- schedules --------------------------------------------------------------------------- */

int gs_schedule_parse(gs_schedule *s, const char *spec, char *err, size_t errsz)
{
    memset(s, 0, sizeof *s);
    s->gamma = 0.1f;
    if (strcmp(spec, "constant") == 0) {
        s->kind = GS_SCHEDULE_CONSTANT;
        return 0;
    }
    if (strcmp(spec, "cosine") == 0) {
        s->kind = GS_SCHEDULE_COSINE;
        return 0;
    }
    if (strncmp(spec, "step:", 5) == 0) {
        s->kind = GS_SCHEDULE_STEP;
        const char *p = spec + 5;
        int last = 0;
        for (;;) {
            char *end;
            long e = strtol(p, &end, 10);
            if (end == p || e <= last || e > 1000000 || s->num_milestones == GS_MAX_MILESTONES)
                goto bad;
            s->milestones[s->num_milestones++] = (int)e;
            last = (int)e;
            p = end;
            if (*p == ',') {
                p++;
                continue;
            }
            if (*p == ':') {
                char *gend;
                double gamma = strtod(p + 1, &gend);
                if (gend == p + 1 || *gend != '\0' || !(gamma > 0.0) || gamma > 1.0)
                    goto bad;
                s->gamma = (float)gamma;
                return 0;
            }
            if (*p == '\0')
                return 0;
            goto bad;
        }
    }
bad:
    snprintf(err, errsz, "--schedule %s: expected constant, cosine or step:E1[,E2...][:GAMMA] "
             "(ascending epochs, 0 < GAMMA <= 1)", spec);
    return -1;
}

float gs_schedule_lr(const gs_schedule *s, float base_lr, long step, int epoch, long total_steps)
{
    double lr = base_lr;
    switch (s->kind) {
    case GS_SCHEDULE_CONSTANT:
        break;
    case GS_SCHEDULE_STEP:
        for (int i = 0; i < s->num_milestones; i++)
            if (epoch >= s->milestones[i])
                lr *= s->gamma;
        break;
    case GS_SCHEDULE_COSINE:
        if (total_steps > 0)
            lr = 0.5 * base_lr * (1.0 + cos(M_PI * (double)step / (double)total_steps));
        break;
    }
    if (s->warmup_steps > 0 && step < s->warmup_steps)
        lr *= (double)(step + 1) / (double)s->warmup_steps;
    return (float)lr;
}

/* ---- gradient transforms ---------------------------------------------------------------- */

int gs_transform_parse(gs_transform *t, const char *spec, char *err, size_t errsz)
{
    memset(t, 0, sizeof *t);
    t->znorm_eps = 1e-8f;
    if (strcmp(spec, "none") == 0) {
        t->kind = GS_TRANSFORM_NONE;
        return 0;
    }
    if (strcmp(spec, "znorm") == 0) {
        t->kind = GS_TRANSFORM_ZNORM;
        return 0;
    }
    if (strcmp(spec, "gc") == 0) {
        t->kind = GS_TRANSFORM_GC;
        return 0;
    }
    const char *arg = NULL;
    if (strncmp(spec, "clip-norm:", 10) == 0) {
        t->kind = GS_TRANSFORM_CLIP_NORM;
        arg = spec + 10;
    } else if (strncmp(spec, "clip-value:", 11) == 0) {
        t->kind = GS_TRANSFORM_CLIP_VALUE;
        arg = spec + 11;
    }
    if (arg) {
        char *end;
        double v = strtod(arg, &end);
        if (end != arg && *end == '\0' && v > 0.0 && isfinite(v)) {
            t->threshold = (float)v;
            return 0;
        }
        snprintf(err, errsz, "--transform %s: the threshold must be a positive number", spec);
        return -1;
    }
    snprintf(err, errsz, "--transform %s: unknown transform (none, znorm, clip-norm:T, clip-value:T, gc)", spec);
    return -1;
}

void gs_transform_format(const gs_transform *t, char *buf, size_t bufsz)
{
    switch (t->kind) {
    case GS_TRANSFORM_NONE:       snprintf(buf, bufsz, "none"); break;
    case GS_TRANSFORM_ZNORM:      snprintf(buf, bufsz, "znorm"); break;
    case GS_TRANSFORM_GC:         snprintf(buf, bufsz, "gc"); break;
    case GS_TRANSFORM_CLIP_NORM:  snprintf(buf, bufsz, "clip-norm:%g", t->threshold); break;
    case GS_TRANSFORM_CLIP_VALUE: snprintf(buf, bufsz, "clip-value:%g", t->threshold); break;
    }
}

/* g (n) ← (g − mean) / (std + eps), population std; 0 where std + eps is 0. */
static void znorm_tensor(float *g, size_t n, float eps)
{
    double sum = 0.0, sumsq = 0.0;
    for (size_t i = 0; i < n; i++)
        sum += g[i];
    double mean = sum / (double)n;
    for (size_t i = 0; i < n; i++) {
        double d = g[i] - mean;
        sumsq += d * d;
    }
    double denom = sqrt(sumsq / (double)n) + eps;
    if (!(denom > 0.0)) {
        memset(g, 0, sizeof(float) * n);
        return;
    }
    const float fmean = (float)mean, fdenom = (float)denom;
    for (size_t i = 0; i < n; i++)
        g[i] = (g[i] - fmean) / fdenom;
}

/* For each output channel o of g (O, rest): g[o] −= mean(g[o]). */
static void centralize_tensor(float *g, int out, size_t rest)
{
    for (int o = 0; o < out; o++) {
        float *row = g + (size_t)o * rest;
        double sum = 0.0;
        for (size_t i = 0; i < rest; i++)
            sum += row[i];
        float mean = (float)(sum / (double)rest);
        for (size_t i = 0; i < rest; i++)
            row[i] -= mean;
    }
}

void gs_transform_apply(const gs_transform *t, gs_param *params, int n)
{
    switch (t->kind) {
    case GS_TRANSFORM_NONE:
        return;
    case GS_TRANSFORM_ZNORM:
#pragma omp parallel for schedule(dynamic)
        for (int i = 0; i < n; i++)
            if (!t->znorm_multidim_only || params[i].ndim > 1)
                znorm_tensor(params[i].grad, params[i].numel, t->znorm_eps);
        return;
    case GS_TRANSFORM_GC:
#pragma omp parallel for schedule(dynamic)
        for (int i = 0; i < n; i++)
            if (params[i].ndim > 1)
                centralize_tensor(params[i].grad, params[i].shape[0], params[i].numel / params[i].shape[0]);
        return;
    case GS_TRANSFORM_CLIP_VALUE:
        for (int i = 0; i < n; i++) {
            float *g = params[i].grad;
            for (size_t j = 0; j < params[i].numel; j++)
                g[j] = g[j] > t->threshold ? t->threshold : (g[j] < -t->threshold ? -t->threshold : g[j]);
        }
        return;
    case GS_TRANSFORM_CLIP_NORM: {
        /* torch.nn.utils.clip_grad_norm_: coef = T / (‖g‖ + 1e-6), applied when < 1 */
        double total = 0.0;
        for (int i = 0; i < n; i++) {
            double sq = 0.0;
            for (size_t j = 0; j < params[i].numel; j++)
                sq += (double)params[i].grad[j] * params[i].grad[j];
            total += sq;
        }
        double coef = t->threshold / (sqrt(total) + 1e-6);
        if (coef < 1.0) {
            float fc = (float)coef;
            for (int i = 0; i < n; i++)
                for (size_t j = 0; j < params[i].numel; j++)
                    params[i].grad[j] *= fc;
        }
        return;
    }
    }
}
