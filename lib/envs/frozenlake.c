/*
 * frozenlake: Gymnasium's FrozenLake-v1 on its two built-in maps.
 *
 *	4x4		8x8
 *	SFFF		SFFFFFFF
 *	FHFH		FFFFFFFF
 *	FFFH		FFFHFFFF
 *	HFFG		FFFFFHFF
 *			FFFHFFFF
 *			FHHFFFHF
 *			FHFFHFHF
 *			FFFHFFFG
 *
 * State row * ncol + col; start S at state 0. Actions 0 left, 1 down,
 * 2 right, 3 up; a move off the map stays put. On slippery ice the agent
 * goes in direction (a - 1) % 4, a or (a + 1) % 4, each with probability
 * 1/3 (the intended one or either perpendicular one). Entering G gives 1,
 * everything else 0; G and the holes H end the episode and are absorbing.
 *
 * Four tables share this file: frozenlake4x4 and frozenlake8x8 (slippery,
 * as Gymnasium's default) and frozenlake4x4-det and frozenlake8x8-det (not
 * slippery).
 *
 * Parameters:
 *	slippery	default 1 for the plain names, 0 for the -det ones
 *	max_steps	truncation the learner applies, default 100 (4x4) or
 *			200 (8x8) as Gymnasium's registrations, 0 = none
 */
#include <errno.h>
#include <stdlib.h>

#include "distq.h"

#define FL_ACTIONS 4
#define FL_MAX_OUTCOMES 3

typedef struct fl_def {
	const char *const *map; /* nrow strings of ncol cells */
	uint32_t nrow;
	uint32_t ncol;
	bool slippery;
} fl_def;

typedef struct fl_inst {
	const fl_def *def;
	uint32_t state;
} fl_inst;

static const char *const fl_map4[] = {"SFFF", "FHFH", "FFFH", "HFFG"};
static const char *const fl_map8[] = {
    "SFFFFFFF", "FFFFFFFF", "FFFHFFFF", "FFFFFHFF",
    "FFFHFFFF", "FHHFFFHF", "FHFFHFHF", "FFFHFFFG",
};

static char
fl_cell(const fl_def *d, uint32_t s)
{
	return d->map[s / d->ncol][s % d->ncol];
}

static int
fl_terminal(const fl_def *d, uint32_t s)
{
	char c = fl_cell(d, s);

	return c == 'H' || c == 'G';
}

/* Left, down, right, up. */
static const int8_t fl_drow[FL_ACTIONS] = {0, 1, 0, -1};
static const int8_t fl_dcol[FL_ACTIONS] = {-1, 0, 1, 0};

/*
 * Move from non-terminal @p s in direction @p dir; off the map stays put.
 * (Written with signed deltas rather than "if (col > 0) col--": GCC 12 at
 * -O1 with -fsanitize=thread if-converts that form into a cmov that keeps
 * the decremented value, and the TSan build then reads out of bounds.)
 */
static void
fl_move(const fl_def *d, uint32_t s, unsigned dir, dq_step *out)
{
	int row = (int)(s / d->ncol) + fl_drow[dir];
	int col = (int)(s % d->ncol) + fl_dcol[dir];
	uint32_t next = s;

	if (row >= 0 && row < (int)d->nrow && col >= 0 && col < (int)d->ncol)
		next = (uint32_t)row * d->ncol + (uint32_t)col;
	out->next_state = next;
	out->reward = fl_cell(d, next) == 'G' ? 1.0 : 0.0;
	out->terminated = fl_terminal(d, next);
	out->truncated = false;
}

/* Parse the common parameters and build one of the four definitions. */
static int
fl_open(void **def, const char *params, dq_env_spec *spec,
	const char *const *map, uint32_t size, bool slippery_default,
	uint32_t max_steps_default)
{
	static const char *const keys[] = {"slippery", "max_steps", NULL};
	fl_def *d;
	uint64_t max_steps;
	bool slippery;
	int err;

	if ((err = dq_params_check(params, keys)) ||
	    (err = dq_params_bool(params, "slippery", slippery_default,
				  &slippery)) ||
	    (err = dq_params_u64(params, "max_steps", max_steps_default, 0,
				 UINT32_MAX, &max_steps)))
		return err;
	d = malloc(sizeof(*d));
	if (!d)
		return -ENOMEM;
	d->map = map;
	d->nrow = size;
	d->ncol = size;
	d->slippery = slippery;
	*def = d;
	spec->n_states = size * size;
	spec->n_actions = FL_ACTIONS;
	spec->max_episode_steps = (uint32_t)max_steps;
	spec->max_outcomes = slippery ? FL_MAX_OUTCOMES : 1;
	return 0;
}

static int
fl_open4(void **def, const char *params, void *user, dq_env_spec *spec)
{
	(void)user;
	return fl_open(def, params, spec, fl_map4, 4, true, 100);
}

static int
fl_open4_det(void **def, const char *params, void *user, dq_env_spec *spec)
{
	(void)user;
	return fl_open(def, params, spec, fl_map4, 4, false, 100);
}

static int
fl_open8(void **def, const char *params, void *user, dq_env_spec *spec)
{
	(void)user;
	return fl_open(def, params, spec, fl_map8, 8, true, 200);
}

