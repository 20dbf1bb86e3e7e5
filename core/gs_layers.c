#include "gs_layers.h"

#include <cblas.h>
#include <math.h>
#include <omp.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "gs_conv_direct.h"

/* ---- convolution ---------------------------------------------------------------- */

void gs_conv_shape_init(gs_conv_shape *s, int batch, int in_c, int in_h, int in_w,
                        int out_c, int kernel, int stride, int pad)
{
    s->batch = batch;
    s->in_c = in_c;
    s->in_h = in_h;
    s->in_w = in_w;
    s->out_c = out_c;
    s->kernel = kernel;
    s->stride = stride;
    s->pad = pad;
    s->out_h = (in_h + 2 * pad - kernel) / stride + 1;
    s->out_w = (in_w + 2 * pad - kernel) / stride + 1;
}

/* A 1x1, stride-1, unpadded convolution is a plain GEMM on the input. */
static int conv_is_pointwise(const gs_conv_shape *s)
{
    return s->kernel == 1 && s->stride == 1 && s->pad == 0;
}

/* A stride-1 "same" convolution: its input gradient is itself a convolution of dout
 * with the transposed, spatially flipped kernel (same padding), which runs as
 * im2col + one GEMM with inner dimension O·K·K instead of a GEMM with inner
 * dimension O followed by a col2im scatter. */
static int conv_is_same_stride1(const gs_conv_shape *s)
{
    return s->stride == 1 && s->kernel > 1 && s->kernel % 2 == 1 && s->pad == s->kernel / 2;
}

/* Per thread: an im2col buffer — (C·K·K, Ho·Wo), or (max(C, O)·K·K, H·W) for the
 * transposed convolution of a same convolution — and a weight-gradient partial (O, C·K·K).
 * Shared: the flipped kernel (C, O, K, K) of a same convolution. */
static size_t conv_col_floats(const gs_conv_shape *s)
{
    if (conv_is_pointwise(s))
        return 0;
    int channels = conv_is_same_stride1(s) && s->out_c > s->in_c ? s->out_c : s->in_c;
    return (size_t)channels * s->kernel * s->kernel * s->out_h * s->out_w;
}

static size_t conv_dw_floats(const gs_conv_shape *s)
{
    return (size_t)s->out_c * s->in_c * s->kernel * s->kernel;
}

static size_t im2col_workspace_floats(const gs_conv_shape *s, int threads)
{
    size_t flipped = conv_is_same_stride1(s) ? conv_dw_floats(s) : 0;
    return (size_t)(threads > 0 ? threads : 1) * (conv_col_floats(s) + conv_dw_floats(s)) + flipped;
}

size_t gs_conv2d_workspace_floats(const gs_conv_shape *s, int threads)
{
    size_t im2col_need = im2col_workspace_floats(s, threads);
    size_t direct_need = gs_conv_direct_workspace_floats(s, threads);
    return im2col_need > direct_need ? im2col_need : direct_need;
}

/* ---- algorithm choice ------------------------------------------------------------ */

static gs_conv_algo default_algo = GS_CONV_ALGO_DIRECT;
static pthread_once_t default_algo_once = PTHREAD_ONCE_INIT;

static void read_default_algo(void)
{
    const char *env = getenv("GS_CONV");
    default_algo = env && !strcmp(env, "im2col") ? GS_CONV_ALGO_IM2COL : GS_CONV_ALGO_DIRECT;
}

gs_conv_algo gs_conv_algo_default(void)
{
    pthread_once(&default_algo_once, read_default_algo);
    return default_algo;
}

/* 1 if `algo` runs the direct kernels for this shape on this CPU. */
static int conv_use_direct(const gs_conv_shape *s, gs_conv_algo algo)
{
    if (algo == GS_CONV_ALGO_AUTO)
        algo = gs_conv_algo_default();
    return algo == GS_CONV_ALGO_DIRECT && gs_conv_direct_shape_ok(s) && gs_conv_direct_available(NULL);
}

const char *gs_conv_algo_name(const gs_conv_shape *s, gs_conv_algo algo)
{
    return conv_use_direct(s, algo) ? "direct" : "im2col";
}

