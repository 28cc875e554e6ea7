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
 * CartPole-v1 (`cartpole`) has no model and a continuous observation: it
 * runs tile-coded (lib/tilereplay.c: the ring stores active tiles), with
 * the coder and settings of bench/tiles_solve.c and `distq train --tiles
 * auto` (8x4,4,8,8, alpha 0.1, epsilon 0.05, gamma 1), and its target is
 * Gymnasium's reward threshold: the greedy policy's mean return over
 * --episodes N (default 100) evaluation episodes >= 475. Timed: the
 * learner's evaluator plays the N greedy episodes every --eval-every
 * steps (default 20,000) and stops the run there (target_return); with
 * --check-steps K, this program plays them after every run of K steps
 * from its own seeded instance (ties to the lowest action), so the steps
 * are a multiple of K and a function of the seed alone. Its budget is
 * --tiles-max-steps (default 10M), each evaluation costing up to N x 500
 * steps.
 *
 * --curves DIR: one learning curve per (env, variant, seed),
 * DIR/ENV-VARIANT-sSEED.csv, in the columns of `distq train --curve`:
 * timed, the learner's evaluator's records (every --curve-every steps,
 * default 20,000, for the tabular envs; at the cadence of the stop's
 * evaluations for cartpole); with --check-steps, one row per check from
 * this program's own greedy episodes (the exact-value columns nan).
 * bench/replay_curves.gp draws them (greedy return against steps and
 * against seconds, per variant).
 *
 * usage: replay_ablation [--seeds N] [--threads P] [--replay CAP:B:K]
 *                        [--target C] [--max-steps N] [--max-seconds S]
 *                        [--fraction F] [--configs LIST] [--algo NAME]
 *                        [--check-steps K] [--csv FILE] [--curves DIR]
 *                        [--curve-every N] [--eval-every N]
 *                        [--episodes N] [--tiles-max-steps N] [ENV...]
 *        (defaults: 5 seeds, P = 1, replay 10000:4:1, target 1000,
 *         200M steps or 3600 s, fraction 1, q; taxi frozenlake8x8
 *         cartpole)
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <sys/stat.h>

#include "bench.h"

#define MAX_ENVS 16
#define MAX_SEEDS 64

static const char *const default_envs[] = {"taxi", "frozenlake8x8", "cartpole",
					   NULL};
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
	const char *curves; /* --curves DIR */
	uint64_t curve_every, eval_every, tiles_max_steps;
	uint32_t episodes;
} opts;

/* The continuous tasks, tile-coded: bench/tiles_solve.c's coder and
 * settings (docs/seeds.md, "Continuous control"), Gymnasium's threshold. */
typedef struct ctask {
	const char *env, *tiles;
	double alpha, epsilon, gamma, threshold;
} ctask;

static const ctask ctasks[] = {
    {"cartpole", "8x4,4,8,8", 0.1, 0.05, 1.0, 475.0},
};

static const ctask *
ctask_of(const char *spec)
{
	size_t n = strcspn(spec, ":");

	for (size_t i = 0; i < sizeof(ctasks) / sizeof(*ctasks); i++)
		if (strlen(ctasks[i].env) == n &&
		    !strncmp(spec, ctasks[i].env, n))
			return &ctasks[i];
	return NULL;
}

/* The columns of distq train --curve (cli/curve.c, docs/cli.md). */
static const char curve_header[] =
    "index,seconds,steps,episodes,run_steps,mean_return,return_se,"
    "mean_discounted,discounted_se,exact_value,optimal_value,gap,epsilon,"
    "alpha,eval_seconds,final\n";

static void
curve_row(FILE *f, const dq_eval_record *r)
{
	fprintf(f,
		"%u,%.9g,%llu,%llu,%llu,%.17g,%.17g,%.17g,%.17g,%.17g,%.17g,"
		"%.17g,%.17g,%.17g,%.9g,%d\n",
		r->index, r->seconds, (unsigned long long)r->steps,
		(unsigned long long)r->episodes,
		(unsigned long long)r->run_steps, r->mean_return, r->return_se,
		r->mean_discounted, r->discounted_se, r->exact_value,
		r->optimal_value, r->gap, r->epsilon, r->alpha, r->eval_seconds,
		r->final);
	fflush(f); /* a killed run keeps its rows */
}

