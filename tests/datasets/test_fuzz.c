/* test_fuzz.c — deterministic mutation fuzzing of the parsers.
 *
 * A valid file of each format (IDX raw, IDX gzip, CIFAR-10, CIFAR-100, HDF5) is
 * mutated many times (bytes overwritten, bits flipped, cut, extended, spliced) and
 * loaded.  Every load must either succeed with sane contents (labels in range,
 * finite pixels) or fail with -1 and a one-line message naming the file — and
 * never crash, hang or leak (this test also runs under ASan/UBSan).
 *
 * HDF5 files are mutated only by truncation and inside the raw data of /images
 * and /labels: HDF5 1.10's own metadata parser is not ours to harden, and random
 * damage to it is a known source of crashes inside libhdf5 itself.
 *
 * GS_FUZZ_ITERATIONS (environment) overrides the iterations per format. */
#include "ds_test_util.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <hdf5.h>

static char tmp[4096];
static uint64_t rng = 20240601;

static size_t rand_below(size_t n)
{
    return n > 0 ? (size_t)(ds_rand_next(&rng) % n) : 0;
}

/* Mutates buf[*len] in place (cap bytes available). */
static void mutate(uint8_t *buf, size_t *len, size_t cap)
{
    int steps = 1 + (int)rand_below(4);
    for (int s = 0; s < steps; s++) {
        size_t n = *len;
        switch (rand_below(7)) {
        case 0:   /* overwrite a byte */
            if (n > 0)
                buf[rand_below(n)] = (uint8_t)ds_rand_next(&rng);
            break;
        case 1:   /* flip a bit */
            if (n > 0)
                buf[rand_below(n)] ^= (uint8_t)(1u << rand_below(8));
            break;
        case 2:   /* overwrite a byte of the first 32 (headers) */
            if (n > 0)
                buf[rand_below(n < 32 ? n : 32)] = (uint8_t)ds_rand_next(&rng);
            break;
        case 3:   /* cut */
            *len = rand_below(n + 1);
            break;
        case 4:   /* extend with random bytes */
            if (n < cap) {
                size_t add = 1 + rand_below(cap - n < 64 ? cap - n : 64);
                for (size_t i = 0; i < add; i++)
                    buf[n + i] = (uint8_t)ds_rand_next(&rng);
                *len = n + add;
            }
            break;
        case 5:   /* an interesting value in a 4-byte word */
            if (n >= 4) {
                static const uint32_t vals[] = { 0, 1, 0x7fffffff, 0x80000000, 0xffffffff,
                                                 4096, 4097, 10, 255, 256 };
                uint32_t v = vals[rand_below(sizeof(vals) / sizeof(vals[0]))];
                size_t at = rand_below(n - 3) & ~(size_t)3;
                buf[at] = (uint8_t)(v >> 24);
                buf[at + 1] = (uint8_t)(v >> 16);
                buf[at + 2] = (uint8_t)(v >> 8);
                buf[at + 3] = (uint8_t)v;
            }
            break;
        default:  /* copy a chunk over another place */
            if (n > 8) {
                size_t from = rand_below(n), to = rand_below(n);
                size_t k = 1 + rand_below(16);
                if (from + k > n)
                    k = n - from;
                if (to + k > n)
                    k = n - to;
                memmove(buf + to, buf + from, k);
            }
            break;
        }
    }
}

/* Loads spec: success with sane data, or -1 naming must_contain.  Returns rc. */
static int load_and_judge(const char *spec, const char *must_contain, const char *what)
{
    gs_dataset tr, te;
    char err[1024];
    err[0] = '\0';
    int rc = gs_dataset_load(spec, NULL, &tr, &te, err, sizeof(err));
    if (rc == 0) {
        const gs_dataset *splits[2] = { &tr, &te };
        for (int s = 0; s < 2; s++) {
            const gs_dataset *d = splits[s];
            CHECKF(d->n > 0 && d->images != NULL && d->labels != NULL, "[%s] empty split", what);
            int bad_label = 0, bad_pixel = 0;
            for (int i = 0; i < d->n; i++)
                bad_label += d->labels[i] < 0 || d->labels[i] >= d->num_classes;
            size_t count = (size_t)d->n * d->c * d->h * d->w;
            for (size_t i = 0; i < count; i++)
                bad_pixel += !isfinite(d->images[i]);
            CHECKF(bad_label == 0 && bad_pixel == 0, "[%s] %d bad labels, %d bad pixels",
                   what, bad_label, bad_pixel);
        }
    } else {
        CHECKF(rc == -1, "[%s] rc %d", what, rc);
        CHECKF(err[0] != '\0' && strchr(err, '\n') == NULL, "[%s] bad message '%s'", what, err);
        CHECKF(strstr(err, must_contain) != NULL, "[%s] message '%s' lacks '%s'", what, err,
               must_contain);
        CHECKF(tr.images == NULL && te.images == NULL && tr.n == 0 && te.n == 0,
               "[%s] outputs not empty after failure", what);
    }
    gs_dataset_free(&tr);
    gs_dataset_free(&te);
    return rc;
}

