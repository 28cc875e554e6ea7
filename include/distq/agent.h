/*
 * libdistq: agents: epsilon-greedy Q-learning on a shared table.
 *
 * Part of <distq.h>, which includes every part; this one may also be
 * included alone. The conventions are at the top of <distq.h>.
 */
#ifndef DISTQ_AGENT_H
#define DISTQ_AGENT_H

#include <stdbool.h>
#include <stdint.h>
#include "api.h"
#include "rng.h"
#include "table.h"

#ifdef __cplusplus
extern "C" {
#endif

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
	uint64_t reserved_[4]; /**< Zero (see "Growing structs"). */
} dq_schedule;

/**
 * A constant schedule: @p value at every step (DQ_SCHEDULE_CONSTANT,
 * start = end = @p value, steps 1, reserved words zero), so that
 * `cfg.alpha = dq_schedule_constant(0.5);` sets a plain alpha.
 *
 * @param value the value; its range is the field's (alpha in (0, 1],
 *        epsilon in [0, 1]), checked by dq_agent_config_check() and the
 *        create functions, not here.
 * @return the schedule, by value (nothing is allocated; no error).
 * Thread-safety: safe from any thread (a pure function).
 * Ordering: none.
 */
DQ_API dq_schedule dq_schedule_constant(double value);

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
	/** n-step Q-learning (Mnih et al. 2016, "Asynchronous methods for
	 *  deep reinforcement learning", n-step Q without tree backup):
	 *  Q(s_t, a_t) moves towards r_t + gamma r_{t+1} + ... +
	 *  gamma^{n-1} r_{t+n-1} + gamma^n max Q(s_{t+n}, .), written when
	 *  s_{t+n} is observed (dq_agent_config.nstep = n). At an episode's
	 *  end the pending updates are flushed with the shorter returns:
	 *  no bootstrap after a terminated transition, max Q(s_T, .) after
	 *  a truncated one (dq_agent_episode_end()). One write per step, up
	 *  to n at an episode's end. n = 1 is DQ_RULE_Q. */
	DQ_RULE_NSTEP_Q = 4,
	/** n-step SARSA (Sutton & Barto, 2nd ed., section 7.2): as
	 *  DQ_RULE_NSTEP_Q, bootstrapping from Q(s_{t+n}, a_{t+n}), a_{t+n}
	 *  the action the policy takes next in s_{t+n} (chosen at the
	 *  observe, returned by the next act there). n = 1 is
	 *  DQ_RULE_SARSA. */
	DQ_RULE_NSTEP_SARSA = 5,
	/** Watkins's Q(lambda) (Watkins 1989; Sutton & Barto, 2nd ed.,
	 *  section 12.10): delta = r + gamma max Q(s', .) - Q(s, a) (r -
	 *  Q(s, a) on termination); the trace of (s, a) grows by 1
	 *  (DQ_TRACE_ACCUMULATING) or is set to 1 (DQ_TRACE_REPLACING);
	 *  every traced entry gets alpha delta e; then the traces decay by
	 *  gamma lambda, or are all cut when the action the policy chose in
	 *  s' (taken by the next act there) is not greedy, and at an
	 *  episode's end. Traces are kept per agent as a sparse list: one
	 *  below DQ_TRACE_MIN is dropped, and at most
	 *  dq_agent_config.trace_max are kept (the smallest is dropped for a
	 *  new one), so a step costs O(active traces). Its writes per step
	 *  are not bounded by the rule: it runs with direct updates only
	 *  (sync_every > 0 is DQ_ERULE). Not with omega (-EINVAL). */
	DQ_RULE_Q_LAMBDA = 6,
} dq_rule;

