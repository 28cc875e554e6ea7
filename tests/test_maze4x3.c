/* Unit tests for lib/envs/maze4x3.c: Russell & Norvig's 4x3 world. */
#include <errno.h>
#include <math.h>
#include <string.h>

#include "dq_test.h"
#include "envs/envs.h"

enum { N, E, S, W };

/*
 * Where each move lands, worked out by hand from the picture
 *
 *	 0  1  2  3(+1)
 *	 4  #  5  6(-1)
 *	 7  8  9 10
 *
 * (walls and edges keep the agent in place). Terminal rows are unused.
 */
static const uint32_t lands[11][4] = {
    /*        N   E   S   W */
    [0] = {0, 1, 4, 0}, [1] = {1, 2, 1, 0},  [2] = {2, 3, 5, 1},
    [4] = {0, 4, 7, 4}, [5] = {2, 6, 9, 5},  [7] = {4, 8, 7, 7},
    [8] = {8, 9, 8, 7}, [9] = {5, 10, 9, 8}, [10] = {6, 10, 10, 9},
};

static bool
terminal(uint32_t s)
{
	return s == 3 || s == 6;
}

static double
reward_of(uint32_t next, double living)
{
	return next == 3 ? 1.0 : next == 6 ? -1.0 : living;
}

/* Probability of landing in @p next from (s, a), by the hand table. */
static double
expected_prob(uint32_t s, uint32_t a, uint32_t next, double slip)
{
	double p = 0;

	if (lands[s][a] == next)
		p += 1 - slip;
	if (lands[s][(a + 3) % 4] == next)
		p += slip / 2;
	if (lands[s][(a + 1) % 4] == next)
		p += slip / 2;
	return p;
}

static void
check_all_outcomes(const char *spec_str, double living, double slip)
{
	dq_env *env;
	dq_outcome out[8];

	assert_int_equal(dq_env_open_name(&env, spec_str), 0);
	for (uint32_t s = 0; s < 11; s++) {
		for (uint32_t a = 0; a < 4; a++) {
			int n = dq_env_outcomes(env, s, a, out, 8);
			double total = 0;
			int distinct = 0;

			if (terminal(s)) {
				assert_int_equal(n, 1);
				assert_int_equal(out[0].next_state, s);
				assert_true(out[0].prob == 1.0);
				assert_true(out[0].reward == 0.0);
				assert_true(out[0].terminated);
				continue;
			}
			/* As many outcomes as distinct positive landings. */
			for (uint32_t t = 0; t < 11; t++)
				distinct += expected_prob(s, a, t, slip) > 0;
			assert_int_equal(n, distinct);
			for (int i = 0; i < n; i++) {
				uint32_t t = out[i].next_state;

				assert_true(fabs(out[i].prob -
						 expected_prob(s, a, t, slip)) <
					    1e-15);
				assert_true(out[i].reward ==
					    reward_of(t, living));
				assert_true(out[i].terminated == terminal(t));
				total += out[i].prob;
			}
			assert_true(fabs(total - 1.0) < 1e-12);
			/* The intended landing is listed first. */
			if (slip < 1)
				assert_int_equal(out[0].next_state,
						 lands[s][a]);
		}
	}
	dq_env_close(env);
}

static void
test_spec(void **state)
{
	dq_env *env;
	dq_env_spec spec;
	double p[11];

	(void)state;
	assert_int_equal(dq_env_open_name(&env, "maze4x3"), 0);
	assert_int_equal(dq_env_spec_get(env, &spec), 0);
	assert_int_equal(spec.n_states, 11);
	assert_int_equal(spec.n_actions, 4);
	assert_int_equal(spec.max_episode_steps, 100);
	assert_int_equal(spec.max_outcomes, 3);
	assert_int_equal(dq_env_start_probs(env, p, 11), 0);
	for (int s = 0; s < 11; s++)
		assert_true(p[s] == (s == 7 ? 1.0 : 0.0));
	dq_env_close(env);
	assert_int_equal(dq_env_open_name(&env, "maze4x3:max_steps=0"), 0);
	assert_int_equal(dq_env_spec_get(env, &spec), 0);
	assert_int_equal(spec.max_episode_steps, 0);
	dq_env_close(env);
}

static void
test_outcomes_default(void **state)
{
	(void)state;
	check_all_outcomes("maze4x3", -0.04, 0.2);
}

static void
test_outcomes_params(void **state)
{
	(void)state;
	check_all_outcomes("maze4x3:living_reward=0", 0.0, 0.2);
	check_all_outcomes("maze4x3:living_reward=-2,slip=0", -2.0, 0.0);
	check_all_outcomes("maze4x3:slip=0.5", -0.04, 0.5);
	check_all_outcomes("maze4x3:slip=1", -0.04, 1.0);
}

