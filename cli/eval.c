/*
 * distq eval: load a checkpoint and run greedy episodes with it.
 *
 * The episodes are stepped here through dq_env_instance_*, not by the
 * learner: evaluation must not learn, explore or share a table with
 * anyone. Actions are greedy with ties to the lowest index (rng NULL), the
 * same policy dq_table_policy() gives the exact solver, so the simulated
 * and the exact figures describe one policy.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* Episodes are cut here when neither the environment nor --max-steps
 * sets a limit: a greedy policy may loop forever. */
#define EVAL_FALLBACK_LIMIT 10000u

enum { E_LOAD, E_EPISODES, E_SEED, E_MAX_STEPS };

const struct cli_opt cli_eval_opts[] = {
    {"load", 'l', "FILE", E_LOAD, "checkpoint to evaluate (required)"},
    {"episodes", 'n', "N", E_EPISODES, "episodes to run (default 1000)"},
    {"seed", 0, "N", E_SEED,
     "seed of the environment's randomness "
     "(default 1)"},
    {"max-steps", 0, "N", E_MAX_STEPS,
     "step limit per episode (default: the environment's, or 10000)"},
    {NULL, 0, NULL, 0, NULL},
};

struct eval_opts {
	const char *env_spec;
	const char *load;
	uint64_t episodes;
	uint64_t seed;
	uint64_t max_steps; /* 0: the environment's */
};

/* What the episodes did. */
struct eval_tally {
	uint64_t episodes;
	uint64_t successes; /* in the environment's own meaning */
	bool judged;	    /* the environment says what success is */
	uint64_t terminated;
	uint64_t truncated; /* by the environment or the step limit */
	uint64_t steps;
	double return_sum;
};

static int
eval_parse(const struct cli_cmd *cmd, int argc, char **argv,
	   struct eval_opts *o)
{
	struct cli_args a;
	const char *v;
	int k, err = 0;

	memset(o, 0, sizeof(*o));
	o->episodes = 1000;
	o->seed = 1;
	cli_args_init(&a, cmd, argc, argv);
	while (!err && (k = cli_next(&a, &v)) >= 0) {
		if (k == E_LOAD)
			err = cli_parse_path(cmd, "--load", v, &o->load);
		else if (k == E_EPISODES)
			err = cli_parse_u64(cmd, "--episodes", v, 1, UINT64_MAX,
					    &o->episodes);
		else if (k == E_SEED)
			err = cli_parse_u64(cmd, "--seed", v, 0, UINT64_MAX,
					    &o->seed);
		else if (k == E_MAX_STEPS)
			err = cli_parse_u64(cmd, "--max-steps", v, 1,
					    UINT32_MAX, &o->max_steps);
	}
	if (err)
		return CLI_USAGE;
	if (k == CLI_ARGS_HELP)
		return CLI_ARGS_HELP;
	if (k == CLI_ARGS_ERR || cli_want_pos(&a, 0, 1))
		return CLI_USAGE;
	if (!o->load)
		return cli_usage_error(cmd, "--load FILE is required");
	o->env_spec = a.npos ? a.pos[0] : NULL; /* NULL: the checkpoint's */
	return CLI_OK;
}

/*
 * Read the checkpoint for @e into a new table. The header is read first so
 * that a checkpoint for another environment is named as such, rather than
 * only as a shape mismatch (two environments can share a shape).
 */
static int
eval_load(const struct eval_opts *o, const struct cli_env *e, dq_table **t,
	  dq_checkpoint_meta *m)
{
	int err = dq_checkpoint_read_meta(o->load, m);

	if (err)
		return cli_fail_detail(err, "%s", o->load);
	if (strcmp(m->env, e->name))
		return cli_fail(DQ_EMISMATCH, "%s: trained on '%s', not '%s'",
				o->load, m->env, e->name);
	if (strcmp(m->params, e->params))
		cli_warn("%s was trained with parameters '%s', evaluating "
			 "with '%s'",
			 o->load, m->params, e->params);
	/* Before the table is allocated (the file's size matches its
	 * shape; the environment's parameters may make another). */
	if (m->n_states != e->spec.n_states ||
	    m->n_actions != e->spec.n_actions)
		return cli_fail(DQ_EMISMATCH,
				"%s: a %u x %u table, '%s' needs %u x %u",
				o->load, m->n_states, m->n_actions, e->name,
				e->spec.n_states, e->spec.n_actions);
	if (cli_table_create(t, &e->spec, m->mode, 0.0, false, m->channels,
			     m->visit_counts))
		return CLI_FAIL;
	err = dq_checkpoint_load(o->load, *t, m);
	if (err == DQ_EMISMATCH)
		return cli_fail(err, "%s: a %u x %u table, '%s' needs %u x %u",
				o->load, m->n_states, m->n_actions, e->name,
				e->spec.n_states, e->spec.n_actions);
	if (err)
		return cli_fail_detail(err, "%s", o->load);
	return CLI_OK;
}

/*
 * One greedy episode of at most @limit steps. Success is the
 * environment's to judge (dq_env_success()) from the final step, marked
 * truncated when the limit cut the episode.
 */
