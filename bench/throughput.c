/*
 * throughput: learning steps per second of one shared Q-table as the
 * number of agent threads grows, for each update discipline, next to two
 * baselines measured in the same run:
 *
 *  hand     a hand-written single-thread Q-learning loop over a plain
 *           double array, stepping the very same built-in environment
 *           code through its dq_env_ops: the one-thread ceiling. At P > 1,
 *           P independent copies on private arrays (unpinned: a benchmark
 *           has no placement of its own, and the library's is not public).
 *  private  P separate tables, each learnt by its own one-thread learner,
 *           the P learners started together and pinned where the P agents
 *           of one P-thread learner would be: the scaling ceiling, the
 *           same code with nothing shared.
 *
 * and two ways of sharing a table beside the disciplines (cas, hogwild,
 * locked): caspad, a cas table with each row on its own cache line
 * (dq_table_config.pad_rows), and, with --sync K, the library's replica
 * mode (syncK): each agent
 * updates private copies of the rows it writes and writes its changes
 * back into the shared table every K steps.
 *
 * Every point is P threads doing a fixed total number of steps; the
 * repetitions of all points are interleaved (rep 1 of every point, then
 * rep 2, ...) so that a slow spell of the machine spreads over all of them
 * instead of biasing one, and each point reports its median.
 *
 * usage: throughput [options] [ENV...]   (throughput --help)
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <unistd.h>

#include "bench.h"

#define MAX_ENVS 32
#define MAX_REPS 256
#define DEFAULT_SECONDS 0.4
#define CALIBRATE_SECONDS 0.2

enum kind {
	K_AUTO,
	K_CAS,
	K_CASPAD,
	K_HOGWILD,
	K_LOCKED,
	K_SYNC,
	K_PRIVATE,
	K_HAND,
	K_N
};

/* Names as options and CSV files spell them; "sync" is shown with its K
 * (kind_name()). */
static const char *const kind_names[K_N] = {
    "auto", "cas", "caspad", "hogwild", "locked", "sync", "private", "hand"};
static char sync_name[32] = "sync";

static const char *
kind_name(int k)
{
	return k == K_SYNC ? sync_name : kind_names[k];
}

static const char *const default_envs[] = {
    "taxi", "frozenlake8x8", "maze4x3", "scalable:states=2500000,actions=4",
    NULL,
};

typedef struct opts {
	const char *envs[MAX_ENVS];
	int n_envs;
	uint32_t threads[BENCH_MAX_LIST];
	int n_threads;
	bool kinds[K_N];
	uint64_t steps; /* total per point; 0 = calibrate per env */
	double seconds; /* calibration target for one thread */
	uint32_t reps;
	double min_share;  /* repeat a rep that got less of its cores */
	uint32_t attempts; /* at most this many tries per rep */
	double alpha, gamma, epsilon, q0;
	dq_rule rule;
	double omega;	  /* 0: the alpha schedule */
	uint32_t nstep;	  /* --nstep: the n-step rules' n */
	double lambda;	  /* --lambda: Q(lambda)'s */
	dq_trace trace;	  /* --trace */
	dq_policy policy; /* --softmax: softmax, temperature --epsilon */
	uint64_t seed;
	uint32_t sync; /* sync_every of the replica mode, 0 = not measured */
	dq_pin_policy pin;
	bool pad;	  /* library tables with one row per cache line */
	uint32_t stripes; /* mutexes of locked tables, 0 = the library's */
	const char *csv, *summary, *markdown;
	bool quiet;
} opts;

/* What one repetition of one point measured. */
typedef struct sample {
	double seconds;
	double cpu; /* process CPU seconds over the same span */
	uint64_t steps;
	uint64_t retries;
	uint64_t episodes;
	double windowed; /* share of the steps taken in write-back windows */
	uint32_t window; /* the mean window over those steps */
} sample;

/* One point: an environment, a kind and a thread count, over reps. */
typedef struct point {
	int kind;
	uint32_t threads;
	double rate[MAX_REPS];
	double rpstep[MAX_REPS];
	double windowed[MAX_REPS];
	uint32_t window[MAX_REPS];
	uint32_t n;
	uint32_t redone; /* tries discarded for a low CPU share */
	double med, lo, hi, med_rpstep;
} point;

/* A built-in environment opened twice: through the library (for the
 * learners) and through its raw function table (for the hand loop). */
typedef struct bench_env {
	const char *spec;
	char label[256];
	dq_env *env;
	dq_env_spec info;
	const dq_env_ops *ops;
	void *def;
	dq_env_spec raw;
	uint64_t steps;
} bench_env;

