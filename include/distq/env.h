/*
 * libdistq: the environment plug-in interface (for environment authors)
 * and opened environments.
 *
 * Part of <distq.h>, which includes every part; this one may also be
 * included alone. The conventions are at the top of <distq.h>.
 */
#ifndef DISTQ_ENV_H
#define DISTQ_ENV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "api.h"
#include "rng.h"

#ifdef __cplusplus
extern "C" {
#endif

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
	uint64_t reserved_[6];	    /**< Zero (see "Growing structs"). */
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

/** The longest observation an environment may give (dq_env_ext). */
#define DQ_OBS_MAX_DIM 16u

/**
 * What an environment offers beyond the function table (dq_env_ops.ext),
 * growable: its first field is the size the environment was built with
 * (sizeof(dq_env_ext) then), and libdistq reads only the fields that size
 * covers, so fields added later at the end read as absent for older
 * environments. Static, read-only data.
 *
 * The observation is a vector of D doubles beside the integer state: the
 * physical state a continuous environment moves (CartPole's x, x_dot,
 * theta, theta_dot), for function approximation such as tile coding
 * (<distq/tiles.h>). The integer state stays what the table indexes (a
 * continuous environment gives a discretisation there), so tabular
 * learning keeps working unchanged.
 */
typedef struct dq_env_ext {
	uint32_t size;		/**< sizeof(dq_env_ext) when built. */
	uint32_t obs_dim;	/**< D, 1..DQ_OBS_MAX_DIM; 0 = no observation
			    *   (the fields below are then ignored). */
	const double *obs_low;	/**< D lower bounds (may be -INFINITY). */
	const double *obs_high; /**< D upper bounds (may be INFINITY). */
	/** D finite lower ends of the range a coder should cover: the
	 *  bounds where they are finite, else where the values lie in
	 *  practice (values outside go to the outer tiles). */
	const double *span_low;
	const double *span_high; /**< D finite upper ends, > span_low. */
	/** Write the current observation, D doubles, of @p inst (after
	 *  reset or step; the same instance as theirs). Must not fail. */
	void (*observe)(const void *inst, double *obs);
	void *reserved[4]; /**< NULL (room to grow within this size). */
} dq_env_ext;

/**
 * The function table an environment provides. Every callback returns 0 (or
 * a documented count) or a negative errno, which libdistq passes on.
 * Optional callbacks may be NULL.
 *
 * Growing it: the table ended in reserved pointer slots that older
 * environments leave NULL. A field added to ABI 1 took the place of a
 * reserved slot, has the size of a pointer, and means "absent" when NULL,
 * so environments built before it keep working unchanged and DQ_ENV_ABI
 * stays 1. (params and success took the first two slots, ext the last.)
 * The table itself no longer grows: what comes later goes into
 * dq_env_ext, which carries its own size, so an environment built
 * against an older, shorter dq_env_ext keeps working and its missing
 * fields read as absent.
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
	/** Extensions (optional; was reserved[2]): the continuous
	 *  observation, and whatever later grows (dq_env_ext). */
	const struct dq_env_ext *ext;
} dq_env_ops;

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
#if (defined(__STDC_VERSION__) && __STDC_VERSION__ >= 201112L) || \
    (defined(__cplusplus) && __cplusplus >= 201703L)
	size_t rounded = (size + 63) / 64 * 64;
	void *p =
	    rounded >= size ? aligned_alloc(64, rounded ? rounded : 64) : NULL;

	if (p)
		memset(p, 0, rounded ? rounded : 64);
	return p;
#else
	/* No aligned_alloc before C11 and C++17: the library's copy. */
	return dq_env_instance_alloc_fn(size);
#endif
}

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
 *         (open, reset, step); DQ_EABI when
 *         ops->abi != DQ_ENV_ABI; DQ_EENV for an invalid spec (S or A of
 *         0, a model without outcomes or start_probs, reserved words
 *         set, an ext whose size is too small, or whose observation
 *         has no observe, a D above DQ_OBS_MAX_DIM, NaN bounds or a
 *         span that is not finite and increasing); -ENOMEM; or what
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
 * The length of @p env's observation (dq_env_ext.obs_dim).
 *
 * @return 0 with *dim set (0 when the environment gives no observation);
 *         -EINVAL for NULL pointers.
 * Thread-safety: safe from any thread.
 * Ordering: none (immutable).
 */
DQ_API int dq_env_obs_dim(const dq_env *env, uint32_t *dim);

/**
 * The observation's bounds and the finite span a coder should cover, each
 * an array of D = dq_env_obs_dim() doubles; any pointer may be NULL.
 *
 * @param n room in each non-NULL array, at least D.
 * @return 0; -EINVAL for a NULL @p env or @p n < D; -ENOTSUP when the
 *         environment gives no observation.
 * Thread-safety: safe from any thread.
 * Ordering: none (immutable).
 */
DQ_API int dq_env_obs_bounds(const dq_env *env, double *low, double *high,
			     double *span_low, double *span_high, size_t n);

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
 * The current observation of an instance (after a reset or step).
 *
 * @param obs receives D = dq_env_obs_dim() doubles; @p n is its room.
 * @return 0; -EINVAL for NULL pointers or @p n < D; -ENOTSUP when the
 *         environment gives no observation.
 * Thread-safety: the owning thread only.
 * Ordering: none.
 */
DQ_API int dq_env_instance_observe(const dq_env_instance *inst, double *obs,
				   size_t n);

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

#ifdef __cplusplus
}
#endif
#endif /* DISTQ_ENV_H */
