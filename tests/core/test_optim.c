/* Optimizers, schedules, gradient transforms and histogram bins against direct
 * evaluations of their definitions. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "gs_gradstats.h"
#include "gs_optim.h"
#include "gs_rng.h"
#include "gs_test.h"

static gs_param make_param(float *data, float *grad, int ndim, const int *shape)
{
    gs_param p;
    memset(&p, 0, sizeof p);
    p.ndim = ndim;
    p.numel = 1;
    for (int i = 0; i < ndim; i++) {
        p.shape[i] = shape[i];
        p.numel *= (size_t)shape[i];
    }
    p.data = data;
    p.grad = grad;
    return p;
}

static void test_transforms(void)
{
    char err[256];
    gs_transform t;
    GS_CHECK(gs_transform_parse(&t, "znorm", err, sizeof err) == 0 && t.kind == GS_TRANSFORM_ZNORM &&
             t.znorm_eps == 1e-8f, "parse znorm (eps 1e-8)");
    GS_CHECK(gs_transform_parse(&t, "clip-norm:2.5", err, sizeof err) == 0 && t.threshold == 2.5f, "parse clip-norm:2.5");
    const char *bad[] = {"clip-norm:", "clip-norm:-1", "clip-value:abc", "zscore", "clip-norm:nan"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        GS_CHECK(gs_transform_parse(&t, bad[i], err, sizeof err) == -1 && strstr(err, "--transform"),
                 "bad transform '%s' refused: %s", bad[i], err);

    /* znorm: mean 0, population std ≈ 1; one-element and constant tensors give 0, not NaN */
    float g1[6] = {1, 2, 3, 4, 5, 10}, one[1] = {3.5f}, flat[4] = {2, 2, 2, 2};
    int s6[2] = {2, 3}, s1[1] = {1}, s4[1] = {4};
    gs_param ps[3] = {make_param(NULL, g1, 2, s6), make_param(NULL, one, 1, s1), make_param(NULL, flat, 1, s4)};
    gs_transform_parse(&t, "znorm", err, sizeof err);
    gs_transform_apply(&t, ps, 3);
    double mean = 0, var = 0;
    for (int i = 0; i < 6; i++)
        mean += g1[i] / 6.0;
    for (int i = 0; i < 6; i++)
        var += (g1[i] - mean) * (g1[i] - mean) / 6.0;
    GS_CHECK(fabs(mean) < 1e-6 && fabs(var - 1.0) < 1e-5, "znorm: mean %.2e, var %.6f", mean, var);
    GS_CHECK(one[0] == 0.0f && flat[0] == 0.0f && flat[3] == 0.0f, "znorm: one-element and constant tensors → 0, no NaN");
    float g_first = (1.0f - 25.0f / 6.0f) / (float)(sqrt((1 + 4 + 9 + 16 + 25 + 100) / 6.0 - (25.0 / 6) * (25.0 / 6)) + 1e-8);
    float g0[6] = {1, 2, 3, 4, 5, 10};
    gs_param p0 = make_param(NULL, g0, 2, s6);
    gs_transform_apply(&t, &p0, 1);
    GS_CHECK(fabsf(g0[0] - g_first) < 1e-5f, "znorm element value %.6f (want %.6f)", g0[0], g_first);

    /* znorm scope multidim leaves 1-D tensors alone */
    float v1[3] = {1, 2, 4};
    int s3[1] = {3};
    gs_param pv = make_param(NULL, v1, 1, s3);
    t.znorm_multidim_only = 1;
    gs_transform_apply(&t, &pv, 1);
    GS_CHECK(v1[0] == 1 && v1[1] == 2 && v1[2] == 4, "znorm scope multidim skips 1-D tensors");

    /* gc: each output row of a >1-D tensor centred, 1-D untouched */
    float gc[6] = {1, 2, 6, -1, 0, 4}, b1[2] = {5, 7};
    int sh[2] = {2, 3}, sb[1] = {2};
    gs_param pg[2] = {make_param(NULL, gc, 2, sh), make_param(NULL, b1, 1, sb)};
    gs_transform_parse(&t, "gc", err, sizeof err);
    gs_transform_apply(&t, pg, 2);
    GS_CHECK(fabsf(gc[0] + 2) < 1e-6f && fabsf(gc[2] - 3) < 1e-6f && fabsf(gc[3] + 2) < 1e-6f &&
             fabsf(gc[5] - 3) < 1e-6f && b1[0] == 5 && b1[1] == 7, "gc centres rows of 2-D tensors only");

    /* clip-norm: ‖(3, 4)‖ = 5 → scaled to T/(5 + 1e-6) */
    float c2[2] = {3, 4};
    int s2[1] = {2};
    gs_param pc = make_param(NULL, c2, 1, s2);
    gs_transform_parse(&t, "clip-norm:1", err, sizeof err);
    gs_transform_apply(&t, &pc, 1);
    GS_CHECK(fabs(c2[0] - 3.0 / (5 + 1e-6)) < 1e-6 && fabs(c2[1] - 4.0 / (5 + 1e-6)) < 1e-6, "clip-norm scales to T");
    float c3[2] = {0.3f, -0.4f};
    gs_param pc3 = make_param(NULL, c3, 1, s2);
    gs_transform_apply(&t, &pc3, 1);
    GS_CHECK(c3[0] == 0.3f && c3[1] == -0.4f, "clip-norm leaves small gradients alone");
    float cv[3] = {-3, 0.5f, 2};
    gs_param pcv = make_param(NULL, cv, 1, s3);
    gs_transform_parse(&t, "clip-value:1", err, sizeof err);
    gs_transform_apply(&t, &pcv, 1);
    GS_CHECK(cv[0] == -1 && cv[1] == 0.5f && cv[2] == 1, "clip-value clamps");
}

