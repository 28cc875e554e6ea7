/*
 * libdistq: sync policies: how agents with local tables share what they
 * learn (DistQL's blend, averaging).
 *
 * Part of <distq.h>, which includes every part; this one may also be
 * included alone. The conventions are at the top of <distq.h>.
 */
#ifndef DISTQ_SHARE_H
#define DISTQ_SHARE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "api.h"
#include "agent.h"
#include "table.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------ */
/** @defgroup share Sync policies
 * Today's default is one shared table that every agent updates at once
 * (direct updates under the table's discipline, or the write-back
 * overlay). A sync policy instead gives each agent a LOCAL table (a
 * private copy of S x A values) that it learns on, and a rule for how the
 * local tables reach the shared ("central") table: run at the agents'
 * chunk boundaries (the learner) or when a simulator calls
 * dq_agent_share(), never inside the per-step path.
 *
 * The seeds' "first writer wins" (one Q-function updated by every
 * processor, racing writes simply overwriting) is DQ_MODE_HOGWILD with
 * direct updates: no sync policy.
 *
 * Memory: P local tables, each S x A x (8 bytes of value + 8 of
 * bookkeeping: the visit count or base value) plus the row padding of a
 * table; at most DQ_SHARE_MAX_BYTES in all, else -ERANGE.
 * @{ */

/** Sync policies. */
typedef enum dq_share_kind {
	/** No local tables: the agents update the shared table (default). */
	DQ_SHARE_NONE = 0,
	/**
	 * DistQL (the seed study's DistQL-ALL / DistQL-Partial). Agent i
	 * learns on its local table with a per-entry learning rate eta_i
	 * (eta, then times decay per update of that entry: eta_i(s,a) =
	 * eta decay^N_i(s,a), N_i the local update count), replacing the
	 * alpha schedule. Every `interval` episodes it pushes each entry it
	 * updated since its last push to the central table, which blends it:
	 *   e = min(eta_c, eta_i);  w = e^2 / eta_i;
	 *   Q_c <- (1 - w) Q_c + w Q_i;  eta_c <- e decay
	 * (eta_c: the central per-entry rate, kept in the central table's
	 * channel C, C = the rule's channels (so channel 1 for q, sarsa and
	 * expected-sarsa: the table needs C + 1 channels); 0 there stands
	 * for a fresh eta). Then it pulls: with DQ_SHARE_PARTIAL only the
	 * entries it pushed, else (ALL) the whole central table; in both
	 * cases only values are pulled: an agent keeps its own eta_i.
	 * With DQ_SHARE_EPSILON_DECAY epsilon is the epsilon schedule's
	 * start times decay^episodes (the agent's), as in the study.
	 * Rules with one channel only (not double-q).
	 */
	DQ_SHARE_DISTQL = 1,
	/**
	 * Averaging (the CME323 study's second method). Agent i learns on a
	 * local table with its rule and alpha; every `interval` steps (or
	 * seconds, DQ_SHARE_SECONDS) it adds (L_i - B_i) / P to the shared
	 * table entry by entry, L_i its local values and B_i the shared
	 * values it last pulled, then pulls the whole shared table
	 * (L_i = B_i = shared). When the P agents push from a common pull,
	 * the shared table becomes the entry-wise mean of their local
	 * tables, i.e. the mean of their alpha-updates is applied; as
	 * additions, updates others made meanwhile are kept (in cas mode
	 * none is lost).
	 */
	DQ_SHARE_AVERAGE = 2,
} dq_share_kind;

/** dq_share_config.flags: DistQL pulls only the entries it pushed. */
#define DQ_SHARE_PARTIAL 0x1u
/** dq_share_config.flags: DistQL's epsilon decays per episode. */
#define DQ_SHARE_EPSILON_DECAY 0x2u
/** dq_share_config.flags: averaging's interval is in seconds. */
#define DQ_SHARE_SECONDS 0x4u

/** The most bytes a learner's (or a set of agents') local tables may take,
 *  all P of them together: 1 GiB. */
#define DQ_SHARE_MAX_BYTES ((size_t)1 << 30)

/** A sync policy; fill with dq_share_config_init(). Fixed size (4 words:
 *  it is part of dq_learner_config); new options are flags. */
typedef struct dq_share_config {
	dq_share_kind kind; /**< The policy. */
	uint32_t flags;	    /**< DQ_SHARE_* flags. */
	double interval;    /**< DistQL: tau, episodes (>= 1, whole);
			     *   averaging: steps (>= 1, whole) or seconds
			     *   (> 0). Defaults 10 and 1000 steps. */
	double eta;	    /**< DistQL's initial per-entry rate, in (0, 1];
			     *   default 0.5. */
	double decay;	    /**< DistQL's decay of eta (and epsilon with
			     *   DQ_SHARE_EPSILON_DECAY), in (0, 1];
			     *   default 0.999. */
} dq_share_config;

/**
 * Fill @p cfg with the study's defaults for @p kind: DistQL tau 10, ALL,
 * eta 0.5, decay 0.999, epsilon decaying per episode
 * (DQ_SHARE_EPSILON_DECAY); averaging every 1000 steps. (The study's gamma
 * 0.9 and epsilon 0.1 are the agent's: dq_agent_config, set by the
 * caller; `distq train --share distql` sets them unless given.)
 *
 * @return 0, or -EINVAL for a NULL @p cfg or an unknown @p kind.
 * Thread-safety: safe from any thread.
 * Ordering: none.
 */
