/* rng.c — xoshiro256** (Blackman & Vigna 2018), public-domain algorithm, seeded by splitmix64;
 * the seed derivations built on splitmix64's mix. */
#include "rng.h"

#define PHI 0x9e3779b97f4a7c15ULL /* 2^64 / golden ratio */

uint64_t bs_rng_mix(uint64_t z) {
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static uint64_t splitmix64(uint64_t *x) { return bs_rng_mix(*x += PHI); }

uint64_t bs_rng_derive(uint64_t seed, uint64_t purpose) { return bs_rng_mix(seed + purpose * PHI); }

uint64_t bs_rng_derive_at(uint64_t seed, uint64_t purpose, uint64_t exp, uint64_t fold) {
    return bs_rng_mix(seed ^ (purpose * PHI) ^ (exp << 20) ^ (fold << 40));
}

uint64_t bs_rng_derive_twin(uint64_t derived) { return derived ^ 0x5bd1e9955bd1e995ULL; }

void bs_rng_seed(bs_rng *r, uint64_t seed) {
    for (int i = 0; i < 4; i++) r->s[i] = splitmix64(&seed);
}

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

uint64_t bs_rng_next(bs_rng *r) {
    uint64_t *s = r->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

double bs_rng_uniform(bs_rng *r) { return (double)(bs_rng_next(r) >> 11) * 0x1.0p-53; }

uint64_t bs_rng_below(bs_rng *r, uint64_t n) {
    uint64_t limit = UINT64_MAX - UINT64_MAX % n; /* reject the biased tail */
    uint64_t x;
    do x = bs_rng_next(r);
    while (x >= limit);
    return x % n;
}

void bs_rng_shuffle(bs_rng *r, size_t *idx, size_t n) {
    for (size_t i = n; i > 1; i--) {
        size_t j = (size_t)bs_rng_below(r, i);
        size_t t = idx[i - 1];
        idx[i - 1] = idx[j];
        idx[j] = t;
    }
}