typedef struct fuzz_stats {
    int ok, failed;
} fuzz_stats;

/* Fuzzes `file` inside dir (the other files of dir stay valid). */
static void fuzz_file(const char *kind, const char *dir, const char *file, int iterations,
                      int gzip_after)
{
    char path[4200], spec[4300], what[256];
    snprintf(path, sizeof(path), "%s/%s", dir, file);
    snprintf(spec, sizeof(spec), "%s:%s", kind, dir);
    size_t base_len = 0;
    uint8_t *base = ds_read_file(path, &base_len);
    CHECK(base != NULL);
    if (base == NULL)
        return;
    size_t cap = base_len + 128;
    uint8_t *buf = malloc(cap);
    fuzz_stats st = { 0, 0 };
    for (int it = 0; it < iterations; it++) {
        memcpy(buf, base, base_len);
        size_t len = base_len;
        mutate(buf, &len, cap);
        if (gzip_after)
            CHECK(ds_write_gz(path, buf, len) == 0);
        else
            CHECK(ds_write_file(path, buf, len) == 0);
        snprintf(what, sizeof(what), "%s %s #%d", kind, file, it);
        int before = ds_test_failures;
        int rc = load_and_judge(spec, dir, what);
        if (rc == 0)
            st.ok++;
        else
            st.failed++;
        if (ds_test_failures != before)
            break;
    }
    /* restore the valid file */
    CHECK(ds_write_file(path, base, base_len) == 0);
    printf("  %-10s %-28s %4d loads: %4d accepted, %4d refused\n", kind, file, iterations,
           st.ok, st.failed);
    free(buf);
    free(base);
}

/* ---- building the valid inputs ---------------------------------------------------- */

static void write_idx(const char *dir, int gz)
{
    uint8_t px[6 * 5 * 4], lb[6];
    for (size_t i = 0; i < sizeof(px); i++)
        px[i] = (uint8_t)(i * 13);
    for (int i = 0; i < 6; i++)
        lb[i] = (uint8_t)i;
    size_t li, ll;
    uint8_t *img = ds_idx_images_bytes(6, 5, 4, px, &li);
    uint8_t *lab = ds_idx_labels_bytes(6, lb, &ll);
    static const char *names[4] = { "train-images-idx3-ubyte", "train-labels-idx1-ubyte",
                                    "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte" };
    for (int k = 0; k < 4; k++) {
        char path[4200];
        snprintf(path, sizeof(path), "%s/%s%s", dir, names[k], gz ? ".gz" : "");
        const uint8_t *data = (k % 2 == 0) ? img : lab;
        size_t len = (k % 2 == 0) ? li : ll;
        CHECK((gz ? ds_write_gz(path, data, len) : ds_write_file(path, data, len)) == 0);
    }
    free(img);
    free(lab);
}

static void write_cifar(const char *dir, int hundred, int records)
{
    size_t rec = (size_t)(hundred ? 3074 : 3073);
    uint8_t *buf = malloc(rec * (size_t)records);
    for (int r = 0; r < records; r++) {
        uint8_t *p = buf + rec * (size_t)r;
        for (size_t j = 0; j < rec; j++)
            p[j] = (uint8_t)(j * 7 + (size_t)r);
        if (hundred) {
            p[0] = (uint8_t)(r % 20);
            p[1] = (uint8_t)(r * 11 % 100);
        } else {
            p[0] = (uint8_t)(r % 10);
        }
    }
    const char *names10[] = { "data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin",
                              "data_batch_4.bin", "data_batch_5.bin", "test_batch.bin" };
    const char *names100[] = { "train.bin", "test.bin" };
    int count = hundred ? 2 : 6;
    for (int k = 0; k < count; k++) {
        char path[4200];
        snprintf(path, sizeof(path), "%s/%s", dir, hundred ? names100[k] : names10[k]);
        CHECK(ds_write_file(path, buf, rec * (size_t)records) == 0);
    }
    free(buf);
}

