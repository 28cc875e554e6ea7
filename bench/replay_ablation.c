/*
 * replay_ablation: the Ray study's ablation of experience replay and a
 * target table (neither, replay only, target only, both), as libdistq
 * runs them: tabular Q-learning (or --algo), steps and wall time until the
 * greedy policy is exactly optimal (the learner's target check against
 * value iteration, target_fraction 1 by default), median over seeds.
 *
 * A run that reaches no target within --max-steps (or the --max-seconds
 * backstop) counts as infinite in the medians, and the table says how
 * many reached it. The same seeds serve every
 * configuration. Step counts are the learner's count when the check that
 * passed was made (checks come every --interval seconds): machine load
 * changes them only by the steps of one interval; times need a quiet
 * machine.
 *
 * --check-steps K: step counts that no load can change (P = 1): the
 * learner runs K steps at a time (each run starts new episodes; the
 * replay ring and the target table carry over), and the greedy policy is
 * checked after each run (dq_model_check_policy(), as the learner's own
 * check): the steps to the target are a multiple of K, a function of the
 * seed alone; the seconds are the runs' own, checks excluded.
 *
 * usage: replay_ablation [--seeds N] [--threads P] [--replay CAP:B:K]
 *                        [--target C] [--max-steps N] [--max-seconds S]
 *                        [--fraction F] [--configs LIST] [--algo NAME]
 *                        [--check-steps K] [--csv FILE] [ENV...]
 *        (defaults: 5 seeds, P = 1, replay 10000:4:1, target 1000,
 *         200M steps or 3600 s, fraction 1, q; taxi frozenlake8x8)
 */
#include <getopt.h>
#include <math.h>

#include "bench.h"

#define MAX_ENVS 16
#define MAX_SEEDS 64

static const char *const default_envs[] = {"taxi", "frozenlake8x8", NULL};
static const char *const cfg_names[4] = {"neither", "replay", "target", "both"};

typedef struct opts {
	const char *envs[MAX_ENVS];
	int n_envs;
	uint32_t seeds, threads;
	uint32_t cap, batch, k, every;
	double max_seconds, fraction, interval;
	uint64_t max_steps;
	uint64_t check_steps; /* 0: the learner's timed target check */
	bool configs[4];
	dq_rule rule;
	const char *csv;
} opts;

static void
usage(FILE *f)
{
	fprintf(f, "usage: replay_ablation [options] [ENV...]\n"
		   "  --seeds N         seeds per configuration (default 5)\n"
		   "  --threads P       agents (default 1)\n"
		   "  --replay CAP:B:K  ring, batch, minibatches per step "
		   "(default 10000:4:1)\n"
		   "  --target C        target refreshed every C total steps "
		   "(default 1000)\n"
		   "  --max-steps N     step budget per run (default 200M)\n"
		   "  --max-seconds S   wall-clock backstop per run (default "
		   "3600)\n"
		   "  --configs LIST    of neither,replay,target,both (default "
		   "all)\n"
		   "  --fraction F      target fraction (default 1: exact)\n"
		   "  --interval S      seconds between target checks "
		   "(default 0.002)\n"
		   "  --algo NAME       q (default), expected-sarsa, double-q\n"
		   "  --check-steps K   P = 1: run K steps at a time and check "
		   "after each\n"
		   "                    (step counts independent of load)\n"
		   "  --csv FILE        one row per run\n"
		   "environments: default taxi frozenlake8x8\n");
}

static bool
parse_replay(const char *s, opts *o)
{
	unsigned c, b, k;
	char tail;

	if (sscanf(s, "%u:%u:%u%c", &c, &b, &k, &tail) != 3 || !c || !b || !k)
		return false;
	o->cap = c;
	o->batch = b;
	o->k = k;
	return true;
}

