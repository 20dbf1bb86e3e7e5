#include "gs_rng.h"

#include <math.h>

static uint64_t splitmix64(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static inline uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

void gs_rng_seed(gs_rng *rng, uint64_t seed)
{
    uint64_t sm = seed;
    for (int i = 0; i < 4; i++)
        rng->s[i] = splitmix64(&sm);
}

void gs_rng_stream(gs_rng *rng, uint64_t seed, uint64_t purpose, uint64_t index)
{
    uint64_t sm = seed;
    uint64_t a = splitmix64(&sm);
    sm = a ^ (purpose * 0xd1b54a32d192ed03ULL);
    uint64_t b = splitmix64(&sm);
    gs_rng_seed(rng, b ^ (index * 0x8cb92ba72f3d8dd7ULL));
}

uint64_t gs_rng_next(gs_rng *rng)
{
    uint64_t *s = rng->s;
    const uint64_t result = rotl(s[1] * 5, 7) * 9;
    const uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

uint32_t gs_rng_below(gs_rng *rng, uint32_t n)
{
    /* Lemire's multiply-shift with rejection. */
    uint64_t m = (uint64_t)(uint32_t)(gs_rng_next(rng) >> 32) * n;
    uint32_t low = (uint32_t)m;
    if (low < n) {
        uint32_t threshold = (uint32_t)(-n) % n;
        while (low < threshold) {
            m = (uint64_t)(uint32_t)(gs_rng_next(rng) >> 32) * n;
            low = (uint32_t)m;
        }
    }
    return (uint32_t)(m >> 32);
}

double gs_rng_uniform(gs_rng *rng)
{
    return (double)(gs_rng_next(rng) >> 11) * 0x1.0p-53;
}

double gs_rng_normal(gs_rng *rng)
{
    double u1 = gs_rng_uniform(rng);
    double u2 = gs_rng_uniform(rng);
    if (u1 < 1e-300)
        u1 = 1e-300;
    return sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2);
}
