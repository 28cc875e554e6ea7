/*
 * Unit tests for lib/envs/registry.c: the built-in list, opening by name,
 * and the contract every built-in environment keeps (spec, model, start
 * distribution, reset), checked here once for all of them.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "dq_test.h"
#include "envs/envs.h"

static const char *const expected_names[] = {
    "maze4x3",	     "taxi",
    "frozenlake4x4", "frozenlake4x4-det",
    "frozenlake8x8", "frozenlake8x8-det",
    "cliffwalking",  "cartpole",
    "scalable",	     "maxbias",
    "mountaincar",   "acrobot",
    "snake",
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
		/* Every built-in describes its parameters and success. */
		assert_non_null(ops[i]->params);
		assert_non_null(ops[i]->success);
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
	    "maxbias",
	    "maxbias:actions=2,mean=0.5",
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

/* @v as the parameter string writes it: integers exactly, up to 2^64 - 1. */
static void
param_text(const dq_env_param *p, double v, char *buf, size_t cap)
{
	if (p->type == DQ_PARAM_REAL)
		snprintf(buf, cap, "%.17g", v);
	else if (v >= 18446744073709551615.0)
		snprintf(buf, cap, "%llu", (unsigned long long)UINT64_MAX);
	else
		snprintf(buf, cap, "%llu", (unsigned long long)v);
}

static int
open_with(const dq_env_ops *ops, const char *key, const char *value,
	  dq_env_spec *spec)
{
	char params[160];
	dq_env *env = NULL;
	int err;

	snprintf(params, sizeof(params), "%s=%s", key, value);
	err = dq_env_open(&env, ops, params, NULL);
	if (!err && spec)
		dq_env_spec_get(env, spec);
	dq_env_close(env);
	return err;
}

/*
 * Each built-in's parameter table says what its open() does: every key is
 * accepted at its minimum and maximum and refused just outside, a finite
 * default is accepted and is what the spec shows for max_steps, and a key
 * outside the table is refused.
 */
static void
test_param_tables(void **state)
{
	const dq_env_ops *ops[N_EXPECTED];

	(void)state;
	dq_env_builtins(ops, N_EXPECTED);
	for (size_t i = 0; i < N_EXPECTED; i++) {
		dq_env_spec def_spec, spec;
		dq_env *env = NULL;
		size_t n = 0;

		assert_int_equal(dq_env_open(&env, ops[i], NULL, NULL), 0);
		dq_env_spec_get(env, &def_spec);
		dq_env_close(env);
		for (const dq_env_param *p = ops[i]->params; p->key; p++, n++) {
			char v[64];

			assert_non_null(p->help);
			assert_true(p->type <= DQ_PARAM_BOOL);
			assert_true(p->min <= p->max);
			for (const dq_env_param *q = ops[i]->params; q < p; q++)
				assert_string_not_equal(q->key, p->key);
			param_text(p, p->min, v, sizeof(v));
			if (open_with(ops[i], p->key, v, NULL))
				fail_msg("%s: %s=%s refused", ops[i]->name,
					 p->key, v);
			/* bins sets all four of cartpole's counts, whose
			 * product is bounded: its maximum alone is too much. */
			param_text(p, p->max, v, sizeof(v));
			if (strcmp(p->key, "bins") &&
			    open_with(ops[i], p->key, v, NULL))
				fail_msg("%s: %s=%s refused", ops[i]->name,
					 p->key, v);
			if (p->type == DQ_PARAM_BOOL)
				assert_int_not_equal(
				    open_with(ops[i], p->key, "2", NULL), 0);
			else if (p->type == DQ_PARAM_REAL)
				assert_int_not_equal(
				    open_with(ops[i], p->key, "-1e300", NULL),
				    0);
			if (p->type == DQ_PARAM_COUNT && p->min > 0) {
				param_text(p, p->min - 1, v, sizeof(v));
				assert_int_not_equal(
				    open_with(ops[i], p->key, v, NULL), 0);
			}
			if (p->type != DQ_PARAM_BOOL &&
			    p->max < 18446744073709551615.0) {
				param_text(p,
					   p->type == DQ_PARAM_COUNT
					       ? p->max + 1
					       : p->max * 2 + 1,
					   v, sizeof(v));
				if (!open_with(ops[i], p->key, v, NULL))
					fail_msg("%s: %s=%s accepted",
						 ops[i]->name, p->key, v);
			}
			if (isnan(p->def))
				continue;
			assert_true(p->def >= p->min && p->def <= p->max);
			param_text(p, p->def, v, sizeof(v));
			assert_int_equal(open_with(ops[i], p->key, v, &spec),
					 0);
			assert_memory_equal(&spec, &def_spec, sizeof(spec));
			if (!strcmp(p->key, "max_steps"))
				assert_true(def_spec.max_episode_steps ==
					    p->def);
		}
		assert_true(n > 0);
		assert_int_equal(open_with(ops[i], "no_such_key", "1", NULL),
				 -EINVAL);
	}
}

/* Each built-in's meaning of success, on the final steps it can have. */
static void
test_success(void **state)
{
	static const struct {
		const char *env;
		dq_step last;
		bool success;
	} cases[] = {
	    {"maze4x3", {3, 1.0, true, false}, true},
	    {"maze4x3", {6, -1.0, true, false}, false},
	    {"maze4x3", {7, -0.04, false, true}, false},
	    {"taxi", {0, 20.0, true, false}, true},
	    {"taxi", {0, -1.0, false, true}, false},
	    {"frozenlake4x4", {15, 1.0, true, false}, true},
	    {"frozenlake4x4", {5, 0.0, true, false}, false},
	    {"frozenlake8x8-det", {2, 0.0, false, true}, false},
	    {"cliffwalking", {47, -1.0, true, false}, true},
	    {"cliffwalking", {36, -100.0, false, true}, false},
	    /* CartPole: +1 on the failing step too; surviving is success. */
	    {"cartpole", {0, 1.0, true, false}, false},
	    {"cartpole", {0, 1.0, false, true}, true},
	    {"scalable:states=1000", {5, 10.0, true, false}, true},
	    {"scalable:states=1000", {5, 0.5, false, true}, false},
	    {"maxbias", {2, 0.0, true, false}, true},
	    {"maxbias", {2, -0.3, true, false}, false},
	    /* MountainCar, Acrobot: reaching the goal is success. */
	    {"mountaincar", {0, -1.0, true, false}, true},
	    {"mountaincar", {0, -1.0, false, true}, false},
	    {"acrobot", {0, 0.0, true, false}, true},
	    {"acrobot", {0, -1.0, false, true}, false},
	    /* Snake: filling the grid wins; dying or starving does not. */
	    {"snake", {0, 10.0, true, false}, true},
	    {"snake", {0, -10.0, true, false}, false},
	    {"snake", {0, 0.0, false, true}, false},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		dq_env *env = NULL;
		bool ok = !cases[i].success;

		assert_int_equal(dq_env_open_name(&env, cases[i].env), 0);
		assert_int_equal(dq_env_success(env, &cases[i].last, &ok), 0);
		if (ok != cases[i].success)
			fail_msg("case %zu (%s)", i, cases[i].env);
		assert_int_equal(dq_env_success(NULL, &cases[i].last, &ok),
				 -EINVAL);
		assert_int_equal(dq_env_success(env, NULL, &ok), -EINVAL);
		assert_int_equal(dq_env_success(env, &cases[i].last, NULL),
				 -EINVAL);
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
	    cmocka_unit_test(test_param_tables),
	    cmocka_unit_test(test_success),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
