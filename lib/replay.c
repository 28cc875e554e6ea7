/*
 * Experience replay and the target table as options of an off-policy rule:
 * the checks of their configuration, the agent's replay ring, and the step
 * both add after a fresh transition (dq__ext_step(), called from
 * dq__agent_observe() only when one is on). See replay.h and target.h.
 */
#include <errno.h>
#include <stdlib.h>

#include "agent.h"
#include "replay.h"

/*
 * Whether a rule may replay old transitions and bootstrap from a target:
 * an off-policy rule's target does not depend on the action the agent
 * takes next. SARSA's does (it bootstraps from Q(s', a'), a' the action its
 * own current policy takes next in s'): a replayed transition carries an
 * a' of an older policy, and a frozen target would hold that policy still.
 */
static bool
rule_off_policy(dq_rule rule)
{
	return rule == DQ_RULE_Q || rule == DQ_RULE_EXPECTED_SARSA ||
	       rule == DQ_RULE_DOUBLE_Q;
}

/*
 * The checks of the replay and target fields, for n_agents agents (each
 * with its own ring). Returns 0, -EINVAL (a field out of range), DQ_ERULE
 * (an on-policy rule) or -ERANGE (the rings past DQ_REPLAY_MAX_BYTES),
 * with a detail naming the field or limit.
 */
int
dq__replay_check(const dq_agent_config *cfg, uint32_t n_agents)
{
	uint64_t per_step;

	if (cfg->replay_capacity) {
		per_step =
		    (uint64_t)cfg->replay_batch * cfg->replay_minibatches;
		if (!cfg->replay_batch || !cfg->replay_minibatches ||
		    per_step > DQ_REPLAY_MAX_PER_STEP) {
			dq__detail("replay: batch %u x minibatches %u must be "
				   "in [1, %u]",
				   cfg->replay_batch, cfg->replay_minibatches,
				   DQ_REPLAY_MAX_PER_STEP);
			return -EINVAL;
		}
		if ((uint64_t)cfg->replay_capacity * dq__replay_bytes(cfg) *
			n_agents >
		    DQ_REPLAY_MAX_BYTES) {
			dq__detail("replay: %u transitions x %u bytes x %u "
				   "agents exceed DQ_REPLAY_MAX_BYTES (%llu)",
				   cfg->replay_capacity, dq__replay_bytes(cfg),
				   n_agents,
				   (unsigned long long)DQ_REPLAY_MAX_BYTES);
			return -ERANGE;
		}
	} else if (cfg->replay_batch || cfg->replay_minibatches) {
		dq__detail("replay: a batch without a capacity");
		return -EINVAL;
	}
	if (!(cfg->target_tau >= 0.0 && cfg->target_tau <= 1.0) ||
	    (cfg->target_tau > 0.0 && !cfg->target_every)) {
		dq__detail("target: tau %g must be in [0, 1], with a period",
			   cfg->target_tau);
		return -EINVAL;
	}
	if ((cfg->replay_capacity || cfg->target_every) &&
	    !rule_off_policy(cfg->rule)) {
		dq__detail("replay and target tables need an off-policy rule "
			   "(q, expected-sarsa, double-q): %s bootstraps from "
			   "the action its current policy takes next, which "
			   "an old transition or a frozen table does not "
			   "know",
			   dq_rule_name(cfg->rule) ? dq_rule_name(cfg->rule)
						   : "this rule");
		return DQ_ERULE;
	}
	return 0;
}

/* How many times a plain step's writes one step may make with replay (the
 * overlay's buffers are sized from it, store.h). */
uint32_t
dq__replay_writes_factor(const dq_agent_config *cfg)
{
	if (!cfg->replay_capacity)
		return 1;
	return 1 + cfg->replay_batch * cfg->replay_minibatches;
}

/*
 * Give the agent its ring and target as configured: a learner passes the
 * target its agents share, an agent of its own (NULL) creates one. Returns
 * 0 or -ENOMEM (dq__ext_fini() releases what was made).
 */
