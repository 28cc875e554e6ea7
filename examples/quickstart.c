/*
 * quickstart: the smallest complete libdistq program. Opens the built-in
 * Taxi environment, creates one shared Q-table, trains it with one agent
 * thread per core for a fixed number of steps, and prints what was
 * learned. Build it against an installed libdistq with
 *
 *     cc quickstart.c $(pkg-config --cflags --libs distq) -o quickstart
 */
#include <stdio.h>

#include <distq.h>

static int
fail(const char *what, int err)
{
	fprintf(stderr, "quickstart: %s: %s\n", what, dq_strerror(err));
	return 1;
}

int
main(void)
{
	dq_env *env = NULL;
	dq_table *table = NULL;
	dq_learner *learner = NULL;
	dq_env_spec spec;
	dq_table_config tc;
	dq_learner_config lc;
	dq_run_result res;
	int err, rc = 1;

	err = dq_env_open_name(&env, "taxi");
	if (err)
		return fail("open taxi", err);
	dq_env_spec_get(env, &spec);

	dq_table_config_init(&tc);
	tc.n_states = spec.n_states;
	tc.n_actions = spec.n_actions;
	err = dq_table_create(&table, &tc);
	if (err) {
		fail("create table", err);
		goto out;
	}

	dq_learner_config_init(&lc);
	lc.n_threads = (uint32_t)dq_cores();
	lc.max_steps = 2000000;
	lc.agent.gamma = 0.99;
	err = dq_learner_create(&learner, table, env, &lc);
	if (err) {
		fail("create learner", err);
		goto out;
	}
	err = dq_learner_run(learner, &res);
	if (err) {
		fail("run", err);
		goto out;
	}
	printf("%u threads, %llu steps in %.3f s (%.3g steps/s), "
	       "%llu episodes, mean return of the last ones %.2f\n",
	       lc.n_threads, (unsigned long long)res.total.steps, res.seconds,
	       res.total.steps / res.seconds,
	       (unsigned long long)res.total.episodes, res.total.mean_return);
	rc = 0;
out:
	dq_learner_destroy(learner);
	dq_table_destroy(table);
	dq_env_close(env);
	return rc;
}
