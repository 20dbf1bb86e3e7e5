#include "gs_gradstats.h"

#include <math.h>
#include <stdint.h>
#include <pthread.h>
#include <string.h>

/* ---- fixed log-magnitude bins ------------------------------------------------------
 * For speed the bin of |x| comes from a table indexed by the top 15 bits of |x| (the
 * exponent and 7 mantissa bits): a cell of the table spans a factor of at most
 * 1 + 2^-7, far less than a quarter decade (a factor 1.78), so at most one edge lies
 * inside a cell.  fine_bin[cell] is the bin of the cell's smallest value, with
 * EDGE_INSIDE set when the next bin's lower edge lies inside the cell (then one
 * compare decides).  Subnormals are underflow; exact zero is decided by hand. */

#define FINE_BITS   15
#define EDGE_INSIDE 0x80
/* bin_fast's answer for inf and NaN: one past the last bin, a slot that callers which
 * bin without testing for finiteness allocate and then drop */
#define NONFINITE_SLOT GS_HIST_BINS

static float   log_edges[GS_HIST_LOG_BINS + 1];  /* 10^(-12 + k/4), k = 0..64 */
static uint8_t fine_bin[1 << FINE_BITS];
static pthread_once_t table_once = PTHREAD_ONCE_INIT;

static int bin_by_search(float ax)
{
    if (ax == 0.0f)
        return GS_HIST_ZERO_BIN;
    if (ax < log_edges[0])
        return GS_HIST_UNDERFLOW_BIN;
    if (ax >= log_edges[GS_HIST_LOG_BINS])
        return GS_HIST_OVERFLOW_BIN;
    int lo = 0, hi = GS_HIST_LOG_BINS;                /* log_edges[lo] <= ax < log_edges[hi] */
    while (hi - lo > 1) {
        int mid = (lo + hi) / 2;
        if (ax >= log_edges[mid])
            lo = mid;
        else
            hi = mid;
    }
    return 2 + lo;
}