int
dq__ext_init(dq_agent *ag, const dq_agent_config *cfg, dq__target *shared)
{
	dq__ext *x;
	int err;

	ag->boot = ag->table;
	if (!cfg->replay_capacity && !cfg->target_every)
		return 0;
	x = calloc(1, sizeof(*x));
	if (!x)
		return -ENOMEM;
	ag->ext = x;
	x->clock_step = cfg->clock_step;
	if (cfg->replay_capacity && ag->tg) { /* tile-coded: tilereplay.c */
		x->rp.cap = cfg->replay_capacity;
		err = dq__replay_tiles_init(&x->rp, ag->tg->T);
		if (err)
			return err;
		x->rp.batch = cfg->replay_batch;
		x->rp.minibatches = cfg->replay_minibatches;
	} else if (cfg->replay_capacity) {
		x->rp.buf = malloc((size_t)cfg->replay_capacity *
				   sizeof(dq__transition));
		if (!x->rp.buf)
			return -ENOMEM;
		x->rp.cap = cfg->replay_capacity;
		x->rp.batch = cfg->replay_batch;
		x->rp.minibatches = cfg->replay_minibatches;
	}
	if (cfg->target_every) {
		if (shared) {
			x->target = shared;
		} else {
			err = dq__target_create(&x->target, ag->table,
						cfg->target_every,
						cfg->target_tau);
			if (err)
				return err;
			x->own_target = true;
		}
		ag->boot = dq__target_view(x->target);
	}
	return 0;
}

void
dq__ext_fini(dq_agent *ag)
{
	dq__ext *x = ag->ext;

	if (!x)
		return;
	if (x->own_target)
		dq__target_destroy(x->target);
	free(x->rp.buf);
	free(x->rp.tbuf);
	free(x->rp.tiles);
	free(x);
	ag->ext = NULL;
	ag->boot = ag->table;
}

/* A learner run starts: the target's clock restarts (the learner resets
 * the shared target itself). The ring keeps its transitions. */
void
dq__ext_run_start(dq_agent *ag)
{
	if (ag->ext) {
		ag->ext->clock = 0;
		if (ag->ext->target)
			ag->boot = dq__target_view(ag->ext->target);
	}
}

void
dq__replay_push(dq__replay *rp, uint32_t s, uint32_t a, double r, uint32_t s2,
		bool terminated)
{
	/* s' is not read on termination: stored as 0, whatever was passed */
	rp->buf[rp->head] = (dq__transition){s, a, terminated ? 0 : s2,
					     terminated ? 1u : 0u, r};
	rp->head = rp->head + 1 == rp->cap ? 0 : rp->head + 1;
	if (rp->count < rp->cap)
		rp->count++;
}

/* A uniform index into the stored transitions (count > 0). */
uint32_t
dq__replay_draw(const dq__replay *rp, dq_rng *rng)
{
	return dq_rng_below(rng, rp->count);
}

/*
 * The step with replay or a target (dq__agent_observe() calls it when
 * ag->ext is set): the fresh transition's step (dq__agent_observe_core(),
 * the window's countdown included), then, once it is counted: store it and
 * replay minibatches when the ring holds a batch; refresh the target when
 * due and take its current buffer. Replayed writes made after a window's
 * write-back belong to the next window (the overlay's buffers hold
 * 1 + replays_per_step steps' writes per step, agent.c). The act cache
 * (next_state) is dropped when a target is on (the fresh bootstrap
 * scanned the target's row, not the live one the next act wants) and
 * after replays (they may have changed that row). Returns 0, the step's
 * error (nothing else done when it was refused), or the first error of a
 * replayed write (DQ_ENONFINITE: nothing more replayed this step).
 */
int
dq__ext_observe(dq_agent *ag, uint32_t s, uint32_t a, double r, uint32_t s2,
		bool terminated, dq_mode mode, bool ovl, bool visits)
{
	dq__ext *x = ag->ext;
	dq__replay *rp = &x->rp;
	const uint64_t steps = ag->steps;
	int err = dq__agent_observe_core(ag, s, a, r, s2, terminated, ag->rule,
					 mode, ovl, visits, ag->softmax);

	if (ag->steps == steps)
		return err; /* refused: not counted, nothing more */
	if (x->target)
		ag->next_state = DQ__NO_STATE;
	if (rp->cap) {
		dq__replay_push(rp, s, a, r, s2, terminated);
		if (rp->count >= rp->batch) {
			const uint32_t n = rp->batch * rp->minibatches;

			for (uint32_t i = 0; i < n; i++) {
				const dq__transition *tr =
				    &rp->buf[dq__replay_draw(rp, &ag->rng)];
				int ret = dq__rule_observe(
				    ag, tr->s, tr->a, tr->r, tr->s2,
				    tr->terminated != 0, ag->rule, mode, ovl,
				    visits, ag->softmax);

				if (DQ__UNLIKELY(ret < 0)) {
					if (!err)
						err = ret;
					break;
				}
				ag->retries += (uint64_t)ret;
				x->replays++;
			}
			ag->next_state = DQ__NO_STATE;
		}
	}
	if (x->target)
		ag->boot = dq__ext_target_step(x, ag->table);
	return err;
}
