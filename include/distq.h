/*
 * libdistq - parallel tabular Q-learning on one shared Q-table.
 *
 * This is the only installed header. Everything a program, an environment
 * or a simulator needs is declared here; nothing else is public.
 *
 * Conventions (the same everywhere below):
 *  - Functions return 0 on success and a negative error code on failure
 *    (a negative errno or a DQ_E* code); dq_strerror() describes any code.
 *    Three queries whose only answer is a count, "how many there are",
 *    return it (>= 0) instead: dq_env_builtins(), dq_env_outcomes() and
 *    dq_learner_agent_cpus(); dq_cores() returns a count and never fails.
 *  - Objects and counts come back through out-parameters; *out is left
 *    untouched on failure.
 *  - dq_X_destroy(NULL) is a no-op.
 *  - Config structs are filled with defaults by dq_X_config_init() and then
 *    adjusted by the caller. More fields may be added at the end in later
 *    minor versions; always start from dq_X_config_init().
 *  - The library never prints, exits or aborts on bad input.
 */
#ifndef DISTQ_H
#define DISTQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(DQ_BUILDING_LIBRARY) && defined(__GNUC__)
#define DQ_API __attribute__((visibility("default")))
#else
#define DQ_API
#endif

/* ------------------------------------------------------------------------ */
/** @defgroup version Version
 * @{ */

#define DQ_VERSION_MAJOR 0 /**< Incompatible ABI changes (the soname). */
#define DQ_VERSION_MINOR 1 /**< Compatible additions. */
#define DQ_VERSION_PATCH 0 /**< Fixes only. */
/** The version as one number: 0xMMmmpp. */
#define DQ_VERSION_HEX \
	((DQ_VERSION_MAJOR << 16) | (DQ_VERSION_MINOR << 8) | DQ_VERSION_PATCH)

/**
 * The version of the library actually linked, as DQ_VERSION_HEX.
 *
 * @return 0xMMmmpp.
 * Thread-safety: safe from any thread.
 * Ordering: none (a constant).
 */
DQ_API unsigned dq_version(void);

/**
 * The version of the library actually linked, as "MAJOR.MINOR.PATCH".
 *
 * @return a static string.
 * Thread-safety: safe from any thread.
 * Ordering: none (a constant).
 */
DQ_API const char *dq_version_string(void);

/** @} */
/* ------------------------------------------------------------------------ */
/** @defgroup errors Errors
 * Errors are negative errno values (-EINVAL, -ENOMEM, -ERANGE ...) or one
 * of the libdistq-specific codes below, all of which lie below
 * DQ_ERRNO_BASE so that they can never collide with a system errno.
 * @{ */

#define DQ_ERRNO_BASE (-1000) /**< Every libdistq-specific code is below. */
#define DQ_EABI (-1001)	      /**< Environment built for another ABI. */
#define DQ_EENV (-1002)	      /**< Environment broke its contract. */
#define DQ_EFORMAT (-1003)    /**< File is not a libdistq file. */
#define DQ_EVERSION (-1004)   /**< File has an unsupported version. */
#define DQ_ETRUNC (-1005)     /**< File is truncated. */
#define DQ_ECORRUPT \
	(-1006)		     /**< File fails a checksum or its fields
			       *   contradict each other. */
#define DQ_EMISMATCH (-1007) /**< File is for another environment/shape. */
#define DQ_EPIN (-1008)	     /**< Strict pinning was asked and failed. */
/** A write's result would not be finite (inf or NaN): refused, the entry
 *  left as it was. The table never holds a non-finite value. */
#define DQ_ENONFINITE (-1009)
/** A file holds a non-finite value where a finite one is required (its
 *  checksums may match: it was not written by libdistq's save). */
#define DQ_EFILEVALUE (-1010)
/** Path is not a regular file (a device, FIFO or socket): never read or
 *  replaced. */
#define DQ_ENOTREG (-1011)
/** The topology is not this machine's (HWLOC_SYNTHETIC or HWLOC_XMLFILE
 *  is set): a thread cannot be bound to its PUs. */
#define DQ_ENOTHISSYS (-1013)
/** A binding did not take effect: the OS reports another CPU set. */
#define DQ_EAFFINITY (-1014)
/** The learning rule (dq_agent_config.rule) cannot run as configured: it
 *  writes more entries per step than a write-back window (sync_every)
 *  holds, or needs table channels (dq_table_config.channels) or visit
 *  counts (dq_agent_config.omega) the table lacks. */
#define DQ_ERULE (-1015)

/**
 * Describe an error code.
 *
 * @param err a value returned by a libdistq function (0 or negative).
 * @return a static, human-readable string; never NULL. Unknown codes give
 *         "unknown error".
 * Thread-safety: safe from any thread (does not use strerror()'s buffer).
 * Ordering: none.
 */
DQ_API const char *dq_strerror(int err);

/**
 * What exactly was wrong, for the most recent failed call in this thread
 * that could say more than its error code: which parameter key and why
 * ("slip: '0,1' is not a number", "key 'slip' appears twice"), or what is
 * wrong with a file ("a FIFO, not a regular file", "the header announces
 * 8000000436 bytes, the file has 436").
 *
 * The functions that record a detail say so in their documentation
 * (dq_params_*(), dq_env_open(), dq_env_open_name(), dq_checkpoint_*(),
 * dq_model_create()).
 * Each of them clears it when called and records one only when it fails,
 * so right after such a call fails the detail belongs to it; other calls
 * leave it as it was. Reading it does not clear it.
 *
 * @return a string in thread-local storage, valid until the thread's next
 *         call of a function that records details; NULL when there is none.
 * Thread-safety: safe from any thread; each thread has its own detail.
 * Ordering: none.
 */
DQ_API const char *dq_error_detail(void);

/** @} */
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
	return (double)(dq_rng_next(rng) >> 11) * 0x1.0p-53;
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
 * @return 0; -EINVAL for NULL pointers, S or A of 0, an unknown mode or a
 *         non-finite q0; -ERANGE when S x A overflows; -ENOMEM.
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
/* ------------------------------------------------------------------------ */
/** @defgroup env Environments
 * An environment plugs in through a function table, dq_env_ops, whose
 * first field is the ABI number it was built for. dq_env_open() checks it,
 * lets the environment parse its parameters and build its shared definition,
 * and returns a dq_env handle. Each agent then creates its own instance: an
 * instance is only ever touched by one thread at a time; the definition is
 * read-only after open and shared.
 *
 * Parameters are one string of comma-separated key=value pairs, e.g.
 * "living_reward=0,slippery=1"; dq_params_*() parse it for environments.
 * @{ */

/** The environment ABI this header describes. */
#define DQ_ENV_ABI 1u

/** What an environment is, reported by its open function. */
typedef struct dq_env_spec {
	uint32_t n_states;	    /**< S, at least 1. */
	uint32_t n_actions;	    /**< A, at least 1. */
	uint32_t max_episode_steps; /**< Truncation limit; 0 = none. */
	uint32_t max_outcomes;	    /**< Most outcomes of one (s,a) in the
				     *   model; 0 = no model exported. */
} dq_env_spec;

/** What one step did. */
typedef struct dq_step {
	uint32_t next_state; /**< s', in [0, S). */
	double reward;	     /**< r. */
	bool terminated;     /**< s' is terminal: no bootstrap from it. */
	bool truncated;	     /**< The environment cut the episode itself. */
} dq_step;

/** One outcome of taking action a in state s. */
typedef struct dq_outcome {
	double prob;	     /**< Probability, > 0; a (s,a)'s sum to 1. */
	uint32_t next_state; /**< s'. */
	double reward;	     /**< r. */
	bool terminated;     /**< s' ends the episode. */
} dq_outcome;

/** What kind of value a parameter takes (dq_env_param.type). */
typedef enum dq_param_type {
	DQ_PARAM_REAL = 0,  /**< A finite number (dq_params_double()). */
	DQ_PARAM_COUNT = 1, /**< An unsigned integer (dq_params_u64()). */
	DQ_PARAM_BOOL = 2,  /**< 0/1, true/false... (dq_params_bool()). */
} dq_param_type;

/**
 * How an environment describes one of its parameters, so that tools can
 * list them (distq envs ENV) and name the accepted keys in an error. An
 * environment gives an array of these in dq_env_ops.params, ended by an
 * entry whose key is NULL. The array's element never grows (an array of
 * a bigger struct would break older readers); a later ABI adds a new
 * table instead.
 */
