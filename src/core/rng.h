/* rng.h — the project's one random number generator (xoshiro256**, seeded by splitmix64).
 * Every random choice in blastscan draws from a bs_rng made from the user's --seed, so the
 * same seed gives the same numbers on every run and platform. Not cryptographic. */
#ifndef BS_CORE_RNG_H
#define BS_CORE_RNG_H

#include <stddef.h>
#include <stdint.h>

typedef struct bs_rng {
    uint64_t s[4];
} bs_rng;

void bs_rng_seed(bs_rng *r, uint64_t seed);
uint64_t bs_rng_next(bs_rng *r);
/* Uniform in [0, 1) with 53 random bits. */
double bs_rng_uniform(bs_rng *r);
/* Uniform integer in [0, n), unbiased; n > 0. */
uint64_t bs_rng_below(bs_rng *r, uint64_t n);
/* Fisher-Yates shuffle of n indices. */
void bs_rng_shuffle(bs_rng *r, size_t *idx, size_t n);

/* Seeds derived from the user's --seed, one per purpose, independent of the order in which
 * they are asked for. The first two finish with splitmix64's bijective mix (bs_rng_mix), the
 * one that also seeds the generator. They differ in how the inputs are combined because the
 * seeds of files and results already published depend on each; keep all three as they are. */
uint64_t bs_rng_mix(uint64_t x);
/* `train`'s seeds (BS_SEED_* in pipeline.h): mix(seed + purpose·φ), φ = 0x9e3779b97f4a7c15. */
uint64_t bs_rng_derive(uint64_t seed, uint64_t purpose);
/* The study's seeds, per (purpose, experiment, fold): mix(seed ^ purpose·φ ^ exp<<20 ^ fold<<40). */
uint64_t bs_rng_derive_at(uint64_t seed, uint64_t purpose, uint64_t exp, uint64_t fold);
/* A twin of an already derived seed, for a model fitted like the one that seed serves: train's
 * validation autoencoder, whose errors set the OOD threshold. seed ^ 0x5bd1e9955bd1e995 (the
 * MurmurHash2 multiplier), not mixed again: the thresholds of published pipeline files depend
 * on it. */
uint64_t bs_rng_derive_twin(uint64_t derived);

#endif