static int
parse(int argc, char **argv, opts *o)
{
	static const struct option lo[] = {
	    {"seeds", required_argument, NULL, 's'},
	    {"threads", required_argument, NULL, 't'},
	    {"replay", required_argument, NULL, 'r'},
	    {"target", required_argument, NULL, 'c'},
	    {"max-seconds", required_argument, NULL, 'm'},
	    {"max-steps", required_argument, NULL, 'n'},
	    {"configs", required_argument, NULL, 'g'},
	    {"fraction", required_argument, NULL, 'f'},
	    {"interval", required_argument, NULL, 'i'},
	    {"algo", required_argument, NULL, 'a'},
	    {"csv", required_argument, NULL, 'o'},
	    {"check-steps", required_argument, NULL, 'k'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	int ch;

	*o = (opts){.seeds = 5,
		    .threads = 1,
		    .cap = 10000,
		    .batch = 4,
		    .k = 1,
		    .every = 1000,
		    .max_seconds = 3600,
		    .max_steps = 200000000,
		    .configs = {true, true, true, true},
		    .fraction = 1.0,
		    .interval = 0.002,
		    .rule = DQ_RULE_Q};
	while ((ch = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		uint64_t v;
		bool ok = true;

		switch (ch) {
		case 's':
			ok = bench_parse_u64(optarg, 1, MAX_SEEDS, &v);
			o->seeds = (uint32_t)v;
			break;
		case 't':
			ok = bench_parse_u64(optarg, 1, 4096, &v);
			o->threads = (uint32_t)v;
			break;
		case 'r':
			ok = parse_replay(optarg, o);
			break;
		case 'c':
			ok = bench_parse_u64(optarg, 1, UINT32_MAX, &v);
			o->every = (uint32_t)v;
			break;
		case 'm':
			ok = bench_parse_double(optarg, 0.001, 86400,
						&o->max_seconds);
			break;
		case 'n':
			ok = bench_parse_u64(optarg, 1, UINT64_MAX / 2,
					     &o->max_steps);
			break;
		case 'g':
			ok =
			    bench_parse_names(optarg, cfg_names, 4, o->configs);
			break;
		case 'f':
			ok = bench_parse_double(optarg, 1e-6, 1, &o->fraction);
			break;
		case 'i':
			ok = bench_parse_double(optarg, 1e-5, 60, &o->interval);
			break;
		case 'a':
			ok = dq_rule_from_name(optarg, &o->rule) == 0;
			break;
		case 'o':
			o->csv = optarg;
			break;
		case 'k':
			ok = bench_parse_u64(optarg, 1, UINT64_MAX / 2,
					     &o->check_steps);
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			return -1;
		}
		if (!ok) {
			fprintf(stderr, "replay_ablation: bad value '%s'\n",
				optarg);
			return -1;
		}
	}
	if (o->check_steps && o->threads != 1) {
		fprintf(stderr, "replay_ablation: --check-steps needs "
				"--threads 1\n");
		return -1;
	}
	o->n_envs =
	    bench_env_list(o->envs, argv + optind, argc - optind, default_envs);
	return o->n_envs > 0 ? 0 : -1;
}

/* --check-steps: runs of K steps, the greedy policy checked after each
 * against Q* (value iteration at the agents' gamma) as the learner's own
 * target check does, until the fraction is reached or the budget spent. */
static int
run_stepped(const dq_env *env, dq_table *t, dq_learner *l, const opts *o,
	    double *steps, double *secs)
{
	dq_model *m = NULL;
	dq_solve_config sc;
	dq_agent_config ac;
	dq_table_info ti;
	double *qs = NULL, clock = 0.0;
	uint32_t *pol = NULL;
	uint64_t done = 0;
	size_t sa;
	int err;

	*steps = *secs = INFINITY;
	dq_agent_config_init(&ac);
	dq_table_info_get(t, &ti);
	sa = (size_t)ti.n_states * ti.n_actions;
	err = dq_model_create(&m, env);
	if (err)
		return err;
	qs = malloc(sa * sizeof(*qs));
	pol = malloc(ti.n_states * sizeof(*pol));
	dq_solve_config_init(&sc);
	sc.gamma = ac.gamma;
	err = !qs || !pol
		  ? -ENOMEM
		  : dq_model_solve(m, &sc, qs, sa, NULL, 0, NULL, 0, NULL);
	while (!err && done < o->max_steps && clock < o->max_seconds) {
		dq_run_result r;
		double frac;

		err = dq_learner_run(l, &r);
		if (!err)
			err = dq_table_policy(t, pol, ti.n_states);
		if (!err)
			err = dq_model_check_policy(m, qs, sa, pol, ti.n_states,
						    1e-9, &frac);
		if (err)
			break;
		done += r.run_steps;
		clock += r.seconds;
		if (frac >= o->fraction) {
			*steps = (double)done;
			*secs = clock;
			break;
		}
	}
	free(qs);
	free(pol);
	dq_model_destroy(m);
	return err;
}

/* One run: steps and seconds to the target (INFINITY when not reached). */
static int
run_one(const char *spec, const opts *o, int cfg, uint64_t seed, double *steps,
	double *secs)
{
	dq_env *env = NULL;
	dq_env_spec sp;
	dq_table_config tc;
	dq_table *t = NULL;
	dq_learner_config lc;
	dq_learner *l = NULL;
	dq_run_result r;
	int err;

	err = dq_env_open_name(&env, spec);
	if (err)
		return err;
	dq_env_spec_get(env, &sp);
	dq_table_config_init(&tc);
	tc.n_states = sp.n_states;
	tc.n_actions = sp.n_actions;
	dq_rule_channels(o->rule, &tc.channels);
	err = dq_table_create(&t, &tc);
	if (err)
		goto out;
	dq_learner_config_init(&lc);
	lc.n_threads = o->threads;
	lc.agent.rule = o->rule;
	lc.agent.seed = seed;
	if (cfg & 1) {
		lc.agent.replay_capacity = o->cap;
		lc.agent.replay_batch = o->batch;
		lc.agent.replay_minibatches = o->k;
	}
	if (cfg & 2)
		lc.agent.target_every = o->every;
	lc.max_seconds = o->max_seconds;
	lc.max_steps = o->max_steps;
	lc.target_fraction = o->fraction;
	lc.target_interval = o->interval;
	lc.pin = DQ_PIN_NONE;
	if (o->check_steps) {
		lc.target_fraction = 0.0;
		lc.max_steps = o->check_steps;
		err = dq_learner_create(&l, t, env, &lc);
		if (!err)
			err = run_stepped(env, t, l, o, steps, secs);
		goto out;
	}
	err = dq_learner_create(&l, t, env, &lc);
	if (!err)
		err = dq_learner_run(l, &r);
	if (!err) {
		bool hit = r.reason == DQ_STOP_TARGET;

		*steps = hit ? (double)r.target_steps : INFINITY;
		*secs = hit ? r.target_seconds : INFINITY;
	}
out:
	dq_learner_destroy(l);
	dq_table_destroy(t);
	dq_env_close(env);
	return err;
}

int
main(int argc, char **argv)
{
	opts o;
	FILE *csv = NULL;

	if (parse(argc, argv, &o))
		return 2;
	if (o.csv) {
		csv = fopen(o.csv, "w");
		if (!csv) {
			perror(o.csv);
			return 1;
		}
		fprintf(csv, "env,config,seed,threads,steps,seconds\n");
	}
	printf("# replay %u:%u:%u, target every %u, P = %u, %s, %u seeds, "
	       "fraction %g, budget %llu steps or %g s",
	       o.cap, o.batch, o.k, o.every, o.threads, dq_rule_name(o.rule),
	       o.seeds, o.fraction, (unsigned long long)o.max_steps,
	       o.max_seconds);
	if (o.check_steps)
		printf(", checked every %llu steps",
		       (unsigned long long)o.check_steps);
	printf("\n");
	printf("%-16s %-8s %14s %12s %8s\n", "env", "config", "median steps",
	       "median s", "reached");
	for (int e = 0; e < o.n_envs; e++)
		for (int c = 0; c < 4; c++) {
			double st[MAX_SEEDS], se[MAX_SEEDS];
			uint32_t hit = 0;

			if (!o.configs[c])
				continue;
			for (uint32_t i = 0; i < o.seeds; i++) {
				int err = run_one(o.envs[e], &o, c, 1 + i,
						  &st[i], &se[i]);

				if (err) {
					fprintf(stderr,
						"replay_ablation: %s %s: %s\n",
						o.envs[e], cfg_names[c],
						dq_strerror(err));
					return 1;
				}
				hit += isfinite(st[i]);
				if (csv)
					fprintf(csv, "%s,%s,%u,%u,%.0f,%.6f\n",
						o.envs[e], cfg_names[c], 1 + i,
						o.threads, st[i], se[i]);
				if (csv) /* a killed run keeps its rows */
					fflush(csv);
			}
			printf("%-16s %-8s %14.0f %12.3f %5u/%-2u\n", o.envs[e],
			       cfg_names[c], bench_median(st, o.seeds),
			       bench_median(se, o.seeds), hit, o.seeds);
			fflush(stdout);
		}
	if (csv)
		fclose(csv);
	return 0;
}
