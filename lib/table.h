/*
 * Private side of the shared Q-table: the layout and the unchecked inline
 * operations the agents' hot loop uses. The public dq_table_*() functions in
 * table.c check their arguments and then call these.
 *
 * Every entry is a double stored as its bit pattern in a lock-free atomic
 * 64-bit word. All entry accesses are relaxed: an entry publishes no other
 * data, so it needs atomicity and nothing else (docs/memory-model.md).
 */
#ifndef DQ_TABLE_H
#define DQ_TABLE_H

#include <math.h>
#include <pthread.h>
#include <string.h>

#include "atomic.h"
#include "internal.h"
#include "jet.h"

/* A mutex alone on its cache line, for DQ_MODE_LOCKED. */
typedef struct dq__stripe {
	_Alignas(DQ__CACHE_LINE) pthread_mutex_t mu;
} dq__stripe;

struct dq_table {
	dq__atomic_u64 *q; /* S rows of `stride` entries */
	size_t stride;
	uint32_t n_states;
	uint32_t n_actions;
	uint32_t channels; /* values per (s, a): channel c of row s starts
			    * at entry c x n_actions of the row */
	uint32_t width;	   /* n_actions x channels: a row's values */
	bool visit_counts; /* n_actions counts (uint64_t) follow the values
			    * in each row, from entry `width` */
	dq_mode mode;
	uint32_t stripe_mask; /* n_stripes - 1, a power of two minus one */
	dq__stripe *stripes;  /* DQ_MODE_LOCKED only */
	size_t bytes;
	bool interleaved;
};

static inline uint64_t
dq__d2u(double d)
{
	uint64_t u;

	memcpy(&u, &d, sizeof(u));
	return u;
}

static inline double
dq__u2d(uint64_t u)
{
	double d;

	memcpy(&d, &u, sizeof(d));
	return d;
}

static inline dq__atomic_u64 *
dq__table_row(const dq_table *t, uint32_t s)
{
	return t->q + (size_t)s * t->stride;
}

static inline double
dq__table_get(const dq_table *t, uint32_t s, uint32_t a)
{
	/* relaxed: a single value, no other data published through it */
	return dq__u2d(
	    dq__load_u64(dq__table_row(t, s) + a, memory_order_relaxed));
}

static inline double
dq__table_max(const dq_table *t, uint32_t s)
{
	const dq__atomic_u64 *row = dq__table_row(t, s);
	/* relaxed: each entry read once; a row read while others update it
	 * mixes instants, which is acceptable (docs/memory-model.md) */
	double best = dq__u2d(dq__load_u64(row, memory_order_relaxed));

	const uint32_t n = t->n_actions; /* see dq__table_greedy_max() */

	for (uint32_t a = 1; a < n; a++) {
		/* relaxed: as above */
		double v = dq__u2d(dq__load_u64(row + a, memory_order_relaxed));

		if (v > best)
			best = v;
	}
	return best;
}

/*
 * Greedy action of row s, and its value in *max when max is not NULL (one
 * pass for both: the agent bootstraps from the maximum of s' and acts
 * greedily in s' next). With an rng, ties are broken uniformly at random by
 * reservoir sampling (one draw per tie found, none without ties); without
 * one, by the lowest index.
 */
static inline uint32_t
dq__table_greedy_max(const dq_table *t, uint32_t s, dq_rng *rng, double *max)
{
	const dq__atomic_u64 *row = dq__table_row(t, s);
	/* relaxed: per-entry snapshot, see dq__table_max() */
	double best = dq__u2d(dq__load_u64(row, memory_order_relaxed));
	uint32_t arg = 0, ties = 1;
	/* A local bound: the atomic loads below keep the compiler from
	 * assuming t->n_actions unchanged across iterations. */
	const uint32_t n = t->n_actions;

	for (uint32_t a = 1; a < n; a++) {
		/* relaxed: as above */
		double v = dq__u2d(dq__load_u64(row + a, memory_order_relaxed));

		/* Entries are finite, so "not below and not above" is a
		 * tie: one comparison for the common case. */
		if (v < best)
			continue;
		if (v > best) {
			best = v;
			arg = a;
			ties = 1;
		} else if (rng && dq__rng_one_in(rng, ++ties)) {
			arg = a;
		}
	}
	if (max)
		*max = best;
	return arg;
}

static inline uint32_t
dq__table_greedy(const dq_table *t, uint32_t s, dq_rng *rng)
{
	return dq__table_greedy_max(t, s, rng, NULL);
}

/*
 * What dq__table_apply_as() does to one entry's value q. Callers pass a
 * constant kind, so the switch in dq__op_eval() folds away.
 */
typedef enum dq__op_kind {
	DQ__OP_TD,    /* q + x * (y - q): a TD update, step x towards y */
	DQ__OP_ADD,   /* q + x */
	DQ__OP_MERGE, /* dq__merge_value(q, x, y, z), replica mode */
} dq__op_kind;

typedef struct dq__op {
	dq__op_kind kind;
	double x, y, z;
} dq__op;

/*
 * The write-back of an entry that an agent updated in its private window
 * (replica mode): base is the value it copied, local its value after the
 * window's updates, keep the product of (1 - alpha) over them, so that
 * local = keep * base + c. If the entry still holds base, nobody else moved
 * it and it becomes local exactly. Otherwise the window is replayed onto the
 * current value cur: keep * cur + c = cur + (1 - keep) * (T - cur) with
 * T = (local - keep * base) / (1 - keep), one TD update, which contracts the
 * others' change as if this agent's updates came after theirs and never
 * overshoots a common target (adding local - base would).
 */
