/*
 * The rules beyond one step and the softmax policy (lib/rule.h): n-step Q
 * (Mnih et al. 2016), n-step SARSA (Sutton & Barto 7.2), Watkins's
 * Q(lambda) (Sutton & Barto 12.10) and softmax action selection.
 *
 * - names and configuration ranges;
 * - truncation bootstraps, termination does not, for each new rule (and
 *   for Expected SARSA under softmax): hand-computed one-step values;
 * - n-step and Q(lambda) updates computed by hand on a short chain: n = 2
 *   and 3, truncated and terminated; lambda with accumulating and
 *   replacing traces; the cut on an exploratory action;
 * - n = 1 is Q-learning and SARSA draw for draw (the learner's tables bit
 *   for bit), and n-step Q through write-back windows is bit for bit as
 *   with direct updates; Q(lambda) refuses windows (unbounded writes);
 * - the off-policy rules reach the exactly optimal policy (the learner's
 *   exact target check) on maze4x3, frozenlake4x4 and taxi, P = 1 and 2;
 * - softmax: action frequencies match exp(Q/T) / Z on a fixed row, and
 *   the temperature follows its schedule.
 */
#include <errno.h>
#include <math.h>
#include <string.h>

#include "dq_test.h"

static void
test_names_and_ranges(void **state)
{
	static const struct {
		const char *name;
		dq_rule rule;
	} rules[] = {{"nstep-q", DQ_RULE_NSTEP_Q},
		     {"nstep-sarsa", DQ_RULE_NSTEP_SARSA},
		     {"q-lambda", DQ_RULE_Q_LAMBDA}};
	dq_agent_config c, d;
	dq_rule r;
	uint32_t ch;

	(void)state;
	for (size_t i = 0; i < 3; i++) {
		assert_int_equal(dq_rule_from_name(rules[i].name, &r), 0);
		assert_int_equal(r, rules[i].rule);
		assert_string_equal(dq_rule_name(rules[i].rule), rules[i].name);
		assert_int_equal(dq_rule_channels(rules[i].rule, &ch), 0);
		assert_int_equal(ch, 1);
	}
	assert_int_equal(dq_agent_config_init(&c), 0);
	assert_int_equal(c.policy, DQ_POLICY_EGREEDY);
	assert_int_equal(c.nstep, 3);
	assert_true(c.lambda == 0.9);
	assert_int_equal(c.trace, DQ_TRACE_ACCUMULATING);
	assert_int_equal(c.trace_max, 64);
	assert_int_equal(dq_agent_config_check(&c), 0);
#define BAD(field, value)                                             \
	do {                                                          \
		d = c;                                                \
		d.field = value;                                      \
		assert_int_equal(dq_agent_config_check(&d), -EINVAL); \
	} while (0)
	BAD(policy, (dq_policy)2);
	BAD(trace, (dq_trace)2);
	BAD(lambda, -0.01);
	BAD(lambda, 1.01);
	BAD(lambda, NAN);
	BAD(nstep, DQ_NSTEP_MAX + 1);
	BAD(trace_max, DQ_TRACE_MAX_CAP + 1);
	/* epsilon above 1 is a temperature, under softmax only */
	BAD(epsilon.start, 2.0);
	d = c;
	d.policy = DQ_POLICY_SOFTMAX;
	d.epsilon.start = d.epsilon.end = 2.0;
	assert_int_equal(dq_agent_config_check(&d), 0);
	d.epsilon.start = d.epsilon.end = 2 * DQ_TEMPERATURE_MAX;
	assert_int_equal(dq_agent_config_check(&d), -EINVAL);
	/* n and the trace cap are needed by their rules only */
	d = c;
	d.nstep = 0;
	assert_int_equal(dq_agent_config_check(&d), 0);
	d.rule = DQ_RULE_NSTEP_Q;
	assert_int_equal(dq_agent_config_check(&d), -EINVAL);
	d.nstep = DQ_NSTEP_MAX;
	assert_int_equal(dq_agent_config_check(&d), 0);
	d = c;
	d.trace_max = 0;
	assert_int_equal(dq_agent_config_check(&d), 0);
	d.rule = DQ_RULE_Q_LAMBDA;
	assert_int_equal(dq_agent_config_check(&d), -EINVAL);
	/* Q(lambda) takes no per-entry rates */
	d = c;
	d.rule = DQ_RULE_Q_LAMBDA;
	d.omega = 0.8;
	assert_int_equal(dq_agent_config_check(&d), -EINVAL);
#undef BAD
}

/* An agent on t: alpha, gamma, epsilon (or temperature), n, lambda,
 * lowest-index ties. */
