/*
 * Agents: configuration, schedules, statistics and the checked public
 * act/observe calls for simulators that own their loop. The learner embeds
 * the same struct and calls the same inline step (agent.h).
 */
#include <errno.h>
#include <stdlib.h>

#include "agent.h"
#include "replay.h"

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
	cfg->nstep = 3;
	cfg->lambda = 0.9;
	cfg->trace_max = 64;
	return 0;
}

dq_schedule
dq_schedule_constant(double value)
{
	dq_schedule s;

	memset(&s, 0, sizeof(s));
	s.kind = DQ_SCHEDULE_CONSTANT;
	s.start = s.end = value;
	s.steps = 1.0;
	return s;
}

static const char *const rule_names[] = {
    [DQ_RULE_Q] = "q",
    [DQ_RULE_SARSA] = "sarsa",
    [DQ_RULE_EXPECTED_SARSA] = "expected-sarsa",
    [DQ_RULE_DOUBLE_Q] = "double-q",
    [DQ_RULE_NSTEP_Q] = "nstep-q",
    [DQ_RULE_NSTEP_SARSA] = "nstep-sarsa",
    [DQ_RULE_Q_LAMBDA] = "q-lambda",
};
#define N_RULES (sizeof(rule_names) / sizeof(rule_names[0]))

int
dq_rule_from_name(const char *name, dq_rule *out)
{
	if (!name || !out)
		return -EINVAL;
	for (size_t i = 0; i < N_RULES; i++) {
		if (rule_names[i] && !strcmp(name, rule_names[i])) {
			*out = (dq_rule)i;
			return 0;
		}
	}
	return -ENOENT;
}

const char *
dq_rule_name(dq_rule rule)
{
	if ((unsigned)rule >= N_RULES)
		return NULL;
	return rule_names[rule];
}

int
dq_rule_channels(dq_rule rule, uint32_t *out)
{
	if (!out || !dq__rule_valid(rule))
		return -EINVAL;
	*out = dq__rule_channels(rule);
	return 0;
}

/* A schedule is valid when both ends lie in [lo, hi] (lo excluded when
 * open_lo) and its length is positive and finite; else -EINVAL with a
 * detail naming the field ("alpha.start 2 is outside (0, 1]"). */
static int
sched_check(const dq_schedule *s, const char *name, double lo, bool open_lo,
	    double hi)
{
	const double v[2] = {s->start, s->end};
	static const char *const end_name[2] = {"start", "end"};

	if (s->kind != DQ_SCHEDULE_CONSTANT && s->kind != DQ_SCHEDULE_LINEAR &&
	    s->kind != DQ_SCHEDULE_EXP) {
		dq__detail("%s.kind %d is no dq_schedule_kind", name,
			   (int)s->kind);
		return -EINVAL;
	}
	for (int i = 0; i < (s->kind == DQ_SCHEDULE_CONSTANT ? 1 : 2); i++) {
		if (!(v[i] >= lo && v[i] <= hi) || (open_lo && v[i] == lo)) {
			dq__detail("%s.%s %g is outside %c%g, %g]", name,
				   end_name[i], v[i], open_lo ? '(' : '[', lo,
				   hi);
			return -EINVAL;
		}
	}
	if (s->kind != DQ_SCHEDULE_CONSTANT &&
	    !(s->steps > 0.0 && isfinite(s->steps))) {
		dq__detail("%s.steps %g: must be > 0 and finite", name,
			   s->steps);
		return -EINVAL;
	}
	return 0;
}

/* -EINVAL with a detail "<what>: <why>" (formatted by the caller). */
#define AGENT_BAD(...) (dq__detail(__VA_ARGS__), -EINVAL)

