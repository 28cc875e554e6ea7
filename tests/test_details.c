/* tests/test_details.c - every -EINVAL of the config checks records a
 * dq_error_detail() naming the field and the rule it breaks (item 3 of the
 * new-user trial, 2026-11-30). Table-driven: each row breaks one field of a
 * valid config and names a word the detail must hold. */
#include <errno.h>
#include <math.h>
#include <string.h>

#include "dq_test.h"

enum target { LEARNER, AGENT, TABLE, SHARE, TILES };

struct row {
	enum target target;
	const char *field; /* what the detail must name */
	const char *rule;  /* and a word of the rule (NULL: none checked) */
	void (*breaks)(dq_learner_config *l, dq_table_config *t,
		       dq_share_config *s, dq_tiles_config *c);
};

#define BREAK(name, body)                                          \
	static void name(dq_learner_config *l, dq_table_config *t, \
			 dq_share_config *s, dq_tiles_config *c)   \
	{                                                          \
		(void)l;                                           \
		(void)t;                                           \
		(void)s;                                           \
		(void)c;                                           \
		body;                                              \
	}

BREAK(alpha_2, l->agent.alpha.start = 2.0)
BREAK(alpha_0, l->agent.alpha.start = 0.0)
BREAK(alpha_end,
      (l->agent.alpha.kind = DQ_SCHEDULE_LINEAR, l->agent.alpha.end = -1.0))
BREAK(alpha_steps,
      (l->agent.alpha.kind = DQ_SCHEDULE_LINEAR, l->agent.alpha.steps = 0.0))
BREAK(alpha_kind, l->agent.alpha.kind = (dq_schedule_kind)7)
BREAK(alpha_res, l->agent.alpha.reserved_[1] = 1)
BREAK(eps_2, l->agent.epsilon.start = 2.0)
BREAK(gamma_neg, l->agent.gamma = -1.0)
BREAK(gamma_nan, l->agent.gamma = NAN)
BREAK(window_0, l->agent.return_window = 0)
BREAK(rule_bad, l->agent.rule = (dq_rule)99)
BREAK(omega_bad, l->agent.omega = 0.3)
BREAK(nstep_big, l->agent.nstep = DQ_NSTEP_MAX + 1)
BREAK(lambda_bad, l->agent.lambda = 1.5)
BREAK(trace_bad, l->agent.trace = (dq_trace)9)
BREAK(trace_max_big, l->agent.trace_max = DQ_TRACE_MAX_CAP + 1)
BREAK(clock_0, l->agent.clock_step = 0)
BREAK(stream_big, l->agent.stream = (1u << 20) + 1)
BREAK(sync_big, l->agent.sync_every = (1u << 30) + 1)
BREAK(policy_bad, l->agent.policy = (dq_policy)5)
BREAK(agent_res, l->agent.reserved_[2] = 1)
BREAK(threads_0, l->n_threads = 0)
BREAK(threads_big, l->n_threads = DQ_MAX_THREADS + 1)
BREAK(learner_res, l->reserved_[2] = 7)
BREAK(max_seconds, l->max_seconds = -1.0)
BREAK(progress, l->progress_interval = 0.0)
BREAK(target_frac, l->target_fraction = 1.5)
BREAK(target_int, l->target_interval = 0.0)
BREAK(no_stop, l->max_steps = 0)
BREAK(pin_bad, l->pin = (dq_pin_policy)9)
BREAK(pin_list, l->pin = DQ_PIN_LIST)
BREAK(write_path, l->write_path = (dq_write_path)9)
BREAK(direct_sync, (l->write_path = DQ_WRITE_DIRECT, l->agent.sync_every = 8))
BREAK(eval_every, l->eval_every = -1.0)
BREAK(eval_unit, (l->eval_every = 1.0, l->eval_unit = (dq_eval_unit)9))
BREAK(target_ret, (l->eval_every = 1.0, l->target_return = INFINITY))
BREAK(target_ret0, l->target_return = 5.0)
BREAK(eval_eps, (l->eval_every = 1.0, l->eval_episodes = 0))
BREAK(share_eta,
      (dq_share_config_init(&l->share, DQ_SHARE_AVERAGE), l->share.eta = 2.0))
