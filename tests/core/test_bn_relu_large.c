/* Batch norm and relu on planes of realistic size against plain double loops.
 *
 * gs_batchnorm_forward_train and gs_batchnorm_backward reduce each channel in 16 double
 * partial sums across its planes, the forward's taken around the mean of the first
 * plane; this checks them against the textbook two-pass double computation on planes
 * longer than the partial sums (with a tail), with a large common offset
 * (cancellation) and with a plane whose gradient is near the float range (the double
 * sums must not overflow).  The fused output passes (GS_BN_RELU, GS_BN_ADD_RELU, also
 * in place) must give exactly the plain output followed by the separate ReLU / add.
 * relu backward must give 0 where the activation is 0 even when dout is not finite
 * there. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "gs_layers.h"
#include "gs_rng.h"
#include "gs_test.h"

static gs_rng rng;

/* The fused output passes against the plain output y of the same input x. */
static void check_bn_act(const float *x, const float *y, const float *g, const float *be, int B, int C, int HW)
{
    const size_t n = (size_t)B * C * HW;
    float *r = malloc(sizeof(float) * n), *out = malloc(sizeof(float) * n);
    float *mean = malloc(sizeof(float) * C), *invstd = malloc(sizeof(float) * C);
    float *rm = calloc(C, sizeof(float)), *rv = malloc(sizeof(float) * C);
    for (size_t i = 0; i < n; i++)
        r[i] = (float)gs_rng_normal(&rng);
    for (int c = 0; c < C; c++)
        rv[c] = 1.0f;
    size_t bad_relu = 0, bad_add = 0, bad_inplace = 0, bad_eval = 0;
    gs_batchnorm_forward_train_act(out, mean, invstd, rm, rv, x, g, be, B, C, HW, 0.1f, 1e-5f, GS_BN_RELU, NULL);
    for (size_t i = 0; i < n; i++)
        bad_relu += out[i] != (y[i] > 0.0f ? y[i] : 0.0f);
    gs_batchnorm_forward_train_act(out, mean, invstd, rm, rv, x, g, be, B, C, HW, 0.1f, 1e-5f, GS_BN_ADD_RELU, r);
    for (size_t i = 0; i < n; i++) {
        float v = y[i] + r[i];
        bad_add += out[i] != (v > 0.0f ? v : 0.0f);
    }
    /* in place over the residual, as a block's output may be written */
    float *r2 = malloc(sizeof(float) * n);
    memcpy(r2, r, sizeof(float) * n);
    gs_batchnorm_forward_train_act(r2, mean, invstd, rm, rv, x, g, be, B, C, HW, 0.1f, 1e-5f, GS_BN_ADD_RELU, r2);
    bad_inplace = (size_t)(memcmp(r2, out, sizeof(float) * n) != 0);
    /* eval with ReLU, in place over its input, against plain eval + max */
    float *e = malloc(sizeof(float) * n);
    gs_batchnorm_forward_eval(out, x, g, be, rm, rv, B, C, HW, 1e-5f);
    memcpy(e, x, sizeof(float) * n);
    gs_batchnorm_forward_eval_act(e, e, g, be, rm, rv, B, C, HW, 1e-5f, GS_BN_RELU, NULL);
    for (size_t i = 0; i < n; i++)
        bad_eval += e[i] != (out[i] > 0.0f ? out[i] : 0.0f);
    GS_CHECK(bad_relu == 0 && bad_add == 0 && bad_inplace == 0 && bad_eval == 0,
             "bn fused output B %d C %d HW %d: relu %zu, add+relu %zu, in place %zu, eval relu %zu wrong",
             B, C, HW, bad_relu, bad_add, bad_inplace, bad_eval);
    free(r); free(r2); free(out); free(e); free(mean); free(invstd); free(rm); free(rv);
}