typedef struct dq_env_param {
	const char *key;    /**< As written in the parameter string. */
	dq_param_type type; /**< Its kind. */
	double def;	    /**< Default; NaN when computed from other
			     *   parameters (the help says how). */
	double min;	    /**< Smallest accepted value. */
	double max;	    /**< Largest accepted value. */
	const char *help;   /**< One line: what it sets, its unit. */
} dq_env_param;

/**
 * The function table an environment provides. Every callback returns 0 (or
 * a documented count) or a negative errno, which libdistq passes on.
 * Optional callbacks may be NULL.
 *
 * Growing it: the table ends in reserved pointer slots that older
 * environments leave NULL. A field added to ABI 1 takes the place of a
 * reserved slot, has the size of a pointer, and means "absent" when NULL,
 * so environments built before it keep working unchanged and DQ_ENV_ABI
 * stays 1. (params and success took the first two slots.)
 */
typedef struct dq_env_ops {
	uint32_t abi;	  /**< DQ_ENV_ABI at the time of building. */
	const char *name; /**< Short name, e.g. "taxi". */
	/** Parse @p params (never NULL; "" = defaults), build the shared
	 *  definition and describe it. @p user is dq_env_open()'s. */
	int (*open)(void **def, const char *params, void *user,
		    dq_env_spec *spec);
	/** Free the definition (optional). */
	void (*close)(void *def);
	/** Create one instance (optional: NULL means the definition itself
	 *  is the instance, for stateless environments). Allocate it with
	 *  dq_env_instance_alloc() so agents never share a cache line.
	 *  A create that fails must free what it made: destroy is not
	 *  called for it, whatever it left in *inst. */
	int (*create)(void *def, void **inst);
	/** Free one instance (optional). */
	void (*destroy)(void *inst);
	/** Start an episode; set *state. Draw randomness from @p rng only. */
	int (*reset)(void *inst, dq_rng *rng, uint32_t *state);
	/** Take @p action from the current state. */
	int (*step)(void *inst, uint32_t action, dq_rng *rng, dq_step *out);
	/** Model (optional): write up to @p cap outcomes of (s,a) to @p out
	 *  and return how many there are. */
	int (*outcomes)(const void *def, uint32_t s, uint32_t a,
			dq_outcome *out, size_t cap);
	/** Start distribution (optional; needed with outcomes): fill @p p
	 *  with S probabilities. */
	int (*start_probs)(const void *def, double *p, size_t n);
	/** Put the instance in state @p s (optional; lets a checkpoint or an
	 *  evaluation start from a given state). */
	int (*set_state)(void *inst, uint32_t s);
	/** The parameters open() accepts, ended by a NULL key (optional;
	 *  was reserved[0]). Describes; open() still does the parsing. */
	const dq_env_param *params;
	/** Whether an episode whose final step was @p last succeeded
	 *  (optional; was reserved[1]): reaching a goal, say, or for a
	 *  balancing task surviving to the step limit. @p last->truncated
	 *  is also set when the caller cut the episode at its own limit.
	 *  Must not fail; called from any thread. */
	bool (*success)(const void *def, const dq_step *last);
	void *reserved[1]; /**< Must be NULL. */
} dq_env_ops;

/**
 * Allocate @p size zeroed bytes for an environment instance on cache lines
 * of its own (64-byte aligned, size rounded up to 64). Instances are written
 * on every step by their agent's thread; two instances sharing a cache line
 * would make the agents' cores fight over it. Free with free().
 *
 * @return the memory, or NULL when out of memory.
 * Thread-safety: safe from any thread.
 * Ordering: none.
 */
static inline void *
dq_env_instance_alloc(size_t size)
{
	size_t rounded = (size + 63) / 64 * 64;
	void *p =
	    rounded >= size ? aligned_alloc(64, rounded ? rounded : 64) : NULL;

	if (p)
		memset(p, 0, rounded ? rounded : 64);
	return p;
}

/**
 * dq_env_instance_alloc() as an exported function, for bindings (see
 * dq_rng_next_fn()).
 *
 * @return as dq_env_instance_alloc(): the memory (free it with free() of
 *         the C library libdistq uses), or NULL when out of memory.
 * Thread-safety: as dq_env_instance_alloc().
 * Ordering: none.
 */
DQ_API void *dq_env_instance_alloc_fn(size_t size);

/**
 * Add the outcome "with probability @p prob, what @p st describes" to the
 * @p n outcomes in @p o, merging it into an earlier one with the same next
 * state (its probability is added). For environments whose reward and end
 * flag follow from the next state alone, so that a model lists each
 * landing state once (a corner turns two slips into one "stay"). @p o must
 * have room for n + 1 outcomes.
 *
 * @return the new count, n or n + 1.
 * Thread-safety: safe from any thread.
 * Ordering: none.
 */
static inline size_t
dq_outcome_merge(dq_outcome *o, size_t n, double prob, const dq_step *st)
{
	for (size_t j = 0; j < n; j++) {
		if (o[j].next_state == st->next_state) {
			o[j].prob += prob;
			return n;
		}
	}
	o[n].prob = prob;
	o[n].next_state = st->next_state;
	o[n].reward = st->reward;
	o[n].terminated = st->terminated;
	return n + 1;
}

/**
 * dq_outcome_merge() as an exported function, for bindings (see
 * dq_rng_next_fn()).
 *
 * @return as dq_outcome_merge(): the new count, n or n + 1.
 * Thread-safety: as dq_outcome_merge().
 * Ordering: none.
 */
DQ_API size_t dq_outcome_merge_fn(dq_outcome *o, size_t n, double prob,
				  const dq_step *st);

/** An opened environment: ops + shared definition + spec (opaque). */
typedef struct dq_env dq_env;

/** One instance of an environment, for callers who step it themselves. */
typedef struct dq_env_instance dq_env_instance;

/**
 * Open an environment from its function table.
 *
 * @param params key=value,... string; NULL means defaults.
 * @param user passed to ops->open unchanged.
 * @return 0; -EINVAL for NULL @p out/@p ops, missing mandatory callbacks
 *         (open, reset, step) or non-NULL reserved fields; DQ_EABI when
 *         ops->abi != DQ_ENV_ABI; DQ_EENV for an invalid spec (S or A of
 *         0, a model without outcomes or start_probs); -ENOMEM; or what
 *         ops->open returned. dq_error_detail() holds what the
 *         environment's parameter parsing (or dq_env_fail()) recorded.
 * Thread-safety: safe from any thread.
 * Ordering: the handle is published by the caller's own hand-off.
 */
DQ_API int dq_env_open(dq_env **out, const dq_env_ops *ops, const char *params,
		       void *user);

/**
 * Open a built-in environment by name, e.g. "taxi" or
 * "maze4x3:living_reward=0" (parameters after a colon).
 *
 * @return 0; -EINVAL for NULL pointers or bad parameters; -ENOENT for an
 *         unknown name; -ENOMEM. On failure dq_error_detail() says which
 *         parameter key is at fault and why, or that the name is unknown.
 * Thread-safety: safe from any thread.
 * Ordering: as dq_env_open().
 */
DQ_API int dq_env_open_name(dq_env **out, const char *spec);

/**
 * Close an environment. No instance of it may remain. NULL is a no-op.
 *
 * Thread-safety: not concurrently with any use of @p env.
 * Ordering: none.
 */
DQ_API void dq_env_close(dq_env *env);

/**
 * Report what @p env is.
 *
 * @return 0, or -EINVAL for NULL pointers.
 * Thread-safety: safe from any thread.
 * Ordering: none (immutable).
 */
DQ_API int dq_env_spec_get(const dq_env *env, dq_env_spec *spec);

/**
 * The environment's name (its ops->name).
 *
 * @return 0, or -EINVAL for NULL pointers.
 * Thread-safety: safe from any thread.
 * Ordering: none (immutable).
 */
DQ_API int dq_env_name(const dq_env *env, const char **name);

/**
 * Whether an episode that ended with the step @p last succeeded, in the
 * environment's own meaning (dq_env_ops.success). Set last->truncated
 * when the episode was cut by a step limit, the environment's or yours.
 *
 * @return 0 with *success set; -EINVAL for NULL pointers; -ENOTSUP when
 *         the environment does not say what success is.
 * Thread-safety: safe from any thread.
 * Ordering: none.
 */
