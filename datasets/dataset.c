/* dataset.c — spec parsing, normalization, gather and free (see gs_dataset.h).
 *
 * The loaders (idx.c, cifar.c, h5data.c, synthetic.c) return the pixels as stored;
 * this file turns them into what the trainer sees:
 *
 *   raw (n, c, h, w) uint8 ──limit──► x/255 ──(x - mean_c)/std_c──► float (n, c, h, w)
 *
 * with mean_c and std_c (population std) computed in double precision over the kept
 * training images and applied to both splits.  float32 sources are copied as is.
 */
#include "gs_dataset.h"
#include "gs_dataset_internal.h"

#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- small shared helpers ---------------------------------------------------- */

void gs_dataset_set_error(char *err, size_t errsz, const char *fmt, ...)
{
    if (err == NULL || errsz == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errsz, fmt, ap);
    va_end(ap);
    /* The contract is ONE line: a path or an HDF5 message must not break it. */
    for (char *p = err; *p != '\0'; p++) {
        if (*p == '\n' || *p == '\r')
            *p = ' ';
    }
}

int gs_size_mul(size_t *out, size_t a, size_t b)
{
    if (a != 0 && b > SIZE_MAX / a)
        return -1;
    *out = a * b;
    return 0;
}

void gs_raw_split_free(gs_raw_split *s)
{
    if (s == NULL)
        return;
    free(s->pixels_u8);
    free(s->pixels_f32);
    free(s->labels);
    memset(s, 0, sizeof(*s));
}

void gs_dataset_free(gs_dataset *ds)
{
    if (ds == NULL)
        return;
    free(ds->images);
    free(ds->labels);
    memset(ds, 0, sizeof(*ds));
}

/* Copies src into dst[dstsz], truncating; always terminates. */
static void gs_string_copy(char *dst, size_t dstsz, const char *src)
{
    size_t len = strlen(src);
    if (len >= dstsz)
        len = dstsz - 1;
    memcpy(dst, src, len);
    dst[len] = '\0';
}

/* ---- spec parsing ------------------------------------------------------------ */

typedef enum gs_dataset_kind {
    GS_DATASET_KIND_FASHION_MNIST,
    GS_DATASET_KIND_MNIST,
    GS_DATASET_KIND_CIFAR10,
    GS_DATASET_KIND_CIFAR100,
    GS_DATASET_KIND_H5,
    GS_DATASET_KIND_SYNTHETIC,
} gs_dataset_kind;

#define GS_SPEC_HELP \
    "expected fashion-mnist, mnist:DIR, cifar10:DIR, cifar100:DIR, h5:FILE or synthetic[:CxHxW[:K]]"

/* Parses a decimal integer in [lo, hi] at *p and advances *p past it. */
static int gs_spec_parse_long(const char **p, long lo, long hi, long *out)
{
    const char *s = *p;
    if (*s < '0' || *s > '9')
        return -1;
    long v = 0;
    while (*s >= '0' && *s <= '9') {
        if (v > (hi - (*s - '0')) / 10)
            return -1;                    /* above hi (and never overflows) */
        v = v * 10 + (*s - '0');
        s++;
    }
    if (v < lo)
        return -1;
    *out = v;
    *p = s;
    return 0;
}

/* "synthetic", "synthetic:CxHxW" or "synthetic:CxHxW:K" (arg is what follows the
 * first ':' or NULL). */