static void check_bn(int B, int C, int HW, double offset, double scale, double dy_scale)
{
    const size_t n = (size_t)B * C * HW;
    float *x = malloc(sizeof(float) * n), *y = malloc(sizeof(float) * n);
    float *dy = malloc(sizeof(float) * n), *dx = malloc(sizeof(float) * n);
    float *g = malloc(sizeof(float) * C), *be = malloc(sizeof(float) * C);
    float *mean = malloc(sizeof(float) * C), *invstd = malloc(sizeof(float) * C);
    float *rm = calloc(C, sizeof(float)), *rv = malloc(sizeof(float) * C);
    float *dg = calloc(C, sizeof(float)), *db = calloc(C, sizeof(float));
    for (size_t i = 0; i < n; i++) {
        x[i] = (float)(offset + scale * gs_rng_normal(&rng));
        dy[i] = (float)(dy_scale * gs_rng_normal(&rng));
    }
    for (int c = 0; c < C; c++) {
        g[c] = (float)(1.0 + 0.1 * gs_rng_normal(&rng));
        be[c] = (float)(0.1 * gs_rng_normal(&rng));
        rv[c] = 1.0f;
    }
    gs_batchnorm_forward_train(y, mean, invstd, rm, rv, x, g, be, B, C, HW, 0.1f, 1e-5f);
    gs_batchnorm_backward(dx, dg, db, dy, x, mean, invstd, g, B, C, HW);

    double e_mean = 0, e_inv = 0, e_y = 0, e_dg = 0, e_db = 0, e_dx = 0;
    int finite = 1;
    const double cnt = (double)B * HW;
    for (int c = 0; c < C; c++) {
        double s = 0, ss = 0, sdy = 0, sdyx = 0;
        for (int b = 0; b < B; b++)
            for (int i = 0; i < HW; i++)
                s += x[((size_t)b * C + c) * HW + i];
        double mu = s / cnt;
        for (int b = 0; b < B; b++)
            for (int i = 0; i < HW; i++) {
                double d = x[((size_t)b * C + c) * HW + i] - mu;
                ss += d * d;
            }
        double inv = 1.0 / sqrt(ss / cnt + 1e-5);
        e_mean = fmax(e_mean, fabs(mean[c] - mu) / scale);
        e_inv = fmax(e_inv, fabs(invstd[c] - inv) / inv);
        for (int b = 0; b < B; b++)
            for (int i = 0; i < HW; i++) {
                size_t k = ((size_t)b * C + c) * HW + i;
                double want = g[c] * (x[k] - mu) * inv + be[c];
                e_y = fmax(e_y, fabs(y[k] - want));
                sdy += dy[k];
                sdyx += (double)dy[k] * (x[k] - mu) * inv;
            }
        e_dg = fmax(e_dg, fabs(dg[c] - sdyx) / (fabs(sdyx) + dy_scale * sqrt(cnt)));
        e_db = fmax(e_db, fabs(db[c] - sdy) / (fabs(sdy) + dy_scale * sqrt(cnt)));
        for (int b = 0; b < B; b++)
            for (int i = 0; i < HW; i++) {
                size_t k = ((size_t)b * C + c) * HW + i;
                double xh = (x[k] - mu) * inv;
                double want = g[c] * inv * (dy[k] - sdy / cnt - xh * sdyx / cnt);
                e_dx = fmax(e_dx, fabs(dx[k] - want) / (dy_scale * inv));
                finite = finite && isfinite(dx[k]);
            }
        finite = finite && isfinite(dg[c]) && isfinite(db[c]);
    }
    /* float data: the statistics of x = offset + scale·noise are good to about
     * 1e-7·offset/scale relative; everything else to a few float ulps */
    double tol_stat = 1e-6 * (1.0 + fabs(offset) / scale);
    GS_CHECK(e_mean < tol_stat && e_inv < tol_stat,
             "bn B %d C %d HW %d offset %g: mean, invstd vs double two-pass, err %.1e %.1e",
             B, C, HW, offset, e_mean, e_inv);
    GS_CHECK(e_y < 1e-4 * (1.0 + fabs(offset) / scale), "bn B %d C %d HW %d offset %g: out, err %.1e",
             B, C, HW, offset, e_y);
    /* backward works from the saved float mean: with an offset its rounding (half an
     * ulp of the offset) enters dgamma through Σ dy */
    double tol_dg = 1e-5 + 3e-8 * fabs(offset) / scale;
    GS_CHECK(finite && e_dg < tol_dg && e_db < 1e-5 && e_dx < 1e-4 * (1.0 + fabs(offset) / scale),
             "bn backward (dy scale %g): finite, dgamma %.1e, dbeta %.1e, dx %.1e", dy_scale, e_dg, e_db, e_dx);
    check_bn_act(x, y, g, be, B, C, HW);
    free(x); free(y); free(dy); free(dx); free(g); free(be); free(mean); free(invstd);
    free(rm); free(rv); free(dg); free(db);
}

static void check_relu(void)
{
    const size_t n = 1000;
    float *x = malloc(sizeof(float) * n), *y = malloc(sizeof(float) * n);
    float *dy = malloc(sizeof(float) * n), *dx = malloc(sizeof(float) * n);
    for (size_t i = 0; i < n; i++) {
        x[i] = (float)gs_rng_normal(&rng);
        dy[i] = i % 7 == 0 ? NAN : i % 11 == 0 ? INFINITY : (float)gs_rng_normal(&rng);
    }
    gs_relu_forward(y, x, n);
    gs_relu_backward(dx, dy, y, n);
    int bad = 0;
    for (size_t i = 0; i < n; i++) {
        if (y[i] > 0.0f)
            bad += !(dx[i] == dy[i] || (isnan(dx[i]) && isnan(dy[i])));
        else
            bad += dx[i] != 0.0f;
    }
    GS_CHECK(bad == 0, "relu backward: dout where out > 0 (NaN/inf passed through), 0 elsewhere (%d wrong)", bad);
    /* in place (din aliases dout) */
    memcpy(dx, dy, sizeof(float) * n);
    gs_relu_backward(dx, dx, y, n);
    bad = 0;
    for (size_t i = 0; i < n; i++)
        bad += y[i] > 0.0f ? !(dx[i] == dy[i] || (isnan(dx[i]) && isnan(dy[i]))) : dx[i] != 0.0f;
    GS_CHECK(bad == 0, "relu backward in place (%d wrong)", bad);
    free(x); free(y); free(dy); free(dx);
}

int main(void)
{
    gs_rng_seed(&rng, 99);
    check_bn(4, 3, 32 * 32, 0.0, 1.0, 1.0);
    check_bn(3, 2, 7 * 7, 0.5, 2.0, 1.0);          /* plane shorter than the tail split */
    check_bn(5, 2, 28 * 28 + 3, 1000.0, 1.0, 1.0);  /* a large common offset           */
    check_bn(2, 2, 16 * 16, 0.0, 1.0, 1e30);        /* dy near the float range          */
    check_relu();
    return gs_test_finish();
}
