/*
 * snake: the game of the Spark + Caffe seed study (a snake on a grid eats
 * food and grows; it dies on a wall or its own body), here with the
 * compact egocentric state that tabular Snake agents use instead of the
 * screen, so that it is small, tabular and has no model.
 *
 * A W x H grid (default 8 x 8). The snake starts 3 cells long in the
 * middle row, head at column W / 2 heading right, its tail to the left;
 * food appears on a free cell drawn uniformly (rejection sampling: draws
 * dq_rng_below(W H) until a free cell). Actions are relative to the
 * heading: 0 straight on, 1 turn left, 2 turn right. A step moves the head
 * one cell; onto the food the snake grows by one (+10, new food), into a
 * wall or its body (the tail cell excepted, which moves away) it dies
 * (-10, terminated), otherwise 0. Filling the whole grid ends the episode
 * (+10, terminated: success). An episode in which the snake has not eaten
 * for 2 W H steps is cut by the environment (truncated), so a circling
 * snake cannot run forever.
 *
 * The state, 2^3 x 4 x 9 = 288 values:
 *	s = ((danger * 4 + heading) * 3 + food_x) * 3 + food_y
 * danger: three bits, whether moving straight on, left, right would die
 * now; heading: 0 up, 1 right, 2 down, 3 left; food_x, food_y: whether the
 * food is at a smaller (0), equal (1) or larger (2) column and row than
 * the head (rows grow downwards). The score of an episode is the food
 * eaten: its number of +10 rewards (the last one too when it fills the
 * grid).
 *
 * Parameters:
 *	width, height	grid size, default 8 x 8 (each 4..64)
 *	max_steps	truncation the learner applies, default 5000
 */
#include <errno.h>
#include <stdlib.h>

#include "distq.h"

#define SN_FOOD 10.0
#define SN_DEATH (-10.0)

typedef struct sn_def {
	uint32_t w, h;
} sn_def;

typedef struct sn_inst {
	const sn_def *def;
	uint32_t head;	 /* index in ring of the head */
	uint32_t len;	 /* cells of the snake */
	uint32_t dir;	 /* 0 up, 1 right, 2 down, 3 left */
	uint32_t food;	 /* cell */
	uint32_t hungry; /* steps since the last food */
	bool done;
	uint32_t *ring; /* w h cells: ring[(head - k) mod n] is cell k */
	uint8_t *body;	/* w h: 1 where the snake is */
} sn_inst;

static const int sn_dx[4] = {0, 1, 0, -1};
static const int sn_dy[4] = {-1, 0, 1, 0};

static uint32_t
sn_cell_of(const sn_inst *in, uint32_t k) /* k-th cell from the head */
{
	uint32_t n = in->def->w * in->def->h;

	return in->ring[(in->head + n - k) % n];
}

/* The cell one step from `cell` in direction d, or UINT32_MAX (a wall). */
static uint32_t
sn_next(const sn_def *d, uint32_t cell, uint32_t dir)
{
	int x = (int)(cell % d->w) + sn_dx[dir];
	int y = (int)(cell / d->w) + sn_dy[dir];

	if (x < 0 || y < 0 || x >= (int)d->w || y >= (int)d->h)
		return UINT32_MAX;
	return (uint32_t)y * d->w + (uint32_t)x;
}

/* Whether moving to `c` kills (a wall, or the body but its tail, which
 * moves away unless the snake eats there, and food is never on it). */
static bool
sn_deadly(const sn_inst *in, uint32_t c)
{
	return c == UINT32_MAX ||
	       (in->body[c] && c != sn_cell_of(in, in->len - 1));
}

static uint32_t
sn_state(const sn_inst *in)
{
	const sn_def *d = in->def;
	uint32_t head = sn_cell_of(in, 0), danger = 0;
	const uint32_t dirs[3] = {in->dir, (in->dir + 3) % 4,
				  (in->dir + 1) % 4};
	uint32_t hx = head % d->w, hy = head / d->w;
	uint32_t fx = in->food % d->w, fy = in->food / d->w;

	for (int k = 0; k < 3; k++)
		danger = danger * 2 + sn_deadly(in, sn_next(d, head, dirs[k]));
	return ((danger * 4 + in->dir) * 3 + (fx < hx	 ? 0
					      : fx == hx ? 1
							 : 2)) *
		   3 +
	       (fy < hy	   ? 0
		: fy == hy ? 1
			   : 2);
}

