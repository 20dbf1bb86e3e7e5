/* test_synthetic.c — the synthetic generator: shapes and defaults, same seed gives
 * the same bytes, another seed different ones, normalized statistics, balanced labels,
 * learnability (a nearest-class-mean classifier on the training split must beat
 * chance by far on the test split), and bad synthetic specs. */
#include "ds_test_util.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static int same_dataset(const gs_dataset *a, const gs_dataset *b)
{
    if (a->n != b->n || a->c != b->c || a->h != b->h || a->w != b->w)
        return 0;
    size_t count = (size_t)a->n * a->c * a->h * a->w;
    return memcmp(a->images, b->images, count * sizeof(float)) == 0 &&
           memcmp(a->labels, b->labels, (size_t)a->n * sizeof(int32_t)) == 0 &&
           memcmp(a->channel_mean, b->channel_mean, sizeof(a->channel_mean)) == 0;
}

static void test_determinism(void)
{
    char err[512];
    gs_dataset a_tr, a_te, b_tr, b_te, c_tr, c_te;
    gs_dataset_options opts;
    memset(&opts, 0, sizeof(opts));
    opts.synthetic_seed = 42;

    CHECKF(gs_dataset_load("synthetic", &opts, &a_tr, &a_te, err, sizeof(err)) == 0, "%s", err);
    CHECKF(gs_dataset_load("synthetic", &opts, &b_tr, &b_te, err, sizeof(err)) == 0, "%s", err);
    opts.synthetic_seed = 43;
    CHECKF(gs_dataset_load("synthetic", &opts, &c_tr, &c_te, err, sizeof(err)) == 0, "%s", err);

    /* defaults */
    CHECK(a_tr.n == 2048 && a_te.n == 512);
    CHECK(a_tr.c == 3 && a_tr.h == 32 && a_tr.w == 32 && a_tr.num_classes == 10);
    CHECK(a_te.c == 3 && a_te.h == 32 && a_te.w == 32 && a_te.num_classes == 10);
    CHECK(strcmp(a_tr.name, "synthetic/train") == 0 && strcmp(a_te.name, "synthetic/test") == 0);
    CHECKF(strstr(a_tr.source, "synthetic:3x32x32:10") != NULL, "source %s", a_tr.source);

    CHECK(same_dataset(&a_tr, &b_tr));
    CHECK(same_dataset(&a_te, &b_te));
    CHECK(!same_dataset(&a_tr, &c_tr));
    CHECK(!same_dataset(&a_te, &c_te));
    /* train and test are different images */
    CHECK(memcmp(a_tr.images, a_te.images, sizeof(float) * 3 * 32 * 32) != 0);

    /* the normalized training split has mean 0 and std 1 per channel */
    size_t hw = 32 * 32;
    for (int ch = 0; ch < 3; ch++) {
        double s = 0, sq = 0;
        for (int i = 0; i < a_tr.n; i++)
            for (size_t j = 0; j < hw; j++) {
                double v = a_tr.images[((size_t)i * 3 + ch) * hw + j];
                s += v;
                sq += v * v;
            }
        double n = (double)a_tr.n * hw;
        CHECKF(fabs(s / n) < 1e-4, "channel %d mean %g", ch, s / n);
        CHECKF(fabs(sqrt(sq / n - (s / n) * (s / n)) - 1.0) < 1e-4, "channel %d std", ch);
        CHECK(a_tr.channel_std[ch] > 0.05f);
    }
    /* balanced classes */
    int hist[10] = { 0 };
    for (int i = 0; i < a_tr.n; i++) {
        CHECK(a_tr.labels[i] >= 0 && a_tr.labels[i] < 10);
        if (a_tr.labels[i] >= 0 && a_tr.labels[i] < 10)
            hist[a_tr.labels[i]]++;
    }
    for (int k = 0; k < 10; k++)
        CHECKF(hist[k] >= 204 && hist[k] <= 205, "class %d has %d images", k, hist[k]);

    gs_dataset_free(&a_tr);
    gs_dataset_free(&a_te);
    gs_dataset_free(&b_tr);
    gs_dataset_free(&b_te);
    gs_dataset_free(&c_tr);
    gs_dataset_free(&c_te);
}

/* Nearest class mean: a linear probe that any ResNet should beat quickly. */
static double nearest_mean_accuracy(const gs_dataset *tr, const gs_dataset *te)
{
    size_t chw = (size_t)tr->c * tr->h * tr->w;
    int K = tr->num_classes;
    double *means = calloc((size_t)K * chw, sizeof(double));
    int *count = calloc((size_t)K, sizeof(int));
    for (int i = 0; i < tr->n; i++) {
        int k = tr->labels[i];
        count[k]++;
        for (size_t j = 0; j < chw; j++)
            means[(size_t)k * chw + j] += tr->images[(size_t)i * chw + j];
    }
    for (int k = 0; k < K; k++)
        for (size_t j = 0; j < chw; j++)
            means[(size_t)k * chw + j] /= count[k] > 0 ? count[k] : 1;
    int correct = 0;
    for (int i = 0; i < te->n; i++) {
        int best = -1;
        double best_d = 0;
        for (int k = 0; k < K; k++) {
            double d = 0;
            for (size_t j = 0; j < chw; j++) {
                double e = te->images[(size_t)i * chw + j] - means[(size_t)k * chw + j];
                d += e * e;
            }
            if (best < 0 || d < best_d) {
                best = k;
                best_d = d;
            }
        }
        correct += best == te->labels[i];
    }
    free(means);
    free(count);
    return (double)correct / te->n;
}

