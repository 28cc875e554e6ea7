/*
 * time_to_optimal: wall time and total steps until the learnt greedy
 * policy is optimal from at least 99% of the start-state probability, for
 * each thread count: what parallel agents buy in time, and what they cost
 * in samples (updates racing on one table, stale reads).
 *
 * The library does the measuring: dq_learner_config.target_fraction
 * makes one of the agents check the greedy policy against the exact
 * solution every target_interval seconds (between chunks of its loop) and
 * stop the run with DQ_STOP_TARGET, recording when and after how many
 * steps. Every run has a wall-clock backstop; a run that hits it counts as
 * a failure (infinite time) in the medians and is reported.
 *
 * The same seeds are used at every thread count, so the comparison at P
 * and at one thread is over the same set of base seeds.
 *
 * usage: time_to_optimal [options] [ENV...]   (time_to_optimal --help)
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <unistd.h>

#include "bench.h"

#define MAX_ENVS 32
#define MAX_SEEDS 256
#define MAX_MODES 5
#define M_SYNC 3
#define M_AUTO 4

/* Modes as options and CSV files spell them; "sync" (replica mode on a
 * cas table) is shown with its K (mode_name()). */
static const char *const mode_names[MAX_MODES] = {"cas", "hogwild", "locked",
						  "sync", "auto"};
static char sync_name[32] = "sync";

static const char *
mode_name(int m)
{
	return m == M_SYNC ? sync_name : mode_names[m];
}

static const dq_mode mode_values[MAX_MODES] = {
    DQ_MODE_CAS, DQ_MODE_HOGWILD, DQ_MODE_LOCKED, DQ_MODE_CAS, DQ_MODE_CAS};

static const char *const default_envs[] = {
    "taxi", "maze4x3", "frozenlake4x4", "frozenlake8x8", NULL,
};

typedef struct opts {
	const char *envs[MAX_ENVS];
	int n_envs;
	uint32_t threads[BENCH_MAX_LIST];
	int n_threads;
	bool modes[MAX_MODES];
	uint32_t seeds;
	uint32_t sync;	  /* sync_every of the replica mode, 0 = not measured */
	double min_share; /* repeat a run that got less of its cores */
	uint32_t attempts; /* at most this many tries per run */
	uint64_t seed;
	double alpha, gamma, epsilon, q0;
	double fraction, interval, max_seconds;
	dq_pin_policy pin;
	const char *csv, *summary, *markdown;
	bool quiet;
} opts;

/* One point: an environment, a mode and a thread count, over seeds. */
typedef struct point {
	int mode;
	uint32_t threads;
	double secs[MAX_SEEDS];	    /* INFINITY for a failed run */
	double steps[MAX_SEEDS];    /* INFINITY for a failed run */
	double windowed[MAX_SEEDS]; /* share of steps in windows */
	double window[MAX_SEEDS];   /* mean window over those steps */
	double start[MAX_SEEDS];    /* wall seconds of a one-step run */
	uint32_t n, failed;
	uint32_t redone; /* tries discarded for a low CPU share */
	double med_secs, med_steps;
	double med_windowed, med_window, delay;
	/* The run's fixed cost: a run of one step per agent. */
	double med_start;
} point;

static void
usage(FILE *f)
{
	fprintf(
	    f,
	    "usage: time_to_optimal [options] [ENV...]\n"
	    "  ENV                built-in environment with a model (default:"
	    "\n"
	    "                     taxi maze4x3 frozenlake4x4 frozenlake8x8)"
	    "\n"
	    "  --threads LIST     thread counts, e.g. 1,2 (default 1,2,4,..."
	    " up to\n"
	    "                     the core count)\n"
	    "  --modes LIST       of auto,cas,hogwild,locked,sync (default\n"
	    "                     auto: a cas table with the library's\n"
	    "                     default, automatic write path; the others\n"
	    "                     update directly)\n"
	    "  --sync K           also measure replica mode: cas table, each\n"
	    "                     agent writes its updates back every K steps\n"
	    "                     (dq_agent_config.sync_every); shown as "
	    "syncK\n"
	    "  --seeds N          runs per point, median reported (5)\n"
	    "  --seed N           first base seed (1); run i uses N + i\n"
	    "  --min-share F      redo a run whose threads got less than F of\n"
	    "                     their cores (0.75; 0 = never)\n"
	    "  --attempts N       tries per run at most (3)\n"
	    "  --alpha A --gamma G --epsilon E --q0 Q   (0.1 0.99 0.1 0)\n"
	    "  --fraction F       target optimal fraction of the start "
	    "states (0.99)\n"
	    "  --interval S       seconds between checks (0.0005)\n"
	    "  --max-seconds S    backstop per run; hitting it is a failure "
	    "(30)\n"
	    "  --pin cores|none   placement of agent threads (cores)\n"
	    "  --csv FILE         raw rows, one per run\n"
	    "  --summary FILE     one row per point (medians), for plots\n"
	    "  --markdown FILE    the summary table in markdown\n"
	    "  --quiet            no progress on stderr\n");
}

