/*
 * tests/test_tilerules.c - the rules beyond one step over tiles
 * (lib/tilerule.h): n-step Q, n-step SARSA and Watkins's Q(lambda).
 *
 * - One tiling whose tiles are the states reduces each to the tabular
 *   rule of lib/rule.h: the weights agree bit for bit with the tabular
 *   table, the actions draw for draw, on a slippery corridor.
 * - A truncation bootstraps, a termination does not, per rule.
 * - Each solves MountainCar-v0 (greedy mean >= -110 over 100 episodes,
 *   the evaluator's target_return as the stop) through the learner.
 * - Q(lambda)'s traces over (tile, action) stay within trace_max.
 */
#include <errno.h>
#include <math.h>
#include <string.h>

#include "dq_test_tiles.h"

/* The corridor's states (dq_test_tiles.h). */
#define S DQ_TEST_CORRIDOR_S

/*
 * One tiling of S tiles over [0, S]: observation s + 0.5 is tile s alone,
 * so Q over tiles is the table and alpha / T is alpha. The tabular agent
 * (dq_agent_act/observe) and the tile-coded one (the _obs calls) take
 * the same seeds and the same corridor (dq_test_twins_run(),
 * dq_test_tiles.h); each act must agree, and at the end every weight is
 * the tabular entry bit for bit (memcmp).
 */
static void
equivalence(dq_rule rule, dq_trace trace, uint32_t nstep)
{
	dq_test_twins x;
	dq_agent_config c;
	uint32_t differ, moved;
	double maxd;

	dq_test_twins_config(&c, rule);
	c.trace = trace;
	c.nstep = nstep;
	c.lambda = 0.8;
	c.trace_max = 6; /* the cap's replacements are compared too */
	dq_test_twins_run(&x, &c, 20000);
	differ = dq_test_twins_differ(&x, &moved, &maxd);
	print_message("%s (%s, n %u): %u of %u weights differ (max %g), "
		      "%u moved\n",
		      dq_rule_name(rule), trace ? "replacing" : "accumulating",
		      nstep, differ, S * 3, maxd, moved);
	assert_int_equal(differ, 0);
	assert_true(moved > 20);
	dq_test_twins_free(&x);
}

static void
test_reduces_to_tabular(void **state)
{
	(void)state;
	equivalence(DQ_RULE_NSTEP_Q, DQ_TRACE_ACCUMULATING, 3);
	equivalence(DQ_RULE_NSTEP_Q, DQ_TRACE_ACCUMULATING, 1);
	equivalence(DQ_RULE_NSTEP_SARSA, DQ_TRACE_ACCUMULATING, 4);
	equivalence(DQ_RULE_Q_LAMBDA, DQ_TRACE_ACCUMULATING, 3);
	equivalence(DQ_RULE_Q_LAMBDA, DQ_TRACE_REPLACING, 3);
}

/* An agent of `rule` over 4 tilings of 4 tiles on [0, 1], 2 actions,
 * alpha 0.5, gamma 0.9, epsilon 0, n 3. */
typedef dq_test_rig rig;

static rig
rig_make(dq_rule rule, uint32_t trace_max)
{
	dq_agent_config c;

	dq_agent_config_init(&c);
	c.rule = rule;
	c.gamma = 0.9;
	c.alpha.start = c.alpha.end = 0.5;
	c.epsilon.start = c.epsilon.end = 0.0;
	c.nstep = 3;
	c.trace_max = trace_max;
	return dq_test_rig_make("4x4", DQ_MODE_CAS, &c);
}

static double
qv(const rig *r, double o, uint32_t a)
{
	double q[2];

	assert_int_equal(dq_tiles_values(r->tc, r->t, &o, q, 2), 0);
	return q[a];
}

