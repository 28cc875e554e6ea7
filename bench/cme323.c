/*
 * cme323: the Stanford CME323 study's experiment on the 4x3 maze
 * (docs/seeds.md): gamma 0.95, alpha 0.1, epsilon 0.1; P = 1, 2, 3, 10
 * agents sharing one Q-function by "first writer wins" (hogwild: direct
 * relaxed stores) or by averaging (dq_share DQ_SHARE_AVERAGE: each agent
 * learns on a local table and every T steps adds its change / P), with
 * libdistq's default (direct cas updates) beside them. The measure is the
 * study's: the discounted return of the greedy policy, computed exactly
 * (policy evaluation with the solver on a snapshot of the table), and the
 * time to the exactly optimal greedy policy.
 *
 * Deterministic part (the default): the P agents are simulator-owned
 * agents stepped by one thread in turn, one step each; the table is
 * evaluated every --every total steps. The figures are functions of the
 * seed alone, in steps (samples). Without races, hogwild and cas are the
 * same here: what they differ in is measured by --wall.
 *
 * --wall: the learner's P threads (over-subscribed on a machine with
 * fewer cores: P = 10 on 2 cores runs 5 threads per core), the greedy
 * policy's value read from a snapshot at every progress callback (every
 * --tick seconds) and the time to optimal from the learner's own target
 * check (target_fraction 1). Meaningful on a quiet machine only.
 *
 * Writes a markdown table on stdout and, with --csv FILE, the median curve
 * (x = total steps, or seconds with --wall; one column per policy and P),
 * which bench/cme323.gp plots.
 *
 * usage: cme323 [--seeds N] [--steps N] [--every N] [--sync T] [--wall]
 *               [--tick S] [--csv FILE]
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"

#define MAX_SEEDS 101
#define MAX_POINTS 2000
#define N_POL 3
#define N_P 4

enum pol { POL_HOGWILD, POL_AVERAGE, POL_CAS };
static const char *const pol_names[] = {"hogwild", "average", "cas"};
static const uint32_t ps[N_P] = {1, 2, 3, 10};

struct ctx {
	dq_env *env;
	dq_model *m;
	uint32_t S, A;
	uint32_t limit; /* the environment's episode step limit, 0: none */
	double *qstar, *q, *v;
	uint32_t *policy;
	dq_solve_config sc;
};

static void
die(const char *what, int err)
{
	fprintf(stderr, "cme323: %s: %s\n", what, dq_strerror(err));
	exit(1);
}

/* The greedy policy's exact discounted return from the start
 * distribution, and whether it is optimal everywhere it matters. */
static double
evaluate(struct ctx *c, const dq_table *t, bool *optimal)
{
	size_t n = (size_t)c->S * c->A;
	double start = NAN, frac = 0.0;
	int err;

	if ((err = dq_table_snapshot(t, c->q, n)))
		die("snapshot", err);
	if ((err = dq_table_policy(t, c->policy, c->S)))
		die("policy", err);
	if ((err = dq_model_evaluate(c->m, &c->sc, c->policy, c->S, c->v, c->S,
				     &start, NULL)))
		die("evaluate", err);
	if ((err = dq_model_check_policy(c->m, c->qstar, n, c->policy, c->S,
					 1e-9, &frac)))
		die("check", err);
	*optimal = frac >= 1.0;
	return start;
}

static dq_table *
table(struct ctx *c, enum pol pol)
{
	dq_table_config tc;
	dq_table *t;
	int err;

	dq_table_config_init(&tc);
	tc.n_states = c->S;
	tc.n_actions = c->A;
	tc.mode = pol == POL_HOGWILD ? DQ_MODE_HOGWILD : DQ_MODE_CAS;
	if ((err = dq_table_create(&t, &tc)))
		die("table", err);
	return t;
}

/* The study's agents: gamma 0.95, alpha 0.1, epsilon 0.1. */
static void
study(dq_agent_config *ac, uint64_t seed, uint32_t i)
{
	dq_agent_config_init(ac); /* the library's defaults are the study's */
	ac->gamma = 0.95;
	ac->seed = seed;
	ac->stream = i;
}

/* Deterministic: agents in turn, one step each. curve[k]: the value after
 * (k + 1) x every total steps. Returns the steps to the optimal policy
 * (INFINITY: not within the budget). */