/* The output columns ox whose input column ix = ox·stride − pad + kx lies inside
 * [0, W): [lo, hi).  Everything outside is padding. */
static void valid_columns(const gs_conv_shape *s, int kx, int *lo, int *hi)
{
    int first = s->pad - kx;                              /* ox·stride ≥ pad − kx          */
    int l = first <= 0 ? 0 : (first + s->stride - 1) / s->stride;
    int last = s->in_w - 1 + s->pad - kx;                 /* ox·stride ≤ W − 1 + pad − kx  */
    int h = last < 0 ? 0 : last / s->stride + 1;
    if (h > s->out_w)
        h = s->out_w;
    if (l > h)
        l = h;
    *lo = l;
    *hi = h;
}

/* col (C·K·K, Ho·Wo) ← image (C, H, W) */
static void im2col(float *col, const float *img, const gs_conv_shape *s)
{
    const int K = s->kernel, H = s->in_h, W = s->in_w, Ho = s->out_h, Wo = s->out_w, st = s->stride;
    for (int c = 0; c < s->in_c; c++) {
        for (int ky = 0; ky < K; ky++) {
            for (int kx = 0; kx < K; kx++) {
                float *row = col + ((size_t)(c * K + ky) * K + kx) * Ho * Wo;
                int lo, hi;
                valid_columns(s, kx, &lo, &hi);
                const int shift = kx - s->pad;            /* ix = ox·stride + shift */
                for (int oy = 0; oy < Ho; oy++) {
                    int iy = oy * st - s->pad + ky;
                    float *dst = row + (size_t)oy * Wo;
                    if (iy < 0 || iy >= H) {
                        memset(dst, 0, sizeof(float) * Wo);
                        continue;
                    }
                    const float *src = img + ((size_t)c * H + iy) * W;
                    for (int ox = 0; ox < lo; ox++)
                        dst[ox] = 0.0f;
                    if (st == 1) {
                        memcpy(dst + lo, src + lo + shift, sizeof(float) * (hi - lo));
                    } else {
                        for (int ox = lo; ox < hi; ox++)
                            dst[ox] = src[ox * st + shift];
                    }
                    for (int ox = hi; ox < Wo; ox++)
                        dst[ox] = 0.0f;
                }
            }
        }
    }
}

/* image (C, H, W) = Σ col (C·K·K, Ho·Wo) scattered back (overwrites image) */
static void col2im(float *img, const float *col, const gs_conv_shape *s)
{
    const int K = s->kernel, H = s->in_h, W = s->in_w, Ho = s->out_h, Wo = s->out_w, st = s->stride;
    memset(img, 0, sizeof(float) * (size_t)s->in_c * H * W);
    for (int c = 0; c < s->in_c; c++) {
        for (int ky = 0; ky < K; ky++) {
            for (int kx = 0; kx < K; kx++) {
                const float *row = col + ((size_t)(c * K + ky) * K + kx) * Ho * Wo;
                int lo, hi;
                valid_columns(s, kx, &lo, &hi);
                const int shift = kx - s->pad;
                for (int oy = 0; oy < Ho; oy++) {
                    int iy = oy * st - s->pad + ky;
                    if (iy < 0 || iy >= H)
                        continue;
                    float *dst = img + ((size_t)c * H + iy) * W;
                    const float *src = row + (size_t)oy * Wo;
                    if (st == 1) {
                        float *d = dst + shift;
                        for (int ox = lo; ox < hi; ox++)
                            d[ox] += src[ox];
                    } else {
                        for (int ox = lo; ox < hi; ox++)
                            dst[ox * st + shift] += src[ox];
                    }
                }
            }
        }
    }
}

