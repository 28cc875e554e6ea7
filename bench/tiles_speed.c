/*
 * tiles_speed: steps per second of tile-coded CartPole-v1 (issue 15, item
 * 5): the library's learner at 1 and 2 threads (cas), next to
 *
 *  hand  a hand-written loop of the same coder and update: tiles3's
 *        offsets over the observation, Q-learning with epsilon-greedy,
 *        alpha / T of the error added to each active tile, on a plain
 *        double array, stepping the same built-in environment through the
 *        public instance calls. The one deliberate copy of the hot loop
 *        (docs/architecture.md): the ceiling. At P = 2, two independent
 *        copies on private arrays in two threads (the scaling ceiling).
 *
 *	tiles_speed [steps [reps]]	default 2M steps per point, 3 reps
 *	tiles_speed --ir STEPS LIB|HAND	one thread, for callgrind
 *
 * The coder is 8x4,4,8,8 (the tuned default), alpha 0.1, epsilon 0.05,
 * gamma 1. Each point reports the median of its repetitions.
 */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "distq.h"

#define T 8
#define D 4
#define A 2
static const uint32_t BINS[D] = {4, 4, 8, 8};

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* ------------------------------------------------------------- hand -- */

typedef struct hand {
	double lo[D], scale[D];
	uint32_t stride[D], per_tiling, qmax[D];
	double *w; /* rows x A */
	uint64_t steps;
} hand;

static void
hand_active(const hand *h, const double *obs, uint32_t *f)
{
	uint32_t q[D];

	for (int i = 0; i < D; i++) {
		double u = (obs[i] - h->lo[i]) * h->scale[i];

		q[i] = !(u > 0.0)	 ? 0
		       : u >= h->qmax[i] ? h->qmax[i]
					 : (uint32_t)u;
	}
	for (uint32_t t = 0; t < T; t++) {
		uint32_t idx = t * h->per_tiling;

		for (uint32_t i = 0; i < D; i++)
			idx += (q[i] + t * (2 * i + 1) % T) / T * h->stride[i];
		f[t] = idx;
	}
}

static void
hand_q(const hand *h, const uint32_t *f, double *q)
{
	q[0] = q[1] = 0.0;
	for (int t = 0; t < T; t++) {
		q[0] += h->w[f[t] * A];
		q[1] += h->w[f[t] * A + 1];
	}
}

typedef struct hand_arg {
	uint64_t steps;
	uint64_t seed;
	double seconds;
} hand_arg;

static void *
hand_run(void *p)
{
	hand_arg *arg = p;
	dq_env *env;
	dq_env_instance *in;
	dq_tiles_config c;
	hand h;
	dq_rng rng;
	uint32_t f[T], f2[T], s, len = 0, stride = 1;
	double obs[D], q[A], t0;
	dq_step st;

	dq_env_open_name(&env, "cartpole");
	dq_env_instance_create(env, &in);
	dq_tiles_config_init(&c);
	dq_tiles_config_from_env(&c, env, NULL);
	memset(&h, 0, sizeof(h));
	for (int i = D; i-- > 0;) {
		h.stride[i] = stride;
		stride *= BINS[i] + 1;
	}
	for (int i = 0; i < D; i++) {
		h.lo[i] = c.low[i];
		h.scale[i] = (double)BINS[i] * T / (c.high[i] - c.low[i]);
		h.qmax[i] = BINS[i] * T - 1;
	}
	h.per_tiling = stride;
	h.w = calloc((size_t)T * stride * A, sizeof(double));
	dq_rng_seed(&rng, arg->seed, 0);
	dq_env_instance_reset(in, &rng, &s);
	dq_env_instance_observe(in, obs, D);
	hand_active(&h, obs, f);
	t0 = now();
	for (uint64_t k = 0; k < arg->steps; k++) {
		uint32_t a;
		double target, err;

		if (dq_rng_uniform(&rng) < 0.05) {
			a = dq_rng_below(&rng, A);
		} else {
			hand_q(&h, f, q);
			a = q[1] > q[0];
		}
		dq_env_instance_step(in, a, &rng, &st);
		target = st.reward;
		if (!st.terminated) {
			dq_env_instance_observe(in, obs, D);
			hand_active(&h, obs, f2);
			hand_q(&h, f2, q);
			target += 1.0 * (q[1] > q[0] ? q[1] : q[0]);
		}
		hand_q(&h, f, q);
		err = 0.1 / T * (target - q[a]);
		for (int t = 0; t < T; t++)
			h.w[f[t] * A + a] += err;
		if (st.terminated || ++len == 500) {
			len = 0;
			dq_env_instance_reset(in, &rng, &s);
			dq_env_instance_observe(in, obs, D);
			hand_active(&h, obs, f);
		} else {
			memcpy(f, f2, sizeof(f));
		}
	}
	arg->seconds = now() - t0;
	free(h.w);
	dq_env_instance_destroy(in);
	dq_env_close(env);
	return NULL;
}

