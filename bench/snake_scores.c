/*
 * snake_scores: the score distribution of the seeds' Snake after tabular
 * training (issue 15, item 3). Trains Q-learning on snake's 288 compact
 * states with the learner, then plays N greedy episodes (ties to the
 * lowest action) and prints the distribution of the score (food eaten),
 * beside a random policy's.
 *
 *	snake_scores [steps [threads [episodes [env]]]]
 *		default 5M steps, 2 threads, 1000 episodes, "snake"
 *
 * Settings: gamma 0.9, alpha 0.1, epsilon 0.01, seed 1. Public API only.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "distq.h"

#define MAX_SCORE 4096

static int
cmp_u(const void *a, const void *b)
{
	unsigned x = *(const unsigned *)a, y = *(const unsigned *)b;

	return (x > y) - (x < y);
}

/* Scores of n episodes; greedy on t, or random when t is NULL. */
static void
play(dq_env *env, const dq_table *t, unsigned n, unsigned *score, unsigned *won)
{
	dq_env_instance *in;
	dq_env_spec sp;
	dq_rng rng;

	dq_env_spec_get(env, &sp);
	dq_env_instance_create(env, &in);
	dq_rng_seed(&rng, 12345, 0);
	*won = 0;
	for (unsigned e = 0; e < n; e++) {
		dq_step st = {0};
		uint32_t s, len = 0, a;
		bool ok = false;

		score[e] = 0;
		dq_env_instance_reset(in, &rng, &s);
		do {
			if (t)
				dq_table_greedy(t, s, NULL, &a);
			else
				a = dq_rng_below(&rng, sp.n_actions);
			dq_env_instance_step(in, a, &rng, &st);
			score[e] += st.reward > 0.0;
			s = st.next_state;
		} while (!st.terminated && !st.truncated &&
			 ++len != sp.max_episode_steps);
		dq_env_success(env, &st, &ok);
		*won += ok;
	}
	dq_env_instance_destroy(in);
}

static void
report(const char *who, unsigned *score, unsigned n, unsigned won)
{
	double sum = 0.0;
	unsigned hist[8] = {0};
	static const unsigned edges[8] = {0, 1, 5, 10, 15, 20, 30, 40};

	qsort(score, n, sizeof(*score), cmp_u);
	for (unsigned e = 0; e < n; e++) {
		sum += score[e];
		for (int k = 7; k >= 0; k--)
			if (score[e] >= edges[k]) {
				hist[k]++;
				break;
			}
	}
	printf("%s: mean %.2f, median %u, p10 %u, p90 %u, max %u, grid "
	       "filled %u of %u\n",
	       who, sum / n, score[n / 2], score[n / 10], score[n * 9 / 10],
	       score[n - 1], won, n);
	printf("  score   0: %u, 1-4: %u, 5-9: %u, 10-14: %u, 15-19: %u, "
	       "20-29: %u, 30-39: %u, 40+: %u\n",
	       hist[0], hist[1], hist[2], hist[3], hist[4], hist[5], hist[6],
	       hist[7]);
}

int
main(int argc, char **argv)
{
	uint64_t steps = argc > 1 ? strtoull(argv[1], NULL, 10) : 5000000;
	uint32_t threads = argc > 2 ? (uint32_t)atoi(argv[2]) : 2;
	unsigned n = argc > 3 ? (unsigned)atoi(argv[3]) : 1000;
	const char *name = argc > 4 ? argv[4] : "snake";
	dq_env *env;
	dq_env_spec sp;
	dq_table_config tc;
	dq_table *t;
	dq_learner_config lc;
	dq_learner *l;
	dq_run_result r;
	unsigned *score, won;

	if (!n || dq_env_open_name(&env, name)) {
		fprintf(stderr, "usage: snake_scores [steps [threads "
				"[episodes [env]]]]\n");
		return 2;
	}
	score = malloc(n * sizeof(*score));
	dq_env_spec_get(env, &sp);
	dq_table_config_init(&tc);
	tc.n_states = sp.n_states;
	tc.n_actions = sp.n_actions;
	dq_table_create(&t, &tc);
	dq_learner_config_init(&lc);
	lc.n_threads = threads;
	lc.pin = DQ_PIN_NONE;
	lc.agent.gamma = 0.9;
	lc.agent.epsilon.start = lc.agent.epsilon.end = 0.01;
	lc.max_steps = steps;
	if (!score || dq_learner_create(&l, t, env, &lc) ||
	    dq_learner_run(l, &r)) {
		fprintf(stderr, "snake_scores: %s\n", dq_error_detail());
		return 1;
	}
	printf("# %s, Q-learning on %u states, %llu steps on %u threads "
	       "(%llu episodes, %.2f s), gamma 0.9 alpha 0.1 epsilon 0.01\n",
	       name, sp.n_states, (unsigned long long)r.total.steps, threads,
	       (unsigned long long)r.total.episodes, r.seconds);
	play(env, t, n, score, &won);
	report("greedy", score, n, won);
	play(env, NULL, n, score, &won);
	report("random", score, n, won);
	dq_learner_destroy(l);
	dq_table_destroy(t);
	dq_env_close(env);
	free(score);
	return 0;
}