static inline double
dq__merge_value(double cur, double base, double local, double keep)
{
	double step = 1.0 - keep, target;

	if (dq__d2u(cur) == dq__d2u(base))
		return local;
	target = (local - keep * base) / step;
	if (step > 0.0 && isfinite(target))
		return cur + step * (target - cur);
	return cur + (local - base); /* keep rounded to 1: tiny alphas */
}

DQ__INLINE double
dq__op_eval(const dq__op *op, double q)
{
	switch (op->kind) {
	case DQ__OP_TD:
		return q + op->x * (op->y - q);
	case DQ__OP_ADD:
		return q + op->x;
	case DQ__OP_MERGE:
	default:
		return dq__merge_value(q, op->x, op->y, op->z);
	}
}

/*
 * The table never holds inf or NaN. Every write path (dq__table_apply_as()
 * for updates, additions and replica merges; set, fill and load in table.c;
 * the replica window in agent.h) asks this of the value it is about to
 * store, and refuses the write with DQ_ENONFINITE, leaving the entry as it
 * was, when the answer is yes. A double is non-finite exactly when its
 * eleven exponent bits are all ones; tested on the bits already in an
 * integer register for the CAS, it costs a shift and a compare.
 */
static inline bool
dq__finite_or_refuse(uint64_t bits)
{
	return (bits << 1) < (UINT64_C(0x7ff) << 53);
}

/*
 * Apply q' = op(q) to one entry under discipline `mode` (the table's own:
 * the learner's hot loop passes it as a constant so that the switch folds
 * away). Returns the CAS retries (>= 0), or DQ_ENONFINITE when q' is not
 * finite: nothing is written. A result with the same bits as the stored
 * value writes nothing, so a converged entry stops invalidating other
 * cores' copies of its cache line.
 */
DQ__INLINE int
dq__table_apply_as(dq_table *t, dq_mode mode, uint32_t s, uint32_t a, dq__op op)
{
	dq__atomic_u64 *p = dq__table_row(t, s) + a;
	uint64_t old, nu;
	int retries = 0;

	switch (mode) {
	case DQ_MODE_CAS:
		/* relaxed: the CAS below re-checks the value; no other data
		 * is ordered by this entry */
		old = dq__load_u64(p, memory_order_relaxed);
		for (;;) {
			nu = dq__d2u(dq__op_eval(&op, dq__u2d(old)));
			if (nu == old)
				return retries;
			if (DQ__UNLIKELY(!dq__finite_or_refuse(nu)))
				return DQ_ENONFINITE;
			/* test builds: another writer may run here */
			DQ__JET_RACE_WINDOW();
			/* relaxed/relaxed: one location's modification order
			 * alone guarantees no lost update; failure refreshes
			 * `old` with the value seen */
			if (dq__cas_weak_u64(p, &old, nu, memory_order_relaxed,
					     memory_order_relaxed))
				return retries;
			retries++;
		}
	case DQ_MODE_HOGWILD:
		/* relaxed: Hogwild accepts losing a racing update */
		old = dq__load_u64(p, memory_order_relaxed);
		nu = dq__d2u(dq__op_eval(&op, dq__u2d(old)));
		if (DQ__UNLIKELY(!dq__finite_or_refuse(nu)))
			return DQ_ENONFINITE;
		/* test builds: another writer may run here */
		DQ__JET_RACE_WINDOW();
		if (nu != old)
			/* relaxed: see the load above */
			dq__store_u64(p, nu, memory_order_relaxed);
		return 0;
	case DQ_MODE_LOCKED:
	default: {
		pthread_mutex_t *mu = &t->stripes[s & t->stripe_mask].mu;

		pthread_mutex_lock(mu);
		/* relaxed: the stripe mutex orders writers; readers that do
		 * not lock still see whole values through the atomic word */
		old = dq__load_u64(p, memory_order_relaxed);
		nu = dq__d2u(dq__op_eval(&op, dq__u2d(old)));
		if (DQ__UNLIKELY(!dq__finite_or_refuse(nu))) {
			pthread_mutex_unlock(mu);
			return DQ_ENONFINITE;
		}
		if (nu != old)
			/* relaxed: published by the mutex unlock */
			dq__store_u64(p, nu, memory_order_relaxed);
		pthread_mutex_unlock(mu);
		return 0;
	}
	}
}

static inline int
dq__table_apply(dq_table *t, uint32_t s, uint32_t a, dq__op op)
{
	return dq__table_apply_as(t, t->mode, s, a, op);
}

/*
 * The whole table for checkpoints: every channel, channel-major (channel c
 * of (s, a) at (c x S + s) x A + a), and the visit counts (S x A; not
 * touched when the table keeps none). Export reads each word atomically
 * once (consistent per entry, as dq_table_snapshot()); import checks
 * every value is finite before it stores any (-EINVAL, table unchanged).
 */
void dq__table_export(const dq_table *t, double *vals, uint64_t *visits);
int dq__table_import(dq_table *t, const double *vals, const uint64_t *visits);

#endif /* DQ_TABLE_H */
