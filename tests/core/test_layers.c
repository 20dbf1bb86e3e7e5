/* Finite-difference checks of every layer's backward.
 *
 * For a layer y = f(x; w) and a fixed random r, the scalar L = Σ r ⊙ f(x; w) has
 * ∂L/∂x = backward(dout = r).  Each analytic entry is compared with the central
 * difference (L(x + h) − L(x − h)) / 2h evaluated in double from float forwards. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "gs_layers.h"
#include "gs_rng.h"
#include "gs_test.h"

static gs_rng rng;

static float *randn(size_t n, double scale)
{
    float *x = malloc(sizeof(float) * n);
    for (size_t i = 0; i < n; i++)
        x[i] = (float)(scale * gs_rng_normal(&rng));
    return x;
}

static double dot(const float *a, const float *b, size_t n)
{
    double s = 0.0;
    for (size_t i = 0; i < n; i++)
        s += (double)a[i] * b[i];
    return s;
}

/* Worst relative disagreement between analytic and numeric gradients. */
typedef struct fd_tally {
    double worst;
} fd_tally;

static void fd_compare(fd_tally *t, double analytic, double numeric)
{
    double err = fabs(analytic - numeric) / (fabs(analytic) + fabs(numeric) + 1e-3);
    if (err > t->worst)
        t->worst = err;
}

/* ---- conv ---------------------------------------------------------------------- */

typedef struct conv_case {
    int B, C, H, W, O, K, stride;
} conv_case;

static double conv_loss(const float *x, const float *w, const float *r, const gs_conv_shape *s,
                        float *out, float *ws)
{
    gs_conv2d_forward(out, x, w, s, ws, 2);
    return dot(out, r, (size_t)s->batch * s->out_c * s->out_h * s->out_w);
}

static void test_conv(const conv_case *cc)
{
    gs_conv_shape s;
    gs_conv_shape_init(&s, cc->B, cc->C, cc->H, cc->W, cc->O, cc->K, cc->stride, cc->K / 2);
    size_t nx = (size_t)cc->B * cc->C * cc->H * cc->W, nw = (size_t)cc->O * cc->C * cc->K * cc->K;
    size_t ny = (size_t)cc->B * cc->O * s.out_h * s.out_w;
    float *x = randn(nx, 1.0), *w = randn(nw, 0.5), *r = randn(ny, 1.0);
    float *out = malloc(sizeof(float) * ny), *dx = malloc(sizeof(float) * nx);
    float *dw = calloc(nw, sizeof(float));
    size_t wsn = gs_conv2d_workspace_floats(&s, 3);
    float *ws = malloc(sizeof(float) * (wsn ? wsn : 1));

    gs_conv2d_backward(dx, dw, r, x, w, &s, ws, 2);
    /* the weight gradient accumulates: a second call must double it */
    float *dw2 = malloc(sizeof(float) * nw);
    memcpy(dw2, dw, sizeof(float) * nw);
    gs_conv2d_backward(dx, dw2, r, x, w, &s, ws, 2);
    /* the same gradients with 1 and 3 threads (per-thread partial sums of dw) */
    float *dw1 = calloc(nw, sizeof(float)), *dw3 = calloc(nw, sizeof(float));
    float *dx1 = malloc(sizeof(float) * nx), *dx3 = malloc(sizeof(float) * nx);
    gs_conv2d_backward(dx1, dw1, r, x, w, &s, ws, 1);
    gs_conv2d_backward(dx3, dw3, r, x, w, &s, ws, 3);
    double thread_err = 0.0;
    for (size_t i = 0; i < nw; i++)
        thread_err = fmax(thread_err, fmax(fabs(dw1[i] - dw[i]), fabs(dw3[i] - dw[i])));
    for (size_t i = 0; i < nx; i++)
        thread_err = fmax(thread_err, fmax(fabs(dx1[i] - dx[i]), fabs(dx3[i] - dx[i])));
    GS_CHECK(thread_err < 1e-5, "conv %dx%d stride %d: 1, 2 and 3 threads agree, err %.2e",
             cc->K, cc->K, cc->stride, thread_err);
    free(dw1); free(dw3); free(dx1); free(dx3);
    double acc_err = 0.0;
    for (size_t i = 0; i < nw; i++)
        acc_err = fmax(acc_err, fabs(dw2[i] - 2.0f * dw[i]));

    const float h = 1e-2f;   /* conv is linear: the difference is exact up to rounding */
    fd_tally tx = {0}, tw = {0};
    for (size_t i = 0; i < nx; i += 1 + nx / 97) {
        float keep = x[i];
        x[i] = keep + h;
        double lp = conv_loss(x, w, r, &s, out, ws);
        x[i] = keep - h;
        double lm = conv_loss(x, w, r, &s, out, ws);
        x[i] = keep;
        fd_compare(&tx, dx[i], (lp - lm) / (2 * h));
    }
    for (size_t i = 0; i < nw; i += 1 + nw / 97) {
        float keep = w[i];
        w[i] = keep + h;
        double lp = conv_loss(x, w, r, &s, out, ws);
        w[i] = keep - h;
        double lm = conv_loss(x, w, r, &s, out, ws);
        w[i] = keep;
        fd_compare(&tw, dw[i], (lp - lm) / (2 * h));
    }
    GS_CHECK(tx.worst < 1e-3, "conv %dx%d stride %d (C %d→O %d, %dx%d): dx vs finite differences, worst %.2e",
             cc->K, cc->K, cc->stride, cc->C, cc->O, cc->H, cc->W, tx.worst);
    GS_CHECK(tw.worst < 1e-3, "conv %dx%d stride %d: dw vs finite differences, worst %.2e",
             cc->K, cc->K, cc->stride, tw.worst);
    GS_CHECK(acc_err < 1e-4, "conv %dx%d stride %d: dw accumulates (+=), err %.2e",
             cc->K, cc->K, cc->stride, acc_err);
    free(x); free(w); free(r); free(out); free(dx); free(dw); free(dw2); free(ws);
}

