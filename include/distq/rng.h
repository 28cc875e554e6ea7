/*
 * libdistq: random streams.
 *
 * Part of <distq.h>, which includes every part; this one may also be
 * included alone. The conventions are at the top of <distq.h>.
 */
#ifndef DISTQ_RNG_H
#define DISTQ_RNG_H

#include <stdint.h>
#include "api.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------ */
/** @defgroup rng Random numbers
 * xoshiro256** streams. Each stream is a jump of 2^128 draws from the base
 * seed, so streams never overlap. The state is a plain value: copy it,
 * store it in a checkpoint, restore it.
 * @{ */

/** A random stream. Treat the fields as opaque. */
typedef struct dq_rng {
	uint64_t s[4]; /**< xoshiro256** state; never all zero. */
} dq_rng;

/**
 * Seed stream number @p stream of base seed @p seed.
 *
 * The state is expanded from @p seed by splitmix64, then advanced by
 * @p stream jumps of 2^128 draws, so streams of one seed are disjoint.
 *
 * @param rng    the stream to seed.
 * @param seed   any 64-bit value.
 * @param stream stream index (e.g. the agent id); at most 1<<20.
 * @return 0, or -EINVAL for a NULL @p rng or a too large @p stream.
 * Thread-safety: safe on distinct streams.
 * Ordering: none.
 */
DQ_API int dq_rng_seed(dq_rng *rng, uint64_t seed, uint64_t stream);

static inline uint64_t
dq__rotl64(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

/**
 * Next 64 random bits. Inline because environments call it in their step
 * function; @p rng must not be NULL (not checked: hot path).
 *
 * @return 64 uniformly distributed bits.
 * Thread-safety: one thread per stream.
 * Ordering: none.
 */
static inline uint64_t
dq_rng_next(dq_rng *rng)
{
	uint64_t *s = rng->s;
	uint64_t r = dq__rotl64(s[1] * 5, 7) * 9;
	uint64_t t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = dq__rotl64(s[3], 45);
	return r;
}

/**
 * dq_rng_next() as an exported function, for bindings that cannot call the
 * header's inline functions (Python's cffi in ABI mode, Rust). Every
 * inline function of this header NAME has such a twin NAME_fn with the
 * same parameters, result and contract; C callers use the inline one.
 *
 * @return as dq_rng_next(): 64 uniformly distributed bits.
 * Thread-safety: as dq_rng_next().
 * Ordering: none.
 */
DQ_API uint64_t dq_rng_next_fn(dq_rng *rng);

/**
 * A uniform double in [0, 1) with 53 random bits; @p rng must not be NULL.
 *
 * @return a value in [0, 1).
 * Thread-safety: one thread per stream.
 * Ordering: none.
 */
static inline double
dq_rng_uniform(dq_rng *rng)
{
	return (double)(dq_rng_next(rng) >> 11) *
	       (1.0 / 9007199254740992.0); /* 2^-53 */
}

/**
 * dq_rng_uniform() as an exported function, for bindings (see
 * dq_rng_next_fn()).
 *
 * @return as dq_rng_uniform(): a value in [0, 1).
 * Thread-safety: as dq_rng_uniform().
 * Ordering: none.
 */
DQ_API double dq_rng_uniform_fn(dq_rng *rng);

/**
 * A uniform integer in [0, n) without modulo bias (Lemire's method);
 * @p rng must not be NULL and @p n must be at least 1.
 *
 * @return a value in [0, n).
 * Thread-safety: one thread per stream.
 * Ordering: none.
 */
static inline uint32_t
dq_rng_below(dq_rng *rng, uint32_t n)
{
	uint64_t m = (dq_rng_next(rng) >> 32) * (uint64_t)n;

	if ((uint32_t)m < n) {
		uint32_t floor = (uint32_t)(-n) % n;

		while ((uint32_t)m < floor)
			m = (dq_rng_next(rng) >> 32) * (uint64_t)n;
	}
	return (uint32_t)(m >> 32);
}

/**
 * dq_rng_below() as an exported function, for bindings (see
 * dq_rng_next_fn()).
 *
 * @return as dq_rng_below(): a value in [0, n).
 * Thread-safety: as dq_rng_below().
 * Ordering: none.
 */
DQ_API uint32_t dq_rng_below_fn(dq_rng *rng, uint32_t n);

/** @} */

#ifdef __cplusplus
}
#endif
#endif /* DISTQ_RNG_H */
