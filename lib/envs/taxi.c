/*
 * taxi: Gymnasium's Taxi-v3 (Dietterich's taxi domain), rule for rule.
 *
 *	+---------+
 *	|R: | : :G|	landmarks R (0,0), G (0,4), Y (4,0), B (4,3),
 *	| : | : : |	numbered 0..3; a '|' is a wall between two cells.
 *	| : : : : |
 *	| | : | : |
 *	|Y| : |B: |
 *	+---------+
 *
 * State ((taxi_row * 5 + taxi_col) * 5 + pass_loc) * 4 + dest, pass_loc 4
 * meaning "in the taxi". Actions 0 south, 1 north, 2 east, 3 west,
 * 4 pickup, 5 dropoff. Every step costs -1 (moving into a wall included),
 * except: a pickup where the passenger is not waiting, or a dropoff that is
 * neither at the destination nor at another landmark, costs -10; a dropoff
 * at the destination with the passenger aboard gives +20 and ends the
 * episode (the passenger is then at the destination); a dropoff at another
 * landmark leaves the passenger there for -1.
 *
 * An episode starts uniformly over the 300 states with the passenger
 * waiting at a landmark other than the destination.
 *
 * Terminal states are those with the passenger at the destination
 * (pass_loc == dest); they are absorbing with reward 0. Gymnasium only
 * ever reaches 4 of these 100 states (taxi at the destination), and never
 * steps from any of them before a reset, so this changes nothing an agent
 * can observe; it gives the solver a proper MDP.
 *
 * Parameters:
 *	max_steps	truncation the learner applies, default 200 (as
 *			Gymnasium's TimeLimit), 0 = none
 */
#include <errno.h>
#include <stdlib.h>

#include "distq.h"

#define TAXI_SIZE 5
#define TAXI_STATES 500
#define TAXI_ACTIONS 6
#define TAXI_IN_TAXI 4
#define TAXI_STARTS 300

enum {
	TAXI_SOUTH,
	TAXI_NORTH,
	TAXI_EAST,
	TAXI_WEST,
	TAXI_PICKUP,
	TAXI_DROPOFF,
};

typedef struct taxi_inst {
	uint32_t state;
} taxi_inst;

/* Gymnasium's map: east of cell (r,c) is open when map[r+1][2c+2] is ':'. */
static const char taxi_map[7][12] = {
    "+---------+", "|R: | : :G|", "| : | : : |", "| : : : : |",
    "| | : | : |", "|Y| : |B: |", "+---------+",
};
static const uint8_t taxi_loc_row[4] = {0, 0, 4, 4};
static const uint8_t taxi_loc_col[4] = {0, 4, 0, 3};

static uint32_t
taxi_encode(unsigned row, unsigned col, unsigned pass, unsigned dest)
{
	return (uint32_t)(((row * TAXI_SIZE + col) * 5 + pass) * 4 + dest);
}

/* The landmark at (row, col), or -1. */
static int
taxi_landmark(unsigned row, unsigned col)
{
	for (int i = 0; i < 4; i++)
		if (taxi_loc_row[i] == row && taxi_loc_col[i] == col)
			return i;
	return -1;
}

/*
 * The one transition of (s, a). Deterministic, so step and the model share
 * it and agree by construction.
 */
static void
taxi_transition(uint32_t s, unsigned a, dq_step *out)
{
	unsigned dest = s % 4;
	unsigned pass = s / 4 % 5;
	unsigned col = s / 20 % TAXI_SIZE;
	unsigned row = s / 100;
	int here;

	out->truncated = false;
	out->terminated = false;
	out->reward = -1.0;
	if (pass == dest) {
		/* Delivered: absorbing. */
		out->next_state = s;
		out->reward = 0.0;
		out->terminated = true;
		return;
	}
	switch (a) {
	case TAXI_SOUTH:
		if (row < TAXI_SIZE - 1)
			row++;
		break;
	case TAXI_NORTH:
		if (row > 0)
			row--;
		break;
	case TAXI_EAST:
		if (taxi_map[row + 1][2 * col + 2] == ':')
			col++;
		break;
	case TAXI_WEST:
		if (taxi_map[row + 1][2 * col] == ':')
			col--;
		break;
	case TAXI_PICKUP:
		if (pass < 4 && row == taxi_loc_row[pass] &&
		    col == taxi_loc_col[pass])
			pass = TAXI_IN_TAXI;
		else
			out->reward = -10.0;
		break;
	default: /* TAXI_DROPOFF */
		here = taxi_landmark(row, col);
		if (pass == TAXI_IN_TAXI && here == (int)dest) {
			pass = dest;
			out->reward = 20.0;
			out->terminated = true;
		} else if (pass == TAXI_IN_TAXI && here >= 0) {
			pass = (unsigned)here;
		} else {
			out->reward = -10.0;
		}
		break;
	}
	out->next_state = taxi_encode(row, col, pass, dest);
}