/* ---- batch norm -------------------------------------------------------------------- */

static double bn_loss(const float *x, const float *g, const float *b, const float *r, int B, int C, int HW,
                      float *out)
{
    float mean[16], invstd[16], rm[16] = {0}, rv[16] = {0};
    gs_batchnorm_forward_train(out, mean, invstd, rm, rv, x, g, b, B, C, HW, 0.1f, 1e-5f);
    return dot(out, r, (size_t)B * C * HW);
}

static void test_batchnorm(void)
{
    const int B = 3, C = 4, HW = 5;
    size_t n = (size_t)B * C * HW;
    float *x = randn(n, 2.0), *r = randn(n, 1.0), *g = randn(C, 1.0), *b = randn(C, 1.0);
    float *out = malloc(sizeof(float) * n), *dx = malloc(sizeof(float) * n);
    float dg[4] = {0}, db[4] = {0}, mean[4], invstd[4], rm[4] = {0}, rv[4] = {1, 1, 1, 1};
    gs_batchnorm_forward_train(out, mean, invstd, rm, rv, x, g, b, B, C, HW, 0.1f, 1e-5f);
    gs_batchnorm_backward(dx, dg, db, r, x, mean, invstd, g, B, C, HW);

    /* running statistics: momentum 0.1, unbiased variance */
    double worst_run = 0.0;
    for (int c = 0; c < C; c++) {
        double s = 0, ss = 0, cnt = B * HW;
        for (int bb = 0; bb < B; bb++)
            for (int i = 0; i < HW; i++)
                s += x[((size_t)bb * C + c) * HW + i];
        double mu = s / cnt;
        for (int bb = 0; bb < B; bb++)
            for (int i = 0; i < HW; i++) {
                double d = x[((size_t)bb * C + c) * HW + i] - mu;
                ss += d * d;
            }
        worst_run = fmax(worst_run, fabs(rm[c] - 0.1 * mu));
        worst_run = fmax(worst_run, fabs(rv[c] - (0.9 + 0.1 * ss / (cnt - 1))));
    }
    GS_CHECK(worst_run < 1e-5, "batchnorm running mean/var (momentum 0.1, unbiased var), err %.2e", worst_run);

    const float h = 1e-2f;
    fd_tally tx = {0}, tg = {0}, tb = {0};
    for (size_t i = 0; i < n; i++) {
        float keep = x[i];
        x[i] = keep + h;
        double lp = bn_loss(x, g, b, r, B, C, HW, out);
        x[i] = keep - h;
        double lm = bn_loss(x, g, b, r, B, C, HW, out);
        x[i] = keep;
        fd_compare(&tx, dx[i], (lp - lm) / (2 * h));
    }
    for (int c = 0; c < C; c++) {
        float keep = g[c];
        g[c] = keep + h;
        double lp = bn_loss(x, g, b, r, B, C, HW, out);
        g[c] = keep - h;
        double lm = bn_loss(x, g, b, r, B, C, HW, out);
        g[c] = keep;
        fd_compare(&tg, dg[c], (lp - lm) / (2 * h));
        keep = b[c];
        b[c] = keep + h;
        lp = bn_loss(x, g, b, r, B, C, HW, out);
        b[c] = keep - h;
        lm = bn_loss(x, g, b, r, B, C, HW, out);
        b[c] = keep;
        fd_compare(&tb, db[c], (lp - lm) / (2 * h));
    }
    GS_CHECK(tx.worst < 2e-3, "batchnorm dx vs finite differences, worst %.2e", tx.worst);
    GS_CHECK(tg.worst < 2e-3, "batchnorm dgamma vs finite differences, worst %.2e", tg.worst);
    GS_CHECK(tb.worst < 2e-3, "batchnorm dbeta vs finite differences, worst %.2e", tb.worst);

    /* eval mode uses the running statistics */
    float rmean[4] = {0.5f, -1, 0, 2}, rvar[4] = {4, 1, 0.25f, 9};
    gs_batchnorm_forward_eval(out, x, g, b, rmean, rvar, B, C, HW, 1e-5f);
    double worst_eval = 0.0;
    for (int bb = 0; bb < B; bb++)
        for (int c = 0; c < C; c++)
            for (int i = 0; i < HW; i++) {
                size_t k = ((size_t)bb * C + c) * HW + i;
                double want = g[c] * (x[k] - rmean[c]) / sqrt(rvar[c] + 1e-5) + b[c];
                worst_eval = fmax(worst_eval, fabs(out[k] - want));
            }
    GS_CHECK(worst_eval < 1e-5, "batchnorm eval uses running statistics, err %.2e", worst_eval);
    free(x); free(r); free(g); free(b); free(out); free(dx);
}

