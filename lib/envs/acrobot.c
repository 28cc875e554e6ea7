/*
 * acrobot: Gymnasium's Acrobot-v1 (Sutton 1996; Sutton & Barto, 1st ed.,
 * section 11.3), its dynamics exactly: the "book" equations of motion,
 * integrated over dt = 0.2 s by one classic Runge-Kutta (RK4) step of the
 * state augmented with the torque, then theta1 and theta2 wrapped into
 * [-pi, pi] and the velocities bounded by 4 pi and 9 pi.
 *
 * Two links of length 1 and mass 1, centres of mass at 0.5, moments of
 * inertia 1, gravity 9.8, no torque noise. Actions 0, 1, 2 apply torque
 * -1, 0, +1 at the joint between the links. An episode starts with the
 * four state variables (theta1, theta2, dtheta1, dtheta2) each uniform in
 * [-0.1, 0.1) (four draws in that order, -0.1 + 0.2 u) rounded to float32
 * as Gymnasium's reset does; it terminates when -cos(theta1) - cos(theta2
 * + theta1) > 1 (the tip above the bar), and is truncated at 500 steps
 * (v1's TimeLimit; the learner applies it). Each step gives -1, the
 * terminating one 0. Solved at a mean return of -100.
 *
 * The observation (dq_env_ext) is Gymnasium's (cos theta1, sin theta1,
 * cos theta2, sin theta2, dtheta1, dtheta2), in float64 (Gymnasium casts
 * it to float32). The integer state is a discretisation for tabular use:
 * the four state variables in `bins` bins each over [-pi, pi] and the
 * velocity bounds.
 *
 * Parameters:
 *	bins		bins per state variable, default 6 (1..255)
 *	max_steps	truncation the learner applies, default 500
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>

#include "distq.h"

#define AB_PI 3.14159265358979323846
#define AB_DT 0.2
#define AB_MAX_VEL_1 (4 * AB_PI)
#define AB_MAX_VEL_2 (9 * AB_PI)

typedef struct ab_def {
	uint32_t bins;
} ab_def;

typedef struct ab_inst {
	const ab_def *def;
	double s[4]; /* theta1, theta2, dtheta1, dtheta2 */
	bool done;
} ab_inst;

static uint32_t
ab_bin(double x, double lo, double hi, uint32_t bins)
{
	double f = (x - lo) / (hi - lo) * bins;

	if (!(f > 0.0))
		return 0;
	if (f >= (double)bins)
		return bins - 1;
	return (uint32_t)f;
}

static uint32_t
ab_index(const ab_inst *in)
{
	const uint32_t b = in->def->bins;
	uint32_t s = ab_bin(in->s[0], -AB_PI, AB_PI, b);

	s = s * b + ab_bin(in->s[1], -AB_PI, AB_PI, b);
	s = s * b + ab_bin(in->s[2], -AB_MAX_VEL_1, AB_MAX_VEL_1, b);
	return s * b + ab_bin(in->s[3], -AB_MAX_VEL_2, AB_MAX_VEL_2, b);
}

static int
ab_open(void **def, const char *params, void *user, dq_env_spec *spec)
{
	static const char *const keys[] = {"bins", "max_steps", NULL};
	uint64_t bins, max_steps;
	ab_def *d;
	int err;

	(void)user;
	if ((err = dq_params_check(params, keys)) ||
	    (err = dq_params_u64(params, "bins", 6, 1, 255, &bins)) ||
	    (err = dq_params_u64(params, "max_steps", 500, 0, UINT32_MAX,
				 &max_steps)))
		return err;
	d = malloc(sizeof(*d));
	if (!d)
		return -ENOMEM;
	d->bins = (uint32_t)bins;
	*def = d;
	spec->n_states = (uint32_t)(bins * bins * bins * bins);
	spec->n_actions = 3;
	spec->max_episode_steps = (uint32_t)max_steps;
	return 0;
}

static void
ab_close(void *def)
{
	free(def);
}