static void
usage(FILE *f)
{
	fprintf(
	    f,
	    "usage: throughput [options] [ENV...]\n"
	    "  ENV               built-in environment with parameters, e.g.\n"
	    "                    taxi or 'scalable:states=2500000,actions=4'\n"
	    "                    (default: taxi frozenlake8x8 maze4x3\n"
	    "                    scalable:states=2500000,actions=4)\n"
	    "  --threads LIST    thread counts, e.g. 1,2 (default 1,2,4,..."
	    " up to\n"
	    "                    the core count)\n"
	    "  --modes LIST      of auto,cas,caspad,hogwild,locked,sync,\n"
	    "                    private,hand (default all but sync; --sync\n"
	    "                    adds it); auto is a cas table with the\n"
	    "                    library's default, automatic write path;\n"
	    "                    cas, hogwild, locked update directly;\n"
	    "                    caspad is cas with every row on its\n"
	    "                    own cache line (dq_table_config.pad_rows)\n"
	    "  --steps N         total steps per point (k/M/G suffixes); "
	    "default:\n"
	    "                    calibrated per environment to --seconds\n"
	    "  --seconds S       one-thread time per point when calibrating"
	    " (0.4)\n"
	    "  --reps N          repetitions per point, median reported (5)\n"
	    "  --min-share F     redo a repetition whose threads got less "
	    "than\n"
	    "                    F of their cores (0.9; 0 = never)\n"
	    "  --attempts N      tries per repetition at most (3)\n"
	    "  --alpha A --gamma G --epsilon E --q0 Q   (0.1 0.99 0.1 0)\n"
	    "  --seed N          base seed (1); repetition r uses N + r\n"
	    "  --pin cores|none  placement of library threads (cores)\n"
	    "  --sync K          also measure replica mode: cas table, each\n"
	    "                    agent writes its updates back every K steps\n"
	    "                    (dq_agent_config.sync_every); shown as syncK\n"
	    "  --pad             library tables start each row on its own\n"
	    "                    cache line (dq_table_config.pad_rows)\n"
	    "  --stripes N       mutexes of the locked tables\n"
	    "                    (dq_table_config.n_stripes, which the\n"
	    "                    library rounds to a power of two; default:\n"
	    "                    its own choice; 1 = one global lock)\n"
	    "  --algo NAME       the library's learning rule (q, sarsa,\n"
	    "                    expected-sarsa, double-q; see\n"
	    "                    distq train --algo); the hand loop is q\n"
	    "  --omega W         per-entry step sizes 1/N(s,a)^W, W in\n"
	    "                    (0.5, 1] (dq_agent_config.omega)\n"
	    "  --nstep N         n of nstep-q and nstep-sarsa (3)\n"
	    "  --lambda L        lambda of q-lambda (0.9)\n"
	    "  --trace KIND      q-lambda's traces: accumulating (default)\n"
	    "                    or replacing\n"
	    "  --softmax         softmax policy, temperature --epsilon\n"
	    "  --csv FILE        raw rows, one per repetition\n"
	    "  --summary FILE    one row per point (medians), for plots\n"
	    "  --markdown FILE   the summary table in markdown\n"
	    "  --quiet           no progress on stderr\n");
}

