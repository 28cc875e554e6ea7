/*
 * tests/stress/stress_replica.c - replica mode (dq_agent_config.sync_every)
 * under contention: every window of updates an agent pushes must arrive
 * (make stress; scripts/stress.sh).
 *
 *   stress_replica agents|learner SECONDS [cas|locked]
 *
 * A replica agent updates private copies of the rows it writes and every
 * sync_every steps writes its window back onto the shared table as one
 * contraction per entry (see lib/agent.c, dq__agent_sync). To check that exactly, every update is
 * chosen to be the same contraction: gamma 0, reward 0 and a constant
 * alpha = 1/1024 make it
 *
 *     Q(s) <- Q(s) + alpha * (0 - Q(s)) = (1 - alpha) * Q(s),
 *
 * so from Q = 1, after N updates in ANY order and ANY grouping into
 * windows, Q(s) = (1 - alpha)^N (up to rounding). The number of updates the shared value accounts for,
 * log Q / log(1 - alpha), must therefore equal N to well within one: a
 * lost window shows as a whole number of missing updates.
 *
 *  agents   P threads each own a dq_agent (the own-loop API) on a 4 x 1
 *           table, observe updates on states of their choosing and count
 *           them; after a final dq_agent_sync() the table must account for
 *           exactly the counts.
 *  learner  dq_learner runs P agents on a one-state environment that pays
 *           0 per step and never terminates (episodes are truncated); after
 *           max_steps total steps the one entry must account for exactly
 *           max_steps updates.
 *
 * Rounds cycle through 2..8 threads and sync_every in {1, 3, 64, 1000}
 * until SECONDS have passed. Prints one line of totals; exits 1 when any
 * update was lost.
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
/*
 * Rounds stay short enough that Q stays above about 1e-6: a window replayed
 * onto a shared value that others have since shrunk by a factor F carries
 * the rounding of its own arithmetic (about 1e-16 of its base) amplified by
 * F, and the accounting below must stay far finer than one update.
 */
#define AGENT_STEPS 6000     /* per agent and round: <= 12000 per state */
#define LEARNER_STEPS 12000u /* per learner run */

static const uint32_t syncs[] = {1, 3, 64, 1000};

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

#define ALPHA (1.0 / 1024)

/* The agent configuration under which every step is the same contraction. */
static void
contracting_config(dq_agent_config *ac, uint32_t sync_every, uint32_t stream)
{
	dq_agent_config_init(ac);
	ac->gamma = 0.0;
	ac->alpha.start = ac->alpha.end = ALPHA;
	ac->sync_every = sync_every;
	ac->stream = stream;
}

/* How many updates a value reached from 1 accounts for. */
static double
updates_in(double q)
{
	return log(q) / log1p(-ALPHA);
}

/* ------------------------------------------------------------- agents -- */

struct agent_thread {
	pthread_t th;
	dq_agent *ag;
	uint32_t id;
	int64_t sum[N_STATES]; /* updates observed per state */
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

		r = dq_agent_observe(a->ag, s, 0, 0.0, s, false);
		a->sum[s]++;
	}
	if (r >= 0)
		r = dq_agent_sync(a->ag);
	a->err = r < 0 ? r : 0;
	return NULL;
}

/* One round; returns the number of updates lost, or -1 on an error. */
static double
agents_round(dq_table *t, unsigned n, uint32_t sync_every, uint64_t *ops)
{
	struct agent_thread th[MAX_THREADS];
	double lost = 0;
	int err = 0;

	dq_table_fill(t, 1.0);
	for (unsigned i = 0; i < n; i++) {
		dq_agent_config ac;

		memset(&th[i], 0, sizeof(th[i]));
		th[i].id = i;
		contracting_config(&ac, sync_every, i);
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
		if (fabs(updates_in(v) - (double)want) > 0.01) {
			fprintf(stderr,
				"stress_replica: %u agents, sync_every %u: "
				"Q(%u) = %.17g accounts for %.3f updates, "
				"want %lld\n",
				n, sync_every, s, v, updates_in(v),
				(long long)want);
			lost += fabs(updates_in(v) - (double)want);
		}
	}
	for (unsigned i = 0; i < n; i++)
		dq_agent_destroy(th[i].ag);
	return err ? -1 : lost;
}

/* ------------------------------------------------------------ learner -- */

/* One state, one action, reward 0, never terminates: Q(0) = (1-alpha)^steps. */
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
	out->reward = 0.0;
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

	dq_table_fill(t, 1.0);
	dq_learner_config_init(&lc);
	contracting_config(&lc.agent, sync_every, 0);
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
	if (r.total.steps != LEARNER_STEPS ||
	    fabs(updates_in(v) - (double)LEARNER_STEPS) > 0.01) {
		fprintf(stderr,
			"stress_replica: learner, %u agents, sync_every %u: "
			"%llu steps, Q = %.17g accounts for %.3f\n",
			n, sync_every, (unsigned long long)r.total.steps, v,
			updates_in(v));
		return fabs(updates_in(v) - (double)LEARNER_STEPS);
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
	       "%llu rounds, ops=%llu secs=%.1f lost=%.3f\n",
	       argv[1], tc.mode == DQ_MODE_CAS ? "cas" : "locked", MIN_THREADS,
	       MAX_THREADS, (unsigned long long)rounds, (unsigned long long)ops,
	       now() - t0, lost);
	dq_env_close(env);
	dq_table_destroy(t);
	return lost || err ? 1 : 0;
}
