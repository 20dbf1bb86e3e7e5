/* bench_overlap — the overlap pass (gs_overlap_add_relu: a block's input gradient, its
 * statistics and, on histogram steps, the three block histograms) on synthetic
 * gradients shaped like a ReLU network's: about half the skip and residual elements
 * exact zeros, the rest small, a ReLU mask of half ones.  Times the pass with and
 * without histograms, alternating, and prints the best of each and the binning cost
 * per element as one JSON line:
 *   {"elements": N, "threads": T, "hist_ms": ..., "plain_ms": ..., "binning_ns_per_element": ...}
 *
 * usage: bench_overlap [--elements 2097152] [--threads 1] [--rounds 30] */
#include <getopt.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "gs_gradstats.h"

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

int main(int argc, char **argv)
{
    long elements = 2L << 20;
    int threads = 1, rounds = 30;
    static const struct option opts[] = {
        {"elements", required_argument, NULL, 'n'},
        {"threads", required_argument, NULL, 't'},
        {"rounds", required_argument, NULL, 'r'},
        {NULL, 0, NULL, 0},
    };
    int c;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        char *end = NULL;
        long v = optarg ? strtol(optarg, &end, 10) : 0;
        if (c == '?' || !end || *end || v < 1) {
            fprintf(stderr, "usage: bench_overlap [--elements N] [--threads T] [--rounds R] (positive integers)\n");
            return 2;
        }
        if (c == 'n')
            elements = v;
        else if (c == 't')
            threads = (int)v;
        else
            rounds = (int)v;
    }
    const size_t n = (size_t)elements;
    float *skip = malloc(sizeof(float) * n), *residual = malloc(sizeof(float) * n);
    float *relu_out = malloc(sizeof(float) * n), *dx = malloc(sizeof(float) * n);
    int64_t (*hist)[GS_HIST_BINS] = calloc(3, sizeof *hist);
    if (!skip || !residual || !relu_out || !dx || !hist) {
        fprintf(stderr, "bench_overlap: out of memory for %zu elements\n", n);
        return 1;
    }
    uint32_t z = 1;
    for (size_t i = 0; i < n; i++) {
        z = z * 1664525u + 1013904223u;
        const float u = (float)(z >> 8) / 16777216.0f;
        skip[i] = (z & 1) ? 0.0f : (u - 0.5f) * 1e-3f;
        residual[i] = (z & 2) ? 0.0f : (u - 0.3f) * 2e-4f;
        relu_out[i] = (z & 4) ? 1.0f : 0.0f;
    }
    omp_set_num_threads(threads);
    double best_hist = 1e30, best_plain = 1e30;
    for (int r = 0; r < rounds; r++) {
        gs_overlap_sums sums;
        gs_overlap_sums_clear(&sums);
        double t = now_seconds();
        gs_overlap_add_relu(dx, skip, residual, relu_out, n, &sums, hist);
        t = now_seconds() - t;
        best_hist = t < best_hist ? t : best_hist;
        gs_overlap_sums_clear(&sums);
        t = now_seconds();
        gs_overlap_add_relu(dx, skip, residual, relu_out, n, &sums, NULL);
        t = now_seconds() - t;
        best_plain = t < best_plain ? t : best_plain;
    }
    printf("{\"elements\": %zu, \"threads\": %d, \"hist_ms\": %.3f, \"plain_ms\": %.3f, "
           "\"binning_ns_per_element\": %.2f}\n",
           n, threads, best_hist * 1e3, best_plain * 1e3, (best_hist - best_plain) * 1e9 / (double)n);
    free(skip); free(residual); free(relu_out); free(dx); free(hist);
    return 0;
}