static int
sn_open(void **def, const char *params, void *user, dq_env_spec *spec)
{
	static const char *const keys[] = {"width", "height", "max_steps",
					   NULL};
	uint64_t w, h, max_steps;
	sn_def *d;
	int err;

	(void)user;
	if ((err = dq_params_check(params, keys)) ||
	    (err = dq_params_u64(params, "width", 8, 4, 64, &w)) ||
	    (err = dq_params_u64(params, "height", 8, 4, 64, &h)) ||
	    (err = dq_params_u64(params, "max_steps", 5000, 0, UINT32_MAX,
				 &max_steps)))
		return err;
	d = malloc(sizeof(*d));
	if (!d)
		return -ENOMEM;
	d->w = (uint32_t)w;
	d->h = (uint32_t)h;
	*def = d;
	spec->n_states = 288;
	spec->n_actions = 3;
	spec->max_episode_steps = (uint32_t)max_steps;
	return 0;
}

static void
sn_close(void *def)
{
	free(def);
}

static int
sn_create(void *def, void **inst)
{
	const sn_def *d = def;
	size_t n = (size_t)d->w * d->h;
	sn_inst *in =
	    dq_env_instance_alloc(sizeof(*in) + n * (sizeof(uint32_t) + 1));

	if (!in)
		return -ENOMEM;
	in->def = d;
	in->ring = (uint32_t *)(in + 1);
	in->body = (uint8_t *)(in->ring + n);
	*inst = in;
	return 0;
}

static void
sn_destroy(void *inst)
{
	free(inst);
}

static void
sn_place_food(sn_inst *in, dq_rng *rng)
{
	uint32_t n = in->def->w * in->def->h, c;

	do
		c = dq_rng_below(rng, n);
	while (in->body[c]);
	in->food = c;
}

static int
sn_reset(void *inst, dq_rng *rng, uint32_t *state)
{
	sn_inst *in = inst;
	const sn_def *d = in->def;
	uint32_t n = d->w * d->h, row = d->h / 2, col = d->w / 2;

	for (uint32_t i = 0; i < n; i++)
		in->body[i] = 0;
	/* tail at col - 2, head at col: ring[0..2], head last */
	for (uint32_t k = 0; k < 3; k++) {
		in->ring[k] = row * d->w + col - 2 + k;
		in->body[in->ring[k]] = 1;
	}
	in->head = 2;
	in->len = 3;
	in->dir = 1;
	in->hungry = 0;
	in->done = false;
	sn_place_food(in, rng);
	*state = sn_state(in);
	return 0;
}

static int
sn_step(void *inst, uint32_t action, dq_rng *rng, dq_step *out)
{
	sn_inst *in = inst;
	const sn_def *d = in->def;
	uint32_t n = d->w * d->h, c;

	out->truncated = false;
	if (in->done) {
		out->next_state = sn_state(in);
		out->reward = 0.0;
		out->terminated = true;
		return 0;
	}
	if (action == 1)
		in->dir = (in->dir + 3) % 4;
	else if (action == 2)
		in->dir = (in->dir + 1) % 4;
	c = sn_next(d, sn_cell_of(in, 0), in->dir);
	if (sn_deadly(in, c)) {
		in->done = true;
		out->next_state = sn_state(in);
		out->reward = SN_DEATH;
		out->terminated = true;
		return 0;
	}
	if (c == in->food) {
		in->len++;
		in->hungry = 0;
		out->reward = SN_FOOD;
	} else {
		in->body[sn_cell_of(in, in->len - 1)] = 0; /* the tail moves */
		in->hungry++;
		out->reward = 0.0;
	}
	in->head = (in->head + 1) % n;
	in->ring[in->head] = c;
	in->body[c] = 1;
	if (in->len == n) { /* the grid is full: won */
		in->done = true;
		out->next_state = sn_state(in);
		out->terminated = true;
		return 0;
	}
	if (c == in->food)
		sn_place_food(in, rng);
	out->next_state = sn_state(in);
	out->terminated = false;
	out->truncated = in->hungry >= 2 * n;
	return 0;
}

/* Filling the grid is the game won. */
static bool
sn_success(const void *def, const dq_step *last)
{
	(void)def;
	return last->terminated && last->reward > 0.0;
}

static const dq_env_param sn_params[] = {
    {"width", DQ_PARAM_COUNT, 8, 4, 64, "grid columns"},
    {"height", DQ_PARAM_COUNT, 8, 4, 64, "grid rows"},
    {"max_steps", DQ_PARAM_COUNT, 5000, 0, 4294967295.0,
     "episode step limit the learner applies (0 = none)"},
    {NULL, DQ_PARAM_REAL, 0, 0, 0, NULL},
};

const dq_env_ops dq__env_snake = {
    .abi = DQ_ENV_ABI,
    .name = "snake",
    .open = sn_open,
    .close = sn_close,
    .create = sn_create,
    .destroy = sn_destroy,
    .reset = sn_reset,
    .step = sn_step,
    .params = sn_params,
    .success = sn_success,
};