static dq_agent *
mk_agent(dq_table *t, dq_rule rule, double alpha, double gamma, double eps,
	 uint32_t n, double lambda)
{
	dq_agent_config c;
	dq_agent *ag;

	dq_agent_config_init(&c);
	c.rule = rule;
	c.alpha.start = c.alpha.end = alpha;
	c.gamma = gamma;
	c.epsilon.start = c.epsilon.end = eps;
	c.nstep = n;
	c.lambda = lambda;
	c.random_ties = false;
	assert_int_equal(dq_agent_create(&ag, t, &c), 0);
	return ag;
}

/*
 * One transition (0, 0, r = 1, s' = 1), alpha 1, gamma 0.5, row 1 =
 * [1, 3], then the episode ends: truncated, every rule bootstraps
 * (1 + 0.5 x 3 = 2.5; n-step with n = 2 at the episode's end, the flush);
 * terminated, none does (1). Expected SARSA under softmax at T = 1/ln 3:
 * p = (3, 27) / 30, 1 + 0.5 (0.1 x 1 + 0.9 x 3) = 2.4.
 */
static double
one_step(dq_rule rule, bool terminated, dq_policy policy, double eps)
{
	dq_table *t = dq_test_table(2, 2, DQ_MODE_CAS, 0.0, false);
	dq_agent_config c;
	dq_agent *ag;
	double v;

	dq_agent_config_init(&c);
	c.rule = rule;
	c.policy = policy;
	c.gamma = 0.5;
	c.alpha.start = c.alpha.end = 1.0;
	c.epsilon.start = c.epsilon.end = eps;
	c.nstep = 2;
	c.random_ties = false;
	assert_int_equal(dq_table_set(t, 1, 0, 1.0), 0);
	assert_int_equal(dq_table_set(t, 1, 1, 3.0), 0);
	assert_int_equal(dq_agent_create(&ag, t, &c), 0);
	assert_int_equal(dq_agent_observe(ag, 0, 0, 1.0, 1, terminated), 0);
	assert_int_equal(dq_agent_episode_end(ag), 0);
	v = dq_test_q(t, 0, 0);
	dq_agent_destroy(ag);
	dq_table_destroy(t);
	return v;
}

static void
test_truncation_bootstraps(void **state)
{
	static const dq_rule rules[] = {DQ_RULE_NSTEP_Q, DQ_RULE_NSTEP_SARSA,
					DQ_RULE_Q_LAMBDA};
	double v;

	(void)state;
	for (size_t i = 0; i < 3; i++) {
		assert_true(one_step(rules[i], false, DQ_POLICY_EGREEDY, 0) ==
			    2.5);
		assert_true(one_step(rules[i], true, DQ_POLICY_EGREEDY, 0) ==
			    1.0);
		/* softmax at T = 0 is greedy */
		assert_true(one_step(rules[i], false, DQ_POLICY_SOFTMAX, 0) ==
			    2.5);
	}
	v = one_step(DQ_RULE_EXPECTED_SARSA, false, DQ_POLICY_SOFTMAX,
		     1.0 / log(3.0));
	assert_true(fabs(v - 2.4) < 1e-12);
	assert_true(one_step(DQ_RULE_EXPECTED_SARSA, true, DQ_POLICY_SOFTMAX,
			     1.0 / log(3.0)) == 1.0);
	assert_true(one_step(DQ_RULE_EXPECTED_SARSA, false, DQ_POLICY_SOFTMAX,
			     0.0) == 2.5);
}

/*
 * The chain: 5 states, 2 actions; Q(s, 1) = c_s = 0, 4, 8, 16, 32 (never
 * written: the agent takes action 0), Q(s, 0) = 0 at the start. alpha 1,
 * gamma 0.5, epsilon 0. Transitions (0,0,1,s1), (1,0,2,s2), (2,0,4,s3),
 * the last one terminated or truncated (then dq_agent_episode_end()).
 * Returns Q(0..2, 0) in q[].
 */
static void
chain(dq_rule rule, uint32_t n, bool terminated, double *q)
{
	dq_table *t = dq_test_table(5, 2, DQ_MODE_CAS, 0.0, false);
	dq_agent *ag;

	for (uint32_t s = 1; s < 5; s++)
		assert_int_equal(dq_table_set(t, s, 1, 4.0 * (1u << (s - 1))),
				 0);
	ag = mk_agent(t, rule, 1.0, 0.5, 0.0, n, 0.0);
	assert_int_equal(dq_agent_observe(ag, 0, 0, 1.0, 1, false), 0);
	assert_int_equal(dq_agent_observe(ag, 1, 0, 2.0, 2, false), 0);
	assert_int_equal(dq_agent_observe(ag, 2, 0, 4.0, 3, terminated), 0);
	assert_int_equal(dq_agent_episode_end(ag), 0);
	for (uint32_t s = 0; s < 3; s++)
		q[s] = dq_test_q(t, s, 0);
	dq_agent_destroy(ag);
	dq_table_destroy(t);
}