BREAK(share_sync, (dq_share_config_init(&l->share, DQ_SHARE_AVERAGE),
		   l->agent.sync_every = 4))
BREAK(replay_batch, l->agent.replay_batch = 4)
BREAK(shape_states, t->n_states = 16)
BREAK(shape_actions, t->n_actions = 3)
BREAK(a_gamma, l->agent.gamma = 2.0)
BREAK(a_res, l->agent.reserved_[0] = 1)
BREAK(t_states_0, t->n_states = 0)
BREAK(t_mode, t->mode = (dq_mode)9)
BREAK(t_q0, t->q0 = INFINITY)
BREAK(t_stripes, t->n_stripes = (1u << 16) + 1)
BREAK(t_channels, t->channels = DQ_TABLE_MAX_CHANNELS + 1)
BREAK(t_res, t->reserved_[1] = 1)
BREAK(s_tau, (dq_share_config_init(s, DQ_SHARE_DISTQL), s->interval = 0))
BREAK(s_eta, (dq_share_config_init(s, DQ_SHARE_DISTQL), s->eta = 0.0))
BREAK(s_decay, (dq_share_config_init(s, DQ_SHARE_DISTQL), s->decay = 2.0))
BREAK(s_flags, (dq_share_config_init(s, DQ_SHARE_DISTQL), s->flags = 1u << 30))
BREAK(s_kind, s->kind = (dq_share_kind)9)
BREAK(s_steps, (dq_share_config_init(s, DQ_SHARE_AVERAGE), s->interval = 0.5))
BREAK(c_tilings, c->n_tilings = 0)
BREAK(c_dim, c->dim = 0)
BREAK(c_bins, c->bins[1] = 0)
BREAK(c_range, c->low[0] = c->high[0])
BREAK(c_res, c->reserved_[0] = 1)