/** How an agent chooses its actions (dq_agent_config.policy). */
typedef enum dq_policy {
	/** With probability epsilon uniformly at random, else greedily
	 *  (ties at random or by the lowest index, random_ties). */
	DQ_POLICY_EGREEDY = 0,
	/** Softmax (Boltzmann; Sutton & Barto, 2nd ed., section 2.8 and
	 *  13.1): action a with probability exp(Q(s,a)/T) / sum_b
	 *  exp(Q(s,b)/T). The temperature T is dq_agent_config.epsilon's
	 *  schedule, read as a temperature in [0, DQ_TEMPERATURE_MAX]; T = 0
	 *  is greedy. Expected SARSA takes its expectation under it, and
	 *  Q(lambda) cuts its traces on any action that is not greedy. */
	DQ_POLICY_SOFTMAX = 1,
} dq_policy;

/** Q(lambda)'s eligibility traces (dq_agent_config.trace). */
typedef enum dq_trace {
	DQ_TRACE_ACCUMULATING = 0, /**< e(s,a) += 1 on a visit. */
	DQ_TRACE_REPLACING = 1,	   /**< e(s,a) = 1 on a visit. */
} dq_trace;

/** The largest n of the n-step rules (dq_agent_config.nstep). */
#define DQ_NSTEP_MAX 1024u
/** The most traces Q(lambda) may keep (dq_agent_config.trace_max). */
#define DQ_TRACE_MAX_CAP 65536u
/** Q(lambda) drops a trace whose magnitude falls below this. */
#define DQ_TRACE_MIN 1e-4
/** The highest softmax temperature (dq_agent_config.epsilon). */
#define DQ_TEMPERATURE_MAX 1e6

/**
 * The rule named @p name: "q", "sarsa", "expected-sarsa", "double-q",
 * "nstep-q", "nstep-sarsa", "q-lambda" (the names `distq train --algo`
 * takes).
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
	dq_schedule epsilon;	/**< Exploration, in [0,1]. Default 0.1.
				 *   Under DQ_POLICY_SOFTMAX the temperature,
				 *   in [0, DQ_TEMPERATURE_MAX]. */
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
	/** Experience replay (off-policy rules only: q, expected-sarsa,
	 *  double-q): the agent keeps its last replay_capacity transitions
	 *  in a ring of DQ_REPLAY_TRANSITION_BYTES bytes each, and after
	 *  each observed step replays replay_minibatches minibatches of
	 *  replay_batch transitions drawn uniformly, with replacement, from
	 *  the ring by its own RNG stream (reproducible with the seed);
	 *  each goes through the same rule code and typed store writes as a
	 *  fresh one (Lin 1992; Mnih et al. 2015). Replays begin once the
	 *  ring holds replay_batch transitions; they count no steps and
	 *  advance no schedule. Memory: DQ_REPLAY_TRANSITION_BYTES x
	 *  replay_capacity bytes per agent (x P in a learner), at most
	 *  DQ_REPLAY_MAX_BYTES. A tile-coded agent (tiles, rules q and
	 *  expected-sarsa) stores each transition's active tiles instead of
	 *  its states: DQ_REPLAY_TILES_TRANSITION_BYTES(T) bytes for T
	 *  tilings. Default 0: no replay. */
	uint32_t replay_capacity;
	/** Transitions per minibatch, in [1, DQ_REPLAY_MAX_PER_STEP] when
	 *  replay_capacity > 0 (else 0). */
	uint32_t replay_batch;
	/** Minibatches per step, at least 1 when replay_capacity > 0 (else
	 *  0); replay_batch x replay_minibatches is at most
	 *  DQ_REPLAY_MAX_PER_STEP. */
	uint32_t replay_minibatches;
	/** A target table when > 0 (off-policy rules only): the rule's
	 *  bootstrap reads of s' (max Q(s', .), the expectation of
	 *  expected-sarsa, both estimates of double-q) come from a frozen
	 *  copy of the table, refreshed every target_every steps (the
	 *  schedules' clock: total steps in a learner) (Mnih et al. 2015).
	 *  The copy is taken when the agent is created and at the start of
	 *  each learner run. In a learner one target is shared by the P
	 *  agents and a refresh stalls none of them (docs/replay.md).
	 *  Memory: 2 x S x A x channels x 8 bytes (S the coder's rows for
	 *  a tile-coded agent). Default 0: bootstrap from the live table. */
	uint32_t target_every;
	/** Polyak averaging of the target when in (0, 1): each refresh sets
	 *  target <- tau Q + (1 - tau) target, entry by entry (Lillicrap et
	 *  al. 2016); 0 (default) or 1: the refresh is a copy. */
	double target_tau;
	/** Tile coding (<distq/tiles.h>) when not NULL: the agent's states
	 *  are observations, coded into this coder's active tiles, and the
	 *  table has dq_tiles_features() rows; act and observe through
	 *  dq_agent_act_obs() and dq_agent_observe_obs(). Rules q, sarsa,
	 *  expected-sarsa, nstep-q, nstep-sarsa and q-lambda (traces per
	 *  (tile, action), at most trace_max; Sutton & Barto 10.2, 12.7,
	 *  12.10), epsilon-greedy, without omega or sync_every; q and
	 *  expected-sarsa also with replay and a target table. The coder must
	 *  outlive the agent. Default NULL. One word on every target. */
	const struct dq_tiles *tiles;