static float float_of_bits(uint32_t u)
{
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

static void table_init(void)
{
    for (int k = 0; k <= GS_HIST_LOG_BINS; k++)
        log_edges[k] = (float)pow(10.0, GS_HIST_LOG10_MIN + (double)k / GS_HIST_BINS_PER_DECADE);
    const int shift = 31 - FINE_BITS;
    for (uint32_t cell = 0; cell < (1u << FINE_BITS); cell++) {
        uint32_t first = cell << shift, last = first | ((1u << shift) - 1);
        if ((first >> 23) == 0xff) {                  /* inf / NaN: counted apart, never binned */
            fine_bin[cell] = NONFINITE_SLOT;
            continue;
        }
        if ((first >> 23) == 0) {                     /* subnormals (zero: by bin_fast) */
            fine_bin[cell] = GS_HIST_UNDERFLOW_BIN;
            continue;
        }
        int lo = bin_by_search(float_of_bits(first)), hi = bin_by_search(float_of_bits(last));
        fine_bin[cell] = (uint8_t)(lo | (hi != lo ? EDGE_INSIDE : 0));   /* hi == lo + 1 then */
    }
}

static inline int bin_fast(float x)
{
    float ax = fabsf(x);
    uint32_t bits;
    memcpy(&bits, &ax, sizeof bits);
    int t = fine_bin[bits >> (31 - FINE_BITS)];
    if (t & EDGE_INSIDE) {                            /* rare: one cell in ~500 */
        t &= ~EDGE_INSIDE;
        t += ax >= log_edges[t - 1];                  /* bin t + 1 starts at log_edges[t + 1 - 2] */
    }
    /* without a branch: exact zeros are common (a ReLU's gradient) and unpredictable */
    return bits == 0 ? GS_HIST_ZERO_BIN : t;
}

int gs_hist_bin(float x)
{
    pthread_once(&table_once, table_init);
    return bin_fast(x);
}

void gs_hist_edges(float edges[GS_HIST_BINS + 1])
{
    pthread_once(&table_once, table_init);
    edges[0] = 0.0f;                                  /* zero bin: [0, 0]        */
    edges[1] = 0.0f;                                  /* underflow: (0, 1e-12)   */
    for (int k = 0; k <= GS_HIST_LOG_BINS; k++)
        edges[2 + k] = log_edges[k];
    edges[GS_HIST_BINS] = INFINITY;                   /* overflow: [1e4, inf)     */
}

/* ---- moments ----------------------------------------------------------------------- */

void gs_moments_clear(gs_moments *m)
{
    m->count = m->sum = m->sumsq = 0.0;
    m->min = INFINITY;
    m->max = -INFINITY;
    m->nonfinite = 0;
}

void gs_moments_merge(gs_moments *into, const gs_moments *from)
{
    into->count += from->count;
    into->sum += from->sum;
    into->sumsq += from->sumsq;
    if (from->min < into->min)
        into->min = from->min;
    if (from->max > into->max)
        into->max = from->max;
    into->nonfinite += from->nonfinite;
}

/* Below this many elements a tensor is summed by one thread: waking the OpenMP team
 * costs more than it saves (most of a ResNet's tensors are BN vectors of 16–64). */
#define MOMENTS_PARALLEL_MIN 16384

void gs_moments_of(gs_moments *m, int64_t *hist, const float *x, size_t n)
{
    pthread_once(&table_once, table_init);
    gs_moments_clear(m);
    double count = 0.0, sum = 0.0, sumsq = 0.0;
    float mn = INFINITY, mx = -INFINITY;
    int64_t nonfinite = 0;
#pragma omp parallel if (n >= MOMENTS_PARALLEL_MIN) \
    reduction(+ : count, sum, sumsq, nonfinite) reduction(min : mn) reduction(max : mx)
    {
        int64_t local[GS_HIST_BINS];
        if (hist)
            memset(local, 0, sizeof local);
#pragma omp for schedule(static) nowait
        for (size_t i = 0; i < n; i++) {
            float v = x[i];
            if (!isfinite(v)) {
                nonfinite++;
                continue;
            }
            count += 1.0;
            sum += v;
            sumsq += (double)v * v;
            mn = v < mn ? v : mn;
            mx = v > mx ? v : mx;
            if (hist)
                local[bin_fast(v)]++;
        }
        if (hist) {
#pragma omp critical(gs_hist_merge)
            for (int b = 0; b < GS_HIST_BINS; b++)
                hist[b] += local[b];
        }
    }
    m->count = count;
    m->sum = sum;
    m->sumsq = sumsq;
    m->min = mn;
    m->max = mx;
    m->nonfinite = nonfinite;
}

double gs_moments_mean(const gs_moments *m)
{
    return m->count > 0 ? m->sum / m->count : 0.0;
}

double gs_moments_std(const gs_moments *m)
{
    if (m->count <= 0)
        return 0.0;
    double mean = m->sum / m->count;
    double var = m->sumsq / m->count - mean * mean;
    return var > 0 ? sqrt(var) : 0.0;
}

double gs_moments_norm(const gs_moments *m)
{
    return sqrt(m->sumsq);
}

/* ---- skip / residual overlap ------------------------------------------------------- */

void gs_overlap_sums_clear(gs_overlap_sums *s)
{
    memset(s, 0, sizeof *s);
}

void gs_overlap_sums_merge(gs_overlap_sums *into, const gs_overlap_sums *from)
{
    into->count += from->count;
    into->skip_sq += from->skip_sq;
    into->residual_sq += from->residual_sq;
    into->dot += from->dot;
    into->sum_sq += from->sum_sq;
    into->nonfinite += from->nonfinite;
}

/* The pass without histograms (most steps) is vectorized: OVERLAP_LANES float
 * partial sums per statistic over chunks of OVERLAP_CHUNK elements (at most 64 terms
 * per lane), each chunk's partials added into double sums — float products and short
 * float sums, so the relative error stays near 1e-6 at any n, where one double sum
 * in element order cannot be vectorized.  Histograms, when asked, are binned chunk by
 * chunk after the sums (a table lookup per element). */
#define OVERLAP_LANES 16
#define OVERLAP_CHUNK 1024
#define HIST_COPIES 4

typedef struct overlap_acc {
    double skip_sq, residual_sq, dot, sum_sq;
    int64_t nonfinite;
} overlap_acc;

static inline int is_nonfinite_bits(float v)
{
    uint32_t u;
    memcpy(&u, &v, sizeof u);
    return (u & 0x7f800000u) == 0x7f800000u;
}

/* dx[0..n) = skip + residual (⊙ [relu_out > 0] when masked), n <= OVERLAP_CHUNK, sums
 * of the unmasked sum into *acc.  masked is a constant after inlining. */
__attribute__((always_inline)) static inline void
overlap_add_chunk(float *restrict dx, const float *restrict skip, const float *restrict residual,
                  const float *restrict relu_out, size_t n, overlap_acc *acc, const int masked)
{
    float ss[OVERLAP_LANES] = { 0 }, rr[OVERLAP_LANES] = { 0 }, sr[OVERLAP_LANES] = { 0 }, dd[OVERLAP_LANES] = { 0 };
    int32_t nf[OVERLAP_LANES] = { 0 };
    size_t i = 0;
    for (; i + OVERLAP_LANES <= n; i += OVERLAP_LANES)
        for (int l = 0; l < OVERLAP_LANES; l++) {
            float s = skip[i + l], r = residual[i + l], d = s + r;
            dx[i + l] = masked ? (relu_out[i + l] > 0.0f ? d : 0.0f) : d;
            ss[l] += s * s;
            rr[l] += r * r;
            sr[l] += s * r;
            dd[l] += d * d;
            nf[l] += is_nonfinite_bits(d);
        }
    for (; i < n; i++) {
        float s = skip[i], r = residual[i], d = s + r;
        dx[i] = masked ? (relu_out[i] > 0.0f ? d : 0.0f) : d;
        ss[0] += s * s;
        rr[0] += r * r;
        sr[0] += s * r;
        dd[0] += d * d;
        nf[0] += is_nonfinite_bits(d);
    }
    for (int l = 0; l < OVERLAP_LANES; l++) {
        acc->skip_sq += ss[l];
        acc->residual_sq += rr[l];
        acc->dot += sr[l];
        acc->sum_sq += dd[l];
        acc->nonfinite += nf[l];
    }
}

void gs_overlap_add_relu(float *dx, const float *skip, const float *residual, const float *relu_out,
                         size_t n, gs_overlap_sums *sums, int64_t (*hist)[GS_HIST_BINS])
{
    pthread_once(&table_once, table_init);
    double skip_sq = 0.0, residual_sq = 0.0, dot = 0.0, sum_sq = 0.0;
    int64_t nonfinite = 0;
    const size_t chunks = (n + OVERLAP_CHUNK - 1) / OVERLAP_CHUNK;
#pragma omp parallel reduction(+ : skip_sq, residual_sq, dot, sum_sq, nonfinite)
    {
        /* HIST_COPIES copies of the three histograms, element i counted in copy
         * i mod HIST_COPIES and the copies added at the end: neighbouring elements
         * often fall in the same bin (a ReLU's gradient is half exact zeros), and with
         * one counter each increment waits for the previous one's store */
        int64_t local[HIST_COPIES][3][GS_HIST_BINS + 1];   /* + the NONFINITE_SLOT, dropped */
        if (hist)
            memset(local, 0, sizeof local);
#pragma omp for schedule(static) nowait
        for (size_t c = 0; c < chunks; c++) {
            size_t i0 = c * OVERLAP_CHUNK, len = n - i0 < OVERLAP_CHUNK ? n - i0 : OVERLAP_CHUNK;
            overlap_acc acc = { 0 };
            if (relu_out)
                overlap_add_chunk(dx + i0, skip + i0, residual + i0, relu_out + i0, len, &acc, 1);
            else
                overlap_add_chunk(dx + i0, skip + i0, residual + i0, NULL, len, &acc, 0);
            skip_sq += acc.skip_sq;
            residual_sq += acc.residual_sq;
            dot += acc.dot;
            sum_sq += acc.sum_sq;
            nonfinite += acc.nonfinite;
            if (!hist)
                continue;
            /* the chunk's bins while it is in L1; the three parts in one loop: three
             * independent increments per element (the sum recomputed: dx may be masked) */
            const float *ps = skip + i0, *pr = residual + i0;
            size_t i = 0;
            for (; i + HIST_COPIES <= len; i += HIST_COPIES)
                for (int j = 0; j < HIST_COPIES; j++) {
                    local[j][0][bin_fast(ps[i + j])]++;
                    local[j][1][bin_fast(pr[i + j])]++;
                    local[j][2][bin_fast(ps[i + j] + pr[i + j])]++;
                }
            for (; i < len; i++) {
                local[0][0][bin_fast(ps[i])]++;
                local[0][1][bin_fast(pr[i])]++;
                local[0][2][bin_fast(ps[i] + pr[i])]++;
            }
        }
        if (hist) {
#pragma omp critical(gs_hist_merge)
            for (int j = 0; j < HIST_COPIES; j++)
                for (int k = 0; k < 3; k++)
                    for (int b = 0; b < GS_HIST_BINS; b++)
                        hist[k][b] += local[j][k][b];
        }
    }
    sums->count += (double)n;
    sums->skip_sq += skip_sq;
    sums->residual_sq += residual_sq;
    sums->dot += dot;
    sums->sum_sq += sum_sq;
    sums->nonfinite += nonfinite;
}

void gs_overlap_add(float *dx, const float *skip, const float *residual, size_t n,
                    gs_overlap_sums *sums, int64_t (*hist)[GS_HIST_BINS])
{
    gs_overlap_add_relu(dx, skip, residual, NULL, n, sums, hist);
}

gs_overlap_stats gs_overlap_stats_of(const gs_overlap_sums *s)
{
    gs_overlap_stats o;
    o.skip_norm = sqrt(s->skip_sq);
    o.residual_norm = sqrt(s->residual_sq);
    o.sum_norm = sqrt(s->sum_sq);
    double parts = s->skip_sq + s->residual_sq;
    o.cosine = (s->skip_sq > 0 && s->residual_sq > 0) ? s->dot / (o.skip_norm * o.residual_norm) : NAN;
    o.overlap = parts > 0 ? s->sum_sq / parts : NAN;
    return o;
}
