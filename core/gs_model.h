/* gs_model.h — CIFAR-style ResNet v1 (He et al. 2016) with instrumented backward.
 *
 *   stem:   conv1 3x3 (C→width) · bn1 · relu
 *   stages: layer1..layerS, planes = width·2^(s−1), stride 1 then 2
 *   block:  basic       h = relu(bn1(conv1(x)));  f = bn2(conv2(h))
 *           bottleneck  1x1 → 3x3 (stride) → 1x1 (×4), each with BN, relu between
 *           z = f + shortcut(x);  y = relu(z)
 *   head:   global average pool · fc
 *
 * shortcut: identity when shape is kept; otherwise option A (subsample by the
 * stride, zero-pad channels (out−in)/2 in front and the rest behind) or option B
 * (1x1 conv with stride + BN, names `shortcut.0` / `shortcut.1`).
 *
 * Parameters live in ONE contiguous float block (model->param_data) and their
 * gradients in another of the same layout (model->grad_data); each tensor is a
 * gs_param view with its PyTorch state_dict name and shape (conv OIHW, fc
 * [out, in]).  BN running statistics are gs_bn_stats, also named as in PyTorch.
 *
 * Backward computes, for every block, the two parts of the gradient reaching its
 * input — dx_skip = J_shortcutᵀ·dz and dx_residual = J_Fᵀ·dz — and adds them in
 * one pass that also fills the block's gs_overlap_sums (and histograms when asked)
 * and takes the sum back through the ReLU that produced the block's input.
 *
 * Ownership: gs_model_create returns a model that owns all its memory; free it
 * with gs_model_free.  Nothing here exits; errors come back as NULL/-1 + message.
 */
#ifndef GS_MODEL_H
#define GS_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "gs_gradstats.h"
#include "gs_layers.h"

#define GS_MAX_STAGES 4
#define GS_NAME_LEN   64

typedef enum gs_block_kind {
    GS_BLOCK_BASIC,
    GS_BLOCK_BOTTLENECK,
} gs_block_kind;

typedef enum gs_shortcut_kind {
    GS_SHORTCUT_IDENTITY,
    GS_SHORTCUT_A,        /* subsample + zero-pad channels, no parameters */
    GS_SHORTCUT_B,        /* 1x1 conv (stride) + BN                       */
} gs_shortcut_kind;

typedef struct gs_model_config {
    char          arch[GS_NAME_LEN];         /* as given: "resnet20", "resnet-basic:4" */
    gs_block_kind block;
    int           num_stages;
    int           blocks_per_stage[GS_MAX_STAGES];
    int           width;                      /* stem channels (16)          */
    char          shortcut;                   /* 'A' or 'B' for reshaping blocks */
    int           in_c, in_h, in_w;           /* input image shape           */
    int           num_classes;
    float         bn_momentum;                /* 0.1  */
    float         bn_eps;                     /* 1e-5 */
} gs_model_config;

/* Fills cfg from an arch name: resnet20/32/44/56/110 (basic, 3 stages of
 * n = 3/5/7/9/18), resnet-basic:N, resnet-bottleneck:N (3 stages of N), resnet152
 * (bottleneck, 4 stages of 3/8/36/3).  Sets width 16, shortcut A for basic and B
 * for bottleneck, BN momentum 0.1 and eps 1e-5; the caller sets the input shape
 * and the number of classes.  Returns 0, or -1 with err set. */
int gs_model_config_from_arch(gs_model_config *cfg, const char *arch, char *err, size_t errsz);
/* Depth as conventionally counted (convs + fc on the residual path). */
int gs_model_config_depth(const gs_model_config *cfg);

typedef enum gs_param_kind {
    GS_PARAM_CONV_WEIGHT,
    GS_PARAM_BN_WEIGHT,
    GS_PARAM_BN_BIAS,
    GS_PARAM_FC_WEIGHT,
    GS_PARAM_FC_BIAS,
} gs_param_kind;

const char *gs_param_kind_name(gs_param_kind kind);

typedef struct gs_param {
    char          name[GS_NAME_LEN];   /* "layer2.0.conv1.weight"               */
    gs_param_kind kind;
    int           ndim;
    int           shape[4];
    size_t        numel;
    size_t        offset;              /* into param_data / grad_data           */
    int           block;               /* index into blocks, −1 for stem and fc */
    float        *data;                /* view into param_data                  */
    float        *grad;                /* view into grad_data                   */
} gs_param;

typedef struct gs_bn_stats {
    char    name[GS_NAME_LEN];         /* "layer2.0.bn1" (buffers get ".running_mean" ...) */
    int     channels;
    float  *running_mean;              /* (C) */
    float  *running_var;               /* (C) */
    int64_t num_batches_tracked;
} gs_bn_stats;

/* A convolution and a batch norm as they sit in the network (internal wiring). */
typedef struct gs_conv_layer {
    gs_param     *weight;              /* (O, C, K, K) */
    gs_conv_shape shape;               /* for the model's max batch */
} gs_conv_layer;

typedef struct gs_bn_layer {
    gs_param    *gamma, *beta;         /* (C) */
    gs_bn_stats *stats;
    float       *save_mean, *save_invstd;  /* (C), from the last training forward */
} gs_bn_layer;