static const struct row rows[] = {
    {LEARNER, "agent.alpha.start 2", "(0, 1]", alpha_2},
    {LEARNER, "agent.alpha.start 0", "(0, 1]", alpha_0},
    {LEARNER, "agent.alpha.end -1", "(0, 1]", alpha_end},
    {LEARNER, "agent.alpha.steps 0", "> 0", alpha_steps},
    {LEARNER, "agent.alpha.kind 7", NULL, alpha_kind},
    {LEARNER, "agent.alpha.reserved_[1]", "not zero", alpha_res},
    {LEARNER, "agent.epsilon.start 2", "[0, 1]", eps_2},
    {LEARNER, "agent.gamma -1", "[0, 1]", gamma_neg},
    {LEARNER, "agent.gamma nan", "[0, 1]", gamma_nan},
    {LEARNER, "agent.return_window 0", "[1,", window_0},
    {LEARNER, "agent.rule 99", NULL, rule_bad},
    {LEARNER, "agent.omega 0.3", "(0.5, 1]", omega_bad},
    {LEARNER, "agent.nstep 1025", "[1, 1024]", nstep_big},
    {LEARNER, "agent.lambda 1.5", "[0, 1]", lambda_bad},
    {LEARNER, "agent.trace 9", NULL, trace_bad},
    {LEARNER, "agent.trace_max 65537", "[1, 65536]", trace_max_big},
    {LEARNER, "agent.clock_step 0", ">= 1", clock_0},
    {LEARNER, "agent.stream", "over", stream_big},
    {LEARNER, "agent.sync_every", "over", sync_big},
    {LEARNER, "agent.policy 5", NULL, policy_bad},
    {LEARNER, "agent.reserved_[2]", "not zero", agent_res},
    {LEARNER, "n_threads 0", "[1, 4096]", threads_0},
    {LEARNER, "n_threads 4097", "[1, 4096]", threads_big},
    {LEARNER, "reserved_[2]", "not zero", learner_res},
    {LEARNER, "max_seconds -1", ">= 0", max_seconds},
    {LEARNER, "progress_interval 0", "> 0", progress},
    {LEARNER, "target_fraction 1.5", "[0, 1]", target_frac},
    {LEARNER, "target_interval 0", "> 0", target_int},
    {LEARNER, "no stop condition", "max_steps", no_stop},
    {LEARNER, "pin 9", NULL, pin_bad},
    {LEARNER, "DQ_PIN_LIST", "pin_pus", pin_list},
    {LEARNER, "write_path 9", NULL, write_path},
    {LEARNER, "DQ_WRITE_DIRECT", "sync_every 8", direct_sync},
    {LEARNER, "eval_every -1", ">= 0", eval_every},
    {LEARNER, "eval_unit 9", NULL, eval_unit},
    {LEARNER, "target_return inf", "finite", target_ret},
    {LEARNER, "target_return 5", "eval_every is 0", target_ret0},
    {LEARNER, "eval_episodes 0", "[1,", eval_eps},
    {LEARNER, "share.eta 2", "(0, 1]", share_eta},
    {LEARNER, "agent.sync_every (4)", "sync policy", share_sync},
    {LEARNER, "replay: a batch", "capacity", replay_batch},
    {LEARNER, "env has 500 states, the table 16", NULL, shape_states},
    {LEARNER, "env has 6 actions, the table 3", NULL, shape_actions},
    {AGENT, "gamma 2", "[0, 1]", a_gamma},
    {AGENT, "reserved_[0]", "not zero", a_res},
    {TABLE, "n_states 0", ">= 1", t_states_0},
    {TABLE, "mode 9", NULL, t_mode},
    {TABLE, "q0 inf", "finite", t_q0},
    {TABLE, "n_stripes 65537", "over", t_stripes},
    {TABLE, "channels 5", "over 4", t_channels},
    {TABLE, "reserved_[1]", "not zero", t_res},
    {SHARE, "interval (tau) 0", ">= 1", s_tau},
    {SHARE, "eta 0", "(0, 1]", s_eta},
    {SHARE, "decay 2", "(0, 1]", s_decay},
    {SHARE, "flags 0x40000000", "unknown", s_flags},
    {SHARE, "kind 9", NULL, s_kind},
    {SHARE, "interval 0.5", "whole number of steps", s_steps},
    {TILES, "n_tilings 0", "[1,", c_tilings},
    {TILES, "dim 0", "[1,", c_dim},
    {TILES, "bins[1] 0", "[1,", c_bins},
    {TILES, "low[0]", "low < high", c_range},
    {TILES, "reserved_[0]", "not zero", c_res},
};

static void
valid_configs(dq_learner_config *l, dq_table_config *t, dq_share_config *s,
	      dq_tiles_config *c)
{
	dq_learner_config_init(l);
	l->max_steps = 1000;
	dq_table_config_init(t);
	t->n_states = 500; /* taxi */
	t->n_actions = 6;
	dq_share_config_init(s, DQ_SHARE_NONE);
	memset(c, 0, sizeof(*c));
	c->n_tilings = 4;
	c->dim = 2;
	c->bins[0] = c->bins[1] = 8;
	c->low[0] = c->low[1] = -1.0;
	c->high[0] = c->high[1] = 1.0;
}

