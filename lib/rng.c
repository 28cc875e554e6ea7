/*
 * Seeding of xoshiro256** streams. The generator itself is inline in
 * distq.h because environments draw from it in their step functions.
 */
#include <errno.h>

#include "internal.h"

/* splitmix64: expands one 64-bit seed into well-mixed state words. */
static uint64_t
splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/*
 * The xoshiro256 jump: equivalent to 2^128 calls of next(). Stream k is the
 * base state jumped k times, so streams of one seed never overlap for any
 * run shorter than 2^128 draws.
 */
void
dq__rng_jump(dq_rng *rng)
{
	static const uint64_t jump[] = {
	    0x180ec6d33cfd0abaull, 0xd5a61266f0c9392cull, 0xa9582618e03fc9aaull,
	    0x39abdc4529b1661cull};
	uint64_t s[4] = {0, 0, 0, 0};

	for (int i = 0; i < 4; i++) {
		for (int b = 0; b < 64; b++) {
			if (jump[i] & (1ull << b)) {
				s[0] ^= rng->s[0];
				s[1] ^= rng->s[1];
				s[2] ^= rng->s[2];
				s[3] ^= rng->s[3];
			}
			dq_rng_next(rng);
		}
	}
	for (int i = 0; i < 4; i++)
		rng->s[i] = s[i];
}

bool
dq__rng_one_in(dq_rng *rng, uint32_t n)
{
	return dq_rng_below(rng, n) == 0;
}

int
dq_rng_seed(dq_rng *rng, uint64_t seed, uint64_t stream)
{
	uint64_t x = seed;

	if (!rng || stream > (1u << 20))
		return -EINVAL;
	for (int i = 0; i < 4; i++)
		rng->s[i] = splitmix64(&x);
	/* splitmix64 is a bijection of its counter, but all-zero is the
	 * generator's one forbidden state: guard it anyway. */
	if (!(rng->s[0] | rng->s[1] | rng->s[2] | rng->s[3]))
		rng->s[0] = 1;
	for (uint64_t k = 0; k < stream; k++)
		dq__rng_jump(rng);
	return 0;
}