static int
fl_open8_det(void **def, const char *params, void *user, dq_env_spec *spec)
{
	(void)user;
	return fl_open(def, params, spec, fl_map8, 8, false, 200);
}

static void
fl_close(void *def)
{
	free(def);
}

static int
fl_create(void *def, void **inst)
{
	fl_inst *in = dq_env_instance_alloc(sizeof(*in));

	if (!in)
		return -ENOMEM;
	in->def = def;
	in->state = 0;
	*inst = in;
	return 0;
}

static void
fl_destroy(void *inst)
{
	free(inst);
}

static int
fl_reset(void *inst, dq_rng *rng, uint32_t *state)
{
	fl_inst *in = inst;

	(void)rng;
	in->state = 0;
	*state = 0;
	return 0;
}

/*
 * dq_rng_below(3) picks among (a - 1) % 4, a, (a + 1) % 4 in that order,
 * the order fl_outcomes() lists them in before merging. Deterministic ice
 * draws nothing.
 */
static int
fl_step(void *inst, uint32_t action, dq_rng *rng, dq_step *out)
{
	fl_inst *in = inst;
	const fl_def *d = in->def;
	unsigned dir = action;

	if (fl_terminal(d, in->state)) {
		out->next_state = in->state;
		out->reward = 0.0;
		out->terminated = true;
		out->truncated = false;
		return 0;
	}
	if (d->slippery)
		dir = (action + 3 + dq_rng_below(rng, 3)) % FL_ACTIONS;
	fl_move(d, in->state, dir, out);
	in->state = out->next_state;
	return 0;
}

/*
 * Outcomes merged by next state (reward and end flag follow from it), so
 * e.g. "left" from the top-left corner is {stay 2/3, down 1/3}.
 */
static int
fl_outcomes(const void *def, uint32_t s, uint32_t a, dq_outcome *out,
	    size_t cap)
{
	const fl_def *d = def;
	dq_outcome o[FL_MAX_OUTCOMES];
	size_t n = 0;
	dq_step st;

	if (s >= d->nrow * d->ncol || a >= FL_ACTIONS)
		return -ERANGE;
	if (fl_terminal(d, s)) {
		o[n++] = (dq_outcome){1.0, s, 0.0, true};
	} else if (!d->slippery) {
		fl_move(d, s, a, &st);
		n = dq_outcome_merge(o, n, 1.0, &st);
	} else {
		for (unsigned k = 0; k < 3; k++) {
			fl_move(d, s, (a + 3 + k) % FL_ACTIONS, &st);
			n = dq_outcome_merge(o, n, 1.0 / 3.0, &st);
		}
	}
	for (size_t i = 0; i < n && i < cap; i++)
		out[i] = o[i];
	return (int)n;
}

static int
fl_start_probs(const void *def, double *p, size_t n)
{
	const fl_def *d = def;
	uint32_t ns = d->nrow * d->ncol;

	if (n < ns)
		return -EINVAL;
	for (uint32_t s = 0; s < ns; s++)
		p[s] = s == 0 ? 1.0 : 0.0;
	return 0;
}

static int
fl_set_state(void *inst, uint32_t s)
{
	fl_inst *in = inst;

	if (s >= in->def->nrow * in->def->ncol)
		return -ERANGE;
	in->state = s;
	return 0;
}

/* Success is reaching G, the one terminal state with a reward. */
static bool
fl_success(const void *def, const dq_step *last)
{
	(void)def;
	return last->terminated && last->reward > 0;
}

#define FL_PARAMS(ident, slippery, max_steps)                           \
	static const dq_env_param ident[] = {                           \
	    {"slippery", DQ_PARAM_BOOL, slippery, 0, 1,                 \
	     "moves go sideways with probability 2/3 (1/3 each side)"}, \
	    {"max_steps", DQ_PARAM_COUNT, max_steps, 0, 4294967295.0,   \
	     "episode step limit the learner applies (0 = none)"},      \
	    {NULL, DQ_PARAM_REAL, 0, 0, 0, NULL},                       \
	}

FL_PARAMS(fl_params4, 1, 100);
FL_PARAMS(fl_params4_det, 0, 100);
FL_PARAMS(fl_params8, 1, 200);
FL_PARAMS(fl_params8_det, 0, 200);

#define FL_OPS(ident, opname, openfn, par) \
	const dq_env_ops ident = {         \
	    .abi = DQ_ENV_ABI,             \
	    .name = opname,                \
	    .open = openfn,                \
	    .close = fl_close,             \
	    .create = fl_create,           \
	    .destroy = fl_destroy,         \
	    .reset = fl_reset,             \
	    .step = fl_step,               \
	    .outcomes = fl_outcomes,       \
	    .start_probs = fl_start_probs, \
	    .set_state = fl_set_state,     \
	    .params = par,                 \
	    .success = fl_success,         \
	}

FL_OPS(dq__env_frozenlake4x4, "frozenlake4x4", fl_open4, fl_params4);
FL_OPS(dq__env_frozenlake4x4_det, "frozenlake4x4-det", fl_open4_det,
       fl_params4_det);
FL_OPS(dq__env_frozenlake8x8, "frozenlake8x8", fl_open8, fl_params8);
FL_OPS(dq__env_frozenlake8x8_det, "frozenlake8x8-det", fl_open8_det,
       fl_params8_det);
