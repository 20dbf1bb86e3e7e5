/* gs_conv_direct.c — direct 3x3 convolution (pad 1, stride 1 or 2); see gs_conv_direct.h. */
#include "gs_conv_direct.h"

#include <immintrin.h>
#include <omp.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

/* Packed planes and grids are sized in multiples of the widest vector (16 floats), so
 * every kernel reads and writes whole vectors without tails. */
#define VL_MAX 16
/* Output channels are rounded up to a multiple of a kernel's KNO (KWNO) for the packed
 * weights and the grids; the extra rows are computed with zero weights (zero dout) and
 * dropped.  Scratch is sized for the largest rounding, O + O_SLACK rows (KNO, KWNO ≤ 8). */
#define O_SLACK 7
/* Weight-gradient image groups: enough grid vectors per (channel pair) for the
 * horizontal sums to be cheap, and a group small enough for L2. */
#define WGRAD_GROUP_VECTORS 64
#define WGRAD_GROUP_MAX 16
#define WGRAD_GROUP_FLOATS (96 * 1024)

typedef struct direct_layout {
    int stride;
    int in_h, in_w;       /* H, W of the packed input                                   */
    int out_h, out_w;     /* Ho, Wo of the output                                       */
    int pitch;            /* row pitch of the packed planes and of the output grid      */
    int qlen;             /* grid floats per channel: Ho·pitch rounded up to the vector */
    size_t phase;         /* floats per phase plane (stride 2); = plane for stride 1    */
    size_t plane;         /* floats per packed channel                                  */
    int tap[9];           /* tap (ky, kx) of grid position q reads packed[q + tap[ky·3+kx]] */
} direct_layout;

static size_t round_up(size_t n, size_t m)
{
    return (n + m - 1) / m * m;
}

/* vl: the kernel's vector length (grid rounding); VL_MAX gives an upper bound of
 * every size, for the scratch sizes. */
static void layout_init(direct_layout *L, int in_h, int in_w, int stride, int vl)
{
    L->stride = stride;
    L->in_h = in_h;
    L->in_w = in_w;
    L->out_h = (in_h - 1) / stride + 1;   /* (H + 2·1 − 3) / stride + 1 */
    L->out_w = (in_w - 1) / stride + 1;
    if (stride == 1) {
        /* pitch W + 1: the right padding column of row y is the left one of row y + 1 */
        L->pitch = in_w + 1;
        L->qlen = (int)round_up((size_t)L->out_h * L->pitch, vl);
        /* reach: the last tap of the last grid vector, and a vector more for the
         * weight gradient's shifted loads (gs_conv_kernel.h, wgrad_group_rows) */
        size_t rows = (size_t)(in_h + 2) * L->pitch, reach = (size_t)L->qlen + 2 * L->pitch + VL_MAX;
        L->phase = round_up(rows > reach ? rows : reach, VL_MAX);
        L->plane = L->phase;
        for (int ky = 0; ky < 3; ky++)
            for (int kx = 0; kx < 3; kx++)
                L->tap[ky * 3 + kx] = ky * L->pitch + kx;
    } else {
        L->pitch = L->out_w + 1;
        L->qlen = (int)round_up((size_t)L->out_h * L->pitch, vl);
        /* reach: the last tap, and a vector more for the weight gradient's shifts */
        size_t rows = (size_t)(L->out_h + 1) * L->pitch, reach = (size_t)L->qlen + L->pitch + VL_MAX;
        L->phase = round_up(rows > reach ? rows : reach, VL_MAX);
        L->plane = 4 * L->phase;
        for (int ky = 0; ky < 3; ky++)
            for (int kx = 0; kx < 3; kx++)
                L->tap[ky * 3 + kx] = (int)(((ky & 1) * 2 + (kx & 1)) * L->phase) +
                                      (ky >> 1) * L->pitch + (kx >> 1);
    }
}

/* dst[0 … n) = src[0 … n) for the short rows of these planes (7 to 32 floats): an
 * inline loop, not a call to memcpy (which GCC would otherwise turn it into). */
