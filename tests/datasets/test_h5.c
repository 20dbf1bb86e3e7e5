/* test_h5.c — h5: datasets written here with the HDF5 C API: uint8 and float32
 * images, labels of several integer types (incl. big-endian), optional test split,
 * chunked + deflate storage; then wrong rank, missing datasets, bad types, bad
 * labels, non-finite floats, non-HDF5 and truncated files.  Also checks that HDF5
 * prints nothing on stderr and that the caller's HDF5 error handler is restored. */
#include "ds_test_util.h"

#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <hdf5.h>

static char tmp[4096];

/* ---- writing ---------------------------------------------------------------- */

/* name (dims) of file_type, written from data of mem_type; chunk > 0 adds chunking
 * (first dim) and deflate. */
static int h5_put(hid_t file, const char *name, hid_t mem_type, hid_t file_type, int rank,
                  const hsize_t *dims, const void *data, int chunk)
{
    int rc = -1;
    hid_t space = H5Screate_simple(rank, dims, NULL);
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    hid_t dset = H5I_INVALID_HID;
    if (space < 0 || dcpl < 0)
        goto done;
    if (chunk > 0) {
        hsize_t cdims[8];
        for (int i = 0; i < rank; i++)
            cdims[i] = dims[i] > 0 ? dims[i] : 1;
        cdims[0] = (hsize_t)chunk;
        if (H5Pset_chunk(dcpl, rank, cdims) < 0 || H5Pset_deflate(dcpl, 6) < 0)
            goto done;
    }
    dset = H5Dcreate2(file, name, file_type, space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    if (dset < 0)
        goto done;
    if (data != NULL && H5Dwrite(dset, mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) < 0)
        goto done;
    rc = 0;
done:
    if (dset >= 0)
        H5Dclose(dset);
    if (dcpl >= 0)
        H5Pclose(dcpl);
    if (space >= 0)
        H5Sclose(space);
    return rc;
}

static hid_t h5_create(char *path, const char *name)
{
    snprintf(path, 4200, "%s/%s", tmp, name);
    hid_t f = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    CHECKF(f >= 0, "cannot create %s", path);
    return f;
}

/* ---- data ------------------------------------------------------------------- */

#define U8_N 6
#define U8_C 3
#define U8_H 4
#define U8_W 5
#define U8_CHW (U8_C * U8_H * U8_W)
static uint8_t u8_images[U8_N * U8_CHW];
static int64_t u8_labels[U8_N] = { 0, 4, 2, 1, 4, 3 };

#define F_N 4
#define F_TN 2
#define F_CHW (2 * 3 * 3)
static float f_images[F_N * F_CHW];
static float f_test_images[F_TN * F_CHW];
static uint8_t f_labels[F_N] = { 0, 1, 0, 2 };
static int32_t f_test_labels[F_TN] = { 6, 1 };

static void fill_data(void)
{
    uint64_t s = 99;
    for (int i = 0; i < U8_N * U8_CHW; i++)
        u8_images[i] = (uint8_t)(ds_rand_next(&s) >> 56);
    for (int i = 0; i < F_N * F_CHW; i++)
        f_images[i] = (float)((int)(ds_rand_next(&s) % 20001) - 10000) / 777.0f;
    f_images[0] = -0.0f;
    f_images[1] = 1e-30f;
    f_images[2] = 3.4e38f;
    for (int i = 0; i < F_TN * F_CHW; i++)
        f_test_images[i] = (float)i * 0.125f - 2.0f;
}

/* u8 images + int64 labels, no test split */
static int write_good_u8(char *path, const char *name, int with_test)
{
    hid_t f = h5_create(path, name);
    if (f < 0)
        return -1;
    hsize_t idims[4] = { U8_N, U8_C, U8_H, U8_W }, ldims[1] = { U8_N };
    int rc = h5_put(f, "images", H5T_NATIVE_UINT8, H5T_STD_U8LE, 4, idims, u8_images, 0);
    rc |= h5_put(f, "labels", H5T_NATIVE_INT64, H5T_STD_I64LE, 1, ldims, u8_labels, 0);
    if (with_test) {
        hsize_t tdims[4] = { 2, U8_C, U8_H, U8_W }, tl[1] = { 2 };
        int16_t tlab[2] = { 3, 2 };
        rc |= h5_put(f, "test_images", H5T_NATIVE_UINT8, H5T_STD_U8LE, 4, tdims,
                     u8_images + 3 * U8_CHW, 2);
        rc |= h5_put(f, "test_labels", H5T_NATIVE_INT16, H5T_STD_I16BE, 1, tl, tlab, 0);
    }
    H5Fclose(f);
    return rc;
}

/* ---- good files --------------------------------------------------------------- */

static void test_good(void)
{
    char path[4200], spec[4300], err[512];
    gs_dataset tr, te;

    /* uint8 images, int64 labels, no test split: test = train images */
    CHECK(write_good_u8(path, "u8.h5", 0) == 0);
    snprintf(spec, sizeof(spec), "h5:%s", path);
    int rc = gs_dataset_load(spec, NULL, &tr, &te, err, sizeof(err));
    CHECKF(rc == 0, "%s", err);
    if (rc == 0) {
        CHECK(tr.n == U8_N && tr.c == U8_C && tr.h == U8_H && tr.w == U8_W);
        CHECK(te.n == U8_N && te.c == U8_C);
        CHECKF(tr.num_classes == 5 && te.num_classes == 5, "classes %d", tr.num_classes);
        CHECK(strcmp(tr.name, "h5/train") == 0 && strcmp(te.name, "h5/test") == 0);
        CHECK(strcmp(tr.source, path) == 0);
        int bad = 0;
        for (int ch = 0; ch < U8_C; ch++) {
            double sum = 0, sq = 0;
            int hw = U8_H * U8_W;
            for (int i = 0; i < U8_N; i++)
                for (int j = 0; j < hw; j++)
                    sum += u8_images[i * U8_CHW + ch * hw + j] / 255.0;
            double mean = sum / (U8_N * hw);
            for (int i = 0; i < U8_N; i++)
                for (int j = 0; j < hw; j++) {
                    double d = u8_images[i * U8_CHW + ch * hw + j] / 255.0 - mean;
                    sq += d * d;
                }
            double std = sqrt(sq / (U8_N * hw));
            CHECK(ds_close(tr.channel_mean[ch], mean, 1e-6));
            CHECK(ds_close(tr.channel_std[ch], std, 1e-6));
            for (int i = 0; i < U8_N; i++)
                for (int j = 0; j < hw; j++) {
                    size_t k = (size_t)i * U8_CHW + (size_t)ch * hw + j;
                    double want = (u8_images[k] / 255.0 - mean) / std;
                    if (fabs(tr.images[k] - want) > 1e-6 * (1 + fabs(want)))
                        bad++;
                }
        }
        CHECKF(bad == 0, "%d pixels differ", bad);
        CHECK(memcmp(tr.images, te.images, sizeof(float) * U8_N * U8_CHW) == 0);
        for (int i = 0; i < U8_N; i++)
            CHECK(tr.labels[i] == u8_labels[i] && te.labels[i] == u8_labels[i]);
    }
    gs_dataset_free(&tr);
    gs_dataset_free(&te);

    /* limits on the same file: stats from the first 2, the test copy keeps 3 */
    gs_dataset_options opts;
    memset(&opts, 0, sizeof(opts));
    opts.limit_train = 2;
    opts.limit_test = 3;
    rc = gs_dataset_load(spec, &opts, &tr, &te, err, sizeof(err));
    CHECKF(rc == 0, "%s", err);
    if (rc == 0) {
        CHECK(tr.n == 2 && te.n == 3);
        CHECK(tr.num_classes == 5);   /* from the whole file */
        double sum = 0;
        for (int i = 0; i < 2; i++)
            for (int j = 0; j < U8_H * U8_W; j++)
                sum += u8_images[i * U8_CHW + j] / 255.0;
        CHECK(ds_close(tr.channel_mean[0], sum / (2 * U8_H * U8_W), 1e-6));
        CHECK(memcmp(tr.images, te.images, sizeof(float) * 2 * U8_CHW) == 0);
    }
    gs_dataset_free(&tr);
    gs_dataset_free(&te);

    /* with a test split (chunked + deflate images, big-endian int16 labels) */
    CHECK(write_good_u8(path, "u8test.h5", 1) == 0);
    snprintf(spec, sizeof(spec), "h5:%s", path);
    rc = gs_dataset_load(spec, NULL, &tr, &te, err, sizeof(err));
    CHECKF(rc == 0, "%s", err);
    if (rc == 0) {
        CHECK(tr.n == U8_N && te.n == 2);
        CHECK(te.labels[0] == 3 && te.labels[1] == 2);
        /* test image 0 is training image 3, normalized with the same numbers */
        CHECK(memcmp(te.images, tr.images + 3 * U8_CHW, sizeof(float) * 2 * U8_CHW) == 0);
        CHECK(memcmp(te.channel_mean, tr.channel_mean, sizeof(tr.channel_mean)) == 0);
    }
    gs_dataset_free(&tr);
    gs_dataset_free(&te);

    /* float32 images kept exactly; uint8 and int32-BE labels; classes over both splits */
    hid_t f = h5_create(path, "f32.h5");
    hsize_t idims[4] = { F_N, 2, 3, 3 }, ldims[1] = { F_N };
    hsize_t tdims[4] = { F_TN, 2, 3, 3 }, tl[1] = { F_TN };
    CHECK(h5_put(f, "images", H5T_NATIVE_FLOAT, H5T_IEEE_F32LE, 4, idims, f_images, 0) == 0);
    CHECK(h5_put(f, "labels", H5T_NATIVE_UINT8, H5T_STD_U8LE, 1, ldims, f_labels, 0) == 0);
    CHECK(h5_put(f, "test_images", H5T_NATIVE_FLOAT, H5T_IEEE_F32BE, 4, tdims,
                 f_test_images, 1) == 0);
    CHECK(h5_put(f, "test_labels", H5T_NATIVE_INT32, H5T_STD_I32BE, 1, tl,
                 f_test_labels, 0) == 0);
    H5Fclose(f);
    snprintf(spec, sizeof(spec), "h5:%s", path);
    rc = gs_dataset_load(spec, NULL, &tr, &te, err, sizeof(err));
    CHECKF(rc == 0, "%s", err);
    if (rc == 0) {
        CHECK(tr.n == F_N && tr.c == 2 && tr.h == 3 && tr.w == 3 && te.n == F_TN);
        CHECK(memcmp(tr.images, f_images, sizeof(f_images)) == 0);
        CHECK(memcmp(te.images, f_test_images, sizeof(f_test_images)) == 0);
        CHECKF(tr.num_classes == 7 && te.num_classes == 7, "classes %d/%d", tr.num_classes,
               te.num_classes);
        CHECK(tr.channel_mean[0] == 0.0f && tr.channel_std[0] == 1.0f);
        CHECK(tr.channel_mean[1] == 0.0f && tr.channel_std[1] == 1.0f);
        for (int i = 0; i < F_N; i++)
            CHECK(tr.labels[i] == f_labels[i]);
        CHECK(te.labels[0] == 6 && te.labels[1] == 1);
    }
    gs_dataset_free(&tr);
    gs_dataset_free(&te);

    /* float64 images are converted to float32 */
    f = h5_create(path, "f64.h5");
    double d64[F_N * F_CHW];
    for (int i = 0; i < F_N * F_CHW; i++)
        d64[i] = f_images[i];
    CHECK(h5_put(f, "images", H5T_NATIVE_DOUBLE, H5T_IEEE_F64LE, 4, idims, d64, 0) == 0);
    CHECK(h5_put(f, "labels", H5T_NATIVE_UINT8, H5T_STD_U8LE, 1, ldims, f_labels, 0) == 0);
    H5Fclose(f);
    snprintf(spec, sizeof(spec), "h5:%s", path);
    rc = gs_dataset_load(spec, NULL, &tr, &te, err, sizeof(err));
    CHECKF(rc == 0, "%s", err);
    if (rc == 0)
        CHECK(memcmp(tr.images, f_images, sizeof(f_images)) == 0);
    gs_dataset_free(&tr);
    gs_dataset_free(&te);
}

/* ---- bad files ---------------------------------------------------------------- */

typedef enum {
    BAD_RANK3, BAD_NO_LABELS, BAD_NO_IMAGES, BAD_N_MISMATCH, BAD_NEGATIVE, BAD_NAN, BAD_INF,
    BAD_INT16_IMAGES, BAD_FLOAT_LABELS, BAD_LABELS_RANK2, BAD_FIVE_CHANNELS,
    BAD_TEST_NO_LABELS, BAD_TEST_SHAPE, BAD_HUGE_LABEL, BAD_LABELS_GROUP, BAD_ZERO_N,
    BAD_TEST_TYPE, BAD_STRING_IMAGES, BAD_COUNT
} bad_kind;

static const struct { const char *name; const char *expect; } bad_cases[BAD_COUNT] = {
    [BAD_RANK3]          = { "rank3",        "has rank 3, expected 4" },
    [BAD_NO_LABELS]      = { "nolabels",     "missing dataset '/labels'" },
    [BAD_NO_IMAGES]      = { "noimages",     "missing dataset '/images'" },
    [BAD_N_MISMATCH]     = { "mismatch",     "'/labels' has 5 entries but '/images' has 6" },
    [BAD_NEGATIVE]       = { "negative",     "is negative" },
    [BAD_NAN]            = { "nan",          "not finite" },
    [BAD_INF]            = { "inf",          "not finite" },
    [BAD_INT16_IMAGES]   = { "int16images",  "expected uint8 or float32" },
    [BAD_FLOAT_LABELS]   = { "floatlabels",  "expected an integer type" },
    [BAD_LABELS_RANK2]   = { "labelsrank2",  "has rank 2, expected 1" },
    [BAD_FIVE_CHANNELS]  = { "fivechannels", "C in 1..4" },
    [BAD_TEST_NO_LABELS] = { "testnolabels", "has '/test_images' but no '/test_labels'" },
    [BAD_TEST_SHAPE]     = { "testshape",    "'/test_images' is 3x5x4" },
    [BAD_HUGE_LABEL]     = { "hugelabel",    "too large" },
    [BAD_LABELS_GROUP]   = { "labelsgroup",  "'/labels' is not a readable dataset" },
    [BAD_ZERO_N]         = { "zeron",        "expected N >= 1" },
    [BAD_TEST_TYPE]      = { "testtype",     "float but '/images'" },
    [BAD_STRING_IMAGES]  = { "strimages",    "string" },
};

static void write_bad(const char *path, bad_kind kind)
{
    hid_t f = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    CHECK(f >= 0);
    if (f < 0)
        return;
    hsize_t idims[4] = { U8_N, U8_C, U8_H, U8_W }, ldims[2] = { U8_N, 1 };
    float fimg[U8_N * U8_CHW];
    for (int i = 0; i < U8_N * U8_CHW; i++)
        fimg[i] = (float)i;
    int16_t i16[U8_N * U8_CHW];
    memset(i16, 0, sizeof(i16));
    int64_t labels[U8_N];
    memcpy(labels, u8_labels, sizeof(labels));
    int put_images = 1, put_labels = 1;

    switch (kind) {
    case BAD_RANK3: {
        hsize_t d3[3] = { U8_N, U8_H * U8_C, U8_W };
        CHECK(h5_put(f, "images", H5T_NATIVE_UINT8, H5T_STD_U8LE, 3, d3, u8_images, 0) == 0);
        put_images = 0;
        break;
    }
    case BAD_NO_LABELS:
        put_labels = 0;
        break;
    case BAD_NO_IMAGES:
        put_images = 0;
        break;
    case BAD_N_MISMATCH: {
        hsize_t l5[1] = { U8_N - 1 };
        CHECK(h5_put(f, "labels", H5T_NATIVE_INT64, H5T_STD_I64LE, 1, l5, labels, 0) == 0);
        put_labels = 0;
        break;
    }
    case BAD_NEGATIVE:
        labels[4] = -1;
        break;
    case BAD_NAN:
    case BAD_INF:
        fimg[37] = kind == BAD_NAN ? NAN : -INFINITY;
        CHECK(h5_put(f, "images", H5T_NATIVE_FLOAT, H5T_IEEE_F32LE, 4, idims, fimg, 0) == 0);
        put_images = 0;
        break;
    case BAD_INT16_IMAGES:
        CHECK(h5_put(f, "images", H5T_NATIVE_INT16, H5T_STD_I16LE, 4, idims, i16, 0) == 0);
        put_images = 0;
        break;
    case BAD_FLOAT_LABELS: {
        hsize_t l1[1] = { U8_N };
        float fl[U8_N] = { 0, 1, 2, 3, 4, 5 };
        CHECK(h5_put(f, "labels", H5T_NATIVE_FLOAT, H5T_IEEE_F32LE, 1, l1, fl, 0) == 0);
        put_labels = 0;
        break;
    }
    case BAD_LABELS_RANK2:
        CHECK(h5_put(f, "labels", H5T_NATIVE_INT64, H5T_STD_I64LE, 2, ldims, labels, 0) == 0);
        put_labels = 0;
        break;
    case BAD_FIVE_CHANNELS: {
        hsize_t d5[4] = { 1, 5, 2, 2 };
        uint8_t px[20] = { 0 };
        CHECK(h5_put(f, "images", H5T_NATIVE_UINT8, H5T_STD_U8LE, 4, d5, px, 0) == 0);
        put_images = 0;
        break;
    }
    case BAD_TEST_NO_LABELS:
        CHECK(h5_put(f, "test_images", H5T_NATIVE_UINT8, H5T_STD_U8LE, 4, idims, u8_images,
                     0) == 0);
        break;
    case BAD_TEST_SHAPE: {
        hsize_t td[4] = { U8_N, U8_C, U8_W, U8_H };
        CHECK(h5_put(f, "test_images", H5T_NATIVE_UINT8, H5T_STD_U8LE, 4, td, u8_images,
                     0) == 0);
        CHECK(h5_put(f, "test_labels", H5T_NATIVE_INT64, H5T_STD_I64LE, 1, ldims, labels,
                     0) == 0);
        break;
    }
    case BAD_TEST_TYPE:
        CHECK(h5_put(f, "test_images", H5T_NATIVE_FLOAT, H5T_IEEE_F32LE, 4, idims, fimg,
                     0) == 0);
        CHECK(h5_put(f, "test_labels", H5T_NATIVE_INT64, H5T_STD_I64LE, 1, ldims, labels,
                     0) == 0);
        break;
    case BAD_HUGE_LABEL:
        labels[2] = (int64_t)1 << 40;
        break;
    case BAD_LABELS_GROUP: {
        hid_t g = H5Gcreate2(f, "labels", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
        CHECK(g >= 0);
        if (g >= 0)
            H5Gclose(g);
        put_labels = 0;
        break;
    }
    case BAD_ZERO_N: {
        hsize_t d0[4] = { 0, U8_C, U8_H, U8_W }, l0[1] = { 0 };
        CHECK(h5_put(f, "images", H5T_NATIVE_UINT8, H5T_STD_U8LE, 4, d0, NULL, 0) == 0);
        CHECK(h5_put(f, "labels", H5T_NATIVE_INT64, H5T_STD_I64LE, 1, l0, NULL, 0) == 0);
        put_images = put_labels = 0;
        break;
    }
    case BAD_STRING_IMAGES: {
        hid_t st = H5Tcopy(H5T_C_S1);
        H5Tset_size(st, 4);
        char text[U8_N * U8_CHW * 4];
        memset(text, 'a', sizeof(text));
        CHECK(h5_put(f, "images", st, st, 4, idims, text, 0) == 0);
        H5Tclose(st);
        put_images = 0;
        break;
    }
    case BAD_COUNT:
        break;
    }
    if (put_images)
        CHECK(h5_put(f, "images", H5T_NATIVE_UINT8, H5T_STD_U8LE, 4, idims, u8_images, 0) == 0);
    if (put_labels)
        CHECK(h5_put(f, "labels", H5T_NATIVE_INT64, H5T_STD_I64LE, 1, ldims, labels, 0) == 0);
    H5Fclose(f);
}

/* Runs ds_expect_load_fail with fd 2 redirected to a file: HDF5 must print nothing. */
static void expect_fail_silently(const char *spec, const char *must_contain, const char *what)
{
    char log[4200];
    snprintf(log, sizeof(log), "%s/stderr.txt", tmp);
    fflush(stderr);
    int saved = dup(2);
    int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    CHECK(saved >= 0 && fd >= 0);
    if (saved < 0 || fd < 0)
        return;
    dup2(fd, 2);
    close(fd);
    int failures_before = ds_test_failures;
    ds_expect_load_fail(spec, NULL, must_contain, what);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    size_t len = 0;
    uint8_t *text = ds_read_file(log, &len);
    if (ds_test_failures == failures_before) {
        CHECKF(len == 0, "[%s] %zu bytes printed on stderr during the load", what, len);
    }
    if (len > 0 && text != NULL)
        fprintf(stderr, "---- captured stderr of [%s]:\n%.*s\n----\n", what, (int)len,
                (const char *)text);
    free(text);
}

static void test_bad(void)
{
    char path[4200], spec[4300], what[128];

    /* the caller's HDF5 error handler must survive our loads */
    H5E_auto2_t func0 = NULL, func1 = NULL;
    void *data0 = NULL, *data1 = NULL;
    H5Eget_auto2(H5E_DEFAULT, &func0, &data0);

    for (int k = 0; k < BAD_COUNT; k++) {
        snprintf(path, sizeof(path), "%s/bad-%s.h5", tmp, bad_cases[k].name);
        write_bad(path, (bad_kind)k);
        snprintf(spec, sizeof(spec), "h5:%s", path);
        expect_fail_silently(spec, path, bad_cases[k].name);
        expect_fail_silently(spec, bad_cases[k].expect, bad_cases[k].name);
    }

    /* not HDF5 at all */
    snprintf(path, sizeof(path), "%s/text.h5", tmp);
    const char *text = "images,labels\n1,2\n";
    CHECK(ds_write_file(path, text, strlen(text)) == 0);
    snprintf(spec, sizeof(spec), "h5:%s", path);
    expect_fail_silently(spec, path, "text file");
    expect_fail_silently(spec, "not an HDF5 file", "text file");
    snprintf(path, sizeof(path), "%s/empty.h5", tmp);
    CHECK(ds_write_file(path, "", 0) == 0);
    snprintf(spec, sizeof(spec), "h5:%s", path);
    expect_fail_silently(spec, path, "empty file");
    snprintf(path, sizeof(path), "%s/missing.h5", tmp);
    snprintf(spec, sizeof(spec), "h5:%s", path);
    expect_fail_silently(spec, path, "missing file");
    expect_fail_silently(spec, "No such file", "missing file");
    snprintf(spec, sizeof(spec), "h5:%s", tmp);
    expect_fail_silently(spec, "not a regular file", "directory");

    /* truncated copies of a good file, incl. inside the superblock */
    char good[4200];
    CHECK(write_good_u8(good, "good.h5", 1) == 0);
    size_t len = 0;
    uint8_t *bytes = ds_read_file(good, &len);
    CHECK(bytes != NULL && len > 1000);
    if (bytes != NULL) {
        size_t cuts[] = { 1, 8, 40, 100, 512, 1000, len / 2, len - 100, len - 1 };
        for (size_t i = 0; i < sizeof(cuts) / sizeof(cuts[0]); i++) {
            snprintf(path, sizeof(path), "%s/cut%zu.h5", tmp, cuts[i]);
            CHECK(ds_write_file(path, bytes, cuts[i]) == 0);
            snprintf(spec, sizeof(spec), "h5:%s", path);
            snprintf(what, sizeof(what), "HDF5 cut at %zu/%zu", cuts[i], len);
            expect_fail_silently(spec, path, what);
        }
        free(bytes);
    }

    H5Eget_auto2(H5E_DEFAULT, &func1, &data1);
    CHECK(func0 == func1 && data0 == data1);
}

int main(void)
{
    fill_data();
    if (ds_tmpdir_make(tmp) != 0)
        return 1;
    test_good();
    test_bad();
    ds_tmpdir_remove(tmp);
    return ds_test_finish("datasets-h5");
}