static void conv_forward_im2col(float *out, const float *in, const float *w,
                                const gs_conv_shape *s, float *workspace, int threads)
{
    const int O = s->out_c;
    const int P = s->out_h * s->out_w;              /* output pixels per image */
    const int CKK = s->in_c * s->kernel * s->kernel;
    const size_t in_img = (size_t)s->in_c * s->in_h * s->in_w;
    const size_t out_img = (size_t)O * P;
    const size_t per_thread = conv_col_floats(s) + conv_dw_floats(s);

#pragma omp parallel for schedule(static) num_threads(threads)
    for (int b = 0; b < s->batch; b++) {
        float *col_buf = workspace + (size_t)omp_get_thread_num() * per_thread;
        const float *col = in + b * in_img;          /* (CKK, P) */
        if (!conv_is_pointwise(s)) {
            im2col(col_buf, in + b * in_img, s);
            col = col_buf;
        }
        /* out_b (O, P) = w (O, CKK) · col (CKK, P) */
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, O, P, CKK,
                    1.0f, w, CKK, col, P, 0.0f, out + b * out_img, P);
    }
}

/* As gs_conv2d_backward; dw may be NULL (input gradient only). */
static void conv_backward_im2col(float *din, float *dw, const float *dout, const float *in,
                                 const float *w, const gs_conv_shape *s, float *workspace, int threads)
{
    const int O = s->out_c, C = s->in_c, K = s->kernel;
    const int P = s->out_h * s->out_w;
    const int CKK = C * K * K;
    const size_t in_img = (size_t)C * s->in_h * s->in_w;
    const size_t out_img = (size_t)O * P;
    const int pointwise = conv_is_pointwise(s);
    const int transposed = din && conv_is_same_stride1(s);
    const size_t col_floats = conv_col_floats(s), dw_floats = conv_dw_floats(s);
    const size_t per_thread = col_floats + dw_floats;
    if (threads < 1)
        threads = 1;
    if (threads > s->batch)
        threads = s->batch;

    /* For a same convolution: w_flip (C, O, K, K)[c][o][ky][kx] = w[o][c][K−1−ky][K−1−kx],
     * and the shape of the convolution dout (O, H, W) → din (C, H, W). */
    float *w_flip = workspace + (size_t)threads * per_thread;
    gs_conv_shape ts;
    if (transposed) {
        for (int o = 0; o < O; o++)
            for (int c = 0; c < C; c++)
                for (int k = 0; k < K * K; k++)
                    w_flip[((size_t)c * O + o) * K * K + (K * K - 1 - k)] = w[((size_t)o * C + c) * K * K + k];
        gs_conv_shape_init(&ts, s->batch, O, s->out_h, s->out_w, C, K, 1, s->pad);
    }

#pragma omp parallel num_threads(threads)
    {
        const int t = omp_get_thread_num(), nt = omp_get_num_threads();
        float *col_buf = workspace + (size_t)t * per_thread;
        float *dw_part = col_buf + col_floats;       /* (O, CKK), this thread's images */
        if (dw)
            memset(dw_part, 0, sizeof(float) * dw_floats);
        /* a static, contiguous share of the images per thread */
        const int first = (int)((long)s->batch * t / nt), last = (int)((long)s->batch * (t + 1) / nt);
        for (int b = first; b < last; b++) {
            const float *dout_b = dout + b * out_img;    /* (O, P) */
            if (dw) {
                const float *col = in + b * in_img;
                if (!pointwise) {
                    im2col(col_buf, in + b * in_img, s);
                    col = col_buf;
                }
                /* dw_part (O, CKK) += dout_b (O, P) · colᵀ (P, CKK) */
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, O, CKK, P,
                            1.0f, dout_b, P, col, P, 1.0f, dw_part, CKK);
            }
            if (!din)
                continue;
            if (transposed) {
                /* din_b (C, H·W) = w_flip (C, O·K·K) · im2col(dout_b) (O·K·K, H·W) */
                im2col(col_buf, dout_b, &ts);
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, C, P, O * K * K,
                            1.0f, w_flip, O * K * K, col_buf, P, 0.0f, din + b * in_img, P);
                continue;
            }
            /* dcol (CKK, P) = wᵀ (CKK, O) · dout_b (O, P), then scattered into din_b */
            float *dcol = pointwise ? din + b * in_img : col_buf;
            cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, CKK, P, O,
                        1.0f, w, CKK, dout_b, P, 0.0f, dcol, P);
            if (!pointwise)
                col2im(din + b * in_img, dcol, s);
        }
        if (dw) {   /* the same for every thread of the team */
#pragma omp barrier
            gs_add_thread_partials(dw, workspace + col_floats, per_thread, dw_floats, t, nt);
        }
    }
}