#define EXPECT3(q, a, b, c)                                                \
	do {                                                               \
		if (!((q)[0] == (a) && (q)[1] == (b) && (q)[2] == (c)))    \
			fail_msg("got %g %g %g, want %g %g %g", (q)[0],    \
				 (q)[1], (q)[2], (double)(a), (double)(b), \
				 (double)(c));                             \
	} while (0)

/*
 * By hand (gamma 0.5; max Q(s, .) = c_s as long as Q(s, 0) < c_s, which
 * holds when each is read):
 * n = 2: Q(0,0) <- 1 + .5 (2 + .5 c_2) = 4 when s2 is observed. Then
 *   terminated: Q(1,0) <- 2 + .5 x 4 = 4, Q(2,0) <- 4;
 *   truncated: Q(1,0) <- 2 + .5 (4 + .5 c_3) = 8 when s3 is observed, and
 *   the flush Q(2,0) <- 4 + .5 c_3 = 12.
 * n = 3: terminated: 1 + 1 + 1 = 3, 2 + 2 = 4, 4;
 *   truncated: 1 + 1 + 1 + .125 c_3 = 5, 2 + 2 + .25 c_3 = 8, 4 + 8 = 12.
 * n-step SARSA with epsilon 0 bootstraps from the greedy a' = 1: the
 * same numbers.
 */
static void
test_nstep_chain(void **state)
{
	double q[3];

	(void)state;
	for (int sarsa = 0; sarsa < 2; sarsa++) {
		dq_rule r = sarsa ? DQ_RULE_NSTEP_SARSA : DQ_RULE_NSTEP_Q;

		chain(r, 2, true, q);
		EXPECT3(q, 4, 4, 4);
		chain(r, 2, false, q);
		EXPECT3(q, 4, 8, 12);
		chain(r, 3, true, q);
		EXPECT3(q, 3, 4, 4);
		chain(r, 3, false, q);
		EXPECT3(q, 5, 8, 12);
		/* n = 4 > the episode: everything at its end */
		chain(r, 4, true, q);
		EXPECT3(q, 3, 4, 4);
		chain(r, 4, false, q);
		EXPECT3(q, 5, 8, 12);
	}
}

/*
 * The batch calls run the same step: the chain's three transitions
 * (terminated) through dq_agent_observe_batch() write what three
 * dq_agent_observe() calls do, for n-step Q (n = 2) and Q(lambda).
 */
static void
test_batch(void **state)
{
	static const uint32_t s[3] = {0, 1, 2}, a[3] = {0, 0, 0},
			      s2[3] = {1, 2, 3};
	static const double r[3] = {1.0, 2.0, 4.0};
	static const uint8_t term[3] = {0, 0, 1};
	static const dq_rule rules[2] = {DQ_RULE_NSTEP_Q, DQ_RULE_Q_LAMBDA};

	(void)state;
	for (int i = 0; i < 2; i++) {
		dq_table *t1 = dq_test_table(5, 2, DQ_MODE_CAS, 0.0, false),
			 *t2 = dq_test_table(5, 2, DQ_MODE_CAS, 0.0, false);
		dq_agent *g1, *g2;
		size_t done;

		for (uint32_t x = 1; x < 5; x++) {
			assert_int_equal(dq_table_set(t1, x, 1, 4.0 * x), 0);
			assert_int_equal(dq_table_set(t2, x, 1, 4.0 * x), 0);
		}
		g1 = mk_agent(t1, rules[i], 0.5, 0.5, 0.0, 2, 0.5);
		g2 = mk_agent(t2, rules[i], 0.5, 0.5, 0.0, 2, 0.5);
		for (int k = 0; k < 3; k++)
			assert_int_equal(dq_agent_observe(g1, s[k], a[k], r[k],
							  s2[k], term[k] != 0),
					 0);
		assert_int_equal(
		    dq_agent_observe_batch(g2, s, a, r, s2, term, 3, &done), 0);
		assert_int_equal(done, 3);
		for (uint32_t x = 0; x < 5; x++)
			assert_true(dq_test_q(t1, x, 0) == dq_test_q(t2, x, 0));
		assert_true(dq_test_q(t1, 0, 0) != 0.0);
		dq_agent_destroy(g1);
		dq_agent_destroy(g2);
		dq_table_destroy(t1);
		dq_table_destroy(t2);
	}
}

