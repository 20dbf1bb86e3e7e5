/* fma_peak — the CPU's own single-precision FMA throughput, one thread per core: the
 * ceiling of any fp32 kernel here (OpenBLAS's sgemm, sgemm_peak, does not reach it on
 * every CPU).  Each thread runs 12 independent chains of vector FMAs (enough to cover
 * the FMA latency on two pipes) in registers, no memory traffic.  Prints one JSON line:
 *   {"isa": "avx512"|"avx2", "threads": T, "gflops": total, "gflops_per_thread": ...}
 *
 * usage: fma_peak [threads=1] [seconds=1]
 * The kernel is the widest of AVX-512 and AVX2 + FMA this CPU runs (exit 1 with
 * neither). */
#include <immintrin.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

#define CHAINS 12

/* `iters` rounds of CHAINS FMAs on vectors of VEC floats; returns a value that depends
 * on every chain (so no chain is optimized away). */
#define FMA_LOOP(NAME, TARGET, VEC, TYPE, SET1, FMADD, REDUCE)                          \
    __attribute__((target(TARGET))) static float NAME(long iters)                       \
    {                                                                                   \
        TYPE a0 = SET1(0.00f), a1 = SET1(0.01f), a2 = SET1(0.02f), a3 = SET1(0.03f);    \
        TYPE a4 = SET1(0.04f), a5 = SET1(0.05f), a6 = SET1(0.06f), a7 = SET1(0.07f);    \
        TYPE a8 = SET1(0.08f), a9 = SET1(0.09f), a10 = SET1(0.10f), a11 = SET1(0.11f);  \
        const TYPE m = SET1(0.9999f), c = SET1(0.0001f);                                \
        for (long n = 0; n < iters; n++) {                                              \
            a0 = FMADD(a0, m, c); a1 = FMADD(a1, m, c); a2 = FMADD(a2, m, c);            \
            a3 = FMADD(a3, m, c); a4 = FMADD(a4, m, c); a5 = FMADD(a5, m, c);            \
            a6 = FMADD(a6, m, c); a7 = FMADD(a7, m, c); a8 = FMADD(a8, m, c);            \
            a9 = FMADD(a9, m, c); a10 = FMADD(a10, m, c); a11 = FMADD(a11, m, c);        \
        }                                                                               \
        TYPE s = a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7 + a8 + a9 + a10 + a11;           \
        return REDUCE(s);                                                               \
    }

__attribute__((target("avx512f"))) static float reduce512(__m512 v)
{
    return _mm512_reduce_add_ps(v);
}

__attribute__((target("avx"))) static float reduce256(__m256 v)
{
    float l[8];
    _mm256_storeu_ps(l, v);
    return l[0] + l[1] + l[2] + l[3] + l[4] + l[5] + l[6] + l[7];
}

FMA_LOOP(fma_avx512, "avx512f", 16, __m512, _mm512_set1_ps, _mm512_fmadd_ps, reduce512)
FMA_LOOP(fma_avx2, "avx2,fma", 8, __m256, _mm256_set1_ps, _mm256_fmadd_ps, reduce256)

int main(int argc, char **argv)
{
    int threads = argc > 1 ? atoi(argv[1]) : 1;
    double seconds = argc > 2 ? atof(argv[2]) : 1.0;
    if (threads < 1 || !(seconds > 0.0)) {
        fprintf(stderr, "usage: fma_peak [threads >= 1] [seconds > 0]\n");
        return 2;
    }
    __builtin_cpu_init();
    int wide = __builtin_cpu_supports("avx512f");
    if (!wide && !(__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))) {
        fprintf(stderr, "fma_peak: this CPU has neither AVX-512 nor AVX2 + FMA\n");
        return 1;
    }
    const int vec = wide ? 16 : 8;
    float (*loop)(long) = wide ? fma_avx512 : fma_avx2;
    /* calibrate the rounds for about `seconds` on one thread */
    long iters = 1 << 20;
    for (;;) {
        double t = now_seconds();
        volatile float sink = loop(iters);
        (void)sink;
        if (now_seconds() - t > seconds / 4 || iters > (1L << 40))
            break;
        iters *= 2;
    }
    iters *= 4;
    double elapsed = 0.0;
    float sink = 0.0f;
#pragma omp parallel num_threads(threads) reduction(+ : sink)
    {
#pragma omp barrier
        double t0 = now_seconds();
        sink += loop(iters);
#pragma omp barrier
#pragma omp master
        elapsed = now_seconds() - t0;
    }
    double flops = 2.0 * CHAINS * vec * (double)iters * threads;
    printf("{\"isa\": \"%s\", \"threads\": %d, \"gflops\": %.1f, \"gflops_per_thread\": %.1f, \"check\": %g}\n",
           wide ? "avx512" : "avx2", threads, flops / elapsed / 1e9, flops / elapsed / 1e9 / threads, sink);
    return 0;
}
