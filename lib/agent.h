/*
 * Private side of the agent: its state and the unchecked act/observe step
 * that both the public dq_agent_*() calls and the learner's threads run.
 * The step is three layers (docs/architecture.md): the rule (rule.h)
 * chooses actions and turns a transition into typed writes, the store
 * (store.h: the table under its discipline, or the write-back overlay in
 * front of it) lands them, the rate (rate.h) gives their step size.
 */
#ifndef DQ_AGENT_H
#define DQ_AGENT_H

#include <math.h>

#include "atomic.h"
#include "rate.h"
#include "share.h"
#include "store.h"
#include "tiles.h"

/* A pending transition of the n-step rules (x: its reward) or an
 * eligibility trace of Q(lambda) (x: the trace). */
typedef struct dq__sax {
	uint32_t s, a;
	double x;
} dq__sax;

struct dq_agent {
	/* Hot: read and written every step by the owning thread only. The
	 * struct is allocated on its own cache lines (agent.c). */
	dq_table *table;
	/* Where the rule's bootstrap reads of s' come from (rule.h): the
	 * table, or the target's current buffer (lib/target.h). */
	const dq_table *boot;
	/* Replay and target tables (lib/replay.h); NULL when neither. */
	struct dq__ext *ext;
	dq_rng rng;
	dq__sched alpha;
	dq__sched epsilon;
	double gamma;
	double omega; /* > 0: per-entry alpha = 1 / N^omega (rate.h) */
	uint32_t n_actions;
	dq_rule rule;
	bool random_ties;
	dq_rng *tie_rng;   /* &rng with random_ties, else NULL */
	bool scheduled;	   /* some schedule is not constant */
	uint64_t ep_start; /* steps when the episode began: one is under way
			    * (for the statistics) when steps differs */
	double ep_return;
	/* The greedy action of s' found while bootstrapping from it, reused by
	 * the next act if that is in s' (valid only until then): next_state
	 * is DQ__NO_STATE when there is none. */
	uint32_t next_state;
	uint32_t next_greedy;

	/* Transitions replayed per step (lib/replay.h), 0 without replay:
	 * the overlay's buffers hold 1 + this many steps' writes each step. */
	uint32_t replays_per_step;

	/* Counters. */
	uint64_t steps;
	uint64_t episodes;
	uint64_t retries;

	/* Returns of the last K episodes, a ring. */
	double *returns;
	uint32_t k;
	uint32_t ret_head;
	uint32_t ret_count;

	/* The write-back overlay (store.h): in front of the table while a
	 * window is open (replica mode, sync_every > 0, or the learner's
	 * automatic write path). */
	dq__overlay replica;

	/* A sync policy (share.h): the agent learns on its local table
	 * (`table` is that one), pushed and pulled at boundaries. NULL for
	 * none. DistQL: alpha = eta0 exp(N log_decay) per entry (rate.h),
	 * and epsilon = its start x eps_decay^episodes when eps_decay > 0. */
	dq__share *share;
	double eta0;
	double eta_log_decay;
	double eps_decay;
	/* Tile coding (tiles.h): NULL when states index the table. */
	struct dq__tagent *tg;
	/* Rules beyond one step (rule.h). Softmax policy: epsilon.value is
	 * the temperature. The n-step rules' pending transitions, a ring of
	 * nstep from pend_head, and Q(lambda)'s traces, a list of at most
	 * trace_max from 0: pend_n of them. last_s2/last_a2: the last
	 * observed s' (and the action chosen there, n-step SARSA), the
	 * bootstrap of a truncation's flush. */
	bool softmax;
	bool replacing; /* Q(lambda): replacing traces */
	uint32_t nstep;
	dq__sax *pend;
	uint32_t pend_cap;
	uint32_t pend_head;
	uint32_t pend_n;
	uint32_t last_s2;
	uint32_t last_a2;
	double gl; /* Q(lambda): gamma lambda */
};

int dq__agent_init(dq_agent *ag, dq_table *t, const dq_agent_config *cfg);
void dq__agent_fini(dq_agent *ag);
void dq__agent_episode_end(dq_agent *ag);
int dq__agent_flush(dq_agent *ag);
void dq__agent_stats(const dq_agent *ag, dq_stats *out);
int dq__agent_sync(dq_agent *ag);
int dq__agent_reserve(dq_agent *ag, uint32_t max_window);
int dq__agent_set_window(dq_agent *ag, uint32_t window);
int dq__ext_observe(dq_agent *ag, uint32_t s, uint32_t a, double r, uint32_t s2,
		    bool terminated, dq_mode mode, bool ovl, bool visits);
