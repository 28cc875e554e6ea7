/*
 * libdistq: tile coding, linear function approximation over a continuous
 * observation on the shared table.
 *
 * Part of <distq.h>, which includes every part; this one may also be
 * included alone. The conventions are at the top of <distq.h>.
 */
#ifndef DISTQ_TILES_H
#define DISTQ_TILES_H

#include <stddef.h>
#include <stdint.h>
#include "api.h"
#include "agent.h"
#include "env.h"
#include "table.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------ */
/** @defgroup tiles Tile coding
 * A tile coder (Sutton & Barto, 2nd ed., section 9.5.4; Sutton's tiles3)
 * maps an observation of D doubles (dq_env_ext) to T active tiles, one per
 * tiling: T grids over the observation's span, each of bins[i] tiles across
 * dimension i plus one, offset from the first by t (2i + 1) / T of a tile
 * in dimension i (Sutton's asymmetric displacement 1, 3, 5, ...), so that
 * no two tilings share a diagonal. Tiles are the rows of an ordinary
 * dq_table (one column per action): Q(s, a) is the sum of the weights of
 * s's active tiles, and a TD update adds alpha / T times the error to each
 * of them, through the table's discipline (in cas mode as atomic
 * additions: no weight loses an update to a race). Optionally the tiles
 * are hashed into a table of a fixed number of rows, for spaces with many
 * dimensions; collisions then share a weight (tiles3's "UNH" mode).
 *
 * An agent or learner uses a coder when dq_agent_config.tiles points to
 * one (the table then has dq_tiles_features() rows); its act/observe calls
 * take observations (dq_agent_act_obs(), dq_agent_observe_obs()).
 * @{ */

/** The most dimensions a coder tiles (as many as an observation has). */
#define DQ_TILES_MAX_DIM DQ_OBS_MAX_DIM
/** The most tilings. */
#define DQ_TILES_MAX_TILINGS 1024u

/** A tile coder's definition; fill with dq_tiles_config_init(). */
typedef struct dq_tiles_config {
	uint32_t n_tilings; /**< T, 1..DQ_TILES_MAX_TILINGS. Default 8. */
	uint32_t dim;	    /**< D, 1..DQ_TILES_MAX_DIM. */
	/** Tiles across [low[i], high[i]] in dimension i, 1..65536 (each
	 *  tiling has one more, for its offset). */
	uint32_t bins[DQ_TILES_MAX_DIM];
	double low[DQ_TILES_MAX_DIM];  /**< Span of dimension i, finite; */
	double high[DQ_TILES_MAX_DIM]; /**< values outside go to the edge. */
	/** 0: every tile its own row, T x prod(bins[i] + 1) rows (at most
	 *  2^31). Else hash the tiles into this many rows. */
	uint32_t hash_rows;
	uint32_t pad_;	       /**< Zero. */
	uint64_t reserved_[4]; /**< Zero (see "Growing structs"). */
} dq_tiles_config;

/** A tile coder (opaque, immutable once created). */
typedef struct dq_tiles dq_tiles;

/**
 * Fill @p cfg with defaults: 8 tilings, no dimension yet, no hashing.
 *
 * @return 0, or -EINVAL for a NULL @p cfg.
 * Thread-safety: safe from any thread.
 * Ordering: none.
 */
DQ_API int dq_tiles_config_init(dq_tiles_config *cfg);

/**
 * Read a coder's definition from text, as `distq train --tiles` takes it:
 * "T x B1,B2,...,BD" (e.g. "8x6,6,6,6"; one B for all dimensions when
 * @p cfg->dim is already set), then optionally "@lo:hi,lo:hi,..." (one
 * range per dimension, replacing the span) and "/H" (hash into H rows;
 * without it, no hashing).
 * dq_tiles_format() writes this form in full.
 *
 * @return 0; -EINVAL for NULL pointers or text that does not parse, or
 *         that names a number of bins other than dim (dq_error_detail()
 *         says what); -ERANGE for a count out of its range.
 * Thread-safety: safe from any thread.
 * Ordering: none.
 */
DQ_API int dq_tiles_config_parse(dq_tiles_config *cfg, const char *text);

/**
 * Set @p cfg's dimension and span from @p env's observation
 * (dq_env_obs_bounds(): its span), then read @p text as
 * dq_tiles_config_parse() (NULL: keep the tilings and bins in @p cfg).
 *
 * @return 0; -EINVAL as dq_tiles_config_parse(); -ENOTSUP when @p env has
 *         no observation.
 * Thread-safety: safe from any thread.
 * Ordering: none.
 */
DQ_API int dq_tiles_config_from_env(dq_tiles_config *cfg, const dq_env *env,
				    const char *text);

/**
 * Create a coder.
 *
 * @return 0; -EINVAL for NULL pointers, a count out of range, a span that
 *         is not finite and increasing, non-zero reserved words, each
 *         with a dq_error_detail() naming the field ("tiles: bins[1] 0
 *         is outside [1, 65536]"); -ERANGE for more than 2^31 rows
 *         unhashed; -ENOMEM.
 * Thread-safety: safe from any thread.
 * Ordering: the handle is published by the caller's own hand-off.
 */
DQ_API int dq_tiles_create(dq_tiles **out, const dq_tiles_config *cfg);

/**
 * Free a coder. No agent may still use it. NULL is a no-op.
 *
 * Thread-safety: not concurrently with any use of @p tc.
 * Ordering: none.
 */
DQ_API void dq_tiles_destroy(dq_tiles *tc);

