/*
 * Unit tests for lib/envs/registry.c: the built-in list, opening by name,
 * and the contract every built-in environment keeps (spec, model, start
 * distribution, reset), checked here once for all of them.
 */
#include <errno.h>
#include <math.h>
#include <string.h>

#include "dq_test.h"
#include "envs/envs.h"

static const char *const expected_names[] = {
    "maze4x3",		 "taxi",	  "frozenlake4x4",
    "frozenlake4x4-det", "frozenlake8x8", "frozenlake8x8-det",
    "cliffwalking",	 "cartpole",	  "scalable",
};
#define N_EXPECTED (sizeof(expected_names) / sizeof(expected_names[0]))

static void
test_builtins_list(void **state)
{
	const dq_env_ops *ops[N_EXPECTED + 2];

	(void)state;
	assert_int_equal(dq_env_builtins(NULL, 0), (int)N_EXPECTED);
	assert_int_equal(dq_env_builtins(NULL, 1), -EINVAL);
	memset(ops, 0, sizeof(ops));
	assert_int_equal(dq_env_builtins(ops, N_EXPECTED + 2), (int)N_EXPECTED);
	assert_null(ops[N_EXPECTED]);
	for (size_t i = 0; i < N_EXPECTED; i++) {
		assert_non_null(ops[i]);
		assert_string_equal(ops[i]->name, expected_names[i]);
		assert_int_equal(ops[i]->abi, DQ_ENV_ABI);
		assert_non_null(ops[i]->open);
		assert_non_null(ops[i]->reset);
		assert_non_null(ops[i]->step);
		for (size_t k = 0; k < 3; k++)
			assert_null(ops[i]->reserved[k]);
	}
	/* A short array gets a prefix and nothing past it. */
	memset(ops, 0, sizeof(ops));
	assert_int_equal(dq_env_builtins(ops, 2), (int)N_EXPECTED);
	assert_string_equal(ops[1]->name, "taxi");
	assert_null(ops[2]);
	assert_ptr_equal(ops[0], &dq__env_maze4x3);
}

static void
test_open_name(void **state)
{
	(void)state;
	for (size_t i = 0; i < N_EXPECTED; i++) {
		dq_env *env = NULL;
		const char *name;
		dq_env_spec spec;

		assert_int_equal(dq_env_open_name(&env, expected_names[i]), 0);
		assert_int_equal(dq_env_name(env, &name), 0);
		assert_string_equal(name, expected_names[i]);
		assert_int_equal(dq_env_spec_get(env, &spec), 0);
		assert_true(spec.n_states >= 1 && spec.n_actions >= 1);
		dq_env_close(env);
	}
}

static void
test_open_name_params(void **state)
{
	dq_env *env = NULL;
	dq_env_spec spec;

	(void)state;
	assert_int_equal(dq_env_open_name(&env, "taxi:max_steps=50"), 0);
	assert_int_equal(dq_env_spec_get(env, &spec), 0);
	assert_int_equal(spec.max_episode_steps, 50);
	dq_env_close(env);
	/* An empty parameter list is the defaults. */
	assert_int_equal(dq_env_open_name(&env, "taxi:"), 0);
	assert_int_equal(dq_env_spec_get(env, &spec), 0);
	assert_int_equal(spec.max_episode_steps, 200);
	dq_env_close(env);
	assert_int_equal(dq_env_open_name(&env, "maze4x3:living_reward=0"), 0);
	dq_env_close(env);
	/* Only the first colon splits: the rest belongs to the env. */
	env = NULL;
	assert_int_equal(dq_env_open_name(&env, "taxi:max_steps=5:"), -EINVAL);
	assert_int_equal(dq_env_open_name(&env, "taxi:bogus=1"), -EINVAL);
	assert_int_equal(dq_env_open_name(&env, "taxi:max_steps=x"), -EINVAL);
	assert_int_equal(dq_env_open_name(&env, "taxi:max_steps=-1"), -ERANGE);
	assert_null(env);
}

static void
test_open_name_errors(void **state)
{
	static const char *const unknown[] = {
	    "",	     "nosuch", "tax",  "taxi2",	     "Taxi",	       " taxi",
	    "taxi ", ":",      ":x=1", "frozenlake", "frozenlake4x4-",
	};
	dq_env *env = NULL;

	(void)state;
	for (size_t i = 0; i < sizeof(unknown) / sizeof(unknown[0]); i++) {
		if (dq_env_open_name(&env, unknown[i]) != -ENOENT)
			fail_msg("opened \"%s\"", unknown[i]);
	}
	assert_null(env);
	assert_int_equal(dq_env_open_name(NULL, "taxi"), -EINVAL);
	assert_int_equal(dq_env_open_name(&env, NULL), -EINVAL);
}

/*
 * The model contract, for every (s, a): outcomes positive, summing to 1
 * within 1e-12, next states in range, rewards finite, no two outcomes with
 * the same (next_state, reward, terminated), at most max_outcomes of them;
 * terminal states absorbing; the start distribution sums to 1 and puts no
 * mass on a terminal state.
 */
