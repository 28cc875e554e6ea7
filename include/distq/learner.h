/*
 * libdistq: the learner: agent threads.
 *
 * Part of <distq.h>, which includes every part; this one may also be
 * included alone. The conventions are at the top of <distq.h>.
 */
#ifndef DISTQ_LEARNER_H
#define DISTQ_LEARNER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "api.h"
#include "agent.h"
#include "env.h"
#include "share.h"
#include "table.h"
#include "writepath.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------ */
/** @defgroup learner The learner: agent threads
 * @{ */

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
	uint64_t reserved_[12];	 /**< Zero (see "Growing structs"). */
} dq_progress;

/** What dq_learner_config.eval_every counts. */
typedef enum dq_eval_unit {
	DQ_EVAL_SECONDS = 0,  /**< Wall-clock seconds since the run began. */
	DQ_EVAL_STEPS = 1,    /**< Total steps of this run, all agents. */
	DQ_EVAL_EPISODES = 2, /**< Total episodes of this run, all agents. */
} dq_eval_unit;

/**
 * One evaluation of the greedy policy (see dq_learner_config.eval_every):
 * a point of the learning curve. Greedy ties go to the lowest action.
 * Returns are those of whole greedy episodes on the evaluator's own
 * environment instance, cut at the learner's episode step limit.
 */