/* The learner's evaluator's records, as they come (eval_callback). */
static void
on_eval(const dq_eval_record *r, void *arg)
{
	if (arg)
		curve_row(arg, r);
}

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
		   "  --curves DIR      a learning curve per run, "
		   "DIR/ENV-CONFIG-sSEED.csv\n"
		   "  --curve-every N   tabular curves: an evaluation every N "
		   "steps (default 20k)\n"
		   "  --eval-every N    cartpole: N greedy-episode "
		   "evaluations every N steps\n"
		   "                    (default 20k; --check-steps: after "
		   "each run)\n"
		   "  --episodes N      cartpole: evaluation episodes "
		   "(default 100)\n"
		   "  --tiles-max-steps N  cartpole's step budget per run "
		   "(default 10M)\n"
		   "environments: default taxi frozenlake8x8 cartpole\n");
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
	    {"curves", required_argument, NULL, 'C'},
	    {"curve-every", required_argument, NULL, 'E'},
	    {"eval-every", required_argument, NULL, 'v'},
	    {"episodes", required_argument, NULL, 'N'},
	    {"tiles-max-steps", required_argument, NULL, 'T'},
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
		    .rule = DQ_RULE_Q,
		    .curve_every = 20000,
		    .eval_every = 20000,
		    .tiles_max_steps = 10000000,
		    .episodes = 100};
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
		case 'C':
			o->curves = optarg;
			break;
		case 'E':
			ok = bench_parse_u64(optarg, 1, UINT64_MAX / 2,
					     &o->curve_every);
			break;
		case 'v':
			ok = bench_parse_u64(optarg, 1, UINT64_MAX / 2,
					     &o->eval_every);
			break;
		case 'N':
			ok = bench_parse_u64(optarg, 1, 1000000, &v);
			o->episodes = (uint32_t)v;
			break;
		case 'T':
			ok = bench_parse_u64(optarg, 1, UINT64_MAX / 2,
					     &o->tiles_max_steps);
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

/*
 * Greedy mean return (and its standard error) of n episodes from a fresh
 * instance of env seeded with `seed` (the same episodes for the same
 * table: a function of the seed alone), ties to the lowest action: over
 * tiles (tc) the sums of the active weights, else the table's policy pol.
 */
static int
greedy_eval(const dq_env *env, const dq_tiles *tc, const dq_table *t,
	    const uint32_t *pol, uint32_t n, uint64_t seed, double *mean,
	    double *se)
{
	dq_env_instance *in = NULL;
	dq_env_spec sp;
	dq_rng rng;
	double sum = 0.0, sq = 0.0, obs[DQ_OBS_MAX_DIM], q[64];
	int err;

	dq_env_spec_get(env, &sp);
	if (sp.n_actions > 64)
		return -ERANGE;
	err = dq_env_instance_create(env, &in);
	if (!err)
		err = dq_rng_seed(&rng, seed, 0);
	for (uint32_t e = 0; !err && e < n; e++) {
		uint32_t s, len = 0;
		double g = 0.0;
		dq_step st = {0};

		err = dq_env_instance_reset(in, &rng, &s);
		while (!err) {
			uint32_t a = 0;

			if (tc) {
				err = dq_env_instance_observe(in, obs,
							      DQ_OBS_MAX_DIM);
				if (!err)
					err =
					    dq_tiles_values(tc, t, obs, q, 64);
				for (uint32_t b = 1; b < sp.n_actions; b++)
					if (q[b] > q[a])
						a = b;
			} else {
				a = pol[s];
			}
			if (!err)
				err = dq_env_instance_step(in, a, &rng, &st);
			if (err)
				break;
			g += st.reward;
			s = st.next_state;
			if (st.terminated || st.truncated ||
			    ++len == sp.max_episode_steps)
				break;
		}
		sum += g;
		sq += g * g;
	}
	dq_env_instance_destroy(in);
	if (err)
		return err;
	*mean = sum / n;
	*se = n > 1 ? sqrt(fmax(0.0, (sq - sum * sum / n) / (n - 1)) / n) : NAN;
	return 0;
}

