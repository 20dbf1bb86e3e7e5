/* The direct 3x3 convolution against the im2col + sgemm path, on every conv shape the
 * ResNets use (32x32x3 and 28x28x1 inputs, widths 16/32/64, stride 1 and 2, stem,
 * basic and bottleneck blocks) plus batch 1, odd and non-square sizes, C ≠ O, O not a
 * multiple of the kernels' channel blocks, and the input gradient through a ReLU on
 * both paths; then finite differences on the direct path, determinism, the
 * accumulation of dw and the agreement of 1, 2 and 3 threads.
 *
 * The kernel set is the widest this CPU has; GS_CONV_DIRECT_ISA=avx2 selects the AVX2
 * one (meson registers the test for both).  Without any direct kernel the test skips. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "gs_conv_direct.h"
#include "gs_layers.h"
#include "gs_rng.h"
#include "gs_test.h"

static gs_rng rng;

static float *randn(size_t n, double scale)
{
    float *x = malloc(sizeof(float) * (n ? n : 1));
    for (size_t i = 0; i < n; i++)
        x[i] = (float)(scale * gs_rng_normal(&rng));
    return x;
}

/* ‖a − b‖∞ / ‖b‖∞ */
static double rel_err(const float *a, const float *b, size_t n)
{
    double diff = 0.0, mag = 0.0;
    for (size_t i = 0; i < n; i++) {
        diff = fmax(diff, fabs((double)a[i] - b[i]));
        mag = fmax(mag, fabs((double)b[i]));
    }
    return mag > 0 ? diff / mag : diff;
}

static int all_finite(const float *a, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isfinite(a[i]))
            return 0;
    return 1;
}

typedef struct conv_case {
    const char *what;
    int B, C, H, W, O, stride;
} conv_case;

typedef struct conv_bufs {
    gs_conv_shape s;
    size_t nx, nw, ny, nws;
    float *x, *w, *dy, *ws;
} conv_bufs;

static void bufs_init(conv_bufs *t, const conv_case *cc, int max_threads)
{
    gs_conv_shape_init(&t->s, cc->B, cc->C, cc->H, cc->W, cc->O, 3, cc->stride, 1);
    t->nx = (size_t)cc->B * cc->C * cc->H * cc->W;
    t->nw = (size_t)cc->O * cc->C * 9;
    t->ny = (size_t)cc->B * cc->O * t->s.out_h * t->s.out_w;
    t->x = randn(t->nx, 1.0);
    t->w = randn(t->nw, 0.3);
    t->dy = randn(t->ny, 1.0);
    t->nws = gs_conv2d_workspace_floats(&t->s, max_threads);
    /* the workspace holds garbage between calls in a model: start from NaNs */
    t->ws = malloc(sizeof(float) * (t->nws ? t->nws : 1));
    for (size_t i = 0; i < t->nws; i++)
        t->ws[i] = NAN;
}

static void bufs_free(conv_bufs *t)
{
    free(t->x); free(t->w); free(t->dy); free(t->ws);
}

/* forward, dx and dw with one algorithm; dw starts from `dw0` (accumulation). */
static void run(const conv_bufs *t, gs_conv_algo algo, int threads, float *y, float *dx, float *dw,
                const float *dw0)
{
    memcpy(dw, dw0, sizeof(float) * t->nw);
    gs_conv2d_forward_algo(y, t->x, t->w, &t->s, t->ws, threads, algo);
    gs_conv2d_backward_algo(dx, dw, t->dy, t->x, t->w, &t->s, t->ws, threads, algo);
}