/* ---- relu, pool, linear, loss -------------------------------------------------------- */

static void test_relu_pool_linear(void)
{
    /* relu */
    const size_t n = 50;
    float *x = randn(n, 1.0), *r = randn(n, 1.0), *y = malloc(sizeof(float) * n), *dx = malloc(sizeof(float) * n);
    gs_relu_forward(y, x, n);
    gs_relu_backward(dx, r, y, n);
    int bad = 0;
    for (size_t i = 0; i < n; i++)
        bad += dx[i] != (x[i] > 0 ? r[i] : 0.0f) || y[i] != (x[i] > 0 ? x[i] : 0.0f);
    GS_CHECK(bad == 0, "relu forward/backward (%d mismatches)", bad);

    /* avgpool */
    const int B = 2, C = 3, HW = 4;
    float *px = randn((size_t)B * C * HW, 1.0), pr[6], po[6], pdx[24];
    for (int i = 0; i < B * C; i++)
        pr[i] = (float)gs_rng_normal(&rng);
    gs_avgpool_forward(po, px, B, C, HW);
    gs_avgpool_backward(pdx, pr, B, C, HW);
    double perr = 0.0;
    for (int bc = 0; bc < B * C; bc++) {
        double s = 0;
        for (int i = 0; i < HW; i++) {
            s += px[bc * HW + i];
            perr = fmax(perr, fabs(pdx[bc * HW + i] - pr[bc] / HW));
        }
        perr = fmax(perr, fabs(po[bc] - s / HW));
    }
    GS_CHECK(perr < 1e-6, "avgpool forward/backward, err %.2e", perr);

    /* linear */
    const int I = 7, O = 5;
    float *lx = randn((size_t)B * I, 1.0), *lw = randn((size_t)O * I, 1.0), *lb = randn(O, 1.0);
    float *lr = randn((size_t)B * O, 1.0), lo[10], ldx[14], ldw[35] = {0}, ldb[5] = {0};
    gs_linear_backward(ldx, ldw, ldb, lr, lx, lw, B, I, O);
    const float h = 1e-2f;
    fd_tally tx = {0}, tw = {0}, tb = {0};
    float *targets[3] = {lx, lw, lb};
    float *grads[3] = {ldx, ldw, ldb};
    size_t sizes[3] = {(size_t)B * I, (size_t)O * I, (size_t)O};
    fd_tally *tallies[3] = {&tx, &tw, &tb};
    for (int t = 0; t < 3; t++)
        for (size_t i = 0; i < sizes[t]; i++) {
            float keep = targets[t][i];
            targets[t][i] = keep + h;
            gs_linear_forward(lo, lx, lw, lb, B, I, O);
            double lp = dot(lo, lr, (size_t)B * O);
            targets[t][i] = keep - h;
            gs_linear_forward(lo, lx, lw, lb, B, I, O);
            double lm = dot(lo, lr, (size_t)B * O);
            targets[t][i] = keep;
            fd_compare(tallies[t], grads[t][i], (lp - lm) / (2 * h));
        }
    GS_CHECK(tx.worst < 1e-3 && tw.worst < 1e-3 && tb.worst < 1e-3,
             "linear dx/dw/db vs finite differences, worst %.2e %.2e %.2e", tx.worst, tw.worst, tb.worst);

    /* softmax cross-entropy */
    const int K = 6;
    float *z = randn((size_t)B * K, 2.0), dz[12];
    int32_t labels[2] = {3, 0};
    int correct = -1;
    double loss = gs_softmax_xent(dz, &correct, z, labels, B, K);
    double want = 0.0;
    int want_correct = 0;
    for (int b = 0; b < B; b++) {
        double s = 0;
        int am = 0;
        for (int k = 0; k < K; k++) {
            s += exp(z[b * K + k]);
            if (z[b * K + k] > z[b * K + am])
                am = k;
        }
        want += (log(s) - z[b * K + labels[b]]) / B;
        want_correct += am == labels[b];
    }
    GS_CHECK(fabs(loss - want) < 1e-6 && correct == want_correct,
             "softmax cross-entropy value %.6f (want %.6f), correct %d (want %d)", loss, want, correct, want_correct);
    fd_tally tz = {0};
    const float hz = 1e-3f;
    for (int i = 0; i < B * K; i++) {
        float keep = z[i];
        z[i] = keep + hz;
        double lp = gs_softmax_xent(NULL, NULL, z, labels, B, K);
        z[i] = keep - hz;
        double lm = gs_softmax_xent(NULL, NULL, z, labels, B, K);
        z[i] = keep;
        fd_compare(&tz, dz[i], (lp - lm) / (2 * hz));
    }
    GS_CHECK(tz.worst < 1e-3, "softmax cross-entropy dlogits vs finite differences, worst %.2e", tz.worst);
    free(x); free(r); free(y); free(dx); free(px); free(lx); free(lw); free(lb); free(lr); free(z);
}

int main(void)
{
    gs_rng_seed(&rng, 1234);
    static const conv_case cases[] = {
        {2, 3, 6, 6, 4, 3, 1},
        {2, 3, 7, 7, 5, 3, 2},
        {2, 4, 5, 5, 3, 1, 1},
        {2, 4, 6, 6, 6, 1, 2},
        {1, 2, 4, 5, 3, 3, 1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        test_conv(&cases[i]);
    test_batchnorm();
    test_relu_pool_linear();
    return gs_test_finish();
}
