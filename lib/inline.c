/*
 * Out-of-line twins of the public header's inline functions.
 *
 * C callers get the inline versions from distq.h, which environments call
 * in their step functions. A binding that loads libdistq.so without a C
 * compiler (Python's cffi in ABI mode, Rust's extern "C") can only call
 * exported symbols, so each inline function NAME is exported here as
 * NAME_fn, with the same contract: it calls the inline function, so the
 * two cannot differ.
 */
#include "internal.h"

uint64_t
dq_rng_next_fn(dq_rng *rng)
{
	return dq_rng_next(rng);
}

double
dq_rng_uniform_fn(dq_rng *rng)
{
	return dq_rng_uniform(rng);
}

uint32_t
dq_rng_below_fn(dq_rng *rng, uint32_t n)
{
	return dq_rng_below(rng, n);
}

void *
dq_env_instance_alloc_fn(size_t size)
{
	return dq_env_instance_alloc(size);
}

size_t
dq_outcome_merge_fn(dq_outcome *o, size_t n, double prob, const dq_step *st)
{
	return dq_outcome_merge(o, n, prob, st);
}