static int gs_spec_parse_synthetic(const char *spec, const char *arg,
                                   gs_synthetic_params *p, char *err, size_t errsz)
{
    p->c = 3;
    p->h = 32;
    p->w = 32;
    p->num_classes = 10;
    if (arg == NULL)
        return 0;

    const char *s = arg;
    long c, h, w, k = 10;
    if (gs_spec_parse_long(&s, 1, GS_DATASET_MAX_CHANNELS, &c) != 0 || *s++ != 'x' ||
        gs_spec_parse_long(&s, 1, GS_DATASET_MAX_SIDE, &h) != 0 || *s++ != 'x' ||
        gs_spec_parse_long(&s, 1, GS_DATASET_MAX_SIDE, &w) != 0) {
        gs_dataset_set_error(err, errsz,
                             "%s: bad shape (expected CxHxW with C in 1..%d and H, W in 1..%d, "
                             "e.g. synthetic:3x32x32:10)",
                             spec, GS_DATASET_MAX_CHANNELS, GS_DATASET_MAX_SIDE);
        return -1;
    }
    if (*s == ':') {
        s++;
        if (gs_spec_parse_long(&s, 2, 1000, &k) != 0 || *s != '\0') {
            gs_dataset_set_error(err, errsz,
                                 "%s: bad class count (expected an integer in 2..1000)", spec);
            return -1;
        }
    } else if (*s != '\0') {
        gs_dataset_set_error(err, errsz,
                             "%s: unexpected text after the shape (expected synthetic[:CxHxW[:K]])",
                             spec);
        return -1;
    }
    p->c = (int)c;
    p->h = (int)h;
    p->w = (int)w;
    p->num_classes = (int)k;
    return 0;
}

/* ---- normalization ----------------------------------------------------------- */

/* mean (c), std (c) of x/255 over the first n images of px (n, c, hw), exact:
 * every byte value is counted per channel and the sums are taken in double. */
static void gs_channel_stats_u8(double *mean, double *std, const uint8_t *px,
                                long n, int c, size_t hw)
{
    for (int ch = 0; ch < c; ch++) {
        uint64_t hist[256];
        memset(hist, 0, sizeof(hist));
        for (long i = 0; i < n; i++) {
            const uint8_t *plane = px + ((size_t)i * (size_t)c + (size_t)ch) * hw;
            for (size_t j = 0; j < hw; j++)
                hist[plane[j]]++;
        }
        double count = (double)n * (double)hw;
        double sum = 0.0;
        for (int v = 0; v < 256; v++)
            sum += (double)hist[v] * ((double)v / 255.0);
        double m = sum / count;
        double sq = 0.0;
        for (int v = 0; v < 256; v++) {
            double d = (double)v / 255.0 - m;
            sq += (double)hist[v] * d * d;
        }
        double s = sqrt(sq / count);
        mean[ch] = m;
        /* A constant channel carries no information: leave it centred, unscaled. */
        std[ch] = s > 1e-12 ? s : 1.0;
    }
}

/* Fills ds with the first keep images of raw, normalized with mean/std (c). */
static int gs_dataset_fill(gs_dataset *ds, const gs_raw_split *raw, long keep,
                           int num_classes, const double *mean, const double *std,
                           const char *source, char *err, size_t errsz)
{
    size_t hw = (size_t)raw->h * (size_t)raw->w;
    size_t chw = (size_t)raw->c * hw;
    size_t count, bytes;
    if (gs_size_mul(&count, (size_t)keep, chw) != 0 ||
        gs_size_mul(&bytes, count, sizeof(float)) != 0) {
        gs_dataset_set_error(err, errsz, "%s: %ld images of %dx%dx%d are too large to hold",
                             source, keep, raw->c, raw->h, raw->w);
        return -1;
    }
    ds->images = malloc(bytes);
    ds->labels = malloc((size_t)keep * sizeof(int32_t));
    if (ds->images == NULL || ds->labels == NULL) {
        gs_dataset_set_error(err, errsz, "%s: out of memory (%zu bytes for the images)",
                             source, bytes);
        free(ds->images);
        free(ds->labels);
        ds->images = NULL;
        ds->labels = NULL;
        return -1;
    }

    if (raw->pixels_u8 != NULL) {
        /* One table per channel: every byte value maps to exactly one float. */
        float lut[GS_DATASET_MAX_CHANNELS][256];
        for (int ch = 0; ch < raw->c; ch++) {
            for (int v = 0; v < 256; v++)
                lut[ch][v] = (float)(((double)v / 255.0 - mean[ch]) / std[ch]);
        }
        const uint8_t *src = raw->pixels_u8;   /* (n, c, h, w) */
        float *dst = ds->images;               /* (keep, c, h, w) */
        int c = raw->c;
        #pragma omp parallel for schedule(static) if (count >= (1u << 20))
        for (long i = 0; i < keep; i++) {
            for (int ch = 0; ch < c; ch++) {
                size_t off = ((size_t)i * (size_t)c + (size_t)ch) * hw;
                const float *table = lut[ch];
                for (size_t j = 0; j < hw; j++)
                    dst[off + j] = table[src[off + j]];
            }
        }
    } else {
        memcpy(ds->images, raw->pixels_f32, bytes);
    }
    memcpy(ds->labels, raw->labels, (size_t)keep * sizeof(int32_t));

    ds->n = (int)keep;
    ds->c = raw->c;
    ds->h = raw->h;
    ds->w = raw->w;
    ds->num_classes = num_classes;
    for (int ch = 0; ch < GS_DATASET_MAX_CHANNELS; ch++) {
        ds->channel_mean[ch] = ch < raw->c ? (float)mean[ch] : 0.0f;
        ds->channel_std[ch] = ch < raw->c ? (float)std[ch] : 1.0f;
    }
    gs_string_copy(ds->source, sizeof(ds->source), source);
    return 0;
}