static double
run_sim(struct ctx *c, enum pol pol, uint32_t p, uint64_t seed, uint32_t sync,
	uint64_t steps, uint64_t every, double *curve)
{
	dq_table *t = table(c, pol);
	dq_agent *ag[16];
	dq_env_instance *in[16];
	uint32_t s[16], len[16];
	double found = INFINITY;
	uint64_t k = 0;
	int err;

	for (uint32_t i = 0; i < p; i++) {
		dq_agent_config ac;
		dq_share_config sc;
		dq_rng *rng;

		study(&ac, seed, i);
		dq_share_config_init(&sc, DQ_SHARE_AVERAGE);
		sc.interval = sync;
		err = pol == POL_AVERAGE
			  ? dq_agent_share_create(&ag[i], t, &ac, &sc, p)
			  : dq_agent_create(&ag[i], t, &ac);
		if (err)
			die("agent", err);
		if ((err = dq_env_instance_create(c->env, &in[i])))
			die("instance", err);
		dq_agent_rng(ag[i], &rng);
		if ((err = dq_env_instance_reset(in[i], rng, &s[i])))
			die("reset", err);
		len[i] = 0;
	}
	for (uint64_t n = 0; n < steps;) {
		for (uint32_t i = 0; i < p && n < steps; i++, n++) {
			dq_rng *rng;
			uint32_t a;
			dq_step st;

			dq_agent_rng(ag[i], &rng);
			dq_agent_act(ag[i], s[i], &a);
			if ((err = dq_env_instance_step(in[i], a, rng, &st)))
				die("step", err);
			if ((err = dq_agent_observe(ag[i], s[i], a, st.reward,
						    st.next_state,
						    st.terminated)))
				die("observe", err);
			if (pol == POL_AVERAGE &&
			    (err = dq_agent_share(ag[i], false)) < 0)
				die("share", err);
			if (st.terminated || st.truncated ||
			    ++len[i] == c->limit) {
				if (!st.terminated)
					dq_agent_episode_end(ag[i]);
				len[i] = 0;
				if ((err = dq_env_instance_reset(in[i], rng,
								 &s[i])))
					die("reset", err);
			} else {
				s[i] = st.next_state;
			}
			if ((n + 1) % every == 0 && k < MAX_POINTS) {
				bool opt;

				/* averaging: what the table holds now (the agents'
				 * rounds in progress are not in it yet) */
				curve[k++] = evaluate(c, t, &opt);
				if (opt && isinf(found))
					found = (double)(n + 1);
			}
		}
	}
	for (uint32_t i = 0; i < p; i++) {
		dq_agent_destroy(ag[i]);
		dq_env_instance_destroy(in[i]);
	}
	dq_table_destroy(t);
	return found;
}

/* --wall: the value at each progress callback. */
struct watch {
	struct ctx *c;
	dq_table *t;
	double tick;
	double *curve; /* value at k x tick seconds, carried forward */
	uint32_t n;
};

static void
on_progress(const dq_progress *pr, void *arg)
{
	struct watch *w = arg;
	bool opt;
	double v = evaluate(w->c, w->t, &opt);

	while (w->n < MAX_POINTS && w->n * w->tick <= pr->seconds)
		w->curve[w->n++] = v;
}

static double
run_wall(struct ctx *c, enum pol pol, uint32_t p, uint64_t seed, uint32_t sync,
	 double seconds, double tick, double *curve)
{
	dq_table *t = table(c, pol);
	dq_learner *l;
	dq_learner_config lc;
	dq_run_result r;
	struct watch w = {c, t, tick, curve, 0};
	int err;

	dq_learner_config_init(&lc);
	study(&lc.agent, seed, 0);
	if (pol == POL_AVERAGE) {
		dq_share_config_init(&lc.share, DQ_SHARE_AVERAGE);
		lc.share.interval = sync;
	}
	lc.n_threads = p;
	lc.pin = DQ_PIN_NONE;
	lc.write_path = DQ_WRITE_DIRECT;
	lc.max_seconds = seconds;
	lc.progress = on_progress;
	lc.progress_arg = &w;
	lc.progress_interval = tick;
	if ((err = dq_learner_create(&l, t, c->env, &lc)))
		die("learner", err);
	if ((err = dq_learner_run(l, NULL)))
		die("run", err);
	while (w.n < MAX_POINTS && w.n * tick <= seconds)
		curve[w.n] = w.n ? curve[w.n - 1] : NAN, w.n++;
	dq_learner_destroy(l);
	dq_table_destroy(t);
	/* time to optimal: a second run with the learner's target check */
	t = table(c, pol);
	lc.progress = NULL;
	lc.target_fraction = 1.0;
	lc.target_interval = 0.0002; /* the time's resolution */
	if ((err = dq_learner_create(&l, t, c->env, &lc)))
		die("learner", err);
	if ((err = dq_learner_run(l, &r)))
		die("run", err);
	dq_learner_destroy(l);
	dq_table_destroy(t);
	return r.reason == DQ_STOP_TARGET ? r.target_seconds : INFINITY;
}