static void test_optimizers(void)
{
    /* SGD momentum 0.9, wd 0.1, two steps, by hand */
    gs_optim o;
    gs_optim_config c = {.kind = GS_OPTIM_SGD, .lr = 0.5f, .momentum = 0.9f, .weight_decay = 0.1f};
    gs_optim_init(&o, &c, 1);
    float w = 1.0f, g = 2.0f;
    gs_optim_step(&o, &w, &g, 0.5f);       /* d = 2.1, buf = 2.1, w = 1 − 1.05 = −0.05 */
    gs_optim_step(&o, &w, &g, 0.5f);       /* d = 2 − 0.005 = 1.995, buf = 1.89 + 1.995 = 3.885, w = −0.05 − 1.9425 */
    GS_CHECK(fabsf(w - (-1.9925f)) < 1e-5f, "sgd momentum+wd two steps: w = %.6f (want -1.9925)", w);
    gs_optim_free(&o);
    c.nesterov = 1;
    gs_optim_init(&o, &c, 1);
    w = 1.0f;
    gs_optim_step(&o, &w, &g, 0.5f);       /* d = 2.1, buf = 2.1, d = 2.1 + 1.89 = 3.99, w = 1 − 1.995 */
    GS_CHECK(fabsf(w - (-0.995f)) < 1e-5f, "sgd nesterov step: w = %.6f (want -0.995)", w);
    gs_optim_free(&o);

    /* Adam first step moves every weight by lr·sign(g) (bias correction), AdamW decays first */
    gs_optim_config a = {.kind = GS_OPTIM_ADAM, .lr = 0.01f, .beta1 = 0.9f, .beta2 = 0.999f, .eps = 1e-8f};
    gs_optim_init(&o, &a, 2);
    float wa[2] = {1, 1}, ga[2] = {0.3f, -5};
    gs_optim_step(&o, wa, ga, 0.01f);
    GS_CHECK(fabsf(wa[0] - 0.99f) < 1e-6f && fabsf(wa[1] - 1.01f) < 1e-6f, "adam first step = lr·sign(g): %.6f %.6f",
             wa[0], wa[1]);
    /* second step, by the formula */
    float m0 = 0.1f * 0.3f, v0 = 0.001f * 0.09f;
    float m1 = 0.9f * m0 + 0.1f * 0.3f, v1 = 0.999f * v0 + 0.001f * 0.09f;
    float want = 0.99f - 0.01f / (1 - 0.81f) * m1 / (sqrtf(v1) / sqrtf(1 - 0.999f * 0.999f) + 1e-8f);
    gs_optim_step(&o, wa, ga, 0.01f);
    GS_CHECK(fabsf(wa[0] - want) < 1e-6f, "adam second step %.7f (want %.7f)", wa[0], want);
    gs_optim_free(&o);
    a.kind = GS_OPTIM_ADAMW;
    a.weight_decay = 0.5f;
    gs_optim_init(&o, &a, 1);
    float ww = 2.0f, gw = 1.0f;
    gs_optim_step(&o, &ww, &gw, 0.01f);
    GS_CHECK(fabsf(ww - (2.0f * (1 - 0.005f) - 0.01f)) < 1e-6f, "adamw decoupled decay: %.6f", ww);
    gs_optim_free(&o);
}