static int
ab_create(void *def, void **inst)
{
	ab_inst *in = dq_env_instance_alloc(sizeof(*in));

	if (!in)
		return -ENOMEM;
	in->def = def;
	*inst = in;
	return 0;
}

static void
ab_destroy(void *inst)
{
	free(inst);
}

static int
ab_reset(void *inst, dq_rng *rng, uint32_t *state)
{
	ab_inst *in = inst;
	const double lo = -0.1, hi = 0.1;

	for (int i = 0; i < 4; i++)
		in->s[i] =
		    (double)(float)(lo + (hi - lo) * dq_rng_uniform(rng));
	in->done = false;
	*state = ab_index(in);
	return 0;
}

/*
 * sin(x) as its own call. Where a function takes both sin(x) and cos(x),
 * compilers may fuse them into one sincos(x), which a C library need not
 * round as it rounds sin and cos; Gymnasium calls them separately, and
 * Acrobot is chaotic: one differing bit grows to 1e-10 within a hundred
 * steps (as numpy's own float64 sin and cos, or x * x for x**2, showed).
 * Reading the argument through a volatile keeps the calls apart.
 */
static double
ab_sin(double x)
{
	volatile double v = x;

	return sin(v);
}

/*
 * x**2 as Python and numpy evaluate it: pow(x, 2), which the C library
 * does not always round as x * x (glibc: one unit in the last place off on
 * some arguments). The exponent is read through a volatile because
 * compilers rewrite pow(x, 2.0) into x * x.
 */
static double
ab_sq(double x)
{
	volatile double two = 2.0;

	return pow(x, two);
}

/*
 * Gymnasium's _dsdt ("book" dynamics) on y = (theta1, theta2, dtheta1,
 * dtheta2, torque), term by term in its order of operations (x**2 of
 * a variable as ab_sq(), of a constant as the exact x * x). With m1 = m2 = l1 = I1 = I2 = 1 and lc1 = lc2 = 0.5 the
 * constant products are written out as Python evaluates them.
 */
static void
ab_dsdt(const double y[5], double dy[5])
{
	const double m1 = 1.0, m2 = 1.0, l1 = 1.0, lc1 = 0.5, lc2 = 0.5;
	const double I1 = 1.0, I2 = 1.0, g = 9.8;
	const double a = y[4], theta1 = y[0], theta2 = y[1];
	const double dtheta1 = y[2], dtheta2 = y[3];
	double d1, d2, phi1, phi2, ddtheta1, ddtheta2;

	d1 = m1 * (lc1 * lc1) +
	     m2 * (l1 * l1 + lc2 * lc2 + 2 * l1 * lc2 * cos(theta2)) + I1 + I2;
	d2 = m2 * (lc2 * lc2 + l1 * lc2 * cos(theta2)) + I2;
	phi2 = m2 * lc2 * g * cos(theta1 + theta2 - AB_PI / 2.0);
	phi1 = -m2 * l1 * lc2 * ab_sq(dtheta2) * ab_sin(theta2) -
	       2 * m2 * l1 * lc2 * dtheta2 * dtheta1 * ab_sin(theta2) +
	       (m1 * lc1 + m2 * l1) * g * cos(theta1 - AB_PI / 2) + phi2;
	ddtheta2 = (a + d2 / d1 * phi1 -
		    m2 * l1 * lc2 * ab_sq(dtheta1) * ab_sin(theta2) - phi2) /
		   (m2 * (lc2 * lc2) + I2 - ab_sq(d2) / d1);
	ddtheta1 = -(d2 * ddtheta2 + phi1) / d1;
	dy[0] = dtheta1;
	dy[1] = dtheta2;
	dy[2] = ddtheta1;
	dy[3] = ddtheta2;
	dy[4] = 0.0;
}

