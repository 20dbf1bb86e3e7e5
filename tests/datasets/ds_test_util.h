/* ds_test_util.h — helpers shared by the datasets/ tests.
 *
 * CHECK(expr) prints "file:line: CHECK failed: expr" and counts a failure; a test's
 * main() ends with `return ds_test_finish("name");`, which prints a summary line and
 * returns 1 if any check failed (0 otherwise).  Files are written into a private
 * directory made by ds_tmpdir_make() and removed by ds_tmpdir_remove().
 */
#ifndef DS_TEST_UTIL_H
#define DS_TEST_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "gs_dataset.h"

extern int ds_test_checks;
extern int ds_test_failures;

#define CHECK(expr)                                                                  \
    do {                                                                             \
        ds_test_checks++;                                                            \
        if (!(expr)) {                                                               \
            ds_test_failures++;                                                      \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #expr); \
        }                                                                            \
    } while (0)

/* Like CHECK, with a printf-style explanation on failure. */
#define CHECKF(expr, ...)                                                            \
    do {                                                                             \
        ds_test_checks++;                                                            \
        if (!(expr)) {                                                               \
            ds_test_failures++;                                                      \
            fprintf(stderr, "%s:%d: CHECK failed: %s: ", __FILE__, __LINE__, #expr); \
            fprintf(stderr, __VA_ARGS__);                                            \
            fputc('\n', stderr);                                                     \
        }                                                                            \
    } while (0)

/* Prints "<name>: N checks, M failed" and returns the exit code. */
int ds_test_finish(const char *name);

/* A fresh directory under $TMPDIR (or /tmp); path must hold 4096 bytes. */
int  ds_tmpdir_make(char *path);
void ds_tmpdir_remove(const char *path);
/* mkdir dir/sub; returns the full path in out[4096]. */
int  ds_subdir_make(char *out, const char *dir, const char *sub);

int      ds_write_file(const char *path, const void *data, size_t len);
int      ds_write_gz(const char *path, const void *data, size_t len);
uint8_t *ds_read_file(const char *path, size_t *len);   /* malloc'd; NULL on error */
int      ds_copy_file(const char *to, const char *from);

/* IDX images (n, h, w) / labels (n) as file bytes (header + data), malloc'd. */
uint8_t *ds_idx_images_bytes(uint32_t n, uint32_t h, uint32_t w, const uint8_t *pixels,
                             size_t *len);
uint8_t *ds_idx_labels_bytes(uint32_t n, const uint8_t *labels, size_t *len);

/* A small deterministic byte generator for test data. */
uint64_t ds_rand_next(uint64_t *state);

/* Loads spec and checks that it fails cleanly: rc == -1, the message is one
 * non-empty line containing must_contain, and both outputs are empty.
 * Returns 1 if all held.  what labels the case in the output. */
int ds_expect_load_fail(const char *spec, const gs_dataset_options *opts,
                        const char *must_contain, const char *what);

/* |a - b| <= tol * (1 + |b|) */
int ds_close(double a, double b, double tol);

#endif