/*
 * n-step SARSA bootstraps from the action it then takes: epsilon 1 (a'
 * uniformly random), n = 2, the chain's first two transitions: when s2 is
 * observed, Q(0,0) <- 1 + .5 (2 + .5 Q(2, a')), Q(2, .) = (0, 8), and the
 * next act in s2 returns a'. Seeds until both a' occurred.
 */
static void
test_nstep_sarsa_on_policy(void **state)
{
	unsigned seen = 0;

	(void)state;
	for (uint64_t seed = 1; seed < 64 && seen != 3; seed++) {
		dq_table *t = dq_test_table(5, 2, DQ_MODE_CAS, 0.0, false);
		dq_agent_config c;
		dq_agent *ag;
		uint32_t a2;

		assert_int_equal(dq_table_set(t, 2, 1, 8.0), 0);
		dq_agent_config_init(&c);
		c.rule = DQ_RULE_NSTEP_SARSA;
		c.nstep = 2;
		c.gamma = 0.5;
		c.alpha.start = c.alpha.end = 1.0;
		c.epsilon.start = c.epsilon.end = 1.0;
		c.seed = seed;
		assert_int_equal(dq_agent_create(&ag, t, &c), 0);
		assert_int_equal(dq_agent_observe(ag, 0, 0, 1.0, 1, false), 0);
		assert_int_equal(dq_agent_observe(ag, 1, 0, 2.0, 2, false), 0);
		assert_int_equal(dq_agent_act(ag, 2, &a2), 0);
		assert_true(dq_test_q(t, 0, 0) == (a2 ? 4.0 : 2.0));
		seen |= 1u << a2;
		dq_agent_destroy(ag);
		dq_table_destroy(t);
	}
	assert_int_equal(seen, 3);
}

/*
 * Watkins's Q(lambda), alpha 0.5, gamma 0.5, lambda 0.5 (gamma lambda =
 * 0.25), epsilon 0, Q(s, 1) = -1 so that action 0 is greedy everywhere.
 *
 * A chain (0,0,1,s1), (1,0,2,s2), (2,0,4, terminated):
 *   t0: delta 1, e(0,0) = 1: Q(0,0) = .5; e -> .25
 *   t1: delta 2, e(1,0) = 1: Q(0,0) += .5 x 2 x .25 = .75, Q(1,0) = 1;
 *       e -> .0625, .25
 *   t2: delta 4: Q(0,0) += .125 -> .875, Q(1,0) += .5 -> 1.5, Q(2,0) = 2.
 * A loop (0,0,1,s1), (1,0,2,s0), (0,0,4, terminated), revisiting (0,0):
 *   t0: Q(0,0) = .5; e(0,0) -> .25
 *   t1: delta 2 + .5 x .5 = 2.25: Q(0,0) += .28125 -> .78125,
 *       Q(1,0) = 1.125; e -> .0625, .25
 *   t2: delta 4 - .78125 = 3.21875; accumulating e(0,0) = 1.0625:
 *       Q(0,0) = 2.4912109375; replacing e(0,0) = 1: Q(0,0) = 2.390625;
 *       Q(1,0) += .40234375 -> 1.52734375 either way.
 */
static dq_table *
lambda_run(dq_trace trace, bool loop)
{
	dq_table *t = dq_test_table(3, 2, DQ_MODE_CAS, 0.0, false);
	dq_agent_config c;
	dq_agent *ag;
	uint32_t a;

	for (uint32_t s = 0; s < 3; s++)
		assert_int_equal(dq_table_set(t, s, 1, -1.0), 0);
	dq_agent_config_init(&c);
	c.rule = DQ_RULE_Q_LAMBDA;
	c.trace = trace;
	c.alpha.start = c.alpha.end = 0.5;
	c.gamma = 0.5;
	c.lambda = 0.5;
	c.epsilon.start = c.epsilon.end = 0.0;
	c.random_ties = false;
	assert_int_equal(dq_agent_create(&ag, t, &c), 0);
	assert_int_equal(dq_agent_act(ag, 0, &a), 0);
	assert_int_equal(a, 0);
	assert_int_equal(dq_agent_observe(ag, 0, 0, 1.0, 1, false), 0);
	assert_int_equal(dq_agent_act(ag, 1, &a), 0);
	assert_int_equal(a, 0);
	assert_int_equal(dq_agent_observe(ag, 1, 0, 2.0, loop ? 0 : 2, false),
			 0);
	assert_int_equal(dq_agent_act(ag, loop ? 0 : 2, &a), 0);
	assert_int_equal(a, 0);
	assert_int_equal(dq_agent_observe(ag, loop ? 0 : 2, 0, 4.0, 0, true),
			 0);
	dq_agent_destroy(ag);
	return t;
}

