/* gs_dataset_internal.h — what the loaders of datasets/ share with dataset.c.
 *
 * Not part of the public API: nothing outside datasets/ includes this file.
 *
 * Every loader reads one source into two gs_raw_split (train and test) holding the
 * pixels exactly as stored (uint8 or float32, NCHW) and int32 labels that it has
 * already validated.  dataset.c then applies the limits, computes the training
 * statistics and converts to normalized float32.  On failure a loader frees what it
 * allocated, leaves both splits zeroed and writes "<path>: <problem>" into err.
 */
#ifndef GS_DATASET_INTERNAL_H
#define GS_DATASET_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "gs_dataset.h"

/* Largest image side and label count that any loader accepts. */
#define GS_DATASET_MAX_SIDE    4096
#define GS_DATASET_MAX_CLASSES 1000000

typedef struct gs_raw_split {
    long     n;            /* number of images (1 .. INT_MAX)                      */
    int      c, h, w;      /* image shape                                          */
    int      num_classes;  /* labels are in [0, num_classes)                       */
    uint8_t *pixels_u8;    /* (n, c, h, w) bytes as stored, or NULL                */
    float   *pixels_f32;   /* (n, c, h, w) floats as stored, or NULL               */
    int32_t *labels;       /* (n)                                                  */
} gs_raw_split;

/* Frees the buffers and zeroes the struct; safe on a zeroed struct. */
void gs_raw_split_free(gs_raw_split *s);

/* Writes one line (newlines replaced by spaces) into err[errsz]; err may be NULL. */
void gs_dataset_set_error(char *err, size_t errsz, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* *out = a * b; returns 0, or -1 if the product does not fit in size_t. */
int gs_size_mul(size_t *out, size_t a, size_t b);

/* ---- loaders --------------------------------------------------------------- */

/* IDX files (MNIST, Fashion-MNIST) in dir, each name raw or with ".gz".
 * Both splits: c = 1, num_classes = 10. */
int gs_idx_load(const char *dir, gs_raw_split *train, gs_raw_split *test,
                char *err, size_t errsz);

/* CIFAR-10 binary: data_batch_{1..5}.bin + test_batch.bin in dir. */
int gs_cifar10_load(const char *dir, gs_raw_split *train, gs_raw_split *test,
                    char *err, size_t errsz);

/* CIFAR-100 binary: train.bin + test.bin in dir; fine labels. */
int gs_cifar100_load(const char *dir, gs_raw_split *train, gs_raw_split *test,
                     char *err, size_t errsz);

/* HDF5 file with /images, /labels and optionally /test_images, /test_labels.
 * *has_test = 0 when the file has no test split (test is then left zeroed). */
int gs_h5data_load(const char *path, gs_raw_split *train, gs_raw_split *test,
                   int *has_test, char *err, size_t errsz);

typedef struct gs_synthetic_params {
    int      c, h, w;      /* image shape                      */
    int      num_classes;  /* K                                */
    long     n_train;      /* images in each split             */
    long     n_test;
    uint64_t seed;
} gs_synthetic_params;

/* Deterministic uint8 images: per-class smooth prototypes plus per-image noise,
 * brightness and shift.  The same params give the same bytes on every machine. */
int gs_synthetic_generate(const gs_synthetic_params *p, const char *spec,
                          gs_raw_split *train, gs_raw_split *test,
                          char *err, size_t errsz);

#endif