/* A small h5 file; returns the byte ranges of the raw data of /images and /labels. */
static void write_h5(const char *path, haddr_t *img_off, size_t *img_len, haddr_t *lab_off,
                     size_t *lab_len)
{
    hid_t f = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    CHECK(f >= 0);
    hsize_t idims[4] = { 5, 2, 3, 3 }, ldims[1] = { 5 };
    uint8_t px[5 * 18];
    int16_t lb[5] = { 0, 1, 2, 1, 0 };
    for (size_t i = 0; i < sizeof(px); i++)
        px[i] = (uint8_t)(i * 29);
    hid_t s1 = H5Screate_simple(4, idims, NULL), s2 = H5Screate_simple(1, ldims, NULL);
    hid_t d1 = H5Dcreate2(f, "images", H5T_STD_U8LE, s1, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    hid_t d2 = H5Dcreate2(f, "labels", H5T_STD_I16LE, s2, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    CHECK(H5Dwrite(d1, H5T_NATIVE_UINT8, H5S_ALL, H5S_ALL, H5P_DEFAULT, px) >= 0);
    CHECK(H5Dwrite(d2, H5T_NATIVE_INT16, H5S_ALL, H5S_ALL, H5P_DEFAULT, lb) >= 0);
    *img_off = H5Dget_offset(d1);
    *img_len = sizeof(px);
    *lab_off = H5Dget_offset(d2);
    *lab_len = sizeof(lb);
    H5Dclose(d1);
    H5Dclose(d2);
    H5Sclose(s1);
    H5Sclose(s2);
    H5Fclose(f);
}

static void fuzz_h5(int iterations)
{
    char path[4200], spec[4300], what[128];
    snprintf(path, sizeof(path), "%s/fuzz.h5", tmp);
    snprintf(spec, sizeof(spec), "h5:%s", path);
    haddr_t img_off, lab_off;
    size_t img_len, lab_len;
    write_h5(path, &img_off, &img_len, &lab_off, &lab_len);
    size_t base_len = 0;
    uint8_t *base = ds_read_file(path, &base_len);
    CHECK(base != NULL && img_off != HADDR_UNDEF && lab_off != HADDR_UNDEF);
    if (base == NULL || img_off == HADDR_UNDEF || lab_off == HADDR_UNDEF) {
        free(base);
        return;
    }
    uint8_t *buf = malloc(base_len);
    fuzz_stats st = { 0, 0 };
    for (int it = 0; it < iterations; it++) {
        memcpy(buf, base, base_len);
        size_t len = base_len;
        switch (it % 3) {
        case 0:
            len = rand_below(base_len);
            break;
        case 1:
            for (int k = 0; k < 4; k++)
                buf[img_off + rand_below(img_len)] = (uint8_t)ds_rand_next(&rng);
            break;
        default:
            buf[lab_off + rand_below(lab_len)] = (uint8_t)ds_rand_next(&rng);
            break;
        }
        CHECK(ds_write_file(path, buf, len) == 0);
        snprintf(what, sizeof(what), "h5 #%d", it);
        int rc = load_and_judge(spec, path, what);
        if (rc == 0)
            st.ok++;
        else
            st.failed++;
    }
    printf("  %-10s %-28s %4d loads: %4d accepted, %4d refused\n", "h5", "fuzz.h5", iterations,
           st.ok, st.failed);
    free(buf);
    free(base);
}

int main(void)
{
    int iterations = 300;
    const char *env = getenv("GS_FUZZ_ITERATIONS");
    if (env != NULL && atoi(env) > 0)
        iterations = atoi(env);
    if (ds_tmpdir_make(tmp) != 0)
        return 1;
    char d_raw[4096], d_gz[4096], d_c10[4096], d_c100[4096];
    CHECK(ds_subdir_make(d_raw, tmp, "raw") == 0);
    CHECK(ds_subdir_make(d_gz, tmp, "gz") == 0);
    CHECK(ds_subdir_make(d_c10, tmp, "c10") == 0);
    CHECK(ds_subdir_make(d_c100, tmp, "c100") == 0);
    write_idx(d_raw, 0);
    write_idx(d_gz, 1);
    write_cifar(d_c10, 0, 3);
    write_cifar(d_c100, 1, 3);

    fuzz_file("mnist", d_raw, "train-images-idx3-ubyte", iterations, 0);
    fuzz_file("mnist", d_raw, "t10k-labels-idx1-ubyte", iterations, 0);
    /* gzip files: the compressed bytes mutated, and valid gzip of mutated content */
    fuzz_file("mnist", d_gz, "train-images-idx3-ubyte.gz", iterations, 0);
    fuzz_file("mnist", d_gz, "t10k-labels-idx1-ubyte.gz", iterations, 0);
    {
        /* gzip of mutated IDX bytes: start from the raw file's content */
        char from[4200], to[4200];
        snprintf(from, sizeof(from), "%s/train-images-idx3-ubyte", d_raw);
        snprintf(to, sizeof(to), "%s/gzcontent", tmp);
        CHECK(ds_subdir_make(to, tmp, "gzcontent") == 0);
        write_idx(to, 1);
        char raw_in_gz[4300];
        snprintf(raw_in_gz, sizeof(raw_in_gz), "%s/train-images-idx3-ubyte.gz", to);
        CHECK(ds_copy_file(raw_in_gz, from) == 0);   /* raw bytes under a .gz name */
        fuzz_file("mnist", to, "train-images-idx3-ubyte.gz", iterations, 1);
    }
    fuzz_file("cifar10", d_c10, "data_batch_3.bin", iterations, 0);
    fuzz_file("cifar10", d_c10, "test_batch.bin", iterations, 0);
    fuzz_file("cifar100", d_c100, "train.bin", iterations, 0);
    fuzz_h5(iterations);

    ds_tmpdir_remove(tmp);
    return ds_test_finish("datasets-fuzz");
}