static void test_schedules(void)
{
    char err[256];
    gs_schedule s;
    GS_CHECK(gs_schedule_parse(&s, "step:2,4:0.5", err, sizeof err) == 0 && s.num_milestones == 2, "parse step:2,4:0.5");
    GS_CHECK(gs_schedule_lr(&s, 1.0f, 0, 1, 100) == 1.0f && gs_schedule_lr(&s, 1.0f, 0, 2, 100) == 0.5f &&
             gs_schedule_lr(&s, 1.0f, 0, 5, 100) == 0.25f, "step schedule halves at epochs 2 and 4");
    gs_schedule_parse(&s, "cosine", err, sizeof err);
    GS_CHECK(gs_schedule_lr(&s, 1.0f, 0, 0, 100) == 1.0f && fabsf(gs_schedule_lr(&s, 1.0f, 50, 0, 100) - 0.5f) < 1e-6f,
             "cosine schedule: 1 at start, 0.5 half way");
    s.warmup_steps = 10;
    GS_CHECK(fabsf(gs_schedule_lr(&s, 1.0f, 0, 0, 100) - 0.1f) < 1e-6f, "linear warmup starts at lr/warmup");
    GS_CHECK(gs_schedule_parse(&s, "step:4,2", err, sizeof err) == -1 && strstr(err, "--schedule"),
             "non-ascending milestones refused: %s", err);
}

static void test_histograms(void)
{
    float edges[GS_HIST_BINS + 1];
    gs_hist_edges(edges);
    GS_CHECK(edges[2] == (float)1e-12 && edges[GS_HIST_BINS - 1] == (float)1e4 && isinf(edges[GS_HIST_BINS]),
             "edges: 1e-12 … 1e4, then +inf");
    /* the fast bin equals a search over the stored edges, for many magnitudes */
    gs_rng rng;
    gs_rng_seed(&rng, 5);
    int mismatches = 0;
    for (int i = 0; i < 200000; i++) {
        float x = (float)(pow(10.0, -14 + 20 * gs_rng_uniform(&rng)) * (gs_rng_uniform(&rng) < 0.5 ? -1 : 1));
        if (i % 1000 == 0)
            x = edges[2 + (i / 1000) % (GS_HIST_LOG_BINS + 1)];   /* exactly on an edge */
        else if (i % 1000 == 1)
            x = nextafterf(edges[2 + (i / 1000) % (GS_HIST_LOG_BINS + 1)], 0);   /* just below one */
        else if (i % 1000 == 2)
            x = -nextafterf(edges[2 + (i / 1000) % (GS_HIST_LOG_BINS + 1)], INFINITY);   /* just above */
        else if (i % 1000 == 3)
            x = (float)(i / 1000) * 1e-45f;   /* subnormals and zero */
        float ax = fabsf(x);
        int want;
        if (ax == 0)
            want = GS_HIST_ZERO_BIN;
        else if (ax < edges[2])
            want = GS_HIST_UNDERFLOW_BIN;
        else if (ax >= edges[GS_HIST_BINS - 1])
            want = GS_HIST_OVERFLOW_BIN;
        else {
            want = 2;
            while (ax >= edges[want + 1])
                want++;
        }
        mismatches += gs_hist_bin(x) != want;
    }
    GS_CHECK(mismatches == 0, "fast histogram bin equals edge search (%d mismatches of 200000)", mismatches);
    GS_CHECK(gs_hist_bin(0.0f) == 0 && gs_hist_bin(1e-20f) == 1 && gs_hist_bin(1e30f) == GS_HIST_OVERFLOW_BIN,
             "zero, underflow and overflow bins");

    /* moments and histogram of a vector with a NaN */
    float v[6] = {1, -2, 0, 4, NAN, 3};
    int64_t hist[GS_HIST_BINS] = {0};
    gs_moments m;
    gs_moments_of(&m, hist, v, 6);
    int64_t total = 0;
    for (int b = 0; b < GS_HIST_BINS; b++)
        total += hist[b];
    GS_CHECK(m.count == 5 && m.nonfinite == 1 && m.min == -2 && m.max == 4 && fabs(gs_moments_mean(&m) - 1.2) < 1e-12 &&
             total == 5 && hist[0] == 1, "moments with a NaN: count %g nonfinite %lld, binned %lld",
             m.count, (long long)m.nonfinite, (long long)total);

    /* overlap of orthogonal, aligned and opposed parts */
    float a[2] = {1, 0}, b[2] = {0, 1}, d[2];
    gs_overlap_sums s;
    gs_overlap_sums_clear(&s);
    gs_overlap_add(d, a, b, 2, &s, NULL);
    gs_overlap_stats o = gs_overlap_stats_of(&s);
    GS_CHECK(fabs(o.overlap - 1) < 1e-12 && fabs(o.cosine) < 1e-12, "orthogonal parts: overlap 1, cosine 0");
    gs_overlap_sums_clear(&s);
    gs_overlap_add(d, a, a, 2, &s, NULL);
    o = gs_overlap_stats_of(&s);
    GS_CHECK(fabs(o.overlap - 2) < 1e-12 && fabs(o.cosine - 1) < 1e-12 && d[0] == 2, "aligned parts: overlap 2, cosine 1");
}