static long gs_limit_apply(long n, long limit)
{
    return (limit > 0 && limit < n) ? limit : n;
}

/* ---- gs_dataset_load --------------------------------------------------------- */

int gs_dataset_load(const char *spec, const gs_dataset_options *opts,
                    gs_dataset *train, gs_dataset *test, char *err, size_t errsz)
{
    if (err != NULL && errsz > 0)
        err[0] = '\0';
    if (train != NULL)
        memset(train, 0, sizeof(*train));
    if (test != NULL)
        memset(test, 0, sizeof(*test));
    if (spec == NULL || spec[0] == '\0') {
        gs_dataset_set_error(err, errsz, "(empty spec): no dataset given (" GS_SPEC_HELP ")");
        return -1;
    }
    if (train == NULL || test == NULL) {
        gs_dataset_set_error(err, errsz, "%s: gs_dataset_load needs both train and test outputs",
                             spec);
        return -1;
    }

    gs_dataset_options defaults;
    memset(&defaults, 0, sizeof(defaults));
    if (opts == NULL)
        opts = &defaults;
    if (opts->limit_train < 0 || opts->limit_test < 0 ||
        opts->synthetic_train < 0 || opts->synthetic_test < 0) {
        gs_dataset_set_error(err, errsz, "%s: negative limit_train/limit_test/synthetic_train/"
                             "synthetic_test (0 means the default)", spec);
        return -1;
    }

    /* "kind" or "kind:arg" */
    const char *colon = strchr(spec, ':');
    size_t kind_len = colon != NULL ? (size_t)(colon - spec) : strlen(spec);
    const char *arg = colon != NULL ? colon + 1 : NULL;
    gs_dataset_kind kind;
    const char *kind_name;
    if (kind_len == 13 && strncmp(spec, "fashion-mnist", 13) == 0) {
        kind = GS_DATASET_KIND_FASHION_MNIST;
        kind_name = "fashion-mnist";
    } else if (kind_len == 5 && strncmp(spec, "mnist", 5) == 0) {
        kind = GS_DATASET_KIND_MNIST;
        kind_name = "mnist";
    } else if (kind_len == 7 && strncmp(spec, "cifar10", 7) == 0) {
        kind = GS_DATASET_KIND_CIFAR10;
        kind_name = "cifar10";
    } else if (kind_len == 8 && strncmp(spec, "cifar100", 8) == 0) {
        kind = GS_DATASET_KIND_CIFAR100;
        kind_name = "cifar100";
    } else if (kind_len == 2 && strncmp(spec, "h5", 2) == 0) {
        kind = GS_DATASET_KIND_H5;
        kind_name = "h5";
    } else if (kind_len == 9 && strncmp(spec, "synthetic", 9) == 0) {
        kind = GS_DATASET_KIND_SYNTHETIC;
        kind_name = "synthetic";
    } else {
        gs_dataset_set_error(err, errsz, "%s: unknown dataset spec (" GS_SPEC_HELP ")", spec);
        return -1;
    }
    /* Every kind but fashion-mnist and synthetic needs its path. */
    if (kind != GS_DATASET_KIND_FASHION_MNIST && kind != GS_DATASET_KIND_SYNTHETIC &&
        (arg == NULL || arg[0] == '\0')) {
        gs_dataset_set_error(err, errsz, "%s: missing %s after '%s:' (" GS_SPEC_HELP ")",
                             spec, kind == GS_DATASET_KIND_H5 ? "FILE" : "DIR", kind_name);
        return -1;
    }

    gs_raw_split raw_train, raw_test;
    memset(&raw_train, 0, sizeof(raw_train));
    memset(&raw_test, 0, sizeof(raw_test));
    int has_test = 1;
    int rc = -1;
    const char *source = arg;

    switch (kind) {
    case GS_DATASET_KIND_FASHION_MNIST:
        if (arg != NULL && arg[0] != '\0')
            source = arg;
        else if (opts->data_dir != NULL && opts->data_dir[0] != '\0')
            source = opts->data_dir;
        else
            source = GS_FASHION_MNIST_DIR;
        rc = gs_idx_load(source, &raw_train, &raw_test, err, errsz);
        break;
    case GS_DATASET_KIND_MNIST:
        rc = gs_idx_load(arg, &raw_train, &raw_test, err, errsz);
        break;
    case GS_DATASET_KIND_CIFAR10:
        rc = gs_cifar10_load(arg, &raw_train, &raw_test, err, errsz);
        break;
    case GS_DATASET_KIND_CIFAR100:
        rc = gs_cifar100_load(arg, &raw_train, &raw_test, err, errsz);
        break;
    case GS_DATASET_KIND_H5:
        rc = gs_h5data_load(arg, &raw_train, &raw_test, &has_test, err, errsz);
        break;
    case GS_DATASET_KIND_SYNTHETIC: {
        gs_synthetic_params p;
        memset(&p, 0, sizeof(p));
        if (gs_spec_parse_synthetic(spec, arg, &p, err, errsz) != 0)
            break;
        p.n_train = opts->synthetic_train > 0 ? opts->synthetic_train : 2048;
        p.n_test = opts->synthetic_test > 0 ? opts->synthetic_test : 512;
        p.seed = opts->synthetic_seed;
        rc = gs_synthetic_generate(&p, spec, &raw_train, &raw_test, err, errsz);
        source = spec;
        break;
    }
    }
    if (rc != 0)
        goto fail;

    const gs_raw_split *test_src = has_test ? &raw_test : &raw_train;
    int num_classes = raw_train.num_classes;
    if (has_test && raw_test.num_classes > num_classes)
        num_classes = raw_test.num_classes;

    /* Training statistics over the kept training images, applied to both splits. */
    long keep_train = gs_limit_apply(raw_train.n, opts->limit_train);
    long keep_test = gs_limit_apply(test_src->n, opts->limit_test);
    double mean[GS_DATASET_MAX_CHANNELS] = {0.0, 0.0, 0.0, 0.0};
    double std[GS_DATASET_MAX_CHANNELS] = {1.0, 1.0, 1.0, 1.0};
    if (raw_train.pixels_u8 != NULL)
        gs_channel_stats_u8(mean, std, raw_train.pixels_u8, keep_train, raw_train.c,
                            (size_t)raw_train.h * (size_t)raw_train.w);

    char src_buf[sizeof(train->source) + 64];
    if (kind == GS_DATASET_KIND_SYNTHETIC) {
        snprintf(src_buf, sizeof(src_buf), "synthetic:%dx%dx%d:%d (seed %llu)",
                 raw_train.c, raw_train.h, raw_train.w, raw_train.num_classes,
                 (unsigned long long)opts->synthetic_seed);
        source = src_buf;
    }
    if (gs_dataset_fill(train, &raw_train, keep_train, num_classes, mean, std, source,
                        err, errsz) != 0)
        goto fail;
    if (gs_dataset_fill(test, test_src, keep_test, num_classes, mean, std, source,
                        err, errsz) != 0)
        goto fail;

    char name[sizeof(train->name) + 16];
    snprintf(name, sizeof(name), "%s/train", kind_name);
    gs_string_copy(train->name, sizeof(train->name), name);
    snprintf(name, sizeof(name), "%s/test", kind_name);
    gs_string_copy(test->name, sizeof(test->name), name);

    gs_raw_split_free(&raw_train);
    gs_raw_split_free(&raw_test);
    return 0;

fail:
    gs_raw_split_free(&raw_train);
    gs_raw_split_free(&raw_test);
    gs_dataset_free(train);
    gs_dataset_free(test);
    return -1;
}