/* Steps per second of P independent hand loops, steps each / P. */
static double
hand_rate(uint32_t P, uint64_t steps)
{
	pthread_t th[2];
	hand_arg args[2];
	double worst = 0.0;

	for (uint32_t i = 0; i < P; i++) {
		args[i] = (hand_arg){steps / P, i + 1, 0.0};
		pthread_create(&th[i], NULL, hand_run, &args[i]);
	}
	for (uint32_t i = 0; i < P; i++) {
		pthread_join(th[i], NULL);
		if (args[i].seconds > worst)
			worst = args[i].seconds;
	}
	return (double)steps / worst;
}

/* -------------------------------------------------------------- lib -- */

static double
lib_rate(uint32_t P, uint64_t steps)
{
	dq_env *env;
	dq_tiles_config c;
	dq_tiles *tc;
	dq_table_config tbc;
	dq_table *t;
	dq_learner_config lc;
	dq_learner *l;
	dq_run_result r;
	uint32_t rows;

	dq_env_open_name(&env, "cartpole");
	dq_tiles_config_init(&c);
	dq_tiles_config_from_env(&c, env, "8x4,4,8,8");
	dq_tiles_create(&tc, &c);
	dq_tiles_features(tc, &rows);
	dq_table_config_init(&tbc);
	tbc.n_states = rows;
	tbc.n_actions = A;
	dq_table_create(&t, &tbc);
	dq_learner_config_init(&lc);
	lc.n_threads = P;
	lc.pin = DQ_PIN_NONE;
	lc.agent.gamma = 1.0;
	lc.agent.epsilon.start = lc.agent.epsilon.end = 0.05;
	lc.agent.tiles = tc;
	lc.max_steps = steps;
	if (dq_learner_create(&l, t, env, &lc) || dq_learner_run(l, &r)) {
		fprintf(stderr, "tiles_speed: %s\n", dq_error_detail());
		exit(1);
	}
	dq_learner_destroy(l);
	dq_table_destroy(t);
	dq_tiles_destroy(tc);
	dq_env_close(env);
	return (double)r.run_steps / r.seconds;
}

static int
cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

int
main(int argc, char **argv)
{
	uint64_t steps = 2000000;
	int reps = 3;
	double r[2][2][16];

	if (argc == 4 && !strcmp(argv[1], "--ir")) {
		steps = strtoull(argv[2], NULL, 10);
		if (!strcmp(argv[3], "LIB"))
			lib_rate(1, steps);
		else
			hand_rate(1, steps);
		return 0;
	}
	if (argc > 1)
		steps = strtoull(argv[1], NULL, 10);
	if (argc > 2)
		reps = atoi(argv[2]);
	if (reps < 1 || reps > 16)
		reps = 3;
	/* Interleaved repetitions: a slow spell spreads over all points. */
	for (int k = 0; k < reps; k++)
		for (uint32_t P = 1; P <= 2; P++) {
			r[0][P - 1][k] = lib_rate(P, steps);
			r[1][P - 1][k] = hand_rate(P, steps);
		}
	printf("# tile-coded cartpole 8x4,4,8,8, q, %llu steps per point, "
	       "median of %d\n",
	       (unsigned long long)steps, reps);
	printf("threads\tlibdistq_steps_s\thand_steps_s\tratio\n");
	for (uint32_t P = 1; P <= 2; P++) {
		qsort(r[0][P - 1], (size_t)reps, sizeof(double), cmp);
		qsort(r[1][P - 1], (size_t)reps, sizeof(double), cmp);
		printf("%u\t%.3g\t%.3g\t%.2f\n", P, r[0][P - 1][reps / 2],
		       r[1][P - 1][reps / 2],
		       r[0][P - 1][reps / 2] / r[1][P - 1][reps / 2]);
	}
	return 0;
}
