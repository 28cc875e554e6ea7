/*
 * cartpole: Gymnasium's CartPole-v1 physics, discretised for a table.
 *
 * The continuous state (x, x_dot, theta, theta_dot) lives in the instance
 * and moves exactly as Gymnasium's: the equations of Florian's "Correct
 * equations for the dynamics of the cart-pole system" with gravity 9.8,
 * cart mass 1, pole mass 0.1, half-length 0.5, force 10 and explicit Euler
 * steps of 0.02 s. Action 0 pushes left, 1 right. An episode starts with
 * all four variables uniform in [-0.05, 0.05) (four draws, in that order)
 * and terminates when |x| > 2.4 or |theta| > 12 degrees; every step gives
 * +1, the failing one included. Stepping a terminated episode again gives
 * reward 0 and leaves it where it is.
 *
 * The agent sees a bin index per variable, combined mixed-radix:
 *
 *	s = ((ix * n_x_dot + ix_dot) * n_theta + itheta) * n_theta_dot
 *	    + itheta_dot
 *
 * x is binned over [-2.4, 2.4] and theta over [-12, 12] degrees (the
 * non-terminal range), the velocities over [-x_dot_max, x_dot_max] and
 * [-theta_dot_max, theta_dot_max]; values outside go to the outer bins.
 * There is no transition model: the binned process is not Markov.
 *
 * The observation (dq_env_ext) is the continuous state itself, (x, x_dot,
 * theta, theta_dot) in float64 as the physics moves it (Gymnasium hands
 * the agent the same vector cast to float32), with Gymnasium's bounds
 * (+-4.8, unbounded, +-24 degrees, unbounded); the span a coder covers is
 * the non-terminal x and theta and velocities of +-3 m/s and +-3.5 rad/s,
 * which a balancing policy stays well within. The bins above are one way
 * to use it; tile coding (<distq/tiles.h>) is another.
 *
 * Parameters:
 *	x_bins, x_dot_bins, theta_bins, theta_dot_bins
 *			bins per variable, default 3, 3, 6, 6 (each 1..1000,
 *			product at most 2^32 - 1)
 *	bins		sets the default of all four at once
 *	x_dot_max	default 2.0 (m/s)
 *	theta_dot_max	default 3.0 (rad/s)
 *	max_steps	truncation the learner applies, default 500 (v1)
 *
 * The default 3 x 3 x 6 x 6 = 324 states were chosen by trial: with them
 * single-agent epsilon-greedy Q-learning (alpha 0.1, gamma 0.99, epsilon
 * 0.1 decaying) balances for the full 500 steps after about 2 million
 * steps on most seeds; 6^4 bins learn much more slowly, and dropping x
 * (1 x 1 x 6 x 12) lets the cart drift off the track in long episodes.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>

#include "distq.h"

#define CP_GRAVITY 9.8
#define CP_MASSCART 1.0
#define CP_MASSPOLE 0.1
#define CP_TOTAL_MASS (CP_MASSPOLE + CP_MASSCART)
#define CP_LENGTH 0.5
#define CP_POLEMASS_LENGTH (CP_MASSPOLE * CP_LENGTH)
#define CP_FORCE_MAG 10.0
#define CP_TAU 0.02
#define CP_X_THRESHOLD 2.4
#define CP_PI 3.14159265358979323846
#define CP_THETA_THRESHOLD (12 * 2 * CP_PI / 360)
#define CP_MAX_BINS 1000

/* One binned variable: lo + k * width starts bin k. */
typedef struct cp_axis {
	double lo;
	double scale; /* bins / (hi - lo) */
	uint32_t bins;
} cp_axis;

typedef struct cp_def {
	cp_axis axis[4]; /* x, x_dot, theta, theta_dot */
} cp_def;

typedef struct cp_inst {
	const cp_def *def;
	double x, x_dot, theta, theta_dot;
	bool done;
} cp_inst;

static uint32_t
cp_bin(const cp_axis *ax, double v)
{
	double f = (v - ax->lo) * ax->scale;

	if (!(f > 0.0))
		return 0;
	if (f >= (double)ax->bins)
		return ax->bins - 1;
	return (uint32_t)f;
}

static uint32_t
cp_index(const cp_inst *in)
{
	const cp_axis *ax = in->def->axis;
	uint32_t s = cp_bin(&ax[0], in->x);

	s = s * ax[1].bins + cp_bin(&ax[1], in->x_dot);
	s = s * ax[2].bins + cp_bin(&ax[2], in->theta);
	return s * ax[3].bins + cp_bin(&ax[3], in->theta_dot);
}