static void
test_lambda_chain(void **state)
{
	dq_table *t;
	double q[3];

	(void)state;
	for (int k = 0; k < 2; k++) {
		t = lambda_run(k ? DQ_TRACE_REPLACING : DQ_TRACE_ACCUMULATING,
			       false);
		for (uint32_t s = 0; s < 3; s++)
			q[s] = dq_test_q(t, s, 0);
		EXPECT3(q, 0.875, 1.5, 2.0);
		dq_table_destroy(t);
	}
	t = lambda_run(DQ_TRACE_ACCUMULATING, true);
	q[0] = dq_test_q(t, 0, 0);
	q[1] = dq_test_q(t, 1, 0);
	q[2] = dq_test_q(t, 2, 0);
	EXPECT3(q, 2.4912109375, 1.52734375, 0.0);
	dq_table_destroy(t);
	t = lambda_run(DQ_TRACE_REPLACING, true);
	q[0] = dq_test_q(t, 0, 0);
	q[1] = dq_test_q(t, 1, 0);
	q[2] = dq_test_q(t, 2, 0);
	EXPECT3(q, 2.390625, 1.52734375, 0.0);
	dq_table_destroy(t);
}

/*
 * The cut: epsilon 1, the same parameters. After (0,0,1,s1) Q(0,0) = .5
 * and e(0,0) = .25 unless the action chosen in s1 (the next act there)
 * is exploratory, action 1 (Q(1,1) = -1 < 0): then the trace is cut.
 * The episode ends with (1, a', 2, terminated): delta = 2 - Q(1, a').
 *   a' = 0 (greedy): delta 2: Q(0,0) = .5 + .5 x 2 x .25 = .75, Q(1,0) = 1;
 *   a' = 1 (cut): delta 3: Q(0,0) stays .5, Q(1,1) = -1 + 1.5 = .5.
 * Seeds until both happened.
 */
static void
test_lambda_cut(void **state)
{
	unsigned seen = 0;

	(void)state;
	for (uint64_t seed = 1; seed < 64 && seen != 3; seed++) {
		dq_table *t = dq_test_table(3, 2, DQ_MODE_CAS, 0.0, false);
		dq_agent_config c;
		dq_agent *ag;
		uint32_t a2;

		for (uint32_t s = 0; s < 3; s++)
			assert_int_equal(dq_table_set(t, s, 1, -1.0), 0);
		dq_agent_config_init(&c);
		c.rule = DQ_RULE_Q_LAMBDA;
		c.alpha.start = c.alpha.end = 0.5;
		c.gamma = 0.5;
		c.lambda = 0.5;
		c.epsilon.start = c.epsilon.end = 1.0;
		c.seed = seed;
		assert_int_equal(dq_agent_create(&ag, t, &c), 0);
		assert_int_equal(dq_agent_observe(ag, 0, 0, 1.0, 1, false), 0);
		assert_true(dq_test_q(t, 0, 0) == 0.5);
		assert_int_equal(dq_agent_act(ag, 1, &a2), 0);
		assert_int_equal(dq_agent_observe(ag, 1, a2, 2.0, 0, true), 0);
		if (a2 == 0) {
			assert_true(dq_test_q(t, 0, 0) == 0.75);
			assert_true(dq_test_q(t, 1, 0) == 1.0);
		} else {
			assert_true(dq_test_q(t, 0, 0) == 0.5);
			assert_true(dq_test_q(t, 1, 1) == 0.5);
		}
		seen |= 1u << a2;
		dq_agent_destroy(ag);
		dq_table_destroy(t);
	}
	assert_int_equal(seen, 3);
}

/*
 * The trace list stays bounded: with lambda 1 and gamma 1 nothing decays,
 * so a walk over 40 distinct entries would trace all of them; with
 * trace_max = 8 a new trace replaces the smallest (here all are equal
 * and the first listed gives way), so the reward at the end moves exactly
 * 8 entries, the last one's by alpha.
 */
static void
test_lambda_cap(void **state)
{
	dq_table *t = dq_test_table(41, 1, DQ_MODE_CAS, 0.0, false);
	dq_agent_config c;
	dq_agent *ag;
	uint32_t moved = 0;

	(void)state;
	dq_agent_config_init(&c);
	c.rule = DQ_RULE_Q_LAMBDA;
	c.alpha.start = c.alpha.end = 0.5;
	c.gamma = 1.0;
	c.lambda = 1.0;
	c.epsilon.start = c.epsilon.end = 0.0;
	c.trace_max = 8;
	assert_int_equal(dq_agent_create(&ag, t, &c), 0);
	for (uint32_t s = 0; s < 39; s++)
		assert_int_equal(dq_agent_observe(ag, s, 0, 0.0, s + 1, false),
				 0);
	assert_int_equal(dq_agent_observe(ag, 39, 0, 1.0, 40, true), 0);
	for (uint32_t s = 0; s < 41; s++)
		moved += dq_test_q(t, s, 0) != 0.0;
	assert_int_equal(moved, 8);
	assert_true(dq_test_q(t, 39, 0) == 0.5);
	dq_agent_destroy(ag);
	dq_table_destroy(t);
}