__attribute__((optimize("no-tree-loop-distribute-patterns"))) static inline void
copy_row(float *restrict dst, const float *restrict src, int n)
{
    for (int i = 0; i < n; i++)
        dst[i] = src[i];
}

/* packed (C, plane) ← image (C, H, W).  Only the positions that hold input values are
 * written: the caller zeroes the buffer once per call (padding stays zero). */
static void pack_image(float *restrict packed, const float *restrict img, const direct_layout *L, int C)
{
    const int H = L->in_h, W = L->in_w, P = L->pitch;
    for (int c = 0; c < C; c++) {
        const float *src = img + (size_t)c * H * W;
        float *dst = packed + (size_t)c * L->plane;
        if (L->stride == 1) {
            for (int y = 0; y < H; y++)
                copy_row(dst + (size_t)(y + 1) * P + 1, src + (size_t)y * W, W);
            continue;
        }
        for (int ry = 0; ry < 2; ry++)
            for (int rx = 0; rx < 2; rx++) {
                float *ph = dst + (size_t)(ry * 2 + rx) * L->phase;
                for (int i = 0; i <= L->out_h; i++) {
                    int a = 2 * i + ry - 1;
                    if (a < 0 || a >= H)
                        continue;
                    /* columns b = 2j + rx − 1 inside [0, W): j in [j_lo, j_hi) */
                    const float *row = src + (size_t)a * W;
                    float *d = ph + (size_t)i * P;
                    const int j_lo = rx == 0 ? 1 : 0;
                    int j_hi = (W + 2 - rx) / 2;
                    if (j_hi > L->out_w + 1)
                        j_hi = L->out_w + 1;
                    for (int j = j_lo; j < j_hi; j++)
                        d[j] = row[2 * j + rx - 1];
                }
            }
    }
}

/* dst[i] = mask[i] > 0 ? src[i] : 0 for i < n.  src is read unconditionally so that
 * this is a vectorized select, not a branch (the mask is a ReLU's output, positive
 * about half the time: a branch mispredicts, and a conditional load keeps GCC from
 * vectorizing). */
static inline void copy_row_relu_masked(float *restrict dst, const float *restrict src,
                                        const float *restrict mask, int n)
{
    for (int i = 0; i < n; i++) {
        const float v = src[i];
        dst[i] = mask[i] > 0.0f ? v : 0.0f;
    }
}

/* out (O, Ho, Wo) ← grid (≥O, qlen), dropping the grid columns ox ≥ Wo; with a mask
 * (O, Ho, Wo), out = grid ⊙ [mask > 0]. */
static void grid_to_image(float *restrict out, const float *restrict grid, const float *restrict mask,
                          const direct_layout *L, int O)
{
    const int Ho = L->out_h, Wo = L->out_w;
    for (int o = 0; o < O; o++)
        for (int y = 0; y < Ho; y++) {
            const size_t row = ((size_t)o * Ho + y) * Wo;
            const float *g = grid + (size_t)o * L->qlen + (size_t)y * L->pitch;
            if (mask)
                copy_row_relu_masked(out + row, g, mask + row, Wo);
            else
                copy_row(out + row, g, Wo);
        }
}

/* grid (≥O, channel_floats) ← image (O, Ho, Wo) at pitch L->pitch; the dropped
 * positions are left as they are (zeroed once per call by the caller). */
static void image_to_grid(float *restrict grid, const float *restrict img, const direct_layout *L, int O,
                          size_t channel_floats)
{
    const int Ho = L->out_h, Wo = L->out_w;
    for (int o = 0; o < O; o++)
        for (int y = 0; y < Ho; y++)
            copy_row(grid + (size_t)o * channel_floats + (size_t)y * L->pitch, img + ((size_t)o * Ho + y) * Wo, Wo);
}

/* ---- the kernels, one instance per instruction set ------------------------------- */

__attribute__((target("avx512f"))) static inline float hsum_avx512(__m512 v)
{
    return _mm512_reduce_add_ps(v);
}