int dq__ext_observe_tiles(dq_agent *ag, const uint32_t *f, uint32_t a, double r,
			  const uint32_t *f2, bool terminated, dq_mode mode);

/* No state (a table has at most 2^32 - 1 of them). */
#define DQ__NO_STATE UINT32_MAX

/* Replica mode now (see struct dq_agent): a window is open. The buffers
 * may be held while the agent updates directly (the learner's automatic
 * write path, lib/writepath.h). */
static inline bool
dq__agent_replica(const dq_agent *ag)
{
	return dq__overlay_on(&ag->replica);
}

/* The rules' act and observe, templates over (rule, mode, ovl). */
#include "rule.h"
/* The same over tiles (templates over rule and mode). */
#include "tilerule.h"

/*
 * The act/observe step takes five things a learner's run never changes as
 * arguments: the rule, the table's discipline (`mode`), whether the
 * overlay is in front (`ovl`, i.e. dq__agent_replica(ag)), whether the
 * step size is per entry (`visits`, i.e. ag->omega > 0) and whether the
 * policy is softmax (`soft`, i.e. ag->softmax). The learner's
 * hot loop passes them as constants, one specialised loop per combination,
 * so that none is tested on every step; the public dq_agent_*() calls pass
 * the agent's own. Passing anything else is a bug.
 */
DQ__INLINE uint32_t
dq__agent_act(dq_agent *ag, uint32_t s, dq_rule rule, bool ovl, bool soft)
{
	return dq__rule_act(ag, s, rule, ovl, soft);
}

/*
 * One step of the rule: its writes (rule.h), then the bookkeeping every
 * rule shares. Only termination cuts the bootstrap: a truncated episode
 * still bootstraps from s'. The caller ends the episode
 * (dq__agent_episode_end()) after a terminated or truncated transition.
 *
 * Returns 0 (the CAS retries go to the agent's counter), or a negative
 * error: DQ_ENONFINITE when an update's result is not finite, refused with
 * the entry unchanged; the step is then not counted and the agent's
 * counters, episode and schedules are as before the call. An error of the
 * window's write-back (replica mode) comes after the step is counted.
 */
DQ__INLINE int
dq__agent_observe_core(dq_agent *ag, uint32_t s, uint32_t a, double r,
		       uint32_t s2, bool terminated, dq_rule rule, dq_mode mode,
		       bool ovl, bool visits, bool soft)
{
	int retries = dq__rule_observe(ag, s, a, r, s2, terminated, rule, mode,
				       ovl, visits, soft);

	if (DQ__UNLIKELY(retries < 0))
		return retries;
	ag->retries += (uint64_t)retries;
	ag->steps++;
	ag->ep_return += r;
	if (ag->scheduled) {
		dq__sched_step(&ag->alpha);
		dq__sched_step(&ag->epsilon);
	}
	/* A terminated transition ends the episode: the caller's (the
	 * learner's loop ends it anyway; dq_agent_observe() does). */
	if (ovl && !--ag->replica.sync_left)
		return dq__agent_sync(ag);
	return 0;
}

/*
 * The agent's step: dq__agent_observe_core(), or with replay or a target
 * table that step and then theirs (lib/replay.c: dq__ext_observe(), whose
 * errors come after the step is counted). The test comes first, where the
 * transition's values are live anyway: placed after the step, it kept
 * them live across the rule's code and cost the plain step instructions.
 */
DQ__INLINE int
dq__agent_observe(dq_agent *ag, uint32_t s, uint32_t a, double r, uint32_t s2,
		  bool terminated, dq_rule rule, dq_mode mode, bool ovl,
		  bool visits, bool soft)
{
	if (DQ__UNLIKELY(ag->ext != NULL))
		return dq__ext_observe(ag, s, a, r, s2, terminated, mode, ovl,
				       visits);
	return dq__agent_observe_core(ag, s, a, r, s2, terminated, rule, mode,
				      ovl, visits, soft);
}

#endif /* DQ_AGENT_H */