/* A few outcome lists written out in full. */
static void
test_outcomes_explicit(void **state)
{
	dq_env *env;
	dq_outcome o[3];

	(void)state;
	assert_int_equal(dq_env_open_name(&env, "maze4x3"), 0);
	/* Top-left corner, north: wall north and west merge to 0.9 stay. */
	assert_int_equal(dq_env_outcomes(env, 0, N, o, 3), 2);
	assert_int_equal(o[0].next_state, 0);
	assert_true(fabs(o[0].prob - 0.9) < 1e-15);
	assert_true(o[0].reward == -0.04 && !o[0].terminated);
	assert_int_equal(o[1].next_state, 1);
	assert_true(fabs(o[1].prob - 0.1) < 1e-15);
	/* Next to +1, east: +1 at 0.8 (terminal), stay 0.1, down 0.1. */
	assert_int_equal(dq_env_outcomes(env, 2, E, o, 3), 3);
	assert_int_equal(o[0].next_state, 3);
	assert_true(o[0].reward == 1.0 && o[0].terminated);
	assert_true(fabs(o[0].prob - 0.8) < 1e-15);
	assert_int_equal(o[1].next_state, 2);
	assert_int_equal(o[2].next_state, 5);
	/* Below +1 (state 6 is -1): from 10 north lands in -1. */
	assert_int_equal(dq_env_outcomes(env, 10, N, o, 3), 3);
	assert_int_equal(o[0].next_state, 6);
	assert_true(o[0].reward == -1.0 && o[0].terminated);
	assert_int_equal(o[1].next_state, 9);
	assert_int_equal(o[2].next_state, 10);
	/* 5, west into the wall: stay 0.8, north 2, south 9. */
	assert_int_equal(dq_env_outcomes(env, 5, W, o, 3), 3);
	assert_int_equal(o[0].next_state, 5);
	assert_int_equal(o[1].next_state, 9);
	assert_int_equal(o[2].next_state, 2);
	/* Bottom-right corner, south: stay 0.9, west 0.1. */
	assert_int_equal(dq_env_outcomes(env, 10, S, o, 3), 2);
	assert_int_equal(o[0].next_state, 10);
	assert_true(fabs(o[0].prob - 0.9) < 1e-15);
	assert_int_equal(o[1].next_state, 9);
	dq_env_close(env);
}

/*
 * Stepping from (s, a) 20000 times through the ops table lands on each
 * outcome as often as the model says, within 5 standard deviations, and
 * never anywhere else.
 */
static void
check_sampling(const char *params, uint32_t s, uint32_t a)
{
	const dq_env_ops *ops = &dq__env_maze4x3;
	const unsigned n = 20000;
	unsigned counts[11] = {0};
	dq_env_spec spec;
	dq_outcome o[3];
	dq_rng rng;
	void *def, *inst;
	int k;

	assert_int_equal(ops->open(&def, params, NULL, &spec), 0);
	assert_int_equal(ops->create(def, &inst), 0);
	assert_int_equal(dq_rng_seed(&rng, 1234 + s * 4 + a, 0), 0);
	k = ops->outcomes(def, s, a, o, 3);
	assert_true(k >= 1);
	for (unsigned i = 0; i < n; i++) {
		dq_step st;
		int j;

		assert_int_equal(ops->set_state(inst, s), 0);
		assert_int_equal(ops->step(inst, a, &rng, &st), 0);
		for (j = 0; j < k; j++)
			if (o[j].next_state == st.next_state)
				break;
		assert_true(j < k);
		assert_true(st.reward == o[j].reward);
		assert_true(st.terminated == o[j].terminated);
		assert_false(st.truncated);
		counts[st.next_state]++;
	}
	for (int j = 0; j < k; j++) {
		double mean = n * o[j].prob;
		double sd = sqrt(n * o[j].prob * (1 - o[j].prob));

		if (fabs(counts[o[j].next_state] - mean) > 5 * sd + 1)
			fail_msg("(%u,%u) -> %u: %u times, expected %.0f",
				 (unsigned)s, (unsigned)a,
				 (unsigned)o[j].next_state,
				 counts[o[j].next_state], mean);
	}
	ops->destroy(inst);
	ops->close(def);
}

static void
test_sampling(void **state)
{
	(void)state;
	check_sampling("", 0, N);
	check_sampling("", 2, E);
	check_sampling("", 8, N);
	check_sampling("", 9, W);
	check_sampling("", 10, N);
	check_sampling("slip=0.5", 5, S);
	check_sampling("slip=1", 7, N);
	check_sampling("slip=0", 4, N);
}