__attribute__((target("avx"))) static inline float hsum_avx2(__m256 v)
{
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_shuffle_ps(s, s, 1));
    return _mm_cvtss_f32(s);
}

#define KSUF avx512
#define KTARGET "avx512f,fma"
#define KVL 16
#define KTAP_UNROLL 9
/* 8 × 3: per tap 3 grid-vector loads and 8 weight broadcasts for 24 FMAs (4 × 6 took 6
 * unaligned loads, and GCC, short of registers, reloaded some of them: 5 % slower) */
#define KNO 8
#define KNQ 3
#define KWNO 2
#define KWKY 3
#define KHSUM(v) hsum_avx512((__m512)(v))
/* (head, next) shifted down by n floats: head[n …], next[0 … n) (valignd) */
#define KSHIFT(head, next, n) ((vf)_mm512_alignr_epi32((__m512i)(next), (__m512i)(head), (n)))
#include "gs_conv_kernel.h"
#undef KSUF
#undef KTARGET
#undef KVL
#undef KTAP_UNROLL
#undef KNO
#undef KNQ
#undef KWNO
#undef KWKY
#undef KHSUM
#undef KSHIFT

#define KSUF avx2
#define KTARGET "avx2,fma"
#define KVL 8
#define KTAP_UNROLL 3
#define KNO 4
#define KNQ 3
#define KWNO 3
#define KWKY 1
#define KHSUM(v) hsum_avx2((__m256)(v))
#include "gs_conv_kernel.h"
#undef KSUF
#undef KTARGET
#undef KVL
#undef KTAP_UNROLL
#undef KNO
#undef KNQ
#undef KWNO
#undef KWKY
#undef KHSUM

typedef struct direct_kernels {
    const char *name;
    int vl;     /* floats per vector                                      */
    int no;     /* output channels per forward tile (packed-weight block) */
    int wno;    /* output channels per weight-gradient block              */
    void (*fwd_image)(float *grid, const float *packed, const float *wp, const int *taps, int ntap,
                      size_t plane, size_t qlen, int C, int O_r);
    void (*wgrad_group)(float *dwp, const float *packed, const float *doutg, size_t dstride,
                        const direct_layout *L, int G, int C, int O_r);
} direct_kernels;

static const direct_kernels kernels_avx512 = {"avx512", 16, 8, 2, fwd_image_avx512, wgrad_group_avx512};
static const direct_kernels kernels_avx2 = {"avx2", 8, 4, 3, fwd_image_avx2, wgrad_group_avx2};

static const direct_kernels *selected;
static pthread_once_t select_once = PTHREAD_ONCE_INIT;

