/*
 * Unit tests for lib/envs/cartpole.c: CartPole-v1 physics behind bins.
 *
 * The continuous state is private to the instance, so the tests replay
 * it: a reference copy of Gymnasium's equations below (itself checked
 * against numbers Python computed with Gymnasium's formulas), fed the same
 * random draws, must predict every bin index, reward and termination.
 */
#include <errno.h>
#include <math.h>

#include "dq_test.h"

typedef struct cp_ref {
	double x, x_dot, theta, theta_dot;
} cp_ref;

#define THETA_MAX (12 * 2 * 3.14159265358979323846 / 360)

/* Gymnasium CartPoleEnv.step, Euler integrator; returns "terminated". */
static bool
ref_step(cp_ref *s, unsigned action)
{
	const double gravity = 9.8, masspole = 0.1, total_mass = 0.1 + 1.0;
	const double length = 0.5, polemass_length = 0.1 * 0.5, tau = 0.02;
	double force = action == 1 ? 10.0 : -10.0;
	double costheta = cos(s->theta), sintheta = sin(s->theta);
	double temp = (force + polemass_length * (s->theta_dot * s->theta_dot) *
				   sintheta) /
		      total_mass;
	double thetaacc =
	    (gravity * sintheta - costheta * temp) /
	    (length *
	     (4.0 / 3.0 - masspole * (costheta * costheta) / total_mass));
	double xacc = temp - polemass_length * thetaacc * costheta / total_mass;

	s->x = s->x + tau * s->x_dot;
	s->x_dot = s->x_dot + tau * xacc;
	s->theta = s->theta + tau * s->theta_dot;
	s->theta_dot = s->theta_dot + tau * thetaacc;
	return s->x < -2.4 || s->x > 2.4 || s->theta < -THETA_MAX ||
	       s->theta > THETA_MAX;
}

/* Python, Gymnasium's formulas: from rest, push right twice; from
 * (0.01, -0.02, 0.03, -0.04) push left, then right. */
static void
test_reference_equations(void **state)
{
	cp_ref s = {0, 0, 0, 0};

	(void)state;
	assert_false(ref_step(&s, 1));
	assert_true(s.x == 0.0 && s.theta == 0.0);
	assert_true(fabs(s.x_dot - 0.1951219512195122) < 1e-16);
	assert_true(fabs(s.theta_dot - -0.2926829268292683) < 1e-16);
	assert_false(ref_step(&s, 1));
	assert_true(fabs(s.x - 0.0039024390243902443) < 1e-17);
	assert_true(fabs(s.x_dot - 0.3902439024390244) < 1e-16);
	assert_true(fabs(s.theta - -0.005853658536585366) < 1e-17);
	assert_true(fabs(s.theta_dot - -0.5853658536585366) < 1e-16);
	s = (cp_ref){0.01, -0.02, 0.03, -0.04};
	assert_false(ref_step(&s, 0));
	assert_true(fabs(s.x - 0.009600000000000001) < 1e-17);
	assert_true(fabs(s.x_dot - -0.21553901710278936) < 1e-16);
	assert_true(fabs(s.theta - 0.0292) < 1e-17);
	assert_true(fabs(s.theta_dot - 0.2619952237760392) < 1e-16);
	assert_false(ref_step(&s, 1));
	assert_true(fabs(s.x - 0.005289219657944213) < 1e-17);
	assert_true(fabs(s.x_dot - -0.020845786573834096) < 1e-16);
	assert_true(fabs(s.theta - 0.03443990447552078) < 1e-16);
	assert_true(fabs(s.theta_dot - -0.021336548341699957) < 1e-16);
	assert_true(fabs(THETA_MAX - 0.20943951023931953) < 1e-17);
}

/* One binned axis, as documented: [lo, hi] in equal bins, clamped. */
typedef struct axis {
	double lo, hi;
	uint32_t bins;
} axis;

/* The bin of v, or -1 when v is within rounding of a bin edge. */
static int64_t
ref_bin(const axis *ax, double v)
{
	double f = (v - ax->lo) * ((double)ax->bins / (ax->hi - ax->lo));

	if (f > 1e-9 && fabs(f - nearbyint(f)) < 1e-9 && f < ax->bins - 1e-9)
		return -1;
	if (!(f > 0))
		return 0;
	if (f >= ax->bins)
		return ax->bins - 1;
	return (int64_t)f;
}

static int64_t
ref_index(const axis ax[4], const cp_ref *s)
{
	const double v[4] = {s->x, s->x_dot, s->theta, s->theta_dot};
	int64_t idx = 0;

	for (int i = 0; i < 4; i++) {
		int64_t b = ref_bin(&ax[i], v[i]);

		if (b < 0)
			return -1;
		idx = idx * ax[i].bins + b;
	}
	return idx;
}