/* Options as the usage message says; exits 2 on anything malformed. */
static void
parse_opts(int argc, char **argv, opts *o)
{
	enum {
		O_THREADS = 256,
		O_MODES,
		O_STEPS,
		O_SECONDS,
		O_REPS,
		O_SHARE,
		O_ATTEMPTS,
		O_ALPHA,
		O_GAMMA,
		O_EPS,
		O_Q0,
		O_SEED,
		O_PIN,
		O_PAD,
		O_STRIPES,
		O_SYNC,
		O_ALGO,
		O_OMEGA,
		O_NSTEP,
		O_LAMBDA,
		O_TRACE,
		O_SOFTMAX,
		O_CSV,
		O_SUMMARY,
		O_MD,
		O_QUIET,
		O_HELP
	};
	static const struct option lo[] = {
	    {"threads", required_argument, NULL, O_THREADS},
	    {"modes", required_argument, NULL, O_MODES},
	    {"steps", required_argument, NULL, O_STEPS},
	    {"seconds", required_argument, NULL, O_SECONDS},
	    {"reps", required_argument, NULL, O_REPS},
	    {"min-share", required_argument, NULL, O_SHARE},
	    {"attempts", required_argument, NULL, O_ATTEMPTS},
	    {"alpha", required_argument, NULL, O_ALPHA},
	    {"gamma", required_argument, NULL, O_GAMMA},
	    {"epsilon", required_argument, NULL, O_EPS},
	    {"q0", required_argument, NULL, O_Q0},
	    {"seed", required_argument, NULL, O_SEED},
	    {"pin", required_argument, NULL, O_PIN},
	    {"pad", no_argument, NULL, O_PAD},
	    {"stripes", required_argument, NULL, O_STRIPES},
	    {"sync", required_argument, NULL, O_SYNC},
	    {"algo", required_argument, NULL, O_ALGO},
	    {"omega", required_argument, NULL, O_OMEGA},
	    {"nstep", required_argument, NULL, O_NSTEP},
	    {"lambda", required_argument, NULL, O_LAMBDA},
	    {"trace", required_argument, NULL, O_TRACE},
	    {"softmax", no_argument, NULL, O_SOFTMAX},
	    {"csv", required_argument, NULL, O_CSV},
	    {"summary", required_argument, NULL, O_SUMMARY},
	    {"markdown", required_argument, NULL, O_MD},
	    {"quiet", no_argument, NULL, O_QUIET},
	    {"help", no_argument, NULL, O_HELP},
	    {NULL, 0, NULL, 0},
	};
	uint64_t v;
	bool ok = true;
	int c, idx = 0;

	memset(o, 0, sizeof(*o));
	for (int k = 0; k < K_N; k++)
		o->kinds[k] = k != K_SYNC;
	o->seconds = DEFAULT_SECONDS;
	o->reps = 5;
	o->min_share = 0.9;
	o->attempts = 3;
	o->alpha = 0.1;
	o->gamma = 0.99;
	o->epsilon = 0.1;
	o->seed = 1;
	o->pin = DQ_PIN_CORES;
	o->nstep = 3;
	o->lambda = 0.9;
	while (ok && (c = getopt_long(argc, argv, "", lo, &idx)) != -1) {
		switch (c) {
		case O_THREADS:
			o->n_threads = bench_parse_threads(optarg, o->threads,
							   BENCH_MAX_LIST);
			ok = o->n_threads > 0;
			break;
		case O_MODES:
			ok = bench_parse_names(optarg, kind_names, K_N,
					       o->kinds);
			break;
		case O_STEPS:
			ok = bench_parse_u64(optarg, 1, UINT64_MAX / 2,
					     &o->steps);
			break;
		case O_SECONDS:
			ok = bench_parse_double(optarg, 0.001, 3600,
						&o->seconds);
			break;
		case O_REPS:
			ok = bench_parse_u64(optarg, 1, MAX_REPS, &v);
			o->reps = (uint32_t)v;
			break;
		case O_SHARE:
			ok = bench_parse_double(optarg, 0, 1, &o->min_share);
			break;
		case O_ATTEMPTS:
			ok = bench_parse_u64(optarg, 1, 100, &v);
			o->attempts = (uint32_t)v;
			break;
		case O_ALPHA:
			ok = bench_parse_double(optarg, 1e-12, 1, &o->alpha);
			break;
		case O_GAMMA:
			ok = bench_parse_double(optarg, 0, 1, &o->gamma);
			break;
		case O_EPS:
			ok = bench_parse_double(optarg, 0, 1, &o->epsilon);
			break;
		case O_Q0:
			ok = bench_parse_double(optarg, -1e12, 1e12, &o->q0);
			break;
		case O_SEED:
			ok = bench_parse_u64(optarg, 0, UINT64_MAX / 2,
					     &o->seed);
			break;
		case O_PIN:
			ok = bench_parse_pin(optarg, &o->pin);
			break;
		case O_PAD:
			o->pad = true;
			break;
		case O_STRIPES:
			ok = bench_parse_u64(optarg, 1, 1u << 20, &v);
			o->stripes = (uint32_t)v;
			break;
		case O_SYNC:
			ok = bench_parse_u64(optarg, 1, 1u << 30, &v);
			o->sync = (uint32_t)v;
			break;
		case O_ALGO:
			ok = dq_rule_from_name(optarg, &o->rule) == 0;
			break;
		case O_OMEGA:
			ok =
			    bench_parse_double(optarg, 0.5000001, 1, &o->omega);
			break;
		case O_NSTEP:
			ok = bench_parse_u64(optarg, 1, DQ_NSTEP_MAX, &v);
			o->nstep = (uint32_t)v;
			break;
		case O_LAMBDA:
			ok = bench_parse_double(optarg, 0, 1, &o->lambda);
			break;
		case O_TRACE:
			ok = !strcmp(optarg, "accumulating") ||
			     !strcmp(optarg, "replacing");
			o->trace = !strcmp(optarg, "replacing")
				       ? DQ_TRACE_REPLACING
				       : DQ_TRACE_ACCUMULATING;
			break;
		case O_SOFTMAX:
			o->policy = DQ_POLICY_SOFTMAX;
			break;
		case O_CSV:
			o->csv = optarg;
			break;
		case O_SUMMARY:
			o->summary = optarg;
			break;
		case O_MD:
			o->markdown = optarg;
			break;
		case O_QUIET:
			o->quiet = true;
			break;
		case O_HELP:
			usage(stdout);
			exit(0);
		default:
			ok = false;
			break;
		}
	}
	if (ok && argc - optind > MAX_ENVS) {
		fprintf(stderr, "throughput: at most %d environments\n",
			MAX_ENVS);
		ok = false;
	}
	if (!ok) {
		/* Codes from 256 are ours: an option whose value is bad. */
		if (c >= 256)
			fprintf(stderr, "throughput: bad value '%s' for --%s\n",
				optarg, lo[idx].name);
		usage(stderr);
		exit(2);
	}
	o->n_envs =
	    bench_env_list(o->envs, argv + optind, argc - optind, default_envs);
	if (!o->n_threads)
		o->n_threads =
		    bench_default_threads(o->threads, BENCH_MAX_LIST);
	/* --sync K adds the replica mode; naming it needs a K. */
	if (o->sync) {
		o->kinds[K_SYNC] = true;
		snprintf(sync_name, sizeof(sync_name), "sync%u", o->sync);
	} else if (o->kinds[K_SYNC]) {
		fprintf(stderr, "throughput: mode sync needs --sync K\n");
		usage(stderr);
		exit(2);
	}
	/* Progress lines only where someone watches them. */
	if (!isatty(STDERR_FILENO))
		o->quiet = true;
}

/* ------------------------------------------------------------------------ */
/* The hand-written baseline. */

/*
 * Open the built-in environment named by `be->spec` through its raw
 * function table, found by name in dq_env_builtins(), so that the hand
 * loop calls exactly the step code the library's agents call.
 */
static int
hand_open(bench_env *be)
{
	const dq_env_ops *all[64];
	const char *colon = strchr(be->spec, ':');
	size_t len = colon ? (size_t)(colon - be->spec) : strlen(be->spec);
	int n = dq_env_builtins(all, 64);

	for (int i = 0; i < n && i < 64; i++) {
		if (strlen(all[i]->name) == len &&
		    memcmp(all[i]->name, be->spec, len) == 0) {
			be->ops = all[i];
			memset(&be->raw, 0, sizeof(be->raw));
			return be->ops->open(&be->def, colon ? colon + 1 : "",
					     NULL, &be->raw);
		}
	}
	return -ENOENT;
}

