/* test_gather.c — gs_dataset_gather: plain copies, hand-computed crops and flips,
 * every offset in [-5, 5]^2 x {flip} against a reference, bad indices, and speed
 * (a batch of 128 images of 3x32x32). */
#include "ds_test_util.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

/* A dataset built by hand: image i, channel c, pixel (y, x) = 1000 i + 100 c + 10 y + x + 1
 * (never 0, so that a zero in the output always means "outside the image"). */
static gs_dataset make_dataset(int n, int c, int h, int w)
{
    gs_dataset ds;
    memset(&ds, 0, sizeof(ds));
    ds.n = n;
    ds.c = c;
    ds.h = h;
    ds.w = w;
    ds.num_classes = 10;
    ds.images = malloc(sizeof(float) * (size_t)n * c * h * w);
    ds.labels = malloc(sizeof(int32_t) * (size_t)n);
    for (int i = 0; i < n; i++) {
        ds.labels[i] = (i * 7) % 10;
        for (int ch = 0; ch < c; ch++)
            for (int y = 0; y < h; y++)
                for (int x = 0; x < w; x++)
                    ds.images[(((size_t)i * c + ch) * h + y) * w + x] =
                        (float)(1000 * i + 100 * ch + 10 * y + x + 1);
    }
    return ds;
}

/* The definition, written as plainly as possible:
 * out(y, x) = padded(y + dy, xs + dx), xs = flip ? w - 1 - x : x, 0 outside. */
static float reference_pixel(const gs_dataset *ds, int i, int ch, int y, int x,
                             const gs_augment *a)
{
    int xs = a->flip ? ds->w - 1 - x : x;
    int sy = y + a->dy, sx = xs + a->dx;
    if (sy < 0 || sy >= ds->h || sx < 0 || sx >= ds->w)
        return 0.0f;
    return ds->images[(((size_t)i * ds->c + ch) * ds->h + sy) * ds->w + sx];
}

static void test_hand_computed(void)
{
    /* one 1x3x3 image:  1 2 3 / 4 5 6 / 7 8 9 */
    gs_dataset ds;
    memset(&ds, 0, sizeof(ds));
    float img[9] = { 1, 2, 3, 4, 5, 6, 7, 8, 9 };
    int32_t lab[1] = { 4 };
    ds.n = 1;
    ds.c = 1;
    ds.h = 3;
    ds.w = 3;
    ds.num_classes = 5;
    ds.images = img;
    ds.labels = lab;
    int32_t idx[1] = { 0 };
    float out[9];
    int32_t ol[1];

    struct { gs_augment a; float want[9]; } cases[] = {
        { { 0, 0, 0 },   { 1, 2, 3, 4, 5, 6, 7, 8, 9 } },
        { { 1, 0, 0 },   { 2, 3, 0, 5, 6, 0, 8, 9, 0 } },   /* shift left  */
        { { -1, 0, 0 },  { 0, 1, 2, 0, 4, 5, 0, 7, 8 } },   /* shift right */
        { { 0, 1, 0 },   { 4, 5, 6, 7, 8, 9, 0, 0, 0 } },   /* shift up    */
        { { -1, 1, 0 },  { 0, 4, 5, 0, 7, 8, 0, 0, 0 } },
        { { 0, 0, 1 },   { 3, 2, 1, 6, 5, 4, 9, 8, 7 } },   /* mirror      */
        { { 1, 0, 1 },   { 0, 3, 2, 0, 6, 5, 0, 9, 8 } },   /* crop then mirror */
        { { -1, -1, 1 }, { 0, 0, 0, 2, 1, 0, 5, 4, 0 } },
        { { 3, 0, 0 },   { 0, 0, 0, 0, 0, 0, 0, 0, 0 } },   /* all outside */
        { { 0, -3, 1 },  { 0, 0, 0, 0, 0, 0, 0, 0, 0 } },
    };
    for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
        memset(out, 0xff, sizeof(out));
        gs_dataset_gather(&ds, idx, 1, &cases[k].a, out, ol);
        CHECKF(memcmp(out, cases[k].want, sizeof(out)) == 0,
               "case dx=%d dy=%d flip=%d: got %g %g %g / %g %g %g / %g %g %g", cases[k].a.dx,
               cases[k].a.dy, cases[k].a.flip, out[0], out[1], out[2], out[3], out[4], out[5],
               out[6], out[7], out[8]);
        CHECK(ol[0] == 4);
    }
}

