/* Unit tests for lib/envs/scalable.c: the procedurally generated MDP. */
#include <errno.h>
#include <math.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "dq_test.h"
#include "envs/envs.h"

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static long
max_rss_kb(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_maxrss;
}

static void
test_defaults(void **state)
{
	dq_env *env;
	dq_env_spec spec;
	dq_outcome o;

	(void)state;
	assert_int_equal(dq_env_open_name(&env, "scalable"), 0);
	assert_int_equal(dq_env_spec_get(env, &spec), 0);
	assert_int_equal(spec.n_states, 1000000);
	assert_int_equal(spec.n_actions, 4);
	assert_int_equal(spec.max_episode_steps, 1000);
	/* 4 * 10^6 entries: above the automatic model limit. */
	assert_int_equal(spec.max_outcomes, 0);
	assert_int_equal(dq_env_outcomes(env, 0, 0, &o, 1), -ENOTSUP);
	dq_env_close(env);
	/* 250000 * 4 = 10^6: exactly at the limit, so exported. */
	assert_int_equal(dq_env_open_name(&env, "scalable:states=250k"), 0);
	assert_int_equal(dq_env_spec_get(env, &spec), 0);
	assert_int_equal(spec.max_outcomes, 2);
	dq_env_close(env);
	assert_int_equal(dq_env_open_name(&env, "scalable:states=250001"), 0);
	assert_int_equal(dq_env_spec_get(env, &spec), 0);
	assert_int_equal(spec.max_outcomes, 0);
	dq_env_close(env);
	assert_int_equal(dq_env_open_name(&env, "scalable:states=100,model=0"),
			 0);
	assert_int_equal(dq_env_spec_get(env, &spec), 0);
	assert_int_equal(spec.max_outcomes, 0);
	dq_env_close(env);
}

/*
 * S x A = 10^8: opening and a million steps take next to no time and no
 * memory beyond a few pages, because nothing is stored per state.
 */
static void
test_huge_is_free(void **state)
{
	dq_env *env;
	dq_env_instance *inst;
	dq_env_spec spec;
	dq_rng rng;
	long rss0, rss1;
	double t0, t1;
	uint32_t s;

	(void)state;
	rss0 = max_rss_kb();
	t0 = now();
	assert_int_equal(dq_env_open_name(&env, "scalable:states=25M"), 0);
	t1 = now();
	assert_true(t1 - t0 < 0.05);
	assert_int_equal(dq_env_spec_get(env, &spec), 0);
	assert_int_equal(spec.n_states, 25000000);
	assert_true((uint64_t)spec.n_states * spec.n_actions == 100000000u);
	assert_int_equal(spec.max_outcomes, 0);
	assert_int_equal(dq_env_instance_create(env, &inst), 0);
	assert_int_equal(dq_rng_seed(&rng, 1, 0), 0);
	assert_int_equal(dq_env_instance_reset(inst, &rng, &s), 0);
	for (int i = 0; i < 1000000; i++) {
		dq_step st;

		assert_int_equal(
		    dq_env_instance_step(inst, (uint32_t)i & 3, &rng, &st), 0);
		if (st.terminated)
			assert_int_equal(dq_env_instance_reset(inst, &rng, &s),
					 0);
	}
	rss1 = max_rss_kb();
	/* A per-state table would be >= 25 MB; allow 4 MB of noise. */
	assert_true(rss1 - rss0 < 4096);
	dq_env_instance_destroy(inst);
	dq_env_close(env);
	/* The largest S the index type allows opens just as well. */
	assert_int_equal(
	    dq_env_open_name(&env, "scalable:states=4294967295,actions=4096"),
	    0);
	dq_env_close(env);
}

/* Run @p steps steps of a fixed action pattern; hash the trajectory. */
static uint64_t
trajectory(const char *spec_str, uint64_t seed, int steps)
{
	dq_env *env;
	dq_env_instance *inst;
	dq_env_spec spec;
	dq_rng rng;
	uint64_t h = 1469598103934665603u;
	uint32_t s;

	assert_int_equal(dq_env_open_name(&env, spec_str), 0);
	assert_int_equal(dq_env_spec_get(env, &spec), 0);
	assert_int_equal(dq_env_instance_create(env, &inst), 0);
	assert_int_equal(dq_rng_seed(&rng, seed, 0), 0);
	assert_int_equal(dq_env_instance_reset(inst, &rng, &s), 0);
	h = (h ^ s) * 1099511628211u;
	for (int i = 0; i < steps; i++) {
		dq_step st;
		uint64_t r;

		assert_int_equal(
		    dq_env_instance_step(inst, (uint32_t)i % spec.n_actions,
					 &rng, &st),
		    0);
		memcpy(&r, &st.reward, sizeof(r));
		h = (h ^ st.next_state) * 1099511628211u;
		h = (h ^ r) * 1099511628211u;
		h = (h ^ st.terminated) * 1099511628211u;
		if (st.terminated) {
			assert_int_equal(dq_env_instance_reset(inst, &rng, &s),
					 0);
			h = (h ^ s) * 1099511628211u;
		}
	}
	dq_env_instance_destroy(inst);
	dq_env_close(env);
	return h;
}

