/*
 * Unit tests for lib/envs/mountaincar.c and lib/envs/acrobot.c: Gymnasium's
 * MountainCar-v0 and Acrobot-v1, step by step against recorded
 * trajectories.
 *
 * tests/ref/classic_ref.h holds trajectories that tests/ref/gym_classic_ref.py
 * recorded with a numpy transcription of Gymnasium's source (Gymnasium
 * cannot be installed here; the script says what it copies and how it was
 * run). The episodes start from libdistq's own random stream (the script
 * reimplements it), so the reset draws are checked too; then each step's
 * action is replayed and its observation, reward and termination must
 * agree to the bit: for MountainCar, and for Acrobot's RK4 steps (four
 * evaluations of the equations of motion, angle wrapping, velocity
 * bounds) with the C library's sin and cos, which the script uses by
 * default (numpy's own round differently, see the script). Acrobot is
 * chaotic, so a single differing bit shows within a hundred steps: x * x
 * where Python computes x**2 as pow(x, 2) did.
 */
#include <errno.h>
#include <math.h>

#include "dq_test.h"

#include "ref/classic_ref.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* |x - y| <= tol (relative, absolute below 1). */
static bool
close_to(double x, double y, double tol)
{
	double m = fabs(y) > 1.0 ? fabs(y) : 1.0;

	return fabs(x - y) <= tol * m;
}

static void
replay(const char *name, const ref_traj *trajs, size_t n_trajs,
       const ref_step *steps, uint32_t dim, double tol, double *worst)
{
	dq_env *env = NULL;
	dq_env_instance *in = NULL;
	double obs[DQ_OBS_MAX_DIM];
	uint32_t d;

	assert_int_equal(dq_env_open_name(&env, name), 0);
	assert_int_equal(dq_env_obs_dim(env, &d), 0);
	assert_int_equal(d, dim);
	assert_int_equal(dq_env_instance_create(env, &in), 0);
	for (size_t k = 0; k < n_trajs; k++) {
		const ref_traj *tr = &trajs[k];
		dq_rng rng;
		uint32_t s;

		assert_int_equal(dq_rng_seed(&rng, tr->seed, 0), 0);
		assert_int_equal(dq_env_instance_reset(in, &rng, &s), 0);
		assert_int_equal(dq_env_instance_observe(in, obs, dim), 0);
		if (dim == 2) { /* (p, v): the state itself */
			assert_true(obs[0] == tr->first[0]);
			assert_true(obs[1] == tr->first[1]);
		} else { /* the float32 state: angles through cos and sin */
			assert_true(obs[0] == cos(tr->first[0]));
			assert_true(obs[1] == sin(tr->first[0]));
			assert_true(obs[2] == cos(tr->first[1]));
			assert_true(obs[3] == sin(tr->first[1]));
			assert_true(obs[4] == tr->first[2]);
			assert_true(obs[5] == tr->first[3]);
		}
		for (int i = 0; i < tr->count; i++) {
			const ref_step *r = &steps[tr->start + i];
			dq_step st;

			assert_int_equal(
			    dq_env_instance_step(in, r->action, &rng, &st), 0);
			assert_int_equal(dq_env_instance_observe(in, obs, dim),
					 0);
			for (uint32_t j = 0; j < dim; j++) {
				double m = fabs(r->obs[j]) > 1.0
					       ? fabs(r->obs[j])
					       : 1.0;

				if (fabs(obs[j] - r->obs[j]) / m > *worst)
					*worst = fabs(obs[j] - r->obs[j]) / m;
				if (!close_to(obs[j], r->obs[j], tol))
					fail_msg(
					    "%s seed %llu step %d obs[%u]: "
					    "%a, reference %a",
					    name, tr->seed, i + 1, j, obs[j],
					    r->obs[j]);
			}
			assert_true(st.reward == r->reward);
			assert_int_equal(st.terminated, r->terminated != 0);
			assert_false(st.truncated);
		}
	}
	dq_env_instance_destroy(in);
	dq_env_close(env);
}

static void
test_mountaincar_trajectories(void **state)
{
	double worst = 0.0;

	(void)state;
	replay("mountaincar", mc_trajs, N(mc_trajs), mc_steps, 2, 0.0, &worst);
	assert_true(worst == 0.0);
}

static void
test_acrobot_trajectories(void **state)
{
	double worst = 0.0;

	(void)state;
	replay("acrobot", ab_trajs, N(ab_trajs), ab_steps, 6, 0.0, &worst);
	assert_true(worst == 0.0);
}

/* The recorded episodes reach the goal: termination is exercised. */
static void
test_references_terminate(void **state)
{
	(void)state;
	for (size_t k = 0; k < N(mc_trajs); k++)
		assert_true(mc_steps[mc_trajs[k].start + mc_trajs[k].count - 1]
				.terminated);
	for (size_t k = 0; k < N(ab_trajs); k++)
		assert_true(ab_steps[ab_trajs[k].start + ab_trajs[k].count - 1]
				.terminated);
}

/* Specs: Gymnasium's limits, actions, and observation bounds. */
static void
test_specs(void **state)
{
	dq_env *env;
	dq_env_spec sp;
	double lo[6], hi[6];

	(void)state;
	assert_int_equal(dq_env_open_name(&env, "mountaincar"), 0);
	assert_int_equal(dq_env_spec_get(env, &sp), 0);
	assert_int_equal(sp.max_episode_steps, 200);
	assert_int_equal(sp.n_actions, 3);
	assert_int_equal(sp.n_states, 400);
	assert_int_equal(dq_env_obs_bounds(env, lo, hi, NULL, NULL, 2), 0);
	assert_true(lo[0] == -1.2 && hi[0] == 0.6 && hi[1] == 0.07);
	assert_int_equal(dq_env_obs_bounds(env, lo, hi, NULL, NULL, 1),
			 -EINVAL);
	dq_env_close(env);
	assert_int_equal(dq_env_open_name(&env, "acrobot"), 0);
	assert_int_equal(dq_env_spec_get(env, &sp), 0);
	assert_int_equal(sp.max_episode_steps, 500);
	assert_int_equal(sp.n_actions, 3);
	assert_int_equal(dq_env_obs_bounds(env, lo, hi, NULL, NULL, 6), 0);
	assert_true(hi[4] == 4 * 3.14159265358979323846 &&
		    hi[5] == 9 * 3.14159265358979323846 && lo[0] == -1.0);
	dq_env_close(env);
	/* Tabular environments give no observation. */
	assert_int_equal(dq_env_open_name(&env, "taxi"), 0);
	assert_int_equal(dq_env_obs_bounds(env, lo, hi, NULL, NULL, 6),
			 -ENOTSUP);
	dq_env_close(env);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_mountaincar_trajectories),
	    cmocka_unit_test(test_acrobot_trajectories),
	    cmocka_unit_test(test_references_terminate),
	    cmocka_unit_test(test_specs),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
