/*
 * tests/stress/stress_replica.c - replica mode (dq_agent_config.sync_every)
 * under contention: every delta an agent pushes must arrive whole
 * (make stress; scripts/stress.sh).
 *
 *   stress_replica agents|learner SECONDS [cas|locked]
 *
 * A replica agent learns into a private copy and adds what it changed to
 * the shared table every sync_every steps. To check the merge exactly, the
 * transitions are chosen so that each Q-learning step is an exact integer
 * addition: one action, gamma 1, alpha 1 and s' = s make the update
 *
 *     Q(s) <- Q(s) + 1 * (r + 1 * Q(s) - Q(s)) = Q(s) + r,
 *
 * exact for integer rewards. Whatever the interleaving of the agents'
 * pushes and refreshes, the shared table must then end at exactly the sum
 * of all rewards.
 *
 *  agents   P threads each own a dq_agent (the own-loop API) on a 4 x 1
 *           table, observe integer rewards on states of their choosing and
 *           count them; after a final dq_agent_sync() the table must equal
 *           the counts.
 *  learner  dq_learner runs P agents on a one-state environment that pays
 *           1 per step and never terminates (episodes are truncated); after
 *           max_steps total steps the one entry must be exactly max_steps.
 *
 * Rounds cycle through 2..8 threads and sync_every in {1, 3, 64, 1000}
 * until SECONDS have passed. Prints one line of totals; exits 1 when any
 * delta was lost.
 */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "distq.h"

#define MIN_THREADS 2
#define MAX_THREADS 8
#define N_STATES 4
#define AGENT_STEPS 20000     /* per agent and round */
#define LEARNER_STEPS 200000u /* per learner run */

static const uint32_t syncs[] = {1, 3, 64, 1000};

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* The agent configuration under which a step is an integer addition. */
static void
additive_config(dq_agent_config *ac, uint32_t sync_every, uint32_t stream)
{
	dq_agent_config_init(ac);
	ac->gamma = 1.0;
	ac->alpha.start = ac->alpha.end = 1.0;
	ac->sync_every = sync_every;
	ac->stream = stream;
}

/* ------------------------------------------------------------- agents -- */

struct agent_thread {
	pthread_t th;
	dq_agent *ag;
	uint32_t id;
	int64_t sum[N_STATES]; /* rewards observed per state */
	int err;
};

static void *
agent_main(void *arg)
{
	struct agent_thread *a = arg;
	dq_rng *rng;
	int r = 0;

	dq_agent_rng(a->ag, &rng);
	for (uint32_t i = 0; i < AGENT_STEPS && r >= 0; i++) {
		uint32_t s = dq_rng_below(rng, N_STATES);
		int reward = (int)dq_rng_below(rng, 7) - 3; /* -3..3 */

		r = dq_agent_observe(a->ag, s, 0, reward, s, false);
		a->sum[s] += reward;
	}
	if (r >= 0)
		r = dq_agent_sync(a->ag);
	a->err = r < 0 ? r : 0;
	return NULL;
}

/* One round; returns the absolute amount lost, or -1 on an error. */
static double
agents_round(dq_table *t, unsigned n, uint32_t sync_every, uint64_t *ops)
{
	struct agent_thread th[MAX_THREADS];
	double lost = 0;
	int err = 0;

	dq_table_fill(t, 0.0);
	for (unsigned i = 0; i < n; i++) {
		dq_agent_config ac;

		memset(&th[i], 0, sizeof(th[i]));
		th[i].id = i;
		additive_config(&ac, sync_every, i);
		ac.seed = *ops + 1; /* a new stream of rewards each round */
		err = dq_agent_create(&th[i].ag, t, &ac);
		if (err)
			break;
	}
	for (unsigned i = 0; !err && i < n; i++)
		if (pthread_create(&th[i].th, NULL, agent_main, &th[i]))
			err = -EAGAIN;
	if (err) {
		fprintf(stderr, "stress_replica: %s\n", dq_strerror(err));
		return -1;
	}
	for (unsigned i = 0; i < n; i++) {
		pthread_join(th[i].th, NULL);
		if (th[i].err) {
			fprintf(stderr, "stress_replica: agent %u: %s\n", i,
				dq_strerror(th[i].err));
			err = th[i].err;
		}
		*ops += AGENT_STEPS;
	}
	for (uint32_t s = 0; !err && s < N_STATES; s++) {
		int64_t want = 0;
		double v;

		for (unsigned i = 0; i < n; i++)
			want += th[i].sum[s];
		dq_table_get(t, s, 0, &v);
		if (v != (double)want) {
			fprintf(stderr,
				"stress_replica: %u agents, sync_every %u: "
				"Q(%u) = %.17g, want %lld\n",
				n, sync_every, s, v, (long long)want);
			lost += fabs(v - (double)want);
		}
	}
	for (unsigned i = 0; i < n; i++)
		dq_agent_destroy(th[i].ag);
	return err ? -1 : lost;
}