static int
taxi_open(void **def, const char *params, void *user, dq_env_spec *spec)
{
	static const char *const keys[] = {"max_steps", NULL};
	uint64_t max_steps;
	int err;

	(void)user;
	if ((err = dq_params_check(params, keys)) ||
	    (err = dq_params_u64(params, "max_steps", 200, 0, UINT32_MAX,
				 &max_steps)))
		return err;
	/* Nothing to configure: the definition is empty. */
	*def = NULL;
	spec->n_states = TAXI_STATES;
	spec->n_actions = TAXI_ACTIONS;
	spec->max_episode_steps = (uint32_t)max_steps;
	spec->max_outcomes = 1;
	return 0;
}

static int
taxi_create(void *def, void **inst)
{
	taxi_inst *in = dq_env_instance_alloc(sizeof(*in));

	(void)def;
	if (!in)
		return -ENOMEM;
	in->state = taxi_encode(0, 0, 0, 1);
	*inst = in;
	return 0;
}

static void
taxi_destroy(void *inst)
{
	free(inst);
}

/*
 * Start k of the 300: taxi cell k / 12, passenger k % 12 / 3, and the
 * destination the (k % 3)-th of the other three landmarks. One draw, no
 * rejection.
 */
static int
taxi_reset(void *inst, dq_rng *rng, uint32_t *state)
{
	taxi_inst *in = inst;
	uint32_t k = dq_rng_below(rng, TAXI_STARTS);
	unsigned cell = k / 12;
	unsigned pass = k % 12 / 3;
	unsigned dest = k % 3;

	if (dest >= pass)
		dest++;
	in->state = taxi_encode(cell / TAXI_SIZE, cell % TAXI_SIZE, pass, dest);
	*state = in->state;
	return 0;
}

static int
taxi_step(void *inst, uint32_t action, dq_rng *rng, dq_step *out)
{
	taxi_inst *in = inst;

	(void)rng;
	taxi_transition(in->state, action, out);
	in->state = out->next_state;
	return 0;
}

static int
taxi_outcomes(const void *def, uint32_t s, uint32_t a, dq_outcome *out,
	      size_t cap)
{
	dq_step st;

	(void)def;
	if (s >= TAXI_STATES || a >= TAXI_ACTIONS)
		return -ERANGE;
	taxi_transition(s, a, &st);
	if (cap)
		*out =
		    (dq_outcome){1.0, st.next_state, st.reward, st.terminated};
	return 1;
}

static int
taxi_start_probs(const void *def, double *p, size_t n)
{
	(void)def;
	if (n < TAXI_STATES)
		return -EINVAL;
	for (uint32_t s = 0; s < TAXI_STATES; s++) {
		unsigned dest = s % 4;
		unsigned pass = s / 4 % 5;

		p[s] = pass < 4 && pass != dest ? 1.0 / TAXI_STARTS : 0.0;
	}
	return 0;
}

static int
taxi_set_state(void *inst, uint32_t s)
{
	taxi_inst *in = inst;

	if (s >= TAXI_STATES)
		return -ERANGE;
	in->state = s;
	return 0;
}

/* Only a delivery ends an episode. */
static bool
taxi_success(const void *def, const dq_step *last)
{
	(void)def;
	return last->terminated;
}

static const dq_env_param taxi_params[] = {
    {"max_steps", DQ_PARAM_COUNT, 200, 0, 4294967295.0,
     "episode step limit the learner applies (0 = none)"},
    {NULL, DQ_PARAM_REAL, 0, 0, 0, NULL},
};

const dq_env_ops dq__env_taxi = {
    .abi = DQ_ENV_ABI,
    .name = "taxi",
    .open = taxi_open,
    .create = taxi_create,
    .destroy = taxi_destroy,
    .reset = taxi_reset,
    .step = taxi_step,
    .outcomes = taxi_outcomes,
    .start_probs = taxi_start_probs,
    .set_state = taxi_set_state,
    .params = taxi_params,
    .success = taxi_success,
};