static int
eval_episode(const dq_env *env, dq_env_instance *inst, const dq_table *t,
	     dq_rng *rng, uint64_t limit, struct eval_tally *y)
{
	bool success = false;
	dq_step st = {0};
	uint32_t s, a;
	uint64_t k;
	int err = dq_env_instance_reset(inst, rng, &s);

	if (err)
		return cli_fail(err, "episode %llu: reset",
				(unsigned long long)y->episodes + 1);
	for (k = 0; k < limit; k++) {
		err = dq_table_greedy(t, s, NULL, &a);
		if (!err)
			err = dq_env_instance_step(inst, a, rng, &st);
		if (err)
			return cli_fail(err, "episode %llu: step %llu",
					(unsigned long long)y->episodes + 1,
					(unsigned long long)k + 1);
		y->return_sum += st.reward;
		s = st.next_state;
		if (st.terminated || st.truncated)
			break;
	}
	y->steps += k < limit ? k + 1 : k;
	y->episodes++;
	if (st.terminated)
		y->terminated++;
	else
		y->truncated++;
	st.truncated = !st.terminated;
	if (dq_env_success(env, &st, &success) == 0) {
		y->judged = true;
		y->successes += success;
	}
	return CLI_OK;
}

static int
eval_run(const struct eval_opts *o, const struct cli_env *e, const dq_table *t,
	 uint64_t limit, struct eval_tally *y)
{
	dq_env_instance *inst;
	dq_rng rng;
	int err, status = CLI_OK;

	dq_rng_seed(&rng, o->seed, 0);
	err = dq_env_instance_create(e->env, &inst);
	if (err)
		return cli_fail(err, "creating an instance of '%s'", e->name);
	memset(y, 0, sizeof(*y));
	while (status == CLI_OK && y->episodes < o->episodes)
		status = eval_episode(e->env, inst, t, &rng, limit, y);
	dq_env_instance_destroy(inst);
	return status;
}

static void
eval_report(const struct eval_opts *o, const struct cli_env *e,
	    const dq_checkpoint_meta *m, uint64_t limit,
	    const struct eval_tally *y)
{
	double n = (double)y->episodes;

	cli_kv("environment", "%s%s%s\n", e->name, *e->params ? ":" : "",
	       e->params);
	cli_kv("checkpoint", "%s (%llu steps, %llu episodes, %s, gamma %g)\n",
	       o->load, (unsigned long long)m->steps,
	       (unsigned long long)m->episodes, cli_mode_name(m->mode),
	       m->gamma);
	cli_kv("episodes", "%llu (greedy, seed %llu, at most %llu steps)\n",
	       (unsigned long long)y->episodes, (unsigned long long)o->seed,
	       (unsigned long long)limit);
	cli_kv("mean return", "%.6g\n", y->return_sum / n);
	cli_kv("mean length", "%.6g steps\n", (double)y->steps / n);
	if (y->judged)
		cli_kv("success rate", "%.1f%% (as %s defines success)\n",
		       100.0 * (double)y->successes / n, e->name);
	else
		cli_kv("success rate", "- (the environment does not say what "
				       "success is)\n");
	cli_kv("terminated", "%.1f%%\n", 100.0 * (double)y->terminated / n);
	cli_kv("truncated", "%.1f%%\n", 100.0 * (double)y->truncated / n);
}

int
cli_eval_check(const struct cli_cmd *cmd, int argc, char **argv)
{
	struct eval_opts o;
	int status = eval_parse(cmd, argc, argv, &o);

	return status == CLI_ARGS_HELP ? CLI_OK : status;
}

int
cli_eval(const struct cli_cmd *cmd, int argc, char **argv)
{
	struct eval_opts o;
	struct eval_tally y;
	struct cli_exact x;
	dq_checkpoint_meta m;
	struct cli_env e;
	dq_table *t = NULL;
	uint64_t limit;
	int status, err;

	char spec[sizeof(m.env) + 1 + sizeof(m.params)];

	status = eval_parse(cmd, argc, argv, &o);
	if (status)
		return status == CLI_ARGS_HELP ? CLI_OK : status;
	if (!o.env_spec) {
		err = dq_checkpoint_read_meta(o.load, &m);
		if (err)
			return cli_fail(err, "%s", o.load);
		snprintf(spec, sizeof(spec), "%s%s%s", m.env,
			 *m.params ? ":" : "", m.params);
		o.env_spec = spec;
	}
	if (cli_env_open(&e, o.env_spec))
		return CLI_FAIL;
	limit = o.max_steps		   ? o.max_steps
		: e.spec.max_episode_steps ? e.spec.max_episode_steps
					   : EVAL_FALLBACK_LIMIT;
	status = eval_load(&o, &e, &t, &m);
	if (!status)
		status = eval_run(&o, &e, t, limit, &y);
	if (!status) {
		eval_report(&o, &e, &m, limit, &y);
		if (e.spec.max_outcomes) {
			/* Bounded as after training (cli/train.c). */
			err = cli_exact_bounded(e.env, t, m.gamma, 60.0, NULL,
						NULL, &x);
			if (err == CLI_EXACT_TIMEOUT)
				cli_warn("exact evaluation stopped at its 60 s "
					 "bound");
			else if (err)
				cli_exact_warn(&x, err);
			else
				cli_exact_print(&x);
		}
	}
	dq_table_destroy(t);
	cli_env_close(&e);
	return status;
}