static void
check_model(const char *name)
{
	dq_env *env;
	dq_env_spec spec;
	dq_outcome out[64];
	double *start, total = 0;
	uint32_t s, a;

	assert_int_equal(dq_env_open_name(&env, name), 0);
	assert_int_equal(dq_env_spec_get(env, &spec), 0);
	assert_true(spec.max_outcomes >= 1 && spec.max_outcomes <= 64);
	start = calloc(spec.n_states, sizeof(*start));
	assert_non_null(start);
	assert_int_equal(dq_env_start_probs(env, start, spec.n_states), 0);
	for (s = 0; s < spec.n_states; s++) {
		bool absorbing = true;

		for (a = 0; a < spec.n_actions; a++) {
			int n = dq_env_outcomes(env, s, a, out, 64);
			double sum = 0;

			assert_true(n >= 1 && (uint32_t)n <= spec.max_outcomes);
			for (int i = 0; i < n; i++) {
				assert_true(out[i].prob > 0 &&
					    out[i].prob <= 1);
				assert_true(out[i].next_state < spec.n_states);
				assert_true(isfinite(out[i].reward));
				sum += out[i].prob;
				for (int j = 0; j < i; j++)
					assert_false(out[j].next_state ==
							 out[i].next_state &&
						     out[j].reward ==
							 out[i].reward &&
						     out[j].terminated ==
							 out[i].terminated);
			}
			if (fabs(sum - 1.0) > 1e-12)
				fail_msg("%s: (%u,%u) sums to %.17g", name,
					 (unsigned)s, (unsigned)a, sum);
			absorbing = absorbing && n == 1 &&
				    out[0].next_state == s &&
				    out[0].terminated && out[0].reward == 0;
		}
		assert_true(start[s] >= 0 && start[s] <= 1);
		if (absorbing)
			assert_true(start[s] == 0);
		total += start[s];
	}
	assert_true(fabs(total - 1.0) < 1e-9);
	/* Out-of-range queries and a short start array. */
	assert_int_equal(dq_env_outcomes(env, spec.n_states, 0, out, 64),
			 -ERANGE);
	assert_int_equal(dq_env_outcomes(env, 0, spec.n_actions, out, 64),
			 -ERANGE);
	assert_int_equal(dq_env_start_probs(env, start, spec.n_states - 1),
			 -EINVAL);
	free(start);
	dq_env_close(env);
}

static void
test_models(void **state)
{
	static const char *const with_model[] = {
	    "maze4x3",
	    "maze4x3:slip=0",
	    "maze4x3:slip=1,living_reward=0",
	    "taxi",
	    "frozenlake4x4",
	    "frozenlake4x4-det",
	    "frozenlake8x8",
	    "frozenlake8x8-det",
	    "frozenlake8x8-det:slippery=1",
	    "cliffwalking",
	    "scalable:states=1000",
	    "scalable:states=5000,actions=3,branch=7,span=3",
	    "scalable:states=2,branch=16,goal_every=2",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(with_model) / sizeof(with_model[0]); i++)
		check_model(with_model[i]);
}

/* A short outcome array gets a prefix; the count is still the total. */
static void
test_outcomes_cap(void **state)
{
	dq_env *env;
	dq_outcome out[3];

	(void)state;
	assert_int_equal(dq_env_open_name(&env, "maze4x3"), 0);
	memset(out, 0, sizeof(out));
	/* State 8, north: into the wall (stay) 0.8, west 0.1, east 0.1. */
	assert_int_equal(dq_env_outcomes(env, 8, 0, out, 1), 3);
	assert_true(fabs(out[0].prob - 0.8) < 1e-15);
	assert_true(out[1].prob == 0);
	assert_int_equal(dq_env_outcomes(env, 8, 0, NULL, 0), 3);
	dq_env_close(env);
}

/*
 * Every built-in resets into a state of positive start probability (where
 * it has a model) and steps into valid states, through the public API.
 */
static void
test_reset_and_step(void **state)
{
	dq_rng rng;

	(void)state;
	assert_int_equal(dq_rng_seed(&rng, 7, 0), 0);
	for (size_t i = 0; i < N_EXPECTED; i++) {
		dq_env *env;
		dq_env_instance *inst;
		dq_env_spec spec;
		double *start = NULL;

		assert_int_equal(dq_env_open_name(&env, expected_names[i]), 0);
		assert_int_equal(dq_env_spec_get(env, &spec), 0);
		if (spec.max_outcomes) {
			start = calloc(spec.n_states, sizeof(*start));
			assert_non_null(start);
			assert_int_equal(
			    dq_env_start_probs(env, start, spec.n_states), 0);
		} else {
			assert_int_equal(dq_env_start_probs(env, &(double){0},
							    spec.n_states),
					 -ENOTSUP);
		}
		assert_int_equal(dq_env_instance_create(env, &inst), 0);
		for (int ep = 0; ep < 20; ep++) {
			uint32_t s;

			assert_int_equal(dq_env_instance_reset(inst, &rng, &s),
					 0);
			assert_true(s < spec.n_states);
			if (start)
				assert_true(start[s] > 0);
			for (int t = 0; t < 50; t++) {
				dq_step st;
				uint32_t a = dq_rng_below(&rng, spec.n_actions);

				assert_int_equal(
				    dq_env_instance_step(inst, a, &rng, &st),
				    0);
				assert_true(st.next_state < spec.n_states);
				assert_false(st.truncated);
				if (st.terminated)
					break;
			}
		}
		dq_env_instance_destroy(inst);
		free(start);
		dq_env_close(env);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_builtins_list),
	    cmocka_unit_test(test_open_name),
	    cmocka_unit_test(test_open_name_params),
	    cmocka_unit_test(test_open_name_errors),
	    cmocka_unit_test(test_models),
	    cmocka_unit_test(test_outcomes_cap),
	    cmocka_unit_test(test_reset_and_step),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