static void
cp_axis_init(cp_axis *ax, uint64_t bins, double lo, double hi)
{
	ax->lo = lo;
	ax->scale = (double)bins / (hi - lo);
	ax->bins = (uint32_t)bins;
}

static int
cp_open(void **def, const char *params, void *user, dq_env_spec *spec)
{
	static const char *const keys[] = {
	    "bins",	     "x_bins",	       "x_dot_bins",
	    "theta_bins",    "theta_dot_bins", "x_dot_max",
	    "theta_dot_max", "max_steps",      NULL,
	};
	static const char *const bin_keys[4] = {"x_bins", "x_dot_bins",
						"theta_bins", "theta_dot_bins"};
	static const uint64_t bin_defaults[4] = {3, 3, 6, 6};
	uint64_t bins, b[4], max_steps, n = 1;
	double x_dot_max, theta_dot_max;
	cp_def *d;
	int err;

	(void)user;
	/* bins = 0 (absent) keeps each variable's own default. */
	if ((err = dq_params_check(params, keys)) ||
	    (err = dq_params_u64(params, "bins", 0, 1, CP_MAX_BINS, &bins)))
		return err;
	for (int i = 0; i < 4; i++) {
		err = dq_params_u64(params, bin_keys[i],
				    bins ? bins : bin_defaults[i], 1,
				    CP_MAX_BINS, &b[i]);
		if (err)
			return err;
		n *= b[i];
	}
	if (n > UINT32_MAX)
		return dq_env_fail(-ERANGE,
				   "x_bins x x_dot_bins x theta_bins "
				   "x theta_dot_bins",
				   "the product is more than 2^32 - 1 states");
	if ((err = dq_params_double(params, "x_dot_max", 2.0, 1e-6, 1e6,
				    &x_dot_max)) ||
	    (err = dq_params_double(params, "theta_dot_max", 3.0, 1e-6, 1e6,
				    &theta_dot_max)) ||
	    (err = dq_params_u64(params, "max_steps", 500, 0, UINT32_MAX,
				 &max_steps)))
		return err;
	d = malloc(sizeof(*d));
	if (!d)
		return -ENOMEM;
	cp_axis_init(&d->axis[0], b[0], -CP_X_THRESHOLD, CP_X_THRESHOLD);
	cp_axis_init(&d->axis[1], b[1], -x_dot_max, x_dot_max);
	cp_axis_init(&d->axis[2], b[2], -CP_THETA_THRESHOLD,
		     CP_THETA_THRESHOLD);
	cp_axis_init(&d->axis[3], b[3], -theta_dot_max, theta_dot_max);
	*def = d;
	spec->n_states = (uint32_t)n;
	spec->n_actions = 2;
	spec->max_episode_steps = (uint32_t)max_steps;
	spec->max_outcomes = 0;
	return 0;
}

static void
cp_close(void *def)
{
	free(def);
}

static int
cp_create(void *def, void **inst)
{
	cp_inst *in = dq_env_instance_alloc(sizeof(*in));

	if (!in)
		return -ENOMEM;
	in->def = def;
	*inst = in;
	return 0;
}

static void
cp_destroy(void *inst)
{
	free(inst);
}

static int
cp_reset(void *inst, dq_rng *rng, uint32_t *state)
{
	cp_inst *in = inst;

	in->x = -0.05 + 0.1 * dq_rng_uniform(rng);
	in->x_dot = -0.05 + 0.1 * dq_rng_uniform(rng);
	in->theta = -0.05 + 0.1 * dq_rng_uniform(rng);
	in->theta_dot = -0.05 + 0.1 * dq_rng_uniform(rng);
	in->done = false;
	*state = cp_index(in);
	return 0;
}

/*
 * Gymnasium's step, term by term and in its order of operations (x**2 is
 * x * x, evaluated first), so the trajectories agree to the last bit where
 * the compiler does not contract multiply-adds (x86-64 without FMA, or
 * -ffp-contract=off) and libm's sin and cos are Python's.
 */
