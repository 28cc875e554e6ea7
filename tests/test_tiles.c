/*
 * Unit tests for lib/tiles.c, lib/tiles.h and lib/tilerule.h: the tile
 * coder (Sutton's tiles3 offsets), its text form, the TD update over
 * tiles in every discipline, the rules' targets, and tile-coded learning
 * that solves CartPole-v1 through the learner.
 */
#include <errno.h>
#include <math.h>
#include <string.h>

#include "dq_test_tiles.h"

/*
 * One dimension, 4 tilings of 1 tile over [0, 1] (2 per tiling with the
 * offset): tiling t is displaced by t/4 of a tile, so x = 0.3 (a quarter
 * plus) reaches the second tile in tiling 3 only, and x = 0.8 in tilings
 * 1, 2, 3.
 */
static void
test_active_1d(void **state)
{
	dq_tiles *tc = dq_test_tiles("4x1", 1, 0.0, 1.0);
	uint32_t f[4], rows;
	const double x1 = 0.1, x2 = 0.3, x3 = 0.8, x4 = -5.0, x5 = 7.0;

	(void)state;
	assert_int_equal(dq_tiles_features(tc, &rows), 0);
	assert_int_equal(rows, 8);
	assert_int_equal(dq_tiles_active(tc, &x1, f, 4), 4);
	assert_true(f[0] == 0 && f[1] == 2 && f[2] == 4 && f[3] == 6);
	assert_int_equal(dq_tiles_active(tc, &x2, f, 4), 4);
	assert_true(f[0] == 0 && f[1] == 2 && f[2] == 4 && f[3] == 7);
	assert_int_equal(dq_tiles_active(tc, &x3, f, 4), 4);
	assert_true(f[0] == 0 && f[1] == 3 && f[2] == 5 && f[3] == 7);
	/* Outside the span: the edge tiles. */
	assert_int_equal(dq_tiles_active(tc, &x4, f, 4), 4);
	assert_true(f[0] == 0 && f[1] == 2 && f[2] == 4 && f[3] == 6);
	assert_int_equal(dq_tiles_active(tc, &x5, f, 4), 4);
	assert_true(f[0] == 0 && f[1] == 3 && f[2] == 5 && f[3] == 7);
	assert_int_equal(dq_tiles_active(tc, &x1, f, 3), -EINVAL);
	dq_tiles_destroy(tc);
}

/*
 * Two dimensions: the displacement is (1, 3) x t / T of a tile (Sutton &
 * Barto 9.5.4), not (1, 1): with T = 4 and 1 tile per dimension over
 * [0, 1], tiling t's boundary in dimension 1 sits at 1 - (3t mod 4) / 4.
 */
static void
test_asymmetric_offsets(void **state)
{
	dq_tiles *tc = dq_test_tiles("4x1,1", 2, 0.0, 1.0);
	const double x[2] = {0.3, 0.3};
	uint32_t f[4];

	(void)state;
	assert_int_equal(dq_tiles_active(tc, x, f, 4), 4);
	/* q = (1, 1); tiling t: ((1 + t) / 4, (1 + 3t mod 4) / 4); a tiling
	 * has 2 x 2 tiles, the last dimension fastest. */
	assert_int_equal(f[0], 0 * 4 + 0 * 2 + 0);
	assert_int_equal(f[1], 1 * 4 + 0 * 2 + 1); /* 3 mod 4 = 3: +1 */
	assert_int_equal(f[2], 2 * 4 + 0 * 2 + 0); /* 6 mod 4 = 2 */
	assert_int_equal(f[3], 3 * 4 + 1 * 2 + 0); /* 9 mod 4 = 1 */
	dq_tiles_destroy(tc);
}

/*
 * Any T (here 3 and 5, not powers of two, and 8, one): tiling t's
 * coordinate in dimension i is floor((q_i + (t (2i + 1) mod T)) / T),
 * q_i = floor(x_i / width x T), against this direct computation.
 */
static void
test_any_tilings(void **state)
{
	const uint32_t Ts[] = {3, 5, 8};

	(void)state;
	for (size_t k = 0; k < 3; k++) {
		const uint32_t T = Ts[k];
		char text[32];
		dq_tiles *tc;
		uint32_t f[8];

		snprintf(text, sizeof(text), "%ux3,2", T);
		tc = dq_test_tiles(text, 2, 0.0, 1.0);
		for (double x = 0.0; x < 1.0; x += 0.037) {
			const double o[2] = {x, 1.0 - x};
			const uint32_t bins[2] = {3, 2};

			assert_int_equal(dq_tiles_active(tc, o, f, 8), (int)T);
			for (uint32_t t = 0; t < T; t++) {
				uint32_t idx = t * 4 * 3, c[2];

				for (int i = 0; i < 2; i++) {
					uint32_t q =
					    (uint32_t)floor(o[i] * bins[i] * T);

					if (q > bins[i] * T - 1)
						q = bins[i] * T - 1;
					c[i] = (q + t * (2 * i + 1) % T) / T;
				}
				idx += c[0] * 3 + c[1];
				assert_int_equal(f[t], idx);
			}
		}
		dq_tiles_destroy(tc);
	}
}