/* ------------------------------------------------------------ learner -- */

/* One state, one action, reward 1, never terminates: Q(0) counts steps. */
static int
one_open(void **def, const char *params, void *user, dq_env_spec *spec)
{
	(void)params;
	(void)user;
	*def = NULL;
	spec->n_states = 1;
	spec->n_actions = 1;
	spec->max_episode_steps = 100;
	spec->max_outcomes = 0;
	return 0;
}

static int
one_reset(void *inst, dq_rng *rng, uint32_t *state)
{
	(void)inst;
	(void)rng;
	*state = 0;
	return 0;
}

static int
one_step(void *inst, uint32_t action, dq_rng *rng, dq_step *out)
{
	(void)inst;
	(void)action;
	(void)rng;
	out->next_state = 0;
	out->reward = 1.0;
	out->terminated = false;
	out->truncated = false;
	return 0;
}

static const dq_env_ops one_ops = {
    .abi = DQ_ENV_ABI,
    .name = "counter",
    .open = one_open,
    .reset = one_reset,
    .step = one_step,
};

static double
learner_round(dq_table *t, const dq_env *env, unsigned n, uint32_t sync_every,
	      uint64_t *ops)
{
	dq_learner_config lc;
	dq_learner *l;
	dq_run_result r;
	double v;
	int err;

	dq_table_fill(t, 0.0);
	dq_learner_config_init(&lc);
	additive_config(&lc.agent, sync_every, 0);
	lc.agent.seed = *ops + 1;
	lc.n_threads = n;
	lc.max_steps = LEARNER_STEPS;
	lc.pin = DQ_PIN_NONE; /* more threads than cores: let them move */
	err = dq_learner_create(&l, t, env, &lc);
	if (!err)
		err = dq_learner_run(l, &r);
	if (err) {
		fprintf(stderr, "stress_replica: learner: %s\n",
			dq_strerror(err));
		return -1;
	}
	dq_learner_destroy(l);
	*ops += r.total.steps;
	dq_table_get(t, 0, 0, &v);
	if (r.total.steps != LEARNER_STEPS || v != (double)LEARNER_STEPS) {
		fprintf(stderr,
			"stress_replica: learner, %u agents, sync_every %u: "
			"%llu steps, Q = %.17g\n",
			n, sync_every, (unsigned long long)r.total.steps, v);
		return fabs(v - (double)LEARNER_STEPS);
	}
	return 0;
}

int
main(int argc, char **argv)
{
	dq_table_config tc;
	dq_table *t;
	dq_env *env = NULL;
	double seconds, t0, lost = 0;
	uint64_t ops = 0, rounds = 0;
	bool learner;
	int err;

	if (argc < 3 || argc > 4 ||
	    (strcmp(argv[1], "agents") && strcmp(argv[1], "learner")) ||
	    (argc == 4 && strcmp(argv[3], "cas") &&
	     strcmp(argv[3], "locked"))) {
		fprintf(stderr,
			"usage: %s agents|learner SECONDS [cas|locked]\n",
			argv[0]);
		return 2;
	}
	learner = !strcmp(argv[1], "learner");
	seconds = atof(argv[2]);
	dq_table_config_init(&tc);
	tc.n_states = learner ? 1 : N_STATES;
	tc.n_actions = 1;
	tc.mode = argc == 4 && !strcmp(argv[3], "locked") ? DQ_MODE_LOCKED
							  : DQ_MODE_CAS;
	err = dq_table_create(&t, &tc);
	if (!err && learner)
		err = dq_env_open(&env, &one_ops, NULL, NULL);
	if (err) {
		fprintf(stderr, "stress_replica: %s\n", dq_strerror(err));
		return 1;
	}

	t0 = now();
	do {
		unsigned n =
		    MIN_THREADS + rounds % (MAX_THREADS - MIN_THREADS + 1);
		uint32_t k = syncs[(rounds / 7) % 4];
		double r = learner ? learner_round(t, env, n, k, &ops)
				   : agents_round(t, n, k, &ops);

		rounds++;
		if (r < 0) {
			err = 1;
			break;
		}
		lost += r;
	} while (now() - t0 < seconds && lost == 0);

	printf("stress_replica %s %s: threads %d..%d, sync_every 1..1000, "
	       "%llu rounds, ops=%llu secs=%.1f lost=%.0f\n",
	       argv[1], tc.mode == DQ_MODE_CAS ? "cas" : "locked", MIN_THREADS,
	       MAX_THREADS, (unsigned long long)rounds, (unsigned long long)ops,
	       now() - t0, lost);
	dq_env_close(env);
	dq_table_destroy(t);
	return lost || err ? 1 : 0;
}
