/*
 * mountaincar: Gymnasium's MountainCar-v0 (Moore 1990; Sutton & Barto,
 * Example 10.1), its dynamics exactly.
 *
 * A car in a valley, position p in [-1.2, 0.6], velocity v in [-0.07,
 * 0.07]. Actions 0, 1, 2 push left, not at all, right. A step:
 *
 *	v = clip(v + (a - 1) * 0.001 + cos(3 p) * (-0.0025), -0.07, 0.07)
 *	p = clip(p + v, -1.2, 0.6);  v = 0 if p == -1.2 and v < 0
 *
 * terminating when p >= 0.5 and v >= 0 (goal_velocity 0); every step gives
 * -1, the last one included. An episode starts at p uniform in [-0.6,
 * -0.4) (one draw: -0.6 + (-0.4 - -0.6) u, numpy's uniform), v = 0, and is
 * truncated at 200 steps (v0's TimeLimit; the learner applies it). Solved
 * at a mean return of -110 (Gymnasium's reward_threshold).
 *
 * The observation (dq_env_ext) is (p, v) in float64 as the dynamics move
 * them (Gymnasium casts the same vector to float32). The integer state is
 * a discretisation, for tabular use: p and v in bins over their ranges,
 * s = ip * v_bins + iv.
 *
 * Parameters:
 *	p_bins, v_bins	bins of position and velocity, default 20, 20
 *	max_steps	truncation the learner applies, default 200
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>

#include "distq.h"

#define MC_MIN_P (-1.2)
#define MC_MAX_P 0.6
#define MC_MAX_V 0.07
#define MC_GOAL_P 0.5
#define MC_GOAL_V 0.0
#define MC_FORCE 0.001
#define MC_GRAVITY 0.0025

typedef struct mc_def {
	uint32_t p_bins, v_bins;
} mc_def;

typedef struct mc_inst {
	const mc_def *def;
	double p, v;
	bool done;
} mc_inst;

static uint32_t
mc_bin(double x, double lo, double hi, uint32_t bins)
{
	double f = (x - lo) / (hi - lo) * bins;

	if (!(f > 0.0))
		return 0;
	if (f >= (double)bins)
		return bins - 1;
	return (uint32_t)f;
}

static uint32_t
mc_index(const mc_inst *in)
{
	return mc_bin(in->p, MC_MIN_P, MC_MAX_P, in->def->p_bins) *
		   in->def->v_bins +
	       mc_bin(in->v, -MC_MAX_V, MC_MAX_V, in->def->v_bins);
}

static int
mc_open(void **def, const char *params, void *user, dq_env_spec *spec)
{
	static const char *const keys[] = {"p_bins", "v_bins", "max_steps",
					   NULL};
	uint64_t pb, vb, max_steps;
	mc_def *d;
	int err;

	(void)user;
	if ((err = dq_params_check(params, keys)) ||
	    (err = dq_params_u64(params, "p_bins", 20, 1, 65535, &pb)) ||
	    (err = dq_params_u64(params, "v_bins", 20, 1, 65535, &vb)) ||
	    (err = dq_params_u64(params, "max_steps", 200, 0, UINT32_MAX,
				 &max_steps)))
		return err;
	d = malloc(sizeof(*d));
	if (!d)
		return -ENOMEM;
	d->p_bins = (uint32_t)pb;
	d->v_bins = (uint32_t)vb;
	*def = d;
	spec->n_states = (uint32_t)(pb * vb);
	spec->n_actions = 3;
	spec->max_episode_steps = (uint32_t)max_steps;
	return 0;
}

static void
mc_close(void *def)
{
	free(def);
}

static int
mc_create(void *def, void **inst)
{
	mc_inst *in = dq_env_instance_alloc(sizeof(*in));

	if (!in)
		return -ENOMEM;
	in->def = def;
	*inst = in;
	return 0;
}

static void
mc_destroy(void *inst)
{
	free(inst);
}

static int
mc_reset(void *inst, dq_rng *rng, uint32_t *state)
{
	mc_inst *in = inst;
	const double lo = -0.6, hi = -0.4;

	in->p = lo + (hi - lo) * dq_rng_uniform(rng);
	in->v = 0.0;
	in->done = false;
	*state = mc_index(in);
	return 0;
}

static double
mc_clip(double x, double lo, double hi)
{
	return x < lo ? lo : x > hi ? hi : x;
}

/* Gymnasium's step in its order of operations (see the file's head). */
static int
mc_step(void *inst, uint32_t action, dq_rng *rng, dq_step *out)
{
	mc_inst *in = inst;
	double p = in->p, v = in->v;

	(void)rng;
	out->truncated = false;
	if (in->done) {
		out->next_state = mc_index(in);
		out->reward = 0.0;
		out->terminated = true;
		return 0;
	}
	v += ((double)action - 1.0) * MC_FORCE + cos(3 * p) * (-MC_GRAVITY);
	v = mc_clip(v, -MC_MAX_V, MC_MAX_V);
	p += v;
	p = mc_clip(p, MC_MIN_P, MC_MAX_P);
	if (p == MC_MIN_P && v < 0)
		v = 0.0;
	in->p = p;
	in->v = v;
	in->done = p >= MC_GOAL_P && v >= MC_GOAL_V;
	out->next_state = mc_index(in);
	out->reward = -1.0;
	out->terminated = in->done;
	return 0;
}

/* Reaching the flag is the task. */
static bool
mc_success(const void *def, const dq_step *last)
{
	(void)def;
	return last->terminated;
}

static void
mc_observe(const void *inst, double *obs)
{
	const mc_inst *in = inst;

	obs[0] = in->p;
	obs[1] = in->v;
}

static const double mc_low[2] = {MC_MIN_P, -MC_MAX_V};
static const double mc_high[2] = {MC_MAX_P, MC_MAX_V};

static const dq_env_ext mc_ext = {
    .size = sizeof(dq_env_ext),
    .obs_dim = 2,
    .obs_low = mc_low,
    .obs_high = mc_high,
    .span_low = mc_low,
    .span_high = mc_high,
    .observe = mc_observe,
};

static const dq_env_param mc_params[] = {
    {"p_bins", DQ_PARAM_COUNT, 20, 1, 65535,
     "bins of the position in the integer state"},
    {"v_bins", DQ_PARAM_COUNT, 20, 1, 65535,
     "bins of the velocity in the integer state"},
    {"max_steps", DQ_PARAM_COUNT, 200, 0, 4294967295.0,
     "episode step limit the learner applies (0 = none)"},
    {NULL, DQ_PARAM_REAL, 0, 0, 0, NULL},
};

const dq_env_ops dq__env_mountaincar = {
    .abi = DQ_ENV_ABI,
    .name = "mountaincar",
    .open = mc_open,
    .close = mc_close,
    .create = mc_create,
    .destroy = mc_destroy,
    .reset = mc_reset,
    .step = mc_step,
    .params = mc_params,
    .success = mc_success,
    .ext = &mc_ext,
};
