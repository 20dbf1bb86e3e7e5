/* test_idx.c — MNIST-style IDX files, raw and gzip: values, shapes, limits, and
 * every kind of broken file (missing, truncated, wrong magic, random bytes,
 * corrupt gzip, wrong dims, bad labels). */
#include "ds_test_util.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define TRAIN_N 5
#define TEST_N  3
#define IMG_H   3
#define IMG_W   4
#define IMG_HW  (IMG_H * IMG_W)

static uint8_t train_px[TRAIN_N * IMG_HW];
static uint8_t test_px[TEST_N * IMG_HW];
static uint8_t train_lb[TRAIN_N] = { 3, 0, 9, 3, 7 };
static uint8_t test_lb[TEST_N] = { 1, 9, 0 };

static char tmp[4096];

static void fill_pixels(void)
{
    for (int i = 0; i < TRAIN_N * IMG_HW; i++)
        train_px[i] = (uint8_t)((i * 37 + 11) % 256);
    train_px[0] = 0;
    train_px[1] = 255;
    for (int i = 0; i < TEST_N * IMG_HW; i++)
        test_px[i] = (uint8_t)((i * 53 + 5) % 256);
}

/* Writes the four IDX files into dir; gz selects which are compressed
 * (bit 0 train images, 1 train labels, 2 test images, 3 test labels). */
static int write_idx_dir(const char *dir, unsigned gz)
{
    static const char *names[4] = {
        "train-images-idx3-ubyte", "train-labels-idx1-ubyte",
        "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte",
    };
    uint8_t *bytes[4];
    size_t len[4];
    bytes[0] = ds_idx_images_bytes(TRAIN_N, IMG_H, IMG_W, train_px, &len[0]);
    bytes[1] = ds_idx_labels_bytes(TRAIN_N, train_lb, &len[1]);
    bytes[2] = ds_idx_images_bytes(TEST_N, IMG_H, IMG_W, test_px, &len[2]);
    bytes[3] = ds_idx_labels_bytes(TEST_N, test_lb, &len[3]);
    int rc = 0;
    for (int i = 0; i < 4; i++) {
        char path[4200];
        if (gz & (1u << i)) {
            snprintf(path, sizeof(path), "%s/%s.gz", dir, names[i]);
            rc |= ds_write_gz(path, bytes[i], len[i]);
        } else {
            snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
            rc |= ds_write_file(path, bytes[i], len[i]);
        }
        free(bytes[i]);
    }
    return rc;
}

/* Expected statistics of x/255 over the first n training images, in double. */
static void expected_stats(int n, double *mean, double *std)
{
    double sum = 0.0;
    for (int i = 0; i < n * IMG_HW; i++)
        sum += train_px[i] / 255.0;
    *mean = sum / (n * IMG_HW);
    double sq = 0.0;
    for (int i = 0; i < n * IMG_HW; i++) {
        double d = train_px[i] / 255.0 - *mean;
        sq += d * d;
    }
    *std = sqrt(sq / (n * IMG_HW));
}

static void check_split(const gs_dataset *ds, int n, const uint8_t *px, const uint8_t *lb,
                        double mean, double std, const char *name)
{
    CHECK(ds->n == n);
    CHECK(ds->c == 1 && ds->h == IMG_H && ds->w == IMG_W);
    CHECK(ds->num_classes == 10);
    CHECKF(strcmp(ds->name, name) == 0, "name %s, expected %s", ds->name, name);
    CHECK(ds->images != NULL && ds->labels != NULL);
    if (ds->images == NULL || ds->labels == NULL || ds->n != n)
        return;
    CHECKF(ds_close(ds->channel_mean[0], mean, 1e-6), "mean %g vs %g", ds->channel_mean[0], mean);
    CHECKF(ds_close(ds->channel_std[0], std, 1e-6), "std %g vs %g", ds->channel_std[0], std);
    int bad = 0;
    for (int i = 0; i < n * IMG_HW; i++) {
        double want = (px[i] / 255.0 - mean) / std;
        if (fabs(ds->images[i] - want) > 1e-6 * (1.0 + fabs(want))) {
            if (bad++ < 3)
                fprintf(stderr, "  pixel %d: %.9g, expected %.9g\n", i, ds->images[i], want);
        }
    }
    CHECKF(bad == 0, "%d pixels differ in %s", bad, name);
    for (int i = 0; i < n; i++)
        CHECKF(ds->labels[i] == lb[i], "label %d: %d vs %d", i, ds->labels[i], lb[i]);
}