static void
hand_close(bench_env *be)
{
	if (be->ops && be->ops->close)
		be->ops->close(be->def);
	be->ops = NULL;
}

/* One thread of the hand-written loop: its own array and instance. */
typedef struct hand_job {
	const bench_env *be;
	const opts *o;
	void *inst;
	double *q;
	uint64_t steps;
	uint64_t seed;
	uint64_t episodes;
} hand_job;

/*
 * THE HAND-WRITTEN BASELINE. This loop deliberately duplicates the
 * library's agent step (epsilon-greedy on the table with random
 * tie-breaking, the one-step Q-learning update, no bootstrap from a
 * terminal state, truncation at the environment's episode limit) and is
 * the one sanctioned copy of it outside lib/, as the architecture notes
 * allow: a plain double array, everything inline, no atomics, no
 * statistics, no stop flag, no checks on what the environment returns.
 * It is what a careful programmer writes by hand, and so the ceiling one
 * library thread is measured against. The environment is not duplicated:
 * it is stepped through the built-in's own dq_env_ops, exactly as the
 * library steps it. Not inlined, so that callgrind can count it alone.
 */
static __attribute__((noinline)) int
hand_loop(void *arg)
{
	hand_job *j = arg;
	const dq_env_ops *ops = j->be->ops;
	const uint32_t na = j->be->raw.n_actions;
	const uint32_t limit = j->be->raw.max_episode_steps;
	const double alpha = j->o->alpha, gamma = j->o->gamma;
	const double eps = j->o->epsilon;
	double *q = j->q;
	void *inst = j->inst;
	uint64_t episodes = 0;
	uint32_t s, len = 0;
	dq_rng rng;
	dq_step st;
	int err;

	dq_rng_seed(&rng, j->seed, 0);
	if ((err = ops->reset(inst, &rng, &s)))
		return err;
	for (uint64_t i = 0; i < j->steps; i++) {
		const double *row = q + (size_t)s * na;
		double best, target, *e;
		uint32_t a = 0;

		if (dq_rng_uniform(&rng) < eps) {
			a = dq_rng_below(&rng, na);
		} else {
			uint32_t ties = 1;

			best = row[0];
			for (uint32_t b = 1; b < na; b++) {
				if (row[b] > best) {
					best = row[b];
					a = b;
					ties = 1;
				} else if (row[b] == best &&
					   dq_rng_below(&rng, ++ties) == 0) {
					a = b;
				}
			}
		}
		if ((err = ops->step(inst, a, &rng, &st)))
			return err;
		target = st.reward;
		if (!st.terminated) {
			const double *next = q + (size_t)st.next_state * na;

			best = next[0];
			for (uint32_t b = 1; b < na; b++)
				if (next[b] > best)
					best = next[b];
			target += gamma * best;
		}
		e = q + (size_t)s * na + a;
		*e += alpha * (target - *e);
		if (st.terminated || st.truncated || ++len == limit) {
			episodes++;
			len = 0;
			if ((err = ops->reset(inst, &rng, &s)))
				return err;
		} else {
			s = st.next_state;
		}
	}
	j->episodes = episodes;
	return 0;
}

/*
 * P copies of the hand loop, each on its own array and instance, started
 * together. With P = 1 this is the one-thread ceiling.
 */
static int
run_hand(const bench_env *be, const opts *o, uint32_t p, uint64_t steps,
	 uint64_t seed, sample *out)
{
	size_t entries = (size_t)be->raw.n_states * be->raw.n_actions;
	hand_job *jobs = calloc(p, sizeof(*jobs));
	bench_member *m = calloc(p, sizeof(*m));
	uint32_t made = 0;
	int err = jobs && m ? 0 : -ENOMEM;

	for (; !err && made < p; made++) {
		hand_job *j = &jobs[made];

		j->be = be;
		j->o = o;
		j->steps = steps / p + (made < steps % p ? 1 : 0);
		j->seed = seed * 1000003u + made;
		j->q = malloc(entries * sizeof(double));
		if (!j->q) {
			err = -ENOMEM;
			break;
		}
		/* Touch every page now, not in the timed loop. */
		for (size_t i = 0; i < entries; i++)
			j->q[i] = o->q0;
		j->inst = be->def;
		if (be->ops->create &&
		    (err = be->ops->create(be->def, &j->inst))) {
			free(j->q);
			break;
		}
		m[made].id = made;
		m[made].work = hand_loop;
		m[made].arg = j;
	}
	if (!err) {
		double c0 = bench_cpu();

		out->seconds = bench_group_run(m, p, &err);
		out->cpu = bench_cpu() - c0;
		out->steps = steps;
		out->retries = 0;
		out->episodes = 0;
		for (uint32_t i = 0; i < p; i++)
			out->episodes += jobs[i].episodes;
	}
	for (uint32_t i = 0; i < made; i++) {
		if (be->ops->create && be->ops->destroy)
			be->ops->destroy(jobs[i].inst);
		free(jobs[i].q);
	}
	free(jobs);
	free(m);
	return err;
}

/* ------------------------------------------------------------------------ */
/* The library. */