/* Options as the usage message says; exits 2 on anything malformed. */
static void
parse_opts(int argc, char **argv, opts *o)
{
	enum {
		O_THREADS = 256,
		O_MODES,
		O_SEEDS,
		O_SEED,
		O_SHARE,
		O_ATTEMPTS,
		O_ALPHA,
		O_GAMMA,
		O_EPS,
		O_Q0,
		O_FRACTION,
		O_INTERVAL,
		O_MAXSEC,
		O_PIN,
		O_SYNC,
		O_CSV,
		O_SUMMARY,
		O_MD,
		O_QUIET,
		O_HELP
	};
	static const struct option lo[] = {
	    {"threads", required_argument, NULL, O_THREADS},
	    {"modes", required_argument, NULL, O_MODES},
	    {"seeds", required_argument, NULL, O_SEEDS},
	    {"seed", required_argument, NULL, O_SEED},
	    {"min-share", required_argument, NULL, O_SHARE},
	    {"attempts", required_argument, NULL, O_ATTEMPTS},
	    {"alpha", required_argument, NULL, O_ALPHA},
	    {"gamma", required_argument, NULL, O_GAMMA},
	    {"epsilon", required_argument, NULL, O_EPS},
	    {"q0", required_argument, NULL, O_Q0},
	    {"fraction", required_argument, NULL, O_FRACTION},
	    {"interval", required_argument, NULL, O_INTERVAL},
	    {"max-seconds", required_argument, NULL, O_MAXSEC},
	    {"pin", required_argument, NULL, O_PIN},
	    {"sync", required_argument, NULL, O_SYNC},
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
	o->modes[M_AUTO] = true;
	o->seeds = 5;
	/* Runs of a few milliseconds lose some of their share to thread
	 * start-up and to the target checks even on an idle machine
	 * (about 0.9 measured on taxi), so the bar is lower than for the
	 * throughput runs; it still catches a core taken by another job. */
	o->min_share = 0.75;
	o->attempts = 3;
	o->seed = 1;
	o->alpha = 0.1;
	o->gamma = 0.99;
	o->epsilon = 0.1;
	o->fraction = 0.99;
	o->interval = 0.0005;
	o->max_seconds = 30;
	o->pin = DQ_PIN_CORES;
	while (ok && (c = getopt_long(argc, argv, "", lo, &idx)) != -1) {
		switch (c) {
		case O_THREADS:
			o->n_threads = bench_parse_threads(optarg, o->threads,
							   BENCH_MAX_LIST);
			ok = o->n_threads > 0;
			break;
		case O_MODES:
			ok = bench_parse_names(optarg, mode_names, MAX_MODES,
					       o->modes);
			break;
		case O_SEEDS:
			ok = bench_parse_u64(optarg, 1, MAX_SEEDS, &v);
			o->seeds = (uint32_t)v;
			break;
		case O_SEED:
			ok = bench_parse_u64(optarg, 0, UINT64_MAX / 2,
					     &o->seed);
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
			/* Below 1: the optimality check assumes discounting. */
			ok = bench_parse_double(optarg, 0, 0.999999, &o->gamma);
			break;
		case O_EPS:
			ok = bench_parse_double(optarg, 0, 1, &o->epsilon);
			break;
		case O_Q0:
			ok = bench_parse_double(optarg, -1e12, 1e12, &o->q0);
			break;
		case O_FRACTION:
			ok = bench_parse_double(optarg, 1e-6, 1, &o->fraction);
			break;
		case O_INTERVAL:
			ok = bench_parse_double(optarg, 1e-5, 60, &o->interval);
			break;
		case O_MAXSEC:
			ok = bench_parse_double(optarg, 0.001, 86400,
						&o->max_seconds);
			break;
		case O_SYNC:
			ok = bench_parse_u64(optarg, 1, 1u << 30, &v);
			o->sync = (uint32_t)v;
			break;
		case O_PIN:
			ok = bench_parse_pin(optarg, &o->pin);
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
		fprintf(stderr, "time_to_optimal: at most %d environments\n",
			MAX_ENVS);
		ok = false;
	}
	if (!ok) {
		/* Codes from 256 are ours: an option whose value is bad. */
		if (c >= 256)
			fprintf(stderr,
				"time_to_optimal: bad value '%s' for --%s\n",
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
		o->modes[M_SYNC] = true;
		snprintf(sync_name, sizeof(sync_name), "sync%u", o->sync);
	} else if (o->modes[M_SYNC]) {
		fprintf(stderr, "time_to_optimal: mode sync needs --sync K\n");
		usage(stderr);
		exit(2);
	}
	/* Progress lines only where someone watches them. */
	if (!isatty(STDERR_FILENO))
		o->quiet = true;
}

/* What one run measured. */
typedef struct run {
	bool reached;
	double secs;	 /* to the target, or the run's length */
	uint64_t steps;	 /* to the target, or the run's total */
	double fraction; /* optimal fraction of the final table */
	double wall;	 /* the whole run */
	double cpu;	 /* process CPU seconds during the run */
	double windowed; /* share of the steps taken in windows */
	uint32_t window; /* mean window over those steps */
	double start;	 /* wall seconds of the same run with one step per
			  * agent and no target: thread creation, pinning,
			  * the first reset, joins */
} run;

/*
 * One learning run from a fresh table until the target or the backstop.
 * The learner solves the model when it is created, so that cost is not in
 * the time measured; the time runs from the start of dq_learner_run(),
 * thread creation and pinning included.
 */
static int
run_once(const dq_env *env, const opts *o, int mode, uint32_t p, uint64_t seed,
	 run *out)
{
	dq_env_spec spec;
	dq_table_config tc;
	dq_learner_config lc;
	dq_table *t = NULL;
	dq_learner *l = NULL;
	dq_run_result r;
	int err;

	dq_env_spec_get(env, &spec);
	dq_table_config_init(&tc);
	tc.n_states = spec.n_states;
	tc.n_actions = spec.n_actions;
	tc.mode = mode_values[mode];
	tc.q0 = o->q0;
	dq_learner_config_init(&lc);
	lc.n_threads = p;
	lc.pin = o->pin;
	lc.max_seconds = o->max_seconds;
	lc.target_fraction = o->fraction;
	lc.target_interval = o->interval;
	lc.progress_interval = 3600.0;
	lc.agent.gamma = o->gamma;
	lc.agent.alpha.start = lc.agent.alpha.end = o->alpha;
	lc.agent.epsilon.start = lc.agent.epsilon.end = o->epsilon;
	lc.agent.seed = seed;
	lc.agent.sync_every = mode == M_SYNC ? o->sync : 0;
	lc.write_path =
	    mode == M_SYNC || mode == M_AUTO ? DQ_WRITE_AUTO : DQ_WRITE_DIRECT;
	if ((err = dq_table_create(&t, &tc)) ||
	    (err = dq_learner_create(&l, t, env, &lc)))
		goto out;
	out->cpu = bench_cpu();
	if ((err = dq_learner_run(l, &r)))
		goto out;
	out->cpu = bench_cpu() - out->cpu;
	out->reached = r.reason == DQ_STOP_TARGET;
	out->secs = out->reached ? r.target_seconds : r.seconds;
	out->steps = out->reached ? r.target_steps : r.total.steps;
	out->fraction = r.target_fraction;
	out->wall = r.seconds;
	bench_write_path(l, p, r.total.steps, &out->windowed, &out->window);
	/* The run's fixed cost, measured on a learner just like it: what a
	 * run that needs under a millisecond (cliffwalking) mostly pays. */
	dq_learner_destroy(l);
	l = NULL;
	lc.target_fraction = 0.0;
	lc.max_steps = p;
	if ((err = dq_learner_create(&l, t, env, &lc)) ||
	    (err = dq_learner_run(l, &r)))
		goto out;
	out->start = r.seconds;
out:
	dq_learner_destroy(l);
	dq_table_destroy(t);
	return err;
}

static const point *
find_point(const point *pts, int n, int mode, uint32_t p)
{
	for (int i = 0; i < n; i++)
		if (pts[i].mode == mode && pts[i].threads == p)
			return &pts[i];
	return NULL;
}

/* A median for a table: "fail" when most runs failed, else `digits`
 * significant digits. */
static void
fmt_value(char *buf, size_t n, double v, int digits)
{
	if (isinf(v))
		snprintf(buf, n, "fail");
	else
		snprintf(buf, n, "%.*g", digits, v);
}

/*
 * The table of one environment, as text or markdown. Time speedup is the
 * one-thread median time over this point's (full times, thread start-up
 * included, as a user pays them; the start-up column is the median of the
 * same runs with one step per agent, shown beside them, not taken out);
 * the steps ratio is this
 * point's median total steps over the one-thread median (sample
 * efficiency: 1.0 means parallel agents waste nothing).
 */
static void
report_env(FILE *f, bool md, const char *env, const point *pts, int n)
{
	if (md) {
		fprintf(f, "\n**%s**\n\n", env);
		fprintf(f, "| mode | P | runs | failed | seconds (median) | "
			   "start-up s (median) | "
			   "steps (median) | time speedup | steps ratio | "
			   "redone | windowed | window | delay |\n");
		fprintf(f, "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|"
			   "--:|\n");
	} else {
		fprintf(f, "\n%s\n", env);
		fprintf(f,
			"%-8s %4s %5s %6s %10s %10s %10s %8s %8s %6s %8s %6s "
			"%8s\n",
			"mode", "P", "runs", "failed", "seconds", "start-up",
			"steps", "speedup", "steps x", "redone", "windowed",
			"window", "delay");
	}
	for (int i = 0; i < n; i++) {
		const point *pt = &pts[i];
		const point *one = find_point(pts, n, pt->mode, 1);
		char s_s[32], s_st[32], s_n[32], s_sp[32], s_r[32];
		double sp = NAN, sr = NAN;

		if (one && isfinite(one->med_secs) && isfinite(pt->med_secs))
			sp = one->med_secs / pt->med_secs;
		if (one && isfinite(one->med_steps) && isfinite(pt->med_steps))
			sr = pt->med_steps / one->med_steps;
		fmt_value(s_s, sizeof(s_s), pt->med_secs, 3);
		fmt_value(s_st, sizeof(s_st), pt->med_start, 3);
		fmt_value(s_n, sizeof(s_n), pt->med_steps, 3);
		bench_fmt_ratio(s_sp, sizeof(s_sp), sp, "x");
		bench_fmt_ratio(s_r, sizeof(s_r), sr, "");
		if (md)
			fprintf(f,
				"| %s | %u | %u | %u | %s | %s | %s | %s | %s "
				"| %u | %.0f%% | %.0f | %.0f |\n",
				mode_name(pt->mode), pt->threads, pt->n,
				pt->failed, s_s, s_st, s_n, s_sp, s_r,
				pt->redone, pt->med_windowed * 100,
				pt->med_window, pt->delay);
		else
			fprintf(f,
				"%-8s %4u %5u %6u %10s %10s %10s %8s %8s %6u "
				"%7.0f%% %6.0f %8.0f\n",
				mode_name(pt->mode), pt->threads, pt->n,
				pt->failed, s_s, s_st, s_n, s_sp, s_r,
				pt->redone, pt->med_windowed * 100,
				pt->med_window, pt->delay);
	}
}

static void
summary_rows(FILE *f, const char *label, const point *pts, int n)
{
	for (int i = 0; i < n; i++) {
		const point *pt = &pts[i];
		const point *one = find_point(pts, n, pt->mode, 1);
		double sp = NAN, sr = NAN;

		if (one && isfinite(one->med_secs) && isfinite(pt->med_secs))
			sp = one->med_secs / pt->med_secs;
		if (one && isfinite(one->med_steps) && isfinite(pt->med_steps))
			sr = pt->med_steps / one->med_steps;
		/* A failed median is written as nan: gnuplot skips it. */
		fprintf(f,
			"%s,%s,%u,%u,%u,%.6g,%.6g,%.4f,%.4f,%.4f,%.0f,%.0f,"
			"%.6g\n",
			label, mode_name(pt->mode), pt->threads, pt->n,
			pt->failed, isfinite(pt->med_secs) ? pt->med_secs : NAN,
			isfinite(pt->med_steps) ? pt->med_steps : NAN, sp, sr,
			pt->med_windowed, pt->med_window, pt->delay,
			pt->med_start);
	}
}

/*
 * One run of one point. As in the throughput benchmark, a try during
 * which the threads got less than o->min_share of their cores is written
 * to the CSV as not kept and run again with the same seed, up to
 * o->attempts times; the last try is kept whatever its share.
 */
static int
measure(const dq_env *env, const char *label, const opts *o, FILE *csv,
	point *pt, uint64_t seed)
{
	for (uint32_t a = 1;; a++) {
		run r;
		double share;
		bool keep;
		int err = run_once(env, o, pt->mode, pt->threads, seed, &r);

		if (err)
			return err;
		share = bench_share(r.cpu, r.wall, pt->threads);
		keep = !(share < o->min_share) || a >= o->attempts;
		if (csv)
			fprintf(csv,
				"%s,%s,%u,%" PRIu64 ",%s,%" PRIu64
				",%.6f,%.6f,%.4f,%.3f,%s,%.4f,%u\n",
				label, mode_name(pt->mode), pt->threads, seed,
				r.reached ? "yes" : "no", r.steps, r.secs,
				r.wall, r.fraction, share, keep ? "yes" : "no",
				r.windowed, r.window);
		if (!keep) {
			pt->redone++;
			continue;
		}
		pt->secs[pt->n] = r.reached ? r.secs : INFINITY;
		pt->steps[pt->n] = r.reached ? (double)r.steps : INFINITY;
		pt->windowed[pt->n] = r.windowed;
		pt->window[pt->n] = r.window;
		pt->start[pt->n] = r.start;
		pt->failed += !r.reached;
		pt->n++;
		return 0;
	}
}

/*
 * Measure one environment: every mode at every thread count for every
 * seed, seeds outermost so that the points share the machine's slow and
 * fast spells alike. Raw rows go to `csv` as they are measured.
 */
static int
bench_one(const char *spec, const char *label, const opts *o, FILE *csv,
	  point *pts, int *n_pts)
{
	dq_env *env;
	int n = 0, err;

	if ((err = dq_env_open_name(&env, spec))) {
		fprintf(stderr, "time_to_optimal: %s: %s\n", spec,
			dq_strerror(err));
		return err;
	}
	for (int m = 0; m < MAX_MODES; m++) {
		if (!o->modes[m])
			continue;
		for (int i = 0; i < o->n_threads; i++) {
			memset(&pts[n], 0, sizeof(pts[n]));
			pts[n].mode = m;
			pts[n].threads = o->threads[i];
			n++;
		}
	}
	for (uint32_t k = 0; k < o->seeds && !err; k++) {
		for (int i = 0; i < n && !err; i++) {
			point *pt = &pts[i];
			uint64_t seed = o->seed + k;

			if (!o->quiet)
				fprintf(stderr, "\r%s: seed %u/%u %-8s P=%-4u",
					spec, k + 1, o->seeds,
					mode_name(pt->mode), pt->threads);
			err = measure(env, label, o, csv, pt, seed);
			if (err) {
				fprintf(stderr, "\n%s %s P=%u: %s\n", spec,
					mode_name(pt->mode), pt->threads,
					dq_strerror(err));
				break;
			}
		}
	}
	if (!o->quiet)
		fprintf(stderr, "\r%60s\r", "");
	dq_env_close(env);
	for (int i = 0; i < n; i++) {
		pts[i].med_secs = bench_median(pts[i].secs, pts[i].n);
		pts[i].med_steps = bench_median(pts[i].steps, pts[i].n);
		pts[i].med_windowed = bench_median(pts[i].windowed, pts[i].n);
		pts[i].med_window = bench_median(pts[i].window, pts[i].n);
		pts[i].med_start = bench_median(pts[i].start, pts[i].n);
		/* Staleness: an update made in a window of W steps reaches
		 * the table (W - 1) / 2 of its agent's steps later on
		 * average, P times as many steps of all agents. */
		pts[i].delay = pts[i].med_window > 0
				   ? pts[i].threads * (pts[i].med_window - 1) /
					 2 * pts[i].med_windowed
				   : 0.0;
	}
	*n_pts = n;
	return err;
}

int
main(int argc, char **argv)
{
	static point pts[MAX_ENVS][MAX_MODES * BENCH_MAX_LIST];
	static char labels[MAX_ENVS][256];
	int n_pts[MAX_ENVS] = {0};
	FILE *csv = NULL, *sum = NULL, *md = NULL;
	double t0 = bench_now();
	int ret = 0;
	opts o;

	parse_opts(argc, argv, &o);
	/* Check every environment before spending minutes on the first. */
	for (int e = 0; e < o.n_envs; e++) {
		dq_env *env;
		dq_env_spec spec;
		int err = dq_env_open_name(&env, o.envs[e]);

		if (!err) {
			dq_env_spec_get(env, &spec);
			err = spec.max_outcomes ? 0 : -ENOTSUP;
			dq_env_close(env);
		}
		if (err) {
			fprintf(stderr, "time_to_optimal: %s: %s%s\n",
				o.envs[e], dq_strerror(err),
				err == -ENOTSUP ? " (no model)" : "");
			return err == -ENOMEM ? 1 : 2;
		}
		bench_label(o.envs[e], labels[e], sizeof(labels[e]));
	}
	if (o.csv && !(csv = bench_fopen(o.csv)))
		return 1;
	if (csv)
		fprintf(csv, "env,mode,threads,seed,reached,steps_to_target,"
			     "seconds_to_target,run_seconds,final_fraction,"
			     "cpu_share,kept,windowed,window\n");

	bench_print_header(stdout, "time_to_optimal");
	printf("# alpha %g gamma %g epsilon %g q0 %g, target %g of start "
	       "states, checked every %g s, backstop %g s, %u seeds (a run "
	       "whose threads got under %.0f%% of their cores is redone, %u "
	       "tries at most), pin %s\n",
	       o.alpha, o.gamma, o.epsilon, o.q0, o.fraction, o.interval,
	       o.max_seconds, o.seeds, o.min_share * 100, o.attempts,
	       o.pin == DQ_PIN_CORES ? "cores" : "none");
	fflush(stdout);
	for (int e = 0; e < o.n_envs && !ret; e++) {
		if (bench_one(o.envs[e], labels[e], &o, csv, pts[e], &n_pts[e]))
			ret = 1;
		else
			report_env(stdout, false, o.envs[e], pts[e], n_pts[e]);
		fflush(stdout);
		if (csv)
			fflush(csv);
	}
	if (!ret && o.summary && (sum = bench_fopen(o.summary))) {
		fprintf(sum, "env,mode,threads,runs,failed,median_seconds,"
			     "median_steps,time_speedup,steps_ratio,windowed,"
			     "window,delay,start_seconds\n");
		for (int e = 0; e < o.n_envs; e++)
			summary_rows(sum, labels[e], pts[e], n_pts[e]);
	}
	if (!ret && o.markdown && (md = bench_fopen(o.markdown))) {
		for (int e = 0; e < o.n_envs; e++)
			report_env(md, true, o.envs[e], pts[e], n_pts[e]);
	}
	if (!bench_fclose(csv, o.csv) || !bench_fclose(sum, o.summary) ||
	    !bench_fclose(md, o.markdown) || (o.summary && !sum) ||
	    (o.markdown && !md))
		ret = 1;
	printf("\n# time_to_optimal: %.1f s in all\n", bench_now() - t0);
	return ret;
}
