/* Unit tests for lib/envs/cliffwalking.c: Gymnasium's CliffWalking-v0. */
#include <errno.h>
#include <math.h>

#include "dq_test.h"
#include "envs/envs.h"

enum { UP, RIGHT, DOWN, LEFT };

static dq_outcome
outcome(dq_env *env, uint32_t s, uint32_t a)
{
	dq_outcome o[2];

	assert_int_equal(dq_env_outcomes(env, s, a, o, 2), 1);
	assert_true(o[0].prob == 1.0);
	return o[0];
}

static void
test_spec(void **state)
{
	dq_env *env;
	dq_env_spec spec;
	double p[48];

	(void)state;
	assert_int_equal(dq_env_open_name(&env, "cliffwalking"), 0);
	assert_int_equal(dq_env_spec_get(env, &spec), 0);
	assert_int_equal(spec.n_states, 48);
	assert_int_equal(spec.n_actions, 4);
	assert_int_equal(spec.max_episode_steps, 500);
	assert_int_equal(spec.max_outcomes, 1);
	assert_int_equal(dq_env_start_probs(env, p, 48), 0);
	for (uint32_t s = 0; s < 48; s++)
		assert_true(p[s] == (s == 36 ? 1.0 : 0.0));
	dq_env_close(env);
	assert_int_equal(dq_env_open_name(&env, "cliffwalking:max_steps=0"), 0);
	assert_int_equal(dq_env_spec_get(env, &spec), 0);
	assert_int_equal(spec.max_episode_steps, 0);
	dq_env_close(env);
}

static void
test_cliff(void **state)
{
	dq_env *env;
	dq_outcome o;

	(void)state;
	assert_int_equal(dq_env_open_name(&env, "cliffwalking"), 0);
	/* From the start, right is the cliff: -100, back to 36, go on. */
	o = outcome(env, 36, RIGHT);
	assert_true(o.next_state == 36 && o.reward == -100 && !o.terminated);
	/* From above every cliff cell, down is the cliff. */
	for (uint32_t c = 1; c <= 10; c++) {
		o = outcome(env, 24 + c, DOWN);
		assert_true(o.next_state == 36 && o.reward == -100 &&
			    !o.terminated);
	}
	/* Above the start and above the goal, down is safe. */
	o = outcome(env, 24, DOWN);
	assert_true(o.next_state == 36 && o.reward == -1 && !o.terminated);
	o = outcome(env, 35, DOWN);
	assert_true(o.next_state == 47 && o.reward == -1 && o.terminated);
	/* Edges stay put at -1. */
	o = outcome(env, 36, LEFT);
	assert_true(o.next_state == 36 && o.reward == -1);
	o = outcome(env, 36, DOWN);
	assert_true(o.next_state == 36 && o.reward == -1);
	o = outcome(env, 0, UP);
	assert_true(o.next_state == 0 && o.reward == -1);
	o = outcome(env, 11, RIGHT);
	assert_true(o.next_state == 11 && o.reward == -1);
	o = outcome(env, 36, UP);
	assert_true(o.next_state == 24 && o.reward == -1);
	/* The goal absorbs. */
	for (uint32_t a = 0; a < 4; a++) {
		o = outcome(env, 47, a);
		assert_true(o.next_state == 47 && o.reward == 0 &&
			    o.terminated);
	}
	/* Only entering the goal terminates. */
	for (uint32_t s = 0; s < 47; s++)
		for (uint32_t a = 0; a < 4; a++)
			assert_true(outcome(env, s, a).terminated ==
				    (outcome(env, s, a).next_state == 47));
	dq_env_close(env);
}

/* Step agrees with the model everywhere. */
static void
test_step_matches_model(void **state)
{
	const dq_env_ops *ops = &dq__env_cliffwalking;
	dq_env_spec spec;
	dq_rng rng;
	void *def, *inst;

	(void)state;
	assert_int_equal(dq_rng_seed(&rng, 3, 0), 0);
	assert_int_equal(ops->open(&def, "", NULL, &spec), 0);
	assert_int_equal(ops->create(def, &inst), 0);
	for (uint32_t s = 0; s < 48; s++) {
		for (uint32_t a = 0; a < 4; a++) {
			dq_outcome o;
			dq_step st;

			assert_int_equal(ops->outcomes(def, s, a, &o, 1), 1);
			assert_int_equal(ops->set_state(inst, s), 0);
			assert_int_equal(ops->step(inst, a, &rng, &st), 0);
			assert_true(st.next_state == o.next_state &&
				    st.reward == o.reward &&
				    st.terminated == o.terminated &&
				    !st.truncated);
		}
	}
	assert_int_equal(ops->set_state(inst, 48), -ERANGE);
	assert_int_equal(ops->outcomes(def, 48, 0, NULL, 0), -ERANGE);
	ops->destroy(inst);
	if (ops->close)
		ops->close(def);
}

/* The optimal path along the cliff edge: 13 steps, return -13. */
static void
test_optimal_episode(void **state)
{
	dq_env *env;
	dq_env_instance *inst;
	dq_rng rng;
	dq_step st;
	uint32_t s;
	double ret = 0;
	int steps = 0;

	(void)state;
	assert_int_equal(dq_rng_seed(&rng, 3, 0), 0);
	assert_int_equal(dq_env_open_name(&env, "cliffwalking"), 0);
	assert_int_equal(dq_env_instance_create(env, &inst), 0);
	assert_int_equal(dq_env_instance_reset(inst, &rng, &s), 0);
	assert_int_equal(s, 36);
	assert_int_equal(dq_env_instance_step(inst, UP, &rng, &st), 0);
	ret += st.reward, steps++;
	for (int i = 0; i < 11; i++) {
		assert_int_equal(dq_env_instance_step(inst, RIGHT, &rng, &st),
				 0);
		assert_false(st.terminated);
		ret += st.reward, steps++;
	}
	assert_int_equal(st.next_state, 35);
	assert_int_equal(dq_env_instance_step(inst, DOWN, &rng, &st), 0);
	ret += st.reward, steps++;
	assert_true(st.terminated && st.next_state == 47);
	assert_int_equal(steps, 13);
	assert_true(ret == -13);
	/* Falling does not end an episode: reset, right, right again. */
	assert_int_equal(dq_env_instance_reset(inst, &rng, &s), 0);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(dq_env_instance_step(inst, RIGHT, &rng, &st),
				 0);
		assert_true(st.next_state == 36 && st.reward == -100 &&
			    !st.terminated);
	}
	dq_env_instance_destroy(inst);
	dq_env_close(env);
}

static void
test_bad_params(void **state)
{
	dq_env *env = NULL;

	(void)state;
	assert_int_equal(dq_env_open_name(&env, "cliffwalking:slippery=1"),
			 -EINVAL);
	assert_int_equal(dq_env_open_name(&env, "cliffwalking:max_steps=1.5"),
			 -EINVAL);
	assert_int_equal(dq_env_open_name(&env, "cliffwalking:max_steps=5G"),
			 -ERANGE);
	assert_null(env);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_spec),
	    cmocka_unit_test(test_cliff),
	    cmocka_unit_test(test_step_matches_model),
	    cmocka_unit_test(test_optimal_episode),
	    cmocka_unit_test(test_bad_params),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