static void
learner_config(const opts *o, uint32_t p, uint64_t steps, uint64_t seed,
	       uint32_t sync, dq_learner_config *lc)
{
	dq_learner_config_init(lc);
	lc->n_threads = p;
	lc->max_steps = steps;
	lc->pin = o->pin;
	lc->agent.gamma = o->gamma;
	lc->agent.alpha.start = lc->agent.alpha.end = o->alpha;
	lc->agent.epsilon.start = lc->agent.epsilon.end = o->epsilon;
	lc->agent.seed = seed;
	lc->agent.sync_every = sync;
	lc->agent.rule = o->rule;
	lc->agent.omega = o->omega;
	lc->agent.nstep = o->nstep;
	lc->agent.lambda = o->lambda;
	lc->agent.trace = o->trace;
	lc->agent.policy = o->policy;
	/* Every mode but auto names its path: direct, or sync K windows. */
	lc->write_path = sync ? DQ_WRITE_AUTO : DQ_WRITE_DIRECT;
	/* No callback: the monitor thread should sleep through the run. */
	lc->progress_interval = 3600.0;
}

static int
make_table(const bench_env *be, const opts *o, dq_mode mode, bool pad,
	   dq_table **t)
{
	dq_table_config tc;

	dq_table_config_init(&tc);
	tc.n_states = be->info.n_states;
	tc.n_actions = be->info.n_actions;
	tc.mode = mode;
	tc.q0 = o->q0;
	tc.pad_rows = o->pad || pad;
	(void)dq_rule_channels(o->rule, &tc.channels); /* --algo checked it */
	tc.visit_counts = o->omega > 0.0;
	if (mode == DQ_MODE_LOCKED)
		tc.n_stripes = o->stripes;
	return dq_table_create(t, &tc);
}

/* One learner of P threads on one fresh shared table (rows padded to cache
 * lines with @pad). */
static int
run_shared(const bench_env *be, const opts *o, dq_mode mode, bool pad,
	   uint32_t p, uint64_t steps, uint64_t seed, uint32_t sync,
	   bool autopath, sample *out)
{
	dq_table *t = NULL;
	dq_learner *l = NULL;
	dq_learner_config lc;
	dq_run_result r;
	double c0;
	int err;

	learner_config(o, p, steps, seed, sync, &lc);
	if (autopath)
		lc.write_path = DQ_WRITE_AUTO;
	if ((err = make_table(be, o, mode, pad, &t)) ||
	    (err = dq_learner_create(&l, t, be->env, &lc)))
		goto out;
	c0 = bench_cpu();
	if ((err = dq_learner_run(l, &r)))
		goto out;
	out->cpu = bench_cpu() - c0;
	out->seconds = r.seconds;
	out->steps = r.total.steps;
	out->retries = r.total.cas_retries;
	out->episodes = r.total.episodes;
	bench_write_path(l, p, r.total.steps, &out->windowed, &out->window);
out:
	dq_learner_destroy(l);
	dq_table_destroy(t);
	return err;
}

typedef struct private_job {
	dq_learner *l;
	dq_run_result r;
} private_job;

static int
private_work(void *arg)
{
	private_job *j = arg;

	return dq_learner_run(j->l, &j->r);
}

/*
 * P private tables, each with a one-thread learner, the learners run
 * concurrently from P threads of ours. Learner i is pinned (through the
 * library) to the PU the default placement gives agent i of a P-thread
 * learner, so shared and private runs use the same cores.
 */
static int
run_private(const bench_env *be, const opts *o, uint32_t p, uint64_t steps,
	    uint64_t seed, sample *out)
{
	dq_table **t = calloc(p, sizeof(*t));
	private_job *jobs = calloc(p, sizeof(*jobs));
	bench_member *m = calloc(p, sizeof(*m));
	unsigned *pus = calloc(p, sizeof(*pus));
	bool pinned;
	uint32_t made = 0;
	int err = t && jobs && m && pus ? 0 : -ENOMEM;

	pinned = !err && bench_plan_pus(p, o->pin, pus);
	for (; !err && made < p; made++) {
		dq_learner_config lc;

		learner_config(o, 1, steps / p + (made < steps % p ? 1 : 0),
			       seed * 1000003u + made, 0, &lc);
		lc.pin = pinned ? DQ_PIN_LIST : DQ_PIN_NONE;
		lc.pin_pus = &pus[made];
		lc.n_pin_pus = 1;
		if ((err = make_table(be, o, DQ_MODE_CAS, false, &t[made])))
			break;
		if ((err = dq_learner_create(&jobs[made].l, t[made], be->env,
					     &lc))) {
			dq_table_destroy(t[made]);
			break;
		}
		m[made].id = made;
		m[made].work = private_work;
		m[made].arg = &jobs[made];
	}
	if (!err) {
		/* out was zeroed by run_point(); the sums follow. */
		double c0 = bench_cpu();

		out->seconds = bench_group_run(m, p, &err);
		out->cpu = bench_cpu() - c0;
	}
	for (uint32_t i = 0; i < made; i++) {
		if (!err) {
			out->steps += jobs[i].r.total.steps;
			out->retries += jobs[i].r.total.cas_retries;
			out->episodes += jobs[i].r.total.episodes;
		}
		dq_learner_destroy(jobs[i].l);
		dq_table_destroy(t[i]);
	}
	free(t);
	free(jobs);
	free(m);
	free(pus);
	return err;
}