DQ_API int dq_env_success(const dq_env *env, const dq_step *last,
			  bool *success);

/**
 * The built-in environments' function tables, for listing them.
 *
 * @param ops receives up to @p cap pointers (may be NULL when cap is 0).
 * @return how many built-in environments there are (>= 0), or -EINVAL for a
 *         NULL @p ops with a non-zero @p cap.
 * Thread-safety: safe from any thread.
 * Ordering: none (static data).
 */
DQ_API int dq_env_builtins(const dq_env_ops **ops, size_t cap);

/**
 * The outcomes of (s,a) in the environment's model.
 *
 * @return the number of outcomes (if larger than @p cap only @p cap were
 *         written); -ENOTSUP when the environment exports no model;
 *         -EINVAL; -ERANGE for s or a; DQ_EENV if the model is invalid.
 * Thread-safety: safe from any thread.
 * Ordering: none.
 */
DQ_API int dq_env_outcomes(const dq_env *env, uint32_t s, uint32_t a,
			   dq_outcome *out, size_t cap);

/**
 * The start distribution: S probabilities summing to 1.
 *
 * @return 0; -ENOTSUP without a model; -EINVAL for NULL or @p n < S.
 * Thread-safety: safe from any thread.
 * Ordering: none.
 */
DQ_API int dq_env_start_probs(const dq_env *env, double *p, size_t n);

/**
 * Create an instance of @p env, to step it directly.
 *
 * @return 0; -EINVAL; -ENOMEM; or what ops->create returned.
 * Thread-safety: safe from any thread; the instance then belongs to one
 *                thread at a time.
 * Ordering: none.
 */
DQ_API int dq_env_instance_create(const dq_env *env, dq_env_instance **out);

/**
 * Free an instance. NULL is a no-op.
 *
 * Thread-safety: the owning thread only.
 * Ordering: none.
 */
DQ_API void dq_env_instance_destroy(dq_env_instance *inst);

/**
 * Start an episode.
 *
 * @return 0; -EINVAL; DQ_EENV when the environment gives a state out of
 *         range; or the environment's own error.
 * Thread-safety: the owning thread only.
 * Ordering: none.
 */
DQ_API int dq_env_instance_reset(dq_env_instance *inst, dq_rng *rng,
				 uint32_t *state);

/**
 * Take one step.
 *
 * @return 0; -EINVAL for NULL pointers; -ERANGE for @p action; DQ_EENV when
 *         the environment gives a state out of range or a non-finite
 *         reward; or the environment's own error.
 * Thread-safety: the owning thread only.
 * Ordering: none.
 */
DQ_API int dq_env_instance_step(dq_env_instance *inst, uint32_t action,
				dq_rng *rng, dq_step *out);

/**
 * Put an instance in state @p s (the environment's set_state callback), to
 * evaluate or resume from a chosen state.
 *
 * @return 0; -EINVAL for NULL; -ERANGE for @p s; -ENOTSUP when the
 *         environment has no set_state; or the environment's own error.
 * Thread-safety: the owning thread only.
 * Ordering: none.
 */
DQ_API int dq_env_instance_set_state(dq_env_instance *inst, uint32_t s);

/**
 * Say what was wrong, for an environment's open callback that fails for a
 * reason the dq_params_*() functions did not record (a combination of
 * parameters, say): records "@p what: @p why" for dq_error_detail() and
 * returns @p err, so that `return dq_env_fail(-ERANGE, "bins", "the
 * product is too large");` does both.
 *
 * @param what the parameter key(s) at fault (may be NULL).
 * @param why what is wrong with them (may be NULL).
 * @return @p err, unchanged.
 * Thread-safety: safe from any thread; the detail is the calling thread's.
 * Ordering: none.
 */
DQ_API int dq_env_fail(int err, const char *what, const char *why);

/**
 * Check that a parameter string names only @p keys and is well formed.
 *
 * @param params key=value,... (NULL or "" is valid).
 * @param keys NULL-terminated list of accepted keys.
 * @return 0; -EINVAL for a malformed string, an unknown or repeated key
 *         (dq_error_detail() names it).
 * Thread-safety: safe from any thread.
 * Ordering: none.
 */
DQ_API int dq_params_check(const char *params, const char *const *keys);

/**
 * Read a floating-point parameter.
 *
 * @param def value when @p key is absent.
 * @param min,max accepted range, inclusive.
 * Numbers are read as in the "C" locale whatever LC_NUMERIC says ("0.1",
 * never "0,1").
 *
 * @return 0; -EINVAL for NULL pointers or a value that does not parse;
 *         -ERANGE for a value outside [min, max]. dq_error_detail() names
 *         the key and what is wrong with its value.
 * Thread-safety: safe from any thread.
 * Ordering: none.
 */
DQ_API int dq_params_double(const char *params, const char *key, double def,
			    double min, double max, double *out);

/**
 * Read an unsigned integer parameter (decimal, or with a k/M/G suffix for
 * powers of 1000).
 *
 * @return 0; -EINVAL for NULL pointers or a value that does not parse;
 *         -ERANGE for a value outside [min, max]. dq_error_detail() names
 *         the key and what is wrong with its value.
 * Thread-safety: safe from any thread.
 * Ordering: none.
 */
DQ_API int dq_params_u64(const char *params, const char *key, uint64_t def,
			 uint64_t min, uint64_t max, uint64_t *out);

/**
 * Read a boolean parameter (1/0, true/false, yes/no, on/off).
 *
 * @return 0; -EINVAL for NULL pointers or a value that does not parse
 *         (dq_error_detail() names the key).
 * Thread-safety: safe from any thread.
 * Ordering: none.
 */
DQ_API int dq_params_bool(const char *params, const char *key, bool def,
			  bool *out);

/** @} */
/* ------------------------------------------------------------------------ */
/** @defgroup agent Agents
 * An agent is the act/observe step of epsilon-greedy Q-learning bound to a
 * shared table: one per thread. The learner runs agents in its own threads;
 * a simulator that owns its loop creates agents itself and calls
 * dq_agent_act() and dq_agent_observe().
 * @{ */

/** How a schedule moves from start to end. */
typedef enum dq_schedule_kind {
	DQ_SCHEDULE_CONSTANT = 0, /**< Always start. */
	DQ_SCHEDULE_LINEAR = 1,	  /**< start -> end over steps, then end. */
	DQ_SCHEDULE_EXP = 2,	  /**< end + (start-end) * exp(-t/steps). */
} dq_schedule_kind;

/** A value that changes with the step count t. */
typedef struct dq_schedule {
	dq_schedule_kind kind; /**< Shape. */
	double start;	       /**< Value at t = 0. */
	double end;	       /**< Value reached (linear) or approached. */
	double steps;	       /**< Length (linear) or time constant (exp). */
} dq_schedule;

/** Learning rules: what an agent writes for each transition (the rule
 *  layer, docs/architecture.md). Every rule bootstraps from s' on a
 *  truncated transition and not on a terminated one. */
typedef enum dq_rule {
	DQ_RULE_Q = 0, /**< One-step Q-learning (Watkins). */
	/** One-step SARSA: bootstraps from Q(s', a'), a' the action the
	 *  agent's epsilon-greedy policy takes next in s' (chosen at the
	 *  observe, returned by the next act in s'). */
	DQ_RULE_SARSA = 1,
	/** Expected SARSA: bootstraps from the expectation of Q(s', .)
	 *  under the current epsilon-greedy policy,
	 *  (1 - eps) max Q(s', .) + eps mean Q(s', .). */
	DQ_RULE_EXPECTED_SARSA = 2,
	/** Double Q-learning (van Hasselt 2010): two estimates QA, QB; a
	 *  coin picks which one a step updates, towards r + gamma
	 *  QB(s', argmax QA(s', .)) (or the other way round); the agent acts
	 *  on their sum. Needs a table with 2 channels: channel 0 holds
	 *  (QA + QB) / 2 (so the table's greedy policy is the acting one),
	 *  channel 1 (QA - QB) / 2; a step makes two writes (additions). */
	DQ_RULE_DOUBLE_Q = 3,
} dq_rule;

/**
 * The rule named @p name: "q", "sarsa", "expected-sarsa", "double-q"
 * (the names `distq train --algo` takes).
 *
 * @return 0, -EINVAL for a NULL pointer, or -ENOENT for a name no rule
 *         has (*out unchanged).
 * Thread-safety: safe from any thread.
 * Ordering: none.
 */