static void test_good(const char *dir_raw, const char *dir_gz, const char *dir_mixed)
{
    double mean, std;
    expected_stats(TRAIN_N, &mean, &std);
    char spec[4200], err[512];
    gs_dataset tr, te;

    /* raw files */
    snprintf(spec, sizeof(spec), "mnist:%s", dir_raw);
    int rc = gs_dataset_load(spec, NULL, &tr, &te, err, sizeof(err));
    CHECKF(rc == 0, "%s", err);
    check_split(&tr, TRAIN_N, train_px, train_lb, mean, std, "mnist/train");
    check_split(&te, TEST_N, test_px, test_lb, mean, std, "mnist/test");
    CHECK(strcmp(tr.source, dir_raw) == 0);
    /* normalized training data has mean 0 and std 1 */
    double s = 0, sq = 0;
    for (int i = 0; rc == 0 && i < TRAIN_N * IMG_HW; i++) {
        s += tr.images[i];
        sq += (double)tr.images[i] * tr.images[i];
    }
    CHECK(fabs(s / (TRAIN_N * IMG_HW)) < 1e-6);
    CHECK(fabs(sqrt(sq / (TRAIN_N * IMG_HW)) - 1.0) < 1e-5);

    /* gzip files give the same floats, bit for bit */
    gs_dataset tr2, te2;
    snprintf(spec, sizeof(spec), "mnist:%s", dir_gz);
    rc = gs_dataset_load(spec, NULL, &tr2, &te2, err, sizeof(err));
    CHECKF(rc == 0, "%s", err);
    if (rc == 0 && tr.images != NULL) {
        CHECK(memcmp(tr.images, tr2.images, sizeof(float) * TRAIN_N * IMG_HW) == 0);
        CHECK(memcmp(te.images, te2.images, sizeof(float) * TEST_N * IMG_HW) == 0);
        CHECK(memcmp(tr.labels, tr2.labels, sizeof(int32_t) * TRAIN_N) == 0);
    }
    gs_dataset_free(&tr2);
    gs_dataset_free(&te2);

    /* some files compressed, some not */
    snprintf(spec, sizeof(spec), "mnist:%s", dir_mixed);
    rc = gs_dataset_load(spec, NULL, &tr2, &te2, err, sizeof(err));
    CHECKF(rc == 0, "%s", err);
    check_split(&tr2, TRAIN_N, train_px, train_lb, mean, std, "mnist/train");
    check_split(&te2, TEST_N, test_px, test_lb, mean, std, "mnist/test");
    gs_dataset_free(&tr2);
    gs_dataset_free(&te2);

    /* fashion-mnist with a directory override, and with fashion-mnist:DIR */
    gs_dataset_options opts;
    memset(&opts, 0, sizeof(opts));
    opts.data_dir = dir_gz;
    rc = gs_dataset_load("fashion-mnist", &opts, &tr2, &te2, err, sizeof(err));
    CHECKF(rc == 0, "%s", err);
    check_split(&tr2, TRAIN_N, train_px, train_lb, mean, std, "fashion-mnist/train");
    check_split(&te2, TEST_N, test_px, test_lb, mean, std, "fashion-mnist/test");
    gs_dataset_free(&tr2);
    gs_dataset_free(&te2);
    snprintf(spec, sizeof(spec), "fashion-mnist:%s", dir_raw);
    rc = gs_dataset_load(spec, NULL, &tr2, &te2, err, sizeof(err));
    CHECKF(rc == 0, "%s", err);
    check_split(&tr2, TRAIN_N, train_px, train_lb, mean, std, "fashion-mnist/train");
    gs_dataset_free(&tr2);
    gs_dataset_free(&te2);

    /* limits: the statistics come from the kept training images only */
    memset(&opts, 0, sizeof(opts));
    opts.limit_train = 2;
    opts.limit_test = 1;
    double mean2, std2;
    expected_stats(2, &mean2, &std2);
    snprintf(spec, sizeof(spec), "mnist:%s", dir_gz);
    rc = gs_dataset_load(spec, &opts, &tr2, &te2, err, sizeof(err));
    CHECKF(rc == 0, "%s", err);
    check_split(&tr2, 2, train_px, train_lb, mean2, std2, "mnist/train");
    check_split(&te2, 1, test_px, test_lb, mean2, std2, "mnist/test");
    gs_dataset_free(&tr2);
    gs_dataset_free(&te2);

    /* a limit above the size keeps everything */
    opts.limit_train = 1000;
    opts.limit_test = 1000;
    rc = gs_dataset_load(spec, &opts, &tr2, &te2, err, sizeof(err));
    CHECKF(rc == 0, "%s", err);
    CHECK(tr2.n == TRAIN_N && te2.n == TEST_N);
    gs_dataset_free(&tr2);
    gs_dataset_free(&te2);

    gs_dataset_free(&tr);
    gs_dataset_free(&te);
    gs_dataset_free(&tr);   /* twice is fine */
}

