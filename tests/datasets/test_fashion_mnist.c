/* test_fashion_mnist.c — the real Fashion-MNIST from Debian's dataset-fashion-mnist:
 * 60000 + 10000 images of 1x28x28, 10 classes, 6000 (1000) per class, normalized
 * training data with mean ~0 and std ~1.  Exits 77 (skipped) without the package. */
#include "ds_test_util.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

int main(void)
{
    struct stat st;
    if (stat(GS_FASHION_MNIST_DIR, &st) != 0 || !S_ISDIR(st.st_mode)) {
        printf("SKIP: %s not found (install dataset-fashion-mnist)\n", GS_FASHION_MNIST_DIR);
        return 77;
    }

    gs_dataset tr, te;
    char err[512];
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int rc = gs_dataset_load("fashion-mnist", NULL, &tr, &te, err, sizeof(err));
    clock_gettime(CLOCK_MONOTONIC, &t1);
    CHECKF(rc == 0, "%s", err);
    if (rc != 0)
        return ds_test_finish("datasets-fashion-mnist");
    printf("loaded %s + %s from %s in %.2f s\n", tr.name, te.name, tr.source,
           (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) * 1e-9);

    CHECK(tr.n == 60000 && te.n == 10000);
    CHECK(tr.c == 1 && tr.h == 28 && tr.w == 28);
    CHECK(te.c == 1 && te.h == 28 && te.w == 28);
    CHECK(tr.num_classes == 10 && te.num_classes == 10);
    CHECK(strcmp(tr.name, "fashion-mnist/train") == 0);
    CHECK(strcmp(tr.source, GS_FASHION_MNIST_DIR) == 0);

    int hist_tr[10] = { 0 }, hist_te[10] = { 0 };
    for (int i = 0; i < tr.n; i++) {
        if (tr.labels[i] >= 0 && tr.labels[i] < 10)
            hist_tr[tr.labels[i]]++;
    }
    for (int i = 0; i < te.n; i++) {
        if (te.labels[i] >= 0 && te.labels[i] < 10)
            hist_te[te.labels[i]]++;
    }
    for (int k = 0; k < 10; k++) {
        CHECKF(hist_tr[k] == 6000, "train class %d: %d images", k, hist_tr[k]);
        CHECKF(hist_te[k] == 1000, "test class %d: %d images", k, hist_te[k]);
    }

    /* normalized training data: mean ~0, std ~1 (computed here in double) */
    size_t count = (size_t)tr.n * 28 * 28;
    double s = 0, sq = 0, lo = 1e9, hi = -1e9;
    for (size_t i = 0; i < count; i++) {
        double v = tr.images[i];
        s += v;
        sq += v * v;
        lo = v < lo ? v : lo;
        hi = v > hi ? v : hi;
    }
    double mean = s / count, std = sqrt(sq / count - mean * mean);
    printf("train: mean %.6f std %.6f (raw mean %.4f std %.4f), range [%.3f, %.3f]\n", mean,
           std, tr.channel_mean[0], tr.channel_std[0], lo, hi);
    CHECKF(fabs(mean) < 1e-4, "mean %g", mean);
    CHECKF(fabs(std - 1.0) < 1e-4, "std %g", std);
    /* the well-known Fashion-MNIST statistics */
    CHECKF(fabs(tr.channel_mean[0] - 0.2860) < 1e-3, "channel mean %g", tr.channel_mean[0]);
    CHECKF(fabs(tr.channel_std[0] - 0.3530) < 1e-3, "channel std %g", tr.channel_std[0]);
    /* pixel 0 maps to -mean/std, 255 to (1-mean)/std */
    double want_lo = -tr.channel_mean[0] / tr.channel_std[0];
    double want_hi = (1.0 - tr.channel_mean[0]) / tr.channel_std[0];
    CHECK(fabs(lo - want_lo) < 1e-5 && fabs(hi - want_hi) < 1e-5);
    /* the test split uses the training numbers */
    CHECK(te.channel_mean[0] == tr.channel_mean[0] && te.channel_std[0] == tr.channel_std[0]);

    /* a padded-crop batch from the real data */
    enum { B = 64 };
    int32_t idx[B], labels[B];
    gs_augment aug[B];
    for (int i = 0; i < B; i++) {
        idx[i] = i * 937;
        aug[i].dx = i % 9 - 4;
        aug[i].dy = (i / 9) % 9 - 4;
        aug[i].flip = i & 1;
    }
    float *batch = malloc(sizeof(float) * B * 28 * 28);
    gs_dataset_gather(&tr, idx, B, aug, batch, labels);
    for (int i = 0; i < B; i++)
        CHECK(labels[i] == tr.labels[idx[i]]);
    free(batch);

    gs_dataset_free(&tr);
    gs_dataset_free(&te);

    /* limits on the real data */
    gs_dataset_options opts;
    memset(&opts, 0, sizeof(opts));
    opts.limit_train = 1000;
    opts.limit_test = 100;
    rc = gs_dataset_load("fashion-mnist", &opts, &tr, &te, err, sizeof(err));
    CHECKF(rc == 0, "%s", err);
    CHECK(tr.n == 1000 && te.n == 100);
    gs_dataset_free(&tr);
    gs_dataset_free(&te);

    return ds_test_finish("datasets-fashion-mnist");
}