/* --check-steps: runs of K steps, checked after each until the target is
 * reached or the budget spent. Tabular: the greedy policy against Q*
 * (value iteration at the agents' gamma) as the learner's own target
 * check does. Tile-coded (ct): the greedy mean return of --episodes
 * episodes against the threshold (greedy_eval(), seeded apart from the
 * agents). With a curve, one row per check. */
static int
run_stepped(const dq_env *env, dq_table *t, dq_learner *l, const opts *o,
	    const ctask *ct, const dq_tiles *tc, uint64_t seed, FILE *curve,
	    double *steps, double *secs)
{
	dq_model *m = NULL;
	dq_solve_config sc;
	dq_agent_config ac;
	dq_table_info ti;
	double *qs = NULL, clock = 0.0;
	uint32_t *pol = NULL, index = 0;
	const uint64_t budget = ct ? o->tiles_max_steps : o->max_steps;
	uint64_t done = 0;
	size_t sa;
	int err = 0;

	*steps = *secs = INFINITY;
	dq_agent_config_init(&ac);
	dq_table_info_get(t, &ti);
	sa = (size_t)ti.n_states * ti.n_actions;
	if (!ct) {
		err = dq_model_create(&m, env);
		if (err)
			return err;
		qs = malloc(sa * sizeof(*qs));
		pol = malloc(ti.n_states * sizeof(*pol));
		dq_solve_config_init(&sc);
		sc.gamma = ac.gamma;
		err = !qs || !pol ? -ENOMEM
				  : dq_model_solve(m, &sc, qs, sa, NULL, 0,
						   NULL, 0, NULL);
	}
	while (!err && done < budget && clock < o->max_seconds) {
		dq_run_result r;
		double frac = 0.0, mean = NAN, se = NAN, t0;
		bool hit;

		err = dq_learner_run(l, &r);
		if (err)
			break;
		done += r.run_steps;
		clock += r.seconds;
		t0 = bench_now();
		if (ct) {
			err = greedy_eval(env, tc, t, NULL, o->episodes,
					  1000003 * seed + index, &mean, &se);
			hit = !err && mean >= ct->threshold;
		} else {
			err = dq_table_policy(t, pol, ti.n_states);
			if (!err)
				err = dq_model_check_policy(
				    m, qs, sa, pol, ti.n_states, 1e-9, &frac);
			if (!err && curve)
				err = greedy_eval(
				    env, NULL, t, pol, o->episodes,
				    1000003 * seed + index, &mean, &se);
			hit = !err && frac >= o->fraction;
		}
		if (err)
			break;
		if (curve) {
			dq_eval_record rec = {.index = index,
					      .n_episodes = o->episodes,
					      .seconds = clock,
					      .steps = done,
					      .episodes = r.total.episodes,
					      .run_steps = r.run_steps,
					      .mean_return = mean,
					      .return_se = se,
					      .mean_discounted = NAN,
					      .discounted_se = NAN,
					      .exact_value = NAN,
					      .optimal_value = NAN,
					      .gap = NAN,
					      .epsilon = r.total.epsilon,
					      .alpha = r.total.alpha,
					      .eval_seconds = bench_now() - t0,
					      .final = true};

			curve_row(curve, &rec);
		}
		index++;
		if (hit) {
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

/* The curve file of one run, DIR/ENV-CONFIG-sSEED.csv (':' and ',' of an
 * environment's parameters as '_'), its header written; NULL without
 * --curves. */
static FILE *
curve_open(const opts *o, const char *spec, int cfg, uint64_t seed)
{
	char path[4096], env[256];
	FILE *f;

	if (!o->curves)
		return NULL;
	snprintf(env, sizeof(env), "%s", spec);
	for (char *c = env; *c; c++)
		if (*c == ':' || *c == ',' || *c == '/' || *c == '=')
			*c = '_';
	snprintf(path, sizeof(path), "%s/%s-%s-s%llu.csv", o->curves, env,
		 cfg_names[cfg], (unsigned long long)seed);
	f = fopen(path, "w");
	if (!f) {
		perror(path);
		return NULL;
	}
	fputs(curve_header, f);
	return f;
}

/* One run: steps and seconds to the target (INFINITY when not reached). */
static int
run_one(const char *spec, const opts *o, int cfg, uint64_t seed, double *steps,
	double *secs)
{
	const ctask *ct = ctask_of(spec);
	dq_env *env = NULL;
	dq_env_spec sp;
	dq_table_config tc;
	dq_tiles *coder = NULL;
	dq_table *t = NULL;
	dq_learner_config lc;
	dq_learner *l = NULL;
	dq_run_result r;
	FILE *curve = NULL;
	int err;

	err = dq_env_open_name(&env, spec);
	if (err)
		return err;
	dq_env_spec_get(env, &sp);
	dq_table_config_init(&tc);
	tc.n_states = sp.n_states;
	tc.n_actions = sp.n_actions;
	dq_rule_channels(o->rule, &tc.channels);
	if (ct) { /* tile-coded: the table holds the coder's rows */
		dq_tiles_config cc;

		dq_tiles_config_init(&cc);
		err = dq_tiles_config_from_env(&cc, env, ct->tiles);
		if (!err)
			err = dq_tiles_create(&coder, &cc);
		if (!err)
			err = dq_tiles_features(coder, &tc.n_states);
		if (err)
			goto out;
	}
	err = dq_table_create(&t, &tc);
	if (err)
		goto out;
	if (o->curves && !(curve = curve_open(o, spec, cfg, seed))) {
		err = -EIO;
		goto out;
	}
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
	lc.eval_unit = DQ_EVAL_STEPS;
	lc.eval_episodes = o->episodes;
	lc.eval_callback = on_eval;
	lc.eval_arg = curve;
	if (curve)
		lc.eval_every = (double)o->curve_every;
	if (ct) {
		lc.agent.tiles = coder;
		lc.agent.alpha = dq_schedule_constant(ct->alpha);
		lc.agent.epsilon = dq_schedule_constant(ct->epsilon);
		lc.agent.gamma = ct->gamma;
		lc.target_fraction = 0.0;
		lc.max_steps = o->tiles_max_steps;
		/* the learner's evaluator: the stop (timed runs) */
		lc.eval_every = (double)o->eval_every;
		lc.target_return = ct->threshold;
	}
	if (o->check_steps) {
		lc.target_fraction = 0.0;
		lc.target_return = NAN;
		lc.eval_every = 0.0; /* this program's own checks */
		lc.max_steps = o->check_steps;
		err = dq_learner_create(&l, t, env, &lc);
		if (!err)
			err = run_stepped(env, t, l, o, ct, coder, seed, curve,
					  steps, secs);
		goto out;
	}
	err = dq_learner_create(&l, t, env, &lc);
	if (!err)
		err = dq_learner_run(l, &r);
	if (!err && ct) {
		bool hit = r.reason == DQ_STOP_RETURN;

		*steps = hit ? (double)r.return_steps : INFINITY;
		*secs = hit ? r.return_seconds : INFINITY;
	} else if (!err) {
		bool hit = r.reason == DQ_STOP_TARGET;

		*steps = hit ? (double)r.target_steps : INFINITY;
		*secs = hit ? r.target_seconds : INFINITY;
	}
out:
	if (curve)
		fclose(curve);
	dq_learner_destroy(l);
	dq_table_destroy(t);
	dq_tiles_destroy(coder);
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
	if (o.curves && mkdir(o.curves, 0777) && errno != EEXIST) {
		perror(o.curves);
		return 1;
	}
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
	printf(
	    "\n# cartpole: tiles 8x4,4,8,8, alpha 0.1, epsilon 0.05, gamma 1; "
	    "target: greedy mean of %u episodes >= 475 (%s), budget %llu "
	    "steps\n",
	    o.episodes,
	    o.check_steps ? "after each check"
			  : "evaluated every --eval-every steps",
	    (unsigned long long)o.tiles_max_steps);
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