#if UINTPTR_MAX == UINT32_MAX
	uint32_t tiles_pad_; /**< Zero: the pointer's word on 32 bits. */
#endif
	/** How actions are chosen: DQ_POLICY_EGREEDY (default) or
	 *  DQ_POLICY_SOFTMAX, whose temperature is the epsilon schedule. */
	dq_policy policy;
	/** n of the n-step rules, in [1, DQ_NSTEP_MAX]. Default 3; not read
	 *  by the other rules (0 accepted there). */
	uint32_t nstep;
	/** lambda of Q(lambda), in [0, 1]. Default 0.9. */
	double lambda;
	/** Q(lambda)'s traces: DQ_TRACE_ACCUMULATING (default) or
	 *  DQ_TRACE_REPLACING. */
	dq_trace trace;
	/** The most traces Q(lambda) keeps, in [1, DQ_TRACE_MAX_CAP]; a
	 *  step costs O(traces kept). Default 64; not read by the other
	 *  rules (0 accepted there). */
	uint32_t trace_max;
	uint64_t reserved_[3]; /**< Zero (see "Growing structs"). */
} dq_agent_config;

/** Bytes one replayed transition takes (dq_agent_config.replay_capacity). */
#define DQ_REPLAY_TRANSITION_BYTES 24u
/** Bytes one replayed transition of a tile-coded agent takes, for a coder
 *  of @p T tilings: the action, the terminated flag and the reward (16),
 *  and the T active tiles of s and of s' (4 bytes each), stored so that a
 *  replay recomputes none. 24 for one tiling, as a tabular transition. */
#define DQ_REPLAY_TILES_TRANSITION_BYTES(T) (16u + 8u * (uint32_t)(T))
/** The most memory the replay buffers of one agent, or of all the agents
 *  of a learner together, may take: 1 GiB. */
#define DQ_REPLAY_MAX_BYTES (UINT64_C(1) << 30)
/** The most transitions replayed per step (batch x minibatches). */
#define DQ_REPLAY_MAX_PER_STEP 4096u

/** The largest table (S x A) an agent may replicate (sync_every > 0). */
#define DQ_REPLICA_MAX_ENTRIES (1u << 22)

/** Counters of one agent (or of all, summed, from the learner). */
typedef struct dq_stats {
	uint64_t steps;	       /**< Steps taken (observe calls). */
	uint64_t episodes;     /**< Episodes finished. */
	uint64_t cas_retries;  /**< Failed CAS attempts (cas mode). */
	uint64_t returns_n;    /**< Episodes in the mean below (<= K each). */
	double mean_return;    /**< Mean return over the last K episodes
			       *   (of each agent); NaN when none yet. */
	double epsilon;	       /**< Current epsilon, or softmax temperature
			       *   (mean over agents). */
	double alpha;	       /**< Current alpha (mean over agents). */
	uint64_t reserved_[9]; /**< Zero (see "Growing structs"). */
} dq_stats;

