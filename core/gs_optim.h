/* gs_optim.h — optimizers, learning-rate schedules and gradient transforms.
 *
 * Update rules are PyTorch's (torch.optim.SGD, Adam, AdamW, 1.13) applied
 * element-wise over the model's contiguous parameter block:
 *   SGD:   g += wd·w;  buf = μ·buf + g (buf = g on the first step);
 *          g = nesterov ? g + μ·buf : buf;  w −= lr·g
 *   Adam:  g += wd·w;  m = β1·m + (1−β1)·g;  v = β2·v + (1−β2)·g²
 *          w −= lr/(1−β1^t) · m / (√v/√(1−β2^t) + ε)
 *   AdamW: w *= 1 − lr·wd, then Adam without the wd term.
 * Weight decay applies to every tensor (PyTorch's default with model.parameters()).
 *
 * Gradient transforms run after backward and before the optimizer step, on each
 * parameter tensor's gradient (DESIGN §2): znorm, clip-norm (global L2), clip-value,
 * gc (gradient centralization), none.
 */
#ifndef GS_OPTIM_H
#define GS_OPTIM_H

#include <stddef.h>
#include <stdint.h>

#include "gs_model.h"

typedef enum gs_optim_kind {
    GS_OPTIM_SGD,
    GS_OPTIM_ADAM,
    GS_OPTIM_ADAMW,
} gs_optim_kind;

typedef struct gs_optim_config {
    gs_optim_kind kind;
    float lr;              /* base learning rate                       */
    float momentum;        /* SGD                                      */
    int   nesterov;        /* SGD                                      */
    float weight_decay;
    float beta1, beta2;    /* Adam/AdamW (0.9, 0.999)                  */
    float eps;             /* Adam/AdamW (1e-8)                        */
} gs_optim_config;

typedef struct gs_optim {
    gs_optim_config cfg;
    size_t   n;            /* floats in the parameter block                        */
    float   *buf1;         /* SGD momentum buffer, or Adam exp_avg (n); NULL if unused */
    float   *buf2;         /* Adam exp_avg_sq (n); NULL if unused                   */
    int64_t  step;         /* optimizer steps taken                                 */
} gs_optim;

const char *gs_optim_kind_name(gs_optim_kind kind);
int  gs_optim_kind_parse(gs_optim_kind *kind, const char *name);
/* Allocates the state for n floats; returns 0 or -1 (out of memory). */
int  gs_optim_init(gs_optim *opt, const gs_optim_config *cfg, size_t n);
void gs_optim_free(gs_optim *opt);
/* One step: w (n) updated from g (n) with learning rate lr (the schedule's value). */
void gs_optim_step(gs_optim *opt, float *w, const float *g, float lr);
/* Names of the state tensors as in PyTorch's optimizer state: "momentum_buffer",
 * "exp_avg", "exp_avg_sq"; NULL when the buffer is unused. */
const char *gs_optim_buf1_name(const gs_optim *opt);
const char *gs_optim_buf2_name(const gs_optim *opt);

/* ---- learning-rate schedule ------------------------------------------------------ */

typedef enum gs_schedule_kind {
    GS_SCHEDULE_CONSTANT,
    GS_SCHEDULE_STEP,      /* × gamma at each milestone epoch               */
    GS_SCHEDULE_COSINE,    /* cosine from lr to 0 over the run, per step     */
} gs_schedule_kind;

#define GS_MAX_MILESTONES 8

typedef struct gs_schedule {
    gs_schedule_kind kind;
    int   milestones[GS_MAX_MILESTONES];   /* epochs, ascending */
    int   num_milestones;
    float gamma;
    long  warmup_steps;                    /* linear warmup from lr/warmup to lr */
} gs_schedule;

/* "constant", "cosine", "step:E1[,E2...][:GAMMA]" (gamma default 0.1). */
int   gs_schedule_parse(gs_schedule *s, const char *spec, char *err, size_t errsz);
/* Learning rate at a step (from 0) given the epoch it belongs to and the total. */
float gs_schedule_lr(const gs_schedule *s, float base_lr, long step, int epoch, long total_steps);

/* ---- gradient transforms ---------------------------------------------------------- */

typedef enum gs_transform_kind {
    GS_TRANSFORM_NONE,
    GS_TRANSFORM_ZNORM,
    GS_TRANSFORM_CLIP_NORM,
    GS_TRANSFORM_CLIP_VALUE,
    GS_TRANSFORM_GC,
} gs_transform_kind;

typedef struct gs_transform {
    gs_transform_kind kind;
    float threshold;            /* clip-norm / clip-value T           */
    float znorm_eps;            /* default 1e-8                        */
    int   znorm_multidim_only;  /* --znorm-scope multidim              */
} gs_transform;

/* "none", "znorm", "clip-norm:T", "clip-value:T", "gc". */
int  gs_transform_parse(gs_transform *t, const char *spec, char *err, size_t errsz);
/* The spec again, e.g. "clip-norm:1" (buf of at least 32 bytes). */
void gs_transform_format(const gs_transform *t, char *buf, size_t bufsz);
/* Applies the transform to the gradients of params[0..n) in place. */
void gs_transform_apply(const gs_transform *t, gs_param *params, int n);

#endif
