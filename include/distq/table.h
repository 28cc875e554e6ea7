/*
 * libdistq: the shared Q-table.
 *
 * Part of <distq.h>, which includes every part; this one may also be
 * included alone. The conventions are at the top of <distq.h>.
 */
#ifndef DISTQ_TABLE_H
#define DISTQ_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "api.h"
#include "rng.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------ */
/** @defgroup table The shared Q-table
 * S x A doubles, each in its own lock-free atomic 64-bit word. Any number of
 * threads may read and update it at once; what an update guarantees depends
 * on the discipline chosen at creation (see docs/memory-model.md).
 * @{ */

/** How concurrent updates to one entry are combined. */
typedef enum dq_mode {
	/** Load, compute, compare-and-swap, retry from the value seen: an
	 *  update is never lost. The default. */
	DQ_MODE_CAS = 0,
	/** Relaxed load and store: the fastest; two updates racing on one
	 *  entry can lose one of them. */
	DQ_MODE_HOGWILD = 1,
	/** Striped mutexes: the baseline the benchmarks compare against. */
	DQ_MODE_LOCKED = 2,
} dq_mode;

/** Table creation options; fill with dq_table_config_init(). */
typedef struct dq_table_config {
	uint32_t n_states;  /**< S, at least 1. */
	uint32_t n_actions; /**< A, at least 1. */
	dq_mode mode;	    /**< Update discipline. Default DQ_MODE_CAS. */
	double q0;	    /**< Initial value of every entry. Default 0. */
	bool pad_rows;	    /**< Start each row on its own cache line. */
	uint32_t n_stripes; /**< Mutexes in DQ_MODE_LOCKED; 0 = automatic. */
	/** Values per (s, a), at most DQ_TABLE_MAX_CHANNELS; default 1 (0
	 *  means 1). Channel 0 is the table every dq_table_*() call, the
	 *  learner's checks and checkpoints read; the others are for rules
	 *  that keep more per entry (dq_rule_channels()), in the same rows,
	 *  and start at 0 whatever q0 is. Read them with
	 *  dq_table_channel_get(). */
	uint32_t channels;
	/** Keep a visit count per (s, a) in one more channel of the same
	 *  rows (for per-entry step sizes, dq_agent_config.omega); read it
	 *  with dq_table_visits_get(). Default false. */
	bool visit_counts;
	uint64_t reserved_[3]; /**< Zero (see "Growing structs"). */
} dq_table_config;

/** The most channels a table may have (dq_table_config.channels). */
#define DQ_TABLE_MAX_CHANNELS 4u

/** Shape and placement of a table, as dq_table_info() reports it. */
typedef struct dq_table_info {
	uint32_t n_states;     /**< S. */
	uint32_t n_actions;    /**< A. */
	dq_mode mode;	       /**< Update discipline. */
	size_t row_stride;     /**< Entries from one row start to the next. */
	size_t bytes;	       /**< Bytes of entry storage. */
	bool numa_interleaved; /**< Memory is interleaved over NUMA nodes. */
	uint32_t channels;     /**< Values per (s, a) (dq_table_config). */
	bool visit_counts;     /**< It keeps visit counts (dq_table_config). */
	uint64_t reserved_[2]; /**< Zero (see "Growing structs"). */
} dq_table_info;

/** The shared Q-table (opaque). */
typedef struct dq_table dq_table;

/**
 * Fill @p cfg with defaults: mode cas, q0 0, no row padding, automatic
 * stripes, and S = A = 0 (the caller must set them).
 *
 * @return 0, or -EINVAL for a NULL @p cfg.
 * Thread-safety: safe from any thread.
 * Ordering: none.
 */
DQ_API int dq_table_config_init(dq_table_config *cfg);

/**
 * Create a table with every entry set to cfg->q0.
 *
 * Memory is interleaved across NUMA nodes when the machine has several
 * (through hwloc), and a cache-line-aligned allocation otherwise.
 *
 * @return 0; -EINVAL for NULL pointers, S or A of 0, an unknown mode, a
 *         non-finite q0 or non-zero reserved words, each with a
 *         dq_error_detail() naming the field ("n_states 0, n_actions 6:
 *         both must be >= 1"); -ERANGE when S x A overflows; -ENOMEM.
 * Thread-safety: safe from any thread.
 * Ordering: the table is published to other threads by whatever the caller
 *           uses to hand them the pointer (e.g. pthread_create).
 */
DQ_API int dq_table_create(dq_table **out, const dq_table_config *cfg);

/**
 * Free a table. No other thread may be using it. NULL is a no-op.
 *
 * Thread-safety: not concurrently with any other use of @p t.
 * Ordering: none.
 */
DQ_API void dq_table_destroy(dq_table *t);

/**
 * Report the shape and placement of @p t.
 *
 * @return 0, or -EINVAL for NULL pointers.
 * Thread-safety: safe from any thread.
 * Ordering: none (immutable after creation).
 */
DQ_API int dq_table_info_get(const dq_table *t, dq_table_info *info);

/**
 * Read one entry.
 *
 * @return 0; -EINVAL for NULL pointers; -ERANGE for s or a out of range.
 * Thread-safety: safe concurrently with updates.
 * Ordering: relaxed: the value is one that was stored at some point, with
 *           no ordering against other entries.
 */
DQ_API int dq_table_get(const dq_table *t, uint32_t s, uint32_t a, double *out);

/**
 * Overwrite one entry (e.g. to load a saved table).
 *
 * @return 0; -EINVAL for NULL @p t or a non-finite @p value; -ERANGE.
 * Thread-safety: safe concurrently with readers and updates; a racing
 *                update may be overwritten.
 * Ordering: relaxed.
 */
DQ_API int dq_table_set(dq_table *t, uint32_t s, uint32_t a, double value);