/** An agent bound to a table (opaque). */
typedef struct dq_agent dq_agent;

/**
 * Fill @p cfg with the defaults of the seed study: gamma 0.95, constant
 * alpha 0.1 and epsilon 0.1, seed 1, stream 0, random ties, K = 100;
 * epsilon-greedy Q-learning, and for the other rules n = 3, lambda 0.9,
 * accumulating traces, at most 64 of them.
 *
 * @return 0, or -EINVAL for a NULL @p cfg.
 * Thread-safety: safe from any thread.
 * Ordering: none.
 */
DQ_API int dq_agent_config_init(dq_agent_config *cfg);

/**
 * Check a configuration without creating anything.
 *
 * @return 0; -EINVAL for gamma outside [0,1],
 *         alpha outside (0,1], epsilon outside [0,1], an unknown schedule
 *         kind, a non-positive schedule length, K of 0 or above 2^20, a
 *         clock_step of 0, sync_every above 2^30, an unknown rule, an
 *         omega neither 0 nor in (0.5, 1] (or set with Q(lambda)), an
 *         unknown policy or trace kind, under softmax a temperature
 *         (epsilon) outside [0, DQ_TEMPERATURE_MAX], nstep above
 *         DQ_NSTEP_MAX (or 0 with an n-step rule), lambda outside [0, 1],
 *         trace_max above DQ_TRACE_MAX_CAP (or 0 with Q(lambda)),
 *         non-zero reserved words (of the config or of its schedules),
 *         replay fields out of their ranges (a batch or minibatch count
 *         of 0 with a capacity, or either without one; batch x
 *         minibatches above DQ_REPLAY_MAX_PER_STEP), a target_tau outside
 *         [0, 1] or without target_every; -ERANGE when replay_capacity x
 *         DQ_REPLAY_TRANSITION_BYTES (DQ_REPLAY_TILES_TRANSITION_BYTES(T)
 *         with tiles) exceeds DQ_REPLAY_MAX_BYTES;
 *         DQ_ERULE for replay or a target table with a rule other than
 *         q, expected-sarsa and double-q. Every error records a
 *         dq_error_detail() naming the field and the rule it breaks
 *         ("alpha.start 2 is outside (0, 1]", "gamma -1 is outside
 *         [0, 1]", "reserved_[2] is not zero ..."); a success clears it.
 * Thread-safety: safe from any thread.
 * Ordering: none.
 */
DQ_API int dq_agent_config_check(const dq_agent_config *cfg);

/**
 * Create an agent that learns into @p table.
 *
 * @return 0; -EINVAL for NULL pointers or a bad config (see
 *         dq_agent_config_check(), whose dq_error_detail() names the
 *         field); -ERANGE when sync_every > 0 and the
 *         table has more than DQ_REPLICA_MAX_ENTRIES entries; DQ_ERULE
 *         when the rule needs more table channels than @p table has
 *         (dq_rule_channels()), or omega is set and @p table keeps no
 *         visit counts, or sync_every > 0 with a rule whose writes per
 *         step are not bounded (DQ_RULE_Q_LAMBDA); -ENOMEM. With
 *         target_every > 0 the agent's target table is a copy of
 *         @p table now. Checkpoints hold neither the replay ring nor
 *         the target.
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
 * Choose an action for @p state by the agent's policy (dq_policy): with
 * probability epsilon uniformly at random, else greedily from the shared
 * table; or by softmax. The on-policy rules (SARSA, n-step SARSA) and
 * Q(lambda) return the action their last observe chose when @p state is
 * the s' of that observe.
 *
 * @return 0; -EINVAL for NULL pointers; -ERANGE for @p state
 *         (dq_error_detail() says which).
 * Thread-safety: the owning thread only; the table may be shared.
 * Ordering: relaxed reads of the table.
 */
DQ_API int dq_agent_act(dq_agent *agent, uint32_t state, uint32_t *action);