void gs_conv2d_forward_algo(float *out, const float *in, const float *w,
                            const gs_conv_shape *s, float *workspace, int threads,
                            gs_conv_algo algo)
{
    if (conv_use_direct(s, algo))
        gs_conv_direct_forward(out, in, w, s, workspace, threads);
    else
        conv_forward_im2col(out, in, w, s, workspace, threads);
}

void gs_conv2d_backward_ex(float *din, float *dw, const float *dout, const float *in,
                           const float *w, const gs_conv_shape *s, float *workspace,
                           int threads, gs_conv_algo algo, int din_through_relu)
{
    if (conv_use_direct(s, algo)) {
        /* the mask is applied as din is unpacked; stride 1: both gradients in one pass,
         * otherwise one after the other, each with the whole workspace */
        const float *mask = din_through_relu ? in : NULL;
        if (din && s->stride == 1) {
            gs_conv_direct_backward1(din, dw, dout, in, w, mask, s, workspace, threads);
            return;
        }
        gs_conv_direct_wgrad(dw, dout, in, s, workspace, threads);
        if (!din || gs_conv_direct_dgrad(din, dout, w, mask, s, workspace, threads) == 0)
            return;
        conv_backward_im2col(din, NULL, dout, in, w, s, workspace, threads);
    } else {
        conv_backward_im2col(din, dw, dout, in, w, s, workspace, threads);
    }
    if (din && din_through_relu)
        gs_relu_backward(din, din, in, (size_t)s->batch * s->in_c * s->in_h * s->in_w);
}

void gs_conv2d_backward_algo(float *din, float *dw, const float *dout, const float *in,
                             const float *w, const gs_conv_shape *s, float *workspace,
                             int threads, gs_conv_algo algo)
{
    gs_conv2d_backward_ex(din, dw, dout, in, w, s, workspace, threads, algo, 0);
}

void gs_conv2d_forward(float *out, const float *in, const float *w,
                       const gs_conv_shape *s, float *workspace, int threads)
{
    gs_conv2d_forward_algo(out, in, w, s, workspace, threads, GS_CONV_ALGO_AUTO);
}

void gs_conv2d_backward(float *din, float *dw, const float *dout, const float *in,
                        const float *w, const gs_conv_shape *s, float *workspace, int threads)
{
    gs_conv2d_backward_algo(din, dw, dout, in, w, s, workspace, threads, GS_CONV_ALGO_AUTO);
}

/* ---- batch normalization --------------------------------------------------------- */

/* Channel reductions for batch norm: 32 independent double partial sums (no serial
 * dependency chain, and the compiler vectorizes them without reassociating anything;
 * with 16, the 4-cycle latency of the double adds was slower than memory) that run
 * across all B planes of the channel and are added once, in a fixed order, at the
 * end.  Double as in a plain double loop: gradients near the float range still sum
 * without overflowing.  A channel's plane b starts at x + b·stride. */
#define BN_LANES 32

/* The memory passes of batch norm are compiled for AVX-512 and AVX2 too and chosen at
 * load time (the default build targets any x86-64, where the double partials above run
 * two lanes at a time).  On x86-64 only; elsewhere they are plain functions. */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define GS_SIMD_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define GS_SIMD_CLONES
#endif

static double lanes_total(const double *part, double tail)
{
    for (int j = 0; j < BN_LANES; j++)
        tail += part[j];
    return tail;
}

/* Σ x over one plane */
GS_SIMD_CLONES static double plane_sum(const float *x, int n)
{
    double part[BN_LANES] = {0}, tail = 0.0;
    int i = 0;
    for (; i + BN_LANES <= n; i += BN_LANES)
        for (int j = 0; j < BN_LANES; j++)
            part[j] += x[i + j];
    for (; i < n; i++)
        tail += x[i];
    return lanes_total(part, tail);
}

