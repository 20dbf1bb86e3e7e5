/* gs_rng.h — deterministic random numbers (xoshiro256** seeded by splitmix64).
 *
 * A run is reproducible from its seed alone: every random stream in gradscope is
 * derived with gs_rng_stream(seed, purpose, index), so that e.g. the shuffle of
 * epoch 7 or the augmentation of step 1234 can be recomputed on resume without
 * replaying earlier draws.
 */
#ifndef GS_RNG_H
#define GS_RNG_H

#include <stdint.h>

typedef struct gs_rng {
    uint64_t s[4];
} gs_rng;

/* Purposes of derived streams (the second argument of gs_rng_stream). */
enum {
    GS_RNG_INIT    = 1,  /* weight initialization         */
    GS_RNG_SHUFFLE = 2,  /* per-epoch permutation           */
    GS_RNG_AUGMENT = 3,  /* per-step crop/flip choices      */
};

void     gs_rng_seed(gs_rng *rng, uint64_t seed);
/* A stream that depends only on (seed, purpose, index). */
void     gs_rng_stream(gs_rng *rng, uint64_t seed, uint64_t purpose, uint64_t index);
uint64_t gs_rng_next(gs_rng *rng);
/* Uniform integer in [0, n), n > 0, without modulo bias. */
uint32_t gs_rng_below(gs_rng *rng, uint32_t n);
/* Uniform float in [0, 1). */
double   gs_rng_uniform(gs_rng *rng);
/* Standard normal (Box–Muller, one value per call). */
double   gs_rng_normal(gs_rng *rng);

#endif
