/* gs_dataset.h — image classification datasets for gradscope.
 *
 * Contract
 * --------
 * A gs_dataset owns one split (train or test) of images already converted to
 * float32 NCHW and normalized, plus int32 labels.  Loading never exits the
 * process: every loader returns 0 on success or -1 on failure and writes a
 * one-line message naming the file and the problem into err[errsz]
 * (e.g. "data/train-images-idx3-ubyte.gz: truncated: expected 47040016 bytes, got 1000").
 *
 * Normalization: uint8 sources are scaled by 1/255, then normalized per channel
 * with the mean/std of the *training* split (the same numbers are applied to
 * the test split and stored in channel_mean/channel_std).  float32 images from
 * h5: sources are used exactly as stored (channel_mean = 0, channel_std = 1).
 *
 * Dependencies: libc, zlib, HDF5 (for h5: only).  No GLib, nothing from core/.
 */
#ifndef GS_DATASET_H
#define GS_DATASET_H

#include <stddef.h>
#include <stdint.h>

#define GS_DATASET_MAX_CHANNELS 4

typedef struct gs_dataset {
    char     name[64];        /* "fashion-mnist/train", "cifar10/test", ...         */
    char     source[512];     /* the file or directory it was read from             */
    int      n, c, h, w;      /* number of images and their shape                    */
    int      num_classes;     /* labels are in [0, num_classes)                      */
    float   *images;          /* (n, c, h, w), normalized; owned by the dataset      */
    int32_t *labels;          /* (n); owned by the dataset                           */
    float    channel_mean[GS_DATASET_MAX_CHANNELS]; /* applied as (x/255 - mean)/std */
    float    channel_std[GS_DATASET_MAX_CHANNELS];
} gs_dataset;

/* Options that shape what a loader returns. */
typedef struct gs_dataset_options {
    const char *data_dir;     /* fashion-mnist directory override (NULL: the Debian path) */
    long        limit_train;  /* keep the first N training images (0 = all)          */
    long        limit_test;   /* keep the first N test images (0 = all)              */
    /* synthetic only (ignored otherwise): */
    long        synthetic_train;  /* default 2048 */
    long        synthetic_test;   /* default 512  */
    uint64_t    synthetic_seed;   /* default 0    */
} gs_dataset_options;

#define GS_FASHION_MNIST_DIR "/usr/share/datasets/fashion-mnist"

/* Load both splits named by spec:
 *   "fashion-mnist"            Debian's dataset-fashion-mnist (or opts->data_dir)
 *   "mnist:DIR"                IDX files (train-images-idx3-ubyte[.gz], ...) in DIR
 *   "cifar10:DIR"              data_batch_{1..5}.bin + test_batch.bin in DIR
 *   "cifar100:DIR"             train.bin + test.bin (fine labels) in DIR
 *   "h5:FILE"                  /images [N,C,H,W] uint8|float32, /labels [N] any int type;
 *                              optional /test_images + /test_labels; without them the
 *                              test split is the same images as train
 *   "synthetic[:CxHxW[:K]]"    deterministic, learnable (default 3x32x32, 10 classes)
 * On success fills *train and *test (free with gs_dataset_free) and returns 0.
 * On failure returns -1, both outputs are left empty (safe to free), err is set.
 *
 * Details (see the loaders in datasets/):
 *   - "fashion-mnist:DIR" is also accepted (DIR wins over opts->data_dir).
 *   - IDX: for each name, NAME.gz is tried first, then NAME.  Image and label counts
 *     must match, sides must be 1..4096, labels < 10, and nothing may follow the data.
 *   - CIFAR: every file must be a whole number of records; labels < 10 (CIFAR-10),
 *     fine < 100 and coarse < 20 (CIFAR-100).
 *   - h5: C in 1..4; float64 images are converted to float32; images must be finite;
 *     labels in [0, 1000000); num_classes = 1 + the largest label of both splits;
 *     /test_images must have the C, H, W and type of /images.
 *   - synthetic: K in 2..1000, C in 1..4; image i has label i mod K.
 *   - opts may be NULL (all defaults); negative limits are an error; a limit above
 *     the split size keeps everything.  The normalization statistics are computed
 *     over the kept training images; a constant channel gets std 1.
 *   - err may be NULL; on success err is set to "". */
int  gs_dataset_load(const char *spec, const gs_dataset_options *opts,
                     gs_dataset *train, gs_dataset *test, char *err, size_t errsz);

void gs_dataset_free(gs_dataset *ds);

/* Per-image augmentation decided by the caller (the trainer owns the RNG, so that a
 * run is reproducible from its seed and step alone). */
typedef struct gs_augment {
    int dx, dy;   /* crop offset in [-pad, pad]: output(y, x) = padded input(y + dy, x + dx) */
    int flip;     /* 1: mirror horizontally (after the crop)                                */
} gs_augment;

/* Gather a mini-batch:
 *   out_images (count, c, h, w)   out_labels (count)
 *   indices    (count)            which images of ds, in order
 *   aug        (count) or NULL    per-image crop/flip; pixels that fall outside the
 *                                 image read as 0 (that is, the channel mean after
 *                                 normalization).
 * out_images or out_labels may be NULL (not wanted).  An index outside [0, n) is a
 * caller bug: that slot gets zeros and label -1.  Single-threaded for ordinary
 * batches (128 x 3x32x32: ~0.1 ms); OpenMP only for very large ones. */
void gs_dataset_gather(const gs_dataset *ds, const int32_t *indices, int count,
                       const gs_augment *aug, float *out_images, int32_t *out_labels);

#endif