DQ_API int dq_rule_from_name(const char *name, dq_rule *out);

/**
 * The name of @p rule, as dq_rule_from_name() takes it.
 *
 * @return a static string, or NULL for a value that is no rule.
 * Thread-safety: safe from any thread.
 * Ordering: none.
 */
DQ_API const char *dq_rule_name(dq_rule rule);

/**
 * How many table channels @p rule needs (dq_table_config.channels): 1 for
 * most rules, 2 for DQ_RULE_DOUBLE_Q.
 *
 * @return 0, or -EINVAL for a NULL @p out or a value that is no rule.
 * Thread-safety: safe from any thread.
 * Ordering: none.
 */
DQ_API int dq_rule_channels(dq_rule rule, uint32_t *out);

/** Agent options; fill with dq_agent_config_init(). */
typedef struct dq_agent_config {
	double gamma;		/**< Discount in [0,1]. Default 0.95. */
	dq_schedule alpha;	/**< Step size, in (0,1]. Default 0.1. */
	dq_schedule epsilon;	/**< Exploration, in [0,1]. Default 0.1. */
	uint64_t seed;		/**< Base seed. Default 1. */
	uint32_t stream;	/**< RNG stream (agent id). Default 0. */
	uint32_t clock_step;	/**< Schedule steps per agent step. Default 1;
			       *   the learner uses P so that schedules run
			       *   on total steps. */
	uint32_t return_window; /**< K: episodes in the mean return.
				 *   Default 100. */
	bool random_ties;	/**< Break greedy ties at random (default)
			       *   rather than by lowest index. */
	/** Replica mode when > 0: the agent's updates reach the shared
	 *  table every sync_every steps instead of at once. The first write
	 *  to a row in a window copies the row; the agent then reads and
	 *  updates its copy, and reads rows it has not written from the
	 *  shared table. At each sync every changed entry is written back
	 *  as one merge under the table's discipline (in cas mode none is
	 *  lost): an entry nobody else moved gets the agent's value
	 *  exactly, so one agent learns bit for bit as with direct
	 *  updates; otherwise the window is replayed onto the current
	 *  value as one TD update (docs/memory-model.md). The shared table
	 *  lags each agent by at most sync_every steps. For tables of at
	 *  most DQ_REPLICA_MAX_ENTRIES entries. Default 0: every update
	 *  goes straight to the shared table, except in a learner whose
	 *  write_path is DQ_WRITE_AUTO (its default), which then chooses
	 *  between direct updates and windows itself. */
	uint32_t sync_every;
	/** The learning rule: what a transition writes. Default DQ_RULE_Q. */
	dq_rule rule;
	/** Per-entry step sizes when in (0.5, 1]: an update of (s, a) uses
	 *  alpha = 1 / N(s, a)^omega, N its visit count with this update
	 *  (the table's, dq_table_config.visit_counts, shared by all agents;
	 *  taken with one atomic fetch-add), instead of the alpha schedule.
	 *  The classic condition under which tabular Q-learning converges.
	 *  Default 0: the alpha schedule. */
	double omega;
} dq_agent_config;

/** The largest table (S x A) an agent may replicate (sync_every > 0). */
#define DQ_REPLICA_MAX_ENTRIES (1u << 22)

/** Counters of one agent (or of all, summed, from the learner). */
typedef struct dq_stats {
	uint64_t steps;	      /**< Steps taken (observe calls). */
	uint64_t episodes;    /**< Episodes finished. */
	uint64_t cas_retries; /**< Failed CAS attempts (cas mode). */
	uint64_t returns_n;   /**< Episodes in the mean below (<= K each). */
	double mean_return;   /**< Mean return over the last K episodes
			       *   (of each agent); NaN when none yet. */
	double epsilon;	      /**< Current epsilon (mean over agents). */
	double alpha;	      /**< Current alpha (mean over agents). */
} dq_stats;

/** An agent bound to a table (opaque). */
typedef struct dq_agent dq_agent;

/**
 * Fill @p cfg with the defaults of the seed study: gamma 0.95, constant
 * alpha 0.1 and epsilon 0.1, seed 1, stream 0, random ties, K = 100.
 *
 * @return 0, or -EINVAL for a NULL @p cfg.
 * Thread-safety: safe from any thread.
 * Ordering: none.
 */
DQ_API int dq_agent_config_init(dq_agent_config *cfg);

/**
 * Check a configuration without creating anything.
 *
 * @return 0; -EINVAL naming nothing more precise: gamma outside [0,1],
 *         alpha outside (0,1], epsilon outside [0,1], an unknown schedule
 *         kind, a non-positive schedule length, K of 0 or above 2^20, a
 *         clock_step of 0, sync_every above 2^30, an unknown rule, an
 *         omega neither 0 nor in (0.5, 1].
 * Thread-safety: safe from any thread.
 * Ordering: none.
 */
DQ_API int dq_agent_config_check(const dq_agent_config *cfg);

/**
 * Create an agent that learns into @p table.
 *
 * @return 0; -EINVAL for NULL pointers or a bad config (see
 *         dq_agent_config_check()); -ERANGE when sync_every > 0 and the
 *         table has more than DQ_REPLICA_MAX_ENTRIES entries; DQ_ERULE
 *         when the rule needs more table channels than @p table has
 *         (dq_rule_channels()), or omega is set and @p table keeps no
 *         visit counts; -ENOMEM.
 * Thread-safety: safe from any thread; the agent then belongs to one thread
 *                at a time. Any number of agents may share one table.
 * Ordering: as dq_table_update() for the table; none otherwise.
 */
DQ_API int dq_agent_create(dq_agent **out, dq_table *table,
			   const dq_agent_config *cfg);

/**
 * Free an agent (not its table). NULL is a no-op.
 *
 * Thread-safety: the owning thread only.
 * Ordering: none.
 */
DQ_API void dq_agent_destroy(dq_agent *agent);

/**
 * Choose an action for @p state: with probability epsilon uniformly at
 * random, else greedily from the shared table.
 *
 * @return 0; -EINVAL for NULL pointers; -ERANGE for @p state.
 * Thread-safety: the owning thread only; the table may be shared.
 * Ordering: relaxed reads of the table.
 */
DQ_API int dq_agent_act(dq_agent *agent, uint32_t state, uint32_t *action);

/**
 * Learn from one transition: Q(s,a) moves towards
 * r + gamma * max_a' Q(s',a') (or r alone when @p terminated), then the
 * schedules advance one step. A terminated transition also ends the
 * episode for the statistics. CAS retries are counted in the agent's
 * statistics (dq_stats.cas_retries), not returned.
 *
 * @return 0; -EINVAL for NULL @p agent or a non-finite @p reward; -ERANGE
 *         for s, a or s'; DQ_ENONFINITE when the update's result would not
 *         be finite: refused, Q(s,a), the agent's counters, episode and
 *         schedules unchanged (replica mode: a refused write-back at the
 *         step's sync, see dq_agent_sync(), comes after the step counted).
 * Thread-safety: the owning thread only; the table may be shared.
 * Ordering: as dq_table_update().
 */
DQ_API int dq_agent_observe(dq_agent *agent, uint32_t s, uint32_t a,
			    double reward, uint32_t next_state,
			    bool terminated);

/**
 * Replica mode: write the updates the agent made since its last sync back
 * to the shared table now, and release its row copies (it reads the shared
 * table again). Call it before reading the shared table for a result, or
 * before destroying the agent (destroy does not sync). A no-op without
 * replica mode.
 *
 * @return 0; -EINVAL for NULL; DQ_ENONFINITE when an entry's write-back
 *         would not be finite: that entry keeps its value, every other one
 *         is written back, and the copies are released either way.
 * Thread-safety: the owning thread only; the table may be shared.
 * Ordering: as dq_table_update() for each changed entry.
 */
DQ_API int dq_agent_sync(dq_agent *agent);

/**
 * End the current episode for the statistics without a terminal
 * transition (truncation, or the simulator's own reset). Does nothing if no
 * step was observed since the last episode ended.
 *
 * @return 0, or -EINVAL for NULL.
 * Thread-safety: the owning thread only.
 * Ordering: none.
 */
DQ_API int dq_agent_episode_end(dq_agent *agent);