static int
cp_step(void *inst, uint32_t action, dq_rng *rng, dq_step *out)
{
	cp_inst *in = inst;
	double force, costheta, sintheta, temp, thetaacc, xacc;

	(void)rng;
	out->truncated = false;
	if (in->done) {
		out->next_state = cp_index(in);
		out->reward = 0.0;
		out->terminated = true;
		return 0;
	}
	force = action == 1 ? CP_FORCE_MAG : -CP_FORCE_MAG;
	costheta = cos(in->theta);
	sintheta = sin(in->theta);
	temp = (force + CP_POLEMASS_LENGTH * (in->theta_dot * in->theta_dot) *
			    sintheta) /
	       CP_TOTAL_MASS;
	thetaacc =
	    (CP_GRAVITY * sintheta - costheta * temp) /
	    (CP_LENGTH *
	     (4.0 / 3.0 - CP_MASSPOLE * (costheta * costheta) / CP_TOTAL_MASS));
	xacc = temp - CP_POLEMASS_LENGTH * thetaacc * costheta / CP_TOTAL_MASS;
	in->x = in->x + CP_TAU * in->x_dot;
	in->x_dot = in->x_dot + CP_TAU * xacc;
	in->theta = in->theta + CP_TAU * in->theta_dot;
	in->theta_dot = in->theta_dot + CP_TAU * thetaacc;
	in->done = in->x < -CP_X_THRESHOLD || in->x > CP_X_THRESHOLD ||
		   in->theta < -CP_THETA_THRESHOLD ||
		   in->theta > CP_THETA_THRESHOLD;
	out->next_state = cp_index(in);
	out->reward = 1.0;
	out->terminated = in->done;
	return 0;
}

static void
cp_observe(const void *inst, double *obs)
{
	const cp_inst *in = inst;

	obs[0] = in->x;
	obs[1] = in->x_dot;
	obs[2] = in->theta;
	obs[3] = in->theta_dot;
}

static const double cp_obs_low[4] = {-2 * CP_X_THRESHOLD, -INFINITY,
				     -2 * CP_THETA_THRESHOLD, -INFINITY};
static const double cp_obs_high[4] = {2 * CP_X_THRESHOLD, INFINITY,
				      2 * CP_THETA_THRESHOLD, INFINITY};
static const double cp_span_low[4] = {-CP_X_THRESHOLD, -3.0,
				      -CP_THETA_THRESHOLD, -3.5};
static const double cp_span_high[4] = {CP_X_THRESHOLD, 3.0, CP_THETA_THRESHOLD,
				       3.5};

static const dq_env_ext cp_ext = {
    .size = sizeof(dq_env_ext),
    .obs_dim = 4,
    .obs_low = cp_obs_low,
    .obs_high = cp_obs_high,
    .span_low = cp_span_low,
    .span_high = cp_span_high,
    .observe = cp_observe,
};

/* Balancing is the task: success is not falling before the limit. */
static bool
cp_success(const void *def, const dq_step *last)
{
	(void)def;
	return !last->terminated;
}

#define CP_BINS_PARAM(key, def, what)                                 \
	{                                                             \
		key, DQ_PARAM_COUNT, def, 1, CP_MAX_BINS,             \
		    "bins of " what " (the product at most 2^32 - 1)" \
	}

static const dq_env_param cp_params[] = {
    {"bins", DQ_PARAM_COUNT, NAN, 1, CP_MAX_BINS,
     "default of the four bin counts below (default: their own)"},
    CP_BINS_PARAM("x_bins", 3, "the cart position"),
    CP_BINS_PARAM("x_dot_bins", 3, "the cart velocity"),
    CP_BINS_PARAM("theta_bins", 6, "the pole angle"),
    CP_BINS_PARAM("theta_dot_bins", 6, "the pole angular velocity"),
    {"x_dot_max", DQ_PARAM_REAL, 2.0, 1e-6, 1e6,
     "cart velocities are binned over [-x_dot_max, x_dot_max] (m/s)"},
    {"theta_dot_max", DQ_PARAM_REAL, 3.0, 1e-6, 1e6,
     "angular velocities are binned over [-max, max] (rad/s)"},
    {"max_steps", DQ_PARAM_COUNT, 500, 0, 4294967295.0,
     "episode step limit the learner applies (0 = none)"},
    {NULL, DQ_PARAM_REAL, 0, 0, 0, NULL},
};

const dq_env_ops dq__env_cartpole = {
    .abi = DQ_ENV_ABI,
    .name = "cartpole",
    .open = cp_open,
    .close = cp_close,
    .create = cp_create,
    .destroy = cp_destroy,
    .reset = cp_reset,
    .step = cp_step,
    .params = cp_params,
    .success = cp_success,
    .ext = &cp_ext,
};
