/* test_cifar.c — CIFAR-10 (5 train batches + test batch) and CIFAR-100 binary files:
 * per-channel normalization, label order across batches, limits, and broken files. */
#include "ds_test_util.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define PIX 3072
#define PLANE 1024

static char tmp[4096];

/* CIFAR-10: records per training batch, and in the test batch. */
static const int batch_n[5] = { 2, 3, 1, 2, 2 };
#define C10_TRAIN 10
#define C10_TEST  3
static uint8_t c10_train_px[C10_TRAIN * PIX];
static uint8_t c10_train_lb[C10_TRAIN];
static uint8_t c10_test_px[C10_TEST * PIX];
static uint8_t c10_test_lb[C10_TEST];

#define C100_TRAIN 4
#define C100_TEST  2
static uint8_t c100_train_px[C100_TRAIN * PIX];
static uint8_t c100_train_fine[C100_TRAIN] = { 99, 0, 42, 7 };
static uint8_t c100_train_coarse[C100_TRAIN] = { 19, 0, 5, 3 };
static uint8_t c100_test_px[C100_TEST * PIX];
static uint8_t c100_test_fine[C100_TEST] = { 13, 98 };
static uint8_t c100_test_coarse[C100_TEST] = { 1, 18 };

static void fill_data(void)
{
    uint64_t s = 77;
    /* channel-dependent distributions so that the three means differ */
    for (int i = 0; i < C10_TRAIN * PIX; i++) {
        int ch = (i % PIX) / PLANE;
        c10_train_px[i] = (uint8_t)(ds_rand_next(&s) % (ch == 0 ? 256 : ch == 1 ? 128 : 64));
    }
    for (int i = 0; i < C10_TEST * PIX; i++)
        c10_test_px[i] = (uint8_t)ds_rand_next(&s);
    for (int i = 0; i < C10_TRAIN; i++)
        c10_train_lb[i] = (uint8_t)((i * 3 + 1) % 10);
    for (int i = 0; i < C10_TEST; i++)
        c10_test_lb[i] = (uint8_t)(9 - i);
    for (int i = 0; i < C100_TRAIN * PIX; i++)
        c100_train_px[i] = (uint8_t)(ds_rand_next(&s) % 200 + 20);
    for (int i = 0; i < C100_TEST * PIX; i++)
        c100_test_px[i] = (uint8_t)ds_rand_next(&s);
}

/* file bytes of n records; coarse == NULL for CIFAR-10 */
static uint8_t *records(const uint8_t *px, const uint8_t *fine, const uint8_t *coarse, int n,
                        size_t *len)
{
    size_t rec = (coarse != NULL ? 2 : 1) + PIX;
    uint8_t *buf = malloc(rec * (size_t)n + 1);
    for (int i = 0; i < n; i++) {
        uint8_t *r = buf + rec * (size_t)i;
        if (coarse != NULL)
            *r++ = coarse[i];
        *r++ = fine[i];
        memcpy(r, px + (size_t)i * PIX, PIX);
    }
    *len = rec * (size_t)n;
    return buf;
}

static int write_cifar10(const char *dir)
{
    int rc = 0, first = 0;
    char path[4200];
    size_t len;
    for (int b = 0; b < 5; b++) {
        uint8_t *buf = records(c10_train_px + (size_t)first * PIX, c10_train_lb + first, NULL,
                               batch_n[b], &len);
        snprintf(path, sizeof(path), "%s/data_batch_%d.bin", dir, b + 1);
        rc |= ds_write_file(path, buf, len);
        free(buf);
        first += batch_n[b];
    }
    uint8_t *buf = records(c10_test_px, c10_test_lb, NULL, C10_TEST, &len);
    snprintf(path, sizeof(path), "%s/test_batch.bin", dir);
    rc |= ds_write_file(path, buf, len);
    free(buf);
    return rc;
}

static int write_cifar100(const char *dir)
{
    int rc = 0;
    char path[4200];
    size_t len;
    uint8_t *buf = records(c100_train_px, c100_train_fine, c100_train_coarse, C100_TRAIN, &len);
    snprintf(path, sizeof(path), "%s/train.bin", dir);
    rc |= ds_write_file(path, buf, len);
    free(buf);
    buf = records(c100_test_px, c100_test_fine, c100_test_coarse, C100_TEST, &len);
    snprintf(path, sizeof(path), "%s/test.bin", dir);
    rc |= ds_write_file(path, buf, len);
    free(buf);
    return rc;
}

