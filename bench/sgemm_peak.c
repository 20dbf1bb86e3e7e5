/* sgemm_peak — the machine's OpenBLAS sgemm throughput on square matrices, the
 * reference for "fraction of peak" figures.  Prints one JSON line.
 * usage: sgemm_peak [N=2048] [threads=2] [repeats=5] */
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 2048;
    int threads = argc > 2 ? atoi(argv[2]) : 2;
    int repeats = argc > 3 ? atoi(argv[3]) : 5;
    if (n < 16 || threads < 1 || repeats < 1) {
        fprintf(stderr, "usage: sgemm_peak [N] [threads] [repeats]\n");
        return 2;
    }
    openblas_set_num_threads(threads);
    float *a = malloc(sizeof(float) * n * n), *b = malloc(sizeof(float) * n * n), *c = malloc(sizeof(float) * n * n);
    if (!a || !b || !c)
        return 1;
    for (long i = 0; i < (long)n * n; i++) {
        a[i] = (float)(i % 7) * 0.1f;
        b[i] = (float)(i % 5) * 0.2f;
    }
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0f, a, n, b, n, 0.0f, c, n);
    double best = 1e30;
    for (int r = 0; r < repeats; r++) {
        double t0 = now_seconds();
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0f, a, n, b, n, 0.0f, c, n);
        double t = now_seconds() - t0;
        if (t < best)
            best = t;
    }
    printf("{\"n\": %d, \"threads\": %d, \"gflops_best\": %.1f}\n", n, threads, 2.0 * n * n * (double)n / best * 1e-9);
    free(a);
    free(b);
    free(c);
    return 0;
}
