/* Unit tests for lib/envs/frozenlake.c: Gymnasium's FrozenLake-v1. */
#include <errno.h>
#include <math.h>
#include <string.h>

#include "dq_test.h"
#include "envs/envs.h"

enum { LEFT, DOWN, RIGHT, UP };

/* Holes and goal, read off Gymnasium's maps by hand. */
static const uint32_t holes4[] = {5, 7, 11, 12};
static const uint32_t holes8[] = {19, 29, 35, 41, 42, 46, 49, 52, 54, 59};

static bool
in(const uint32_t *set, size_t n, uint32_t s)
{
	for (size_t i = 0; i < n; i++)
		if (set[i] == s)
			return true;
	return false;
}

static void
test_specs(void **state)
{
	static const struct {
		const char *name;
		uint32_t n_states, max_steps, max_outcomes;
	} want[] = {
	    {"frozenlake4x4", 16, 100, 3},
	    {"frozenlake4x4-det", 16, 100, 1},
	    {"frozenlake8x8", 64, 200, 3},
	    {"frozenlake8x8-det", 64, 200, 1},
	    {"frozenlake4x4:slippery=0", 16, 100, 1},
	    {"frozenlake8x8-det:slippery=yes", 64, 200, 3},
	    {"frozenlake8x8:max_steps=7", 64, 7, 3},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		dq_env *env;
		dq_env_spec spec;
		double p[64];

		assert_int_equal(dq_env_open_name(&env, want[i].name), 0);
		assert_int_equal(dq_env_spec_get(env, &spec), 0);
		assert_int_equal(spec.n_states, want[i].n_states);
		assert_int_equal(spec.n_actions, 4);
		assert_int_equal(spec.max_episode_steps, want[i].max_steps);
		assert_int_equal(spec.max_outcomes, want[i].max_outcomes);
		assert_int_equal(dq_env_start_probs(env, p, 64), 0);
		for (uint32_t s = 0; s < spec.n_states; s++)
			assert_true(p[s] == (s == 0 ? 1.0 : 0.0));
		dq_env_close(env);
	}
}

/*
 * The layout: exactly the holes and the goal are absorbing, entering the
 * goal pays 1 and nothing else pays. Checked on the deterministic maps,
 * where every move has one outcome.
 */
static void
check_layout(const char *name, uint32_t size, const uint32_t *holes,
	     size_t n_holes)
{
	uint32_t goal = size * size - 1;
	dq_env *env;

	assert_int_equal(dq_env_open_name(&env, name), 0);
	for (uint32_t s = 0; s < size * size; s++) {
		uint32_t r = s / size, c = s % size;
		bool term = s == goal || in(holes, n_holes, s);

		for (uint32_t a = 0; a < 4; a++) {
			uint32_t want;
			dq_outcome o;

			assert_int_equal(dq_env_outcomes(env, s, a, &o, 1), 1);
			assert_true(o.prob == 1.0);
			if (term) {
				assert_int_equal(o.next_state, s);
				assert_true(o.reward == 0 && o.terminated);
				continue;
			}
			want =
			    a == LEFT	 ? r * size + (c ? c - 1 : c)
			    : a == DOWN	 ? (r < size - 1 ? r + 1 : r) * size + c
			    : a == RIGHT ? r * size + (c < size - 1 ? c + 1 : c)
					 : (r ? r - 1 : r) * size + c;
			assert_int_equal(o.next_state, want);
			assert_true(o.reward == (want == goal ? 1.0 : 0.0));
			assert_true(o.terminated ==
				    (want == goal || in(holes, n_holes, want)));
		}
	}
	dq_env_close(env);
}

static void
test_layout(void **state)
{
	(void)state;
	check_layout("frozenlake4x4-det", 4, holes4, 4);
	check_layout("frozenlake8x8-det", 8, holes8, 10);
	check_layout("frozenlake4x4:slippery=false", 4, holes4, 4);
}

/* Slippery outcomes, written out: intended and both perpendiculars. */
static void
test_slippery(void **state)
{
	dq_env *env;
	dq_outcome o[3];

	(void)state;
	assert_int_equal(dq_env_open_name(&env, "frozenlake4x4"), 0);
	/* Corner 0, left: up (stay), left (stay), down to 4. */
	assert_int_equal(dq_env_outcomes(env, 0, LEFT, o, 3), 2);
	assert_int_equal(o[0].next_state, 0);
	assert_true(fabs(o[0].prob - 2.0 / 3) < 1e-15);
	assert_int_equal(o[1].next_state, 4);
	assert_true(fabs(o[1].prob - 1.0 / 3) < 1e-15);
	assert_true(o[1].reward == 0 && !o[1].terminated);
	/* Corner 0, up: right to 1, up and left stay. */
	assert_int_equal(dq_env_outcomes(env, 0, UP, o, 3), 2);
	assert_int_equal(o[0].next_state, 1);
	assert_int_equal(o[1].next_state, 0);
	assert_true(fabs(o[1].prob - 2.0 / 3) < 1e-15);
	/* 1, down: right to 2, down into hole 5, left to 0. */
	assert_int_equal(dq_env_outcomes(env, 1, DOWN, o, 3), 3);
	assert_int_equal(o[0].next_state, 0);
	assert_int_equal(o[1].next_state, 5);
	assert_true(o[1].terminated && o[1].reward == 0);
	assert_int_equal(o[2].next_state, 2);
	/* 14, right: up to 10, right to the goal (1, terminal), down stays. */
	assert_int_equal(dq_env_outcomes(env, 14, RIGHT, o, 3), 3);
	assert_int_equal(o[0].next_state, 14);
	assert_int_equal(o[1].next_state, 15);
	assert_true(o[1].reward == 1.0 && o[1].terminated);
	assert_int_equal(o[2].next_state, 10);
	for (int i = 0; i < 3; i++)
		assert_true(fabs(o[i].prob - 1.0 / 3) < 1e-15);
	/* Holes and goal absorb. */
	assert_int_equal(dq_env_outcomes(env, 5, RIGHT, o, 3), 1);
	assert_true(o[0].next_state == 5 && o[0].terminated &&
		    o[0].reward == 0 && o[0].prob == 1.0);
	assert_int_equal(dq_env_outcomes(env, 15, UP, o, 3), 1);
	assert_true(o[0].next_state == 15 && o[0].terminated);
	dq_env_close(env);
}