/**
 * Learn from one transition: Q(s,a) moves towards
 * r + gamma * max_a' Q(s',a') (or r alone when @p terminated), or what
 * the agent's rule writes (dq_rule: the n-step rules write the update of
 * the transition n steps back, and all pending ones when @p terminated),
 * then the schedules advance one step. A terminated transition also ends the
 * episode for the statistics. CAS retries are counted in the agent's
 * statistics (dq_stats.cas_retries), not returned.
 *
 * @p next_state is not read when @p terminated (any value is accepted
 * there, e.g. a simulator's sentinel).
 *
 * @return 0; -EINVAL for NULL @p agent or a non-finite @p reward (an
 *         environment error); -ERANGE for s, a or s' (dq_error_detail()
 *         says which, for these two); DQ_ENONFINITE when the update's result would not
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
 * dq_agent_act() for @p n states at once: actions[i] is chosen for
 * states[i], in order, exactly as n calls would choose them (same random
 * draws). For bindings (Python, a vectorised simulator): the per-call cost
 * is paid once per batch. Every state is checked before any is acted on,
 * so a failed call draws nothing and leaves @p actions untouched.
 *
 * @param states @p n states (may be NULL when @p n is 0).
 * @param actions receives @p n actions (may be NULL when @p n is 0).
 * @return 0; -EINVAL for a NULL @p agent, or NULL arrays with a non-zero
 *         @p n; -ERANGE when a state is out of range (nothing done).
 * Thread-safety: the owning thread only; the table may be shared.
 * Ordering: relaxed reads of the table, as dq_agent_act().
 */
DQ_API int dq_agent_act_batch(dq_agent *agent, const uint32_t *states,
			      uint32_t *actions, size_t n);

/**
 * dq_agent_observe() for @p n transitions at once, in order:
 * (s[i], a[i], rewards[i], next_states[i], terminated[i]) as n calls would
 * observe them. Every transition is checked (ranges, finite rewards)
 * before any is observed. The transitions may come from many environment
 * instances (a vectorised simulator); the agent's episode statistics then
 * count one episode per terminated transition, and its mean return mixes
 * the instances' rewards.
 *
 * @param terminated @p n flags, one byte each: non-zero ends the episode
 *        (a byte, not bool, so that any byte array is valid input).
 * @param done receives how many transitions were observed (may be NULL):
 *        @p n on success, 0 when a check failed; on DQ_ENONFINITE the
 *        index of the refused transition (one more in replica mode when
 *        the refusal was a write-back at a sync, which comes after its
 *        transition was observed, as with dq_agent_observe()).
 * next_states[i] is not read when terminated[i] is non-zero.
 *
 * @return 0; -EINVAL for a NULL @p agent, NULL arrays with a non-zero
 *         @p n, or a non-finite reward (nothing observed); -ERANGE for a
 *         state or action out of range (nothing observed);
 *         dq_error_detail() names the transition for these two;
 *         DQ_ENONFINITE when an update's result would not be finite: the
 *         transitions before *done were observed, the others were not.
 * Thread-safety: the owning thread only; the table may be shared.
 * Ordering: as dq_table_update(), per transition.
 */
DQ_API int dq_agent_observe_batch(dq_agent *agent, const uint32_t *s,
				  const uint32_t *a, const double *rewards,
				  const uint32_t *next_states,
				  const uint8_t *terminated, size_t n,
				  size_t *done);

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
 * End the current episode without a terminal transition (truncation, or
 * the simulator's own reset): for the statistics, and for the rules that
 * look beyond one step: the n-step rules write their pending updates,
 * bootstrapping from the last observed s' (truncation bootstraps), and
 * Q(lambda) clears its traces. Counts no episode if no step was observed
 * since the last episode ended.
 *
 * @return 0, -EINVAL for NULL, or DQ_ENONFINITE when a pending update's
 *         result would not be finite (that entry unchanged; the episode
 *         ends and the pending updates are dropped all the same).
 * Thread-safety: the owning thread only.
 * Ordering: the n-step rules' writes as dq_table_update(); none
 *           otherwise.
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

#ifdef __cplusplus
}
#endif
#endif /* DISTQ_AGENT_H */