/* One learner run on frozenlake4x4 into t (1 agent, 200k steps, seed 3). */
static void
learn(dq_table *t, dq_rule rule, uint32_t n, uint32_t sync)
{
	dq_env *env;
	dq_learner_config c;
	dq_learner *l;
	dq_run_result r;

	assert_int_equal(dq_env_open_name(&env, "frozenlake4x4"), 0);
	dq_learner_config_init(&c);
	c.agent.rule = rule;
	c.agent.nstep = n;
	c.agent.seed = 3;
	c.agent.sync_every = sync;
	c.write_path = sync ? DQ_WRITE_AUTO : DQ_WRITE_DIRECT;
	c.n_threads = 1;
	c.max_steps = 200000;
	assert_int_equal(dq_learner_create(&l, t, env, &c), 0);
	assert_int_equal(dq_learner_run(l, &r), 0);
	assert_int_equal(r.total.steps, c.max_steps);
	dq_learner_destroy(l);
	dq_env_close(env);
}

static size_t
differ(const dq_table *a, const dq_table *b, size_t *moved)
{
	size_t d = 0;

	*moved = 0;
	for (uint32_t s = 0; s < 16; s++)
		for (uint32_t x = 0; x < 4; x++) {
			double u = dq_test_q(a, s, x), v = dq_test_q(b, s, x);

			d += memcmp(&u, &v, sizeof(u)) != 0;
			*moved += u != 0.0;
		}
	return d;
}

/*
 * n = 1 is one-step Q-learning and SARSA, draw for draw: the learner's
 * tables agree bit for bit. n-step Q (n = 3, up to 3 writes in a
 * termination's step) through write-back windows of 64 steps is bit for
 * bit as with direct updates (one agent: every merge stores its value).
 * Q(lambda) writes an unbounded number of entries per step: windows are
 * refused (DQ_ERULE), and the automatic write path keeps it direct.
 */
static void
test_equivalences(void **state)
{
	static const dq_rule pairs[2][2] = {
	    {DQ_RULE_NSTEP_Q, DQ_RULE_Q}, {DQ_RULE_NSTEP_SARSA, DQ_RULE_SARSA}};
	dq_table *a, *b;
	size_t moved;
	dq_env *env;
	dq_learner_config c;
	dq_learner *l;
	dq_run_result r;
	dq_write_stats ws;
	dq_agent_config ac;
	dq_agent *ag;

	(void)state;
	for (int i = 0; i < 2; i++) {
		a = dq_test_table(16, 4, DQ_MODE_CAS, 0.0, false);
		b = dq_test_table(16, 4, DQ_MODE_CAS, 0.0, false);
		learn(a, pairs[i][0], 1, 0);
		learn(b, pairs[i][1], 0, 0);
		assert_int_equal(differ(a, b, &moved), 0);
		assert_true(moved > 16);
		dq_table_destroy(a);
		dq_table_destroy(b);
	}
	a = dq_test_table(16, 4, DQ_MODE_CAS, 0.0, false);
	b = dq_test_table(16, 4, DQ_MODE_CAS, 0.0, false);
	learn(a, DQ_RULE_NSTEP_Q, 3, 0);
	learn(b, DQ_RULE_NSTEP_Q, 3, 64);
	assert_int_equal(differ(a, b, &moved), 0);
	assert_true(moved > 16);
	dq_table_destroy(b);

	dq_agent_config_init(&ac);
	ac.rule = DQ_RULE_Q_LAMBDA;
	ac.sync_every = 8;
	assert_int_equal(dq_agent_create(&ag, a, &ac), DQ_ERULE);
	assert_int_equal(dq_env_open_name(&env, "frozenlake4x4"), 0);
	dq_learner_config_init(&c);
	c.agent.rule = DQ_RULE_Q_LAMBDA;
	c.agent.sync_every = 8;
	c.n_threads = 1;
	c.max_steps = 1000;
	assert_int_equal(dq_learner_create(&l, a, env, &c), DQ_ERULE);
	c.agent.sync_every = 0;
	c.n_threads = 2;
	c.max_steps = 200000;
	assert_int_equal(dq_learner_create(&l, a, env, &c), 0);
	assert_int_equal(dq_learner_run(l, &r), 0);
	for (uint32_t i = 0; i < 2; i++) {
		assert_int_equal(dq_learner_agent_write_path(l, i, &ws), 0);
		assert_int_equal(ws.window_steps, 0);
	}
	dq_learner_destroy(l);
	dq_env_close(env);
	dq_table_destroy(a);
}