/* Near points share most tiles, far ones none; hashing stays in range. */
static void
test_generalisation_and_hashing(void **state)
{
	dq_tiles *tc = dq_test_tiles("8x10,10", 2, -1.0, 1.0);
	dq_tiles *th = dq_test_tiles("8x10,10/1000", 2, -1.0, 1.0);
	const double a[2] = {0.1, 0.2}, b[2] = {0.11, 0.2}, c[2] = {0.9, -0.7};
	uint32_t fa[8], fb[8], fc[8], rows;
	int same_ab = 0, same_ac = 0;

	(void)state;
	dq_tiles_active(tc, a, fa, 8);
	dq_tiles_active(tc, b, fb, 8);
	dq_tiles_active(tc, c, fc, 8);
	for (int t = 0; t < 8; t++) {
		same_ab += fa[t] == fb[t];
		same_ac += fa[t] == fc[t];
	}
	assert_true(same_ab >= 6); /* 0.01 of a 0.2 tile apart */
	assert_int_equal(same_ac, 0);
	assert_int_equal(dq_tiles_features(th, &rows), 0);
	assert_int_equal(rows, 1000);
	for (double x = -1.5; x < 1.5; x += 0.01) {
		const double o[2] = {x, -x};

		dq_tiles_active(th, o, fa, 8);
		for (int t = 0; t < 8; t++)
			assert_true(fa[t] < 1000);
	}
	dq_tiles_destroy(tc);
	dq_tiles_destroy(th);
}

static void
test_parse_format(void **state)
{
	dq_tiles_config c, back;
	dq_tiles *tc;
	char buf[512];
	int n;

	(void)state;
	dq_tiles_config_init(&c);
	assert_int_equal(
	    dq_tiles_config_parse(&c, "8x6,5,4@-2.4:2.4,-3:3,0.1:0.25/4096"),
	    0);
	assert_int_equal(c.n_tilings, 8);
	assert_int_equal(c.dim, 3);
	assert_true(c.bins[0] == 6 && c.bins[1] == 5 && c.bins[2] == 4);
	assert_true(c.low[2] == 0.1 && c.high[2] == 0.25);
	assert_int_equal(c.hash_rows, 4096);
	assert_int_equal(dq_tiles_create(&tc, &c), 0);
	n = dq_tiles_format(tc, buf, sizeof(buf));
	assert_true(n > 0 && (size_t)n < sizeof(buf));
	assert_int_equal(dq_tiles_format(tc, NULL, 0), n);
	dq_tiles_config_init(&back);
	assert_int_equal(dq_tiles_config_parse(&back, buf), 0);
	assert_memory_equal(&back, &c, sizeof(c));
	dq_tiles_destroy(tc);
	/* One bin count for all dimensions once dim is known. */
	c.dim = 4;
	assert_int_equal(dq_tiles_config_parse(&c, "16x7"), 0);
	assert_true(c.n_tilings == 16 && c.bins[3] == 7 && c.hash_rows == 0);
	/* Errors leave the config alone. */
	back = c;
	assert_int_equal(dq_tiles_config_parse(&c, "8x"), -EINVAL);
	assert_int_equal(dq_tiles_config_parse(&c, "x6"), -EINVAL);
	assert_int_equal(dq_tiles_config_parse(&c, "8x6,6"), -EINVAL);
	assert_int_equal(dq_tiles_config_parse(&c, "0x6"), -ERANGE);
	assert_int_equal(dq_tiles_config_parse(&c, "8x6/0"), -ERANGE);
	assert_int_equal(dq_tiles_config_parse(&c, "8x6,6,6,6 "), -EINVAL);
	assert_memory_equal(&back, &c, sizeof(c));
	/* A span that is not increasing; too many rows unhashed. */
	c.low[0] = c.high[0];
	assert_int_equal(dq_tiles_create(&tc, &c), -EINVAL);
	dq_tiles_config_init(&c);
	c.dim = 4;
	assert_int_equal(dq_tiles_config_parse(&c, "1024x1000@0:1,0:1,0:1,0:1"),
			 0);
	assert_int_equal(dq_tiles_create(&tc, &c), -ERANGE);
}