static void test_against_reference(void)
{
    gs_dataset ds = make_dataset(7, 3, 6, 8);
    /* every (dx, dy, flip) in [-5, 5]^2 x {0, 1}, spread over a batch */
    int count = 11 * 11 * 2;
    int32_t *idx = malloc(sizeof(int32_t) * count);
    gs_augment *aug = malloc(sizeof(gs_augment) * count);
    size_t chw = (size_t)ds.c * ds.h * ds.w;
    float *out = malloc(sizeof(float) * count * chw);
    int32_t *ol = malloc(sizeof(int32_t) * count);
    int k = 0;
    for (int dy = -5; dy <= 5; dy++)
        for (int dx = -5; dx <= 5; dx++)
            for (int flip = 0; flip <= 1; flip++) {
                idx[k] = (k * 5) % ds.n;
                aug[k].dx = dx;
                aug[k].dy = dy;
                aug[k].flip = flip;
                k++;
            }
    gs_dataset_gather(&ds, idx, count, aug, out, ol);
    int bad = 0;
    for (int b = 0; b < count; b++) {
        CHECK(ol[b] == ds.labels[idx[b]]);
        for (int ch = 0; ch < ds.c; ch++)
            for (int y = 0; y < ds.h; y++)
                for (int x = 0; x < ds.w; x++) {
                    float want = reference_pixel(&ds, idx[b], ch, y, x, &aug[b]);
                    float got = out[b * chw + ((size_t)ch * ds.h + y) * ds.w + x];
                    if (got != want && bad++ < 5)
                        fprintf(stderr, "  b=%d dx=%d dy=%d flip=%d (%d,%d,%d): %g vs %g\n", b,
                                aug[b].dx, aug[b].dy, aug[b].flip, ch, y, x, got, want);
                }
    }
    CHECKF(bad == 0, "%d pixels differ from the reference", bad);

    /* no augmentation: exact copies, in the order of the indices */
    int32_t order[4] = { 6, 0, 3, 3 };
    gs_dataset_gather(&ds, order, 4, NULL, out, ol);
    for (int b = 0; b < 4; b++) {
        CHECK(memcmp(out + b * chw, ds.images + order[b] * chw, chw * sizeof(float)) == 0);
        CHECK(ol[b] == ds.labels[order[b]]);
    }

    /* an index outside [0, n): zeros and label -1, the others untouched */
    int32_t wrong[3] = { 1, 7, -1 };
    gs_dataset_gather(&ds, wrong, 3, NULL, out, ol);
    CHECK(memcmp(out, ds.images + chw, chw * sizeof(float)) == 0 && ol[0] == ds.labels[1]);
    CHECK(ol[1] == -1 && ol[2] == -1);
    int nonzero = 0;
    for (size_t j = chw; j < 3 * chw; j++)
        nonzero += out[j] != 0.0f;
    CHECK(nonzero == 0);

    /* labels only */
    gs_dataset_gather(&ds, order, 4, NULL, NULL, ol);
    CHECK(ol[0] == ds.labels[6]);

    free(idx);
    free(aug);
    free(out);
    free(ol);
    gs_dataset_free(&ds);
}

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void test_speed(void)
{
    gs_dataset ds = make_dataset(1024, 3, 32, 32);
    enum { B = 128, REPS = 200 };
    int32_t idx[B];
    gs_augment aug[B];
    float *out = malloc(sizeof(float) * B * 3 * 32 * 32);
    int32_t ol[B];
    uint64_t s = 3;
    for (int i = 0; i < B; i++) {
        idx[i] = (int32_t)(ds_rand_next(&s) % 1024);
        aug[i].dx = (int)(ds_rand_next(&s) % 9) - 4;
        aug[i].dy = (int)(ds_rand_next(&s) % 9) - 4;
        aug[i].flip = (int)(ds_rand_next(&s) & 1);
    }
    gs_dataset_gather(&ds, idx, B, aug, out, ol);   /* warm up (thread pool, pages) */
    double best = 1e9, total = 0;
    for (int r = 0; r < REPS; r++) {
        double t0 = now_seconds();
        gs_dataset_gather(&ds, idx, B, aug, out, ol);
        double dt = now_seconds() - t0;
        total += dt;
        if (dt < best)
            best = dt;
    }
    printf("gather 128 x 3x32x32 with crop+flip: best %.1f us, mean %.1f us\n", best * 1e6,
           total / REPS * 1e6);
    /* generous bound: this also runs under sanitizers on a shared machine */
    CHECKF(best < 2e-3, "best gather time %.3f ms", best * 1e3);
    free(out);
    gs_dataset_free(&ds);
}

int main(void)
{
    test_hand_computed();
    test_against_reference();
    test_speed();
    return ds_test_finish("datasets-gather");
}
