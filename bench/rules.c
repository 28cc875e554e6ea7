/*
 * bench/rules.c - what each learning rule costs and how fast it learns
 * (make bench-rules): for every rule the library knows (dq_rule_name(r)
 * for r = 0, 1, ... until NULL, so that a new rule appears here without
 * an edit), on taxi and frozenlake8x8:
 *
 *  - steps/s at 1 and 2 threads: a fixed number of steps per point, the
 *    library's defaults (cas table, automatic write path, pinned to
 *    cores), the median of --reps runs;
 *  - steps and wall time to the exact optimum: the learner's target check
 *    (target_fraction 1: the greedy policy optimal from every start state,
 *    checked against value iteration) stops the run; the median over
 *    --seeds seeds at each thread count, a run that does not get there
 *    within --max-steps steps (all threads; or --max-seconds, a safety
 *    net) counting as infinitely long (the column "got" says how many
 *    did). The cap is in steps so that what reaches the optimum does not
 *    depend on the machine's load.
 *
 * Exploration: constant epsilon 0.1 for the off-policy rules; the
 * on-policy ones (sarsa, expected-sarsa) learn the epsilon-soft optimum
 * under a constant epsilon, so theirs decays, 0.3 -> 0 with time constant
 * 5e5 steps (GLIE), as in tests/test_rules.c. A new rule gets the constant
 * 0.1 unless it is named in on_policy[] below.
 *
 * It prints a markdown table (the one of docs/performance.md, "Rules: cost
 * and speed") and, with --csv FILE, one row per run. Wall times mean
 * something only on a quiet machine; steps do not depend on it (at one
 * thread, for a given seed, the run is the same on any machine).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "distq.h"

#include "bench.h"

#define MAX_RULES 32
#define MAX_SEEDS 101
#define MAX_REPS 21

typedef struct opts {
	const char *envs[8];
	int n_envs;
	uint32_t threads[2];
	int n_threads;
	uint64_t steps; /* per throughput point */
	int reps;
	int seeds;
	double max_seconds;
	uint64_t max_steps; /* per time-to-optimum run */
	double interval;    /* target check interval, s */
	const char *csv;
} opts;

/* The rules whose epsilon decays (see the top of the file). */
static const char *const on_policy[] = {"sarsa", "expected-sarsa"};

static bool
is_on_policy(const char *rule)
{
	for (size_t i = 0; i < sizeof(on_policy) / sizeof(on_policy[0]); i++)
		if (!strcmp(on_policy[i], rule))
			return true;
	return false;
}

static void
usage(FILE *f)
{
	fprintf(f,
		"usage: rules [options] [ENV...]\n"
		"  --steps N        steps per throughput point (default 2M)\n"
		"  --reps N         throughput runs per point (default 3)\n"
		"  --seeds N        seeds per time-to-optimum point (default "
		"5)\n"
		"  --max-steps N    give a run up to N steps (default 100M)\n"
		"  --max-seconds S  and up to S seconds (default 300)\n"
		"  --threads LIST   thread counts (default 1,2)\n"
		"  --csv FILE       one row per run\n"
		"ENV: built-in environments (default taxi frozenlake8x8)\n");
}