/*
 * The off-policy rules reach the exactly optimal greedy policy (the
 * learner's exact target check) on maze4x3, frozenlake4x4 and taxi, at
 * P = 1 and 2, seeded, at most 30M steps each (a few seconds). Q(lambda)
 * (lambda 0.8) with constant epsilon 0.1: its traces are cut where the
 * behaviour leaves the greedy policy. n-step Q (n = 3) also with constant
 * epsilon 0.1: its return follows the behaviour (no importance
 * correction), a bias that did not change the greedy policy here, while
 * an epsilon decaying to 0 froze it one or two states short of optimal on
 * taxi (the underestimated actions are no longer tried). Expected SARSA
 * with epsilon decaying to 0, and under softmax with the temperature
 * decaying from 1 to 0 (its expectation follows the softmax policy) on
 * maze4x3 and frozenlake4x4 only: an exponentially decaying temperature is
 * not GLIE, and on taxi 5 of 40 seeds (P = 1, and as often at P = 2) froze
 * one state short of optimal for good (an underestimated optimal action
 * whose probability exp(-gap/T) fell to nothing before it was corrected),
 * where the epsilon-greedy decay, trying every action with probability
 * epsilon/|A|, reached it in 40 of 40. q and double-q with constant 0.1. q,
 * double-q and Expected SARSA on maze4x3 and frozenlake4x4 are
 * test_rules.c's; here their taxi.
 */
static void
optimal(const char *envname, dq_rule rule, uint32_t p, dq_policy policy)
{
	dq_env *env;
	dq_env_spec sp;
	dq_table *t;
	dq_table_config tc;
	dq_learner_config c;
	dq_learner *l;
	dq_run_result r;

	assert_int_equal(dq_env_open_name(&env, envname), 0);
	dq_env_spec_get(env, &sp);
	dq_table_config_init(&tc);
	tc.n_states = sp.n_states;
	tc.n_actions = sp.n_actions;
	assert_int_equal(dq_rule_channels(rule, &tc.channels), 0);
	assert_int_equal(dq_table_create(&t, &tc), 0);
	dq_learner_config_init(&c);
	c.agent.rule = rule;
	c.agent.gamma = 0.95;
	c.agent.seed = 11;
	c.agent.nstep = 3;
	c.agent.lambda = 0.8;
	c.agent.policy = policy;
	if (rule == DQ_RULE_EXPECTED_SARSA)
		c.agent.epsilon = (dq_schedule){
		    .kind = DQ_SCHEDULE_EXP,
		    .start = policy == DQ_POLICY_SOFTMAX ? 1.0 : 0.3,
		    .end = 0.0,
		    .steps = 5e5};
	c.n_threads = p;
	c.max_steps = dq_test_converge_cap(30000000);
	c.max_seconds = 60;
	c.target_fraction = 1.0;
	c.target_interval = 0.001;
	assert_int_equal(dq_learner_create(&l, t, env, &c), 0);
	assert_int_equal(dq_learner_run(l, &r), 0);
	if (c.max_steps < 30000000 && r.reason == DQ_STOP_STEPS) {
		print_message(
		    "%s on %s P=%u: %llu steps, capped by "
		    "DQ_CONVERGE_STEPS (not checked for the optimum)\n",
		    dq_rule_name(rule), envname, p,
		    (unsigned long long)r.total.steps);
		goto out;
	}
	if (r.reason != DQ_STOP_TARGET)
		fail_msg("%s on %s, P=%u: stopped by %d after %llu steps",
			 dq_rule_name(rule), envname, p, (int)r.reason,
			 (unsigned long long)r.total.steps);
	assert_true(r.target_fraction == 1.0);
	print_message("%s%s %s P=%u: %llu steps\n", dq_rule_name(rule),
		      policy == DQ_POLICY_SOFTMAX ? " (softmax)" : "", envname,
		      p, (unsigned long long)r.target_steps);
out:
	dq_learner_destroy(l);
	dq_table_destroy(t);
	dq_env_close(env);
}