/*
 * s = 0.05 and s' = 0.95 share no tile. Q(s', 0) = 1 (a terminal update
 * of 2 at alpha 0.5); then mid -> s' and s -> s', reward 0. Truncated
 * (the episode ended after it, dq_agent_episode_end()): Q(s, 1) =
 * 0.5 x 0.9 x 1 = 0.45, the bootstrap from s'. Terminated: no bootstrap,
 * Q(s, 1) = 0. The n-step rules write nothing before the episode's end
 * (n = 3 > 2 pending); Q(lambda) writes at once and its episode end drops
 * the traces (a later reward moves Q(s, 1) no more).
 */
static void
test_truncation_vs_termination(void **state)
{
	const dq_rule rules[] = {DQ_RULE_NSTEP_Q, DQ_RULE_NSTEP_SARSA,
				 DQ_RULE_Q_LAMBDA};
	const double s = 0.05, s2 = 0.95, mid = 0.5;

	(void)state;
	for (size_t k = 0; k < 3; k++) {
		for (int term = 0; term < 2; term++) {
			rig r = rig_make(rules[k], 64);
			const bool nstep = rules[k] != DQ_RULE_Q_LAMBDA;
			uint32_t a;

			assert_int_equal(
			    dq_agent_observe_obs(r.ag, &s2, 0, 2.0, NULL, true),
			    0);
			assert_true(qv(&r, s2, 0) == 1.0);
			/* mid -> s' first: the last s' is s' in both cases
			 * (a termination that bootstrapped would show) */
			assert_int_equal(dq_agent_observe_obs(r.ag, &mid, 0,
							      0.0, &s2, false),
					 0);
			assert_int_equal(dq_agent_act_obs(r.ag, &s, &a), 0);
			assert_int_equal(
			    dq_agent_observe_obs(r.ag, &s, 1, 0.0, &s2, term),
			    0);
			if (!term) {
				if (nstep) /* 2 < n pending: none written */
					assert_true(qv(&r, s, 1) == 0.0);
				assert_int_equal(dq_agent_episode_end(r.ag), 0);
			}
			print_message(
			    "%s %s: Q(s, 1) = %.17g\n", dq_rule_name(rules[k]),
			    term ? "terminated" : "truncated", qv(&r, s, 1));
			assert_true(fabs(qv(&r, s, 1) - (term ? 0.0 : 0.45)) <
				    1e-15);
			/* Nothing is left pending or traced. */
			assert_int_equal(r.ag->pend_n, 0);
			assert_int_equal(dq_agent_observe_obs(r.ag, &mid, 1,
							      1.0, NULL, true),
					 0);
			assert_true(fabs(qv(&r, s, 1) - (term ? 0.0 : 0.45)) <
				    1e-15);
			dq_test_rig_free(&r);
		}
	}
}

/*
 * The traces stay within trace_max: with gamma = lambda = 1 nothing
 * decays, and a walk over 40 positions of 4 tilings (4 tiles a step,
 * most of them new) would trace 4 x (tiles visited); with trace_max 8 the
 * list never holds more than 8 (checked after every step), and the
 * final reward moves at most 8 weights. With trace_max 4096 the same
 * walk holds far more: the cap is what bounds it.
 */
static uint32_t
lambda_walk(uint32_t trace_max, uint32_t *most)
{
	rig r = rig_make(DQ_RULE_Q_LAMBDA, trace_max);
	dq_agent_config c;
	uint32_t rows, moved = 0;
	double before[2 * 64];

	dq_agent_destroy(r.ag);
	dq_agent_config_init(&c);
	c.rule = DQ_RULE_Q_LAMBDA;
	c.tiles = r.tc;
	c.gamma = 1.0;
	c.lambda = 1.0;
	c.alpha.start = c.alpha.end = 0.5;
	c.epsilon.start = c.epsilon.end = 0.0;
	c.trace_max = trace_max;
	assert_int_equal(dq_agent_create(&r.ag, r.t, &c), 0);
	dq_tiles_features(r.tc, &rows);
	assert_true(rows * 2 <= 64 * 2);
	*most = 0;
	for (uint32_t i = 0; i < 39; i++) {
		double o = i / 40.0, o2 = (i + 1) / 40.0;

		assert_int_equal(
		    dq_agent_observe_obs(r.ag, &o, 0, 0.0, &o2, false), 0);
		assert_true(r.ag->pend_n <= trace_max);
		if (r.ag->pend_n > *most)
			*most = r.ag->pend_n;
	}
	for (uint32_t x = 0; x < rows; x++)
		for (uint32_t a = 0; a < 2; a++)
			before[x * 2 + a] = dq_test_q(r.t, x, a);
	{
		double o = 39 / 40.0;

		assert_int_equal(
		    dq_agent_observe_obs(r.ag, &o, 0, 1.0, NULL, true), 0);
	}
	for (uint32_t x = 0; x < rows; x++)
		for (uint32_t a = 0; a < 2; a++)
			moved += dq_test_q(r.t, x, a) != before[x * 2 + a];
	dq_test_rig_free(&r);
	return moved;
}