/* The block histograms of gs_overlap_add against gs_hist_bin element by element, on
 * values that probe every bin: zeros of both signs, subnormals, each edge and its
 * float neighbours, both signs, the extremes, inf and NaN. */
static void test_overlap_hist_bins(void)
{
    float edges[GS_HIST_BINS + 1];
    gs_hist_edges(edges);
    size_t cap = 4096, n = 0;
    float *a = malloc(cap * sizeof *a), *b = malloc(cap * sizeof *b), *d = malloc(cap * sizeof *d);
    const float specials[] = {0.0f, -0.0f, 1e-45f, -1e-42f, 1.1754942e-38f, 1.1754944e-38f, 3.4e38f, -3.4e38f,
                              INFINITY, -INFINITY, NAN, 1.0f, -1.0f, 1e-13f, 1e5f};
    for (size_t k = 0; k < sizeof specials / sizeof specials[0]; k++)
        a[n++] = specials[k];
    for (int e = 2; e < GS_HIST_BINS - 1 && n + 6 <= cap; e++) {
        float x = edges[e];
        a[n++] = x;
        a[n++] = nextafterf(x, 0.0f);
        a[n++] = nextafterf(x, INFINITY);
        a[n++] = -x;
        a[n++] = -nextafterf(x, 0.0f);
        a[n++] = x * 1.37f;
    }
    /* fill to more than one chunk, with a tail, from what is there */
    const size_t base = n;
    while (n < 2 * 1024 + 37)
        a[n] = a[(n * 7919) % base], n++;
    for (size_t i = 0; i < n; i++)
        b[i] = (i % 3 == 0) ? 0.0f : (i % 3 == 1 ? -a[i] : a[(i * 31) % n]);   /* sums: 0, exact zeros, mixes */
    gs_overlap_sums sums;
    gs_overlap_sums_clear(&sums);
    int64_t (*hist)[GS_HIST_BINS] = calloc(3, sizeof *hist), (*want)[GS_HIST_BINS] = calloc(3, sizeof *want);
    gs_overlap_add(d, a, b, n, &sums, hist);
    for (size_t i = 0; i < n; i++) {
        const float parts[3] = {a[i], b[i], a[i] + b[i]};
        for (int k = 0; k < 3; k++)
            if (isfinite(parts[k]))
                want[k][gs_hist_bin(parts[k])]++;
    }
    int bad = 0;
    for (int k = 0; k < 3; k++)
        for (int bin = 0; bin < GS_HIST_BINS; bin++)
            bad += hist[k][bin] != want[k][bin];
    GS_CHECK(bad == 0, "block histograms of %zu values on every edge: equal to gs_hist_bin (%d bins differ)", n, bad);
    free(a); free(b); free(d); free(hist); free(want);
}

/* The vectorized pass (no histograms) against double sums in element order and
 * against the histogram pass, on lengths with tails, large offset data and non-finite
 * elements. */
