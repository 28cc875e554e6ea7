/*
 * Agents: configuration, schedules, statistics and the checked public
 * act/observe calls for simulators that own their loop. The learner embeds
 * the same struct and calls the same inline step (agent.h).
 */
#include <errno.h>
#include <stdlib.h>

#include "agent.h"

#define AGENT_MAX_WINDOW (1u << 20)

int
dq_agent_config_init(dq_agent_config *cfg)
{
	if (!cfg)
		return -EINVAL;
	memset(cfg, 0, sizeof(*cfg));
	cfg->gamma = 0.95;
	cfg->alpha = (dq_schedule){.kind = DQ_SCHEDULE_CONSTANT,
				   .start = 0.1,
				   .end = 0.1,
				   .steps = 1.0};
	cfg->epsilon = (dq_schedule){.kind = DQ_SCHEDULE_CONSTANT,
				     .start = 0.1,
				     .end = 0.1,
				     .steps = 1.0};
	cfg->seed = 1;
	cfg->stream = 0;
	cfg->clock_step = 1;
	cfg->return_window = 100;
	cfg->random_ties = true;
	return 0;
}

/* A schedule is valid when both ends lie in [lo, hi] (lo excluded when
 * open_lo) and its length is positive and finite. */
static bool
sched_valid(const dq_schedule *s, double lo, bool open_lo, double hi)
{
	const double v[2] = {s->start, s->end};

	if (s->kind != DQ_SCHEDULE_CONSTANT && s->kind != DQ_SCHEDULE_LINEAR &&
	    s->kind != DQ_SCHEDULE_EXP)
		return false;
	for (int i = 0; i < (s->kind == DQ_SCHEDULE_CONSTANT ? 1 : 2); i++) {
		if (!(v[i] >= lo && v[i] <= hi) || (open_lo && v[i] == lo))
			return false;
	}
	if (s->kind != DQ_SCHEDULE_CONSTANT &&
	    !(s->steps > 0.0 && isfinite(s->steps)))
		return false;
	return true;
}

int
dq_agent_config_check(const dq_agent_config *cfg)
{
	if (!cfg || !DQ__RESERVED_ZERO(cfg) ||
	    !DQ__RESERVED_ZERO(&cfg->alpha) ||
	    !DQ__RESERVED_ZERO(&cfg->epsilon))
		return -EINVAL;
	if (!(cfg->gamma >= 0.0 && cfg->gamma <= 1.0))
		return -EINVAL;
	if (!sched_valid(&cfg->alpha, 0.0, true, 1.0) ||
	    !sched_valid(&cfg->epsilon, 0.0, false, 1.0))
		return -EINVAL;
	if (cfg->return_window == 0 || cfg->return_window > AGENT_MAX_WINDOW)
		return -EINVAL;
	if (cfg->clock_step == 0 || cfg->stream > (1u << 20) ||
	    cfg->sync_every > (1u << 30))
		return -EINVAL;
	return 0;
}

void
dq__sched_init(dq__sched *sc, const dq_schedule *def, uint32_t stride)
{
	sc->def = *def;
	sc->stride = stride;
	dq__sched_seek(sc, 0.0);
}

/*
 * Put a schedule at schedule-time `clock` using the closed form, and derive
 * the per-step increment from the stride.
 */
void
dq__sched_seek(dq__sched *sc, double clock)
{
	const dq_schedule *d = &sc->def;

	sc->clock = clock;
	switch (d->kind) {
	case DQ_SCHEDULE_LINEAR:
		sc->inc = (d->end - d->start) / d->steps * sc->stride;
		sc->value =
		    clock >= d->steps
			? d->end
			: d->start + (d->end - d->start) * (clock / d->steps);
		break;
	case DQ_SCHEDULE_EXP:
		sc->inc = exp(-sc->stride / d->steps);
		sc->value =
		    d->end + (d->start - d->end) * exp(-clock / d->steps);
		break;
	default:
		sc->inc = 0.0;
		sc->value = d->start;
		break;
	}
}

/*
 * Replica mode: the row index and room for min(S, max_window) pending rows
 * (each step writes one entry, and a sync empties them every window of at
 * most max_window steps).
 */