/* A directory with good files, then `file` replaced by data (raw, or gzip if gz). */
static void expect_bad_file(const char *label, const char *file, const void *data, size_t len,
                            int gz_dir, const char *must_contain_extra)
{
    static int counter = 0;
    char dir[4096], path[4200], spec[4200];
    char sub[64];
    snprintf(sub, sizeof(sub), "bad%03d", counter++);
    if (ds_subdir_make(dir, tmp, sub) != 0) {
        CHECK(0);
        return;
    }
    CHECK(write_idx_dir(dir, gz_dir ? 0xf : 0) == 0);
    /* remove both variants of the file, then write the bad one under `file` */
    snprintf(path, sizeof(path), "%s/%s", dir, file);
    char base[4200];
    snprintf(base, sizeof(base), "%s", path);
    size_t bl = strlen(base);
    if (bl > 3 && strcmp(base + bl - 3, ".gz") == 0)
        base[bl - 3] = '\0';
    unlink(base);
    char gzp[4300];
    snprintf(gzp, sizeof(gzp), "%s.gz", base);
    unlink(gzp);
    if (data != NULL)
        CHECK(ds_write_file(path, data, len) == 0);
    snprintf(spec, sizeof(spec), "mnist:%s", dir);
    char what[128];
    snprintf(what, sizeof(what), "%s", label);
    /* The message must name the file (a missing file is named without .gz). */
    ds_expect_load_fail(spec, NULL, data != NULL ? path : base, what);
    if (must_contain_extra != NULL)
        ds_expect_load_fail(spec, NULL, must_contain_extra, what);
}