typedef struct gs_block {
    char             name[GS_NAME_LEN];   /* "layer2.0" */
    int              stage, index;        /* stage from 1, index from 0 */
    gs_block_kind    kind;
    gs_shortcut_kind shortcut;
    int              in_c, in_h, in_w;    /* input  (B, in_c, in_h, in_w)    */
    int              out_c, out_h, out_w; /* output (B, out_c, out_h, out_w) */
    int              stride;
    int              num_convs;           /* 2 (basic) or 3 (bottleneck) */
    gs_conv_layer    conv[3];
    gs_bn_layer      bn[3];
    gs_conv_layer    sc_conv;             /* option B only */
    gs_bn_layer      sc_bn;

    /* activations of the last forward pass */
    const float *x;                       /* input, owned by the previous layer   */
    float *c[3];                          /* conv outputs (pre-BN)                 */
    float *a[2];                          /* relu(bn(c[i])) feeding conv i+1        */
    float *s;                             /* shortcut output (A, B)                 */
    float *sc_c;                          /* shortcut conv output (B)               */
    float *y;                             /* block output                           */

    /* filled by the last backward pass */
    float *dx_skip;                       /* (B, in_c, in_h, in_w) skip part        */
    float *dx_residual;                   /* (B, in_c, in_h, in_w) residual part    */
    gs_overlap_sums overlap;              /* sums of this step                      */
    int64_t hist[3][GS_HIST_BINS];        /* skip, residual, sum (when enabled)     */
} gs_block;

typedef struct gs_model {
    gs_model_config cfg;
    int             max_batch;
    int             batch;                /* batch of the last forward */
    int             training;             /* mode of the last forward  */
    int             threads;              /* OpenMP threads, fixed at creation (omp_get_max_threads) */

    float          *param_data;           /* all learnable tensors, contiguous */
    float          *grad_data;            /* their gradients, same layout      */
    size_t          num_param_floats;
    gs_param       *params;
    int             num_params;
    gs_bn_stats    *bn_stats;
    int             num_bn;
    gs_block       *blocks;
    int             num_blocks;

    /* stem and head */
    gs_conv_layer   stem_conv;
    gs_bn_layer     stem_bn;
    gs_param       *fc_weight, *fc_bias;  /* (K, F), (K) */
    int             feat_c, feat_h, feat_w;

    /* instrumentation switches, read by gs_model_backward */
    int             hist_enabled;         /* fill block->hist this step               */
    int             keep_block_grads;     /* keep dx_skip/dx_residual of every block  */

    /* private buffers */
    const float    *input;                /* images of the last forward (B, C, H, W) */
    const int32_t  *labels;
    float          *stem_c, *stem_a;      /* stem conv output, relu(bn) output        */
    float          *pooled, *logits, *dlogits, *dpooled;
    float          *workspace;            /* im2col scratch                           */
    float          *grad_a, *grad_b;      /* ping-pong block gradients (max act size) */
    float          *tmp[2];               /* backward scratch (max act size)           */
    float          *shared_dx_skip, *shared_dx_residual;
    size_t          max_act;              /* floats of the largest activation          */
    void          **allocs;               /* every buffer above, for gs_model_free     */
    int             num_allocs, cap_allocs;
} gs_model;

/* Builds the network for at most max_batch images; parameters are zero until
 * gs_model_init or a checkpoint load.  Convolutions use omp_get_max_threads()
 * threads as of this call (set it first), each calling sgemm single-threaded.  Returns NULL with err set on failure. */
gs_model *gs_model_create(const gs_model_config *cfg, int max_batch, char *err, size_t errsz);
void      gs_model_free(gs_model *m);

/* Kaiming-normal (fan_in, gain √2) convolutions, BN γ=1 β=0, fc as PyTorch's
 * Linear default (uniform ±1/√fan_in); running mean 0 / var 1.  Deterministic in seed. */
void      gs_model_init(gs_model *m, uint64_t seed);

gs_param *gs_model_find_param(gs_model *m, const char *name);

/* Forward pass over images (B, C, H, W) with labels (B); training = 1 uses batch
 * statistics and updates the running ones.  Returns the mean cross-entropy and the
 * number of correct arg-max predictions in *correct (may be NULL).  The images and
 * labels must stay valid until gs_model_backward. */
double    gs_model_forward(gs_model *m, const float *images, const int32_t *labels,
                           int B, int training, int *correct);
/* Backward of the last training forward: ACCUMULATES parameter gradients into
 * grad_data and fills every block's dx_skip, dx_residual and overlap sums. */
void      gs_model_backward(gs_model *m);
void      gs_model_zero_grad(gs_model *m);

/* Keep dx_skip/dx_residual of every block after backward (for gradient dumps);
 * otherwise only the pointers of the last block processed are meaningful.
 * Returns 0, or -1 if the memory could not be allocated. */
int       gs_model_keep_block_grads(gs_model *m, int keep);

/* The logits (B, num_classes) of the last forward. */
const float *gs_model_logits(const gs_model *m);

#endif