static int
run_point(const bench_env *be, const opts *o, int kind, uint32_t p,
	  uint64_t steps, uint64_t seed, sample *out)
{
	memset(out, 0, sizeof(*out));
	switch (kind) {
	case K_AUTO:
		return run_shared(be, o, DQ_MODE_CAS, false, p, steps, seed, 0,
				  true, out);
	case K_CAS:
		return run_shared(be, o, DQ_MODE_CAS, false, p, steps, seed, 0,
				  false, out);
	case K_CASPAD:
		return run_shared(be, o, DQ_MODE_CAS, true, p, steps, seed, 0,
				  false, out);
	case K_HOGWILD:
		return run_shared(be, o, DQ_MODE_HOGWILD, false, p, steps, seed,
				  0, false, out);
	case K_LOCKED:
		return run_shared(be, o, DQ_MODE_LOCKED, false, p, steps, seed,
				  0, false, out);
	case K_SYNC:
		return run_shared(be, o, DQ_MODE_CAS, false, p, steps, seed,
				  o->sync, false, out);
	case K_PRIVATE:
		return run_private(be, o, p, steps, seed, out);
	default:
		return run_hand(be, o, p, steps, seed, out);
	}
}

/*
 * Steps per point for an environment: what one library thread does in
 * o->seconds, from a short timed run (which also warms the caches, the
 * page tables and the clock frequency before the first measured point),
 * rounded to two significant digits so the number reads well in tables.
 */
static int
calibrate(bench_env *be, const opts *o)
{
	dq_table *t = NULL;
	dq_learner *l = NULL;
	dq_learner_config lc;
	dq_run_result r;
	double want, scale = 1;
	int err;

	if (o->steps) {
		be->steps = o->steps;
		return 0;
	}
	learner_config(o, 1, 0, o->seed, 0, &lc);
	lc.max_seconds = CALIBRATE_SECONDS;
	if ((err = make_table(be, o, DQ_MODE_CAS, false, &t)) ||
	    (err = dq_learner_create(&l, t, be->env, &lc)) ||
	    (err = dq_learner_run(l, &r)))
		goto out;
	want = (double)r.total.steps / r.seconds * o->seconds;
	while (want >= 100)
		want /= 10, scale *= 10;
	be->steps = (uint64_t)(floor(want + 0.5) * scale);
	if (be->steps < 10000)
		be->steps = 10000;
out:
	dq_learner_destroy(l);
	dq_table_destroy(t);
	return err;
}

/* ------------------------------------------------------------------------ */
/* Reporting. */

static const point *
find_point(const point *pts, int n, int kind, uint32_t p)
{
	for (int i = 0; i < n; i++)
		if (pts[i].kind == kind && pts[i].threads == p)
			return &pts[i];
	return NULL;
}

static void
summarise(point *pt)
{
	pt->med = bench_median(pt->rate, pt->n);
	pt->lo = bench_min(pt->rate, pt->n);
	pt->hi = bench_max(pt->rate, pt->n);
	pt->med_rpstep = bench_median(pt->rpstep, pt->n);
}

/* A ratio to print, or NAN when either side is missing. */
static double
ratio(const point *a, const point *b)
{
	return a && b && b->med > 0 ? a->med / b->med : NAN;
}

/*
 * The median of the per-repetition ratios a->rate[r] / b->rate[r]. The
 * repetitions are interleaved, so repetition r of a and of b ran seconds
 * apart: a slow or fast spell of the machine that lasts longer than that
 * cancels out of each ratio, where it can move a ratio of medians (whose
 * two medians may come from different spells). NAN when missing.
 */
static double
paired_ratio(const point *a, const point *b)
{
	double r[MAX_REPS];
	uint32_t n = 0;

	if (!a || !b)
		return NAN;
	for (uint32_t i = 0; i < a->n && i < b->n; i++)
		if (b->rate[i] > 0)
			r[n++] = a->rate[i] / b->rate[i];
	return n ? bench_median(r, n) : NAN;
}

/*
 * The write path a point ran with: "direct", "wK" (windows of K steps),
 * or for auto the median share of steps in windows and the median of the
 * repetitions' mean window over those steps, e.g. "w4096 98%"; "-" for
 * the baselines.
 */
static void
path_str(char *buf, size_t n, const point *pt)
{
	double share;
	uint32_t w[MAX_REPS];

	switch (pt->kind) {
	case K_AUTO:
		share = bench_median(pt->windowed, pt->n);
		if (share < 0.005) {
			snprintf(buf, n, "direct");
			break;
		}
		for (uint32_t i = 0; i < pt->n; i++)
			w[i] = pt->window[i];
		/* The median window: a small insertion sort. */
		for (uint32_t i = 1; i < pt->n; i++)
			for (uint32_t j = i; j > 0 && w[j - 1] > w[j]; j--) {
				uint32_t x = w[j];

				w[j] = w[j - 1];
				w[j - 1] = x;
			}
		snprintf(buf, n, "w%u %.0f%%", pt->n ? w[pt->n / 2] : 0,
			 share * 100);
		break;
	case K_SYNC:
		snprintf(buf, n, "w%u", pt->window[0]);
		break;
	case K_PRIVATE:
	case K_HAND:
		snprintf(buf, n, "-");
		break;
	default:
		snprintf(buf, n, "direct");
		break;
	}
}

/*
 * The table of one environment, as text (md false) or markdown. Speedup
 * is over one thread of the same kind; efficiency is speedup / P; "vs
 * hand" is the point's throughput over the one-thread hand loop's.
 */