static int
try_row(const struct row *r, dq_env *env)
{
	dq_learner_config lc;
	dq_table_config tc, ok_tc;
	dq_share_config sc;
	dq_tiles_config cc;
	dq_table *table = NULL;
	dq_learner *learner = NULL;
	dq_agent *agent = NULL;
	dq_tiles *tiles = NULL;
	int err;

	valid_configs(&lc, &tc, &sc, &cc);
	ok_tc = tc;
	r->breaks(&lc, &tc, &sc, &cc);
	switch (r->target) {
	case LEARNER:
	case AGENT:
		assert_int_equal(dq_table_create(&table, &tc), 0);
		if (r->target == LEARNER)
			err = dq_learner_create(&learner, table, env, &lc);
		else
			err = dq_agent_create(&agent, table, &lc.agent);
		dq_learner_destroy(learner);
		dq_agent_destroy(agent);
		dq_table_destroy(table);
		return err;
	case TABLE:
		err = dq_table_create(&table, &tc);
		dq_table_destroy(table);
		(void)ok_tc;
		return err;
	case SHARE:
		return dq_share_config_check(&sc);
	case TILES:
		err = dq_tiles_create(&tiles, &cc);
		dq_tiles_destroy(tiles);
		return err;
	}
	return 0;
}

/* Each broken field: -EINVAL, and a detail naming the field and rule. */
static void
test_each_field_named(void **state)
{
	dq_env *env;

	(void)state;
	assert_int_equal(dq_env_open_name(&env, "taxi"), 0);
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const struct row *r = &rows[i];
		int err = try_row(r, env);
		const char *d = dq_error_detail();

		if (err != -EINVAL || !d || !strstr(d, r->field) ||
		    (r->rule && !strstr(d, r->rule)))
			fail_msg("row %zu (%s): err %d, detail '%s'", i,
				 r->field, err, d ? d : "(none)");
	}
	dq_env_close(env);
}

/* The unbroken configs pass, and a success clears an earlier detail. */
static void
test_valid_clears(void **state)
{
	dq_learner_config lc;
	dq_table_config tc;
	dq_share_config sc;
	dq_tiles_config cc;
	dq_table *table;
	dq_learner *learner;
	dq_tiles *tiles;
	dq_env *env;

	(void)state;
	assert_int_equal(dq_env_open_name(&env, "taxi"), 0);
	valid_configs(&lc, &tc, &sc, &cc);
	tc.n_states = 0;
	assert_int_equal(dq_table_create(&table, &tc), -EINVAL);
	assert_non_null(dq_error_detail());
	tc.n_states = 500;
	assert_int_equal(dq_table_create(&table, &tc), 0);
	assert_null(dq_error_detail());
	lc.n_threads = 0;
	assert_int_equal(dq_learner_create(&learner, table, env, &lc), -EINVAL);
	assert_non_null(dq_error_detail());
	lc.n_threads = 1;
	assert_int_equal(dq_learner_create(&learner, table, env, &lc), 0);
	assert_null(dq_error_detail());
	dq_learner_destroy(learner);
	assert_int_equal(dq_share_config_check(&sc), 0);
	assert_int_equal(dq_tiles_create(&tiles, &cc), 0);
	dq_tiles_destroy(tiles);
	dq_table_destroy(table);
	dq_env_close(env);
}

/* dq_schedule_constant(): a valid constant schedule, checked as any. */
static void
test_schedule_constant(void **state)
{
	dq_agent_config ac;
	dq_schedule s = dq_schedule_constant(0.5);

	(void)state;
	assert_int_equal(s.kind, DQ_SCHEDULE_CONSTANT);
	assert_true(s.start == 0.5 && s.end == 0.5 && s.steps == 1.0);
	for (size_t i = 0; i < 4; i++)
		assert_true(s.reserved_[i] == 0);
	dq_agent_config_init(&ac);
	ac.alpha = dq_schedule_constant(0.5);
	ac.epsilon = dq_schedule_constant(0.0);
	assert_int_equal(dq_agent_config_check(&ac), 0);
	ac.alpha = dq_schedule_constant(2.0);
	assert_int_equal(dq_agent_config_check(&ac), -EINVAL);
	assert_non_null(strstr(dq_error_detail(), "alpha.start 2"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_each_field_named),
	    cmocka_unit_test(test_valid_clears),
	    cmocka_unit_test(test_schedule_constant),
	};

	return cmocka_run_group_tests_name("details", tests, NULL, NULL);
}
