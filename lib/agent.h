/*
 * Private side of the agent: its state and the unchecked act/observe step
 * that both the public dq_agent_*() calls and the learner's threads run.
 * There is one implementation of Q-learning in the library, and it is here.
 */
#ifndef DQ_AGENT_H
#define DQ_AGENT_H

#include <math.h>

#include "atomic.h"
#include "table.h"

/*
 * A schedule evaluated incrementally: one add (linear) or one multiply-add
 * (exponential) per step instead of a pow() or exp(). `clock` counts
 * schedule steps so the closed form can be recomputed exactly (resume).
 */
typedef struct dq__sched {
	dq_schedule def;
	double value;
	double inc;    /* linear: per agent step; exp: decay factor */
	double clock;  /* schedule steps so far */
	double stride; /* schedule steps per agent step */
} dq__sched;

struct dq_agent {
	/* Hot: read and written every step by the owning thread only. The
	 * struct is allocated on its own cache lines (agent.c). */
	dq_table *table;
	dq_rng rng;
	dq__sched alpha;
	dq__sched epsilon;
	double gamma;
	uint32_t n_actions;
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

	/* Counters. */
	uint64_t steps;
	uint64_t episodes;
	uint64_t retries;

	/* Returns of the last K episodes, a ring. */
	double *returns;
	uint32_t k;
	uint32_t ret_head;
	uint32_t ret_count;

	/* Replica mode (sync_every > 0): updates reach the shared table every
	 * sync_every steps, not at once. The first write to a row in a window
	 * copies the row into pend_val (and pend_base, the values it copied);
	 * from then on the agent reads and updates the row in its copy, and
	 * pend_keep[] multiplies up (1 - alpha) over each entry's updates.
	 * Other rows are read from the shared table. row_slot[s] is where row
	 * s starts in pend_val plus one, 0 when it is not pending. At most
	 * min(S, max_window) rows are pending, since each step writes one
	 * entry. */
	uint32_t *row_slot; /* S */
	uint32_t *pend_row; /* the pending rows' states */
	double *pend_val;   /* pending rows x A: the agent's values */
	double *pend_base;  /* pending rows x A: as copied */
	double *pend_keep;  /* pending rows x A: product of (1 - alpha) */
	uint32_t n_pend;
	uint32_t sync_every; /* the window now; 0 = direct updates */
	uint32_t sync_left;  /* steps until the window's write-back */
	uint32_t max_window; /* what the buffers hold; 0 = none */
	uint64_t merges;     /* write-back merges, and of those the ones */
	uint64_t moved;	     /* that found the entry moved by another */
};

void dq__sched_init(dq__sched *sc, const dq_schedule *def, uint32_t stride);
void dq__sched_seek(dq__sched *sc, double clock);
int dq__agent_init(dq_agent *ag, dq_table *t, const dq_agent_config *cfg);
void dq__agent_fini(dq_agent *ag);
void dq__agent_episode_end(dq_agent *ag);
void dq__agent_stats(const dq_agent *ag, dq_stats *out);
int dq__agent_sync(dq_agent *ag);
uint32_t dq__agent_pend_row(dq_agent *ag, uint32_t s);
int dq__agent_reserve(dq_agent *ag, uint32_t max_window);
int dq__agent_set_window(dq_agent *ag, uint32_t window);

/* No state (a table has at most 2^32 - 1 of them). */
#define DQ__NO_STATE UINT32_MAX

/* Replica mode now (see struct dq_agent): a window is open. The buffers
 * may be held while the agent updates directly (the learner's automatic
 * write path, lib/writepath.h). */
static inline bool
dq__agent_replica(const dq_agent *ag)
{
	return ag->sync_every != 0;
}

static inline void
dq__sched_step(dq__sched *sc)
{
	switch (sc->def.kind) {
	case DQ_SCHEDULE_LINEAR:
		sc->clock += sc->stride;
		if (sc->clock >= sc->def.steps)
			sc->value = sc->def.end;
		else
			sc->value += sc->inc;
		break;
	case DQ_SCHEDULE_EXP:
		sc->clock += sc->stride;
		sc->value = sc->def.end + (sc->value - sc->def.end) * sc->inc;
		break;
	default:
		break;
	}
}

/* Greedy action (and maximum) of a private row (replica mode): the same
 * rules as dq__table_greedy_max() on plain doubles. */
