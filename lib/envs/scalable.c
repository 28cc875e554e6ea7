/*
 * scalable: a procedurally generated MDP of any size, for benchmarks.
 *
 * Nothing is stored per state: every property of a state is a hash of its
 * index and the structure seed, so a definition is a few words whatever S
 * is and opening one with 10^8 entries costs nothing. The dynamics:
 *
 *  - (s, a) has `branch` successor candidates; successor j is a hash of
 *    (s, a, j), drawn anywhere in [0, S) (span 0) or within +-span of s,
 *    wrapping around. A step picks one of them uniformly with the rng.
 *  - The reward of (s, a) is a hash-derived value in [-1, 1), except that
 *    entering a goal state gives goal_reward and ends the episode.
 *  - About one state in goal_every is a goal (terminal, absorbing); state 0
 *    never is, so a non-terminal state always exists.
 *  - An episode starts uniformly over the non-terminal states.
 *  - Each step spins `cost` iterations of a dependent multiply-add (about a
 *    nanosecond each) that the compiler cannot remove, to emulate a more
 *    expensive simulator without changing the dynamics.
 *
 * When S x A is at most 10^6 the exact model is exported by default
 * (`model` overrides): every (s, a) has up to `branch` outcomes of
 * probability 1/branch each, merged where candidates coincide.
 *
 * Parameters:
 *	states		S, default 1M (1..2^32-1; k/M/G suffixes)
 *	actions		A, default 4 (1..4096)
 *	branch		successor candidates per (s, a), default 2 (1..16)
 *	span		0 (default) = anywhere, else successors within +-span
 *			(at most 2^31 - 1)
 *	goal_every	about one goal per this many states, default 1000
 *			(0 = no goals)
 *	goal_reward	default 10
 *	cost		busy-work iterations per step, default 0 (<= 10^9)
 *	seed		structure seed, default 1
 *	model		export the model, default: S x A <= 10^6
 *	max_steps	truncation the learner applies, default 1000
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>

#include "distq.h"

#define SC_MAX_BRANCH 16
#define SC_MODEL_AUTO 1000000u

typedef struct sc_def {
	uint64_t k_next; /* hash keys derived from the seed */
	uint64_t k_reward;
	uint64_t k_goal;
	uint64_t goal_below; /* goal iff hash < goal_below */
	uint64_t cost;
	double goal_reward;
	uint32_t n_states;
	uint32_t n_actions;
	uint32_t branch;
	uint32_t span;
	bool model;
} sc_def;

typedef struct sc_inst {
	const sc_def *def;
	uint32_t state;
	bool done;
} sc_inst;

