/*
 * Unit tests for lib/envs/snake.c: the egocentric state, walls, growth,
 * the tail that moves away, starvation, and that Q-learning learns to eat
 * (the seeds' Snake, issue 15).
 */
#include <errno.h>
#include <math.h>

#include "dq_test.h"

/* State fields (see snake.c): ((danger * 4 + heading) * 3 + fx) * 3 + fy */
#define DANGER(s) ((s) / 36)
#define HEADING(s) ((s) / 9 % 4)

static void
test_start_and_wall(void **state)
{
	dq_env *env;
	dq_env_instance *in;
	dq_rng rng;
	dq_step st;
	uint32_t s;
	double ret = 0.0;
	int k;

	(void)state;
	assert_int_equal(dq_env_open_name(&env, "snake"), 0);
	assert_int_equal(dq_env_instance_create(env, &in), 0);
	assert_int_equal(dq_rng_seed(&rng, 3, 0), 0);
	assert_int_equal(dq_env_instance_reset(in, &rng, &s), 0);
	assert_true(s < 288);
	assert_int_equal(HEADING(s), 1); /* right */
	assert_int_equal(DANGER(s), 0);	 /* mid-grid, nothing near */
	/* Straight on from column 4 of 8: columns 5, 6, 7, then the wall,
	 * which the state announces as "danger straight" (bit 2). */
	for (k = 0; k < 3; k++) {
		assert_int_equal(dq_env_instance_step(in, 0, &rng, &st), 0);
		assert_false(st.terminated);
		assert_true(st.reward == 0.0 || st.reward == 10.0);
		ret += st.reward;
	}
	assert_int_equal(DANGER(st.next_state) & 4, 4);
	assert_int_equal(dq_env_instance_step(in, 0, &rng, &st), 0);
	assert_true(st.terminated && st.reward == -10.0);
	/* Stepping a finished episode again changes nothing. */
	assert_int_equal(dq_env_instance_step(in, 1, &rng, &st), 0);
	assert_true(st.terminated && st.reward == 0.0);
	(void)ret;
	dq_env_instance_destroy(in);
	dq_env_close(env);
}

/*
 * Circling in a 2 x 2 square (a 3-cell snake always finds the fourth cell
 * free): the environment cuts the episode after 2 W H = 128 steps without
 * food (truncated, not terminated).
 */
static void
test_starvation(void **state)
{
	dq_env *env;
	dq_env_instance *in;
	dq_rng rng;
	dq_step st;
	uint32_t s, hungry = 0;
	int checked = 0;

	(void)state;
	assert_int_equal(dq_env_open_name(&env, "snake"), 0);
	assert_int_equal(dq_env_instance_create(env, &in), 0);
	for (uint64_t seed = 1; seed < 20 && checked < 3; seed++) {
		bool ate = false;

		dq_rng_seed(&rng, seed, 0);
		dq_env_instance_reset(in, &rng, &s);
		hungry = 0;
		for (int k = 0; k < 200; k++) {
			assert_int_equal(dq_env_instance_step(in, 2, &rng, &st),
					 0);
			assert_false(st.terminated);
			if (st.reward > 0.0) {
				ate = true;
				break;
			}
			hungry++;
			if (st.truncated)
				break;
		}
		if (ate) /* food fell in the square: try another seed */
			continue;
		assert_true(st.truncated);
		assert_int_equal(hungry, 128);
		checked++;
	}
	assert_int_equal(checked, 3);
	dq_env_instance_destroy(in);
	dq_env_close(env);
}

/* Q-learning on the 288 states learns to eat (1 agent: the same run each time). */
static void
test_learns_to_eat(void **state)
{
	dq_env *env;
	dq_table *t = dq_test_table(288, 3, DQ_MODE_CAS, 0.0, false);
	dq_learner_config lc;
	dq_learner *l;
	dq_run_result r;

	(void)state;
	assert_int_equal(dq_env_open_name(&env, "snake"), 0);
	dq_learner_config_init(&lc);
	lc.pin = DQ_PIN_NONE;
	lc.agent.gamma = 0.9;
	lc.agent.epsilon.start = lc.agent.epsilon.end = 0.01;
	lc.max_steps = 300000;
	assert_int_equal(dq_learner_create(&l, t, env, &lc), 0);
	assert_int_equal(dq_learner_run(l, &r), 0);
	/* A random snake dies with about -10 + a food in 30; after 300k
	 * steps it eats about ten foods an episode (mean return ~ 90). */
	print_message("snake: mean return %.1f after %llu steps\n",
		      r.total.mean_return, (unsigned long long)r.total.steps);
	assert_true(r.total.mean_return > 40.0);
	dq_learner_destroy(l);
	dq_table_destroy(t);
	dq_env_close(env);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_start_and_wall),
	    cmocka_unit_test(test_starvation),
	    cmocka_unit_test(test_learns_to_eat),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