/* Sampling through step agrees with the model (5 standard deviations). */
static void
check_sampling(const dq_env_ops *ops, const char *params, uint32_t s,
	       uint32_t a)
{
	const unsigned n = 20000;
	unsigned counts[64] = {0};
	dq_env_spec spec;
	dq_outcome o[3];
	dq_rng rng;
	void *def, *inst;
	int k;

	assert_int_equal(ops->open(&def, params, NULL, &spec), 0);
	assert_int_equal(ops->create(def, &inst), 0);
	assert_int_equal(dq_rng_seed(&rng, 77 + s * 4 + a, 0), 0);
	k = ops->outcomes(def, s, a, o, 3);
	assert_true(k >= 1 && k <= 3);
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
		counts[st.next_state]++;
	}
	for (int j = 0; j < k; j++) {
		double mean = n * o[j].prob;
		double sd = sqrt(n * o[j].prob * (1 - o[j].prob));

		assert_true(fabs(counts[o[j].next_state] - mean) <= 5 * sd + 1);
	}
	ops->destroy(inst);
	ops->close(def);
}

static void
test_sampling(void **state)
{
	(void)state;
	check_sampling(&dq__env_frozenlake4x4, "", 0, LEFT);
	check_sampling(&dq__env_frozenlake4x4, "", 1, DOWN);
	check_sampling(&dq__env_frozenlake4x4, "", 14, RIGHT);
	check_sampling(&dq__env_frozenlake4x4, "", 12, RIGHT);
	check_sampling(&dq__env_frozenlake8x8, "", 27, UP);
	check_sampling(&dq__env_frozenlake8x8, "", 62, RIGHT);
	check_sampling(&dq__env_frozenlake4x4_det, "", 9, DOWN);
	check_sampling(&dq__env_frozenlake8x8_det, "slippery=1", 0, DOWN);
}

/* Deterministic ice draws no randomness; the optimal path works. */
static void
test_det_episode(void **state)
{
	static const uint32_t path[] = {DOWN, DOWN, RIGHT, DOWN, RIGHT, RIGHT};
	dq_env *env;
	dq_env_instance *inst;
	dq_rng rng, before;
	dq_step st;
	uint32_t s;

	(void)state;
	assert_int_equal(dq_rng_seed(&rng, 8, 0), 0);
	assert_int_equal(dq_env_open_name(&env, "frozenlake4x4-det"), 0);
	assert_int_equal(dq_env_instance_create(env, &inst), 0);
	before = rng;
	assert_int_equal(dq_env_instance_reset(inst, &rng, &s), 0);
	assert_int_equal(s, 0);
	for (size_t i = 0; i < 6; i++) {
		assert_int_equal(dq_env_instance_step(inst, path[i], &rng, &st),
				 0);
		assert_true(st.terminated == (i == 5));
		assert_true(st.reward == (i == 5 ? 1.0 : 0.0));
	}
	assert_int_equal(st.next_state, 15);
	/* Stepping on from the goal stays there, reward 0. */
	assert_int_equal(dq_env_instance_step(inst, LEFT, &rng, &st), 0);
	assert_true(st.next_state == 15 && st.terminated && st.reward == 0);
	assert_memory_equal(&rng, &before, sizeof(rng));
	dq_env_instance_destroy(inst);
	dq_env_close(env);
}

static void
test_bad_params(void **state)
{
	dq_env *env = NULL;
	const dq_env_ops *ops = &dq__env_frozenlake4x4;
	void *def;
	dq_env_spec spec;

	(void)state;
	assert_int_equal(dq_env_open_name(&env, "frozenlake4x4:slippery=2"),
			 -EINVAL);
	assert_int_equal(dq_env_open_name(&env, "frozenlake4x4:map=8x8"),
			 -EINVAL);
	assert_int_equal(
	    dq_env_open_name(&env, "frozenlake8x8:max_steps=99999999999"),
	    -ERANGE);
	assert_null(env);
	assert_int_equal(ops->open(&def, "", NULL, &spec), 0);
	assert_int_equal(ops->outcomes(def, 16, 0, NULL, 0), -ERANGE);
	assert_int_equal(ops->outcomes(def, 0, 4, NULL, 0), -ERANGE);
	ops->close(def);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_specs),
	    cmocka_unit_test(test_layout),
	    cmocka_unit_test(test_slippery),
	    cmocka_unit_test(test_sampling),
	    cmocka_unit_test(test_det_episode),
	    cmocka_unit_test(test_bad_params),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
