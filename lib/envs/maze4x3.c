/*
 * maze4x3: the 4x3 world of Russell & Norvig (AIMA, ch. 17).
 *
 *	row 0:  .  .  .  +1		states  0  1  2  3
 *	row 1:  .  #  .  -1		        4  #  5  6
 *	row 2:  S  .  .  .		        7  8  9 10
 *
 * Row 0 is at the top; states are numbered row-major, skipping the wall.
 * Actions 0 north, 1 east, 2 south, 3 west. The intended move happens with
 * probability 1 - slip; each perpendicular one with slip / 2 (0.8 / 0.1 /
 * 0.1 by default). A move into the wall or off the grid stays put. Entering
 * (or staying in) an ordinary cell costs living_reward; entering +1 or -1
 * gives that reward and ends the episode. Terminal states are absorbing in
 * the model (self-loop, reward 0) so the solver sees a proper MDP.
 *
 * Parameters:
 *	living_reward	default -0.04, in [-1e6, 1e6]
 *	slip		default 0.2, in [0, 1]
 *	max_steps	truncation the learner applies, default 100 (0 = none)
 *
 * The environment itself never truncates; max_steps is only reported in the
 * spec. 100 steps is far beyond the optimal path's 6 and long enough for a
 * random walk to find a terminal most of the time.
 */
#include <errno.h>
#include <stdlib.h>

#include "distq.h"

#define MAZE_ROWS 3
#define MAZE_COLS 4
#define MAZE_STATES 11
#define MAZE_ACTIONS 4
#define MAZE_START 7
#define MAZE_PLUS 3
#define MAZE_MINUS 6
#define MAZE_MAX_OUTCOMES 3

typedef struct maze_def {
	double living_reward;
	double slip;
} maze_def;

typedef struct maze_inst {
	const maze_def *def;
	uint32_t state;
} maze_inst;

/* State of each cell, -1 for the wall; and each state's cell. */
static const int8_t maze_cell_state[MAZE_ROWS][MAZE_COLS] = {
    {0, 1, 2, 3},
    {4, -1, 5, 6},
    {7, 8, 9, 10},
};
static const uint8_t maze_state_row[MAZE_STATES] = {0, 0, 0, 0, 1, 1,
						    1, 2, 2, 2, 2};
static const uint8_t maze_state_col[MAZE_STATES] = {0, 1, 2, 3, 0, 2,
						    3, 0, 1, 2, 3};
/* North, east, south, west. */
static const int8_t maze_drow[MAZE_ACTIONS] = {-1, 0, 1, 0};
static const int8_t maze_dcol[MAZE_ACTIONS] = {0, 1, 0, -1};

static int
maze_terminal(uint32_t s)
{
	return s == MAZE_PLUS || s == MAZE_MINUS;
}

/* Where moving in direction @p dir from non-terminal @p s leads. */
static uint32_t
maze_move(uint32_t s, unsigned dir)
{
	int r = maze_state_row[s] + maze_drow[dir];
	int c = maze_state_col[s] + maze_dcol[dir];

	if (r < 0 || r >= MAZE_ROWS || c < 0 || c >= MAZE_COLS ||
	    maze_cell_state[r][c] < 0)
		return s;
	return (uint32_t)maze_cell_state[r][c];
}

/* The reward and end flag of arriving in @p next, a function of it alone. */
static void
maze_arrive(const maze_def *d, uint32_t next, dq_step *out)
{
	out->next_state = next;
	out->terminated = maze_terminal(next);
	out->truncated = false;
	if (next == MAZE_PLUS)
		out->reward = 1.0;
	else if (next == MAZE_MINUS)
		out->reward = -1.0;
	else
		out->reward = d->living_reward;
}

static int
maze_open(void **def, const char *params, void *user, dq_env_spec *spec)
{
	static const char *const keys[] = {"living_reward", "slip", "max_steps",
					   NULL};
	maze_def *d;
	double living, slip;
	uint64_t max_steps;
	int err;

	(void)user;
	if ((err = dq_params_check(params, keys)) ||
	    (err = dq_params_double(params, "living_reward", -0.04, -1e6, 1e6,
				    &living)) ||
	    (err = dq_params_double(params, "slip", 0.2, 0.0, 1.0, &slip)) ||
	    (err = dq_params_u64(params, "max_steps", 100, 0, UINT32_MAX,
				 &max_steps)))
		return err;
	d = malloc(sizeof(*d));
	if (!d)
		return -ENOMEM;
	d->living_reward = living;
	d->slip = slip;
	*def = d;
	spec->n_states = MAZE_STATES;
	spec->n_actions = MAZE_ACTIONS;
	spec->max_episode_steps = (uint32_t)max_steps;
	spec->max_outcomes = MAZE_MAX_OUTCOMES;
	return 0;
}

