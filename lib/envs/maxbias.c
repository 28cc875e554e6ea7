/*
 * maxbias: Sutton & Barto's maximization-bias MDP (Example 6.7, Figure
 * 6.5), the environment that shows Q-learning's bias and Double Q's cure.
 *
 *	        left (reward 0)           any action: reward ~ N(mean, 1)
 *	  end <---------------- A --> B ---------------------------------> end
 *	        right (reward 0)
 *
 * States: A = 0 (the start), B = 1, and 2, the end (absorbing, never a
 * start). Every state has `actions` actions (default 10, the figure's
 * number of actions in B). In A, an odd action goes left to B and an even
 * one right to the end, both paying 0: A's actions are the figure's two,
 * each repeated, so that a uniformly random action goes left half the
 * time and epsilon-greedy with epsilon 0.1 takes left at least 5% of the
 * time, as in the figure. In B every action ends the episode with a reward
 * drawn from a normal distribution N(mean, 1), mean -0.1 by default: left
 * is worse in expectation (-0.1 against 0), but the maximum of B's
 * estimated values is positive early on, which draws Q-learning left.
 *
 * The model (dq_env_outcomes) gives B's actions one outcome with the mean
 * reward: the expected value, which is all the exact solver needs.
 *
 * Parameters:
 *	actions	actions per state (2 to 64), default 10
 *	mean	mean reward of B's actions, default -0.1
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>

#include "envs.h"

#define MB_A 0u
#define MB_B 1u
#define MB_END 2u
#define MB_STATES 3u

typedef struct mb_def {
	uint32_t actions;
	double mean;
} mb_def;

typedef struct mb_inst {
	const mb_def *def;
	uint32_t state;
} mb_inst;

static int
mb_open(void **def, const char *params, void *user, dq_env_spec *spec)
{
	static const char *const keys[] = {"actions", "mean", NULL};
	uint64_t actions;
	double mean;
	mb_def *d;
	int err;

	(void)user;
	if ((err = dq_params_check(params, keys)) ||
	    (err = dq_params_u64(params, "actions", 10, 2, 64, &actions)) ||
	    (err = dq_params_double(params, "mean", -0.1, -1e6, 1e6, &mean)))
		return err;
	d = malloc(sizeof(*d));
	if (!d)
		return -ENOMEM;
	d->actions = (uint32_t)actions;
	d->mean = mean;
	*def = d;
	spec->n_states = MB_STATES;
	spec->n_actions = d->actions;
	spec->max_episode_steps = 0;
	spec->max_outcomes = 1;
	return 0;
}

static void
mb_close(void *def)
{
	free(def);
}

static int
mb_create(void *def, void **inst)
{
	mb_inst *in = dq_env_instance_alloc(sizeof(*in));

	if (!in)
		return -ENOMEM;
	in->def = def;
	in->state = MB_A;
	*inst = in;
	return 0;
}

static void
mb_destroy(void *inst)
{
	free(inst);
}

static int
mb_reset(void *inst, dq_rng *rng, uint32_t *state)
{
	mb_inst *in = inst;

	(void)rng;
	in->state = MB_A;
	*state = MB_A;
	return 0;
}

/* A standard normal draw (Box-Muller, one of the pair). */
static double
mb_normal(dq_rng *rng)
{
	double u = dq_rng_uniform(rng), v = dq_rng_uniform(rng);

	return sqrt(-2.0 * log(1.0 - u)) * cos(6.283185307179586 * v);
}

/* The transition of (s, a), B's reward its mean (the model's). */
static void
mb_transition(const mb_def *d, uint32_t s, uint32_t a, dq_step *out)
{
	out->truncated = false;
	if (s == MB_A && (a & 1u)) {
		*out = (dq_step){MB_B, 0.0, false, false};
		return;
	}
	out->next_state = MB_END;
	out->terminated = true;
	out->reward = s == MB_B ? d->mean : 0.0;
}

static int
mb_step(void *inst, uint32_t action, dq_rng *rng, dq_step *out)
{
	mb_inst *in = inst;

	mb_transition(in->def, in->state, action, out);
	if (in->state == MB_B)
		out->reward += mb_normal(rng);
	in->state = out->next_state;
	return 0;
}

static int
mb_outcomes(const void *def, uint32_t s, uint32_t a, dq_outcome *out,
	    size_t cap)
{
	const mb_def *d = def;
	dq_step st;

	if (s >= MB_STATES || a >= d->actions)
		return -ERANGE;
	mb_transition(d, s, a, &st);
	if (cap)
		*out =
		    (dq_outcome){1.0, st.next_state, st.reward, st.terminated};
	return 1;
}

static int
mb_start_probs(const void *def, double *p, size_t n)
{
	(void)def;
	if (n < MB_STATES)
		return -EINVAL;
	p[MB_A] = 1.0;
	p[MB_B] = 0.0;
	p[MB_END] = 0.0;
	return 0;
}

static int
mb_set_state(void *inst, uint32_t s)
{
	mb_inst *in = inst;

	if (s >= MB_STATES)
		return -ERANGE;
	in->state = s;
	return 0;
}

/* Success: the episode ended by going right from A (reward exactly 0; B's
 * rewards are continuous), the optimal choice for a negative mean. */
static bool
mb_success(const void *def, const dq_step *last)
{
	(void)def;
	return last->terminated && last->reward == 0.0;
}

static const dq_env_param mb_params[] = {
    {"actions", DQ_PARAM_COUNT, 10, 2, 64,
     "actions per state (A's alternate left and right)"},
    {"mean", DQ_PARAM_REAL, -0.1, -1e6, 1e6,
     "mean of B's rewards, each N(mean, 1)"},
    {NULL, DQ_PARAM_REAL, 0, 0, 0, NULL},
};

const dq_env_ops dq__env_maxbias = {
    .abi = DQ_ENV_ABI,
    .name = "maxbias",
    .open = mb_open,
    .close = mb_close,
    .create = mb_create,
    .destroy = mb_destroy,
    .reset = mb_reset,
    .step = mb_step,
    .outcomes = mb_outcomes,
    .start_probs = mb_start_probs,
    .set_state = mb_set_state,
    .params = mb_params,
    .success = mb_success,
};