/**
 * The coder's definition.
 *
 * @return 0, or -EINVAL for NULL pointers.
 * Thread-safety: safe from any thread.
 * Ordering: none (immutable).
 */
DQ_API int dq_tiles_config_get(const dq_tiles *tc, dq_tiles_config *cfg);

/**
 * The rows a table for this coder needs (its n_states): T x prod(bins[i]
 * + 1), or hash_rows.
 *
 * @return 0, or -EINVAL for NULL pointers.
 * Thread-safety: safe from any thread.
 * Ordering: none (immutable).
 */
DQ_API int dq_tiles_features(const dq_tiles *tc, uint32_t *rows);

/**
 * The active tiles of @p obs: T row indices, one per tiling, in tiling
 * order. Non-finite values go to the lower edge.
 *
 * @param obs D doubles.
 * @param tiles receives T indices in [0, dq_tiles_features()).
 * @param cap room in @p tiles, at least T.
 * @return T; -EINVAL for NULL pointers or @p cap < T.
 * Thread-safety: safe from any thread.
 * Ordering: none.
 */
DQ_API int dq_tiles_active(const dq_tiles *tc, const double *obs,
			   uint32_t *tiles, size_t cap);

/**
 * The action values of @p obs: Q(obs, a) for every action, the sum of the
 * weights of its active tiles in @p table (channel 0).
 *
 * @param q receives A = the table's n_actions values; @p n is its room.
 * @return 0; -EINVAL for NULL pointers, @p n < A, or a table whose rows
 *         are not dq_tiles_features().
 * Thread-safety: safe from any thread, concurrently with learning (each
 *                weight is read whole; the sum mixes moments).
 * Ordering: relaxed per weight, as dq_table_get().
 */
DQ_API int dq_tiles_values(const dq_tiles *tc, const dq_table *table,
			   const double *obs, double *q, size_t n);

/**
 * Write the definition as dq_tiles_config_parse() reads it back exactly
 * ("8x6,6,6,6@-2.4:2.4,.../H", every number in full precision), for
 * logs and checkpoints.
 *
 * @return the length of the whole text (as snprintf(): @p buf holds a
 *         truncated, terminated prefix when @p size is too small);
 *         -EINVAL for a NULL @p tc, or NULL @p buf with a non-zero size.
 * Thread-safety: safe from any thread.
 * Ordering: none.
 */
DQ_API int dq_tiles_format(const dq_tiles *tc, char *buf, size_t size);

/**
 * The coder and settings tuned for a built-in continuous environment
 * (docs/seeds.md, "Continuous control (tile coding)"): what
 * `distq train --tiles auto` and Python's train(tiles="auto") use for
 * every setting not given.
 *
 * @param env an environment's name ("cartpole", "mountaincar", "acrobot").
 * @param spec receives the coder's text (dq_tiles_config_from_env()'s),
 *        static storage; NULL: not wanted (as for the others).
 * @param alpha receives the step size, in (0, 1].
 * @param epsilon receives the exploration rate, in [0, 1].
 * @param gamma receives the discount, in [0, 1].
 * @return 0; -EINVAL for a NULL @p env; -ENOENT when @p env has no tuned
 *         coder.
 * Thread-safety: safe from any thread.
 * Ordering: none (constant data).
 */
DQ_API int dq_tiles_tuned(const char *env, const char **spec, double *alpha,
			  double *epsilon, double *gamma);

/**
 * The tile-coded agent's act (dq_agent_config.tiles): epsilon-greedy on
 * Q(obs, .), or for sarsa, nstep-sarsa and q-lambda the action its last
 * observe chose when @p obs is that observe's next observation (compared
 * bit for bit). Greedy ties as dq_agent_act().
 *
 * @param obs D doubles (the coder's dimension).
 * @return 0; -EINVAL for NULL pointers or an agent without a coder.
 * Thread-safety: the owning thread only.
 * Ordering: as dq_tiles_values().
 */
DQ_API int dq_agent_act_obs(dq_agent *agent, const double *obs,
			    uint32_t *action);

/**
 * The tile-coded agent's observe: the rule's T additions of alpha / T
 * times the TD error to the active tiles of @p obs (see the group's
 * text). @p next_obs is not read when @p terminated (it may be NULL).
 * The caller ends the episode (dq_agent_episode_end()) after a truncated
 * transition; a terminated one ends it here. nstep-q and nstep-sarsa
 * hold up to n transitions (their tiles) and write the oldest once n are
 * pending (Sutton & Barto 10.2), all at a termination without bootstrap
 * and at dq_agent_episode_end() bootstrapping from the last
 * @p next_obs; q-lambda writes alpha / T delta e to every traced (tile,
 * action) (12.7, 12.10), at most trace_max of them, so a step makes up
 * to trace_max additions. With one tiling whose tiles are the states,
 * each rule is its tabular form, draw for draw.
 *
 * @return 0; -EINVAL for NULL pointers, an agent without a coder, or a
 *         reward that is not finite; DQ_ENONFINITE when an update would
 *         not be finite (the step is then not counted; weights of the
 *         tilings before the one refused are written).
 * Thread-safety: the owning thread only; any number of agents may share
 *                a table.
 * Ordering: each weight as dq_table_update(); none between weights.
 */
DQ_API int dq_agent_observe_obs(dq_agent *agent, const double *obs,
				uint32_t action, double reward,
				const double *next_obs, bool terminated);

/** @} */

#ifdef __cplusplus
}
#endif
#endif /* DISTQ_TILES_H */