typedef struct dq_eval_record {
	uint32_t index;	     /**< 0, 1, 2... within the run. */
	uint32_t n_episodes; /**< Greedy episodes played (eval_episodes). */
	/** Since the run began, when the snapshot was taken. */
	double seconds;
	/** Total steps (as dq_progress.total) read just before the
	 *  snapshot: the snapshot holds these steps' updates (except those
	 *  an agent keeps in a write-back window) and up to 256 more steps'
	 *  per agent (an unpublished chunk). */
	uint64_t steps;
	uint64_t episodes;  /**< Total episodes, read with steps. */
	uint64_t run_steps; /**< Steps of this run, read with steps. */
	/** Mean undiscounted return (Gymnasium's episode reward) of the
	 *  greedy episodes. */
	double mean_return;
	double return_se; /**< Its standard error, s / sqrt(n); NaN for one
			   *   episode. */
	/** Mean discounted return (gamma of the agents) of the same
	 *  episodes: the sample estimate of exact_value. */
	double mean_discounted;
	double discounted_se; /**< Its standard error; NaN for one. */
	/** Where the environment has a model: the greedy policy's exact
	 *  discounted value from the start distribution
	 *  (dq_model_evaluate()); NaN otherwise or when it has none (an
	 *  improper policy at gamma 1). */
	double exact_value;
	/** V* from the start distribution; NaN without a model. */
	double optimal_value;
	/** Normalised gap (V* - V^pi) / (V* - V^random) over start values:
	 *  0 optimal, 1 no better than the uniformly random policy (a
	 *  rounding below 0 shows as 0); NaN without a model, or when random
	 *  is already optimal or has no value. */
	double gap;
	double epsilon; /**< Mean epsilon of the agents (as in
			 *   dq_progress.total). */
	double alpha;	/**< Mean alpha of the agents. */
	/** Wall time this evaluation took (its cost to the monitoring
	 *  thread). */
	double eval_seconds;
	/** The evaluation after the run ended (its snapshot is exact: no
	 *  agent runs). */
	bool final;
	uint64_t reserved_[8]; /**< Zero (see "Growing structs"). */
} dq_eval_record;

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
	/** Called from the monitoring thread (the caller of
	 *  dq_learner_run(), between agent 0's chunks) every
	 *  progress_interval, until a stop is under way; return non-zero to
	 *  stop the run. May be NULL. */
	int (*should_stop)(void *arg);
	void *should_stop_arg; /**< Passed to should_stop. */
	/** Called from the monitoring thread (the caller) with a consistent
	 *  snapshot of the totals every progress_interval, and once at the
	 *  end. */
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
	/** A sync policy (dq_share_config, share.h): each agent learns on a
	 *  local table, pushed to and pulled from @p table between chunks
	 *  (DistQL: every interval episodes, a chunk ending at the episode
	 *  end where one is due; averaging: every interval steps exactly, or
	 *  seconds at the next chunk's end), and once more at the end of each
	 *  run (a push, no pull), so that the table holds what every agent
	 *  learned when the run returns. Local tables persist across runs of
	 *  one learner; a new learner (a resume) starts them from @p table
	 *  with fresh per-entry eta. Default DQ_SHARE_NONE (zeroed). */
	dq_share_config share;
	/** Evaluate the greedy policy every this many eval_units while the
	 *  agents learn (0, the default: no evaluator). The monitoring
	 *  thread copies the table (dq_table_snapshot(): each entry one value
	 *  the table held, rows from different instants), plays
	 *  eval_episodes greedy episodes on its own environment instance
	 *  with its own random stream (never an agent's: training is the
	 *  same with the evaluator on or off), evaluates the policy exactly
	 *  where the environment has a model, and hands a dq_eval_record to
	 *  eval_callback; once more after the run ends (final). The first
	 *  evaluation is made as the run starts, before any agent steps.
	 *  Steps and episodes are read when the monitor wakes (every
	 *  progress_interval, and every millisecond with those units), so an
	 *  interval is a lower bound. Cost: one snapshot (S x A loads), the
	 *  episodes' steps, and with a model one policy evaluation (its
	 *  sweeps x the policy's outcomes), on the monitoring thread; no
	 *  allocation but dq_model_evaluate()'s scratch (docs/evaluation.md
	 *  has figures). Source: the evaluators of the Ray RLlib study
	 *  (greedy episodes beside training); Sutton & Barto 4.1 for the
	 *  exact policy evaluation. */
	double eval_every;
	dq_eval_unit eval_unit; /**< Default DQ_EVAL_SECONDS. */
	/** Greedy episodes per evaluation, 1..10^7; default 100. */
	uint32_t eval_episodes;
	/** Called from the monitoring thread (the caller of
	 *  dq_learner_run()) with each evaluation, in order; may be NULL
	 *  (target_return alone). The record lives for the call. */
	void (*eval_callback)(const dq_eval_record *r, void *arg);
	void *eval_arg; /**< Passed to eval_callback. */
	/** Stop (DQ_STOP_RETURN) at the first evaluation during the run
	 *  whose mean_return over eval_episodes is >= this (issue 15's
	 *  solved thresholds: 475 for CartPole-v1). NaN, the default, is
	 *  off; needs eval_every > 0. The final evaluation does not
	 *  count. */
	double target_return;
	uint64_t reserved_[6]; /**< Zero (see "Growing structs"). */
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
	DQ_STOP_RETURN = 8,   /**< target_return reached by an
			       *   evaluation. */
} dq_stop_reason;

/** What went wrong in a run. */
typedef struct dq_run_error {
	int code;	       /**< Negative error code; 0 when none. */
	uint32_t agent;	       /**< Which agent failed (P: the
				*   evaluator). */
	uint64_t step;	       /**< That agent's step count when it failed. */
	const char *what;      /**< "reset", "step", "update", "sync", "pin",
			   *   "thread" or "evaluate" (an environment
			   *   error in an evaluation episode). */
	uint64_t reserved_[5]; /**< Zero (see "Growing structs"). */
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
	uint64_t share_pushes;	/**< Sync policy: pushes made by all agents
				 *   in this run (0 without one). */
	uint64_t share_entries; /**< The entries those pushes blended or
				 *   added to the shared table. */
	double return_seconds;	/**< When an evaluation first reached
				 *   target_return in this run (the snapshot's
				 *   time); NaN if not. */
	uint64_t return_steps;	/**< Total steps of this run read for that
				 *   evaluation; 0 if not. */
	uint64_t reserved_[5];	/**< Zero (see "Growing structs"). */
} dq_run_result;

/** A set of agent threads learning one table (opaque). */
typedef struct dq_learner dq_learner;