static void expected_stats(const uint8_t *px, int n, double *mean, double *std)
{
    for (int ch = 0; ch < 3; ch++) {
        double sum = 0.0, sq = 0.0;
        for (int i = 0; i < n; i++)
            for (int j = 0; j < PLANE; j++)
                sum += px[(size_t)i * PIX + (size_t)ch * PLANE + j] / 255.0;
        mean[ch] = sum / (n * PLANE);
        for (int i = 0; i < n; i++)
            for (int j = 0; j < PLANE; j++) {
                double d = px[(size_t)i * PIX + (size_t)ch * PLANE + j] / 255.0 - mean[ch];
                sq += d * d;
            }
        std[ch] = sqrt(sq / (n * PLANE));
    }
}

static void check_split(const gs_dataset *ds, int n, int classes, const uint8_t *px,
                        const uint8_t *lb, const double *mean, const double *std,
                        const char *name)
{
    CHECKF(ds->n == n, "%s: n %d vs %d", name, ds->n, n);
    CHECK(ds->c == 3 && ds->h == 32 && ds->w == 32);
    CHECK(ds->num_classes == classes);
    CHECKF(strcmp(ds->name, name) == 0, "name %s vs %s", ds->name, name);
    if (ds->images == NULL || ds->n != n)
        return;
    for (int ch = 0; ch < 3; ch++) {
        CHECKF(ds_close(ds->channel_mean[ch], mean[ch], 1e-6), "mean[%d] %g vs %g", ch,
               ds->channel_mean[ch], mean[ch]);
        CHECKF(ds_close(ds->channel_std[ch], std[ch], 1e-6), "std[%d] %g vs %g", ch,
               ds->channel_std[ch], std[ch]);
    }
    int bad = 0;
    for (int i = 0; i < n * PIX; i++) {
        int ch = (i % PIX) / PLANE;
        double want = (px[i] / 255.0 - mean[ch]) / std[ch];
        if (fabs(ds->images[i] - want) > 1e-6 * (1.0 + fabs(want)) && bad++ < 3)
            fprintf(stderr, "  %s pixel %d: %.9g vs %.9g\n", name, i, ds->images[i], want);
    }
    CHECKF(bad == 0, "%s: %d pixels differ", name, bad);
    for (int i = 0; i < n; i++)
        CHECKF(ds->labels[i] == lb[i], "%s label %d: %d vs %d", name, i, ds->labels[i], lb[i]);
}

static void test_good(const char *d10, const char *d100)
{
    char spec[4200], err[512];
    gs_dataset tr, te;
    double mean[3], std[3];

    snprintf(spec, sizeof(spec), "cifar10:%s", d10);
    expected_stats(c10_train_px, C10_TRAIN, mean, std);
    int rc = gs_dataset_load(spec, NULL, &tr, &te, err, sizeof(err));
    CHECKF(rc == 0, "%s", err);
    check_split(&tr, C10_TRAIN, 10, c10_train_px, c10_train_lb, mean, std, "cifar10/train");
    check_split(&te, C10_TEST, 10, c10_test_px, c10_test_lb, mean, std, "cifar10/test");
    CHECK(strcmp(tr.source, d10) == 0);
    gs_dataset_free(&tr);
    gs_dataset_free(&te);

    /* limit across the batch boundaries: 4 = 2 from batch 1 + 2 of batch 2 */
    gs_dataset_options opts;
    memset(&opts, 0, sizeof(opts));
    opts.limit_train = 4;
    opts.limit_test = 2;
    expected_stats(c10_train_px, 4, mean, std);
    rc = gs_dataset_load(spec, &opts, &tr, &te, err, sizeof(err));
    CHECKF(rc == 0, "%s", err);
    check_split(&tr, 4, 10, c10_train_px, c10_train_lb, mean, std, "cifar10/train");
    check_split(&te, 2, 10, c10_test_px, c10_test_lb, mean, std, "cifar10/test");
    gs_dataset_free(&tr);
    gs_dataset_free(&te);

    snprintf(spec, sizeof(spec), "cifar100:%s", d100);
    expected_stats(c100_train_px, C100_TRAIN, mean, std);
    rc = gs_dataset_load(spec, NULL, &tr, &te, err, sizeof(err));
    CHECKF(rc == 0, "%s", err);
    check_split(&tr, C100_TRAIN, 100, c100_train_px, c100_train_fine, mean, std,
                "cifar100/train");
    check_split(&te, C100_TEST, 100, c100_test_px, c100_test_fine, mean, std, "cifar100/test");
    gs_dataset_free(&tr);
    gs_dataset_free(&te);
}

/* A copy of src_dir (kind "cifar10" or "cifar100") with `file` replaced by data
 * (NULL: removed); the load must fail naming that file. */