static void
report_env(FILE *f, bool md, const bench_env *be, const point *pts, int n)
{
	const point *hand1 = find_point(pts, n, K_HAND, 1);

	if (md) {
		fprintf(f,
			"\n**%s** (%" PRIu64 " steps per point; %u x %u "
			"= %" PRIu64 " entries)\n\n",
			be->spec, be->steps, be->info.n_states,
			be->info.n_actions,
			(uint64_t)be->info.n_states * be->info.n_actions);
		fprintf(f, "| mode | P | steps/s (median) | min-max | speedup "
			   "| paired | efficiency | CAS retries/step | vs hand "
			   "| paired | redone | path |\n");
		fprintf(f,
			"|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|\n");
	} else {
		fprintf(f,
			"\n%s: %" PRIu64 " steps per point, %u x %u "
			"entries\n",
			be->spec, be->steps, be->info.n_states,
			be->info.n_actions);
		fprintf(f,
			"%-8s %4s %12s %19s %8s %7s %6s %12s %8s %7s %6s "
			"%s\n",
			"mode", "P", "steps/s", "min-max", "speedup", "paired",
			"eff", "retries/step", "vs hand", "paired", "redone",
			"path");
	}
	for (int i = 0; i < n; i++) {
		const point *pt = &pts[i];
		const point *one = find_point(pts, n, pt->kind, 1);
		double sp = ratio(pt, one);
		char s_sp[32], s_pp[32], s_eff[32], s_vs[32], s_pv[32];
		char s_rr[32], s_range[64], s_path[48];

		bench_fmt_ratio(s_sp, sizeof(s_sp), sp, "x");
		bench_fmt_ratio(s_pp, sizeof(s_pp), paired_ratio(pt, one), "x");
		if (isnan(sp))
			snprintf(s_eff, sizeof(s_eff), "-");
		else
			snprintf(s_eff, sizeof(s_eff), "%.0f%%",
				 sp / pt->threads * 100);
		bench_fmt_ratio(s_vs, sizeof(s_vs), ratio(pt, hand1), "");
		bench_fmt_ratio(s_pv, sizeof(s_pv), paired_ratio(pt, hand1),
				"");
		path_str(s_path, sizeof(s_path), pt);
		if (pt->kind == K_AUTO || pt->kind == K_CAS ||
		    pt->kind == K_CASPAD || pt->kind == K_SYNC ||
		    pt->kind == K_PRIVATE)
			snprintf(s_rr, sizeof(s_rr), "%.2e", pt->med_rpstep);
		else
			snprintf(s_rr, sizeof(s_rr), "-");
		snprintf(s_range, sizeof(s_range), "%.3g-%.3g", pt->lo, pt->hi);
		if (md)
			fprintf(
			    f,
			    "| %s | %u | %.3g | %s | %s | %s | %s | %s | %s "
			    "| %s | %u | %s |\n",
			    kind_name(pt->kind), pt->threads, pt->med, s_range,
			    s_sp, s_pp, s_eff, s_rr, s_vs, s_pv, pt->redone,
			    s_path);
		else
			fprintf(f,
				"%-8s %4u %12.4g %19s %8s %7s %6s %12s %8s "
				"%7s %6u %s\n",
				kind_name(pt->kind), pt->threads, pt->med,
				s_range, s_sp, s_pp, s_eff, s_rr, s_vs, s_pv,
				pt->redone, s_path);
	}
}

static void
summary_rows(FILE *f, const bench_env *be, const point *pts, int n)
{
	const point *hand1 = find_point(pts, n, K_HAND, 1);

	for (int i = 0; i < n; i++) {
		const point *pt = &pts[i];
		const point *one = find_point(pts, n, pt->kind, 1);
		double sp = ratio(pt, one);

		char s_path[48];

		path_str(s_path, sizeof(s_path), pt);
		fprintf(f,
			"%s,%s,%u,%" PRIu64 ",%.6g,%.6g,%.6g,%.4f,%.4f,"
			"%.4g,%.4f,%.4f,%.4f,%s\n",
			be->label, kind_name(pt->kind), pt->threads, be->steps,
			pt->med, pt->lo, pt->hi, sp, sp / pt->threads,
			pt->med_rpstep, ratio(pt, hand1), paired_ratio(pt, one),
			paired_ratio(pt, hand1), s_path);
	}
}

/* ------------------------------------------------------------------------ */

/*
 * One repetition of one point. A try during which the benchmark's threads
 * got less than o->min_share of their cores (other programs ran) is
 * written to the CSV as not kept and tried again, up to o->attempts
 * times; the last try is kept whatever its share, so that a busy machine
 * slows the sweep down by a bounded factor and is visible in the CSV.
 */
static int
measure(const bench_env *be, const opts *o, FILE *csv, point *pt, uint32_t rep)
{
	for (uint32_t a = 1;; a++) {
		sample sm;
		double share;
		bool keep;
		int err = run_point(be, o, pt->kind, pt->threads, be->steps,
				    o->seed + rep, &sm);

		if (err)
			return err;
		share = bench_share(sm.cpu, sm.seconds, pt->threads);
		keep = !(share < o->min_share) || a >= o->attempts;
		if (csv)
			fprintf(csv,
				"%s,%s,%u,%u,%" PRIu64 ",%.6f,%.6g,%" PRIu64
				",%.4g,%" PRIu64 ",%.3f,%s,%.4f,%u\n",
				be->label, kind_name(pt->kind), pt->threads,
				rep, sm.steps, sm.seconds,
				(double)sm.steps / sm.seconds, sm.retries,
				(double)sm.retries / (double)sm.steps,
				sm.episodes, share, keep ? "yes" : "no",
				sm.windowed, sm.window);
		if (!keep) {
			pt->redone++;
			continue;
		}
		pt->rate[pt->n] = (double)sm.steps / sm.seconds;
		pt->rpstep[pt->n] = (double)sm.retries / (double)sm.steps;
		pt->windowed[pt->n] = sm.windowed;
		pt->window[pt->n] = sm.window;
		pt->n++;
		return 0;
	}
}

