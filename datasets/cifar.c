/* cifar.c — CIFAR-10 and CIFAR-100 "binary version" files.
 *
 * Record layout (no file header; a file is a whole number of records):
 *   CIFAR-10   label (1 byte, 0..9)                       + 3072 pixel bytes
 *   CIFAR-100  coarse label (0..19), fine label (0..99)   + 3072 pixel bytes
 * The 3072 bytes are the 1024 red, then green, then blue values of a 32x32 image,
 * row-major: already the (c, h, w) layout we keep.
 */
#include "gs_dataset_internal.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define GS_CIFAR_SIDE       32
#define GS_CIFAR_CHANNELS   3
#define GS_CIFAR_PIXELS     (GS_CIFAR_CHANNELS * GS_CIFAR_SIDE * GS_CIFAR_SIDE)   /* 3072 */
#define GS_CIFAR_CHUNK      1024    /* records read per fread */

typedef struct gs_cifar_format {
    const char *name;          /* "CIFAR-10" */
    int label_bytes;           /* 1 or 2 */
    int num_classes;           /* range of the label we keep (the last label byte) */
    int coarse_classes;        /* range of the first label byte when there are two */
} gs_cifar_format;

static const gs_cifar_format gs_cifar10_format = { "CIFAR-10", 1, 10, 0 };
static const gs_cifar_format gs_cifar100_format = { "CIFAR-100", 2, 100, 20 };

/* Appends the records of path to out (growing its buffers). */
static int gs_cifar_read_file(const char *path, const gs_cifar_format *fmt,
                              gs_raw_split *out, char *err, size_t errsz)
{
    const size_t rec = (size_t)fmt->label_bytes + GS_CIFAR_PIXELS;
    uint8_t *chunk = NULL;
    errno = 0;
    FILE *fp = fopen(path, "rb");
    if (fp == NULL) {
        gs_dataset_set_error(err, errsz, "%s: cannot open: %s", path,
                             errno != 0 ? strerror(errno) : "unknown error");
        return -1;
    }
    struct stat st;
    if (fstat(fileno(fp), &st) != 0 || !S_ISREG(st.st_mode)) {
        gs_dataset_set_error(err, errsz, "%s: not a regular file", path);
        goto fail;
    }
    if (st.st_size == 0) {
        gs_dataset_set_error(err, errsz, "%s: empty file (expected %s records of %zu bytes)",
                             path, fmt->name, rec);
        goto fail;
    }
    if ((unsigned long long)st.st_size % rec != 0) {
        gs_dataset_set_error(err, errsz,
                             "%s: size %lld bytes is not a multiple of the %zu-byte %s record "
                             "(truncated, or not a %s binary file)",
                             path, (long long)st.st_size, rec, fmt->name, fmt->name);
        goto fail;
    }
    unsigned long long records = (unsigned long long)st.st_size / rec;
    if (records > (unsigned long long)(INT_MAX - out->n)) {
        gs_dataset_set_error(err, errsz, "%s: too many records (%llu)", path, records);
        goto fail;
    }

    /* Grow the split to hold the new records. */
    long n_old = out->n;
    long n_new = n_old + (long)records;
    uint8_t *pixels = realloc(out->pixels_u8, (size_t)n_new * GS_CIFAR_PIXELS);
    if (pixels == NULL) {
        gs_dataset_set_error(err, errsz, "%s: out of memory", path);
        goto fail;
    }
    out->pixels_u8 = pixels;
    int32_t *labels = realloc(out->labels, (size_t)n_new * sizeof(int32_t));
    if (labels == NULL) {
        gs_dataset_set_error(err, errsz, "%s: out of memory", path);
        goto fail;
    }
    out->labels = labels;

    chunk = malloc(GS_CIFAR_CHUNK * rec);
    if (chunk == NULL) {
        gs_dataset_set_error(err, errsz, "%s: out of memory", path);
        goto fail;
    }
    long done = 0;
    while (done < (long)records) {
        long want = (long)records - done;
        if (want > GS_CIFAR_CHUNK)
            want = GS_CIFAR_CHUNK;
        size_t got = fread(chunk, rec, (size_t)want, fp);
        if (got != (size_t)want) {
            /* The file changed under us, or a read error. */
            gs_dataset_set_error(err, errsz, "%s: truncated: expected %lld bytes, got %lld%s%s",
                                 path, (long long)st.st_size,
                                 (long long)((size_t)done * rec + got * rec),
                                 ferror(fp) ? ": " : "", ferror(fp) ? strerror(errno) : "");
            goto fail;
        }
        for (long r = 0; r < want; r++) {
            const uint8_t *record = chunk + (size_t)r * rec;
            long index = done + r;   /* within this file */
            if (fmt->label_bytes == 2 && record[0] >= fmt->coarse_classes) {
                gs_dataset_set_error(err, errsz,
                                     "%s: record %ld: coarse label %u out of range (expected 0..%d)",
                                     path, index, record[0], fmt->coarse_classes - 1);
                goto fail;
            }
            int label = record[fmt->label_bytes - 1];
            if (label >= fmt->num_classes) {
                gs_dataset_set_error(err, errsz,
                                     "%s: record %ld: label %d out of range (expected 0..%d)",
                                     path, index, label, fmt->num_classes - 1);
                goto fail;
            }
            out->labels[n_old + index] = label;
            memcpy(out->pixels_u8 + (size_t)(n_old + index) * GS_CIFAR_PIXELS,
                   record + fmt->label_bytes, GS_CIFAR_PIXELS);
        }
        done += want;
    }
    free(chunk);
    fclose(fp);
    out->n = n_new;
    out->c = GS_CIFAR_CHANNELS;
    out->h = GS_CIFAR_SIDE;
    out->w = GS_CIFAR_SIDE;
    out->num_classes = fmt->num_classes;
    return 0;

fail:
    free(chunk);
    fclose(fp);
    return -1;
}

