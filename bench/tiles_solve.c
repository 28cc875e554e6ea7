/*
 * Continuous control solved with tile coding (issue 15, item 4): train a
 * tile-coded learner on ENV with the threshold as the stop, the greedy
 * mean return over 100 evaluation episodes, for several seeds, and print
 * one line per seed (steps, episodes, wall time) and a summary.
 *
 *	tiles_solve ENV [seeds [threads [budget_s [tiles [key=value...]]]]]
 *
 * ENV is cartpole, mountaincar or acrobot (Gymnasium's thresholds 475,
 * -110, -100); tiles "" for the default coder of ENV; keys: alpha=,
 * epsilon=, gamma=, q0=, check= (steps between evaluations), rule=,
 * and for the rules beyond one step nstep=, lambda=, trace= (accumulating
 * or replacing), trace_max=; steps= stops a seed at that many steps too
 * (a budget that does not depend on the machine's load).
 * The evaluation is this program's own, through the public API: greedy
 * (ties to the lowest action), on fresh instances seeded apart from
 * training, episodes cut at the environment's limit. Training pauses for
 * it (the learner runs in slices of `check` steps), so the wall time
 * counts learning only and the step count is exact to a slice.
 *
 * Public API only (dq_tiles_*, dq_learner_*).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "distq.h"

typedef struct task {
	const char *env;
	double threshold;
	const char *tiles;
	double alpha, epsilon, gamma, q0;
	uint64_t check;
	const char *rule;
} task;

/* Defaults per environment (docs/seeds.md, "Continuous control"); the
 * coder, alpha, epsilon and gamma are dq_tiles_tuned()'s, set in main(). */
static const task tasks[] = {
    {"cartpole", 475.0, NULL, 0, 0, 0, 0.0, 20000, "q"},
    {"mountaincar", -110.0, NULL, 0, 0, 0, 0.0, 20000, "q"},
    {"acrobot", -100.0, NULL, 0, 0, 0, 0.0, 20000, "q"},
};

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Greedy mean return over n episodes from instances of env. */
static double
greedy_mean(dq_env *env, const dq_tiles *tc, const dq_table *t, int n,
	    uint64_t seed)
{
	dq_env_instance *in;
	dq_env_spec spec;
	dq_rng rng;
	double sum = 0.0, obs[DQ_OBS_MAX_DIM], q[16];

	dq_env_spec_get(env, &spec);
	if (dq_env_instance_create(env, &in) || dq_rng_seed(&rng, seed, 0))
		return NAN;
	for (int e = 0; e < n; e++) {
		uint32_t s, len = 0;
		dq_step st = {0};

		dq_env_instance_reset(in, &rng, &s);
		do {
			uint32_t a = 0;

			dq_env_instance_observe(in, obs, DQ_OBS_MAX_DIM);
			dq_tiles_values(tc, t, obs, q, 16);
			for (uint32_t b = 1; b < spec.n_actions; b++)
				if (q[b] > q[a])
					a = b;
			dq_env_instance_step(in, a, &rng, &st);
			sum += st.reward;
			len++;
		} while (!st.terminated && !st.truncated &&
			 len != spec.max_episode_steps);
	}
	dq_env_instance_destroy(in);
	return sum / n;
}