/* The observation (dq_env_ext) is the replayed state, to the bit. */
static void
check_obs(const dq_env_instance *inst, const cp_ref *ref)
{
	double obs[4];

	assert_int_equal(dq_env_instance_observe(inst, obs, 4), 0);
	assert_true(obs[0] == ref->x && obs[1] == ref->x_dot &&
		    obs[2] == ref->theta && obs[3] == ref->theta_dot);
	assert_int_equal(dq_env_instance_observe(inst, obs, 3), -EINVAL);
}

/*
 * Run @p episodes episodes of random actions on @p spec_str and compare
 * every observation with the replay. Returns the total number of steps.
 */
static unsigned long
check_replay(const char *spec_str, const axis ax[4], int episodes)
{
	dq_env *env;
	dq_env_instance *inst;
	dq_env_spec spec;
	dq_rng rng, acts;
	unsigned long total = 0;
	uint32_t n = 1;

	for (int i = 0; i < 4; i++)
		n *= ax[i].bins;
	assert_int_equal(dq_env_open_name(&env, spec_str), 0);
	assert_int_equal(dq_env_spec_get(env, &spec), 0);
	assert_int_equal(spec.n_states, n);
	assert_int_equal(dq_env_instance_create(env, &inst), 0);
	assert_int_equal(dq_rng_seed(&rng, 2024, 0), 0);
	assert_int_equal(dq_rng_seed(&acts, 2024, 1), 0);
	for (int ep = 0; ep < episodes; ep++) {
		dq_rng copy = rng;
		cp_ref ref;
		uint32_t s;
		int64_t want;
		unsigned t;

		/* Four draws, x, x_dot, theta, theta_dot, in [-0.05, 0.05). */
		ref.x = -0.05 + 0.1 * dq_rng_uniform(&copy);
		ref.x_dot = -0.05 + 0.1 * dq_rng_uniform(&copy);
		ref.theta = -0.05 + 0.1 * dq_rng_uniform(&copy);
		ref.theta_dot = -0.05 + 0.1 * dq_rng_uniform(&copy);
		assert_int_equal(dq_env_instance_reset(inst, &rng, &s), 0);
		assert_memory_equal(&rng, &copy, sizeof(rng));
		want = ref_index(ax, &ref);
		if (want >= 0)
			assert_int_equal(s, want);
		check_obs(inst, &ref);
		for (t = 0; t < 1000; t++) {
			unsigned a = dq_rng_below(&acts, 2);
			bool done = ref_step(&ref, a);
			dq_step st;

			assert_int_equal(
			    dq_env_instance_step(inst, a, &rng, &st), 0);
			want = ref_index(ax, &ref);
			if (want >= 0)
				assert_int_equal(st.next_state, want);
			check_obs(inst, &ref);
			assert_true(st.reward == 1.0);
			assert_false(st.truncated);
			assert_true(st.terminated == done);
			total++;
			if (done)
				break;
		}
		assert_true(t < 1000);
	}
	dq_env_instance_destroy(inst);
	dq_env_close(env);
	return total;
}

static void
test_replay_defaults(void **state)
{
	const axis ax[4] = {
	    {-2.4, 2.4, 3},
	    {-2.0, 2.0, 3},
	    {-THETA_MAX, THETA_MAX, 6},
	    {-3.0, 3.0, 6},
	};

	(void)state;
	assert_true(check_replay("cartpole", ax, 300) > 3000);
}

/* Fine bins see every digit of the state; mixed radix order checked. */
static void
test_replay_fine(void **state)
{
	const axis ax[4] = {
	    {-2.4, 2.4, 41},
	    {-0.5, 0.5, 37},
	    {-THETA_MAX, THETA_MAX, 43},
	    {-1.5, 1.5, 29},
	};
	const axis uneven[4] = {
	    {-2.4, 2.4, 2},
	    {-1.0, 1.0, 3},
	    {-THETA_MAX, THETA_MAX, 5},
	    {-2.0, 2.0, 7},
	};

	(void)state;
	check_replay("cartpole:x_bins=41,x_dot_bins=37,theta_bins=43,"
		     "theta_dot_bins=29,x_dot_max=0.5,theta_dot_max=1.5",
		     ax, 300);
	check_replay("cartpole:x_bins=2,x_dot_bins=3,theta_bins=5,"
		     "theta_dot_bins=7,x_dot_max=1,theta_dot_max=2",
		     uneven, 100);
}