/* *s1 = Σ (x − pivot), *s2 = Σ (x − pivot)² over the channel's B planes */
GS_SIMD_CLONES static void channel_shifted_sums(const float *x, size_t stride, int B, int n, double pivot,
                                                double *s1, double *s2)
{
    double p1[BN_LANES] = {0}, p2[BN_LANES] = {0}, t1 = 0.0, t2 = 0.0;
    for (int b = 0; b < B; b++) {
        const float *xb = x + (size_t)b * stride;
        int i = 0;
        for (; i + BN_LANES <= n; i += BN_LANES)
            for (int j = 0; j < BN_LANES; j++) {
                double d = xb[i + j] - pivot;
                p1[j] += d;
                p2[j] += d * d;
            }
        for (; i < n; i++) {
            double d = xb[i] - pivot;
            t1 += d;
            t2 += d * d;
        }
    }
    *s1 = lanes_total(p1, t1);
    *s2 = lanes_total(p2, t2);
}

/* *sum_dy = Σ dy, *sum_dy_xc = Σ dy·(x − mean) over the channel's B planes */
GS_SIMD_CLONES static void channel_sum_dy(const float *dy, const float *x, size_t stride, int B, int n,
                                          double mean, double *sum_dy, double *sum_dy_xc)
{
    double p_dy[BN_LANES] = {0}, p_dyx[BN_LANES] = {0}, a = 0.0, c = 0.0;
    for (int b = 0; b < B; b++) {
        const float *dyb = dy + (size_t)b * stride, *xb = x + (size_t)b * stride;
        int i = 0;
        for (; i + BN_LANES <= n; i += BN_LANES)
            for (int j = 0; j < BN_LANES; j++) {
                p_dy[j] += dyb[i + j];
                p_dyx[j] += dyb[i + j] * (xb[i + j] - mean);
            }
        for (; i < n; i++) {
            a += dyb[i];
            c += dyb[i] * (xb[i] - mean);
        }
    }
    *sum_dy = lanes_total(p_dy, a);
    *sum_dy_xc = lanes_total(p_dyx, c);
}

/* The channel's output planes: y = x·scale + shift, then the activation of `act`
 * (residual: the planes added before the ReLU of GS_BN_ADD_RELU, same layout).  Element
 * i is read before it is written: y may alias x or residual. */
GS_SIMD_CLONES static void channel_output(float *y, const float *x, const float *residual, size_t stride,
                                          int B, int n,
                                          float scale, float shift, gs_bn_act act)
{
    for (int b = 0; b < B; b++) {
        float *yb = y + (size_t)b * stride;
        const float *xb = x + (size_t)b * stride;
        switch (act) {
        case GS_BN_PLAIN:
            for (int i = 0; i < n; i++)
                yb[i] = xb[i] * scale + shift;
            break;
        case GS_BN_RELU:
            for (int i = 0; i < n; i++) {
                float v = xb[i] * scale + shift;
                yb[i] = v > 0.0f ? v : 0.0f;
            }
            break;
        case GS_BN_ADD_RELU: {
            const float *rb = residual + (size_t)b * stride;
            for (int i = 0; i < n; i++) {
                float v = xb[i] * scale + shift + rb[i];
                yb[i] = v > 0.0f ? v : 0.0f;
            }
            break;
        }
        }
    }
}

/* dx = k·(dy − mean_dy − x̂·mean_dy_xhat), x̂ = (x − mean)·invstd, over the channel */
GS_SIMD_CLONES static void channel_bn_din(float *restrict dx, const float *restrict dy, const float *restrict x,
                                          size_t stride, int B, int n, float mean, float invstd, float k,
                                          float mean_dy, float mean_dy_xhat)
{
    for (int b = 0; b < B; b++) {
        float *dxb = dx + (size_t)b * stride;
        const float *dyb = dy + (size_t)b * stride, *xb = x + (size_t)b * stride;
        for (int i = 0; i < n; i++) {
            float xhat = (xb[i] - mean) * invstd;
            dxb[i] = k * (dyb[i] - mean_dy - xhat * mean_dy_xhat);
        }
    }
}