/**
 * The agent's counters.
 *
 * @return 0, or -EINVAL for NULL pointers.
 * Thread-safety: the owning thread only (the learner offers a concurrent
 *                view: dq_learner_agent_stats()).
 * Ordering: none.
 */
DQ_API int dq_agent_stats_get(const dq_agent *agent, dq_stats *out);

/**
 * The agent's random stream, for a simulator that wants its own draws to
 * follow the seeded run.
 *
 * @return 0, or -EINVAL for NULL pointers.
 * Thread-safety: the owning thread only.
 * Ordering: none.
 */
DQ_API int dq_agent_rng(dq_agent *agent, dq_rng **rng);

/** @} */
/* ------------------------------------------------------------------------ */
/** @defgroup learner The learner: agent threads
 * @{ */

/**
 * How a learner's agents write to the shared table
 * (dq_learner_config.write_path). A sync_every > 0 in the agent config
 * always wins: write-back windows of exactly that many steps.
 */
typedef enum dq_write_path {
	/** The default. With agent.sync_every 0 the learner chooses for each
	 *  agent, and revises between chunks of steps, between direct updates
	 *  and write-back windows (and their length), from the table's size
	 *  and the conflicts the agents measure (CAS retries, write-backs that
	 *  found an entry moved): docs/performance.md, "The automatic write
	 *  path". One agent, or a table above 2^14 entries, always updates
	 *  directly, so single-agent runs are exactly as with
	 *  DQ_WRITE_DIRECT. */
	DQ_WRITE_AUTO = 0,
	/** Every update goes straight to the shared table (agent.sync_every
	 *  must be 0). */
	DQ_WRITE_DIRECT = 1,
} dq_write_path;

/** Where agent threads run. */
typedef enum dq_pin_policy {
	/** One agent per physical core, spread over packages and NUMA nodes
	 *  before any SMT sibling is used. The default. */
	DQ_PIN_CORES = 0,
	/** No binding: the OS scheduler places threads. */
	DQ_PIN_NONE = 1,
	/** Agent i on PU pus[i % n_pus] (OS indexes, as in taskset). */
	DQ_PIN_LIST = 2,
} dq_pin_policy;

/** A consistent view of the totals, given to the progress callback. */
typedef struct dq_progress {
	double seconds;		 /**< Since the run started. */
	dq_stats total;		 /**< Summed over agents (see dq_stats). */
	double steps_per_second; /**< This run's steps per second since the
				  *   previous callback (over the whole run in
				  *   the final call). */
	double target_fraction;	 /**< Last measured optimal fraction (see
				  *   dq_learner_config.target_fraction);
				  *   NaN when not measured. */
	bool final;		 /**< The call at the end of the run. */
} dq_progress;

/** Learner options; fill with dq_learner_config_init(). */
typedef struct dq_learner_config {
	uint32_t n_threads;	    /**< P agents, 1..DQ_MAX_THREADS. Default
				   *   1; dq_learner_config_init() never
				   *   guesses the core count. */
	dq_agent_config agent;	    /**< Per-agent learning options; agent i
				   *   uses stream i and clock_step P. */
	uint64_t max_steps;	    /**< Stop after this many total steps
				   *   (0 = no limit). */
	uint64_t max_episodes;	    /**< Stop after this many total episodes
				   *   (0 = no limit). */
	double max_seconds;	    /**< Wall-clock budget (0 = no limit). */
	uint32_t max_episode_steps; /**< Truncate episodes (0 = the
				     *   environment's own limit). */
	/** Called from the monitoring thread every progress_interval, until
	 *  a stop is under way; return non-zero to stop the run. May be
	 *  NULL. */
	int (*should_stop)(void *arg);
	void *should_stop_arg; /**< Passed to should_stop. */
	/** Called from the monitoring thread with a consistent snapshot of
	 *  the totals every progress_interval, and once at the end. */
	void (*progress)(const dq_progress *p, void *arg);
	void *progress_arg;	  /**< Passed to progress. */
	double progress_interval; /**< Seconds; default 0.1. */
	dq_pin_policy pin;	  /**< Default DQ_PIN_CORES. */
	const unsigned *pin_pus;  /**< For DQ_PIN_LIST. */
	size_t n_pin_pus;	  /**< Entries in pin_pus. */
	bool pin_strict;	  /**< A failed binding is an error. */
	/** Stop when the greedy policy is optimal from at least this
	 *  fraction of the start-state probability (0 = off). Needs an
	 *  environment with a model. Checked every target_interval by
	 *  one agent at a time, between chunks of <= 256 steps (so that the
	 *  check never waits for a core), on a copy of the table: each
	 *  check costs that agent O(S x A + the policy's outcomes) and
	 *  allocates nothing. A run that reaches the target keeps the
	 *  values that check read: dq_learner_target_table() copies them
	 *  out, and the shared table is left as its writers left it. */
	double target_fraction;
	double target_interval; /**< Seconds between checks; default
				    *   0.002. */
	/** How updates reach the table; default DQ_WRITE_AUTO. */
	dq_write_path write_path;
} dq_learner_config;

/** The most agent threads a learner accepts. */
#define DQ_MAX_THREADS 4096u

/** Why a run ended. */
typedef enum dq_stop_reason {
	DQ_STOP_NONE = 0,     /**< Not run yet, or still running. */
	DQ_STOP_STEPS = 1,    /**< max_steps reached. */
	DQ_STOP_EPISODES = 2, /**< max_episodes reached. */
	DQ_STOP_TIME = 3,     /**< max_seconds elapsed. */
	DQ_STOP_CALLBACK = 4, /**< should_stop returned non-zero. */
	DQ_STOP_REQUEST = 5,  /**< dq_learner_stop() was called. */
	DQ_STOP_TARGET = 6,   /**< target_fraction reached. */
	DQ_STOP_ERROR = 7,    /**< An agent failed (dq_learner_error()). */
} dq_stop_reason;

/** What went wrong in a run. */
typedef struct dq_run_error {
	int code;	  /**< Negative error code; 0 when none. */
	uint32_t agent;	  /**< Which agent failed. */
	uint64_t step;	  /**< That agent's step count when it failed. */
	const char *what; /**< "reset", "step", "update", "sync", "pin" or
			   *   "thread". */
} dq_run_error;

/** A summary of the last run. */
typedef struct dq_run_result {
	dq_stop_reason reason;	/**< Why it ended. */
	double seconds;		/**< Wall time of the run. */
	dq_stats total;		/**< Final totals, including earlier runs
				 *   and restored agents' counts; a sum
				 *   past 2^64 - 1 saturates there. */
	uint64_t run_steps;	/**< Steps taken in this run. */
	double target_fraction; /**< Optimal fraction of the final table
				 *   (when the target was reached, of the
				 *   values that passed, see
				 *   dq_learner_target_table()); NaN if
				 *   off. */
	double target_seconds;	/**< When target_fraction was reached; NaN. */
	uint64_t target_steps;	/**< Steps of this run when reached (as
				 *   published: P x 256 steps resolution);
				 *   0 if not. */
	uint32_t pin_failures;	/**< Agents that pinning was asked for and
				*   that run unbound (non-strict). */
	int pin_error;		/**< Why the first of them is unbound: the
				*   binding's error (DQ_ENOTHISSYS when the
				*   topology is not this machine's,
				*   DQ_EAFFINITY when the OS ignored it,
				*   -EPERM, -EINVAL...; DQ_EPIN when no
				*   topology could be read); 0 when none. */
} dq_run_result;

/** A set of agent threads learning one table (opaque). */
typedef struct dq_learner dq_learner;

/**
 * Fill @p cfg with defaults: 1 thread, dq_agent_config_init() agents, no
 * limits (set at least one before running), progress every 0.1 s, pinning
 * one agent per core, not strict.
 *
 * @return 0, or -EINVAL for a NULL @p cfg.
 * Thread-safety: safe from any thread.
 * Ordering: none.
 */
DQ_API int dq_learner_config_init(dq_learner_config *cfg);

/**
 * Create a learner: P agents on @p table, each with its own instance of
 * @p env. The table and environment must outlive the learner and match
 * (S and A).
 *
 * @return 0; -EINVAL for NULL pointers, a bad config (thread count,
 *         agent options, no stop condition, a pin list missing or naming
 *         a PU that does not exist, an unknown write_path or
 *         DQ_WRITE_DIRECT with sync_every > 0), a table/environment
 *         shape mismatch;
 *         -ENOTSUP for target_fraction without a model; DQ_ERULE when
 *         the agents' rule needs more table channels than @p table has
 *         or omega needs visit counts it does not keep;
 *         -ENOMEM; or an environment's create error.
 * Thread-safety: safe from any thread.
 * Ordering: none.
 */
