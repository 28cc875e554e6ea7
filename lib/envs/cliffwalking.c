/*
 * cliffwalking: Gymnasium's CliffWalking-v0 (Sutton & Barto, example 6.6).
 *
 *	row 0:  .  .  .  .  .  .  .  .  .  .  .  .
 *	row 1:  .  .  .  .  .  .  .  .  .  .  .  .
 *	row 2:  .  .  .  .  .  .  .  .  .  .  .  .
 *	row 3:  S  C  C  C  C  C  C  C  C  C  C  G
 *
 * 4 x 12 cells, state row * 12 + col: start S = 36, goal G = 47, cliff C
 * = 37..46. Actions 0 up, 1 right, 2 down, 3 left; a move off the grid
 * stays put. Every step costs -1, reaching the goal included; stepping into
 * the cliff costs -100 and puts the agent back at the start without ending
 * the episode. The goal ends the episode and is absorbing. The cliff cells
 * are never occupied; moves from them follow the same rules (as
 * Gymnasium's table has them).
 *
 * Parameters:
 *	max_steps	truncation the learner applies, default 500, 0 = none.
 *			Gymnasium's v0 sets no limit; without one an early
 *			epsilon-greedy episode can wander for thousands of
 *			steps, and 500 is still 38 times the optimal 13.
 */
#include <errno.h>
#include <stdlib.h>

#include "distq.h"

#define CW_ROWS 4
#define CW_COLS 12
#define CW_STATES (CW_ROWS * CW_COLS)
#define CW_ACTIONS 4
#define CW_START 36
#define CW_GOAL 47

typedef struct cw_inst {
	uint32_t state;
} cw_inst;

static int
cw_cliff(uint32_t s)
{
	return s > CW_START && s < CW_GOAL;
}

/* The one transition of (s, a): deterministic, shared by step and model. */
static void
cw_transition(uint32_t s, unsigned a, dq_step *out)
{
	uint32_t row = s / CW_COLS;
	uint32_t col = s % CW_COLS;
	uint32_t next;

	out->truncated = false;
	if (s == CW_GOAL) {
		out->next_state = s;
		out->reward = 0.0;
		out->terminated = true;
		return;
	}
	switch (a) {
	case 0:
		if (row > 0)
			row--;
		break;
	case 1:
		if (col < CW_COLS - 1)
			col++;
		break;
	case 2:
		if (row < CW_ROWS - 1)
			row++;
		break;
	default:
		if (col > 0)
			col--;
		break;
	}
	next = row * CW_COLS + col;
	if (cw_cliff(next)) {
		out->next_state = CW_START;
		out->reward = -100.0;
		out->terminated = false;
		return;
	}
	out->next_state = next;
	out->reward = -1.0;
	out->terminated = next == CW_GOAL;
}

static int
cw_open(void **def, const char *params, void *user, dq_env_spec *spec)
{
	static const char *const keys[] = {"max_steps", NULL};
	uint64_t max_steps;
	int err;

	(void)user;
	if ((err = dq_params_check(params, keys)) ||
	    (err = dq_params_u64(params, "max_steps", 500, 0, UINT32_MAX,
				 &max_steps)))
		return err;
	/* Nothing to configure: the definition is empty. */
	*def = NULL;
	spec->n_states = CW_STATES;
	spec->n_actions = CW_ACTIONS;
	spec->max_episode_steps = (uint32_t)max_steps;
	spec->max_outcomes = 1;
	return 0;
}

static int
cw_create(void *def, void **inst)
{
	cw_inst *in = dq_env_instance_alloc(sizeof(*in));

	(void)def;
	if (!in)
		return -ENOMEM;
	in->state = CW_START;
	*inst = in;
	return 0;
}

static void
cw_destroy(void *inst)
{
	free(inst);
}

static int
cw_reset(void *inst, dq_rng *rng, uint32_t *state)
{
	cw_inst *in = inst;

	(void)rng;
	in->state = CW_START;
	*state = CW_START;
	return 0;
}

static int
cw_step(void *inst, uint32_t action, dq_rng *rng, dq_step *out)
{
	cw_inst *in = inst;

	(void)rng;
	cw_transition(in->state, action, out);
	in->state = out->next_state;
	return 0;
}

static int
cw_outcomes(const void *def, uint32_t s, uint32_t a, dq_outcome *out,
	    size_t cap)
{
	dq_step st;

	(void)def;
	if (s >= CW_STATES || a >= CW_ACTIONS)
		return -ERANGE;
	cw_transition(s, a, &st);
	if (cap)
		*out =
		    (dq_outcome){1.0, st.next_state, st.reward, st.terminated};
	return 1;
}

static int
cw_start_probs(const void *def, double *p, size_t n)
{
	(void)def;
	if (n < CW_STATES)
		return -EINVAL;
	for (uint32_t s = 0; s < CW_STATES; s++)
		p[s] = s == CW_START ? 1.0 : 0.0;
	return 0;
}

static int
cw_set_state(void *inst, uint32_t s)
{
	cw_inst *in = inst;

	if (s >= CW_STATES)
		return -ERANGE;
	in->state = s;
	return 0;
}

/* Only the goal ends an episode (the cliff sends back to the start). */
static bool
cw_success(const void *def, const dq_step *last)
{
	(void)def;
	return last->terminated;
}

static const dq_env_param cw_params[] = {
    {"max_steps", DQ_PARAM_COUNT, 500, 0, 4294967295.0,
     "episode step limit the learner applies (0 = none)"},
    {NULL, DQ_PARAM_REAL, 0, 0, 0, NULL},
};

const dq_env_ops dq__env_cliffwalking = {
    .abi = DQ_ENV_ABI,
    .name = "cliffwalking",
    .open = cw_open,
    .create = cw_create,
    .destroy = cw_destroy,
    .reset = cw_reset,
    .step = cw_step,
    .outcomes = cw_outcomes,
    .start_probs = cw_start_probs,
    .set_state = cw_set_state,
    .params = cw_params,
    .success = cw_success,
};