int
main(int argc, char **argv)
{
	task tk;
	const task *def = NULL;
	int seeds = argc > 2 ? atoi(argv[2]) : 10;
	uint32_t threads = argc > 3 ? (uint32_t)atoi(argv[3]) : 2;
	double budget = argc > 4 ? atof(argv[4]) : 60.0;
	int solved = 0;
	double t_all = now();
	dq_agent_config ac; /* nstep, lambda, trace, trace_max */
	uint64_t max_steps = UINT64_MAX;

	for (size_t i = 0; argc > 1 && i < sizeof(tasks) / sizeof(*tasks); i++)
		if (!strcmp(argv[1], tasks[i].env))
			def = &tasks[i];
	if (!def) {
		fprintf(stderr, "usage: tiles_solve cartpole|mountaincar|"
				"acrobot [seeds [threads [budget_s [tiles "
				"[key=value...]]]]]\n");
		return 2;
	}
	tk = *def;
	dq_tiles_tuned(tk.env, &tk.tiles, &tk.alpha, &tk.epsilon, &tk.gamma);
	dq_agent_config_init(&ac);
	if (argc > 5 && argv[5][0])
		tk.tiles = argv[5];
	for (int i = 6; i < argc; i++) {
		const char *eq = strchr(argv[i], '=');
		double v = eq ? atof(eq + 1) : 0.0;

		if (!strncmp(argv[i], "alpha=", 6))
			tk.alpha = v;
		else if (!strncmp(argv[i], "epsilon=", 8))
			tk.epsilon = v;
		else if (!strncmp(argv[i], "gamma=", 6))
			tk.gamma = v;
		else if (!strncmp(argv[i], "q0=", 3))
			tk.q0 = v;
		else if (!strncmp(argv[i], "check=", 6))
			tk.check = (uint64_t)v;
		else if (!strncmp(argv[i], "rule=", 5))
			tk.rule = eq + 1;
		else if (!strncmp(argv[i], "nstep=", 6))
			ac.nstep = (uint32_t)v;
		else if (!strncmp(argv[i], "lambda=", 7))
			ac.lambda = v;
		else if (!strncmp(argv[i], "trace=", 6))
			ac.trace = !strcmp(eq + 1, "replacing")
				       ? DQ_TRACE_REPLACING
				       : DQ_TRACE_ACCUMULATING;
		else if (!strncmp(argv[i], "trace_max=", 10))
			ac.trace_max = (uint32_t)v;
		else if (!strncmp(argv[i], "steps=", 6))
			max_steps = (uint64_t)v;
	}
	printf("# %s tiles %s alpha %g epsilon %g gamma %g q0 %g rule %s, "
	       "%u threads, threshold %g over 100 greedy episodes, budget "
	       "%g s\n",
	       tk.env, tk.tiles, tk.alpha, tk.epsilon, tk.gamma, tk.q0, tk.rule,
	       threads, tk.threshold, budget);
	printf("# seed solved steps episodes seconds last_eval\n");
	for (int seed = 1; seed <= seeds; seed++) {
		dq_env *env;
		dq_tiles_config tcfg;
		dq_tiles *tc;
		dq_table_config tbc;
		dq_table *t;
		dq_learner_config lc;
		dq_learner *l;
		dq_run_result res = {0};
		uint32_t rows;
		double secs = 0.0, eval = NAN;
		bool ok = false;
		int err;

		if ((err = dq_env_open_name(&env, tk.env)) ||
		    (err = dq_tiles_config_init(&tcfg)) ||
		    (err = dq_tiles_config_from_env(&tcfg, env, tk.tiles)) ||
		    (err = dq_tiles_create(&tc, &tcfg)) ||
		    (err = dq_tiles_features(tc, &rows))) {
			fprintf(stderr, "tiles_solve: %s (%s)\n",
				dq_strerror(err), dq_error_detail());
			return 1;
		}
		dq_table_config_init(&tbc);
		tbc.n_states = rows;
		tbc.n_actions = 0;
		{
			dq_env_spec sp;

			dq_env_spec_get(env, &sp);
			tbc.n_actions = sp.n_actions;
		}
		tbc.q0 = tk.q0 / tcfg.n_tilings;
		if ((err = dq_table_create(&t, &tbc)))
			return 1;
		dq_learner_config_init(&lc);
		lc.n_threads = threads;
		lc.pin = DQ_PIN_NONE;
		lc.agent.seed = (uint64_t)seed;
		lc.agent.gamma = tk.gamma;
		lc.agent.alpha.start = lc.agent.alpha.end = tk.alpha;
		lc.agent.epsilon.start = lc.agent.epsilon.end = tk.epsilon;
		dq_rule_from_name(tk.rule, &lc.agent.rule);
		lc.agent.nstep = ac.nstep;
		lc.agent.lambda = ac.lambda;
		lc.agent.trace = ac.trace;
		lc.agent.trace_max = ac.trace_max;
		lc.agent.tiles = tc;
		lc.max_steps = tk.check;
		if ((err = dq_learner_create(&l, t, env, &lc))) {
			fprintf(stderr, "tiles_solve: learner: %s (%s)\n",
				dq_strerror(err), dq_error_detail());
			return 1;
		}
		while (secs < budget && res.total.steps < max_steps) {
			if ((err = dq_learner_run(l, &res)))
				break;
			secs += res.seconds;
			eval = greedy_mean(env, tc, t, 100,
					   1000003u * (uint64_t)seed);
			if (eval >= tk.threshold) {
				ok = true;
				break;
			}
		}
		solved += ok;
		printf("%d %d %llu %llu %.2f %.1f\n", seed, ok,
		       (unsigned long long)res.total.steps,
		       (unsigned long long)res.total.episodes, secs, eval);
		fflush(stdout);
		dq_learner_destroy(l);
		dq_table_destroy(t);
		dq_tiles_destroy(tc);
		dq_env_close(env);
	}
	printf("# solved %d of %d seeds; the whole run took %.1f s\n", solved,
	       seeds, now() - t_all);
	return 0;
}