DQ_API int dq_learner_create(dq_learner **out, dq_table *table,
			     const dq_env *env, const dq_learner_config *cfg);

/**
 * Free a learner that is not running. NULL is a no-op.
 *
 * Thread-safety: not concurrently with dq_learner_run().
 * Ordering: none.
 */
DQ_API void dq_learner_destroy(dq_learner *l);

/**
 * Run the agents until a stop condition; blocks the calling thread, which
 * becomes the monitor (progress, time budget, should_stop; the agents make
 * the target checks). Every thread
 * started is joined before it returns. A learner may be run again: agents
 * continue from their state (counters, schedules, RNG) and limits count
 * from the new run's start.
 *
 * @param result receives the summary (may be NULL).
 * @return 0 when the run ended by a stop condition or request; the first
 *         agent error otherwise (details from dq_learner_error()), such
 *         as DQ_EENV for an environment error (a non-finite reward
 *         included) or DQ_ENONFINITE for an update whose result would
 *         not be finite (refused, the entry unchanged; what is "update"
 *         or "sync"); DQ_EPIN
 *         when strict pinning failed (why: result->pin_error); -EAGAIN when a thread could not be
 *         started; -EBUSY when already running.
 * Thread-safety: one run at a time per learner.
 * Ordering: everything the agents did happens-before the return.
 */
DQ_API int dq_learner_run(dq_learner *l, dq_run_result *result);

/**
 * The values that passed the target check of the last run, copied into
 * @p q (row-major S x A, as dq_table_snapshot()). A run stopped by its
 * target does not write them back to the shared table: other writers of
 * that table (other learners, agents the caller drives) keep their
 * updates, and the caller decides what to do with these values (save
 * them, load them into a table of its own with dq_table_load()).
 *
 * @param n capacity of @p q; at least S x A.
 * @return 0; -EINVAL for NULL pointers or a too small @p n; -EBUSY while
 *         the learner runs; -ENOENT when the last run did not reach its
 *         target (or none was set, or no run was made).
 * Thread-safety: not concurrently with dq_learner_run() (a call that
 *                finds a run in progress returns -EBUSY).
 * Ordering: the acquire that finds the learner not running pairs with
 *           the release ending dq_learner_run(): the values are those the
 *           passing check read.
 */
DQ_API int dq_learner_target_table(const dq_learner *l, double *q, size_t n);

/**
 * Ask a running learner to stop soon. Callable from any thread, from the
 * progress and should_stop callbacks; harmless when not running.
 *
 * @return 0, or -EINVAL for NULL.
 * Thread-safety: safe from any thread.
 * Ordering: one atomic read-modify-write of the word that also marks a
 *           run's start and end, so a request is never lost nor carried
 *           over: one made once dq_learner_run() has begun (from the
 *           instant a second run would get -EBUSY) stops that run, even
 *           while its threads are being created (agents not yet started
 *           are not started, those waiting leave at once; the run then
 *           returns DQ_STOP_REQUEST); one made when no run is in
 *           progress, or after the run's agents have all ended, has no
 *           effect on this or any later run. Agents poll the word
 *           (relaxed) between chunks of at most 256 steps, sized to last
 *           at most about 1 ms (or one step of a slower environment):
 *           they stop within microseconds on the built-in environments.
 */
DQ_API int dq_learner_stop(dq_learner *l);

/**
 * The error that ended the last run, if any.
 *
 * @return 0 (err->code is 0 when there was none), or -EINVAL.
 * Thread-safety: not concurrently with dq_learner_run().
 * Ordering: none.
 */
DQ_API int dq_learner_error(const dq_learner *l, dq_run_error *err);

/** How one agent of a learner writes (dq_learner_agent_write_path()). */
typedef struct dq_write_stats {
	uint32_t window;       /**< Its write-back window now, in steps;
				*   0 = direct updates. */
	uint64_t window_steps; /**< Steps it took in windows, all runs
				*   (counted at each decision of the
				*   automatic write path and at the end of
				*   a run). */
	double mean_window;    /**< Their mean window, in steps: an update
				*   made in a window reaches the table
				*   (mean_window - 1) / 2 of the agent's
				*   steps later on average; 0 if none. */
	uint64_t merges;       /**< Entries it wrote back from windows. */
	uint64_t moved;	       /**< Of those, entries another agent had
				*   changed during the window. */
} dq_write_stats;

/**
 * The write path of agent @p i, as last published (at least every 256
 * steps and at the end of a run): its window (write_path DQ_WRITE_AUTO
 * changes it during a run; a sync_every > 0 fixes it) and its write-back
 * counters.
 *
 * @return 0; -EINVAL for NULL pointers; -ERANGE for @p i >= P.
 * Thread-safety: safe concurrently with a run.
 * Ordering: acquire-based seqlock read, as dq_learner_agent_stats().
 */
DQ_API int dq_learner_agent_write_path(const dq_learner *l, uint32_t i,
				       dq_write_stats *out);

/**
 * Counters of agent @p i, as last published (agents publish at least every
 * 256 steps and at the end of a run).
 *
 * @return 0; -EINVAL for NULL pointers; -ERANGE for @p i >= P.
 * Thread-safety: safe concurrently with a run.
 * Ordering: acquire-based seqlock read: the counters are from one instant
 *           of that agent.
 */
DQ_API int dq_learner_agent_stats(const dq_learner *l, uint32_t i,
				  dq_stats *out);

/** What an agent needs to resume where it stopped. */
typedef struct dq_agent_state {
	dq_rng rng;	      /**< Its random stream. */
	double alpha_clock;   /**< Schedule time of alpha. */
	double epsilon_clock; /**< Schedule time of epsilon. */
	uint64_t steps;	      /**< Steps taken. */
	uint64_t episodes;    /**< Episodes finished. */
	uint64_t cas_retries; /**< CAS retries. */
} dq_agent_state;

/**
 * The resumable state of agent @p i, as last published: during a run,
 * from one instant of that agent at most 256 steps old; after
 * a run, exact.
 *
 * @return 0; -EINVAL for NULL pointers; -ERANGE for @p i >= P.
 * Thread-safety: safe concurrently with a run.
 * Ordering: acquire-based seqlock read, as dq_learner_agent_stats().
 */
DQ_API int dq_learner_agent_state(const dq_learner *l, uint32_t i,
				  dq_agent_state *out);

/**
 * Restore agent @p i (from a checkpoint): its stream, schedules and
 * counters. The episode in progress is not restored; the agent starts a new
 * one at the next run.
 *
 * @return 0; -EINVAL for NULL pointers, an all-zero RNG state or negative
 *         or non-finite clocks; -ERANGE for @p i >= P, or a counter (steps,
 *         episodes, cas_retries) at or above 2^63, so that no counter
 *         can wrap during later runs; -EBUSY while running.
 * Thread-safety: not concurrently with dq_learner_run().
 * Ordering: the next dq_learner_run() publishes it to the agent's thread.
 */
DQ_API int dq_learner_set_agent_state(dq_learner *l, uint32_t i,
				      const dq_agent_state *st);

/**
 * The PUs (OS indexes) agent @p i is bound to: during or after a run, the
 * binding that took effect (checked with the OS); before the first run,
 * the binding planned for it. An agent is bound to one PU or none.
 *
 * @param pus receives up to @p cap indexes (may be NULL when @p cap is
 *        0, to ask for the count).
 * @return how many PUs are in the binding (0 when unbound, else 1; when
 *         that exceeds @p cap only @p cap were written); -EINVAL for a
 *         NULL @p l or a NULL @p pus with @p cap > 0; -ERANGE for
 *         @p i >= P.
 * Thread-safety: safe from any thread, concurrently with a run.
 * Ordering: relaxed load of one word the agent's thread stores once it
 *           has bound itself at the start of a run.
 */
DQ_API int dq_learner_agent_cpus(const dq_learner *l, uint32_t i, unsigned *pus,
				 size_t cap);