static void
test_off_policy_optimal(void **state)
{
	static const char *const envs[] = {"maze4x3", "frozenlake4x4", "taxi"};
	static const dq_rule mine[] = {DQ_RULE_NSTEP_Q, DQ_RULE_Q_LAMBDA};
	static const dq_rule taxi_gap[] = {DQ_RULE_Q, DQ_RULE_DOUBLE_Q,
					   DQ_RULE_EXPECTED_SARSA};

	(void)state;
	for (uint32_t p = 1; p <= 2; p++) {
		for (size_t e = 0; e < 3; e++) {
			for (size_t i = 0; i < 2; i++)
				optimal(envs[e], mine[i], p, DQ_POLICY_EGREEDY);
			if (e < 2)
				optimal(envs[e], DQ_RULE_EXPECTED_SARSA, p,
					DQ_POLICY_SOFTMAX);
		}
		for (size_t i = 0; i < 3; i++)
			optimal("taxi", taxi_gap[i], p, DQ_POLICY_EGREEDY);
	}
}

/*
 * Softmax draws action a with probability exp(Q(s,a)/T) / Z: on the row
 * (0, 1, 2, 0.5) at T = 0.5 and at T = 2 (the temperature scheduled
 * linearly from 2 to 0.5 over 1000 steps, read before and after them),
 * N = 200000 acts per temperature; each frequency within 5 standard
 * errors, sqrt(p (1 - p) / N), of its probability (a false alarm about
 * once in 3 million per frequency; the draws are seeded, so the test is
 * deterministic). At T = 0 every act is greedy.
 */
static void
check_freq(dq_agent *ag, const double *q, double T)
{
	enum { N = 200000 };
	uint32_t counts[4] = {0, 0, 0, 0};
	double z = 0.0;

	for (int i = 0; i < N; i++) {
		uint32_t a;

		assert_int_equal(dq_agent_act(ag, 0, &a), 0);
		counts[a]++;
	}
	for (int b = 0; b < 4; b++)
		z += exp(q[b] / T);
	for (int b = 0; b < 4; b++) {
		double p = exp(q[b] / T) / z, f = (double)counts[b] / N;
		double se = sqrt(p * (1 - p) / N);

		if (fabs(f - p) > 5 * se)
			fail_msg("T %g action %d: frequency %.5f, softmax %.5f "
				 "(5 se = %.5f)",
				 T, b, f, p, 5 * se);
	}
}

static void
test_softmax(void **state)
{
	static const double q[4] = {0.0, 1.0, 2.0, 0.5};
	dq_table *t = dq_test_table(2, 4, DQ_MODE_CAS, 0.0, false);
	dq_agent_config c;
	dq_agent *ag;
	dq_stats st;

	(void)state;
	for (uint32_t b = 0; b < 4; b++)
		assert_int_equal(dq_table_set(t, 0, b, q[b]), 0);
	dq_agent_config_init(&c);
	c.policy = DQ_POLICY_SOFTMAX;
	c.epsilon = (dq_schedule){.kind = DQ_SCHEDULE_LINEAR,
				  .start = 2.0,
				  .end = 0.5,
				  .steps = 1000};
	c.seed = 7;
	assert_int_equal(dq_agent_create(&ag, t, &c), 0);
	check_freq(ag, q, 2.0);
	/* 1000 steps on row 1 (terminated: nothing read from row 0) */
	for (int i = 0; i < 1000; i++)
		assert_int_equal(dq_agent_observe(ag, 1, 0, 0.0, 1, true), 0);
	assert_int_equal(dq_agent_stats_get(ag, &st), 0);
	assert_true(st.epsilon == 0.5);
	check_freq(ag, q, 0.5);
	dq_agent_destroy(ag);

	c.epsilon = (dq_schedule){.kind = DQ_SCHEDULE_CONSTANT};
	assert_int_equal(dq_agent_create(&ag, t, &c), 0);
	for (int i = 0; i < 1000; i++) {
		uint32_t a;

		assert_int_equal(dq_agent_act(ag, 0, &a), 0);
		assert_int_equal(a, 2);
	}
	dq_agent_destroy(ag);
	dq_table_destroy(t);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_names_and_ranges),
	    cmocka_unit_test(test_truncation_bootstraps),
	    cmocka_unit_test(test_nstep_chain),
	    cmocka_unit_test(test_batch),
	    cmocka_unit_test(test_nstep_sarsa_on_policy),
	    cmocka_unit_test(test_lambda_chain),
	    cmocka_unit_test(test_lambda_cut),
	    cmocka_unit_test(test_lambda_cap),
	    cmocka_unit_test(test_equivalences),
	    cmocka_unit_test(test_softmax),
	    cmocka_unit_test(test_off_policy_optimal),
	};

	return cmocka_run_group_tests_name("rules2", tests, NULL, NULL);
}