static void
parse(int argc, char **argv, opts *o)
{
	memset(o, 0, sizeof(*o));
	o->threads[0] = 1;
	o->threads[1] = 2;
	o->n_threads = 2;
	o->steps = 2000000;
	o->reps = 3;
	o->seeds = 5;
	o->max_seconds = 300;
	o->max_steps = 100000000;
	o->interval = 0.002;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		uint64_t u;
		bool ok = true;

		if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			usage(stdout);
			exit(0);
		} else if (a[0] != '-') {
			if (o->n_envs == 8)
				ok = false;
			else
				o->envs[o->n_envs++] = a;
			continue;
		} else if (!v) {
			ok = false;
		} else if (!strcmp(a, "--steps")) {
			ok =
			    bench_parse_u64(v, 1000, UINT64_MAX / 4, &o->steps);
		} else if (!strcmp(a, "--reps")) {
			ok = bench_parse_u64(v, 1, MAX_REPS, &u);
			o->reps = (int)u;
		} else if (!strcmp(a, "--seeds")) {
			ok = bench_parse_u64(v, 1, MAX_SEEDS, &u);
			o->seeds = (int)u;
		} else if (!strcmp(a, "--max-steps")) {
			ok = bench_parse_u64(v, 1000, UINT64_MAX / 4,
					     &o->max_steps);
		} else if (!strcmp(a, "--max-seconds")) {
			ok = bench_parse_double(v, 0.01, 1e6, &o->max_seconds);
		} else if (!strcmp(a, "--threads")) {
			o->n_threads = bench_parse_threads(v, o->threads, 2);
			ok = o->n_threads > 0;
		} else if (!strcmp(a, "--csv")) {
			o->csv = v;
		} else {
			ok = false;
		}
		if (!ok) {
			fprintf(stderr, "rules: bad option '%s'\n", a);
			usage(stderr);
			exit(2);
		}
		i++;
	}
	if (!o->n_envs) {
		o->envs[0] = "taxi";
		o->envs[1] = "frozenlake8x8";
		o->n_envs = 2;
	}
}

/* One run of @rule; its result in *r. */
static int
run(const dq_env *env, dq_rule rule, uint32_t p, uint64_t seed, uint64_t steps,
    double target, const opts *o, dq_run_result *r)
{
	dq_learner_config c;
	dq_table_config tc;
	dq_env_spec sp;
	dq_learner *l = NULL;
	dq_table *t = NULL;
	int err;

	dq_env_spec_get(env, &sp);
	dq_table_config_init(&tc);
	tc.n_states = sp.n_states;
	tc.n_actions = sp.n_actions;
	err = dq_rule_channels(rule, &tc.channels);
	if (!err)
		err = dq_table_create(&t, &tc);
	if (err)
		return err;
	dq_learner_config_init(&c);
	c.n_threads = p;
	c.agent.rule = rule;
	c.agent.seed = seed;
	if (is_on_policy(dq_rule_name(rule)))
		c.agent.epsilon = (dq_schedule){.kind = DQ_SCHEDULE_EXP,
						.start = 0.3,
						.end = 0.0,
						.steps = 5e5};
	c.max_steps = steps;
	if (target > 0) {
		c.target_fraction = target;
		c.target_interval = o->interval;
		c.max_seconds = o->max_seconds;
	}
	err = dq_learner_create(&l, t, env, &c);
	if (!err)
		err = dq_learner_run(l, r);
	dq_learner_destroy(l);
	dq_table_destroy(t);
	return err;
}

/* "1.23M" */
static void
fmt_si(char *buf, size_t n, double v)
{
	if (!isfinite(v))
		snprintf(buf, n, "-");
	else if (v >= 1e9)
		snprintf(buf, n, "%.2fG", v / 1e9);
	else if (v >= 1e6)
		snprintf(buf, n, "%.2fM", v / 1e6);
	else if (v >= 1e3)
		snprintf(buf, n, "%.1fk", v / 1e3);
	else
		snprintf(buf, n, "%.0f", v);
}