/* splitmix64's finaliser: a bijection of 64-bit words, well mixed. */
static uint64_t
sc_mix(uint64_t z)
{
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* Scale the high 32 bits of a hash to [0, n) without a division. */
static uint32_t
sc_scale(uint64_t h, uint64_t n)
{
	return (uint32_t)(((h >> 32) * n) >> 32);
}

static bool
sc_goal(const sc_def *d, uint32_t s)
{
	return s != 0 && sc_mix((uint64_t)s ^ d->k_goal) < d->goal_below;
}

/* The hash of (s, a) from which successors and reward are derived. */
static uint64_t
sc_key(const sc_def *d, uint32_t s, uint32_t a)
{
	return sc_mix((((uint64_t)s << 32) | a) ^ d->k_next);
}

static uint32_t
sc_successor(const sc_def *d, uint32_t s, uint64_t key, uint32_t j)
{
	uint64_t h = sc_mix(key + j);
	int64_t t;

	if (!d->span)
		return sc_scale(h, d->n_states);
	t = (int64_t)s + sc_scale(h, 2 * (uint64_t)d->span + 1) -
	    (int64_t)d->span;
	t %= (int64_t)d->n_states;
	if (t < 0)
		t += d->n_states;
	return (uint32_t)t;
}

static double
sc_reward(const sc_def *d, uint64_t key)
{
	return (double)(sc_mix(key ^ d->k_reward) >> 11) * 0x1.0p-52 - 1.0;
}

/*
 * Busy work the optimiser must keep: the empty asm claims to read and
 * change x every iteration, so the chain of multiply-adds cannot be
 * folded or dropped.
 */
static void
sc_spin(uint64_t n)
{
#if defined(__GNUC__)
	uint64_t x = n;

	for (uint64_t i = 0; i < n; i++) {
		x = x * 6364136223846793005ull + 1442695040888963407ull;
		__asm__ volatile("" : "+r"(x));
	}
#else
	volatile uint64_t x = n;

	for (uint64_t i = 0; i < n; i++)
		x = x * 6364136223846793005ull + 1442695040888963407ull;
#endif
}

static int
sc_open(void **def, const char *params, void *user, dq_env_spec *spec)
{
	static const char *const keys[] = {
	    "states",	  "actions",	 "branch", "span",
	    "goal_every", "goal_reward", "cost",   "seed",
	    "model",	  "max_steps",	 NULL,
	};
	uint64_t states, actions, branch, span, goal_every, cost, seed;
	uint64_t max_steps, x;
	double goal_reward;
	bool model;
	sc_def *d;
	int err;

	(void)user;
	if ((err = dq_params_check(params, keys)) ||
	    (err = dq_params_u64(params, "states", 1000000, 1, UINT32_MAX,
				 &states)) ||
	    (err = dq_params_u64(params, "actions", 4, 1, 4096, &actions)) ||
	    (err = dq_params_u64(params, "branch", 2, 1, SC_MAX_BRANCH,
				 &branch)) ||
	    (err = dq_params_u64(params, "span", 0, 0, INT32_MAX, &span)) ||
	    (err = dq_params_u64(params, "goal_every", 1000, 0, UINT32_MAX,
				 &goal_every)) ||
	    (err = dq_params_double(params, "goal_reward", 10.0, -1e6, 1e6,
				    &goal_reward)) ||
	    (err = dq_params_u64(params, "cost", 0, 0, 1000000000, &cost)) ||
	    (err = dq_params_u64(params, "seed", 1, 0, UINT64_MAX, &seed)) ||
	    (err = dq_params_bool(params, "model",
				  states * actions <= SC_MODEL_AUTO, &model)) ||
	    (err = dq_params_u64(params, "max_steps", 1000, 0, UINT32_MAX,
				 &max_steps)))
		return err;
	d = malloc(sizeof(*d));
	if (!d)
		return -ENOMEM;
	/* Three independent keys from the seed, as splitmix64 would give. */
	x = seed;
	d->k_next = sc_mix(x += 0x9e3779b97f4a7c15ull);
	d->k_reward = sc_mix(x += 0x9e3779b97f4a7c15ull);
	d->k_goal = sc_mix(x += 0x9e3779b97f4a7c15ull);
	d->goal_below = goal_every ? UINT64_MAX / goal_every : 0;
	d->cost = cost;
	d->goal_reward = goal_reward;
	d->n_states = (uint32_t)states;
	d->n_actions = (uint32_t)actions;
	d->branch = (uint32_t)branch;
	d->span = (uint32_t)span;
	d->model = model;
	*def = d;
	spec->n_states = d->n_states;
	spec->n_actions = d->n_actions;
	spec->max_episode_steps = (uint32_t)max_steps;
	spec->max_outcomes = model ? d->branch : 0;
	return 0;
}

static void
sc_close(void *def)
{
	free(def);
}

static int
sc_create(void *def, void **inst)
{
	sc_inst *in = dq_env_instance_alloc(sizeof(*in));

	if (!in)
		return -ENOMEM;
	in->def = def;
	in->state = 0;
	in->done = false;
	*inst = in;
	return 0;
}

static void
sc_destroy(void *inst)
{
	free(inst);
}

/* Rejection sampling: goals are rare, and state 0 is never one. */
static int
sc_reset(void *inst, dq_rng *rng, uint32_t *state)
{
	sc_inst *in = inst;
	const sc_def *d = in->def;
	uint32_t s;

	do
		s = dq_rng_below(rng, d->n_states);
	while (sc_goal(d, s));
	in->state = s;
	in->done = false;
	*state = s;
	return 0;
}

static int
sc_step(void *inst, uint32_t action, dq_rng *rng, dq_step *out)
{
	sc_inst *in = inst;
	const sc_def *d = in->def;
	uint64_t key;
	uint32_t j = 0;

	out->truncated = false;
	if (d->cost)
		sc_spin(d->cost);
	if (in->done) {
		out->next_state = in->state;
		out->reward = 0.0;
		out->terminated = true;
		return 0;
	}
	key = sc_key(d, in->state, action);
	if (d->branch > 1)
		j = dq_rng_below(rng, d->branch);
	out->next_state = sc_successor(d, in->state, key, j);
	out->terminated = sc_goal(d, out->next_state);
	out->reward = out->terminated ? d->goal_reward : sc_reward(d, key);
	in->state = out->next_state;
	in->done = out->terminated;
	return 0;
}

/* The model, from the same hashes step uses; candidates merged. */
static int
sc_outcomes(const void *def, uint32_t s, uint32_t a, dq_outcome *out,
	    size_t cap)
{
	const sc_def *d = def;
	dq_outcome o[SC_MAX_BRANCH];
	double p = 1.0 / d->branch;
	uint64_t key;
	size_t n = 0;

	if (!d->model)
		return -ENOTSUP;
	if (s >= d->n_states || a >= d->n_actions)
		return -ERANGE;
	if (sc_goal(d, s)) {
		o[n++] = (dq_outcome){1.0, s, 0.0, true};
	} else {
		key = sc_key(d, s, a);
		for (uint32_t j = 0; j < d->branch; j++) {
			uint32_t t = sc_successor(d, s, key, j);
			bool goal = sc_goal(d, t);
			size_t i;

			for (i = 0; i < n; i++)
				if (o[i].next_state == t)
					break;
			if (i < n) {
				o[i].prob += p;
				continue;
			}
			o[n++] = (dq_outcome){
			    p, t, goal ? d->goal_reward : sc_reward(d, key),
			    goal};
		}
	}
	for (size_t i = 0; i < n && i < cap; i++)
		out[i] = o[i];
	return (int)n;
}

static int
sc_start_probs(const void *def, double *p, size_t n)
{
	const sc_def *d = def;
	uint64_t starts = 0;

	if (!d->model)
		return -ENOTSUP;
	if (n < d->n_states)
		return -EINVAL;
	for (uint32_t s = 0; s < d->n_states; s++)
		starts += !sc_goal(d, s);
	for (uint32_t s = 0; s < d->n_states; s++)
		p[s] = sc_goal(d, s) ? 0.0 : 1.0 / (double)starts;
	return 0;
}

static int
sc_set_state(void *inst, uint32_t s)
{
	sc_inst *in = inst;

	if (s >= in->def->n_states)
		return -ERANGE;
	in->state = s;
	in->done = sc_goal(in->def, s);
	return 0;
}

/* Success is reaching a goal. */
static bool
sc_success(const void *def, const dq_step *last)
{
	(void)def;
	return last->terminated;
}

static const dq_env_param sc_params[] = {
    {"states", DQ_PARAM_COUNT, 1e6, 1, 4294967295.0, "number of states S"},
    {"actions", DQ_PARAM_COUNT, 4, 1, 4096, "number of actions A"},
    {"branch", DQ_PARAM_COUNT, 2, 1, SC_MAX_BRANCH,
     "successor candidates per (state, action), each equally likely"},
    {"span", DQ_PARAM_COUNT, 0, 0, 2147483647.0,
     "successors within +-span of the state (0 = anywhere)"},
    {"goal_every", DQ_PARAM_COUNT, 1000, 0, 4294967295.0,
     "about one goal (terminal) state per this many (0 = none)"},
    {"goal_reward", DQ_PARAM_REAL, 10.0, -1e6, 1e6,
     "reward for entering a goal"},
    {"cost", DQ_PARAM_COUNT, 0, 0, 1e9,
     "busy-work iterations per step (about 1 ns each)"},
    {"seed", DQ_PARAM_COUNT, 1, 0, 18446744073709551615.0,
     "structure seed: which MDP of this size"},
    {"model", DQ_PARAM_BOOL, NAN, 0, 1,
     "export the transition model (default: when S x A <= 10^6)"},
    {"max_steps", DQ_PARAM_COUNT, 1000, 0, 4294967295.0,
     "episode step limit the learner applies (0 = none)"},
    {NULL, DQ_PARAM_REAL, 0, 0, 0, NULL},
};

const dq_env_ops dq__env_scalable = {
    .abi = DQ_ENV_ABI,
    .name = "scalable",
    .open = sc_open,
    .close = sc_close,
    .create = sc_create,
    .destroy = sc_destroy,
    .reset = sc_reset,
    .step = sc_step,
    .outcomes = sc_outcomes,
    .start_probs = sc_start_probs,
    .set_state = sc_set_state,
    .params = sc_params,
    .success = sc_success,
};
