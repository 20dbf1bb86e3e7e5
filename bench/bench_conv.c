/* bench_conv — the convolutions of ResNet-20 (32x32x3 and 28x28x1 inputs), im2col +
 * sgemm against the direct kernels, timed alternately in one process (A B A B …) and
 * reported as medians, ratios and GFLOP/s, per layer shape and per pass:
 *   fwd    out = conv(in, w)
 *   wgrad  dw += dout ⋆ in                       (backward with din = NULL)
 *   dgrad  din = convᵀ(dout)                     (full backward minus wgrad)
 * and the sum over the network's layers, each shape weighted by how often it occurs.
 *
 * usage: bench_conv [--batch 128] [--threads 2] [--rounds 7] [--reps 3] [--size 32|28|both]
 *                   [--cpu-time]
 *
 * Prints a table and, last, one JSON line per input size with the network totals. */
#include <cblas.h>
#include <getopt.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gs_conv_direct.h"
#include "gs_layers.h"
#include "gs_rng.h"

/* wall time, or with --cpu-time the process's CPU time (all threads): on a machine
 * shared with other jobs the CPU time of a 1-thread run shows the kernels' own speed */
static clockid_t timer = CLOCK_MONOTONIC;

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(timer, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n)
{
    qsort(v, n, sizeof(double), cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

typedef struct layer {
    const char *what;
    int C, H, O, stride, count, has_dx;
} layer;

enum { PASS_FWD, PASS_WGRAD, PASS_BWD, NUM_PASSES };
enum { ALGO_IM2COL, ALGO_DIRECT, NUM_ALGOS };
#define MAX_ROUNDS 64

int main(int argc, char **argv)
{
    int batch = 128, threads = 2, rounds = 7, reps = 3;
    const char *sizes = "both";
    static const struct option opts[] = {
        {"batch", required_argument, 0, 'b'}, {"threads", required_argument, 0, 't'},
        {"rounds", required_argument, 0, 'r'}, {"reps", required_argument, 0, 'n'},
        {"size", required_argument, 0, 's'}, {"cpu-time", no_argument, 0, 'c'}, {0, 0, 0, 0}};
    int c;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'b': batch = atoi(optarg); break;
        case 't': threads = atoi(optarg); break;
        case 'r': rounds = atoi(optarg); break;
        case 'n': reps = atoi(optarg); break;
        case 's': sizes = optarg; break;
        case 'c': timer = CLOCK_PROCESS_CPUTIME_ID; break;
        default:
            fprintf(stderr, "bench_conv: see the comment at the top of bench/bench_conv.c\n");
            return 2;
        }
    }
    if (batch < 1 || threads < 1 || rounds < 1 || rounds > MAX_ROUNDS || reps < 1) {
        fprintf(stderr, "bench_conv: bad arguments\n");
        return 2;
    }
    openblas_set_num_threads(1);
    omp_set_num_threads(threads);
    const char *isa;
    gs_conv_direct_available(&isa);
    printf("# batch %d, threads %d, %d rounds x %d reps, medians of %s; direct kernels: %s\n",
           batch, threads, rounds, reps, timer == CLOCK_MONOTONIC ? "wall time" : "process CPU time", isa);

    static const layer r20_32[] = {
        {"stem 3->16 32x32", 3, 32, 16, 1, 1, 0},
        {"16->16 32x32", 16, 32, 16, 1, 6, 1},
        {"16->32 32x32 s2", 16, 32, 32, 2, 1, 1},
        {"32->32 16x16", 32, 16, 32, 1, 5, 1},
        {"32->64 16x16 s2", 32, 16, 64, 2, 1, 1},
        {"64->64 8x8", 64, 8, 64, 1, 5, 1},
    };
    static const layer r20_28[] = {
        {"stem 1->16 28x28", 1, 28, 16, 1, 1, 0},
        {"16->16 28x28", 16, 28, 16, 1, 6, 1},
        {"16->32 28x28 s2", 16, 28, 32, 2, 1, 1},
        {"32->32 14x14", 32, 14, 32, 1, 5, 1},
        {"32->64 14x14 s2", 32, 14, 64, 2, 1, 1},
        {"64->64 7x7", 64, 7, 64, 1, 5, 1},
    };
    struct { int size; const layer *layers; int n; } nets[2] = {
        {32, r20_32, 6}, {28, r20_28, 6}};

    gs_rng rng;
    gs_rng_seed(&rng, 7);
    for (int ni = 0; ni < 2; ni++) {
        if (strcmp(sizes, "both") && atoi(sizes) != nets[ni].size)
            continue;
        printf("\n# ResNet-20 on %dx%d: ms per call (median), im2col / direct, GFLOP/s\n", nets[ni].size,
               nets[ni].size);
        printf("%-18s %5s  %-5s %9s %9s %7s %8s %8s\n", "layer", "count", "pass", "im2col", "direct",
               "ratio", "GF/s i2c", "GF/s dir");
        double net[NUM_ALGOS][NUM_PASSES] = {{0}};
        double net_flop = 0.0;
        for (int li = 0; li < nets[ni].n; li++) {
            const layer *ly = &nets[ni].layers[li];
            gs_conv_shape s;
            gs_conv_shape_init(&s, batch, ly->C, ly->H, ly->H, ly->O, 3, ly->stride, 1);
            size_t nx = (size_t)batch * ly->C * ly->H * ly->H, nw = (size_t)ly->O * ly->C * 9;
            size_t ny = (size_t)batch * ly->O * s.out_h * s.out_w;
            size_t nws = gs_conv2d_workspace_floats(&s, threads);
            float *x = malloc(sizeof(float) * nx), *dx = malloc(sizeof(float) * nx);
            float *w = malloc(sizeof(float) * nw), *dw = calloc(nw, sizeof(float));
            float *y = malloc(sizeof(float) * ny), *dy = malloc(sizeof(float) * ny);
            float *ws = malloc(sizeof(float) * nws);
            if (!x || !dx || !w || !dw || !y || !dy || !ws) {
                fprintf(stderr, "bench_conv: out of memory\n");
                return 1;
            }
            for (size_t i = 0; i < nx; i++)
                x[i] = (float)gs_rng_normal(&rng);
            for (size_t i = 0; i < nw; i++)
                w[i] = (float)(0.1 * gs_rng_normal(&rng));
            for (size_t i = 0; i < ny; i++)
                dy[i] = (float)gs_rng_normal(&rng);
            memset(ws, 0, sizeof(float) * nws);

            double t[NUM_ALGOS][NUM_PASSES][MAX_ROUNDS];
            const gs_conv_algo algos[NUM_ALGOS] = {GS_CONV_ALGO_IM2COL, GS_CONV_ALGO_DIRECT};
            for (int r = -1; r < rounds; r++) {           /* round −1 warms up */
                for (int ai = 0; ai < NUM_ALGOS; ai++) {
                    int a = r % 2 ? NUM_ALGOS - 1 - ai : ai;   /* A B, B A, … */
                    for (int p = 0; p < NUM_PASSES; p++) {
                        double t0 = now_seconds();
                        for (int k = 0; k < reps; k++) {
                            if (p == PASS_FWD)
                                gs_conv2d_forward_algo(y, x, w, &s, ws, threads, algos[a]);
                            else if (p == PASS_WGRAD)
                                gs_conv2d_backward_algo(NULL, dw, dy, x, w, &s, ws, threads, algos[a]);
                            else
                                gs_conv2d_backward_algo(dx, dw, dy, x, w, &s, ws, threads, algos[a]);
                        }
                        if (r >= 0)
                            t[a][p][r] = (now_seconds() - t0) / reps;
                    }
                }
            }
            double flop = 2.0 * batch * ly->O * s.out_h * s.out_w * ly->C * 9;
            double med[NUM_ALGOS][NUM_PASSES];
            for (int a = 0; a < NUM_ALGOS; a++)
                for (int p = 0; p < NUM_PASSES; p++)
                    med[a][p] = median(t[a][p], rounds);
            const char *names[3] = {"fwd", "wgrad", "dgrad"};
            for (int p = 0; p < 3; p++) {
                if (p == 2 && !ly->has_dx)
                    continue;
                double ti = med[ALGO_IM2COL][p], td = med[ALGO_DIRECT][p];
                if (p == 2) {   /* dgrad = full backward − wgrad */
                    ti = med[ALGO_IM2COL][PASS_BWD] - med[ALGO_IM2COL][PASS_WGRAD];
                    td = med[ALGO_DIRECT][PASS_BWD] - med[ALGO_DIRECT][PASS_WGRAD];
                }
                printf("%-18s %5d  %-5s %9.3f %9.3f %6.2fx %8.1f %8.1f\n", p == 0 ? ly->what : "",
                       ly->count, names[p], ti * 1e3, td * 1e3, ti / td, flop / ti * 1e-9,
                       flop / td * 1e-9);
                net[ALGO_IM2COL][p] += ly->count * ti;
                net[ALGO_DIRECT][p] += ly->count * td;
                net_flop += ly->count * flop;
            }
            free(x); free(dx); free(w); free(dw); free(y); free(dy); free(ws);
        }
        double ti = net[ALGO_IM2COL][0] + net[ALGO_IM2COL][1] + net[ALGO_IM2COL][2];
        double td = net[ALGO_DIRECT][0] + net[ALGO_DIRECT][1] + net[ALGO_DIRECT][2];
        printf("%-18s %5s  %-5s %9.2f %9.2f %6.2fx %8.1f %8.1f\n", "all convs", "", "sum", ti * 1e3,
               td * 1e3, ti / td, net_flop / ti * 1e-9, net_flop / td * 1e-9);
        printf("{\"net\": \"resnet20\", \"size\": %d, \"batch\": %d, \"threads\": %d, \"isa\": \"%s\", "
               "\"im2col_ms\": {\"fwd\": %.2f, \"wgrad\": %.2f, \"dgrad\": %.2f}, "
               "\"direct_ms\": {\"fwd\": %.2f, \"wgrad\": %.2f, \"dgrad\": %.2f}, \"ratio\": %.3f, "
               "\"gflops_im2col\": %.1f, \"gflops_direct\": %.1f}\n",
               nets[ni].size, batch, threads, isa, net[0][0] * 1e3, net[0][1] * 1e3, net[0][2] * 1e3,
               net[1][0] * 1e3, net[1][1] * 1e3, net[1][2] * 1e3, ti / td, net_flop / ti * 1e-9,
               net_flop / td * 1e-9);
    }
    return 0;
}