static int
agent_replica_init(dq_agent *ag, const dq_table *t, uint32_t max_window)
{
	size_t n = (size_t)t->n_states * t->n_actions;
	size_t rows = t->n_states < max_window ? t->n_states : max_window;

	if (n > DQ_REPLICA_MAX_ENTRIES)
		return -ERANGE;
	ag->row_slot = calloc(t->n_states, sizeof(uint32_t));
	ag->pend_row = malloc(rows * sizeof(uint32_t));
	ag->pend_val = malloc(rows * t->n_actions * sizeof(double));
	ag->pend_base = malloc(rows * t->n_actions * sizeof(double));
	ag->pend_keep = malloc(rows * t->n_actions * sizeof(double));
	if (!ag->row_slot || !ag->pend_row || !ag->pend_val || !ag->pend_base ||
	    !ag->pend_keep)
		return -ENOMEM;
	ag->max_window = max_window;
	return 0;
}

/*
 * Hold replica buffers for windows of up to max_window steps while the
 * agent still updates directly (the learner's automatic write path).
 * Returns 0, -ERANGE for a table too large to replicate, or -ENOMEM (the
 * buffers are then released by dq__agent_fini()).
 */
int
dq__agent_reserve(dq_agent *ag, uint32_t max_window)
{
	if (ag->row_slot || !max_window)
		return 0;
	return agent_replica_init(ag, ag->table, max_window);
}

/*
 * Switch the agent's write path: window > 0 opens windows of that many
 * steps (at most max_window), 0 returns to direct updates after writing
 * the open window back. An open window keeps the steps it has run: one
 * already longer than the new length ends at the next write. Returns 0,
 * or the write-back's error (dq__agent_sync()).
 */
int
dq__agent_set_window(dq_agent *ag, uint32_t window)
{
	uint32_t ran;
	int err;

	if (window > ag->max_window)
		window = ag->max_window;
	if (window == ag->sync_every)
		return 0;
	if (!window) {
		err = dq__agent_sync(ag);
		ag->sync_every = 0;
		return err;
	}
	ran = ag->sync_every ? ag->sync_every - ag->sync_left : 0;
	ag->sync_every = window;
	ag->sync_left = window > ran ? window - ran : 1;
	return 0;
}

/* Row s becomes pending: copied from the table (relaxed loads: per-entry
 * values, section 3 of docs/memory-model.md). Returns where it starts in
 * pend_val, plus one. */
uint32_t
dq__agent_pend_row(dq_agent *ag, uint32_t s)
{
	const uint32_t n = ag->n_actions;
	const uint32_t k = ag->n_pend++;
	const dq__atomic_u64 *row = dq__table_row(ag->table, s);
	const size_t off = (size_t)k * n;

	for (uint32_t a = 0; a < n; a++) {
		/* relaxed: a per-entry value, as any agent read */
		double v = dq__u2d(dq__load_u64(row + a, memory_order_relaxed));

		ag->pend_val[off + a] = v;
		ag->pend_base[off + a] = v;
		ag->pend_keep[off + a] = 1.0;
	}
	ag->pend_row[k] = s;
	ag->row_slot[s] = (uint32_t)off + 1;
	return (uint32_t)off + 1;
}

/*
 * Write the window back: every entry the agent updated goes to the table as
 * one dq__merge_value() under the table's discipline (in cas mode none is
 * lost), and the rows are released, so the agent reads the table's values
 * again, others' updates included. The CAS retries go to the agent's
 * counter. Returns 0, or DQ_ENONFINITE when the merge of some entry would
 * not be finite: that entry is left as it is, the others are written back.
 */
int
dq__agent_sync(dq_agent *ag)
{
	const uint32_t n = ag->n_actions;
	int err = 0;

	if (!ag->row_slot)
		return 0;
	for (uint32_t k = 0; k < ag->n_pend; k++) {
		const uint32_t s = ag->pend_row[k];
		const size_t off = (size_t)k * n;

		for (uint32_t a = 0; a < n; a++) {
			const double b = ag->pend_base[off + a];
			const double l = ag->pend_val[off + a];
			const double keep = ag->pend_keep[off + a];
			uint64_t cur;
			int r;

			/* Not updated in the window: keep stays exactly 1 and
			 * the value on its bits. (So do updates with alphas
			 * below half an ulp of 1 that left the value; their
			 * merge would store nothing.) Every other entry is
			 * merged, also one whose value ended on the bits it
			 * started from: its updates still pull towards their
			 * targets, and when another agent moved the entry
			 * meanwhile that pull is replayed onto the other's
			 * value. When nobody did, the merge gives the stored
			 * bits and the table skips the write. */
			if (keep == 1.0 && dq__d2u(l) == dq__d2u(b))
				continue;
			/* relaxed: only counted (did another agent move
			 * it?); the merge below re-reads the entry under the
			 * discipline */
			cur = dq__load_u64(dq__table_row(ag->table, s) + a,
					   memory_order_relaxed);
			ag->moved += cur != dq__d2u(b);
			ag->merges++;
			r = dq__table_apply(ag->table, s, a,
					    (dq__op){DQ__OP_MERGE, b, l, keep});
			if (r < 0)
				err = r; /* the entry keeps its value */
			else
				ag->retries += (uint64_t)r;
		}
		ag->row_slot[s] = 0;
	}
	ag->n_pend = 0;
	ag->sync_left = ag->sync_every;
	return err;
}

