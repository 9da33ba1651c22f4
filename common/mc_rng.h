/*  mc_rng: reproducible random streams. Every stream is derived from (job
    seed, item index, lane) only, through SplitMix64, and runs xoshiro256++
    (Blackman and Vigna, the ++ scrambler: every bit is good, so one draw
    gives two 32-bit uniforms), so the same job gives the same bits on any number
    of engines, in any order, and after a retry. Lanes are independent
    streams of one item that a kernel runs side by side so that the
    compiler can vectorise across them. */
#ifndef MC_RNG_H
#define MC_RNG_H
#include <stdbool.h>
#include <stdint.h>

typedef struct {
    uint64_t s [4];
} mc_rng_t;

//  One step of SplitMix64: the next value of *state.
static inline uint64_t
mc_splitmix64 (uint64_t *state)
{
    uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

//  Seed the stream of (seed, index, lane).
void mc_rng_seed (mc_rng_t *self, uint64_t seed, uint64_t index, uint64_t lane);
//  Seed sub-stream sub of (seed, index, lane), e.g. slice k of a long task:
//  sub is hashed in as an input of its own, never mixed into the seed (a
//  seed XOR k would make slice k of one seed slice 0 of another). Sub-stream
//  0 is the stream of mc_rng_seed, so a kernel that adds slices keeps the
//  bits of its short runs.
void mc_rng_seed_sub (mc_rng_t *self, uint64_t seed, uint64_t index, uint64_t lane, uint64_t sub);

static inline uint64_t
mc_rng_rotl (uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

//  Next 64 random bits (xoshiro256++).
static inline uint64_t
mc_rng_next (mc_rng_t *self)
{
    uint64_t *s = self->s;
    uint64_t result = mc_rng_rotl (s [0] + s [3], 23) + s [0];
    uint64_t t = s [1] << 17;
    s [2] ^= s [0];
    s [3] ^= s [1];
    s [1] ^= s [2];
    s [0] ^= s [3];
    s [2] ^= t;
    s [3] = mc_rng_rotl (s [3], 45);
    return result;
}

//  Uniform double in [0, 1) from the top 53 bits.
static inline double
mc_rng_uniform (mc_rng_t *self)
{
    return (double) (mc_rng_next (self) >> 11) * 0x1.0p-53;
}

void mc_rng_test (bool verbose);
#endif