DQ_API int dq_share_config_init(dq_share_config *cfg, dq_share_kind kind);

/**
 * Check a sync policy (see dq_share_config).
 *
 * @return 0, or -EINVAL for NULL, an unknown kind or flag, or a parameter
 *         out of its range, with a dq_error_detail() naming the field
 *         ("eta 2 is outside (0, 1]"); a success clears it.
 * Thread-safety: safe from any thread.
 * Ordering: none.
 */
DQ_API int dq_share_config_check(const dq_share_config *cfg);

/**
 * Parse a policy as `distq train --share` takes it: "none", "distql",
 * "average", each followed by ":"-separated parameters: for distql
 * "tau=N", "all" or "partial", "eta=X", "decay=X", "epsilon-decay=on|off";
 * for average "steps=N" or "seconds=S". Omitted ones take
 * dq_share_config_init()'s defaults.
 *
 * @return 0; -EINVAL for NULL pointers or a bad parameter; -ENOENT for an
 *         unknown policy name (*out unchanged on error).
 * Thread-safety: safe from any thread.
 * Ordering: none.
 */
DQ_API int dq_share_parse(const char *spec, dq_share_config *out);

/**
 * Read one number of a sync policy's spelling, as `distq train --share`
 * and dq_mpi_config_parse() take their values: the @p len bytes at
 * @p text (no NUL needed) are a number in strtod()'s syntax, read as in
 * the "C" locale whatever LC_NUMERIC says, finite and within [@p lo,
 * @p hi], followed by nothing, or, when @p suffix is not NULL, by at most
 * 3 bytes that go to @p suffix NUL-terminated (the unit of "tau=2s":
 * "s"; "" for none; the caller judges it).
 *
 * @param len 1 to 63 bytes.
 * @return 0 with *@p out set; -EINVAL for a NULL @p text or @p out, a
 *         length outside [1, 63], text that is no number, a number out of
 *         range or not finite, or what follows it (*@p out unchanged).
 * Thread-safety: safe from any thread.
 * Ordering: none.
 */
DQ_API int dq_share_number(const char *text, size_t len, double lo, double hi,
			   double *out, char suffix[4]);

/**
 * The name of @p kind ("none", "distql", "average").
 *
 * @return a static string, or NULL for a value that is no policy.
 * Thread-safety: safe from any thread.
 * Ordering: none.
 */
DQ_API const char *dq_share_name(dq_share_kind kind);

/**
 * The bytes @p n_agents local tables for @p shared take under @p cfg (what
 * is checked against DQ_SHARE_MAX_BYTES).
 *
 * @return 0; -EINVAL for NULL pointers or a bad @p cfg; -ERANGE when the
 *         count overflows a size_t.
 * Thread-safety: safe from any thread.
 * Ordering: none.
 */
DQ_API int dq_share_local_bytes(const dq_table *shared,
				const dq_share_config *cfg, uint32_t n_agents,
				size_t *bytes);

/**
 * Create an agent for a simulator that owns its loop, learning on a local
 * table under sync policy @p share, one of @p n_agents agents sharing
 * @p shared (the scale 1/P of averaging; the memory bound counts
 * @p n_agents local tables). Its local table starts as a copy of
 * @p shared. dq_agent_act() and dq_agent_observe() then work on the local
 * table; dq_agent_share() makes the policy's push and pull. Destroy it
 * with dq_agent_destroy().
 *
 * @return 0; -EINVAL for NULL pointers, a bad config or policy
 *         (DQ_SHARE_NONE included), or sync_every > 0; DQ_ERULE when the
 *         rule needs more channels than @p shared has (DistQL: the
 *         rule's channels + 1, for eta_c; and a rule of one channel);
 *         -ERANGE when the local tables would exceed DQ_SHARE_MAX_BYTES
 *         (dq_error_detail() names the sizes); -ENOMEM.
 * Thread-safety: safe from any thread; the agent then belongs to one
 *                thread at a time, and any number of them may share
 *                @p shared.
 * Ordering: as dq_table_update() for @p shared.
 */
DQ_API int dq_agent_share_create(dq_agent **out, dq_table *shared,
				 const dq_agent_config *cfg,
				 const dq_share_config *share,
				 uint32_t n_agents);

/**
 * The policy's boundary, called by a simulator at its own boundaries
 * (episode ends, say): when due (DistQL: @p interval episodes finished
 * since the last push, counted by dq_agent_observe() and
 * dq_agent_episode_end(); averaging: @p interval steps or seconds), or
 * always with @p force, push the local table to the shared one and pull.
 *
 * @return 1 when it pushed and pulled, 0 when not due; -EINVAL for NULL
 *         or an agent without a policy; DQ_ENONFINITE when a shared
 *         value would not be finite (that entry is left, the others
 *         pushed).
 * Thread-safety: the agent's thread; concurrently with other agents on
 *                the same shared table.
 * Ordering: each entry's blend or addition is atomic under the shared
 *           table's discipline (cas: none is lost; see docs/share.md).
 */
DQ_API int dq_agent_share(dq_agent *agent, bool force);

/** @} */

#ifdef __cplusplus
}
#endif
#endif /* DISTQ_SHARE_H */