void gs_batchnorm_forward_train_act(float *out, float *save_mean, float *save_invstd,
                                    float *running_mean, float *running_var,
                                    const float *in, const float *gamma, const float *beta,
                                    int B, int C, int HW, float momentum, float eps,
                                    gs_bn_act act, const float *residual)
{
    const double n = (double)B * HW;
    const size_t stride = (size_t)C * HW;
#pragma omp parallel for schedule(static)
    for (int c = 0; c < C; c++) {
        /* one pass over the channel for its statistics, the sums taken around the
         * mean of the first plane (double, and around a value near the mean: no
         * cancellation however far the data sit from 0) */
        const float *x = in + (size_t)c * HW;
        const double pivot = plane_sum(x, HW) / HW;
        double s1, s2;
        channel_shifted_sums(x, stride, B, HW, pivot, &s1, &s2);
        const double d_mean = s1 / n;
        double var = s2 / n - d_mean * d_mean;          /* population variance */
        if (var < 0.0)
            var = 0.0;
        const double mean = pivot + d_mean;
        const double invstd = 1.0 / sqrt(var + eps);
        save_mean[c] = (float)mean;
        save_invstd[c] = (float)invstd;
        const float scale = (float)(gamma[c] * invstd);
        const float shift = (float)(beta[c] - mean * gamma[c] * invstd);
        channel_output(out + (size_t)c * HW, x, residual ? residual + (size_t)c * HW : NULL, stride, B, HW,
                       scale, shift, act);
        double unbiased = n > 1 ? var * n / (n - 1) : var;
        running_mean[c] = (float)((1.0 - momentum) * running_mean[c] + momentum * mean);
        running_var[c] = (float)((1.0 - momentum) * running_var[c] + momentum * unbiased);
    }
}

void gs_batchnorm_forward_train(float *out, float *save_mean, float *save_invstd,
                                float *running_mean, float *running_var,
                                const float *in, const float *gamma, const float *beta,
                                int B, int C, int HW, float momentum, float eps)
{
    gs_batchnorm_forward_train_act(out, save_mean, save_invstd, running_mean, running_var, in, gamma, beta,
                                   B, C, HW, momentum, eps, GS_BN_PLAIN, NULL);
}

void gs_batchnorm_forward_eval_act(float *out, const float *in, const float *gamma,
                                   const float *beta, const float *running_mean,
                                   const float *running_var, int B, int C, int HW, float eps,
                                   gs_bn_act act, const float *residual)
{
    const size_t stride = (size_t)C * HW;
#pragma omp parallel for schedule(static)
    for (int c = 0; c < C; c++) {
        float invstd = 1.0f / sqrtf(running_var[c] + eps);
        float scale = gamma[c] * invstd;
        float shift = beta[c] - running_mean[c] * scale;
        channel_output(out + (size_t)c * HW, in + (size_t)c * HW, residual ? residual + (size_t)c * HW : NULL,
                       stride, B, HW, scale, shift, act);
    }
}

void gs_batchnorm_forward_eval(float *out, const float *in, const float *gamma,
                               const float *beta, const float *running_mean,
                               const float *running_var, int B, int C, int HW, float eps)
{
    gs_batchnorm_forward_eval_act(out, in, gamma, beta, running_mean, running_var, B, C, HW, eps,
                                  GS_BN_PLAIN, NULL);
}

void gs_batchnorm_backward(float *din, float *dgamma, float *dbeta, const float *dout,
                           const float *in, const float *save_mean,
                           const float *save_invstd, const float *gamma,
                           int B, int C, int HW)
{
    const double n = (double)B * HW;
    const size_t stride = (size_t)C * HW;
#pragma omp parallel for schedule(static)
    for (int c = 0; c < C; c++) {
        const double mean = save_mean[c], invstd = save_invstd[c];
        const float *dy = dout + (size_t)c * HW, *x = in + (size_t)c * HW;
        double sum_dy, sum_dy_xc;
        channel_sum_dy(dy, x, stride, B, HW, mean, &sum_dy, &sum_dy_xc);
        const double sum_dy_xhat = sum_dy_xc * invstd;
        dgamma[c] += (float)sum_dy_xhat;
        dbeta[c] += (float)sum_dy;
        if (!din)
            continue;
        /* din = γ·invstd·(dy − mean(dy) − x̂·mean(dy·x̂)) */
        const float k = (float)(gamma[c] * invstd);
        channel_bn_din(din + (size_t)c * HW, dy, x, stride, B, HW, (float)mean, (float)invstd, k,
                       (float)(sum_dy / n), (float)(sum_dy_xhat / n));
    }
}