/* Reads the named files of dir, in order, into one split. */
static int gs_cifar_read_files(const char *dir, const char *const *names, int count,
                               const gs_cifar_format *fmt, gs_raw_split *out,
                               char *err, size_t errsz)
{
    char path[4096 + 64];
    for (int i = 0; i < count; i++) {
        int len = snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
        if (len < 0 || (size_t)len >= sizeof(path)) {
            gs_dataset_set_error(err, errsz, "%s: directory name too long", dir);
            gs_raw_split_free(out);
            return -1;
        }
        if (gs_cifar_read_file(path, fmt, out, err, errsz) != 0) {
            gs_raw_split_free(out);
            return -1;
        }
    }
    return 0;
}

int gs_cifar10_load(const char *dir, gs_raw_split *train, gs_raw_split *test,
                    char *err, size_t errsz)
{
    static const char *const train_names[] = {
        "data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin",
        "data_batch_4.bin", "data_batch_5.bin",
    };
    static const char *const test_names[] = { "test_batch.bin" };
    if (gs_cifar_read_files(dir, train_names, 5, &gs_cifar10_format, train, err, errsz) != 0)
        return -1;
    if (gs_cifar_read_files(dir, test_names, 1, &gs_cifar10_format, test, err, errsz) != 0) {
        gs_raw_split_free(train);
        return -1;
    }
    return 0;
}

int gs_cifar100_load(const char *dir, gs_raw_split *train, gs_raw_split *test,
                     char *err, size_t errsz)
{
    static const char *const train_names[] = { "train.bin" };
    static const char *const test_names[] = { "test.bin" };
    if (gs_cifar_read_files(dir, train_names, 1, &gs_cifar100_format, train, err, errsz) != 0)
        return -1;
    if (gs_cifar_read_files(dir, test_names, 1, &gs_cifar100_format, test, err, errsz) != 0) {
        gs_raw_split_free(train);
        return -1;
    }
    return 0;
}