/* ---- gs_dataset_gather ------------------------------------------------------- */

/* out (c, h, w) = crop/flip of src (c, h, w):
 *   out(y, x) = src(y + dy, sx) with sx = x + dx, or (w - 1 - x) + dx when flipped;
 *   0 where the source pixel falls outside the image. */
static void gs_image_augment(float *restrict out, const float *restrict src, int c, int h, int w,
                             const gs_augment *a)
{
    int dx = a->dx, dy = a->dy;
    /* Columns x whose source column x + dx is inside [0, w): x in [x0, x1). */
    long x0 = dx < 0 ? -(long)dx : 0;
    long x1 = (long)w - (long)dx;
    if (x1 > w)
        x1 = w;
    if (x0 > w)
        x0 = w;
    if (x1 < x0)
        x1 = x0;

    for (int ch = 0; ch < c; ch++) {
        const float *plane = src + (size_t)ch * (size_t)h * (size_t)w;
        for (int y = 0; y < h; y++) {
            float *row = out + ((size_t)ch * (size_t)h + (size_t)y) * (size_t)w;
            long sy = (long)y + (long)dy;
            if (sy < 0 || sy >= h || x0 == x1) {
                memset(row, 0, (size_t)w * sizeof(float));
                continue;
            }
            const float *srow = plane + (size_t)sy * (size_t)w;
            /* Rows are short (32 floats for CIFAR): plain loops beat libc calls. */
            if (!a->flip) {
                /* row[x] = srow[x + dx] for x in [x0, x1), 0 elsewhere */
                for (long x = 0; x < x0; x++)
                    row[x] = 0.0f;
                #pragma omp simd
                for (long x = x0; x < x1; x++)
                    row[x] = srow[x + dx];
                for (long x = x1; x < w; x++)
                    row[x] = 0.0f;
            } else {
                /* row[x] = cropped[w - 1 - x] = srow[w - 1 - x + dx]; the cropped column
                 * w - 1 - x is valid for x in [w - x1, w - x0). */
                long m0 = (long)w - x1, m1 = (long)w - x0;
                long base = (long)w - 1 + dx;                  /* row[x] = srow[base - x] */
                for (long x = 0; x < m0; x++)
                    row[x] = 0.0f;
                #pragma omp simd
                for (long x = m0; x < m1; x++)
                    row[x] = srow[base - x];
                for (long x = m1; x < w; x++)
                    row[x] = 0.0f;
            }
        }
    }
}