/* ---- element-wise ------------------------------------------------------------------ */

void gs_relu_forward(float *out, const float *in, size_t n)
{
#pragma omp parallel for schedule(static)
    for (size_t i = 0; i < n; i++)
        out[i] = in[i] > 0.0f ? in[i] : 0.0f;
}

void gs_relu_backward(float *din, const float *dout, const float *out, size_t n)
{
    /* dout is read unconditionally so that the select vectorizes (a branch on the sign
     * of the activations mispredicts half the time) */
#pragma omp parallel for schedule(static)
    for (size_t i = 0; i < n; i++) {
        const float g = dout[i];
        din[i] = out[i] > 0.0f ? g : 0.0f;
    }
}

/* ---- pooling ----------------------------------------------------------------------- */

void gs_avgpool_forward(float *out, const float *in, int B, int C, int HW)
{
    for (int bc = 0; bc < B * C; bc++) {
        const float *x = in + (size_t)bc * HW;
        double sum = 0.0;
        for (int i = 0; i < HW; i++)
            sum += x[i];
        out[bc] = (float)(sum / HW);
    }
}

void gs_avgpool_backward(float *din, const float *dout, int B, int C, int HW)
{
    for (int bc = 0; bc < B * C; bc++) {
        float g = dout[bc] / (float)HW;
        float *dx = din + (size_t)bc * HW;
        for (int i = 0; i < HW; i++)
            dx[i] = g;
    }
}

/* ---- linear ------------------------------------------------------------------------- */

void gs_linear_forward(float *out, const float *in, const float *w, const float *bias,
                       int B, int F, int O)
{
    for (int b = 0; b < B; b++)
        memcpy(out + (size_t)b * O, bias, sizeof(float) * O);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, B, O, F,
                1.0f, in, F, w, F, 1.0f, out, O);
}

void gs_linear_backward(float *din, float *dw, float *dbias, const float *dout,
                        const float *in, const float *w, int B, int F, int O)
{
    /* dw (O, F) += doutᵀ (O, B) · in (B, F) */
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, O, F, B,
                1.0f, dout, O, in, F, 1.0f, dw, F);
    for (int o = 0; o < O; o++) {
        double sum = 0.0;
        for (int b = 0; b < B; b++)
            sum += dout[(size_t)b * O + o];
        dbias[o] += (float)sum;
    }
    if (din) {
        /* din (B, F) = dout (B, O) · w (O, F) */
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, B, F, O,
                    1.0f, dout, O, w, F, 0.0f, din, F);
    }
}

/* ---- loss ---------------------------------------------------------------------------- */

double gs_softmax_xent(float *dlogits, int *correct, const float *logits,
                       const int32_t *labels, int B, int K)
{
    double total = 0.0;
    int hits = 0;
    for (int b = 0; b < B; b++) {
        const float *z = logits + (size_t)b * K;
        int argmax = 0;
        for (int k = 1; k < K; k++)
            if (z[k] > z[argmax])
                argmax = k;
        hits += argmax == labels[b];
        double maxz = z[argmax], sum = 0.0;
        for (int k = 0; k < K; k++)
            sum += exp((double)z[k] - maxz);
        double logsum = maxz + log(sum);
        total += logsum - z[labels[b]];
        if (dlogits) {
            float *dz = dlogits + (size_t)b * K;
            for (int k = 0; k < K; k++)
                dz[k] = (float)(exp((double)z[k] - logsum) / B);
            dz[labels[b]] -= 1.0f / (float)B;
        }
    }
    if (correct)
        *correct = hits;
    return total / B;
}