static void
test_reproducible(void **state)
{
	uint64_t a, b;

	(void)state;
	a = trajectory("scalable", 5, 100000);
	b = trajectory("scalable", 5, 100000);
	assert_true(a == b);
	/* Another rng or another structure seed is another trajectory. */
	assert_true(trajectory("scalable", 6, 100000) != a);
	assert_true(trajectory("scalable:seed=2", 5, 100000) != a);
	assert_true(trajectory("scalable:seed=1", 5, 100000) == a);
	/* Busy work changes nothing but the time a step takes. */
	assert_true(trajectory("scalable:cost=200", 5, 20000) ==
		    trajectory("scalable", 5, 20000));
	assert_true(trajectory("scalable:states=1000,cost=50", 9, 20000) ==
		    trajectory("scalable:states=1000", 9, 20000));
}

/* The cost loop is real work: 10^4 iterations per step are measurable. */
static void
test_cost_takes_time(void **state)
{
	double t0, t1, t2;

	(void)state;
	t0 = now();
	trajectory("scalable:states=1000", 1, 2000);
	t1 = now();
	trajectory("scalable:states=1000,cost=100000", 1, 2000);
	t2 = now();
	/* 2 * 10^8 dependent multiply-adds take well over 20 ms. */
	assert_true(t2 - t1 > 0.02);
	assert_true(t2 - t1 > 5 * (t1 - t0));
}

/* Sampling through step agrees with the exported model. */
static void
check_sampling(const char *params, uint32_t s, uint32_t a)
{
	const dq_env_ops *ops = &dq__env_scalable;
	const unsigned n = 20000;
	dq_env_spec spec;
	dq_outcome o[16];
	unsigned counts[16] = {0};
	dq_rng rng;
	void *def, *inst;
	int k;

	assert_int_equal(ops->open(&def, params, NULL, &spec), 0);
	assert_int_equal(ops->create(def, &inst), 0);
	assert_int_equal(dq_rng_seed(&rng, 31 + s, 0), 0);
	k = ops->outcomes(def, s, a, o, 16);
	assert_true(k >= 1 && k <= 16);
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
		counts[j]++;
	}
	for (int j = 0; j < k; j++) {
		double mean = n * o[j].prob;
		double sd = sqrt(n * o[j].prob * (1 - o[j].prob));

		assert_true(fabs(counts[j] - mean) <= 5 * sd + 1);
	}
	ops->destroy(inst);
	ops->close(def);
}

static void
test_sampling(void **state)
{
	(void)state;
	check_sampling("states=1000", 1, 0);
	check_sampling("states=1000", 500, 3);
	check_sampling("states=1000,branch=5", 17, 1);
	check_sampling("states=3,branch=16", 1, 0);
	check_sampling("states=100000,actions=2,branch=16,span=4", 99999, 1);
	check_sampling("states=1000,branch=1", 2, 2);
}

/*
 * The structure: goals are about one in goal_every, absorbing, paid
 * goal_reward on entry; other rewards lie in [-1, 1); state 0 is never a
 * goal; the start distribution is uniform over the non-goals.
 */
static void
test_structure(void **state)
{
	const uint32_t n_states = 200000;
	dq_env *env;
	dq_env_spec spec;
	dq_outcome o[2];
	double *p;
	unsigned goals = 0;

	(void)state;
	assert_int_equal(dq_env_open_name(&env, "scalable:states=200000"), 0);
	assert_int_equal(dq_env_spec_get(env, &spec), 0);
	assert_int_equal(spec.max_outcomes, 2);
	p = calloc(n_states, sizeof(*p));
	assert_non_null(p);
	assert_int_equal(dq_env_start_probs(env, p, n_states), 0);
	for (uint32_t s = 0; s < n_states; s++) {
		int k = dq_env_outcomes(env, s, 0, o, 2);
		bool goal = k == 1 && o[0].next_state == s && o[0].terminated &&
			    o[0].reward == 0;

		assert_true(k >= 1 && k <= 2);
		goals += goal;
		assert_true(goal ? p[s] == 0 : p[s] > 0);
		if (goal)
			continue;
		for (int i = 0; i < k; i++) {
			if (o[i].terminated)
				assert_true(o[i].reward == 10.0);
			else
				assert_true(o[i].reward >= -1.0 &&
					    o[i].reward < 1.0);
		}
	}
	assert_true(p[0] > 0);
	/* 200 expected; 5 standard deviations is about 70. */
	assert_true(goals > 130 && goals < 270);
	for (uint32_t s = 1; s < n_states; s++)
		assert_true(p[s] == 0 || p[s] == p[0]);
	assert_true(fabs(p[0] * (n_states - goals) - 1.0) < 1e-9);
	free(p);
	dq_env_close(env);

	/* goal_every=0: no goals at all. */
	assert_int_equal(
	    dq_env_open_name(&env, "scalable:states=5000,goal_every=0"), 0);
	for (uint32_t s = 0; s < 5000; s++)
		for (uint32_t a = 0; a < 4; a++) {
			int k = dq_env_outcomes(env, s, a, o, 2);

			for (int i = 0; i < k; i++)
				assert_false(o[i].terminated);
		}
	dq_env_close(env);
}