void gs_dataset_gather(const gs_dataset *ds, const int32_t *indices, int count,
                       const gs_augment *aug, float *out_images, int32_t *out_labels)
{
    if (ds == NULL || indices == NULL || count <= 0)
        return;
    size_t chw = (size_t)ds->c * (size_t)ds->h * (size_t)ds->w;
    size_t total = (size_t)count * chw;

    /* A batch of 128 images of 3x32x32 is ~1.5 MB of copying (~0.2 ms on one core, memory
     * bound): threads only pay off for much larger batches, and a parallel region
     * can stall on a busy machine, so small gathers stay on the calling thread. */
    #pragma omp parallel for schedule(static) if (total >= ((size_t)1 << 22))
    for (int i = 0; i < count; i++) {
        int32_t idx = indices[i];
        float *out = out_images != NULL ? out_images + (size_t)i * chw : NULL;
        if (idx < 0 || idx >= ds->n) {
            /* A caller bug: give it something harmless and easy to spot. */
            if (out != NULL)
                memset(out, 0, chw * sizeof(float));
            if (out_labels != NULL)
                out_labels[i] = -1;
            continue;
        }
        const float *src = ds->images + (size_t)idx * chw;
        if (out != NULL) {
            if (aug == NULL || (aug[i].dx == 0 && aug[i].dy == 0 && !aug[i].flip))
                memcpy(out, src, chw * sizeof(float));
            else
                gs_image_augment(out, src, ds->c, ds->h, ds->w, &aug[i]);
        }
        if (out_labels != NULL)
            out_labels[i] = ds->labels[idx];
    }
}
