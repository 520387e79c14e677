/*
 * prng.h: the host's one pseudo-random generator, for everything that must
 * give the same numbers on every run from a seed (synthetic candles, Monte
 * Carlo, random parameter search): xoshiro256** (Blackman and Vigna),
 * seeded through splitmix64. Not for anything secret.
 */
#ifndef TACK_PRNG_H
#define TACK_PRNG_H

#include <stdint.h>

/* splitmix64: the next value of the sequence *state walks. */
static inline uint64_t tack_splitmix64(uint64_t *state) {
  uint64_t z = (*state += UINT64_C(0x9e3779b97f4a7c15));
  z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
  z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
  return z ^ (z >> 31);
}

static inline uint64_t tack_rotl64(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

/* xoshiro256**: the next 64 bits; s must not be all zero. */
static inline uint64_t tack_xoshiro(uint64_t s[4]) {
  uint64_t result = tack_rotl64(s[1] * 5, 7) * 9;
  uint64_t t = s[1] << 17;
  s[2] ^= s[0];
  s[3] ^= s[1];
  s[1] ^= s[2];
  s[0] ^= s[3];
  s[2] ^= t;
  s[3] = tack_rotl64(s[3], 45);
  return result;
}

/* The four words of a xoshiro state from one seed. */
static inline void tack_xoshiro_seed(uint64_t s[4], uint64_t seed) {
  for (int i = 0; i < 4; i++)
    s[i] = tack_splitmix64(&seed);
}

#endif