/* From an environment: its span; no observation: -ENOTSUP. */
static void
test_from_env(void **state)
{
	dq_env *env;
	dq_tiles_config c;

	(void)state;
	assert_int_equal(dq_env_open_name(&env, "cartpole"), 0);
	dq_tiles_config_init(&c);
	assert_int_equal(dq_tiles_config_from_env(&c, env, "8x4,4,8,8"), 0);
	assert_true(c.dim == 4 && c.low[0] == -2.4 && c.high[1] == 3.0);
	assert_int_equal(dq_tiles_config_from_env(&c, env, "8x4,4"), -EINVAL);
	dq_env_close(env);
	assert_int_equal(dq_env_open_name(&env, "taxi"), 0);
	assert_int_equal(dq_tiles_config_from_env(&c, env, "8x4"), -ENOTSUP);
	dq_env_close(env);
}

typedef dq_test_rig rig;

/* One dimension on [0, 1], 8 tilings of 4 tiles, 2 actions, epsilon 0. */
static rig
rig_make(dq_mode mode, dq_rule rule, double alpha, double gamma)
{
	dq_agent_config ac;

	dq_agent_config_init(&ac);
	ac.alpha.start = ac.alpha.end = alpha;
	ac.epsilon.start = ac.epsilon.end = 0.0;
	ac.gamma = gamma;
	ac.rule = rule;
	return dq_test_rig_make("8x4", mode, &ac);
}

/*
 * A terminal update adds alpha / T x error to each active tile, so Q(s, a)
 * moves by alpha x error (the sum), in every discipline; a state sharing
 * no tile is untouched, one sharing some moves in proportion.
 */
static void
test_update_every_mode(void **state)
{
	const dq_mode modes[] = {DQ_MODE_CAS, DQ_MODE_HOGWILD, DQ_MODE_LOCKED};

	(void)state;
	for (size_t m = 0; m < 3; m++) {
		rig r = rig_make(modes[m], DQ_RULE_Q, 0.5, 1.0);
		const double s = 0.1, far = 0.95;
		double q[2];

		assert_int_equal(
		    dq_agent_observe_obs(r.ag, &s, 1, 2.0, NULL, true), 0);
		assert_int_equal(dq_tiles_values(r.tc, r.t, &s, q, 2), 0);
		assert_true(q[0] == 0.0 && q[1] == 1.0); /* 0.5 x 2 */
		assert_int_equal(dq_tiles_values(r.tc, r.t, &far, q, 2), 0);
		assert_true(q[1] == 0.0);
		/* Again: the error is now 1, Q(s, 1) -> 1.5. */
		assert_int_equal(
		    dq_agent_observe_obs(r.ag, &s, 1, 2.0, NULL, true), 0);
		assert_int_equal(dq_tiles_values(r.tc, r.t, &s, q, 2), 0);
		assert_true(q[1] == 1.5);
		dq_test_rig_free(&r);
	}
}

/*
 * Targets: q bootstraps from max Q(s', .), expected-sarsa from the
 * epsilon-greedy expectation (epsilon 0 here: the max), and a truncated
 * (non-terminal) transition bootstraps while a terminated one does not.
 */
static void
test_bootstrap(void **state)
{
	const dq_rule rules[] = {DQ_RULE_Q, DQ_RULE_SARSA,
				 DQ_RULE_EXPECTED_SARSA};

	(void)state;
	for (size_t k = 0; k < 3; k++) {
		rig r = rig_make(DQ_MODE_CAS, rules[k], 0.5, 0.9);
		const double s = 0.05, s2 = 0.95;
		double q[2];
		uint32_t a;

		/* Q(s2, 0) = 1 (a terminal update of 2 at alpha 0.5). */
		assert_int_equal(
		    dq_agent_observe_obs(r.ag, &s2, 0, 2.0, NULL, true), 0);
		/* s -> s2, reward 0, not terminated: target 0.9 x 1. */
		assert_int_equal(
		    dq_agent_observe_obs(r.ag, &s, 1, 0.0, &s2, false), 0);
		dq_tiles_values(r.tc, r.t, &s, q, 2);
		assert_true(fabs(q[1] - 0.45) < 1e-15);
		/* The next act in s2 is the greedy action 0 (epsilon 0). */
		assert_int_equal(dq_agent_act_obs(r.ag, &s2, &a), 0);
		assert_int_equal(a, 0);
		/* Terminated: no bootstrap, Q(s, 1) -> 0.45 + 0.5(0 - 0.45). */
		assert_int_equal(
		    dq_agent_observe_obs(r.ag, &s, 1, 0.0, &s2, true), 0);
		dq_tiles_values(r.tc, r.t, &s, q, 2);
		assert_true(fabs(q[1] - 0.225) < 1e-15);
		dq_test_rig_free(&r);
	}
}

