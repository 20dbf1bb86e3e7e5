/* gs_conv_direct.h — direct 3x3 convolution (pad 1, stride 1 or 2) on SIMD micro-kernels.
 *
 * Internal to core: gs_layers.c dispatches here (see gs_conv_algo in gs_layers.h).
 *
 * Layout.  Each input plane (H, W) is copied into a zero-padded, flattened "packed"
 * plane whose row pitch P is also the row pitch of the output grid:
 *   - stride 1: P = W + 1, packed[(y + 1)·P + x + 1] = in[y][x] (the right padding
 *     column of one row is the left padding column of the next);
 *   - stride 2: four phase planes (row parity ry, column parity rx), P = Wo + 1,
 *     phase[ry][rx][i·P + j] = in[2i + ry − 1][2j + rx − 1].
 * Output position q = oy·P + ox of the grid then reads tap k = (ky, kx) at
 * packed[q + tap[k]] with a constant offset tap[k], so one output-grid vector is nine
 * unaligned loads with no bounds checks; grid columns ox ≥ Wo are computed and dropped.
 *
 * Kernels: AVX-512 (avx512f + fma) or AVX2 + FMA, picked once at run time with
 * __builtin_cpu_supports; gs_conv_direct_available() is 0 on other CPUs and the caller
 * keeps its im2col path.
 *
 * Threads: images are split into static contiguous ranges, one per OpenMP thread; the
 * weight gradient is summed per thread (in a fixed order) and the partials are reduced
 * in thread order, so results are identical run to run for a given thread count.
 */
#ifndef GS_CONV_DIRECT_H
#define GS_CONV_DIRECT_H

#include <stddef.h>

#include "gs_layers.h"

/* For a weight gradient summed per thread: called by thread t of an OpenMP team of nt
 * after a barrier, adds dst[i] += Σ_u part_u[i] for u = 0 … nt − 1 in that order, with
 * part_u = parts + u·stride, over thread t's slice [n·t/nt, n·(t+1)/nt) of dst — the
 * same sums every run with nt threads.  (Used by the im2col path too.) */
static inline void gs_add_thread_partials(float *dst, const float *parts, size_t stride, size_t n, int t, int nt)
{
    const size_t lo = n * t / nt, hi = n * (t + 1) / nt;
    for (int u = 0; u < nt; u++) {
        const float *part = parts + (size_t)u * stride;
        for (size_t i = lo; i < hi; i++)
            dst[i] += part[i];
    }
}

/* 1 if this CPU has a direct kernel (AVX-512 or AVX2 + FMA) and GS_CONV_DIRECT_ISA
 * does not switch it off; the name of the kernel set in *isa (may be NULL):
 * "avx512", "avx2" or "none". */
int gs_conv_direct_available(const char **isa);

/* 1 if the shape is one the direct kernels handle: kernel 3, pad 1, stride 1 or 2. */
int gs_conv_direct_shape_ok(const gs_conv_shape *s);

/* Floats of scratch that gs_conv_direct_forward/backward need (0 if !shape_ok). */
size_t gs_conv_direct_workspace_floats(const gs_conv_shape *s, int threads);

/* out (B, O, Ho, Wo) = conv(in (B, C, H, W), w (O, C, 3, 3)).
 * Requires gs_conv_direct_available() and gs_conv_direct_shape_ok(s). */
void gs_conv_direct_forward(float *out, const float *in, const float *w,
                            const gs_conv_shape *s, float *workspace, int threads);

/* dw (O, C, 3, 3) += dout ⋆ in  (the weight gradient, accumulated). */
void gs_conv_direct_wgrad(float *dw, const float *dout, const float *in,
                          const gs_conv_shape *s, float *workspace, int threads);

/* Stride 2: din (B, C, H, W) = convᵀ(dout (B, O, Ho, Wo)), overwritten; times
 * [mask > 0] where mask (B, C, H, W) is given (NULL: none), in the same pass.  Four
 * phase convolutions of dout with 1, 2, 2 and 4 taps.  Returns 0 (−1 for another
 * stride, then nothing is written: stride 1 takes gs_conv_direct_backward1). */
int gs_conv_direct_dgrad(float *din, const float *dout, const float *w, const float *mask,
                         const gs_conv_shape *s, float *workspace, int threads);

/* Stride 1: dw (O, C, 3, 3) += dout ⋆ in and din = convᵀ(dout) (⊙ [mask > 0] where
 * mask is given), overwritten, in one pass over the images that packs each dout once
 * for both: din is the convolution of dout with the transposed, flipped kernel.  din
 * must not be NULL (gs_conv_direct_wgrad alone for the weight gradient only). */
void gs_conv_direct_backward1(float *din, float *dw, const float *dout, const float *in, const float *w,
                              const float *mask, const gs_conv_shape *s, float *workspace, int threads);

#endif
