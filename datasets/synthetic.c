/* synthetic.c — a deterministic, learnable image-classification dataset.
 *
 * Class k owns one smooth prototype per channel: a 4x4 grid of values in [-1, 1]
 * drawn from the seed.  Image i of a split gets
 *
 *   label      k = i mod K                       (balanced classes)
 *   grid       32 * (contrast * proto_k + 2 * nuisance)   (4x4 per channel)
 *   pixel      128 + brightness + bilinear(grid)(y - sy, x - sx) + noise
 *
 * with, per image, a contrast in [0.8, 1.2], a nuisance grid uniform in [-1, 1] (a
 * random pattern as smooth as the prototypes), a brightness in [-20, 20] and a shift
 * (sx, sy) in [-2, 2]^2 (edges clamped); per pixel a bell-shaped noise of standard
 * deviation ~40 (sum of four uniforms); rounded and clamped to 0..255.
 *
 * Difficulty (3x32x32, 10 classes, defaults): a nearest-class-mean classifier gets
 * ~0.72 test accuracy; a PyTorch ResNet-8 (SGD 0.1, batch 128) ~0.4 after 400 steps.
 * Learnable far above chance, not solved by template matching.
 *
 * Determinism: every image draws from its own splitmix64 stream derived from
 * (seed, split, i), and only integer and IEEE double arithmetic (+, -, *, /, floor)
 * is used: the same seed gives the same bytes on every machine and thread count,
 * and image i does not depend on how many images were asked for.
 */
#include "gs_dataset_internal.h"

#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define GS_SYNTH_GRID      4        /* prototype control points per side */
#define GS_SYNTH_AMPLITUDE 32.0
#define GS_SYNTH_NOISE     40.0     /* approximate standard deviation */
#define GS_SYNTH_SHIFT     2
#define GS_SYNTH_NUISANCE  2.0      /* nuisance pattern, relative to the prototype */
#define GS_SYNTH_STREAM_PROTO 0x70726f746fULL   /* "proto" */
#define GS_SYNTH_STREAM_TRAIN 0x747261696eULL   /* "train" */
#define GS_SYNTH_STREAM_TEST  0x74657374ULL     /* "test"  */