static int
cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double
median(double *v, uint32_t n)
{
	qsort(v, n, sizeof(*v), cmp);
	return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

static double curves[N_POL][N_P][MAX_SEEDS][MAX_POINTS];

int
main(int argc, char **argv)
{
	uint32_t seeds = 51, sync = 100, npts;
	uint64_t steps = 200000, every = 500;
	double tick = 0.005, seconds = 1.0;
	bool wall = false;
	const char *csv = NULL;
	struct ctx c;
	double opt_start;
	int err;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--seeds") && i + 1 < argc)
			seeds = (uint32_t)atoi(argv[++i]);
		else if (!strcmp(argv[i], "--steps") && i + 1 < argc)
			steps = strtoull(argv[++i], NULL, 10);
		else if (!strcmp(argv[i], "--every") && i + 1 < argc)
			every = strtoull(argv[++i], NULL, 10);
		else if (!strcmp(argv[i], "--sync") && i + 1 < argc)
			sync = (uint32_t)atoi(argv[++i]);
		else if (!strcmp(argv[i], "--seconds") && i + 1 < argc)
			seconds = atof(argv[++i]);
		else if (!strcmp(argv[i], "--tick") && i + 1 < argc)
			tick = atof(argv[++i]);
		else if (!strcmp(argv[i], "--wall"))
			wall = true;
		else if (!strcmp(argv[i], "--csv") && i + 1 < argc)
			csv = argv[++i];
		else {
			fprintf(stderr,
				"usage: cme323 [--seeds N] [--steps N] "
				"[--every N] [--sync T] [--wall] [--seconds S] "
				"[--tick S] [--csv FILE]\n");
			return 2;
		}
	}
	if (seeds < 1 || seeds > MAX_SEEDS || !every || !sync || tick <= 0)
		return 2;
	npts =
	    wall ? (uint32_t)(seconds / tick) + 1 : (uint32_t)(steps / every);
	if (npts > MAX_POINTS)
		npts = MAX_POINTS;

	if ((err = dq_env_open_name(&c.env, "maze4x3")) ||
	    (err = dq_model_create(&c.m, c.env)) ||
	    (err = dq_model_shape(c.m, &c.S, &c.A)))
		die("maze4x3", err);
	{
		dq_env_spec sp;

		dq_env_spec_get(c.env, &sp);
		c.limit = sp.max_episode_steps;
	}
	c.qstar = malloc((size_t)c.S * c.A * sizeof(double));
	c.q = malloc((size_t)c.S * c.A * sizeof(double));
	c.v = malloc(c.S * sizeof(double));
	c.policy = malloc(c.S * sizeof(uint32_t));
	dq_solve_config_init(&c.sc);
	c.sc.gamma = 0.95;
	if ((err = dq_model_solve(c.m, &c.sc, c.qstar, (size_t)c.S * c.A, c.v,
				  c.S, NULL, 0, NULL)) ||
	    (err = dq_model_start_value(c.m, c.v, c.S, &opt_start)))
		die("solve", err);

	printf("# maze4x3, gamma 0.95, alpha 0.1, epsilon 0.1; %u seeds; "
	       "%s; average every %u steps; optimal start value %.6f\n",
	       seeds,
	       wall ? "learner threads (wall time)"
		    : "agents in turn, one step each (deterministic)",
	       sync, opt_start);
	printf("| policy | P | median %s to the optimal greedy policy | "
	       "not reached | median value at the end |\n",
	       wall ? "seconds" : "steps");
	printf("|---|---|---|---|---|\n");
	for (int pol = 0; pol < N_POL; pol++)
		for (int pi = 0; pi < N_P; pi++) {
			double found[MAX_SEEDS], last[MAX_SEEDS];
			uint32_t fails = 0;

			for (uint32_t k = 0; k < seeds; k++) {
				double *cv = curves[pol][pi][k];

				found[k] =
				    wall ? run_wall(&c, pol, ps[pi], k + 1,
						    sync, seconds, tick, cv)
					 : run_sim(&c, pol, ps[pi], k + 1, sync,
						   steps, every, cv);
				fails += isinf(found[k]);
				last[k] = cv[npts - 1];
			}
			printf("| %s | %u | %.*f | %u | %.6f |\n",
			       pol_names[pol], ps[pi], wall ? 4 : 0,
			       median(found, seeds), fails,
			       median(last, seeds));
			fflush(stdout);
		}
	if (csv) {
		FILE *f = fopen(csv, "w");

		if (!f)
			die(csv, -errno);
		fprintf(f, "%s", wall ? "seconds" : "steps");
		for (int pol = 0; pol < N_POL; pol++)
			for (int pi = 0; pi < N_P; pi++)
				fprintf(f, ",%s_P%u", pol_names[pol], ps[pi]);
		fprintf(f, ",optimal\n");
		for (uint32_t k = 0; k < npts; k++) {
			fprintf(f, "%g",
				wall ? k * tick : (double)(k + 1) * every);
			for (int pol = 0; pol < N_POL; pol++)
				for (int pi = 0; pi < N_P; pi++) {
					double v[MAX_SEEDS];

					for (uint32_t s = 0; s < seeds; s++)
						v[s] = curves[pol][pi][s][k];
					fprintf(f, ",%.6f", median(v, seeds));
				}
			fprintf(f, ",%.6f\n", opt_start);
		}
		fclose(f);
	}
	dq_model_destroy(c.m);
	dq_env_close(c.env);
	return 0;
}