/* What a tile-coded agent refuses, and what a tabular one does. */
static void
test_refusals(void **state)
{
	dq_tiles *tc = dq_test_tiles("8x4", 1, 0.0, 1.0);
	dq_agent_config ac;
	dq_table *t = dq_test_table(40, 2, DQ_MODE_CAS, 0.0, false);
	dq_table *small = dq_test_table(39, 2, DQ_MODE_CAS, 0.0, false);
	dq_agent *ag;
	const double o = 0.5;
	uint32_t a;

	(void)state;
	dq_agent_config_init(&ac);
	ac.tiles = tc;
	ac.rule = DQ_RULE_DOUBLE_Q;
	assert_int_equal(dq_agent_create(&ag, t, &ac), DQ_ERULE);
	ac.rule = DQ_RULE_Q;
	ac.sync_every = 10;
	assert_int_equal(dq_agent_create(&ag, t, &ac), DQ_ERULE);
	ac.sync_every = 0;
	assert_int_equal(dq_agent_create(&ag, small, &ac), -EINVAL);
	assert_int_equal(dq_agent_create(&ag, t, &ac), 0);
	assert_int_equal(dq_agent_act(ag, 0, &a), -EINVAL);
	assert_int_equal(dq_agent_observe(ag, 0, 0, 1.0, 1, false), -EINVAL);
	assert_int_equal(dq_agent_observe_obs(ag, &o, 0, NAN, &o, false),
			 -EINVAL);
	assert_int_equal(dq_agent_observe_obs(ag, &o, 2, 1.0, &o, false),
			 -EINVAL);
	dq_agent_destroy(ag);
	ac.tiles = NULL;
	assert_int_equal(dq_agent_create(&ag, t, &ac), 0);
	assert_int_equal(dq_agent_act_obs(ag, &o, &a), -EINVAL);
	dq_agent_destroy(ag);
	dq_table_destroy(t);
	dq_table_destroy(small);
	dq_tiles_destroy(tc);
}

/* Greedy mean return of n episodes (this test's own evaluation): ties to
 * the lowest action, episodes cut at the environment's limit. */
static double
greedy_mean(dq_env *env, const dq_tiles *tc, const dq_table *t, int n)
{
	dq_env_instance *in;
	dq_env_spec sp;
	dq_rng rng;
	double sum = 0.0, obs[DQ_OBS_MAX_DIM], q[8];

	assert_int_equal(dq_env_spec_get(env, &sp), 0);
	assert_int_equal(dq_env_instance_create(env, &in), 0);
	dq_rng_seed(&rng, 99, 0);
	for (int e = 0; e < n; e++) {
		dq_step st = {0};
		uint32_t s, len = 0, a;

		dq_env_instance_reset(in, &rng, &s);
		do {
			dq_env_instance_observe(in, obs, DQ_OBS_MAX_DIM);
			dq_tiles_values(tc, t, obs, q, 8);
			a = 0;
			for (uint32_t b = 1; b < sp.n_actions; b++)
				if (q[b] > q[a])
					a = b;
			dq_env_instance_step(in, a, &rng, &st);
			sum += st.reward;
		} while (!st.terminated && ++len < sp.max_episode_steps);
	}
	dq_env_instance_destroy(in);
	return sum / n;
}

/*
 * CartPole-v1 solved through the learner (one agent thread, so the run is
 * the same every time): greedy mean >= 475 over 100 episodes within
 * 200,000 steps (bench/tiles_solve measures 10 seeds at 2 threads).
 */
static void
test_learner_solves_cartpole(void **state)
{
	dq_test_tl x;
	dq_learner_config lc;
	dq_run_result res;
	double mean = 0.0;
	int k;

	(void)state;
	dq_test_tl_open(&x, "cartpole", "8x4,4,8,8", DQ_MODE_CAS, 1, &lc);
	lc.agent.gamma = 1.0;
	lc.agent.epsilon.start = lc.agent.epsilon.end = 0.05;
	lc.max_steps = 20000;
	assert_int_equal(dq_learner_create(&x.l, x.t, x.env, &lc), 0);
	for (k = 0; k < 10 && mean < 475.0; k++) {
		assert_int_equal(dq_learner_run(x.l, &res), 0);
		mean = greedy_mean(x.env, x.tc, x.t, 100);
	}
	print_message("cartpole: greedy mean %.1f after %llu steps\n", mean,
		      (unsigned long long)res.total.steps);
	assert_true(mean >= 475.0);
	dq_learner_destroy(x.l);
	x.l = NULL;
	/* The learner refuses a coder of another dimension. */
	{
		dq_tiles *t2 = dq_test_tiles("8x4,4", 2, 0.0, 1.0);
		dq_learner *l2 = NULL;
		uint32_t r2;

		dq_tiles_features(t2, &r2);
		dq_table *tb = dq_test_table(r2, 2, DQ_MODE_CAS, 0.0, false);

		lc.agent.tiles = t2;
		assert_int_equal(dq_learner_create(&l2, tb, x.env, &lc),
				 -EINVAL);
		dq_table_destroy(tb);
		dq_tiles_destroy(t2);
	}
	dq_test_tl_free(&x);
}