static void
test_traces_bounded(void **state)
{
	uint32_t most, moved;

	(void)state;
	moved = lambda_walk(8, &most);
	print_message("trace_max 8: at most %u traces, %u weights moved\n",
		      most, moved);
	assert_int_equal(most, 8);
	assert_true(moved <= 8 && moved >= 4);
	moved = lambda_walk(4096, &most);
	print_message("trace_max 4096: at most %u traces, %u weights moved\n",
		      most, moved);
	assert_true(most > 8 && moved > 8);
}

/*
 * MountainCar-v0 solved through the learner, one agent thread (so the
 * learning is the same every time; when the evaluator looks is not),
 * coder 8x8,8 (--tiles auto's), the evaluator's target_return -110 over
 * 100 greedy episodes as the stop (40k-110k steps here), within 4M
 * steps. Returns the steps when reached.
 */
static uint64_t
solve_mountaincar(dq_rule rule, double alpha, dq_trace trace)
{
	dq_test_tl x;
	dq_learner_config lc;
	dq_run_result res;

	dq_test_tl_open(&x, "mountaincar", "8x8,8", DQ_MODE_CAS, 1, &lc);
	lc.n_threads = 1;
	lc.agent.rule = rule;
	lc.agent.trace = trace;
	lc.agent.gamma = 1.0;
	lc.agent.alpha.start = lc.agent.alpha.end = alpha;
	lc.agent.epsilon.start = lc.agent.epsilon.end = 0.0;
	lc.agent.seed = 1;
	/* A bound, not the test: the stop is the return. The evaluator's
	 * "every 20,000 steps" is a lower bound (the monitor may wait for a
	 * core), so the bound leaves room for a busy machine. */
	lc.max_steps = 4000000;
	lc.eval_every = 20000;
	lc.eval_unit = DQ_EVAL_STEPS;
	lc.target_return = -110.0;
	assert_int_equal(dq_learner_create(&x.l, x.t, x.env, &lc), 0);
	assert_int_equal(dq_learner_run(x.l, &res), 0);
	print_message("%s: stop %d, return reached after %llu steps\n",
		      dq_rule_name(rule), (int)res.reason,
		      (unsigned long long)res.return_steps);
	assert_int_equal(res.reason, DQ_STOP_RETURN);
	dq_test_tl_free(&x);
	return res.return_steps;
}

static void
test_solves_mountaincar(void **state)
{
	(void)state;
	solve_mountaincar(DQ_RULE_NSTEP_Q, 0.5, DQ_TRACE_ACCUMULATING);
	solve_mountaincar(DQ_RULE_NSTEP_SARSA, 0.5, DQ_TRACE_ACCUMULATING);
	solve_mountaincar(DQ_RULE_Q_LAMBDA, 0.2, DQ_TRACE_ACCUMULATING);
	solve_mountaincar(DQ_RULE_Q_LAMBDA, 0.2, DQ_TRACE_REPLACING);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_reduces_to_tabular),
	    cmocka_unit_test(test_truncation_vs_termination),
	    cmocka_unit_test(test_traces_bounded),
	    cmocka_unit_test(test_solves_mountaincar),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
