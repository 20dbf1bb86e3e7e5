/* gs_layers.h — the layers of a CIFAR-style ResNet, forward and backward.
 *
 * Conventions (all tensors float32, NCHW, contiguous):
 *   - outputs come first in every argument list, then inputs, then dimensions;
 *   - every *_backward ACCUMULATES (+=) into parameter gradients (dw, dgamma, ...)
 *     and OVERWRITES (=) the gradient of its input (din), so a caller zeroes the
 *     parameter gradients once per step and never has to clear activations;
 *   - din may be NULL when the input gradient is not needed (the image);
 *   - nothing here allocates: scratch memory is passed in (see the *_workspace
 *     functions) and shapes are given in the comments as (B, C, H, W).
 */
#ifndef GS_LAYERS_H
#define GS_LAYERS_H

#include <stddef.h>
#include <stdint.h>

/* ---- 2-D convolution without bias --------------------------------------------- */

typedef struct gs_conv_shape {
    int batch;            /* B                                 */
    int in_c, in_h, in_w; /* C, H, W of the input              */
    int out_c;            /* O                                 */
    int kernel;           /* K (square)                         */
    int stride, pad;
    int out_h, out_w;     /* filled by gs_conv_shape_init      */
} gs_conv_shape;

/* How a convolution is computed.  Both algorithms give the same results up to
 * float rounding (≤ 1e-5 relative, tests/core/test_conv_direct.c).
 *   IM2COL: im2col + single-threaded sgemm per image (any shape, any CPU);
 *   DIRECT: direct 3x3 kernels (AVX-512 or AVX2 + FMA, gs_conv_direct.h) for kernel 3,
 *           pad 1, stride 1 or 2 — the forward, the weight and the input gradient;
 *           every other shape (1x1 convolutions) or CPU falls back to IM2COL;
 *   AUTO:   gs_conv_algo_default(). */
typedef enum gs_conv_algo {
    GS_CONV_ALGO_AUTO = 0,
    GS_CONV_ALGO_IM2COL,
    GS_CONV_ALGO_DIRECT,
} gs_conv_algo;

/* The algorithm AUTO stands for: GS_CONV=im2col|direct from the environment, read once
 * (any other value, or unset: DIRECT). */
gs_conv_algo gs_conv_algo_default(void);
/* "im2col" or "direct": what `algo` resolves to for this shape on this CPU. */
const char *gs_conv_algo_name(const gs_conv_shape *s, gs_conv_algo algo);

void   gs_conv_shape_init(gs_conv_shape *s, int batch, int in_c, int in_h, int in_w,
                          int out_c, int kernel, int stride, int pad);
/* The images of a batch are spread over `threads` OpenMP threads (static contiguous
 * ranges), each running single-threaded sgemm or a direct kernel on its own images
 * (BLAS threading is left to the caller to switch off).  The weight gradient is summed
 * per thread and reduced in thread order, so results are deterministic for a given
 * thread count.
 * Floats of scratch that gs_conv2d_forward/backward need for this shape and threads,
 * whichever algorithm runs. */
size_t gs_conv2d_workspace_floats(const gs_conv_shape *s, int threads);

/* out (B, O, Ho, Wo) = conv(in (B, C, H, W), w (O, C, K, K)) */
void gs_conv2d_forward(float *out, const float *in, const float *w,
                       const gs_conv_shape *s, float *workspace, int threads);
/* din (B, C, H, W) = convᵀ(dout);  dw (O, C, K, K) += dout ⋆ in */
void gs_conv2d_backward(float *din, float *dw, const float *dout, const float *in,
                        const float *w, const gs_conv_shape *s, float *workspace, int threads);
/* The same with the algorithm chosen by the caller (tests, benches). */
void gs_conv2d_forward_algo(float *out, const float *in, const float *w,
                            const gs_conv_shape *s, float *workspace, int threads,
                            gs_conv_algo algo);
void gs_conv2d_backward_algo(float *din, float *dw, const float *dout, const float *in,
                             const float *w, const gs_conv_shape *s, float *workspace,
                             int threads, gs_conv_algo algo);
/* As gs_conv2d_backward_algo; with din_through_relu, `in` is the output of a ReLU and
 * din is the gradient at that ReLU's input: convᵀ(dout) ⊙ [in > 0], exactly what
 * gs_relu_backward(din, din, in, n) after the plain backward gives, in the same pass
 * over din (the direct path) or after it (im2col). */
