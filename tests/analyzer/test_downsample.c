/* test_downsample.c — gs_downsample_indices / gs_series_downsample keep what they promise.
 *
 * For many lengths, budgets and shapes (random walks, spikes, constants, NaN runs):
 * at most max(2, max_points) indices, strictly ascending, first and last kept, the global
 * min and max of the finite values kept (budget >= 4), each bucket's min and max kept
 * (recomputed here from the documented bucket formula), a NaN-only bucket keeping its
 * first index, deterministic, and n <= max(max_points, 2) is the identity.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gs_run.h"
#include "gs_test.h"

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;

static double rnd(void)   /* uniform [0, 1), xorshift64* */
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return (double)((rng_state * 0x2545F4914F6CDD1Dull) >> 11) / 9007199254740992.0;
}

static int contains(const size_t *v, size_t n, size_t x)
{
    for (size_t i = 0; i < n; i++)
        if (v[i] == x)
            return 1;
    return 0;
}

/* Check every promise for one series; returns the number of broken promises. */
static int check_one(const double *y, size_t n, size_t maxp, const char *shape)
{
    size_t cap = n > maxp ? maxp : n;
    if (cap < 2)
        cap = 2;
    size_t *keep = malloc((cap + 1) * sizeof *keep), *again = malloc((cap + 1) * sizeof *again);
    keep[cap] = again[cap] = (size_t)-7;   /* guard: nothing written past the promised storage */
    size_t m = gs_downsample_indices(y, n, maxp, keep);
    size_t m2 = gs_downsample_indices(y, n, maxp, again);
    int bad = 0;

    if (keep[cap] != (size_t)-7)
        bad++;
    if (m != m2 || memcmp(keep, again, m * sizeof *keep) != 0)
        bad++;   /* deterministic */
    if (n <= maxp || n <= 2) {
        if (m != n)
            bad++;
        for (size_t i = 0; i < m && i < n; i++)
            if (keep[i] != i)
                bad++;
    } else {
        size_t budget = maxp < 4 ? 2 : maxp;
        if (m > budget)
            bad++;
        if (m < 2 || keep[0] != 0 || keep[m - 1] != n - 1)
            bad++;
        for (size_t i = 1; i < m; i++)
            if (keep[i] <= keep[i - 1])
                bad++;
        /* global min and max of the finite values */
        size_t imin = SIZE_MAX, imax = SIZE_MAX;
        for (size_t i = 0; i < n; i++) {
            if (!isfinite(y[i]))
                continue;
            if (imin == SIZE_MAX || y[i] < y[imin])
                imin = i;
            if (imax == SIZE_MAX || y[i] > y[imax])
                imax = i;
        }
        if (imin != SIZE_MAX && budget >= 4) {
            /* the kept set must contain a point with the min value and one with the max value */
            int has_min = 0, has_max = 0;
            for (size_t i = 0; i < m; i++) {
                has_min |= y[keep[i]] == y[imin];
                has_max |= y[keep[i]] == y[imax];
            }
            if (!has_min || !has_max)
                bad++;
        }
        /* each bucket's first-occurrence min and max (the documented formula) */
        size_t nb = (budget - 2) / 2, inner = n - 2;
        for (size_t k = 0; k < nb; k++) {
            size_t lo = 1 + k * inner / nb, hi = 1 + (k + 1) * inner / nb;
            size_t bmin = SIZE_MAX, bmax = SIZE_MAX;
            for (size_t i = lo; i < hi; i++) {
                if (!isfinite(y[i]))
                    continue;
                if (bmin == SIZE_MAX || y[i] < y[bmin])
                    bmin = i;
                if (bmax == SIZE_MAX || y[i] > y[bmax])
                    bmax = i;
            }
            if (bmin == SIZE_MAX) {
                if (!contains(keep, m, lo))
                    bad++;
            } else if (!contains(keep, m, bmin) || !contains(keep, m, bmax)) {
                bad++;
            }
        }
    }
    if (bad)
        printf("# %s: n=%zu max=%zu kept=%zu, %d broken promises\n", shape, n, maxp, m, bad);
    free(keep);
    free(again);
    return bad;
}

int main(void)
{
    static const size_t lengths[] = { 0, 1, 2, 3, 4, 5, 7, 10, 33, 100, 101, 999, 1000, 1001, 20000 };
    static const size_t budgets[] = { 0, 1, 2, 3, 4, 5, 6, 10, 11, 64, 1000, 2000 };
    static const char *const shapes[] = { "walk", "spikes", "constant", "nan-runs", "all-nan", "ramp" };
    size_t nl = sizeof lengths / sizeof *lengths, nbud = sizeof budgets / sizeof *budgets;

    for (size_t s = 0; s < sizeof shapes / sizeof *shapes; s++) {
        int broken = 0, cases = 0;
        for (size_t li = 0; li < nl; li++) {
            size_t n = lengths[li];
            double *y = malloc((n ? n : 1) * sizeof *y);
            double v = 0;
            for (size_t i = 0; i < n; i++) {
                switch (s) {
                case 0: v += rnd() - 0.5; y[i] = v; break;
                case 1: y[i] = rnd() < 0.01 ? 100.0 * (rnd() - 0.5) : rnd(); break;
                case 2: y[i] = 3.0; break;
                case 3: y[i] = (i / 37) % 3 == 1 ? NAN : sin((double)i * 0.01); break;
                case 4: y[i] = NAN; break;
                default: y[i] = (double)i; break;
                }
            }
            for (size_t bi = 0; bi < nbud; bi++) {
                broken += check_one(y, n, budgets[bi], shapes[s]);
                cases++;
            }
            free(y);
        }
        GS_CHECK(broken == 0, "downsampling %s series: %d length × budget cases keep first/last/min/max", shapes[s],
                 cases);
    }

    /* a known small case, by hand: n = 10, max 6 → buckets [1,5) and [5,9) */
    {
        double y[10] = { 5, 1, 9, 2, 3, 8, 0, 4, 7, 6 };
        size_t keep[10];
        size_t m = gs_downsample_indices(y, 10, 6, keep);
        size_t want[6] = { 0, 1, 2, 5, 6, 9 };
        GS_CHECK(m == 6 && memcmp(keep, want, sizeof want) == 0,
                 "hand case: keeps 0, bucket 1 min/max (1, 2), bucket 2 max/min (5, 6), 9");
    }

    /* gs_series_downsample carries x along with y */
    {
        gs_series in = { 0 }, out = { 0 };
        in.n = 1000;
        in.x = malloc(in.n * sizeof *in.x);
        in.y = malloc(in.n * sizeof *in.y);
        for (size_t i = 0; i < in.n; i++) {
            in.x[i] = 10.0 * (double)i;
            in.y[i] = cos((double)i * 0.1);
        }
        int rc = gs_series_downsample(&in, 50, &out);
        int ok = rc == 0 && out.n <= 50 && out.n >= 2 && out.x[0] == 0.0 && out.x[out.n - 1] == 9990.0;
        for (size_t i = 0; ok && i < out.n; i++) {
            size_t src = (size_t)(out.x[i] / 10.0);
            ok = out.y[i] == in.y[src];
        }
        GS_CHECK(ok, "gs_series_downsample keeps (x, y) pairs together (%zu points)", out.n);
        gs_series_free(&out);
        GS_CHECK(out.x == NULL && out.y == NULL && out.n == 0, "gs_series_free zeroes the series");
        gs_series_free(&in);
        gs_series_free(NULL);
    }
    return gs_test_finish();
}