/**
 * Read entry (s, a) of channel @p channel (dq_table_config.channels; 0 is
 * what dq_table_get() reads).
 *
 * @return 0; -EINVAL for NULL pointers; -ERANGE when @p channel, @p s or
 *         @p a is out of range.
 * Thread-safety: safe concurrently with updates (a relaxed atomic load).
 * Ordering: none.
 */
DQ_API int dq_table_channel_get(const dq_table *t, uint32_t channel, uint32_t s,
				uint32_t a, double *out);

/**
 * The visit count of (s, a): how many updates of (s, a) took their step
 * size from it (dq_agent_config.omega).
 *
 * @return 0; -EINVAL for NULL pointers; -ERANGE when @p s or @p a is out
 *         of range; -ENOTSUP when the table keeps no visit counts.
 * Thread-safety: safe concurrently with updates (a relaxed atomic load).
 * Ordering: none.
 */
DQ_API int dq_table_visits_get(const dq_table *t, uint32_t s, uint32_t a,
			       uint64_t *out);

/**
 * Copy row @p s (A entries) into @p out.
 *
 * Each entry is read atomically; the row as a whole is not a snapshot of one
 * instant when updates race with the read (see docs/memory-model.md).
 *
 * @param n capacity of @p out in entries; must be at least A.
 * @return 0; -EINVAL for NULL pointers or @p n < A; -ERANGE for @p s.
 * Thread-safety: safe concurrently with updates.
 * Ordering: relaxed, per entry.
 */
DQ_API int dq_table_row(const dq_table *t, uint32_t s, double *out, size_t n);

/**
 * Largest value in row @p s.
 *
 * @return 0; -EINVAL for NULL pointers; -ERANGE for @p s.
 * Thread-safety: safe concurrently with updates.
 * Ordering: relaxed, per entry.
 */
DQ_API int dq_table_max(const dq_table *t, uint32_t s, double *out);

/**
 * The greedy action of row @p s.
 *
 * @param rng ties are broken uniformly at random with this stream; NULL
 *            breaks them by the lowest action index.
 * @return 0; -EINVAL for NULL @p t or @p action; -ERANGE for @p s.
 * Thread-safety: safe concurrently with updates; @p rng belongs to the
 *                calling thread.
 * Ordering: relaxed, per entry.
 */
DQ_API int dq_table_greedy(const dq_table *t, uint32_t s, dq_rng *rng,
			   uint32_t *action);

/**
 * One TD step: Q(s,a) += alpha * (target - Q(s,a)), combined with racing
 * updates as the table's mode says. An update whose result has the same
 * bits as the stored value writes nothing. The table never holds inf or
 * NaN: an update whose result would not be finite (finite inputs can
 * overflow, e.g. Q = -DBL_MAX and target DBL_MAX) is refused and the entry
 * keeps its value.
 *
 * @param alpha step size in (0, 1].
 * @param target a finite TD target.
 * @return 0; -EINVAL for NULL @p t, @p alpha outside (0,1] or a non-finite
 *         @p target; -ERANGE for s or a; DQ_ENONFINITE when the result
 *         would not be finite (nothing written).
 * Thread-safety: safe from any number of threads.
 * Ordering: relaxed: atomic on the entry, no ordering against other
 *           entries (cas: read-modify-write on one location, so no update is
 *           lost whatever the memory order).
 */
DQ_API int dq_table_update(dq_table *t, uint32_t s, uint32_t a, double alpha,
			   double target);

/**
 * Add @p delta to Q(s,a), combined with racing updates as the table's mode
 * says (in cas mode no addition is ever lost). Used to merge replicas. A
 * sum that would not be finite is refused, as in dq_table_update().
 *
 * @return 0; -EINVAL for NULL @p t or a non-finite @p delta; -ERANGE for
 *         s or a; DQ_ENONFINITE when the sum would not be finite (nothing
 *         written).
 * Thread-safety: safe from any number of threads.
 * Ordering: relaxed, as dq_table_update().
 */
DQ_API int dq_table_add(dq_table *t, uint32_t s, uint32_t a, double delta);

/**
 * Set every entry to @p value.
 *
 * @return 0; -EINVAL for NULL @p t or a non-finite @p value.
 * Thread-safety: safe concurrently, but racing updates may survive or not.
 * Ordering: relaxed.
 */
DQ_API int dq_table_fill(dq_table *t, double value);

/**
 * Copy the whole table, row-major S x A (no padding), into @p out.
 *
 * Each entry is read atomically once; entries updated during the copy may
 * come from different instants ("consistent per entry").
 *
 * @param n capacity of @p out in entries; must be at least S x A.
 * @return 0; -EINVAL for NULL pointers or a too small @p n.
 * Thread-safety: safe concurrently with updates.
 * Ordering: relaxed, per entry.
 */
DQ_API int dq_table_snapshot(const dq_table *t, double *out, size_t n);

/**
 * Overwrite the whole table from a row-major S x A array.
 *
 * @return 0; -EINVAL for NULL pointers, a too small @p n, or a non-finite
 *         value (the table is then unchanged).
 * Thread-safety: not concurrently with updates if the result must equal
 *                @p in.
 * Ordering: relaxed.
 */
DQ_API int dq_table_load(dq_table *t, const double *in, size_t n);

/**
 * The greedy policy (lowest index on ties) of every state.
 *
 * @param n capacity of @p policy; at least S.
 * @return 0; -EINVAL for NULL pointers or a too small @p n.
 * Thread-safety: safe concurrently with updates.
 * Ordering: relaxed, per entry.
 */
DQ_API int dq_table_policy(const dq_table *t, uint32_t *policy, size_t n);

/** @} */

#ifdef __cplusplus
}
#endif
#endif /* DISTQ_TABLE_H */