static void
maze_close(void *def)
{
	free(def);
}

static int
maze_create(void *def, void **inst)
{
	maze_inst *in = dq_env_instance_alloc(sizeof(*in));

	if (!in)
		return -ENOMEM;
	in->def = def;
	in->state = MAZE_START;
	*inst = in;
	return 0;
}

static void
maze_destroy(void *inst)
{
	free(inst);
}

static int
maze_reset(void *inst, dq_rng *rng, uint32_t *state)
{
	maze_inst *in = inst;

	(void)rng;
	in->state = MAZE_START;
	*state = MAZE_START;
	return 0;
}

/*
 * One uniform draw picks the direction: [0, 1 - slip) the intended one,
 * then slip / 2 each for the one to its left and the one to its right, in
 * the same order maze_outcomes() lists them.
 */
static int
maze_step(void *inst, uint32_t action, dq_rng *rng, dq_step *out)
{
	maze_inst *in = inst;
	const maze_def *d = in->def;
	unsigned dir = action;
	double u;

	if (maze_terminal(in->state)) {
		out->next_state = in->state;
		out->reward = 0.0;
		out->terminated = true;
		out->truncated = false;
		return 0;
	}
	u = dq_rng_uniform(rng);
	if (u >= 1.0 - d->slip)
		dir =
		    (action + (u < 1.0 - d->slip / 2 ? 3u : 1u)) % MAZE_ACTIONS;
	maze_arrive(d, maze_move(in->state, dir), out);
	in->state = out->next_state;
	return 0;
}

/*
 * The three directions merged by landing cell: a corner, for instance,
 * turns two of them into one "stay" outcome. Zero-probability directions
 * (slip 0 or 1) are left out, as the model must list only positive ones.
 */
static int
maze_outcomes(const void *def, uint32_t s, uint32_t a, dq_outcome *out,
	      size_t cap)
{
	const maze_def *d = def;
	const unsigned dirs[3] = {a, (a + 3) % MAZE_ACTIONS,
				  (a + 1) % MAZE_ACTIONS};
	const double probs[3] = {1.0 - d->slip, d->slip / 2, d->slip / 2};
	dq_outcome o[MAZE_MAX_OUTCOMES];
	size_t n = 0;

	if (s >= MAZE_STATES || a >= MAZE_ACTIONS)
		return -ERANGE;
	if (maze_terminal(s)) {
		o[n++] = (dq_outcome){1.0, s, 0.0, true};
	} else {
		for (size_t i = 0; i < 3; i++) {
			dq_step st;

			if (probs[i] <= 0.0)
				continue;
			maze_arrive(d, maze_move(s, dirs[i]), &st);
			n = dq_outcome_merge(o, n, probs[i], &st);
		}
	}
	for (size_t i = 0; i < n && i < cap; i++)
		out[i] = o[i];
	return (int)n;
}

static int
maze_start_probs(const void *def, double *p, size_t n)
{
	(void)def;
	if (n < MAZE_STATES)
		return -EINVAL;
	for (size_t i = 0; i < MAZE_STATES; i++)
		p[i] = i == MAZE_START ? 1.0 : 0.0;
	return 0;
}

static int
maze_set_state(void *inst, uint32_t s)
{
	maze_inst *in = inst;

	if (s >= MAZE_STATES)
		return -ERANGE;
	in->state = s;
	return 0;
}

/* Success is leaving by the +1 exit. */
static bool
maze_success(const void *def, const dq_step *last)
{
	(void)def;
	return last->terminated && last->next_state == MAZE_PLUS;
}

/* What maze_open() accepts, for distq envs and error messages. */
static const dq_env_param maze_params[] = {
    {"living_reward", DQ_PARAM_REAL, -0.04, -1e6, 1e6,
     "reward for entering (or staying in) an ordinary cell"},
    {"slip", DQ_PARAM_REAL, 0.2, 0.0, 1.0,
     "probability of moving sideways instead (half to each side)"},
    {"max_steps", DQ_PARAM_COUNT, 100, 0, 4294967295.0,
     "episode step limit the learner applies (0 = none)"},
    {NULL, DQ_PARAM_REAL, 0, 0, 0, NULL},
};

const dq_env_ops dq__env_maze4x3 = {
    .abi = DQ_ENV_ABI,
    .name = "maze4x3",
    .open = maze_open,
    .close = maze_close,
    .create = maze_create,
    .destroy = maze_destroy,
    .reset = maze_reset,
    .step = maze_step,
    .outcomes = maze_outcomes,
    .start_probs = maze_start_probs,
    .set_state = maze_set_state,
    .params = maze_params,
    .success = maze_success,
};
