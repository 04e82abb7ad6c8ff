/*
 * rng.c: xoshiro256** (Blackman and Vigna), seeded through splitmix64.
 * Each worker, shard and session has its own stream: the seed and the
 * stream number are mixed so that streams never share a state.
 */
#include <math.h>

#include "arrivald.h"

static uint64_t
splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

void
rng_seed(struct rng *r, uint64_t seed, uint64_t stream)
{
	uint64_t x = seed ^ (stream * 0xd1342543de82ef95ULL);
	int i;

	(void)splitmix64(&x);
	x ^= stream;
	for (i = 0; i < 4; i++)
		r->s[i] = splitmix64(&x);
}

static inline uint64_t
rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

uint64_t
rng_next(struct rng *r)
{
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

double
rng_uniform(struct rng *r)
{
	return (rng_next(r) >> 11) * 0x1.0p-53;
}

/* Exp(1) by inversion; 1 - u is in (0, 1] so the log is finite */
double
rng_exp(struct rng *r)
{
	return -log1p(-rng_uniform(r));
}

uint64_t
rng_below(struct rng *r, uint64_t n)
{
	uint64_t x, limit;

	if (n <= 1)
		return 0;
	limit = UINT64_MAX - UINT64_MAX % n;
	do
		x = rng_next(r);
	while (x >= limit);
	return x % n;
}