/*
 * Measure one environment: every kind at every thread count, the
 * repetitions interleaved. Raw rows go to `csv` as they are measured.
 */
static int
bench_one(bench_env *be, const opts *o, FILE *csv, point *pts, int *n_pts)
{
	int n = 0, err;

	for (int k = 0; k < K_N; k++) {
		if (!o->kinds[k])
			continue;
		if (k == K_SYNC &&
		    (uint64_t)be->info.n_states * be->info.n_actions >
			DQ_REPLICA_MAX_ENTRIES) {
			fprintf(stderr,
				"throughput: %s: too large for replicas, "
				"no %s points\n",
				be->spec, kind_name(k));
			continue;
		}
		for (int i = 0; i < o->n_threads; i++) {
			memset(&pts[n], 0, sizeof(pts[n]));
			pts[n].kind = k;
			pts[n].threads = o->threads[i];
			n++;
		}
	}
	if ((err = calibrate(be, o)))
		return err;
	for (uint32_t rep = 0; rep < o->reps; rep++) {
		for (int i = 0; i < n; i++) {
			point *pt = &pts[i];

			if (!o->quiet)
				fprintf(stderr, "\r%s: rep %u/%u %-8s P=%-4u",
					be->spec, rep + 1, o->reps,
					kind_name(pt->kind), pt->threads);
			err = measure(be, o, csv, pt, rep);
			if (err) {
				fprintf(stderr, "\n%s %s P=%u: %s\n", be->spec,
					kind_name(pt->kind), pt->threads,
					dq_strerror(err));
				return err;
			}
		}
	}
	if (!o->quiet)
		fprintf(stderr, "\r%60s\r", "");
	for (int i = 0; i < n; i++)
		summarise(&pts[i]);
	*n_pts = n;
	return 0;
}

int
main(int argc, char **argv)
{
	static point pts[MAX_ENVS][K_N * BENCH_MAX_LIST];
	static bench_env envs[MAX_ENVS];
	int n_pts[MAX_ENVS] = {0};
	FILE *csv = NULL, *sum = NULL, *md = NULL;
	double t0 = bench_now();
	int ret = 0;
	opts o;

	parse_opts(argc, argv, &o);
	for (int e = 0; e < o.n_envs; e++) {
		bench_env *be = &envs[e];
		int err;

		be->spec = o.envs[e];
		bench_label(be->spec, be->label, sizeof(be->label));
		if ((err = dq_env_open_name(&be->env, be->spec)) ||
		    (err = hand_open(be))) {
			fprintf(stderr, "throughput: %s: %s\n", be->spec,
				dq_strerror(err));
			dq_env_close(be->env);
			return err == -ENOENT || err == -EINVAL ? 2 : 1;
		}
		dq_env_spec_get(be->env, &be->info);
	}
	if (o.csv && !(csv = bench_fopen(o.csv)))
		return 1;
	if (csv)
		fprintf(csv, "env,mode,threads,rep,steps,seconds,steps_per_s,"
			     "cas_retries,retries_per_step,episodes,cpu_share,"
			     "kept,windowed,window\n");

	bench_print_header(stdout, "throughput");
	printf("# alpha %g gamma %g epsilon %g q0 %g, %u reps (a rep whose "
	       "threads got under %.0f%% of their cores is redone, %u tries at "
	       "most), pin %s%s",
	       o.alpha, o.gamma, o.epsilon, o.q0, o.reps, o.min_share * 100,
	       o.attempts, o.pin == DQ_PIN_CORES ? "cores" : "none",
	       o.pad ? ", rows padded to cache lines" : "");
	if (o.stripes)
		printf(", %u stripe%s in locked mode", o.stripes,
		       o.stripes == 1 ? "" : "s");
	printf("\n");
	fflush(stdout);
	for (int e = 0; e < o.n_envs && !ret; e++) {
		if (bench_one(&envs[e], &o, csv, pts[e], &n_pts[e]))
			ret = 1;
		else
			report_env(stdout, false, &envs[e], pts[e], n_pts[e]);
		fflush(stdout);
		if (csv)
			fflush(csv);
	}
	if (!ret && o.summary && (sum = bench_fopen(o.summary))) {
		fprintf(sum, "env,mode,threads,steps,median_steps_per_s,"
			     "min_steps_per_s,max_steps_per_s,speedup,"
			     "efficiency,retries_per_step,vs_hand,"
			     "paired_speedup,paired_vs_hand,path\n");
		for (int e = 0; e < o.n_envs; e++)
			summary_rows(sum, &envs[e], pts[e], n_pts[e]);
	}
	if (!ret && o.markdown && (md = bench_fopen(o.markdown))) {
		for (int e = 0; e < o.n_envs; e++)
			report_env(md, true, &envs[e], pts[e], n_pts[e]);
	}
	if (!bench_fclose(csv, o.csv) || !bench_fclose(sum, o.summary) ||
	    !bench_fclose(md, o.markdown) || (o.summary && !sum) ||
	    (o.markdown && !md))
		ret = 1;
	for (int e = 0; e < o.n_envs; e++) {
		hand_close(&envs[e]);
		dq_env_close(envs[e].env);
	}
	printf("\n# throughput: %.1f s in all\n", bench_now() - t0);
	return ret;
}