int
dq_agent_config_check(const dq_agent_config *cfg)
{
	int err;

	dq__detail_clear();
	if (!cfg)
		return AGENT_BAD("the config is NULL");
	if ((err = DQ__RESERVED_CHECK(cfg, "")) != 0 ||
	    (err = DQ__RESERVED_CHECK(&cfg->alpha, "alpha.")) != 0 ||
	    (err = DQ__RESERVED_CHECK(&cfg->epsilon, "epsilon.")) != 0)
		return err;
	if (!(cfg->gamma >= 0.0 && cfg->gamma <= 1.0))
		return AGENT_BAD("gamma %g is outside [0, 1]", cfg->gamma);
	if (cfg->policy != DQ_POLICY_EGREEDY &&
	    cfg->policy != DQ_POLICY_SOFTMAX)
		return AGENT_BAD("policy %d is no dq_policy", (int)cfg->policy);
	/* Under softmax the epsilon schedule is the temperature. */
	if ((err = sched_check(&cfg->alpha, "alpha", 0.0, true, 1.0)) != 0 ||
	    (err = sched_check(&cfg->epsilon, "epsilon", 0.0, false,
			       cfg->policy == DQ_POLICY_SOFTMAX
				   ? DQ_TEMPERATURE_MAX
				   : 1.0)) != 0)
		return err;
	if (cfg->return_window == 0 || cfg->return_window > AGENT_MAX_WINDOW)
		return AGENT_BAD("return_window %u is outside [1, %u]",
				 cfg->return_window, AGENT_MAX_WINDOW);
	if (!dq__rule_valid(cfg->rule))
		return AGENT_BAD("rule %d is no dq_rule", (int)cfg->rule);
	if (cfg->omega != 0.0 && (!(cfg->omega > 0.5 && cfg->omega <= 1.0) ||
				  cfg->rule == DQ_RULE_Q_LAMBDA))
		return AGENT_BAD("omega %g: must be 0 or in (0.5, 1], and 0 "
				 "under q-lambda",
				 cfg->omega);
	if (cfg->nstep > DQ_NSTEP_MAX ||
	    (!cfg->nstep && (cfg->rule == DQ_RULE_NSTEP_Q ||
			     cfg->rule == DQ_RULE_NSTEP_SARSA)))
		return AGENT_BAD("nstep %u is outside [1, %u]", cfg->nstep,
				 DQ_NSTEP_MAX);
	if (!(cfg->lambda >= 0.0 && cfg->lambda <= 1.0))
		return AGENT_BAD("lambda %g is outside [0, 1]", cfg->lambda);
	if (cfg->trace != DQ_TRACE_ACCUMULATING &&
	    cfg->trace != DQ_TRACE_REPLACING)
		return AGENT_BAD("trace %d is no dq_trace", (int)cfg->trace);
	if (cfg->trace_max > DQ_TRACE_MAX_CAP ||
	    (!cfg->trace_max && cfg->rule == DQ_RULE_Q_LAMBDA))
		return AGENT_BAD("trace_max %u is outside [1, %u]",
				 cfg->trace_max, DQ_TRACE_MAX_CAP);
	if (cfg->clock_step == 0)
		return AGENT_BAD("clock_step 0: must be >= 1");
	if (cfg->stream > (1u << 20))
		return AGENT_BAD("stream %u is over %u", cfg->stream, 1u << 20);
	if (cfg->sync_every > (1u << 30))
		return AGENT_BAD("sync_every %u is over %u", cfg->sync_every,
				 1u << 30);
	return dq__replay_check(cfg, 1);
}

/*
 * Buffers for windows of up to max_window steps, for the rule's writes per
 * step (store.h). Returns 0, DQ_ERULE for a rule whose writes per step
 * are not bounded, -ERANGE for a table too large to replicate, or -ENOMEM
 * (the buffers are then released by dq__agent_fini()).
 */
static int
agent_overlay_init(dq_agent *ag, uint32_t max_window)
{
	uint32_t writes = dq__rule_writes(ag->rule, ag->nstep);

	if (!writes)
		return DQ_ERULE;
	/* replayed transitions write through the overlay too */
	writes *= 1 + ag->replays_per_step;
	return dq__overlay_init(&ag->replica, ag->table, max_window, writes);
}

/*
 * Hold overlay buffers for windows of up to max_window steps while the
 * agent still updates directly (the learner's automatic write path).
 * Returns 0 or an error of agent_overlay_init().
 */
int
dq__agent_reserve(dq_agent *ag, uint32_t max_window)
{
	if (ag->replica.row_slot || !max_window)
		return 0;
	return agent_overlay_init(ag, max_window);
}

/* Switch the agent's write path (dq__overlay_set_window()). */
int
dq__agent_set_window(dq_agent *ag, uint32_t window)
{
	return dq__overlay_set_window(&ag->replica, ag->table, window,
				      &ag->retries);
}

/* Write the window back (dq__overlay_sync()); the CAS retries go to the
 * agent's counter. */
int
dq__agent_sync(dq_agent *ag)
{
	return dq__overlay_sync(&ag->replica, ag->table, &ag->retries);
}

int
dq__agent_init(dq_agent *ag, dq_table *t, const dq_agent_config *cfg)
{
	int err;

	memset(ag, 0, sizeof(*ag));
	if (t->channels < dq__rule_channels(cfg->rule) ||
	    (cfg->omega > 0.0 && !t->visit_counts))
		return DQ_ERULE;
	err = dq_rng_seed(&ag->rng, cfg->seed, cfg->stream);
	if (err)
		return err;
	ag->returns = calloc(cfg->return_window, sizeof(double));
	if (!ag->returns)
		return -ENOMEM;
	ag->table = t;
	ag->boot = t;
	ag->replays_per_step = dq__replay_writes_factor(cfg) - 1;
	ag->n_actions = t->n_actions;
	ag->gamma = cfg->gamma;
	ag->omega = cfg->omega;
	ag->rule = cfg->rule;
	ag->random_ties = cfg->random_ties;
	ag->tie_rng = ag->random_ties ? &ag->rng : NULL;
	ag->next_state = DQ__NO_STATE;
	ag->k = cfg->return_window;
	ag->softmax = cfg->policy == DQ_POLICY_SOFTMAX;
	ag->replacing = cfg->trace == DQ_TRACE_REPLACING;
	ag->nstep = cfg->nstep;
	ag->gl = cfg->gamma * cfg->lambda;
	if (cfg->rule == DQ_RULE_NSTEP_Q || cfg->rule == DQ_RULE_NSTEP_SARSA)
		ag->pend_cap = cfg->nstep;
	else if (cfg->rule == DQ_RULE_Q_LAMBDA)
		ag->pend_cap = cfg->trace_max;
	if (ag->pend_cap) {
		ag->pend = calloc(ag->pend_cap, sizeof(*ag->pend));
		if (!ag->pend) {
			dq__agent_fini(ag);
			return -ENOMEM;
		}
	}
	dq__sched_init(&ag->alpha, &cfg->alpha, cfg->clock_step);
	dq__sched_init(&ag->epsilon, &cfg->epsilon, cfg->clock_step);
	ag->scheduled = cfg->alpha.kind != DQ_SCHEDULE_CONSTANT ||
			cfg->epsilon.kind != DQ_SCHEDULE_CONSTANT;
	err = dq__tagent_init(ag, cfg);
	if (err) {
		dq__agent_fini(ag);
		return err;
	}
	if (cfg->sync_every) {
		err = agent_overlay_init(ag, cfg->sync_every);
		if (err) {
			dq__agent_fini(ag);
			return err;
		}
		ag->replica.sync_every = cfg->sync_every;
		ag->replica.sync_left = cfg->sync_every;
	}
	return 0;
}