int
dq__agent_init(dq_agent *ag, dq_table *t, const dq_agent_config *cfg)
{
	int err;

	memset(ag, 0, sizeof(*ag));
	err = dq_rng_seed(&ag->rng, cfg->seed, cfg->stream);
	if (err)
		return err;
	ag->returns = calloc(cfg->return_window, sizeof(double));
	if (!ag->returns)
		return -ENOMEM;
	ag->table = t;
	ag->n_actions = t->n_actions;
	ag->gamma = cfg->gamma;
	ag->random_ties = cfg->random_ties;
	ag->tie_rng = ag->random_ties ? &ag->rng : NULL;
	ag->next_state = DQ__NO_STATE;
	ag->k = cfg->return_window;
	dq__sched_init(&ag->alpha, &cfg->alpha, cfg->clock_step);
	dq__sched_init(&ag->epsilon, &cfg->epsilon, cfg->clock_step);
	ag->scheduled = cfg->alpha.kind != DQ_SCHEDULE_CONSTANT ||
			cfg->epsilon.kind != DQ_SCHEDULE_CONSTANT;
	if (cfg->sync_every) {
		err = agent_replica_init(ag, t, cfg->sync_every);
		if (err) {
			dq__agent_fini(ag);
			return err;
		}
		ag->sync_every = cfg->sync_every;
		ag->sync_left = cfg->sync_every;
	}
	return 0;
}

void
dq__agent_fini(dq_agent *ag)
{
	free(ag->returns);
	free(ag->row_slot);
	free(ag->pend_row);
	free(ag->pend_val);
	free(ag->pend_base);
	free(ag->pend_keep);
	ag->returns = NULL;
	ag->row_slot = NULL;
	ag->pend_row = NULL;
	ag->pend_val = NULL;
	ag->pend_base = NULL;
	ag->pend_keep = NULL;
	ag->sync_every = 0;
	ag->max_window = 0;
}

void
dq__agent_episode_end(dq_agent *ag)
{
	if (ag->steps == ag->ep_start)
		return;
	ag->returns[ag->ret_head] = ag->ep_return;
	ag->ret_head = ag->ret_head + 1 == ag->k ? 0 : ag->ret_head + 1;
	if (ag->ret_count < ag->k)
		ag->ret_count++;
	ag->episodes++;
	ag->ep_return = 0.0;
	ag->ep_start = ag->steps;
}

/* The mean is summed afresh from the ring: no drift from a running sum. */
void
dq__agent_stats(const dq_agent *ag, dq_stats *out)
{
	double sum = 0.0;

	memset(out, 0, sizeof(*out));
	out->steps = ag->steps;
	out->episodes = ag->episodes;
	out->cas_retries = ag->retries;
	out->returns_n = ag->ret_count;
	for (uint32_t i = 0; i < ag->ret_count; i++)
		sum += ag->returns[i];
	out->mean_return = ag->ret_count ? sum / ag->ret_count : NAN;
	out->epsilon = ag->epsilon.value;
	out->alpha = ag->alpha.value;
}

int
dq_agent_create(dq_agent **out, dq_table *table, const dq_agent_config *cfg)
{
	dq_agent *ag;
	size_t size;
	int err;

	if (!out || !table)
		return -EINVAL;
	err = dq_agent_config_check(cfg);
	if (err)
		return err;
	/* Own cache lines: agents of different threads never share one. */
	size = (sizeof(*ag) + DQ__CACHE_LINE - 1) / DQ__CACHE_LINE *
	       DQ__CACHE_LINE;
	ag = aligned_alloc(DQ__CACHE_LINE, size);
	if (!ag)
		return -ENOMEM;
	err = dq__agent_init(ag, table, cfg);
	if (err) {
		free(ag);
		return err;
	}
	*out = ag;
	return 0;
}

void
dq_agent_destroy(dq_agent *agent)
{
	if (!agent)
		return;
	dq__agent_fini(agent);
	free(agent);
}

int
dq_agent_act(dq_agent *agent, uint32_t state, uint32_t *action)
{
	if (!agent || !action)
		return -EINVAL;
	if (state >= agent->table->n_states) {
		dq__detail("state %u: the table has %u states", state,
			   agent->table->n_states);
		return -ERANGE;
	}
	*action = dq__agent_act(agent, state, dq__agent_replica(agent));
	return 0;
}