static void test_overlap_large(void)
{
    const size_t lens[] = { 1, 15, 17, 1023, 1025, 3000017 };
    for (size_t li = 0; li < sizeof lens / sizeof lens[0]; li++) {
        size_t n = lens[li];
        float *a = malloc(n * sizeof *a), *b = malloc(n * sizeof *b), *d1 = malloc(n * sizeof *d1),
              *d2 = malloc(n * sizeof *d2);
        uint64_t z = 0x9e3779b97f4a7c15ull + n;
        for (size_t i = 0; i < n; i++) {
            z = z * 6364136223846793005ull + 1442695040888963407ull;
            double u = (double)(z >> 11) / 9007199254740992.0, w = (double)((z >> 3) & 0xffff) / 65536.0;
            a[i] = (float)(3.0 + u);            /* offset: skip ≈ 3.5 ± 0.3 */
            b[i] = (float)(-2.0 * u + 0.1 * w);  /* anti-correlated residual */
        }
        double ss = 0, rr = 0, sr = 0, dd = 0;
        for (size_t i = 0; i < n; i++) {
            float dv = a[i] + b[i];
            ss += (double)a[i] * a[i];
            rr += (double)b[i] * b[i];
            sr += (double)a[i] * b[i];
            dd += (double)dv * dv;
        }
        gs_overlap_sums fast, slow;
        gs_overlap_sums_clear(&fast);
        gs_overlap_sums_clear(&slow);
        int64_t (*hist)[GS_HIST_BINS] = calloc(3, sizeof *hist);
        gs_overlap_add(d1, a, b, n, &fast, NULL);
        gs_overlap_add(d2, a, b, n, &slow, hist);
        double e = fmax(fmax(fabs(fast.skip_sq / ss - 1), fabs(fast.residual_sq / rr - 1)),
                        fmax(fabs(fast.dot / sr - 1), fabs(fast.sum_sq / dd - 1)));
        double es = fmax(fmax(fabs(slow.skip_sq / ss - 1), fabs(slow.residual_sq / rr - 1)),
                         fmax(fabs(slow.dot / sr - 1), fabs(slow.sum_sq / dd - 1)));
        GS_CHECK(e < 1e-5 && es < 1e-5 && fast.count == (double)n && fast.nonfinite == 0 &&
                     memcmp(d1, d2, n * sizeof *d1) == 0,
                 "overlap sums of %zu offset elements: rel. error %.2g without and %.2g with histograms, same dx", n, e,
                 es);
        /* the histograms against gs_hist_bin element by element */
        int64_t (*want)[GS_HIST_BINS] = calloc(3, sizeof *want);
        for (size_t i = 0; i < n; i++) {
            want[0][gs_hist_bin(a[i])]++;
            want[1][gs_hist_bin(b[i])]++;
            want[2][gs_hist_bin(a[i] + b[i])]++;
        }
        GS_CHECK(memcmp(want, hist, 3 * sizeof *want) == 0, "%zu elements: skip/residual/sum histograms bin by bin", n);
        free(want);
        /* through a ReLU: dx masked by its output (half zeros), the sums and histograms
         * those of the unmasked sum */
        {
            float *relu_out = malloc(n * sizeof *relu_out), *d3 = malloc(n * sizeof *d3);
            for (size_t i = 0; i < n; i++)
                relu_out[i] = (i * 2654435761u) % 3 == 0 ? 0.0f : (float)(i % 5 + 1);
            gs_overlap_sums masked;
            gs_overlap_sums_clear(&masked);
            int64_t (*mhist)[GS_HIST_BINS] = calloc(3, sizeof *mhist);
            gs_overlap_add_relu(d3, a, b, relu_out, n, &masked, mhist);
            size_t wrong = 0;
            for (size_t i = 0; i < n; i++) {
                float want_d = relu_out[i] > 0.0f ? d2[i] : 0.0f;
                wrong += memcmp(&d3[i], &want_d, sizeof want_d) != 0;
            }
            GS_CHECK(wrong == 0 && memcmp(&masked, &slow, sizeof masked) == 0 &&
                         memcmp(mhist, hist, 3 * sizeof *mhist) == 0,
                     "%zu elements through a ReLU: dx masked (%zu wrong), sums and histograms unmasked", n, wrong);
            free(relu_out); free(d3); free(mhist);
        }
        if (n > 100) {
            a[7] = NAN;
            b[n - 1] = INFINITY;
            gs_overlap_sums_clear(&fast);
            gs_overlap_sums_clear(&slow);
            gs_overlap_add(d1, a, b, n, &fast, NULL);
            memset(hist, 0, 3 * sizeof *hist);
            gs_overlap_add(d2, a, b, n, &slow, hist);
            int64_t binned[3] = { 0, 0, 0 };
            for (int k = 0; k < 3; k++)
                for (int bin = 0; bin < GS_HIST_BINS; bin++)
                    binned[k] += hist[k][bin];
            GS_CHECK(binned[0] == (int64_t)n - 1 && binned[1] == (int64_t)n - 1 && binned[2] == (int64_t)n - 2,
                     "non-finite elements are counted, not binned (%lld %lld %lld of %zu)", (long long)binned[0],
                     (long long)binned[1], (long long)binned[2], n);
            GS_CHECK(fast.nonfinite == 2 && slow.nonfinite == 2 && isnan(d1[7]) && isinf(d1[n - 1]),
                     "%zu elements with a NaN and an inf: %lld / %lld non-finite", n, (long long)fast.nonfinite,
                     (long long)slow.nonfinite);
        }
        free(hist);
        free(a);
        free(b);
        free(d1);
        free(d2);
    }
}

int main(void)
{
    test_transforms();
    test_optimizers();
    test_schedules();
    test_histograms();
    test_overlap_large();
    test_overlap_hist_bins();
    return gs_test_finish();
}