static void test_against_im2col(const conv_case *cc)
{
    conv_bufs t;
    bufs_init(&t, cc, 3);
    const char *algo = gs_conv_algo_name(&t.s, GS_CONV_ALGO_DIRECT);
    float *y_ref = malloc(sizeof(float) * t.ny), *y = malloc(sizeof(float) * t.ny);
    float *dx_ref = malloc(sizeof(float) * t.nx), *dx = malloc(sizeof(float) * t.nx);
    float *dw_ref = malloc(sizeof(float) * t.nw), *dw = malloc(sizeof(float) * t.nw);
    float *dw0 = randn(t.nw, 1.0);   /* dw accumulates onto what is there */
    run(&t, GS_CONV_ALGO_IM2COL, 2, y_ref, dx_ref, dw_ref, dw0);
    run(&t, GS_CONV_ALGO_DIRECT, 2, y, dx, dw, dw0);

    /* dw − dw0 is the gradient proper: compare that, not the sum with dw0 */
    for (size_t i = 0; i < t.nw; i++) {
        dw_ref[i] -= dw0[i];
        dw[i] -= dw0[i];
    }
    double ey = rel_err(y, y_ref, t.ny), ex = rel_err(dx, dx_ref, t.nx), ew = rel_err(dw, dw_ref, t.nw);
    int finite = all_finite(y, t.ny) && all_finite(dx, t.nx) && all_finite(dw, t.nw);
    GS_CHECK(!strcmp(algo, "direct"), "%s: B %d C %d %dx%d → O %d stride %d runs the direct kernels (%s)",
             cc->what, cc->B, cc->C, cc->H, cc->W, cc->O, cc->stride, algo);
    GS_CHECK(finite && ey <= 1e-5 && ex <= 1e-5 && ew <= 1e-5,
             "%s: direct = im2col, rel err out %.1e, dx %.1e, dw %.1e", cc->what, ey, ex, ew);

    /* the same numbers again (deterministic), and with 1 and 3 threads */
    float *y2 = malloc(sizeof(float) * t.ny), *dx2 = malloc(sizeof(float) * t.nx);
    float *dw2 = malloc(sizeof(float) * t.nw);
    run(&t, GS_CONV_ALGO_DIRECT, 2, y2, dx2, dw2, dw0);
    for (size_t i = 0; i < t.nw; i++)
        dw2[i] -= dw0[i];
    int same = !memcmp(y, y2, sizeof(float) * t.ny) && !memcmp(dx, dx2, sizeof(float) * t.nx) &&
               !memcmp(dw, dw2, sizeof(float) * t.nw);
    GS_CHECK(same, "%s: direct results identical run to run (2 threads)", cc->what);
    double et = 0.0;
    for (int threads = 1; threads <= 3; threads += 2) {
        run(&t, GS_CONV_ALGO_DIRECT, threads, y2, dx2, dw2, dw0);
        for (size_t i = 0; i < t.nw; i++)
            dw2[i] -= dw0[i];
        et = fmax(et, fmax(rel_err(y2, y, t.ny), fmax(rel_err(dx2, dx, t.nx), rel_err(dw2, dw, t.nw))));
        /* outputs and dx do not depend on the split of the images at all */
        same = !memcmp(y, y2, sizeof(float) * t.ny) && !memcmp(dx, dx2, sizeof(float) * t.nx);
        GS_CHECK(same, "%s: out and dx bit-identical with %d threads", cc->what, threads);
    }
    GS_CHECK(et <= 1e-5, "%s: 1, 2 and 3 threads agree, rel err %.1e", cc->what, et);

    free(y_ref); free(y); free(dx_ref); free(dx); free(dw_ref); free(dw); free(dw0);
    free(y2); free(dx2); free(dw2);
    bufs_free(&t);
}

/* Finite differences of L = Σ r ⊙ conv(x; w) on the direct path: conv is linear in x
 * and in w, so the central difference is exact up to rounding. */
/* The input gradient through a ReLU (din_through_relu): on an input that is a ReLU's
 * output (half zeros) it must equal the plain backward followed by gs_relu_backward,
 * bit for bit, on both paths. */
static void test_through_relu(const conv_case *cc)
{
    conv_bufs t;
    bufs_init(&t, cc, 2);
    for (size_t i = 0; i < t.nx; i++)
        t.x[i] = t.x[i] > 0.0f ? t.x[i] : 0.0f;
    float *want = malloc(sizeof(float) * t.nx), *got = malloc(sizeof(float) * t.nx);
    float *dw = calloc(t.nw, sizeof(float));
    static const gs_conv_algo algos[2] = {GS_CONV_ALGO_DIRECT, GS_CONV_ALGO_IM2COL};
    size_t wrong[2] = {0, 0}, zeros = 0;
    for (int a = 0; a < 2; a++) {
        gs_conv2d_backward_algo(want, dw, t.dy, t.x, t.w, &t.s, t.ws, 2, algos[a]);
        gs_relu_backward(want, want, t.x, t.nx);
        for (size_t i = 0; i < t.nx; i++)
            got[i] = NAN;
        gs_conv2d_backward_ex(got, dw, t.dy, t.x, t.w, &t.s, t.ws, 2, algos[a], 1);
        for (size_t i = 0; i < t.nx; i++)
            wrong[a] += memcmp(&got[i], &want[i], sizeof(float)) != 0;
    }
    for (size_t i = 0; i < t.nx; i++)
        zeros += t.x[i] == 0.0f;
    GS_CHECK(wrong[0] == 0 && wrong[1] == 0 && zeros > 0,
             "%s: din through a ReLU = backward then relu backward (direct %zu, im2col %zu of %zu wrong; "
             "%zu masked)", cc->what, wrong[0], wrong[1], t.nx, zeros);
    free(want); free(got); free(dw);
    bufs_free(&t);
}

static double direct_loss(const conv_bufs *t, float *y)
{
    gs_conv2d_forward_algo(y, t->x, t->w, &t->s, t->ws, 2, GS_CONV_ALGO_DIRECT);
    double l = 0.0;
    for (size_t i = 0; i < t->ny; i++)
        l += (double)y[i] * t->dy[i];
    return l;
}