static inline uint32_t
dq__row_greedy_max(const double *row, uint32_t n, dq_rng *rng, double *max)
{
	double best = row[0];
	uint32_t arg = 0, ties = 1;

	for (uint32_t a = 1; a < n; a++) {
		if (row[a] < best) /* finite: see dq__table_greedy_max() */
			continue;
		if (row[a] > best) {
			best = row[a];
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

/*
 * The act/observe step below takes two things a learner's run never changes
 * as arguments: the table's discipline (`mode`) and whether the agent learns
 * in replica mode (`replica`, i.e. dq__agent_replica(ag)). The learner's hot loop
 * passes them as constants, one specialised loop per combination, so that
 * neither is tested on every step; the public dq_agent_*() calls pass the
 * agent's own. Passing anything else is a bug.
 */

/* Greedy action of s and its value, as the agent sees row s: its own copy
 * when it wrote the row in this window (replica mode), else the table. */
DQ__INLINE uint32_t
dq__agent_greedy_max(dq_agent *ag, uint32_t s, double *max, bool replica)
{
	dq_rng *rng = ag->tie_rng;
	uint32_t k;

	if (replica && (k = ag->row_slot[s]) != 0)
		return dq__row_greedy_max(ag->pend_val + (k - 1), ag->n_actions,
					  rng, max);
	return dq__table_greedy_max(ag->table, s, rng, max);
}

/*
 * Epsilon-greedy choice. The greedy action of the state the last observe
 * bootstrapped from was found then; it is reused when this is that state
 * (the row may have changed since by other agents' updates: a few
 * nanoseconds of staleness, which asynchronous learning already allows).
 */
DQ__INLINE uint32_t
dq__agent_act(dq_agent *ag, uint32_t s, bool replica)
{
	double eps = ag->epsilon.value;
	bool cached = ag->next_state == s;

	ag->next_state = DQ__NO_STATE;
	if (eps > 0.0 && dq_rng_uniform(&ag->rng) < eps)
		return dq_rng_below(&ag->rng, ag->n_actions);
	if (cached)
		return ag->next_greedy;
	return dq__agent_greedy_max(ag, s, NULL, replica);
}

/*
 * Replica mode's write: into the agent's copy of row s, made at the row's
 * first write in this window (dq__agent_pend_row(), out of line). Every
 * sync_every steps the window goes to the shared table (the caller's
 * dq__agent_sync(), once the step is counted). Returns 0, or DQ_ENONFINITE,
 * with the copy unchanged, for a result that is not finite (as
 * dq__table_apply_as()).
 */
DQ__INLINE int
dq__agent_write_local(dq_agent *ag, uint32_t s, uint32_t a, double target)
{
	const double alpha = ag->alpha.value;
	uint32_t k = ag->row_slot[s];
	size_t i;
	double q, nq;

	if (!k)
		k = dq__agent_pend_row(ag, s);
	i = (size_t)(k - 1) + a;
	q = ag->pend_val[i];
	nq = q + alpha * (target - q);
	if (DQ__UNLIKELY(!dq__finite_or_refuse(dq__d2u(nq))))
		return DQ_ENONFINITE;
	ag->pend_val[i] = nq;
	ag->pend_keep[i] *= 1.0 - alpha;
	return 0;
}

/*
 * One Q-learning update. Only termination cuts the bootstrap: a truncated
 * episode still bootstraps from s'. The caller ends the episode
 * (dq__agent_episode_end()) after a terminated or truncated transition. The scan
 * of row s' yields both max Q(s',.) and the greedy action the next act in
 * s' will want; the latter is kept unless the update below changes row s'
 * itself (s' == s).
 *
 * Returns 0 (the CAS retries go to the agent's counter), or a negative
 * error: DQ_ENONFINITE when the update's result is not finite, refused with
 * the entry unchanged; the step is then not counted and the agent's
 * counters, episode and schedules are as before the call. An error of the
 * window's write-back (replica mode) comes after the step is counted.
 */
DQ__INLINE int
dq__agent_observe(dq_agent *ag, uint32_t s, uint32_t a, double r, uint32_t s2,
		  bool terminated, dq_mode mode, bool replica)
{
	double target = r, max;
	int retries;

	if (!terminated) {
		ag->next_greedy = dq__agent_greedy_max(ag, s2, &max, replica);
		ag->next_state = s2 != s ? s2 : DQ__NO_STATE;
		target += ag->gamma * max;
	}
	if (replica)
		retries = dq__agent_write_local(ag, s, a, target);
	else
		retries = dq__table_apply_as(
		    ag->table, mode, s, a,
		    (dq__op){DQ__OP_TD, ag->alpha.value, target, 0.0});
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
	if (replica && !--ag->sync_left)
		return dq__agent_sync(ag);
	return 0;
}

#endif /* DQ_AGENT_H */