int
dq_agent_observe(dq_agent *agent, uint32_t s, uint32_t a, double reward,
		 uint32_t next_state, bool terminated)
{
	uint64_t steps;
	int ret;

	if (!agent)
		return -EINVAL;
	if (!isfinite(reward)) {
		dq__detail("reward %g is not finite (an environment error)",
			   reward);
		return -EINVAL;
	}
	/* s' is not read when the transition terminated: any value, such
	 * as a simulator's sentinel, is accepted there. */
	if (s >= agent->table->n_states || a >= agent->n_actions ||
	    (!terminated && next_state >= agent->table->n_states)) {
		dq__detail("s %u, a %u, s' %u: the table has %u states and %u "
			   "actions",
			   s, a, next_state, agent->table->n_states,
			   agent->n_actions);
		return -ERANGE;
	}
	/* 0 or an error: the retries are counted in the agent's statistics.
	 * A step refused before it was counted ends no episode. */
	steps = agent->steps;
	ret = dq__agent_observe(agent, s, a, reward, next_state, terminated,
				agent->table->mode, dq__agent_replica(agent));
	if (terminated && agent->steps != steps)
		dq__agent_episode_end(agent);
	return ret;
}

int
dq_agent_act_batch(dq_agent *agent, const uint32_t *states, uint32_t *actions,
		   size_t n)
{
	bool replica;

	if (!agent || (n && (!states || !actions)))
		return -EINVAL;
	for (size_t i = 0; i < n; i++)
		if (states[i] >= agent->table->n_states)
			return -ERANGE;
	replica = dq__agent_replica(agent);
	for (size_t i = 0; i < n; i++)
		actions[i] = dq__agent_act(agent, states[i], replica);
	return 0;
}

int
dq_agent_observe_batch(dq_agent *agent, const uint32_t *s, const uint32_t *a,
		       const double *rewards, const uint32_t *next_states,
		       const uint8_t *terminated, size_t n, size_t *done)
{
	uint32_t n_states, n_actions;
	dq_mode mode;
	bool replica;
	int ret = 0;
	size_t i;

	if (done)
		*done = 0;
	if (!agent ||
	    (n && (!s || !a || !rewards || !next_states || !terminated)))
		return -EINVAL;
	n_states = agent->table->n_states;
	n_actions = agent->n_actions;
	for (i = 0; i < n; i++) {
		if (!isfinite(rewards[i])) {
			dq__detail("rewards[%zu] %g is not finite (an "
				   "environment error)",
				   i, rewards[i]);
			return -EINVAL;
		}
		/* s' is not read on termination, as in dq_agent_observe() */
		if (s[i] >= n_states || a[i] >= n_actions ||
		    (!terminated[i] && next_states[i] >= n_states)) {
			dq__detail("transition %zu (s %u, a %u, s' %u): the "
				   "table has %u states and %u actions",
				   i, s[i], a[i], next_states[i], n_states,
				   n_actions);
			return -ERANGE;
		}
	}
	mode = agent->table->mode;
	replica = dq__agent_replica(agent);
	for (i = 0; i < n; i++) {
		uint64_t steps = agent->steps;
		bool counted;

		ret = dq__agent_observe(agent, s[i], a[i], rewards[i],
					next_states[i], terminated[i] != 0,
					mode, replica);
		/* As dq_agent_observe(): a step refused before it was
		 * counted ends no episode. */
		counted = agent->steps != steps;
		if (terminated[i] && counted)
			dq__agent_episode_end(agent);
		if (ret) {
			/* Replica mode: a refused write-back at a sync
			 * comes after its transition was observed. */
			i += counted;
			break;
		}
	}
	if (done)
		*done = i;
	return ret;
}

int
dq_agent_sync(dq_agent *agent)
{
	if (!agent)
		return -EINVAL;
	return dq__agent_sync(agent);
}

int
dq_agent_episode_end(dq_agent *agent)
{
	if (!agent)
		return -EINVAL;
	dq__agent_episode_end(agent);
	return 0;
}

int
dq_agent_stats_get(const dq_agent *agent, dq_stats *out)
{
	if (!agent || !out)
		return -EINVAL;
	dq__agent_stats(agent, out);
	return 0;
}

int
dq_agent_rng(dq_agent *agent, dq_rng **rng)
{
	if (!agent || !rng)
		return -EINVAL;
	*rng = &agent->rng;
	return 0;
}
