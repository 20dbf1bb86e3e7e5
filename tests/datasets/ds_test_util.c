/* ds_test_util.c — see ds_test_util.h. */
#define _XOPEN_SOURCE 700
#include "ds_test_util.h"

#include <errno.h>
#include <ftw.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

int ds_test_checks = 0;
int ds_test_failures = 0;

int ds_test_finish(const char *name)
{
    printf("%s: %d checks, %d failed -> %s\n", name, ds_test_checks, ds_test_failures,
           ds_test_failures == 0 ? "PASS" : "FAIL");
    fflush(stdout);
    return ds_test_failures == 0 ? 0 : 1;
}

int ds_tmpdir_make(char *path)
{
    const char *base = getenv("TMPDIR");
    if (base == NULL || base[0] == '\0')
        base = "/tmp";
    snprintf(path, 4096, "%s/gs-datasets-test-XXXXXX", base);
    if (mkdtemp(path) == NULL) {
        fprintf(stderr, "mkdtemp %s: %s\n", path, strerror(errno));
        return -1;
    }
    return 0;
}

static int ds_remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    if (remove(path) != 0)
        fprintf(stderr, "remove %s: %s\n", path, strerror(errno));
    return 0;
}

void ds_tmpdir_remove(const char *path)
{
    if (path == NULL || path[0] == '\0')
        return;
    nftw(path, ds_remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

int ds_subdir_make(char *out, const char *dir, const char *sub)
{
    snprintf(out, 4096, "%s/%s", dir, sub);
    if (mkdir(out, 0700) != 0 && errno != EEXIST) {
        fprintf(stderr, "mkdir %s: %s\n", out, strerror(errno));
        return -1;
    }
    return 0;
}

int ds_write_file(const char *path, const void *data, size_t len)
{
    FILE *fp = fopen(path, "wb");
    if (fp == NULL) {
        fprintf(stderr, "fopen %s: %s\n", path, strerror(errno));
        return -1;
    }
    size_t put = len > 0 ? fwrite(data, 1, len, fp) : 0;
    int rc = fclose(fp);
    if (put != len || rc != 0) {
        fprintf(stderr, "write %s failed\n", path);
        return -1;
    }
    return 0;
}

int ds_write_gz(const char *path, const void *data, size_t len)
{
    gzFile gz = gzopen(path, "wb6");
    if (gz == NULL) {
        fprintf(stderr, "gzopen %s failed\n", path);
        return -1;
    }
    int put = len > 0 ? gzwrite(gz, data, (unsigned)len) : 0;
    int rc = gzclose(gz);
    if (put != (int)len || rc != Z_OK) {
        fprintf(stderr, "gzwrite %s failed\n", path);
        return -1;
    }
    return 0;
}

uint8_t *ds_read_file(const char *path, size_t *len)
{
    FILE *fp = fopen(path, "rb");
    if (fp == NULL)
        return NULL;
    struct stat st;
    if (fstat(fileno(fp), &st) != 0) {
        fclose(fp);
        return NULL;
    }
    size_t size = (size_t)st.st_size;
    uint8_t *buf = malloc(size > 0 ? size : 1);
    if (buf == NULL || fread(buf, 1, size, fp) != size) {
        free(buf);
        fclose(fp);
        return NULL;
    }
    fclose(fp);
    *len = size;
    return buf;
}

int ds_copy_file(const char *to, const char *from)
{
    size_t len = 0;
    uint8_t *data = ds_read_file(from, &len);
    if (data == NULL)
        return -1;
    int rc = ds_write_file(to, data, len);
    free(data);
    return rc;
}

static void ds_put_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

uint8_t *ds_idx_images_bytes(uint32_t n, uint32_t h, uint32_t w, const uint8_t *pixels,
                             size_t *len)
{
    size_t data = (size_t)n * h * w;
    uint8_t *buf = malloc(16 + data);
    if (buf == NULL)
        return NULL;
    ds_put_be32(buf, 0x00000803);
    ds_put_be32(buf + 4, n);
    ds_put_be32(buf + 8, h);
    ds_put_be32(buf + 12, w);
    if (data > 0)
        memcpy(buf + 16, pixels, data);
    *len = 16 + data;
    return buf;
}

uint8_t *ds_idx_labels_bytes(uint32_t n, const uint8_t *labels, size_t *len)
{
    uint8_t *buf = malloc(8 + (size_t)n);
    if (buf == NULL)
        return NULL;
    ds_put_be32(buf, 0x00000801);
    ds_put_be32(buf + 4, n);
    if (n > 0)
        memcpy(buf + 8, labels, n);
    *len = 8 + (size_t)n;
    return buf;
}

uint64_t ds_rand_next(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

int ds_expect_load_fail(const char *spec, const gs_dataset_options *opts,
                        const char *must_contain, const char *what)
{
    gs_dataset train, test;
    char err[1024];
    memset(err, 'x', sizeof(err));
    err[sizeof(err) - 1] = '\0';
    int failures_before = ds_test_failures;

    int rc = gs_dataset_load(spec, opts, &train, &test, err, sizeof(err));
    CHECKF(rc == -1, "[%s] expected -1, got %d for spec %s", what, rc, spec ? spec : "(null)");
    if (rc == -1) {
        CHECKF(err[0] != '\0' && err[0] != 'x', "[%s] empty error message", what);
        CHECKF(strchr(err, '\n') == NULL, "[%s] message has a newline: %s", what, err);
        CHECKF(must_contain == NULL || strstr(err, must_contain) != NULL,
               "[%s] message \"%s\" does not contain \"%s\"", what, err, must_contain);
        CHECKF(train.n == 0 && train.images == NULL && train.labels == NULL &&
               test.n == 0 && test.images == NULL && test.labels == NULL,
               "[%s] outputs not empty after failure", what);
        printf("  ok (-1) %-34s %s\n", what, err);
    }
    gs_dataset_free(&train);
    gs_dataset_free(&test);
    return ds_test_failures == failures_before;
}

int ds_close(double a, double b, double tol)
{
    return fabs(a - b) <= tol * (1.0 + fabs(b));
}