/* Terminal states absorb; set_state checks its range. */
static void
test_terminal_and_set_state(void **state)
{
	const dq_env_ops *ops = &dq__env_maze4x3;
	dq_env_spec spec;
	dq_rng rng;
	dq_step st;
	void *def, *inst;

	(void)state;
	assert_int_equal(dq_rng_seed(&rng, 5, 0), 0);
	assert_int_equal(ops->open(&def, "", NULL, &spec), 0);
	assert_int_equal(ops->create(def, &inst), 0);
	for (uint32_t s = 3; s <= 6; s += 3) {
		for (uint32_t a = 0; a < 4; a++) {
			assert_int_equal(ops->set_state(inst, s), 0);
			assert_int_equal(ops->step(inst, a, &rng, &st), 0);
			assert_int_equal(st.next_state, s);
			assert_true(st.reward == 0 && st.terminated);
		}
	}
	assert_int_equal(ops->set_state(inst, 11), -ERANGE);
	assert_int_equal(ops->outcomes(def, 11, 0, NULL, 0), -ERANGE);
	assert_int_equal(ops->outcomes(def, 0, 4, NULL, 0), -ERANGE);
	ops->destroy(inst);
	ops->close(def);
}

/* Episodes through the public API: start at 7, end at 3 or 6. */
static void
test_episodes(void **state)
{
	dq_env *env;
	dq_env_instance *inst;
	dq_rng rng;
	unsigned plus = 0, minus = 0;

	(void)state;
	assert_int_equal(dq_rng_seed(&rng, 99, 0), 0);
	assert_int_equal(dq_env_open_name(&env, "maze4x3:slip=0"), 0);
	assert_int_equal(dq_env_instance_create(env, &inst), 0);
	/* Deterministic: N, N, E, E, E is the optimal path to +1. */
	{
		static const uint32_t path[] = {N, N, E, E, E};
		static const uint32_t states[] = {4, 0, 1, 2, 3};
		uint32_t s;
		dq_step st;

		assert_int_equal(dq_env_instance_reset(inst, &rng, &s), 0);
		assert_int_equal(s, 7);
		for (int i = 0; i < 5; i++) {
			assert_int_equal(
			    dq_env_instance_step(inst, path[i], &rng, &st), 0);
			assert_int_equal(st.next_state, states[i]);
			assert_true(st.terminated == (i == 4));
			assert_true(st.reward == (i == 4 ? 1.0 : -0.04));
		}
	}
	dq_env_instance_destroy(inst);
	dq_env_close(env);

	/* Random walks on the slippery maze end in both terminals. */
	assert_int_equal(dq_env_open_name(&env, "maze4x3"), 0);
	assert_int_equal(dq_env_instance_create(env, &inst), 0);
	for (int ep = 0; ep < 500; ep++) {
		uint32_t s;
		dq_step st;

		assert_int_equal(dq_env_instance_reset(inst, &rng, &s), 0);
		assert_int_equal(s, 7);
		for (int t = 0; t < 10000; t++) {
			assert_int_equal(
			    dq_env_instance_step(inst, dq_rng_below(&rng, 4),
						 &rng, &st),
			    0);
			if (st.terminated)
				break;
			assert_true(st.reward == -0.04);
		}
		assert_true(st.terminated);
		plus += st.next_state == 3;
		minus += st.next_state == 6;
	}
	assert_int_equal(plus + minus, 500);
	assert_true(plus > 50 && minus > 50);
	dq_env_instance_destroy(inst);
	dq_env_close(env);
}

static void
test_bad_params(void **state)
{
	static const struct {
		const char *spec;
		int err;
	} bad[] = {
	    {"maze4x3:living_reward=x", -EINVAL},
	    {"maze4x3:living_reward=nan", -EINVAL},
	    {"maze4x3:living_reward=1e7", -ERANGE},
	    {"maze4x3:slip=1.5", -ERANGE},
	    {"maze4x3:slip=-0.1", -ERANGE},
	    {"maze4x3:max_steps=-1", -ERANGE},
	    {"maze4x3:max_steps=5G", -ERANGE},
	    {"maze4x3:foo=1", -EINVAL},
	    {"maze4x3:slip=0.1,slip=0.2", -EINVAL},
	    {"maze4x3:slip", -EINVAL},
	};
	dq_env *env = NULL;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (dq_env_open_name(&env, bad[i].spec) != bad[i].err)
			fail_msg("%s", bad[i].spec);
	}
	assert_null(env);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_spec),
	    cmocka_unit_test(test_outcomes_default),
	    cmocka_unit_test(test_outcomes_params),
	    cmocka_unit_test(test_outcomes_explicit),
	    cmocka_unit_test(test_sampling),
	    cmocka_unit_test(test_terminal_and_set_state),
	    cmocka_unit_test(test_episodes),
	    cmocka_unit_test(test_bad_params),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