/* "bins" sets all four; a per-variable key still wins. */
static void
test_bins_params(void **state)
{
	const axis all8[4] = {
	    {-2.4, 2.4, 8},
	    {-2.0, 2.0, 8},
	    {-THETA_MAX, THETA_MAX, 8},
	    {-3.0, 3.0, 8},
	};
	const axis mixed[4] = {
	    {-2.4, 2.4, 4},
	    {-2.0, 2.0, 4},
	    {-THETA_MAX, THETA_MAX, 9},
	    {-3.0, 3.0, 4},
	};
	const axis one[4] = {
	    {-2.4, 2.4, 1},
	    {-2.0, 2.0, 1},
	    {-THETA_MAX, THETA_MAX, 1},
	    {-3.0, 3.0, 1},
	};

	(void)state;
	check_replay("cartpole:bins=8", all8, 50);
	check_replay("cartpole:theta_bins=9,bins=4", mixed, 50);
	check_replay("cartpole:bins=1", one, 50);
}

static void
test_spec(void **state)
{
	dq_env *env;
	dq_env_spec spec;
	dq_outcome o;
	double p;

	(void)state;
	assert_int_equal(dq_env_open_name(&env, "cartpole"), 0);
	assert_int_equal(dq_env_spec_get(env, &spec), 0);
	assert_int_equal(spec.n_states, 3 * 3 * 6 * 6);
	assert_int_equal(spec.n_actions, 2);
	assert_int_equal(spec.max_episode_steps, 500);
	assert_int_equal(spec.max_outcomes, 0);
	assert_int_equal(dq_env_outcomes(env, 0, 0, &o, 1), -ENOTSUP);
	assert_int_equal(dq_env_start_probs(env, &p, 1), -ENOTSUP);
	dq_env_close(env);
	assert_int_equal(dq_env_open_name(&env, "cartpole:max_steps=200"), 0);
	assert_int_equal(dq_env_spec_get(env, &spec), 0);
	assert_int_equal(spec.max_episode_steps, 200);
	dq_env_close(env);
}

/*
 * Pushing right every step tips the pole left past 12 degrees: the failing
 * step still pays 1; after it, steps pay 0 and stay terminated in place.
 */
static void
test_termination(void **state)
{
	dq_env *env;
	dq_env_instance *inst;
	dq_rng rng;
	dq_step st;
	uint32_t s, last;
	int t;

	(void)state;
	assert_int_equal(dq_rng_seed(&rng, 1, 0), 0);
	assert_int_equal(dq_env_open_name(&env, "cartpole"), 0);
	assert_int_equal(dq_env_instance_create(env, &inst), 0);
	assert_int_equal(dq_env_instance_reset(inst, &rng, &s), 0);
	for (t = 0; t < 100; t++) {
		assert_int_equal(dq_env_instance_step(inst, 1, &rng, &st), 0);
		assert_true(st.reward == 1.0);
		if (st.terminated)
			break;
	}
	assert_true(t > 3 && t < 100);
	/* Theta fell below -12 degrees: lowest theta bin (index 0 of 6). */
	assert_int_equal(st.next_state / 6 % 6, 0);
	last = st.next_state;
	for (int i = 0; i < 3; i++) {
		assert_int_equal(dq_env_instance_step(inst, 0, &rng, &st), 0);
		assert_true(st.reward == 0.0 && st.terminated);
		assert_int_equal(st.next_state, last);
	}
	/* Reset starts over. */
	assert_int_equal(dq_env_instance_reset(inst, &rng, &s), 0);
	assert_int_equal(dq_env_instance_step(inst, 0, &rng, &st), 0);
	assert_true(st.reward == 1.0 && !st.terminated);
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
	    {"cartpole:bins=0", -ERANGE},
	    {"cartpole:bins=1001", -ERANGE},
	    {"cartpole:theta_bins=0", -ERANGE},
	    /* 1000^4 states do not fit 32 bits. */
	    {"cartpole:bins=1000", -ERANGE},
	    {"cartpole:x_dot_max=0", -ERANGE},
	    {"cartpole:theta_dot_max=-1", -ERANGE},
	    {"cartpole:theta_dot_max=abc", -EINVAL},
	    {"cartpole:slippery=1", -EINVAL},
	    {"cartpole:bins=4,bins=5", -EINVAL},
	};
	dq_env *env = NULL;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (dq_env_open_name(&env, bad[i].spec) != bad[i].err)
			fail_msg("%s", bad[i].spec);
	}
	assert_null(env);
	/* 200^4 = 1.6e9 states is still a valid (if silly) table. */
	assert_int_equal(dq_env_open_name(&env, "cartpole:bins=200"), 0);
	dq_env_close(env);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_reference_equations),
	    cmocka_unit_test(test_spec),
	    cmocka_unit_test(test_replay_defaults),
	    cmocka_unit_test(test_replay_fine),
	    cmocka_unit_test(test_bins_params),
	    cmocka_unit_test(test_termination),
	    cmocka_unit_test(test_bad_params),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