static void expect_bad(const char *what, const char *kind, const char *file,
                       const void *data, size_t len, const char *extra)
{
    static int counter = 0;
    char dir[4096], sub[64], path[4200], spec[4200];
    snprintf(sub, sizeof(sub), "bad%03d", counter++);
    CHECK(ds_subdir_make(dir, tmp, sub) == 0);
    if (strcmp(kind, "cifar10") == 0)
        CHECK(write_cifar10(dir) == 0);
    else
        CHECK(write_cifar100(dir) == 0);
    snprintf(path, sizeof(path), "%s/%s", dir, file);
    unlink(path);
    if (data != NULL)
        CHECK(ds_write_file(path, data, len) == 0);
    snprintf(spec, sizeof(spec), "%s:%s", kind, dir);
    ds_expect_load_fail(spec, NULL, path, what);
    if (extra != NULL)
        ds_expect_load_fail(spec, NULL, extra, what);
}

static void test_bad(void)
{
    char what[128];
    size_t len10, len100;
    uint8_t *b10 = records(c10_train_px, c10_train_lb, NULL, 2, &len10);          /* 6146 */
    uint8_t *b100 = records(c100_train_px, c100_train_fine, c100_train_coarse, 2, &len100);

    ds_expect_load_fail("cifar10:/nonexistent/cifar", NULL,
                        "/nonexistent/cifar/data_batch_1.bin", "missing dir");
    ds_expect_load_fail("cifar100:/nonexistent/cifar", NULL,
                        "/nonexistent/cifar/train.bin", "missing dir (100)");
    expect_bad("missing data_batch_3", "cifar10", "data_batch_3.bin", NULL, 0,
               "No such file");
    expect_bad("missing test_batch", "cifar10", "test_batch.bin", NULL, 0, NULL);
    expect_bad("missing test.bin", "cifar100", "test.bin", NULL, 0, NULL);

    size_t cuts[] = { 0, 1, 100, 3072, 3074, 3073 + 1000, 6145 };
    for (size_t i = 0; i < sizeof(cuts) / sizeof(cuts[0]); i++) {
        snprintf(what, sizeof(what), "batch 2 cut at %zu", cuts[i]);
        expect_bad(what, "cifar10", "data_batch_2.bin", b10, cuts[i],
                   cuts[i] == 0 ? "empty" : "not a multiple");
        if (cuts[i] == 3074)
            continue;   /* exactly one CIFAR-100 record: a valid file */
        snprintf(what, sizeof(what), "cifar100 train cut at %zu", cuts[i]);
        expect_bad(what, "cifar100", "train.bin", b100, cuts[i], NULL);
    }

    /* the other format's files */
    expect_bad("CIFAR-100 records as CIFAR-10", "cifar10", "data_batch_1.bin", b100, len100,
               "3073-byte");
    expect_bad("CIFAR-10 records as CIFAR-100", "cifar100", "train.bin", b10, len10,
               "3074-byte");

    /* labels out of range */
    uint8_t *bad = malloc(len100 > len10 ? len100 : len10);
    memcpy(bad, b10, len10);
    bad[3073] = 10;
    expect_bad("CIFAR-10 label 10", "cifar10", "data_batch_4.bin", bad, len10,
               "record 1: label 10 out of range");
    memcpy(bad, b100, len100);
    bad[1] = 100;
    expect_bad("CIFAR-100 fine label 100", "cifar100", "train.bin", bad, len100,
               "label 100 out of range");
    memcpy(bad, b100, len100);
    bad[3074] = 20;
    expect_bad("CIFAR-100 coarse label 20", "cifar100", "test.bin", bad, len100,
               "coarse label 20");

    /* random bytes */
    uint64_t s = 5;
    for (size_t i = 0; i < len10; i++)
        bad[i] = (uint8_t)ds_rand_next(&s);
    bad[0] = 200;
    expect_bad("random bytes (one record size)", "cifar10", "test_batch.bin", bad, 3073,
               NULL);
    expect_bad("random bytes (odd size)", "cifar10", "test_batch.bin", bad, 5000, NULL);

    /* a directory where a file belongs */
    {
        char dir[4096], path[4200], spec[4200];
        CHECK(ds_subdir_make(dir, tmp, "isdir") == 0);
        CHECK(write_cifar10(dir) == 0);
        snprintf(path, sizeof(path), "%s/data_batch_5.bin", dir);
        unlink(path);
        CHECK(mkdir(path, 0700) == 0);
        snprintf(spec, sizeof(spec), "cifar10:%s", dir);
        ds_expect_load_fail(spec, NULL, path, "directory instead of file");
    }
    free(bad);
    free(b10);
    free(b100);
}

int main(void)
{
    fill_data();
    if (ds_tmpdir_make(tmp) != 0)
        return 1;
    char d10[4096], d100[4096];
    CHECK(ds_subdir_make(d10, tmp, "c10") == 0);
    CHECK(ds_subdir_make(d100, tmp, "c100") == 0);
    CHECK(write_cifar10(d10) == 0);
    CHECK(write_cifar100(d100) == 0);
    test_good(d10, d100);
    test_bad();
    ds_tmpdir_remove(tmp);
    return ds_test_finish("datasets-cifar");
}