/*
 * Two agent threads on one weight table, in every discipline: the run
 * completes its steps and leaves every weight finite (under TSan, make
 * check's thread-sanitizer pass, it also shows the weights are touched
 * only through atomic operations or the stripe locks).
 */
static void
test_two_threads_every_mode(void **state)
{
	const dq_mode modes[] = {DQ_MODE_CAS, DQ_MODE_HOGWILD, DQ_MODE_LOCKED};
	dq_env *env;
	dq_tiles *tc;
	uint32_t rows;

	(void)state;
	assert_int_equal(dq_env_open_name(&env, "mountaincar"), 0);
	tc = dq_test_tiles_env(env, "8x8,8", &rows);
	for (size_t m = 0; m < 3; m++) {
		dq_table *t = dq_test_table(rows, 3, modes[m], 0.0, false);
		dq_learner_config lc;
		dq_learner *l;
		dq_run_result res;
		double w;

		dq_learner_config_init(&lc);
		lc.n_threads = 2;
		lc.pin = DQ_PIN_NONE;
		lc.agent.rule = DQ_RULE_SARSA;
		lc.agent.alpha.start = lc.agent.alpha.end = 0.5;
		lc.agent.epsilon.start = lc.agent.epsilon.end = 0.0;
		lc.agent.gamma = 1.0;
		lc.agent.tiles = tc;
		lc.max_steps = 20000;
		assert_int_equal(dq_learner_create(&l, t, env, &lc), 0);
		assert_int_equal(dq_learner_run(l, &res), 0);
		assert_int_equal(res.run_steps, 20000);
		for (uint32_t r = 0; r < rows; r++)
			for (uint32_t a = 0; a < 3; a++) {
				assert_int_equal(dq_table_get(t, r, a, &w), 0);
				assert_true(isfinite(w));
			}
		dq_learner_destroy(l);
		dq_table_destroy(t);
	}
	dq_tiles_destroy(tc);
	dq_env_close(env);
}

/*
 * MountainCar-v0 solved through the learner (one thread): greedy mean >=
 * -110 within 400,000 steps, from optimism alone (epsilon 0, weights 0
 * where every reward is -1).
 */
static void
test_learner_solves_mountaincar(void **state)
{
	dq_test_tl x;
	dq_learner_config lc;
	dq_run_result res;
	double mean = -200.0;

	(void)state;
	dq_test_tl_open(&x, "mountaincar", "8x8,8", DQ_MODE_CAS, 1, &lc);
	lc.agent.gamma = 1.0;
	lc.agent.alpha.start = lc.agent.alpha.end = 0.5;
	lc.agent.epsilon.start = lc.agent.epsilon.end = 0.0;
	lc.max_steps = 20000;
	assert_int_equal(dq_learner_create(&x.l, x.t, x.env, &lc), 0);
	for (int k = 0; k < 20 && mean < -110.0; k++) {
		assert_int_equal(dq_learner_run(x.l, &res), 0);
		mean = greedy_mean(x.env, x.tc, x.t, 100);
	}
	print_message("mountaincar: greedy mean %.1f after %llu steps\n", mean,
		      (unsigned long long)res.total.steps);
	assert_true(mean >= -110.0);
	dq_test_tl_free(&x);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_active_1d),
	    cmocka_unit_test(test_asymmetric_offsets),
	    cmocka_unit_test(test_any_tilings),
	    cmocka_unit_test(test_generalisation_and_hashing),
	    cmocka_unit_test(test_parse_format),
	    cmocka_unit_test(test_from_env),
	    cmocka_unit_test(test_update_every_mode),
	    cmocka_unit_test(test_bootstrap),
	    cmocka_unit_test(test_refusals),
	    cmocka_unit_test(test_learner_solves_cartpole),
	    cmocka_unit_test(test_learner_solves_mountaincar),
	    cmocka_unit_test(test_two_threads_every_mode),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