/* splitmix64 (Steele, Lea, Flood 2014). */
static uint64_t gs_synth_next(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* The starting state of stream (seed, purpose, index). */
static uint64_t gs_synth_stream(uint64_t seed, uint64_t purpose, uint64_t index)
{
    uint64_t s = seed;
    uint64_t a = gs_synth_next(&s);
    s = a ^ (purpose * 0xd1b54a32d192ed03ULL);
    uint64_t b = gs_synth_next(&s);
    s = b ^ (index * 0x8cb92ba72f3d8dd7ULL);
    return gs_synth_next(&s);
}

/* Uniform in [0, 1) with 53 random bits. */
static double gs_synth_uniform(uint64_t *state)
{
    return (double)(gs_synth_next(state) >> 11) * (1.0 / 9007199254740992.0);
}

/* grid (K, C, G, G) in [-1, 1] */
static void gs_synth_prototypes(double *grid, int num_classes, int c, uint64_t seed)
{
    uint64_t s = gs_synth_stream(seed, GS_SYNTH_STREAM_PROTO, 0);
    size_t count = (size_t)num_classes * (size_t)c * GS_SYNTH_GRID * GS_SYNTH_GRID;
    for (size_t i = 0; i < count; i++)
        grid[i] = 2.0 * gs_synth_uniform(&s) - 1.0;
}

/* Bilinear position of pixel coordinate v (0..n-1) on the grid: cell index and weight. */
static void gs_synth_grid_coord(int v, int n, int *cell, double *t)
{
    double g = n > 1 ? (double)v * (GS_SYNTH_GRID - 1) / (double)(n - 1) : 0.0;
    int i = (int)floor(g);
    if (i > GS_SYNTH_GRID - 2)
        i = GS_SYNTH_GRID - 2;
    *cell = i;
    *t = g - (double)i;
}

/* img (c, h, w) = image index of one split, drawn from stream (seed, purpose, index). */
static void gs_synth_image(uint8_t *img, int32_t *label, const double *grid,
                           const gs_synthetic_params *p, uint64_t purpose, long index)
{
    uint64_t s = gs_synth_stream(p->seed, purpose, (uint64_t)index);
    int k = (int)(index % p->num_classes);
    double brightness = 40.0 * gs_synth_uniform(&s) - 20.0;
    double contrast = 0.8 + 0.4 * gs_synth_uniform(&s);
    int sx = (int)(gs_synth_next(&s) % (2 * GS_SYNTH_SHIFT + 1)) - GS_SYNTH_SHIFT;
    int sy = (int)(gs_synth_next(&s) % (2 * GS_SYNTH_SHIFT + 1)) - GS_SYNTH_SHIFT;
    double noise_scale = GS_SYNTH_NOISE / sqrt(4.0 / 12.0);

    for (int ch = 0; ch < p->c; ch++) {
        /* This image's control points: the class prototype plus a nuisance pattern of
         * the same smoothness (what makes the task more than template matching). */
        const double *proto = grid + ((size_t)k * (size_t)p->c + (size_t)ch) *
                                         GS_SYNTH_GRID * GS_SYNTH_GRID;   /* (G, G) */
        double g[GS_SYNTH_GRID * GS_SYNTH_GRID];
        for (int j = 0; j < GS_SYNTH_GRID * GS_SYNTH_GRID; j++) {
            double nuisance = 2.0 * gs_synth_uniform(&s) - 1.0;
            g[j] = GS_SYNTH_AMPLITUDE * (contrast * proto[j] + GS_SYNTH_NUISANCE * nuisance);
        }
        for (int y = 0; y < p->h; y++) {
            int py = y - sy;
            py = py < 0 ? 0 : (py >= p->h ? p->h - 1 : py);
            int gy;
            double ty;
            gs_synth_grid_coord(py, p->h, &gy, &ty);
            for (int x = 0; x < p->w; x++) {
                int px = x - sx;
                px = px < 0 ? 0 : (px >= p->w ? p->w - 1 : px);
                int gx;
                double tx;
                gs_synth_grid_coord(px, p->w, &gx, &tx);
                double top = g[gy * GS_SYNTH_GRID + gx] * (1.0 - tx) +
                             g[gy * GS_SYNTH_GRID + gx + 1] * tx;
                double bottom = g[(gy + 1) * GS_SYNTH_GRID + gx] * (1.0 - tx) +
                                g[(gy + 1) * GS_SYNTH_GRID + gx + 1] * tx;
                double pattern = top * (1.0 - ty) + bottom * ty;

                /* Four 16-bit uniforms from one draw: Irwin-Hall noise, mean 0. */
                uint64_t r = gs_synth_next(&s);
                double u = (double)(r & 0xffff) + (double)((r >> 16) & 0xffff) +
                           (double)((r >> 32) & 0xffff) + (double)(r >> 48);
                double noise = (u / 65536.0 - 2.0) * noise_scale;

                double v = 128.0 + brightness + pattern + noise;
                v = floor(v + 0.5);
                v = v < 0.0 ? 0.0 : (v > 255.0 ? 255.0 : v);
                img[((size_t)ch * (size_t)p->h + (size_t)y) * (size_t)p->w + (size_t)x] =
                    (uint8_t)v;
            }
        }
    }
    *label = k;
}

static int gs_synth_split(gs_raw_split *out, const double *grid, const gs_synthetic_params *p,
                          long n, uint64_t purpose, const char *spec, char *err, size_t errsz)
{
    size_t chw = (size_t)p->c * (size_t)p->h * (size_t)p->w;
    size_t bytes;
    if (gs_size_mul(&bytes, (size_t)n, chw) != 0) {
        gs_dataset_set_error(err, errsz, "%s: %ld images of %dx%dx%d are too large",
                             spec, n, p->c, p->h, p->w);
        return -1;
    }
    out->pixels_u8 = malloc(bytes);
    out->labels = malloc((size_t)n * sizeof(int32_t));
    if (out->pixels_u8 == NULL || out->labels == NULL) {
        gs_dataset_set_error(err, errsz, "%s: out of memory (%zu bytes for %ld images)",
                             spec, bytes, n);
        gs_raw_split_free(out);
        return -1;
    }
    uint8_t *pixels = out->pixels_u8;   /* (n, c, h, w) */
    int32_t *labels = out->labels;      /* (n) */
    #pragma omp parallel for schedule(static) if (bytes >= (1u << 20))
    for (long i = 0; i < n; i++)
        gs_synth_image(pixels + (size_t)i * chw, labels + i, grid, p, purpose, i);

    out->n = n;
    out->c = p->c;
    out->h = p->h;
    out->w = p->w;
    out->num_classes = p->num_classes;
    return 0;
}

int gs_synthetic_generate(const gs_synthetic_params *p, const char *spec,
                          gs_raw_split *train, gs_raw_split *test,
                          char *err, size_t errsz)
{
    if (p->c < 1 || p->c > 4 || p->h < 1 || p->h > GS_DATASET_MAX_SIDE ||
        p->w < 1 || p->w > GS_DATASET_MAX_SIDE || p->num_classes < 2 ||
        p->num_classes > 1000) {
        gs_dataset_set_error(err, errsz, "%s: bad synthetic shape %dx%dx%d with %d classes",
                             spec, p->c, p->h, p->w, p->num_classes);
        return -1;
    }
    if (p->n_train < 1 || p->n_train > INT_MAX || p->n_test < 1 || p->n_test > INT_MAX) {
        gs_dataset_set_error(err, errsz, "%s: bad synthetic sizes %ld train / %ld test "
                             "(expected 1..%d each)", spec, p->n_train, p->n_test, INT_MAX);
        return -1;
    }
    size_t grid_count = (size_t)p->num_classes * (size_t)p->c * GS_SYNTH_GRID * GS_SYNTH_GRID;
    double *grid = malloc(grid_count * sizeof(double));   /* (K, C, G, G) */
    if (grid == NULL) {
        gs_dataset_set_error(err, errsz, "%s: out of memory", spec);
        return -1;
    }
    gs_synth_prototypes(grid, p->num_classes, p->c, p->seed);
    int rc = -1;
    if (gs_synth_split(train, grid, p, p->n_train, GS_SYNTH_STREAM_TRAIN, spec, err, errsz) == 0) {
        if (gs_synth_split(test, grid, p, p->n_test, GS_SYNTH_STREAM_TEST, spec, err, errsz) == 0)
            rc = 0;
        else
            gs_raw_split_free(train);
    }
    free(grid);
    return rc;
}