/* span keeps successors within +-span of s, wrapping around the ends. */
static void
test_span(void **state)
{
	dq_env *env;
	dq_env_instance *inst;
	dq_rng rng;
	uint32_t s;
	const uint32_t n = 1000000;

	(void)state;
	assert_int_equal(dq_rng_seed(&rng, 4, 0), 0);
	assert_int_equal(
	    dq_env_open_name(&env, "scalable:span=10,goal_every=0"), 0);
	assert_int_equal(dq_env_instance_create(env, &inst), 0);
	assert_int_equal(dq_env_instance_reset(inst, &rng, &s), 0);
	for (int i = 0; i < 200000; i++) {
		dq_step st;
		uint32_t d;

		assert_int_equal(
		    dq_env_instance_step(inst, (uint32_t)i & 3, &rng, &st), 0);
		d = (st.next_state - s + n) % n;
		assert_true(d <= 10 || d >= n - 10);
		s = st.next_state;
	}
	dq_env_instance_destroy(inst);
	dq_env_close(env);

	/* At the ends, the model shows the wrap-around. */
	{
		static const uint32_t ends[] = {0, 1, 2, 997, 998, 999};
		unsigned wraps = 0;

		assert_int_equal(dq_env_open_name(&env, "scalable:states=1000,"
							"span=3,goal_every=0"),
				 0);
		for (size_t i = 0; i < 6; i++) {
			for (uint32_t a = 0; a < 4; a++) {
				dq_outcome o[2];
				int k = dq_env_outcomes(env, ends[i], a, o, 2);

				for (int j = 0; j < k; j++) {
					uint32_t t = o[j].next_state;
					uint32_t d =
					    (t - ends[i] + 1000) % 1000;

					assert_true(d <= 3 || d >= 997);
					wraps += (ends[i] < 3 && t > 990) ||
						 (ends[i] > 990 && t < 3);
				}
			}
		}
		assert_true(wraps > 0);
		dq_env_close(env);
	}
}

static void
test_bad_params(void **state)
{
	static const struct {
		const char *spec;
		int err;
	} bad[] = {
	    {"scalable:states=0", -ERANGE},
	    {"scalable:states=5G", -ERANGE},
	    {"scalable:actions=0", -ERANGE},
	    {"scalable:actions=4097", -ERANGE},
	    {"scalable:branch=0", -ERANGE},
	    {"scalable:branch=17", -ERANGE},
	    {"scalable:span=2147483648", -ERANGE},
	    {"scalable:cost=2G", -ERANGE},
	    {"scalable:goal_reward=inf", -EINVAL},
	    {"scalable:model=maybe", -EINVAL},
	    {"scalable:seed=-1", -ERANGE},
	    {"scalable:size=10", -EINVAL},
	    {"scalable:states=1e6", -EINVAL},
	};
	dq_env *env = NULL;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (dq_env_open_name(&env, bad[i].spec) != bad[i].err)
			fail_msg("%s", bad[i].spec);
	}
	assert_null(env);
}

/* One state: everything loops on state 0, which is never a goal. */
static void
test_tiny(void **state)
{
	dq_env *env;
	dq_env_instance *inst;
	dq_rng rng;
	dq_step st;
	uint32_t s;

	(void)state;
	assert_int_equal(dq_rng_seed(&rng, 4, 0), 0);
	assert_int_equal(
	    dq_env_open_name(&env, "scalable:states=1,actions=1,goal_every=1"),
	    0);
	assert_int_equal(dq_env_instance_create(env, &inst), 0);
	assert_int_equal(dq_env_instance_reset(inst, &rng, &s), 0);
	assert_int_equal(s, 0);
	assert_int_equal(dq_env_instance_step(inst, 0, &rng, &st), 0);
	assert_true(st.next_state == 0 && !st.terminated);
	dq_env_instance_destroy(inst);
	dq_env_close(env);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_defaults),
	    cmocka_unit_test(test_huge_is_free),
	    cmocka_unit_test(test_reproducible),
	    cmocka_unit_test(test_cost_takes_time),
	    cmocka_unit_test(test_sampling),
	    cmocka_unit_test(test_structure),
	    cmocka_unit_test(test_span),
	    cmocka_unit_test(test_bad_params),
	    cmocka_unit_test(test_tiny),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