void gs_conv2d_backward_ex(float *din, float *dw, const float *dout, const float *in,
                           const float *w, const gs_conv_shape *s, float *workspace,
                           int threads, gs_conv_algo algo, int din_through_relu);

/* ---- batch normalization (per channel over B·H·W) ----------------------------- */

/* Training mode: normalizes with the batch statistics, saves them for backward
 * (save_mean, save_invstd: (C)), and updates the running statistics as PyTorch
 * does: running = (1 − momentum)·running + momentum·batch, with the UNBIASED batch
 * variance (n/(n−1)) going into running_var.
 *   out (B, C, HW) = gamma · (in − mean) · invstd + beta */
void gs_batchnorm_forward_train(float *out, float *save_mean, float *save_invstd,
                                float *running_mean, float *running_var,
                                const float *in, const float *gamma, const float *beta,
                                int B, int C, int HW, float momentum, float eps);
/* Eval mode: normalizes with the running statistics. */
void gs_batchnorm_forward_eval(float *out, const float *in, const float *gamma,
                               const float *beta, const float *running_mean,
                               const float *running_var, int B, int C, int HW, float eps);

/* What the output pass of batch norm applies after the normalization, in the same
 * pass over memory (a separate ReLU or residual add would be another one):
 *   GS_BN_PLAIN     out = bn(in)
 *   GS_BN_RELU      out = max(bn(in), 0)
 *   GS_BN_ADD_RELU  out = max(bn(in) + residual, 0)     (a residual block's output) */
typedef enum gs_bn_act { GS_BN_PLAIN, GS_BN_RELU, GS_BN_ADD_RELU } gs_bn_act;

/* gs_batchnorm_forward_train / _eval followed by `act`; residual (B, C, HW) is read
 * for GS_BN_ADD_RELU only (NULL otherwise).  out may alias in or residual. */
void gs_batchnorm_forward_train_act(float *out, float *save_mean, float *save_invstd,
                                    float *running_mean, float *running_var,
                                    const float *in, const float *gamma, const float *beta,
                                    int B, int C, int HW, float momentum, float eps,
                                    gs_bn_act act, const float *residual);
void gs_batchnorm_forward_eval_act(float *out, const float *in, const float *gamma,
                                   const float *beta, const float *running_mean,
                                   const float *running_var, int B, int C, int HW, float eps,
                                   gs_bn_act act, const float *residual);
/* din (B, C, HW) overwritten; dgamma, dbeta (C) accumulated.  Uses the input and the
 * statistics saved by gs_batchnorm_forward_train. */
void gs_batchnorm_backward(float *din, float *dgamma, float *dbeta, const float *dout,
                           const float *in, const float *save_mean,
                           const float *save_invstd, const float *gamma,
                           int B, int C, int HW);

/* ---- element-wise -------------------------------------------------------------- */

/* out = max(in, 0); out may alias in. */
void gs_relu_forward(float *out, const float *in, size_t n);
/* din = dout · [out > 0]; din may alias dout.  `out` is the forward OUTPUT. */
void gs_relu_backward(float *din, const float *dout, const float *out, size_t n);

/* ---- global average pool ------------------------------------------------------- */

/* out (B, C) = mean over HW of in (B, C, HW) */
void gs_avgpool_forward(float *out, const float *in, int B, int C, int HW);
/* din (B, C, HW) = dout (B, C) / HW */
void gs_avgpool_backward(float *din, const float *dout, int B, int C, int HW);

/* ---- fully connected ----------------------------------------------------------- */

/* out (B, O) = in (B, F) · wᵀ (F, O) + bias (O) */
void gs_linear_forward(float *out, const float *in, const float *w, const float *bias,
                       int B, int F, int O);
/* din (B, F) = dout · w; dw (O, F) += doutᵀ · in; dbias (O) += Σ_b dout */
void gs_linear_backward(float *din, float *dw, float *dbias, const float *dout,
                        const float *in, const float *w, int B, int F, int O);

/* ---- softmax cross-entropy, mean over the batch --------------------------------- */

/* Returns the mean loss over the B rows of logits (B, K) for labels (B), and the
 * number of rows whose arg-max equals the label in *correct (may be NULL).
 * dlogits (B, K) (may be NULL) = (softmax − onehot) / B. */
double gs_softmax_xent(float *dlogits, int *correct, const float *logits,
                       const int32_t *labels, int B, int K);

#endif