int
main(int argc, char **argv)
{
	FILE *csv = NULL;
	double t0 = bench_now();
	const char *name;
	opts o;
	int err = 0;

	parse(argc, argv, &o);
	if (o.csv) {
		csv = bench_fopen(o.csv);
		if (!csv)
			return 1;
		fprintf(csv, "env,rule,threads,kind,seed,steps,seconds,"
			     "steps_per_s,reached\n");
	}
	bench_print_header(stdout, "rules");
	printf("# throughput: %llu steps per point, median of %d; time to "
	       "the optimum: median of %d seeds, at most %llu steps (and %g "
	       "s) each; cas, automatic write path, pinned\n\n",
	       (unsigned long long)o.steps, o.reps, o.seeds,
	       (unsigned long long)o.max_steps, o.max_seconds);
	printf("| env | rule |");
	for (int k = 0; k < o.n_threads; k++)
		printf(" steps/s P=%u |", o.threads[k]);
	for (int k = 0; k < o.n_threads; k++)
		printf(" steps to optimum P=%u | time P=%u | got |",
		       o.threads[k], o.threads[k]);
	printf("\n|---|---|");
	for (int k = 0; k < o.n_threads; k++)
		printf("---:|");
	for (int k = 0; k < o.n_threads; k++)
		printf("---:|---:|---:|");
	printf("\n");
	fflush(stdout);
	for (int e = 0; !err && e < o.n_envs; e++) {
		dq_env *env;

		err = dq_env_open_name(&env, o.envs[e]);
		if (err) {
			fprintf(stderr, "rules: %s: %s\n", o.envs[e],
				dq_strerror(err));
			break;
		}
		for (int ri = 0; !err && (name = dq_rule_name((dq_rule)ri));
		     ri++) {
			const dq_rule rule = (dq_rule)ri;
			char cell[64];

			printf("| %s | %s |", o.envs[e], name);
			for (int k = 0; !err && k < o.n_threads; k++) {
				double sps[MAX_REPS];

				for (int rep = 0; !err && rep < o.reps; rep++) {
					dq_run_result r;

					err = run(env, rule, o.threads[k],
						  1 + (uint64_t)rep, o.steps, 0,
						  &o, &r);
					sps[rep] = err || r.seconds <= 0
						       ? NAN
						       : (double)r.run_steps /
							     r.seconds;
					if (csv && !err)
						fprintf(csv,
							"%s,%s,%u,throughput,"
							"%d,%llu,%.6f,%.0f,\n",
							o.envs[e], name,
							o.threads[k], 1 + rep,
							(unsigned long long)
							    r.run_steps,
							r.seconds, sps[rep]);
				}
				fmt_si(cell, sizeof(cell),
				       bench_median(sps, (size_t)o.reps));
				printf(" %s |", cell);
			}
			for (int k = 0; !err && k < o.n_threads; k++) {
				double st[MAX_SEEDS], sec[MAX_SEEDS];
				int got = 0;

				for (int s = 0; !err && s < o.seeds; s++) {
					dq_run_result r;
					bool ok;

					err = run(env, rule, o.threads[k],
						  101 + (uint64_t)s,
						  o.max_steps, 1.0, &o, &r);
					ok = !err && r.reason == DQ_STOP_TARGET;
					got += ok;
					st[s] = ok ? (double)r.target_steps
						   : INFINITY;
					sec[s] =
					    ok ? r.target_seconds : INFINITY;
					if (csv && !err)
						fprintf(
						    csv,
						    "%s,%s,%u,optimum,%d,"
						    "%llu,%.6f,,%d\n",
						    o.envs[e], name,
						    o.threads[k], 101 + s,
						    (unsigned long long)(ok ? r.target_steps
									    : r.total
										  .steps),
						    ok ? r.target_seconds
						       : r.seconds,
						    ok);
				}
				fmt_si(cell, sizeof(cell),
				       bench_median(st, (size_t)o.seeds));
				printf(" %s |", cell);
				if (isfinite(
					bench_median(sec, (size_t)o.seeds)))
					printf(
					    " %.3f s |",
					    bench_median(sec, (size_t)o.seeds));
				else
					printf(" - |");
				printf(" %d/%d |", got, o.seeds);
			}
			printf("\n");
			fflush(stdout);
		}
		dq_env_close(env);
	}
	if (err)
		fprintf(stderr, "rules: %s\n", dq_strerror(err));
	printf("\n# %.0f s in all\n", bench_now() - t0);
	if (csv && !bench_fclose(csv, o.csv))
		return 1;
	return err ? 1 : 0;
}