static void test_shapes_and_learnability(void)
{
    char err[512];
    gs_dataset tr, te;
    gs_dataset_options opts;
    memset(&opts, 0, sizeof(opts));
    opts.synthetic_train = 300;
    opts.synthetic_test = 100;
    opts.synthetic_seed = 7;

    int rc = gs_dataset_load("synthetic:1x8x12:3", &opts, &tr, &te, err, sizeof(err));
    CHECKF(rc == 0, "%s", err);
    CHECK(tr.n == 300 && te.n == 100 && tr.c == 1 && tr.h == 8 && tr.w == 12);
    CHECK(tr.num_classes == 3 && te.num_classes == 3);
    for (int i = 0; rc == 0 && i < tr.n; i++)
        CHECK(tr.labels[i] == i % 3);
    gs_dataset_free(&tr);
    gs_dataset_free(&te);

    /* limits apply to synthetic data too */
    opts.limit_train = 50;
    opts.limit_test = 10;
    rc = gs_dataset_load("synthetic:2x4x4", &opts, &tr, &te, err, sizeof(err));
    CHECKF(rc == 0, "%s", err);
    CHECK(tr.n == 50 && te.n == 10 && tr.c == 2 && tr.num_classes == 10);
    gs_dataset_free(&tr);
    gs_dataset_free(&te);

    /* learnable, but not trivially: report the nearest-class-mean accuracy */
    memset(&opts, 0, sizeof(opts));
    rc = gs_dataset_load("synthetic:3x32x32:10", &opts, &tr, &te, err, sizeof(err));
    CHECKF(rc == 0, "%s", err);
    if (rc == 0) {
        double acc = nearest_mean_accuracy(&tr, &te);
        printf("synthetic 3x32x32:10 nearest-class-mean test accuracy: %.3f (chance 0.100)\n",
               acc);
        CHECKF(acc > 0.6, "accuracy %.3f", acc);
    }
    gs_dataset_free(&tr);
    gs_dataset_free(&te);
}

/* FNV-1a over the bytes of the normalized images and the labels. */
static uint64_t dataset_hash(const gs_dataset *d)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    const uint8_t *p = (const uint8_t *)d->images;
    size_t len = (size_t)d->n * d->c * d->h * d->w * sizeof(float);
    for (size_t i = 0; i < len; i++)
        h = (h ^ p[i]) * 0x100000001b3ULL;
    p = (const uint8_t *)d->labels;
    for (size_t i = 0; i < (size_t)d->n * sizeof(int32_t); i++)
        h = (h ^ p[i]) * 0x100000001b3ULL;
    return h;
}

/* The same seed must give the same bytes on every machine and build (also with
 * -march=native).  If the generator is changed on purpose, update GOLDEN. */
static void test_golden(void)
{
    const uint64_t GOLDEN_TRAIN = 0x58248fa70e730bf0ULL, GOLDEN_TEST = 0x4fd953dec0235d00ULL;
    char err[512];
    gs_dataset tr, te;
    gs_dataset_options opts;
    memset(&opts, 0, sizeof(opts));
    opts.synthetic_train = 64;
    opts.synthetic_test = 16;
    opts.synthetic_seed = 12345;
    int rc = gs_dataset_load("synthetic:3x16x16:5", &opts, &tr, &te, err, sizeof(err));
    CHECKF(rc == 0, "%s", err);
    if (rc == 0) {
        uint64_t h_tr = dataset_hash(&tr), h_te = dataset_hash(&te);
        printf("golden hashes: train 0x%016llx test 0x%016llx\n", (unsigned long long)h_tr,
               (unsigned long long)h_te);
        CHECKF(h_tr == GOLDEN_TRAIN, "train hash 0x%016llx", (unsigned long long)h_tr);
        CHECKF(h_te == GOLDEN_TEST, "test hash 0x%016llx", (unsigned long long)h_te);
    }
    gs_dataset_free(&tr);
    gs_dataset_free(&te);
}

static void test_bad_specs(void)
{
    const char *bad[] = {
        "synthetic:0x32x32", "synthetic:5x8x8", "synthetic:3x32", "synthetic:3x32x32x",
        "synthetic:3x32x32:1", "synthetic:3x32x32:abc", "synthetic:3x32x32:10:", "synthetic:",
        "synthetic:3x0x4", "synthetic:3x4097x4", "synthetic:-3x32x32", "synthetic:3x32x32:1001",
        "synthetic:99999999999999999999x1x1",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        ds_expect_load_fail(bad[i], NULL, bad[i], bad[i]);

    gs_dataset_options opts;
    memset(&opts, 0, sizeof(opts));
    opts.synthetic_train = -5;
    ds_expect_load_fail("synthetic", &opts, "synthetic", "negative synthetic_train");
}

int main(void)
{
    test_determinism();
    test_shapes_and_learnability();
    test_golden();
    test_bad_specs();
    return ds_test_finish("datasets-synthetic");
}