/* The widest kernel set this CPU runs; GS_CONV_DIRECT_ISA=avx2|none narrows it. */
static void select_kernels(void)
{
    __builtin_cpu_init();
    const char *want = getenv("GS_CONV_DIRECT_ISA");
    int allow512 = !want || !strcmp(want, "avx512");
    int allow2 = !want || !strcmp(want, "avx512") || !strcmp(want, "avx2");
    if (allow512 && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("fma"))
        selected = &kernels_avx512;
    else if (allow2 && __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
        selected = &kernels_avx2;
    else
        selected = NULL;
}

static const direct_kernels *kernels(void)
{
    pthread_once(&select_once, select_kernels);
    return selected;
}

int gs_conv_direct_available(const char **isa)
{
    const direct_kernels *k = kernels();
    if (isa)
        *isa = k ? k->name : "none";
    return k != NULL;
}

int gs_conv_direct_shape_ok(const gs_conv_shape *s)
{
    return s->kernel == 3 && s->pad == 1 && (s->stride == 1 || s->stride == 2) &&
           s->batch > 0 && s->in_c > 0 && s->out_c > 0 && s->in_h > 0 && s->in_w > 0;
}

/* ---- scratch ------------------------------------------------------------------------ */

static int clamp_threads(int threads, int batch)
{
    if (threads < 1)
        threads = 1;
    return threads > batch ? batch : threads;
}

static size_t fwd_shared_floats(int C, int O)
{
    return round_up(((size_t)O + O_SLACK) * C * 9, VL_MAX);
}

static size_t fwd_thread_floats(const direct_layout *L, int C, int O)
{
    return (size_t)C * L->plane + ((size_t)O + O_SLACK) * L->qlen;
}

/* Images per weight-gradient group. */
static int wgrad_group_images(const direct_layout *L, int C, int O, int batch)
{
    size_t per_image = (size_t)C * L->plane + ((size_t)O + O_SLACK) * L->qlen;
    int g = (int)((WGRAD_GROUP_VECTORS * VL_MAX + L->qlen - 1) / L->qlen);
    int fit = (int)(WGRAD_GROUP_FLOATS / per_image);
    if (g > fit)
        g = fit;
    if (g > WGRAD_GROUP_MAX)
        g = WGRAD_GROUP_MAX;
    if (g > batch)
        g = batch;
    return g < 1 ? 1 : g;
}

static size_t wgrad_thread_floats(const direct_layout *L, int C, int O, int group)
{
    size_t per_image = (size_t)C * L->plane + ((size_t)O + O_SLACK) * L->qlen;
    return (size_t)group * per_image + round_up(((size_t)O + O_SLACK) * C * 9, VL_MAX);
}

/* The stride-2 input gradient splits din into its four phases (row parity py, column
 * parity px); phase (py, px) is a convolution of dout with the taps whose ky ≡ py + 1
 * and kx ≡ px + 1 (mod 2):
 *   din[c][2i + py][2j + px] = Σ_o Σ_taps w[o][c][ky][kx] · dout[o][i + dy][j + dx]
 * with (ky, dy) ∈ {(1, 0)} for py = 0 and {(0, 1), (2, 0)} for py = 1 (kx, dx alike).
 * dout is packed with pitch Wo + 1 and zeros at ox = Wo and oy = Ho; the grid has
 * the same pitch and Ho rows (every phase has at most Ho rows and Wo columns). */
static void dgrad2_layout(direct_layout *D, int Ho, int Wo, int vl)
{
    memset(D, 0, sizeof *D);
    D->stride = 0;   /* not a packed input: only pitch, qlen and plane are used */
    D->in_h = Ho;
    D->in_w = Wo;
    D->out_h = Ho;
    D->out_w = Wo;
    D->pitch = Wo + 1;
    D->qlen = (int)round_up((size_t)Ho * D->pitch, vl);
    size_t rows = (size_t)(Ho + 1) * D->pitch, reach = (size_t)D->qlen + D->pitch + 1;
    D->phase = round_up(rows > reach ? rows : reach, VL_MAX);
    D->plane = D->phase;
}

/* The stride-1 backward (gs_conv_direct_backward1): per thread the group's packed
 * inputs (G, C, plane) and packed douts (G, O_r, plane) — one float short of a vector
 * ahead of them, see there — the input gradient's grid (C_r, qlen) and the partial
 * weight gradient; shared, the flipped weights. */
static size_t backward1_shared_floats(int C, int O)
{
    return fwd_shared_floats(O, C);
}

static size_t backward1_thread_floats(const direct_layout *L, int C, int O, int group)
{
    return (size_t)group * ((size_t)C + O + O_SLACK) * L->plane + VL_MAX +
           ((size_t)C + O_SLACK) * L->qlen + round_up(((size_t)O + O_SLACK) * C * 9, VL_MAX);
}

size_t gs_conv_direct_workspace_floats(const gs_conv_shape *s, int threads)
{
    if (!gs_conv_direct_shape_ok(s))
        return 0;
    const int C = s->in_c, O = s->out_c;
    threads = clamp_threads(threads, s->batch);
    direct_layout L;
    layout_init(&L, s->in_h, s->in_w, s->stride, VL_MAX);
    size_t fwd = fwd_shared_floats(C, O) + (size_t)threads * fwd_thread_floats(&L, C, O);
    size_t wgrad = (size_t)threads * wgrad_thread_floats(&L, C, O, wgrad_group_images(&L, C, O, s->batch));
    size_t need = fwd > wgrad ? fwd : wgrad;
    size_t backward;
    if (s->stride == 1) {
        /* both gradients in one pass (gs_conv_direct_backward1) */
        backward = backward1_shared_floats(C, O) +
                   (size_t)threads * backward1_thread_floats(&L, C, O, wgrad_group_images(&L, C, O, s->batch));
    } else {
        /* the input gradient by phases (gs_conv_direct_dgrad) */
        direct_layout D;
        dgrad2_layout(&D, s->out_h, s->out_w, VL_MAX);
        backward = fwd_shared_floats(O, C) + (size_t)threads * fwd_thread_floats(&D, O, C);
    }
    return need > backward ? need : backward;
}

/* ---- forward and input gradient ------------------------------------------------------ */

/* out (B, O, Ho, Wo) = conv(in (B, C, H, W)) with weights already packed in wp
 * (O_r / no, C, 9, no). */
static void direct_conv(float *out, const float *in, const float *wp, const direct_layout *L, int batch,
                        int C, int O, float *scratch, int threads, const direct_kernels *K)
{
    const int O_r = (int)round_up((size_t)O, (size_t)K->no);
    const size_t per_thread = fwd_thread_floats(L, C, O);
    const size_t in_img = (size_t)C * L->in_h * L->in_w;
    const size_t out_img = (size_t)O * L->out_h * L->out_w;
#pragma omp parallel num_threads(threads)
    {
        const int t = omp_get_thread_num(), nt = omp_get_num_threads();
        float *packed = scratch + (size_t)t * per_thread;           /* (C, plane)  */
        float *grid = packed + (size_t)C * L->plane;                 /* (O_r, qlen) */
        memset(packed, 0, sizeof(float) * (size_t)C * L->plane);
        const int first = (int)((long)batch * t / nt), last = (int)((long)batch * (t + 1) / nt);
        for (int b = first; b < last; b++) {
            pack_image(packed, in + b * in_img, L, C);
            K->fwd_image(grid, packed, wp, L->tap, 9, L->plane, (size_t)L->qlen, C, O_r);
            grid_to_image(out + b * out_img, grid, NULL, L, O);
        }
    }
}

void gs_conv_direct_forward(float *out, const float *in, const float *w,
                            const gs_conv_shape *s, float *workspace, int threads)
{
    const direct_kernels *K = kernels();
    const int C = s->in_c, O = s->out_c, no = K->no;
    const int O_r = (int)round_up((size_t)O, (size_t)no);
    threads = clamp_threads(threads, s->batch);
    direct_layout L;
    layout_init(&L, s->in_h, s->in_w, s->stride, K->vl);

    /* wp (O_r / no, C, 9, no) ← w (O, C, 3, 3), zero rows for o ≥ O */
    float *wp = workspace;
    for (int ob = 0; ob < O_r / no; ob++)
        for (int c = 0; c < C; c++)
            for (int k = 0; k < 9; k++)
                for (int j = 0; j < no; j++) {
                    int o = ob * no + j;
                    wp[(((size_t)ob * C + c) * 9 + k) * no + j] = o < O ? w[((size_t)o * C + c) * 9 + k] : 0.0f;
                }
    direct_conv(out, in, wp, &L, s->batch, C, O, workspace + fwd_shared_floats(C, O), threads, K);
}

/* din (B, C, H, W) of a stride-2 convolution, by phases (see dgrad2_layout). */
static void direct_dgrad_stride2(float *din, const float *dout, const float *w, const float *mask,
                                 const gs_conv_shape *s, float *workspace, int threads,
                                 const direct_kernels *K)
{
    const int C = s->in_c, O = s->out_c, H = s->in_h, W = s->in_w, no = K->no;
    const int C_r = (int)round_up((size_t)C, (size_t)no);
    direct_layout D;
    dgrad2_layout(&D, s->out_h, s->out_w, K->vl);
    const int P = D.pitch;

    /* the taps of each phase and their weights wp_p (C_r / no, O, ntap_p, no), one
     * after the other in wp (9 taps in all) */
    int ntap[4], taps[4][4];
    float *wps[4];
    float *wp = workspace;
    for (int py = 0; py < 2; py++)
        for (int px = 0; px < 2; px++) {
            const int p = py * 2 + px;
            int kys[2], dys[2], nky = 0, kxs[2], dxs[2], nkx = 0;
            if (py == 0) { kys[0] = 1; dys[0] = 0; nky = 1; }
            else { kys[0] = 0; dys[0] = 1; kys[1] = 2; dys[1] = 0; nky = 2; }
            if (px == 0) { kxs[0] = 1; dxs[0] = 0; nkx = 1; }
            else { kxs[0] = 0; dxs[0] = 1; kxs[1] = 2; dxs[1] = 0; nkx = 2; }
            ntap[p] = nky * nkx;
            wps[p] = wp;
            for (int a = 0; a < nky; a++)
                for (int b = 0; b < nkx; b++)
                    taps[p][a * nkx + b] = dys[a] * P + dxs[b];
            for (int cb = 0; cb < C_r / no; cb++)
                for (int o = 0; o < O; o++)
                    for (int a = 0; a < nky; a++)
                        for (int b = 0; b < nkx; b++)
                            for (int j = 0; j < no; j++) {
                                int c = cb * no + j, t = a * nkx + b;
                                wp[(((size_t)cb * O + o) * ntap[p] + t) * no + j] =
                                    c < C ? w[((size_t)o * C + c) * 9 + kys[a] * 3 + kxs[b]] : 0.0f;
                            }
            wp += (size_t)C_r * O * ntap[p];
        }

    float *scratch = workspace + fwd_shared_floats(O, C);
    const size_t per_thread = fwd_thread_floats(&D, O, C);
    const size_t in_img = (size_t)C * H * W;
    const size_t out_img = (size_t)O * s->out_h * s->out_w;
#pragma omp parallel num_threads(threads)
    {
        const int t = omp_get_thread_num(), nt = omp_get_num_threads();
        float *packed = scratch + (size_t)t * per_thread;        /* (O, plane)    */
        float *grid = packed + (size_t)O * D.plane;               /* (C_r, qlen)   */
        memset(packed, 0, sizeof(float) * (size_t)O * D.plane);
        const int first = (int)((long)s->batch * t / nt), last = (int)((long)s->batch * (t + 1) / nt);
        for (int b = first; b < last; b++) {
            image_to_grid(packed, dout + b * out_img, &D, O, D.plane);
            float *din_b = din + b * in_img;
            const float *mask_b = mask ? mask + b * in_img : NULL;
            for (int p = 0; p < 4; p++) {
                const int py = p >> 1, px = p & 1;
                K->fwd_image(grid, packed, wps[p], taps[p], ntap[p], D.plane, (size_t)D.qlen, O, C_r);
                /* din_b[c][2i + py][2j + px] ← grid[c][i·P + j] (⊙ [mask > 0]) */
                const int Hp = (H - py + 1) / 2, Wp = (W - px + 1) / 2;
                for (int c = 0; c < C; c++)
                    for (int i = 0; i < Hp; i++) {
                        const float *g = grid + (size_t)c * D.qlen + (size_t)i * P;
                        const size_t at = ((size_t)c * H + 2 * i + py) * W + px;
                        float *d = din_b + at;
                        if (mask_b) {
                            const float *mk = mask_b + at;
                            for (int j = 0; j < Wp; j++) {
                                const float v = g[j];   /* unconditional: a select */
                                d[2 * j] = mk[2 * j] > 0.0f ? v : 0.0f;
                            }
                        } else {
                            for (int j = 0; j < Wp; j++)
                                d[2 * j] = g[j];
                        }
                    }
            }
        }
    }
}

/* wp (C_r / no, O, 9, no) ← w_flip[c][o][k] = w[o][c][8 − k], zero for c ≥ C: the
 * weights of the stride-1 input gradient as a convolution of dout. */
static void pack_flipped_weights(float *wp, const float *w, int C, int O, int no)
{
    const int C_r = (int)round_up((size_t)C, (size_t)no);
    for (int cb = 0; cb < C_r / no; cb++)
        for (int o = 0; o < O; o++)
            for (int k = 0; k < 9; k++)
                for (int j = 0; j < no; j++) {
                    int c = cb * no + j;
                    wp[(((size_t)cb * O + o) * 9 + k) * no + j] =
                        c < C ? w[((size_t)o * C + c) * 9 + (8 - k)] : 0.0f;
                }
}

int gs_conv_direct_dgrad(float *din, const float *dout, const float *w, const float *mask,
                         const gs_conv_shape *s, float *workspace, int threads)
{
    if (s->stride != 2)
        return -1;
    direct_dgrad_stride2(din, dout, w, mask, s, workspace, clamp_threads(threads, s->batch), kernels());
    return 0;
}

/* ---- weight gradient ----------------------------------------------------------------- */

void gs_conv_direct_wgrad(float *dw, const float *dout, const float *in,
                          const gs_conv_shape *s, float *workspace, int threads)
{
    const direct_kernels *K = kernels();
    const int C = s->in_c, O = s->out_c;
    const int O_r = (int)round_up((size_t)O, (size_t)K->wno);
    threads = clamp_threads(threads, s->batch);
    direct_layout L;
    layout_init(&L, s->in_h, s->in_w, s->stride, K->vl);
    /* the group and the per-thread scratch as sized by gs_conv_direct_workspace_floats */
    direct_layout L_max;
    layout_init(&L_max, s->in_h, s->in_w, s->stride, VL_MAX);
    const int group = wgrad_group_images(&L_max, C, O, s->batch);
    const size_t per_thread = wgrad_thread_floats(&L_max, C, O, group);
    const size_t packed_floats = (size_t)group * C * L.plane;
    const size_t grid_floats = (size_t)group * O_r * L.qlen;
    const size_t dw_floats = (size_t)O * C * 9;
    const size_t in_img = (size_t)C * s->in_h * s->in_w;
    const size_t out_img = (size_t)O * s->out_h * s->out_w;

#pragma omp parallel num_threads(threads)
    {
        const int t = omp_get_thread_num(), nt = omp_get_num_threads();
        float *packed = workspace + (size_t)t * per_thread;   /* (group, C, plane)    */
        float *doutg = packed + packed_floats;                 /* (group, O_r, qlen)   */
        float *dw_part = doutg + grid_floats;                  /* (O_r, C, 9)          */
        memset(packed, 0, sizeof(float) * (packed_floats + grid_floats));
        memset(dw_part, 0, sizeof(float) * (size_t)O_r * C * 9);
        const int first = (int)((long)s->batch * t / nt), last = (int)((long)s->batch * (t + 1) / nt);
        for (int b0 = first; b0 < last; b0 += group) {
            const int g_n = last - b0 < group ? last - b0 : group;
            for (int g = 0; g < g_n; g++) {
                pack_image(packed + (size_t)g * C * L.plane, in + (b0 + g) * in_img, &L, C);
                image_to_grid(doutg + (size_t)g * O_r * L.qlen, dout + (b0 + g) * out_img, &L, O, (size_t)L.qlen);
            }
            K->wgrad_group(dw_part, packed, doutg, (size_t)L.qlen, &L, g_n, C, O_r);
        }
#pragma omp barrier
        /* rows o < O of dw_part (O_r, C, 9) have dw's layout */
        gs_add_thread_partials(dw, workspace + packed_floats + grid_floats, per_thread, dw_floats, t, nt);
    }
}

/* ---- stride 1: both gradients in one pass ------------------------------------------- */

/* din (C, H, W) = Σ_o Σ_k w_flip[c][o][k] · dout[o] at tap k: a stride-1 same
 * convolution of dout (Ho = H, Wo = W) with w_flip[c][o][k] = w[o][c][8 − k].
 * dout is packed once per image, in the input layout of that convolution
 * (pitch P = W + 1, packed[(y + 1)·P + x + 1] = dout[y][x]).  Read from offset P + 1
 * that plane is the output grid the weight gradient takes: grid q = oy·P + ox lands on
 * packed[(oy + 1)·P + ox + 1], the dropped column ox = W on the next row's left
 * padding and q ≥ Ho·P on the bottom padding, all zero.  The douts start one float
 * short of a vector (lead) so that this grid view is vector-aligned. */
void gs_conv_direct_backward1(float *din, float *dw, const float *dout, const float *in, const float *w,
                              const float *mask, const gs_conv_shape *s, float *workspace, int threads)
{
    const direct_kernels *K = kernels();
    const int C = s->in_c, O = s->out_c, no = K->no;
    const int C_r = (int)round_up((size_t)C, (size_t)no);
    const int O_r = (int)round_up((size_t)O, (size_t)K->wno);
    threads = clamp_threads(threads, s->batch);
    direct_layout L;
    layout_init(&L, s->in_h, s->in_w, 1, K->vl);
    direct_layout L_max;
    layout_init(&L_max, s->in_h, s->in_w, 1, VL_MAX);
    const int group = wgrad_group_images(&L_max, C, O, s->batch);
    const size_t per_thread = backward1_thread_floats(&L_max, C, O, group);
    const size_t in_floats = (size_t)group * C * L.plane;
    const size_t dout_floats = (size_t)group * O_r * L.plane;
    const size_t grid_floats = (size_t)C_r * L.qlen;
    const size_t lead = (VL_MAX - (size_t)(L.pitch + 1) % VL_MAX) % VL_MAX;
    const size_t dw_floats = (size_t)O * C * 9;
    const size_t in_img = (size_t)C * s->in_h * s->in_w;
    const size_t out_img = (size_t)O * s->out_h * s->out_w;

    /* per thread: packed | lead | pdout | (VL_MAX − lead) | grid | dw_part */
    const size_t grid_at = in_floats + VL_MAX + dout_floats, dw_at = grid_at + grid_floats;
    float *wp = workspace;   /* (C_r / no, O, 9, no) */
    pack_flipped_weights(wp, w, C, O, no);
    float *scratch = workspace + backward1_shared_floats(C, O);

#pragma omp parallel num_threads(threads)
    {
        const int t = omp_get_thread_num(), nt = omp_get_num_threads();
        float *packed = scratch + (size_t)t * per_thread;   /* (group, C, plane)   */
        float *pdout = packed + in_floats + lead;            /* (group, O_r, plane) */
        float *grid = packed + grid_at;                      /* (C_r, qlen)         */
        float *dw_part = packed + dw_at;                     /* (O_r, C, 9)         */
        memset(packed, 0, sizeof(float) * (in_floats + lead + dout_floats));
        memset(dw_part, 0, sizeof(float) * (size_t)O_r * C * 9);
        const int first = (int)((long)s->batch * t / nt), last = (int)((long)s->batch * (t + 1) / nt);
        for (int b0 = first; b0 < last; b0 += group) {
            const int g_n = last - b0 < group ? last - b0 : group;
            for (int g = 0; g < g_n; g++) {
                pack_image(packed + (size_t)g * C * L.plane, in + (b0 + g) * in_img, &L, C);
                pack_image(pdout + (size_t)g * O_r * L.plane, dout + (b0 + g) * out_img, &L, O);
            }
            /* the grid view of the packed douts: (g_n, O_r, plane) from offset P + 1 */
            K->wgrad_group(dw_part, packed, pdout + L.pitch + 1, L.plane, &L, g_n, C, O_r);
            for (int g = 0; g < g_n; g++) {
                const int b = b0 + g;
                K->fwd_image(grid, pdout + (size_t)g * O_r * L.plane, wp, L.tap, 9, L.plane, (size_t)L.qlen, O,
                             C_r);
                grid_to_image(din + b * in_img, grid, mask ? mask + b * in_img : NULL, &L, C);
            }
        }
#pragma omp barrier
        gs_add_thread_partials(dw, scratch + dw_at, per_thread, dw_floats, t, nt);
    }
}
