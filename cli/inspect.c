/*
 * distq inspect: what a checkpoint holds, without an environment.
 *
 * The header alone by default (dq_checkpoint_read_meta(), as key/value
 * summary lines); with --q, --policy or --values the table is loaded and
 * printed as TSV, in the format of distq solve, so that a learnt table and
 * the exact solution can be compared with join(1) or a plotting script.
 * The greedy policy breaks ties by the lowest action (dq_table_policy()),
 * the policy the exact figures of train and eval evaluate.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

enum { I_Q, I_POLICY, I_VALUES };

const struct cli_opt cli_inspect_opts[] = {
    {"q", 0, NULL, I_Q, "print the Q-table (state, action, q) as TSV"},
    {"policy", 0, NULL, I_POLICY,
     "print the greedy policy (state, action; lowest action on ties)"},
    {"values", 0, NULL, I_VALUES,
     "print the greedy values max_a Q(s, a) (state, v)"},
    {NULL, 0, NULL, 0, NULL},
};

/* What to print: the header (-1) or one of the tables. */
static int
inspect_parse(const struct cli_cmd *cmd, int argc, char **argv,
	      const char **file, int *what)
{
	struct cli_args a;
	const char *val;
	int k, n = 0;

	*what = -1;
	cli_args_init(&a, cmd, argc, argv);
	while ((k = cli_next(&a, &val)) >= 0) {
		if (*what != k)
			n++;
		*what = k;
	}
	if (k == CLI_ARGS_HELP)
		return CLI_ARGS_HELP;
	if (k == CLI_ARGS_ERR || cli_want_pos(&a, 1, 1))
		return CLI_USAGE;
	if (n > 1)
		return cli_usage_error(cmd, "--q, --policy and --values: "
					    "choose one");
	*file = a.pos[0];
	return CLI_OK;
}

int
cli_inspect_check(const struct cli_cmd *cmd, int argc, char **argv)
{
	const char *file;
	int what, status = inspect_parse(cmd, argc, argv, &file, &what);

	return status == CLI_ARGS_HELP ? CLI_OK : status;
}

/* An MPI job's checkpoint: its ranks x agents and policy. */
static void
inspect_world(const char *file)
{
	dq_checkpoint_world w;

	if (dq_checkpoint_read_world(file, &w) == 0)
		cli_kv("world", "%u ranks x %u agents, %s\n", w.ranks,
		       w.agents_per_rank, *w.policy ? w.policy : "no policy");
}

static void
inspect_meta(const char *file, const dq_checkpoint_meta *m)
{
	char num[32];

	cli_kv("file", "%s\n", file);
	cli_kv("format version", "%u\n", m->version);
	cli_kv("environment", "%s%s%s\n", m->env, *m->params ? ":" : "",
	       m->params);
	cli_kv("table", "%u states x %u actions\n", m->n_states, m->n_actions);
	cli_kv("mode", "%s\n", cli_mode_name(m->mode));
	cli_kv("rule", "%s\n",
	       m->has_rule ? dq_rule_name(m->rule) : "not recorded");
	if (m->channels > 1 || m->visit_counts)
		cli_kv("channels", "%u%s\n", m->channels,
		       m->visit_counts ? ", and visit counts" : "");
	cli_kv("gamma", "%s\n", cli_real(num, sizeof(num), m->gamma));
	cli_kv("alpha", "%s (when saved)\n",
	       cli_real(num, sizeof(num), m->alpha));
	cli_kv("epsilon", "%s (when saved)\n",
	       cli_real(num, sizeof(num), m->epsilon));
	cli_kv("seed", "%llu\n", (unsigned long long)m->seed);
	cli_kv("steps", "%llu\n", (unsigned long long)m->steps);
	cli_kv("episodes", "%llu\n", (unsigned long long)m->episodes);
	cli_kv("seconds", "%.6f\n", m->seconds);
	if (m->n_agents)
		cli_kv("agents", "%u (resumable states)\n", m->n_agents);
	else
		cli_kv("agents", "none saved (a table-only checkpoint)\n");
	inspect_world(file);
}

/* The tile coder a tile-coded run's checkpoint holds, as --tiles takes
 * it (distq train --resume rebuilds it from the file). */
static int
inspect_tiles(const char *file)
{
	dq_tiles_config c;
	dq_tiles *tc = NULL;
	char def[1024];
	uint32_t rows = 0;
	int err = dq_checkpoint_read_tiles(file, &c);

	if (!err && !c.dim)
		return CLI_OK; /* a tabular table */
	if (!err)
		err = dq_tiles_create(&tc, &c);
	if (!err)
		err = dq_tiles_features(tc, &rows);
	if (!err)
		dq_tiles_format(tc, def, sizeof(def));
	dq_tiles_destroy(tc);
	if (err)
		return cli_fail_detail(err, "%s", file);
	cli_kv("tiles", "%s (%u tilings, %u rows)\n", def, c.n_tilings, rows);
	return CLI_OK;
}

/* The table as TSV; rows are read one at a time into @row. */
static int
inspect_table(const dq_table *t, const dq_checkpoint_meta *m, int what)
{
	const uint32_t S = m->n_states, A = m->n_actions;
	double *row = malloc((size_t)A * sizeof(*row));
	uint32_t *pol = NULL;
	int err = row ? 0 : -ENOMEM;

	if (!err && what == I_POLICY) {
		pol = malloc((size_t)S * sizeof(*pol));
		err = pol ? dq_table_policy(t, pol, S) : -ENOMEM;
	}
	if (err) {
		free(row);
		free(pol);
		return cli_fail(err, "reading the table");
	}
	printf(what == I_Q	  ? "state\taction\tq\n"
	       : what == I_POLICY ? "state\taction\n"
				  : "state\tv\n");
	for (uint32_t s = 0; s < S; s++) {
		if (what == I_POLICY) {
			printf("%u\t%u\n", s, pol[s]);
			continue;
		}
		dq_table_row(t, s, row, A);
		if (what == I_Q) {
			for (uint32_t a = 0; a < A; a++)
				printf("%u\t%u\t%.17g\n", s, a, row[a]);
		} else {
			double v = row[0];

			for (uint32_t a = 1; a < A; a++)
				if (row[a] > v)
					v = row[a];
			printf("%u\t%.17g\n", s, v);
		}
	}
	free(row);
	free(pol);
	return CLI_OK;
}

int
cli_inspect(const struct cli_cmd *cmd, int argc, char **argv)
{
	dq_checkpoint_meta m;
	dq_env_spec spec;
	dq_table *t = NULL;
	const char *file;
	int what, status, err;

	status = inspect_parse(cmd, argc, argv, &file, &what);
	if (status)
		return status == CLI_ARGS_HELP ? CLI_OK : status;
	err = dq_checkpoint_read_meta(file, &m);
	if (err)
		return cli_fail(err, "%s", file);
	if (what < 0) {
		inspect_meta(file, &m);
		return inspect_tiles(file);
	}
	memset(&spec, 0, sizeof(spec));
	spec.n_states = m.n_states;
	spec.n_actions = m.n_actions;
	if (cli_table_create(&t, &spec, m.mode, 0.0, false, m.channels,
			     m.visit_counts))
		return CLI_FAIL;
	err = dq_checkpoint_load(file, t, &m);
	if (err)
		status = cli_fail(err, "%s", file);
	else
		status = inspect_table(t, &m, what);
	dq_table_destroy(t);
	return status;
}