static void test_bad(void)
{
    size_t img_len, lab_len;
    uint8_t *img = ds_idx_images_bytes(TRAIN_N, IMG_H, IMG_W, train_px, &img_len);
    uint8_t *lab = ds_idx_labels_bytes(TRAIN_N, train_lb, &lab_len);
    char label[128];

    /* missing directory and missing single files */
    ds_expect_load_fail("mnist:/nonexistent/gs-dir", NULL,
                        "/nonexistent/gs-dir/train-images-idx3-ubyte", "missing dir");
    expect_bad_file("missing train labels", "train-labels-idx1-ubyte", NULL, 0, 0, "no such file");
    expect_bad_file("missing test images", "t10k-images-idx3-ubyte", NULL, 0, 1, NULL);
    expect_bad_file("missing test labels", "t10k-labels-idx1-ubyte", NULL, 0, 0, NULL);

    /* truncated raw images: inside the magic, inside the dims, in the data */
    size_t img_cuts[] = { 0, 2, 4, 7, 10, 15, 16, 17, 16 + IMG_HW, img_len / 2, img_len - 1 };
    for (size_t i = 0; i < sizeof(img_cuts) / sizeof(img_cuts[0]); i++) {
        snprintf(label, sizeof(label), "raw images cut at %zu", img_cuts[i]);
        expect_bad_file(label, "train-images-idx3-ubyte", img, img_cuts[i], 0,
                        img_cuts[i] >= 4 ? "truncated" : NULL);
    }
    size_t lab_cuts[] = { 0, 3, 5, 8, lab_len - 1 };
    for (size_t i = 0; i < sizeof(lab_cuts) / sizeof(lab_cuts[0]); i++) {
        snprintf(label, sizeof(label), "raw labels cut at %zu", lab_cuts[i]);
        expect_bad_file(label, "train-labels-idx1-ubyte", lab, lab_cuts[i], 0, NULL);
    }

    /* truncated gzip images (the compressed bytes cut) */
    char gzpath[4200];
    snprintf(gzpath, sizeof(gzpath), "%s/whole.gz", tmp);
    CHECK(ds_write_gz(gzpath, img, img_len) == 0);
    size_t gz_len = 0;
    uint8_t *gz = ds_read_file(gzpath, &gz_len);
    CHECK(gz != NULL && gz_len > 20);
    if (gz != NULL) {
        size_t gz_cuts[] = { 1, 2, 5, 10, 12, gz_len / 2, gz_len - 8, gz_len - 4, gz_len - 1 };
        for (size_t i = 0; i < sizeof(gz_cuts) / sizeof(gz_cuts[0]); i++) {
            snprintf(label, sizeof(label), "gzip images cut at %zu/%zu", gz_cuts[i], gz_len);
            expect_bad_file(label, "train-images-idx3-ubyte.gz", gz, gz_cuts[i], 1, NULL);
        }
        /* corrupt gzip: flip bytes in the deflate stream, in the CRC, in the length */
        size_t flips[] = { 10, 12, gz_len / 2, gz_len - 6, gz_len - 2 };
        for (size_t i = 0; i < sizeof(flips) / sizeof(flips[0]); i++) {
            uint8_t *bad = malloc(gz_len);
            memcpy(bad, gz, gz_len);
            bad[flips[i]] ^= 0x5a;
            snprintf(label, sizeof(label), "gzip byte %zu/%zu flipped", flips[i], gz_len);
            expect_bad_file(label, "train-images-idx3-ubyte.gz", bad, gz_len, 1, NULL);
            free(bad);
        }
        /* a gzip header followed by garbage */
        uint8_t junk[64];
        memcpy(junk, gz, 10);
        for (int i = 10; i < 64; i++)
            junk[i] = (uint8_t)(i * 71);
        expect_bad_file("gzip header + garbage", "train-images-idx3-ubyte.gz", junk,
                        sizeof(junk), 1, NULL);
        free(gz);
    }

    /* wrong magic: labels where images belong, and vice versa, and a bad type byte */
    expect_bad_file("labels file as images", "train-images-idx3-ubyte", lab, lab_len, 0,
                    "bad magic");
    expect_bad_file("images file as labels", "train-labels-idx1-ubyte", img, img_len, 0,
                    "bad magic");
    uint8_t *bad = malloc(img_len);
    memcpy(bad, img, img_len);
    bad[2] = 0x0d;   /* float type */
    expect_bad_file("float IDX", "train-images-idx3-ubyte", bad, img_len, 0, "bad magic");
    expect_bad_file("float IDX, gzip", "train-images-idx3-ubyte.gz", bad, img_len, 1,
                    "bad magic");

    /* random bytes */
    uint64_t rs = 1234;
    size_t rand_lens[] = { 1, 16, 100, 5000 };
    for (size_t k = 0; k < sizeof(rand_lens) / sizeof(rand_lens[0]); k++) {
        uint8_t *r = malloc(rand_lens[k]);
        for (size_t i = 0; i < rand_lens[k]; i++)
            r[i] = (uint8_t)ds_rand_next(&rs);
        if (rand_lens[k] > 1)
            r[0] = 0x42;   /* not the gzip magic */
        snprintf(label, sizeof(label), "%zu random bytes", rand_lens[k]);
        expect_bad_file(label, "t10k-images-idx3-ubyte", r, rand_lens[k], 0, NULL);
        expect_bad_file(label, "t10k-labels-idx1-ubyte", r, rand_lens[k], 0, NULL);
        free(r);
    }

    /* wrong dims */
    memcpy(bad, img, img_len);
    bad[8] = bad[9] = bad[10] = bad[11] = 0;                   /* h = 0 */
    expect_bad_file("h = 0", "train-images-idx3-ubyte", bad, img_len, 0, "bad image size");
    memcpy(bad, img, img_len);
    bad[12] = 0; bad[13] = 0; bad[14] = 0x13; bad[15] = 0x88; /* w = 5000 */
    expect_bad_file("w = 5000", "train-images-idx3-ubyte", bad, img_len, 0, "bad image size");
    memcpy(bad, img, img_len);
    bad[4] = bad[5] = bad[6] = bad[7] = 0;                     /* n = 0 */
    expect_bad_file("n = 0", "train-images-idx3-ubyte", bad, img_len, 0, "bad image count");
    memcpy(bad, img, img_len);
    bad[4] = bad[5] = bad[6] = bad[7] = 0xff;                  /* n = 4294967295 */
    expect_bad_file("n = 2^32-1", "train-images-idx3-ubyte", bad, img_len, 0, NULL);
    memcpy(bad, img, img_len);
    bad[4] = 0x7f; bad[5] = bad[6] = bad[7] = 0xff;            /* n = INT_MAX: huge claim */
    bad[8] = bad[9] = 0; bad[10] = 0x10; bad[11] = 0x00;       /* h = 4096 */
    bad[12] = bad[13] = 0; bad[14] = 0x10; bad[15] = 0x00;     /* w = 4096 */
    expect_bad_file("n*h*w = 2^55", "train-images-idx3-ubyte", bad, img_len, 0, "truncated");
    memcpy(bad, img, img_len);
    bad[7] = TRAIN_N - 1;                                      /* fewer images than data */
    expect_bad_file("trailing data", "train-images-idx3-ubyte", bad, img_len, 0,
                    "unexpected data");
    uint8_t *lab2 = malloc(lab_len);
    memcpy(lab2, lab, lab_len);
    lab2[7] = TRAIN_N + 1;                                     /* label count != image count */
    expect_bad_file("label count mismatch", "train-labels-idx1-ubyte", lab2, lab_len, 0,
                    "train-images-idx3-ubyte");
    memcpy(lab2, lab, lab_len);
    lab2[8 + 2] = 10;                                          /* label out of range */
    expect_bad_file("label 10", "train-labels-idx1-ubyte", lab2, lab_len, 0, "out of range");
    expect_bad_file("label 10, gzip", "train-labels-idx1-ubyte.gz", lab2, lab_len, 1,
                    "out of range");

    /* test images of a different size than the training images */
    size_t other_len;
    uint8_t *other = ds_idx_images_bytes(TEST_N, IMG_W, IMG_H, test_px, &other_len);
    expect_bad_file("test dims differ", "t10k-images-idx3-ubyte", other, other_len, 0,
                    "t10k-images-idx3-ubyte");
    free(other);

    /* a directory where a file should be */
    {
        char dir[4096], path[4200], spec[4200];
        CHECK(ds_subdir_make(dir, tmp, "isdir") == 0);
        CHECK(write_idx_dir(dir, 0) == 0);
        snprintf(path, sizeof(path), "%s/train-labels-idx1-ubyte", dir);
        unlink(path);
        CHECK(ds_subdir_make(path, dir, "train-labels-idx1-ubyte") == 0);
        snprintf(spec, sizeof(spec), "mnist:%s", dir);
        ds_expect_load_fail(spec, NULL, path, "directory instead of file");
    }

    free(lab2);
    free(bad);
    free(img);
    free(lab);
}

int main(void)
{
    fill_pixels();
    if (ds_tmpdir_make(tmp) != 0)
        return 1;
    char dir_raw[4096], dir_gz[4096], dir_mixed[4096];
    CHECK(ds_subdir_make(dir_raw, tmp, "raw") == 0);
    CHECK(ds_subdir_make(dir_gz, tmp, "gz") == 0);
    CHECK(ds_subdir_make(dir_mixed, tmp, "mixed") == 0);
    CHECK(write_idx_dir(dir_raw, 0x0) == 0);
    CHECK(write_idx_dir(dir_gz, 0xf) == 0);
    CHECK(write_idx_dir(dir_mixed, 0x5) == 0);

    test_good(dir_raw, dir_gz, dir_mixed);
    test_bad();

    ds_tmpdir_remove(tmp);
    return ds_test_finish("datasets-idx");
}