void
dq__agent_fini(dq_agent *ag)
{
	free(ag->returns);
	ag->returns = NULL;
	free(ag->pend);
	ag->pend = NULL;
	dq__overlay_fini(&ag->replica);
	dq__share_destroy(ag->share);
	ag->share = NULL;
	dq__tagent_fini(ag);
	dq__ext_fini(ag);
}

/*
 * What the rule still holds of an episode that ends without a
 * termination (a terminated transition leaves nothing) (truncation, a reset, a learner's run stopping): the n-step
 * rules write their pending updates bootstrapping from the last s'
 * (rule.h), Q(lambda) drops its traces. Out of the loop: once per episode,
 * with the agent's own discipline and write path. Returns 0 (the CAS
 * retries go to the agent's counter), or the first write's error (the
 * pending updates are dropped all the same).
 */
int
dq__agent_flush(dq_agent *ag)
{
	const dq_mode mode = ag->table->mode;
	const bool ovl = dq__agent_replica(ag);
	int r;

	if (DQ__LIKELY(!ag->pend_n))
		return 0;
	if (ag->rule == DQ_RULE_Q_LAMBDA) {
		ag->pend_n = 0;
		return 0;
	}
	if (ag->tg) /* over tiles (lib/tiles.c) */
		r = dq__tagent_flush(ag);
	else
		r = dq__rule_nstep_flush(ag, true,
					 ag->rule == DQ_RULE_NSTEP_SARSA, mode,
					 ovl, ag->omega > 0.0);
	if (r < 0)
		return r;
	ag->retries += (uint64_t)r;
	return 0;
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
	/* DistQL's epsilon decays per episode (share.h) */
	if (DQ__UNLIKELY(ag->eps_decay > 0.0))
		ag->epsilon.value = ag->epsilon.def.start *
				    pow(ag->eps_decay, (double)ag->episodes);
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

	dq__detail_clear();
	if (!out || !table)
		return AGENT_BAD("out and table must not be NULL");
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
	if (!err) {
		/* its own replay ring and target table, when configured */
		err = dq__ext_init(ag, cfg, NULL);
		if (err)
			dq__agent_fini(ag);
	}
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
	if (!agent || !action || agent->tg)
		return -EINVAL; /* a tile-coded agent: dq_agent_act_obs() */
	if (state >= agent->table->n_states) {
		dq__detail("state %u: the table has %u states", state,
			   agent->table->n_states);
		return -ERANGE;
	}
	*action = dq__agent_act(agent, state, agent->rule,
				dq__agent_replica(agent), agent->softmax);
	return 0;
}

int
dq_agent_observe(dq_agent *agent, uint32_t s, uint32_t a, double reward,
		 uint32_t next_state, bool terminated)
{
	uint64_t steps;
	int ret;

	if (!agent || agent->tg)
		return -EINVAL; /* a tile-coded agent: dq_agent_observe_obs() */
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
				agent->rule, agent->table->mode,
				dq__agent_replica(agent), agent->omega > 0.0,
				agent->softmax);
	if (terminated && agent->steps != steps)
		dq__agent_episode_end(agent);
	return ret;
}

int
dq_agent_act_batch(dq_agent *agent, const uint32_t *states, uint32_t *actions,
		   size_t n)
{
	bool replica;

	if (!agent || (n && (!states || !actions)) || agent->tg)
		return -EINVAL;
	for (size_t i = 0; i < n; i++)
		if (states[i] >= agent->table->n_states)
			return -ERANGE;
	replica = dq__agent_replica(agent);
	for (size_t i = 0; i < n; i++)
		actions[i] = dq__agent_act(agent, states[i], agent->rule,
					   replica, agent->softmax);
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
	if (!agent || agent->tg ||
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
					agent->rule, mode, replica,
					agent->omega > 0.0, agent->softmax);
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
	int err;

	if (!agent)
		return -EINVAL;
	err = dq__agent_flush(agent);
	dq__agent_episode_end(agent);
	return err;
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