/**
 * The number of physical cores this process may use: those of this
 * machine (hwloc) inside its cgroup cpuset and its CPU affinity at the
 * first call (taskset, numactl, a batch scheduler's binding). When hwloc
 * cannot tell (it failed, or HWLOC_SYNTHETIC or HWLOC_XMLFILE show it
 * another machine), the number of CPUs in the calling thread's affinity,
 * SMT siblings included.
 *
 * @return a count >= 1.
 * Thread-safety: safe from any thread.
 * Ordering: none.
 */
DQ_API int dq_cores(void);

/** @} */

/* ------------------------------------------------------------------------ */
/** @defgroup solve Models and exact solutions
 * A dq_model is an environment's exported transition model, copied once
 * into compact arrays. The solver works on it alone: value iteration for
 * Q* and V*, exact evaluation of a policy, and how much of the start
 * distribution a policy is optimal from.
 * @{ */

/** An environment's transition model (opaque, immutable once built). */
typedef struct dq_model dq_model;

/** Solver options; fill with dq_solve_config_init(). */
typedef struct dq_solve_config {
	double gamma;	     /**< Discount in [0,1]. Default 0.95. */
	double tolerance;    /**< Stop when a sweep changes no value by
			       *   more than this (or by more than
			       *   16 ulps of it, below which floating-point
			       *   iteration can cycle). Default 1e-12. */
	uint64_t max_sweeps; /**< Give up after this many (-ETIMEDOUT).
			       *   Default 10^7. */
	uint32_t n_threads;  /**< Threads for large models; 0 = one per
			       *   core when the model is large. */
} dq_solve_config;

/**
 * Fill @p cfg with defaults (gamma 0.95, tolerance 1e-12, 10^7 sweeps,
 * automatic threads).
 *
 * @return 0, or -EINVAL for NULL.
 * Thread-safety: safe from any thread.
 * Ordering: none.
 */
DQ_API int dq_solve_config_init(dq_solve_config *cfg);

/**
 * Copy the model of @p env (all outcomes and the start distribution),
 * checking it: probabilities positive and summing to 1 within 1e-9 for
 * every (s,a), next states in range, rewards finite.
 *
 * @return 0; -EINVAL for NULL pointers; -ENOTSUP when @p env exports no
 *         model; DQ_EENV for an invalid model; -ENOMEM, also before
 *         allocating anything when the model needs more than the
 *         machine's physical memory (dq_error_detail() says how much).
 * Thread-safety: safe from any thread.
 * Ordering: none.
 */
DQ_API int dq_model_create(dq_model **out, const dq_env *env);

/**
 * Free a model. NULL is a no-op.
 *
 * Thread-safety: not concurrently with any use of @p m.
 * Ordering: none.
 */
DQ_API void dq_model_destroy(dq_model *m);

/**
 * Value iteration to the optimum.
 *
 * @param q receives Q*, S x A row-major (NULL to skip; else nq >= S*A).
 * @param v receives V* (NULL to skip; else nv >= S).
 * @param policy receives a greedy optimal policy, lowest index on ties
 *        within 1e-9 (NULL to skip; else np >= S).
 * @param sweeps receives the number of sweeps made (NULL to skip).
 * @return 0; -EINVAL for NULL @p m or @p cfg, a
 *         bad gamma or tolerance, max_sweeps of 0, n_threads above
 *         DQ_MAX_THREADS, or too small arrays; -ETIMEDOUT when max_sweeps
 *         pass first (gamma 1 with improper policies); -ERANGE when values
 *         overflow to infinity; -ENOMEM.
 * Thread-safety: safe from any thread; @p m may be shared.
 * Ordering: none.
 */
DQ_API int dq_model_solve(const dq_model *m, const dq_solve_config *cfg,
			  double *q, size_t nq, double *v, size_t nv,
			  uint32_t *policy, size_t np, uint64_t *sweeps);

/**
 * Evaluate a deterministic policy exactly (to cfg->tolerance).
 *
 * @param policy S actions.
 * @param v receives V^pi (nv >= S).
 * @param start_value receives the expectation of V^pi under the start
 *        distribution (may be NULL).
 * At gamma 1 the policy is first checked for improper loops (see
 * dq_model_find_improper()): one that would collect reward forever fails
 * at once with -EDOM instead of iterating until max_sweeps.
 *
 * @param sweeps receives the number of sweeps made (NULL to skip).
 * @return 0; -EINVAL; -ERANGE for an action out
 *         of range or values overflowing to infinity; -EDOM at gamma 1 when
 *         the policy never ends from some state and collects nonzero
 *         reward there (dq_model_find_improper() names such a state);
 *         -ETIMEDOUT; -ENOMEM.
 * Thread-safety: safe from any thread.
 * Ordering: none.
 */
DQ_API int dq_model_evaluate(const dq_model *m, const dq_solve_config *cfg,
			     const uint32_t *policy, size_t np, double *v,
			     size_t nv, double *start_value, uint64_t *sweeps);

/**
 * Evaluate the uniformly random policy (every action with probability
 * 1/A) exactly, to cfg->tolerance: the baseline for how far a policy has
 * come (dq_model_evaluate() takes deterministic policies only). One
 * thread; cfg->n_threads is ignored. At gamma 1 it fails at once with
 * -EDOM when the random walk collects reward in a loop it never leaves.
 *
 * @param v receives V^random (nv >= S); untouched on failure.
 * @param start_value receives its expectation under the start
 *        distribution (may be NULL).
 * @param sweeps receives the number of sweeps made (NULL to skip).
 * @return 0; -EINVAL; -EDOM; -ERANGE when values overflow to infinity;
 *         -ETIMEDOUT; -ENOMEM.
 * Thread-safety: safe from any thread.
 * Ordering: none.
 */
DQ_API int dq_model_evaluate_random(const dq_model *m,
				    const dq_solve_config *cfg, double *v,
				    size_t nv, double *start_value,
				    uint64_t *sweeps);

/**
 * Find a state where @p policy collects reward forever: at gamma 1, the
 * one discount at which this matters, such a state has no finite value.
 * The states from which the policy cannot reach a terminating outcome
 * (a search over its positive-probability transitions, backwards from the
 * terminating ones) form a closed set; the chain started there ends in a
 * loop it never leaves (a bottom strongly connected component). A state of
 * such a loop with nonzero expected reward is reported. A loop of zero
 * reward (walking into a wall in frozenlake) is worth exactly 0 and is not
 * reported; neither is a state that only passes through on its way to one.
 * Linear time in S and the policy's outcomes, whatever the start
 * distribution (unreachable states count too).
 *
 * @param state receives such a state when one is found (may be NULL).
 * @return 0 when the policy's value is finite from every state at
 *         gamma 1; -EDOM when it is not (*state set); -EINVAL for NULL
 *         @p m or @p policy or @p np < S; -ERANGE for an action out of
 *         range; -ENOMEM.
 * Thread-safety: safe from any thread.
 * Ordering: none.
 */
DQ_API int dq_model_find_improper(const dq_model *m, const uint32_t *policy,
				  size_t np, uint32_t *state);

/**
 * Expectation of @p v under the start distribution.
 *
 * @return 0, or -EINVAL.
 * Thread-safety: safe from any thread.
 * Ordering: none.
 */
DQ_API int dq_model_start_value(const dq_model *m, const double *v, size_t nv,
				double *out);

/**
 * Fraction of the start-state probability on which V^pi is within @p tol
 * of V* (both as computed by dq_model_evaluate() and dq_model_solve()).
 *
 * @return 0, or -EINVAL for NULL pointers, short arrays or a negative tol.
 * Thread-safety: safe from any thread.
 * Ordering: none.
 */
DQ_API int dq_model_optimal_fraction(const dq_model *m, const double *v_star,
				     const double *v_pi, size_t n, double tol,
				     double *frac);

/**
 * A fast, conservative optimality check, for use while learning: the
 * fraction of start-state probability from which @p policy reaches (with
 * positive probability) only states where its action is within @p tol of
 * optimal under @p q_star. Such a policy is optimal from those states (for
 * gamma < 1), so the result never exceeds the exact fraction by more than
 * what tol allows. Linear in the model's size; no iteration.
 *
 * @return 0; -EINVAL for NULL pointers or short arrays; -ERANGE for an
 *         action out of range; -ENOMEM.
 * Thread-safety: safe from any thread.
 * Ordering: none.
 */
DQ_API int dq_model_check_policy(const dq_model *m, const double *q_star,
				 size_t nq, const uint32_t *policy, size_t np,
				 double tol, double *frac);

