/*
 * Typed atomic wrappers (jemalloc-style): the memory order is always
 * explicit at the call site, and each call site carries a one-line comment
 * saying why that order is enough. Only this header includes
 * <stdatomic.h>; see docs/memory-model.md for the whole argument.
 */
#ifndef DQ_ATOMIC_H
#define DQ_ATOMIC_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

_Static_assert(ATOMIC_LLONG_LOCK_FREE == 2,
	       "libdistq needs lock-free 64-bit atomics");
_Static_assert(ATOMIC_INT_LOCK_FREE == 2, "libdistq needs lock-free ints");

#define DQ__CACHE_LINE 64

typedef _Atomic uint64_t dq__atomic_u64;
typedef _Atomic uint32_t dq__atomic_u32;
typedef _Atomic int dq__atomic_int;

static inline uint64_t
dq__load_u64(const dq__atomic_u64 *p, memory_order mo)
{
	return atomic_load_explicit((dq__atomic_u64 *)p, mo);
}

static inline void
dq__store_u64(dq__atomic_u64 *p, uint64_t v, memory_order mo)
{
	atomic_store_explicit(p, v, mo);
}

/* On failure *expected is refreshed with the value seen. */
static inline bool
dq__cas_weak_u64(dq__atomic_u64 *p, uint64_t *expected, uint64_t desired,
		 memory_order success, memory_order failure)
{
	return atomic_compare_exchange_weak_explicit(p, expected, desired,
						     success, failure);
}

static inline uint64_t
dq__fetch_add_u64(dq__atomic_u64 *p, uint64_t v, memory_order mo)
{
	return atomic_fetch_add_explicit(p, v, mo);
}

static inline uint32_t
dq__load_u32(const dq__atomic_u32 *p, memory_order mo)
{
	return atomic_load_explicit((dq__atomic_u32 *)p, mo);
}

static inline void
dq__store_u32(dq__atomic_u32 *p, uint32_t v, memory_order mo)
{
	atomic_store_explicit(p, v, mo);
}

static inline int
dq__load_int(const dq__atomic_int *p, memory_order mo)
{
	return atomic_load_explicit((dq__atomic_int *)p, mo);
}

static inline void
dq__store_int(dq__atomic_int *p, int v, memory_order mo)
{
	atomic_store_explicit(p, v, mo);
}

/* Returns true when *p held `expected` and now holds `desired`. */
static inline bool
dq__cas_strong_int(dq__atomic_int *p, int expected, int desired,
		   memory_order success, memory_order failure)
{
	return atomic_compare_exchange_strong_explicit(p, &expected, desired,
						       success, failure);
}

#endif /* DQ_ATOMIC_H */