/**
 * Fill @p cfg with defaults: 1 thread, dq_agent_config_init() agents, no
 * limits (set at least one before running), progress every 0.1 s, pinning
 * one agent per core, not strict; no evaluator (eval_every 0, in seconds,
 * 100 episodes when set; target_return NaN).
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
 *         non-zero reserved words, agent options, no stop condition, a
 *         pin list missing or naming
 *         a PU that does not exist, an unknown write_path or
 *         DQ_WRITE_DIRECT with sync_every > 0, eval_every negative
 *         or not finite, an unknown eval_unit, eval_episodes 0 or above
 *         10^7 with the evaluator on, a finite target_return without
 *         eval_every or an infinite one), a table/environment
 *         shape mismatch;
 *         -ENOTSUP for target_fraction without a model; DQ_ERULE when
 *         the agents' rule needs more table channels than @p table has
 *         or omega needs visit counts it does not keep, or is sarsa
 *         with replay or a target table; -ERANGE when the P agents'
 *         replay rings together exceed DQ_REPLAY_MAX_BYTES
 *         (replay_capacity x DQ_REPLAY_TRANSITION_BYTES x P;
 *         dq_error_detail() names it);
 *         -ENOMEM; or an environment's create error. Every -EINVAL
 *         records a dq_error_detail() naming the field and the rule it
 *         breaks ("agent.alpha.start 2 is outside (0, 1]", "n_threads 0
 *         is outside [1, 4096]", "the env has 500 states, the table 16",
 *         "reserved_[2] is not zero ..."; an agent field is prefixed
 *         "agent.", a sync policy's "share."). With
 *         agent.target_every > 0 the P agents share one target table
 *         (2 x S x A x channels x 8 bytes), a copy of @p table at the
 *         start of each run (checkpoints do not hold it, nor the replay
 *         rings, which persist across runs of one learner).
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
 * runs agent 0 itself (unless an evaluator is configured: eval_every > 0,
 * whose episodes then overlap the agents on a thread of their own) and is
 * the monitor (progress, time budget,
 * should_stop, the evaluator and its callback, made between agent 0's
 * chunks of at most 256 steps and, once it ends, while the others finish;
 * the agents make the target checks). A run of P agents starts P - 1
 * threads (none for one agent; P with an evaluator): a short run pays no
 * thread start for agent 0. With pinning, the calling thread is bound to agent 0's PU
 * during the run and gets its own binding back before the return (when
 * that binding cannot be read, agent 0 runs unbound: a pin failure of
 * agent 0). Every thread started is joined before it returns. A learner may be run again: agents
 * continue from their state (counters, schedules, RNG) and limits count
 * from the new run's start.
 *
 * @param result receives the summary (may be NULL).
 * @return 0 when the run ended by a stop condition or request; the first
 *         agent error otherwise (details from dq_learner_error()), such
 *         as DQ_EENV for an environment error (a non-finite reward
 *         included) or DQ_ENONFINITE for an update whose result would
 *         not be finite (refused, the entry unchanged; what is "update"
 *         or "sync"); an environment's error in an evaluation episode
 *         (what is "evaluate", agent is P); DQ_EPIN
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
	dq_rng rng;	       /**< Its random stream. */
	double alpha_clock;    /**< Schedule time of alpha. */
	double epsilon_clock;  /**< Schedule time of epsilon. */
	uint64_t steps;	       /**< Steps taken. */
	uint64_t episodes;     /**< Episodes finished. */
	uint64_t cas_retries;  /**< CAS retries. */
	uint64_t reserved_[7]; /**< Zero (see "Growing structs"). */
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
 * @return 0; -EINVAL for NULL pointers, an all-zero RNG state, negative
 *         or non-finite clocks or non-zero reserved words; -ERANGE for
 *         @p i >= P, or a counter (steps, episodes, cas_retries) at or
 *         above 2^63, so that no counter can wrap during later runs;
 *         -EBUSY while running.
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

#ifdef __cplusplus
}
#endif
#endif /* DISTQ_LEARNER_H */