/**
 * The shape of @p m.
 *
 * @return 0, or -EINVAL.
 * Thread-safety: safe from any thread.
 * Ordering: none.
 */
DQ_API int dq_model_shape(const dq_model *m, uint32_t *n_states,
			  uint32_t *n_actions);

/** @} */

/* ------------------------------------------------------------------------ */
/** @defgroup checkpoint Checkpoints
 * A checkpoint is a versioned binary file: a fixed little-endian header
 * (magic "DISTQCKP", format version, environment name and parameters, S, A,
 * value type, hyperparameters, counters), optional header sections (the
 * agents' resumable states), the S x A values, and a CRC-32 (zlib) over
 * everything before it. It is written atomically: a temporary file in the
 * same directory, fsync, rename over the target, fsync of the directory; a
 * crash leaves either the old file or the new one, and at worst a stale
 * temporary file, which the next save to the same path removes. The format
 * is specified in docs/checkpoint-format.md.
 * @{ */

/** The checkpoint format version this library writes. Files with agent
 *  states are still version 1: they use the header extension that
 *  version 1 readers skip. */
#define DQ_CHECKPOINT_VERSION 1u

/** Everything in a checkpoint besides the values and the agents' states. */
typedef struct dq_checkpoint_meta {
	char env[64];	    /**< Environment name, NUL-terminated. */
	char params[256];   /**< Environment parameters, NUL-terminated. */
	uint32_t n_states;  /**< S. */
	uint32_t n_actions; /**< A. */
	uint32_t version;   /**< Format version (filled on read). */
	dq_mode mode;	    /**< Update discipline of the saved run. */
	double gamma;	    /**< Discount. */
	double alpha;	    /**< Step size at save time. */
	double epsilon;	    /**< Exploration at save time. */
	uint64_t seed;	    /**< Base seed of the run. */
	uint64_t steps;	    /**< Total steps trained. */
	uint64_t episodes;  /**< Total episodes trained. */
	double seconds;	    /**< Total training wall time. */
	uint32_t n_agents;  /**< Agent states in the file (filled on read;
			     *   0 for a file without them; ignored on
			     *   save, where dq_checkpoint_save_run()'s
			     *   argument counts). */
} dq_checkpoint_meta;

/**
 * Save @p t with @p meta to @p path, atomically (see above), without agent
 * states: dq_checkpoint_save_run() with none. meta->n_states, n_actions,
 * version and n_agents are ignored (the shape is taken from the table).
 *
 * Before it writes, a save removes the temporary files that earlier saves
 * to the same @p path left when they were killed (names
 * "<path>.tmp.XXXXXX" whose writer no longer holds their lock); it never
 * touches a save in progress.
 *
 * @return 0; -EINVAL for NULL pointers, unterminated strings, an invalid
 *         mode or non-finite numbers in @p meta; -ERANGE for a table too
 *         large for the format; -ENOMEM; DQ_ENONFINITE if the table held a
 *         non-finite value (it never does; a file no load accepts is never
 *         written, and the previous file stays); a negative errno from the
 *         file system (-EACCES, -ENOSPC, -EROFS, -EIO, -ENOENT for a missing
 *         directory ...), in which case any previous file at @p path is
 *         intact and no temporary file is left; -EISDIR when @p path is or
 *         can only be a directory ("dir/", "/"); DQ_ENOTREG when it exists
 *         and is not a regular file (a FIFO, a device such as /dev/null,
 *         also through a symbolic link), which is never replaced; -EFBIG
 *         when the file would exceed the process's file-size limit
 *         (checked before writing, so SIGXFSZ is not raised); -ENOTSUP
 *         for a table with more than one channel or with visit counts
 *         (the format holds one value per entry: refused, never saved
 *         without them).
 *         dq_error_detail() says what is wrong with the path. (One
 *         exception: when only the final fsync of the directory
 *         fails, the new file is already in place; the error is still
 *         returned because its durability is not guaranteed.)
 * Thread-safety: safe concurrently with updates to @p t (the values are a
 *                per-entry consistent snapshot, as dq_table_snapshot()),
 *                and with other saves, to the same path or not.
 * Ordering: relaxed reads of the table.
 */
DQ_API int dq_checkpoint_save(const char *path, const dq_table *t,
			      const dq_checkpoint_meta *meta);

/**
 * Save @p t, @p meta and the resumable states of @p n_agents agents (what
 * dq_learner_agent_state() gives, agent i at index i), atomically, as
 * dq_checkpoint_save() does. With @p n_agents 0 the file is exactly what
 * dq_checkpoint_save() writes.
 *
 * The table is read during the save while the states were read by the
 * caller before, so a checkpoint taken during a run is consistent per
 * entry and per agent, not as a whole: see docs/checkpoint-format.md,
 * "Snapshots during training".
 *
 * @param agents @p n_agents states (may be NULL when @p n_agents is 0).
 * @return the errors of dq_checkpoint_save(); also -EINVAL for NULL
 *         @p agents with a non-zero @p n_agents, more than DQ_MAX_THREADS
 *         agents, or a state dq_learner_set_agent_state() would refuse
 *         (an all-zero RNG state, a negative or non-finite clock).
 * Thread-safety: as dq_checkpoint_save(); @p agents must not change
 *                during the call.
 * Ordering: relaxed reads of the table.
 */
DQ_API int dq_checkpoint_save_run(const char *path, const dq_table *t,
				  const dq_checkpoint_meta *meta,
				  const dq_agent_state *agents,
				  uint32_t n_agents);

/**
 * Read only the header of a checkpoint (meta->n_agents included), checking
 * the whole file.
 *
 * @return 0; -EINVAL for NULL pointers; a negative errno from opening or
 *         reading (-ENOENT, -EACCES, -EISDIR ...); DQ_ENOTREG (a FIFO,
 *         device or socket: refused without reading or waiting for a
 *         writer); DQ_EFORMAT (not a checkpoint), DQ_EVERSION (another format
 *         version, value type, or a header section this library does not
 *         know and must not ignore), DQ_ETRUNC (shorter than its header
 *         says, or empty), DQ_ECORRUPT (a checksum fails, or fields
 *         contradict each other), DQ_EFILEVALUE (a value, hyperparameter
 *         or clock is not finite, though the checksums match).
 *         dq_error_detail() says more where it can (the file's type, its
 *         size against its header's).
 * Thread-safety: safe from any thread.
 * Ordering: none.
 */
DQ_API int dq_checkpoint_read_meta(const char *path, dq_checkpoint_meta *meta);

/**
 * Load a checkpoint's values into @p t, whose shape must match. Agent
 * states in the file are checked but not returned (see
 * dq_checkpoint_load_run()).
 *
 * @param meta receives the header (may be NULL).
 * @return 0; the errors of dq_checkpoint_read_meta(); DQ_EMISMATCH when
 *         S or A differ from @p t's; -ENOTSUP for a table with more than
 *         one channel or with visit counts. On any error @p t is
 *         unchanged.
 * Thread-safety: not concurrently with updates if the result must equal
 *                the file.
 * Ordering: relaxed stores.
 */
DQ_API int dq_checkpoint_load(const char *path, dq_table *t,
			      dq_checkpoint_meta *meta);

/**
 * Load a checkpoint's values into @p t, as dq_checkpoint_load(), and its
 * agent states: the first min(n, @p cap) of the n in the file are copied
 * to @p agents, ready for dq_learner_set_agent_state(). Everything comes
 * from one open of one file, so the table, header and states belong
 * together even when another process replaces the file meanwhile.
 *
 * @param meta receives the header (may be NULL); meta->n_agents is n, the
 *        number of agent states in the file (0 for a file without them,
 *        such as one written by dq_checkpoint_save()).
 * @param agents receives up to @p cap states (may be NULL when @p cap is
 *        0).
 * @return 0; -EINVAL for
 *         NULL @p path or @p t, or NULL @p agents with a non-zero @p cap;
 *         the errors of dq_checkpoint_load(). On any error @p t, @p meta
 *         and @p agents are unchanged.
 * Thread-safety: as dq_checkpoint_load().
 * Ordering: relaxed stores.
 */
DQ_API int dq_checkpoint_load_run(const char *path, dq_table *t,
				  dq_checkpoint_meta *meta,
				  dq_agent_state *agents, uint32_t cap);

/** @} */

#ifdef __cplusplus
}
#endif
#endif /* DISTQ_H */