static void test_finite_differences(const conv_case *cc)
{
    conv_bufs t;
    bufs_init(&t, cc, 2);
    float *y = malloc(sizeof(float) * t.ny), *dx = malloc(sizeof(float) * t.nx);
    float *dw = calloc(t.nw, sizeof(float));
    gs_conv2d_backward_algo(dx, dw, t.dy, t.x, t.w, &t.s, t.ws, 2, GS_CONV_ALGO_DIRECT);
    const float h = 1e-2f;
    double worst_x = 0.0, worst_w = 0.0;
    for (size_t i = 0; i < t.nx; i += 1 + t.nx / 101) {
        float keep = t.x[i];
        t.x[i] = keep + h;
        double lp = direct_loss(&t, y);
        t.x[i] = keep - h;
        double lm = direct_loss(&t, y);
        t.x[i] = keep;
        double num = (lp - lm) / (2 * h);
        worst_x = fmax(worst_x, fabs(dx[i] - num) / (fabs(dx[i]) + fabs(num) + 1e-3));
    }
    for (size_t i = 0; i < t.nw; i += 1 + t.nw / 101) {
        float keep = t.w[i];
        t.w[i] = keep + h;
        double lp = direct_loss(&t, y);
        t.w[i] = keep - h;
        double lm = direct_loss(&t, y);
        t.w[i] = keep;
        double num = (lp - lm) / (2 * h);
        worst_w = fmax(worst_w, fabs(dw[i] - num) / (fabs(dw[i]) + fabs(num) + 1e-3));
    }
    GS_CHECK(worst_x < 1e-3 && worst_w < 1e-3,
             "%s: direct dx, dw vs finite differences, worst %.1e, %.1e", cc->what, worst_x, worst_w);
    free(y); free(dx); free(dw);
    bufs_free(&t);
}

int main(void)
{
    const char *isa;
    if (!gs_conv_direct_available(&isa)) {
        printf("1..0 # SKIP no direct convolution kernel for this CPU (%s)\n", isa);
        return 0;
    }
    printf("# direct kernels: %s\n", isa);
    gs_rng_seed(&rng, 4321);

    static const conv_case shapes[] = {
        /* 32x32x3 ResNets (basic: 16/32/64; bottleneck 3x3 convs have the same shapes) */
        {"stem 3→16 32x32", 4, 3, 32, 32, 16, 1},
        {"stage1 16→16 32x32", 4, 16, 32, 32, 16, 1},
        {"stage2 in 16→32 32x32 s2", 4, 16, 32, 32, 32, 2},
        {"stage2 32→32 16x16", 4, 32, 16, 16, 32, 1},
        {"stage2 in 32→32 32x32 s2 (bottleneck)", 2, 32, 32, 32, 32, 2},
        {"stage3 in 32→64 16x16 s2", 4, 32, 16, 16, 64, 2},
        {"stage3 64→64 8x8", 8, 64, 8, 8, 64, 1},
        /* 28x28x1 */
        {"stem 1→16 28x28", 4, 1, 28, 28, 16, 1},
        {"stage1 16→16 28x28", 4, 16, 28, 28, 16, 1},
        {"stage2 in 16→32 28x28 s2", 4, 16, 28, 28, 32, 2},
        {"stage2 32→32 14x14", 4, 32, 14, 14, 32, 1},
        {"stage3 in 32→64 14x14 s2", 4, 32, 14, 14, 64, 2},
        {"stage3 64→64 7x7", 8, 64, 7, 7, 64, 1},
        /* width ×2 */
        {"wide 32→32 32x32", 2, 32, 32, 32, 32, 1},
        {"wide 128→128 8x8", 2, 128, 8, 8, 128, 1},
        /* edges: batch 1, odd / non-square sizes, C ≠ O, O and C not multiples of 4 */
        {"batch 1 16→16 32x32", 1, 16, 32, 32, 16, 1},
        {"batch 1 16→32 28x28 s2", 1, 16, 28, 28, 32, 2},
        {"odd 5→7 7x7", 3, 5, 7, 7, 7, 1},
        {"odd 5→7 7x7 s2", 3, 5, 7, 7, 7, 2},
        {"non-square 3→6 5x9", 2, 3, 5, 9, 6, 1},
        {"non-square 3→6 9x5 s2", 2, 3, 9, 5, 6, 2},
        {"tiny 1→1 1x1", 2, 1, 1, 1, 1, 1},
        {"tiny 2→3 2x3 s2", 3, 2, 2, 3, 3, 2},
        {"wide row 4→4 3x40", 2, 4, 3, 40, 4, 1},
    };
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
        test_against_im2col(&shapes[i]);
        test_through_relu(&shapes[i]);
    }

    static const conv_case fd_shapes[] = {
        {"fd 3→4 6x6", 2, 3, 6, 6, 4, 1},
        {"fd 3→5 7x7 s2", 2, 3, 7, 7, 5, 2},
        {"fd 4→6 8x8 s2", 1, 4, 8, 8, 6, 2},
        {"fd 2→3 5x7", 3, 2, 5, 7, 3, 1},
    };
    for (size_t i = 0; i < sizeof fd_shapes / sizeof fd_shapes[0]; i++)
        test_finite_differences(&fd_shapes[i]);
    return gs_test_finish();
}