/* Gymnasium's rk4() over t = [0, dt]: one step, elementwise as numpy. */
static void
ab_rk4(double y0[5])
{
	const double dt = AB_DT - 0.0, dt2 = dt / 2.0;
	double k1[5], k2[5], k3[5], k4[5], y[5];

	ab_dsdt(y0, k1);
	for (int i = 0; i < 5; i++)
		y[i] = y0[i] + dt2 * k1[i];
	ab_dsdt(y, k2);
	for (int i = 0; i < 5; i++)
		y[i] = y0[i] + dt2 * k2[i];
	ab_dsdt(y, k3);
	for (int i = 0; i < 5; i++)
		y[i] = y0[i] + dt * k3[i];
	ab_dsdt(y, k4);
	for (int i = 0; i < 5; i++)
		y0[i] =
		    y0[i] + dt / 6.0 * (k1[i] + 2 * k2[i] + 2 * k3[i] + k4[i]);
}

static double
ab_wrap(double x, double m, double M)
{
	double diff = M - m;

	while (x > M)
		x = x - diff;
	while (x < m)
		x = x + diff;
	return x;
}

static double
ab_bound(double x, double m, double M)
{
	/* min(max(x, m), M), Python's: max keeps x unless m is larger */
	double y = m > x ? m : x;

	return M < y ? M : y;
}

static int
ab_step(void *inst, uint32_t action, dq_rng *rng, dq_step *out)
{
	ab_inst *in = inst;
	double y[5];

	(void)rng;
	out->truncated = false;
	if (in->done) {
		out->next_state = ab_index(in);
		out->reward = 0.0;
		out->terminated = true;
		return 0;
	}
	for (int i = 0; i < 4; i++)
		y[i] = in->s[i];
	y[4] = (double)action - 1.0; /* AVAIL_TORQUE = [-1, 0, +1] */
	ab_rk4(y);
	in->s[0] = ab_wrap(y[0], -AB_PI, AB_PI);
	in->s[1] = ab_wrap(y[1], -AB_PI, AB_PI);
	in->s[2] = ab_bound(y[2], -AB_MAX_VEL_1, AB_MAX_VEL_1);
	in->s[3] = ab_bound(y[3], -AB_MAX_VEL_2, AB_MAX_VEL_2);
	in->done = -cos(in->s[0]) - cos(in->s[1] + in->s[0]) > 1.0;
	out->next_state = ab_index(in);
	out->reward = in->done ? 0.0 : -1.0;
	out->terminated = in->done;
	return 0;
}

/* Swinging the tip above the bar is the task. */
static bool
ab_success(const void *def, const dq_step *last)
{
	(void)def;
	return last->terminated;
}

static void
ab_observe(const void *inst, double *obs)
{
	const ab_inst *in = inst;

	obs[0] = cos(in->s[0]);
	obs[1] = ab_sin(in->s[0]);
	obs[2] = cos(in->s[1]);
	obs[3] = ab_sin(in->s[1]);
	obs[4] = in->s[2];
	obs[5] = in->s[3];
}

static const double ab_low[6] = {-1, -1, -1, -1, -AB_MAX_VEL_1, -AB_MAX_VEL_2};
static const double ab_high[6] = {1, 1, 1, 1, AB_MAX_VEL_1, AB_MAX_VEL_2};

static const dq_env_ext ab_ext = {
    .size = sizeof(dq_env_ext),
    .obs_dim = 6,
    .obs_low = ab_low,
    .obs_high = ab_high,
    .span_low = ab_low,
    .span_high = ab_high,
    .observe = ab_observe,
};

static const dq_env_param ab_params[] = {
    {"bins", DQ_PARAM_COUNT, 6, 1, 255,
     "bins per state variable in the integer state (bins^4 states)"},
    {"max_steps", DQ_PARAM_COUNT, 500, 0, 4294967295.0,
     "episode step limit the learner applies (0 = none)"},
    {NULL, DQ_PARAM_REAL, 0, 0, 0, NULL},
};

const dq_env_ops dq__env_acrobot = {
    .abi = DQ_ENV_ABI,
    .name = "acrobot",
    .open = ab_open,
    .close = ab_close,
    .create = ab_create,
    .destroy = ab_destroy,
    .reset = ab_reset,
    .step = ab_step,
    .params = ab_params,
    .success = ab_success,
    .ext = &ab_ext,
};
